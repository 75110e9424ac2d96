/* test_audio_resample.c — the libsoxr resampler: lengths, alignment, frequency, piecing. */
#include "audio/audio.h"
#include "test.h"
#include "test_audio_util.h"

static int run_rs(int in, int out, const float *x, size_t n, size_t piece, struct tpcm *o) {
    struct chorus_resampler *r;
    int rc = chorus_resampler_create(&r, in, out, tpcm_cb, o);
    if (rc) return rc;
    for (size_t i = 0; i < n && !rc; i += piece)
        rc = chorus_resampler_write(r, x + i, i + piece <= n ? piece : n - i);
    if (!rc) rc = chorus_resampler_flush(r);
    chorus_resampler_destroy(r);
    return rc;
}

TEST(length_is_exact_after_flush) {
    static const int pairs[][2] = {{22050, 24000}, {24000, 48000}, {48000, 24000}, {16000, 44100},
                                   {44100, 8000}, {24000, 22050}};
    static const size_t lens[] = {1, 100, 12345, 48000};
    for (size_t p = 0; p < 6; p++)
        for (size_t l = 0; l < 4; l++) {
            float *x = tsine(lens[l], 300, pairs[p][0], 0.5);
            struct tpcm o = {0};
            CHECK_EQ_INT(run_rs(pairs[p][0], pairs[p][1], x, lens[l], 1000, &o), CHORUS_OK);
            double want = (double)lens[l] * pairs[p][1] / pairs[p][0];
            CHECK_MSG(fabs((double)o.n - want) <= 1.0, "%d->%d: %zu in, %zu out, want %.2f",
                      pairs[p][0], pairs[p][1], lens[l], o.n, want);
            if (o.n) CHECK_EQ_INT(o.rate, pairs[p][1]);
            free(x);
            free(o.x);
        }
}

TEST(aligned_and_same_frequency) {
    /* a 1 kHz sine at 16 kHz, converted to 24 kHz, matches the ideal 24 kHz sine sample for
     * sample: no delay, no drift */
    size_t n = 16000;
    float *x = tsine(n, 1000, 16000, 0.5);
    struct tpcm o = {0};
    CHECK_EQ_INT(run_rs(16000, 24000, x, n, 777, &o), CHORUS_OK);
    float *ideal = tsine(o.n, 1000, 24000, 0.5);
    float md = 0;
    for (size_t i = 1000; i + 1000 < o.n; i++) md = fmaxf(md, fabsf(o.x[i] - ideal[i]));
    CHECK_MSG(md < 0.005f, "max deviation from the ideal sine %g", (double)md);
    CHECK_NEAR(tfreq(o.x, 0, o.n, 24000), 1000.0, 0.5);
    free(ideal);
    free(x);
    free(o.x);
}

TEST(pieces_do_not_matter) {
    size_t n = 30000;
    float *x = tsine(n, 523, 22050, 0.7);
    struct tpcm a = {0}, b = {0};
    CHECK_EQ_INT(run_rs(22050, 48000, x, n, n, &a), CHORUS_OK);
    CHECK_EQ_INT(run_rs(22050, 48000, x, n, 13, &b), CHORUS_OK);
    CHECK_EQ_INT(a.n, b.n);
    float md = 0;
    for (size_t i = 0; i < a.n; i++) md = fmaxf(md, fabsf(a.x[i] - b.x[i]));
    CHECK(md < 1e-5f);
    free(x);
    free(a.x);
    free(b.x);
}

TEST(equal_rates_pass_through) {
    float x[5] = {0.1f, -0.2f, 0.3f, 2.0f, 0.0f};
    struct tpcm o = {0};
    CHECK_EQ_INT(run_rs(24000, 24000, x, 5, 2, &o), CHORUS_OK);
    CHECK_EQ_INT(o.n, 5);
    CHECK(memcmp(o.x, x, sizeof x) == 0);
    free(o.x);
}

static int stop_pcm(void *ud, const float *x, size_t n, int rate) { return 1; }

TEST(bad_input) {
    struct chorus_resampler *r = (void *)1;
    CHECK_EQ_INT(chorus_resampler_create(&r, 0, 24000, tpcm_cb, NULL), CHORUS_E_INVALID);
    CHECK(r == NULL);
    CHECK_EQ_INT(chorus_resampler_create(&r, 24000, -1, tpcm_cb, NULL), CHORUS_E_INVALID);
    CHECK_EQ_INT(chorus_resampler_create(&r, 24000, 48000, NULL, NULL), CHORUS_E_INVALID);
    CHECK_EQ_INT(chorus_resampler_create(&r, 24000, 48000, stop_pcm, NULL), CHORUS_OK);
    float x[8192] = {0};
    CHECK_EQ_INT(chorus_resampler_write(r, x, 8192), CHORUS_E_CANCELLED);
    CHECK_EQ_INT(chorus_resampler_write(r, NULL, 3), CHORUS_E_INVALID);
    chorus_resampler_destroy(r);
    chorus_resampler_destroy(NULL);
}

int main(void) {
    RUN(length_is_exact_after_flush);
    RUN(aligned_and_same_frequency);
    RUN(pieces_do_not_matter);
    RUN(equal_rates_pass_through);
    RUN(bad_input);
    return test_summary();
}
