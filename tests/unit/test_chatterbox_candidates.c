/*
 * test_chatterbox_candidates.c — multi-candidate mode: takes with different seeds, each
 * transcribed by pocketsphinx, the best match with the text wins; below min_score, more takes.
 * The fake garbles the audio of chosen seeds (noise bursts with no words in them).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/chatterbox/cb_internal.h"
#include "chorus/chorus.h"
#include "test.h"
#include "test_chatterbox_fake.h"

/* log lines of the library (scores are reported there) */
static char g_log[65536];
static size_t g_log_len;
static void on_log(enum chorus_log_level level, const char *msg, void *ud) {
    (void)level, (void)ud;
    size_t n = strlen(msg);
    if (g_log_len + n + 2 < sizeof g_log) {
        memcpy(g_log + g_log_len, msg, n);
        g_log_len += n;
        g_log[g_log_len++] = '\n';
        g_log[g_log_len] = '\0';
    }
}

struct run {
    size_t n;
    double energy;
};

static int on_event(const struct chorus_event *ev, void *ud) {
    struct run *r = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->samples) {
        for (size_t i = 0; i < ev->chunk->n_samples; i++)
            r->energy += (double)ev->chunk->samples[i] * ev->chunk->samples[i];
        r->n += ev->chunk->n_samples;
    }
    return 0;
}

static int speak(const char *url, const char *text, const struct chorus_option *opts,
                 size_t nopts, struct run *r, char *err, size_t errlen) {
    setenv("CHATTERBOX_URL", url, 1);
    setenv("CHATTERBOX_API", "devnen", 1);
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.no_config = 1;
    struct chorus_engine *e;
    if (chorus_engine_create(&e, &eo) != CHORUS_OK) return -999;
    struct chorus_request q = chorus_request_default();
    q.backend = "chatterbox";
    q.voice = "Emily";
    q.text = text;
    q.options = opts;
    q.n_options = nopts;
    q.format = CHORUS_FORMAT_WAV;
    q.callback = on_event;
    q.userdata = r;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &q, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    snprintf(err, errlen, "%s", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
    return rc;
}

/* The seeds of the /tts requests, in order. */
static int seeds_sent(const struct fake *f, long long *out, int cap) {
    json_t *arr = cbfake_requests(f);
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) {
        const char *p = json_string_value(json_object_get(r, "path"));
        if (p && !strcmp(p, "/tts") && n < cap)
            out[n++] = json_integer_value(json_object_get(json_object_get(r, "json"), "seed"));
    }
    json_decref(arr);
    return n;
}

static double logged_score(long long seed) {
    char pat[64];
    snprintf(pat, sizeof pat, "seed %lld score ", seed);
    const char *p = strstr(g_log, pat);
    return p ? atof(p + strlen(pat)) : -1;
}

static const char *TEXT = "The quick brown fox jumps over the lazy dog.";

TEST(recognizer_tells_speech_from_garble) {
    /* the validator itself: real speech of the text scores well above noise */
    char cmd[512], path[128];
    snprintf(path, sizeof path, "/tmp/chorus-cbcand-%d.raw", (int)getpid());
    snprintf(cmd, sizeof cmd, "espeak-ng -v en-us+f2 -s 150 --stdout '%s' | sox -t wav - -t raw "
             "-r 16000 -e signed -b 16 -c 1 %s", TEXT, path);
    CHECK_EQ_INT(system(cmd), 0);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    static int16_t pcm[16000 * 10];
    size_t n = fread(pcm, 2, sizeof pcm / 2, f);
    fclose(f);
    unlink(path);
    CHECK(n > 16000);
    struct cb_asr *a;
    char err[512];
    CHECK_MSG(chorus_cb_asr_create(&a, "/usr/share/pocketsphinx/model/en-us", err, sizeof err) == 0,
              "%s", err);
    char hyp[1024];
    CHECK_EQ_INT(chorus_cb_asr_transcribe(a, pcm, n, 16000, hyp, sizeof hyp), CHORUS_OK);
    double good = chorus_cb_text_match(TEXT, hyp);
    unsigned seed = 7;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        pcm[i] = (int16_t)((int)((seed >> 16) & 0x3fff) - 0x2000);
    }
    n = n < 16000 * 2 ? n : 16000 * 2; /* two seconds of noise */
    CHECK_EQ_INT(chorus_cb_asr_transcribe(a, pcm, n, 16000, hyp, sizeof hyp), CHORUS_OK);
    double bad = chorus_cb_text_match(TEXT, hyp);
    chorus_cb_asr_destroy(a);
    CHECK_MSG(good >= 0.4 && bad < 0.25 && good > bad + 0.3, "speech %.3f, noise %.3f", good,
              bad);
    /* a missing model is a clear error */
    CHECK_EQ_INT(chorus_cb_asr_create(&a, "/nonexistent", err, sizeof err), CHORUS_E_MODEL);
    CHECK(strstr(err, "pocketsphinx-en-us") != NULL);
}

TEST(best_candidate_wins) {
    struct fake f;
    /* seeds 100 and 102 are garbled, 101 is speech */
    CHECK(cbfake_start(&f, "devnen", "--garble-seeds", "100,102", NULL) == 0);
    g_log_len = 0;
    g_log[0] = '\0';
    struct chorus_option opts[] = {{"candidates", "3"}, {"seed", "100"}, {"min_score", "0.3"},
                                   {"retries", "0"}};
    struct run r = {0};
    char err[512];
    int rc = speak(f.base, TEXT, opts, 4, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    long long seeds[16];
    int n = seeds_sent(&f, seeds, 16);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(seeds[0], 100);
    CHECK_EQ_INT(seeds[1], 101);
    CHECK_EQ_INT(seeds[2], 102);
    CHECK_MSG(strstr(g_log, "chose seed 101 ") != NULL, "log:\n%s", g_log);
    double s100 = logged_score(100), s101 = logged_score(101), s102 = logged_score(102);
    CHECK_MSG(s101 >= 0.3 && s100 >= 0 && s100 < s101 && s102 >= 0 && s102 < s101,
              "scores %.3f %.3f %.3f", s100, s101, s102);
    /* the chosen take is what the caller got: speech, once (not three takes) */
    double secs = (double)r.n / 24000.0;
    CHECK_MSG(secs > 1.5 && secs < 6.0, "%.2f s", secs);
    CHECK(r.energy > 0);
    fake_stop(&f);
}

TEST(below_threshold_regenerates) {
    struct fake f;
    /* the first request is garbled: a single validated take scores badly, the next recovers */
    CHECK(cbfake_start(&f, "devnen", "--garble-first", "1", NULL) == 0);
    g_log_len = 0;
    g_log[0] = '\0';
    struct chorus_option opts[] = {{"validate", "true"}, {"seed", "10"}, {"min_score", "0.3"},
                                   {"candidate_rounds", "2"}, {"retries", "0"}};
    struct run r = {0};
    char err[512];
    int rc = speak(f.base, TEXT, opts, 5, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    long long seeds[16];
    int n = seeds_sent(&f, seeds, 16);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(seeds[0], 10);
    CHECK_EQ_INT(seeds[1], 11); /* a new seed for the new round */
    CHECK_MSG(strstr(g_log, "below min_score") != NULL, "log:\n%s", g_log);
    CHECK_MSG(strstr(g_log, "chose seed 11 ") != NULL, "log:\n%s", g_log);
    CHECK(logged_score(10) >= 0 && logged_score(10) < 0.3);
    double secs = (double)r.n / 24000.0;
    CHECK_MSG(secs > 1.5 && secs < 6.0, "%.2f s", secs);
    fake_stop(&f);
}

int main(void) {
    chorus_set_log(on_log, NULL, CHORUS_LOG_INFO);
    RUN(recognizer_tells_speech_from_garble);
    RUN(best_candidate_wins);
    RUN(below_threshold_regenerates);
    return test_summary();
}
