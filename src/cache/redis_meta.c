/*
 * redis_meta.c — the meta record of a Redis cache entry (layout: cache_internal.h). Parsed
 * strictly: it is read back from a shared server, so it may be damaged, truncated or written by
 * something else entirely.
 */
#include <stdio.h>
#include <string.h>

#include "cache/cache_internal.h"

#define RMETA_MAGIC "CHRSRED1"
#define PIECE_MIN ((uint64_t)4 << 10)
#define PIECE_MAX ((uint64_t)16 << 20)

/* The next space-separated token of s[*pos..n): its start and length (0 at the end). */
static size_t token(const char *s, size_t n, size_t *pos, const char **tok) {
    size_t i = *pos;
    if (i < n && i > 0) {
        if (s[i] != ' ') return 0;
        i++;
    }
    size_t b = i;
    while (i < n && s[i] != ' ') i++;
    *tok = s + b;
    *pos = i;
    return i - b;
}

static int dec(const char *t, size_t l, uint64_t max, uint64_t *out) {
    if (l == 0 || l > 20 || (l > 1 && t[0] == '0')) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < l; i++) {
        if (t[i] < '0' || t[i] > '9') return -1;
        unsigned d = (unsigned)(t[i] - '0');
        if (v > (max - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int hexd(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int unhex(const char *t, size_t l, unsigned char *out, size_t n) {
    if (l != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int h = hexd(t[2 * i]), lo = hexd(t[2 * i + 1]);
        if (h < 0 || lo < 0) return -1;
        out[i] = (unsigned char)(h << 4 | lo);
    }
    return 0;
}

int chorus_cache_rmeta_parse(const char *s, size_t n, struct chorus_cache_rmeta *m) {
    memset(m, 0, sizeof *m);
    if (!s || n >= CHORUS_CACHE_RMETA_MAX) return -1;
    size_t pos = 0, l;
    const char *t;
    uint64_t size, piece, np;
    unsigned char g[8];
    if ((l = token(s, n, &pos, &t)) != 8 || memcmp(t, RMETA_MAGIC, 8)) return -1;
    l = token(s, n, &pos, &t);
    if (dec(t, l, CHORUS_CACHE_MAX_ENTRY, &size) < 0 || size < CHORUS_CACHE_HEADER_SIZE) return -1;
    l = token(s, n, &pos, &t);
    if (dec(t, l, PIECE_MAX, &piece) < 0 || piece < PIECE_MIN) return -1;
    l = token(s, n, &pos, &t);
    if (dec(t, l, UINT32_MAX, &np) < 0 || np != (size + piece - 1) / piece) return -1;
    l = token(s, n, &pos, &t);
    if (unhex(t, l, g, sizeof g) < 0) return -1;
    memcpy(m->gen, t, 16);
    l = token(s, n, &pos, &t);
    if (unhex(t, l, m->sum, sizeof m->sum) < 0 || pos != n) return -1;
    m->size = size;
    m->piece = (uint32_t)piece;
    m->npieces = (uint32_t)np;
    return 0;
}

size_t chorus_cache_rmeta_piece_len(const struct chorus_cache_rmeta *m, uint32_t i) {
    if (i >= m->npieces) return 0;
    uint64_t off = (uint64_t)i * m->piece;
    return (size_t)(m->size - off < m->piece ? m->size - off : m->piece);
}

size_t chorus_cache_rmeta_format(const struct chorus_cache_rmeta *m, char *buf, size_t cap) {
    char sum[65];
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        sum[2 * i] = d[m->sum[i] >> 4];
        sum[2 * i + 1] = d[m->sum[i] & 15];
    }
    sum[64] = 0;
    int l = snprintf(buf, cap, RMETA_MAGIC " %llu %u %u %.16s %s", (unsigned long long)m->size,
                     m->piece, m->npieces, m->gen, sum);
    return l < 0 ? 0 : (size_t)l < cap ? (size_t)l : cap - 1;
}
