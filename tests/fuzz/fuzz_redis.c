/*
 * fuzz_redis.c — what chorus reads from Redis configuration and from a Redis server, on arbitrary
 * bytes: the first byte picks
 *   0: a redis:// URL (src/redis/url.c);
 *   1: a cache entry as read back from Redis: a meta record (src/cache/redis_meta.c), a newline,
 *      then the values of its pieces, cut at the meta's piece size; they are checked and
 *      assembled as store_redis.c does, then the entry is checked (chorus_cache_entry_check,
 *      with the payload checksum fixed up half the time so the record parser is reached) and
 *      walked.
 */
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_internal.h"
#include "redis/redis.h"

static int v_any(void *ud, const void *x, size_t n) {
    const unsigned char *p = x;
    size_t *acc = ud;
    for (size_t i = 0; i < n; i++) *acc += p[i];
    return 0;
}
static int v_f32(void *ud, const float *x, size_t n, int rate) {
    return v_any(ud, x, n * sizeof *x) + (rate < 0);
}
static int v_s16(void *ud, const int16_t *x, size_t n, int rate) {
    return v_any(ud, x, n * sizeof *x) + (rate < 0);
}
static int v_enc(void *ud, enum chorus_format f, const void *d, size_t n) {
    return v_any(ud, d, n) + (f < 0);
}
static int v_mark(void *ud, const char *name, double t) {
    return v_any(ud, name, strlen(name)) + (t != t);
}

static void entry(const uint8_t *d, size_t n, int fix) {
    const uint8_t *nl = memchr(d, '\n', n);
    if (!nl) return;
    struct chorus_cache_rmeta m;
    if (chorus_cache_rmeta_parse((const char *)d, (size_t)(nl - d), &m) < 0) return;
    char again[CHORUS_CACHE_RMETA_MAX];
    size_t l = chorus_cache_rmeta_format(&m, again, sizeof again);
    if (l != (size_t)(nl - d) || memcmp(again, d, l)) abort(); /* parse and format agree */
    if (m.size > ((size_t)1 << 20)) return;
    const uint8_t *v = nl + 1;
    size_t left = n - (size_t)(v - d);
    unsigned char *buf = malloc((size_t)m.size);
    if (!buf) return;
    size_t off = 0;
    for (uint32_t i = 0; i < m.npieces; i++) { /* the input's bytes as the pieces' values */
        size_t want = chorus_cache_rmeta_piece_len(&m, i), got = left < want ? left : want;
        if (got != want) goto out;
        memcpy(buf + off, v, got);
        off += got;
        v += got;
        left -= got;
    }
    if (fix && m.size >= CHORUS_CACHE_HEADER_SIZE) {
        struct sha256_ctx sha;
        sha256_init(&sha);
        sha256_update(&sha, (size_t)m.size - CHORUS_CACHE_HEADER_SIZE, buf + CHORUS_CACHE_HEADER_SIZE);
        sha256_digest(&sha, 32, buf + 56);
    }
    unsigned char sum[32];
    char err[256];
    if (chorus_cache_entry_check(buf, (size_t)m.size, NULL, sum, err, sizeof err) == 0) {
        static const struct chorus_cache_visitor vis = {v_f32, v_s16, v_enc, NULL, v_mark};
        size_t acc = 0;
        chorus_cache_entry_walk(buf, (size_t)m.size, &vis, &acc);
    }
out:
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 1) return 0;
    if (d[0] == 0) {
        char *s = malloc(n);
        if (!s) return 0;
        memcpy(s, d + 1, n - 1);
        s[n - 1] = 0;
        struct chorus_redis_url u;
        char err[512], shown[CHORUS_REDIS_URL_MAX];
        if (chorus_redis_url_parse(s, &u, err, sizeof err) == 0) chorus_redis_url_show(&u, shown, sizeof shown);
        free(s);
    } else {
        entry(d + 1, n - 1, d[0] & 1);
    }
    return 0;
}
