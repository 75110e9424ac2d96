/*
 * pron.c — pronunciation dictionaries: parsing, validation, and the rewrite of a segment's text
 * for one engine's notation (pron.h; the format and rules are in docs/text.md).
 */
#include "text/pron.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chorus/chorus.h"

void chorus_pron_init(struct chorus_pron *d) { memset(d, 0, sizeof *d); }

static void entry_free(struct chorus_pron_entry *e) {
    free(e->key);
    free(e->fold);
    for (int k = 0; k < CHORUS_PRON_KINDS; k++) free(e->v[k]);
}

void chorus_pron_free(struct chorus_pron *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) entry_free(&d->e[i]);
    free(d->e);
    memset(d, 0, sizeof *d);
}

int chorus_pron_alphabet_kind(const char *a) {
    if (!a || strcmp(a, "ipa") == 0) return CHORUS_PRON_IPA;
    if (strcmp(a, "x-espeak") == 0 || strcmp(a, "espeak") == 0) return CHORUS_PRON_ESPEAK;
    return -1;
}

/* ---- characters ------------------------------------------------------------------------- */

/* A letter or digit for word boundaries: ASCII alphanumerics and non-ASCII characters other
 * than spaces and punctuation blocks (Latin-1 symbols, General Punctuation, CJK symbols). */
static int word_cp(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    if (chorus_unicode_is_space(c)) return 0;
    if ((c >= 0xA0 && c <= 0xBF) || c == 0xD7 || c == 0xF7) return 0;
    if ((c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F)) return 0;
    if ((c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF0F)) return 0;
    return 1;
}

/* Length of the word character at s[0..n), 0 if there is none. */
static size_t word_at(const char *s, size_t n) {
    uint32_t c;
    int k = chorus_utf8_decode(s, n, &c);
    return k > 0 && word_cp(c) ? (size_t)k : 0;
}

/* 1 if the character ending at s[i] (i > 0) is a word character. */
static int word_before(const char *s, size_t i) {
    size_t j = i - 1;
    while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80 && i - j < 4) j--;
    return word_at(s + j, i - j) == i - j;
}

static size_t word_run(const char *s, size_t n) {
    size_t i = 0, k;
    while (i < n && (k = word_at(s + i, n - i))) i += k;
    return i;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* ---- validation ------------------------------------------------------------------------- */

static int has_control(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return 1;
    return 0;
}

const char *chorus_pron_check_key(const char *k, size_t n) {
    if (n == 0) return "the word is empty";
    if (n > CHORUS_PRON_MAX_KEY) return "the word or phrase is longer than 256 bytes";
    if (!chorus_utf8_valid(k, n, NULL)) return "the word is not valid UTF-8";
    if (has_control(k, n)) return "the word holds a control character";
    if (memchr(k, '[', n) || memchr(k, ']', n) || memchr(k, '=', n))
        return "the word holds [, ] or =";
    if (!word_at(k, n) || !word_before(k, n))
        return "a word or phrase must begin and end with a letter or digit";
    size_t words = 1;
    for (size_t i = 0; i < n; i++) {
        if (k[i] != ' ') continue;
        if (k[i + 1] == ' ') return "the words of a phrase are separated by one space";
        if (++words > CHORUS_PRON_MAX_WORDS) return "a phrase has at most 16 words";
    }
    return NULL;
}

/* espeak-ng's phoneme mnemonics are printable ASCII (espeak-ng/phsource/ph_english names
 * them: letters, digits, @ 3 : ' , _ # % = ^ etc.); brackets would end or nest the [[...]]
 * input, so they and < > \ are refused, and each word is bounded (espeak-ng encodes a word's
 * phonemes into a fixed buffer, translate.c N_WORD_PHONEMES). */
static const char *check_espeak(const char *v, size_t n) {
    size_t word = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == ' ') {
            word = 0;
            continue;
        }
        if (c < 0x21 || c > 0x7E || c == '[' || c == ']' || c == '<' || c == '>' || c == '\\')
            return "espeak phonemes are printable ASCII mnemonics without [ ] < > \\ "
                   "(chorus text phonemize -b espeak shows them)";
        if (++word > CHORUS_PRON_MAX_ESPEAK_WORD) return "an espeak phoneme word is longer than 64 bytes";
    }
    return NULL;
}

const char *chorus_pron_check_value(int kind, const char *v, size_t n) {
    if (n == 0) return "the pronunciation is empty";
    if (n > CHORUS_PRON_MAX_VALUE) return "the pronunciation is longer than 512 bytes";
    if (!chorus_utf8_valid(v, n, NULL)) return "the pronunciation is not valid UTF-8";
    if (has_control(v, n)) return "the pronunciation holds a control character";
    if (v[0] == ' ' || v[n - 1] == ' ') return "the pronunciation begins or ends with a space";
    switch (kind) {
    case CHORUS_PRON_ESPEAK: return check_espeak(v, n);
    case CHORUS_PRON_IPA:
        /* it goes inside misaki's [word](/.../) markup */
        for (size_t i = 0; i < n; i++)
            if (strchr("[]()/", v[i])) return "Kokoro phonemes cannot hold [ ] ( ) or /";
        return NULL;
    case CHORUS_PRON_ALIAS:
        if (memchr(v, '[', n) || memchr(v, ']', n))
            return "an alias cannot hold [ or ] (they start phoneme input)";
        return NULL;
    default: return "unknown kind of pronunciation";
    }
}

/* ---- building ---------------------------------------------------------------------------- */

int chorus_pron_add(struct chorus_pron *d, const char *key, size_t klen, int kind, const char *v,
                    size_t vlen, const char **why) {
    const char *w = chorus_pron_check_key(key, klen);
    if (!w) w = chorus_pron_check_value(kind, v, vlen);
    if (!w && d->n >= CHORUS_PRON_MAX_ENTRIES) w = "too many entries (at most 100000)";
    if (w) {
        if (why) *why = w;
        return -1;
    }
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        struct chorus_pron_entry *p = realloc(d->e, nc * sizeof *p);
        if (!p) return CHORUS_E_NOMEM;
        d->e = p;
        d->cap = nc;
    }
    struct chorus_pron_entry *e = &d->e[d->n];
    memset(e, 0, sizeof *e);
    e->key = malloc(klen + 1);
    e->fold = malloc(klen + 1);
    e->v[kind] = malloc(vlen + 1);
    if (!e->key || !e->fold || !e->v[kind]) {
        entry_free(e);
        return CHORUS_E_NOMEM;
    }
    for (size_t i = 0; i < klen; i++) {
        e->key[i] = key[i];
        e->fold[i] = lower(key[i]);
        if (key[i] >= 'A' && key[i] <= 'Z') e->exact = 1;
    }
    e->key[klen] = e->fold[klen] = '\0';
    memcpy(e->v[kind], v, vlen);
    e->v[kind][vlen] = '\0';
    e->klen = klen;
    e->head = word_run(e->fold, klen);
    e->seq = d->seq++;
    d->n++;
    d->sorted = 0;
    return 0;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int cmp_entry(const void *x, const void *y) {
    const struct chorus_pron_entry *a = x, *b = y;
    int c = cmp_bytes(a->fold, a->head, b->fold, b->head);
    if (!c) c = cmp_bytes(a->key, a->klen, b->key, b->klen);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

int chorus_pron_finish(struct chorus_pron *d) {
    if (d->sorted || d->n == 0) return d->sorted = 1, 0;
    qsort(d->e, d->n, sizeof *d->e, cmp_entry);
    size_t o = 0;
    for (size_t i = 0; i < d->n; i++) {
        struct chorus_pron_entry *e = &d->e[i];
        if (o && d->e[o - 1].klen == e->klen && !memcmp(d->e[o - 1].key, e->key, e->klen)) {
            /* the same word again: its later pronunciations replace the earlier ones */
            struct chorus_pron_entry *t = &d->e[o - 1];
            for (int k = 0; k < CHORUS_PRON_KINDS; k++)
                if (e->v[k]) {
                    free(t->v[k]);
                    t->v[k] = e->v[k];
                    e->v[k] = NULL;
                }
            entry_free(e);
            continue;
        }
        d->e[o++] = *e;
    }
    d->n = o;
    d->sorted = 1;
    return 0;
}

/* ---- the file format ------------------------------------------------------------------- */

static int is_blank_byte(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Trim s[0..*n) of blanks at both ends. */
static const char *trim(const char *s, size_t *n) {
    while (*n && is_blank_byte(s[0])) s++, (*n)--;
    while (*n && is_blank_byte(s[*n - 1])) (*n)--;
    return s;
}

/* One line `WORD = PRONUNCIATION`: 0, or a message in err. */
static int parse_line(struct chorus_pron *d, const char *s, size_t n, const char **why) {
    const char *eq = memchr(s, '=', n);
    if (!eq) return *why = "no '=': write WORD = /kokoro ipa/, WORD = [[espeak]] or WORD = alias", -1;
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    const char *k = trim(s, &kn), *v = trim(eq + 1, &vn);
    char key[CHORUS_PRON_MAX_KEY + 1];
    size_t o = 0;
    for (size_t i = 0; i < kn; i++) {
        int blank = is_blank_byte(k[i]);
        if (blank && o && key[o - 1] == ' ') continue; /* runs of blanks become one space */
        if (o == CHORUS_PRON_MAX_KEY) return *why = "the word or phrase is longer than 256 bytes", -1;
        key[o++] = blank ? ' ' : k[i];
    }
    int kind = CHORUS_PRON_ALIAS;
    if (vn >= 4 && !memcmp(v, "[[", 2) && !memcmp(v + vn - 2, "]]", 2)) {
        kind = CHORUS_PRON_ESPEAK, v += 2, vn -= 4;
    } else if (vn >= 3 && v[0] == '/' && v[vn - 1] == '/') {
        kind = CHORUS_PRON_IPA, v += 1, vn -= 2;
    } else if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
        v += 1, vn -= 2; /* a quoted alias may begin with / or [ */
    }
    int rc = chorus_pron_add(d, key, o, kind, v, vn, why);
    if (rc == CHORUS_E_NOMEM) *why = "out of memory";
    return rc;
}

int chorus_pron_parse(struct chorus_pron *d, const char *text, size_t len, const char *name,
                      char *err, size_t errlen) {
    if (!name) name = "pronunciations";
    if (len > CHORUS_PRON_MAX_FILE) {
        snprintf(err, errlen, "%s: %zu bytes; a pronunciation dictionary has at most %u", name,
                 len, CHORUS_PRON_MAX_FILE);
        return CHORUS_E_CONFIG;
    }
    size_t pos = 0, line = 0;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) pos = 3; /* a byte order mark */
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
        const char *s = trim(text + pos, &n);
        line++;
        pos = end + 1;
        if (n == 0 || s[0] == '#') continue;
        const char *why = NULL;
        int rc = parse_line(d, s, n, &why);
        if (rc) {
            char quoted[80];
            snprintf(quoted, sizeof quoted, "%.*s%s", n > 60 ? 60 : (int)n, s, n > 60 ? "..." : "");
            for (char *q = quoted; *q; q++)
                if ((unsigned char)*q < 0x20) *q = '?';
            chorus_utf8_sanitize(quoted);
            snprintf(err, errlen, "%s:%zu: %s (in \"%s\")", name, line, why, quoted);
            return rc == CHORUS_E_NOMEM ? CHORUS_E_NOMEM : CHORUS_E_CONFIG;
        }
    }
    if (chorus_pron_finish(d) < 0) return CHORUS_E_NOMEM;
    return CHORUS_OK;
}

int chorus_pron_load(struct chorus_pron *d, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open the pronunciation dictionary: %s", path,
                 strerror(errno));
        return CHORUS_E_CONFIG;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int rc = buf ? CHORUS_OK : CHORUS_E_NOMEM;
    while (rc == CHORUS_OK) {
        if (n == cap) {
            char *p = cap > CHORUS_PRON_MAX_FILE ? NULL : realloc(buf, cap * 2);
            if (!p) {
                rc = cap > CHORUS_PRON_MAX_FILE ? CHORUS_E_CONFIG : CHORUS_E_NOMEM;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (rc == CHORUS_OK && ferror(f)) {
        snprintf(err, errlen, "%s: cannot read the pronunciation dictionary", path);
        rc = CHORUS_E_CONFIG;
    } else if (rc == CHORUS_E_CONFIG) {
        snprintf(err, errlen, "%s: larger than %u bytes; a pronunciation dictionary has at most that",
                 path, CHORUS_PRON_MAX_FILE);
    } else if (rc == CHORUS_E_NOMEM) {
        snprintf(err, errlen, "%s: out of memory reading the pronunciation dictionary", path);
    }
    fclose(f);
    if (rc == CHORUS_OK) rc = chorus_pron_parse(d, buf, n, path, err, errlen);
    free(buf);
    return rc;
}

/* ---- the rewrite ------------------------------------------------------------------------ */

struct rw {
    struct chorus_textbuf *out;
    const char *t;
    size_t len;
    const size_t *map;
    enum chorus_pron_notation nt;
};

static int put_mapped(struct chorus_textbuf *b, const char *s, const size_t *m, size_t n) {
    if (chorus_textbuf_reserve(b, n) < 0) return -1;
    memcpy(b->text + b->len, s, n);
    memcpy(b->map + b->len, m, n * sizeof *m);
    b->len += n;
    b->text[b->len] = '\0';
    return 0;
}

/* The kind of e's pronunciation an engine of notation nt speaks (its phonemes, else the
 * alias), or -1 when it has none the engine can use. */
static int usable(const struct chorus_pron_entry *e, enum chorus_pron_notation nt) {
    if (nt == CHORUS_NOTATION_ESPEAK && e->v[CHORUS_PRON_ESPEAK]) return CHORUS_PRON_ESPEAK;
    if (nt == CHORUS_NOTATION_MISAKI && e->v[CHORUS_PRON_IPA]) return CHORUS_PRON_IPA;
    return e->v[CHORUS_PRON_ALIAS] ? CHORUS_PRON_ALIAS : -1;
}

/* Write the pronunciation v (of kind) for t[a..b): espeak's [[v]], misaki's [word](/v/), or
 * the alias; every added byte maps to the word's start (misaki's tail to its end). */
static int put_repl(struct rw *w, size_t a, size_t b, int kind, const char *v) {
    struct chorus_textbuf *o = w->out;
    size_t at = w->map[a], vn = strlen(v);
    switch (kind) {
    case CHORUS_PRON_ESPEAK:
        return chorus_textbuf_put(o, "[[", 2, at) || chorus_textbuf_put(o, v, vn, at) ||
                       chorus_textbuf_put(o, "]]", 2, at) ? -1 : 0;
    case CHORUS_PRON_IPA:
        return chorus_textbuf_put(o, "[", 1, at) || put_mapped(o, w->t + a, w->map + a, b - a) ||
                       chorus_textbuf_put(o, "](/", 3, w->map[b]) ||
                       chorus_textbuf_put(o, v, vn, w->map[b]) ||
                       chorus_textbuf_put(o, "/)", 2, w->map[b]) ? -1 : 0;
    default: return chorus_textbuf_put(o, v, vn, at);
    }
}

/* Length of inline phoneme markup the text already holds at i (kept as it is), else 0. */
static size_t markup_len(const struct rw *w, size_t i) {
    const char *t = w->t + i;
    size_t n = w->len - i;
    if (n < 2 || t[0] != '[') return 0;
    if (w->nt == CHORUS_NOTATION_ESPEAK && t[1] == '[') {
        for (size_t j = 2; j + 1 < n; j++)
            if (t[j] == ']' && t[j + 1] == ']') return j + 2;
        return n;
    }
    if (w->nt != CHORUS_NOTATION_MISAKI) return 0;
    const char *rb = memchr(t + 1, ']', n - 1);
    if (!rb || memchr(t + 1, '[', (size_t)(rb - t) - 1) || (size_t)(rb - t) + 1 >= n || rb[1] != '(')
        return 0;
    const char *rp = memchr(rb + 2, ')', n - (size_t)(rb + 2 - t));
    return rp ? (size_t)(rp - t) + 1 : 0;
}

/* The longest entry of d that matches t at i, ends at a word boundary, stays below `limit`
 * (where a <phoneme> span starts) and has a pronunciation for nt; an exact-case entry beats a
 * case-insensitive one of the same length. */
static const struct chorus_pron_entry *match(const struct chorus_pron *d, const struct rw *w,
                                             size_t i, size_t limit) {
    size_t head = word_run(w->t + i, w->len - i);
    if (head == 0 || head > CHORUS_PRON_MAX_KEY || !d->n) return NULL;
    char hf[CHORUS_PRON_MAX_KEY];
    for (size_t k = 0; k < head; k++) hf[k] = lower(w->t[i + k]);
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_bytes(d->e[mid].fold, d->e[mid].head, hf, head) < 0) lo = mid + 1;
        else hi = mid;
    }
    const struct chorus_pron_entry *best = NULL;
    for (size_t j = lo; j < d->n && !cmp_bytes(d->e[j].fold, d->e[j].head, hf, head); j++) {
        const struct chorus_pron_entry *e = &d->e[j];
        if (e->klen > limit - i || usable(e, w->nt) < 0) continue;
        if (best && (e->klen < best->klen || (e->klen == best->klen && !e->exact))) continue;
        size_t k = 0;
        if (e->exact) k = memcmp(w->t + i, e->key, e->klen) ? 0 : e->klen;
        else
            while (k < e->klen && lower(w->t[i + k]) == e->fold[k]) k++;
        if (k != e->klen) continue;
        size_t end = i + e->klen;
        if (end < w->len && word_at(w->t + end, w->len - end)) continue;
        best = e;
    }
    return best;
}

/* The text position where the span si begins (len if none lies ahead). */
static size_t span_limit(const struct rw *w, const struct chorus_pron_span *sp, size_t i) {
    if (!sp || sp->a >= sp->b) return w->len;
    while (i < w->len && w->map[i] < sp->a) i++;
    return i;
}

int chorus_pron_rewrite(struct chorus_textbuf *out, const char *text, size_t len,
                        const size_t *map, const struct chorus_pron *const *dicts, size_t nd,
                        const struct chorus_pron_span *spans, size_t ns,
                        enum chorus_pron_notation nt) {
    struct rw w = {out, text, len, map, nt};
    chorus_textbuf_clear(out);
    size_t i = 0, copied = 0, si = 0, limit = 0;
    int count = 0;
    while (i < len) {
        while (si < ns && spans[si].b <= map[i]) si++, limit = 0;
        const struct chorus_pron_span *sp = si < ns ? &spans[si] : NULL;
        if (sp && sp->a <= map[i] && map[i] < sp->b && text[i] != ' ') {
            /* an SSML <phoneme>: its content's bytes are pronounced as ph */
            size_t e = i;
            while (e < len && map[e] >= sp->a && map[e] < sp->b) e++;
            while (e > i && text[e - 1] == ' ') e--;
            int k = sp->kind;
            int ok = (nt == CHORUS_NOTATION_ESPEAK && k == CHORUS_PRON_ESPEAK) ||
                     (nt == CHORUS_NOTATION_MISAKI && k == CHORUS_PRON_IPA);
            if (put_mapped(out, text + copied, map + copied, i - copied) ||
                (ok ? put_repl(&w, i, e, k, sp->ph) : put_mapped(out, text + i, map + i, e - i)))
                return CHORUS_E_NOMEM;
            count += ok;
            copied = i = e;
            si++, limit = 0;
            continue;
        }
        size_t skip = markup_len(&w, i);
        if (skip) {
            i += skip;
            continue;
        }
        size_t wl = word_at(text + i, len - i);
        if (!wl || (i > 0 && word_before(text, i))) {
            i += wl ? wl : chorus_utf8_char_len(text + i, len - i);
            continue;
        }
        if (limit <= i) limit = span_limit(&w, sp, i);
        const struct chorus_pron_entry *best = NULL;
        for (size_t k = 0; k < nd; k++) {
            const struct chorus_pron_entry *e = dicts[k] ? match(dicts[k], &w, i, limit) : NULL;
            if (e && (!best || e->klen > best->klen)) best = e;
        }
        if (!best) {
            i += word_run(text + i, len - i);
            continue;
        }
        int k = usable(best, nt);
        if (put_mapped(out, text + copied, map + copied, i - copied) ||
            put_repl(&w, i, i + best->klen, k, best->v[k]))
            return CHORUS_E_NOMEM;
        count++;
        copied = i = i + best->klen;
    }
    if (put_mapped(out, text + copied, map + copied, len - copied) ||
        chorus_textbuf_reserve(out, 0) < 0)
        return CHORUS_E_NOMEM;
    out->map[out->len] = map[len];
    return count;
}
