/*
 * normalize.c — text normalization for speech, with an offset map.
 */
#include "core/util.h"
#include "text/text.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void chorus_norm_options_default(struct chorus_norm_options *o) {
    o->normalize = 1;
    o->unit = 0;
    o->url = 1;
    o->email = 1;
    o->pluralization = 1;
    o->phone = 1;
    o->symbols = 1;
}

int chorus_norm_options_parse(struct chorus_norm_options *o, const char *spec, char *err,
                              size_t errlen) {
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"normalize", offsetof(struct chorus_norm_options, normalize)},
        {"unit_normalization", offsetof(struct chorus_norm_options, unit)},
        {"url_normalization", offsetof(struct chorus_norm_options, url)},
        {"email_normalization", offsetof(struct chorus_norm_options, email)},
        {"optional_pluralization_normalization",
         offsetof(struct chorus_norm_options, pluralization)},
        {"phone_normalization", offsetof(struct chorus_norm_options, phone)},
        {"replace_remaining_symbols", offsetof(struct chorus_norm_options, symbols)},
    };
    static const struct {
        const char *alias, *name;
    } aliases[] = {{"pluralization", "optional_pluralization_normalization"},
                   {"symbols", "replace_remaining_symbols"},
                   {"units", "unit_normalization"},
                   {"urls", "url_normalization"},
                   {"emails", "email_normalization"},
                   {"phones", "phone_normalization"}};
    const size_t nkeys = sizeof keys / sizeof keys[0];
    if (!spec) return 0;
    const char *p = spec;
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        if (!*p) break;
        const char *k = p;
        while (*p && *p != '=' && *p != ',') p++;
        size_t kn = (size_t)(p - k);
        while (kn > 0 && k[kn - 1] == ' ') kn--;
        if (*p != '=') {
            snprintf(err, errlen, "normalize option \"%.*s\" has no value (use %.*s=true or =false)",
                     (int)(kn > 64 ? 64 : kn), k, (int)(kn > 64 ? 64 : kn), k);
            chorus_utf8_sanitize(err);
            return -1;
        }
        p++;
        while (*p == ' ') p++;
        const char *v = p;
        while (*p && *p != ',') p++;
        size_t vn = (size_t)(p - v);
        while (vn > 0 && v[vn - 1] == ' ') vn--;
        int *slot = NULL;
        for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
            if (strlen(aliases[i].alias) == kn && strncasecmp(aliases[i].alias, k, kn) == 0) {
                k = aliases[i].name;
                kn = strlen(k);
            }
        }
        for (size_t i = 0; i < nkeys && !slot; i++) {
            size_t full = strlen(keys[i].name);
            const char *suf = strstr(keys[i].name, "_normalization");
            size_t shortn = suf ? (size_t)(suf - keys[i].name) : full;
            if ((kn == full || kn == shortn) && strncasecmp(keys[i].name, k, kn) == 0)
                slot = (int *)((char *)o + keys[i].off);
        }
        if (!slot) {
            snprintf(err, errlen,
                     "unknown normalize option \"%.*s\" (known: normalize, unit_normalization, "
                     "url_normalization, email_normalization, "
                     "optional_pluralization_normalization, phone_normalization, "
                     "replace_remaining_symbols)",
                     (int)(kn > 64 ? 64 : kn), k);
            chorus_utf8_sanitize(err);
            return -1;
        }
        if (chorus_parse_bool_n(v, vn, slot) < 0) {
            snprintf(err, errlen, "normalize option \"%.*s\" has value \"%.*s\"; use true or false",
                     (int)(kn > 64 ? 64 : kn), k, (int)(vn > 32 ? 32 : vn), v);
            chorus_utf8_sanitize(err);
            return -1;
        }
    }
    return 0;
}

/* ---- a small string builder for spoken words -------------------------------------------- */

struct sb {
    char b[1024];
    size_t n;
};

static void sb_add(struct sb *b, const char *s) {
    size_t k = strlen(s);
    if (b->n + k + 1 >= sizeof b->b) return; /* bounded: callers keep words short */
    memcpy(b->b + b->n, s, k);
    b->n += k;
    b->b[b->n] = '\0';
}

/* add a word, with a space before unless at the start or after a hyphen */
static void sb_word(struct sb *b, const char *s) {
    if (b->n && b->b[b->n - 1] != ' ' && b->b[b->n - 1] != '-') sb_add(b, " ");
    sb_add(b, s);
}

/* ---- English numbers --------------------------------------------------------------------- */

static const char *const ones[] = {"zero",    "one",     "two",       "three",    "four",
                                   "five",    "six",     "seven",     "eight",    "nine",
                                   "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                   "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const tens[] = {"", "", "twenty", "thirty", "forty",
                                   "fifty", "sixty", "seventy", "eighty", "ninety"};
static const char *const scales[] = {"",            "thousand",   "million",    "billion",
                                     "trillion",    "quadrillion", "quintillion", "sextillion",
                                     "septillion",  "octillion",  "nonillion",  "decillion"};
#define MAX_CARDINAL_DIGITS 36

static void sb_below100(struct sb *b, unsigned v) {
    if (v < 20) {
        sb_word(b, ones[v]);
    } else {
        sb_word(b, tens[v / 10]);
        if (v % 10) {
            sb_add(b, "-");
            sb_add(b, ones[v % 10]);
        }
    }
}

static void sb_below1000(struct sb *b, unsigned v) {
    if (v >= 100) {
        sb_word(b, ones[v / 100]);
        sb_word(b, "hundred");
        v %= 100;
        if (!v) return;
    }
    sb_below100(b, v);
}

static void sb_digit(struct sb *b, char c) { sb_word(b, ones[c - '0']); }

/* Cardinal of a digit string (no separators). Over 36 digits: digit by digit. */
static void sb_cardinal(struct sb *b, const char *d, size_t n) {
    while (n > 1 && *d == '0') d++, n--;
    if (n > MAX_CARDINAL_DIGITS) {
        for (size_t i = 0; i < n; i++) sb_digit(b, d[i]);
        return;
    }
    if (n == 1 && *d == '0') {
        sb_word(b, "zero");
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
            if (groups - 1 - g) sb_word(b, scales[groups - 1 - g]);
        }
    }
}

static void sb_cardinal_u(struct sb *b, unsigned long v) {
    char d[32];
    int k = snprintf(d, sizeof d, "%lu", v);
    sb_cardinal(b, d, (size_t)k);
}

/* Turn the last word of b into its ordinal ("twenty-one" -> "twenty-first"). */
static void sb_ordinalize(struct sb *b) {
    static const struct {
        const char *c, *o;
    } irregular[] = {{"one", "first"},  {"two", "second"}, {"three", "third"},
                     {"five", "fifth"}, {"eight", "eighth"}, {"nine", "ninth"},
                     {"twelve", "twelfth"}};
    size_t w = b->n;
    while (w > 0 && b->b[w - 1] != ' ' && b->b[w - 1] != '-') w--;
    const char *last = b->b + w;
    for (size_t i = 0; i < sizeof irregular / sizeof irregular[0]; i++) {
        if (strcmp(last, irregular[i].c) == 0) {
            b->n = w;
            b->b[w] = '\0';
            sb_add(b, irregular[i].o);
            return;
        }
    }
    if (b->n > w && b->b[b->n - 1] == 'y') {
        b->n--;
        b->b[b->n] = '\0';
        sb_add(b, "ieth");
    } else {
        sb_add(b, "th");
    }
}

static void sb_ordinal(struct sb *b, const char *d, size_t n) {
    sb_cardinal(b, d, n);
    sb_ordinalize(b);
}

/* A year: 1984 -> nineteen eighty-four, 2005 -> two thousand five, 1900 -> nineteen hundred */
static void sb_year(struct sb *b, unsigned y) {
    if (y < 1000 || y > 9999 || (y >= 2000 && y <= 2009) || y % 1000 == 0) {
        sb_cardinal_u(b, y);
        return;
    }
    sb_below100(b, y / 100);
    unsigned r = y % 100;
    if (r == 0) {
        sb_word(b, "hundred");
    } else if (r < 10) {
        sb_word(b, "oh");
        sb_word(b, ones[r]);
    } else {
        sb_below100(b, r);
    }
}

static const char *const months[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};

/* ---- the output writer ------------------------------------------------------------------- */

struct nw {
    struct chorus_textbuf *out;
    const struct chorus_norm_options *o;
    const char *s; /* the input */
    size_t n;
    size_t base;
    int sep; /* the last output was spoken words: keep the next word apart */
    int oom;
};

static int out_last(const struct nw *w) {
    return w->out->len ? (unsigned char)w->out->text[w->out->len - 1] : ' ';
}

/* Append a space unless the output is empty or already ends in one. */
static void put_space(struct nw *w, size_t src) {
    struct chorus_textbuf *b = w->out;
    if (b->len == 0 || b->text[b->len - 1] == ' ') return;
    if (chorus_textbuf_put(b, " ", 1, src) < 0) w->oom = 1;
}

static void put_copy(struct nw *w, size_t i, size_t n) {
    if (w->sep && n && isalnum((unsigned char)w->s[i])) put_space(w, w->base + i);
    w->sep = 0;
    if (chorus_textbuf_copy(w->out, w->s + i, n, w->base + i) < 0) w->oom = 1;
}

/* Spoken words for the input span starting at i: all mapped to its start. */
static void put_words(struct nw *w, const char *words, size_t i) {
    if (!*words) return;
    int c = out_last(w);
    if (c != ' ' && c != '(' && c != '"' && c != '\'' && c != '[') put_space(w, w->base + i);
    if (chorus_textbuf_put(w->out, words, strlen(words), w->base + i) < 0) w->oom = 1;
    w->sep = 1;
}

static void put_sb(struct nw *w, const struct sb *b, size_t i) { put_words(w, b->b, i); }

/* ---- scanning helpers -------------------------------------------------------------------- */

static int is_digit_at(const struct nw *w, size_t i) {
    return i < w->n && isdigit((unsigned char)w->s[i]);
}
static int is_alnum_at(const struct nw *w, size_t i) {
    return i < w->n && (isalnum((unsigned char)w->s[i]) || (unsigned char)w->s[i] >= 0x80);
}
static size_t digits_at(const struct nw *w, size_t i) {
    size_t k = 0;
    while (is_digit_at(w, i + k)) k++;
    return k;
}
/* the value of the digits at i (bounded: the input is not NUL-terminated) */
static unsigned uint_at(const struct nw *w, size_t i) {
    unsigned v = 0;
    for (size_t k = 0; k < 9 && is_digit_at(w, i + k); k++) v = v * 10 + (unsigned)(w->s[i + k] - '0');
    return v;
}

/* 1 if nothing word-like follows position i (end, space or punctuation) */
static int word_ends(const struct nw *w, size_t i) { return !is_alnum_at(w, i); }

static int ci_prefix(const struct nw *w, size_t i, const char *word) {
    size_t k = strlen(word);
    return i + k <= w->n && strncasecmp(w->s + i, word, k) == 0;
}

/* a parsed number: integer digits (commas removed), fraction digits */
struct num {
    char d[64];
    size_t nd;
    char f[64];
    size_t nf;
    size_t len; /* input bytes */
    int commas;
};

/* Parse an unsigned number at i: 1234, 1,234,567, 3.14, .5 */
static int parse_num(const struct nw *w, size_t i, struct num *x) {
    memset(x, 0, sizeof *x);
    size_t p = i, k = digits_at(w, p);
    if (k == 0) return 0;
    if (k > 60) return 0;
    memcpy(x->d, w->s + p, k);
    x->nd = k;
    p += k;
    /* thousands separators: groups of exactly three digits */
    if (k <= 3) {
        while (p + 3 < w->n + 1 && w->s[p] == ',' && digits_at(w, p + 1) == 3 &&
               x->nd + 3 < sizeof x->d - 1) {
            memcpy(x->d + x->nd, w->s + p + 1, 3);
            x->nd += 3;
            p += 4;
            x->commas = 1;
        }
    }
    if (p + 1 < w->n && w->s[p] == '.' && is_digit_at(w, p + 1)) {
        size_t f = digits_at(w, p + 1);
        /* 2.0.1 is a version, not a decimal: leave it to the caller */
        if (f <= 60 && !(p + 1 + f < w->n && w->s[p + 1 + f] == '.' && is_digit_at(w, p + 2 + f))) {
            memcpy(x->f, w->s + p + 1, f);
            x->nf = f;
            p += 1 + f;
        }
    }
    x->len = p - i;
    return 1;
}

static unsigned long num_value(const struct num *x) {
    if (x->nd > 9) return (unsigned long)-1;
    unsigned long v = 0;
    for (size_t i = 0; i < x->nd; i++) v = v * 10 + (unsigned long)(x->d[i] - '0');
    return v;
}

static void sb_num(struct sb *b, const struct num *x) {
    sb_cardinal(b, x->d, x->nd);
    if (x->nf) {
        sb_word(b, "point");
        for (size_t i = 0; i < x->nf; i++) sb_digit(b, x->f[i]);
    }
}

/* ---- units ------------------------------------------------------------------------------- */

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
    {"mph", "mile per hour", "miles per hour"},
    {"km/h", "kilometer per hour", "kilometers per hour"},
    {"kph", "kilometer per hour", "kilometers per hour"},
    {"m/s", "meter per second", "meters per second"},
    {"\xC2\xB0" "C", "degree Celsius", "degrees Celsius"},
    {"\xC2\xB0" "F", "degree Fahrenheit", "degrees Fahrenheit"},
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
    {"px", "pixel", "pixels"},           {NULL, NULL, NULL}};

/* A unit symbol at i that ends there (followed by no letter). */
static const struct unit *unit_at(const struct nw *w, size_t i, size_t *len) {
    const struct unit *best = NULL;
    size_t bl = 0;
    for (const struct unit *u = units; u->sym; u++) {
        size_t k = strlen(u->sym);
        if (k > bl && i + k <= w->n && memcmp(w->s + i, u->sym, k) == 0 && word_ends(w, i + k) &&
            !(i + k < w->n && w->s[i + k] == '/' && is_alnum_at(w, i + k + 1))) {
            best = u;
            bl = k;
        }
    }
    *len = bl;
    return best;
}

/* ---- rules ------------------------------------------------------------------------------- */

/* Each rule looks at position i (the start of a token) and returns the input bytes it consumed
 * after writing their spoken form, or 0 to pass. */

static size_t rule_email(struct nw *w, size_t i) {
    if (!w->o->email) return 0;
    size_t p = i, at = 0;
    while (p < w->n) {
        char c = w->s[p];
        if (isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '+') {
            p++;
        } else if (c == '@' && !at && p > i) {
            at = p++;
        } else {
            break;
        }
    }
    while (p > i && (w->s[p - 1] == '.' || w->s[p - 1] == '-')) p--; /* sentence period */
    if (!at) return 0;
    /* the domain needs a dot with letters after it */
    const char *dot = memchr(w->s + at, '.', p - at);
    if (!dot || dot == w->s + at + 1 || (size_t)(dot - w->s) + 1 >= p) return 0;
    struct sb b = {{0}, 0};
    for (size_t k = i; k < p; k++) {
        char c = w->s[k];
        char one[2] = {c, 0};
        if (c == '@') sb_word(&b, "at");
        else if (c == '.') sb_word(&b, "dot");
        else if (c == '_') sb_word(&b, "underscore");
        else if (c == '-') sb_word(&b, "dash");
        else if (c == '+') sb_word(&b, "plus");
        else if (k == i || !isalnum((unsigned char)w->s[k - 1])) sb_word(&b, one);
        else sb_add(&b, one);
        if (b.n > sizeof b.b - 32) return 0;
    }
    put_sb(w, &b, i);
    return p - i;
}

static const char *const tlds[] = {"com", "org", "net", "io", "edu", "gov", "co", "uk", "de",
                                   "fr", "info", "dev", "ai", "app", "us", "ca", "eu", "me",
                                   NULL};

static size_t rule_url(struct nw *w, size_t i) {
    if (!w->o->url) return 0;
    size_t p = i;
    int scheme = 0;
    if (ci_prefix(w, i, "https://")) scheme = 8;
    else if (ci_prefix(w, i, "http://")) scheme = 7;
    else if (ci_prefix(w, i, "ftp://")) scheme = 6;
    int www = ci_prefix(w, i + (size_t)scheme, "www.");
    /* the URL runs to the next white space, less trailing punctuation */
    while (p < w->n && !chorus_text_space_len(w->s + p, w->n - p) && w->s[p] != '"' &&
           w->s[p] != '<' && w->s[p] != '>')
        p++;
    while (p > i && strchr(".,;:!?)]'", w->s[p - 1])) p--;
    if (p <= i) return 0;
    if (!scheme && !www) {
        /* a bare domain: letters.tld, optionally with a path */
        size_t host_end = i;
        while (host_end < p && w->s[host_end] != '/') host_end++;
        const char *lastdot = NULL;
        for (size_t k = i; k < host_end; k++) {
            char c = w->s[k];
            if (c == '.') lastdot = w->s + k;
            else if (!isalnum((unsigned char)c) && c != '-') return 0;
        }
        if (!lastdot || lastdot == w->s + i) return 0;
        size_t tl = (size_t)(w->s + host_end - lastdot - 1);
        int known = 0;
        for (const char *const *t = tlds; *t; t++)
            if (strlen(*t) == tl && strncasecmp(*t, lastdot + 1, tl) == 0) known = 1;
        if (!known) return 0;
        /* "e.g" or "U.S" are not domains: need a label of two or more characters first */
        size_t first_label = 0;
        while (i + first_label < host_end && w->s[i + first_label] != '.') first_label++;
        if (first_label < 2) return 0;
    }
    struct sb b = {{0}, 0};
    size_t k = i;
    if (scheme) {
        char sch[8] = {0};
        memcpy(sch, w->s + i, (size_t)scheme - 3);
        for (char *c = sch; *c; c++) *c = (char)tolower((unsigned char)*c);
        /* http(s):// goes unsaid, as people read URLs aloud */
        if (strcmp(sch, "ftp") == 0) sb_word(&b, "f t p colon slash slash");
        k += (size_t)scheme;
    }
    if (ci_prefix(w, k, "www.")) {
        sb_word(&b, "w w w dot");
        k += 4;
    }
    int inword = 0;
    for (; k < p; k++) {
        char c = w->s[k];
        const char *word = NULL;
        switch (c) {
        case '.': word = "dot"; break;
        case '/': word = "slash"; break;
        case ':': word = "colon"; break;
        case '-': word = "dash"; break;
        case '_': word = "underscore"; break;
        case '?': word = "question mark"; break;
        case '=': word = "equals"; break;
        case '&': word = "and"; break;
        case '#': word = "hash"; break;
        case '%': word = "percent"; break;
        case '~': word = "tilde"; break;
        case '+': word = "plus"; break;
        default: break;
        }
        if (word) {
            sb_word(&b, word);
            inword = 0;
        } else if (isdigit((unsigned char)c)) {
            size_t d = 0;
            while (k + d < p && isdigit((unsigned char)w->s[k + d])) d++;
            if (d <= 4) sb_cardinal(&b, w->s + k, d);
            else
                for (size_t q = 0; q < d; q++) sb_digit(&b, w->s[k + q]);
            k += d - 1;
            inword = 0;
        } else {
            char one[2] = {c, 0};
            if (!inword) sb_word(&b, one);
            else sb_add(&b, one);
            inword = 1;
        }
        if (b.n > sizeof b.b - 64) return 0; /* too long to speak as a URL: leave it */
    }
    put_sb(w, &b, i);
    return p - i;
}

/* Phone numbers: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567, 555-1234 */
static size_t rule_phone(struct nw *w, size_t i) {
    if (!w->o->phone) return 0;
    size_t p = i;
    char groups[6][8];
    size_t gl[6], ng = 0;
    int plus = 0, paren = 0, strong_sep = 0;
    if (p < w->n && w->s[p] == '+') {
        plus = 1;
        p++;
    }
    while (ng < 6 && p < w->n) {
        int open = 0;
        if (w->s[p] == '(') {
            open = 1;
            p++;
        }
        size_t k = digits_at(w, p);
        if (k == 0 || k > 4) return 0;
        memcpy(groups[ng], w->s + p, k);
        gl[ng++] = k;
        p += k;
        if (open) {
            if (p >= w->n || w->s[p] != ')') return 0;
            p++;
            paren = 1;
        }
        /* separator, then another group? */
        if (p + 1 < w->n && (w->s[p] == '-' || w->s[p] == '.') &&
            (is_digit_at(w, p + 1) || w->s[p + 1] == '(')) {
            strong_sep = 1;
            p++;
            continue;
        }
        if (p + 1 < w->n && w->s[p] == ' ' && (is_digit_at(w, p + 1) || w->s[p + 1] == '(') &&
            (paren || plus || strong_sep || ng == 1)) {
            /* spaces separate groups only in a number that looks like a phone number */
            size_t q = p + 1 + (w->s[p + 1] == '(');
            size_t k2 = digits_at(w, q);
            if (k2 < 2 || k2 > 4) break;
            p++;
            continue;
        }
        break;
    }
    if (!word_ends(w, p) || (p < w->n && w->s[p] == '.' && is_digit_at(w, p + 1))) return 0;
    size_t total = 0;
    for (size_t g = 0; g < ng; g++) total += gl[g];
    int ok = 0;
    if (ng >= 3 && total >= 10 && total <= 15 && gl[ng - 1] == 4) ok = 1;
    if (plus && ng >= 2 && total >= 8 && total <= 15) ok = 1;
    if (ng == 2 && gl[0] == 3 && gl[1] == 4 && strong_sep && !plus) ok = 1; /* 555-1234 */
    if (!ok) return 0;
    /* a group of spaces that did not belong: trim back to the last group */
    struct sb b = {{0}, 0};
    if (plus) sb_word(&b, "plus");
    for (size_t g = 0; g < ng; g++) {
        for (size_t k = 0; k < gl[g]; k++) sb_digit(&b, groups[g][k]);
        if (g + 1 < ng) sb_add(&b, ",");
    }
    put_sb(w, &b, i);
    return p - i;
}

/* am/pm after a time: "pm", "PM", "p.m.", "a.m" (with an optional space before). */
static size_t ampm_at(const struct nw *w, size_t i, int *pm) {
    size_t p = i;
    if (p < w->n && w->s[p] == ' ') p++;
    if (p >= w->n) return 0;
    char c = (char)tolower((unsigned char)w->s[p]);
    if (c != 'a' && c != 'p') return 0;
    *pm = c == 'p';
    if (p + 1 < w->n && tolower((unsigned char)w->s[p + 1]) == 'm' && word_ends(w, p + 2))
        return p + 2 - i;
    if (p + 3 < w->n && w->s[p + 1] == '.' && tolower((unsigned char)w->s[p + 2]) == 'm' &&
        w->s[p + 3] == '.')
        return p + 4 - i;
    return 0;
}

static size_t rule_time(struct nw *w, size_t i) {
    size_t h = digits_at(w, i);
    if (h < 1 || h > 2 || i + h + 2 >= w->n || w->s[i + h] != ':' || digits_at(w, i + h + 1) != 2)
        return 0;
    unsigned hh = uint_at(w, i), mm = uint_at(w, i + h + 1), ss = 0;
    size_t p = i + h + 3;
    int has_s = 0;
    if (p + 2 < w->n + 0 && w->s[p] == ':' && digits_at(w, p + 1) == 2) {
        ss = uint_at(w, p + 1);
        has_s = 1;
        p += 3;
    }
    if (hh > 23 || mm > 59 || ss > 59 || is_digit_at(w, p)) return 0;
    int pm = 0;
    size_t ap = ampm_at(w, p, &pm);
    if (ap && (hh == 0 || hh > 12)) ap = 0;
    struct sb b = {{0}, 0};
    sb_cardinal_u(&b, hh);
    if (mm == 0 && !has_s) {
        if (!ap) sb_word(&b, hh >= 13 || hh == 0 ? "hundred" : "o'clock");
    } else if (mm < 10) {
        sb_word(&b, "oh");
        sb_word(&b, ones[mm]);
    } else {
        sb_below100(&b, mm);
    }
    if (has_s) {
        sb_word(&b, "and");
        sb_cardinal_u(&b, ss);
        sb_word(&b, ss == 1 ? "second" : "seconds");
    }
    if (ap) sb_word(&b, pm ? "PM" : "AM");
    put_sb(w, &b, i);
    return p + ap - i;
}

static void sb_date(struct sb *b, unsigned y, unsigned m, unsigned d, int has_y) {
    sb_word(b, months[m - 1]);
    if (d) {
        char dd[4];
        int k = snprintf(dd, sizeof dd, "%u", d);
        sb_ordinal(b, dd, (size_t)k);
    }
    if (has_y) {
        if (d) sb_add(b, ",");
        sb_year(b, y);
    }
}

/* 2024-03-05, 03/05/2024, 3/5/24 (US order unless the first part is over 12) */
static size_t rule_date(struct nw *w, size_t i) {
    size_t a = digits_at(w, i);
    if (a == 0 || a > 4 || i + a >= w->n) return 0;
    char sep = w->s[i + a];
    if (sep != '-' && sep != '/' && sep != '.') return 0;
    size_t bpos = i + a + 1, bl = digits_at(w, bpos);
    if (bl == 0 || bl > 2 || bpos + bl >= w->n || w->s[bpos + bl] != sep) return 0;
    size_t cpos = bpos + bl + 1, cl = digits_at(w, cpos);
    if (cl == 0 || cl > 4 || !word_ends(w, cpos + cl)) return 0;
    if (cpos + cl < w->n && w->s[cpos + cl] == sep) return 0;
    unsigned x = uint_at(w, i), y2 = uint_at(w, bpos),
             z = uint_at(w, cpos);
    unsigned yy, mm, dd;
    if (a == 4 && cl <= 2) {
        yy = x, mm = y2, dd = z; /* ISO */
    } else if (a <= 2 && (cl == 4 || cl == 2) && sep != '.') {
        yy = cl == 2 ? (z < 50 ? 2000 + z : 1900 + z) : z;
        if (x > 12) mm = y2, dd = x;
        else mm = x, dd = y2;
    } else if (a <= 2 && cl == 4 && sep == '.') {
        yy = z, dd = x, mm = y2; /* 05.03.2024 is day.month.year */
    } else {
        return 0;
    }
    if (mm < 1 || mm > 12 || dd < 1 || dd > 31) return 0;
    struct sb b = {{0}, 0};
    sb_date(&b, yy, mm, dd, 1);
    put_sb(w, &b, i);
    return cpos + cl - i;
}

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
    {NULL, NULL, NULL, NULL, NULL}};

static const char *const scale_words[] = {"thousand", "million", "billion", "trillion", NULL};

/* a scale word after a number ("1.2 million", "5bn", "3k"): its length, 0 if none */
static size_t scale_at(const struct nw *w, size_t i, const char **word) {
    size_t p = i;
    if (p < w->n && w->s[p] == ' ') p++;
    for (const char *const *s = scale_words; *s; s++) {
        if (ci_prefix(w, p, *s) && word_ends(w, p + strlen(*s))) {
            *word = *s;
            return p + strlen(*s) - i;
        }
    }
    static const struct {
        const char *suf, *word;
    } sufs[] = {{"k", "thousand"}, {"K", "thousand"}, {"m", "million"}, {"M", "million"},
                {"bn", "billion"}, {"B", "billion"},  {"tn", "trillion"}, {"T", "trillion"}};
    for (size_t k = 0; k < sizeof sufs / sizeof sufs[0]; k++) {
        size_t l = strlen(sufs[k].suf);
        if (i + l <= w->n && memcmp(w->s + i, sufs[k].suf, l) == 0 && word_ends(w, i + l)) {
            *word = sufs[k].word;
            return l;
        }
    }
    return 0;
}

/* the spoken amount: "twelve dollars and fifty cents", "one point two million euros" */
static void sb_money(struct sb *b, const struct num *x, const struct currency *c,
                     const char *scale) {
    if (scale) {
        sb_num(b, x);
        sb_word(b, scale);
        sb_word(b, c->many);
        return;
    }
    int whole_zero = x->nd == 1 && x->d[0] == '0';
    unsigned cents = 0;
    int has_cents = 0;
    if (x->nf == 2) {
        cents = (unsigned)((x->f[0] - '0') * 10 + (x->f[1] - '0'));
        has_cents = 1;
    } else if (x->nf == 1) {
        cents = (unsigned)((x->f[0] - '0') * 10);
        has_cents = 1;
    } else if (x->nf > 2) {
        sb_num(b, x); /* $1.005: read as a decimal */
        sb_word(b, c->many);
        return;
    }
    if (!whole_zero || !has_cents || cents == 0) {
        sb_cardinal(b, x->d, x->nd);
        sb_word(b, (x->nd == 1 && x->d[0] == '1') ? c->one : c->many);
    }
    if (has_cents && cents) {
        if (!whole_zero) sb_word(b, "and");
        sb_cardinal_u(b, cents);
        sb_word(b, cents == 1 ? c->cent : c->cents);
    }
}

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

static size_t rule_money(struct nw *w, size_t i) {
    size_t p = i, cl;
    int neg = 0;
    if (p < w->n && w->s[p] == '-') {
        neg = 1;
        p++;
    }
    const struct currency *c = currency_at(w, p, &cl);
    if (!c) return 0;
    p += cl;
    struct num x;
    if (!parse_num(w, p, &x)) return 0;
    p += x.len;
    const char *scale = NULL;
    size_t sl = scale_at(w, p, &scale);
    if (!scale && is_alnum_at(w, p)) return 0;
    p += sl;
    struct sb b = {{0}, 0};
    if (neg) sb_word(&b, "minus");
    sb_money(&b, &x, c, scale);
    put_sb(w, &b, i);
    return p - i;
}

static int roman_value(const char *s, size_t n, unsigned *out) {
    static const struct {
        const char *r;
        unsigned v;
    } t[] = {{"M", 1000}, {"CM", 900}, {"D", 500}, {"CD", 400}, {"C", 100}, {"XC", 90},
             {"L", 50},   {"XL", 40},  {"X", 10},  {"IX", 9},   {"V", 5},   {"IV", 4},
             {"I", 1}};
    unsigned v = 0;
    size_t p = 0;
    for (size_t k = 0; k < sizeof t / sizeof t[0] && p < n; k++) {
        size_t l = strlen(t[k].r);
        int reps = 0;
        while (p + l <= n && memcmp(s + p, t[k].r, l) == 0 && reps < 3) {
            v += t[k].v;
            p += l;
            reps++;
            if (l == 2 || t[k].v == 500 || t[k].v == 50 || t[k].v == 5) break;
        }
    }
    if (p != n || v == 0) return 0;
    *out = v;
    return 1;
}

static const char *const roman_cardinal_after[] = {
    "Chapter", "Part", "Volume", "Vol", "Book", "Act", "Scene", "War", "Section", "Episode",
    "Phase", "Round", "Level", "Article", "Appendix", "Unit", "Lesson", "Stage", "Type", "Class",
    "Title", "Canto", NULL};

/* a roman numeral after a title word (Chapter IV) or a name (Henry VIII, Louis XIV) */
static size_t rule_roman(struct nw *w, size_t i, size_t prev, size_t prevlen) {
    size_t p = i;
    while (p < w->n && strchr("IVXLCDM", w->s[p]) && w->s[p]) p++;
    if (p == i || !word_ends(w, p) || prevlen == 0) return 0;
    unsigned v;
    if (!roman_value(w->s + i, p - i, &v)) return 0;
    int cardinal = 0;
    for (const char *const *k = roman_cardinal_after; *k; k++)
        if (strlen(*k) == prevlen && memcmp(*k, w->s + prev, prevlen) == 0) cardinal = 1;
    int name = isupper((unsigned char)w->s[prev]) && prevlen > 1;
    for (size_t k = prev + 1; k < prev + prevlen; k++)
        if (!islower((unsigned char)w->s[k])) name = 0;
    /* after a name, only regnal-looking numerals (I, V, X): "Washington DC" is no king */
    int regnal = 1;
    for (size_t k = i; k < p; k++)
        if (!strchr("IVX", w->s[k])) regnal = 0;
    if (!cardinal && !(name && p - i >= 2 && regnal)) return 0;
    struct sb b = {{0}, 0};
    if (cardinal) {
        sb_cardinal_u(&b, v);
    } else {
        sb_word(&b, "the");
        sb_cardinal_u(&b, v);
        sb_ordinalize(&b);
    }
    put_sb(w, &b, i);
    return p - i;
}

/* simple fractions: 1/2 -> one half, 3/4 -> three quarters, 2/3 -> two thirds */
static size_t rule_fraction(struct nw *w, size_t i) {
    size_t a = digits_at(w, i);
    if (a != 1 || i + 2 >= w->n || w->s[i + 1] != '/' || digits_at(w, i + 2) != 1 ||
        is_alnum_at(w, i + 3) || (i + 3 < w->n && w->s[i + 3] == '/'))
        return 0;
    unsigned num = (unsigned)(w->s[i] - '0'), den = (unsigned)(w->s[i + 2] - '0');
    if (den < 2 || num == 0 || num >= den) return 0;
    struct sb b = {{0}, 0};
    sb_cardinal_u(&b, num);
    if (den == 2) {
        sb_word(&b, num == 1 ? "half" : "halves");
    } else if (den == 4) {
        sb_word(&b, num == 1 ? "quarter" : "quarters");
    } else {
        struct sb d = {{0}, 0};
        sb_cardinal_u(&d, den);
        sb_ordinalize(&d);
        sb_word(&b, d.b);
        if (num > 1) sb_add(&b, "s");
    }
    put_sb(w, &b, i);
    return 3;
}

/* numbers: ordinals (3rd), percentages, ranges, units, years, decimals, negatives, versions,
 * "3pm", decades (1990s) */
static size_t rule_number(struct nw *w, size_t i) {
    size_t p = i;
    int neg = 0;
    if (p < w->n && (w->s[p] == '-' || w->s[p] == '+') && is_digit_at(w, p + 1)) {
        neg = w->s[p] == '-' ? 1 : 2;
        p++;
    } else if (p + 3 < w->n && memcmp(w->s + p, "\xE2\x88\x92", 3) == 0 && is_digit_at(w, p + 3)) {
        neg = 1; /* U+2212 MINUS SIGN */
        p += 3;
    }
    struct num x;
    if (!parse_num(w, p, &x)) return 0;
    size_t e = p + x.len;
    struct sb b = {{0}, 0};
    if (neg == 1) sb_word(&b, "minus");
    if (neg == 2) sb_word(&b, "plus");
    /* version numbers: 2.0.1 */
    if (!x.nf && e + 1 < w->n && w->s[e] == '.' && is_digit_at(w, e + 1) && !x.commas) {
        size_t q = e;
        sb_cardinal(&b, x.d, x.nd);
        while (q + 1 < w->n && w->s[q] == '.' && is_digit_at(w, q + 1)) {
            size_t k = digits_at(w, q + 1);
            sb_word(&b, "point");
            if (k > 3) return 0;
            sb_cardinal(&b, w->s + q + 1, k);
            q += 1 + k;
        }
        if (is_alnum_at(w, q)) return 0;
        put_sb(w, &b, i);
        return q - i;
    }
    /* ordinals: 1st 2nd 3rd 4th */
    if (!x.nf && !neg && e + 2 <= w->n && word_ends(w, e + 2) &&
        (ci_prefix(w, e, "st") || ci_prefix(w, e, "nd") || ci_prefix(w, e, "rd") ||
         ci_prefix(w, e, "th"))) {
        sb_ordinal(&b, x.d, x.nd);
        put_sb(w, &b, i);
        return e + 2 - i;
    }
    /* decades: 1990s, 80s */
    if (!x.nf && !neg && !x.commas && e < w->n && w->s[e] == 's' && word_ends(w, e + 1) &&
        (x.nd == 4 || x.nd == 2) && x.d[x.nd - 1] == '0') {
        unsigned v = (unsigned)num_value(&x);
        if (x.nd == 4 && v % 100 == 0) sb_cardinal_u(&b, v);
        else if (x.nd == 4) sb_year(&b, v);
        else sb_cardinal_u(&b, v);
        /* pluralize the last word: twenties, hundreds, thousands */
        if (b.n && b.b[b.n - 1] == 'y') {
            b.b[--b.n] = '\0';
            sb_add(&b, "ies");
        } else {
            sb_add(&b, "s");
        }
        put_sb(w, &b, i);
        return e + 1 - i;
    }
    /* the currency after the amount: 100€, 5 £ */
    {
        size_t q = e, cl;
        if (q < w->n && w->s[q] == ' ') q++;
        const struct currency *c = currency_at(w, q, &cl);
        if (c && !is_alnum_at(w, q + cl)) {
            sb_money(&b, &x, c, NULL);
            put_sb(w, &b, i);
            return q + cl - i;
        }
    }
    /* percent */
    if (e < w->n && w->s[e] == '%') {
        sb_num(&b, &x);
        sb_word(&b, "percent");
        put_sb(w, &b, i);
        return e + 1 - i;
    }
    /* 3pm, 11 a.m. */
    if (!x.nf && !neg && x.nd <= 2) {
        int pm;
        size_t ap = ampm_at(w, e, &pm);
        unsigned v = (unsigned)num_value(&x);
        if (ap && v >= 1 && v <= 12) {
            sb_cardinal_u(&b, v);
            sb_word(&b, pm ? "PM" : "AM");
            put_sb(w, &b, i);
            return e + ap - i;
        }
    }
    /* units */
    if (w->o->unit) {
        size_t q = e, ul;
        if (q < w->n && w->s[q] == ' ') q++;
        const struct unit *u = unit_at(w, q, &ul);
        /* one-letter units and ones that are also words ("in", "bar") only when attached:
         * "10in", not "10 in the morning" */
        int wordlike = ul == 1 || !strcmp(u ? u->sym : "", "in") || !strcmp(u ? u->sym : "", "bar") ||
                       !strcmp(u ? u->sym : "", "cal") || !strcmp(u ? u->sym : "", "t");
        if (u && !(q == e + 1 && wordlike)) {
            int one = x.nd == 1 && x.d[0] == '1' && !x.nf;
            sb_num(&b, &x);
            sb_word(&b, one ? u->one : u->many);
            put_sb(w, &b, i);
            return q + ul - i;
        }
    }
    if (is_alnum_at(w, e) && !(e < w->n && (unsigned char)w->s[e] >= 0x80)) return 0;
    /* ranges: 10-20, 1990–1995 */
    size_t dash = 0;
    if (e < w->n && w->s[e] == '-') dash = 1;
    else if (e + 3 <= w->n && memcmp(w->s + e, "\xE2\x80\x93", 3) == 0) dash = 3;
    if (dash && !neg && is_digit_at(w, e + dash)) {
        struct num y;
        parse_num(w, e + dash, &y);
        size_t f = e + dash + y.len;
        int chain = (f < w->n && (w->s[f] == '-' || w->s[f] == '.') && is_digit_at(w, f + 1)) ||
                    (i >= 2 && w->s[i - 1] == '-' && isdigit((unsigned char)w->s[i - 2]));
        if (!is_alnum_at(w, f) && !chain) {
            unsigned a = (unsigned)num_value(&x), c = (unsigned)num_value(&y);
            int years = x.nd == 4 && !x.commas && !x.nf && a >= 1100 && a <= 2099 &&
                        ((y.nd == 4 && c >= 1100 && c <= 2099) || y.nd == 2);
            if (years) {
                sb_year(&b, a);
                sb_word(&b, "to");
                if (y.nd == 2) sb_year(&b, a / 100 * 100 + c);
                else sb_year(&b, c);
            } else {
                sb_num(&b, &x);
                sb_word(&b, "to");
                sb_num(&b, &y);
            }
            put_sb(w, &b, i);
            return f - i;
        }
    }
    /* years: four digits, 1100..2099, no separators */
    unsigned v = (unsigned)num_value(&x);
    if (!neg && !x.nf && !x.commas && x.nd == 4 && v >= 1100 && v <= 2099) {
        sb_year(&b, v);
    } else {
        sb_num(&b, &x);
    }
    put_sb(w, &b, i);
    return e - i;
}

struct abbrev {
    const char *abbr, *full;
    int keep_period; /* may end a sentence: keep the period if it does */
};
static const struct abbrev abbrevs[] = {
    {"Mr.", "Mister", 0},      {"Mrs.", "Missus", 0},        {"Ms.", "Miz", 0},
    {"Dr.", "Doctor", 0},      {"Prof.", "Professor", 0},    {"Jr.", "Junior", 1},
    {"Sr.", "Senior", 1},      {"Mt.", "Mount", 0},          {"vs.", "versus", 0},
    {"vs", "versus", 0},       {"etc.", "et cetera", 1},     {"e.g.", "for example", 0},
    {"i.e.", "that is", 0},    {"approx.", "approximately", 0}, {"Gen.", "General", 0},
    {"Capt.", "Captain", 0},   {"Lt.", "Lieutenant", 0},     {"Col.", "Colonel", 0},
    {"Sgt.", "Sergeant", 0},   {"Rev.", "Reverend", 0},      {"Hon.", "Honorable", 0},
    {"Ave.", "Avenue", 1},     {"Blvd.", "Boulevard", 1},    {"Rd.", "Road", 1},
    {"Dept.", "Department", 0}, {"Fig.", "Figure", 0},       {"Vol.", "Volume", 0},
    {"Inc.", "Incorporated", 1}, {"Ltd.", "Limited", 1},     {"Corp.", "Corporation", 1},
    {"Jan.", "January", 0},    {"Feb.", "February", 0},      {"Mar.", "March", 0},
    {"Apr.", "April", 0},      {"Jun.", "June", 0},          {"Jul.", "July", 0},
    {"Aug.", "August", 0},     {"Sep.", "September", 0},     {"Sept.", "September", 0},
    {"Oct.", "October", 0},    {"Nov.", "November", 0},      {"Dec.", "December", 0},
    {NULL, NULL, 0}};

static size_t rule_abbrev(struct nw *w, size_t i) {
    for (const struct abbrev *a = abbrevs; a->abbr; a++) {
        size_t l = strlen(a->abbr);
        if (i + l > w->n || memcmp(w->s + i, a->abbr, l) != 0) continue;
        if (a->abbr[l - 1] != '.' ? !word_ends(w, i + l) : is_alnum_at(w, i + l)) continue;
        /* the next word (after white space) */
        size_t q = i + l;
        while (q < w->n && w->s[q] == ' ') q++;
        const char *full = a->full;
        int next_upper = q < w->n && isupper((unsigned char)w->s[q]);
        int next_digit = is_digit_at(w, q);
        if (strcmp(a->abbr, "St.") == 0) full = next_upper ? "Saint" : "Street";
        put_words(w, full, i);
        if (a->keep_period && (q >= w->n || next_upper) && !next_digit) put_copy(w, i + l - 1, 1);
        return l;
    }
    /* St. and No. depend on what follows */
    if (i + 3 <= w->n && memcmp(w->s + i, "St.", 3) == 0 && !is_alnum_at(w, i + 3)) {
        size_t q = i + 3;
        while (q < w->n && w->s[q] == ' ') q++;
        int upper = q < w->n && isupper((unsigned char)w->s[q]);
        put_words(w, upper ? "Saint" : "Street", i);
        if (q >= w->n) put_copy(w, i + 2, 1); /* the end of the text: keep the full stop */
        return 3;
    }
    if (i + 4 <= w->n && (memcmp(w->s + i, "No. ", 4) == 0 || memcmp(w->s + i, "no. ", 4) == 0) &&
        is_digit_at(w, i + 4)) {
        put_words(w, "number", i);
        return 3;
    }
    return 0;
}

/* "March 5" -> "March fifth" (the month is copied, the day read as an ordinal) */
static size_t rule_month_day(struct nw *w, size_t i) {
    for (size_t m = 0; m < 12; m++) {
        size_t l = strlen(months[m]);
        if (i + l + 2 > w->n || memcmp(w->s + i, months[m], l) != 0 || w->s[i + l] != ' ')
            continue;
        size_t d = digits_at(w, i + l + 1);
        if (d < 1 || d > 2) return 0;
        size_t e = i + l + 1 + d;
        if (e + 2 <= w->n && (ci_prefix(w, e, "st") || ci_prefix(w, e, "nd") ||
                              ci_prefix(w, e, "rd") || ci_prefix(w, e, "th")))
            e += 2;
        if (is_alnum_at(w, e) || (e < w->n && (w->s[e] == ':' || w->s[e] == '.') &&
                                  is_digit_at(w, e + 1)))
            return 0;
        unsigned day = uint_at(w, i + l + 1);
        if (day < 1 || day > 31) return 0;
        put_copy(w, i, l);
        struct sb b = {{0}, 0};
        sb_ordinal(&b, w->s + i + l + 1, d);
        put_sb(w, &b, i + l + 1);
        return e - i;
    }
    return 0;
}

/* a symbol spoken as a word (replace_remaining_symbols) */
static const char *symbol_word(const struct nw *w, size_t i, size_t *len) {
    static const struct {
        const char *sym, *word;
    } t[] = {{"&", "and"},           {"@", "at"},           {"+", "plus"},
             {"=", "equals"},        {"%", "percent"},      {"\xC2\xB0", "degrees"},
             {"\xC3\x97", "times"},  {"\xC3\xB7", "divided by"}, {"\xE2\x80\xB0", "per mille"},
             {"\xC2\xA7", "section"}, {"\xC2\xB6", "paragraph"}, {"\xC2\xA9", "copyright"},
             {"\xC2\xAE", "registered"}, {"\xE2\x84\xA2", "trademark"},
             {"\xE2\x89\x88", "approximately"}, {"\xE2\x89\xA0", "is not equal to"},
             {"\xE2\x89\xA4", "is at most"}, {"\xE2\x89\xA5", "is at least"},
             {"<", "less than"},     {">", "greater than"}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        size_t l = strlen(t[k].sym);
        if (i + l <= w->n && memcmp(w->s + i, t[k].sym, l) == 0) {
            *len = l;
            return t[k].word;
        }
    }
    if (w->s[i] == '#') {
        *len = 1;
        return is_digit_at(w, i + 1) ? "number" : "hash";
    }
    return NULL;
}

/* symbols that are markup, not speech: dropped (as white space) when replacing symbols */
static int is_markup_symbol(char c) { return c && strchr("*_~`^|\\{}", c) != NULL; }

/* ---- the English normalizer -------------------------------------------------------------- */

static void normalize_en(struct nw *w) {
    const char *s = w->s;
    size_t n = w->n, i = 0;
    size_t prev = 0, prevlen = 0; /* the last word copied (for roman numerals) */
    while (i < n && !w->oom) {
        size_t k = chorus_text_space_len(s + i, n - i);
        if (k) {
            size_t start = i;
            while (i < n && (k = chorus_text_space_len(s + i, n - i)) > 0) i += k;
            put_space(w, w->base + start);
            w->sep = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        int at_start = i == 0 || !is_alnum_at(w, i - 1);
        if (at_start && w->o->normalize) {
            size_t used = 0;
            if (!used) used = rule_email(w, i);
            if (!used) used = rule_url(w, i);
            if (!used && (isdigit(c) || c == '+' || c == '(')) used = rule_phone(w, i);
            if (!used && isdigit(c)) used = rule_time(w, i);
            if (!used && isdigit(c)) used = rule_date(w, i);
            if (!used && isdigit(c)) used = rule_fraction(w, i);
            if (!used && !isalpha(c)) used = rule_money(w, i);
            if (!used && (isdigit(c) || c == '-' || c == '+' || c == 0xE2))
                used = rule_number(w, i);
            if (!used && isupper(c)) used = rule_roman(w, i, prev, prevlen);
            if (!used && isalpha(c)) used = rule_abbrev(w, i);
            if (!used && isupper(c)) used = rule_month_day(w, i);
            if (used) {
                prevlen = 0;
                i += used;
                continue;
            }
        }
        if (isalnum(c) || c >= 0x80) {
            /* copy a whole word (letters, digits, and any non-ASCII letters) */
            size_t j = i;
            while (j < n && !chorus_text_space_len(s + j, n - j) &&
                   (isalnum((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80)) {
                size_t l = chorus_utf8_char_len(s + j, n - j);
                if ((unsigned char)s[j] >= 0x80) {
                    /* stop at non-ASCII symbols that have a spoken form */
                    size_t sl;
                    if (w->o->normalize && w->o->symbols && symbol_word(w, j, &sl)) break;
                    uint32_t cp;
                    if (chorus_utf8_decode(s + j, n - j, &cp) > 0 &&
                        ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x20A0 && cp <= 0x20CF)))
                        break; /* punctuation, currency */
                }
                j += l;
            }
            if (j == i) j = i + chorus_utf8_char_len(s + i, n - i);
            put_copy(w, i, j - i);
            prev = i;
            prevlen = j - i;
            i = j;
            /* word(s) -> words */
            if (w->o->normalize && w->o->pluralization && j + 3 <= n &&
                memcmp(s + j, "(s)", 3) == 0) {
                put_copy(w, j + 1, 1);
                i = j + 3;
            }
            continue;
        }
        if (w->o->normalize && (c == '-' || c == '/') && i > 0 && is_alnum_at(w, i - 1) &&
            is_digit_at(w, i + 1)) {
            /* COVID-19, A-1: the hyphen is a pause, not a minus; 24/7: "twenty-four seven" */
            put_space(w, w->base + i);
            w->sep = 0;
            i++;
            continue;
        }
        if (w->o->normalize && w->o->symbols) {
            size_t sl;
            const char *word = symbol_word(w, i, &sl);
            if (word) {
                put_words(w, word, i);
                i += sl;
                continue;
            }
            if (is_markup_symbol((char)c)) {
                put_space(w, w->base + i);
                i++;
                continue;
            }
        }
        size_t l = chorus_utf8_char_len(s + i, n - i);
        put_copy(w, i, l);
        prevlen = 0;
        i += l;
    }
}

/* languages other than English: white space only, until they get their own rules */
static void normalize_neutral(struct nw *w) {
    const char *s = w->s;
    size_t n = w->n, i = 0;
    while (i < n && !w->oom) {
        size_t k = chorus_text_space_len(s + i, n - i);
        if (k) {
            size_t start = i;
            while (i < n && (k = chorus_text_space_len(s + i, n - i)) > 0) i += k;
            put_space(w, w->base + start);
            continue;
        }
        /* copy the whole run up to the next white space at once */
        size_t j = i;
        while (j < n) {
            unsigned char c = (unsigned char)s[j];
            if (c < 0x80) {
                if (c == ' ' || (c >= 0x09 && c <= 0x0D)) break;
                j++;
            } else {
                if (chorus_text_space_len(s + j, n - j)) break;
                j += chorus_utf8_char_len(s + j, n - j);
            }
        }
        put_copy(w, i, j - i);
        i = j;
    }
}

/* the per-language hook: add a language here with its own normalize function */
static const struct {
    const char *lang;
    void (*fn)(struct nw *w);
} languages[] = {{"en", normalize_en}};

int chorus_text_normalize(struct chorus_textbuf *out, const char *s, size_t n, size_t base,
                          const char *lang, const struct chorus_norm_options *o) {
    struct chorus_norm_options def;
    if (!o) {
        chorus_norm_options_default(&def);
        o = &def;
    }
    struct nw w = {out, o, s, n, base, 0, 0};
    if (chorus_textbuf_reserve(out, n + n / 2 + 16) < 0) return -1;
    void (*fn)(struct nw *) = normalize_neutral;
    if (!lang || !*lang) lang = "en";
    for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++) {
        size_t l = strlen(languages[i].lang);
        if (strncasecmp(lang, languages[i].lang, l) == 0 && (lang[l] == '\0' || lang[l] == '-' ||
                                                             lang[l] == '_'))
            fn = languages[i].fn;
    }
    if (!o->normalize) fn = normalize_neutral;
    fn(&w);
    return w.oom ? -1 : 0;
}

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
        if (isdigit(c)) word = ones[c - '0'];
        else if (digits_only) word = NULL;
        else if (isalpha(c)) one[0] = (char)toupper(c);
        else if (c == '.') word = "dot";
        else if (c == '-') word = "dash";
        else if (c == '_') word = "underscore";
        else if (c == '/') word = "slash";
        else if (symbol_word(w, i, &sl)) word = symbol_word(w, i, &sl);
        else memcpy(one, w->s + i, l < 7 ? l : 7);
        if (word) put_words(w, word, i);
        i += l;
    }
}

int chorus_text_say_as(struct chorus_textbuf *out, const char *interpret, const char *format,
                       const char *s, size_t n, size_t base) {
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    struct nw w = {out, &o, s, n, base, 0, 0};
    /* trim the content */
    while (w.n && chorus_text_space_len(w.s, w.n)) {
        size_t k = chorus_text_space_len(w.s, w.n);
        w.s += k, w.n -= k, w.base += k;
    }
    while (w.n && isspace((unsigned char)w.s[w.n - 1])) w.n--;
    if (!strcmp(interpret, "characters") || !strcmp(interpret, "spell-out") ||
        !strcmp(interpret, "verbatim")) {
        spell(&w, 0);
    } else if (!strcmp(interpret, "digits") || !strcmp(interpret, "telephone")) {
        if (!strcmp(interpret, "telephone")) {
            /* digits, with a pause between groups */
            for (size_t i = 0; i < w.n && !w.oom; i++) {
                unsigned char c = (unsigned char)w.s[i];
                if (isdigit(c)) put_words(&w, ones[c - '0'], i);
                else if (c == '+' && i == 0) put_words(&w, "plus", i);
                else if ((c == '-' || c == ' ' || c == '.' || c == ')') && out->len &&
                         out->text[out->len - 1] != ',')
                    if (chorus_textbuf_put(out, ",", 1, w.base + i) < 0) w.oom = 1;
            }
            while (out->len && out->text[out->len - 1] == ',') out->len--;
            if (out->text) out->text[out->len] = '\0';
        } else {
            spell(&w, 1);
        }
    } else if (!strcmp(interpret, "ordinal")) {
        size_t d = digits_at(&w, 0);
        size_t e = d;
        if (e + 2 <= w.n && (ci_prefix(&w, e, "st") || ci_prefix(&w, e, "nd") ||
                             ci_prefix(&w, e, "rd") || ci_prefix(&w, e, "th")))
            e += 2;
        if (d && e == w.n && d <= MAX_CARDINAL_DIGITS) {
            struct sb b = {{0}, 0};
            sb_ordinal(&b, w.s, d);
            put_sb(&w, &b, 0);
        } else {
            normalize_en(&w);
        }
    } else if (!strcmp(interpret, "cardinal") || !strcmp(interpret, "number")) {
        struct num x;
        size_t p = w.n && w.s[0] == '-' ? 1 : 0;
        if (parse_num(&w, p, &x) && p + x.len == w.n) {
            struct sb b = {{0}, 0};
            if (p) sb_word(&b, "minus");
            sb_num(&b, &x);
            put_sb(&w, &b, 0);
        } else {
            normalize_en(&w);
        }
    } else if (!strcmp(interpret, "date")) {
        /* numbers separated by - / . in the order format says (default: ymd if the first part
         * has four digits, else mdy) */
        unsigned part[3] = {0, 0, 0};
        size_t np = 0, p = 0;
        while (np < 3 && p < w.n) {
            size_t d = digits_at(&w, p);
            if (!d || d > 4) break;
            part[np++] = uint_at(&w, p);
            p += d;
            if (p < w.n && strchr("-/.", w.s[p]) && w.s[p]) p++;
            else break;
        }
        const char *f = format;
        if (!f || !*f) f = (np == 3 && digits_at(&w, 0) == 4) ? "ymd" : (np == 3 ? "mdy" : "md");
        unsigned y = 0, m = 0, d = 0;
        int ok = p == w.n && strlen(f) == np && np > 0;
        for (size_t k = 0; ok && k < np; k++) {
            if (f[k] == 'y') y = part[k] < 100 && np > 1 ? part[k] + (part[k] < 50 ? 2000 : 1900) : part[k];
            else if (f[k] == 'm') m = part[k];
            else if (f[k] == 'd') d = part[k];
            else ok = 0;
        }
        int has_y = strchr(f, 'y') != NULL;
        if (ok && strchr(f, 'm') && m >= 1 && m <= 12 && d <= 31 && (d || !strchr(f, 'd'))) {
            struct sb b = {{0}, 0};
            sb_date(&b, y, m, d, has_y);
            put_sb(&w, &b, 0);
        } else if (ok && !strcmp(f, "y")) {
            struct sb b = {{0}, 0};
            sb_year(&b, y);
            put_sb(&w, &b, 0);
        } else if (ok && !strcmp(f, "d") && d >= 1 && d <= 31) {
            struct sb b = {{0}, 0};
            sb_cardinal_u(&b, d);
            sb_ordinalize(&b);
            put_sb(&w, &b, 0);
        } else {
            normalize_en(&w);
        }
    } else if (!strcmp(interpret, "time")) {
        if (!rule_time(&w, 0)) {
            size_t d = digits_at(&w, 0);
            int pm;
            size_t ap = d ? ampm_at(&w, d, &pm) : 0;
            if (d && d <= 2 && ap) {
                struct sb b = {{0}, 0};
                sb_cardinal(&b, w.s, d);
                sb_word(&b, pm ? "PM" : "AM");
                put_sb(&w, &b, 0);
            } else {
                normalize_en(&w);
            }
        }
    } else {
        normalize_en(&w);
    }
    return w.oom ? -1 : 0;
}
