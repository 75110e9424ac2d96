/* The elevenlabs backend end to end against the loopback fake: stream endpoint and its query,
 * voice by name through /v1/voices, voice settings, NDJSON word timings mapped to the caller's
 * text, per-model limits split with continuity, the detail envelope (quota_exceeded as 401),
 * mid-stream resume without duplicated audio or words. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "../fakes/remote_check.h"
#include "test.h"

#define KEY "el-CHORUS-TEST-KEY-0a9b8c7d6e5f4g3h"

static struct fake F;

static int start(const char *plan) {
    if (F.pid) fake_stop(&F);
    if (fake_start(&F, "elevenlabs", "--key", KEY, "--plan", plan ? plan : "", NULL) != 0)
        return -1;
    setenv("ELEVENLABS_BASE_URL", F.base, 1);
    setenv("ELEVENLABS_API_KEY", KEY, 1);
    return 0;
}

static void base_run(struct run *r, const char *text) {
    memset(r, 0, sizeof *r);
    r->backend = "elevenlabs";
    r->text = text;
}

/* the last TTS request in the fake's log */
static json_t *last_tts(void) {
    json_t *log = fake_log_json(&F), *found = NULL;
    for (size_t i = json_array_size(log); i-- > 0;) {
        json_t *e = json_array_get(log, i);
        if (strstr(json_string_value(json_object_get(e, "path")), "/v1/text-to-speech/")) {
            found = json_incref(e);
            break;
        }
    }
    json_decref(log);
    return found;
}

static size_t count_words(const char *t) {
    size_t n = 0;
    int in = 0;
    for (; *t; t++) {
        int w = !isspace((unsigned char)*t);
        if (w && !in) n++;
        in = w;
    }
    return n;
}

TEST(speaks_with_voice_name_settings_and_word_timings) {
    CHECK(start(NULL) == 0);
    const char *text = "Hello there, general Kenobi. You are a bold one.";
    struct run r;
    base_run(&r, text);
    r.voice = "Adam";
    r.model = "eleven_turbo_v2_5";
    run_opt(&r, "stability", "0.3");
    run_opt(&r, "similarity_boost", "0.9");
    run_opt(&r, "use_speaker_boost", "true");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_EQ_INT(r.rate, 24000);
    CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.01);
    CHECK(run_rms(&r) > 0.05);
    json_t *req = last_tts();
    CHECK(req != NULL);
    CHECK_STR(json_string_value(json_object_get(req, "path")),
              "/v1/text-to-speech/pNInz6obpgDQGcFmaJgB/stream/with-timestamps");
    CHECK_STR(json_string_value(json_object_get(json_object_get(req, "query"), "output_format")),
              "pcm_24000");
    json_t *h = json_object_get(req, "headers");
    CHECK_STR(json_string_value(json_object_get(h, "xi-api-key")), KEY);
    CHECK(strstr(json_string_value(json_object_get(req, "raw_path")), KEY) == NULL);
    json_t *b = json_object_get(req, "json");
    CHECK_STR(json_string_value(json_object_get(b, "text")), text);
    CHECK_STR(json_string_value(json_object_get(b, "model_id")), "eleven_turbo_v2_5");
    json_t *vs = json_object_get(b, "voice_settings");
    CHECK_NEAR(json_number_value(json_object_get(vs, "stability")), 0.3, 1e-9);
    CHECK_NEAR(json_number_value(json_object_get(vs, "similarity_boost")), 0.9, 1e-9);
    CHECK(json_is_true(json_object_get(vs, "use_speaker_boost")));
    CHECK(json_object_get(vs, "speed") == NULL);
    json_decref(req);
    /* one word event per word, pointing at the word in our text, monotonic, inside the audio */
    CHECK_EQ_INT(r.n_words, count_words(text));
    double prev = -1;
    for (size_t i = 0; i < r.n_words; i++) {
        const struct chorus_word *w = &r.words[i];
        CHECK(w->text_offset + w->text_len <= strlen(text));
        CHECK(isalpha((unsigned char)text[w->text_offset]));
        CHECK(w->start >= prev && w->end > w->start);
        CHECK(w->end <= run_seconds(&r) + 0.05);
        prev = w->start;
    }
    CHECK(strncmp(text + r.words[0].text_offset, "Hello", r.words[0].text_len) == 0);
    CHECK_EQ_INT(r.words[0].text_len, 5);
    CHECK(strncmp(text + r.words[1].text_offset, "there", 5) == 0 && r.words[1].text_len == 5);
    /* "there," starts at character 6: 6/15 s into the audio */
    CHECK_NEAR(r.words[1].start, 6 / 15.0, 0.01);
    run_free(&r);
}

TEST(unknown_voice_lists_some) {
    CHECK(start(NULL) == 0);
    struct run r;
    base_run(&r, "Who am I?");
    r.voice = "Nobody";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK_MSG(strstr(r.err, "George") && strstr(r.err, "Sarah"), "%s", r.err);
    run_free(&r);
    /* an id the server does not know: its voice_not_found maps to the same status */
    base_run(&r, "Who am I?");
    r.voice = "ZZZZZZZZZZZZZZZZZZZZ";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK(strstr(r.err, "voices -b elevenlabs") != NULL);
    run_free(&r);
}

TEST(quota_exceeded_as_401_is_a_quota_error) {
    CHECK(start("quota") == 0);
    struct run r;
    base_run(&r, "Out of credits.");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_QUOTA);
    CHECK(strstr(r.err, "quota_exceeded") != NULL);
    CHECK(strstr(r.err, "0 credits remaining") != NULL);
    CHECK(strstr(r.err, KEY) == NULL);
    run_free(&r);
    CHECK(start("401") == 0);
    base_run(&r, "Bad key.");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_AUTH);
    CHECK(strstr(r.err, "ELEVENLABS_API_KEY") != NULL);
    run_free(&r);
}

TEST(concurrency_429_is_retried) {
    CHECK(start("429:1") == 0);
    struct run r;
    base_run(&r, "Wait for a free slot.");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_EQ_INT(fake_count(&F, "/v1/text-to-speech/"), 2);
    run_free(&r);
}

TEST(drop_mid_stream_no_duplicate_audio_or_words) {
    const char *text = "Every word of this sentence must be reported exactly once even if the "
                       "connection drops half way through.";
    for (int ts = 0; ts <= 1; ts++) {
        CHECK(start("drop:30000") == 0);
        struct run r;
        base_run(&r, text);
        run_opt(&r, "timestamps", ts ? "true" : "false");
        run_request(&r);
        CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
        /* one request per chunk the core made, plus the one retry */
        json_t *log = fake_log_json(&F);
        size_t reqs = 0, distinct = 0;
        const char *texts[64];
        for (size_t i = 0; i < json_array_size(log); i++) {
            const char *t = json_string_value(
                json_object_get(json_object_get(json_array_get(log, i), "json"), "text"));
            if (!t) continue; /* GET /v1/voices */
            int seen = 0;
            for (size_t j = 0; j < distinct; j++) seen |= !strcmp(t, texts[j]);
            if (!seen && distinct < 64) texts[distinct++] = t;
            reqs++;
        }
        json_decref(log);
        CHECK_EQ_INT(reqs, distinct + 1);
        CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.1 * (double)distinct);
        CHECK_EQ_INT(r.n_words, ts ? count_words(text) : 0);
        run_free(&r);
    }
}

TEST(model_limit_splits_with_continuity) {
    CHECK(start(NULL) == 0);
    /* eleven_v3 takes 3000 characters; the core's chunks may be up to 5000 */
    static char text[4800];
    text[0] = '\0';
    const char *s = "Short sentences keep the splitter honest and the test quick. ";
    while (strlen(text) + strlen(s) < 4700) strcat(text, s);
    struct run r;
    base_run(&r, text);
    r.model = "eleven_v3";
    run_opt(&r, "timestamps", "false");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *log = fake_log_json(&F);
    size_t n = 0, total = 0;
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *b = json_object_get(json_array_get(log, i), "json");
        const char *t = json_string_value(json_object_get(b, "text"));
        if (!t) continue;
        n++;
        total += strlen(t);
        CHECK_MSG(strlen(t) <= 3000, "request of %zu characters", strlen(t));
    }
    json_decref(log);
    CHECK(n >= 2);
    /* each request ends a sentence: the joins add the core's sentence pause (350 ms) */
    CHECK_NEAR(run_seconds(&r), total / 15.0 + 0.35 * (double)(n - 1), 0.3);
    run_free(&r);
    /* the other models continue with the previous request's id and text */
    base_run(&r, text);
    r.model = "eleven_multilingual_v2";
    run_opt(&r, "timestamps", "false");
    static char longer[12500];
    longer[0] = '\0';
    while (strlen(longer) + strlen(s) < 12000) strcat(longer, s);
    r.text = longer;
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *req = last_tts();
    json_t *b = json_object_get(req, "json");
    size_t nids = json_array_size(json_object_get(b, "previous_request_ids"));
    CHECK_MSG(nids >= 1 && nids <= 3, "%zu previous_request_ids", nids);
    CHECK(json_string_length(json_object_get(b, "previous_text")) > 0);
    json_decref(req);
    run_free(&r);
}

/* 1 if `s` ends with `suffix` / starts with `prefix` (NULL never matches) */
static int ends_with(const char *s, const char *suffix) {
    if (!s || !suffix) return 0;
    size_t a = strlen(s), b = strlen(suffix);
    return b <= a && memcmp(s + a - b, suffix, b) == 0;
}
static int starts_with(const char *s, const char *prefix) {
    return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Request stitching across the core's chunks: every request after the first names the
 * request-id headers of up to three requests before it (oldest first, as the fake issued them)
 * and carries the text before it; every request but the last carries the start of the next
 * chunk's text in next_text. */
TEST(stitching_across_chunks_carries_ids_and_both_texts) {
    CHECK(start(NULL) == 0);
    char cfg[] = "/tmp/chorus-el-stitch-XXXXXX";
    int fd = mkstemp(cfg);
    CHECK(fd >= 0);
    const char *conf = "[elevenlabs]\nmax_chunk_chars = 160\n";
    CHECK(write(fd, conf, strlen(conf)) == (ssize_t)strlen(conf));
    close(fd);
    struct chorus_engine_options o = chorus_engine_options_default();
    o.config_path = cfg;
    struct chorus_engine *e = NULL;
    CHECK(chorus_engine_create(&e, &o) == CHORUS_OK);
    static char text[1200];
    text[0] = '\0';
    for (int i = 0; strlen(text) < 1000; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text),
                 "Sentence number %d walks along the river to the mill. ", i + 1);
    struct run r;
    base_run(&r, text);
    r.voice = "George";
    r.model = "eleven_multilingual_v2";
    run_opt(&r, "timestamps", "false");
    run_request_on(e, &r);
    chorus_engine_destroy(e);
    unlink(cfg);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *log = fake_log_json(&F);
    json_t *reqs = json_array();
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *en = json_array_get(log, i);
        if (json_object_get(json_object_get(en, "json"), "text")) json_array_append(reqs, en);
    }
    size_t n = json_array_size(reqs);
    CHECK_MSG(n >= 5, "%zu requests: the chunks were not split at 160 characters", n);
    for (size_t k = 0; k < n; k++) {
        json_t *b = json_object_get(json_array_get(reqs, k), "json");
        json_t *ids = json_object_get(b, "previous_request_ids");
        const char *pt = json_string_value(json_object_get(b, "previous_text"));
        const char *nt = json_string_value(json_object_get(b, "next_text"));
        size_t want = k < 3 ? k : 3;
        CHECK_MSG(json_array_size(ids) == want, "request %zu: %zu ids, want %zu", k,
                  json_array_size(ids), want);
        for (size_t j = 0; j < want && j < json_array_size(ids); j++) {
            json_t *earlier = json_array_get(reqs, k - want + j);
            CHECK_STR(json_string_value(json_array_get(ids, j)),
                      json_string_value(json_object_get(earlier, "answer_id")));
        }
        if (k == 0) {
            CHECK(pt == NULL);
        } else {
            const char *before = json_string_value(
                json_object_get(json_object_get(json_array_get(reqs, k - 1), "json"), "text"));
            CHECK_MSG(pt && strlen(pt) > 10 && ends_with(before, pt),
                      "request %zu: previous_text '%s' does not end '%s'", k, pt ? pt : "",
                      before);
        }
        if (k + 1 == n) {
            CHECK_MSG(nt == NULL, "the last request has next_text '%s'", nt);
        } else {
            const char *after = json_string_value(
                json_object_get(json_object_get(json_array_get(reqs, k + 1), "json"), "text"));
            CHECK_MSG(nt && strlen(nt) > 10 && starts_with(after, nt),
                      "request %zu: next_text '%s' does not start '%s'", k, nt ? nt : "", after);
        }
    }
    json_decref(reqs);
    json_decref(log);
    run_free(&r);
}

TEST(speed_and_bad_output_format_are_refused_clearly) {
    CHECK(start(NULL) == 0);
    struct run r;
    base_run(&r, "Too quick.");
    run_opt(&r, "output_format", "ulaw_8000");
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_OPTION);
    CHECK(strstr(r.err, "ulaw_8000") != NULL);
    run_free(&r);
    CHECK_EQ_INT(fake_count(&F, "/v1/text-to-speech/"), 0);
}


/* the id of the first /v1/text-to-speech/ request's voice, from its path */
static void first_tts_voice(char *out, size_t cap) {
    json_t *log = fake_log_json(&F);
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(log) && !out[0]; i++) {
        const char *p = json_string_value(json_object_get(json_array_get(log, i), "path"));
        if (p && !strncmp(p, "/v1/text-to-speech/", 19))
            snprintf(out, cap, "%.*s", (int)strcspn(p + 19, "/"), p + 19);
    }
    json_decref(log);
}

TEST(default_voice_is_the_accounts_first_not_a_retired_one) {
    CHECK(start(NULL) == 0);
    logcap_start(KEY);
    struct run r;
    base_run(&r, "No voice was configured.");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    char id[64];
    first_tts_voice(id, sizeof id);
    CHECK_STR(id, "JBFqnCBsd6RMkjVDRZzb"); /* George, the account's first voice */
    CHECK_MSG(strstr(logcap_text, "George") != NULL, "log: %s", logcap_text);
    CHECK_EQ_INT(logcap_leaks, 0);
    run_free(&r);
    /* Rachel, the old default, is retired: 404 voice_not_found is an unknown voice */
    base_run(&r, "Rachel?");
    r.voice = "21m00Tcm4TlvDq8ikWAM";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_UNKNOWN_VOICE);
    CHECK_MSG(strstr(r.err, "HTTP 404") && strstr(r.err, "voices -b elevenlabs"), "%s", r.err);
    run_free(&r);
    /* and no built-in premade list answers for an account: names come from /v1/voices */
    struct chorus_engine *e = remote_engine();
    struct chorus_voice *v;
    size_t n;
    CHECK(chorus_list_voices(e, "elevenlabs", &v, &n) == CHORUS_OK);
    int rachel = 0, george = 0, arnold = 0;
    for (size_t i = 0; i < n; i++) {
        rachel |= !strcmp(v[i].name, "Rachel");
        george |= !strcmp(v[i].name, "George");
        arnold |= !strcmp(v[i].name, "Arnold");
    }
    CHECK(!rachel && george && !arnold);
    chorus_voices_free(v, n);
    chorus_engine_destroy(e);
    /* legacy voices when asked for */
    setenv("ELEVENLABS_SHOW_LEGACY", "true", 1);
    e = remote_engine();
    CHECK(chorus_list_voices(e, "elevenlabs", &v, &n) == CHORUS_OK);
    arnold = 0;
    for (size_t i = 0; i < n; i++) arnold |= !strcmp(v[i].name, "Arnold");
    CHECK(arnold);
    chorus_voices_free(v, n);
    chorus_engine_destroy(e);
    unsetenv("ELEVENLABS_SHOW_LEGACY");
    chorus_set_log(NULL, NULL, CHORUS_LOG_WARN);
}

TEST(plan_and_permission_errors_say_what_to_do) {
    /* a library voice on a free plan: 402 paid_plan_required */
    CHECK(start(NULL) == 0);
    struct run r;
    base_run(&r, "A library voice.");
    r.voice = "nPczCjzI2devNBz1zQrb";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_QUOTA);
    CHECK_MSG(strstr(r.err, "paid plan") && strstr(r.err, "paid_plan_required") &&
                  strstr(r.err, "HTTP 402"), "%s", r.err);
    run_free(&r);
    /* a scoped key: 401 missing_permissions is not "the key was refused" */
    CHECK(start("perm") == 0);
    base_run(&r, "A scoped key.");
    r.voice = "George";
    run_request(&r);
    CHECK_EQ_INT(r.rc, CHORUS_E_AUTH);
    CHECK_MSG(strstr(r.err, "missing_permissions") && strstr(r.err, "permission") &&
                  !strstr(r.err, "refused"), "%s", r.err);
    CHECK(strstr(r.err, KEY) == NULL);
    run_free(&r);
}

TEST(wav_goes_to_the_convert_endpoint) {
    CHECK(start(NULL) == 0);
    const char *text = "Wav is made by the convert endpoint only.";
    struct run r;
    base_run(&r, text);
    r.voice = "Sarah";
    run_opt(&r, "output_format", "wav_22050");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.01);
    CHECK(run_rms(&r) > 0.05);
    json_t *req = last_tts();
    CHECK_STR(json_string_value(json_object_get(req, "path")),
              "/v1/text-to-speech/EXAVITQu4vr4xnSDxMaL");
    json_decref(req);
    run_free(&r);
}

TEST(limits_count_characters_and_continuity_uses_request_id) {
    CHECK(start(NULL) == 0);
    /* mostly two-byte UTF-8: the core's jobs grow to thousands of bytes; eleven_v3 takes
     * 3000 characters, so requests of more than 3000 bytes must be sent, none over 3000
     * characters */
    static char text[24000];
    text[0] = '\0';
    const char *s = "Éé éè êë àâ ôç, "; /* 16 characters, 26 bytes, one long sentence */
    while (strlen(text) + strlen(s) < 23000) strcat(text, s);
    struct run r;
    base_run(&r, text);
    r.voice = "George";
    r.model = "eleven_v3";
    run_opt(&r, "timestamps", "false");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    json_t *log = fake_log_json(&F);
    size_t max_bytes = 0, total = 0, jobs = 0;
    for (size_t i = 0; i < json_array_size(log); i++) {
        const char *t = json_string_value(
            json_object_get(json_object_get(json_array_get(log, i), "json"), "text"));
        if (!t) continue;
        size_t chars = 0;
        for (const char *p = t; *p; p++) chars += ((unsigned char)*p & 0xC0) != 0x80;
        CHECK_MSG(chars <= 3000, "a request of %zu characters", chars);
        if (strlen(t) > max_bytes) max_bytes = strlen(t);
        total += chars;
        jobs++;
    }
    json_decref(log);
    CHECK_MSG(max_bytes > 3000, "the longest request has %zu bytes: limits counted in bytes",
              max_bytes);
    /* the fake speaks 15 characters a second; a join adds at most a sentence pause (350 ms) */
    double secs = run_seconds(&r), lo = total / 15.0 - 1.0,
           hi = total / 15.0 + 0.35 * (double)(jobs ? jobs - 1 : 0) + 1.0;
    CHECK_MSG(secs >= lo && secs <= hi, "%.3f s of audio, want %.3f to %.3f", secs, lo, hi);
    run_free(&r);
    /* continuity: the next request names the previous one by its request-id header (not a
     * proxy's x-request-id that came after it) */
    static char longer[12500];
    longer[0] = '\0';
    const char *t = "Short sentences keep the splitter honest and the test quick. ";
    while (strlen(longer) + strlen(t) < 12000) strcat(longer, t);
    CHECK(start(NULL) == 0);
    base_run(&r, longer);
    r.voice = "George";
    r.model = "eleven_multilingual_v2";
    run_opt(&r, "timestamps", "false");
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    log = fake_log_json(&F);
    json_t *second = NULL;
    size_t seen = 0;
    for (size_t i = 0; i < json_array_size(log) && !second; i++) {
        json_t *b = json_object_get(json_array_get(log, i), "json");
        if (json_object_get(b, "text") && ++seen == 2) second = b;
    }
    CHECK(second != NULL);
    const char *rid = json_string_value(json_array_get(json_object_get(second, "previous_request_ids"), 0));
    CHECK_MSG(rid && !strncmp(rid, "el-req-", 7), "previous_request_ids[0] = %s", rid ? rid : "");
    json_decref(log);
    run_free(&r);
}

TEST(an_unreadable_ndjson_line_is_skipped_and_logged) {
    CHECK(start("badline") == 0);
    logcap_start(KEY);
    const char *text = "One line of the answer is cut short, the rest is fine.";
    struct run r;
    base_run(&r, text);
    r.voice = "George";
    run_request(&r);
    CHECK_MSG(r.rc == CHORUS_OK, "rc %d: %s", r.rc, r.err);
    CHECK_NEAR(run_seconds(&r), strlen(text) / 15.0, 0.01);
    CHECK_EQ_INT(r.n_words, count_words(text));
    CHECK_MSG(strstr(logcap_text, "skipped") != NULL, "log: %s", logcap_text);
    run_free(&r);
    chorus_set_log(NULL, NULL, CHORUS_LOG_WARN);
}

static struct chorus_engine *shared_engine;
static void *speak_thread(void *ud) {
    run_request_on(shared_engine, ud);
    return NULL;
}

TEST(per_backend_concurrency_limit_holds) {
    /* slow answers (40 ms between the first chunks) so requests overlap */
    if (F.pid) fake_stop(&F);
    CHECK(fake_start(&F, "elevenlabs", "--key", KEY, "--delay-ms", "40", NULL) == 0);
    setenv("ELEVENLABS_BASE_URL", F.base, 1);
    setenv("ELEVENLABS_API_KEY", KEY, 1);
    struct run r[5];
    pthread_t t[5];
    shared_engine = remote_engine();
    CHECK(shared_engine != NULL);
    for (int i = 0; i < 5; i++) {
        base_run(&r[i], "Five at once, but the backend lets two through at a time.");
        run_opt(&r[i], "timestamps", "false");
        pthread_create(&t[i], NULL, speak_thread, &r[i]);
    }
    for (int i = 0; i < 5; i++) pthread_join(t[i], NULL);
    chorus_engine_destroy(shared_engine);
    for (int i = 0; i < 5; i++) {
        CHECK_MSG(r[i].rc == CHORUS_OK, "rc %d: %s", r[i].rc, r[i].err);
        run_free(&r[i]);
    }
    /* the fake saw at most max_concurrent (2) speech requests at any moment */
    json_t *log = fake_log_json(&F);
    int maxin = 0, n = 0;
    for (size_t i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        if (!strstr(json_string_value(json_object_get(e, "path")), "/v1/text-to-speech/")) continue;
        n++; /* inflight counts every request, the voice list too: an upper bound */
        int in = (int)json_integer_value(json_object_get(e, "inflight"));
        if (in > maxin) maxin = in;
    }
    json_decref(log);
    CHECK(n >= 5);
    CHECK_MSG(maxin <= 2, "%d requests in flight at once", maxin);
    CHECK_MSG(maxin == 2, "requests never overlapped (max %d): the test proves nothing", maxin);
}

TEST(missing_key) {
    unsetenv("ELEVENLABS_API_KEY");
    struct run r;
    base_run(&r, "No key.");
    run_request(&r);
    CHECK(r.rc != CHORUS_OK);
    CHECK_MSG(strstr(r.err, "ELEVENLABS_API_KEY") && strstr(r.err, "[elevenlabs]"), "%s", r.err);
    run_free(&r);
}

int main(void) {
    srandom((unsigned)getpid());
    logcap_start(KEY);
    RUN(speaks_with_voice_name_settings_and_word_timings);
    RUN(unknown_voice_lists_some);
    RUN(quota_exceeded_as_401_is_a_quota_error);
    RUN(concurrency_429_is_retried);
    RUN(drop_mid_stream_no_duplicate_audio_or_words);
    RUN(model_limit_splits_with_continuity);
    RUN(speed_and_bad_output_format_are_refused_clearly);
    RUN(per_backend_concurrency_limit_holds);
    RUN(missing_key);
    RUN(default_voice_is_the_accounts_first_not_a_retired_one);
    RUN(plan_and_permission_errors_say_what_to_do);
    RUN(wav_goes_to_the_convert_endpoint);
    RUN(limits_count_characters_and_continuity_uses_request_id);
    RUN(stitching_across_chunks_carries_ids_and_both_texts);
    RUN(an_unreadable_ndjson_line_is_skipped_and_logged);
    fake_stop(&F);
    if (logcap_leaks) {
        fprintf(stderr, "FAIL the key appeared in %d log lines\n", logcap_leaks);
        return 1;
    }
    return test_summary();
}
