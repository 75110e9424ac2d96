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

/*
 * A store: where a cache's entries live and how they are found (one file under src/cache/
 * each; store_sqlite.c is the directory + SQLite index one). Everything else — keys, the entry
 * format and its checks (chorus_cache_entry_check), the writer that produces a finished entry
 * file, the job filter's tee and replay, settings — is shared, so stores are interchangeable.
 * Every op may be called from any thread at once; a failure is logged through chorus_cache_warn and
 * makes the cache step aside for that job, never fail it.
 */
struct chorus_cache_store_ops {
    const char *name;
    /** The verified bytes of key's entry (chorus_cache_entry_check passed against key, and
     *  the store's own record of its size and checksum agrees): CHORUS_OK with *out, counted
     *  as a hit; CHORUS_E_NOT_FOUND on a miss. An entry that fails verification is evicted and
     *  is a miss (counted in `corrupt`). */
    int (*get)(struct chorus_cache *c, const struct chorus_cache_key *key,
               struct chorus_cache_blob **out);
    /** Take the finished entry file tmp_path (size bytes, payload checksum sum) as key's entry,
     *  replacing any, then evict least-recently-used entries down to max_bytes. The store owns
     *  tmp_path afterwards (removed or renamed, also on failure). */
    int (*put)(struct chorus_cache *c, const struct chorus_cache_key *key, const char *tmp_path,
               uint64_t size, const unsigned char sum[32]);
    /** Remove key's entry: CHORUS_OK, or CHORUS_E_NOT_FOUND if there was none. */
    int (*evict)(struct chorus_cache *c, const struct chorus_cache_key *key);
    /** 1 if the store lists key (no checks, no counting). */
    int (*contains)(struct chorus_cache *c, const struct chorus_cache_key *key);
    /** Fill entries/bytes/index hits (the caller filled the counters and settings). */
    int (*stats)(struct chorus_cache *c, struct chorus_cache_stats *out, char *err, size_t errlen);
    /** Remove every entry, including leftovers of crashed writers. */
    int (*clear)(struct chorus_cache *c, uint64_t *entries, uint64_t *bytes, char *err,
                 size_t errlen);
    /** Release what the store holds (connections); the cache is being destroyed. */
    void (*close)(struct chorus_cache *c);
};

extern const struct chorus_cache_store_ops chorus_cache_store_sqlite;
/* store_redis.c (CHORUS_WITH_REDIS): entries in Redis, behind the directory store if local_first */
extern const struct chorus_cache_store_ops chorus_cache_store_redis;
struct chorus_redis_url;
int chorus_cache_use_redis(struct chorus_cache *c, const struct chorus_redis_url *u, uint64_t ttl_s,
                           int local_first);

/* The meta record of a Redis entry (store_redis.c; redis_meta.c parses it — it comes back from
 * a server others write to, so every field is checked):
 * "CHRSRED1 SIZE PIECE NPIECES GEN SUM" — decimal SIZE (entry file bytes, header to
 * CHORUS_CACHE_MAX_ENTRY), PIECE (4 KiB to 16 MiB), NPIECES (exactly ceil(SIZE/PIECE)), GEN (16
 * lowercase hex digits), SUM (the payload's SHA-256, 64 lowercase hex digits). */
#define CHORUS_CACHE_RMETA_MAX 192
struct chorus_cache_rmeta {
    uint64_t size;
    uint32_t piece, npieces;
    char gen[17];
    unsigned char sum[32];
};
int chorus_cache_rmeta_parse(const char *s, size_t n, struct chorus_cache_rmeta *m);
/** The length piece i of a parsed meta must have (0 if i is out of range). */
size_t chorus_cache_rmeta_piece_len(const struct chorus_cache_rmeta *m, uint32_t i);
/** Write m into buf (cap >= CHORUS_CACHE_RMETA_MAX); returns the length. */
size_t chorus_cache_rmeta_format(const struct chorus_cache_rmeta *m, char *buf, size_t cap);

struct chorus_cache {
    char *dir;
    uint64_t max_bytes;
    int enabled;
    const struct chorus_cache_store_ops *store;
    void *store_priv;   /* a store's own state (the SQLite store uses the fields below) */
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
