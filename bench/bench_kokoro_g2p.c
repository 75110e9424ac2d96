/*
 * bench_kokoro_g2p — Kokoro's English G2P: misaki's lexicon load time and memory, G2P speed,
 * and the phonemes of each word of a text (--words) for g2p_agreement.sh to compare with
 * misaki's own (g2p_misaki_ref.py).
 *
 * usage: bench_kokoro_g2p [--lexicon DIR] [--lang a|b] [--words] [TEXTFILE]
 *   DIR holds misaki's us_gold.json, us_silver.json (gb_* for --lang b), as `chorus models pull
 *   kokoro` installs them (default: none, espeak-ng and misaki's rules only). TEXTFILE defaults to
 *   bench/data/g2p_text.txt; lines starting with # are skipped and |TAG suffixes removed.
 * Prints numbers; asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/kokoro/kokoro_en.h"
#include "backends/kokoro/kokoro_g2p.h"
#include "backends/kokoro/kokoro_lexicon.h"
#include "chorus/chorus.h"

#ifndef CHORUS_SOURCE_DIR
#define CHORUS_SOURCE_DIR "."
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The text without comment lines and |TAG marks. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *o = malloc(cap), line[8192];
    while (o && fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        for (char *p = line; *p;) {
            if (*p == '|') { /* skip the tag */
                while (*p && *p != ' ' && *p != '\n' && !strchr(",.;:!?", *p)) p++;
                continue;
            }
            if (n + 2 > cap) {
                char *x = realloc(o, cap *= 2);
                if (!x) {
                    free(o);
                    o = NULL;
                    break;
                }
                o = x;
            }
            o[n++] = *p++;
        }
    }
    fclose(f);
    if (o) o[n] = 0;
    return o;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *lang = "a", *file = CHORUS_SOURCE_DIR "/bench/data/g2p_text.txt";
    int words = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--lexicon") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--lang") && i + 1 < argc) lang = argv[++i];
        else if (!strcmp(argv[i], "--words")) words = 1;
        else file = argv[i];
    }
    const char *d = !strcmp(lang, "b") ? "gb" : "us";
    struct kokoro_lexicon *gold = NULL, *silver = NULL;
    char err[512];
    if (dir) {
        char p[1024];
        long r0 = rss_kib();
        double t0 = now();
        clock_t c0 = clock();
        snprintf(p, sizeof p, "%s/%s_gold.json", dir, d);
        int rc = chorus_kokoro_lexicon_load(&gold, p, err, sizeof err);
        snprintf(p, sizeof p, "%s/%s_silver.json", dir, d);
        if (!rc) rc = chorus_kokoro_lexicon_load(&silver, p, err, sizeof err);
        if (rc) {
            fprintf(stderr, "bench_kokoro_g2p: %s\n", err);
            return 1;
        }
        double t1 = now(), cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
        if (!words)
            printf("lexicon %s gold+silver: %zu + %zu entries, loaded in %.0f ms (%.0f ms CPU), %zu KiB "
                   "held, RSS +%ld KiB\n", d, gold->n, silver->n, (t1 - t0) * 1e3, cpu * 1e3,
                   (chorus_kokoro_lexicon_bytes(gold) + chorus_kokoro_lexicon_bytes(silver)) / 1024,
                   rss_kib() - r0);
    }
    char *raw = read_text(file);
    if (!raw) {
        fprintf(stderr, "bench_kokoro_g2p: cannot read %s\n", file);
        return 1;
    }
    char *text = NULL;
    if (chorus_normalize_text(raw, strlen(raw), NULL, NULL, &text, NULL, err, sizeof err)) {
        fprintf(stderr, "bench_kokoro_g2p: %s\n", err);
        return 1;
    }
    struct kokoro_en_lex lex = {gold, silver, NULL};
    struct kokoro_tokens t;
    double t0 = now();
    if (chorus_kokoro_g2p_lex(text, strlen(text), lang, NULL, dir ? &lex : NULL, &t, err, sizeof err)) {
        fprintf(stderr, "bench_kokoro_g2p: %s\n", err);
        return 1;
    }
    double t1 = now();
    size_t nw = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (!t.t[i].is_word) continue;
        nw++;
        if (!words) continue;
        char *ps = chorus_kokoro_tokens_ps_utf8(&t, i, i + 1);
        printf("%.*s\t%s\n", (int)t.t[i].text_len, text + t.t[i].text_off, ps ? ps : "");
        free(ps);
    }
    if (!words)
        printf("g2p %s (%s): %zu words in %.1f ms, %.1f us/word\n", lang, dir ? "lexicon" : "espeak only",
               nw, (t1 - t0) * 1e3, (t1 - t0) * 1e6 / (double)(nw ? nw : 1));
    chorus_kokoro_tokens_release(&t);
    chorus_free(text);
    free(raw);
    chorus_kokoro_lexicon_free(gold);
    chorus_kokoro_lexicon_free(silver);
    return 0;
}
