/* list.c — `chorus voices` and `chorus backends`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static const char voices_usage[] =
    "usage: chorus voices [-b NAME] [-l LANG] [--json]\n"
    "  -b, --backend NAME   backend to list (default: the default backend)\n"
    "  -l, --lang CODE      only voices whose language starts with CODE (e.g. en, pt-br)\n"
    "      --json           JSON array of {id, name, language, gender, backend}\n"
    "       chorus voices add|rm|--cloned ...  the local voice library (chorus voices --cloned -h)\n";

int cli_voices(int argc, char **argv) {
    /* the local voice library (voicelib.c): add, rm, --cloned */
    for (int i = 1; i < argc; i++)
        if ((i == 1 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "rm"))) ||
            !strcmp(argv[i], "--cloned"))
            return cli_voicelib(argc, argv);
    static const struct option opts[] = {{"backend", required_argument, 0, 'b'},
                                         {"lang", required_argument, 0, 'l'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *backend = NULL, *lang = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:l:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': backend = optarg; break;
        case 'l': lang = optarg; break;
        case 'j': json = 1; break;
        case 'h': fputs(voices_usage, stdout); return 0;
        default: cli_err("run 'chorus voices --help' for its options"); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_err("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
    }
    struct chorus_engine *e = cli_engine();
    if (!e) return 1;
    struct chorus_voice *v;
    size_t n;
    int rc = chorus_list_voices(e, backend, &v, &n);
    if (rc != CHORUS_OK) {
        cli_err("%s", chorus_engine_errmsg(e));
        chorus_engine_destroy(e);
        return 1;
    }
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        if (lang && (!v[i].language || strncasecmp(v[i].language, lang, strlen(lang)))) continue;
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "id", json_string(v[i].id));
            json_object_set_new(o, "name", json_string(v[i].name));
            json_object_set_new(o, "language", v[i].language ? json_string(v[i].language) : json_null());
            json_object_set_new(o, "gender", v[i].gender ? json_string(v[i].gender) : json_null());
            json_object_set_new(o, "backend", json_string(v[i].backend));
            json_array_append_new(arr, o);
        } else {
            printf("%-24s %-28s %-10s %s\n", v[i].id, v[i].name, v[i].language ? v[i].language : "-",
                   v[i].gender ? v[i].gender : "-");
        }
    }
    if (json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(arr);
    }
    chorus_voices_free(v, n);
    chorus_engine_destroy(e);
    return 0;
}

static const char backends_usage[] =
    "usage: chorus backends [--json] [--options]\n"
    "  --json      JSON array of {name, pattern, description, available, reason, capabilities}\n"
    "  --options   also list each backend's options (--opt KEY=VALUE of chorus say)\n";

static void caps_string(unsigned caps, char *buf, size_t cap) {
    static const struct { unsigned bit; const char *name; } names[] = {
        {CHORUS_CAP_STREAMING, "streaming"}, {CHORUS_CAP_WORD_TIMESTAMPS, "timestamps"},
        {CHORUS_CAP_SSML, "ssml"}, {CHORUS_CAP_VOICE_CLONING, "cloning"},
        {CHORUS_CAP_LOCAL, "local"}, {CHORUS_CAP_REMOTE, "remote"},
        {CHORUS_CAP_PHONEMES, "phonemes"}};
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & names[i].bit) {
            if (buf[0]) strncat(buf, ",", cap - strlen(buf) - 1);
            strncat(buf, names[i].name, cap - strlen(buf) - 1);
        }
}

int cli_backends(int argc, char **argv) {
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"options", no_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, with_opts = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "joh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'o': with_opts = 1; break;
        case 'h': fputs(backends_usage, stdout); return 0;
        default: cli_err("run 'chorus backends --help' for its options"); return EXIT_USAGE;
        }
    }
    struct chorus_engine *e = cli_engine();
    if (!e) return 1;
    struct chorus_backend_info *b;
    size_t n;
    int rc = chorus_list_backends(e, &b, &n);
    if (rc != CHORUS_OK) {
        cli_err("%s", chorus_engine_errmsg(e));
        chorus_engine_destroy(e);
        return 1;
    }
    const char *def = chorus_engine_default_backend(e);
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        char caps[128];
        caps_string(b[i].caps, caps, sizeof caps);
        const struct chorus_option_desc *od = NULL;
        size_t no = 0;
        chorus_backend_options(e, b[i].name, &od, &no);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(b[i].name));
            json_object_set_new(o, "pattern", b[i].pattern ? json_string(b[i].pattern) : json_null());
            json_object_set_new(o, "description", json_string(b[i].description));
            json_object_set_new(o, "available", json_boolean(b[i].available));
            json_object_set_new(o, "reason", b[i].reason ? json_string(b[i].reason) : json_null());
            json_object_set_new(o, "default", json_boolean(!strcmp(def, b[i].name)));
            json_object_set_new(o, "capabilities", json_string(caps));
            json_object_set_new(o, "sample_rate", json_integer(b[i].sample_rate));
            json_object_set_new(o, "max_input_chars", json_integer((json_int_t)b[i].max_input_chars));
            if (with_opts) {
                json_t *oa = json_array();
                for (size_t k = 0; k < no; k++) {
                    json_t *oo = json_object();
                    json_object_set_new(oo, "key", json_string(od[k].key));
                    json_object_set_new(oo, "type", json_string(od[k].type ? od[k].type : "string"));
                    json_object_set_new(oo, "default", od[k].def ? json_string(od[k].def) : json_null());
                    if (od[k].values) json_object_set_new(oo, "values", json_string(od[k].values));
                    if (od[k].min <= od[k].max) {
                        json_object_set_new(oo, "min", json_real(od[k].min));
                        json_object_set_new(oo, "max", json_real(od[k].max));
                    }
                    json_object_set_new(oo, "help", json_string(od[k].help ? od[k].help : ""));
                    json_array_append_new(oa, oo);
                }
                json_object_set_new(o, "options", oa);
            }
            json_array_append_new(arr, o);
        } else {
            printf("%-12s %-4s %s%s\n", b[i].name, b[i].available ? "yes" : "no", b[i].description,
                   !strcmp(def, b[i].name) ? "  [default]" : "");
            if (b[i].pattern) printf("             also serves %s\n", b[i].pattern);
            printf("             %s\n", caps);
            if (!b[i].available) printf("             why not: %s\n", b[i].reason);
            for (size_t k = 0; with_opts && k < no; k++) {
                printf("             --opt %s=<%s>", od[k].key, od[k].type ? od[k].type : "string");
                if (od[k].min <= od[k].max) printf(" (%g..%g)", od[k].min, od[k].max);
                if (od[k].values) printf(" (%s)", od[k].values);
                if (od[k].def) printf(" default %s", od[k].def);
                printf("  %s\n", od[k].help ? od[k].help : "");
            }
        }
    }
    if (json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(arr);
    }
    chorus_backend_infos_free(b, n);
    chorus_engine_destroy(e);
    return 0;
}
