/*
 * store_redis.c — the cache's store in Redis (docs/cache.md, "Redis"), alone or behind the
 * directory store (layered: the local directory first, Redis on a local miss, a Redis hit copied
 * into the directory).
 *
 * An entry is the same entry file as on disk (cache_internal.h), cut into pieces of at most
 * PIECE bytes so that no single command moves a large value and blocks the server:
 *   chorus:cache:KEY               "CHRSRED1 SIZE PIECE NPIECES GEN SUM" (the meta, written last)
 *   chorus:cache:KEY:GEN:I         piece I (0-based)
 * GEN is random per write, so two instances writing the same key never mix their pieces; the meta
 * names the complete set. Every key carries the TTL ([cache] ttl); with maxmemory-policy
 * allkeys-lru Redis may also evict any piece at any time — a read that finds a piece missing, a
 * length wrong or the assembled entry failing chorus_cache_entry_check evicts the entry (if the
 * meta is still the one it read) and is a miss, so the job regenerates it.
 *
 * Redis being down is never an error: the pool (src/redis/pool.c) answers NULL at once during
 * its backoff, and every op below then acts as a miss or a no-op.
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "redis/redis.h"

#define PREFIX "chorus:cache:"
#define PIECE ((size_t)512 << 10)
#define WINDOW 8 /* pieces per pipelined round trip */

struct rstore {
    struct chorus_redis *r;
    uint64_t ttl_s;
    int local; /* layered: the directory store first */
};

static struct rstore *rs_of(struct chorus_cache *c) {
    return c->store_priv;
}

/* ---- names ---- */

static void meta_key(const struct chorus_cache_key *key, char *buf, size_t cap) {
    snprintf(buf, cap, PREFIX "%s", key->hex);
}
static void piece_key(const struct chorus_cache_key *key, const char *gen, uint32_t i, char *buf,
                      size_t cap) {
    snprintf(buf, cap, PREFIX "%s:%s:%u", key->hex, gen, i);
}

static void hexs(const unsigned char *b, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = 0;
}

/* ---- commands ---- */

/* Append one command given as NUL-terminated words plus an optional binary last argument. */
static int append(redisContext *conn, int argc, const char **argv, const void *bin, size_t binlen) {
    size_t lens[8];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    if (bin) {
        argv[argc] = bin;
        lens[argc++] = binlen;
    }
    return redisAppendCommandArgv(conn, argc, argv, lens);
}

/* Read one reply of a pipeline; NULL on a transport failure. */
static redisReply *next_reply(redisContext *conn) {
    void *rep = NULL;
    if (redisGetReply(conn, &rep) != REDIS_OK) return NULL;
    return rep;
}

/* Unlink pieces [0, n) of generation gen (best effort; errors leave them to their TTL). */
static int drop_pieces(redisContext *conn, const struct chorus_cache_key *key, const char *gen,
                       uint32_t n) {
    char name[160];
    for (uint32_t i = 0; i < n; i += WINDOW) {
        uint32_t m = n - i < WINDOW ? n - i : WINDOW;
        for (uint32_t j = 0; j < m; j++) {
            piece_key(key, gen, i + j, name, sizeof name);
            const char *a[3] = {"UNLINK", name};
            if (append(conn, 2, a, NULL, 0) != REDIS_OK) return -1;
        }
        for (uint32_t j = 0; j < m; j++) {
            redisReply *rep = next_reply(conn);
            if (!rep) return -1;
            freeReplyObject(rep);
        }
    }
    return 0;
}

/* Delete key's meta only if it still reads `seen` (another instance may have rewritten it since),
 * then its pieces. */
static const char drop_if_same[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

static void evict_seen(redisContext *conn, const struct chorus_cache_key *key, const char *seen,
                       size_t seenlen, const struct chorus_cache_rmeta *m) {
    char name[128];
    meta_key(key, name, sizeof name);
    const char *a[6] = {"EVAL", drop_if_same, "1", name};
    if (append(conn, 4, a, seen, seenlen) != REDIS_OK) return;
    redisReply *rep = next_reply(conn);
    int dropped = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    if (rep) freeReplyObject(rep);
    if (dropped && m) drop_pieces(conn, key, m->gen, m->npieces);
}

/* ---- reading ---- */

/* Fetch the pieces m describes into one buffer: 0, or -1 if one is missing or has the wrong
 * length (*broken: the connection failed instead). */
static int read_pieces(redisContext *conn, const struct chorus_cache_key *key,
                       const struct chorus_cache_rmeta *m, unsigned char *buf, int *broken) {
    char name[160];
    int bad = 0;
    for (uint32_t i = 0; i < m->npieces; i += WINDOW) {
        uint32_t n = m->npieces - i < WINDOW ? m->npieces - i : WINDOW;
        for (uint32_t j = 0; j < n; j++) {
            piece_key(key, m->gen, i + j, name, sizeof name);
            const char *a[3] = {"GET", name};
            if (append(conn, 2, a, NULL, 0) != REDIS_OK) return *broken = 1, -1;
        }
        for (uint32_t j = 0; j < n; j++) {
            redisReply *rep = next_reply(conn);
            if (!rep) return *broken = 1, -1;
            uint64_t off = (uint64_t)(i + j) * m->piece;
            size_t want = chorus_cache_rmeta_piece_len(m, i + j);
            if (rep->type == REDIS_REPLY_STRING && rep->len == want) memcpy(buf + off, rep->str, want);
            else bad = 1; /* keep reading: the pipeline's replies must all be consumed */
            freeReplyObject(rep);
        }
        if (bad) return -1;
    }
    return 0;
}

/* Look key up in Redis: CHORUS_OK with *out (verified), else CHORUS_E_NOT_FOUND. Not counted
 * except `corrupt`. */
static int redis_fetch(struct chorus_cache *c, const struct chorus_cache_key *key,
                       struct chorus_cache_blob **out) {
    struct rstore *rs = rs_of(c);
    char name[128];
    meta_key(key, name, sizeof name);
    const char *a[2] = {"GET", name};
    redisContext *conn;
    redisReply *rep = chorus_redis_first(rs->r, &conn, 2, a, NULL);
    if (!rep) return CHORUS_E_NOT_FOUND;
    if (rep->type != REDIS_REPLY_STRING) {
        if (rep->type == REDIS_REPLY_ERROR) chorus_cache_warn(c, "Redis GET: %.200s", rep->str);
        freeReplyObject(rep);
        chorus_redis_give(rs->r, conn, 0);
        return CHORUS_E_NOT_FOUND;
    }
    struct chorus_cache_rmeta m;
    int ok = chorus_cache_rmeta_parse(rep->str, rep->len, &m) == 0;
    struct chorus_cache_blob *b = ok ? calloc(1, sizeof *b) : NULL;
    if (b) b->p = malloc((size_t)m.size);
    int broken = 0;
    char why[256] = "a malformed meta record";
    if (ok && (!b || !b->p)) {
        ok = 0; /* out of memory: a miss, not damage */
        chorus_cache_blob_free(b);
        b = NULL;
        freeReplyObject(rep);
        chorus_redis_give(rs->r, conn, 0);
        return CHORUS_E_NOT_FOUND;
    }
    if (ok) {
        b->n = (size_t)m.size;
        ok = read_pieces(conn, key, &m, b->p, &broken) == 0;
        if (!ok) snprintf(why, sizeof why, "a piece is missing or has the wrong length");
        unsigned char sum[32];
        if (ok && chorus_cache_entry_check(b->p, b->n, key, sum, why, sizeof why) < 0) ok = 0;
        if (ok && memcmp(sum, m.sum, 32)) {
            ok = 0;
            snprintf(why, sizeof why, "entry differs from its meta record");
        }
    }
    if (!ok && !broken) {
        evict_seen(conn, key, rep->str, rep->len, chorus_cache_rmeta_parse(rep->str, rep->len, &m) ? NULL : &m);
        CHORUS_LOGI("cache: evicted damaged Redis entry %s: %s", key->hex, why);
        atomic_fetch_add(&c->corrupt, 1);
    }
    freeReplyObject(rep);
    chorus_redis_give(rs->r, conn, broken);
    if (!ok) {
        chorus_cache_blob_free(b);
        return CHORUS_E_NOT_FOUND;
    }
    *out = b;
    return CHORUS_OK;
}

/* ---- writing ---- */

/* SET pieces of the entry file fd in pipelined windows; 0 or -1 (*broken: transport). */
static int write_pieces(redisContext *conn, struct rstore *rs, const struct chorus_cache_key *key,
                        int fd, const struct chorus_cache_rmeta *m, unsigned char *buf,
                        int *broken, char *why, size_t whylen) {
    char name[160], ttl[24];
    snprintf(ttl, sizeof ttl, "%llu", (unsigned long long)rs->ttl_s);
    for (uint32_t i = 0; i < m->npieces; i += WINDOW) {
        uint32_t n = m->npieces - i < WINDOW ? m->npieces - i : WINDOW;
        for (uint32_t j = 0; j < n; j++) {
            uint64_t off = (uint64_t)(i + j) * m->piece;
            size_t want = chorus_cache_rmeta_piece_len(m, i + j);
            if (pread(fd, buf, want, (off_t)off) != (ssize_t)want) {
                snprintf(why, whylen, "cannot read the entry being stored: %s", strerror(errno));
                *broken = 1; /* replies of the window are pending: the connection is unusable */
                return -1;
            }
            piece_key(key, m->gen, i + j, name, sizeof name);
            const char *args[5] = {"SET", name, (const char *)buf, "EX", ttl};
            size_t lens[5] = {3, strlen(name), want, 2, strlen(ttl)};
            if (redisAppendCommandArgv(conn, 5, args, lens) != REDIS_OK) return *broken = 1, -1;
        }
        int bad = 0;
        for (uint32_t j = 0; j < n; j++) {
            redisReply *rep = next_reply(conn);
            if (!rep) return *broken = 1, -1;
            if (rep->type != REDIS_REPLY_STATUS) {
                bad = 1;
                snprintf(why, whylen, "Redis SET: %.200s", rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
            }
            freeReplyObject(rep);
        }
        if (bad) return -1;
    }
    return 0;
}

/* Publish the meta (SET ... GET, Redis 6.2+) and unlink the pieces of the one it replaced. */
static int write_meta(redisContext *conn, struct rstore *rs, const struct chorus_cache_key *key,
                      const struct chorus_cache_rmeta *m, int *broken, char *why, size_t whylen) {
    char name[128], ttl[24], val[CHORUS_CACHE_RMETA_MAX];
    meta_key(key, name, sizeof name);
    snprintf(ttl, sizeof ttl, "%llu", (unsigned long long)rs->ttl_s);
    size_t vl = chorus_cache_rmeta_format(m, val, sizeof val);
    const char *args[6] = {"SET", name, val, "EX", ttl, "GET"};
    size_t lens[6] = {3, strlen(name), vl, 2, strlen(ttl), 3};
    redisReply *rep = redisCommandArgv(conn, 6, args, lens);
    if (!rep) return *broken = 1, -1;
    int rc = 0;
    struct chorus_cache_rmeta old;
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, whylen, "Redis SET: %.200s", rep->str);
        rc = -1;
    } else if (rep->type == REDIS_REPLY_STRING && chorus_cache_rmeta_parse(rep->str, rep->len, &old) == 0 &&
               strcmp(old.gen, m->gen)) {
        drop_pieces(conn, key, old.gen, old.npieces);
    }
    freeReplyObject(rep);
    return rc;
}

/* Store the finished entry file path (size bytes, checksum sum) as key's Redis entry. The file
 * stays. Failures are warned about and otherwise ignored. */
static int redis_store(struct chorus_cache *c, const struct chorus_cache_key *key, const char *path,
                       uint64_t size, const unsigned char sum[32]) {
    struct rstore *rs = rs_of(c);
    struct chorus_cache_rmeta m = {.size = size, .piece = (uint32_t)PIECE};
    m.npieces = (uint32_t)((size + PIECE - 1) / PIECE);
    memcpy(m.sum, sum, 32);
    unsigned char g[8];
    if (getrandom(g, sizeof g, 0) != (ssize_t)sizeof g) return CHORUS_E_IO;
    hexs(g, sizeof g, m.gen);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char *buf = fd >= 0 ? malloc(PIECE) : NULL;
    if (!buf) {
        if (fd >= 0) close(fd);
        return CHORUS_E_IO;
    }
    const char *ping[1] = {"PING"};
    redisContext *conn;
    redisReply *rep = chorus_redis_first(rs->r, &conn, 1, ping, NULL);
    int broken = 0, rc = -1;
    char why[256] = "";
    if (rep) {
        freeReplyObject(rep);
        rc = write_pieces(conn, rs, key, fd, &m, buf, &broken, why, sizeof why);
        if (rc == 0) rc = write_meta(conn, rs, key, &m, &broken, why, sizeof why);
        if (rc && !broken) drop_pieces(conn, key, m.gen, m.npieces);
        if (rc && !broken && why[0]) chorus_cache_warn(c, "cannot store %s in Redis: %s", key->hex, why);
        chorus_redis_give(rs->r, conn, broken);
    }
    free(buf);
    close(fd);
    return rc ? CHORUS_E_IO : CHORUS_OK;
}

/* ---- the store's ops ---- */

static const struct chorus_cache_store_ops *const local = &chorus_cache_store_sqlite;

/* Copy a verified Redis hit into the directory store (layered mode). */
static void copy_local(struct chorus_cache *c, const struct chorus_cache_key *key,
                       const struct chorus_cache_blob *b) {
    char path[PATH_MAX];
    chorus_fmt(path, sizeof path, "%s/tmp/%.16s-XXXXXX.tmp", c->dir, key->hex);
    int fd = mkostemps(path, 4, O_CLOEXEC);
    if (fd < 0) return;
    size_t done = 0;
    while (done < b->n) {
        ssize_t w = write(fd, b->p + done, b->n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    if (close(fd) < 0 || done != b->n) {
        unlink(path);
        return;
    }
    /* the header's payload checksum; a copy is not a store of this engine's */
    if (local->put(c, key, path, b->n, b->p + 56) == CHORUS_OK) atomic_fetch_sub(&c->stores, 1);
}

static int r_get(struct chorus_cache *c, const struct chorus_cache_key *key,
                 struct chorus_cache_blob **out) {
    struct rstore *rs = rs_of(c);
    if (rs->local && local->get(c, key, out) == CHORUS_OK) return CHORUS_OK;
    if (!rs->local) atomic_fetch_add(&c->misses, 1); /* the local get counted its miss */
    if (redis_fetch(c, key, out) != CHORUS_OK) return CHORUS_E_NOT_FOUND;
    atomic_fetch_sub(&c->misses, 1);
    atomic_fetch_add(&c->hits, 1);
    if (rs->local) copy_local(c, key, *out);
    return CHORUS_OK;
}

static int r_put(struct chorus_cache *c, const struct chorus_cache_key *key, const char *tmp_path,
                 uint64_t size, const unsigned char sum[32]) {
    struct rstore *rs = rs_of(c);
    int rc = redis_store(c, key, tmp_path, size, sum);
    if (rs->local) return local->put(c, key, tmp_path, size, sum); /* counts the store */
    unlink(tmp_path);
    if (rc == CHORUS_OK) atomic_fetch_add(&c->stores, 1);
    return rc;
}

static int r_evict(struct chorus_cache *c, const struct chorus_cache_key *key) {
    struct rstore *rs = rs_of(c);
    int lrc = rs->local ? local->evict(c, key) : CHORUS_E_NOT_FOUND;
    char name[128];
    meta_key(key, name, sizeof name);
    const char *a[2] = {"GET", name};
    redisContext *conn;
    redisReply *rep = chorus_redis_first(rs->r, &conn, 2, a, NULL);
    if (!rep) return lrc;
    struct chorus_cache_rmeta m;
    int found = rep->type == REDIS_REPLY_STRING;
    if (found) evict_seen(conn, key, rep->str, rep->len, chorus_cache_rmeta_parse(rep->str, rep->len, &m) ? NULL : &m);
    freeReplyObject(rep);
    chorus_redis_give(rs->r, conn, 0);
    return found ? CHORUS_OK : lrc;
}

static int r_contains(struct chorus_cache *c, const struct chorus_cache_key *key) {
    struct rstore *rs = rs_of(c);
    if (rs->local && local->contains(c, key)) return 1;
    char name[128];
    meta_key(key, name, sizeof name);
    const char *a[2] = {"EXISTS", name};
    redisReply *rep = chorus_redis_command(rs->r, 2, a, NULL);
    int found = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    if (rep) freeReplyObject(rep);
    return found;
}

/* The directory's numbers (Redis's own are in its INFO keyspace: docs/cache.md). */
static int r_stats(struct chorus_cache *c, struct chorus_cache_stats *out, char *err, size_t errlen) {
    return local->stats(c, out, err, errlen);
}

/* UNLINK every chorus:cache: key (SCAN in batches, so the server is never blocked long). */
static int redis_clear(struct rstore *rs, uint64_t *entries, char *err, size_t errlen) {
    char cursor[32] = "0";
    size_t metalen = strlen(PREFIX) + 64;
    do {
        const char *a[6] = {"SCAN", cursor, "MATCH", PREFIX "*", "COUNT", "500"};
        redisReply *rep = chorus_redis_command(rs->r, 6, a, NULL);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY) {
            if (rep) freeReplyObject(rep);
            chorus_fmt(err, errlen, "cannot clear the Redis cache: Redis did not answer SCAN");
            return CHORUS_E_IO;
        }
        snprintf(cursor, sizeof cursor, "%.*s", (int)rep->element[0]->len, rep->element[0]->str);
        redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *k = keys->element[i];
            if (k->type != REDIS_REPLY_STRING) continue;
            const char *d[2] = {"UNLINK", k->str};
            size_t lens[2] = {6, k->len};
            redisReply *u = chorus_redis_command(rs->r, 2, d, lens);
            if (u && u->type == REDIS_REPLY_INTEGER && u->integer == 1 && k->len == metalen && entries)
                (*entries)++;
            if (u) freeReplyObject(u);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0"));
    return CHORUS_OK;
}

static int r_clear(struct chorus_cache *c, uint64_t *entries, uint64_t *bytes, char *err,
                   size_t errlen) {
    struct rstore *rs = rs_of(c);
    uint64_t le = 0;
    int rc = local->clear(c, &le, bytes, err, errlen);
    if (rc) return rc;
    uint64_t re = 0;
    rc = redis_clear(rs, &re, err, errlen);
    if (entries) *entries = rs->local ? le + re : re;
    return rc;
}

static void r_close(struct chorus_cache *c) {
    struct rstore *rs = rs_of(c);
    local->close(c);
    if (!rs) return;
    chorus_redis_destroy(rs->r);
    free(rs);
    c->store_priv = NULL;
}

const struct chorus_cache_store_ops chorus_cache_store_redis = {
    .name = "redis",
    .get = r_get,
    .put = r_put,
    .evict = r_evict,
    .contains = r_contains,
    .stats = r_stats,
    .clear = r_clear,
    .close = r_close,
};

int chorus_cache_use_redis(struct chorus_cache *c, const struct chorus_redis_url *u, uint64_t ttl_s,
                           int local_first) {
    struct rstore *rs = calloc(1, sizeof *rs);
    if (!rs) return CHORUS_E_NOMEM;
    rs->r = chorus_redis_create(u, "cache");
    if (!rs->r) {
        free(rs);
        return CHORUS_E_NOMEM;
    }
    rs->ttl_s = ttl_s;
    rs->local = local_first;
    c->store_priv = rs;
    c->store = &chorus_cache_store_redis;
    return CHORUS_OK;
}
