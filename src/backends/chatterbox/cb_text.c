/*
 * cb_text.c — text preprocessing for Chatterbox and transcript matching for candidate scoring.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/chatterbox/cb_internal.h"

static int is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_alpha(unsigned char c) { return is_upper(c) || (c >= 'a' && c <= 'z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_mark(unsigned char c) { return c == '.' || c == '!' || c == '?'; }

/* 1 if the word s[0..n) is a number word (the core's normalizer spells "[12]" "[twelve]"). */
static int number_word(const char *s, size_t n) {
    static const char *const w[] = {
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
        "eighty", "ninety", "hundred", "thousand", "and", "to", NULL};
    for (size_t i = 0; w[i]; i++)
        if (strlen(w[i]) == n && !strncasecmp(s, w[i], n)) return 1;
    return 0;
}

/* Length of a bracketed reference at s ("[12]", "[3, 4]", "[1-3]", "[twelve]",
 * "[citation needed]"), 0 if the bracket is something else (Turbo's "[laugh]" stays). */
static size_t ref_len(const char *s, size_t n) {
    if (n < 3 || s[0] != '[') return 0;
    static const char cn[] = "[citation needed]";
    if (n >= sizeof cn - 1 && !strncasecmp(s, cn, sizeof cn - 1)) return sizeof cn - 1;
    size_t i = 1;
    int any = 0;
    while (i < n && i < 120 && s[i] != ']') {
        unsigned char c = (unsigned char)s[i];
        if (is_digit(c)) {
            any = 1;
            i++;
        } else if (c == ',' || c == '-' || c == ' ') {
            i++;
        } else if (is_alpha(c)) {
            size_t j = i;
            while (j < n && is_alpha((unsigned char)s[j])) j++;
            if (!number_word(s + i, j - i)) return 0;
            any = 1;
            i = j;
        } else {
            return 0;
        }
    }
    return (any && i < n && s[i] == ']') ? i + 1 : 0;
}

/* Length of a URL at s (http://, https://, www.), 0 if none. */
static size_t url_len(const char *s, size_t n) {
    size_t p = 0;
    if (n >= 7 && !strncasecmp(s, "http://", 7)) p = 7;
    else if (n >= 8 && !strncasecmp(s, "https://", 8)) p = 8;
    else if (n >= 4 && !strncasecmp(s, "www.", 4)) p = 4;
    else return 0;
    while (p < n && !is_space((unsigned char)s[p])) p++;
    /* a sentence mark right after the URL stays */
    while (p > 4 && (s[p - 1] == '.' || s[p - 1] == ',' || s[p - 1] == '!' || s[p - 1] == '?' ||
                     s[p - 1] == ')' || s[p - 1] == ';' || s[p - 1] == ':'))
        p--;
    return p;
}

/* Initials at s: a letter and a dot, at least twice ("J.R.R.", "U.S."). Returns the bytes
 * covered and the number of letters, 0 if not initials. The run must start a word. */
static size_t initials_len(const char *s, size_t n, size_t *letters) {
    size_t i = 0, k = 0;
    while (i + 1 < n && is_alpha((unsigned char)s[i]) && s[i + 1] == '.' &&
           (i + 2 >= n || !is_alpha((unsigned char)s[i + 2]) || (i + 3 < n && s[i + 3] == '.'))) {
        i += 2;
        k++;
    }
    if (k < 2) return 0;
    *letters = k;
    return i;
}

char *chorus_cb_preprocess(const char *in, size_t len) {
    /* every rule shortens or keeps the text, except the added spaces: at most one per mark */
    char *out = malloc(2 * len + 1);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    int pending_space = 0; /* whitespace seen since the last emitted byte */
    while (i < len) {
        unsigned char c = (unsigned char)in[i];
        int word_start = i == 0 || is_space((unsigned char)in[i - 1]) || in[i - 1] == '(' ||
                         in[i - 1] == '"';
        size_t k;
        if (is_space(c)) {
            pending_space = 1;
            i++;
            continue;
        }
        if (word_start && (k = url_len(in + i, len - i)) > 0) {
            i += k;
            continue;
        }
        if ((k = ref_len(in + i, len - i)) > 0) {
            i += k;
            continue;
        }
        size_t letters = 0;
        if (word_start && (k = initials_len(in + i, len - i, &letters)) > 0) {
            if (pending_space && o > 0) out[o++] = ' ';
            pending_space = 0;
            for (size_t j = 0; j < letters; j++) {
                if (j) out[o++] = ' ';
                out[o++] = in[i + 2 * j];
            }
            i += k;
            /* text that ends in initials keeps its full stop */
            size_t q = i;
            while (q < len && is_space((unsigned char)in[q])) q++;
            if (q >= len) out[o++] = '.';
            continue;
        }
        /* no space before punctuation (left behind where a reference was dropped) */
        if (pending_space && o > 0 && !is_mark(c) && c != ',' && c != ';' && c != ':')
            out[o++] = ' ';
        pending_space = 0;
        if (is_mark(c)) {
            /* a run of marks becomes its first mark; "..." becomes "." */
            size_t j = i;
            while (j < len && is_mark((unsigned char)in[j])) j++;
            /* a decimal point or version ("3.5") is not a sentence mark */
            if (c == '.' && j == i + 1 && i > 0 && is_digit((unsigned char)in[i - 1]) &&
                j < len && is_digit((unsigned char)in[j])) {
                out[o++] = '.';
                i++;
                continue;
            }
            out[o++] = (char)c;
            i = j;
            if (i < len && is_upper((unsigned char)in[i])) out[o++] = ' ';
            continue;
        }
        out[o++] = (char)c;
        i++;
    }
    out[o] = '\0';
    return out;
}

/* ---- transcript matching ---------------------------------------------------------------- */

static size_t split_words(const char *s, char ***out) {
    size_t n = 0, cap = 0;
    char **w = NULL;
    const char *p = s;
    while (p && *p) {
        while (*p && !(is_alpha((unsigned char)*p) || is_digit((unsigned char)*p) ||
                       (unsigned char)*p >= 0x80))
            p++;
        if (!*p) break;
        const char *b = p;
        while (*p && (is_alpha((unsigned char)*p) || is_digit((unsigned char)*p) || *p == '\'' ||
                      (unsigned char)*p >= 0x80))
            p++;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nw = realloc(w, nc * sizeof *nw);
            if (!nw) break;
            w = nw;
            cap = nc;
        }
        size_t l = (size_t)(p - b);
        char *x = malloc(l + 1);
        if (!x) break;
        for (size_t i = 0; i < l; i++) {
            unsigned char c = (unsigned char)b[i];
            x[i] = (char)(is_upper(c) ? c + 32 : c);
        }
        x[l] = '\0';
        w[n++] = x;
    }
    *out = w;
    return n;
}

static void free_words(char **w, size_t n) {
    for (size_t i = 0; i < n; i++) free(w[i]);
    free(w);
}

double chorus_cb_text_match(const char *text, const char *transcript) {
    char **a, **b;
    size_t na = split_words(text, &a), nb = split_words(transcript, &b);
    double r = 0;
    if (na && nb) {
        /* LCS over words with two rows */
        size_t *prev = calloc(nb + 1, sizeof *prev), *cur = calloc(nb + 1, sizeof *cur);
        if (prev && cur) {
            for (size_t i = 1; i <= na; i++) {
                for (size_t j = 1; j <= nb; j++)
                    cur[j] = !strcmp(a[i - 1], b[j - 1])
                                 ? prev[j - 1] + 1
                                 : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
                size_t *t = prev;
                prev = cur;
                cur = t;
            }
            r = 2.0 * (double)prev[nb] / (double)(na + nb);
        }
        free(prev);
        free(cur);
    }
    free_words(a, na);
    free_words(b, nb);
    return r;
}
