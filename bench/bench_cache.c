/*
 * bench_cache.c — time to first audio and total time for the same request uncached, on a cold
 * cache (generate + store) and on a warm cache (replay), on one backend.
 *
 *   bench_cache [--chars N] [--backend NAME] [--voice V] [--format FMT] [--runs K]
 *               [--config FILE]
 *
 * The cache lives in a fresh temporary directory (removed at the end); --config names a config
 * file whose other sections (a remote backend's base_url, for a loopback fake) are kept, the
 * [cache] section is replaced. Each case runs K times (default 9); the median is printed.
 * Time to first audio is counted from chorus_stream_run (the open's validation is printed on
 * its own: it is the same in every case); total time covers open and run. Numbers only,
 * nothing asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chorus/chorus.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *sentences[] = {
    "The quick brown fox jumps over the lazy dog, and then it rests.",
    "A cache keeps what was said so it need not be said again.",
    "Every chapter has a beginning, a middle and an end.",
    "Numbers like 42 and dates like 1999 are read out in full.",
};

static char *make_text(size_t n) {
    if (!n) return strdup("Hello, this is a single sentence of typical length for a reply.");
    char *t = malloc(n + 256);
    size_t len = 0, i = 0;
    while (len < n) {
        const char *s = sentences[i++ % 4];
        len += (size_t)sprintf(t + len, "%s%s", s, i % 6 == 0 ? "\n\n" : " ");
    }
    return t;
}

struct ctx {
    double t0, first;
    size_t bytes;
};

static int cb(const struct chorus_event *ev, void *ud) {
    struct ctx *c = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && (ev->chunk->n_samples || ev->chunk->data_len)) {
        if (c->first < 0) c->first = now() - c->t0;
        c->bytes += ev->chunk->data_len;
    }
    return 0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* first: from chorus_stream_run to the first audio; wall: open + run to the end; open: the
 * validation in chorus_stream_open (voice listing), the same whatever the cache does. */
static double open_times[300];
static int n_open;

static int run_once(struct chorus_engine *e, const struct chorus_request *base, unsigned flags,
                    double *first, double *wall) {
    struct ctx c = {0, -1, 0};
    struct chorus_request r = *base;
    r.flags |= flags;
    r.callback = cb;
    r.userdata = &c;
    double t_open = now();
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    c.t0 = now();
    if (n_open < 300) open_times[n_open++] = c.t0 - t_open;
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    *wall = now() - t_open;
    *first = c.first;
    if (rc != CHORUS_OK) fprintf(stderr, "bench_cache: %s\n", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    return rc;
}

int main(int argc, char **argv) {
    size_t chars = 0;
    int runs = 9;
    const char *backend = "espeak", *voice = NULL, *fmt = "wav", *config = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--chars") && i + 1 < argc) chars = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc) backend = argv[++i];
        else if (!strcmp(argv[i], "--voice") && i + 1 < argc) voice = argv[++i];
        else if (!strcmp(argv[i], "--format") && i + 1 < argc) fmt = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[++i];
        else {
            fprintf(stderr, "usage: bench_cache [--chars N] [--backend NAME] [--voice V] "
                            "[--format FMT] [--runs K] [--config FILE]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 100) runs = 5;
    char dir[] = "/tmp/bench-cache-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char cfgpath[64];
    snprintf(cfgpath, sizeof cfgpath, "%s/config.toml", dir);
    FILE *out = fopen(cfgpath, "w");
    if (!out) return 1;
    if (config) { /* copy the file, dropping its [cache] section */
        FILE *in = fopen(config, "r");
        if (!in) {
            fprintf(stderr, "bench_cache: cannot read %s\n", config);
            return 1;
        }
        char line[4096];
        int skip = 0;
        while (fgets(line, sizeof line, in)) {
            if (line[0] == '[') skip = !strncmp(line, "[cache]", 7);
            if (!skip) fputs(line, out);
        }
        fclose(in);
    }
    fprintf(out, "\n[cache]\nenabled = true\ndir = \"%s/cache\"\n", dir);
    fclose(out);
    unsetenv("CHORUS_CACHE");
    unsetenv("CHORUS_CACHE_DIR");

    struct chorus_engine *e;
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = cfgpath;
    char err[512] = "";
    if (chorus_engine_create2(&e, &o, err, sizeof err) != CHORUS_OK) {
        fprintf(stderr, "bench_cache: %s\n", err);
        return 1;
    }
    char *text = make_text(chars);
    struct chorus_request r = chorus_request_default();
    r.backend = backend;
    r.voice = voice;
    r.text = text;
    r.format = chorus_format_from_name(fmt);

    double f_un[100], w_un[100], f_cold[100], w_cold[100], f_warm[100], w_warm[100];
    /* warm-up, untimed: loads the engine's voice data and creates the cache index */
    int rc = run_once(e, &r, 0, &f_un[0], &w_un[0]);
    for (int k = 0; k < runs && !rc; k++) {
        uint64_t cleared;
        chorus_engine_cache_clear(e, &cleared, NULL);
        rc |= run_once(e, &r, CHORUS_FLAG_NO_CACHE, &f_un[k], &w_un[k]);
        rc |= run_once(e, &r, 0, &f_cold[k], &w_cold[k]);
        rc |= run_once(e, &r, 0, &f_warm[k], &w_warm[k]);
    }
    struct chorus_cache_stats st = {.size = sizeof st};
    chorus_engine_cache_stats(e, &st);
    if (!rc) {
        printf("cache backend=%s chars=%zu format=%s runs=%d entries=%llu entry_bytes=%llu\n", backend,
               strlen(text), fmt, runs, (unsigned long long)st.entries, (unsigned long long)st.bytes);
 printf("  stream open (voice checks, same in every case) median=%.2fms\n", median(open_times, n_open) * 1e3);
        printf("  uncached    first_audio=%8.2fms  total=%8.2fms\n", median(f_un, runs) * 1e3, median(w_un, runs) * 1e3);
        printf("  cold cache  first_audio=%8.2fms  total=%8.2fms  (generate + store)\n",
               median(f_cold, runs) * 1e3, median(w_cold, runs) * 1e3);
        printf("  warm cache  first_audio=%8.2fms  total=%8.2fms  (replay)\n", median(f_warm, runs) * 1e3,
               median(w_warm, runs) * 1e3);
    }
    chorus_engine_cache_clear(e, NULL, NULL);
    chorus_engine_destroy(e);
    free(text);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_cache: cannot remove %s\n", dir);
    return rc ? 1 : 0;
}
