/* test_server_request.c — the speech request parser and name mapping of `chorus serve`.
 * The server's sources are not part of the library, so the pure file is compiled in here. */
#include "server/request.c"
#include "server/tags.c"

#include "test.h"

static int parse(const char *body, size_t max, struct srv_speech *r, struct srv_error *e) {
    return srv_speech_parse(body, strlen(body), max, r, e);
}

TEST(full_openai_request) {
    struct srv_speech r;
    struct srv_error e;
    const char *b = "{\"model\":\"gpt-4o-mini-tts\",\"input\":\"Hello\",\"voice\":\"coral\","
                    "\"response_format\":\"pcm\",\"speed\":1.5,\"instructions\":\"cheerful\","
                    "\"stream_format\":\"sse\"}";
    CHECK_EQ_INT(parse(b, 0, &r, &e), 0);
    CHECK_STR(r.model, "gpt-4o-mini-tts");
    CHECK_STR(r.input, "Hello");
    CHECK_EQ_INT(r.input_len, 5);
    CHECK_STR(r.voice, "coral");
    CHECK_EQ_INT(r.format, CHORUS_FORMAT_PCM);
    CHECK(r.format_given);
    CHECK(fabs(r.speed - 1.5) < 1e-9);
    CHECK_STR(r.instructions, "cheerful");
    CHECK_EQ_INT(r.stream_format, SRV_STREAM_SSE);
    CHECK_EQ_INT(r.stream, 1);
    srv_speech_release(&r);
}

TEST(defaults_when_absent) {
    struct srv_speech r;
    struct srv_error e;
    CHECK_EQ_INT(parse("{\"input\":\"x\"}", 0, &r, &e), 0);
    CHECK(r.model == NULL && r.voice == NULL && r.language == NULL);
    CHECK_EQ_INT(r.format, CHORUS_FORMAT_DEFAULT);
    CHECK(!r.format_given);
    CHECK(r.speed == 0);
    CHECK_EQ_INT(r.stream_format, SRV_STREAM_AUDIO);
    CHECK_EQ_INT(r.return_timestamps, 1);
    CHECK_EQ_INT(r.n_options, 0);
    srv_speech_release(&r);
}

TEST(kokoro_extras) {
    struct srv_speech r;
    struct srv_error e;
    const char *b = "{\"input\":\"x\",\"voice\":\"af_bella(2)+af_sky(1)\",\"stream\":false,"
                    "\"lang_code\":\"b\",\"volume_multiplier\":0.5,"
                    "\"normalization_options\":{\"normalize\":true,\"url_normalization\":false,"
                    "\"unit_normalization\":true},\"return_timestamps\":false,"
                    "\"return_download_link\":false,\"unknown_extra\":[1,2]}";
    CHECK_EQ_INT(parse(b, 0, &r, &e), 0);
    CHECK_STR(r.voice, "af_bella(2)+af_sky(1)"); /* mixes pass through untouched */
    CHECK_EQ_INT(r.stream, 0);
    CHECK_STR(r.language, "en-gb");
    CHECK(fabs(r.volume - 0.5) < 1e-9);
    CHECK_EQ_INT(r.no_normalize, 0);
    CHECK_STR(r.normalize_opts, "url_normalization=false,unit_normalization=true");
    CHECK_EQ_INT(r.return_timestamps, 0);
    srv_speech_release(&r);
    CHECK_EQ_INT(parse("{\"input\":\"x\",\"normalization_options\":{\"normalize\":false}}", 0, &r, &e), 0);
    CHECK_EQ_INT(r.no_normalize, 1);
    CHECK_STR(r.normalize_opts, "");
    srv_speech_release(&r);
}

TEST(voice_object_and_options) {
    struct srv_speech r;
    struct srv_error e;
    CHECK_EQ_INT(parse("{\"input\":\"x\",\"voice\":{\"id\":\"voice_1234\"},"
                       "\"options\":{\"pitch\":60,\"rate\":1.25,\"whisper\":true,\"variant\":\"f3\"}}",
                       0, &r, &e), 0);
    CHECK_STR(r.voice, "voice_1234");
    CHECK_EQ_INT(r.n_options, 4);
    for (size_t i = 0; i < r.n_options; i++) {
        const char *k = r.options[i].key, *v = r.options[i].value;
        if (!strcmp(k, "pitch")) CHECK_STR(v, "60");
        else if (!strcmp(k, "rate")) CHECK_STR(v, "1.25");
        else if (!strcmp(k, "whisper")) CHECK_STR(v, "true");
        else if (!strcmp(k, "variant")) CHECK_STR(v, "f3");
        else FAILF("unexpected option %s", k);
    }
    srv_speech_release(&r);
}

/* Each bad body gives a 400 naming the field, in lowercase. */
TEST(bad_requests) {
    static const struct { const char *body, *code, *param; } cases[] = {
        {"", "invalid_json", NULL},
        {"{\"input\": ", "invalid_json", NULL},
        {"[1]", "invalid_json", NULL},
        {"{\"input\":\"a\",\"input\":\"b\"}", "invalid_json", NULL},
        {"{\"input\":\"a\\u0000b\"}", "invalid_json", NULL},
        {"{}", "missing_required_parameter", "input"},
        {"{\"input\":null}", "missing_required_parameter", "input"},
        {"{\"input\":3}", "invalid_type", "input"},
        {"{\"input\":\"\"}", "invalid_value", "input"},
        {"{\"input\":\"x\",\"model\":7}", "invalid_type", "model"},
        {"{\"input\":\"x\",\"voice\":7}", "invalid_type", "voice"},
        {"{\"input\":\"x\",\"voice\":{\"name\":\"a\"}}", "invalid_type", "voice"},
        {"{\"input\":\"x\",\"voice\":\"\"}", "invalid_value", "voice"},
        {"{\"input\":\"x\",\"voice\":\"../../etc/passwd\"}", "invalid_value", "voice"},
        {"{\"input\":\"x\",\"voice\":\"a\\\\b\"}", "invalid_value", "voice"},
        {"{\"input\":\"x\",\"voice\":\"a\\nb\"}", "invalid_value", "voice"},
        {"{\"input\":\"x\",\"response_format\":\"wma\"}", "invalid_value", "response_format"},
        {"{\"input\":\"x\",\"speed\":0.1}", "invalid_value", "speed"},
        {"{\"input\":\"x\",\"speed\":\"fast\"}", "invalid_type", "speed"},
        {"{\"input\":\"x\",\"stream_format\":\"ws\"}", "invalid_value", "stream_format"},
        {"{\"input\":\"x\",\"stream\":\"maybe\"}", "invalid_type", "stream"},
        {"{\"input\":\"x\",\"stream\":2}", "invalid_type", "stream"},
        {"{\"input\":\"x\",\"speed\":\"0x10\"}", "invalid_type", "speed"},
        {"{\"input\":\"x\",\"speed\":\"nan\"}", "invalid_type", "speed"},
        {"{\"input\":\"x\",\"speed\":\"1.0 fast\"}", "invalid_type", "speed"},
        {"{\"input\":\"x\",\"speed\":\"9\"}", "invalid_value", "speed"},
        {"{\"input\":\"x\",\"speed\":[1]}", "invalid_type", "speed"},
        {"{\"input\":\"x\",\"allow_voice_tags\":\"sure\"}", "invalid_type", "allow_voice_tags"},
        {"{\"input\":\"x\",\"ssml\":{}}", "invalid_type", "ssml"},
        {"{\"input\":\"x\",\"download_format\":\"wma\"}", "invalid_value", "download_format"},
        {"{\"input\":\"x\",\"volume_multiplier\":0}", "invalid_value", "volume_multiplier"},
        {"{\"input\":\"x\",\"volume_multiplier\":11}", "invalid_value", "volume_multiplier"},
        {"{\"input\":\"x\",\"normalization_options\":true}", "invalid_type", "normalization_options"},
        {"{\"input\":\"x\",\"normalization_options\":{\"a b\":true}}", "invalid_value", "normalization_options"},
        {"{\"input\":\"x\",\"options\":{\"k\":[1]}}", "invalid_type", "options"},
        {"{\"input\":\"x\",\"options\":{\"\":1}}", "invalid_value", "options"},
        {"{\"input\":\"x\",\"sample_rate\":22050.5}", "invalid_value", "sample_rate"},
        {"{\"input\":\"x\",\"sample_rate\":10}", "invalid_value", "sample_rate"},
        {"{\"input\":\"x\",\"lang_code\":\"0123456789012345678901234567890123\"}", "invalid_value", "lang_code"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct srv_speech r;
        struct srv_error e;
        int rc = parse(cases[i].body, 0, &r, &e);
        CHECK_MSG(rc == -1, "accepted: %s", cases[i].body);
        CHECK_MSG(e.status == 400, "%s: status %d", cases[i].body, e.status);
        CHECK_MSG(e.code && !strcmp(e.code, cases[i].code), "%s: code %s", cases[i].body, e.code);
        CHECK_MSG((!e.param && !cases[i].param) || (e.param && cases[i].param && !strcmp(e.param, cases[i].param)),
                  "%s: param %s", cases[i].body, e.param ? e.param : "(null)");
        CHECK_MSG(e.message[0] && !(e.message[0] >= 'A' && e.message[0] <= 'Z'), "%s: message '%s'",
                  cases[i].body, e.message);
        CHECK(r.json == NULL); /* released on failure */
    }
}

TEST(input_limit_counts_characters) {
    struct srv_speech r;
    struct srv_error e;
    const char *b = "{\"input\":\"h\xc3\xa9llo\"}"; /* 5 characters, 6 bytes */
    CHECK_EQ_INT(parse(b, 5, &r, &e), 0);
    CHECK_EQ_INT(r.input_chars, 5);
    CHECK_EQ_INT(r.input_len, 6);
    srv_speech_release(&r);
    CHECK_EQ_INT(parse(b, 4, &r, &e), -1);
    CHECK_STR(e.code, "string_above_max_length");
    CHECK_STR(e.param, "input");
    CHECK(strstr(e.message, "5 characters") && strstr(e.message, "at most 4"));
}

TEST(model_split) {
    char b[32], m[32];
    CHECK_EQ_INT(srv_model_split("espeak", b, sizeof b, m, sizeof m), 0);
    CHECK_STR(b, "espeak");
    CHECK_STR(m, "");
    CHECK_EQ_INT(srv_model_split("openai/tts-1-hd", b, sizeof b, m, sizeof m), 0);
    CHECK_STR(b, "openai");
    CHECK_STR(m, "tts-1-hd");
    CHECK_EQ_INT(srv_model_split("elevenlabs/eleven_flash_v2_5", b, sizeof b, m, sizeof m), 0);
    CHECK_STR(m, "eleven_flash_v2_5");
    const char *openai[] = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15", "", NULL};
    for (size_t i = 0; i < 6; i++) {
        CHECK_EQ_INT(srv_model_split(openai[i], b, sizeof b, m, sizeof m), 0);
        CHECK_MSG(b[0] == 0, "'%s' should go to the default backend", openai[i] ? openai[i] : "NULL");
    }
    CHECK_EQ_INT(srv_model_split("openai/", b, sizeof b, m, sizeof m), -1);
    CHECK_EQ_INT(srv_model_split("kokoro/../../etc/passwd", b, sizeof b, m, sizeof m), -1);
    CHECK_EQ_INT(srv_model_split("kokoro//etc/passwd", b, sizeof b, m, sizeof m), -1);
    CHECK_EQ_INT(srv_model_split("..", b, sizeof b, m, sizeof m), -1);
    CHECK_EQ_INT(srv_model_split("openai/hexgrad/Kokoro-82M", b, sizeof b, m, sizeof m), 0);
    CHECK_STR(m, "hexgrad/Kokoro-82M");
    CHECK_EQ_INT(srv_model_split("/tts-1", b, sizeof b, m, sizeof m), -1);
    CHECK_EQ_INT(srv_model_split("a-backend-name-that-is-far-too-long-for-the-buffer", b, sizeof b, m, sizeof m), -1);
}

TEST(voice_tables) {
    /* the server maps OpenAI's names through the library's one table per engine (its
     * descriptor), the same one requests to the library and the CLI go through */
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *eng = NULL;
    CHECK_EQ_INT(chorus_engine_create(&eng, &o), CHORUS_OK);
    for (size_t i = 0; srv_openai_voices[i]; i++) {
        CHECK(srv_voice_is_openai(srv_openai_voices[i]));
        CHECK_MSG(chorus_voice_alias(eng, "espeak", srv_openai_voices[i]) != NULL,
                  "espeak lacks %s", srv_openai_voices[i]);
    }
    CHECK_STR(chorus_voice_alias(eng, "espeak", "ALLOY"), "en-us");
    CHECK(chorus_voice_alias(eng, "espeak", "en-us") == NULL); /* a voice, not an alias */
    CHECK(chorus_voice_alias(eng, "openai", "alloy") == NULL); /* the real thing knows its voices */
    CHECK(chorus_voice_alias(eng, "no-such-backend", "alloy") == NULL);
    chorus_engine_destroy(eng);
    CHECK(!srv_voice_is_openai("en-us"));
    CHECK_STR(srv_lang_from_code("a"), "en-us");
    CHECK_STR(srv_lang_from_code("z"), "zh");
    CHECK_STR(srv_lang_from_code("de"), "de");
}

TEST(base64_vectors) { /* RFC 4648 section 10 */
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        size_t n;
        char *b = srv_base64((const unsigned char *)in[i], strlen(in[i]), &n);
        CHECK(b);
        CHECK_STR(b, out[i]);
        CHECK_EQ_INT(n, strlen(out[i]));
        free(b);
    }
}

TEST(loopback) {
    const char *yes[] = {"127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"};
    const char *no[] = {"0.0.0.0", "::", "192.168.1.2", "10.0.0.1", "example.com", "", "128.0.0.1"};
    for (size_t i = 0; i < 5; i++) CHECK_MSG(srv_host_is_loopback(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < 7; i++) CHECK_MSG(!srv_host_is_loopback(no[i]), "%s", no[i]);
    CHECK(!srv_host_is_loopback(NULL));
}

/* Pydantic's lax mode, as Kokoro-FastAPI's pydantic models apply it to what SillyTavern's text
 * boxes send (pydantic docs, "Conversion Table": str → float, str/int → bool). */
TEST(lax_coercion) {
    struct srv_speech r;
    struct srv_error e;
    const char *b = "{\"input\":\"x\",\"speed\":\" 1.5 \",\"stream\":\"false\",\"volume_multiplier\":\"2\","
                    "\"sample_rate\":\"22050\",\"return_timestamps\":0,\"allow_voice_tags\":\"on\","
                    "\"ssml\":\"No\",\"return_download_link\":\"TRUE\","
                    "\"normalization_options\":{\"normalize\":\"f\",\"url_normalization\":1}}";
    CHECK_EQ_INT(parse(b, 0, &r, &e), 0);
    CHECK(fabs(r.speed - 1.5) < 1e-9);
    CHECK_EQ_INT(r.stream, 0);
    CHECK(fabs(r.volume - 2.0) < 1e-9);
    CHECK_EQ_INT(r.sample_rate, 22050);
    CHECK_EQ_INT(r.return_timestamps, 0);
    CHECK_EQ_INT(r.voice_tags, 1);
    CHECK_EQ_INT(r.ssml, 0);
    CHECK_EQ_INT(r.download_link, 1);
    CHECK_EQ_INT(r.no_normalize, 1);
    CHECK_STR(r.normalize_opts, "url_normalization=true");
    srv_speech_release(&r);
    CHECK_EQ_INT(parse("{\"input\":\"x\",\"speed\":\"1e0\",\"stream\":\"y\"}", 0, &r, &e), 0);
    CHECK(fabs(r.speed - 1.0) < 1e-9);
    CHECK_EQ_INT(r.stream, 1);
    srv_speech_release(&r);
}

TEST(ssml_detection) {
    struct srv_speech r;
    struct srv_error e;
    CHECK_EQ_INT(parse("{\"input\":\"  \\n<speak>Hi</speak>\"}", 0, &r, &e), 0);
    CHECK_EQ_INT(r.ssml, 1);
    srv_speech_release(&r);
    CHECK_EQ_INT(parse("{\"input\":\"I <speak> softly\"}", 0, &r, &e), 0);
    CHECK_EQ_INT(r.ssml, 0);
    srv_speech_release(&r);
    CHECK(srv_input_is_ssml("\xEF\xBB\xBF<?xml version=\"1.0\"?><speak/>", 31));
    CHECK(!srv_input_is_ssml("<spea", 5));
}

static const char *upper_voice(void *ud, const char *name) {
    (void)ud;
    return !strcmp(name, "alloy") ? "am_adam" : NULL;
}

static char *tags(const char *in, int *n) {
    char *out = NULL;
    size_t len = 0;
    if (srv_tags_to_ssml(in, strlen(in), upper_voice, NULL, &out, &len, n) < 0 || !out ||
        strlen(out) != len) {
        fprintf(stderr, "srv_tags_to_ssml failed on %s\n", in);
        abort();
    }
    return out;
}

/* Kokoro-FastAPI's inline tags (text_processor.py PAUSE_TAG_PATTERN, VOICE_TAG_PATTERN). */
TEST(voice_tags) {
    int n;
    char *s = tags("Hi [voice:af_sky] there [pause:1.5s] you", &n);
    CHECK_STR(s, "<speak>Hi <voice name=\"af_sky\"> there <break time=\"1500ms\"/> you</voice></speak>");
    CHECK_EQ_INT(n, 2);
    free(s);
    s = tags("[VOICE: af_bella(2)+af_sky(1) ]a[voice:alloy]b[voice:]c", &n);
    CHECK_STR(s, "<speak><voice name=\"af_bella(2)+af_sky(1)\">a</voice><voice name=\"am_adam\">b</voice>c</speak>");
    CHECK_EQ_INT(n, 3);
    free(s);
    /* not tags: text, escaped */
    s = tags("a<b & [pause:x] [pause:1s [voice:<x>] [pause:.5s] [x]", &n);
    CHECK_STR(s, "<speak>a&lt;b &amp; [pause:x] [pause:1s [voice:&lt;x&gt;] [pause:.5s] [x]</speak>");
    CHECK_EQ_INT(n, 0);
    free(s);
    s = tags("wait [pause:999999s] [Pause:2S]", &n);
    CHECK_STR(s, "<speak>wait <break time=\"60000ms\"/> <break time=\"2000ms\"/></speak>");
    free(s);
    /* a name past the limit is text */
    char big[300] = "[voice:";
    memset(big + 7, 'a', 200);
    strcpy(big + 207, "]");
    s = tags(big, &n);
    CHECK_EQ_INT(n, 0);
    free(s);
}

TEST(path_normalize) {
    static const char *const cases[][2] = {
        {"/v1/audio/speech", "/v1/audio/speech"},     {"/v1//audio/speech", "/v1/audio/speech"},
        {"/v1/audio/speech/", "/v1/audio/speech"},    {"//v1///audio//voices//", "/v1/audio/voices"},
        {"/audio/speech", "/v1/audio/speech"},        {"/audio/voices", "/v1/audio/voices"},
        {"/audio/models", "/v1/audio/models"},        {"/models", "/v1/models"},
        {"/models/tts-1", "/v1/models/tts-1"},        {"/v1/v1/audio/speech", "/v1/audio/speech"},
        {"/download/speech-1.mp3", "/v1/download/speech-1.mp3"},
        {"/health", "/health"},                       {"/health/", "/health"},
        {"/", "/"},                                   {"/dev/phonemize/", "/dev/phonemize"},
        {"/metrics", "/metrics"},                     {"/v1/audio/speech?x=1", "/v1/audio/speech"},
        {"/other", "/other"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        CHECK_EQ_INT(srv_path_normalize(cases[i][0], out, sizeof out), 0);
        CHECK_MSG(!strcmp(out, cases[i][1]), "%s -> %s", cases[i][0], out);
    }
    char small[8];
    CHECK_EQ_INT(srv_path_normalize("/v1/audio/speech", small, sizeof small), -1);
    CHECK_EQ_INT(srv_path_normalize("v1/audio", small, sizeof small), -1);
}

/* issue 13: a decoded %0a forged access-log lines, %1b sent terminal escapes */
TEST(log_escape) {
    char out[64];
    srv_log_escape("/x\nFORGED \x1b[31m\"\\\xc2\x9b", out, sizeof out);
    CHECK_STR(out, "/x\\x0aFORGED \\x1b[31m\\x22\\x5c\\xc2\\x9b");
    srv_log_escape("\n\n\n\n", out, 10); /* never a partial escape */
    CHECK_STR(out, "\\x0a\\x0a");
    srv_log_escape(NULL, out, sizeof out);
    CHECK_STR(out, "");
}

int main(void) {
    RUN(log_escape);
    RUN(full_openai_request);
    RUN(defaults_when_absent);
    RUN(kokoro_extras);
    RUN(voice_object_and_options);
    RUN(bad_requests);
    RUN(input_limit_counts_characters);
    RUN(model_split);
    RUN(voice_tables);
    RUN(base64_vectors);
    RUN(loopback);
    RUN(lax_coercion);
    RUN(ssml_detection);
    RUN(voice_tags);
    RUN(path_normalize);
    return test_summary();
}
