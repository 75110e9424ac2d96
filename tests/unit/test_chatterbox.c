/*
 * test_chatterbox.c — the chatterbox backend through the public API against loopback fakes of
 * both Chatterbox servers (tests/fakes/fake_chatterbox.py, real espeak-ng speech), the local
 * voice library, and the text preprocessing.
 *
 * Candidate selection with the speech recognizer is in test_chatterbox_candidates.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/chatterbox/cb_internal.h"
#include "chorus/chorus.h"
#include <math.h>
#include <sndfile.h>
#include "test.h"
#include "test_chatterbox_fake.h"

static char g_tmp[256];      /* XDG_DATA_HOME of this run */
static char g_clip[300];     /* an 8 s espeak recording (reference clip) */
static char g_short[300];    /* a 1 s clip */

/* ---- helpers ---------------------------------------------------------------------------- */

static int sh(const char *cmd) { return system(cmd); }

static double snd_rms(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

static void make_clips(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/chorus-cbtest-%d", (int)getpid());
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", g_tmp, g_tmp);
    sh(cmd);
    setenv("XDG_DATA_HOME", g_tmp, 1);
    snprintf(g_clip, sizeof g_clip, "%s/ref.wav", g_tmp);
    snprintf(g_short, sizeof g_short, "%s/short.wav", g_tmp);
    snprintf(cmd, sizeof cmd,
             "espeak-ng -v en-us -s 140 -w %s 'This is my reference recording. I speak clearly "
             "and calmly, so that the model can learn the sound of my voice from it.' && "
             "espeak-ng -w %s 'Too short.'", g_clip, g_short);
    sh(cmd);
}

static struct chorus_engine *engine_for(const char *url, const char *api) {
    setenv("CHATTERBOX_URL", url, 1);
    if (api) setenv("CHATTERBOX_API", api, 1);
    else unsetenv("CHATTERBOX_API");
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.no_config = 1;
    struct chorus_engine *e = NULL;
    if (chorus_engine_create(&e, &eo) != CHORUS_OK) return NULL;
    return e;
}

struct run {
    float *pcm;
    size_t n;
    int rate;
    int chunks;
    int errors;
    const char *release_file; /* created at the first CHUNK event */
    int released_at_chunk;    /* chunk events seen when the file was created */
    int progress;
};

static int on_event(const struct chorus_event *ev, void *ud) {
    struct run *r = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->samples && ev->chunk->n_samples) {
        r->pcm = realloc(r->pcm, (r->n + ev->chunk->n_samples) * sizeof *r->pcm);
        memcpy(r->pcm + r->n, ev->chunk->samples, ev->chunk->n_samples * sizeof *r->pcm);
        r->n += ev->chunk->n_samples;
        r->rate = ev->chunk->sample_rate;
        r->chunks++;
        if (r->release_file && !r->released_at_chunk) {
            FILE *f = fopen(r->release_file, "w");
            if (f) fclose(f);
            r->released_at_chunk = r->chunks;
        }
    } else if (ev->type == CHORUS_EVENT_PROGRESS) {
        r->progress++;
    } else if (ev->type == CHORUS_EVENT_ERROR) {
        r->errors++;
    }
    return 0;
}

/* Run a request to the end; returns the status, *msg the message (static copy). */
static int speak(struct chorus_engine *e, const char *voice, const char *text,
                 const struct chorus_option *opts, size_t nopts, struct run *r, char *msg,
                 size_t msglen) {
    struct chorus_request q = chorus_request_default();
    q.backend = "chatterbox";
    q.voice = voice;
    q.text = text;
    q.options = opts;
    q.n_options = nopts;
    q.format = CHORUS_FORMAT_WAV;
    q.callback = on_event;
    q.userdata = r;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &q, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    if (msg) snprintf(msg, msglen, "%s", s ? chorus_stream_errmsg(s) : "no stream");
    chorus_stream_destroy(s);
    return rc;
}

static json_t *nth_request(json_t *reqs, const char *method, const char *path, int nth) {
    size_t i;
    json_t *r;
    int k = 0;
    json_array_foreach(reqs, i, r) {
        const char *m = json_string_value(json_object_get(r, "method"));
        const char *p = json_string_value(json_object_get(r, "path"));
        if (m && p && !strcmp(m, method) && !strcmp(p, path) && k++ == nth) return r;
    }
    return NULL;
}

static double jnum(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }
static const char *jstr(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static const char *LONG_TEXT =
    "The first sentence of this story is short. Then comes a much longer sentence that keeps "
    "going for a while, talking about the weather, the sea, the long road home, and the small "
    "town where the lights were always on. After that, a third sentence follows, also rather "
    "long, so that the whole text is well over three hundred characters and must be split into "
    "more than one chunk by the text stage. Finally we stop.";

/* ---- text ------------------------------------------------------------------------------- */

TEST(preprocess_rules) {
    struct {
        const char *in, *want;
    } cases[] = {
        {"J.R.R. Tolkien wrote it.", "J R R Tolkien wrote it."},
        {"As shown [12] and [3, 4] or [1-3], see [citation needed] too.",
         "As shown and or, see too."},
        {"Spelled refs [twelve] go [laugh] stays.", "Spelled refs go [laugh] stays."},
        {"Visit https://example.com/x?y=1 now!!!", "Visit now!"},
        {"What?!? Really...", "What? Really."},
        {"End.Next one", "End. Next one"},
        {"  lots   of\n\tspace  ", "lots of space"},
        {"Version 3.5 is out.", "Version 3.5 is out."},
        {"In the U.S.", "In the U S."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = chorus_cb_preprocess(cases[i].in, strlen(cases[i].in));
        CHECK(out != NULL);
        CHECK_MSG(!strcmp(out, cases[i].want), "preprocess(\"%s\") = \"%s\", want \"%s\"",
                  cases[i].in, out, cases[i].want);
        free(out);
    }
    char *empty = chorus_cb_preprocess("[1]", 3);
    CHECK_STR(empty, "");
    free(empty);
}

TEST(transcript_match) {
    CHECK_NEAR(chorus_cb_text_match("The quick brown fox.", "the quick brown fox"), 1.0, 1e-9);
    CHECK_NEAR(chorus_cb_text_match("a b c d", "a b x d"), 0.75, 1e-9);
    CHECK_NEAR(chorus_cb_text_match("hello world", ""), 0.0, 1e-9);
    CHECK_NEAR(chorus_cb_text_match("hello world", "goodbye moon"), 0.0, 1e-9);
    double partial = chorus_cb_text_match("one two three four five six", "one two four six");
    CHECK(partial > 0.7 && partial < 0.9);
}

/* ---- the voice library ------------------------------------------------------------------ */

TEST(voicelib_add_list_remove) {
    struct chorus_engine *e = engine_for("http://127.0.0.1:9", "devnen");
    CHECK(e != NULL);
    char warn[256] = "x";
    int rc = chorus_cloned_voice_add(e, "anna", g_clip, "calm narrator", warn, sizeof warn);
    CHECK_MSG(rc == CHORUS_OK, "add: %s", chorus_engine_errmsg(e));
    CHECK_STR(warn, ""); /* 7-20 s: no warning */
    struct chorus_cloned_voice *v;
    size_t n;
    CHECK_EQ_INT(chorus_cloned_voice_list(e, &v, &n), CHORUS_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_STR(v[0].name, "anna");
    CHECK_STR(v[0].description, "calm narrator");
    CHECK(v[0].duration > 7.0 && v[0].duration < 20.0);
    CHECK_EQ_INT(v[0].sample_rate, 22050);
    CHECK(strlen(v[0].created) == 20 && v[0].created[10] == 'T');
    /* the stored clip is a mono WAV an independent decoder reads, as long as the original */
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *f = sf_open(v[0].path, SFM_READ, &si);
    CHECK(f != NULL);
    CHECK_EQ_INT(si.channels, 1);
    CHECK_NEAR((double)si.frames / si.samplerate, v[0].duration, 0.01);
    sf_close(f);
    char expect_dir[400];
    snprintf(expect_dir, sizeof expect_dir, "%s/chorus/voices/anna.wav", g_tmp);
    CHECK_STR(v[0].path, expect_dir);
    chorus_cloned_voices_free(v, n);

    /* same name twice: refused, the stored voice untouched */
    CHECK_EQ_INT(chorus_cloned_voice_add(e, "anna", g_clip, NULL, NULL, 0), CHORUS_E_INVALID);
    CHECK(strstr(chorus_engine_errmsg(e), "already") != NULL);
    CHECK_EQ_INT(chorus_cloned_voice_remove(e, "anna"), CHORUS_OK);
    CHECK_EQ_INT(chorus_cloned_voice_list(e, &v, &n), CHORUS_OK);
    CHECK_EQ_INT(n, 0);
    chorus_cloned_voices_free(v, n);
    CHECK_EQ_INT(chorus_cloned_voice_remove(e, "anna"), CHORUS_E_NOT_FOUND);
    CHECK(strstr(chorus_engine_errmsg(e), "anna") != NULL);
    chorus_engine_destroy(e);
}

TEST(voicelib_refuses_bad_input) {
    struct chorus_engine *e = engine_for("http://127.0.0.1:9", "devnen");
    CHECK(e != NULL);
    /* too short */
    CHECK_EQ_INT(chorus_cloned_voice_add(e, "shorty", g_short, NULL, NULL, 0), CHORUS_E_INVALID);
    CHECK(strstr(chorus_engine_errmsg(e), "3 to 60 s") != NULL);
    /* not audio */
    char notaudio[300];
    snprintf(notaudio, sizeof notaudio, "%s/notes.txt", g_tmp);
    FILE *fp = fopen(notaudio, "w");
    CHECK(fp != NULL);
    fputs("this is not audio at all\n", fp);
    fclose(fp);
    CHECK_EQ_INT(chorus_cloned_voice_add(e, "texty", notaudio, NULL, NULL, 0), CHORUS_E_IO);
    CHECK(strstr(chorus_engine_errmsg(e), "as audio") != NULL);
    /* missing file */
    CHECK_EQ_INT(chorus_cloned_voice_add(e, "ghost", "/nonexistent/x.wav", NULL, NULL, 0),
                 CHORUS_E_IO);
    /* names that could escape the library */
    const char *bad[] = {"../evil", "a/b", ".hidden", "", "x y", "-dash",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(chorus_cloned_voice_add(e, bad[i], g_clip, NULL, NULL, 0), CHORUS_E_INVALID);
        CHECK(strstr(chorus_engine_errmsg(e), "invalid voice name") != NULL);
    }
    struct stat st;
    char evil[400];
    snprintf(evil, sizeof evil, "%s/chorus/evil.wav", g_tmp);
    CHECK(stat(evil, &st) != 0);
    /* nothing half-written stayed behind */
    struct chorus_cloned_voice *v;
    size_t n;
    CHECK_EQ_INT(chorus_cloned_voice_list(e, &v, &n), CHORUS_OK);
    CHECK_EQ_INT(n, 0);
    chorus_cloned_voices_free(v, n);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s/chorus/voices 2>/dev/null)\"", g_tmp);
    CHECK_EQ_INT(sh(cmd), 0);
    /* a 4 s clip is kept, with a warning */
    char four[300];
    snprintf(four, sizeof four, "%s/four.wav", g_tmp);
    snprintf(cmd, sizeof cmd, "sox %s %s trim 0 4", g_clip, four);
    CHECK_EQ_INT(sh(cmd), 0);
    char warn[256] = "";
    CHECK_EQ_INT(chorus_cloned_voice_add(e, "brief", four, NULL, warn, sizeof warn), CHORUS_OK);
    CHECK(strstr(warn, "7-20 s") != NULL);
    CHECK_EQ_INT(chorus_cloned_voice_remove(e, "brief"), CHORUS_OK);
    chorus_engine_destroy(e);
}

/* ---- devnen ----------------------------------------------------------------------------- */

TEST(devnen_clone_uploads_once_and_sends_fields) {
    struct fake f;
    CHECK(cbfake_start(&f, "devnen", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "devnen");
    CHECK(e != NULL);
    CHECK_MSG(chorus_cloned_voice_add(e, "anna", g_clip, NULL, NULL, 0) == CHORUS_OK, "%s",
              chorus_engine_errmsg(e));
    struct chorus_option opts[] = {{"exaggeration", "0.7"}, {"cfg_weight", "0.3"},
                                   {"temperature", "0.6"}, {"seed", "42"},
                                   {"language", "en"}};
    /* to a file, decoded by libsndfile */
    char out[400], err[512] = "";
    snprintf(out, sizeof out, "%s/out.wav", g_tmp);
    struct chorus_request q = chorus_request_default();
    q.backend = "chatterbox";
    q.voice = "anna";
    q.text = LONG_TEXT;
    q.options = opts;
    q.n_options = 5;
    int rc = chorus_synthesize_file(e, &q, out, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "synthesize: %s", err);
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *sf = sf_open(out, SFM_READ, &si);
    CHECK(sf != NULL);
    float *x = malloc(sizeof(float) * (size_t)si.frames);
    sf_count_t got = sf_readf_float(sf, x, si.frames);
    sf_close(sf);
    CHECK_EQ_INT(si.samplerate, 24000);
    CHECK(got == si.frames && got > 24000 * 10); /* ~400 characters of speech */
    CHECK(snd_rms(x, (size_t)got) > 0.01);
    free(x);

    json_t *reqs = cbfake_requests(&f);
    /* the clip went up once, as the stored WAV, before the first /tts */
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/upload_reference"), 1);
    json_t *up = nth_request(reqs, "POST", "/upload_reference", 0);
    json_t *file = json_object_get(json_object_get(up, "form"), "files");
    CHECK(json_is_true(json_object_get(file, "riff")));
    struct chorus_cloned_voice *v;
    size_t n;
    CHECK_EQ_INT(chorus_cloned_voice_list(e, &v, &n), CHORUS_OK);
    CHECK_EQ_INT(n, 1);
    struct stat st;
    CHECK(stat(v[0].path, &st) == 0);
    CHECK_EQ_INT(jnum(file, "size"), st.st_size);
    chorus_cloned_voices_free(v, n);
    const char *fname = jstr(file, "filename");
    CHECK(fname && !strncmp(fname, "chorus-anna-", 12));
    /* every chunk: clone mode on that file, the knobs as given, at most 300 characters */
    int tts = cbfake_count(&f, "POST", "/tts");
    CHECK(tts >= 2);
    for (int i = 0; i < tts; i++) {
        json_t *b = json_object_get(nth_request(reqs, "POST", "/tts", i), "json");
        CHECK_STR(jstr(b, "voice_mode"), "clone");
        CHECK_STR(jstr(b, "reference_audio_filename"), fname);
        CHECK_NEAR(jnum(b, "exaggeration"), 0.7, 1e-9);
        CHECK_NEAR(jnum(b, "cfg_weight"), 0.3, 1e-9);
        CHECK_NEAR(jnum(b, "temperature"), 0.6, 1e-9);
        CHECK_NEAR(jnum(b, "speed_factor"), 1.0, 1e-9);
        CHECK_EQ_INT(jnum(b, "seed"), 42);
        CHECK_STR(jstr(b, "language"), "en");
        CHECK_STR(jstr(b, "output_format"), "wav");
        CHECK(json_is_false(json_object_get(b, "split_text")));
        const char *t = jstr(b, "text");
        CHECK(t && strlen(t) > 0 && strlen(t) <= 300);
    }
    json_decref(reqs);

    /* a second stream on the same engine does not upload again */
    struct run r = {0};
    rc = speak(e, "clone:anna", "Once more, please.", NULL, 0, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    CHECK(r.n > 0 && r.rate == 24000);
    free(r.pcm);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/upload_reference"), 1);
    CHECK_EQ_INT(chorus_cloned_voice_remove(e, "anna"), CHORUS_OK);
    chorus_engine_destroy(e);
    fake_stop(&f);
}

TEST(devnen_predefined_voice_and_speed) {
    struct fake f;
    CHECK(cbfake_start(&f, "devnen", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "devnen");
    struct run r = {0};
    char err[512];
    struct chorus_request q = chorus_request_default();
    q.backend = "chatterbox";
    q.voice = "Michael";
    q.text = "A predefined voice, a little faster.";
    q.speed = 1.25f;
    q.language = "fr-ca"; /* the request's language reaches devnen's multilingual model */
    q.format = CHORUS_FORMAT_WAV;
    q.callback = on_event;
    q.userdata = &r;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &q, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    snprintf(err, sizeof err, "%s", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    CHECK(r.n > 0);
    free(r.pcm);
    json_t *reqs = cbfake_requests(&f);
    json_t *b = json_object_get(nth_request(reqs, "POST", "/tts", 0), "json");
    CHECK_STR(jstr(b, "voice_mode"), "predefined");
    CHECK_STR(jstr(b, "predefined_voice_id"), "Michael.wav");
    CHECK_NEAR(jnum(b, "speed_factor"), 1.25, 1e-6);
    CHECK_STR(jstr(b, "language"), "fr");
    CHECK_NEAR(jnum(b, "exaggeration"), 0.5, 1e-9); /* defaults */
    CHECK_NEAR(jnum(b, "cfg_weight"), 0.5, 1e-9);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/upload_reference"), 0);
    json_decref(reqs);

    /* voices: the server's predefined ones are listed */
    struct chorus_voice *vv;
    size_t n;
    CHECK_EQ_INT(chorus_list_voices(e, "chatterbox", &vv, &n), CHORUS_OK);
    int emily = 0;
    for (size_t i = 0; i < n; i++) emily |= !strcmp(vv[i].id, "Emily.wav");
    CHECK(emily);
    chorus_voices_free(vv, n);
    chorus_engine_destroy(e);
    fake_stop(&f);
}

TEST(option_ranges_are_enforced) {
    struct fake f;
    CHECK(cbfake_start(&f, "devnen", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "devnen");
    struct run r = {0};
    char err[512];
    struct chorus_option too_much[] = {{"exaggeration", "2.5"}};
    CHECK_EQ_INT(speak(e, "Emily", "Hello.", too_much, 1, &r, err, sizeof err), CHORUS_E_OPTION);
    CHECK(strstr(err, "exaggeration") != NULL);
    struct chorus_option cands[] = {{"candidates", "9"}};
    CHECK_EQ_INT(speak(e, "Emily", "Hello.", cands, 1, &r, err, sizeof err), CHORUS_E_OPTION);
    /* in the table's range but below what devnen accepts */
    struct chorus_option low_cfg[] = {{"cfg_weight", "0.1"}};
    CHECK_EQ_INT(speak(e, "Emily", "Hello.", low_cfg, 1, &r, err, sizeof err), CHORUS_E_OPTION);
    CHECK(strstr(err, "0.2-1.0") != NULL);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/tts"), 0); /* nothing out of range was sent */
    free(r.pcm);
    chorus_engine_destroy(e);
    fake_stop(&f);
}

TEST(fallback_presets) {
    struct fake f;
    /* the server fails at exaggeration above 0.45: the requested 0.5 fails, balanced (0.4) works */
    CHECK(cbfake_start(&f, "devnen", "--fail-when", "exaggeration>0.45", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "devnen");
    struct run r = {0};
    char err[512];
    struct chorus_option opts[] = {{"retries", "0"}};
    int rc = speak(e, "Emily", "Falling back still speaks.", opts, 1, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    CHECK(r.n > 24000 / 2 && snd_rms(r.pcm, r.n) > 0.01);
    free(r.pcm);
    json_t *reqs = cbfake_requests(&f);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/tts"), 2);
    CHECK_NEAR(jnum(json_object_get(nth_request(reqs, "POST", "/tts", 0), "json"), "exaggeration"),
               0.5, 1e-9);
    json_t *b2 = json_object_get(nth_request(reqs, "POST", "/tts", 1), "json");
    CHECK_NEAR(jnum(b2, "exaggeration"), 0.4, 1e-9);
    CHECK_NEAR(jnum(b2, "cfg_weight"), 0.6, 1e-9);
    json_decref(reqs);
    chorus_engine_destroy(e);
    fake_stop(&f);

    /* every preset fails: a clear error after requested, balanced and safe */
    CHECK(cbfake_start(&f, "devnen", "--fail-when", "exaggeration>0.2", NULL) == 0);
    e = engine_for(f.base, "devnen");
    memset(&r, 0, sizeof r);
    rc = speak(e, "Emily", "Nothing works.", opts, 1, &r, err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_SERVER);
    CHECK_MSG(strstr(err, "requested, balanced and safe") && strstr(err, "HTTP 500"), "%s", err);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/tts"), 3);
    CHECK_EQ_INT(r.n, 0);
    /* fallback=false: one attempt */
    struct chorus_option nofb[] = {{"retries", "0"}, {"fallback", "false"}};
    rc = speak(e, "Emily", "Nothing works.", nofb, 2, &r, err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_SERVER);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/tts"), 4);
    free(r.pcm);
    chorus_engine_destroy(e);
    fake_stop(&f);
}

TEST(devnen_first_chunk_before_second_request_completes) {
    /* The fake holds its answer to the second /tts until the first chunk's audio reached our
     * callback (it answers 500 otherwise): the stream must deliver chunk 1 first. */
    char hold[400];
    snprintf(hold, sizeof hold, "%s/release-devnen", g_tmp);
    unlink(hold);
    struct fake f;
    CHECK(cbfake_start(&f, "devnen", "--hold", hold, "--hold-request", "2", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "devnen");
    struct run r = {0};
    r.release_file = hold;
    char err[512];
    struct chorus_option opts[] = {{"retries", "0"}, {"fallback", "false"}};
    int rc = speak(e, "Emily", LONG_TEXT, opts, 2, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    CHECK_EQ_INT(r.released_at_chunk, 1);
    CHECK(cbfake_count(&f, "POST", "/tts") >= 2);
    CHECK(r.progress >= 2); /* progress per chunk */
    free(r.pcm);
    chorus_engine_destroy(e);
    fake_stop(&f);
}

static int cancel_at_first_chunk(const struct chorus_event *ev, void *ud) {
    int *chunks = ud;
    if (ev->type == CHORUS_EVENT_CHUNK) return ++*chunks >= 1;
    return 0;
}

TEST(cancel_stops_before_the_next_chunk) {
    struct fake f;
    CHECK(cbfake_start(&f, "devnen", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "devnen");
    int chunks = 0;
    struct chorus_request q = chorus_request_default();
    q.backend = "chatterbox";
    q.voice = "Emily";
    q.text = LONG_TEXT;
    q.callback = cancel_at_first_chunk;
    q.userdata = &chunks;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &q, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    chorus_stream_destroy(s);
    CHECK_EQ_INT(rc, CHORUS_E_CANCELLED);
    CHECK_EQ_INT(chunks, 1);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/tts"), 1); /* no request after the cancel */
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0); /* the slot is free */
    chorus_engine_destroy(e);
    fake_stop(&f);
}

TEST(bad_input_errors) {
    struct fake f;
    CHECK(cbfake_start(&f, "devnen", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "devnen");
    struct run r = {0};
    char err[1024];
    /* unknown cloned voice */
    int rc = speak(e, "clone:nobody", "Hello.", NULL, 0, &r, err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK_MSG(strstr(err, "nobody") && strstr(err, "chorus voices add"), "%s", err);
    rc = speak(e, "profile:nobody", "Hello.", NULL, 0, &r, err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_UNKNOWN_VOICE);
    rc = speak(e, "clone:../../etc/passwd", "Hello.", NULL, 0, &r, err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK(strstr(err, "invalid voice name") != NULL);
    /* text that preprocessing empties: an error, not an empty file */
    rc = speak(e, "Emily", "[1] [2]", NULL, 0, &r, err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_EMPTY_TEXT);
    CHECK(strstr(err, "preprocess=false") != NULL);
    /* a server voice that does not exist: the server's 404 says so */
    struct chorus_option opts[] = {{"retries", "0"}};
    rc = speak(e, "Nobody.wav", "Hello.", opts, 1, &r, err, sizeof err);
    CHECK_EQ_INT(rc, CHORUS_E_NOT_FOUND);
    CHECK_MSG(strstr(err, "Nobody.wav") != NULL, "%s", err);
    CHECK_EQ_INT(r.n, 0);
    chorus_engine_destroy(e);
    fake_stop(&f);

    /* server down: the port of a fake that is gone */
    char url[64];
    snprintf(url, sizeof url, "%s", f.base);
    e = engine_for(url, "devnen");
    rc = speak(e, "Emily", "Hello.", opts, 1, &r, err, sizeof err);
    CHECK(rc == CHORUS_E_UNAVAILABLE || rc == CHORUS_E_NETWORK);
    CHECK_MSG(strstr(err, url) && strstr(err, "did not answer"), "%s", err);
    free(r.pcm);
    chorus_engine_destroy(e);

    /* a config that names an unknown API */
    setenv("CHATTERBOX_API", "bogus", 1);
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.no_config = 1;
    CHECK_EQ_INT(chorus_engine_create(&e, &eo), CHORUS_OK);
    memset(&r, 0, sizeof r);
    rc = speak(e, "Emily", "Hello.", NULL, 0, &r, err, sizeof err);
    CHECK(rc != CHORUS_OK);
    CHECK_MSG(strstr(err, "bogus") && strstr(err, "travisvn"), "%s", err);
    unsetenv("CHATTERBOX_API");
    chorus_engine_destroy(e);
}

/* ---- travisvn --------------------------------------------------------------------------- */

TEST(travisvn_library_upload_and_true_streaming) {
    /* The fake streams half a second of the first chunk, then waits until our callback has
     * seen audio (it cuts the stream otherwise). */
    char hold[400];
    snprintf(hold, sizeof hold, "%s/release-travisvn", g_tmp);
    unlink(hold);
    struct fake f;
    CHECK(cbfake_start(&f, "travisvn", "--hold", hold, NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "travisvn");
    CHECK_MSG(chorus_cloned_voice_add(e, "bert", g_clip, NULL, NULL, 0) == CHORUS_OK, "%s",
              chorus_engine_errmsg(e));
    struct run r = {0};
    r.release_file = hold;
    char err[512];
    struct chorus_option opts[] = {{"retries", "0"}, {"fallback", "false"},
                                   {"exaggeration", "1.2"}, {"temperature", "2.5"}};
    int rc = speak(e, "bert", "Streaming speech arrives while the server still generates it.",
                   opts, 4, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    CHECK_EQ_INT(r.released_at_chunk, 1);
    CHECK(r.chunks >= 2 && r.rate == 24000 && snd_rms(r.pcm, r.n) > 0.01);
    CHECK((double)r.n / r.rate > 2.0);
    free(r.pcm);

    json_t *reqs = cbfake_requests(&f);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/v1/voices"), 1);
    json_t *form = json_object_get(nth_request(reqs, "POST", "/v1/voices", 0), "form");
    const char *vname = jstr(form, "voice_name");
    CHECK(vname && !strncmp(vname, "chorus-bert-", 12));
    CHECK_STR(jstr(form, "language"), "en");
    CHECK(json_is_true(json_object_get(json_object_get(form, "voice_file"), "riff")));
    json_t *b = json_object_get(nth_request(reqs, "POST", "/v1/audio/speech/stream", 0), "json");
    CHECK(b != NULL);
    CHECK_STR(jstr(b, "voice"), vname);
    CHECK_NEAR(jnum(b, "exaggeration"), 1.2, 1e-9);
    CHECK_NEAR(jnum(b, "temperature"), 2.5, 1e-9);
    CHECK_NEAR(jnum(b, "cfg_weight"), 0.5, 1e-9);
    CHECK(json_object_get(b, "seed") == NULL); /* travisvn takes no seed */
    json_decref(reqs);

    /* stream=false uses the plain endpoint; the voice is already there (no second upload) */
    memset(&r, 0, sizeof r);
    struct chorus_option plain[] = {{"stream", "false"}};
    rc = speak(e, "clone:bert", "Plain endpoint.", plain, 1, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    CHECK(r.n > 0);
    free(r.pcm);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/v1/audio/speech"), 1);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/v1/voices"), 1);
    chorus_engine_destroy(e);

    /* a fresh engine finds the voice on the server and does not upload it again */
    e = engine_for(f.base, "travisvn");
    memset(&r, 0, sizeof r);
    rc = speak(e, "bert", "Again.", plain, 1, &r, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s", err);
    free(r.pcm);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/v1/voices"), 1);
    CHECK_EQ_INT(chorus_cloned_voice_remove(e, "bert"), CHORUS_OK);
    chorus_engine_destroy(e);
    fake_stop(&f);
}

TEST(travisvn_ranges) {
    struct fake f;
    CHECK(cbfake_start(&f, "travisvn", NULL) == 0);
    struct chorus_engine *e = engine_for(f.base, "travisvn");
    struct run r = {0};
    char err[512];
    struct chorus_option cold[] = {{"temperature", "0.01"}};
    CHECK_EQ_INT(speak(e, "alloy", "Hello.", cold, 1, &r, err, sizeof err), CHORUS_E_OPTION);
    CHECK(strstr(err, "0.05-5.0") != NULL);
    CHECK_EQ_INT(cbfake_count(&f, "POST", "/v1/audio/speech/stream"), 0);
    free(r.pcm);
    chorus_engine_destroy(e);
    fake_stop(&f);
}

int main(void) {
    make_clips();
    chorus_set_log(NULL, NULL, CHORUS_LOG_ERROR);
    RUN(preprocess_rules);
    RUN(transcript_match);
    RUN(voicelib_add_list_remove);
    RUN(voicelib_refuses_bad_input);
    RUN(devnen_clone_uploads_once_and_sends_fields);
    RUN(devnen_predefined_voice_and_speed);
    RUN(option_ranges_are_enforced);
    RUN(fallback_presets);
    RUN(devnen_first_chunk_before_second_request_completes);
    RUN(cancel_stops_before_the_next_chunk);
    RUN(bad_input_errors);
    RUN(travisvn_library_upload_and_true_streaming);
    RUN(travisvn_ranges);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_tmp);
    sh(cmd);
    return test_summary();
}
