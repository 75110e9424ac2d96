/* cache.c — `chorus cache stats|clear|path`: look at and empty the audio cache. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char cache_usage[] =
    "usage: chorus cache stats [--json] | clear | path\n"
    "The audio cache keeps each generated piece of speech so repeated text is not generated\n"
    "again (docs/cache.md).\n"
    "\n"
    "  stats [--json]   entries, size against the cap, hits recorded, whether it is enabled\n"
    "  clear            remove every entry (safe while other chorus processes run)\n"
    "  path             print the cache directory\n"
    "\n"
    "config: [cache] enabled, dir, max_bytes (default 1G); environment: CHORUS_CACHE=0|1,\n"
    "  CHORUS_CACHE_DIR; default directory $XDG_CACHE_HOME/chorus, else ~/.cache/chorus\n";

static const char *human(uint64_t n, char *buf, size_t cap) {
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    if (n < 1024) {
        snprintf(buf, cap, "%" PRIu64 " bytes", n);
        return buf;
    }
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, u++;
    snprintf(buf, cap, "%.1f %s", v, units[u]);
    return buf;
}

static int cache_stats(struct chorus_engine *e, int json) {
    struct chorus_cache_stats st = {.size = sizeof st};
    int rc = chorus_engine_cache_stats(e, &st);
    if (rc != CHORUS_OK) {
        cli_err("cannot read the cache: %s", chorus_engine_errmsg(e));
        return 1;
    }
    if (json) {
        json_t *o = json_pack("{s:b, s:s?, s:I, s:I, s:I, s:I}", "enabled", st.enabled, "dir",
                              st.dir, "entries", (json_int_t)st.entries, "bytes",
                              (json_int_t)st.bytes, "max_bytes", (json_int_t)st.max_bytes,
                              "hits", (json_int_t)st.hits_total);
        if (!o) {
            cli_err("out of memory");
            return 1;
        }
        char *s = json_dumps(o, JSON_INDENT(2));
        json_decref(o);
        if (!s) {
            cli_err("out of memory");
            return 1;
        }
        puts(s);
        free(s);
        return 0;
    }
    char a[32], b[32];
    printf("directory  %s\n", st.dir ? st.dir : "(none)");
    printf("enabled    %s\n", st.enabled ? "yes" : "no");
    printf("entries    %" PRIu64 "\n", st.entries);
    printf("size       %s of %s\n", human(st.bytes, a, sizeof a), human(st.max_bytes, b, sizeof b));
    printf("hits       %" PRIu64 "\n", st.hits_total);
    return 0;
}

int cli_cache(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(cache_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *sub = argv[1];
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(sub, "stats") && !strcmp(argv[i], "--json")) {
            json = 1;
        } else {
            cli_err("unexpected argument '%s' to 'cache %s'; run 'chorus cache --help'", argv[i], sub);
            return EXIT_USAGE;
        }
    }
    if (strcmp(sub, "stats") && strcmp(sub, "clear") && strcmp(sub, "path")) {
        cli_err("unknown cache command '%s': use stats, clear or path", sub);
        return EXIT_USAGE;
    }
    struct chorus_engine *e = cli_engine();
    if (!e) return 1;
    int status = 0;
    if (!strcmp(sub, "stats")) {
        status = cache_stats(e, json);
    } else if (!strcmp(sub, "path")) {
        struct chorus_cache_stats st = {.size = sizeof st};
        chorus_engine_cache_stats(e, &st);
        if (!st.dir) {
            cli_err("no cache directory: set XDG_CACHE_HOME, HOME or [cache] dir");
            status = 1;
        } else {
            puts(st.dir);
        }
    } else {
        uint64_t n = 0, bytes = 0;
        int rc = chorus_engine_cache_clear(e, &n, &bytes);
        if (rc != CHORUS_OK) {
            cli_err("cannot clear the cache: %s", chorus_engine_errmsg(e));
            status = 1;
        } else {
            char a[32];
            struct chorus_cache_stats st = {.size = sizeof st};
            chorus_engine_cache_stats(e, &st);
            printf("removed %" PRIu64 " entr%s (%s) from %s\n", n, n == 1 ? "y" : "ies",
                   human(bytes, a, sizeof a), st.dir ? st.dir : "the cache");
        }
    }
    chorus_engine_destroy(e);
    return status;
}
