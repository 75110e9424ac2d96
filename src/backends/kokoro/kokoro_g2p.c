/* kokoro_g2p.c — see kokoro_g2p.h. */
#include "backends/kokoro/kokoro_g2p.h"

#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/espeak/espeak_shared.h"
#include "backends/kokoro/kokoro_en.h"
#include "backends/kokoro/kokoro_model.h"
#include "chorus/chorus.h"
#include "text/text.h"

/* ---------------------------------------------------------------------------------------- */
/* UTF-8                                                                                      */

static int u8_dec(const unsigned char *s, size_t n, uint32_t *cp) {
    if (!n) return 0;
    unsigned c = s[0];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || (size_t)len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

static int is_space(uint32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
           c == 0xa0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200a);
}

/* Punctuation split off words (phonemizer's default marks plus a few). */
static int is_punct(uint32_t c) {
    static const uint32_t p[] = {';', ':', ',', '.', '!', '?', 0xa1, 0xbf, 0x2014, 0x2026, '"',
                                 0xab, 0xbb, 0x201c, 0x201d, '(', ')', '{', '}', '[', ']', 0x2013};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (p[i] == c) return 1;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Token list                                                                                 */

void chorus_kokoro_tokens_release(struct kokoro_tokens *t) {
    if (!t) return;
    free(t->t);
    free(t->cp);
    memset(t, 0, sizeof *t);
}

static int add_cp(struct kokoro_tokens *t, uint32_t c) {
    if (t->ncp == t->cpcap) {
        size_t nc = t->cpcap ? 2 * t->cpcap : 256;
        uint32_t *n = realloc(t->cp, nc * sizeof *n);
        if (!n) return -1;
        t->cp = n;
        t->cpcap = nc;
    }
    t->cp[t->ncp++] = c;
    return 0;
}

static struct kokoro_token *add_tok(struct kokoro_tokens *t, size_t off, size_t len, int word) {
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 64;
        struct kokoro_token *n = realloc(t->t, nc * sizeof *n);
        if (!n) return NULL;
        t->t = n;
        t->cap = nc;
    }
    struct kokoro_token *k = &t->t[t->n++];
    *k = (struct kokoro_token){off, len, t->ncp, 0, 0, word};
    return k;
}

/* The symbols of Kokoro-82M v1.0's vocab (hexgrad/Kokoro-82M config.json), for phonemizing
 * without the model files. */
static const uint32_t builtin_vocab[] = {
    0x20, 0x21, 0x22, 0x28, 0x29, 0x2c, 0x2e, 0x3a, 0x3b, 0x3f,
    0x41, 0x49, 0x4f, 0x51, 0x53, 0x54, 0x57, 0x59, 0x61, 0x62,
    0x63, 0x64, 0x65, 0x66, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
    0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a, 0xe6, 0xe7, 0xf0, 0xf8, 0x14b, 0x153, 0x250,
    0x251, 0x252, 0x254, 0x255, 0x256, 0x259, 0x25a, 0x25b, 0x25c, 0x25f,
    0x261, 0x263, 0x264, 0x265, 0x268, 0x26a, 0x26f, 0x270, 0x272, 0x273,
    0x274, 0x278, 0x279, 0x27b, 0x27d, 0x27e, 0x281, 0x282, 0x283, 0x288,
    0x28a, 0x28b, 0x28c, 0x28e, 0x292, 0x294, 0x29d, 0x2a3, 0x2a4, 0x2a5,
    0x2a6, 0x2a7, 0x2a8, 0x2b0, 0x2b2, 0x2c8, 0x2cc, 0x2d0, 0x303, 0x3b2,
    0x3b8, 0x3c7, 0x1d4a, 0x1d5d, 0x1d7b, 0x2014, 0x201c, 0x201d, 0x2026, 0x2192,
    0x2193, 0x2197, 0x2198, 0xab67,
};

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int in_vocab(const struct kokoro_config *cfg, uint32_t c) {
    if (cfg) return chorus_kokoro_vocab_id(cfg, c) >= 0;
    return bsearch(&c, builtin_vocab, sizeof builtin_vocab / sizeof *builtin_vocab, sizeof c, cmp_u32) != NULL;
}

/* Append the vocab characters of UTF-8 `s` to token k's phonemes. */
static int add_ps(struct kokoro_tokens *t, struct kokoro_token *k, const char *s, size_t n,
                  const struct kokoro_config *cfg) {
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += (size_t)u8_dec((const unsigned char *)s + i, n - i, &c);
        if (!in_vocab(cfg, c)) continue;
        if (add_cp(t, c)) return -1;
        k->ph_len++;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* espeak and misaki's rewrites                                                               */

const char *chorus_kokoro_lang_espeak(const char *lang) {
    static const char *const map[][2] = {
        {"a", "en-us"}, {"b", "en-gb"}, {"e", "es"},    {"f", "fr-fr"}, {"h", "hi"},
        {"i", "it"},    {"p", "pt-br"}, {"en-us", "en-us"}, {"en", "en-us"}, {"en-gb", "en-gb"},
        {"es", "es"},   {"fr", "fr-fr"}, {"fr-fr", "fr-fr"}, {"hi", "hi"}, {"it", "it"},
        {"pt-br", "pt-br"}, {"pt", "pt-br"}};
    if (!lang) return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(lang, map[i][0]) == 0) return map[i][1];
    return NULL;
}

/* Replace every occurrence of `from` in the malloc'd string *s. */
static int repl(char **s, const char *from, const char *to) {
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = *s; (p = strstr(p, from)); p += fl) n++;
    if (!n) return 0;
    size_t sl = strlen(*s);
    char *o = malloc(sl + n * (tl > fl ? tl - fl : 0) + 1), *w = o;
    if (!o) return -1;
    const char *p = *s, *q;
    while ((q = strstr(p, from))) {
        memcpy(w, p, (size_t)(q - p));
        w += q - p;
        memcpy(w, to, tl);
        w += tl;
        p = q + fl;
    }
    strcpy(w, p);
    free(*s);
    *s = o;
    return 0;
}

/* misaki: re.sub(r'(\S)\u0329', r'ᵊ\1', ps), then drop any U+0329 left. */
static int syllabic(char **s) {
    const char *mark = "\xcc\xa9", *schwa = "\xe1\xb5\x8a"; /* U+0329, U+1D4A */
    size_t sl = strlen(*s);
    char *o = malloc(sl * 2 + 1), *w = o;
    if (!o) return -1;
    const unsigned char *p = (const unsigned char *)*s;
    size_t i = 0;
    while (i < sl) {
        uint32_t c;
        int l = u8_dec(p + i, sl - i, &c);
        if (!is_space(c) && i + (size_t)l + 2 <= sl && memcmp(p + i + l, mark, 2) == 0 &&
            c != 0x329) {
            memcpy(w, schwa, 3), w += 3;
            memcpy(w, p + i, (size_t)l), w += l;
            i += (size_t)l + 2;
            continue;
        }
        if (c == 0x329) {
            i += (size_t)l;
            continue;
        }
        memcpy(w, p + i, (size_t)l), w += l;
        i += (size_t)l;
    }
    *w = 0;
    free(*s);
    *s = o;
    return 0;
}

/* Collapse ɹɹ to ɹ: espeak writes the r of a rhotic vowel and the next syllable's r both
 * (during dˈʊ^ɹɹɪŋ, around ɚɹˈa^ʊnd -> əɹɹ), which misaki's lexicon never has except where
 * the spelling doubles the r across a boundary (irregular, earring, far-reaching). */
static int single_r(char **s, const char *word) {
    for (const char *w = word; *w; w++)
        if ((w[0] == 'r' || w[0] == 'R') && (w[1] == 'r' || w[1] == 'R' || (w[1] == '-' && (w[2] == 'r' || w[2] == 'R'))))
            return 0;
    while (strstr(*s, "ɹɹ"))
        if (repl(s, "ɹɹ", "ɹ")) return -1;
    return 0;
}

/* "one", "once" and their compounds are wʌn in misaki's British lexicon; espeak en-gb says wɒn. */
static int gb_one(char **s, const char *word) {
    char lw[64];
    size_t n = strlen(word);
    if (n >= sizeof lw) return 0;
    for (size_t i = 0; i <= n; i++) lw[i] = (char)((word[i] >= 'A' && word[i] <= 'Z') ? word[i] + 32 : word[i]);
    if (!strstr(lw, "one") && !strstr(lw, "once")) return 0;
    return repl(s, "wˈɒn", "wˈʌn") || repl(s, "wˌɒn", "wˌʌn") || repl(s, "wɒn", "wʌn") ? -1 : 0;
}

static int rewrite_en(char **s, int british, const char *word) {
    /* British SQUARE and NEAR first: misaki's table turns every e into A (SQUARE would become
     * Aə) and its iə rule never sees espeak's tied i^ə; its lexicon has ɛː and ɪə. */
    static const char *const gb0[][2] = {{"e^ə", "ɛː"}, {"i^ə", "ɪə"}, {"ɪ^ə", "ɪə"}};
    if (british)
        for (size_t i = 0; i < 3; i++)
            if (repl(s, gb0[i][0], gb0[i][1])) return -1;
    /* misaki EspeakFallback.E2M, longest keys first (stable for equal lengths). */
    static const char *const e2m[][2] = {
        {"ʔˌn\xcc\xa9", "ʔn"}, {"ʔn\xcc\xa9", "ʔn"}, {"a^ɪ", "I"}, {"a^ʊ", "W"}, {"d^ʒ", "ʤ"},
        {"e^ɪ", "A"},  {"t^ʃ", "ʧ"}, {"ɔ^ɪ", "Y"}, {"ə^l", "ᵊl"}, {"ʲo", "jo"}, {"ʲə", "jə"},
        {"e", "A"},    {"ʲ", ""},    {"ɚ", "əɹ"},  {"r", "ɹ"},   {"x", "k"},   {"ç", "k"},
        {"ɐ", "ə"},    {"ɬ", "l"},   {"\xcc\x83", ""}};
    for (size_t i = 0; i < sizeof e2m / sizeof e2m[0]; i++)
        if (repl(s, e2m[i][0], e2m[i][1])) return -1;
    if (syllabic(s)) return -1;
    static const char *const gb[][2] = {{"e^ə", "ɛː"}, {"iə", "ɪə"}, {"ə^ʊ", "Q"}};
    static const char *const us[][2] = {
        {"o^ʊ", "O"}, {"ɜːɹ", "ɜɹ"}, {"ɜː", "ɜɹ"}, {"ɪə", "iə"}, {"ː", ""}};
    if (british) {
        for (size_t i = 0; i < 3; i++)
            if (repl(s, gb[i][0], gb[i][1])) return -1;
    } else {
        for (size_t i = 0; i < 5; i++)
            if (repl(s, us[i][0], us[i][1])) return -1;
    }
    if (repl(s, "o", "ɔ") || repl(s, "ɾ", "T") || repl(s, "ʔ", "t") || repl(s, "^", ""))
        return -1;
    if (single_r(s, word)) return -1;
    if (british && gb_one(s, word)) return -1;
    return 0;
}

static int rewrite_other(char **s) {
    static const char *const e2m[][2] = {
        {"a^ɪ", "I"}, {"a^ʊ", "W"}, {"d^z", "ʣ"}, {"d^ʒ", "ʤ"}, {"e^ɪ", "A"}, {"o^ʊ", "O"},
        {"ə^ʊ", "Q"}, {"s^s", "S"}, {"t^s", "ʦ"}, {"t^ʃ", "ʧ"}, {"ɔ^ɪ", "Y"}};
    for (size_t i = 0; i < sizeof e2m / sizeof e2m[0]; i++)
        if (repl(s, e2m[i][0], e2m[i][1])) return -1;
    /* language-switch flags "(en)" are removed, like phonemizer's remove-flags */
    char *p;
    while ((p = strchr(*s, '('))) {
        char *q = strchr(p, ')');
        if (!q) break;
        memmove(p, q + 1, strlen(q + 1) + 1);
    }
    if (repl(s, "^", "") || repl(s, "-", "")) return -1;
    return 0;
}

/* espeak phonemes of one word in `mode` (espeak_TextToPhonemes' phonememode), clauses joined
 * by spaces (lock held). */
static char *espeak_mode(const char *w, int mode) {
    size_t cap = 64, len = 0;
    char *o = malloc(cap);
    if (!o) return NULL;
    o[0] = 0;
    const void *p = w;
    while (p) {
        const char *ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, mode);
        if (!ph) break;
        while (*ph == ' ') ph++;
        size_t l = strlen(ph);
        while (l && ph[l - 1] == ' ') l--;
        if (!l) continue;
        if (len + l + 2 > cap) {
            while (len + l + 2 > cap) cap *= 2;
            char *n = realloc(o, cap);
            if (!n) {
                free(o);
                return NULL;
            }
            o = n;
        }
        if (len) o[len++] = ' ';
        memcpy(o + len, ph, l);
        len += l;
        o[len] = 0;
    }
    return o;
}

/* IPA with '^' ties inside multi-letter phonemes. */
static char *espeak_word(const char *w) { return espeak_mode(w, 0x02 | 0x80 | ('^' << 8)); }

/* Split s at '_' into at most max segments with leading stress marks dropped; returns the
 * count, or 0 when there are more. */
static size_t segments(char *s, char **seg, size_t max) {
    size_t k = 0;
    for (char *p = s, *q; p; p = q) {
        q = strchr(p, '_');
        if (q) *q++ = 0;
        while (*p == '\'' || *p == ',' || !strncmp(p, "ˈ", 2) || !strncmp(p, "ˌ", 2)) p += *p == '\'' || *p == ',' ? 1 : 2;
        if (!*p) continue;
        if (k == max) return 0;
        seg[k++] = p;
    }
    return k;
}

/* British BATH: espeak en-gb writes the BATH vowel (its phoneme aa) as IPA a, the TRAP vowel's
 * symbol; misaki's lexicon has ɑː (after, last, dance). The phoneme names, split by phoneme,
 * say which a of the IPA is which (lock held). */
static int gb_bath(char **ps, const char *word) {
    if (!strpbrk(word, "aA")) return 0;
    char *names = espeak_mode(word, '_' << 8), *ipa = espeak_mode(word, 0x02 | ('_' << 8));
    char *ns[64], *is[64];
    size_t nn = names ? segments(names, ns, 64) : 0, ni = ipa ? segments(ipa, is, 64) : 0;
    int bath[64], nb = 0, any = 0;
    if (nn && nn == ni)
        for (size_t i = 0; i < ni; i++)
            if (!strcmp(is[i], "a")) {
                bath[nb] = !strcmp(ns[i], "aa");
                any |= bath[nb++];
            }
    free(names);
    free(ipa);
    if (!any) return 0;
    /* the standalone a's of the tied IPA, in order */
    size_t len = strlen(*ps), k = 0;
    int count = 0;
    for (size_t i = 0; i < len; i++)
        if ((*ps)[i] == 'a' && (i == 0 || (*ps)[i - 1] != '^') && (*ps)[i + 1] != '^') count++;
    if (count != nb) return 0;
    char *o = malloc(len + 3 * (size_t)nb + 1);
    if (!o) return -1;
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        char c = (*ps)[i];
        if (c == 'a' && (i == 0 || (*ps)[i - 1] != '^') && (*ps)[i + 1] != '^' && bath[k++]) {
            memcpy(o + w, "ɑː", 4);
            w += 4;
        } else {
            o[w++] = c;
        }
    }
    o[w] = 0;
    free(*ps);
    *ps = o;
    return 0;
}

/* misaki's EspeakFallback for one English word (lock held): malloc'd phonemes or NULL. */
static char *espeak_en(const char *word, int british) {
    char *ps = espeak_word(word);
    if (!ps) return NULL;
    if ((british && gb_bath(&ps, word)) || rewrite_en(&ps, british, word)) {
        free(ps);
        return NULL;
    }
    return ps;
}

/* ---------------------------------------------------------------------------------------- */
/* Tokenizing                                                                                 */

/* Split [s, e) of text into leading punctuation, core, trailing punctuation. */
static void split_run(const char *text, size_t s, size_t e, size_t *cs, size_t *ce) {
    size_t a = s, b = e;
    while (a < b) {
        uint32_t c;
        int l = u8_dec((const unsigned char *)text + a, b - a, &c);
        if (!is_punct(c)) break;
        a += (size_t)l;
    }
    while (b > a) {
        size_t q = b - 1;
        while (q > a && ((unsigned char)text[q] & 0xc0) == 0x80) q--;
        uint32_t c;
        u8_dec((const unsigned char *)text + q, b - q, &c);
        if (!is_punct(c)) break;
        b = q;
    }
    *cs = a;
    *ce = b;
}

static int add_punct(struct kokoro_tokens *t, const char *text, size_t s, size_t e,
                     const struct kokoro_config *cfg) {
    if (s >= e) return 0;
    struct kokoro_token *k = add_tok(t, s, e - s, 0);
    if (!k) return -1;
    return add_ps(t, k, text + s, e - s, cfg);
}

typedef int (*core_fn)(struct kokoro_tokens *t, struct kokoro_token *k, const char *w, size_t n,
                       const struct kokoro_config *cfg, void *ud);

static int tokenize(const char *text, size_t len, const struct kokoro_config *cfg,
                    struct kokoro_tokens *out, core_fn fn, void *ud) {
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        int l = u8_dec((const unsigned char *)text + i, len - i, &c);
        if (is_space(c)) {
            i += (size_t)l;
            continue;
        }
        size_t s = i;
        while (i < len) {
            l = u8_dec((const unsigned char *)text + i, len - i, &c);
            if (is_space(c)) break;
            i += (size_t)l;
        }
        size_t cs, ce, first = out->n;
        split_run(text, s, i, &cs, &ce);
        if (add_punct(out, text, s, cs, cfg)) return -1;
        if (ce > cs) {
            struct kokoro_token *k = add_tok(out, cs, ce - cs, 1);
            if (!k || fn(out, k, text + cs, ce - cs, cfg, ud)) return -1;
        }
        if (add_punct(out, text, ce, i, cfg)) return -1;
        if (out->n > first && i < len) out->t[out->n - 1].whitespace = 1;
    }
    return 0;
}

/* A dotted abbreviation (U.S, Ph.D, e.g): letters in runs of at most two, with a '.' inside. */
static int dotted(const char *w, size_t n) {
    size_t run = 0;
    int dot = 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        if (c == '.') {
            dot |= i > 0;
            run = 0;
        } else if (((c | 32) >= 'a' && (c | 32) <= 'z') && ++run <= 2) {
            continue;
        } else {
            return 0;
        }
    }
    return dot;
}

/* English: words and punctuation of the whole text first, then misaki's rules right to left
 * (a word's form depends on the next one), then the tokens in order. */
struct en_list {
    struct kokoro_en_tok *t;
    size_t n, cap;
};

static int en_add(struct en_list *l, const char *text, size_t s, size_t e, int word) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        struct kokoro_en_tok *x = realloc(l->t, nc * sizeof *x);
        if (!x) return -1;
        l->t = x;
        l->cap = nc;
    }
    struct kokoro_en_tok *k = &l->t[l->n];
    *k = (struct kokoro_en_tok){text + s, e - s, word, 0, NULL, 0, KOKORO_EN_NO_STRESS};
    if (!word && !(k->ps = strndup(text + s, e - s))) return -1;
    l->n++;
    return 0;
}

/* misaki's inline markup at text[i]: [word](/phonemes/) gives the word's phonemes, [word](N)
 * its stress (N = -2, -1, -0.5, 0, 0.5, 1, 2). Returns the byte after it, or 0 when there is no
 * such markup here; *ws..*we is the word, *fs..*fe what is in the parentheses. */
static size_t en_link(const char *text, size_t len, size_t i, size_t *ws, size_t *we, size_t *fs,
                      size_t *fe) {
    if (i >= len || text[i] != '[') return 0;
    const char *rb = memchr(text + i + 1, ']', len - i - 1);
    if (!rb || rb == text + i + 1 || (size_t)(rb - text) + 1 >= len || rb[1] != '(') return 0;
    const char *rp = memchr(rb + 2, ')', len - (size_t)(rb + 2 - text));
    if (!rp || memchr(text + i + 1, '[', (size_t)(rb - text) - i - 1)) return 0;
    *ws = i + 1;
    *we = (size_t)(rb - text);
    *fs = (size_t)(rb - text) + 2;
    *fe = (size_t)(rp - text);
    return *fe + 1;
}

/* The stress of a link's feature, twice over, or KOKORO_EN_NO_STRESS. */
static int link_stress(const char *f, size_t n) {
    static const char *const v[] = {"-2", "-1", "-0.5", "0", "0.5", "+0.5", "1", "+1", "2", "+2"};
    static const int s2[] = {-4, -2, -1, 0, 1, 1, 2, 2, 4, 4};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        if (strlen(v[k]) == n && !memcmp(f, v[k], n)) return s2[k];
    return KOKORO_EN_NO_STRESS;
}

/* Add the markup at text[i] (see en_link) as one word token; returns its end or 0. */
static size_t en_add_link(const char *text, size_t len, size_t i, struct en_list *l, int *oom) {
    size_t ws, we, fs, fe, end = en_link(text, len, i, &ws, &we, &fs, &fe);
    if (!end) return 0;
    if (en_add(l, text, ws, we, 1)) return *oom = 1, 0;
    struct kokoro_en_tok *k = &l->t[l->n - 1];
    if (fe - fs >= 2 && text[fs] == '/' && text[fe - 1] == '/') {
        if (!(k->ps = strndup(text + fs + 1, fe - fs - 2))) return *oom = 1, 0;
        k->given = 1;
    } else {
        k->stress2 = link_stress(text + fs, fe - fs);
    }
    return end;
}

static int en_spans(const char *text, size_t len, struct en_list *l) {
    size_t i = 0;
    while (i < len) {
        uint32_t c;
        int cl = u8_dec((const unsigned char *)text + i, len - i, &c);
        if (is_space(c)) {
            i += (size_t)cl;
            continue;
        }
        /* [word](/phonemes/), after any opening punctuation */
        size_t p = i, x;
        while (p < len && (text[p] == '"' || text[p] == '(')) p++;
        if (en_link(text, len, p, &x, &x, &x, &x)) {
            size_t first = l->n;
            int oom = 0;
            if (p > i && en_add(l, text, i, p, 0)) return -1;
            size_t end = en_add_link(text, len, p, l, &oom), e = end;
            if (oom) return -1;
            /* what follows up to white space: punctuation, or more of the word ('s) */
            while (e < len) {
                cl = u8_dec((const unsigned char *)text + e, len - e, &c);
                if (is_space(c)) break;
                e += (size_t)cl;
            }
            size_t cs, ce;
            split_run(text, end, e, &cs, &ce);
            if (cs > end && en_add(l, text, end, cs, 0)) return -1;
            if (ce > cs && en_add(l, text, cs, ce, 1)) return -1;
            if (e > ce && en_add(l, text, ce, e, 0)) return -1;
            if (l->n > first && e < len) l->t[l->n - 1].space_after = 1;
            i = e;
            continue;
        }
        size_t s = i;
        while (i < len) {
            cl = u8_dec((const unsigned char *)text + i, len - i, &c);
            if (is_space(c)) break;
            i += (size_t)cl;
        }
        size_t cs, ce, first = l->n;
        split_run(text, s, i, &cs, &ce);
        /* "U.S." keeps its last full stop (no pause inside a sentence), except at the end */
        if (ce < i && text[ce] == '.' && dotted(text + cs, ce - cs) && i < len) ce++;
        if (cs > s && en_add(l, text, s, cs, 0)) return -1;
        if (ce > cs && en_add(l, text, cs, ce, 1)) return -1;
        if (i > ce && en_add(l, text, ce, i, 0)) return -1;
        if (l->n > first && i < len) l->t[l->n - 1].space_after = 1;
    }
    return 0;
}

static char *en_fallback(void *ud, const char *word) { return espeak_en(word, *(int *)ud); }

int chorus_kokoro_g2p_english(const char *text, size_t len, int british,
                              const struct kokoro_config *cfg, const struct kokoro_en_lex *lex,
                              kokoro_en_fallback_fn fb, void *ud, struct kokoro_tokens *out) {
    struct en_list l = {0};
    memset(out, 0, sizeof *out);
    int rc = en_spans(text, len, &l);
    if (!rc) rc = chorus_kokoro_en_g2p(l.t, l.n, british, lex, fb, ud);
    for (size_t i = 0; !rc && i < l.n; i++) {
        const struct kokoro_en_tok *e = &l.t[i];
        struct kokoro_token *k = add_tok(out, (size_t)(e->text - text), e->len, e->is_word);
        if (!k) rc = -1;
        else if (e->ps) rc = add_ps(out, k, e->ps, strlen(e->ps), cfg);
        if (!rc) out->t[out->n - 1].whitespace = e->space_after;
    }
    for (size_t i = 0; i < l.n; i++) free(l.t[i].ps);
    free(l.t);
    if (rc) chorus_kokoro_tokens_release(out);
    return rc;
}

static int core_espeak(struct kokoro_tokens *t, struct kokoro_token *k, const char *w, size_t n,
                       const struct kokoro_config *cfg, void *ud) {
    (void)ud;
    char *word = strndup(w, n);
    if (!word) return -1;
    char *ps = espeak_word(word);
    free(word);
    if (!ps) return -1;
    int rc = rewrite_other(&ps);
    if (!rc) rc = add_ps(t, k, ps, strlen(ps), cfg);
    free(ps);
    return rc;
}

static int core_direct(struct kokoro_tokens *t, struct kokoro_token *k, const char *w, size_t n,
                       const struct kokoro_config *cfg, void *ud) {
    (void)ud;
    return add_ps(t, k, w, n, cfg);
}

int chorus_kokoro_g2p(const char *text, size_t len, const char *lang, const struct kokoro_config *cfg,
               struct kokoro_tokens *out, char *err, size_t errlen) {
    return chorus_kokoro_g2p_lex(text, len, lang, cfg, NULL, out, err, errlen);
}

int chorus_kokoro_g2p_lex(const char *text, size_t len, const char *lang,
                          const struct kokoro_config *cfg, const struct kokoro_en_lex *lex,
                          struct kokoro_tokens *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *voice = chorus_kokoro_lang_espeak(lang);
    if (!voice) {
        snprintf(err, errlen,
                 "kokoro: language '%s' is not supported (use a, b, e, f, h, i, p or en-us, "
                 "en-gb, es, fr-fr, hi, it, pt-br)",
                 lang ? lang : "(none)");
        return CHORUS_E_INVALID;
    }
    int r = chorus_espeak_init(err, errlen);
    if (r < 0) return r;
    int english = strncmp(voice, "en-", 3) == 0, british = strcmp(voice, "en-gb") == 0;
    chorus_espeak_lock();
    int rc = CHORUS_OK;
    espeak_VOICE want;
    memset(&want, 0, sizeof want);
    want.languages = voice;
    if (espeak_SetVoiceByName(voice) != EE_OK && espeak_SetVoiceByProperties(&want) != EE_OK) {
        snprintf(err, errlen, "kokoro: espeak-ng has no voice '%s' for phonemization (is "
                              "espeak-ng-data installed?)", voice);
        rc = CHORUS_E_UNAVAILABLE;
    } else if (english ? chorus_kokoro_g2p_english(text, len, british, cfg, lex, en_fallback, &british, out)
                       : tokenize(text, len, cfg, out, core_espeak, NULL)) {
        snprintf(err, errlen, "kokoro: out of memory during phonemization");
        rc = CHORUS_E_NOMEM;
    }
    chorus_espeak_unlock();
    if (rc) chorus_kokoro_tokens_release(out);
    return rc;
}

int chorus_kokoro_tokens_from_phonemes(const char *ps, size_t len, const struct kokoro_config *cfg,
                                struct kokoro_tokens *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (tokenize(ps, len, cfg, out, core_direct, NULL)) {
        chorus_kokoro_tokens_release(out);
        snprintf(err, errlen, "kokoro: out of memory");
        return CHORUS_E_NOMEM;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Phoneme strings, chunks, timestamps                                                        */

/* The phoneme string of tokens [a, b) with leading and trailing spaces stripped. With out NULL
 * only the length is computed. Spaces are written only once a non-space follows them, so the
 * string never goes past the length the counting pass returns. */
static void ps_put(uint32_t *out, size_t *n, size_t *pending, uint32_t c) {
    if (is_space(c)) {
        if (*n) (*pending)++; /* leading spaces are dropped */
        return;
    }
    for (; *pending; (*pending)--, (*n)++)
        if (out) out[*n] = ' ';
    if (out) out[*n] = c;
    (*n)++;
}

size_t chorus_kokoro_tokens_ps(const struct kokoro_tokens *t, size_t a, size_t b, uint32_t *out) {
    size_t n = 0, pending = 0;
    for (size_t i = a; i < b; i++) {
        const struct kokoro_token *k = &t->t[i];
        for (size_t j = 0; j < k->ph_len; j++) ps_put(out, &n, &pending, t->cp[k->ph_off + j]);
        if (k->whitespace) ps_put(out, &n, &pending, ' ');
    }
    return n;
}

size_t chorus_kokoro_tokens_ps_len(const struct kokoro_tokens *t, size_t a, size_t b) {
    return chorus_kokoro_tokens_ps(t, a, b, NULL);
}

static int ps_is_one_of(const struct kokoro_tokens *t, size_t i, const uint32_t *set, size_t n) {
    const struct kokoro_token *k = &t->t[i];
    if (k->ph_len != 1) return 0;
    for (size_t j = 0; j < n; j++)
        if (t->cp[k->ph_off] == set[j]) return 1;
    return 0;
}

static const uint32_t w_sentence[] = {'!', '.', '?', 0x2026}, w_clause[] = {':', ';'},
                      w_comma[] = {',', 0x2014}, w_bumps[] = {')', 0x201d};
static const uint32_t *const w_marks[3] = {w_sentence, w_clause, w_comma};
static const size_t w_counts[3] = {4, 2, 2};

/* The first k > a with tokens [a, k+1) over `max` phonemes, or n. */
static size_t chunk_fit(const struct kokoro_tokens *t, size_t a, size_t max) {
    size_t k = a;
    while (k < t->n && chorus_kokoro_tokens_ps_len(t, a, k + 1) <= max) k++;
    return k;
}

/* The end of a chunk whose last mark is token z: past it, and past a closing bracket or quote
 * right after it (before k). */
static size_t after_mark(const struct kokoro_tokens *t, size_t z, size_t k) {
    return z + 1 < k && ps_is_one_of(t, z + 1, w_bumps, 2) ? z + 2 : z + 1;
}

/* The end after the last token of tokens [a, k) in marks class w, or a when there is none. */
static size_t last_mark_end(const struct kokoro_tokens *t, size_t a, size_t k, int w) {
    for (size_t z = k; z-- > a;)
        if (ps_is_one_of(t, z, w_marks[w], w_counts[w])) return after_mark(t, z, k);
    return a;
}

size_t chorus_kokoro_chunk_end(const struct kokoro_tokens *t, size_t a, size_t max) {
    if (a >= t->n) return t->n;
    size_t k = chunk_fit(t, a, max);
    if (k == t->n) return k;
    if (k == a) return a + 1; /* one token over the limit: the caller truncates */
    size_t next = chorus_kokoro_tokens_ps_len(t, a, k + 1);
    for (int w = 0; w < 3; w++) {
        size_t z = last_mark_end(t, a, k, w);
        if (z > a && next - chorus_kokoro_tokens_ps_len(t, a, z) <= max) return z;
    }
    return k;
}

size_t chorus_kokoro_chunk_end_target(const struct kokoro_tokens *t, size_t a, size_t target,
                                      size_t max) {
    if (a >= t->n) return t->n;
    if (target >= max) return chorus_kokoro_chunk_end(t, a, max);
    size_t k = chunk_fit(t, a, target);
    if (k == t->n) return k;
    /* whole sentences within the target, else the first one's clauses */
    for (int w = 0; w < 3; w++) {
        size_t z = last_mark_end(t, a, k, w);
        if (z > a) return z;
    }
    /* no mark within the target: the first sentence whole when it fits in max */
    size_t km = chunk_fit(t, a, max);
    for (size_t z = k; z < km; z++)
        if (ps_is_one_of(t, z, w_sentence, 4)) return after_mark(t, z, km);
    return chorus_kokoro_chunk_end(t, a, max);
}

void chorus_kokoro_join_timestamps(const struct kokoro_tokens *t, size_t a, size_t b, const int *dur,
                            size_t n_dur, double *start, double *end) {
    for (size_t q = a; q < b; q++) start[q - a] = end[q - a] = -1;
    if (b <= a || n_dur < 3) return;
    const double div = 80.0;
    long left = 2L * (dur[0] - 3 > 0 ? dur[0] - 3 : 0), right = left;
    size_t i = 1;
    for (size_t q = a; q < b; q++) {
        const struct kokoro_token *k = &t->t[q];
        if (i >= n_dur - 1) break;
        if (k->ph_len == 0) {
            if (k->whitespace) {
                i++;
                if (i >= n_dur) break;
                left = right + dur[i];
                right = left + dur[i];
                i++;
            }
            continue;
        }
        size_t j = i + k->ph_len;
        if (j >= n_dur) break;
        start[q - a] = (double)left / div;
        long tok = 0;
        for (size_t x = i; x < j; x++) tok += dur[x];
        long space = k->whitespace ? dur[j] : 0;
        left = right + 2 * tok + space;
        end[q - a] = (double)left / div;
        right = left + space;
        i = j + (k->whitespace ? 1 : 0);
    }
}

char *chorus_kokoro_tokens_ps_utf8(const struct kokoro_tokens *t, size_t a, size_t b) {
    size_t n = chorus_kokoro_tokens_ps_len(t, a, b);
    uint32_t *cp = malloc((n + 1) * sizeof *cp);
    char *o = malloc(n * 4 + 1);
    if (!cp || !o) {
        free(cp);
        free(o);
        return NULL;
    }
    n = chorus_kokoro_tokens_ps(t, a, b, cp);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) w += chorus_utf8_encode(cp[i], o + w);
    o[w] = 0;
    free(cp);
    return o;
}
