/* kokoro_lexicon.c — see kokoro_lexicon.h. */
#include "backends/kokoro/kokoro_lexicon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chorus/chorus.h"

#define MAX_KEY 128       /* bytes of a word */
#define MAX_PS 256        /* bytes of one pronunciation */
#define MAX_TAG 16        /* bytes of a POS tag */
#define MAX_FILE (64u << 20)

struct builder {
    char *pool;
    size_t len, cap;
    uint32_t *keys;
    size_t n, kcap;
};

static int put(struct builder *b, const void *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 1 << 16;
        while (b->len + n + 1 > nc) nc *= 2;
        if (nc > UINT32_MAX) return -1;
        char *p = realloc(b->pool, nc);
        if (!p) return -1;
        b->pool = p;
        b->cap = nc;
    }
    memcpy(b->pool + b->len, s, n);
    b->len += n;
    return 0;
}

/* A key or pronunciation: no NUL, no control character (our separators are controls). */
static int clean(const char *s, size_t n, size_t max) {
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

static int tag_ok(const char *s) {
    size_t n = strlen(s);
    if (!n || n > MAX_TAG) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || s[i] == '$'))
            return 0;
    return 1;
}

/* ---- a reader for exactly this JSON shape: {"word": "ps" | {"TAG": "ps" | null, ...}, ...}.
 * jansson took 1.5 s and 25 MB for one 3 MB file (a hash table per object); this pass writes the
 * decoded strings straight into the pool. Everything else JSON allows is rejected. ---- */

struct rd {
    const char *s;
    size_t n, i;
    const char *why;
};

static void ws(struct rd *r) {
    while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r')) r->i++;
}

static int eat(struct rd *r, char c) {
    ws(r);
    if (r->i < r->n && r->s[r->i] == c) {
        r->i++;
        return 1;
    }
    return 0;
}

static int hex4(const char *s, unsigned *v) {
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : (c | 32) >= 'a' && (c | 32) <= 'f' ? (unsigned)((c | 32) - 'a' + 10) : 16;
        if (d > 15) return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* Valid UTF-8 (no overlong forms, no surrogates). */
static int utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!l || i + l > n) return 0;
        uint32_t v = l == 1 ? c : l == 2 ? c & 0x1f : l == 3 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; k < l; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            v = v << 6 | (s[i + k] & 0x3f);
        }
        if ((l == 2 && v < 0x80) || (l == 3 && v < 0x800) || (l == 4 && (v < 0x10000 || v > 0x10ffff)) ||
            (v >= 0xd800 && v <= 0xdfff))
            return 0;
        i += l;
    }
    return 1;
}

/* A JSON string decoded into out (at most cap bytes); returns its length or -1. */
static long str(struct rd *r, char *out, size_t cap) {
    ws(r);
    if (r->i >= r->n || r->s[r->i] != '"') return r->why = "expected a string", -1;
    r->i++;
    size_t w = 0;
    while (r->i < r->n && r->s[r->i] != '"') {
        unsigned char c = (unsigned char)r->s[r->i++];
        char b[4];
        size_t bl = 1;
        b[0] = (char)c;
        if (c < 0x20) return r->why = "a control character inside a string", -1;
        if (c == '\\') {
            if (r->i >= r->n) break;
            char e = r->s[r->i++];
            const char *m = strchr("\"\\/bfnrt", e);
            if (e && m) {
                b[0] = "\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"];
            } else if (e == 'u') {
                unsigned v, lo;
                if (r->i + 4 > r->n || hex4(r->s + r->i, &v)) return r->why = "a bad \\u escape", -1;
                r->i += 4;
                if (v >= 0xd800 && v < 0xdc00) {
                    if (r->i + 6 > r->n || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u' ||
                        hex4(r->s + r->i + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                        return r->why = "a lone surrogate escape", -1;
                    r->i += 6;
                    v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
                } else if (v >= 0xdc00 && v <= 0xdfff) {
                    return r->why = "a lone surrogate escape", -1;
                }
                if (v < 0x80) b[0] = (char)v;
                else if (v < 0x800) b[0] = (char)(0xc0 | v >> 6), b[1] = (char)(0x80 | (v & 0x3f)), bl = 2;
                else if (v < 0x10000)
                    b[0] = (char)(0xe0 | v >> 12), b[1] = (char)(0x80 | ((v >> 6) & 0x3f)), b[2] = (char)(0x80 | (v & 0x3f)), bl = 3;
                else
                    b[0] = (char)(0xf0 | v >> 18), b[1] = (char)(0x80 | ((v >> 12) & 0x3f)),
                    b[2] = (char)(0x80 | ((v >> 6) & 0x3f)), b[3] = (char)(0x80 | (v & 0x3f)), bl = 4;
            } else {
                return r->why = "a bad escape", -1;
            }
        }
        if (w + bl > cap) return r->why = "a word or pronunciation is too long", -1;
        memcpy(out + w, b, bl);
        w += bl;
    }
    if (r->i >= r->n) return r->why = "the file ends inside a string", -1;
    r->i++;
    if (!utf8_ok((const unsigned char *)out, w)) return r->why = "a string is not UTF-8", -1;
    return (long)w;
}

static int is_null(struct rd *r) {
    ws(r);
    if (r->n - r->i >= 4 && !memcmp(r->s + r->i, "null", 4)) {
        r->i += 4;
        return 1;
    }
    return 0;
}

/* One value into the pool: 0, -1 out of memory, 1 malformed (r->why). */
static int put_value(struct builder *b, struct rd *r) {
    char buf[MAX_PS + 4];
    long l;
    ws(r);
    if (r->i < r->n && r->s[r->i] == '"') {
        if ((l = str(r, buf, MAX_PS)) < 0) return 1;
        if (!clean(buf, (size_t)l, MAX_PS)) return r->why = "a pronunciation is empty or has control characters", 1;
        return put(b, buf, (size_t)l) ? -1 : 0;
    }
    if (!eat(r, '{')) return r->why = "a value is neither a string nor an object of tags", 1;
    int def = 0, first = 1;
    while (!eat(r, '}')) {
        if (!first && !eat(r, ',')) return r->why = "expected , or } in a tagged value", 1;
        first = 0;
        char tag[MAX_TAG + 8];
        if ((l = str(r, tag, MAX_TAG)) < 0) return 1;
        tag[l] = 0;
        if ((size_t)l != strlen(tag) || !tag_ok(tag)) return r->why = "a tag is not a short name", 1;
        def |= !strcmp(tag, "DEFAULT");
        if (!eat(r, ':')) return r->why = "expected : after a tag", 1;
        if (put(b, "\x01", 1) || put(b, tag, (size_t)l) || put(b, "\x02", 1)) return -1;
        if (is_null(r)) {
            if (put(b, "\x03", 1)) return -1;
            continue;
        }
        if ((l = str(r, buf, MAX_PS)) < 0) return 1;
        if (!clean(buf, (size_t)l, MAX_PS)) return r->why = "a tagged pronunciation is empty or has control characters", 1;
        if (put(b, buf, (size_t)l)) return -1;
    }
    if (first) return r->why = "a tagged value is empty", 1;
    if (!def) return r->why = "a tagged value has no DEFAULT", 1;
    return 0;
}

static int add_key(struct builder *b) {
    if (b->n == b->kcap) {
        size_t nc = b->kcap ? 2 * b->kcap : 1024;
        uint32_t *k = realloc(b->keys, nc * sizeof *k);
        if (!k) return -1;
        b->keys = k;
        b->kcap = nc;
    }
    return 0;
}

static int cmp_key(const void *a, const void *b, void *pool) {
    return strcmp((const char *)pool + *(const uint32_t *)a, (const char *)pool + *(const uint32_t *)b);
}

/* 0, -1 out of memory, 1 malformed (r->why, key names the entry). */
static int build(struct builder *b, struct rd *r, char *key) {
    key[0] = 0;
    if (!eat(r, '{')) return r->why = "a lexicon is one JSON object of word -> phonemes", 1;
    int first = 1;
    while (!eat(r, '}')) {
        if (!first && !eat(r, ',')) return r->why = "expected , or } between entries", 1;
        first = 0;
        long l = str(r, key, MAX_KEY);
        if (l < 0) return 1;
        key[l] = 0;
        if ((size_t)l != strlen(key) || !clean(key, (size_t)l, MAX_KEY))
            return r->why = "a word is empty or has control characters", 1;
        if (!eat(r, ':')) return r->why = "expected : after a word", 1;
        if (add_key(b)) return -1;
        uint32_t off = (uint32_t)b->len;
        if (put(b, key, (size_t)l + 1)) return -1;
        int rc = put_value(b, r);
        if (rc) return rc;
        if (put(b, "", 1)) return -1;
        b->keys[b->n++] = off;
    }
    ws(r);
    if (r->i != r->n) return r->why = "text after the lexicon object", 1;
    key[0] = 0;
    if (b->n) qsort_r(b->keys, b->n, sizeof *b->keys, cmp_key, b->pool);
    for (size_t i = 1; i < b->n; i++)
        if (!strcmp(b->pool + b->keys[i - 1], b->pool + b->keys[i])) {
            snprintf(key, MAX_KEY + 1, "%s", b->pool + b->keys[i]);
            return r->why = "the word appears twice", 1;
        }
    return 0;
}

int chorus_kokoro_lexicon_parse(struct kokoro_lexicon **out, const char *json, size_t len,
                                const char *label, char *err, size_t errlen) {
    *out = NULL;
    struct builder b = {0};
    struct rd r = {json, len, 0, NULL};
    char key[MAX_KEY + 8];
    int rc = len > UINT32_MAX / 2 ? (r.why = "too big", 1) : build(&b, &r, key);
    struct kokoro_lexicon *l = rc ? NULL : calloc(1, sizeof *l);
    if (!rc && !l) rc = -1;
    if (rc) {
        free(b.pool);
        free(b.keys);
        if (rc < 0) {
            snprintf(err, errlen, "%s: out of memory loading the lexicon", label);
            return CHORUS_E_NOMEM;
        }
        if (key[0])
            snprintf(err, errlen, "%s: not a valid lexicon at byte %zu (entry '%.40s'): %s; reinstall it "
                     "with 'chorus models pull kokoro'", label, r.i, key, r.why);
        else
            snprintf(err, errlen, "%s: not a valid lexicon at byte %zu: %s; reinstall it with 'chorus "
                     "models pull kokoro'", label, r.i, r.why);
        return CHORUS_E_MODEL;
    }
    char *shrunk = realloc(b.pool, b.len ? b.len : 1);
    l->pool = shrunk ? shrunk : b.pool;
    uint32_t *ks = realloc(b.keys, (b.n ? b.n : 1) * sizeof *ks);
    l->keys = ks ? ks : b.keys;
    l->n = b.n;
    l->pool_len = b.len;
    *out = l;
    return 0;
}

int chorus_kokoro_lexicon_load(struct kokoro_lexicon **out, const char *path, char *err,
                               size_t errlen) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? CHORUS_E_NOT_FOUND : CHORUS_E_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_FILE) {
        fclose(f);
        snprintf(err, errlen, "%s: not a regular file of at most 64 MiB", path);
        return CHORUS_E_MODEL;
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return CHORUS_E_NOMEM;
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    int rc = got == n ? chorus_kokoro_lexicon_parse(out, buf, n, path, err, errlen) : CHORUS_E_IO;
    if (got != n) snprintf(err, errlen, "%s: short read", path);
    free(buf);
    return rc;
}

void chorus_kokoro_lexicon_free(struct kokoro_lexicon *l) {
    if (!l) return;
    free(l->pool);
    free(l->keys);
    free(l);
}

const char *chorus_kokoro_lexicon_raw(const struct kokoro_lexicon *l, const char *word, size_t len) {
    if (!l || !len || len > MAX_KEY) return NULL;
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = l->pool + l->keys[mid];
        size_t kl = strlen(k); /* keys hold no NUL; a word may (it then matches nothing) */
        int c = memcmp(k, word, kl < len ? kl : len);
        if (c == 0) c = kl < len ? -1 : kl > len; /* the shorter sorts first, as strcmp does */
        if (c == 0) return k + len + 1;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* The entry for tag in a tagged value, or NULL; *len its length (0 and "\x03" for null). */
static const char *find_tag(const char *raw, const char *tag, size_t *len) {
    size_t tl = strlen(tag);
    for (const char *p = raw; *p == '\x01';) {
        const char *t = p + 1, *sep = strchr(t, '\x02');
        if (!sep) return NULL;
        const char *v = sep + 1, *e = strchr(v, '\x01');
        if (!e) e = v + strlen(v);
        if ((size_t)(sep - t) == tl && !memcmp(t, tag, tl)) {
            *len = (size_t)(e - v);
            return v;
        }
        p = e;
    }
    return NULL;
}

int chorus_kokoro_lexicon_has_tag(const char *raw, const char *tag) {
    size_t n;
    return chorus_kokoro_lexicon_tagged(raw) && tag && find_tag(raw, tag, &n) != NULL;
}

const char *chorus_kokoro_lexicon_pick(const char *raw, const char *tag, size_t *len) {
    if (!raw) return NULL;
    if (!chorus_kokoro_lexicon_tagged(raw)) {
        *len = strlen(raw);
        return raw;
    }
    const char *v = tag && *tag ? find_tag(raw, tag, len) : NULL;
    if (!v) v = find_tag(raw, "DEFAULT", len);
    if (!v || (*len == 1 && v[0] == '\x03')) return NULL;
    return v;
}

size_t chorus_kokoro_lexicon_bytes(const struct kokoro_lexicon *l) {
    return l ? l->pool_len + l->n * sizeof *l->keys + sizeof *l : 0;
}
