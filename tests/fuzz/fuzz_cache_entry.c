/*
 * fuzz_cache_entry.c — cache entry files read back from disk, on arbitrary bytes.
 *
 * Each input is checked as it is (almost always rejected by its checksum), then again with the
 * header's payload length and SHA-256 fixed up to match the bytes, so the record parser and the
 * replay walk see every mutation. Anything accepted is walked with visitors that touch every
 * sample and name, so a read past a record would show under ASan.
 */
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

struct sums {
    double acc;
    size_t n;
};
static int f_f32(void *ud, const float *x, size_t n, int rate) {
    struct sums *s = ud;
    for (size_t i = 0; i < n; i++) s->acc += x[i];
    s->n += n + (size_t)rate;
    return 0;
}
static int f_s16(void *ud, const int16_t *x, size_t n, int rate) {
    struct sums *s = ud;
    for (size_t i = 0; i < n; i++) s->acc += x[i];
    s->n += n + (size_t)rate;
    return 0;
}
static int f_enc(void *ud, enum chorus_format fmt, const void *d, size_t n) {
    struct sums *s = ud;
    const unsigned char *p = d;
    for (size_t i = 0; i < n; i++) s->acc += p[i];
    s->n += (size_t)fmt;
    return 0;
}
static int f_word(void *ud, size_t off, size_t len, double a, double b) {
    struct sums *s = ud;
    s->acc += a + b;
    s->n += off + len;
    return 0;
}
static int f_mark(void *ud, const char *name, double t) {
    struct sums *s = ud;
    s->n += strlen(name);
    s->acc += t;
    return 0;
}

static void run(const uint8_t *p, size_t n) {
    static const struct chorus_cache_visitor v = {f_f32, f_s16, f_enc, f_word, f_mark};
    char err[256];
    unsigned char sum[32];
    if (chorus_cache_entry_check(p, n, NULL, sum, err, sizeof err) == 0) {
        struct sums s = {0, 0};
        chorus_cache_entry_walk(p, n, &v, &s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    run(data, size);
    if (size < CHORUS_CACHE_HEADER_SIZE) return 0;
    uint8_t *p = malloc(size);
    if (!p) return 0;
    memcpy(p, data, size);
    uint64_t plen = size - CHORUS_CACHE_HEADER_SIZE;
    for (int i = 0; i < 8; i++) p[48 + i] = (uint8_t)(plen >> (8 * i));
    struct sha256_ctx sha;
    sha256_init(&sha);
    sha256_update(&sha, (size_t)plen, p + CHORUS_CACHE_HEADER_SIZE);
    sha256_digest(&sha, 32, p + 56);
    run(p, size);
    free(p);
    return 0;
}
