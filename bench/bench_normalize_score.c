/*
 * bench_normalize_score.c — how many written/spoken pairs the English normalizer gets right.
 * Reads category<TAB>written<TAB>spoken lines (default: bench/data/normalize_cases.tsv, whose
 * header cites where each category comes from), normalizes `written` with the default options
 * plus unit_normalization=true, and compares leniently with `spoken`: case, punctuation,
 * hyphens and the word "and" ("one hundred and five") are ignored, as spoken audio does not
 * carry them. Prints the score per category and overall; -v lists the misses.
 * Usage: bench_normalize_score [-v] [CASES.tsv]
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

#ifndef CHORUS_SOURCE_DIR
#define CHORUS_SOURCE_DIR "."
#endif

/* lowercase words of s, without punctuation, hyphens or "and", one space apart */
static void lenient(const char *s, char *out, size_t cap) {
    size_t n = 0;
    char word[256];
    size_t wl = 0;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c && (isalnum(c) || c >= 0x80 || c == '\'')) {
            if (wl + 1 < sizeof word) word[wl++] = (char)tolower(c);
            continue;
        }
        word[wl] = '\0';
        if (wl && strcmp(word, "and") != 0 && n + wl + 2 < cap) {
            if (n) out[n++] = ' ';
            memcpy(out + n, word, wl);
            n += wl;
        }
        wl = 0;
        if (!c) break;
    }
    out[n] = '\0';
}

struct tally {
    char name[32];
    int total, pass;
};

static struct tally *tally_of(struct tally *t, int *nt, const char *name) {
    for (int i = 0; i < *nt; i++)
        if (strcmp(t[i].name, name) == 0) return &t[i];
    if (*nt >= 64) return &t[63];
    snprintf(t[*nt].name, sizeof t[*nt].name, "%s", name);
    return &t[(*nt)++];
}

static int score_line(char *line, const struct chorus_norm_options *o, int verbose,
                      struct tally *t, int *nt) {
    char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (line[0] == '#' || !tab2) return 0;
    *tab1 = *tab2 = '\0';
    char *want = tab2 + 1;
    want[strcspn(want, "\r\n")] = '\0';
    const char *written = tab1 + 1;
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    if (chorus_text_normalize(&b, written, strlen(written), 0, "en", o) < 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    static char got_l[8192], want_l[8192];
    lenient(b.text ? b.text : "", got_l, sizeof got_l);
    lenient(want, want_l, sizeof want_l);
    struct tally *c = tally_of(t, nt, line);
    int ok = strcmp(got_l, want_l) == 0;
    c->total++;
    c->pass += ok;
    if (!ok && verbose)
        printf("MISS %-16s %s\n     got:  %s\n     want: %s\n", line, written,
               b.text ? b.text : "", want);
    chorus_textbuf_free(&b);
    return 1;
}

int main(int argc, char **argv) {
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    const char *path = argc > 1 + verbose ? argv[1 + verbose]
                                          : CHORUS_SOURCE_DIR "/bench/data/normalize_cases.tsv";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_normalize_score: cannot open %s (give the cases file)\n", path);
        return 1;
    }
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    o.unit = 1;
    struct tally t[64];
    int nt = 0, total = 0, pass = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) score_line(line, &o, verbose, t, &nt);
    fclose(f);
    printf("normalizer score (lenient: case, punctuation, hyphens, \"and\" ignored; units on)\n");
    for (int i = 0; i < nt; i++) {
        printf("  %-20s %4d / %4d  %5.1f%%\n", t[i].name, t[i].pass, t[i].total,
               100.0 * t[i].pass / t[i].total);
        total += t[i].total;
        pass += t[i].pass;
    }
    printf("  %-20s %4d / %4d  %5.1f%%\n", "TOTAL", pass, total,
           total ? 100.0 * pass / total : 0.0);
    return 0;
}
