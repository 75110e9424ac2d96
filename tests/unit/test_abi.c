/* test_abi.c — the ABI rules of chorus.h ("ABI policy"): sized structs are read and filled only
 * as far as the caller's `size` says, larger ones are taken when their unknown tail is zero,
 * too-small sizes and unknown flag bits are refused with a message, and the version macros match
 * the library. Built like an embedder's program: only <chorus/chorus.h> (plus the test runner). */
#include <stdint.h>
#include <stdio.h>

#include "chorus/chorus.h"
#include "test.h"

static struct chorus_engine *engine(void) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    char err[512] = "";
    if (chorus_engine_create2(&e, &o, err, sizeof err) != CHORUS_OK)
        fprintf(stderr, "engine: %s\n", err);
    return e;
}

/* A program built against a newer chorus.h whose request has one more field. */
struct request_v_next {
    struct chorus_request r;
    uint64_t future_field;
};

TEST(version_macros_match_the_library) {
    CHECK_EQ_INT(chorus_version_number(), CHORUS_VERSION_NUMBER);
    CHECK_STR(chorus_version(), CHORUS_VERSION_STRING);
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", CHORUS_VERSION_MAJOR, CHORUS_VERSION_MINOR,
             CHORUS_VERSION_PATCH);
    CHECK_STR(CHORUS_VERSION_STRING, want);
    CHECK_EQ_INT(CHORUS_VERSION_NUMBER >> 16, CHORUS_VERSION_MAJOR);
    CHECK_EQ_INT((CHORUS_VERSION_NUMBER >> 8) & 0xff, CHORUS_VERSION_MINOR);
    CHECK_EQ_INT(CHORUS_SOVERSION, 1);
}

TEST(defaults_carry_the_callers_size) {
    struct chorus_request r = chorus_request_default();
    CHECK_EQ_INT(r.size, sizeof r);
    CHECK(r.speed == 1.0f);
    CHECK(r.text == NULL && r.flags == 0);
    struct chorus_engine_options o = chorus_engine_options_default();
    CHECK_EQ_INT(o.size, sizeof o);
    CHECK(o.config_path == NULL && o.no_config == 0 && o.max_concurrent == 0);
    /* a larger caller struct: the library zeroes all of it and keeps the caller's size */
    struct request_v_next big;
    memset(&big, 0xab, sizeof big);
    chorus_request_init(&big.r, sizeof big);
    CHECK_EQ_INT(big.r.size, sizeof big);
    CHECK(big.future_field == 0);
    CHECK(big.r.speed == 1.0f);
}

static int open_rc(struct chorus_engine *e, const struct chorus_request *r, char *msg, size_t cap) {
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, r, &s);
    snprintf(msg, cap, "%s", s ? chorus_stream_errmsg(s) : "");
    chorus_stream_destroy(s);
    return rc;
}

TEST(request_sizes) {
    struct chorus_engine *e = engine();
    CHECK(e);
    char msg[1024];
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Hello.";
    CHECK_EQ_INT(open_rc(e, &r, msg, sizeof msg), CHORUS_OK);

    struct chorus_request bad = r;
    bad.size = 0; /* a struct filled by hand, without chorus_request_default() */
    CHECK_EQ_INT(open_rc(e, &bad, msg, sizeof msg), CHORUS_E_INVALID);
    CHECK_MSG(strstr(msg, "chorus_request.size is 0") && strstr(msg, "chorus_request_default()"),
              "message: %s", msg);
    bad.size = offsetof(struct chorus_request, text); /* cut short before fields v1 has */
    CHECK_EQ_INT(open_rc(e, &bad, msg, sizeof msg), CHORUS_E_INVALID);

    struct request_v_next big;
    chorus_request_init(&big.r, sizeof big);
    big.r.backend = "espeak";
    big.r.text = "Hello.";
    CHECK_EQ_INT(open_rc(e, &big.r, msg, sizeof msg), CHORUS_OK); /* unknown field zero: fine */
    big.future_field = 7;
    CHECK_EQ_INT(open_rc(e, &big.r, msg, sizeof msg), CHORUS_E_INVALID);
    CHECK_MSG(strstr(msg, "rebuild"), "message: %s", msg);

    /* synthesize_file and estimate read the request by the same rule */
    char err[1024] = "";
    CHECK_EQ_INT(chorus_synthesize_file(e, &bad, "/nonexistent/x.wav", err, sizeof err),
                 CHORUS_E_INVALID);
    CHECK_MSG(strstr(err, "chorus_request.size"), "message: %s", err);
    struct chorus_estimate est = {.size = sizeof est};
    CHECK_EQ_INT(chorus_estimate(e, &bad, &est), CHORUS_E_INVALID);
    CHECK_EQ_INT(chorus_estimate(e, &big.r, &est), CHORUS_E_INVALID);
    chorus_engine_destroy(e);
}

TEST(unknown_request_flags_are_refused) {
    struct chorus_engine *e = engine();
    CHECK(e);
    char msg[1024];
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Hello.";
    r.flags = CHORUS_FLAG_NO_CACHE | CHORUS_FLAG_NO_NORMALIZE;
    CHECK_EQ_INT(open_rc(e, &r, msg, sizeof msg), CHORUS_OK);
    r.flags = CHORUS_FLAG_SEEKABLE_OUTPUT;
    CHECK_EQ_INT(open_rc(e, &r, msg, sizeof msg), CHORUS_OK);
    for (unsigned bit = 3; bit < 32; bit++) {
        if (1u << bit == CHORUS_FLAG_SEEKABLE_OUTPUT) continue;
        r.flags = 1u << bit; /* bit 3 was the old internal FILE_OUTPUT; 31 is the library's own */
        CHECK_EQ_INT(open_rc(e, &r, msg, sizeof msg), CHORUS_E_INVALID);
    }
    CHECK_MSG(strstr(msg, "flags"), "message: %s", msg);
    chorus_engine_destroy(e);
}

TEST(engine_options_sizes) {
    struct chorus_engine *e = NULL;
    CHECK_EQ_INT(chorus_engine_create(&e, NULL), CHORUS_OK); /* NULL: all defaults */
    chorus_engine_destroy(e);
    struct chorus_engine_options o;
    memset(&o, 0, sizeof o);
    o.no_config = 1; /* size left 0 */
    char err[1024] = "";
    CHECK_EQ_INT(chorus_engine_create2(&e, &o, err, sizeof err), CHORUS_E_INVALID);
    CHECK(e == NULL);
    CHECK_MSG(strstr(err, "chorus_engine_options.size is 0") &&
                  strstr(err, "chorus_engine_options_default()"),
              "message: %s", err);
    struct {
        struct chorus_engine_options o;
        int future;
    } big;
    chorus_engine_options_init(&big.o, sizeof big);
    big.o.no_config = 1;
    big.o.max_concurrent = 3;
    CHECK_EQ_INT(chorus_engine_create2(&e, &big.o, err, sizeof err), CHORUS_OK);
    struct chorus_engine_stats st = {.size = sizeof st};
    CHECK_EQ_INT(chorus_engine_get_stats(e, &st), CHORUS_OK);
    CHECK_EQ_INT(st.max_concurrent, 3); /* the fields it knows were read */
    chorus_engine_destroy(e);
    big.future = 1;
    CHECK_EQ_INT(chorus_engine_create2(&e, &big.o, err, sizeof err), CHORUS_E_INVALID);
}

TEST(output_structs_are_filled_only_as_far_as_their_size) {
    struct chorus_engine *e = engine();
    CHECK(e);
    /* a newer caller's larger struct: the library fills what it knows, leaves the rest */
    struct {
        struct chorus_engine_stats st;
        uint64_t canary;
    } big;
    memset(&big, 0, sizeof big);
    big.st.size = sizeof big;
    big.canary = 0x5a5a5a5a5a5a5a5aull;
    CHECK_EQ_INT(chorus_engine_get_stats(e, &big.st), CHORUS_OK);
    CHECK_EQ_INT(big.st.size, sizeof big);
    CHECK_EQ_INT(big.st.max_concurrent, 4);
    CHECK(big.canary == 0x5a5a5a5a5a5a5a5aull);
    /* a size below the first published layout is refused and nothing is written */
    struct chorus_engine_stats small;
    memset(&small, 0x11, sizeof small);
    small.size = offsetof(struct chorus_engine_stats, active);
    CHECK_EQ_INT(chorus_engine_get_stats(e, &small), CHORUS_E_INVALID);
    CHECK_EQ_INT(small.max_concurrent, 0x11111111);
    CHECK_MSG(strstr(chorus_engine_errmsg(e), "chorus_engine_stats.size"), "message: %s",
              chorus_engine_errmsg(e));
    CHECK_EQ_INT(chorus_engine_get_stats(e, NULL), CHORUS_E_INVALID);

    struct {
        struct chorus_cache_stats cs;
        uint32_t canary;
    } cbig;
    memset(&cbig, 0, sizeof cbig);
    cbig.cs.size = sizeof cbig;
    cbig.canary = 0xfeedbeef;
    CHECK_EQ_INT(chorus_engine_cache_stats(e, &cbig.cs), CHORUS_OK);
    CHECK(cbig.canary == 0xfeedbeef);
    struct chorus_cache_stats cs0;
    memset(&cs0, 0, sizeof cs0);
    CHECK_EQ_INT(chorus_engine_cache_stats(e, &cs0), CHORUS_E_INVALID);

    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = "Twelve characters";
    struct {
        struct chorus_estimate est;
        uint64_t canary;
    } ebig;
    memset(&ebig, 0, sizeof ebig);
    ebig.est.size = sizeof ebig;
    ebig.canary = 42;
    CHECK_EQ_INT(chorus_estimate(e, &r, &ebig.est), CHORUS_OK);
    CHECK_STR(ebig.est.provider, "local");
    CHECK_EQ_INT(ebig.est.characters, 17);
    CHECK(ebig.canary == 42);
    struct chorus_estimate est0;
    memset(&est0, 0, sizeof est0);
    CHECK_EQ_INT(chorus_estimate(e, &r, &est0), CHORUS_E_INVALID);
    chorus_engine_destroy(e);
}

int main(void) {
    RUN(version_macros_match_the_library);
    RUN(defaults_carry_the_callers_size);
    RUN(request_sizes);
    RUN(unknown_request_flags_are_refused);
    RUN(engine_options_sizes);
    RUN(output_structs_are_filled_only_as_far_as_their_size);
    return test_summary();
}
