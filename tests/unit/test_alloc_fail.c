/*
 * Allocation-failure run (curl's "torture" idea, SQLite's fault injection): each scenario runs
 * once to count the allocations the library makes, then again failing the 1st, the 2nd, ... the
 * Nth of them. Every run must end in a clean result: CHORUS_OK where the allocation was
 * optional, else an error status with a message, never a crash; under ASan (make check-asan)
 * LeakSanitizer also fails the run on anything left allocated.
 *
 * Only the library's own allocations fail: this executable is linked with
 * -Wl,--wrap=malloc,... (tests/CMakeLists.txt), which redirects the calls made by the static
 * library's objects (and this file) to the __wrap_ functions below; allocations inside shared
 * libraries (libc, libespeak-ng, libcurl) are untouched.
 */
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chorus/chorus.h"
#include "core/config.h"
#include "test.h"
#include "text/text.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static _Thread_local long fail_at;  /* 0: never; else the allocation number that fails */
static _Thread_local long allocs;   /* allocations counted since the scenario began */
static _Thread_local int failed;    /* the injected failure happened */

static int trace; /* CHORUS_ALLOC_TRACE=1: print where each injected failure happens */

static int should_fail(void) {
    allocs++;
    if (fail_at && allocs == fail_at) {
        failed = 1;
        if (trace) {
            void *bt[16];
            int n = backtrace(bt, 16);
            backtrace_symbols_fd(bt, n, 2);
        }
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return should_fail() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return should_fail() ? NULL : __real_strndup(s, n); }

/* A scenario returns a status and leaves the message of a failure in msg. */
typedef int (*scenario_fn)(char *msg, size_t cap);

/* Run fn failing each allocation in turn; returns the number of allocations of a clean run. */
static long torture(const char *name, scenario_fn fn, long limit) {
    char msg[1024];
    fail_at = 0, allocs = 0, failed = 0;
    msg[0] = 0;
    int rc = fn(msg, sizeof msg);
    long total = allocs;
    if (rc != CHORUS_OK) {
        fprintf(stderr, "  %s: fails without injection: %d %s\n", name, rc, msg);
        return -1;
    }
    if (total > limit) total = limit; /* bounded for CI */
    for (long k = 1; k <= total; k++) {
        fail_at = k, allocs = 0, failed = 0;
        msg[0] = 0;
        rc = fn(msg, sizeof msg);
        fail_at = 0;
        if (rc != CHORUS_OK && (rc > 0 || !msg[0])) {
            fprintf(stderr, "  %s: allocation %ld failed: status %d without a message\n", name, k, rc);
            return -1;
        }
    }
    fprintf(stderr, "  %s: %ld allocations, each failed once: clean\n", name, total);
    return total;
}

static const char toml[] =
    "[chorus]\nmax_concurrent = 3\ncrossfade_ms = 20\n[espeak]\nvoice = \"en-gb\"\n"
    "[server.voices]\nalloy = 'en-us'\nnarrator = \"en-gb-x-rp\"\n[kokoro.voices]\nx.y = 1\n";

static int sc_config(char *msg, size_t cap) {
    struct chorus_config *c = chorus_config_parse(toml, sizeof toml - 1, "test.toml", msg, cap);
    if (!c) return CHORUS_E_CONFIG;
    double d;
    int rc = chorus_config_number(c, "chorus", "max_concurrent", 1, 10, 1, 4, &d, msg, cap);
    chorus_config_free(c);
    return rc;
}

static int sc_engine(char *msg, size_t cap) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    int rc = chorus_engine_create2(&e, &o, msg, cap);
    if (rc == CHORUS_OK) {
        struct chorus_backend_info *bi = NULL;
        size_t n = 0;
        rc = chorus_list_backends(e, &bi, &n);
        if (rc) snprintf(msg, cap, "%s", chorus_engine_errmsg(e));
        chorus_backend_infos_free(bi, n);
    }
    chorus_engine_destroy(e);
    return rc;
}

/* Engine, request validation (options, voice resolution), open, run with espeak. */
static int run_request(char *msg, size_t cap, int run, enum chorus_format fmt) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    int rc = chorus_engine_create2(&e, &o, msg, cap);
    if (rc) return rc;
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.voice = "en-gb";
    r.text = "<speak>Dr. Smith paid $12.50 on 3 May. <break time=\"100ms\"/> Done!</speak>";
    r.input = CHORUS_INPUT_SSML;
    r.format = fmt;
    struct chorus_option opt = {"pitch", "60"};
    r.options = &opt;
    r.n_options = 1;
    struct chorus_stream *s = NULL;
    rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK && run) rc = chorus_stream_run(s);
    if (rc) snprintf(msg, cap, "%s", s ? chorus_stream_errmsg(s) : chorus_engine_errmsg(e));
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
    return rc;
}

static int sc_validate(char *msg, size_t cap) { return run_request(msg, cap, 0, CHORUS_FORMAT_WAV); }
static int sc_run_wav(char *msg, size_t cap) { return run_request(msg, cap, 1, CHORUS_FORMAT_WAV); }
static int sc_run_pcm(char *msg, size_t cap) { return run_request(msg, cap, 1, CHORUS_FORMAT_PCM); }

static int sc_text(char *msg, size_t cap) {
    static const char text[] =
        "The 2nd of May, 2026: call +1 555 0100 at 10:30am. Prices rose 4.5% to $1,234.56! "
        "Second paragraph.\n\nIt ends here, e.g. with an abbreviation etc.";
    struct chorus_text_config tc = {0};
    tc.max_chars = 40;
    tc.normalize = 1;
    tc.paragraph_pause = -1;
    struct chorus_textiter *it = NULL;
    int rc = chorus_textiter_create(&it, text, sizeof text - 1, CHORUS_INPUT_TEXT, &tc, msg, cap);
    if (rc) return rc < 0 ? rc : CHORUS_E_INVALID;
    struct chorus_textseg seg;
    int got;
    while ((got = chorus_textiter_next(it, &seg)) > 0) {
    }
    if (got < 0) {
        snprintf(msg, cap, "%s", chorus_textiter_errmsg(it));
        rc = got;
    }
    chorus_textiter_destroy(it);
    return rc;
}

TEST(config_parser) { CHECK(torture("config", sc_config, 100000) > 0); }
TEST(engine_create_and_listing) { CHECK(torture("engine", sc_engine, 100000) > 0); }
TEST(request_validation) { CHECK(torture("validate", sc_validate, 100000) > 0); }
TEST(stream_run_espeak_wav) { CHECK(torture("run wav", sc_run_wav, 3000) > 0); }
TEST(stream_run_espeak_pcm) { CHECK(torture("run pcm", sc_run_pcm, 3000) > 0); }
TEST(text_iterate) { CHECK(torture("text", sc_text, 100000) > 0); }

int main(void) {
    trace = getenv("CHORUS_ALLOC_TRACE") != NULL;
    RUN(config_parser);
    RUN(engine_create_and_listing);
    RUN(request_validation);
    RUN(text_iterate);
    RUN(stream_run_espeak_wav);
    RUN(stream_run_espeak_pcm);
    return test_summary();
}
