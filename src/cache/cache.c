/*
 * cache.c — the cache object: settings from the config, creation, and the calls that go to
 * its store (store.h; the SQLite index with entry files is store_sqlite.c). See cache.h and
 * docs/cache.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_internal.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#if CHORUS_WITH_REDIS
#include "redis/redis.h"
#endif

#define DEFAULT_MAX_BYTES ((uint64_t)1 << 30)
#define DEFAULT_TTL_S ((uint64_t)30 * 86400)

/* ------------------------------------------------------------------ settings ---- */

int chorus_cache_parse_size(const char *s, uint64_t *out) {
    if (!s) return -1;
    while (*s == ' ') s++;
    if (*s < '0' || *s > '9') return -1;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s++ - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    while (*s == ' ') s++;
    unsigned shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; s++; break;
    case 'm': case 'M': shift = 20; s++; break;
    case 'g': case 'G': shift = 30; s++; break;
    case 't': case 'T': shift = 40; s++; break;
    default: break;
    }
    if (shift && (*s == 'i' || *s == 'I')) s++;
    if (*s == 'b' || *s == 'B') s++;
    while (*s == ' ') s++;
    if (*s) return -1;
    if (shift && v > (UINT64_MAX >> shift)) return -1;
    *out = v << shift;
    return 0;
}

#if CHORUS_WITH_REDIS
/* A duration: "3600", "90s", "30m", "12h", "30d"; 0 on success (1 s to 10 years). */
static int parse_ttl(const char *s, uint64_t *out) {
    uint64_t v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9' && i < 12; i++) v = v * 10 + (uint64_t)(s[i] - '0');
    if (i == 0) return -1;
    uint64_t mul = 1;
    switch (s[i]) {
    case 0: break;
    case 's': mul = 1; i++; break;
    case 'm': mul = 60; i++; break;
    case 'h': mul = 3600; i++; break;
    case 'd': mul = 86400; i++; break;
    default: return -1;
    }
    if (s[i] || v == 0 || v * mul > (uint64_t)3650 * 86400) return -1;
    *out = v * mul;
    return 0;
}
#endif

/* [cache] backend = "redis://..." (with ttl, local): put the cache's entries in Redis. */
static int configure_backend(const struct chorus_config *cfg, struct chorus_cache *c, char *err,
                             size_t errlen) {
    const char *v = getenv("CHORUS_CACHE_BACKEND");
    if (!v || !*v) v = chorus_config_get(cfg, "cache", "backend");
    if (!v || !*v || !strcmp(v, "local")) return CHORUS_OK;
    if (strncmp(v, "redis://", 8) && strncmp(v, "rediss://", 9)) {
        chorus_fmt(err, errlen, "invalid [cache] backend: use \"local\" or a redis:// URL");
        return CHORUS_E_CONFIG;
    }
#if CHORUS_WITH_REDIS
    struct chorus_redis_url u;
    char why[512];
    if (chorus_redis_url_parse(v, &u, why, sizeof why) < 0) {
        chorus_fmt(err, errlen, "invalid [cache] backend: %s", why);
        return CHORUS_E_CONFIG;
    }
    const char *pw = getenv("CHORUS_REDIS_PASSWORD");
    if (pw && *pw) chorus_fmt(u.password, sizeof u.password, "%s", pw);
    uint64_t ttl = DEFAULT_TTL_S;
    const char *t = chorus_config_get(cfg, "cache", "ttl");
    if (t && parse_ttl(t, &ttl) < 0) {
        chorus_fmt(err, errlen, "invalid [cache] ttl '%s': use seconds or 90s, 30m, 12h, 30d (at most 10 years)", t);
        return CHORUS_E_CONFIG;
    }
    int local_first = 1;
    t = chorus_config_get(cfg, "cache", "local");
    if (t && chorus_parse_bool(t, &local_first) < 0) {
        chorus_fmt(err, errlen, "invalid [cache] local '%s': use true or false", t);
        return CHORUS_E_CONFIG;
    }
    int rc = chorus_cache_use_redis(c, &u, ttl, local_first);
    memset(&u, 0, sizeof u);
    return rc;
#else
    (void)c;
    chorus_fmt(err, errlen, "[cache] backend is Redis, but this chorus was built without Redis "
                            "(CHORUS_WITH_REDIS=OFF: install libhiredis-dev and rebuild)");
    return CHORUS_E_CONFIG;
#endif
}

int chorus_cache_from_config(const struct chorus_config *cfg, int no_config,
                             struct chorus_cache **out, char *err, size_t errlen) {
    *out = NULL;
    if (no_config) return CHORUS_OK;
    int enabled = 1;
    const char *v = chorus_config_get(cfg, "cache", "enabled");
    if (v && chorus_parse_bool(v, &enabled) < 0) {
        chorus_fmt(err, errlen, "invalid [cache] enabled '%s': use true or false", v);
        return CHORUS_E_CONFIG;
    }
    v = getenv("CHORUS_CACHE");
    if (v && *v && chorus_parse_bool(v, &enabled) < 0) {
        chorus_fmt(err, errlen, "invalid CHORUS_CACHE '%s': use 1 or 0", v);
        return CHORUS_E_CONFIG;
    }
    uint64_t max = DEFAULT_MAX_BYTES;
    v = chorus_config_get(cfg, "cache", "max_bytes");
    if (v && chorus_cache_parse_size(v, &max) < 0) {
        chorus_fmt(err, errlen,
                   "invalid [cache] max_bytes '%s': use a byte count such as 1073741824, 512M or 1G", v);
        return CHORUS_E_CONFIG;
    }
    if (max == 0) enabled = 0;

    char buf[PATH_MAX];
    const char *dir = getenv("CHORUS_CACHE_DIR");
    if (!dir || !*dir) dir = chorus_config_get(cfg, "cache", "dir");
    if (dir && *dir) {
        if (dir[0] == '~' && (dir[1] == '/' || dir[1] == 0)) {
            const char *h = getenv("HOME");
            if (!h || !*h) {
                chorus_fmt(err, errlen, "[cache] dir '%s' starts with ~ but HOME is not set", dir);
                return CHORUS_E_CONFIG;
            }
            dir = chorus_fmt(buf, sizeof buf, "%s%s", h, dir + 1);
        }
    } else {
        const char *x = getenv("XDG_CACHE_HOME");
        const char *h = getenv("HOME");
        if (x && x[0] == '/') dir = chorus_fmt(buf, sizeof buf, "%s/chorus", x);
        else if (h && *h) dir = chorus_fmt(buf, sizeof buf, "%s/.cache/chorus", h);
        else dir = NULL;
    }
    if (!dir) {
        CHORUS_LOGD("cache: no directory (HOME and XDG_CACHE_HOME unset): caching is off");
        return CHORUS_OK;
    }
    *out = chorus_cache_create(dir, max, enabled);
    if (!*out) return CHORUS_E_NOMEM;
    int rc = configure_backend(cfg, *out, err, errlen);
    if (rc) {
        chorus_cache_destroy(*out);
        *out = NULL;
    }
    return rc;
}

struct chorus_cache *chorus_cache_create(const char *dir, uint64_t max_bytes, int enabled) {
    struct chorus_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->dir = strdup(dir);
    if (!c->dir) {
        free(c);
        return NULL;
    }
    size_t l = strlen(c->dir);
    while (l > 1 && c->dir[l - 1] == '/') c->dir[--l] = 0;
    c->max_bytes = max_bytes;
    c->enabled = enabled && max_bytes > 0;
    c->store = &chorus_cache_store_sqlite;
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    atomic_init(&c->corrupt, 0);
    atomic_init(&c->stores, 0);
    atomic_init(&c->warned, 0);
    atomic_init(&c->opened, 0);
    return c;
}

void chorus_cache_destroy(struct chorus_cache *c) {
    if (!c) return;
    c->store->close(c);
    pthread_mutex_destroy(&c->mu);
    free(c->dir);
    free(c);
}

int chorus_cache_enabled(const struct chorus_cache *c) {
    return c && c->enabled && atomic_load(&((struct chorus_cache *)c)->opened) >= 0;
}

const char *chorus_cache_dir(const struct chorus_cache *c) {
    return c ? c->dir : NULL;
}

void chorus_cache_warn(struct chorus_cache *c, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int first = atomic_exchange(&c->warned, 1) == 0;
    chorus_log(first ? CHORUS_LOG_WARN : CHORUS_LOG_DEBUG, "cache: %s", msg);
}

/* ------------------------------------------------------------------ index ---- */

/* ------------------------------------------------------------------ the store ---- */

int chorus_cache_get(struct chorus_cache *c, const struct chorus_cache_key *key,
                     struct chorus_cache_blob **out) {
    *out = NULL;
    return c->store->get(c, key, out);
}

void chorus_cache_blob_free(struct chorus_cache_blob *b) {
    if (!b) return;
    free(b->p);
    free(b);
}

int chorus_cache_contains(struct chorus_cache *c, const struct chorus_cache_key *key) {
    return c->store->contains(c, key);
}

int chorus_cache_evict(struct chorus_cache *c, const struct chorus_cache_key *key) {
    return c->store->evict(c, key);
}

int chorus_cache_index_insert(struct chorus_cache *c, const struct chorus_cache_key *key,
                       const char *tmp_path, uint64_t size, const unsigned char sum[32]) {
    return c->store->put(c, key, tmp_path, size, sum);
}

int chorus_cache_get_stats(struct chorus_cache *c, struct chorus_cache_stats *out, char *errbuf,
                           size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!c) return CHORUS_OK;
    out->enabled = chorus_cache_enabled(c);
    out->dir = c->dir;
    out->max_bytes = c->max_bytes;
    out->hits = atomic_load(&c->hits);
    out->misses = atomic_load(&c->misses);
    out->corrupt = atomic_load(&c->corrupt);
    out->stores = atomic_load(&c->stores);
    return c->store->stats(c, out, errbuf, errlen);
}

int chorus_cache_clear(struct chorus_cache *c, uint64_t *entries, uint64_t *bytes, char *errbuf,
                       size_t errlen) {
    if (entries) *entries = 0;
    if (bytes) *bytes = 0;
    return c->store->clear(c, entries, bytes, errbuf, errlen);
}
