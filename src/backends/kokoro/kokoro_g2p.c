/* kokoro_g2p.c — see kokoro_g2p.h. */
#include "backends/kokoro/kokoro_g2p.h"

#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/espeak/espeak_shared.h"
#include "backends/kokoro/kokoro_model.h"
#include "chorus/chorus.h"

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

static size_t u8_enc(uint32_t cp, char *o) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
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

/* Append the vocab characters of UTF-8 `s` to token k's phonemes. */
static int add_ps(struct kokoro_tokens *t, struct kokoro_token *k, const char *s, size_t n,
                  const struct kokoro_config *cfg) {
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += (size_t)u8_dec((const unsigned char *)s + i, n - i, &c);
        if (chorus_kokoro_vocab_id(cfg, c) < 0) continue;
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

static int rewrite_en(char **s, int british) {
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

/* espeak phonemes of one word, ties '^', clauses joined by spaces (lock held). */
static char *espeak_word(const char *w) {
    size_t cap = 64, len = 0;
    char *o = malloc(cap);
    if (!o) return NULL;
    o[0] = 0;
    const void *p = w;
    int mode = 0x02 | 0x80 | ('^' << 8);
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

struct g2p_ctx {
    int english, british;
    int failed;
};

static int core_espeak(struct kokoro_tokens *t, struct kokoro_token *k, const char *w, size_t n,
                       const struct kokoro_config *cfg, void *ud) {
    struct g2p_ctx *g = ud;
    char *word = strndup(w, n);
    if (!word) return -1;
    char *ps = espeak_word(word);
    free(word);
    if (!ps) return -1;
    int rc = g->english ? rewrite_en(&ps, g->british) : rewrite_other(&ps);
    if (!rc) rc = add_ps(t, k, ps, strlen(ps), cfg);
    free(ps);
    return rc;
}

static int core_direct(struct kokoro_tokens *t, struct kokoro_token *k, const char *w, size_t n,
                       const struct kokoro_config *cfg, void *ud) {
    return add_ps(t, k, w, n, cfg);
}

int chorus_kokoro_g2p(const char *text, size_t len, const char *lang, const struct kokoro_config *cfg,
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
    struct g2p_ctx g = {strncmp(voice, "en-", 3) == 0, strcmp(voice, "en-gb") == 0, 0};
    chorus_espeak_lock();
    int rc = CHORUS_OK;
    espeak_VOICE want;
    memset(&want, 0, sizeof want);
    want.languages = voice;
    if (espeak_SetVoiceByName(voice) != EE_OK && espeak_SetVoiceByProperties(&want) != EE_OK) {
        snprintf(err, errlen, "kokoro: espeak-ng has no voice '%s' for phonemization (is "
                              "espeak-ng-data installed?)", voice);
        rc = CHORUS_E_UNAVAILABLE;
    } else if (tokenize(text, len, cfg, out, core_espeak, &g)) {
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

size_t chorus_kokoro_tokens_ps(const struct kokoro_tokens *t, size_t a, size_t b, uint32_t *out) {
    size_t n = 0, start = 0, first = 1;
    /* join */
    for (size_t i = a; i < b; i++) {
        const struct kokoro_token *k = &t->t[i];
        for (size_t j = 0; j < k->ph_len; j++) {
            uint32_t c = t->cp[k->ph_off + j];
            if (first && is_space(c)) continue; /* strip leading */
            first = 0;
            if (out) out[n] = c;
            n++;
        }
        if (k->whitespace && !first) {
            if (out) out[n] = ' ';
            n++;
        }
    }
    (void)start;
    /* strip trailing */
    while (n && out && is_space(out[n - 1])) n--;
    if (!out) {
        /* recount trailing spaces without a buffer */
        size_t trail = 0;
        for (size_t i = b; i-- > a;) {
            const struct kokoro_token *k = &t->t[i];
            if (k->whitespace) trail++;
            size_t j = k->ph_len;
            while (j && is_space(t->cp[k->ph_off + j - 1])) j--, trail++;
            if (j) break;
        }
        n = n > trail ? n - trail : 0;
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

size_t chorus_kokoro_chunk_end(const struct kokoro_tokens *t, size_t a, size_t max) {
    if (a >= t->n) return t->n;
    size_t k = a;
    while (k < t->n && chorus_kokoro_tokens_ps_len(t, a, k + 1) <= max) k++;
    if (k == t->n) return k;
    if (k == a) return a + 1; /* one token over the limit: the caller truncates */
    static const uint32_t w0[] = {'!', '.', '?', 0x2026}, w1[] = {':', ';'}, w2[] = {',', 0x2014},
                          bumps[] = {')', 0x201d};
    const uint32_t *ws[3] = {w0, w1, w2};
    size_t wn[3] = {4, 2, 2};
    size_t next = chorus_kokoro_tokens_ps_len(t, a, k + 1);
    for (int w = 0; w < 3; w++) {
        size_t z = k;
        while (z-- > a)
            if (ps_is_one_of(t, z, ws[w], wn[w])) break;
        if (z == (size_t)-1 || z < a) continue;
        z++;
        if (z < k && ps_is_one_of(t, z, bumps, 2)) z++;
        if (next - chorus_kokoro_tokens_ps_len(t, a, z) <= max) return z;
    }
    return k;
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
    for (size_t i = 0; i < n; i++) w += u8_enc(cp[i], o + w);
    o[w] = 0;
    free(cp);
    return o;
}
