/*
 * normalize.c — the normalizer's driver: options (Kokoro-FastAPI's seven switches), the output
 * writer with its offset map, the scanning helpers the rules share, the language-neutral rules
 * and the per-language dispatch. The English rules are chorus_tn_normalize_en*.c, number words
 * normalize_words.c, SSML say-as normalize_sayas.c.
 */
#include "core/util.h"
#include "text/normalize_int.h"

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

/* ---- the output writer -------------------------------------------------------------------- */

void chorus_tn_nw_init(struct nw *w, struct chorus_textbuf *out, const struct chorus_norm_options *o,
             const char *s, size_t n, size_t base) {
    memset(w, 0, sizeof *w);
    w->out = out;
    w->o = o;
    w->s = s;
    w->n = n;
    w->base = base;
    w->work = &w->own_work;
}

static int out_last(const struct nw *w) {
    return w->out->len ? (unsigned char)w->out->text[w->out->len - 1] : ' ';
}

/* Append a space unless the output is empty or already ends in one. */
void chorus_tn_put_space(struct nw *w, size_t src) {
    struct chorus_textbuf *b = w->out;
    if (b->len == 0 || b->text[b->len - 1] == ' ') return;
    if (chorus_textbuf_put(b, " ", 1, src) < 0) w->oom = 1;
}

void chorus_tn_put_copy(struct nw *w, size_t i, size_t n) {
    if (w->sep && n && isalnum((unsigned char)w->s[i])) chorus_tn_put_space(w, w->base + i);
    w->sep = 0;
    if (chorus_textbuf_copy(w->out, w->s + i, n, w->base + i) < 0) w->oom = 1;
}

/* Spoken words for the input span starting at i: all mapped to its start. */
void chorus_tn_put_words(struct nw *w, const char *words, size_t i) {
    if (!words || !*words) return;
    int c = out_last(w);
    if (c != ' ' && c != '(' && c != '"' && c != '\'' && c != '[') chorus_tn_put_space(w, w->base + i);
    if (chorus_textbuf_put(w->out, words, strlen(words), w->base + i) < 0) w->oom = 1;
    w->sep = 1;
}

void chorus_tn_put_sb(struct nw *w, struct sb *b, size_t i) {
    if (b->oom) w->oom = 1;
    else chorus_tn_put_words(w, b->b, i);
    chorus_tn_sb_free(b);
}

/* ---- scanning helpers --------------------------------------------------------------------- */

int chorus_tn_char_at(const struct nw *w, size_t i) {
    NW_WORK(w);
    return i < w->n ? (unsigned char)w->s[i] : 0;
}
int chorus_tn_is_digit_at(const struct nw *w, size_t i) { return isdigit(chorus_tn_char_at(w, i)) != 0; }
int chorus_tn_is_alpha_at(const struct nw *w, size_t i) { return isalpha(chorus_tn_char_at(w, i)) != 0; }
int chorus_tn_is_upper_at(const struct nw *w, size_t i) { return isupper(chorus_tn_char_at(w, i)) != 0; }
int chorus_tn_is_alnum_at(const struct nw *w, size_t i) {
    int c = chorus_tn_char_at(w, i);
    return isalnum(c) || c >= 0x80;
}
size_t chorus_tn_digits_at(const struct nw *w, size_t i) {
    size_t k = 0;
    while (k < 64 && chorus_tn_is_digit_at(w, i + k)) k++;
    return k;
}
size_t chorus_tn_alphas_at(const struct nw *w, size_t i) {
    size_t k = 0;
    while (k < 64 && chorus_tn_is_alpha_at(w, i + k)) k++;
    return k;
}
/* the value of the digits at i (at most nine of them) */
unsigned chorus_tn_uint_at(const struct nw *w, size_t i) {
    unsigned v = 0;
    for (size_t k = 0; k < 9 && chorus_tn_is_digit_at(w, i + k); k++)
        v = v * 10 + (unsigned)(w->s[i + k] - '0');
    return v;
}
/* 1 if nothing word-like follows position i (end, space or punctuation) */
int chorus_tn_word_ends(const struct nw *w, size_t i) { return !chorus_tn_is_alnum_at(w, i); }

int chorus_tn_ci_prefix(const struct nw *w, size_t i, const char *word) {
    size_t k = strlen(word);
    *w->work += k;
    return i + k <= w->n && strncasecmp(w->s + i, word, k) == 0;
}
/* s[i..i+n) is `word`, ignoring case */
int chorus_tn_ci_word(const struct nw *w, size_t i, size_t n, const char *word) {
    return strlen(word) == n && chorus_tn_ci_prefix(w, i, word);
}

static int in_class(const struct nw *w, enum run_class cls, size_t i) {
    unsigned char c = (unsigned char)w->s[i];
    switch (cls) {
    case RUN_CHUNK: /* a URL's extent: to white space or a quote/angle bracket */
        return !chorus_text_space_len(w->s + i, w->n - i) && c != '"' && c != '<' && c != '>';
    case RUN_HOST: return isalnum(c) || c == '-' || c == '.';
    case RUN_LABEL: return isalnum(c) || c == '-';
    case RUN_EMAIL_LOCAL: return isalnum(c) || c == '.' || c == '_' || c == '-' || c == '+';
    case RUN_EMAIL_DOMAIN: return isalnum(c) || c == '.' || c == '-' || c == '_';
    default: return 0;
    }
}

/* Each class is closed under suffixes: the run from any i inside [from, to) also ends at to, so
 * every byte is scanned once per class however many rules ask from however many starts. */
size_t chorus_tn_run_end(struct nw *w, enum run_class cls, size_t i) {
    struct run_memo *m = &w->memo[cls];
    if (i >= m->from && i < m->to) return m->to;
    m->from = m->to = i;
    while (m->to < w->n && in_class(w, cls, m->to)) {
        NW_WORK(w);
        m->to++;
    }
    return m->to;
}

/* ---- the driver --------------------------------------------------------------------------- */

/* languages other than English: white space only, until they get their own rules */
static void normalize_neutral(struct nw *w) {
    const char *s = w->s;
    size_t n = w->n, i = 0;
    while (i < n && !w->oom) {
        size_t k = chorus_text_space_len(s + i, n - i);
        if (k) {
            size_t start = i;
            while (i < n && (k = chorus_text_space_len(s + i, n - i)) > 0) i += k;
            chorus_tn_put_space(w, w->base + start);
            continue;
        }
        /* copy the whole run up to the next white space at once */
        size_t j = i;
        while (j < n && !chorus_text_space_len(s + j, n - j))
            j += chorus_utf8_char_len(s + j, n - j);
        chorus_tn_put_copy(w, i, j - i);
        i = j;
    }
}

/* the per-language hook: add a language here with its own normalize function */
static const struct {
    const char *lang;
    void (*fn)(struct nw *w);
} languages[] = {{"en", chorus_tn_normalize_en}};

int chorus_text_normalize_work(struct chorus_textbuf *out, const char *s, size_t n, size_t base,
                               const char *lang, const struct chorus_norm_options *o,
                               size_t *work) {
    struct chorus_norm_options def;
    if (!o) {
        chorus_norm_options_default(&def);
        o = &def;
    }
    struct nw w;
    chorus_tn_nw_init(&w, out, o, s, n, base);
    /* reserving also NUL-terminates an empty result: callers always get a string */
    if (chorus_textbuf_reserve(out, n + n / 2 + 16) < 0) return -1;
    out->text[out->len] = '\0';
    void (*fn)(struct nw *) = normalize_neutral;
    if (!lang || !*lang) lang = "en";
    for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++) {
        size_t l = strlen(languages[i].lang);
        if (strncasecmp(lang, languages[i].lang, l) == 0 &&
            (lang[l] == '\0' || lang[l] == '-' || lang[l] == '_'))
            fn = languages[i].fn;
    }
    if (!o->normalize) fn = normalize_neutral;
    fn(&w);
    if (work) *work = w.own_work;
    return w.oom ? -1 : 0;
}

int chorus_text_normalize(struct chorus_textbuf *out, const char *s, size_t n, size_t base,
                          const char *lang, const struct chorus_norm_options *o) {
    return chorus_text_normalize_work(out, s, n, base, lang, o, NULL);
}
