/*
 * redis.h — chorus's Redis client, on hiredis (Debian's libhiredis 0.14): the URL of a server,
 * and a pool of connections to it that survives the server going away.
 *
 * A pool never makes its caller wait for a dead server: connecting and every command have short
 * timeouts, and after a failure the pool is "down" for a backoff (250 ms doubling to 10 s) during
 * which it answers NULL at once; the first success after that brings it back. Going down logs one
 * warning, coming back one info line; the password is never part of a message.
 *
 * Users: the cache's Redis store (src/cache/store_redis.c) and the account-wide limiter
 * (src/remote/global_limit.c). Everything here may be called from any thread at once.
 */
#ifndef CHORUS_REDIS_REDIS_H
#define CHORUS_REDIS_REDIS_H

#include <stddef.h>
#include <stdint.h>

struct redisContext;
struct redisReply;

#define CHORUS_REDIS_URL_MAX 1024

struct chorus_redis_url {
    char host[256]; /* name or address, IPv6 without its brackets */
    int port;       /* 1..65535, default 6379 */
    int db;         /* 0..9999, default 0 */
    char user[128]; /* ACL user (Redis 6+), "" for the default user */
    char password[256];
};

/**
 * Parse "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]" (user and password may be %-escaped; HOST
 * may be [IPv6]). "rediss://" (TLS) is refused: Debian 12's hiredis has no TLS. Returns 0, or -1
 * with a message in err that never repeats the password.
 */
int chorus_redis_url_parse(const char *s, struct chorus_redis_url *out, char *err, size_t errlen);
/** "redis://HOST:PORT/DB" — what messages name (no credentials). */
char *chorus_redis_url_show(const struct chorus_redis_url *u, char *buf, size_t cap);

struct chorus_redis;
/** A pool for `u` (copied). `who` names the user in messages ("cache", "limits"). No connection is
 *  made until the first take. NULL on allocation failure. */
struct chorus_redis *chorus_redis_create(const struct chorus_redis_url *u, const char *who);
void chorus_redis_destroy(struct chorus_redis *r);

/**
 * Run one command on a connection from the pool (argv/lens as redisCommandArgv). A failure on a
 * connection that sat idle in the pool (the server restarted, a proxy dropped it) is retried once
 * on a fresh one. Returns the reply (never a transport error; a REDIS_REPLY_ERROR is a reply) with
 * the connection in *conn for follow-up commands — give it back with chorus_redis_give — or NULL
 * when the server is unreachable or down (the pool is then down; *conn is NULL).
 */
struct redisReply *chorus_redis_first(struct chorus_redis *r, struct redisContext **conn, int argc,
                                      const char **argv, const size_t *lens);
/** Return a connection; `broken` (a command on it failed) closes it and marks the pool down. */
void chorus_redis_give(struct chorus_redis *r, struct redisContext *c, int broken);
/** One command, start to end: the reply (free with freeReplyObject), or NULL. */
struct redisReply *chorus_redis_command(struct chorus_redis *r, int argc, const char **argv,
                                        const size_t *lens);
/** 1 while the pool is up (or untried). */
int chorus_redis_up(struct chorus_redis *r);
/** Say how a follow-up command on c failed (hiredis's message) and mark the pool down. */
void chorus_redis_failed(struct chorus_redis *r, struct redisContext *c);

#endif
