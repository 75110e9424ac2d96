/*
 * test_new_backend.c — docs/NEW-BACKEND.md's promise, checked: the `tone` backend
 * (tests/newbackend/tone/, one folder) plus one line in a copy of backends.def is all it takes
 * for the library to list it, resolve its voices and aliases and legacy ids, synthesize through
 * it (audio decoded by libsndfile, word events) and estimate a price with it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "chorus/chorus.h"
#include "sndcheck.h"
#include "test.h"

static struct chorus_engine *engine(void) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    if (chorus_engine_create(&e, &o) != CHORUS_OK) return NULL;
    return e;
}

TEST(listed_with_its_descriptor) {
    struct chorus_engine *e = engine();
    CHECK(e != NULL);
    struct chorus_backend_info *v = NULL;
    size_t n = 0;
    CHECK_EQ_INT(chorus_list_backends(e, &v, &n), CHORUS_OK);
    const struct chorus_backend_info *tone = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, "tone")) tone = &v[i];
    CHECK(tone != NULL);
    if (tone) {
        CHECK(tone->available);
        CHECK_EQ_INT(tone->sample_rate, 16000);
        CHECK_EQ_INT(tone->max_input_chars, 200);
    }
    chorus_backend_infos_free(v, n);
    struct chorus_voice *voices = NULL;
    CHECK_EQ_INT(chorus_list_voices(e, "tone", &voices, &n), CHORUS_OK);
    CHECK_EQ_INT(n, 2);
    if (n == 2) CHECK_STR(voices[1].id, "high");
    chorus_voices_free(voices, n);
    chorus_engine_destroy(e);
}

struct got {
    size_t words;
    unsigned char *wav;
    size_t len;
};

static int on_event(const struct chorus_event *ev, void *ud) {
    struct got *g = ud;
    if (ev->type == CHORUS_EVENT_WORD) g->words++;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->data_len) {
        unsigned char *p = realloc(g->wav, g->len + ev->chunk->data_len);
        if (!p) return 1;
        memcpy(p + g->len, ev->chunk->data, ev->chunk->data_len);
        g->wav = p;
        g->len += ev->chunk->data_len;
    }
    return 0;
}

struct heard {
    int status;
    size_t words;
    double seconds, hz, rms;
};

/* Speak `text` with backend name/voice; the decoded samples' zero crossings give the pitch. */
static struct heard speak(struct chorus_engine *e, const char *backend, const char *voice,
                          const char *text) {
    struct heard h = {0};
    struct chorus_request r = chorus_request_default();
    r.backend = backend;
    r.voice = voice;
    r.text = text;
    r.format = CHORUS_FORMAT_WAV;
    struct got g = {0};
    r.callback = on_event;
    r.userdata = &g;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    h.status = rc;
    if (rc != CHORUS_OK)
        fprintf(stderr, "  %s/%s: %s\n", backend, voice ? voice : "-",
                s ? chorus_stream_errmsg(s) : chorus_strerror(rc));
    unsigned char hdr[128];
    size_t hl = 0;
    if (s && rc == CHORUS_OK && chorus_stream_final_header(s, hdr, sizeof hdr, &hl) == CHORUS_OK &&
        hl && g.len >= hl)
        memcpy(g.wav, hdr, hl); /* the sizes, known now */
    chorus_stream_destroy(s);
    size_t frames = 0;
    int rate = 0, ch = 0;
    float *x = g.len ? snd_decode(g.wav, g.len, &frames, &rate, &ch) : NULL;
    free(g.wav);
    h.words = g.words;
    h.seconds = rate ? (double)frames / rate : 0;
    size_t zc = 0;
    for (size_t i = 1; x && i < frames; i++)
        if ((x[i - 1] < 0) != (x[i] < 0)) zc++;
    h.rms = x ? snd_rms(x, frames) : 0;
    free(x);
    h.hz = h.seconds > 0 ? (double)zc / 2.0 / h.seconds : 0;
    return h;
}

TEST(synthesizes_with_voices_aliases_and_legacy_ids) {
    struct chorus_engine *e = engine();
    CHECK(e != NULL);
    /* 11 characters x 80 ms, two words, the default voice's 440 Hz at half scale */
    struct heard h = speak(e, "tone", NULL, "hello world");
    CHECK_EQ_INT(h.status, CHORUS_OK);
    CHECK_NEAR(h.hz, 440, 15);
    CHECK_NEAR(h.seconds, 0.88, 0.1);
    CHECK_NEAR(h.rms, 0.5 / sqrt(2.0), 0.05);
    CHECK_EQ_INT(h.words, 2);
    h = speak(e, "tone", "high", "hello world");
    CHECK_EQ_INT(h.status, CHORUS_OK);
    CHECK_NEAR(h.hz, 880, 25);
    /* OpenAI's "alloy" is the descriptor's alias for "high" */
    h = speak(e, "tone", "alloy", "hello world");
    CHECK_EQ_INT(h.status, CHORUS_OK);
    CHECK_NEAR(h.hz, 880, 25);
    /* the prior implementation's id prefix routes here */
    h = speak(e, "old_tone_default", "low", "hello");
    CHECK_EQ_INT(h.status, CHORUS_OK);
    CHECK_NEAR(h.hz, 440, 15);
    /* a voice it does not have is refused by name */
    h = speak(e, "tone", "nosuch", "hello");
    CHECK_EQ_INT(h.status, CHORUS_E_UNKNOWN_VOICE);
    chorus_engine_destroy(e);
}

TEST(estimates_from_its_price_rows) {
    struct chorus_engine *e = engine();
    CHECK(e != NULL);
    struct chorus_request r = chorus_request_default();
    r.backend = "tone";
    r.text = "h\xc3\xa9llo"; /* 5 characters in 6 bytes */
    struct chorus_estimate est = {.size = sizeof est};
    CHECK_EQ_INT(chorus_estimate(e, &r, &est), CHORUS_OK);
    CHECK_STR(est.provider, "tone");
    CHECK_STR(est.model, "standard"); /* the backend's default_model op */
    CHECK_EQ_INT(est.characters, 5);
    CHECK_NEAR(est.usd, 5 * 2.0 / 1e6, 1e-15);
    r.model = "hd-2";
    CHECK_EQ_INT(chorus_estimate(e, &r, &est), CHORUS_OK);
    CHECK_NEAR(est.usd, 5 * 4.0 / 1e6, 1e-15);
    chorus_engine_destroy(e);
}

/* The prior implementation's ids of a backend this build left out say how to get it back. */
TEST(legacy_id_of_a_dropped_backend) {
    struct chorus_engine *e = engine();
    CHECK(e != NULL);
    struct chorus_request r = chorus_request_default();
    r.backend = "local_chatterbox_default";
    r.text = "hello";
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, &r, &s);
    const char *msg = s ? chorus_stream_errmsg(s) : chorus_engine_errmsg(e);
#if CHORUS_WITH_CHATTERBOX
    /* routed to chatterbox (which may be unreachable here), never "unknown backend" */
    CHECK_MSG(rc != CHORUS_E_UNKNOWN_BACKEND, "%s", msg);
#else
    CHECK_EQ_INT(rc, CHORUS_E_UNAVAILABLE);
    CHECK_MSG(msg && strstr(msg, "CHORUS_WITH_CHATTERBOX"), "%s", msg ? msg : "(no message)");
#endif
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
}

int main(void) {
    RUN(listed_with_its_descriptor);
    RUN(synthesizes_with_voices_aliases_and_legacy_ids);
    RUN(estimates_from_its_price_rows);
    RUN(legacy_id_of_a_dropped_backend);
    return test_summary();
}
