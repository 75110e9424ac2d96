/*
 * chorus_tn_normalize_en.c — the English normalizer: the token loop that tries each rule where a token
 * starts, then words: abbreviations and titles, roman numerals, symbols, (s) plurals, digits
 * inside words. Numbers are normalize_en_num.c, dates normalize_en_date.c, addresses and phone
 * numbers normalize_en_web.c.
 */
#include "text/normalize_int.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ---- abbreviations ------------------------------------------------------------------------ */

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

/* the word copied just before (w->prev) starts with a capital: "Main" in "Main St." */
static int prev_capitalized(const struct nw *w, size_t i) {
    if (!w->prevlen || w->prev + w->prevlen + 1 != i) return 0;
    return isupper((unsigned char)w->s[w->prev]) != 0;
}

/* St. is Street after a name (Main St.) and Saint before one (St. Louis); a full stop before a
 * capital is also the end of the sentence, and stays */
static size_t rule_street(struct nw *w, size_t i) {
    int dot = chorus_tn_char_at(w, i + 2) == '.';
    if (i + 2 > w->n || memcmp(w->s + i, "St", 2) != 0 || chorus_tn_is_alnum_at(w, i + 2)) return 0;
    size_t q = i + 2 + (size_t)dot;
    while (chorus_tn_char_at(w, q) == ' ') q++;
    int next_upper = chorus_tn_is_upper_at(w, q), after_name = prev_capitalized(w, i);
    if (!dot && !(after_name && (q >= w->n || strchr(",;", w->s[q])))) return 0;
    if (!after_name && next_upper) {
        chorus_tn_put_words(w, "Saint", i);
        return 2 + (size_t)dot;
    }
    chorus_tn_put_words(w, "Street", i);
    if (dot && (q >= w->n || next_upper)) chorus_tn_put_copy(w, i + 2, 1);
    return 2 + (size_t)dot;
}

size_t chorus_tn_rule_abbrev(struct nw *w, size_t i) {
    size_t used = rule_street(w, i);
    if (used) return used;
    for (const struct abbrev *a = abbrevs; a->abbr; a++) {
        size_t l = strlen(a->abbr);
        if (i + l > w->n || memcmp(w->s + i, a->abbr, l) != 0) continue;
        if (a->abbr[l - 1] != '.' ? !chorus_tn_word_ends(w, i + l) : chorus_tn_is_alnum_at(w, i + l)) continue;
        size_t q = i + l; /* the next word, after white space */
        while (chorus_tn_char_at(w, q) == ' ') q++;
        int next_upper = chorus_tn_is_upper_at(w, q), next_digit = chorus_tn_is_digit_at(w, q);
        chorus_tn_put_words(w, a->full, i);
        if (a->keep_period && (q >= w->n || next_upper) && !next_digit) chorus_tn_put_copy(w, i + l - 1, 1);
        return l;
    }
    if ((chorus_tn_ci_prefix(w, i, "No. ") && (w->s[i] == 'N' || w->s[i] == 'n')) && chorus_tn_is_digit_at(w, i + 4)) {
        chorus_tn_put_words(w, "number", i);
        return 3;
    }
    return 0;
}

/* ---- roman numerals ----------------------------------------------------------------------- */

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

/* words a roman numeral counts after (any case): Chapter IV, grade II, PART XL */
static const char *const roman_cardinal_after[] = {
    "chapter", "part",  "volume", "vol",   "book",    "act",      "scene",    "war",
    "section", "episode", "phase", "round", "level",  "article",  "appendix", "unit",
    "lesson",  "stage", "type",   "class", "title",   "canto",    "grade",    "bowl",
    "schedule", "division", "tier", "psalm", "step",  "figure",   "plate",    "annex",
    "series",  "mark",  "model",  "super", NULL};

/* names that take a regnal number: Henry VIII, Napoléon III, Elizabeth II. A numeral after any
 * other word is left alone: "Star Trek II" is a title, not "Star Trek the second". */
static const char *const regnal_names[] = {
    "Henry",   "Louis",     "Elizabeth", "George",   "Edward",   "Charles",  "William",
    "James",   "John",      "Richard",   "Napoleon", "Napol\xC3\xA9on", "Pius", "Benedict",
    "Gregory", "Leo",       "Innocent",  "Clement",  "Alexander", "Peter",   "Catherine",
    "Frederick", "Philip",  "Ferdinand", "Mary",     "Constantine", "Ramesses", "Otto",
    "Ludwig",  "Wilhelm",   "Nicholas",  "Ivan",     "Gustav",   "Christian", "Olaf",
    "Harald",  "Felipe",    "Carlos",    "Paul",     "Francis",  "Urban",    "Boniface",
    "Alfonso", "Pedro",     "Manuel",    "Stephen",  "Casimir",  "Robert",   "David",
    "Malcolm", "Kenneth",   "Edmund",    "Harold",   "Rudolf",   "Leopold",  "Joseph",
    "Karl",    "Albert",    "Umberto",   "Victor",   "Emmanuel", "Hussein",  "Abdullah",
    "Mohammed", "Selim",    "Suleiman",  "Murad",    "Mehmed",   "Ahmed",    "Rama",
    "Thutmose", "Amenhotep", "Ptolemy",  "Darius",   "Xerxes",   "Cyrus",    "Sixtus",
    "Anne",    "Matilda",   "Victoria",  "Willem",   "Haakon",   "Olav",     "Gustaf",
    "Juan",    "Sancho",    "Jaime",     "Afonso",   "Boleslaw", "Sigismund", "Matthias",
    NULL};

static int prev_in(const struct nw *w, const char *const *list, int any_case) {
    for (const char *const *k = list; *k; k++) {
        if (strlen(*k) != w->prevlen) continue;
        if (any_case ? chorus_tn_ci_word(w, w->prev, w->prevlen, *k)
                     : memcmp(*k, w->s + w->prev, w->prevlen) == 0)
            return 1;
    }
    return 0;
}

size_t chorus_tn_rule_roman(struct nw *w, size_t i) {
    size_t p = i;
    while (p < w->n && w->s[p] && strchr("IVXLCDM", w->s[p])) p++;
    if (p == i || !chorus_tn_word_ends(w, p) || !w->prevlen || w->prev + w->prevlen + 1 != i ||
        w->s[i - 1] != ' ')
        return 0;
    unsigned v;
    if (!roman_value(w->s + i, p - i, &v)) return 0;
    struct sb b = SB_INIT;
    if (prev_in(w, roman_cardinal_after, 1)) {
        chorus_tn_sb_cardinal_u(&b, v);
    } else if (prev_in(w, regnal_names, 0) && v < 40) {
        /* a lone "I" is the pronoun unless nothing word-like follows: "James I was", "Anne I." */
        size_t q = p;
        while (chorus_tn_char_at(w, q) == ' ') q++;
        if (p - i == 1 && w->s[i] == 'I' && q < w->n && (q > p || isalpha(chorus_tn_char_at(w, q))))
            return 0;
        chorus_tn_sb_word(&b, "the");
        chorus_tn_sb_ordinal_u(&b, v);
    } else {
        return 0;
    }
    chorus_tn_put_sb(w, &b, i);
    return p - i;
}

/* ---- symbols ------------------------------------------------------------------------------ */

/* a symbol spoken as a word (replace_remaining_symbols) */
const char *chorus_tn_symbol_word(const struct nw *w, size_t i, size_t *len) {
    static const struct {
        const char *sym, *word;
    } t[] = {{"&", "and"},
             {"@", "at"},
             {"+", "plus"},
             {"=", "equals"},
             {"%", "percent"},
             {"\xC2\xB0" "C", "degrees Celsius"},
             {"\xC2\xB0" "F", "degrees Fahrenheit"},
             {"\xC2\xB0", "degrees"},
             {"\xC2\xBA", "degrees"},
             {"\xC3\x97", "times"},
             {"\xC3\xB7", "divided by"},
             {"\xE2\x80\xB0", "per mille"},
             {"\xC2\xA7", "section"},
             {"\xC2\xB6", "paragraph"},
             {"\xC2\xA9", "copyright"},
             {"\xC2\xAE", "registered"},
             {"\xE2\x84\xA2", "trademark"},
             {"\xE2\x89\x88", "approximately"},
             {"\xE2\x89\xA0", "is not equal to"},
             {"\xE2\x89\xA4", "is at most"},
             {"\xE2\x89\xA5", "is at least"},
             {"\xC2\xB1", "plus or minus"},
             {"<", "less than"},
             {">", "greater than"}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        size_t l = strlen(t[k].sym);
        if (i + l <= w->n && memcmp(w->s + i, t[k].sym, l) == 0 &&
            !(l == 3 && t[k].sym[0] == '\xC2' && chorus_tn_is_alnum_at(w, i + l) &&
              (unsigned char)w->s[i + l] < 0x80)) {
            *len = l;
            return t[k].word;
        }
    }
    if (w->s[i] == '#') {
        *len = 1;
        return chorus_tn_is_digit_at(w, i + 1) ? "number" : "hash";
    }
    return NULL;
}

/* symbols that are markup, not speech: dropped (as white space) when replacing symbols */
static int is_markup_symbol(char c) { return c && strchr("*_~`^|\\{}", c) != NULL; }

/* ---- the token loop ----------------------------------------------------------------------- */

/* the rules that may start a token at i, in order; the bytes the first taker consumed */
static size_t try_rules(struct nw *w, size_t i) {
    unsigned char c = (unsigned char)w->s[i];
    int digit = isdigit(c) != 0, alpha = isalpha(c) != 0;
    size_t used = 0;
    if (isalnum(c)) used = chorus_tn_rule_email(w, i);
    if (!used && isalnum(c)) used = chorus_tn_rule_url(w, i);
    if (!used && (digit || c == '+' || c == '(')) used = chorus_tn_rule_phone(w, i);
    if (!used && digit) used = chorus_tn_rule_ip(w, i);
    if (!used && digit) used = chorus_tn_rule_time(w, i);
    if (!used && digit) used = chorus_tn_rule_date(w, i);
    if (!used && digit) used = chorus_tn_rule_day_month(w, i);
    if (!used && digit) used = chorus_tn_rule_fraction(w, i);
    if (!used && !alpha) used = chorus_tn_rule_money(w, i);
    if (!used && (digit || c == '-' || c == '+' || c == '.' || c == '\'' || c == 0xE2))
        used = chorus_tn_rule_number(w, i);
    if (!used && isupper(c)) used = chorus_tn_rule_roman(w, i);
    if (!used && alpha) used = chorus_tn_rule_month_date(w, i);
    if (!used && alpha) used = chorus_tn_rule_abbrev(w, i);
    return used;
}

/* a dash (or " - ") right after an amount or a time, before another: "$250-$300" reads "to" */
static size_t range_dash(const struct nw *w, size_t i) {
    if (w->rangeable != i || !i) return 0;
    size_t q = i + (chorus_tn_char_at(w, i) == ' ');
    size_t dash = chorus_tn_char_at(w, q) == '-' ? 1 : (chorus_tn_ci_prefix(w, q, "\xE2\x80\x93") ? 3 : 0);
    if (!dash) return 0;
    q += dash;
    if (q - i > dash && chorus_tn_char_at(w, q) == ' ') q++;
    int c = chorus_tn_char_at(w, q);
    return isdigit(c) || c == '$' || c >= 0xC2 ? q - i : 0;
}

/* copy the word at i: letters, digits, non-ASCII letters; it stops before a digit that follows a
 * letter (C24, 2Q22: the number is read on its own) and before a spoken symbol */
static size_t word_end(const struct nw *w, size_t i) {
    size_t j = i;
    while (j < w->n && chorus_tn_is_alnum_at(w, j) && !chorus_text_space_len(w->s + j, w->n - j)) {
        unsigned char c = (unsigned char)w->s[j];
        if (w->o->normalize && j > i && isdigit(c) && isalpha((unsigned char)w->s[j - 1])) break;
        if (c >= 0x80) {
            size_t sl;
            if (w->o->normalize && w->o->symbols && chorus_tn_symbol_word(w, j, &sl)) break;
            uint32_t cp;
            if (chorus_utf8_decode(w->s + j, w->n - j, &cp) > 0 &&
                ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x20A0 && cp <= 0x20CF)))
                break; /* punctuation, currency */
        }
        j += chorus_utf8_char_len(w->s + j, w->n - j);
    }
    return j > i ? j : i + chorus_utf8_char_len(w->s + i, w->n - i);
}

static size_t copy_word(struct nw *w, size_t i) {
    size_t j = word_end(w, i);
    chorus_tn_put_copy(w, i, j - i);
    w->prev = i;
    w->prevlen = j - i;
    /* word(s) -> words */
    if (w->o->normalize && w->o->pluralization && j + 3 <= w->n &&
        memcmp(w->s + j, "(s)", 3) == 0) {
        chorus_tn_put_copy(w, j + 1, 1);
        return j + 3 - i;
    }
    return j - i;
}

/* one step of the loop at a non-space i that no rule took: the bytes consumed */
static size_t plain_step(struct nw *w, size_t i) {
    unsigned char c = (unsigned char)w->s[i];
    int norm = w->o->normalize;
    size_t sl;
    const char *word = norm && w->o->symbols ? chorus_tn_symbol_word(w, i, &sl) : NULL;
    if (word) {
        chorus_tn_put_words(w, word, i);
        w->prevlen = 0;
        w->symbol_end = i + sl; /* what follows starts a token: ±2, §5 */
        return sl;
    }
    if (isalnum(c) || c >= 0x80) return copy_word(w, i);
    w->prevlen = 0;
    if (norm && (c == '-' || c == '/') && i > 0 && chorus_tn_is_alnum_at(w, i - 1) && chorus_tn_is_digit_at(w, i + 1)) {
        /* COVID-19, A-1: the hyphen is a pause, not a minus; 24/7: "twenty-four seven" */
        chorus_tn_put_space(w, w->base + i);
        w->sep = 0;
        return 1;
    }
    if (norm && w->o->symbols && is_markup_symbol((char)c)) {
        chorus_tn_put_space(w, w->base + i);
        return 1;
    }
    chorus_tn_put_copy(w, i, 1);
    return 1;
}

void chorus_tn_normalize_en(struct nw *w) {
    const char *s = w->s;
    size_t n = w->n, i = 0;
    while (i < n && !w->oom) {
        size_t k = range_dash(w, i);
        if (k) {
            chorus_tn_put_words(w, "to", i);
            i += k;
            continue;
        }
        if ((k = chorus_text_space_len(s + i, n - i)) > 0) {
            size_t start = i;
            while (i < n && (k = chorus_text_space_len(s + i, n - i)) > 0) i += k;
            chorus_tn_put_space(w, w->base + start);
            w->sep = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        int at_start = i == 0 || !chorus_tn_is_alnum_at(w, i - 1) || w->symbol_end == i;
        size_t used = 0;
        if (at_start) used = try_rules(w, i);
        else if (isdigit(c) && isalpha((unsigned char)s[i - 1])) used = chorus_tn_rule_number(w, i);
        if (used) {
            w->prevlen = 0;
            i += used;
            continue;
        }
        i += plain_step(w, i);
    }
}
