/* voicelib.c — `chorus voices add|rm|--cloned`: the local library of cloned-voice clips. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char voicelib_usage[] =
    "usage: chorus voices add NAME FILE [--description TEXT]\n"
    "       chorus voices rm NAME\n"
    "       chorus voices --cloned [--json]\n"
    "  add NAME FILE        store a reference clip (wav, flac, ogg, mp3; 3-60 s, 7-20 s best)\n"
    "                       as the cloned voice NAME (letters, digits, '_' and '-')\n"
    "  -d, --description T  a note kept with the voice\n"
    "  rm NAME              remove a cloned voice\n"
    "      --cloned         list the cloned voices (use one with -b chatterbox -v NAME)\n"
    "      --json           JSON array of {name, description, duration, sample_rate, channels,\n"
    "                       created, path}\n";

static int vl_list(struct chorus_engine *e, int json) {
    struct chorus_cloned_voice *v;
    size_t n;
    if (chorus_cloned_voice_list(e, &v, &n) != CHORUS_OK) {
        cli_err("%s", chorus_engine_errmsg(e));
        return 1;
    }
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(v[i].name));
            json_object_set_new(o, "description", json_string(v[i].description));
            json_object_set_new(o, "duration", json_real(v[i].duration));
            json_object_set_new(o, "sample_rate", json_integer(v[i].sample_rate));
            json_object_set_new(o, "channels", json_integer(v[i].channels));
            json_object_set_new(o, "created", json_string(v[i].created));
            json_object_set_new(o, "path", json_string(v[i].path));
            json_array_append_new(arr, o);
        }
        char *s = json_dumps(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        if (s) puts(s);
        free(s);
        json_decref(arr);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%-24s %6.1f s %6d Hz  %s  %s\n", v[i].name, v[i].duration, v[i].sample_rate,
                   v[i].created, v[i].description);
    }
    chorus_cloned_voices_free(v, n);
    return 0;
}

int cli_voicelib(int argc, char **argv) {
    static const struct option opts[] = {{"description", required_argument, 0, 'd'},
                                         {"cloned", no_argument, 0, 'c'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *desc = NULL;
    int json = 0, cloned = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': desc = optarg; break;
        case 'c': cloned = 1; break;
        case 'j': json = 1; break;
        case 'h': fputs(voicelib_usage, stdout); return 0;
        default: fputs(voicelib_usage, stderr); return EXIT_USAGE;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : NULL;
    int nargs = argc - optind - 1;
    if (cloned && cmd) {
        cli_err("--cloned takes no argument (got '%s')", cmd);
        return EXIT_USAGE;
    }
    if (!cloned && !cmd) {
        fputs(voicelib_usage, stderr);
        return EXIT_USAGE;
    }
    if (cmd && !strcmp(cmd, "add") && nargs != 2) {
        cli_err("voices add wants a NAME and a FILE (chorus voices add NAME FILE)");
        return EXIT_USAGE;
    }
    if (cmd && !strcmp(cmd, "rm") && nargs != 1) {
        cli_err("voices rm wants one NAME (chorus voices rm NAME)");
        return EXIT_USAGE;
    }
    if (cmd && strcmp(cmd, "add") && strcmp(cmd, "rm")) {
        cli_err("unknown voices command '%s': use add, rm or --cloned", cmd);
        return EXIT_USAGE;
    }
    struct chorus_engine *e = cli_engine();
    if (!e) return 1;
    int rc = 0;
    if (cloned) {
        rc = vl_list(e, json);
    } else if (!strcmp(cmd, "add")) {
        const char *name = argv[optind + 1], *file = argv[optind + 2];
        char warn[512];
        if (chorus_cloned_voice_add(e, name, file, desc, warn, sizeof warn) != CHORUS_OK) {
            cli_err("%s", chorus_engine_errmsg(e));
            rc = 1;
        } else {
            if (warn[0]) fprintf(stderr, "chorus: warning: %s\n", warn);
            printf("added cloned voice '%s'; speak with it: chorus say -b chatterbox -v %s "
                   "TEXT\n", name, name);
        }
    } else {
        const char *name = argv[optind + 1];
        if (chorus_cloned_voice_remove(e, name) != CHORUS_OK) {
            cli_err("%s", chorus_engine_errmsg(e));
            rc = 1;
        } else {
            printf("removed cloned voice '%s'\n", name);
        }
    }
    chorus_engine_destroy(e);
    return rc;
}
