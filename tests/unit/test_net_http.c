/* The HTTP layer against the loopback fake OpenAI server (tests/fakes/fake_tts.py): streaming,
 * retries with Retry-After (seconds, HTTP-date, ms), give-up rules, dropped connections with
 * exact replay, timeouts, cancellation, unreachable servers, and that the key never shows. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../fakes/fake_spawn.h"
#include "chorus/chorus.h"
#include "net/net.h"
#include "test.h"

#define KEY "sk-test-CHORUSFAKEKEY-0123456789abcdef"

struct body {
    unsigned char *p;
    size_t n, cap;
    int responses;
    struct chorus_once once;
    int use_once;
    char msg[256];
    atomic_int cancel;
};

static int collect(void *ud, const unsigned char *p, size_t n) {
    struct body *b = ud;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) return CHORUS_E_NOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}
static int on_body(void *ud, const void *p, size_t n) {
    struct body *b = ud;
    if (b->use_once) return chorus_once_write(&b->once, p, n, b->msg, sizeof b->msg);
    return collect(b, p, n);
}
static int on_response(void *ud, const struct chorus_http_result *r) {
    struct body *b = ud;
    b->responses++;
    if (b->use_once) chorus_once_rewind(&b->once);
    return 0;
}
static int is_cancelled(void *ud) { return atomic_load(&((struct body *)ud)->cancel); }

static const char *hdrs[] = {"Authorization: Bearer " KEY, "Content-Type: application/json",
                             NULL};

static int speak(struct fake *f, const char *input, struct body *b,
                 const struct chorus_http_policy *pol, struct chorus_http_result *r) {
    char url[128], body[512];
    snprintf(url, sizeof url, "%s/v1/audio/speech", f->base);
    snprintf(body, sizeof body,
             "{\"model\":\"tts-1\",\"input\":\"%s\",\"voice\":\"alloy\",\"response_format\":\"pcm\"}",
             input);
    struct chorus_http_req req = {0};
    req.url = url;
    req.headers = hdrs;
    req.body = body;
    req.body_len = strlen(body);
    req.secret = KEY;
    req.what = "openai";
    req.policy = *pol;
    req.on_response = on_response;
    req.on_body = on_body;
    req.is_cancelled = is_cancelled;
    req.ud = b;
    return chorus_http_perform(&req, r);
}

/* 1/15 s of 24 kHz s16 per character: what the fake sends for pcm */
static size_t expect_bytes(const char *s) {
    double n = (double)strlen(s) / 15.0 * 24000.0;
    return 2 * (size_t)(n + 0.5);
}

static struct chorus_http_policy fast(void) {
    struct chorus_http_policy p = {0};
    p.backoff_initial_ms = 20;
    p.backoff_max_ms = 100;
    p.max_retries = 3;
    p.idle_timeout_ms = 5000;
    return p;
}

TEST(streams_body) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", KEY, NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    const char *text = "Hello there, this is a streaming test.";
    int rc = speak(&f, text, &b, &p, &r);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, r.msg);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(b.n, expect_bytes(text));
    CHECK(strstr(r.content_type, "audio/pcm") != NULL);
    CHECK(strncmp(r.request_id, "req_", 4) == 0);
    /* the request as the server saw it: key in the header, never in the URL */
    char *log = fake_requests(&f);
    CHECK(strstr(log, "\"authorization\": \"Bearer " KEY "\"") != NULL);
    CHECK(strstr(log, "\"raw_path\": \"/v1/audio/speech\"") != NULL);
    free(log);
    chorus_http_result_release(&r);
    free(b.p);
    fake_stop(&f);
}

TEST(retry_after_seconds_date_and_ms) {
    const char *plans[] = {"429:1", "429date:1", "429ms:300", "500,503"};
    for (int i = 0; i < 4; i++) {
        struct fake f;
        CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", plans[i], NULL) == 0);
        struct body b = {0};
        struct chorus_http_result r;
        struct chorus_http_policy p = fast();
        int rc = speak(&f, "Retry me.", &b, &p, &r);
        CHECK_MSG(rc == 0, "%s: rc %d: %s", plans[i], rc, r.msg);
        CHECK_EQ_INT(r.attempts, i == 3 ? 3 : 2);
        CHECK_EQ_INT(fake_count(&f, "/v1/audio/speech"), r.attempts);
        /* the wait honoured the server (not measured: the layer's own account of it) */
        if (i == 0) CHECK_EQ_INT(r.total_wait_ms, 1000);
        if (i == 1) CHECK(r.total_wait_ms >= 0 && r.total_wait_ms <= 2000);
        if (i == 2) CHECK_EQ_INT(r.total_wait_ms, 300);
        if (i == 3) CHECK(r.total_wait_ms > 0 && r.total_wait_ms <= 200);
        CHECK_EQ_INT(b.n, expect_bytes("Retry me."));
        chorus_http_result_release(&r);
        free(b.p);
        fake_stop(&f);
    }
}

TEST(gives_up_with_clear_message) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "500,500,500,500,500", NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    p.max_retries = 2;
    int rc = speak(&f, "Always failing.", &b, &p, &r);
    CHECK_EQ_INT(rc, CHORUS_E_SERVER);
    CHECK_EQ_INT(r.attempts, 3);
    CHECK(strstr(r.msg, "HTTP 500") != NULL);
    CHECK(strstr(r.msg, "The server had an error") != NULL);
    CHECK(strstr(r.msg, "gave up after 3 attempts") != NULL);
    CHECK_EQ_INT(b.n, 0);
    chorus_http_result_release(&r);
    fake_stop(&f);
    /* a Retry-After beyond the cap is not waited for */
    CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "429long", NULL) == 0);
    p = fast();
    rc = speak(&f, "Later.", &b, &p, &r);
    CHECK_EQ_INT(rc, CHORUS_E_RATE_LIMIT);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK(strstr(r.msg, "3600 s") != NULL);
    chorus_http_result_release(&r);
    fake_stop(&f);
}

TEST(drop_before_body_is_retried) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "drop:0", NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    int rc = speak(&f, "Dropped before audio.", &b, &p, &r);
    CHECK_MSG(rc == 0, "rc %d: %s", rc, r.msg);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(b.n, expect_bytes("Dropped before audio."));
    chorus_http_result_release(&r);
    free(b.p);
    fake_stop(&f);
}

TEST(drop_mid_stream_without_replay_fails) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "drop:10000", NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    int rc = speak(&f, "This answer will be cut in the middle of the audio.", &b, &p, &r);
    CHECK_EQ_INT(rc, CHORUS_E_NETWORK);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK(strstr(r.msg, "dropped after") != NULL);
    CHECK(b.n > 0 && b.n < expect_bytes("This answer will be cut in the middle of the audio."));
    chorus_http_result_release(&r);
    free(b.p);
    fake_stop(&f);
}

TEST(drop_mid_stream_replay_is_exact) {
    const char *text = "This answer will be cut in the middle of the audio, then resumed.";
    for (int hold = 0; hold <= 1; hold++) {
        struct fake f;
        CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "drop:10000,drop:30000", NULL) == 0);
        struct body b = {0};
        b.use_once = 1;
        chorus_once_init(&b.once, hold, collect, &b);
        struct chorus_http_result r;
        struct chorus_http_policy p = fast();
        p.retry_after_body = 1;
        int rc = speak(&f, text, &b, &p, &r);
        if (rc == 0) rc = chorus_once_commit(&b.once, b.msg, sizeof b.msg);
        CHECK_MSG(rc == 0, "rc %d: %s %s", rc, r.msg, b.msg);
        CHECK_EQ_INT(r.attempts, 3);
        CHECK_EQ_INT(b.responses, 3);
        /* every byte exactly once, in order: compare with a clean answer */
        struct body clean = {0};
        struct chorus_http_result r2;
        rc = speak(&f, text, &clean, &p, &r2);
        CHECK(rc == 0);
        CHECK_EQ_INT(b.n, clean.n);
        CHECK(memcmp(b.p, clean.p, b.n) == 0);
        chorus_http_result_release(&r);
        chorus_http_result_release(&r2);
        chorus_once_release(&b.once);
        free(b.p);
        free(clean.p);
        fake_stop(&f);
    }
}

TEST(silent_server_times_out) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "hang", NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    p.max_retries = 0;
    p.idle_timeout_ms = 1000;
    int rc = speak(&f, "Anyone there?", &b, &p, &r);
    CHECK_EQ_INT(rc, CHORUS_E_TIMEOUT);
    CHECK(strstr(r.msg, "no answer from http://127.0.0.1:") != NULL);
    chorus_http_result_release(&r);
    fake_stop(&f);
}

static void *cancel_later(void *ud) {
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(&((struct body *)ud)->cancel, 1);
    return NULL;
}

TEST(cancel_aborts_a_silent_transfer) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "hang", NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    p.idle_timeout_ms = 30000; /* only cancellation can end this in time */
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &b);
    int rc = speak(&f, "Never answered.", &b, &p, &r);
    pthread_join(t, NULL);
    CHECK_EQ_INT(rc, CHORUS_E_CANCELLED);
    CHECK_EQ_INT(r.attempts, 1);
    chorus_http_result_release(&r);
    fake_stop(&f);
}

TEST(cancel_during_backoff) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", KEY, "--plan", "429:50", NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &b);
    int rc = speak(&f, "Waiting.", &b, &p, &r);
    pthread_join(t, NULL);
    CHECK_EQ_INT(rc, CHORUS_E_CANCELLED);
    CHECK_EQ_INT(r.attempts, 1);
    chorus_http_result_release(&r);
    fake_stop(&f);
}

TEST(unreachable_server_names_url) {
    /* a port nothing listens on: start a fake, note its port, stop it */
    struct fake f;
    CHECK(fake_start(&f, "openai", NULL) == 0);
    fake_stop(&f);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    p.max_retries = 1;
    int rc = speak(&f, "Hello?", &b, &p, &r);
    CHECK_EQ_INT(rc, CHORUS_E_NETWORK);
    CHECK_EQ_INT(r.attempts, 2);
    char want[96];
    snprintf(want, sizeof want, "cannot connect to http://127.0.0.1:%d/v1/audio/speech", f.port);
    CHECK_MSG(strstr(r.msg, want) != NULL, "msg: %s", r.msg);
    chorus_http_result_release(&r);
}

TEST(auth_error_never_shows_the_key) {
    struct fake f;
    CHECK(fake_start(&f, "openai", "--key", "sk-the-right-one", NULL) == 0);
    struct body b = {0};
    struct chorus_http_result r;
    struct chorus_http_policy p = fast();
    int rc = speak(&f, "Let me in.", &b, &p, &r);
    CHECK_EQ_INT(rc, CHORUS_E_AUTH);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK(strstr(r.msg, "HTTP 401") != NULL);
    CHECK(strstr(r.msg, "Incorrect API key provided") != NULL);
    /* the fake echoed 10 leading and 6 trailing characters of the key: all masked */
    CHECK_MSG(strstr(r.msg, "sk-test-CH") == NULL, "msg: %s", r.msg);
    CHECK_MSG(strstr(r.msg, "abcdef") == NULL, "msg: %s", r.msg);
    CHECK(strstr(r.msg, KEY) == NULL);
    chorus_http_result_release(&r);
    fake_stop(&f);
}

int main(void) {
    srandom((unsigned)getpid());
    RUN(streams_body);
    RUN(retry_after_seconds_date_and_ms);
    RUN(gives_up_with_clear_message);
    RUN(drop_before_body_is_retried);
    RUN(drop_mid_stream_without_replay_fails);
    RUN(drop_mid_stream_replay_is_exact);
    RUN(silent_server_times_out);
    RUN(cancel_aborts_a_silent_transfer);
    RUN(cancel_during_backoff);
    RUN(unreachable_server_names_url);
    RUN(auth_error_never_shows_the_key);
    return test_summary();
}
