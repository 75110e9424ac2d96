/*
 * normalize_en_date.c — English dates: 2024-03-05, 03/05/2024, March 5, 2024, jan 15 2020,
 * Jan-15-2020, 8 February 2010, 25th jul 2012, August 2019.
 */
#include "text/normalize_int.h"

#include <string.h>
#include <strings.h>

/* 1..12 for a month's name or abbreviation at i (any case, "Jan." with its full stop), 0 if
 * none; *len is the bytes it takes */
int chorus_tn_month_at(const struct nw *w, size_t i, size_t *len) {
    static const char *const abbr[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
    size_t k = chorus_tn_alphas_at(w, i);
    if (k < 3 || chorus_tn_is_alnum_at(w, i + k)) return 0;
    for (int m = 0; m < 12; m++) {
        int hit = chorus_tn_ci_word(w, i, k, chorus_months[m]) || chorus_tn_ci_word(w, i, k, abbr[m]) ||
                  (m == 8 && chorus_tn_ci_word(w, i, k, "sept"));
        if (!hit) continue;
        *len = k + (chorus_tn_char_at(w, i + k) == '.' && k < strlen(chorus_months[m]));
        return m + 1;
    }
    return 0;
}

/* a day of the month at i (1-2 digits, an optional st/nd/rd/th): its value, *end after it */
static unsigned day_at(const struct nw *w, size_t i, size_t *end) {
    size_t d = chorus_tn_digits_at(w, i);
    if (d < 1 || d > 2) return 0;
    size_t e = i + d;
    if (chorus_tn_ci_prefix(w, e, "st") || chorus_tn_ci_prefix(w, e, "nd") || chorus_tn_ci_prefix(w, e, "rd") ||
        chorus_tn_ci_prefix(w, e, "th"))
        e += 2;
    if (chorus_tn_is_alnum_at(w, e) || ((chorus_tn_char_at(w, e) == ':' || chorus_tn_char_at(w, e) == '.' ||
                               chorus_tn_char_at(w, e) == '/') && chorus_tn_is_digit_at(w, e + 1)))
        return 0;
    unsigned v = chorus_tn_uint_at(w, i);
    *end = e;
    return v >= 1 && v <= 31 ? v : 0;
}

/* a four-digit year at i that ends there (1000..2999): its value, 0 if none */
static unsigned year_at(const struct nw *w, size_t i) {
    if (chorus_tn_digits_at(w, i) != 4 || chorus_tn_is_alnum_at(w, i + 4) ||
        ((chorus_tn_char_at(w, i + 4) == '.' || chorus_tn_char_at(w, i + 4) == ':') && chorus_tn_is_digit_at(w, i + 5)))
        return 0;
    unsigned y = chorus_tn_uint_at(w, i);
    return y >= 1000 && y <= 2999 ? y : 0;
}

/* after a day: ", 2024", " 2024", "-2024" (sep is the separator the date used) */
static unsigned year_after(const struct nw *w, size_t e, int sep, size_t *end) {
    size_t r = e;
    if (chorus_tn_char_at(w, r) == ',') r++;
    if (chorus_tn_char_at(w, r) == ' ' || (sep == '-' && chorus_tn_char_at(w, r) == '-' && r == e)) r++;
    unsigned y = r > e ? year_at(w, r) : 0;
    if (y) *end = r + 4;
    return y;
}

/* March 5, 2024; jan 15 2020; Jan-15-2020; Sept. 3rd; August 2019 */
size_t chorus_tn_rule_month_date(struct nw *w, size_t i) {
    size_t ml = 0, e;
    int m = chorus_tn_month_at(w, i, &ml);
    int sep = chorus_tn_char_at(w, i + ml);
    if (!m || (sep != ' ' && sep != '-')) return 0;
    /* "march" and "may" in lower case are verbs unless a year or an ordinal says otherwise */
    int verb = (m == 3 || m == 5) && !chorus_tn_is_upper_at(w, i);
    struct sb b = SB_INIT;
    unsigned d = day_at(w, i + ml + 1, &e), y;
    if (d) {
        y = year_after(w, e, sep, &e);
        if (verb && !y && !chorus_tn_is_alpha_at(w, i + ml + 1 + chorus_tn_digits_at(w, i + ml + 1))) return 0;
        chorus_tn_sb_date(&b, y, (unsigned)m, d, y != 0);
    } else if (sep == ' ' && (y = year_at(w, i + ml + 1)) != 0) {
        e = i + ml + 5;
        chorus_tn_sb_date(&b, y, (unsigned)m, 0, 1);
    } else {
        return 0;
    }
    chorus_tn_put_sb(w, &b, i);
    return e - i;
}

/* the day first: "the eighth of February twenty ten" ("the" unless the text says it) */
static void sb_day_of_month(struct sb *b, const struct nw *w, size_t i, unsigned d, unsigned m,
                            unsigned y) {
    if (!(w->prevlen == 3 && w->prev + 4 == i && chorus_tn_ci_word(w, w->prev, 3, "the")))
        chorus_tn_sb_word(b, "the");
    chorus_tn_sb_ordinal_u(b, d);
    chorus_tn_sb_word(b, "of");
    chorus_tn_sb_word(b, chorus_months[m - 1]);
    if (y) chorus_tn_sb_year(b, y);
}

/* 8 February 2010 -> the eighth of February twenty ten; 25th jul 2012; 15 january */
size_t chorus_tn_rule_day_month(struct nw *w, size_t i) {
    size_t e, ml;
    unsigned d = day_at(w, i, &e);
    if (!d || chorus_tn_char_at(w, e) != ' ') return 0;
    int m = chorus_tn_month_at(w, e + 1, &ml);
    if (!m) return 0;
    e += 1 + ml;
    size_t end = e;
    unsigned y = chorus_tn_char_at(w, e) == ' ' ? year_at(w, e + 1) : 0;
    if (y) end = e + 5;
    struct sb b = SB_INIT;
    sb_day_of_month(&b, w, i, d, (unsigned)m, y);
    chorus_tn_put_sb(w, &b, i);
    return end - i;
}

/* 2024-03-05, 03/05/2024, 3/5/24 (US order unless the first part is over 12), 05.03.2024
 * (day.month.year) */
size_t chorus_tn_rule_date(struct nw *w, size_t i) {
    size_t a = chorus_tn_digits_at(w, i);
    int sep = chorus_tn_char_at(w, i + a);
    if (a == 0 || a > 4 || (sep != '-' && sep != '/' && sep != '.')) return 0;
    size_t bpos = i + a + 1, bl = chorus_tn_digits_at(w, bpos);
    if (bl == 0 || bl > 2 || chorus_tn_char_at(w, bpos + bl) != sep) return 0;
    size_t cpos = bpos + bl + 1, cl = chorus_tn_digits_at(w, cpos);
    if (cl == 0 || cl > 4 || !chorus_tn_word_ends(w, cpos + cl) || chorus_tn_char_at(w, cpos + cl) == sep) return 0;
    if (sep == '.' && chorus_tn_is_digit_at(w, cpos + cl + 1)) return 0;
    unsigned x = chorus_tn_uint_at(w, i), y2 = chorus_tn_uint_at(w, bpos), z = chorus_tn_uint_at(w, cpos);
    unsigned yy, mm, dd;
    int day_first = 0;
    if (a == 4 && cl <= 2) {
        yy = x, mm = y2, dd = z; /* ISO */
    } else if (a <= 2 && (cl == 4 || cl == 2) && sep != '.') {
        yy = cl == 2 ? (z < 50 ? 2000 + z : 1900 + z) : z;
        if (x > 12) mm = y2, dd = x, day_first = 1;
        else mm = x, dd = y2;
    } else if (a <= 2 && cl == 4 && sep == '.') {
        yy = z, dd = x, mm = y2, day_first = 1;
    } else {
        return 0;
    }
    if (mm < 1 || mm > 12 || dd < 1 || dd > 31) return 0;
    struct sb b = SB_INIT;
    if (day_first) sb_day_of_month(&b, w, i, dd, mm, yy); /* 25/12/2023: British order */
    else chorus_tn_sb_date(&b, yy, mm, dd, 1);
    chorus_tn_put_sb(w, &b, i);
    return cpos + cl - i;
}
