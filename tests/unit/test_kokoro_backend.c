/*
 * The kokoro backend through the public API, on the tiny test model (random weights, so the
 * audio is noise-like, but its length, timing and word events are real): audio at 24 kHz in
 * whole 600-sample frames, one word event per word pointing at the word in the input, times
 * monotonic and inside the audio, seeded determinism, voice mixes, clear errors, cancellation,
 * and two generations at once on one engine (one shared model) giving the audio each gives alone.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chorus/chorus.h"
#include "nn/nn.h"
#include "test.h"

static char cfg_path[256];
static const char *cfg_extra = ""; /* more [kokoro] lines */

static void write_config(const char *model) {
    const char *d = getenv("CHORUS_TEST_DATA");
    if (!d) d = "tests/data";
    char dir[1024];
    if (!realpath(d, dir)) snprintf(dir, sizeof dir, "%s", d);
    snprintf(cfg_path, sizeof cfg_path, "/tmp/chorus-kokoro-test-%d.toml", (int)getpid());
    FILE *f = fopen(cfg_path, "w");
    fprintf(f, "[kokoro]\nmodel_path = \"%s/kokoro/%s\"\nconfig_path = \"%s/kokoro/tiny-config.json\"\n"
               "voices_path = \"%s/kokoro/voices.npz\"\n%s", dir, model, dir, dir, cfg_extra);
    fclose(f);
}

struct got {
    float *pcm;
    size_t n, cap;
    int rate, chunks;
    struct chorus_word w[64];
    int nw;
    int cancel_after;
    char first_job[128]; /* the text of the first PROGRESS event's chunk */
};

static int on_event(const struct chorus_event *ev, void *ud) {
    struct got *g = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->samples) {
        g->rate = ev->chunk->sample_rate;
        if (g->n + ev->chunk->n_samples > g->cap) {
            g->cap = (g->n + ev->chunk->n_samples) * 2;
            g->pcm = realloc(g->pcm, g->cap * sizeof *g->pcm);
        }
        memcpy(g->pcm + g->n, ev->chunk->samples, ev->chunk->n_samples * sizeof *g->pcm);
        g->n += ev->chunk->n_samples;
        g->chunks++;
        if (g->cancel_after && g->chunks >= g->cancel_after) return 1;
    }
    if (ev->type == CHORUS_EVENT_WORD && g->nw < 64) g->w[g->nw++] = *ev->word;
    if (ev->type == CHORUS_EVENT_PROGRESS && !g->first_job[0] && ev->progress->current_len)
        snprintf(g->first_job, sizeof g->first_job, "%.*s", (int)ev->progress->current_len,
                 ev->progress->current_text);
    return 0;
}

/* Run one request on engine e (NULL: a fresh engine from cfg_path). */
static int speak_on(struct chorus_engine *e, const char *text, const char *voice, const char *seed,
                    struct got *g, chorus_callback cb, void *ud);

static int speak(const char *text, const char *voice, const char *seed, enum chorus_input_kind in,
                 struct got *g, char *msg, size_t msglen) {
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.config_path = cfg_path;
    struct chorus_engine *e;
    int rc = chorus_engine_create(&e, &eo);
    if (rc) return rc;
    struct chorus_request r = chorus_request_default();
    r.backend = "kokoro";
    r.voice = voice;
    r.text = text;
    r.input = in;
    r.format = CHORUS_FORMAT_PCM;
    r.sample_rate = 24000;
    r.flags = CHORUS_FLAG_NO_CACHE;
    struct chorus_option opt[1] = {{"seed", seed}};
    r.options = seed ? opt : NULL;
    r.n_options = seed ? 1 : 0;
    r.callback = on_event;
    r.userdata = g;
    struct chorus_stream *s = NULL;
    rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    if (msg) snprintf(msg, msglen, "%s", s ? chorus_stream_errmsg(s) : "");
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
    return rc;
}

TEST(speaks_with_word_timestamps) {
    write_config("tiny.pth");
    const char *text = "Hello, world. The quick brown fox jumps over the lazy dog! How are you?";
    const char *words[] = {"Hello", "world", "The", "quick", "brown", "fox", "jumps",
                           "over",  "the",   "lazy", "dog",  "How",   "are", "you"};
    struct got g = {0};
    char msg[512];
    int rc = speak(text, "af_test", "7", CHORUS_INPUT_TEXT, &g, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK_EQ_INT(g.rate, 24000);
    CHECK(g.n > 0);
    CHECK_EQ_INT(g.n % 600, 0); /* Kokoro speaks in 25 ms frames */
    double total = (double)g.n / 24000;
    CHECK_EQ_INT(g.nw, 14);
    double prev = -1;
    for (int i = 0; i < g.nw; i++) {
        CHECK(strlen(words[i]) == g.w[i].text_len);
        CHECK(strncmp(text + g.w[i].text_offset, words[i], g.w[i].text_len) == 0);
        CHECK(g.w[i].start >= prev - 1e-9);
        CHECK(g.w[i].end >= g.w[i].start);
        CHECK(g.w[i].end <= total + 1e-6);
        prev = g.w[i].start;
    }
    float peak = 0;
    for (size_t i = 0; i < g.n; i++) peak = fabsf(g.pcm[i]) > peak ? fabsf(g.pcm[i]) : peak;
    CHECK(peak > 1e-4);
    free(g.pcm);
}

/* The core sends Kokoro the opening's first clause as its first job (first audio after one
 * clause), and the join after it is a clause join: the engine's 200 ms pause (docs/text.md). */
TEST(first_job_is_the_opening_clause) {
    write_config("tiny.pth");
    const char *text = "Hello there, and welcome to the show.";
    struct got g = {0};
    char msg[512];
    int rc = speak(text, "af_test", "7", CHORUS_INPUT_TEXT, &g, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK_STR(g.first_job, "Hello there,");
    CHECK_EQ_INT(g.nw, 7);
    CHECK(g.w[2].start > g.w[1].end); /* "there" .. "and" */
    /* the longest run below the output's -50 dBFS "quiet" is the pause at the join */
    size_t run = 0, best = 0, at = 0;
    for (size_t i = 0; i < g.n; i++) {
        run = fabsf(g.pcm[i]) < 0.00316f ? run + 1 : 0;
        if (run > best) best = run, at = i + 1 - run;
    }
    double pause = (double)best / 24000, t = (double)at / 24000;
    fprintf(stderr, "  first job \"%s\", pause %.3f s at %.3f s (\"there\" ends %.3f, \"and\" starts %.3f)\n",
            g.first_job, pause, t, g.w[1].end, g.w[2].start);
    CHECK_MSG(pause > 0.19 && pause < 0.22, "pause %.3f s", pause);
    CHECK(t >= g.w[1].start && t + pause <= g.w[2].start + 0.01);
    free(g.pcm);
}

TEST(seed_gives_identical_audio) {
    write_config("tiny.pth");
    struct got a = {0}, b = {0}, c = {0};
    CHECK(speak("Good morning.", "af_test", "1", CHORUS_INPUT_TEXT, &a, NULL, 0) == CHORUS_OK);
    CHECK(speak("Good morning.", "af_test", "1", CHORUS_INPUT_TEXT, &b, NULL, 0) == CHORUS_OK);
    CHECK(speak("Good morning.", "af_test", "2", CHORUS_INPUT_TEXT, &c, NULL, 0) == CHORUS_OK);
    CHECK(a.n == b.n && a.n > 0 && memcmp(a.pcm, b.pcm, a.n * sizeof(float)) == 0);
    CHECK(a.n == c.n && memcmp(a.pcm, c.pcm, a.n * sizeof(float)) != 0);
    free(a.pcm);
    free(b.pcm);
    free(c.pcm);
}

static int speak_on(struct chorus_engine *e, const char *text, const char *voice, const char *seed,
                    struct got *g, chorus_callback cb, void *ud) {
    struct chorus_request r = chorus_request_default();
    r.backend = "kokoro";
    r.voice = voice;
    r.text = text;
    r.format = CHORUS_FORMAT_PCM;
    r.sample_rate = 24000;
    r.flags = CHORUS_FLAG_NO_CACHE;
    struct chorus_option opt[1] = {{"seed", seed}};
    r.options = opt;
    r.n_options = 1;
    r.callback = cb ? cb : on_event;
    r.userdata = cb ? ud : g;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    chorus_stream_destroy(s);
    return rc;
}

/* Two streams that each, on their first chunk, wait (up to 60 s) for the other's first chunk:
 * they can only both get there if the engine runs them at the same time. */
struct meet {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
};
struct side {
    struct meet *m;
    struct chorus_engine *e;
    const char *text, *seed;
    struct got g;
    int met, rc;
};
static int on_event_meet(const struct chorus_event *ev, void *ud) {
    struct side *s = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->samples && s->g.chunks == 0) {
        pthread_mutex_lock(&s->m->mu);
        s->m->arrived++;
        pthread_cond_broadcast(&s->m->cv);
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 60;
        while (s->m->arrived < 2)
            if (pthread_cond_timedwait(&s->m->cv, &s->m->mu, &dl) != 0) break;
        s->met = s->m->arrived >= 2;
        pthread_mutex_unlock(&s->m->mu);
    }
    return on_event(ev, &s->g);
}
static void *side_run(void *arg) {
    struct side *s = arg;
    s->rc = speak_on(s->e, s->text, "af_test", s->seed, &s->g, on_event_meet, s);
    return NULL;
}

TEST(two_generations_at_once_share_the_model) {
    write_config("tiny.pth");
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.config_path = cfg_path;
    struct chorus_engine *e;
    CHECK(chorus_engine_create(&e, &eo) == CHORUS_OK);
    const char *ta = "The first voice reads a sentence about the weather today.";
    const char *tb = "A second request asks for something else entirely, at once.";
    struct got alone_a = {0}, alone_b = {0};
    CHECK(speak_on(e, ta, "af_test", "11", &alone_a, NULL, NULL) == CHORUS_OK);
    CHECK(speak_on(e, tb, "af_test", "12", &alone_b, NULL, NULL) == CHORUS_OK);
    struct meet m = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    struct side a = {&m, e, ta, "11", {0}, 0, -1}, b = {&m, e, tb, "12", {0}, 0, -1};
    pthread_t th[2];
    CHECK(pthread_create(&th[0], NULL, side_run, &a) == 0);
    CHECK(pthread_create(&th[1], NULL, side_run, &b) == 0);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    CHECK_EQ_INT(a.rc, CHORUS_OK);
    CHECK_EQ_INT(b.rc, CHORUS_OK);
    CHECK_MSG(a.met && b.met, "the two generations did not run at the same time");
    /* same seed, same text: the same samples as alone (no state shared between the jobs) */
    CHECK(a.g.n == alone_a.n && alone_a.n > 0 &&
          memcmp(a.g.pcm, alone_a.pcm, a.g.n * sizeof(float)) == 0);
    CHECK(b.g.n == alone_b.n && alone_b.n > 0 &&
          memcmp(b.g.pcm, alone_b.pcm, b.g.n * sizeof(float)) == 0);
    free(a.g.pcm);
    free(b.g.pcm);
    free(alone_a.pcm);
    free(alone_b.pcm);
    chorus_engine_destroy(e);
}

TEST(voice_mixes) {
    write_config("tiny.pth");
    struct got a = {0}, b = {0};
    char msg[512];
    int rc = speak("Testing mixes.", "af_test(2)+bm_other(1)", "3", CHORUS_INPUT_TEXT, &a, msg,
                   sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK(a.n > 0);
    rc = speak("Hello world.", "af_test-bm_other", "3", CHORUS_INPUT_TEXT, &b, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK_EQ_INT(b.nw, 2);
    CHECK(a.n > 0 && b.n > 0);
    free(a.pcm);
    free(b.pcm);
}

TEST(errors_are_clear) {
    write_config("tiny.pth");
    struct got g = {0};
    char msg[512];
    int rc = speak("Hello.", "af_nobody", NULL, CHORUS_INPUT_TEXT, &g, msg, sizeof msg);
    CHECK_EQ_INT(rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK(strstr(msg, "af_nobody") != NULL);
    rc = speak("Hello.", "af_test(-1)", NULL, CHORUS_INPUT_TEXT, &g, msg, sizeof msg);
    CHECK(rc != CHORUS_OK);
    CHECK(strstr(msg, "weight") != NULL);
    write_config("missing-model.pth");
    rc = speak("Hello.", "af_test", NULL, CHORUS_INPUT_TEXT, &g, msg, sizeof msg);
    CHECK(rc != CHORUS_OK);
    CHECK_MSG(strstr(msg, "missing-model.pth") && strstr(msg, "chorus models pull kokoro"), "%s", msg);
    free(g.pcm);
}

/* [kokoro] max_phonemes: a smaller chunk size cuts the same text into more model calls (each
 * one's activations are bounded by it); out of range or not a number is a clear error. */
TEST(max_phonemes_setting) {
    const char *text = "The old lighthouse stood at the edge of the cliff, its white paint peeling "
                       "in long strips after decades of salt and wind. Every evening, Margaret "
                       "climbed the narrow spiral stairs to light the lamp.";
    struct got a = {0}, b = {0}, c = {0};
    char msg[512];
    cfg_extra = "";
    write_config("tiny.pth");
    int rc = speak(text, "af_test", "1", CHORUS_INPUT_TEXT, &a, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    cfg_extra = "max_phonemes = 40\n";
    write_config("tiny.pth");
    rc = speak(text, "af_test", "1", CHORUS_INPUT_TEXT, &b, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK_MSG(b.chunks > a.chunks && b.n > 0, "chunks: %d at 40 phonemes, %d by default", b.chunks,
              a.chunks);
    cfg_extra = "max_phonemes = 7\n";
    write_config("tiny.pth");
    rc = speak(text, "af_test", "1", CHORUS_INPUT_TEXT, &c, msg, sizeof msg);
    CHECK(rc != CHORUS_OK);
    CHECK_MSG(strstr(msg, "max_phonemes") && strstr(msg, "32"), "%s", msg);
    cfg_extra = "";
    write_config("tiny.pth");
    free(a.pcm);
    free(b.pcm);
    free(c.pcm);
}

/* The model calls' phoneme counts, from the backend's debug log line per chunk. */
static int calls, call_ph[32];
static void count_calls(enum chorus_log_level level, const char *msg, void *ud) {
    (void)level;
    (void)ud;
    int n;
    if (sscanf(msg, "kokoro: chunk of %d phonemes", &n) == 1 && calls < 32) call_ph[calls++] = n;
}

/* [kokoro] target_phonemes: chunks are whole sentences within the target (default 175). Seven
 * sentences of 19 phonemes, as phonemes (the tiny model takes 62 at most): the first is the
 * core's first job; of the other six, KPipeline's rule packs three per model call, a target of
 * 40 two, 32 one; a bad value is a clear error. */
TEST(target_phonemes_setting) {
    char ps[256] = "";
    for (int i = 0; i < 7; i++) strcat(ps, "tatata nanana sasa. ");
    const char *extra[] = {"target_phonemes = 510\n", "target_phonemes = 40\n",
                           "target_phonemes = 32\n"};
    const int per_call[] = {3, 2, 1};
    char msg[512];
    chorus_set_log(count_calls, NULL, CHORUS_LOG_DEBUG);
    for (int i = 0; i < 3; i++) {
        struct got g = {0};
        cfg_extra = extra[i];
        write_config("tiny.pth");
        calls = 0;
        int rc = speak(ps, "af_test", "1", CHORUS_INPUT_PHONEMES, &g, msg, sizeof msg);
        CHECK_MSG(rc == CHORUS_OK, "%s", msg);
        CHECK_MSG(calls == 1 + 6 / per_call[i], "%s: %d model calls", extra[i], calls);
        for (int c = 0; c < calls && c < 32; c++)
            CHECK_MSG(call_ph[c] == (c ? 20 * per_call[i] - 1 : 19), "%s: call %d: %d phonemes",
                      extra[i], c, call_ph[c]);
        free(g.pcm);
    }
    chorus_set_log(NULL, NULL, CHORUS_LOG_WARN);
    struct got c = {0};
    cfg_extra = "target_phonemes = 600\n";
    write_config("tiny.pth");
    int rc = speak(ps, "af_test", "1", CHORUS_INPUT_PHONEMES, &c, msg, sizeof msg);
    CHECK(rc != CHORUS_OK);
    CHECK_MSG(strstr(msg, "target_phonemes") && strstr(msg, "510"), "%s", msg);
    cfg_extra = "";
    write_config("tiny.pth");
    free(c.pcm);
}

/* [kokoro] precision: bf16 and int8 weights speak, auto picks by CPU; a value that is none of
 * auto, fp32, bf16, int8 is a clear error naming the setting. */
TEST(precision_setting) {
    struct got g = {0};
    char msg[512];
    cfg_extra = "precision = \"bf16\"\n";
    write_config("tiny.pth");
    int rc = speak("Hello there.", "af_test", "1", CHORUS_INPUT_TEXT, &g, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK(g.n > 0 && g.rate == 24000);
    /* auto (the default) is bf16 where the CPU has AVX512_BF16, else fp32: same samples */
    struct got ga = {0}, gf = {0};
    cfg_extra = "precision = \"auto\"\n";
    write_config("tiny.pth");
    rc = speak("Hello there.", "af_test", "1", CHORUS_INPUT_TEXT, &ga, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    cfg_extra = "precision = \"fp32\"\n";
    write_config("tiny.pth");
    rc = speak("Hello there.", "af_test", "1", CHORUS_INPUT_TEXT, &gf, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    const struct got *want = chorus_nn_dconv_level() >= 2 ? &g : &gf;
    CHECK_MSG(ga.n == want->n && ga.n > 0 && !memcmp(ga.pcm, want->pcm, ga.n * sizeof *ga.pcm),
              "auto gave %zu samples, %s %zu", ga.n, want == &g ? "bf16" : "fp32", want->n);
    /* int8: the same length (durations do not move), other samples */
    struct got gq = {0};
    cfg_extra = "precision = \"int8\"\n";
    write_config("tiny.pth");
    rc = speak("Hello there.", "af_test", "1", CHORUS_INPUT_TEXT, &gq, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK(gq.n == gf.n && gq.n > 0 && memcmp(gq.pcm, gf.pcm, gq.n * sizeof *gq.pcm) != 0 &&
          memcmp(gq.pcm, g.pcm, gq.n * sizeof *gq.pcm) != 0);
    free(gq.pcm);
    free(ga.pcm);
    free(gf.pcm);
    cfg_extra = "precision = \"fp16\"\n";
    write_config("tiny.pth");
    rc = speak("Hello there.", "af_test", NULL, CHORUS_INPUT_TEXT, &g, msg, sizeof msg);
    CHECK(rc != CHORUS_OK);
    CHECK_MSG(strstr(msg, "precision") && strstr(msg, "fp16") && strstr(msg, "bf16") &&
              strstr(msg, "int8"), "%s", msg);
    cfg_extra = "";
    write_config("tiny.pth");
    free(g.pcm);
}

/* One table of OpenAI names for every entry point: the library resolves "alloy" as
 * Kokoro-FastAPI does (am_adam), and [kokoro.voices] overrides it. */
TEST(openai_voice_names) {
    write_config("tiny.pth");
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.config_path = cfg_path;
    struct chorus_engine *e;
    CHECK(chorus_engine_create(&e, &eo) == CHORUS_OK);
    CHECK_STR(chorus_voice_alias(e, "kokoro", "alloy"), "am_adam"); /* the one table */
    struct chorus_request r = chorus_request_default();
    r.backend = "kokoro";
    r.text = "Hello.";
    const char *names[][2] = {{"alloy", "am_adam"}, {"SHIMMER", "af_sky"}, {"nova", "bf_isabella"},
                              {"ballad", "ballad"}};
    for (size_t i = 0; i < 4; i++) {
        r.voice = names[i][0];
        struct chorus_stream *s = NULL;
        CHECK_MSG(chorus_stream_open(e, &r, &s) == CHORUS_OK, "%s", chorus_stream_errmsg(s));
        CHECK_STR(chorus_stream_voice(s), names[i][1]);
        chorus_stream_destroy(s);
    }
    chorus_engine_destroy(e);
    FILE *f = fopen(cfg_path, "a");
    fprintf(f, "[kokoro.voices]\nalloy = \"af_test\"\n");
    fclose(f);
    struct got g = {0};
    char msg[512];
    CHECK_MSG(speak("Hello.", "alloy", "1", CHORUS_INPUT_TEXT, &g, msg, sizeof msg) == CHORUS_OK,
              "%s", msg);
    CHECK(g.n > 0);
    free(g.pcm);
}

TEST(cancel_stops_after_a_chunk) {
    write_config("tiny.pth");
    char text[2048] = "";
    for (int i = 0; i < 12; i++) strcat(text, "This sentence is one of many. ");
    struct got g = {0};
    g.cancel_after = 1;
    int rc = speak(text, "af_test", "5", CHORUS_INPUT_TEXT, &g, NULL, 0);
    CHECK_EQ_INT(rc, CHORUS_E_CANCELLED);
    CHECK_EQ_INT(g.chunks, 1);
    free(g.pcm);
}


/* chorus_voice_export: a mix written as a .pt file speaks exactly as the mix does (the file
 * holds the mixed pack bit for bit), through a voices directory holding just that file. */
TEST(exported_mix_speaks_like_the_mix) {
    write_config("tiny.pth");
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.config_path = cfg_path;
    struct chorus_engine *e;
    CHECK(chorus_engine_create(&e, &eo) == CHORUS_OK);
    void *data = NULL;
    size_t len = 0;
    char err[512] = "";
    int rc = chorus_voice_export(e, "kokoro", "af_test(2)+bm_other(1)", &data, &len, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    CHECK(len > 4 && memcmp(data, "PK\x03\x04", 4) == 0);
    CHECK(chorus_voice_export(e, "kokoro", "af_nobody", &(void *){NULL}, &(size_t){0}, err,
                              sizeof err) == CHORUS_E_UNKNOWN_VOICE);
    CHECK_MSG(strstr(err, "af_nobody") != NULL, "%s", err);
    CHECK(chorus_voice_export(e, "espeak", "en-us", &(void *){NULL}, &(size_t){0}, err,
                              sizeof err) == CHORUS_E_INVALID);
    CHECK_MSG(strstr(err, "no voice files") != NULL, "%s", err);
    CHECK(chorus_voice_export(e, "kokoro", "af_test", NULL, &len, err, sizeof err) == CHORUS_E_INVALID);
    chorus_engine_destroy(e);

    struct got mix = {0}, file = {0};
    char msg[512];
    rc = speak("Good morning.", "af_test(2)+bm_other(1)", "1", CHORUS_INPUT_TEXT, &mix, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    char dir[] = "/tmp/chorus-kokoro-export-XXXXXX", pt[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(pt, sizeof pt, "%s/af_mixed.pt", dir); /* the first letter names the language */
    FILE *f = fopen(pt, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    fclose(f);
    chorus_free(data);
    const char *d = getenv("CHORUS_TEST_DATA");
    char tdir[1024];
    if (!realpath(d ? d : "tests/data", tdir)) snprintf(tdir, sizeof tdir, "%s", d ? d : "tests/data");
    f = fopen(cfg_path, "w");
    fprintf(f, "[kokoro]\nmodel_path = \"%s/kokoro/tiny.pth\"\nconfig_path = \"%s/kokoro/tiny-config.json\"\n"
               "voices_path = \"%s\"\n", tdir, tdir, dir);
    fclose(f);
    rc = speak("Good morning.", "af_mixed", "1", CHORUS_INPUT_TEXT, &file, msg, sizeof msg);
    CHECK_MSG(rc == CHORUS_OK, "%s", msg);
    CHECK(mix.n > 0 && mix.n == file.n && memcmp(mix.pcm, file.pcm, mix.n * sizeof(float)) == 0);
    unlink(pt);
    rmdir(dir);
    free(mix.pcm);
    free(file.pcm);
}

int main(void) {
    RUN(speaks_with_word_timestamps);
    RUN(first_job_is_the_opening_clause);
    RUN(seed_gives_identical_audio);
    RUN(voice_mixes);
    RUN(exported_mix_speaks_like_the_mix);
    RUN(errors_are_clear);
    RUN(precision_setting);
    RUN(max_phonemes_setting);
    RUN(target_phonemes_setting);
    RUN(cancel_stops_after_a_chunk);
    RUN(openai_voice_names);
    RUN(two_generations_at_once_share_the_model);
    unlink(cfg_path);
    return test_summary();
}
