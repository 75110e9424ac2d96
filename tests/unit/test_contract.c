/*
 * The library contract (issue 14): library calls never change process-wide state (umask, the
 * environment), a stream whose open failed can be cancelled, the engine's message belongs to
 * the last call on that engine from this thread, config numbers are strict with their ranges,
 * admission refuses with CHORUS_E_BUSY, timed waits ignore the wall clock.
 *
 * This executable links the static library, so its own umask/setenv/putenv/unsetenv and
 * clock_gettime replace libc's for the library's calls: they count (and forward) what the
 * library does.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "chorus/chorus.h"
#include "core/util.h"
#include "nn/nn.h"
#include "test.h"

/* ---- interposed libc calls ---- */

static atomic_int in_main, umask_calls, env_writes;
static atomic_long clock_skew_s; /* added to CLOCK_REALTIME readings */

mode_t umask(mode_t m) {
    if (atomic_load(&in_main)) atomic_fetch_add(&umask_calls, 1);
    return (mode_t)syscall(SYS_umask, m);
}

int setenv(const char *name, const char *value, int overwrite) {
    if (atomic_load(&in_main)) atomic_fetch_add(&env_writes, 1);
    int (*real)(const char *, const char *, int) =
        (int (*)(const char *, const char *, int))dlsym(RTLD_NEXT, "setenv");
    return real(name, value, overwrite);
}

int unsetenv(const char *name) {
    if (atomic_load(&in_main)) atomic_fetch_add(&env_writes, 1);
    int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "unsetenv");
    return real(name);
}

int putenv(char *s) {
    if (atomic_load(&in_main)) atomic_fetch_add(&env_writes, 1);
    int (*real)(char *) = (int (*)(char *))dlsym(RTLD_NEXT, "putenv");
    return real(s);
}

/* A wall clock that jumped: CLOCK_REALTIME readings are shifted by clock_skew_s. */
int clock_gettime(clockid_t id, struct timespec *ts) {
    int rc = (int)syscall(SYS_clock_gettime, id, ts);
    if (rc == 0 && id == CLOCK_REALTIME) ts->tv_sec += atomic_load(&clock_skew_s);
    return rc;
}

static struct chorus_engine *engine(void) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    chorus_engine_create(&e, &o);
    return e;
}

/* ---- process-wide state ---- */

TEST(file_output_keeps_the_umask) {
    struct chorus_engine *e = engine();
    CHECK(e != NULL);
    char path[256];
    snprintf(path, sizeof path, "/tmp/chorus-contract-%d.wav", (int)getpid());
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Hello.";
    char err[512];
    /* the first run starts libespeak-ng (whose audio library may call umask: not ours) */
    CHECK_MSG(chorus_synthesize_file(e, &r, path, err, sizeof err) == CHORUS_OK, "%s", err);
    mode_t old = (mode_t)syscall(SYS_umask, 027);
    atomic_store(&umask_calls, 0);
    for (int i = 0; i < 3; i++)
        CHECK_MSG(chorus_synthesize_file(e, &r, path, err, sizeof err) == CHORUS_OK, "%s", err);
    int calls = atomic_load(&umask_calls);
    struct stat st;
    int srv = stat(path, &st);
    syscall(SYS_umask, old);
    unlink(path);
    chorus_engine_destroy(e);
    CHECK_EQ_INT(calls, 0); /* umask() changes it for every thread of the process */
    CHECK_EQ_INT(srv, 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0640); /* 0666 less the umask, as creat() gives */
}

TEST(blas_setup_leaves_the_environment_alone) {
    atomic_store(&env_writes, 0);
    chorus_nn_init(); /* what the first Kokoro job does */
    (void)chorus_nn_blas_name();
    CHECK_EQ_INT(atomic_load(&env_writes), 0);
}

/* ---- handles ---- */

TEST(cancel_after_a_failed_open) {
    struct chorus_request r = chorus_request_default();
    r.text = "Hello.";
    struct chorus_stream *s = NULL;
    CHECK_EQ_INT(chorus_stream_open(NULL, &r, &s), CHORUS_E_INVALID);
    CHECK(s != NULL);
    chorus_stream_cancel(s); /* no engine: must not crash */
    CHECK(strlen(chorus_stream_errmsg(s)) > 0);
    chorus_stream_destroy(s);
    struct chorus_engine *e = engine();
    r.backend = "nosuch";
    s = NULL;
    CHECK_EQ_INT(chorus_stream_open(e, &r, &s), CHORUS_E_UNKNOWN_BACKEND);
    chorus_stream_cancel(s);
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
}

static void *other_thread_fails(void *arg) {
    const struct chorus_option_desc *o;
    size_t n;
    chorus_backend_options(arg, "from-another-thread", &o, &n);
    return NULL;
}

TEST(engine_message_is_per_call_and_per_engine) {
    struct chorus_engine *a = engine(), *b = engine();
    const struct chorus_option_desc *o;
    size_t n;
    CHECK_EQ_INT(chorus_backend_options(a, "nosuch", &o, &n), CHORUS_E_UNKNOWN_BACKEND);
    CHECK(strstr(chorus_engine_errmsg(a), "nosuch") != NULL);
    CHECK_STR(chorus_engine_errmsg(b), ""); /* another engine has its own channel */
    pthread_t t;
    pthread_create(&t, NULL, other_thread_fails, a);
    pthread_join(t, NULL);
    CHECK(strstr(chorus_engine_errmsg(a), "nosuch") != NULL); /* not the other thread's */
    CHECK_EQ_INT(chorus_backend_options(a, "espeak", &o, &n), CHORUS_OK);
    CHECK_STR(chorus_engine_errmsg(a), ""); /* cleared by the next call */
    struct chorus_voice *v;
    CHECK(chorus_list_voices(b, "nosuch2", &v, &n) == CHORUS_E_UNKNOWN_BACKEND);
    CHECK(strstr(chorus_engine_errmsg(b), "nosuch2") != NULL);
    CHECK(chorus_list_voices(b, "espeak", &v, &n) == CHORUS_OK);
    CHECK_STR(chorus_engine_errmsg(b), "");
    chorus_voices_free(v, n);
    chorus_engine_destroy(a);
    chorus_engine_destroy(b);
}

/* ---- config ---- */

static int create_with(const char *toml, char *msg, size_t cap, char *path, size_t pcap) {
    snprintf(path, pcap, "/tmp/chorus-contract-%d.toml", (int)getpid());
    FILE *f = fopen(path, "w");
    fprintf(f, "# test\n%s\n", toml);
    fclose(f);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = path;
    struct chorus_engine *e = NULL;
    int rc = chorus_engine_create(&e, &o);
    snprintf(msg, cap, "%s", chorus_engine_errmsg(NULL));
    chorus_engine_destroy(e);
    unlink(path);
    return rc;
}

TEST(config_numbers_are_strict) {
    static const char *bad[] = {
        "[chorus]\nmax_concurrent = \"four\"", "[chorus]\nmax_concurrent = 1e10",
        "[chorus]\nmax_concurrent = inf",      "[chorus]\nmax_concurrent = nan",
        "[chorus]\nmax_concurrent = 0",        "[chorus]\nmax_concurrent = 2.5",
        "[chorus]\ncrossfade_ms = 1e300",      "[chorus]\nloudness_db = 3",
        "[chorus]\nmax_queue = -1",            "[chorus]\nqueue_timeout_ms = \"soon\"",
        "[espeak]\nmax_concurrent = 1e10",     "[espeak]\nmax_chunk_chars = 0x10",
        "[chorus]\ntrim_silence = \"maybe\"",  "[kokoro]\nloudness_db = -inf",
        "[chorus]\nloudness_db = \"-30dB\"",   "[espeak]\nfade_ms = \"fast\"",
    };
    char msg[1024], path[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = create_with(bad[i], msg, sizeof msg, path, sizeof path);
        CHECK_MSG(rc == CHORUS_E_CONFIG, "'%s' gave %d", bad[i], rc);
        char where[300];
        snprintf(where, sizeof where, "%s:3:", path); /* file and line of the value */
        CHECK_MSG(strstr(msg, where) != NULL, "'%s': %s", bad[i], msg);
        CHECK_MSG(strstr(msg, " use ") != NULL, "'%s' says what to do: %s", bad[i], msg);
    }
    static const char *good[] = {"[chorus]\nmax_concurrent = 8\nmax_queue = 0",
                                 "[chorus]\nmax_concurrent = 1_0_0_0\ntrim_silence = \"on\"",
                                 "[espeak]\nloudness_db = -18.5\nmax_concurrent = 0"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_MSG(create_with(good[i], msg, sizeof msg, path, sizeof path) == CHORUS_OK, "%s: %s",
                  good[i], msg);
}

TEST(environment_numbers_are_strict) {
    /* the variable is set before counting: this test is about parsing, not about the library */
    setenv("CHORUS_MAX_CONCURRENT", "four", 1);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    int rc = chorus_engine_create(&e, &o);
    unsetenv("CHORUS_MAX_CONCURRENT");
    CHECK_EQ_INT(rc, CHORUS_E_CONFIG);
    CHECK(e == NULL);
    CHECK(strstr(chorus_engine_errmsg(NULL), "CHORUS_MAX_CONCURRENT") != NULL);
}

TEST(one_boolean_spelling) {
    static const char *yes[] = {"true", "TRUE", "yes", "on", "1"};
    static const char *no[] = {"false", "No", "off", "0"};
    static const char *neither[] = {"", "2", "y", "truth", "enabled", " true"};
    int b;
    for (size_t i = 0; i < 5; i++) CHECK(chorus_parse_bool(yes[i], &b) == 0 && b == 1);
    for (size_t i = 0; i < 4; i++) CHECK(chorus_parse_bool(no[i], &b) == 0 && b == 0);
    for (size_t i = 0; i < 6; i++) CHECK_MSG(chorus_parse_bool(neither[i], &b) < 0, "%s", neither[i]);
    double d;
    CHECK(chorus_parse_number("1_000.5", &d) == 0 && d == 1000.5);
    CHECK(chorus_parse_number("inf", &d) < 0 && chorus_parse_number("1e999", &d) < 0);
    CHECK(chorus_parse_number("0x10", &d) < 0 && chorus_parse_number("_1", &d) < 0);
}

/* ---- admission ---- */

struct gate {
    atomic_int started, release;
};

static int hold_cb(const struct chorus_event *ev, void *ud) {
    struct gate *g = ud;
    if (ev->type == CHORUS_EVENT_STARTED) {
        atomic_store(&g->started, 1);
        while (!atomic_load(&g->release)) usleep(1000);
    }
    return 0;
}

struct runner {
    struct chorus_stream *s;
    int rc;
};

static void *run_it(void *arg) {
    struct runner *r = arg;
    r->rc = chorus_stream_run(r->s);
    return NULL;
}

static struct chorus_stream *open_one(struct chorus_engine *e, chorus_callback cb, void *ud) {
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Hi.";
    r.callback = cb;
    r.userdata = ud;
    struct chorus_stream *s = NULL;
    chorus_stream_open(e, &r, &s);
    return s;
}

TEST(admission_refuses_with_busy) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    o.max_concurrent = 1;
    o.max_queue = -1; /* none may wait */
    struct chorus_engine *e = NULL;
    CHECK(chorus_engine_create(&e, &o) == CHORUS_OK);
    struct gate g = {0};
    struct runner a = {open_one(e, hold_cb, &g), 0};
    pthread_t t;
    pthread_create(&t, NULL, run_it, &a);
    while (!atomic_load(&g.started)) usleep(1000);
    struct chorus_stream *b = open_one(e, NULL, NULL);
    CHECK_EQ_INT(chorus_stream_run(b), CHORUS_E_BUSY);
    CHECK(strstr(chorus_stream_errmsg(b), "queue is full") != NULL);
    chorus_stream_destroy(b);
    atomic_store(&g.release, 1);
    pthread_join(t, NULL);
    CHECK_EQ_INT(a.rc, CHORUS_OK);
    chorus_stream_destroy(a.s);
    chorus_engine_destroy(e);
}

TEST(admission_times_out_with_busy) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    o.max_concurrent = 1;
    o.max_queue = 4;
    o.queue_timeout_ms = 100;
    struct chorus_engine *e = NULL;
    CHECK(chorus_engine_create(&e, &o) == CHORUS_OK);
    struct gate g = {0};
    struct runner a = {open_one(e, hold_cb, &g), 0};
    pthread_t t;
    pthread_create(&t, NULL, run_it, &a);
    while (!atomic_load(&g.started)) usleep(1000);
    /* the wall clock jumps an hour back: a realtime deadline would wait an hour more */
    atomic_store(&clock_skew_s, -3600);
    struct chorus_stream *b = open_one(e, NULL, NULL);
    CHECK_EQ_INT(chorus_stream_run(b), CHORUS_E_BUSY);
    atomic_store(&clock_skew_s, 0);
    CHECK_MSG(strstr(chorus_stream_errmsg(b), "100 ms") != NULL, "%s", chorus_stream_errmsg(b));
    chorus_stream_destroy(b);
    atomic_store(&g.release, 1);
    pthread_join(t, NULL);
    CHECK_EQ_INT(a.rc, CHORUS_OK);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0);
    CHECK_EQ_INT(st.queued, 0);
    chorus_stream_destroy(a.s);
    chorus_engine_destroy(e);
}

TEST(receive_timeout_ignores_the_wall_clock) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    o.max_concurrent = 1;
    struct chorus_engine *e = NULL;
    CHECK(chorus_engine_create(&e, &o) == CHORUS_OK);
    struct gate g = {0};
    struct runner a = {open_one(e, hold_cb, &g), 0};
    pthread_t t;
    pthread_create(&t, NULL, run_it, &a);
    while (!atomic_load(&g.started)) usleep(1000);
    struct chorus_stream *b = open_one(e, NULL, NULL); /* waits for the slot a holds */
    atomic_store(&clock_skew_s, 3600);                 /* the wall clock jumps an hour ahead */
    struct chorus_chunk *c = NULL;
    int rc = chorus_stream_receive(b, &c, 50); /* a realtime deadline would be an hour away */
    atomic_store(&clock_skew_s, 0);
    CHECK_EQ_INT(rc, CHORUS_AGAIN);
    atomic_store(&g.release, 1);
    pthread_join(t, NULL);
    while ((rc = chorus_stream_receive(b, &c, -1)) == CHORUS_OK) chorus_chunk_free(c);
    CHECK_EQ_INT(rc, CHORUS_EOF);
    chorus_stream_destroy(b);
    chorus_stream_destroy(a.s);
    chorus_engine_destroy(e);
}

int main(void) {
    atomic_store(&in_main, 1);
    RUN(blas_setup_leaves_the_environment_alone);
    RUN(file_output_keeps_the_umask);
    RUN(cancel_after_a_failed_open);
    RUN(engine_message_is_per_call_and_per_engine);
    RUN(config_numbers_are_strict);
    RUN(environment_numbers_are_strict);
    RUN(one_boolean_spelling);
    RUN(admission_refuses_with_busy);
    RUN(admission_times_out_with_busy);
    RUN(receive_timeout_ignores_the_wall_clock);
    return test_summary();
}
