/*
 * normalize_sayas.c — SSML <say-as>: characters, digits, cardinals, ordinals, dates, times and
 * telephone numbers as the markup asks, the English normalizer for anything that does not fit.
 */
#include "text/normalize_int.h"

#include <ctype.h>
#include <string.h>

/* ---- SSML say-as ------------------------------------------------------------------------- */

static const char *const say_as_kinds[] = {"characters", "spell-out", "verbatim", "cardinal",
                                           "number",     "ordinal",   "digits",   "date",
                                           "time",       "telephone", NULL};

int chorus_text_say_as_known(const char *interpret) {
    for (const char *const *k = say_as_kinds; *k; k++)
        if (strcmp(*k, interpret) == 0) return 1;
    return 0;
}

static void spell(struct nw *w, int digits_only) {
    for (size_t i = 0; i < w->n && !w->oom;) {
        size_t l = chorus_utf8_char_len(w->s + i, w->n - i);
        unsigned char c = (unsigned char)w->s[i];
        if (chorus_text_space_len(w->s + i, w->n - i)) {
            i += l;
            continue;
        }
        char one[8] = {0};
        const char *word = one;
        size_t sl;
        if (isdigit(c)) word = chorus_ones[c - '0'];
        else if (digits_only) word = NULL;
        else if (isalpha(c)) one[0] = (char)toupper(c);
        else if (c == '.') word = "dot";
        else if (c == '-') word = "dash";
        else if (c == '_') word = "underscore";
        else if (c == '/') word = "slash";
        else if (chorus_tn_symbol_word(w, i, &sl)) word = chorus_tn_symbol_word(w, i, &sl);
        else memcpy(one, w->s + i, l < 7 ? l : 7);
        if (word) chorus_tn_put_words(w, word, i);
        i += l;
    }
}

/* digits, with a pause (comma) between groups */
static int say_telephone(struct nw *w) {
    struct chorus_textbuf *out = w->out;
    for (size_t i = 0; i < w->n && !w->oom; i++) {
        unsigned char c = (unsigned char)w->s[i];
        if (isdigit(c)) chorus_tn_put_words(w, chorus_ones[c - '0'], i);
        else if (c == '+' && i == 0) chorus_tn_put_words(w, "plus", i);
        else if ((c == '-' || c == ' ' || c == '.' || c == ')') && out->len &&
                 out->text[out->len - 1] != ',')
            if (chorus_textbuf_put(out, ",", 1, w->base + i) < 0) w->oom = 1;
    }
    while (out->len && out->text[out->len - 1] == ',') out->len--;
    if (out->text) out->text[out->len] = '\0';
    return 1;
}

static int say_ordinal(struct nw *w) {
    size_t d = chorus_tn_digits_at(w, 0), e = d;
    if (e + 2 <= w->n && (chorus_tn_ci_prefix(w, e, "st") || chorus_tn_ci_prefix(w, e, "nd") ||
                          chorus_tn_ci_prefix(w, e, "rd") || chorus_tn_ci_prefix(w, e, "th")))
        e += 2;
    if (!d || e != w->n || d > MAX_CARDINAL_DIGITS) return 0;
    struct sb b = SB_INIT;
    chorus_tn_sb_ordinal(&b, w->s, d);
    chorus_tn_put_sb(w, &b, 0);
    return 1;
}

static int say_cardinal(struct nw *w) {
    struct num x;
    size_t p = w->n && w->s[0] == '-' ? 1 : 0;
    if (!chorus_tn_parse_num(w, p, &x) || p + x.len != w->n) return 0;
    struct sb b = SB_INIT;
    if (p) chorus_tn_sb_word(&b, "minus");
    chorus_tn_sb_num(&b, &x);
    chorus_tn_put_sb(w, &b, 0);
    return 1;
}

/* up to three numbers separated by - / . ; *np of them, 1 if they are the whole content */
static int date_parts(const struct nw *w, unsigned part[3], size_t *np) {
    size_t p = 0;
    *np = 0;
    while (*np < 3 && p < w->n) {
        size_t d = chorus_tn_digits_at(w, p);
        if (!d || d > 4) break;
        part[(*np)++] = chorus_tn_uint_at(w, p);
        p += d;
        if (p < w->n && w->s[p] && strchr("-/.", w->s[p])) p++;
        else break;
    }
    return p == w->n && *np > 0;
}

/* numbers in the order `format` says (default: ymd if the first part has four digits, else
 * mdy, or md with two parts) */
static int say_date(struct nw *w, const char *format) {
    unsigned part[3] = {0, 0, 0}, y = 0, m = 0, d = 0;
    size_t np;
    int ok = date_parts(w, part, &np);
    const char *f = format;
    if (!f || !*f) f = (np == 3 && chorus_tn_digits_at(w, 0) == 4) ? "ymd" : (np == 3 ? "mdy" : "md");
    ok = ok && strlen(f) == np;
    for (size_t k = 0; ok && k < np; k++) {
        if (f[k] == 'y') y = part[k] < 100 && np > 1 ? part[k] + (part[k] < 50 ? 2000 : 1900) : part[k];
        else if (f[k] == 'm') m = part[k];
        else if (f[k] == 'd') d = part[k];
        else ok = 0;
    }
    if (!ok) return 0;
    struct sb b = SB_INIT;
    if (strchr(f, 'm') && m >= 1 && m <= 12 && d <= 31 && (d || !strchr(f, 'd')))
        chorus_tn_sb_date(&b, y, m, d, strchr(f, 'y') != NULL);
    else if (!strcmp(f, "y")) chorus_tn_sb_year(&b, y);
    else if (!strcmp(f, "d") && d >= 1 && d <= 31) chorus_tn_sb_ordinal_u(&b, d);
    else return 0;
    chorus_tn_put_sb(w, &b, 0);
    return 1;
}

static int say_time(struct nw *w) {
    if (chorus_tn_rule_time(w, 0)) return 1;
    size_t d = chorus_tn_digits_at(w, 0);
    int pm;
    size_t ap = d ? chorus_tn_ampm_at(w, d, &pm) : 0;
    if (!d || d > 2 || !ap) return 0;
    struct sb b = SB_INIT;
    chorus_tn_sb_cardinal(&b, w->s, d);
    chorus_tn_sb_word(&b, pm ? "PM" : "AM");
    chorus_tn_put_sb(w, &b, 0);
    return 1;
}

static int say_kind(struct nw *w, const char *interpret, const char *format) {
    if (!strcmp(interpret, "characters") || !strcmp(interpret, "spell-out") ||
        !strcmp(interpret, "verbatim"))
        return spell(w, 0), 1;
    if (!strcmp(interpret, "digits")) return spell(w, 1), 1;
    if (!strcmp(interpret, "telephone")) return say_telephone(w);
    if (!strcmp(interpret, "ordinal")) return say_ordinal(w);
    if (!strcmp(interpret, "cardinal") || !strcmp(interpret, "number")) return say_cardinal(w);
    if (!strcmp(interpret, "date")) return say_date(w, format);
    if (!strcmp(interpret, "time")) return say_time(w);
    return 0;
}

int chorus_text_say_as(struct chorus_textbuf *out, const char *interpret, const char *format,
                       const char *s, size_t n, size_t base) {
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    struct nw w;
    chorus_tn_nw_init(&w, out, &o, s, n, base);
    /* trim the content */
    while (w.n && chorus_text_space_len(w.s, w.n)) {
        size_t k = chorus_text_space_len(w.s, w.n);
        w.s += k, w.n -= k, w.base += k;
    }
    while (w.n && isspace((unsigned char)w.s[w.n - 1])) w.n--;
    /* text that does not fit the interpretation is normalized as usual */
    if (!say_kind(&w, interpret, format)) chorus_tn_normalize_en(&w);
    return w.oom ? -1 : 0;
}
