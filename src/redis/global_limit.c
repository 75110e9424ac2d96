/*
 * global_limit.c — account-wide concurrency limits (docs/deploy.md): `max_concurrent_global = N`
 * in a backend's section caps how many of its jobs run at once across every process that shares
 * one Redis, with a semaphore of expiring leases.
 *
 * The semaphore of section S is the sorted set chorus:limit:S: members are lease ids, scores the
 * moment (Redis's own clock, TIME) each lease expires. Acquiring drops expired leases and adds
 * ours if fewer than N remain, in one Lua script (atomic on the server). A thread renews every
 * lease this engine holds each third of the lease time while its job runs; release removes it.
 * A process that dies mid-job (kill -9) stops renewing, so its slot comes back after at most one
 * lease time ([chorus] global_lease_ms, default 15000).
 *
 * This is a job filter (core/job_filter.h, after the cache in src/filters.def: a cache hit takes
 * no slot). Waiting behaves as the per-backend local limit: unbounded, or at most [chorus]
 * queue_timeout_ms when that is set, then CHORUS_E_BUSY; a cancelled stream stops waiting.
 * Redis unreachable: jobs run without the global limit (one warning from the pool) — a shared
 * limiter must not turn a Redis outage into an outage of the service.
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/backend.h"
#include "core/config.h"
#include "core/job_filter.h"
#include "core/log.h"
#include "core/util.h"
#include "redis/redis.h"

#define KEY_PREFIX "chorus:limit:"
#define DEFAULT_LEASE_MS 15000

static const char acquire_lua[] =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) "
    "if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then "
    "  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3]) "
    "  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2) "
    "  return 1 "
    "end "
    "return 0";

static const char renew_lua[] =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "if redis.call('ZSCORE', KEYS[1], ARGV[2]) then "
    "  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2]) "
    "  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2) "
    "  return 1 "
    "end "
    "return 0";

struct lease {
    char key[160];
    char id[64];
    struct lease *next;
};

struct glimit {
    const struct chorus_config *cfg;
    struct chorus_redis *r; /* NULL: no Redis configured */
    int lease_ms, queue_timeout_ms;
    pthread_mutex_t mu; /* guards held, stop */
    pthread_cond_t cv;
    struct lease *held;
    int stop, thread_started;
    pthread_t renewer;
    atomic_uint_fast64_t seq;
};

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* EVAL script with one key and up to three arguments: the integer reply, or -1 (no Redis). */
static long long eval(struct chorus_redis *r, const char *script, const char *key, const char *a1,
                      const char *a2, const char *a3) {
    const char *argv[7] = {"EVAL", script, "1", key, a1, a2, a3};
    int argc = a3 ? 7 : a2 ? 6 : 5;
    redisReply *rep = chorus_redis_command(r, argc, argv, NULL);
    if (!rep) return -1;
    long long v = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep->type == REDIS_REPLY_ERROR) CHORUS_LOGW("limits: Redis refused a script: %.200s", rep->str);
    freeReplyObject(rep);
    return v;
}

static void renew_all(struct glimit *g) {
    char ms[24];
    snprintf(ms, sizeof ms, "%d", g->lease_ms);
    for (struct lease *l = g->held; l; l = l->next)
        if (eval(g->r, renew_lua, l->key, ms, l->id, NULL) == 0)
            CHORUS_LOGW("limits: the lease %s on %s expired before it was renewed (Redis was slow or "
                        "away): the account-wide limit may be exceeded until this job ends",
                        l->id, l->key);
}

static void *renewer_main(void *ud) {
    struct glimit *g = ud;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (int64_t)(g->lease_ms / 3) * 1000000;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (!g->stop && g->held) renew_all(g);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* Add l to the held list (renewed from now on), starting the renewer on first use. */
static void hold(struct glimit *g, struct lease *l) {
    pthread_mutex_lock(&g->mu);
    l->next = g->held;
    g->held = l;
    if (!g->thread_started && pthread_create(&g->renewer, NULL, renewer_main, g) == 0)
        g->thread_started = 1;
    pthread_mutex_unlock(&g->mu);
}

static void unhold(struct glimit *g, struct lease *l) {
    pthread_mutex_lock(&g->mu);
    for (struct lease **p = &g->held; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    pthread_mutex_unlock(&g->mu);
    const char *argv[3] = {"ZREM", l->key, l->id};
    redisReply *rep = chorus_redis_command(g->r, 3, argv, NULL);
    if (rep) freeReplyObject(rep);
}

enum { GOT = 0, NO_REDIS = 1 };

/* Wait for a slot of `section` (max at once): GOT (held), NO_REDIS (run unlimited),
 * CHORUS_E_CANCELLED or CHORUS_E_BUSY (waited queue_timeout_ms). */
static int acquire(struct glimit *g, const char *section, int max, const struct chorus_job *job,
                   struct lease *l) {
    unsigned char rnd[6];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, 0, sizeof rnd);
    char host[40] = "";
    gethostname(host, sizeof host - 1);
    snprintf(l->id, sizeof l->id, "%.32s-%ld-%llu-%02x%02x%02x%02x%02x%02x", host, (long)getpid(),
             (unsigned long long)atomic_fetch_add(&g->seq, 1), rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5]);
    snprintf(l->key, sizeof l->key, KEY_PREFIX "%.100s", section);
    char smax[16], sms[24];
    snprintf(smax, sizeof smax, "%d", max);
    snprintf(sms, sizeof sms, "%d", g->lease_ms);
    int64_t deadline = g->queue_timeout_ms ? mono_ms() + g->queue_timeout_ms : 0;
    for (int wait = 10;; wait = wait < 100 ? wait * 2 : 100) {
        long long got = eval(g->r, acquire_lua, l->key, smax, sms, l->id);
        if (got < 0) return NO_REDIS;
        if (got == 1) {
            hold(g, l);
            return GOT;
        }
        if (chorus_job_cancelled(job)) return CHORUS_E_CANCELLED;
        if (deadline && mono_ms() >= deadline) return CHORUS_E_BUSY;
        unsigned char j = 0;
        if (getrandom(&j, 1, 0) != 1) j = 0;
        sleep_ms(wait / 2 + (int)(j % (wait / 2 + 1))); /* jittered, so waiters do not march */
    }
}

/* max_concurrent_global of backend b: its instance's section, else its kind's (0: none). */
static int limit_of(const struct glimit *g, const struct chorus_backend *b, const char **section) {
    *section = b->name;
    double v = chorus_config_double(g->cfg, b->name, "max_concurrent_global", 0);
    if (v <= 0 && strcmp(b->name, b->desc->name)) {
        *section = b->desc->name;
        v = chorus_config_double(g->cfg, b->desc->name, "max_concurrent_global", 0);
    }
    return v > 0 ? (int)v : 0;
}

static int gl_run(void *state, const struct chorus_backend *b, const struct chorus_job *job,
                  unsigned flags, struct chorus_sink *sink, chorus_job_produce_fn produce, void *ctx) {
    struct glimit *g = state;
    const char *section;
    int max = limit_of(g, b, &section);
    if (max <= 0) return produce(ctx, sink);
    if (!g->r)
        return chorus_job_fail(job, CHORUS_E_CONFIG,
                               "[%s] max_concurrent_global needs a shared Redis: set [chorus] redis = "
                               "\"redis://HOST:PORT/DB\" (or a redis:// [cache] backend)", section);
    struct lease l;
    int rc = acquire(g, section, max, job, &l);
    if (rc == CHORUS_E_CANCELLED) return rc;
    if (rc == CHORUS_E_BUSY)
        return chorus_job_fail(job, CHORUS_E_BUSY,
                               "%s is busy account-wide: %d requests run at once across all servers "
                               "and none came free within %d ms; retry later, or raise [%s] "
                               "max_concurrent_global or [chorus] queue_timeout_ms",
                               section, max, g->queue_timeout_ms, section);
    int held = rc == GOT;
    rc = produce(ctx, sink);
    if (held) unhold(g, &l);
    return rc;
}

/* The Redis the limits use: [chorus] redis, else a redis:// cache backend; NULL if none. */
static const char *redis_url(const struct chorus_config *cfg) {
    const char *v = chorus_config_get(cfg, "chorus", "redis");
    if (v && *v) return v;
    v = getenv("CHORUS_CACHE_BACKEND");
    if (!v || !*v) v = chorus_config_get(cfg, "cache", "backend");
    return v && !strncmp(v, "redis://", 8) ? v : NULL;
}

static int gl_create(const struct chorus_config *cfg, int no_config, void **state, char *err,
                     size_t errlen) {
    *state = NULL;
    if (no_config) return CHORUS_OK;
    double lease = DEFAULT_LEASE_MS, qt = 0;
    int rc = chorus_config_number(cfg, "chorus", "global_lease_ms", 1000, 3600000, 1, DEFAULT_LEASE_MS,
                                  &lease, err, errlen);
    if (!rc) rc = chorus_config_number(cfg, "chorus", "queue_timeout_ms", 0, 86400000, 1, 0, &qt, err, errlen);
    if (rc) return rc;
    struct glimit *g = calloc(1, sizeof *g);
    if (!g) return CHORUS_E_NOMEM;
    g->cfg = cfg;
    g->lease_ms = (int)lease;
    g->queue_timeout_ms = (int)qt;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    atomic_init(&g->seq, 0);
    const char *url = redis_url(cfg);
    if (url) {
        struct chorus_redis_url u;
        char why[512];
        if (chorus_redis_url_parse(url, &u, why, sizeof why) < 0) {
            chorus_fmt(err, errlen, "invalid [chorus] redis: %s", why);
            free(g);
            return CHORUS_E_CONFIG;
        }
        const char *pw = getenv("CHORUS_REDIS_PASSWORD");
        if (pw && *pw) chorus_fmt(u.password, sizeof u.password, "%s", pw);
        g->r = chorus_redis_create(&u, "limits");
        memset(&u, 0, sizeof u);
        if (!g->r) {
            free(g);
            return CHORUS_E_NOMEM;
        }
    }
    *state = g;
    return CHORUS_OK;
}

static void gl_destroy(void *state) {
    struct glimit *g = state;
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (g->thread_started) pthread_join(g->renewer, NULL);
    chorus_redis_destroy(g->r);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

const struct chorus_job_filter_desc chorus_global_limit_filter = {
    "global_limit", gl_create, gl_destroy, gl_run};
