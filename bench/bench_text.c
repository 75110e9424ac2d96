/*
 * bench_text.c — throughput of the text stage: segments per second and MB/s through
 * chorus_textiter on a long plain text, with and without normalization, and the iterator's
 * peak memory. Usage: bench_text [MEGABYTES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/text.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 50;
    size_t n = mb << 20;
    static const char para[] =
        "On March 5, 2024, Dr. Smith paid $12.50 for 3 books at 3:30 pm. The 2nd one, a "
        "history of the 1990s, was about 25% longer than the others; it ran to 1,234 pages.\n\n";
    char *in = malloc(n + 1);
    if (!in) return 1;
    for (size_t i = 0; i < n; i++) in[i] = para[i % (sizeof para - 1)];
    in[n] = '\0';
    for (int normalize = 0; normalize < 2; normalize++) {
        struct chorus_text_config cfg = {0};
        cfg.normalize = normalize;
        cfg.max_chars = 400;
        cfg.paragraph_pause = -1;
        struct chorus_textiter *it;
        char err[256];
        double t0 = now();
        if (chorus_textiter_create(&it, in, n, CHORUS_INPUT_TEXT, &cfg, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        struct chorus_textseg seg;
        double t_first = 0;
        size_t segs = 0, out = 0;
        while (chorus_textiter_next(it, &seg) == 1) {
            if (!segs) t_first = now() - t0;
            segs++;
            out += seg.len;
        }
        double t = now() - t0;
        size_t peak;
        chorus_textiter_mem(it, &peak);
        chorus_textiter_destroy(it);
        printf("normalize=%d: %zu MB in %.2f s (%.1f MB/s), %zu segments, %zu bytes out, "
               "first segment after %.1f us, iterator peak %zu bytes\n",
               normalize, mb, t, (double)mb / t, segs, out, t_first * 1e6, peak);
    }
    free(in);
    return 0;
}
