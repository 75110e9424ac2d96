/*
 * pool.c — connections to one Redis server (redis.h): a small stack of idle connections, short
 * timeouts, and a down state with backoff so that a dead server costs a request nothing.
 */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "redis/redis.h"

#define POOL_IDLE_MAX 16
#define CONNECT_TIMEOUT_MS 1000
#define COMMAND_TIMEOUT_MS 3000
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 10000

struct chorus_redis {
    struct chorus_redis_url url;
    char shown[CHORUS_REDIS_URL_MAX];
    char who[32];
    pthread_mutex_t mu; /* guards everything below */
    redisContext *idle[POOL_IDLE_MAX];
    int nidle;
    int down;            /* 1 after a failure, until a connection works again */
    int64_t retry_at_ms; /* while down: no attempt before this (monotonic) */
    int64_t backoff_ms;
};

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval tv_ms(int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

struct chorus_redis *chorus_redis_create(const struct chorus_redis_url *u, const char *who) {
    struct chorus_redis *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->url = *u;
    chorus_redis_url_show(u, r->shown, sizeof r->shown);
    snprintf(r->who, sizeof r->who, "%s", who ? who : "redis");
    if (u->password[0]) chorus_secret_register(u->password);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void chorus_redis_destroy(struct chorus_redis *r) {
    if (!r) return;
    for (int i = 0; i < r->nidle; i++) redisFree(r->idle[i]);
    pthread_mutex_destroy(&r->mu);
    memset(&r->url, 0, sizeof r->url);
    free(r);
}

/* Enter (or stay in) the down state: one warning when it begins, a longer wait each time. */
static void mark_down(struct chorus_redis *r, const char *why) {
    redisContext *drop[POOL_IDLE_MAX];
    int ndrop;
    pthread_mutex_lock(&r->mu);
    int first = !r->down;
    r->down = 1;
    r->backoff_ms = first ? BACKOFF_FIRST_MS
                          : (r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2);
    r->retry_at_ms = mono_ms() + r->backoff_ms;
    ndrop = r->nidle;
    memcpy(drop, r->idle, sizeof(redisContext *) * (size_t)ndrop);
    r->nidle = 0;
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < ndrop; i++) redisFree(drop[i]);
    chorus_log(first ? CHORUS_LOG_WARN : CHORUS_LOG_DEBUG,
               "%s: Redis at %s is unreachable (%s): going on without it, retrying in the background",
               r->who, r->shown, why);
}

static void mark_up(struct chorus_redis *r) {
    pthread_mutex_lock(&r->mu);
    int was = r->down;
    r->down = 0;
    pthread_mutex_unlock(&r->mu);
    if (was) CHORUS_LOGI("%s: Redis at %s is back", r->who, r->shown);
}

int chorus_redis_up(struct chorus_redis *r) {
    pthread_mutex_lock(&r->mu);
    int up = !r->down;
    pthread_mutex_unlock(&r->mu);
    return up;
}

/* A checked reply to AUTH or SELECT: 0 if +OK. */
static int ok_reply(redisContext *c, int argc, const char **argv, char *why, size_t cap) {
    redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
    int ok = rep && rep->type == REDIS_REPLY_STATUS;
    if (!rep) snprintf(why, cap, "%s", c->errstr);
    else if (!ok) snprintf(why, cap, "%s refused: %.200s", argv[0], rep->type == REDIS_REPLY_ERROR ? rep->str : "?");
    if (rep) freeReplyObject(rep);
    return ok ? 0 : -1;
}

static redisContext *connect_new(struct chorus_redis *r, char *why, size_t cap) {
    redisContext *c = redisConnectWithTimeout(r->url.host, r->url.port, tv_ms(CONNECT_TIMEOUT_MS));
    if (!c || c->err) {
        snprintf(why, cap, "%s", c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv_ms(COMMAND_TIMEOUT_MS));
    int rc = 0;
    if (r->url.password[0]) {
        const char *a[3] = {"AUTH", r->url.user[0] ? r->url.user : r->url.password, r->url.password};
        rc = ok_reply(c, r->url.user[0] ? 3 : 2, a, why, cap);
    }
    if (rc == 0 && r->url.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->url.db);
        const char *a[2] = {"SELECT", db};
        rc = ok_reply(c, 2, a, why, cap);
    }
    if (rc) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* A connection: an idle one (*reused = 1) unless `fresh`, else a new one; NULL while down or on
 * failure. */
static redisContext *take(struct chorus_redis *r, int fresh, int *reused) {
    pthread_mutex_lock(&r->mu);
    if (r->down && mono_ms() < r->retry_at_ms) {
        pthread_mutex_unlock(&r->mu);
        return NULL;
    }
    redisContext *c = r->nidle && !fresh ? r->idle[--r->nidle] : NULL;
    pthread_mutex_unlock(&r->mu);
    *reused = c != NULL;
    if (c) return c;
    char why[256] = "";
    c = connect_new(r, why, sizeof why);
    if (!c) mark_down(r, why);
    else mark_up(r);
    return c;
}

void chorus_redis_give(struct chorus_redis *r, redisContext *c, int broken) {
    if (!c) return;
    if (broken || c->err) {
        char why[256];
        snprintf(why, sizeof why, "%s", c->errstr[0] ? c->errstr : "protocol error");
        redisFree(c);
        mark_down(r, why);
        return;
    }
    pthread_mutex_lock(&r->mu);
    if (r->nidle < POOL_IDLE_MAX && !r->down) {
        r->idle[r->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (c) redisFree(c);
}

void chorus_redis_failed(struct chorus_redis *r, redisContext *c) {
    chorus_redis_give(r, c, 1);
}

redisReply *chorus_redis_first(struct chorus_redis *r, redisContext **conn, int argc,
                               const char **argv, const size_t *lens) {
    *conn = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = 0;
        redisContext *c = take(r, attempt > 0, &reused);
        if (!c) return NULL;
        redisReply *rep = redisCommandArgv(c, argc, argv, lens);
        if (rep) {
            *conn = c;
            return rep;
        }
        if (!reused) {
            chorus_redis_give(r, c, 1);
            return NULL;
        }
        redisFree(c); /* an idle connection the server dropped: try a fresh one */
    }
    return NULL;
}

redisReply *chorus_redis_command(struct chorus_redis *r, int argc, const char **argv,
                                 const size_t *lens) {
    redisContext *c;
    redisReply *rep = chorus_redis_first(r, &c, argc, argv, lens);
    chorus_redis_give(r, c, 0);
    return rep;
}
