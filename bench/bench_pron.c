/*
 * bench_pron.c — pronunciation dictionaries (text/pron.h): the time and memory to parse a
 * dictionary of N entries (synthetic words, each with an espeak, an IPA and an alias line), and
 * the rewrite's throughput over running text in which one word in eight has an entry, for each
 * engine notation. Usage: bench_pron [ENTRIES] (default 100000, the file limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/pron.h"
#include "text/text.h"

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* a word of letters from the number k */
static void word(char *w, size_t k) {
    size_t i = 0;
    do w[i++] = (char)('a' + k % 26), k /= 26;
    while (k);
    memcpy(w + i, "x", 2);
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 100000;
    if (n * 3 > CHORUS_PRON_MAX_ENTRIES) n = CHORUS_PRON_MAX_ENTRIES / 3;
    size_t cap = n * 96 + 1, len = 0;
    char *src = malloc(cap), w[32];
    for (size_t k = 0; k < n; k++) {
        word(w, k);
        len += (size_t)snprintf(src + len, cap - len, "%s = [[t@m'A:toU]]\n%s = /t\xC9\x99m\xCB\x88\xC9\x91tO/\n%s = tomahto\n", w, w, w);
    }
    struct chorus_pron d;
    chorus_pron_init(&d);
    char err[256];
    double t0 = cpu();
    if (chorus_pron_parse(&d, src, len, "bench", err, sizeof err)) return fprintf(stderr, "%s\n", err), 1;
    double t1 = cpu();
    size_t mem = d.cap * sizeof *d.e;
    for (size_t i = 0; i < d.n; i++) mem += 2 * (d.e[i].klen + 1) + 32 + 16 + 8;
    printf("parse: %zu lines (%zu words, %.1f MB) in %.3f s CPU; about %.1f MB held\n", 3 * n, d.n,
           (double)len / 1e6, t1 - t0, (double)mem / 1e6);
    /* running text: 2 MB, one word in eight in the dictionary */
    size_t tn = 2u << 20, tl = 0;
    char *text = malloc(tn + 64);
    size_t *map = malloc((tn + 64) * sizeof *map);
    for (size_t k = 0; tl < tn; k++) {
        if (k % 8 == 0) word(w, (k * 7919) % n);
        else snprintf(w, sizeof w, "%s", k % 3 ? "the" : "running");
        tl += (size_t)snprintf(text + tl, tn + 64 - tl, "%s ", w);
    }
    for (size_t i = 0; i <= tl; i++) map[i] = i;
    const struct chorus_pron *ds[1] = {&d};
    static const char *const names[] = {"alias", "espeak", "misaki"};
    for (int nt = 0; nt < 3; nt++) {
        struct chorus_textbuf b;
        chorus_textbuf_init(&b);
        t0 = cpu();
        int k = chorus_pron_rewrite(&b, text, tl, map, ds, 1, NULL, 0, (enum chorus_pron_notation)nt);
        t1 = cpu();
        printf("rewrite (%s): %d replacements in %.1f MB, %.1f MB/s CPU\n", names[nt], k,
               (double)tl / 1e6, (double)tl / 1e6 / (t1 - t0));
        chorus_textbuf_free(&b);
    }
    chorus_pron_free(&d);
    free(src);
    free(text);
    free(map);
    return 0;
}
