/*
 * entry.c — reading cache entry files back: every byte is checked before any of it is served
 * (entries come from disk and may be truncated, corrupted or crafted). Layout: cache_internal.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cache/cache_internal.h"

static int bad(char *err, size_t errlen, const char *what) {
    if (err && errlen) snprintf(err, errlen, "%s", what);
    return -1;
}

int chorus_cache_entry_check(const unsigned char *p, size_t n, const struct chorus_cache_key *key,
                             unsigned char sum[32], char *err, size_t errlen) {
    if (!p || n < CHORUS_CACHE_HEADER_SIZE) return bad(err, errlen, "entry is shorter than its header");
    if (memcmp(p, ENTRY_MAGIC, 8)) return bad(err, errlen, "entry has no cache magic");
    if (le32_get(p + 8) != ENTRY_VERSION) return bad(err, errlen, "entry has an unknown format version");
    if (le32_get(p + 12) != CHORUS_CACHE_HEADER_SIZE) return bad(err, errlen, "entry header size is wrong");
    if (key && memcmp(p + 16, key->b, CHORUS_CACHE_KEY_SIZE))
        return bad(err, errlen, "entry belongs to another key");
    uint64_t plen = le64_get(p + 48);
    if (plen != (uint64_t)(n - CHORUS_CACHE_HEADER_SIZE))
        return bad(err, errlen, "entry is truncated or has trailing bytes");
    if (le32_get(p + 92) != 0) return bad(err, errlen, "entry header reserved field is not zero");
    const unsigned char *pl = p + CHORUS_CACHE_HEADER_SIZE;
    struct sha256_ctx sha;
    unsigned char got[32];
    sha256_init(&sha);
    sha256_update(&sha, (size_t)plen, pl);
    sha256_digest(&sha, sizeof got, got);
    if (memcmp(got, p + 56, 32)) return bad(err, errlen, "entry checksum does not match its data");
    if (sum) memcpy(sum, p + 56, 32);

    uint32_t nrec = le32_get(p + 88), seen = 0;
    uint32_t rate = 0;
    size_t pos = 0;
    while (pos < plen) {
        if (plen - pos < REC_HEAD) return bad(err, errlen, "entry ends inside a record header");
        uint32_t type = le32_get(pl + pos), blen = le32_get(pl + pos + 4);
        pos += REC_HEAD;
        if (blen > plen - pos) return bad(err, errlen, "entry record runs past the end");
        const unsigned char *b = pl + pos;
        switch (type) {
        case REC_PCM_F32:
        case REC_PCM_S16: {
            size_t ss = type == REC_PCM_F32 ? 4 : 2;
            if (blen < 4 || (blen - 4) % ss) return bad(err, errlen, "entry PCM record has a bad length");
            uint32_t r = le32_get(b);
            if (r < 1000 || r > 768000) return bad(err, errlen, "entry PCM record has a bad sample rate");
            if (rate && r != rate) return bad(err, errlen, "entry changes sample rate");
            rate = r;
            if (type == REC_PCM_F32)
                for (size_t i = 4; i < blen; i += 4) {
                    uint32_t u = le32_get(b + i);
                    float f;
                    memcpy(&f, &u, sizeof f);
                    if (!isfinite(f)) return bad(err, errlen, "entry holds a non-finite sample");
                }
            break;
        }
        case REC_ENCODED: {
            if (blen < 4) return bad(err, errlen, "entry encoded record has a bad length");
            uint32_t f = le32_get(b);
            if (f <= CHORUS_FORMAT_DEFAULT || f >= CHORUS_FORMAT_COUNT_)
                return bad(err, errlen, "entry encoded record has an unknown format");
            break;
        }
        case REC_WORD: {
            if (blen != 32) return bad(err, errlen, "entry word record has a bad length");
            uint64_t off = le64_get(b), len = le64_get(b + 8);
            double s = f64_get(b + 16), e = f64_get(b + 24);
            if (off > SIZE_MAX / 2 || len > SIZE_MAX / 2) return bad(err, errlen, "entry word is out of range");
            if (!isfinite(s) || !isfinite(e)) return bad(err, errlen, "entry word has a non-finite time");
            break;
        }
        case REC_MARK: {
            if (blen < 8 || blen - 8 > MARK_NAME_MAX) return bad(err, errlen, "entry mark record has a bad length");
            if (!isfinite(f64_get(b))) return bad(err, errlen, "entry mark has a non-finite time");
            if (memchr(b + 8, 0, blen - 8)) return bad(err, errlen, "entry mark name holds a NUL");
            break;
        }
        default: return bad(err, errlen, "entry holds an unknown record type");
        }
        pos += blen;
        seen++;
    }
    if (seen != nrec) return bad(err, errlen, "entry record count does not match");
    return 0;
}

/* PCM bodies are little-endian and unaligned: convert through a small stack buffer. */
#define CONV 2048

static int walk_f32(const unsigned char *b, size_t ns, int rate, const struct chorus_cache_visitor *v,
                    void *ud) {
    float tmp[CONV];
    while (ns) {
        size_t m = ns < CONV ? ns : CONV;
        for (size_t i = 0; i < m; i++) {
            uint32_t u = le32_get(b + 4 * i);
            memcpy(&tmp[i], &u, sizeof u);
        }
        int rc = v->pcm_f32(ud, tmp, m, rate);
        if (rc) return rc;
        b += 4 * m;
        ns -= m;
    }
    return 0;
}

static int walk_s16(const unsigned char *b, size_t ns, int rate, const struct chorus_cache_visitor *v,
                    void *ud) {
    int16_t tmp[CONV];
    while (ns) {
        size_t m = ns < CONV ? ns : CONV;
        for (size_t i = 0; i < m; i++) tmp[i] = (int16_t)(uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
        int rc = v->pcm_s16(ud, tmp, m, rate);
        if (rc) return rc;
        b += 2 * m;
        ns -= m;
    }
    return 0;
}

int chorus_cache_entry_walk(const unsigned char *p, size_t n, const struct chorus_cache_visitor *v,
                            void *ud) {
    const unsigned char *pl = p + CHORUS_CACHE_HEADER_SIZE;
    size_t plen = n - CHORUS_CACHE_HEADER_SIZE, pos = 0;
    while (pos + REC_HEAD <= plen) {
        uint32_t type = le32_get(pl + pos), blen = le32_get(pl + pos + 4);
        if (blen > plen - pos - REC_HEAD) return -1; /* not a checked entry */
        const unsigned char *b = pl + pos + REC_HEAD;
        pos += REC_HEAD + blen;
        int rc = 0;
        switch (type) {
        case REC_PCM_F32:
            if (v->pcm_f32) rc = walk_f32(b + 4, (blen - 4) / 4, (int)le32_get(b), v, ud);
            break;
        case REC_PCM_S16:
            if (v->pcm_s16) rc = walk_s16(b + 4, (blen - 4) / 2, (int)le32_get(b), v, ud);
            break;
        case REC_ENCODED:
            if (v->encoded) rc = v->encoded(ud, (enum chorus_format)le32_get(b), b + 4, blen - 4);
            break;
        case REC_WORD:
            if (v->word)
                rc = v->word(ud, (size_t)le64_get(b), (size_t)le64_get(b + 8), f64_get(b + 16),
                             f64_get(b + 24));
            break;
        case REC_MARK:
            if (v->mark) {
                char name[MARK_NAME_MAX + 1];
                memcpy(name, b + 8, blen - 8);
                name[blen - 8] = 0;
                rc = v->mark(ud, name, f64_get(b));
            }
            break;
        default: break;
        }
        if (rc) return rc;
    }
    return 0;
}
