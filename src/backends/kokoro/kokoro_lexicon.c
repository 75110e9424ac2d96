/* kokoro_lexicon.c — see kokoro_lexicon.h. */
#include "backends/kokoro/kokoro_lexicon.h"

#include <errno.h>
#include <jansson.h>
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

/* Append one value; 0, -1 (out of memory) or 1 (malformed, reason in why). */
static int put_value(struct builder *b, json_t *v, const char **why) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (!clean(s, n, MAX_PS) || strlen(s) != n) return *why = "a pronunciation is empty, too long or has control characters", 1;
        return put(b, s, n) ? -1 : 0;
    }
    if (!json_is_object(v) || json_object_size(v) == 0)
        return *why = "a value is neither a string nor an object of tags", 1;
    if (!json_object_get(v, "DEFAULT")) return *why = "a tagged value has no DEFAULT", 1;
    const char *tag;
    json_t *e;
    json_object_foreach(v, tag, e) {
        if (!tag_ok(tag)) return *why = "a tag is not a short name", 1;
        if (put(b, "\x01", 1) || put(b, tag, strlen(tag)) || put(b, "\x02", 1)) return -1;
        if (json_is_null(e)) {
            if (put(b, "\x03", 1)) return -1;
            continue;
        }
        const char *s = json_string_value(e);
        size_t n = json_string_length(e);
        if (!s || !clean(s, n, MAX_PS) || strlen(s) != n)
            return *why = "a tagged pronunciation is not a clean string", 1;
        if (put(b, s, n)) return -1;
    }
    return 0;
}

static int cmp_key(const void *a, const void *b, void *pool) {
    return strcmp((const char *)pool + *(const uint32_t *)a, (const char *)pool + *(const uint32_t *)b);
}

static int build(struct builder *b, json_t *root, const char *label, char *err, size_t errlen) {
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: a lexicon is one JSON object of word -> phonemes", label);
        return CHORUS_E_MODEL;
    }
    size_t n = json_object_size(root);
    b->keys = malloc((n ? n : 1) * sizeof *b->keys);
    if (!b->keys) return CHORUS_E_NOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        size_t kl = strlen(k);
        const char *why = NULL;
        if (!clean(k, kl, MAX_KEY)) why = "a word is empty, too long or has control characters";
        uint32_t off = (uint32_t)b->len;
        int r = why ? 1 : put(b, k, kl + 1);
        if (!r) r = put_value(b, v, &why);
        if (!r) r = put(b, "", 1);
        if (r < 0) return CHORUS_E_NOMEM;
        if (r > 0) {
            snprintf(err, errlen, "%s: entry '%.40s': %s; reinstall it with 'chorus models pull kokoro'",
                     label, k, why);
            return CHORUS_E_MODEL;
        }
        b->keys[b->n++] = off;
    }
    if (b->n) qsort_r(b->keys, b->n, sizeof *b->keys, cmp_key, b->pool);
    return 0;
}

int chorus_kokoro_lexicon_parse(struct kokoro_lexicon **out, const char *json, size_t len,
                                const char *label, char *err, size_t errlen) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s: not a valid lexicon: %s (line %d); reinstall it with 'chorus "
                              "models pull kokoro'", label, je.text, je.line);
        return CHORUS_E_MODEL;
    }
    struct builder b = {0};
    int rc = build(&b, root, label, err, errlen);
    json_decref(root);
    struct kokoro_lexicon *l = rc ? NULL : calloc(1, sizeof *l);
    if (!rc && !l) rc = CHORUS_E_NOMEM;
    if (rc) {
        free(b.pool);
        free(b.keys);
        if (rc == CHORUS_E_NOMEM) snprintf(err, errlen, "%s: out of memory loading the lexicon", label);
        return rc;
    }
    char *shrunk = realloc(b.pool, b.len ? b.len : 1);
    l->pool = shrunk ? shrunk : b.pool;
    l->keys = b.keys;
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
        int c = strncmp(k, word, len);
        if (c == 0 && k[len]) c = 1; /* k is longer */
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
