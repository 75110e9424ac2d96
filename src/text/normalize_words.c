/*
 * normalize_words.c — English number words into a growable string: cardinals, ordinals, years,
 * dates, and the parsed numbers the rules read them from.
 */
#include "text/normalize_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the string builder ------------------------------------------------------------------- */

void chorus_tn_sb_addn(struct sb *b, const char *s, size_t k) {
    if (b->oom || !k) return;
    if (b->n + k + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->n + k + 1) cap *= 2;
        char *p = realloc(b->b, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->b = p;
        b->cap = cap;
    }
    memcpy(b->b + b->n, s, k);
    b->n += k;
    b->b[b->n] = '\0';
}

void chorus_tn_sb_add(struct sb *b, const char *s) { chorus_tn_sb_addn(b, s, strlen(s)); }

void chorus_tn_sb_word(struct sb *b, const char *s) {
    if (b->n && b->b[b->n - 1] != ' ' && b->b[b->n - 1] != '-') chorus_tn_sb_add(b, " ");
    chorus_tn_sb_add(b, s);
}

void chorus_tn_sb_free(struct sb *b) {
    free(b->b);
    b->b = NULL;
    b->n = b->cap = 0;
}

const char *chorus_tn_sb_last_word(const struct sb *b) {
    size_t w = b->n;
    while (w > 0 && b->b[w - 1] != ' ' && b->b[w - 1] != '-') w--;
    return b->n ? b->b + w : "";
}

/* ---- English numbers ---------------------------------------------------------------------- */

const char *const chorus_ones[20] = {"zero",    "one",     "two",       "three",    "four",
                                     "five",    "six",     "seven",     "eight",    "nine",
                                     "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                     "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const tens[] = {"", "", "twenty", "thirty", "forty",
                                   "fifty", "sixty", "seventy", "eighty", "ninety"};
static const char *const scales[] = {"",           "thousand",    "million",     "billion",
                                     "trillion",   "quadrillion", "quintillion", "sextillion",
                                     "septillion", "octillion",   "nonillion",   "decillion"};
const char *const chorus_months[12] = {"January", "February", "March",     "April",
                                       "May",     "June",     "July",      "August",
                                       "September", "October", "November", "December"};

void chorus_tn_sb_below100(struct sb *b, unsigned v) {
    if (v < 20) {
        chorus_tn_sb_word(b, chorus_ones[v]);
        return;
    }
    chorus_tn_sb_word(b, tens[v / 10]);
    if (v % 10) {
        chorus_tn_sb_add(b, "-");
        chorus_tn_sb_add(b, chorus_ones[v % 10]);
    }
}

static void sb_below1000(struct sb *b, unsigned v) {
    if (v >= 100) {
        chorus_tn_sb_word(b, chorus_ones[v / 100]);
        chorus_tn_sb_word(b, "hundred");
        v %= 100;
        if (!v) return;
    }
    chorus_tn_sb_below100(b, v);
}

void chorus_tn_sb_digit(struct sb *b, char c) { chorus_tn_sb_word(b, chorus_ones[c - '0']); }

void chorus_tn_sb_digits(struct sb *b, const char *d, size_t n) {
    for (size_t i = 0; i < n; i++) chorus_tn_sb_digit(b, d[i]);
}

void chorus_tn_sb_cardinal(struct sb *b, const char *d, size_t n) {
    while (n > 1 && *d == '0') d++, n--;
    if (n > MAX_CARDINAL_DIGITS) {
        chorus_tn_sb_digits(b, d, n);
        return;
    }
    if (n == 1 && *d == '0') {
        chorus_tn_sb_word(b, "zero");
        return;
    }
    size_t groups = (n + 2) / 3, first = n - (groups - 1) * 3;
    size_t i = 0;
    for (size_t g = 0; g < groups; g++) {
        size_t len = g == 0 ? first : 3;
        unsigned v = 0;
        for (size_t k = 0; k < len; k++) v = v * 10 + (unsigned)(d[i + k] - '0');
        i += len;
        if (v) {
            sb_below1000(b, v);
            if (groups - 1 - g) chorus_tn_sb_word(b, scales[groups - 1 - g]);
        }
    }
}

void chorus_tn_sb_cardinal_u(struct sb *b, unsigned long v) {
    char d[32];
    int k = snprintf(d, sizeof d, "%lu", v);
    chorus_tn_sb_cardinal(b, d, (size_t)k);
}

void chorus_tn_sb_ordinalize(struct sb *b) {
    static const struct {
        const char *c, *o;
    } irregular[] = {{"one", "first"},  {"two", "second"},   {"three", "third"},
                     {"five", "fifth"}, {"eight", "eighth"}, {"nine", "ninth"},
                     {"twelve", "twelfth"}};
    if (!b->n) return;
    const char *last = chorus_tn_sb_last_word(b);
    size_t w = (size_t)(last - b->b);
    for (size_t i = 0; i < sizeof irregular / sizeof irregular[0]; i++) {
        if (strcmp(last, irregular[i].c) == 0) {
            b->n = w;
            b->b[w] = '\0';
            chorus_tn_sb_add(b, irregular[i].o);
            return;
        }
    }
    if (b->b[b->n - 1] == 'y') {
        b->b[--b->n] = '\0';
        chorus_tn_sb_add(b, "ieth");
    } else {
        chorus_tn_sb_add(b, "th");
    }
}

void chorus_tn_sb_ordinal(struct sb *b, const char *d, size_t n) {
    chorus_tn_sb_cardinal(b, d, n);
    chorus_tn_sb_ordinalize(b);
}

void chorus_tn_sb_ordinal_u(struct sb *b, unsigned long v) {
    chorus_tn_sb_cardinal_u(b, v);
    chorus_tn_sb_ordinalize(b);
}

void chorus_tn_sb_pluralize(struct sb *b) {
    if (!b->n) return;
    if (strcmp(chorus_tn_sb_last_word(b), "half") == 0) {
        b->b[--b->n] = '\0';
        chorus_tn_sb_add(b, "ves");
    } else if (b->b[b->n - 1] == 'y') {
        b->b[--b->n] = '\0';
        chorus_tn_sb_add(b, "ies");
    } else {
        chorus_tn_sb_add(b, "s");
    }
}

/* 1984 -> nineteen eighty-four, 2005 -> two thousand five, 1900 -> nineteen hundred */
void chorus_tn_sb_year(struct sb *b, unsigned y) {
    if (y < 1000 || y > 9999 || (y >= 2000 && y <= 2009) || y % 1000 == 0) {
        chorus_tn_sb_cardinal_u(b, y);
        return;
    }
    chorus_tn_sb_below100(b, y / 100);
    unsigned r = y % 100;
    if (r == 0) {
        chorus_tn_sb_word(b, "hundred");
    } else if (r < 10) {
        chorus_tn_sb_word(b, "oh");
        chorus_tn_sb_word(b, chorus_ones[r]);
    } else {
        chorus_tn_sb_below100(b, r);
    }
}

void chorus_tn_sb_date(struct sb *b, unsigned y, unsigned m, unsigned d, int has_y) {
    chorus_tn_sb_word(b, chorus_months[m - 1]);
    if (d) chorus_tn_sb_ordinal_u(b, d);
    if (has_y) {
        if (d) chorus_tn_sb_add(b, ",");
        chorus_tn_sb_year(b, y);
    }
}

/* ---- parsed numbers ----------------------------------------------------------------------- */

int chorus_tn_parse_num(const struct nw *w, size_t i, struct num *x) {
    memset(x, 0, sizeof *x);
    size_t p = i, k = chorus_tn_digits_at(w, p);
    int lead_dot = k == 0 && chorus_tn_char_at(w, p) == '.' && chorus_tn_is_digit_at(w, p + 1);
    if ((k == 0 && !lead_dot) || k > 60) return 0;
    memcpy(x->d, w->s + p, k);
    x->nd = k;
    p += k;
    /* thousands separators: groups of exactly three digits */
    if (k >= 1 && k <= 3) {
        while (chorus_tn_char_at(w, p) == ',' && chorus_tn_digits_at(w, p + 1) == 3 && !chorus_tn_is_digit_at(w, p + 4) &&
               x->nd + 3 < sizeof x->d - 1) {
            memcpy(x->d + x->nd, w->s + p + 1, 3);
            x->nd += 3;
            p += 4;
            x->commas = 1;
        }
    }
    if (chorus_tn_char_at(w, p) == '.' && chorus_tn_is_digit_at(w, p + 1)) {
        size_t f = chorus_tn_digits_at(w, p + 1);
        /* 2.0.1 is a version, not a decimal: leave it to the caller */
        if (f <= 60 && !(chorus_tn_char_at(w, p + 1 + f) == '.' && chorus_tn_is_digit_at(w, p + 2 + f))) {
            memcpy(x->f, w->s + p + 1, f);
            x->nf = f;
            x->dot = 1;
            p += 1 + f;
        }
    }
    if (x->nd == 0 && x->nf == 0) return 0;
    x->len = p - i;
    return 1;
}

unsigned long chorus_tn_num_value(const struct num *x) {
    if (x->nd > 9) return (unsigned long)-1;
    unsigned long v = 0;
    for (size_t i = 0; i < x->nd; i++) v = v * 10 + (unsigned long)(x->d[i] - '0');
    return v;
}

void chorus_tn_sb_num(struct sb *b, const struct num *x) {
    if (x->nd) chorus_tn_sb_cardinal(b, x->d, x->nd);
    if (x->nf) {
        chorus_tn_sb_word(b, "point");
        chorus_tn_sb_digits(b, x->f, x->nf);
    }
}
