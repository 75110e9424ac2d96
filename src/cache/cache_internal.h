/*
 * cache_internal.h — what the files of src/cache share and nobody else sees: the cache object,
 * the entry file's layout, and little-endian helpers.
 *
 * Entry file (all integers little-endian):
 *   0   8  magic "CHRSCACH"
 *   8   4  format version (1)
 *   12  4  header size (96)
 *   16  32 the entry's key (SHA-256)
 *   48  8  payload length in bytes
 *   56  32 SHA-256 of the payload
 *   88  4  number of records
 *   92  4  reserved, 0
 *   96  payload: records, each u32 type, u32 body length, body:
 *        PCM_F32  u32 rate, then IEEE-754 binary32 samples
 *        PCM_S16  u32 rate, then signed 16-bit samples
 *        ENCODED  u32 enum chorus_format, then the bytes
 *        WORD     u64 offset, u64 length, f64 start, f64 end (segment-relative)
 *        MARK     f64 time, then the name's bytes (no NUL)
 */
#ifndef CHORUS_CACHE_INTERNAL_H
#define CHORUS_CACHE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>

#include "cache/cache.h"

#define ENTRY_MAGIC "CHRSCACH"
#define ENTRY_VERSION 1u
#define REC_PCM_F32 1u
#define REC_PCM_S16 2u
#define REC_ENCODED 3u
#define REC_WORD 4u
#define REC_MARK 5u
#define REC_HEAD 8u
/* largest body of one record; the writer splits longer PCM and byte runs */
#define REC_MAX_BODY ((size_t)4 << 20)
#define MARK_NAME_MAX 1024

struct chorus_cache {
    char *dir;
    uint64_t max_bytes;
    int enabled;
    pthread_mutex_t mu; /* guards db and opened */
    sqlite3 *db;
    atomic_int opened;  /* 1 ok, -1 failed (then the cache steps aside); written under mu */
    char open_err[512]; /* why it failed */
    atomic_uint_fast64_t hits, misses, corrupt, stores;
    atomic_int warned;
};

/** Open (once) the directory and index; 0 on success. Caller holds c->mu. */
int chorus_cache_open_locked(struct chorus_cache *c, int create, char *err, size_t errlen);
/** Index a finished temporary file as key's entry: rename into place and insert, inside one
 *  write transaction, then evict down to the cap. Removes tmp_path on failure. */
int chorus_cache_index_insert(struct chorus_cache *c, const struct chorus_cache_key *key,
                       const char *tmp_path, uint64_t size, const unsigned char sum[32]);
/** Log a cache problem once per cache at WARN (then at DEBUG). */
void chorus_cache_warn(struct chorus_cache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void le32_put(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void le64_put(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint32_t le32_get(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64_get(const unsigned char *p) {
    return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}
static inline double f64_get(const unsigned char *p) {
    uint64_t u = le64_get(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
static inline void f64_put(unsigned char *p, double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    le64_put(p, u);
}

#endif
