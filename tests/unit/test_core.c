/* test_core.c — the engine and streams, end to end on the embedded espeak engine, checked by
 * decoding the output with libsndfile. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "chorus/chorus.h"
#include "sndcheck.h"
#include "test.h"

static struct chorus_engine *engine(int maxc) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    o.max_concurrent = maxc;
    struct chorus_engine *e = NULL;
    if (chorus_engine_create(&e, &o) != CHORUS_OK) return NULL;
    return e;
}

struct collect {
    unsigned char *bytes;
    size_t n, cap;
    size_t samples;
    int rate;
    struct chorus_word words[4096];
    size_t nwords;
    int started, done, errors, cancelled, progress_events;
    double last_percent;
    size_t chunks;
    int monotonic_progress;
};

static int collect_cb(const struct chorus_event *ev, void *ud) {
    struct collect *c = ud;
    switch (ev->type) {
    case CHORUS_EVENT_STARTED: c->started++; break;
    case CHORUS_EVENT_CHUNK:
        c->chunks++;
        if (c->n + ev->chunk->data_len > c->cap) {
            c->cap = (c->n + ev->chunk->data_len) * 2;
            c->bytes = realloc(c->bytes, c->cap);
        }
        memcpy(c->bytes + c->n, ev->chunk->data, ev->chunk->data_len);
        c->n += ev->chunk->data_len;
        c->samples += ev->chunk->n_samples;
        c->rate = ev->chunk->sample_rate;
        break;
    case CHORUS_EVENT_WORD:
        if (c->nwords < 4096) c->words[c->nwords++] = *ev->word;
        break;
    case CHORUS_EVENT_PROGRESS:
        if (ev->progress->percent + 1e-9 < c->last_percent) c->monotonic_progress = 0;
        c->last_percent = ev->progress->percent;
        c->progress_events++;
        break;
    case CHORUS_EVENT_DONE: c->done++; break;
    case CHORUS_EVENT_ERROR: c->errors++; break;
    case CHORUS_EVENT_CANCELLED: c->cancelled++; break;
    default: break;
    }
    return 0;
}

static int speak(struct chorus_engine *e, const char *text, struct collect *c, char *err) {
    memset(c, 0, sizeof *c);
    c->monotonic_progress = 1;
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = text;
    r.format = CHORUS_FORMAT_WAV;
    r.callback = collect_cb;
    r.userdata = c;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    if (err) snprintf(err, 512, "%s", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    return rc;
}

static size_t count_words(const char *t) {
    size_t n = 0;
    int in = 0;
    for (; *t; t++) {
        int w = !(*t == ' ' || *t == '\n' || *t == ',' || *t == '.');
        if (w && !in) n++;
        in = w;
    }
    return n;
}

TEST(wav_parses_and_is_speech) {
    struct chorus_engine *e = engine(0);
    CHECK(e);
    struct collect c;
    char err[512];
    int rc = speak(e, "The quick brown fox jumps over the lazy dog.", &c, err);
    CHECK_MSG(rc == CHORUS_OK, "run failed: %s", err);
    CHECK_EQ_INT(c.started, 1);
    CHECK_EQ_INT(c.done, 1);
    CHECK(c.chunks >= 2); /* streamed, not one block */
    size_t frames;
    int rate, ch;
    float *x = snd_decode(c.bytes, c.n, &frames, &rate, &ch);
    CHECK_MSG(x != NULL, "libsndfile cannot read the WAV we wrote");
    CHECK_EQ_INT(ch, 1);
    CHECK_EQ_INT(rate, 22050);
    CHECK_EQ_INT(frames, c.samples);
    double secs = (double)frames / rate;
    CHECK_MSG(secs > 1.0 && secs < 6.0, "implausible duration %.2f s", secs);
    CHECK_MSG(snd_rms(x, frames) > 0.01, "audio is silent (rms %g)", snd_rms(x, frames));
    CHECK(c.monotonic_progress);
    CHECK_NEAR(c.last_percent, 100.0, 1e-9);
    free(x);
    free(c.bytes);
    chorus_engine_destroy(e);
}

TEST(duration_grows_with_text) {
    struct chorus_engine *e = engine(0);
    struct collect a, b;
    CHECK(speak(e, "Hello there.", &a, NULL) == CHORUS_OK);
    CHECK(speak(e, "Hello there. This sentence is considerably longer than the first one, and it "
                   "keeps going for a while.", &b, NULL) == CHORUS_OK);
    CHECK_MSG(b.samples > 3 * a.samples, "long %zu vs short %zu samples", b.samples, a.samples);
    free(a.bytes);
    free(b.bytes);
    chorus_engine_destroy(e);
}

TEST(word_timestamps) {
    struct chorus_engine *e = engine(0);
    const char *text = "One two three, four five.\n\nSix seven eight nine ten.";
    struct collect c;
    char err[512];
    CHECK_MSG(speak(e, text, &c, err) == CHORUS_OK, "%s", err);
    double total = (double)c.samples / c.rate;
    CHECK_EQ_INT(c.nwords, count_words(text));
    static const char *expect[] = {"One", "two", "three", "four", "five", "Six", "seven", "eight", "nine", "ten"};
    for (size_t i = 0; i < c.nwords; i++) {
        const struct chorus_word *w = &c.words[i];
        CHECK_MSG(w->text_len == strlen(expect[i]) && !strncmp(text + w->text_offset, expect[i], w->text_len),
                  "word %zu is '%.*s', expected %s", i, (int)w->text_len, text + w->text_offset, expect[i]);
        CHECK_MSG(w->start >= 0 && w->end >= w->start && w->end <= total + 1e-6,
                  "word %zu at %.3f-%.3f outside 0-%.3f", i, w->start, w->end, total);
        if (i) CHECK_MSG(w->start > c.words[i - 1].start, "word %zu not after the previous", i);
    }
    /* the paragraph pause puts a gap between "five" and "Six" */
    CHECK(c.words[5].start - c.words[4].end > 0.2);
    free(c.bytes);
    chorus_engine_destroy(e);
}

/* ---- cancellation ---- */

struct cancel_ctx {
    struct chorus_stream *s;
    atomic_int chunks;
    atomic_int after_cancel;
    atomic_int cancelled_flag;
    int final_event;
};

static int cancel_cb(const struct chorus_event *ev, void *ud) {
    struct cancel_ctx *c = ud;
    if (ev->type == CHORUS_EVENT_CHUNK) {
        atomic_fetch_add(&c->chunks, 1);
        if (atomic_load(&c->cancelled_flag)) atomic_fetch_add(&c->after_cancel, 1);
    }
    if (ev->type == CHORUS_EVENT_CANCELLED || ev->type == CHORUS_EVENT_DONE) c->final_event = ev->type;
    return 0;
}

static void *run_thread(void *arg) {
    struct cancel_ctx *c = arg;
    return (void *)(intptr_t)chorus_stream_run(c->s);
}

static char *long_text(size_t n) {
    static const char *s = "This is a long text that goes on and on, sentence after sentence. ";
    char *t = malloc(n + 1);
    size_t l = strlen(s);
    for (size_t i = 0; i < n; i++) t[i] = s[i % l];
    t[n] = 0;
    return t;
}

TEST(cancel_from_another_thread) {
    struct chorus_engine *e = engine(0);
    char *text = long_text(200000);
    struct cancel_ctx c = {0};
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = text;
    r.callback = cancel_cb;
    r.userdata = &c;
    CHECK(chorus_stream_open(e, &r, &c.s) == CHORUS_OK);
    pthread_t t;
    pthread_create(&t, NULL, run_thread, &c);
    while (atomic_load(&c.chunks) < 3) usleep(1000);
    chorus_stream_cancel(c.s);
    /* counted from here: a chunk the worker delivered between a flag set first and the cancel
     * would count as "after" on a loaded machine */
    atomic_store(&c.cancelled_flag, 1);
    void *ret;
    pthread_join(t, &ret);
    CHECK_EQ_INT((int)(intptr_t)ret, CHORUS_E_CANCELLED);
    CHECK_EQ_INT(c.final_event, CHORUS_EVENT_CANCELLED);
    /* promptly: at most one buffer in flight after the cancel (espeak gives 40 ms buffers; the
     * whole text would be ~4 hours of audio) */
    CHECK_MSG(atomic_load(&c.after_cancel) <= 1, "%d chunks after cancel", atomic_load(&c.after_cancel));
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0); /* slot freed */
    chorus_stream_destroy(c.s);
    free(text);
    chorus_engine_destroy(e);
}

struct cb_cancel {
    int chunks, after, final_event;
};

static int stop_after_two(const struct chorus_event *ev, void *ud) {
    struct cb_cancel *c = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ++c->chunks > 2) c->after++;
    if (ev->type == CHORUS_EVENT_CANCELLED || ev->type == CHORUS_EVENT_DONE) c->final_event = ev->type;
    return ev->type == CHORUS_EVENT_CHUNK && c->chunks >= 2;
}

TEST(cancel_from_callback) {
    struct chorus_engine *e = engine(0);
    char *text = long_text(50000);
    struct cb_cancel c = {0};
    struct chorus_request r = chorus_request_default();
    r.text = text;
    r.callback = stop_after_two;
    r.userdata = &c;
    struct chorus_stream *s;
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    CHECK_EQ_INT(chorus_stream_run(s), CHORUS_E_CANCELLED);
    CHECK_EQ_INT(c.after, 0); /* nothing delivered after the callback said stop */
    CHECK_EQ_INT(c.final_event, CHORUS_EVENT_CANCELLED);
    CHECK(strstr(chorus_stream_errmsg(s), "cancel") != NULL);
    chorus_stream_destroy(s);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0);
    free(text);
    chorus_engine_destroy(e);
}

/* ---- the limiter ---- */

static atomic_int running, peak;

static int limit_cb(const struct chorus_event *ev, void *ud) {
    (void)ud;
    if (ev->type == CHORUS_EVENT_STARTED) {
        int now = atomic_fetch_add(&running, 1) + 1;
        int p = atomic_load(&peak);
        while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
        }
        usleep(20000); /* hold the slot a moment so the streams overlap */
    }
    if (ev->type == CHORUS_EVENT_DONE || ev->type == CHORUS_EVENT_ERROR || ev->type == CHORUS_EVENT_CANCELLED)
        atomic_fetch_sub(&running, 1);
    return 0;
}

static void *limit_thread(void *arg) {
    struct chorus_engine *e = arg;
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Several threads speak at once, but only four at a time.";
    r.callback = limit_cb;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    chorus_stream_destroy(s);
    return (void *)(intptr_t)rc;
}

TEST(at_most_four_at_once) {
    struct chorus_engine *e = engine(0); /* default limit: 4 */
    atomic_store(&running, 0);
    atomic_store(&peak, 0);
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, limit_thread, e);
    int fails = 0;
    for (int i = 0; i < 8; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        fails += (int)(intptr_t)ret != CHORUS_OK;
    }
    CHECK_EQ_INT(fails, 0);
    CHECK_MSG(atomic_load(&peak) <= 4, "peak %d generations at once", atomic_load(&peak));
    CHECK_MSG(atomic_load(&peak) >= 2, "streams never overlapped (peak %d)", atomic_load(&peak));
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.max_concurrent, 4);
    CHECK_EQ_INT(st.active, 0);
    CHECK_EQ_INT(st.started_total, 8);
    chorus_engine_destroy(e);
}

/* a stream waiting for a slot can be cancelled */
static atomic_int hold;
static int holder_cb(const struct chorus_event *ev, void *ud) {
    (void)ud;
    if (ev->type == CHORUS_EVENT_STARTED) {
        atomic_store(&hold, 1);
        while (atomic_load(&hold) == 1) usleep(1000);
    }
    return 0;
}

static void *holder_thread(void *arg) {
    struct chorus_engine *e = arg;
    struct chorus_request r = chorus_request_default();
    r.text = "hold";
    r.callback = holder_cb;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    chorus_stream_destroy(s);
    return (void *)(intptr_t)rc;
}

static void *waiter_thread(void *arg) {
    return (void *)(intptr_t)chorus_stream_run(arg);
}

TEST(waiting_for_a_slot_is_cancellable) {
    struct chorus_engine *e = engine(1);
    atomic_store(&hold, 0);
    pthread_t th, tw;
    pthread_create(&th, NULL, holder_thread, e);
    while (atomic_load(&hold) != 1) usleep(1000);
    struct chorus_request r = chorus_request_default();
    r.text = "waiting";
    struct chorus_stream *s;
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    pthread_create(&tw, NULL, waiter_thread, s);
    struct chorus_engine_stats st = {.size = sizeof st};
    do {
        usleep(1000);
        chorus_engine_get_stats(e, &st);
    } while (st.queued < 1);
    chorus_stream_cancel(s);
    void *ret;
    pthread_join(tw, &ret);
    CHECK_EQ_INT((int)(intptr_t)ret, CHORUS_E_CANCELLED);
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 1); /* the holder still runs */
    CHECK_EQ_INT(st.queued, 0);
    atomic_store(&hold, 2);
    pthread_join(th, &ret);
    CHECK_EQ_INT((int)(intptr_t)ret, CHORUS_OK);
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
}

/* ---- pull mode ---- */

TEST(pull_mode_matches_push) {
    struct chorus_engine *e = engine(0);
    const char *text = "Pull mode gives the same audio as push mode.";
    struct collect c;
    CHECK(speak(e, text, &c, NULL) == CHORUS_OK);
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = text;
    struct chorus_stream *s;
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    unsigned char *all = NULL;
    size_t n = 0;
    int rc;
    struct chorus_chunk *ch;
    while ((rc = chorus_stream_receive(s, &ch, 5000)) == CHORUS_OK || rc == CHORUS_AGAIN) {
        if (rc == CHORUS_AGAIN) continue;
        all = realloc(all, n + ch->data_len + 1);
        memcpy(all + n, ch->data, ch->data_len);
        n += ch->data_len;
        chorus_chunk_free(ch);
    }
    CHECK_EQ_INT(rc, CHORUS_EOF);
    /* libespeak-ng carries a little state from one synthesis to the next in a process (a few
     * samples of difference), so compare the decoded audio rather than the bytes */
    size_t fa, fb;
    int ra, rb, ca, cb;
    float *xa = snd_decode(all, n, &fa, &ra, &ca), *xb = snd_decode(c.bytes, c.n, &fb, &rb, &cb);
    CHECK(xa && xb);
    CHECK_EQ_INT(ra, rb);
    CHECK_MSG(fa > fb * 0.98 && fa < fb * 1.02, "pull %zu vs push %zu samples", fa, fb);
    CHECK_NEAR(snd_rms(xa, fa), snd_rms(xb, fb), 0.1 * snd_rms(xb, fb));
    free(xa);
    free(xb);
    chorus_stream_destroy(s);
    free(all);
    free(c.bytes);
    chorus_engine_destroy(e);
}

TEST(pull_mode_destroy_midway) {
    struct chorus_engine *e = engine(0);
    char *text = long_text(100000);
    struct chorus_request r = chorus_request_default();
    r.text = text;
    struct chorus_stream *s;
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    struct chorus_chunk *ch;
    CHECK(chorus_stream_receive(s, &ch, -1) == CHORUS_OK);
    chorus_chunk_free(ch);
    chorus_stream_destroy(s); /* cancels and joins the worker */
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0);
    free(text);
    chorus_engine_destroy(e);
}

/* ---- bad input ---- */

static int open_err(struct chorus_engine *e, struct chorus_request *r, char *msg) {
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, r, &s);
    snprintf(msg, 1024, "%s", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    return rc;
}

TEST(bad_input_errors) {
    struct chorus_engine *e = engine(0);
    char msg[1024];
    struct chorus_request r = chorus_request_default();
    r.text = "";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_EMPTY_TEXT);
    r.text = " \n\t  \xc2\xa0 ";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_EMPTY_TEXT);
    CHECK_MSG(strstr(msg, "whitespace") != NULL, "%s", msg);
    r.text = "caf\xe9 au lait";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_BAD_UTF8);
    CHECK_MSG(strstr(msg, "offset 3") != NULL, "%s", msg);
    r.text = "hello";
    r.backend = "nosuch";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_UNKNOWN_BACKEND);
    CHECK_MSG(strstr(msg, "espeak") != NULL, "known backends not listed: %s", msg);
    r.backend = "espeak";
    r.voice = "en-uss";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_UNKNOWN_VOICE);
    CHECK_MSG(strstr(msg, "did you mean") && strstr(msg, "en-us"), "no suggestion: %s", msg);
    r.voice = NULL;
    r.speed = 9;
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_INVALID);
    r.speed = 1;
    struct chorus_option o = {"bogus", "1"};
    r.options = &o;
    r.n_options = 1;
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_OPTION);
    CHECK_MSG(strstr(msg, "pitch") != NULL, "options not listed: %s", msg);
    o.key = "pitch";
    o.value = "150";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_OPTION);
    CHECK_MSG(strstr(msg, "0 to 100") != NULL, "%s", msg);
    o.value = "high";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_E_OPTION);
    o.value = "70";
    CHECK_EQ_INT(open_err(e, &r, msg), CHORUS_OK);
    chorus_engine_destroy(e);
}

TEST(voice_resolution) {
    struct chorus_engine *e = engine(0);
    struct chorus_request r = chorus_request_default();
    r.text = "hola";
    r.backend = "espeak";
    r.voice = "ES"; /* a language code, any case */
    struct chorus_stream *s;
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    CHECK_STR(chorus_stream_voice(s), "es");
    chorus_stream_destroy(s);
    r.voice = "en-us+f3"; /* espeak variant syntax */
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    CHECK_STR(chorus_stream_voice(s), "en-us+f3");
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
}

TEST(listings) {
    struct chorus_engine *e = engine(0);
    struct chorus_backend_info *b;
    size_t n;
    CHECK(chorus_list_backends(e, &b, &n) == CHORUS_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(b[i].name, "espeak")) found = b[i].available && (b[i].caps & CHORUS_CAP_LOCAL);
    chorus_backend_infos_free(b, n);
    CHECK(found);
    struct chorus_voice *v;
    CHECK(chorus_list_voices(e, "espeak", &v, &n) == CHORUS_OK);
    CHECK_MSG(n > 50, "only %zu espeak voices", n);
    int en = 0;
    for (size_t i = 0; i < n; i++) en |= !strcmp(v[i].id, "en-us");
    chorus_voices_free(v, n);
    CHECK(en);
    CHECK_STR(chorus_strerror(CHORUS_E_UNKNOWN_VOICE), "unknown voice");
    CHECK_STR(chorus_status_name(CHORUS_E_AUTH), "E_AUTH");
    chorus_engine_destroy(e);
}

TEST(ssml_passthrough) {
    struct chorus_engine *e = engine(0);
    struct collect plain, ssml;
    CHECK(speak(e, "Wait for it. Now.", &plain, NULL) == CHORUS_OK);
    memset(&ssml, 0, sizeof ssml);
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.input = CHORUS_INPUT_SSML;
    r.text = "<speak>Wait for it.<break time=\"2s\"/>Now.</speak>";
    r.callback = collect_cb;
    r.userdata = &ssml;
    struct chorus_stream *s;
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    int rc = chorus_stream_run(s);
    CHECK_MSG(rc == CHORUS_OK, "%s", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    /* the 2 s break makes it clearly longer */
    double d = (double)ssml.samples / ssml.rate - (double)plain.samples / plain.rate;
    CHECK_MSG(d > 1.5, "SSML break added only %.2f s", d);
    free(plain.bytes);
    free(ssml.bytes);
    chorus_engine_destroy(e);
}

TEST(file_output_is_atomic) {
    struct chorus_engine *e = engine(0);
    char dir[] = "/tmp/chorus-test-XXXXXX";
    CHECK(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.wav", dir);
    struct chorus_request r = chorus_request_default();
    r.text = "Written to a file.";
    char err[512];
    CHECK(chorus_synthesize_file(e, &r, path, err, sizeof err) == CHORUS_OK);
    FILE *f = fopen(path, "rb");
    CHECK(f);
    unsigned char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* exact header on a seekable file: RIFF size = file size - 8 */
    CHECK_EQ_INT(buf[4] | buf[5] << 8 | buf[6] << 16 | (unsigned)buf[7] << 24, n - 8);
    size_t frames;
    int rate, ch;
    float *x = snd_decode(buf, n, &frames, &rate, &ch);
    CHECK(x && frames > 10000);
    free(x);
    /* a failing run leaves nothing behind */
    char path2[256];
    snprintf(path2, sizeof path2, "%s/bad.wav", dir);
    r.voice = "xx-nonexistent";
    CHECK(chorus_synthesize_file(e, &r, path2, err, sizeof err) == CHORUS_E_UNKNOWN_VOICE);
    CHECK(access(path2, F_OK) != 0);
    snprintf(path2, sizeof path2, "%s/missing-dir/x.wav", dir);
    r.voice = NULL;
    CHECK(chorus_synthesize_file(e, &r, path2, err, sizeof err) == CHORUS_E_IO);
    CHECK_MSG(strstr(err, "missing-dir") != NULL, "%s", err);
    unlink(path);
    /* only out.wav was ever there: the directory is empty again */
    CHECK(rmdir(dir) == 0);
    chorus_engine_destroy(e);
}

/* [BACKEND] keys: a smaller chunk limit and a loudness target for one engine */
struct spans {
    size_t max_len, chunks;
    double sumsq;
    size_t n;
};
static int span_cb(const struct chorus_event *ev, void *ud) {
    struct spans *sp = ud;
    if (ev->type == CHORUS_EVENT_CHUNK) {
        if (ev->chunk->text_len > sp->max_len) sp->max_len = ev->chunk->text_len;
        sp->chunks++;
        for (size_t i = 0; i < ev->chunk->n_samples; i++) sp->sumsq += (double)ev->chunk->samples[i] * ev->chunk->samples[i];
        sp->n += ev->chunk->n_samples;
    }
    return 0;
}

TEST(per_backend_config) {
    char path[] = "/tmp/chorus-cfg-XXXXXX.toml";
    int fd = mkstemps(path, 5);
    CHECK(fd >= 0);
    const char *cfg = "[espeak]\nmax_chunk_chars = 40\nloudness_db = -30\n";
    CHECK(write(fd, cfg, strlen(cfg)) == (ssize_t)strlen(cfg));
    close(fd);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = path;
    struct chorus_engine *e = NULL;
    CHECK(chorus_engine_create(&e, &o) == CHORUS_OK);
    struct spans sp = {0};
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Every chunk of this fairly long sentence stays within forty bytes of text, because the "
             "config says so for this one engine, and the loudness is lowered as well.";
    r.callback = span_cb;
    r.userdata = &sp;
    struct chorus_stream *s;
    CHECK(chorus_stream_open(e, &r, &s) == CHORUS_OK);
    CHECK(chorus_stream_run(s) == CHORUS_OK);
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
    unlink(path);
    CHECK_MSG(sp.max_len <= 40 && sp.chunks >= 4, "largest chunk %zu bytes over %zu chunks", sp.max_len, sp.chunks);
    double rms = sqrt(sp.sumsq / (double)sp.n), db = 20 * log10(rms);
    CHECK_MSG(db < -24 && db > -36, "loudness %.1f dBFS, wanted about -30", db);
}

/* Run a short espeak request under config text `cfg`; returns the status, *msg the message. */
static int run_with_config(const char *cfg, char *msg, size_t cap) {
    char path[] = "/tmp/chorus-cfg-XXXXXX.toml";
    int fd = mkstemps(path, 5);
    if (fd < 0) return -1000;
    int ok = write(fd, cfg, strlen(cfg)) == (ssize_t)strlen(cfg);
    close(fd);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = path;
    struct chorus_engine *e = NULL;
    int rc = ok ? chorus_engine_create(&e, &o) : -1000;
    if (rc == CHORUS_OK) {
        struct chorus_request r = chorus_request_default();
        r.backend = "espeak";
        r.text = "A short test of the settings.";
        struct chorus_stream *s = NULL;
        rc = chorus_stream_open(e, &r, &s);
        if (rc == CHORUS_OK) rc = chorus_stream_run(s);
        snprintf(msg, cap, "%s", s ? chorus_stream_errmsg(s) : "");
        chorus_stream_destroy(s);
        chorus_engine_destroy(e);
    }
    unlink(path);
    return rc;
}

static char warned[2048];
static void warn_cb(enum chorus_log_level level, const char *msg, void *ud) {
    (void)ud;
    if (level == CHORUS_LOG_WARN && strlen(warned) + strlen(msg) + 2 < sizeof warned) {
        strcat(warned, msg);
        strcat(warned, "\n");
    }
}

/* A loudness target the -1 dBFS peak limit does not allow is reached as far as it can be and
 * the log says so, with what was reached and what to set (a value that is not a number, like
 * "-30dB", is refused when the engine is created: test_contract config_numbers_are_strict). */
TEST(capped_loudness_target_warns) {
    char msg[1024];
    warned[0] = '\0';
    chorus_set_log(warn_cb, NULL, CHORUS_LOG_WARN);
    int rc = run_with_config("[espeak]\nloudness_db = -0.5\n", msg, sizeof msg);
    chorus_set_log(NULL, NULL, CHORUS_LOG_WARN);
    CHECK_MSG(rc == CHORUS_OK, "rc %d: %s", rc, msg);
    CHECK_MSG(strstr(warned, "loudness target -0.5") && strstr(warned, "not reached") &&
                  strstr(warned, "set loudness_db"), "log: %s", warned);
    /* a target the limits allow is no cap, even on a clip too short to reach it exactly */
    warned[0] = '\0';
    chorus_set_log(warn_cb, NULL, CHORUS_LOG_WARN);
    rc = run_with_config("[espeak]\nloudness_db = -30\n", msg, sizeof msg);
    chorus_set_log(NULL, NULL, CHORUS_LOG_WARN);
    CHECK_MSG(rc == CHORUS_OK, "rc %d: %s", rc, msg);
    CHECK_MSG(!strstr(warned, "not reached"), "a reachable target warned: %s", warned);
}

int main(void) {
    RUN(wav_parses_and_is_speech);
    RUN(capped_loudness_target_warns);
    RUN(duration_grows_with_text);
    RUN(word_timestamps);
    RUN(cancel_from_another_thread);
    RUN(cancel_from_callback);
    RUN(at_most_four_at_once);
    RUN(waiting_for_a_slot_is_cancellable);
    RUN(pull_mode_matches_push);
    RUN(pull_mode_destroy_midway);
    RUN(bad_input_errors);
    RUN(voice_resolution);
    RUN(listings);
    RUN(ssml_passthrough);
    RUN(file_output_is_atomic);
    RUN(per_backend_config);
    return test_summary();
}
