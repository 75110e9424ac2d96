/*
 * normalize_int.h — what the normalizer's files share: the spoken-word builder (normalize_words.c),
 * the output writer and scanning helpers (normalize.c), and the English rules (chorus_tn_normalize_en*.c).
 * Not a public interface.
 */
#ifndef CHORUS_NORMALIZE_INT_H
#define CHORUS_NORMALIZE_INT_H

#include <stddef.h>

#include "text/text.h"

/* ---- a growable string of spoken words (normalize_words.c) ---------------------------------- */

struct sb {
    char *b; /* NULL until the first word; NUL-terminated after */
    size_t n, cap;
    int oom;
};
#define SB_INIT {NULL, 0, 0, 0}

void chorus_tn_sb_add(struct sb *b, const char *s);
void chorus_tn_sb_addn(struct sb *b, const char *s, size_t n);
/* a word, with a space before unless at the start or after a hyphen */
void chorus_tn_sb_word(struct sb *b, const char *s);
void chorus_tn_sb_free(struct sb *b);
const char *chorus_tn_sb_last_word(const struct sb *b);

extern const char *const chorus_ones[20];
extern const char *const chorus_months[12];
#define MAX_CARDINAL_DIGITS 36

void chorus_tn_sb_digit(struct sb *b, char c);
void chorus_tn_sb_digits(struct sb *b, const char *d, size_t n); /* digit by digit */
void chorus_tn_sb_below100(struct sb *b, unsigned v);
/* cardinal of a digit string (no separators); over 36 digits: digit by digit */
void chorus_tn_sb_cardinal(struct sb *b, const char *d, size_t n);
void chorus_tn_sb_cardinal_u(struct sb *b, unsigned long v);
void chorus_tn_sb_ordinalize(struct sb *b); /* the last word to its ordinal: twenty-one -> twenty-first */
void chorus_tn_sb_ordinal(struct sb *b, const char *d, size_t n);
void chorus_tn_sb_ordinal_u(struct sb *b, unsigned long v);
void chorus_tn_sb_pluralize(struct sb *b); /* twenty -> twenties, third -> thirds, half -> halves */
void chorus_tn_sb_year(struct sb *b, unsigned y);
/* month day, year ("March fifth twenty twenty-four"); d = 0 or has_y = 0 leave them out */
void chorus_tn_sb_date(struct sb *b, unsigned y, unsigned m, unsigned d, int has_y);

/* ---- the output writer and scanning helpers (normalize.c) --------------------------------- */

/* the memo of the last run of a character class: lets rules that look to the end of a run ask
 * again from any later start for free, keeping normalization linear */
enum run_class { RUN_CHUNK, RUN_HOST, RUN_LABEL, RUN_EMAIL_LOCAL, RUN_EMAIL_DOMAIN, RUN_COUNT };
struct run_memo {
    size_t from, to;
};

struct nw {
    struct chorus_textbuf *out;
    const struct chorus_norm_options *o;
    const char *s; /* the input */
    size_t n;
    size_t base;
    int sep; /* the last output was spoken words: keep the next word apart */
    int oom;
    size_t prev, prevlen; /* the last word copied through (roman numerals, St.) */
    size_t rangeable;     /* where the last amount or time ended: a dash there reads "to" */
    size_t symbol_end;    /* where the last symbol spoken as a word ended */
    struct run_memo memo[RUN_COUNT];
    size_t email_at, email_end; /* the last '@' checked and where its address ends (0: none) */
    size_t *work; /* bytes looked at by the scanning helpers (the linearity checks count them) */
    size_t own_work;
};

/* count one byte looked at (through a pointer: the helpers take a const nw) */
#define NW_WORK(w) (++*(w)->work)

void chorus_tn_nw_init(struct nw *w, struct chorus_textbuf *out, const struct chorus_norm_options *o,
             const char *s, size_t n, size_t base);
void chorus_tn_put_space(struct nw *w, size_t src);
void chorus_tn_put_copy(struct nw *w, size_t i, size_t n);
void chorus_tn_put_words(struct nw *w, const char *words, size_t i);
void chorus_tn_put_sb(struct nw *w, struct sb *b, size_t i); /* and frees b */

int chorus_tn_is_digit_at(const struct nw *w, size_t i);
int chorus_tn_is_alpha_at(const struct nw *w, size_t i);
int chorus_tn_is_upper_at(const struct nw *w, size_t i);
int chorus_tn_is_alnum_at(const struct nw *w, size_t i); /* ASCII alphanumerics and non-ASCII bytes */
int chorus_tn_char_at(const struct nw *w, size_t i);     /* the byte at i, or 0 past the end */
size_t chorus_tn_digits_at(const struct nw *w, size_t i); /* at most 64 */
size_t chorus_tn_alphas_at(const struct nw *w, size_t i); /* ASCII letters, at most 64 */
unsigned chorus_tn_uint_at(const struct nw *w, size_t i);
int chorus_tn_word_ends(const struct nw *w, size_t i);
int chorus_tn_ci_prefix(const struct nw *w, size_t i, const char *word);
int chorus_tn_ci_word(const struct nw *w, size_t i, size_t n, const char *word);
/* where the run of `cls` characters that contains i ends (memoized) */
size_t chorus_tn_run_end(struct nw *w, enum run_class cls, size_t i);

/* ---- numbers (normalize_words.c) ---------------------------------------------------------- */

struct num {
    char d[64]; /* integer digits, commas removed */
    size_t nd;
    char f[64]; /* fraction digits */
    size_t nf;
    size_t len; /* input bytes */
    int commas;
    int dot;    /* has a decimal point (".5", "2.") */
};
/* an unsigned number at i: 1234, 1,234,567, 3.14, .5 */
int chorus_tn_parse_num(const struct nw *w, size_t i, struct num *x);
unsigned long chorus_tn_num_value(const struct num *x);
void chorus_tn_sb_num(struct sb *b, const struct num *x);

/* ---- English rules (chorus_tn_normalize_en*.c) ------------------------------------------------------ */

void chorus_tn_normalize_en(struct nw *w);
size_t chorus_tn_rule_time(struct nw *w, size_t i);
size_t chorus_tn_ampm_at(const struct nw *w, size_t i, int *pm);
size_t chorus_tn_rule_email(struct nw *w, size_t i);
size_t chorus_tn_rule_url(struct nw *w, size_t i);
size_t chorus_tn_rule_phone(struct nw *w, size_t i);
size_t chorus_tn_rule_ip(struct nw *w, size_t i);
size_t chorus_tn_rule_date(struct nw *w, size_t i);
size_t chorus_tn_rule_month_date(struct nw *w, size_t i);
size_t chorus_tn_rule_day_month(struct nw *w, size_t i);
size_t chorus_tn_rule_fraction(struct nw *w, size_t i);
size_t chorus_tn_rule_money(struct nw *w, size_t i);
size_t chorus_tn_rule_number(struct nw *w, size_t i);
size_t chorus_tn_rule_roman(struct nw *w, size_t i);
size_t chorus_tn_rule_abbrev(struct nw *w, size_t i);
int chorus_tn_month_at(const struct nw *w, size_t i, size_t *len); /* 1..12 (January, jan, Jan.) or 0 */
const char *chorus_tn_symbol_word(const struct nw *w, size_t i, size_t *len);

#endif
