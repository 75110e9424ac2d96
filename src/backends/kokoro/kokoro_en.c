/* kokoro_en.c — see kokoro_en.h. Function names follow misaki's en.py where they port it. */
#include "backends/kokoro/kokoro_en.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/kokoro/kokoro_lexicon.h"
#include "text/text.h"

#define PRIMARY 0x2c8u   /* ˈ */
#define SECONDARY 0x2ccu /* ˌ */
#define NONE KOKORO_EN_NO_STRESS

/* ---------------------------------------------------------------------------------------- */
/* UTF-8 code point helpers                                                                   */

static size_t dec(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (!n) return 0;
    unsigned c = u[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3f);
    }
    *cp = v;
    return len;
}

static int in_set(uint32_t c, const char *set) {
    for (size_t i = 0, n = strlen(set); i < n;) {
        uint32_t s;
        i += dec(set + i, n - i, &s);
        if (s == c) return 1;
    }
    return 0;
}

static const char VOWELS[] = "AIOQWYaiuæɑɒɔəɛɜɪʊʌᵻ";
static const char CONSONANTS[] = "bdfhjklmnpstvwzðŋɡɹɾʃʒʤʧθ";
static const char NON_QUOTE_PUNCTS[] = ";:,.!?—…";
static const char DIPHTHONGS[] = "AIOQWYʤʧ";

static int has_cp(const char *s, uint32_t c) {
    for (size_t i = 0, n = strlen(s); i < n;) {
        uint32_t x;
        i += dec(s + i, n - i, &x);
        if (x == c) return 1;
    }
    return 0;
}

static int has_vowel(const char *s) {
    for (size_t i = 0, n = strlen(s); i < n;) {
        uint32_t x;
        i += dec(s + i, n - i, &x);
        if (in_set(x, VOWELS)) return 1;
    }
    return 0;
}

/* Last (k = 1) or second-to-last (k = 2) code point of s, 0 if none. */
static uint32_t last_cp(const char *s, int k) {
    size_t n = strlen(s);
    uint32_t c = 0;
    while (k-- > 0) {
        if (!n) return 0;
        size_t q = n - 1;
        while (q > 0 && ((unsigned char)s[q] & 0xc0) == 0x80) q--;
        dec(s + q, n - q, &c);
        n = q;
    }
    return c;
}

/* Bytes of s without its last code point. */
static size_t cut_last(const char *s) {
    size_t n = strlen(s);
    if (!n) return 0;
    size_t q = n - 1;
    while (q > 0 && ((unsigned char)s[q] & 0xc0) == 0x80) q--;
    return q;
}

static char *cat3(const char *a, size_t al, const char *b, const char *c) {
    size_t bl = strlen(b), cl = strlen(c);
    char *o = malloc(al + bl + cl + 1);
    if (!o) return NULL;
    memcpy(o, a, al);
    memcpy(o + al, b, bl);
    memcpy(o + al + bl, c, cl + 1);
    return o;
}

/* Replace every code point `from` by `to` (0: delete). */
static void map_cp(char *s, uint32_t from, uint32_t to) {
    size_t n = strlen(s), w = 0;
    char *o = s;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t l = dec(s + i, n - i, &c);
        if (c == from) {
            if (to) {
                char b[4];
                size_t bl = chorus_utf8_encode(to, b);
                if (bl <= l) {
                    memcpy(o + w, b, bl);
                    w += bl;
                } else { /* never for the stress marks (same width) */
                    memmove(o + w, s + i, l);
                    w += l;
                }
            }
        } else {
            memmove(o + w, s + i, l);
            w += l;
        }
        i += l;
    }
    o[w] = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Stress                                                                                     */

/* Put mark before the first vowel of ps (misaki's restress of a leading mark). */
static char *insert_before_vowel(const char *ps, uint32_t mark) {
    size_t n = strlen(ps);
    char *o = malloc(n + 3);
    if (!o) return NULL;
    size_t i = 0, w = 0;
    int done = 0;
    while (i < n) {
        uint32_t c;
        size_t l = dec(ps + i, n - i, &c);
        if (!done && in_set(c, VOWELS)) {
            w += chorus_utf8_encode(mark, o + w);
            done = 1;
        }
        memcpy(o + w, ps + i, l);
        w += l;
        i += l;
    }
    o[w] = 0;
    return o;
}

char *chorus_kokoro_en_apply_stress(const char *ps, int s) {
    char *o = strdup(ps);
    if (!o || s == NONE) return o;
    int prim = has_cp(o, PRIMARY), sec = has_cp(o, SECONDARY);
    if (s < -2) {
        map_cp(o, PRIMARY, 0);
        map_cp(o, SECONDARY, 0);
    } else if (s == -2 || ((s == 0 || s == -1) && prim)) {
        map_cp(o, SECONDARY, 0);
        map_cp(o, PRIMARY, SECONDARY);
    } else if ((s == 0 || s == 1 || s == 2) && !prim && !sec) {
        if (!has_vowel(o)) return o;
        char *r = insert_before_vowel(o, SECONDARY);
        free(o);
        return r;
    } else if (s >= 2 && !prim && sec) {
        map_cp(o, SECONDARY, PRIMARY);
    } else if (s > 2 && !prim && !sec) {
        if (!has_vowel(o)) return o;
        char *r = insert_before_vowel(o, PRIMARY);
        free(o);
        return r;
    }
    return o;
}

static int stress_weight(const char *ps) {
    int w = 0;
    for (size_t i = 0, n = strlen(ps); i < n;) {
        uint32_t c;
        i += dec(ps + i, n - i, &c);
        w += in_set(c, DIPHTHONGS) ? 2 : 1;
    }
    return w;
}

/* ---------------------------------------------------------------------------------------- */
/* Case                                                                                       */

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(char c) { return is_upper(c) || is_lower(c); }

static int no_lower(const char *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (is_lower(w[i])) return 0;
    return 1;
}
static int no_upper(const char *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (is_upper(w[i])) return 0;
    return 1;
}
static int all_alpha(const char *w, size_t n) {
    if (!n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alpha(w[i])) return 0;
    return 1;
}
static void lower_into(char *o, const char *w, size_t n) {
    for (size_t i = 0; i < n; i++) o[i] = is_upper(w[i]) ? (char)(w[i] + 32) : w[i];
    o[n] = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The lexicon (misaki's Lexicon class)                                                       */

enum { FV_NONE = -1, FV_NO = 0, FV_YES = 1 };
struct ctx {
    int future_vowel; /* FV_* */
    int future_to;
};

struct en {
    int british;
    const struct kokoro_lexicon *gold, *silver, *user;
    kokoro_en_fallback_fn fb;
    void *ud;
};

/* A lexicon entry with misaki's grow_dictionary: "Word" finds "word" and "word" finds "Word". */
static const char *lex_get(const struct kokoro_lexicon *l, const char *w, size_t n) {
    if (!l) return NULL;
    const char *r = chorus_kokoro_lexicon_raw(l, w, n);
    if (r || n < 2 || n > 127) return r;
    char b[128];
    if (is_upper(w[0]) && no_upper(w + 1, n - 1)) {
        lower_into(b, w, n);
        r = chorus_kokoro_lexicon_raw(l, b, n);
    } else if (no_upper(w, n) && is_lower(w[0])) {
        memcpy(b, w, n);
        b[0] = (char)(b[0] - 32);
        r = chorus_kokoro_lexicon_raw(l, b, n);
    }
    return r;
}

/* The user's pronunciations come before misaki's gold lexicon. */
static const char *gold_get(const struct en *e, const char *w, size_t n) {
    const char *r = lex_get(e->user, w, n);
    return r ? r : lex_get(e->gold, w, n);
}

static int in_gold(const struct en *e, const char *w, size_t n) { return gold_get(e, w, n) != NULL; }

static const char *symbol_name(const char *w, size_t n) {
    if (n != 1) return NULL;
    switch (w[0]) {
    case '%': return "percent";
    case '&': return "and";
    case '+': return "plus";
    case '@': return "at";
    default: return NULL;
    }
}

static const char *parent_tag(const char *tag) {
    if (!tag) return NULL;
    if (!strncmp(tag, "VB", 2)) return "VERB";
    if (!strncmp(tag, "NN", 2)) return "NOUN";
    if (!strncmp(tag, "ADV", 3) || !strncmp(tag, "RB", 2)) return "ADV";
    if (!strncmp(tag, "ADJ", 3) || !strncmp(tag, "JJ", 2)) return "ADJ";
    return tag;
}

static int is_known(const struct en *e, const char *w, size_t n) {
    if (gold_get(e, w, n) || lex_get(e->silver, w, n) || symbol_name(w, n)) return 1;
    if (!all_alpha(w, n)) return 0;
    if (n == 1) return 1;
    if (no_lower(w, n) && n < 128) {
        char b[128];
        lower_into(b, w, n);
        if (gold_get(e, b, n)) return 1;
    }
    return no_lower(w + 1, n - 1);
}

/* Letters spelled out: misaki's get_NNP. */
static char *get_nnp(const struct en *e, const char *w, size_t n) {
    size_t cap = 16 * n + 8, len = 0;
    char *acc = malloc(cap);
    if (!acc) return NULL;
    acc[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_alpha(w[i])) continue;
        char up[2] = {is_lower(w[i]) ? (char)(w[i] - 32) : w[i], 0};
        const char *raw = gold_get(e, up, 1);
        size_t pl = 0;
        const char *p = raw ? chorus_kokoro_lexicon_pick(raw, NULL, &pl) : NULL;
        char *fbp = NULL;
        if (!p && !e->gold && e->fb) { /* no lexicon: espeak says the letter's name */
            fbp = e->fb(e->ud, up);
            p = fbp;
            pl = p ? strlen(p) : 0;
        }
        if (!p || len + pl + 1 > cap) {
            free(fbp);
            free(acc);
            return NULL;
        }
        memcpy(acc + len, p, pl);
        len += pl;
        acc[len] = 0;
        free(fbp);
    }
    if (!len) {
        free(acc);
        return NULL;
    }
    char *s = chorus_kokoro_en_apply_stress(acc, 0);
    free(acc);
    if (!s) return NULL;
    /* the last secondary stress becomes primary */
    char *last = NULL;
    for (char *q = s; (q = strstr(q, "ˌ")); q += 2) last = q;
    if (last) memcpy(last, "ˈ", 2);
    return s;
}

static char *lookup(const struct en *e, const char *w, size_t n, const char *tag, int stress,
                    const struct ctx *c) {
    if (n >= 128) return NULL;
    char word[128];
    memcpy(word, w, n);
    word[n] = 0;
    int is_nnp = -1;
    if (no_lower(word, n) && !in_gold(e, word, n)) {
        lower_into(word, w, n);
        is_nnp = tag && !strcmp(tag, "NNP");
    }
    const char *raw = gold_get(e, word, n);
    if (!raw && is_nnp != 1) raw = lex_get(e->silver, word, n);
    const char *ps = NULL;
    size_t pl = 0;
    if (chorus_kokoro_lexicon_tagged(raw)) {
        if (c && c->future_vowel == FV_NONE && chorus_kokoro_lexicon_has_tag(raw, "None")) tag = "None";
        else if (!chorus_kokoro_lexicon_has_tag(raw, tag)) tag = parent_tag(tag);
    }
    ps = chorus_kokoro_lexicon_pick(raw, tag, &pl);
    char *own = ps ? strndup(ps, pl) : NULL;
    if (ps && !own) return NULL;
    if (!own || (is_nnp == 1 && !strstr(own, "ˈ"))) {
        char *nnp = get_nnp(e, word, n);
        if (nnp) {
            free(own);
            return nnp;
        }
    }
    if (!own) return NULL;
    char *r = chorus_kokoro_en_apply_stress(own, stress);
    free(own);
    return r;
}

static char *lookup_s(const struct en *e, const char *w, const char *tag, int stress, const struct ctx *c) {
    return lookup(e, w, strlen(w), tag, stress, c);
}

/* The value of a builtin word when there is no lexicon (misaki's gold forms). */
static char *gold_or(const struct en *e, const char *w, const char *tag, const char *us, const char *gb) {
    const char *raw = gold_get(e, w, strlen(w));
    size_t pl;
    const char *p = chorus_kokoro_lexicon_pick(raw, tag, &pl);
    return p ? strndup(p, pl) : strdup(e->british ? gb : us);
}

static char *suffix_s(const struct en *e, char *stem) {
    if (!stem || !*stem) return free(stem), NULL;
    uint32_t l = last_cp(stem, 1);
    const char *add = in_set(l, "ptkfθ") ? "s" : in_set(l, "szʃʒʧʤ") ? (e->british ? "ɪz" : "ᵻz") : "z";
    char *r = cat3(stem, strlen(stem), add, "");
    free(stem);
    return r;
}

static char *stem_s(const struct en *e, const char *w, size_t n, const char *tag, int stress, const struct ctx *c) {
    if (n < 3 || w[n - 1] != 's' || n >= 128) return NULL;
    char stem[128];
    size_t sl;
    if (!(n >= 2 && w[n - 2] == 's') && is_known(e, w, n - 1)) sl = n - 1;
    else if (((w[n - 2] == '\'') || (n > 4 && w[n - 2] == 'e' && !(w[n - 3] == 'i'))) && is_known(e, w, n - 2))
        sl = n - 2;
    else if (n > 4 && w[n - 2] == 'e' && w[n - 3] == 'i') {
        memcpy(stem, w, n - 3);
        stem[n - 3] = 'y';
        stem[n - 2] = 0;
        if (!is_known(e, stem, n - 2)) return NULL;
        return suffix_s(e, lookup(e, stem, n - 2, tag, stress, c));
    } else return NULL;
    return suffix_s(e, lookup(e, w, sl, tag, stress, c));
}

static char *suffix_ed(const struct en *e, char *stem) {
    if (!stem || !*stem) return free(stem), NULL;
    uint32_t l = last_cp(stem, 1);
    char *r;
    if (in_set(l, "pkfθʃsʧ")) r = cat3(stem, strlen(stem), "t", "");
    else if (l == 'd') r = cat3(stem, strlen(stem), e->british ? "ɪ" : "ᵻ", "d");
    else if (l != 't') r = cat3(stem, strlen(stem), "d", "");
    else if (e->british || strlen(stem) < 2) r = cat3(stem, strlen(stem), "ɪd", "");
    else if (in_set(last_cp(stem, 2), "AIOWYiuæɑəɛɪɹʊʌ")) r = cat3(stem, cut_last(stem), "ɾᵻd", "");
    else r = cat3(stem, strlen(stem), "ᵻd", "");
    free(stem);
    return r;
}

static char *stem_ed(const struct en *e, const char *w, size_t n, const char *tag, int stress, const struct ctx *c) {
    if (n < 4 || w[n - 1] != 'd') return NULL;
    size_t sl;
    if (w[n - 2] != 'd' && is_known(e, w, n - 1)) sl = n - 1;
    else if (n > 4 && w[n - 2] == 'e' && !(n >= 3 && w[n - 3] == 'e') && is_known(e, w, n - 2)) sl = n - 2;
    else return NULL;
    return suffix_ed(e, lookup(e, w, sl, tag, stress, c));
}

static char *suffix_ing(const struct en *e, char *stem) {
    if (!stem || !*stem) return free(stem), NULL;
    uint32_t l = last_cp(stem, 1);
    char *r;
    if (e->british && (l == 0x259 || l == 0x2d0)) r = NULL; /* ə ː */
    else if (!e->british && strlen(stem) > 1 && l == 't' && in_set(last_cp(stem, 2), "AIOWYiuæɑəɛɪɹʊʌ"))
        r = cat3(stem, cut_last(stem), "ɾɪŋ", "");
    else r = cat3(stem, strlen(stem), "ɪŋ", "");
    free(stem);
    return r;
}

static char *stem_ing(const struct en *e, const char *w, size_t n, const char *tag, int stress, const struct ctx *c) {
    if (n < 5 || n >= 128 || strncmp(w + n - 3, "ing", 3)) return NULL;
    char stem[128];
    if (n > 5 && is_known(e, w, n - 3)) return suffix_ing(e, lookup(e, w, n - 3, tag, stress, c));
    memcpy(stem, w, n - 3);
    stem[n - 3] = 'e';
    stem[n - 2] = 0;
    if (is_known(e, stem, n - 2)) return suffix_ing(e, lookup(e, stem, n - 2, tag, stress, c));
    /* ([bcdgklmnprstvxz])\1ing$ or cking$ */
    int dbl = n > 5 && strchr("bcdgklmnprstvxz", w[n - 4]) && w[n - 4] == w[n - 5];
    int ck = n > 5 && w[n - 4] == 'k' && w[n - 5] == 'c';
    if ((dbl || ck) && is_known(e, w, n - 4)) return suffix_ing(e, lookup(e, w, n - 4, tag, stress, c));
    return NULL;
}

static int word_is(const char *w, size_t n, const char *a) { return strlen(a) == n && !memcmp(w, a, n); }
static int word_in(const char *w, size_t n, const char *a, const char *b, const char *c) {
    return word_is(w, n, a) || (b && word_is(w, n, b)) || (c && word_is(w, n, c));
}

/* misaki's get_special_case; *hit says whether it decided (its answer may still be NULL). */
static char *special_case(const struct en *e, const char *w, size_t n, const char *tag, int stress,
                          const struct ctx *c, int *hit) {
    *hit = 1;
    const char *sym = symbol_name(w, n);
    if (sym) return lookup_s(e, sym, NULL, NONE, c);
    /* dotted abbreviations: U.S., Ph.D. (letters in runs of at most two) */
    size_t a = 0, b = n;
    while (a < b && w[a] == '.') a++;
    while (b > a && w[b - 1] == '.') b--;
    if (memchr(w + a, '.', b - a)) {
        int letters_only = 1;
        size_t run = 0, maxrun = 0;
        for (size_t i = 0; i < n; i++) {
            if (w[i] == '.') {
                run = 0;
                continue;
            }
            if (!is_alpha(w[i])) letters_only = 0;
            if (++run > maxrun) maxrun = run;
        }
        if (letters_only && maxrun < 3) return get_nnp(e, w, n);
    }
    int nn = tag && !strncmp(tag, "NN", 2);
    if (word_in(w, n, "a", "A", NULL)) return strdup(tag && !strcmp(tag, "DT") ? "ɐ" : "ˈA");
    if (word_in(w, n, "am", "Am", "AM")) {
        if (nn) return get_nnp(e, w, n);
        if (c->future_vowel == FV_NONE || !word_is(w, n, "am") || (stress != NONE && stress > 0))
            return gold_or(e, "am", NULL, "æm", "am");
        return strdup("ɐm");
    }
    if (word_in(w, n, "an", "An", "AN")) {
        if (word_is(w, n, "AN") && nn) return get_nnp(e, w, n);
        return strdup("ɐn");
    }
    if (word_is(w, n, "I") && tag && !strcmp(tag, "PRP")) return strdup("ˌI");
    if (word_in(w, n, "by", "By", "BY") && tag && !strcmp(parent_tag(tag), "ADV")) return strdup("bˈI");
    if (word_in(w, n, "to", "To", NULL) ||
        (word_is(w, n, "TO") && tag && (!strcmp(tag, "TO") || !strcmp(tag, "IN")))) {
        if (c->future_vowel == FV_NONE) return gold_or(e, "to", NULL, "tu", "tuː");
        return strdup(c->future_vowel == FV_YES ? "tʊ" : "tə");
    }
    if (word_in(w, n, "in", "In", NULL) || (word_is(w, n, "IN") && !(tag && !strcmp(tag, "NNP")))) {
        int st = c->future_vowel == FV_NONE || !tag || strcmp(tag, "IN");
        return strdup(st ? "ˈɪn" : "ɪn");
    }
    if (word_in(w, n, "the", "The", NULL) || (word_is(w, n, "THE") && tag && !strcmp(tag, "DT")))
        return strdup(c->future_vowel == FV_YES ? "ði" : "ðə");
    if (tag && !strcmp(tag, "IN") && (word_in(w, n, "vs", "vs.", "VS") || word_in(w, n, "Vs", "Vs.", "VS.")))
        return lookup_s(e, "versus", NULL, NONE, c);
    if (word_in(w, n, "used", "Used", "USED")) {
        int vbd = tag && (!strcmp(tag, "VBD") || !strcmp(tag, "JJ")) && c->future_to;
        return gold_or(e, "used", vbd ? "VBD" : "DEFAULT", vbd ? "jˈust" : "jˈuzd", vbd ? "jˈuːst" : "jˈuːzd");
    }
    *hit = 0;
    return NULL;
}

/* misaki's get_word. */
static char *get_word(const struct en *e, const char *w0, size_t n, const char *tag, int stress,
                      const struct ctx *c) {
    int hit;
    char *ps = special_case(e, w0, n, tag, stress, c, &hit);
    if (hit || n >= 128) return ps;
    char word[128], wl[128];
    memcpy(word, w0, n);
    word[n] = 0;
    lower_into(wl, w0, n);
    int alpha = n > 1;
    for (size_t i = 0; i < n; i++)
        if (word[i] != '\'' && !is_alpha(word[i])) alpha = 0;
    if (alpha && strcmp(word, wl) && (!tag || strcmp(tag, "NNP") || n > 7) && !gold_get(e, word, n) &&
        !lex_get(e->silver, word, n) && (no_lower(word, n) || no_upper(word + 1, n - 1))) {
        int known = gold_get(e, wl, n) || lex_get(e->silver, wl, n);
        for (int k = 0; !known && k < 3; k++) {
            char *t = k == 0 ? stem_s(e, wl, n, tag, stress, c) : k == 1 ? stem_ed(e, wl, n, tag, stress, c)
                                                                          : stem_ing(e, wl, n, tag, stress, c);
            known = t != NULL;
            free(t);
        }
        if (known) memcpy(word, wl, n + 1);
    }
    if (is_known(e, word, n)) return lookup(e, word, n, tag, stress, c);
    if (n > 2 && word[n - 1] == '\'' && word[n - 2] == 's') {
        char t[128];
        memcpy(t, word, n - 2);
        memcpy(t + n - 2, "'s", 3);
        if (is_known(e, t, n)) return lookup(e, t, n, tag, stress, c);
    }
    if (n > 1 && word[n - 1] == '\'' && is_known(e, word, n - 1)) return lookup(e, word, n - 1, tag, stress, c);
    if ((ps = stem_s(e, word, n, tag, stress, c))) return ps;
    if ((ps = stem_ed(e, word, n, tag, stress, c))) return ps;
    return stem_ing(e, word, n, tag, stress == NONE ? 1 : stress, c);
}

/* misaki's Lexicon.__call__ for one word (curly apostrophes already straightened). */
static char *lexicon_word(const struct en *e, const char *w, size_t n, const char *tag, const struct ctx *c) {
    int stress = no_upper(w, n) ? NONE : no_lower(w, n) ? 4 : 1;
    return get_word(e, w, n, tag, stress, c);
}

/* ---------------------------------------------------------------------------------------- */
/* Function words said alone by espeak are stressed; in running text misaki's gold forms are
 * not (or carry a secondary stress). Used only when no lexicon is installed.                  */

static const char *const unstressed[] = {
    "a", "an", "and", "are", "as", "at", "be", "been", "by", "can", "could", "for", "from", "had",
    "has", "have", "he", "her", "his", "if", "in", "is", "it", "its", "my", "of", "or", "she",
    "than", "that", "the", "their", "there", "these", "they", "this", "those", "through", "to",
    "was", "we", "were", "will", "with", "would", "you", "your", NULL};
static const char *const secondary[] = {"but", "me", "him", "not", "on", "our", "shall", "should",
                                        "so", "some", "them", "up", "what", "which", "who", NULL};

static int listed(const char *const *l, const char *w, size_t n) {
    for (; *l; l++)
        if (word_is(w, n, *l)) return 1;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Tags                                                                                       */

static const char *const modals[] = {"to", "will", "would", "can", "could", "shall", "should", "may",
                                     "might", "must", "do", "does", "did", "don't", "doesn't", "didn't",
                                     "won't", "can't", "cannot", "couldn't", "wouldn't", "shouldn't",
                                     "let's", "please", "let", "i'll", "we'll", "you'll", "they'll", NULL};
static const char *const perfect[] = {"have", "has", "had", "having", "i've", "we've", "you've",
                                      "they've", "i'd", "we'd", "they'd", "he'd", "she'd", NULL};
static const char *const copula[] = {"is", "was", "were", "are", "be", "been", "being", "am",
                                     "get", "got", "gets", "it's", "that's", NULL};
static const char *const subjects[] = {"i", "you", "we", "they", "he", "she", "it", "who", NULL};
static const char *const determiners[] = {"the", "a", "an", "this", "that", "these", "those", "my",
                                          "your", "his", "her", "its", "our", "their", "some", "any",
                                          "no", "every", "each", NULL};
static const char *const non_nouns[] = {"of", "in", "on", "at", "to", "for", "with", "by", "from",
                                        "and", "or", "but", "is", "was", "are", "were", "that", NULL};

/* The word token nearest before (dir -1) or after (+1) i with no punctuation between; lowercased
 * into b (empty when none). */
static void neighbour(const struct kokoro_en_tok *t, size_t n, size_t i, int dir, char *b, size_t cap) {
    b[0] = 0;
    size_t j = i;
    if (dir < 0 ? j == 0 : j + 1 >= n) return;
    j = dir < 0 ? j - 1 : j + 1;
    if (!t[j].is_word || t[j].len + 1 > cap) return;
    size_t m = t[j].len;
    lower_into(b, t[j].text, m);
    for (char *q = b; (q = strstr(q, "\xe2\x80\x99")); ) { /* ’ -> ' */
        *q = '\'';
        memmove(q + 1, q + 3, strlen(q + 3) + 1);
    }
}

static int next_is_word(const struct kokoro_en_tok *t, size_t n, size_t i) { return i + 1 < n && t[i + 1].is_word; }

/* A part-of-speech guess good enough for misaki's rules and the heteronyms. */
static const char *guess_tag(const struct en *e, const struct kokoro_en_tok *t, size_t n, size_t i) {
    const char *w = t[i].text;
    size_t len = t[i].len;
    char lw[64], prev[64], next[64];
    if (len + 1 > sizeof lw) return NULL;
    lower_into(lw, w, len);
    neighbour(t, n, i, -1, prev, sizeof prev);
    neighbour(t, n, i, +1, next, sizeof next);
    if (word_is(w, len, "A")) return next_is_word(t, n, i) && !no_lower(t[i + 1].text, t[i + 1].len) ? "DT" : NULL;
    if (word_is(w, len, "a")) return "DT";
    if (word_is(w, len, "I")) return "PRP";
    if (!strcmp(lw, "the")) return "DT";
    if (!strcmp(lw, "to")) return "TO";
    if (!strcmp(lw, "in")) return next_is_word(t, n, i) ? "IN" : "RP";
    if (!strcmp(lw, "by")) return next_is_word(t, n, i) ? "IN" : "RB";
    if (!strcmp(lw, "vs") || !strcmp(lw, "vs.")) return "IN";
    if (!strcmp(lw, "used")) return !strcmp(next, "to") ? "VBD" : NULL;
    /* all capitals, two letters or more: an acronym, unless the text around shouts too */
    int letters = 0;
    for (size_t k = 0; k < len; k++) letters += is_alpha(w[k]);
    if (letters >= 2 && no_lower(w, len)) {
        int shout = 0;
        for (int d = -1; d <= 1; d += 2) {
            size_t j = i;
            if (d < 0 ? j == 0 : j + 1 >= n) continue;
            j = d < 0 ? j - 1 : j + 1;
            if (t[j].is_word && t[j].len > 1 && no_lower(t[j].text, t[j].len)) shout = 1;
        }
        return shout ? NULL : "NNP";
    }
    const char *raw = gold_get(e, lw, len);
    if (!chorus_kokoro_lexicon_tagged(raw)) return NULL;
    if (listed(modals, prev, strlen(prev))) return "VB";
    if (listed(perfect, prev, strlen(prev))) return "VBN";
    if (listed(copula, prev, strlen(prev)))
        return chorus_kokoro_lexicon_has_tag(raw, "VBN") ? "VBN" : "ADJ";
    if (listed(subjects, prev, strlen(prev)))
        return chorus_kokoro_lexicon_has_tag(raw, "VBD") ? "VBD" : "VBP";
    if (listed(determiners, prev, strlen(prev)))
        return next_is_word(t, n, i) && !listed(non_nouns, next, strlen(next)) ? "ADJ" : "NN";
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Sentence pass                                                                              */

/* misaki's token_context: the first vowel, consonant or (non-quote) punctuation of ps. */
static void token_context(struct ctx *c, const char *ps, const char *w, size_t n, const char *tag) {
    if (ps) {
        for (size_t i = 0, l = strlen(ps); i < l;) {
            uint32_t x;
            i += dec(ps + i, l - i, &x);
            if (in_set(x, NON_QUOTE_PUNCTS)) {
                c->future_vowel = FV_NONE;
                break;
            }
            if (in_set(x, VOWELS)) {
                c->future_vowel = FV_YES;
                break;
            }
            if (in_set(x, CONSONANTS)) {
                c->future_vowel = FV_NO;
                break;
            }
        }
    }
    c->future_to = word_in(w, n, "to", "To", NULL) ||
                   (word_is(w, n, "TO") && tag && (!strcmp(tag, "TO") || !strcmp(tag, "IN")));
}

static int is_junk(char ch) { return strchr("',-._/", ch) != NULL; }

/* Sub-tokens of a word (misaki's subtokenize, simplified): letter runs with inner apostrophes,
 * digit runs, runs of - or _, and single other characters. Returns the count (<= max). */
struct piece {
    size_t off, len;
    char *ps;
};
static size_t subtokens(const char *w, size_t n, struct piece *p, size_t max) {
    size_t k = 0, i = 0;
    while (i < n && k < max) {
        size_t s = i;
        char ch = w[i];
        if (is_alpha(ch) || (unsigned char)ch >= 0x80) {
            while (i < n && (is_alpha(w[i]) || (unsigned char)w[i] >= 0x80 ||
                             (w[i] == '\'' && i + 1 < n && is_alpha(w[i + 1]))))
                i++;
        } else if (ch >= '0' && ch <= '9') {
            while (i < n && w[i] >= '0' && w[i] <= '9') i++;
        } else if (ch == '-' || ch == '_') {
            while (i < n && (w[i] == '-' || w[i] == '_')) i++;
        } else {
            i++;
        }
        p[k++] = (struct piece){s, i - s, NULL};
    }
    return i < n ? 0 : k;
}

static char *fallback(const struct en *e, const char *w, size_t n) {
    if (!e->fb) return NULL;
    char *z = strndup(w, n);
    if (!z) return NULL;
    char *r = e->fb(e->ud, z);
    free(z);
    return r;
}

/* One word with no parts: lexicon, then fallback; *oom on allocation failure. */
static char *whole_word(const struct en *e, const char *w, size_t n, const char *tag, const struct ctx *c) {
    char *ps = lexicon_word(e, w, n, tag, c);
    if (ps) return ps;
    ps = fallback(e, w, n);
    if (ps && !e->gold && c->future_vowel != FV_NONE) {
        char lw[32];
        if (n < sizeof lw) {
            lower_into(lw, w, n);
            int s = listed(unstressed, lw, n) ? -4 : listed(secondary, lw, n) ? -1 : NONE;
            if (s != NONE) {
                char *r = chorus_kokoro_en_apply_stress(ps, s);
                free(ps);
                ps = r;
            }
            /* and a capital adds what misaki adds to a lexicon word */
            int cap = no_upper(w, n) ? NONE : no_lower(w, n) ? 4 : 1;
            if (ps && s != NONE && cap != NONE) {
                char *r = chorus_kokoro_en_apply_stress(ps, cap);
                free(ps);
                ps = r;
            }
        }
    }
    return ps;
}

/* misaki's resolve_tokens: join the parts of a compound, stress evened out. */
static char *resolve(const char *w, size_t n, struct piece *p, size_t k) {
    int classes = 0, prespace = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == ' ' || w[i] == '/') prespace = 1;
        if (is_junk(w[i])) continue;
        classes |= is_alpha(w[i]) || (unsigned char)w[i] >= 0x80 ? 1 : (w[i] >= '0' && w[i] <= '9') ? 2 : 4;
    }
    if (classes && (classes & (classes - 1))) prespace = 1;
    if (!prespace) {
        size_t idx[16], m = 0;
        for (size_t i = 0; i < k && m < 16; i++)
            if (p[i].ps && *p[i].ps) idx[m++] = i;
        int prim = 0;
        for (size_t j = 0; j < m; j++) prim += strstr(p[idx[j]].ps, "ˈ") != NULL;
        size_t lower[16], nl = 0;
        if (m == 2 && p[idx[0]].len == 1) {
            lower[nl++] = idx[1];
        } else if (m >= 2 && prim > (int)(m + 1) / 2) {
            /* sorted by (has primary, weight, position): the first half gets -0.5 */
            size_t ord[16];
            for (size_t j = 0; j < m; j++) ord[j] = idx[j];
            for (size_t a = 1; a < m; a++)
                for (size_t b = a; b > 0; b--) {
                    const char *x = p[ord[b - 1]].ps, *y = p[ord[b]].ps;
                    int kx = strstr(x, "ˈ") != NULL, ky = strstr(y, "ˈ") != NULL;
                    int wx = stress_weight(x), wy = stress_weight(y);
                    int gt = kx != ky ? kx > ky : wx != wy ? wx > wy : ord[b - 1] > ord[b];
                    if (!gt) break;
                    size_t tmp = ord[b - 1];
                    ord[b - 1] = ord[b];
                    ord[b] = tmp;
                }
            for (size_t j = 0; j < m / 2; j++) lower[nl++] = ord[j];
        }
        for (size_t j = 0; j < nl; j++) {
            char *r = chorus_kokoro_en_apply_stress(p[lower[j]].ps, -1);
            if (!r) return NULL;
            free(p[lower[j]].ps);
            p[lower[j]].ps = r;
        }
    }
    size_t tot = 1;
    for (size_t i = 0; i < k; i++) tot += (p[i].ps ? strlen(p[i].ps) : 0) + 1;
    char *o = malloc(tot);
    if (!o) return NULL;
    size_t len = 0;
    for (size_t i = 0; i < k; i++) {
        if (!p[i].ps || !*p[i].ps) continue;
        if (prespace && len && o[len - 1] != ' ') o[len++] = ' ';
        size_t l = strlen(p[i].ps);
        memcpy(o + len, p[i].ps, l);
        len += l;
    }
    o[len] = 0;
    return o;
}

/* A word with parts (well-known, U.S.): misaki's longest-known-span loop over the sub-tokens. */
static char *compound(const struct en *e, const char *w, size_t n, const char *tag, struct ctx *c,
                      struct piece *p, size_t k) {
    size_t left = 0, right = k;
    int fall = 0;
    while (left < right) {
        const char *s = w + p[left].off;
        size_t sl = p[right - 1].off + p[right - 1].len - p[left].off;
        char *ps = lexicon_word(e, s, sl, tag, c);
        if (ps) {
            p[left].ps = ps;
            for (size_t j = left + 1; j < right; j++) p[j].ps = strdup("");
            token_context(c, ps, s, sl, tag);
            right = left;
            left = 0;
        } else if (left + 1 < right) {
            left++;
        } else {
            right--;
            int junk = 1;
            for (size_t j = 0; j < p[right].len; j++) junk &= is_junk(w[p[right].off + j]);
            if (!junk) {
                fall = 1;
                break;
            }
            p[right].ps = strdup("");
            left = 0;
        }
    }
    char *r;
    if (fall) {
        r = fallback(e, w, n);
        if (r) token_context(c, r, w, n, tag);
    } else {
        r = resolve(w, n, p, k);
    }
    for (size_t j = 0; j < k; j++) free(p[j].ps);
    return r;
}

/* ɾ -> T and ʔ -> t, as misaki does for every token (version 1.0). */
static void final_map(char *ps) {
    map_cp(ps, 0x294, 't');
    size_t n = strlen(ps), w = 0;
    for (size_t i = 0; i < n;) { /* ɾ (2 bytes) -> T (1 byte) */
        if ((unsigned char)ps[i] == 0xc9 && (unsigned char)ps[i + 1] == 0xbe) {
            ps[w++] = 'T';
            i += 2;
        } else {
            ps[w++] = ps[i++];
        }
    }
    ps[w] = 0;
}

int chorus_kokoro_en_g2p(struct kokoro_en_tok *t, size_t n, int british,
                         const struct kokoro_en_lex *lex, kokoro_en_fallback_fn fb, void *ud) {
    struct en e = {british, lex ? lex->gold : NULL, lex ? lex->silver : NULL, lex ? lex->user : NULL, fb, ud};
    struct ctx c = {FV_NONE, 0};
    for (size_t i = n; i-- > 0;) {
        struct kokoro_en_tok *k = &t[i];
        if (!k->is_word || k->given) {
            token_context(&c, k->ps, k->text, k->len, NULL);
            continue;
        }
        /* straighten curly apostrophes */
        char w[256];
        size_t wl = 0;
        for (size_t j = 0; j < k->len && wl < sizeof w - 1;) {
            if (j + 3 <= k->len && !memcmp(k->text + j, "\xe2\x80\x99", 3)) {
                w[wl++] = '\'';
                j += 3;
            } else if (j + 3 <= k->len && !memcmp(k->text + j, "\xe2\x80\x98", 3)) {
                w[wl++] = '\'';
                j += 3;
            } else {
                w[wl++] = k->text[j++];
            }
        }
        w[wl] = 0;
        const char *tag = guess_tag(&e, t, n, i);
        if (wl && (!strcmp(w, "-") || !strcmp(w, "\xe2\x80\x93") || !strcmp(w, "--"))) {
            k->ps = strdup("—");
            if (!k->ps) return -1;
            token_context(&c, k->ps, w, wl, tag);
            continue;
        }
        struct piece p[16];
        size_t np = wl < sizeof w - 1 ? subtokens(w, wl, p, 16) : 0;
        char *ps;
        if (np > 1) {
            ps = compound(&e, w, wl, tag, &c, p, np);
        } else {
            ps = whole_word(&e, w, wl, tag, &c);
            if (ps) token_context(&c, ps, w, wl, tag);
        }
        if (ps && k->stress2 != NONE) {
            char *r = chorus_kokoro_en_apply_stress(ps, k->stress2);
            free(ps);
            ps = r;
        }
        if (ps) final_map(ps);
        k->ps = ps;
        if (np <= 1 && !ps) c.future_to = 0;
    }
    return 0;
}
