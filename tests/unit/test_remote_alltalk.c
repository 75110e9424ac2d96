/* The alltalk backend (and its alltalk_* pattern) against the loopback fake AllTalk v2:
 * readiness, voices, the three APIs, unreliable error bodies turned into clear messages. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "../fakes/remote_check.h"
#include "test.h"

static struct fake F;

static int start(const char *plan) {
    if (F.pid) fake_stop(&F);
    if (fake_start(&F, "alltalk", "--plan", plan ? plan : "", NULL) != 0) return -1;
    setenv("ALLTALK_TTS_URL", F.base, 1);
    return 0;
}

/* The fake with extra flags (--engine piper, --wav s24, --transcode mp3, --audio-ctype ...). */
static int start_with(const char *a1, const char *v1, const char *a2, const char *v2) {
    if (F.pid) fake_stop(&F);
    if (fake_start(&F, "alltalk", a1, v1, a2 ? a2 : "--plan", a2 ? v2 : "", NULL) != 0)
        return -1;
    setenv("ALLTALK_TTS_URL", F.base, 1);
    return 0;
}

/* The form of the last /api/tts-generate request (a new reference), or NULL. */
static json_t *last_generate_form(void) {
    json_t *log = fake_log_json(&F), *form = NULL;
    for (size_t k = 0; k < json_array_size(log); k++) {
        json_t *q = json_array_get(log, k);
        if (!strcmp(json_string_value(json_object_get(q, "path")), "/api/tts-generate")) {
            json_decref(form);
            form = json_incref(json_object_get(q, "form"));
        }
    }
    json_decref(log);
    return form;
}

/* Decode bytes with sox (an independent decoder): seconds of audio, -1 if sox refuses it. */
static double sox_seconds(const unsigned char *b, size_t n, const char *type) {
    char path[] = "/tmp/chorus-at-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    if (write(fd, b, n) != (ssize_t)n) n = 0;
    close(fd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "sox -t %s %s -t raw -e signed -b 16 -c 1 -r 24000 - 2>/dev/null | wc -c",
             type, path);
    FILE *f = popen(cmd, "r");
    long bytes = -1;
    if (f && fscanf(f, "%ld", &bytes) != 1) bytes = -1;
    if (f) pclose(f);
    unlink(path);
    return bytes < 0 ? -1 : bytes / 2.0 / 24000.0;
}

static void base_run(struct run *r, const char *backend, const char *text) {
    memset(r, 0, sizeof *r);
    r->backend = backend;
    r->text = text;
}

TEST(probe_and_voices) {
    CHECK(start(NULL) == 0);
    struct chorus_engine *e = remote_engine();
    struct chorus_backend_info *infos;
    size_t n;
    CHECK(chorus_list_backends(e, &infos, &n) == CHORUS_OK);
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(infos[i].name, "alltalk")) {
            seen = 1;
            CHECK_MSG(infos[i].available, "%s", infos[i].reason ? infos[i].reason : "");
            CHECK_STR(infos[i].pattern, "alltalk_*");
        }
    CHECK(seen);
    chorus_backend_infos_free(infos, n);
    struct chorus_voice *v;
    CHECK(chorus_list_voices(e, "alltalk_narrator", &v, &n) == CHORUS_OK);
    int female = 0;
    for (size_t i = 0; i < n; i++) female |= !strcmp(v[i].id, "female_01.wav");
    CHECK(female);
    chorus_voices_free(v, n);
    chorus_engine_destroy(e);
    /* a server that is not there: unavailable, saying where it looked and what to set */
    fake_stop(&F);
    e = remote_engine();
    CHECK(chorus_list_backends(e, &infos, &n) == CHORUS_OK);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(infos[i].name, "alltalk")) {
            CHECK(!infos[i].available);
            CHECK_MSG(strstr(infos[i].reason, F.base) && strstr(infos[i].reason, "ALLTALK_TTS_URL"),
                      "%s", infos[i].reason);
        }
    chorus_backend_infos_free(infos, n);
    chorus_engine_destroy(e);
}

TEST(three_apis_speak) {
    const char *apis[] = {"generate", "stream", "openai"};
    for (int i = 0; i < 3; i++) {
        CHECK(start(NULL) == 0);
        const char *text = "AllTalk answers with real wav audio.";
        struct run r;
        base_run(&r, "alltalk_narrator", text);
        r.voice = i == 2 ? "nova" : "male_01";
        run_opt(&r, "api", apis[i]);
        run_request(&r);
        CHECK_MSG(r.rc == CHORUS_OK, "%s: rc %d: %s", apis[i], r.rc, r.err);
        CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.02);
        CHECK(run_rms(&r) > 0.05);
        json_t *log = fake_log_json(&F);
        int found = 0;
        for (size_t k = 0; k < json_array_size(log); k++) {
            json_t *q = json_array_get(log, k);
            const char *path = json_string_value(json_object_get(q, "path"));
            if (i == 0 && !strcmp(path, "/api/tts-generate")) {
                json_t *f = json_object_get(q, "form");
                CHECK_STR(json_string_value(json_object_get(f, "text_input")), text);
                CHECK_STR(json_string_value(json_object_get(f, "character_voice_gen")),
                          "male_01.wav");
                CHECK_STR(json_string_value(json_object_get(f, "language")), "en");
                CHECK_STR(json_string_value(json_object_get(f, "narrator_enabled")), "false");
                found = 1;
            }
            if (i == 1 && !strcmp(path, "/api/tts-generate-streaming")) {
                json_t *qq = json_object_get(q, "query");
                CHECK_STR(json_string_value(json_object_get(qq, "text")), text);
                CHECK_STR(json_string_value(json_object_get(qq, "voice")), "male_01.wav");
                found = 1;
            }
            if (i == 2 && !strcmp(path, "/v1/audio/speech")) {
                json_t *b = json_object_get(q, "json");
                CHECK_STR(json_string_value(json_object_get(b, "voice")), "nova");
                CHECK_STR(json_string_value(json_object_get(b, "response_format")), "wav");
                found = 1;
            }
        }
        json_decref(log);
        CHECK_MSG(found, "%s: request not seen", apis[i]);
        run_free(&r);
    }
}

TEST(long_text_is_chunked_under_the_server_limit) {
    CHECK(start(NULL) == 0);
    static char text[5200];
    text[0] = '\0';
    const char *s = "AllTalk refuses more than two thousand characters per request. ";
    while (strlen(text) + strlen(s) < 5000) strcat(text, s);
    struct run r;
    base_run(&r, "alltalk", text);
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *log = fake_log_json(&F);
    size_t n = 0, total = 0;
    for (size_t k = 0; k < json_array_size(log); k++) {
        const char *t = json_string_value(json_object_get(
            json_object_get(json_array_get(log, k), "form"), "text_input"));
        if (!t) continue;
        n++;
        total += strlen(t);
        CHECK_MSG(strlen(t) <= 2000, "a request of %zu characters", strlen(t));
    }
    json_decref(log);
    CHECK(n >= 3);
    /* each chunk ends a sentence: the joins add the core's sentence pause (350 ms) */
    CHECK_NEAR(run_seconds(&r), total / 15.0 + 0.35 * (double)(n - 1), 0.1 * (double)n);
    run_free(&r);
}

TEST(failures_become_clear_messages) {
    /* AllTalk's bare 500 for a voice file it lacks (the alias maps nova to female_03.wav) */
    CHECK(start(NULL) == 0);
    struct run r;
    base_run(&r, "alltalk", "Which voice?");
    r.voice = "nova";
    run_opt(&r, "retries", "0");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_SERVER);
    CHECK_MSG(strstr(r.err, "HTTP 500") && strstr(r.err, "female_03.wav") &&
                  strstr(r.err, "chorus voices -b alltalk"), "%s", r.err);
    run_free(&r);
    /* a voice the server does not list is refused before any generation */
    base_run(&r, "alltalk", "Which voice?");
    r.voice = "robot_99";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_UNKNOWN_VOICE);
    run_free(&r);
    /* the OpenAI endpoint only takes the six names */
    base_run(&r, "alltalk", "Which voice?");
    r.voice = "female_02";
    run_opt(&r, "api", "openai");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK(strstr(r.err, "alloy, echo, fable, nova, onyx and shimmer") != NULL);
    run_free(&r);
    /* a silent server times out with the URL named */
    CHECK(start("hang") == 0);
    base_run(&r, "alltalk", "Hello?");
    run_opt(&r, "retries", "0");
    run_opt(&r, "timeout", "1");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_TIMEOUT);
    CHECK_MSG(strstr(r.err, F.base) != NULL, "%s", r.err);
    run_free(&r);
}


TEST(piper_engine_as_shipped) {
    /* AllTalk loads Piper by default: no female_01.wav; its voices are .onnx models */
    CHECK(start_with("--engine", "piper", NULL, NULL) == 0);
    const char *text = "Piper is the engine AllTalk ships with.";
    struct run r;
    base_run(&r, "alltalk", text);
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.02);
    CHECK(run_rms(&r) > 0.05);
    json_t *form = last_generate_form();
    const char *v = json_string_value(json_object_get(form, "character_voice_gen"));
    CHECK_MSG(!v || strstr(v, ".onnx"), "voice sent to Piper: %s", v ? v : "(none)");
    json_decref(form);
    run_free(&r);
    /* streaming: Piper cannot (currentsettings says so): refused before any generation */
    base_run(&r, "alltalk", text);
    run_opt(&r, "api", "stream");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_OPTION);
    CHECK_MSG(strstr(r.err, "piper") && strstr(r.err, "api=generate"), "%s", r.err);
    json_t *log = fake_log_json(&F);
    for (size_t k = 0; k < json_array_size(log); k++)
        CHECK(strcmp(json_string_value(json_object_get(json_array_get(log, k), "path")),
                     "/api/tts-generate-streaming") != 0);
    json_decref(log);
    run_free(&r);
    /* the OpenAI names map to XTTS files: not offered under Piper */
    base_run(&r, "alltalk", text);
    r.voice = "alloy";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_UNKNOWN_VOICE);
    run_free(&r);
}

TEST(any_wav_and_transcoded_files) {
    /* XTTS's float32 files in every WAV flavour, and transcoded files, even as text/plain */
    /* (plain float32, the fake's default, is spoken by three_apis_speak) */
    static const char *const flags[][4] = {
        {"--wav", "f32ext", "--audio-ctype", "text/plain"},
        {"--wav", "s24", NULL, NULL},
        {"--transcode", "mp3", "--audio-ctype", "application/octet-stream"},
        {"--transcode", "opus", "--audio-ctype", "text/plain"},
    };
    const char *text = "Whatever the server writes is read.";
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        CHECK(start_with(flags[i][0], flags[i][1], flags[i][2], flags[i][3]) == 0);
        struct run r;
        base_run(&r, "alltalk", text);
        r.voice = "female_01";
        run_request(&r);
        CHECK_MSG(r.rc == CHORUS_OK, "%s %s: rc %d: %s", flags[i][0], flags[i][1], r.rc, r.err);
        /* mp3/opus add encoder delay and padding: within 0.1 s */
        CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.1);
        CHECK_MSG(run_rms(&r) > 0.05, "%s %s: rms %f", flags[i][0], flags[i][1], run_rms(&r));
        run_free(&r);
    }
}

TEST(stream_header_rewritten_and_speed_warned) {
    /* XTTS streaming: the header says 0 bytes of data; the caller's WAV must not */
    CHECK(start(NULL) == 0);
    logcap_start(NULL);
    const char *text = "Streaming answers start with a header that says zero.";
    struct run r;
    base_run(&r, "alltalk", text);
    r.voice = "female_01";
    r.format = CHORUS_FORMAT_WAV;
    run_opt(&r, "api", "stream");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK(r.n_bytes > 44);
    CHECK_NEAR(sox_seconds(r.bytes, r.n_bytes, "wav"), strlen(text) / 15.0, 0.02);
    run_free(&r);
    /* speed is ignored by that API: said in the log, the audio stays at 1.0 */
    base_run(&r, "alltalk", text);
    r.voice = "female_01";
    r.speed = 1.5f;
    run_opt(&r, "api", "stream");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.05);
    CHECK_MSG(strstr(logcap_text, "ignores speed") != NULL, "log: %s", logcap_text);
    run_free(&r);
    chorus_set_log(NULL, NULL, CHORUS_LOG_WARN);
}

int main(void) {
    srandom((unsigned)getpid());
    RUN(probe_and_voices);
    RUN(three_apis_speak);
    RUN(long_text_is_chunked_under_the_server_limit);
    RUN(failures_become_clear_messages);
    RUN(piper_engine_as_shipped);
    RUN(any_wav_and_transcoded_files);
    RUN(stream_header_rewritten_and_speed_warned);
    fake_stop(&F);
    return test_summary();
}
