/*
 * bench_pull.c — the C baseline of bench/bench_python.py: one espeak request of N characters
 * through the pull API (chorus_stream_open, chorus_stream_receive until EOF, chunk_free), the
 * same calls the Python package makes, timed per request.
 *
 *   bench_pull [--chars N] [--reps R] [--no-samples]
 *
 * Prints one line: chars, chunks per request, the min / median wall time per request (ms), and
 * the min / median CPU time of the process (all threads) per request (ms): on a busy machine
 * the CPU time is the steadier measure of the work done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chorus/chorus.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The text bench_espeak and bench_python.py use: this sentence repeated to N characters. */
static char *make_text(size_t n) {
    static const char sentence[] = "The quick brown fox jumps over the lazy dog, and then it rests. ";
    char *t = malloc(n + 1);
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) t[i] = sentence[i % (sizeof sentence - 1)];
    t[n] = 0;
    return t;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One request; returns its chunk count, or -1. */
static int one(struct chorus_engine *e, const struct chorus_request *r) {
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, r, &s), chunks = 0;
    while (rc == CHORUS_OK) {
        struct chorus_chunk *c;
        rc = chorus_stream_receive(s, &c, -1);
        if (rc == CHORUS_OK) chunks++, chorus_chunk_free(c);
    }
    if (rc != CHORUS_EOF) fprintf(stderr, "bench_pull: %s\n", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    return rc == CHORUS_EOF ? chunks : -1;
}

int main(int argc, char **argv) {
    size_t chars = 1000;
    int reps = 20, no_samples = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--chars") && i + 1 < argc) chars = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-samples")) no_samples = 1;
        else {
            fprintf(stderr, "usage: bench_pull [--chars N] [--reps R] [--no-samples]\n");
            return 2;
        }
    }
    if (reps < 1 || chars < 1) return 2;
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e;
    if (chorus_engine_create(&e, &o) != CHORUS_OK) return 1;
    char *text = make_text(chars);
    double *t = calloc((size_t)reps, sizeof *t), *cpu = calloc((size_t)reps, sizeof *cpu);
    if (!text || !t || !cpu) return 1;
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = text;
    r.format = CHORUS_FORMAT_PCM;
    r.flags = CHORUS_FLAG_NO_CACHE | (no_samples ? CHORUS_FLAG_NO_SAMPLES : 0);
    int chunks = one(e, &r); /* warm-up: espeak's voice load */
    for (int i = 0; i < reps && chunks >= 0; i++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        chunks = one(e, &r);
        t[i] = (clock_s(CLOCK_MONOTONIC) - t0) * 1000.0;
        cpu[i] = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1000.0;
    }
    if (chunks < 0) return 1;
    qsort(t, (size_t)reps, sizeof *t, cmp);
    qsort(cpu, (size_t)reps, sizeof *cpu, cmp);
    printf("c_pull chars=%zu chunks=%d min_ms=%.3f median_ms=%.3f cpu_min_ms=%.3f "
           "cpu_median_ms=%.3f\n", chars, chunks, t[0], t[reps / 2], cpu[0], cpu[reps / 2]);
    free(t);
    free(cpu);
    free(text);
    chorus_engine_destroy(e);
    return 0;
}
