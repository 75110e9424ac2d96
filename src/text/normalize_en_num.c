/*
 * normalize_en_num.c — English numbers in context: amounts of money, times, fractions, and a
 * number's suffixes (ordinals, decades, percent, am/pm, scales, units, ranges, versions).
 * Dates are normalize_en_date.c. Each rule_* looks at position i and returns the input bytes it
 * consumed after writing their spoken form, or 0 to pass.
 */
#include "text/normalize_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* ---- units -------------------------------------------------------------------------------- */

struct unit {
    const char *sym, *one, *many;
};
static const struct unit units[] = {
    {"km", "kilometer", "kilometers"},   {"cm", "centimeter", "centimeters"},
    {"mm", "millimeter", "millimeters"}, {"m", "meter", "meters"},
    {"mi", "mile", "miles"},             {"ft", "foot", "feet"},
    {"in", "inch", "inches"},            {"yd", "yard", "yards"},
    {"kg", "kilogram", "kilograms"},     {"mg", "milligram", "milligrams"},
    {"g", "gram", "grams"},              {"lb", "pound", "pounds"},
    {"lbs", "pounds", "pounds"},         {"oz", "ounce", "ounces"},
    {"t", "tonne", "tonnes"},            {"ms", "millisecond", "milliseconds"},
    {"s", "second", "seconds"},          {"sec", "second", "seconds"},
    {"min", "minute", "minutes"},        {"h", "hour", "hours"},
    {"hr", "hour", "hours"},             {"hrs", "hours", "hours"},
    {"ml", "milliliter", "milliliters"}, {"mL", "milliliter", "milliliters"},
    {"l", "liter", "liters"},            {"L", "liter", "liters"},
    {"cc", "c c", "c c"},                {"mph", "mile per hour", "miles per hour"},
    {"km/h", "kilometer per hour", "kilometers per hour"},
    {"kph", "kilometer per hour", "kilometers per hour"},
    {"m/s", "meter per second", "meters per second"},
    {"\xC2\xB0" "C", "degree Celsius", "degrees Celsius"},
    {"\xC2\xB0" "F", "degree Fahrenheit", "degrees Fahrenheit"},
    {"km\xC2\xB2", "square kilometer", "square kilometers"},
    {"m\xC2\xB2", "square meter", "square meters"},
    {"km\xC2\xB3", "cubic kilometer", "cubic kilometers"},
    {"m\xC2\xB3", "cubic meter", "cubic meters"},
    {"K", "kelvin", "kelvins"},          {"Pa", "pascal", "pascals"},
    {"kPa", "kilopascal", "kilopascals"}, {"hPa", "hectopascal", "hectopascals"},
    {"psi", "p s i", "p s i"},           {"bar", "bar", "bars"},
    {"atm", "atmosphere", "atmospheres"}, {"Hz", "hertz", "hertz"},
    {"kHz", "kilohertz", "kilohertz"},   {"MHz", "megahertz", "megahertz"},
    {"GHz", "gigahertz", "gigahertz"},   {"V", "volt", "volts"},
    {"mV", "millivolt", "millivolts"},   {"kV", "kilovolt", "kilovolts"},
    {"A", "amp", "amps"},                {"mA", "milliamp", "milliamps"},
    {"W", "watt", "watts"},              {"kW", "kilowatt", "kilowatts"},
    {"MW", "megawatt", "megawatts"},     {"kWh", "kilowatt hour", "kilowatt hours"},
    {"J", "joule", "joules"},            {"kJ", "kilojoule", "kilojoules"},
    {"cal", "calorie", "calories"},      {"kcal", "kilocalorie", "kilocalories"},
    {"\xCE\xA9", "ohm", "ohms"},         {"ohm", "ohm", "ohms"},
    {"F", "farad", "farads"},            {"\xC2\xB5" "F", "microfarad", "microfarads"},
    {"nF", "nanofarad", "nanofarads"},   {"pF", "picofarad", "picofarads"},
    {"B", "byte", "bytes"},              {"KB", "kilobyte", "kilobytes"},
    {"kB", "kilobyte", "kilobytes"},     {"MB", "megabyte", "megabytes"},
    {"GB", "gigabyte", "gigabytes"},     {"TB", "terabyte", "terabytes"},
    {"PB", "petabyte", "petabytes"},     {"KiB", "kibibyte", "kibibytes"},
    {"MiB", "mebibyte", "mebibytes"},    {"GiB", "gibibyte", "gibibytes"},
    {"Kb", "kilobit", "kilobits"},       {"Mb", "megabit", "megabits"},
    {"Gb", "gigabit", "gigabits"},       {"kbps", "kilobit per second", "kilobits per second"},
    {"Mbps", "megabit per second", "megabits per second"},
    {"Gbps", "gigabit per second", "gigabits per second"},
    {"mbps", "megabit per second", "megabits per second"},
    {"gbps", "gigabit per second", "gigabits per second"},
    {"px", "pixel", "pixels"},           {NULL, NULL, NULL}};

/* A unit symbol at i that ends there (followed by no letter). */
static const struct unit *unit_at(const struct nw *w, size_t i, size_t *len) {
    const struct unit *best = NULL;
    size_t bl = 0;
    for (const struct unit *u = units; u->sym; u++) {
        size_t k = strlen(u->sym);
        if (k > bl && i + k <= w->n && memcmp(w->s + i, u->sym, k) == 0 && chorus_tn_word_ends(w, i + k) &&
            !(chorus_tn_char_at(w, i + k) == '/' && chorus_tn_is_alnum_at(w, i + k + 1))) {
            best = u;
            bl = k;
        }
    }
    *len = bl;
    return best;
}

/* the unit after a number ending at e (units on), *end after it; NULL if none */
static const struct unit *unit_after(const struct nw *w, size_t e, size_t *end) {
    size_t q = e + (chorus_tn_char_at(w, e) == ' '), ul;
    const struct unit *u = w->o->unit ? unit_at(w, q, &ul) : NULL;
    if (!u) return NULL;
    /* one-letter units and ones that are also words ("in", "bar") only when attached:
     * "10in", not "10 in the morning" */
    int wordlike = ul == 1 || !strcmp(u->sym, "in") || !strcmp(u->sym, "bar") ||
                   !strcmp(u->sym, "cal") || !strcmp(u->sym, "t");
    if (q == e + 1 && wordlike) return NULL;
    *end = q + ul;
    return u;
}

/* ---- money -------------------------------------------------------------------------------- */

/* currencies: symbol, singular, plural, cent singular, cent plural */
struct currency {
    const char *sym, *one, *many, *cent, *cents;
};
static const struct currency currencies[] = {
    {"$", "dollar", "dollars", "cent", "cents"},
    {"\xC2\xA3", "pound", "pounds", "penny", "pence"},
    {"\xE2\x82\xAC", "euro", "euros", "cent", "cents"},
    {"\xC2\xA5", "yen", "yen", "sen", "sen"},
    {"\xE2\x82\xB9", "rupee", "rupees", "paisa", "paise"},
    {"\xE2\x82\xA9", "won", "won", "jeon", "jeon"},
    {NULL, NULL, NULL, NULL, NULL}};

static const struct currency *currency_at(const struct nw *w, size_t p, size_t *len) {
    for (const struct currency *q = currencies; q->sym; q++) {
        size_t l = strlen(q->sym);
        if (p + l <= w->n && memcmp(w->s + p, q->sym, l) == 0) {
            *len = l;
            return q;
        }
    }
    return NULL;
}

static const char *const scale_words[] = {"thousand", "million", "billion", "trillion", NULL};

/* a scale after a number ("1.2 million", "5bn", "3k"): its length, 0 if none. `money` also
 * takes the capital letters (K, M, B, T) that amounts use */
static size_t scale_at(const struct nw *w, size_t i, int money, const char **word) {
    size_t p = i;
    if (chorus_tn_char_at(w, p) == ' ') p++;
    for (const char *const *s = scale_words; *s; s++) {
        if (chorus_tn_ci_prefix(w, p, *s) && chorus_tn_word_ends(w, p + strlen(*s))) {
            *word = *s;
            return p + strlen(*s) - i;
        }
    }
    static const struct {
        const char *suf, *word;
        int money_only;
    } sufs[] = {{"k", "thousand", 0}, {"K", "thousand", 1}, {"m", "million", 1},
                {"M", "million", 1},  {"bn", "billion", 0}, {"B", "billion", 1},
                {"tn", "trillion", 0}, {"T", "trillion", 1}};
    for (size_t k = 0; k < sizeof sufs / sizeof sufs[0]; k++) {
        size_t l = strlen(sufs[k].suf);
        if ((money || !sufs[k].money_only) && i + l <= w->n &&
            memcmp(w->s + i, sufs[k].suf, l) == 0 && chorus_tn_word_ends(w, i + l)) {
            *word = sufs[k].word;
            return l;
        }
    }
    return 0;
}

/* the spoken amount: "twelve dollars and fifty cents", "one point two million euros" */
static void sb_money(struct sb *b, const struct num *x0, const struct currency *c,
                     const char *scale) {
    struct num trimmed = *x0, *x = &trimmed;
    while (x->nf > 2 && x->f[x->nf - 1] == '0') x->nf--; /* $20.500 is $20.50 */
    if (scale || x->nf > 2) {
        chorus_tn_sb_num(b, x); /* $1.2 million, $1.005: a decimal */
        if (scale) chorus_tn_sb_word(b, scale);
        chorus_tn_sb_word(b, c->many);
        return;
    }
    int whole_zero = x->nd == 0 || (x->nd == 1 && x->d[0] == '0');
    unsigned cents = 0;
    if (x->nf == 2) cents = (unsigned)((x->f[0] - '0') * 10 + (x->f[1] - '0'));
    else if (x->nf == 1) cents = (unsigned)((x->f[0] - '0') * 10);
    if (!whole_zero || cents == 0) {
        if (x->nd) chorus_tn_sb_cardinal(b, x->d, x->nd);
        else chorus_tn_sb_word(b, "zero");
        chorus_tn_sb_word(b, (x->nd == 1 && x->d[0] == '1') ? c->one : c->many);
    }
    if (cents) {
        if (!whole_zero) chorus_tn_sb_word(b, "and");
        chorus_tn_sb_cardinal_u(b, cents);
        chorus_tn_sb_word(b, cents == 1 ? c->cent : c->cents);
    }
}

/* "/mo", "/yr", "/hr" after an amount: " per month"... */
static size_t per_period(const struct nw *w, size_t i, struct sb *b) {
    static const struct {
        const char *abbr, *word;
    } t[] = {{"mo", "month"}, {"month", "month"}, {"yr", "year"}, {"year", "year"},
             {"wk", "week"},  {"week", "week"},   {"d", "day"},   {"day", "day"},
             {"hr", "hour"},  {"h", "hour"},      {"hour", "hour"}, {"min", "minute"}};
    if (chorus_tn_char_at(w, i) != '/') return 0;
    size_t k = chorus_tn_alphas_at(w, i + 1);
    for (size_t j = 0; j < sizeof t / sizeof t[0]; j++) {
        if (chorus_tn_ci_word(w, i + 1, k, t[j].abbr) && chorus_tn_word_ends(w, i + 1 + k)) {
            chorus_tn_sb_word(b, "per");
            chorus_tn_sb_word(b, t[j].word);
            return k + 1;
        }
    }
    return 0;
}

size_t chorus_tn_rule_money(struct nw *w, size_t i) {
    size_t p = i, cl;
    int neg = chorus_tn_char_at(w, p) == '-';
    p += (size_t)neg;
    const struct currency *c = currency_at(w, p, &cl);
    if (!c) return 0;
    p += cl;
    struct num x;
    if (!chorus_tn_parse_num(w, p, &x)) return 0;
    p += x.len;
    const char *scale = NULL;
    size_t sl = scale_at(w, p, 1, &scale);
    if (!scale && chorus_tn_is_alnum_at(w, p) && !(chorus_tn_char_at(w, p) >= 0x80)) return 0;
    p += sl;
    struct sb b = SB_INIT;
    if (neg) chorus_tn_sb_word(&b, "minus");
    sb_money(&b, &x, c, scale);
    size_t per = per_period(w, p, &b);
    p += per;
    chorus_tn_put_sb(w, &b, i);
    if (!per) w->rangeable = p;
    return p - i;
}

/* ---- times -------------------------------------------------------------------------------- */

/* am/pm after a time: "pm", "PM", "p.m.", "a.m" (with an optional space before). */
size_t chorus_tn_ampm_at(const struct nw *w, size_t i, int *pm) {
    size_t p = i;
    if (chorus_tn_char_at(w, p) == ' ') p++;
    int c = tolower(chorus_tn_char_at(w, p));
    if (c != 'a' && c != 'p') return 0;
    *pm = c == 'p';
    if (tolower(chorus_tn_char_at(w, p + 1)) == 'm' && chorus_tn_word_ends(w, p + 2)) return p + 2 - i;
    if (chorus_tn_char_at(w, p + 1) == '.' && tolower(chorus_tn_char_at(w, p + 2)) == 'm') {
        if (chorus_tn_char_at(w, p + 3) == '.') return p + 4 - i;
        if (chorus_tn_word_ends(w, p + 3)) return p + 3 - i;
    }
    return 0;
}

static void sb_unit_count(struct sb *b, unsigned v, const char *unit) {
    chorus_tn_sb_cardinal_u(b, v);
    chorus_tn_sb_word(b, unit);
    if (v != 1) chorus_tn_sb_add(b, "s");
}

/* 3:30 pm, 15:45, 1:02:03 (h:mm:ss, a duration), 1.59 p.m. */
size_t chorus_tn_rule_time(struct nw *w, size_t i) {
    size_t h = chorus_tn_digits_at(w, i);
    int sep = chorus_tn_char_at(w, i + h);
    if (h < 1 || h > 2 || (sep != ':' && sep != '.') || chorus_tn_digits_at(w, i + h + 1) != 2) return 0;
    unsigned hh = chorus_tn_uint_at(w, i), mm = chorus_tn_uint_at(w, i + h + 1), ss = 0;
    size_t p = i + h + 3;
    int has_s = 0, pm = 0;
    if (sep == ':' && chorus_tn_char_at(w, p) == ':' && chorus_tn_digits_at(w, p + 1) == 2) {
        ss = chorus_tn_uint_at(w, p + 1);
        has_s = 1;
        p += 3;
    }
    if (hh > 23 || mm > 59 || ss > 59 || chorus_tn_is_digit_at(w, p)) return 0;
    size_t ap = chorus_tn_ampm_at(w, p, &pm);
    if (ap && (hh == 0 || hh > 12)) ap = 0;
    if (sep == '.' && !ap) return 0; /* 1.59 is a decimal unless am/pm follows */
    if (chorus_tn_is_alnum_at(w, p) && !ap) return 0;
    struct sb b = SB_INIT;
    if (has_s) {
        sb_unit_count(&b, hh, "hour");
        sb_unit_count(&b, mm, "minute");
        chorus_tn_sb_word(&b, "and");
        sb_unit_count(&b, ss, "second");
    } else {
        chorus_tn_sb_cardinal_u(&b, hh);
        if (mm == 0) {
            if (!ap) chorus_tn_sb_word(&b, hh >= 13 || hh == 0 ? "hundred" : "o'clock");
        } else if (mm < 10) {
            chorus_tn_sb_word(&b, "oh");
            chorus_tn_sb_word(&b, chorus_ones[mm]);
        } else {
            chorus_tn_sb_below100(&b, mm);
        }
    }
    if (ap) chorus_tn_sb_word(&b, pm ? "PM" : "AM");
    chorus_tn_put_sb(w, &b, i);
    w->rangeable = p + ap;
    return p + ap - i;
}

/* ---- fractions ---------------------------------------------------------------------------- */

/* "a/b" at i with a < b (31/32, 3/4), up to three digits each; 0 if not one */
static size_t fraction_at(const struct nw *w, size_t i, unsigned *num, unsigned *den) {
    size_t a = chorus_tn_digits_at(w, i);
    if (a < 1 || a > 3 || chorus_tn_char_at(w, i + a) != '/' || (i > 0 && w->s[i - 1] == '/')) return 0;
    size_t b = chorus_tn_digits_at(w, i + a + 1), e = i + a + 1 + b;
    if (chorus_tn_ci_prefix(w, e, "th") || chorus_tn_ci_prefix(w, e, "rd") || chorus_tn_ci_prefix(w, e, "nd")) e += 2;
    if (b < 1 || b > 3 || chorus_tn_is_alnum_at(w, e) || chorus_tn_char_at(w, e) == '/' ||
        (chorus_tn_char_at(w, e) == '.' && chorus_tn_is_digit_at(w, e + 1)))
        return 0;
    *num = chorus_tn_uint_at(w, i);
    *den = chorus_tn_uint_at(w, i + a + 1);
    /* the denominators measures use: 9/11 and 7/12 are more likely dates or names */
    int usual = *den <= 10 || *den == 16 || *den == 32 || *den == 64 || *den == 100;
    if (*den < 2 || *num == 0 || *num >= *den || !usual) return 0;
    return e - i;
}

static void sb_fraction(struct sb *b, unsigned num, unsigned den, int mixed) {
    if (mixed && num == 1) chorus_tn_sb_word(b, "a");
    else chorus_tn_sb_cardinal_u(b, num);
    struct sb d = SB_INIT;
    if (den == 2) chorus_tn_sb_add(&d, "half");
    else if (den == 4) chorus_tn_sb_add(&d, "quarter");
    else chorus_tn_sb_ordinal_u(&d, den);
    if (num > 1) chorus_tn_sb_pluralize(&d);
    if (d.oom) b->oom = 1;
    else chorus_tn_sb_word(b, d.b);
    chorus_tn_sb_free(&d);
}

/* 1/2 -> one half, 31/32 -> thirty-one thirty-seconds, 2 1/2 -> two and a half */
size_t chorus_tn_rule_fraction(struct nw *w, size_t i) {
    unsigned num, den;
    size_t k = fraction_at(w, i, &num, &den);
    struct sb b = SB_INIT;
    if (k) {
        sb_fraction(&b, num, den, 0);
        chorus_tn_put_sb(w, &b, i);
        return k;
    }
    size_t d = chorus_tn_digits_at(w, i);
    if (d < 1 || d > 6 || chorus_tn_char_at(w, i + d) != ' ') return 0;
    k = fraction_at(w, i + d + 1, &num, &den);
    if (!k) return 0;
    chorus_tn_sb_cardinal(&b, w->s + i, d);
    chorus_tn_sb_word(&b, "and");
    sb_fraction(&b, num, den, 1);
    chorus_tn_put_sb(w, &b, i);
    return d + 1 + k;
}

/* ---- a number and what follows it --------------------------------------------------------- */

struct numctx {
    size_t i, e; /* the token's start, the number's end */
    int neg;     /* 1: minus, 2: plus */
    struct num x;
};

/* a number inside a word (25d08A, C24): no unit or scale after it */
static int in_word(const struct nw *w, const struct numctx *c) {
    return c->i > 0 && isalpha((unsigned char)w->s[c->i - 1]);
}

/* version numbers: 2.0.1 */
static size_t num_version(struct nw *w, const struct numctx *c, struct sb *b) {
    if (c->x.nf || c->x.commas || c->x.nd == 0 || chorus_tn_char_at(w, c->e) != '.' ||
        !chorus_tn_is_digit_at(w, c->e + 1))
        return 0;
    size_t q = c->e;
    chorus_tn_sb_cardinal(b, c->x.d, c->x.nd);
    while (chorus_tn_char_at(w, q) == '.' && chorus_tn_is_digit_at(w, q + 1)) {
        size_t k = chorus_tn_digits_at(w, q + 1);
        chorus_tn_sb_word(b, "point");
        if (k > 3) chorus_tn_sb_digits(b, w->s + q + 1, k);
        else chorus_tn_sb_cardinal(b, w->s + q + 1, k);
        q += 1 + k;
    }
    return q;
}

/* the suffix English gives the number: 1st 2nd 3rd 4th 11th 12th 13th 21st 111th */
static int ordinal_suffix(const struct nw *w, const struct num *x, size_t e) {
    if (!chorus_tn_word_ends(w, e + 2) || !x->nd) return 0;
    int last = x->d[x->nd - 1] - '0', teen = x->nd > 1 && x->d[x->nd - 2] == '1';
    const char *want = teen || last > 3 || last == 0 ? "th" : (const char *[]){"", "st", "nd", "rd"}[last];
    return chorus_tn_ci_prefix(w, e, want);
}

/* ordinals: 1st 2nd 3rd 4th */
static size_t num_ordinal(struct nw *w, const struct numctx *c, struct sb *b) {
    if (c->x.nf || c->x.dot || c->neg || !c->x.nd || !ordinal_suffix(w, &c->x, c->e)) return 0;
    chorus_tn_sb_ordinal(b, c->x.d, c->x.nd);
    return c->e + 2;
}

/* decades: 1990s, 80s */
static size_t num_decade(struct nw *w, const struct numctx *c, struct sb *b) {
    const struct num *x = &c->x;
    if (x->nf || x->dot || c->neg || x->commas || chorus_tn_char_at(w, c->e) != 's' ||
        !chorus_tn_word_ends(w, c->e + 1) || (x->nd != 4 && x->nd != 2) || x->d[x->nd - 1] != '0')
        return 0;
    unsigned v = (unsigned)chorus_tn_num_value(x);
    if (x->nd == 4) chorus_tn_sb_year(b, v); /* the eighteen hundreds, the two thousands */
    else chorus_tn_sb_cardinal_u(b, v);
    chorus_tn_sb_pluralize(b); /* twenties, hundreds, thousands */
    w->rangeable = c->e + 1;
    return c->e + 1;
}

/* the currency after the amount: 100€, 5 £ */
static size_t num_currency_after(struct nw *w, const struct numctx *c, struct sb *b) {
    size_t q = c->e + (chorus_tn_char_at(w, c->e) == ' '), cl;
    const struct currency *cur = currency_at(w, q, &cl);
    if (!cur || chorus_tn_is_alnum_at(w, q + cl)) return 0;
    sb_money(b, &c->x, cur, NULL);
    w->rangeable = q + cl;
    return q + cl;
}

static size_t num_percent(struct nw *w, const struct numctx *c, struct sb *b) {
    if (chorus_tn_char_at(w, c->e) != '%') return 0;
    chorus_tn_sb_num(b, &c->x);
    chorus_tn_sb_word(b, "percent");
    return c->e + 1;
}

/* 3pm, 11 a.m. */
static size_t num_ampm(struct nw *w, const struct numctx *c, struct sb *b) {
    int pm;
    if (c->x.nf || c->x.dot || c->neg || c->x.nd > 2) return 0;
    size_t ap = chorus_tn_ampm_at(w, c->e, &pm);
    unsigned v = (unsigned)chorus_tn_num_value(&c->x);
    if (!ap || v < 1 || v > 12) return 0;
    chorus_tn_sb_cardinal_u(b, v);
    chorus_tn_sb_word(b, pm ? "PM" : "AM");
    w->rangeable = c->e + ap;
    return c->e + ap;
}

/* 1.6k, 5bn, 2 million */
static size_t num_scale(struct nw *w, const struct numctx *c, struct sb *b) {
    const char *word = NULL;
    size_t sl = in_word(w, c) ? 0 : scale_at(w, c->e, 0, &word);
    if (!sl) return 0;
    chorus_tn_sb_num(b, &c->x);
    chorus_tn_sb_word(b, word);
    size_t end = c->e + sl, uend;
    const struct unit *u = unit_after(w, end, &uend); /* 100 million kg */
    if (!u) return end;
    chorus_tn_sb_word(b, u->many);
    return uend;
}

static size_t num_unit(struct nw *w, const struct numctx *c, struct sb *b) {
    size_t end;
    const struct unit *u = in_word(w, c) ? NULL : unit_after(w, c->e, &end);
    if (!u) return 0;
    int one = c->x.nd == 1 && c->x.d[0] == '1' && !c->x.nf;
    chorus_tn_sb_num(b, &c->x);
    chorus_tn_sb_word(b, one ? u->one : u->many);
    return end;
}

/* 4x4 -> four by four (the second number is read on its own) */
static size_t num_by(struct nw *w, const struct numctx *c, struct sb *b) {
    if (chorus_tn_char_at(w, c->e) != 'x' || !chorus_tn_is_digit_at(w, c->e + 1)) return 0;
    chorus_tn_sb_num(b, &c->x);
    chorus_tn_sb_word(b, "by");
    return c->e + 1;
}

/* ranges: 10-20, 1990–1995, 10-15% */
static size_t num_range(struct nw *w, const struct numctx *c, struct sb *b) {
    size_t e = c->e, dash = 0;
    if (chorus_tn_char_at(w, e) == '-') dash = 1;
    else if (e + 3 <= w->n && memcmp(w->s + e, "\xE2\x80\x93", 3) == 0) dash = 3;
    if (!dash || c->neg || !chorus_tn_is_digit_at(w, e + dash)) return 0;
    struct num y;
    if (!chorus_tn_parse_num(w, e + dash, &y)) return 0;
    size_t f = e + dash + y.len, i = c->i;
    /* 1-1-1, 1-800-GO-U-HAUL, b-c-1-5: a code, not a range */
    int chain = (chorus_tn_char_at(w, f) == '-' && chorus_tn_is_alnum_at(w, f + 1)) ||
                (chorus_tn_char_at(w, f) == '.' && chorus_tn_is_digit_at(w, f + 1)) ||
                (i >= 2 && w->s[i - 1] == '-' && chorus_tn_is_alnum_at(w, i - 2));
    if (chorus_tn_is_alnum_at(w, f) || chain) return 0;
    unsigned a = (unsigned)chorus_tn_num_value(&c->x), z = (unsigned)chorus_tn_num_value(&y);
    const struct num *x = &c->x;
    int years = x->nd == 4 && !x->commas && !x->nf && a >= 1100 && a <= 2099 &&
                ((y.nd == 4 && z >= 1100 && z <= 2099) || y.nd == 2);
    if (years) {
        chorus_tn_sb_year(b, a);
        chorus_tn_sb_word(b, "to");
        chorus_tn_sb_year(b, y.nd == 2 ? a / 100 * 100 + z : z);
    } else {
        chorus_tn_sb_num(b, x);
        chorus_tn_sb_word(b, "to");
        chorus_tn_sb_num(b, &y);
    }
    return f;
}

/* a number on its own: a year (1100..2099), digits (leading zero, 16+ digits), a cardinal */
static size_t num_plain(struct nw *w, const struct numctx *c, struct sb *b) {
    const struct num *x = &c->x;
    unsigned v = (unsigned)chorus_tn_num_value(x);
    if (!c->neg && !x->nf && !x->dot && !x->commas && x->nd == 4 && v >= 1100 && v <= 2099) {
        chorus_tn_sb_year(b, v);
    } else if (!x->commas && !x->dot &&
               (x->nd > 15 || (x->nd > 1 && x->d[0] == '0') || (x->nd >= 4 && in_word(w, c)))) {
        chorus_tn_sb_digits(b, x->d, x->nd); /* 004, an account or card number */
    } else {
        chorus_tn_sb_num(b, x);
    }
    /* digits inside a word (2Q22, C24's tail, 12kg without units): the number alone, the word
     * copy reads the rest */
    return c->e;
}

size_t chorus_tn_rule_number(struct nw *w, size_t i) {
    struct numctx c = {i, 0, 0, {{0}, 0, {0}, 0, 0, 0, 0}};
    size_t p = i;
    if ((chorus_tn_char_at(w, p) == '-' || chorus_tn_char_at(w, p) == '+') &&
        (chorus_tn_is_digit_at(w, p + 1) || (chorus_tn_char_at(w, p + 1) == '.' && chorus_tn_is_digit_at(w, p + 2)))) {
        c.neg = w->s[p] == '-' ? 1 : 2;
        p++;
    } else if (p + 3 < w->n && memcmp(w->s + p, "\xE2\x88\x92", 3) == 0 &&
               chorus_tn_is_digit_at(w, p + 3)) {
        c.neg = 1; /* U+2212 MINUS SIGN */
        p += 3;
    }
    if (chorus_tn_char_at(w, p) == '\'' && chorus_tn_digits_at(w, p + 1) == 2 && chorus_tn_char_at(w, p + 3) == 's')
        p++; /* '80s */
    if (!chorus_tn_parse_num(w, p, &c.x)) return 0;
    c.e = p + c.x.len;
    static size_t (*const tails[])(struct nw *, const struct numctx *, struct sb *) = {
        num_version, num_ordinal, num_decade, num_currency_after, num_percent, num_ampm,
        num_unit,    num_scale,   num_by,     num_range,          num_plain};
    for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
        struct sb b = SB_INIT;
        if (c.neg == 1) chorus_tn_sb_word(&b, "minus");
        if (c.neg == 2) chorus_tn_sb_word(&b, "plus");
        size_t end = tails[k](w, &c, &b);
        if (end) {
            chorus_tn_put_sb(w, &b, i);
            return end - i;
        }
        chorus_tn_sb_free(&b);
    }
    return 0;
}
