/* The openai backend end to end through the public API against the loopback fake
 * (tests/fakes/fake_tts.py): what was sent, what came back (decoded), chunking of long input,
 * SSE, retries without duplicated audio, every error mapping, and that the key never leaks. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "../fakes/remote_check.h"
#include "sndcheck.h"
#include "test.h"

#define KEY "sk-CHORUS-TEST-KEY-a1b2c3d4e5f6g7h8"

static struct fake F;

static int start(const char *plan) {
    if (F.pid) fake_stop(&F);
    if (fake_start(&F, "openai", "--key", KEY, "--plan", plan ? plan : "", NULL) != 0) return -1;
    char base[128];
    snprintf(base, sizeof base, "%s/v1", F.base);
    setenv("OPENAI_BASE_URL", base, 1);
    setenv("OPENAI_API_KEY", KEY, 1);
    return 0;
}

static void base_run(struct run *r, const char *text) {
    memset(r, 0, sizeof *r);
    r->backend = "openai";
    r->text = text;
}

static json_t *last_request(void) {
    json_t *log = fake_log_json(&F);
    json_t *last = json_incref(json_array_get(log, json_array_size(log) - 1));
    json_decref(log);
    return last;
}

TEST(speaks_and_sends_the_documented_request) {
    CHECK(start(NULL) == 0);
    const char *text = "The quick brown fox jumps over the lazy dog.";
    char path[] = "/tmp/chorus-openai-XXXXXX.wav";
    int fd = mkstemps(path, 4);
    CHECK(fd >= 0);
    close(fd);
    struct chorus_engine *e = remote_engine();
    CHECK(e != NULL);
    struct chorus_request q = chorus_request_default();
    q.backend = "openai";
    q.voice = "nova";
    q.text = text;
    q.speed = 1.25f;
    q.flags = CHORUS_FLAG_NO_CACHE;
    char err[512] = "";
    int rc = chorus_synthesize_file(e, &q, path, err, sizeof err);
    chorus_engine_destroy(e);
    CHECK_MSG(rc == CHORUS_OK, "rc %d: %s", rc, err);
    /* decode the file with libsndfile */
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    static unsigned char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    unlink(path);
    size_t frames;
    int rate, ch;
    float *x = snd_decode(buf, n, &frames, &rate, &ch);
    CHECK(x != NULL);
    double secs = (double)frames / rate;
    double want = strlen(text) / 15.0 / 1.25;
    CHECK_NEAR(secs, want, 0.08);
    CHECK(snd_rms(x, frames) > 0.05);
    free(x);
    /* the request */
    json_t *req = last_request();
    CHECK_STR(json_string_value(json_object_get(req, "path")), "/v1/audio/speech");
    CHECK_STR(json_string_value(json_object_get(req, "raw_path")), "/v1/audio/speech");
    json_t *h = json_object_get(req, "headers");
    CHECK_STR(json_string_value(json_object_get(h, "authorization")), "Bearer " KEY);
    CHECK_STR(json_string_value(json_object_get(h, "content-type")), "application/json");
    json_t *b = json_object_get(req, "json");
    CHECK_STR(json_string_value(json_object_get(b, "model")), "tts-1");
    CHECK_STR(json_string_value(json_object_get(b, "voice")), "nova");
    CHECK_STR(json_string_value(json_object_get(b, "input")), text);
    CHECK_STR(json_string_value(json_object_get(b, "response_format")), "wav");
    CHECK_NEAR(json_number_value(json_object_get(b, "speed")), 1.25, 1e-6);
    CHECK(json_object_get(b, "instructions") == NULL);
    json_decref(req);
}

TEST(long_input_is_chunked_under_4096_and_joined) {
    CHECK(start(NULL) == 0);
    /* ~9000 characters of sentences */
    static char text[9500];
    text[0] = '\0';
    const char *s = "This sentence is one of many that together exceed the API's input limit. ";
    while (strlen(text) + strlen(s) < 9000) strcat(text, s);
    struct run r;
    base_run(&r, text);
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *log = fake_log_json(&F);
    size_t n = json_array_size(log), total = 0;
    CHECK(n >= 3);
    for (size_t i = 0; i < n; i++) {
        const char *in = json_string_value(
            json_object_get(json_object_get(json_array_get(log, i), "json"), "input"));
        CHECK(in != NULL);
        CHECK_MSG(strlen(in) <= 4096, "request %zu has %zu characters", i, strlen(in));
        total += strlen(in);
    }
    json_decref(log);
    /* all the text was sent once (whitespace at joins may be trimmed) */
    CHECK(total <= strlen(text) && total + 2 * n >= strlen(text) - 1);
    /* and all of it was heard once: duration of the total characters, plus the core's sentence
     * pause (350 ms) at each join, as every request ends a sentence */
    CHECK_NEAR(run_seconds(&r), total / 15.0 + 0.35 * (double)(n - 1), 0.3 + 0.06 * (double)n);
    run_free(&r);
}

TEST(mid_stream_drop_is_resumed_without_duplicate_audio) {
    const char *text = "A connection that drops in the middle of the audio must not duplicate "
                       "or lose any of it.";
    const char *modes[] = {"stream", "buffer"};
    for (int m = 0; m < 2; m++) {
        CHECK(start("drop:40000") == 0);
        struct run r;
        base_run(&r, text);
        run_opt(&r, "retry_mode", modes[m]);
        run_request(&r);
        CHECK_MSG(r.rc == CHORUS_OK, "%s: rc %d: %s", modes[m], r.rc, r.err);
        CHECK_EQ_INT(fake_count(&F, "/v1/audio/speech"), 2);
        /* exactly the audio of one clean answer: 24 kHz, 1/15 s per character */
        CHECK_EQ_INT(r.rate, 24000);
        CHECK_EQ_INT(r.n_pcm, (size_t)(strlen(text) / 15.0 * 24000 + 0.5));
        run_free(&r);
    }
}

TEST(non_deterministic_server_stream_mode_refuses_to_splice) {
    const char *text = "A server that answers differently each time cannot be resumed exactly.";
    if (F.pid) fake_stop(&F);
    CHECK(fake_start(&F, "openai", "--key", KEY, "--plan", "drop:40000", "--vary", NULL) == 0);
    char base[128];
    snprintf(base, sizeof base, "%s/v1", F.base);
    setenv("OPENAI_BASE_URL", base, 1);
    struct run r;
    base_run(&r, text);
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_NETWORK);
    CHECK_MSG(strstr(r.err, "different audio") && strstr(r.err, "retry_mode=buffer"), "%s", r.err);
    run_free(&r);
    /* buffer mode: the failed attempt's audio never left, the retry's is used whole */
    if (F.pid) fake_stop(&F);
    CHECK(fake_start(&F, "openai", "--key", KEY, "--plan", "drop:40000", "--vary", NULL) == 0);
    snprintf(base, sizeof base, "%s/v1", F.base);
    setenv("OPENAI_BASE_URL", base, 1);
    base_run(&r, text);
    run_opt(&r, "retry_mode", "buffer");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_EQ_INT(r.n_pcm, (size_t)(strlen(text) / 15.0 * 24000 + 0.5));
    run_free(&r);
}

TEST(rate_limit_with_retry_after_then_success) {
    CHECK(start("429:1") == 0);
    struct run r;
    base_run(&r, "Patience is a virtue.");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_EQ_INT(fake_count(&F, "/v1/audio/speech"), 2);
    CHECK(r.n_pcm > 0);
    run_free(&r);
}

TEST(errors_map_to_statuses_with_actionable_messages) {
    struct {
        const char *plan;
        int status;
        const char *says;
        int requests;
    } cases[] = {
        {"quota", CHORUS_E_QUOTA, "quota exhausted", 1},
        {"400", CHORUS_E_BAD_REQUEST, "Invalid value for 'speed'", 1},
        {"404", CHORUS_E_NOT_FOUND, "check the model name and OPENAI_BASE_URL", 1},
        {"500,500,500,500", CHORUS_E_SERVER, "The server had an error", 2},
        {"html502,html502", CHORUS_E_SERVER, "502 Bad Gateway", 2},
        {"429long", CHORUS_E_RATE_LIMIT, "try again later", 1},
        /* openai-python's rules: 409 is retried; x-should-retry overrides the status */
        {"409,409", CHORUS_E_BUSY, "conflict", 2},
        {"500nr", CHORUS_E_SERVER, "The server had an error", 1},
        {"400retry,400retry", CHORUS_E_BAD_REQUEST, "Temporary validation", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(start(cases[i].plan) == 0);
        struct run r;
        base_run(&r, "This will fail.");
        run_opt(&r, "retries", "1");
        run_request(&r);
        CHECK_MSG(r.rc == cases[i].status, "%s: rc %d (%s)", cases[i].plan, r.rc, r.err);
        CHECK_MSG(strstr(r.err, cases[i].says) != NULL, "%s: %s", cases[i].plan, r.err);
        CHECK_MSG(strstr(r.err, "openai") != NULL, "%s: %s", cases[i].plan, r.err);
        CHECK_EQ_INT(fake_count(&F, "/v1/audio/speech"), cases[i].requests);
        run_free(&r);
    }
}

TEST(wrong_key_is_an_auth_error_that_never_shows_the_key) {
    if (F.pid) fake_stop(&F);
    CHECK(fake_start(&F, "openai", "--key", "sk-the-server-wants-this-one", NULL) == 0);
    char base[128];
    snprintf(base, sizeof base, "%s/v1", F.base);
    setenv("OPENAI_BASE_URL", base, 1);
    setenv("OPENAI_API_KEY", KEY, 1);
    struct run r;
    base_run(&r, "Let me in.");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_AUTH);
    CHECK(strstr(r.err, "OPENAI_API_KEY") != NULL);
    CHECK(strstr(r.err, "Incorrect API key provided") != NULL);
    CHECK_MSG(strstr(r.err, KEY) == NULL && strstr(r.err, "sk-CHORUS") == NULL &&
                  strstr(r.err, "e5f6g7h8") == NULL, "key in: %s", r.err);
    CHECK_EQ_INT(fake_count(&F, "/v1/audio/speech"), 1);
    run_free(&r);
}

TEST(missing_key_names_the_variable_and_config_key) {
    setenv("OPENAI_BASE_URL", "https://api.openai.com/v1", 1);
    unsetenv("OPENAI_API_KEY");
    struct run r;
    base_run(&r, "No key.");
    run_request(&r);
    CHECK(r.rc != CHORUS_OK);
    CHECK_MSG(strstr(r.err, "OPENAI_API_KEY") && strstr(r.err, "[openai]"), "%s", r.err);
    run_free(&r);
}

TEST(unreachable_server_names_the_url) {
    CHECK(start(NULL) == 0);
    fake_stop(&F); /* nothing listens there now */
    struct run r;
    base_run(&r, "Hello?");
    run_opt(&r, "retries", "1");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_NETWORK);
    char want[128];
    snprintf(want, sizeof want, "cannot connect to http://127.0.0.1:%d/v1/audio/speech", F.port);
    CHECK_MSG(strstr(r.err, want) != NULL, "%s", r.err);
    run_free(&r);
}

TEST(sse_with_instructions_and_custom_voice) {
    CHECK(start(NULL) == 0);
    const char *text = "Events stream base sixty-four audio deltas."; /* as normalized */
    struct run r;
    base_run(&r, text);
    r.model = "gpt-4o-mini-tts";
    r.voice = "voice_1234abcd";
    run_opt(&r, "stream_format", "sse");
    run_opt(&r, "instructions", "Speak like a lighthouse keeper.");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_EQ_INT(r.n_pcm, (size_t)(strlen(text) / 15.0 * 24000 + 0.5));
    CHECK(run_rms(&r) > 0.05);
    json_t *req = last_request();
    json_t *b = json_object_get(req, "json");
    CHECK_STR(json_string_value(json_object_get(b, "stream_format")), "sse");
    CHECK_STR(json_string_value(json_object_get(b, "instructions")),
              "Speak like a lighthouse keeper.");
    CHECK_STR(json_string_value(json_object_get(json_object_get(b, "voice"), "id")),
              "voice_1234abcd");
    json_decref(req);
    run_free(&r);
    /* tts-1 cannot do either: refused before any request, saying why */
    base_run(&r, text);
    run_opt(&r, "stream_format", "sse");
    setenv("OPENAI_BASE_URL", "https://api.openai.com/v1", 1);
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_OPTION);
    CHECK(strstr(r.err, "gpt-4o-mini-tts") != NULL);
    run_free(&r);
}

TEST(sse_stream_dropped_mid_event_is_resumed_exactly) {
    CHECK(start("drop:20011") == 0); /* cut inside a base64 delta */
    const char *text = "Server-sent events cut in the middle of an event resume exactly too.";
    struct run r;
    base_run(&r, text);
    r.model = "gpt-4o-mini-tts";
    run_opt(&r, "stream_format", "sse");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_EQ_INT(fake_count(&F, "/v1/audio/speech"), 2);
    CHECK_EQ_INT(r.n_pcm, (size_t)(strlen(text) / 15.0 * 24000 + 0.5));
    run_free(&r);
}

TEST(passthrough_mp3_is_requested_natively) {
    CHECK(start(NULL) == 0);
    const char *text = "Bytes pass straight through when nothing needs decoding.";
    struct run r;
    base_run(&r, text);
    r.format = CHORUS_FORMAT_MP3;
    r.flags = CHORUS_FLAG_NO_SAMPLES;
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *req = last_request();
    CHECK_STR(json_string_value(json_object_get(json_object_get(req, "json"), "response_format")),
              "mp3");
    json_decref(req);
    size_t frames;
    int rate, ch;
    float *x = snd_decode(r.bytes, r.n_bytes, &frames, &rate, &ch);
    CHECK_MSG(x != NULL, "mp3 not decodable (%zu bytes)", r.n_bytes);
    CHECK_NEAR((double)frames / rate, strlen(text) / 15.0, 0.15); /* encoder padding */
    free(x);
    run_free(&r);
}

TEST(unknown_voice_reports_the_servers_list) {
    CHECK(start(NULL) == 0);
    struct run r;
    base_run(&r, "Who speaks?");
    r.voice = "gandalf";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK_MSG(strstr(r.err, "gandalf") && strstr(r.err, "'alloy'") &&
                  strstr(r.err, "chorus voices -b openai"), "%s", r.err);
    run_free(&r);
}

TEST(speed_outside_range_is_refused) {
    CHECK(start(NULL) == 0);
    struct chorus_engine *e = remote_engine();
    struct chorus_request q = chorus_request_default();
    q.backend = "openai";
    q.text = "Too fast.";
    q.speed = 5.0f;
    q.format = CHORUS_FORMAT_WAV;
    q.flags = CHORUS_FLAG_NO_CACHE;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, &q, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    CHECK(rc != CHORUS_OK);
    CHECK_MSG(strstr(chorus_stream_errmsg(s), "speed") != NULL, "%s", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
    CHECK_EQ_INT(fake_count(&F, "/v1/audio/speech"), 0);
}

struct cancel_arg {
    struct chorus_stream *s;
};
static void *cancel_soon(void *ud) {
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    chorus_stream_cancel(((struct cancel_arg *)ud)->s);
    return NULL;
}

TEST(cancel_aborts_a_request_the_server_never_answers) {
    CHECK(start("hang") == 0);
    struct chorus_engine *e = remote_engine();
    struct chorus_request q = chorus_request_default();
    q.backend = "openai";
    q.text = "Nobody will answer this.";
    q.format = CHORUS_FORMAT_WAV;
    q.flags = CHORUS_FLAG_NO_CACHE;
    struct chorus_option o = {"timeout", "120"};
    q.options = &o;
    q.n_options = 1;
    struct chorus_stream *s = NULL;
    CHECK(chorus_stream_open(e, &q, &s) == CHORUS_OK);
    struct cancel_arg a = {s};
    pthread_t t;
    pthread_create(&t, NULL, cancel_soon, &a);
    int rc = chorus_stream_run(s);
    pthread_join(t, NULL);
    CHECK_EQ_INT(rc, CHORUS_E_CANCELLED);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0);
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
}


TEST(retries_follow_openai_python) {
    /* a 409 then success: retried like openai-python does */
    CHECK(start("409") == 0);
    struct run r;
    base_run(&r, "A conflict is worth another try.");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_EQ_INT(fake_count(&F, "/v1/audio/speech"), 2);
    run_free(&r);
}

TEST(sse_error_event_is_the_servers_error) {
    CHECK(start("sseerror") == 0);
    struct run r;
    base_run(&r, "The stream fails half way through with an error event.");
    r.model = "gpt-4o-mini-tts";
    run_opt(&r, "stream_format", "sse");
    run_opt(&r, "retries", "0");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_SERVER);
    CHECK_MSG(strstr(r.err, "error while generating audio") != NULL, "%s", r.err);
    run_free(&r);
}

TEST(token_cap_of_gpt_4o_mini_tts_is_a_too_long_error) {
    /* the estimate can be wrong: the server's own refusal (worded as the real one) still maps
     * to a too-long error that says what to do */
    CHECK(start("toolong") == 0);
    struct run r;
    base_run(&r, "A short text the server calls too long.");
    r.model = "gpt-4o-mini-tts";
    run_opt(&r, "retries", "0");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_TOO_LONG);
    CHECK_MSG(strstr(r.err, "2000 tokens") && strstr(r.err, "max_chunk_chars"), "%s", r.err);
    run_free(&r);
}

/* Speak `text` with `model` and check every request stayed under the fake's token cap (it
 * refuses more, as the real API does), the inputs put together give the text back, and the
 * audio is as long as the text; *requests gets the number of requests. */
static void speak_dense(const char *text, const char *model, size_t *requests) {
    *requests = 0;
    CHECK(start(NULL) == 0);
    struct run r;
    base_run(&r, text);
    r.model = model;
    r.flags = CHORUS_FLAG_NO_NORMALIZE;
    run_opt(&r, "retries", "0");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *log = fake_log_json(&F);
    size_t n = 0, chars = 0, nonspace = 0;
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *b = json_object_get(json_array_get(log, i), "json");
        const char *in = json_string_value(json_object_get(b, "input"));
        if (!in) continue;
        n++;
        for (const char *q = in; *q; q++) {
            chars += ((unsigned char)*q & 0xC0) != 0x80; /* the fake speaks characters */
            nonspace += *q != ' ';
        }
    }
    json_decref(log);
    size_t want = 0;
    for (const char *q = text; *q; q++) want += *q != ' ';
    CHECK_MSG(nonspace == want, "the requests carry %zu non-space bytes of %zu", nonspace, want);
    /* 1/15 s per character; the joins add at most a sentence pause each */
    double secs = run_seconds(&r), lo = chars / 15.0 - 0.1;
    CHECK_MSG(secs >= lo && secs <= lo + 0.1 + 0.4 * (double)n, "%.2f s for %zu characters in "
              "%zu requests", secs, chars, n);
    run_free(&r);
    *requests = n;
}

TEST(token_dense_text_is_spoken_in_pieces_under_the_token_cap) {
    /* the core's jobs grow to 4096 bytes; in single digits between spaces that is a token a
     * byte, twice gpt-4o-mini-tts's cap (main sent such a job whole and got the refusal) */
    static char digits[10001];
    for (size_t i = 0; i + 2 <= 10000; i += 2) memcpy(digits + i, i % 40 == 38 ? "9." : "7 ", 2);
    digits[10000] = '\0';
    size_t mini, plain;
    speak_dense(digits, "tts-1", &plain);
    speak_dense(digits, "gpt-4o-mini-tts", &mini);
    CHECK_MSG(mini >= plain + 2, "digits: %zu requests (tts-1: %zu)", mini, plain);
    /* CJK with digits and punctuation: "第1章、2,3;4 5。" */
    static char cjk[10100];
    cjk[0] = '\0';
    while (strlen(cjk) + 40 < 10000)
        strcat(cjk, "\xe7\xac\xac" "1" "\xe7\xab\xa0\xe3\x80\x81" "2,3;4 5\xe3\x80\x82");
    speak_dense(cjk, "tts-1", &plain);
    speak_dense(cjk, "gpt-4o-mini-tts", &mini);
    CHECK_MSG(mini > plain, "CJK: %zu requests (tts-1: %zu)", mini, plain);
    /* English prose is not split further */
    static char prose[8001];
    prose[0] = '\0';
    while (strlen(prose) + 46 < 8000) strcat(prose, "The quick brown fox jumps over the lazy dog. ");
    speak_dense(prose, "tts-1", &plain);
    speak_dense(prose, "gpt-4o-mini-tts", &mini);
    CHECK_EQ_INT(mini, plain);
}

TEST(instructions_refused_only_for_tts_1) {
    /* against the official API (no network needed: refused before sending) */
    setenv("OPENAI_BASE_URL", "https://api.openai.com/v1", 1);
    setenv("OPENAI_API_KEY", KEY, 1);
    struct run r;
    base_run(&r, "Speak softly.");
    r.model = "tts-1-hd";
    run_opt(&r, "instructions", "Whisper.");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_OPTION);
    CHECK_MSG(strstr(r.err, "tts-1-hd") != NULL, "%s", r.err);
    run_free(&r);
    /* a model that is not tts-1*: sent (the request then fails without a network, but not as
     * an option error) */
    base_run(&r, "Speak softly.");
    r.model = "gpt-realtime-tts";
    run_opt(&r, "instructions", "Whisper.");
    run_opt(&r, "retries", "0");
    run_opt(&r, "connect_timeout", "2");
    run_request(&r);
    CHECK_MSG(r.rc != CHORUS_E_OPTION, "refused: %s", r.err);
    run_free(&r);
}

/* distinct TCP connections the fake saw for speech requests, and how many requests */
static void conns_used(size_t *conns, size_t *reqs) {
    json_t *log = fake_log_json(&F);
    int seen[256] = {0};
    *conns = *reqs = 0;
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *q = json_array_get(log, i);
        if (strcmp(json_string_value(json_object_get(q, "path")), "/v1/audio/speech")) continue;
        (*reqs)++;
        json_int_t c = json_integer_value(json_object_get(q, "conn"));
        if (c > 0 && c < 256 && !seen[c]++) (*conns)++;
    }
    json_decref(log);
}

TEST(connections_are_reused_across_chunks_and_retries) {
    CHECK(start(NULL) == 0);
    static char text[6000];
    text[0] = '\0';
    const char *s = "Each chunk of a long text is one request on the same connection. ";
    while (strlen(text) + strlen(s) < 5800) strcat(text, s);
    struct run r;
    base_run(&r, text);
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    size_t conns, reqs;
    conns_used(&conns, &reqs);
    /* at most one connection per concurrent request (max_concurrent 4), not one per chunk */
    CHECK_MSG(reqs >= 6 && conns <= 4 && conns < reqs, "%zu requests on %zu connections", reqs,
              conns);
    run_free(&r);
    /* a retry after a 500 goes out on the connection the 500 came back on */
    CHECK(start("500") == 0);
    base_run(&r, "Once more, on the same connection.");
    run_opt(&r, "retry_mode", "buffer");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    conns_used(&conns, &reqs);
    CHECK_EQ_INT(reqs, 2);
    CHECK_EQ_INT(conns, 1);
    run_free(&r);
}

int main(void) {
    srandom((unsigned)getpid());
    logcap_start(KEY);
    RUN(speaks_and_sends_the_documented_request);
    RUN(long_input_is_chunked_under_4096_and_joined);
    RUN(mid_stream_drop_is_resumed_without_duplicate_audio);
    RUN(non_deterministic_server_stream_mode_refuses_to_splice);
    RUN(rate_limit_with_retry_after_then_success);
    RUN(errors_map_to_statuses_with_actionable_messages);
    RUN(wrong_key_is_an_auth_error_that_never_shows_the_key);
    RUN(missing_key_names_the_variable_and_config_key);
    RUN(unreachable_server_names_the_url);
    RUN(sse_with_instructions_and_custom_voice);
    RUN(retries_follow_openai_python);
    RUN(connections_are_reused_across_chunks_and_retries);
    RUN(sse_error_event_is_the_servers_error);
    RUN(token_cap_of_gpt_4o_mini_tts_is_a_too_long_error);
    RUN(token_dense_text_is_spoken_in_pieces_under_the_token_cap);
    RUN(instructions_refused_only_for_tts_1);
    RUN(sse_stream_dropped_mid_event_is_resumed_exactly);
    RUN(passthrough_mp3_is_requested_natively);
    RUN(unknown_voice_reports_the_servers_list);
    RUN(speed_outside_range_is_refused);
    RUN(cancel_aborts_a_request_the_server_never_answers);
    fake_stop(&F);
    /* nothing the library logged in all of the above held the key */
    if (logcap_leaks) {
        fprintf(stderr, "FAIL the key appeared in %d log lines\n", logcap_leaks);
        return 1;
    }
    return test_summary();
}
