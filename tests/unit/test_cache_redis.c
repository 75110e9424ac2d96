/* test_cache_redis.c — the cache's Redis store against a real redis-server (Debian's
 * redis-server, started here on a loopback port): entries shared between engines with their own
 * directories, byte-identical hits through real espeak streams, layering, pieces, TTLs, damaged
 * values evicted and regenerated, a password that never reaches the log, and Redis killed and
 * restarted mid-run (requests go on uncached, one warning, caching comes back by itself).
 * Also the URL parser's answers. */
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/cache_internal.h"
#include "chorus/chorus.h"
#include "core/job_filter.h"
#include "redis/redis.h"
#include "test.h"

static char tmproot[512];
static int ndirs, redis_port;
static pid_t redis_pid = -1;
static char redis_pass[64]; /* "" or the password redis-server was started with */

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(s, (struct sockaddr *)&a, &l) < 0) return -1;
    close(s);
    return ntohs(a.sin_port);
}

/* A connection of the test's own, to inspect and damage what the store wrote. */
static redisContext *spy(void) {
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    if (redis_pass[0]) freeReplyObject(redisCommand(c, "AUTH %s", redis_pass));
    return c;
}

static void stop_redis(void) {
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
    }
    redis_pid = -1;
}

/* Start redis-server on redis_port (picked once); 0 when it answers PING. */
static int start_redis(const char *pass) {
    if (!redis_port) redis_port = free_port();
    snprintf(redis_pass, sizeof redis_pass, "%s", pass ? pass : "");
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    redis_pid = fork();
    if (redis_pid == 0) {
        freopen("/dev/null", "w", stdout);
        if (pass)
            execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--requirepass", pass, (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        redisContext *c = spy();
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r && r->type == REDIS_REPLY_STATUS;
            if (r) freeReplyObject(r);
            redisFree(c);
            if (ok) return 0;
        }
        sleep_ms(25);
    }
    fprintf(stderr, "redis-server did not start (is Debian's redis-server installed? make deps)\n");
    return -1;
}

/* An engine whose cache is in Redis db 3 (local: "true" layered, "false" Redis only). */
static struct chorus_engine *redis_engine(const char *local, const char *extra) {
    char dir[PATH_MAX], cfg[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/d%d", tmproot, ndirs++);
    mkdir(dir, 0700);
    snprintf(cfg, sizeof cfg, "%s.toml", dir);
    FILE *f = fopen(cfg, "w");
    if (!f) return NULL;
    fprintf(f, "[cache]\ndir = \"%s/cache\"\nbackend = \"redis://127.0.0.1:%d/3\"\nlocal = %s\n%s", dir,
            redis_port, local, extra ? extra : "");
    fclose(f);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = cfg;
    struct chorus_engine *e = NULL;
    char err[512] = "";
    if (chorus_engine_create2(&e, &o, err, sizeof err) != CHORUS_OK) {
        fprintf(stderr, "engine: %s\n", err);
        return NULL;
    }
    return e;
}

static struct chorus_cache *cache_of(struct chorus_engine *e) {
    return chorus_engine_filter_state(e, &chorus_cache_filter);
}

struct collect {
    unsigned char *bytes;
    size_t n, cap;
};

static int collect_cb(const struct chorus_event *ev, void *ud) {
    struct collect *c = ud;
    if (ev->type != CHORUS_EVENT_CHUNK) return 0;
    if (c->n + ev->chunk->data_len > c->cap) {
        c->cap = (c->n + ev->chunk->data_len) * 2 + 1024;
        c->bytes = realloc(c->bytes, c->cap);
    }
    memcpy(c->bytes + c->n, ev->chunk->data, ev->chunk->data_len);
    c->n += ev->chunk->data_len;
    return 0;
}

/* Speak text on espeak as 16-bit PCM into c (reset first). */
static int speak(struct chorus_engine *e, const char *text, struct collect *c) {
    free(c->bytes);
    memset(c, 0, sizeof *c);
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = text;
    r.format = CHORUS_FORMAT_PCM;
    r.callback = collect_cb;
    r.userdata = c;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    if (rc != CHORUS_OK) fprintf(stderr, "speak: %s\n", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    return rc;
}

static struct chorus_cache_stats stats(struct chorus_engine *e) {
    struct chorus_cache_stats st = {.size = sizeof st};
    if (chorus_engine_cache_stats(e, &st) != CHORUS_OK) memset(&st, 0xff, sizeof st);
    return st;
}

/* Number of keys matching pattern in db 3. */
static long long count_keys(const char *pattern) {
    redisContext *c = spy();
    if (!c) return -1;
    freeReplyObject(redisCommand(c, "SELECT 3"));
    redisReply *r = redisCommand(c, "KEYS %s", pattern);
    long long n = r && r->type == REDIS_REPLY_ARRAY ? (long long)r->elements : -1;
    if (r) freeReplyObject(r);
    redisFree(c);
    return n;
}

/* Run a command on db 3 and return its integer reply (-99 if none). */
static long long rcmd(const char *fmt, const char *a, const char *b) {
    redisContext *c = spy();
    if (!c) return -99;
    freeReplyObject(redisCommand(c, "SELECT 3"));
    redisReply *r = redisCommand(c, fmt, a, b);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : r && r->type == REDIS_REPLY_STATUS ? 0 : -99;
    if (r) freeReplyObject(r);
    redisFree(c);
    return v;
}

static void flush_redis(void) {
    rcmd("FLUSHDB", NULL, NULL);
}

/* ------------------------------------------------------------------ URLs ---- */

TEST(test_url_parser) {
    struct chorus_redis_url u;
    char err[512];
    CHECK(chorus_redis_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof err) == 0);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_EQ_INT(u.port, 6380);
    CHECK_EQ_INT(u.db, 2);
    CHECK(chorus_redis_url_parse("redis://cache.internal", &u, err, sizeof err) == 0);
    CHECK_EQ_INT(u.port, 6379);
    CHECK_EQ_INT(u.db, 0);
    CHECK(chorus_redis_url_parse("redis://:s%40cret@[::1]:7000/1", &u, err, sizeof err) == 0);
    CHECK_STR(u.password, "s@cret");
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.user, "");
    CHECK(chorus_redis_url_parse("redis://app:pw@h:1", &u, err, sizeof err) == 0);
    CHECK_STR(u.user, "app");
    CHECK_STR(u.password, "pw");
    CHECK(chorus_redis_url_parse("rediss://:topsecret@h:6380/0", &u, err, sizeof err) < 0);
    CHECK(strstr(err, "TLS") != NULL);
    CHECK(strstr(err, "topsecret") == NULL);
    const char *bad[] = {"http://h", "redis://", "redis://h:0", "redis://h:65536", "redis://h/x",
                         "redis://h/10000", "redis://h?db=1", "redis://:%zz@h", "redis://h o",
                         "redis://[::1", "redis://:pw%00x@h"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(chorus_redis_url_parse(bad[i], &u, err, sizeof err) < 0, "accepted %s", bad[i]);
    CHECK(chorus_redis_url_parse("redis://:hunter22@h:99999", &u, err, sizeof err) < 0);
    CHECK(strstr(err, "hunter22") == NULL);
    char shown[256];
    chorus_redis_url_parse("redis://:hunter22@h:1/4", &u, err, sizeof err);
    CHECK_STR(chorus_redis_url_show(&u, shown, sizeof shown), "redis://h:1/4");
}

/* ------------------------------------------------------------------ sharing ---- */

static const char text1[] = "Two servers share one cache in Redis.";

TEST(test_two_engines_share_entries) {
    flush_redis();
    struct chorus_engine *a = redis_engine("false", NULL), *b = redis_engine("false", NULL);
    CHECK(a && b);
    struct collect ca = {0}, cb = {0};
    CHECK_EQ_INT(speak(a, text1, &ca), CHORUS_OK);
    CHECK_EQ_INT(stats(a).stores, 1);
    CHECK_EQ_INT(stats(a).misses, 1);
    CHECK(count_keys("chorus:cache:*") >= 2); /* a meta and at least one piece */
    CHECK_EQ_INT(speak(b, text1, &cb), CHORUS_OK);
    CHECK_EQ_INT(stats(b).hits, 1);
    CHECK_EQ_INT(stats(b).stores, 0);
    CHECK(ca.n > 10000 && ca.n == cb.n && !memcmp(ca.bytes, cb.bytes, ca.n));
    CHECK_EQ_INT(stats(b).entries, 0); /* Redis only: nothing in b's directory */
    free(ca.bytes);
    free(cb.bytes);
    chorus_engine_destroy(a);
    chorus_engine_destroy(b);
}

TEST(test_layered_copies_a_redis_hit_into_the_directory) {
    flush_redis();
    struct chorus_engine *a = redis_engine("true", NULL), *b = redis_engine("true", NULL);
    CHECK(a && b);
    struct collect ca = {0}, cb = {0};
    CHECK_EQ_INT(speak(a, text1, &ca), CHORUS_OK);
    CHECK_EQ_INT(stats(a).entries, 1); /* written to both layers */
    CHECK_EQ_INT(stats(a).stores, 1);
    CHECK_EQ_INT(speak(b, text1, &cb), CHORUS_OK); /* b's directory misses, Redis hits */
    CHECK_EQ_INT(stats(b).hits, 1);
    CHECK_EQ_INT(stats(b).misses, 0);
    CHECK_EQ_INT(stats(b).entries, 1); /* and the hit was copied into b's directory */
    flush_redis();                     /* now only b's directory has it */
    CHECK_EQ_INT(speak(b, text1, &cb), CHORUS_OK);
    CHECK_EQ_INT(stats(b).hits, 2);
    CHECK(ca.n == cb.n && !memcmp(ca.bytes, cb.bytes, ca.n));
    free(ca.bytes);
    free(cb.bytes);
    chorus_engine_destroy(a);
    chorus_engine_destroy(b);
}

/* ------------------------------------------------------------------ entries ---- */

static struct chorus_cache_key key_of(const char *name) {
    struct chorus_cache_keyb kb;
    struct chorus_cache_key k;
    chorus_cache_key_init(&kb);
    chorus_cache_key_add_str(&kb, "test", name);
    chorus_cache_key_finish(&kb, &k);
    return k;
}

static int16_t sample(size_t i, int seed) {
    return (int16_t)((i * 31 + (size_t)seed * 977) % 20000 - 10000);
}

static int put_entry(struct chorus_cache *c, const char *name, size_t n, int seed) {
    struct chorus_cache_key k = key_of(name);
    struct chorus_cache_writer *w;
    int rc = chorus_cache_writer_begin(c, &k, &w);
    if (rc) return rc;
    int16_t *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = sample(i, seed);
    chorus_cache_writer_pcm_s16(w, x, n, 16000);
    free(x);
    return chorus_cache_writer_commit(w);
}

struct verify {
    size_t samples;
    int seed, bad;
};
static int v_s16(void *ud, const int16_t *x, size_t n, int rate) {
    struct verify *v = ud;
    for (size_t i = 0; i < n; i++, v->samples++)
        if (x[i] != sample(v->samples, v->seed)) v->bad = 1;
    return rate != 16000;
}

/* 1 if name is a hit holding exactly what put_entry(n, seed) stored. */
static int get_entry(struct chorus_cache *c, const char *name, size_t n, int seed) {
    struct chorus_cache_key k = key_of(name);
    struct chorus_cache_blob *b;
    if (chorus_cache_get(c, &k, &b) != CHORUS_OK) return 0;
    struct chorus_cache_visitor vis = {0};
    vis.pcm_s16 = v_s16;
    struct verify v = {0, seed, 0};
    int rc = chorus_cache_entry_walk(b->p, b->n, &vis, &v);
    chorus_cache_blob_free(b);
    return rc == 0 && !v.bad && v.samples == n;
}

TEST(test_big_entry_is_stored_in_bounded_pieces_with_ttl) {
    flush_redis();
    struct chorus_engine *e = redis_engine("false", "ttl = \"2h\"\n");
    CHECK(e);
    struct chorus_cache *c = cache_of(e);
    size_t n = 1500000; /* 3 MB of samples: 6 pieces of at most 512 KiB */
    CHECK_EQ_INT(put_entry(c, "big", n, 7), CHORUS_OK);
    struct chorus_cache_key k = key_of("big");
    char pat[160];
    snprintf(pat, sizeof pat, "chorus:cache:%s:*", k.hex);
    CHECK_EQ_INT(count_keys(pat), 6);
    redisContext *s = spy();
    CHECK(s);
    freeReplyObject(redisCommand(s, "SELECT 3"));
    redisReply *keys = redisCommand(s, "KEYS chorus:cache:*");
    CHECK(keys && keys->type == REDIS_REPLY_ARRAY && keys->elements == 7);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *len = redisCommand(s, "STRLEN %s", keys->element[i]->str);
        redisReply *ttl = redisCommand(s, "TTL %s", keys->element[i]->str);
        CHECK(len && len->integer > 0 && len->integer <= 512 * 1024);
        CHECK(ttl && ttl->integer > 7000 && ttl->integer <= 7200);
        freeReplyObject(len);
        freeReplyObject(ttl);
    }
    freeReplyObject(keys);
    redisFree(s);
    CHECK(get_entry(c, "big", n, 7));
    /* a rewrite replaces the pieces (the old generation is unlinked) */
    CHECK_EQ_INT(put_entry(c, "big", n, 8), CHORUS_OK);
    CHECK_EQ_INT(count_keys(pat), 6);
    CHECK(get_entry(c, "big", n, 8));
    CHECK_EQ_INT(chorus_cache_evict(c, &k), CHORUS_OK);
    CHECK_EQ_INT(count_keys("chorus:cache:*"), 0);
    chorus_engine_destroy(e);
}

/* The name of piece i of key's current entry (from its meta). */
static int piece_name(const struct chorus_cache_key *k, int i, char *buf, size_t cap) {
    redisContext *s = spy();
    if (!s) return -1;
    freeReplyObject(redisCommand(s, "SELECT 3"));
    redisReply *r = redisCommand(s, "GET chorus:cache:%s", k->hex);
    struct chorus_cache_rmeta m;
    int rc = r && r->type == REDIS_REPLY_STRING && chorus_cache_rmeta_parse(r->str, r->len, &m) == 0 ? 0 : -1;
    if (rc == 0) snprintf(buf, cap, "chorus:cache:%s:%s:%d", k->hex, m.gen, i);
    if (r) freeReplyObject(r);
    redisFree(s);
    return rc;
}

TEST(test_damaged_values_are_evicted_and_regenerated) {
    flush_redis();
    struct chorus_engine *e = redis_engine("false", NULL);
    CHECK(e);
    struct chorus_cache *c = cache_of(e);
    struct chorus_cache_key k = key_of("dmg");
    char meta[128], p0[200], p1[200];
    snprintf(meta, sizeof meta, "chorus:cache:%s", k.hex);
    size_t n = 300000; /* two pieces */
    for (int round = 0; round < 5; round++) {
        CHECK_EQ_INT(put_entry(c, "dmg", n, round), CHORUS_OK);
        CHECK(piece_name(&k, 0, p0, sizeof p0) == 0 && piece_name(&k, 1, p1, sizeof p1) == 0);
        uint64_t corrupt = stats(e).corrupt;
        switch (round) {
        case 0: rcmd("SETRANGE %s 5000 %s", p0, "garbage"); break;  /* flipped bytes */
        case 1: rcmd("SET %s %s", p1, "short"); break;              /* truncated */
        case 2: rcmd("DEL %s", p1, NULL); break;                    /* a piece evicted by LRU */
        case 3: rcmd("SET %s %s", meta, "CHRSRED1 12 x"); break;    /* a meta of garbage */
        case 4: rcmd("APPEND %s %s", p0, "x"); break;               /* too long */
        }
        CHECK_MSG(!get_entry(c, "dmg", n, round), "round %d: damaged entry served", round);
        CHECK_EQ_INT(stats(e).corrupt, corrupt + 1);
        CHECK_MSG(rcmd("EXISTS %s", meta, NULL) == 0, "round %d: damaged entry not evicted", round);
        CHECK_EQ_INT(put_entry(c, "dmg", n, round), CHORUS_OK); /* regenerated */
        CHECK(get_entry(c, "dmg", n, round));
    }
    chorus_engine_destroy(e);
}

/* ------------------------------------------------------------------ outages ---- */

static char logbuf[16384];
static int warn_lines;
static void capture(enum chorus_log_level lvl, const char *msg, void *ud) {
    (void)ud;
    if (lvl == CHORUS_LOG_WARN && strstr(msg, "unreachable")) warn_lines++;
    size_t l = strlen(logbuf);
    snprintf(logbuf + l, sizeof logbuf - l, "%s\n", msg);
}

TEST(test_outage_degrades_to_no_cache_and_recovers) {
    flush_redis();
    struct chorus_engine *e = redis_engine("false", NULL), *other = redis_engine("false", NULL);
    CHECK(e && other);
    struct collect col = {0};
    CHECK_EQ_INT(speak(e, "Before the outage.", &col), CHORUS_OK); /* the pool has a connection */
    CHECK_EQ_INT(stats(e).stores, 1);
    logbuf[0] = 0;
    warn_lines = 0;
    chorus_set_log(capture, NULL, CHORUS_LOG_INFO);
    stop_redis(); /* killed mid-run */
    char text[64];
    for (int i = 0; i < 4; i++) {
        snprintf(text, sizeof text, "Redis is down, request %d.", i);
        CHECK_EQ_INT(speak(e, text, &col), CHORUS_OK); /* never fails a request */
        CHECK(col.n > 1000);
    }
    CHECK_EQ_INT(stats(e).stores, 1); /* nothing stored while down */
    CHECK_EQ_INT(warn_lines, 1);      /* one warning for the outage */
    CHECK(start_redis(NULL) == 0);
    /* it comes back by itself: the backoff is at most 10 s; no request may fail meanwhile */
    uint64_t stores = 1;
    for (int i = 0; i < 60 && stores == 1; i++) {
        snprintf(text, sizeof text, "Redis is back, request %d.", i);
        CHECK_EQ_INT(speak(e, text, &col), CHORUS_OK);
        stores = stats(e).stores;
        if (stores == 1) sleep_ms(250);
    }
    CHECK_MSG(stores == 2, "caching did not resume after Redis came back");
    CHECK(strstr(logbuf, "is back") != NULL);
    struct collect col2 = {0};
    CHECK_EQ_INT(speak(other, text, &col2), CHORUS_OK); /* and the other engine reads it */
    CHECK_EQ_INT(stats(other).hits, 1);
    chorus_set_log(NULL, NULL, CHORUS_LOG_ERROR);
    free(col.bytes);
    free(col2.bytes);
    chorus_engine_destroy(e);
    chorus_engine_destroy(other);
}

TEST(test_password_from_env_never_logged) {
    stop_redis();
    CHECK(start_redis("pw-4d3f9a1c77") == 0);
    logbuf[0] = 0;
    chorus_set_log(capture, NULL, CHORUS_LOG_DEBUG);
    struct collect col = {0};
    /* no password: Redis refuses, the request goes on uncached */
    unsetenv("CHORUS_REDIS_PASSWORD");
    struct chorus_engine *e = redis_engine("false", NULL);
    CHECK(e);
    CHECK_EQ_INT(speak(e, "A locked Redis.", &col), CHORUS_OK);
    CHECK_EQ_INT(stats(e).stores, 0);
    chorus_engine_destroy(e);
    setenv("CHORUS_REDIS_PASSWORD", "pw-4d3f9a1c77", 1);
    e = redis_engine("false", NULL);
    CHECK(e);
    CHECK_EQ_INT(speak(e, "A locked Redis.", &col), CHORUS_OK);
    CHECK_EQ_INT(stats(e).stores, 1);
    unsetenv("CHORUS_REDIS_PASSWORD");
    chorus_engine_destroy(e);
    chorus_set_log(NULL, NULL, CHORUS_LOG_ERROR);
    CHECK(strstr(logbuf, "NOAUTH") || strstr(logbuf, "AUTH") || strstr(logbuf, "unreachable"));
    CHECK(strstr(logbuf, "pw-4d3f9a1c77") == NULL);
    free(col.bytes);
    stop_redis();
    CHECK(start_redis(NULL) == 0);
}

int main(void) {
    unsetenv("CHORUS_CACHE");
    unsetenv("CHORUS_CACHE_DIR");
    unsetenv("CHORUS_CACHE_BACKEND");
    unsetenv("CHORUS_REDIS_PASSWORD");
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmproot, sizeof tmproot, "%s/chorus-test-redis-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmproot)) return 1;
    setenv("XDG_CACHE_HOME", tmproot, 1);
    RUN(test_url_parser);
    if (start_redis(NULL) == 0) {
        RUN(test_two_engines_share_entries);
        RUN(test_layered_copies_a_redis_hit_into_the_directory);
        RUN(test_big_entry_is_stored_in_bounded_pieces_with_ttl);
        RUN(test_damaged_values_are_evicted_and_regenerated);
        RUN(test_outage_degrades_to_no_cache_and_recovers);
        RUN(test_password_from_env_never_logged);
    } else {
        test_failed_++;
    }
    stop_redis();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmproot);
    return test_summary();
}
