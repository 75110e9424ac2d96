/*
 * Concurrency stress for ThreadSanitizer (make check-tsan) and the ordinary suites: the library
 * says it is thread-safe, so these run its calls against each other on purpose:
 *   - probe vs first load (Kokoro's lazy model load while other threads list backends),
 *   - listing vs streaming (voices and backends listed while streams speak),
 *   - cancel vs destroy (pull-mode workers cancelled and destroyed mid-flight),
 *   - many engines and streams at once, with a small admission limit.
 * Every stream must end with a status the API promises (OK, CANCELLED, BUSY) and every audio
 * result is checked for real samples; TSan turns any data race into a failure.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chorus/chorus.h"
#include "test.h"

static char cfg_path[256];
static atomic_int failures;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            atomic_fetch_add(&failures, 1);                                                        \
        }                                                                                          \
    } while (0)

static void write_config(void) {
    const char *d = getenv("CHORUS_TEST_DATA");
    if (!d) d = "tests/data";
    char dir[1024];
    if (!realpath(d, dir)) snprintf(dir, sizeof dir, "%s", d);
    snprintf(cfg_path, sizeof cfg_path, "/tmp/chorus-stress-%d.toml", (int)getpid());
    FILE *f = fopen(cfg_path, "w");
    fprintf(f, "[kokoro]\nmodel_path = \"%s/kokoro/tiny.pth\"\nconfig_path = \"%s/kokoro/tiny-config.json\"\n"
               "voices_path = \"%s/kokoro/voices.npz\"\n[cache]\nenabled = false\n", dir, dir, dir);
    fclose(f);
}

static struct chorus_engine *make_engine(int max_concurrent) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = cfg_path;
    o.max_concurrent = max_concurrent;
    struct chorus_engine *e = NULL;
    int rc = chorus_engine_create(&e, &o);
    EXPECT(rc == CHORUS_OK, "engine: %s", chorus_engine_errmsg(NULL));
    return e;
}

struct count {
    size_t samples;
    double peak;
};

static int count_cb(const struct chorus_event *ev, void *ud) {
    struct count *c = ud;
    if (ev->type == CHORUS_EVENT_CHUNK)
        for (size_t i = 0; i < ev->chunk->n_samples; i++) {
            double a = ev->chunk->samples[i] < 0 ? -ev->chunk->samples[i] : ev->chunk->samples[i];
            if (a > c->peak) c->peak = a;
            c->samples++;
        }
    return 0;
}

/* Speak text with backend; OK must come with audio. Returns the status. */
static int speak(struct chorus_engine *e, const char *backend, const char *voice, const char *text) {
    struct count c = {0};
    struct chorus_request r = chorus_request_default();
    r.backend = backend;
    r.voice = voice;
    r.text = text;
    r.format = CHORUS_FORMAT_PCM;
    r.flags = CHORUS_FLAG_NO_CACHE;
    struct chorus_option seed = {"seed", "7"};
    if (!strcmp(backend, "kokoro")) r.options = &seed, r.n_options = 1;
    r.callback = count_cb;
    r.userdata = &c;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    EXPECT(rc == CHORUS_OK || rc == CHORUS_E_BUSY, "%s: %s", backend, chorus_stream_errmsg(s));
    if (rc == CHORUS_OK) EXPECT(c.samples > 1000 && c.peak > 0.01, "%s spoke no audio", backend);
    chorus_stream_destroy(s);
    return rc;
}

/* ---- probe vs first load; listing vs streaming ---- */

struct shared {
    struct chorus_engine *e;
    atomic_int stop;
};

static void *lister(void *arg) {
    struct shared *sh = arg;
    while (!atomic_load(&sh->stop)) {
        struct chorus_backend_info *bi;
        size_t n;
        EXPECT(chorus_list_backends(sh->e, &bi, &n) == CHORUS_OK, "list_backends");
        chorus_backend_infos_free(bi, n);
        struct chorus_voice *v;
        EXPECT(chorus_list_voices(sh->e, "espeak", &v, &n) == CHORUS_OK && n > 10, "espeak voices");
        chorus_voices_free(v, n);
        EXPECT(chorus_list_voices(sh->e, "kokoro", &v, &n) == CHORUS_OK && n >= 1, "kokoro voices: %s",
               chorus_engine_errmsg(sh->e));
        chorus_voices_free(v, n);
        struct chorus_engine_stats st = {.size = sizeof st};
        chorus_engine_get_stats(sh->e, &st);
    }
    return NULL;
}

static void *kokoro_speaker(void *arg) {
    struct shared *sh = arg;
    speak(sh->e, "kokoro", "af_test", "Loading races with probing.");
    return NULL;
}

static void *espeak_speaker(void *arg) {
    struct shared *sh = arg;
    for (int i = 0; i < 3; i++) speak(sh->e, "espeak", "en-us", "Streaming while listing.");
    return NULL;
}

TEST(probe_and_listing_race_first_load_and_streams) {
    struct shared sh = {make_engine(8), 0};
    CHECK(sh.e != NULL);
    pthread_t l[2], k[3], s[2];
    for (int i = 0; i < 2; i++) pthread_create(&l[i], NULL, lister, &sh);
    for (int i = 0; i < 3; i++) pthread_create(&k[i], NULL, kokoro_speaker, &sh);
    for (int i = 0; i < 2; i++) pthread_create(&s[i], NULL, espeak_speaker, &sh);
    for (int i = 0; i < 3; i++) pthread_join(k[i], NULL);
    for (int i = 0; i < 2; i++) pthread_join(s[i], NULL);
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < 2; i++) pthread_join(l[i], NULL);
    chorus_engine_destroy(sh.e);
    CHECK_EQ_INT(atomic_load(&failures), 0);
}

/* ---- cancel vs destroy ---- */

struct victim {
    struct chorus_stream *s;
    atomic_int go;
};

static void *canceller(void *arg) {
    struct victim *v = arg;
    while (!atomic_load(&v->go)) sched_yield();
    chorus_stream_cancel(v->s);
    return NULL;
}

TEST(cancel_races_destroy) {
    struct chorus_engine *e = make_engine(2);
    CHECK(e != NULL);
    static char text[8192];
    for (size_t i = 0; i + 40 < sizeof text; i += 39) memcpy(text + i, "A long text read in pull mode, again. ", 39);
    for (int round = 0; round < 12; round++) {
        struct chorus_request r = chorus_request_default();
        r.backend = "espeak";
        r.text = text;
        r.format = CHORUS_FORMAT_PCM;
        struct victim v = {NULL, 0};
        CHECK(chorus_stream_open(e, &r, &v.s) == CHORUS_OK);
        struct chorus_chunk *c = NULL;
        if (round % 3) { /* start the worker, sometimes take a chunk */
            int rc = chorus_stream_receive(v.s, &c, round % 2 ? 0 : -1);
            EXPECT(rc == CHORUS_OK || rc == CHORUS_AGAIN, "receive %d", rc);
            chorus_chunk_free(c);
        }
        pthread_t t;
        pthread_create(&t, NULL, canceller, &v);
        atomic_store(&v.go, 1);
        if (round % 2) usleep(500);
        pthread_join(t, NULL); /* cancel is from another thread; destroy waits for the worker */
        chorus_stream_destroy(v.s);
    }
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0);
    CHECK_EQ_INT(st.queued, 0);
    chorus_engine_destroy(e);
    CHECK_EQ_INT(atomic_load(&failures), 0);
}

/* ---- many engines and streams at once ---- */

static void *engine_life(void *arg) {
    (void)arg;
    struct chorus_engine *e = make_engine(2);
    if (!e) return NULL;
    for (int i = 0; i < 2; i++) speak(e, "espeak", i ? "en-gb" : "en-us", "Many engines at once.");
    chorus_engine_destroy(e);
    return NULL;
}

struct pull_arg {
    struct chorus_engine *e;
    atomic_int *busy;
};

static void *pull_reader(void *arg) {
    struct pull_arg *pa = arg;
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Pull mode, many readers at once, one small limiter.";
    r.format = CHORUS_FORMAT_WAV;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(pa->e, &r, &s);
    EXPECT(rc == CHORUS_OK, "open: %s", chorus_stream_errmsg(s));
    size_t bytes = 0;
    struct chorus_chunk *c;
    while (rc == CHORUS_OK) {
        rc = chorus_stream_receive(s, &c, 1000);
        if (rc == CHORUS_OK) bytes += c->data_len, chorus_chunk_free(c);
        if (rc == CHORUS_AGAIN) rc = CHORUS_OK;
    }
    if (rc == CHORUS_E_BUSY) atomic_fetch_add(pa->busy, 1);
    else EXPECT(rc == CHORUS_EOF && bytes > 44, "pull: %d %s", rc, chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    return NULL;
}

TEST(many_engines_and_streams) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, engine_life, NULL);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = cfg_path;
    o.max_concurrent = 2;
    o.max_queue = 2; /* 8 readers, 2 running, 2 waiting: the rest are refused (BUSY) */
    struct chorus_engine *e = NULL;
    CHECK(chorus_engine_create(&e, &o) == CHORUS_OK);
    atomic_int busy = 0;
    struct pull_arg pa = {e, &busy};
    pthread_t p[8];
    for (int i = 0; i < 8; i++) pthread_create(&p[i], NULL, pull_reader, &pa);
    for (int i = 0; i < 8; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT((int)st.started_total + atomic_load(&busy), 8); /* each admitted or refused */
    chorus_engine_destroy(e);
    CHECK_EQ_INT(atomic_load(&failures), 0);
}

int main(void) {
    write_config();
    RUN(probe_and_listing_race_first_load_and_streams);
    RUN(cancel_races_destroy);
    RUN(many_engines_and_streams);
    unlink(cfg_path);
    return test_summary();
}
