/* main.c — `chorus`: dispatch to subcommands; shared helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: chorus <command> [options]\n"
    "\n"
    "Text to speech with many engines: espeak-ng (embedded), Kokoro, OpenAI, ElevenLabs,\n"
    "AllTalk, Chatterbox and any OpenAI-compatible server.\n"
    "\n"
    "commands:\n"
    "  say [options] [TEXT...]   speak text (arguments, -f FILE, or standard input)\n"
    "  voices [-b NAME] [--json] list a backend's voices\n"
    "  voices add|rm NAME ...    the cloned-voice library (reference clips for Chatterbox)\n"
    "  backends [--json]         list backends, whether each can run, and why not\n"
    "  text normalize|chunk|ssml|lang  show what the text stage makes of an input\n"
    "  models [list|path|pull]   local engines' model files (chorus models pull kokoro)\n"
    "  serve [options]           OpenAI-compatible speech server (HTTP, default 127.0.0.1:8880)\n"
    "  cache stats|clear|path    the audio cache: its size and hits, empty it, where it is\n"
    "  book INPUT -o OUT.m4b     a book (EPUB, Markdown, HTML, text) to a chaptered audiobook\n"
    "\n"
    "  chorus <command> --help   options of a command\n"
    "  chorus --version          print the version\n"
    "\n"
    "environment: CHORUS_CONFIG (config file), CHORUS_BACKEND (default backend),\n"
    "  CHORUS_LOG (error|warn|info|debug), CHORUS_MAX_CONCURRENT\n"
    "config: $CHORUS_CONFIG, else $XDG_CONFIG_HOME/chorus/config.toml, else\n"
    "  ~/.config/chorus/config.toml\n";

void cli_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("chorus: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *cli_pronunciations;

struct chorus_engine *cli_engine(void) {
    struct chorus_engine *e = NULL;
    char err[1024] = "";
    struct chorus_engine_options o = chorus_engine_options_default();
    o.pronunciations_file = cli_pronunciations;
    int rc = chorus_engine_create2(&e, &o, err, sizeof err);
    if (rc != CHORUS_OK) {
        cli_err("%s", err[0] ? err : chorus_strerror(rc));
        return NULL;
    }
    return e;
}

char *cli_read_all(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    if (!p) return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *q = realloc(p, cap *= 2);
            if (!q) {
                free(p);
                errno = ENOMEM;
                return NULL;
            }
            p = q;
        }
        size_t r = fread(p + n, 1, 4096, f);
        n += r;
        if (r < 4096) {
            if (ferror(f)) {
                int e = errno;
                free(p);
                errno = e ? e : EIO;
                return NULL;
            }
            break;
        }
    }
    p[n] = 0;
    *len = n;
    return p;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("chorus %s\n", chorus_version());
        return 0;
    }
    if (!strcmp(cmd, "say")) return cli_say(argc - 1, argv + 1);
    if (!strcmp(cmd, "voices")) return cli_voices(argc - 1, argv + 1);
    if (!strcmp(cmd, "backends")) return cli_backends(argc - 1, argv + 1);
    if (!strcmp(cmd, "text")) return cli_text(argc - 1, argv + 1);
    if (!strcmp(cmd, "models")) return cli_models(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return cli_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "cache")) return cli_cache(argc - 1, argv + 1);
    if (!strcmp(cmd, "book")) return cli_book(argc - 1, argv + 1);
    cli_err("unknown command '%s'; run 'chorus --help' for the list", cmd);
    return EXIT_USAGE;
}
