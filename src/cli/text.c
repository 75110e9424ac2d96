/* text.c — `chorus text normalize|chunk|ssml|lang`: what the text stage makes of an input. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char text_usage[] =
    "usage: chorus text <normalize|chunk|ssml|lang|phonemize> [options] [TEXT... | -f FILE]\n"
    "Show what the text stage makes of an input, without speaking it.\n"
    "\n"
    "  normalize TEXT        the text as engines receive it (numbers, dates, units... spoken)\n"
    "  chunk [--max N] TEXT  the segments a stream sends, one engine call each\n"
    "  ssml FILE             the segments an SSML document becomes (pauses, prosody, voices)\n"
    "  lang TEXT             the detected language and the confidence\n"
    "  phonemize TEXT        the phonemes an engine speaks after normalization (what\n"
    "                        `say --phonemes` takes); Kokoro needs no model files for it\n"
    "\n"
    "  -f, --file FILE       read the text from FILE ('-' = standard input)\n"
    "      --max N           chunk size limit in bytes (default: unbounded; engines set theirs)\n"
    "      --options SPEC    normalization switches, e.g. url_normalization=false,unit_normalization=true\n"
    "      --no-normalize    chunk without normalizing\n"
    "  -b, --backend NAME    phonemize: the engine (default: the default backend)\n"
    "  -v, --voice NAME      phonemize: the voice (its language picks the rules)\n"
    "  -l, --lang CODE       phonemize: the language (en-us, en-gb...; Kokoro's a and b too)\n"
    "      --pronunciations FILE  phonemize: this pronunciation dictionary instead of the\n"
    "                        config's [pronunciations] file (docs/text.md)\n"
    "      --json            machine-readable output\n";

struct plan_ctx {
    int json;
    json_t *arr;
    const char *src;
};

static int on_segment(const struct chorus_text_segment *s, void *ud) {
    struct plan_ctx *c = ud;
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(s->index));
        json_object_set_new(o, "text", json_stringn(s->text, s->len));
        json_object_set_new(o, "offset", json_integer((json_int_t)s->src_offset));
        json_object_set_new(o, "length", json_integer((json_int_t)s->src_len));
        json_object_set_new(o, "pause_before", json_real(s->pause_before));
        json_object_set_new(o, "voice", s->voice ? json_string(s->voice) : json_null());
        json_object_set_new(o, "rate", json_real(s->rate));
        json_object_set_new(o, "pitch", json_real(s->pitch));
        json_object_set_new(o, "volume", json_real(s->volume));
        json_array_append_new(c->arr, o);
    } else {
        printf("[%u] input %zu+%zu", s->index, s->src_offset, s->src_len);
        if (s->pause_before > 0) printf(", pause %.2fs", s->pause_before);
        if (s->voice) printf(", voice %s", s->voice);
        if (s->rate != 1.0f && s->rate > 0) printf(", rate %.2f", s->rate);
        if (s->pitch != 1.0f && s->pitch > 0) printf(", pitch %.2f", s->pitch);
        if (s->volume != 1.0f && s->volume > 0) printf(", volume %.2f", s->volume);
        printf("\n    %.*s\n", (int)s->len, s->text);
    }
    return 0;
}

int cli_text(int argc, char **argv) {
    enum { OPT_MAX = 256, OPT_OPTIONS, OPT_NONORM, OPT_JSON, OPT_PRON };
    static const struct option opts[] = {{"file", required_argument, 0, 'f'},
                                         {"max", required_argument, 0, OPT_MAX},
                                         {"options", required_argument, 0, OPT_OPTIONS},
                                         {"no-normalize", no_argument, 0, OPT_NONORM},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"pronunciations", required_argument, 0, OPT_PRON},
                                         {"backend", required_argument, 0, 'b'},
                                         {"voice", required_argument, 0, 'v'},
                                         {"lang", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(text_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *what = argv[1];
    if (strcmp(what, "normalize") && strcmp(what, "chunk") && strcmp(what, "ssml") && strcmp(what, "lang") &&
        strcmp(what, "phonemize")) {
        cli_err("unknown text command '%s': use normalize, chunk, ssml, lang or phonemize", what);
        return EXIT_USAGE;
    }
    const char *file = NULL, *options = NULL, *backend = NULL, *voice = NULL, *lang = NULL;
    size_t max = 0;
    int json = 0, normalize = 1, c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "f:b:v:l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': backend = optarg; break;
        case 'v': voice = optarg; break;
        case 'l': lang = !strcmp(optarg, "a") ? "en-us" : !strcmp(optarg, "b") ? "en-gb" : optarg; break;
        case 'f': file = optarg; break;
        case OPT_MAX: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1) {
                cli_err("invalid --max '%s': use a positive number of bytes", optarg);
                return EXIT_USAGE;
            }
            max = (size_t)v;
            break;
        }
        case OPT_OPTIONS: options = optarg; break;
        case OPT_NONORM: normalize = 0; break;
        case OPT_PRON: cli_pronunciations = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(text_usage, stdout); return 0;
        default: cli_err("run 'chorus text --help' for its options"); return EXIT_USAGE;
        }
    }
    argc -= 1;
    argv += 1;
    /* `ssml FILE`: the positional argument is a file */
    if (!strcmp(what, "ssml") && !file && optind < argc) file = argv[optind++];
    char *text = NULL;
    size_t len = 0;
    if (optind < argc) {
        size_t total = 0;
        for (int i = optind; i < argc; i++) total += strlen(argv[i]) + 1;
        text = calloc(1, total + 1);
        if (!text) return 1;
        for (int i = optind; i < argc; i++) {
            if (i > optind) strcat(text, " ");
            strcat(text, argv[i]);
        }
        len = strlen(text);
    } else {
        FILE *f = stdin;
        if (file && strcmp(file, "-") && !(f = fopen(file, "rb"))) {
            cli_err("cannot read %s: %s", file, strerror(errno));
            return 1;
        }
        if (f == stdin && isatty(0)) {
            cli_err("no text: give it as arguments, with -f FILE, or on standard input");
            return EXIT_USAGE;
        }
        text = cli_read_all(f, &len);
        int e = errno;
        if (f != stdin) fclose(f);
        if (!text) {
            cli_err("cannot read %s: %s", file ? file : "standard input", strerror(e));
            return 1;
        }
    }
    int status = 0;
    char err[1024] = "";
    if (!strcmp(what, "lang")) {
        double conf = 0;
        const char *code = chorus_detect_language(text, len, &conf);
        if (json) printf("{\"language\": \"%s\", \"confidence\": %.3f}\n", code, conf);
        else printf("%s %.2f\n", code, conf);
    } else if (!strcmp(what, "phonemize")) {
        struct chorus_engine *e = cli_engine();
        char *out = NULL;
        int rc = e ? chorus_phonemize_lang(e, backend, voice, lang, text, len, &out, err, sizeof err) : CHORUS_E_CONFIG;
        if (!e) {
            status = 1;
        } else if (rc != CHORUS_OK) {
            cli_err("%s", err[0] ? err : chorus_strerror(rc));
            status = 1;
        } else if (json) {
            json_t *o = json_pack("{s:s}", "phonemes", out);
            char *js = json_dumps(o, 0);
            if (js) puts(js);
            free(js);
            json_decref(o);
        } else {
            puts(out);
        }
        chorus_free(out);
        chorus_engine_destroy(e);
    } else if (!strcmp(what, "normalize")) {
        char *out = NULL;
        int rc = chorus_normalize_text(text, len, options, NULL, &out, NULL, err, sizeof err);
        if (rc != CHORUS_OK) {
            cli_err("%s", err[0] ? err : chorus_strerror(rc));
            status = 1;
        } else if (json) {
            json_t *o = json_pack("{s:s}", "text", out);
            char *s = json_dumps(o, 0);
            if (s) puts(s);
            free(s);
            json_decref(o);
        } else {
            puts(out);
        }
        chorus_free(out);
    } else {
        struct plan_ctx ctx = {json, json ? json_array() : NULL, text};
        enum chorus_input_kind kind = !strcmp(what, "ssml") ? CHORUS_INPUT_SSML : CHORUS_INPUT_TEXT;
        int rc = chorus_plan_text(text, len, kind, max, normalize, options, on_segment, &ctx, err, sizeof err);
        if (rc != CHORUS_OK) {
            cli_err("%s", err[0] ? err : chorus_strerror(rc));
            status = 1;
        } else if (json) {
            char *s = json_dumps(ctx.arr, JSON_INDENT(2));
            if (s) puts(s);
            free(s);
        }
        json_decref(ctx.arr);
    }
    free(text);
    return status;
}
