/*
 * test_audio_output.c — the output chain: exact time bookkeeping with joins, silences and
 * resampling; the pause at a join exact whatever the edges; no speech crossfaded; click-free
 * joins; trimming; volume; loudness; bounded memory; errors.
 */
#include "audio/audio.h"
#include "test.h"
#include "test_audio_util.h"

struct sinks {
    struct tpcm pcm;
    struct tbytes bytes;
};
static int pcm_cb(void *ud, const float *x, size_t n, int rate) {
    return tpcm_cb(&((struct sinks *)ud)->pcm, x, n, rate);
}
static int bytes_cb(void *ud, const unsigned char *d, size_t n) {
    return tbytes_cb(&((struct sinks *)ud)->bytes, d, n);
}

static struct chorus_output_opts opts_for(enum chorus_format f, int rate) {
    struct chorus_output_opts o;
    memset(&o, 0, sizeof o);
    o.format = f;
    o.sample_rate = rate;
    o.enc.compression = -1;
    o.crossfade_ms = -1;
    o.fade_ms = -1;
    return o;
}

static void sinks_free(struct sinks *s) {
    free(s->pcm.x);
    free(s->bytes.p);
}

/* Feed x as one segment in pieces. */
static int feed_segment(struct chorus_output *o, const float *x, size_t n, int rate, size_t piece) {
    int rc = chorus_output_segment_begin(o);
    for (size_t i = 0; i < n && !rc; i += piece)
        rc = chorus_output_pcm(o, x + i, i + piece <= n ? piece : n - i, rate);
    return rc ? rc : chorus_output_segment_end(o);
}

TEST(passthrough_is_exact) {
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, 24000);
    oo.crossfade_ms = 0;
    oo.fade_ms = 0;
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    float *x = tsine(24000, 440, 24000, 0.5);
    CHECK_EQ_INT(feed_segment(o, x, 24000, 24000, 1000), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    CHECK_EQ_INT(s.pcm.n, 24000);
    CHECK(memcmp(s.pcm.x, x, 24000 * sizeof(float)) == 0);
    CHECK_EQ_INT(s.bytes.len, 48000);
    CHECK_NEAR(chorus_output_time(o), 1.0, 1e-12);
    chorus_output_destroy(o);
    free(x);
    sinks_free(&s);
}

/* Segments whose only non-zero sample is an impulse `at` samples in: the impulse must land at
 * segment_start * rate + at exactly, and joins put exactly their pause between one impulse and
 * the next (the quiet edges are trimmed to it); an explicit silence keeps the edges beside it. */
TEST(segment_start_exact_with_joins_and_silence) {
    int rate = 24000;
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_WAV, rate);
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    static const size_t lens[] = {6000, 3000, 9000, 4000, 3000};
    static const size_t at = 1500;
    static const double pause = 0.1; /* 2400 samples */
    double starts[5];
    for (int k = 0; k < 5; k++) {
        float *x = calloc(lens[k], sizeof *x);
        x[at] = 1.0f;
        if (k > 0 && k != 3) CHECK_EQ_INT(chorus_output_join(o, pause), CHORUS_OK);
        CHECK_EQ_INT(chorus_output_segment_begin(o), CHORUS_OK);
        for (size_t i = 0; i < lens[k]; i += 700)
            CHECK_EQ_INT(chorus_output_pcm(o, x + i, i + 700 <= lens[k] ? 700 : lens[k] - i, rate), CHORUS_OK);
        CHECK(chorus_output_segment_placed(o));
        starts[k] = chorus_output_segment_start(o);
        CHECK_EQ_INT(chorus_output_segment_end(o), CHORUS_OK);
        CHECK_NEAR(chorus_output_segment_audible_end(o) * rate, starts[k] * rate + at + 1, 1e-6);
        if (k == 2) CHECK_EQ_INT(chorus_output_silence(o, 0.25), CHORUS_OK);
        free(x);
    }
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    size_t imp[5];
    imp[0] = at;                             /* the stream's start keeps its lead */
    imp[1] = imp[0] + 1 + 2400;              /* joins: exactly the pause between */
    imp[2] = imp[1] + 1 + 2400;
    imp[3] = imp[2] + 1 + (9000 - at - 1) + 6000 + at; /* silence: both edges kept */
    imp[4] = imp[3] + 1 + 2400;
    CHECK_EQ_INT(s.pcm.n, imp[4] + 1 + (3000 - at - 1)); /* the stream's end keeps its tail */
    size_t found = 0;
    for (size_t i = 0; i < s.pcm.n; i++) {
        if (fabsf(s.pcm.x[i]) < 0.5f) continue;
        CHECK_MSG(found < 5, "more impulses than segments");
        CHECK_EQ_INT(i, imp[found]);
        CHECK_EQ_INT(i, (size_t)llround(starts[found] * rate) + at);
        CHECK_NEAR(s.pcm.x[i], 1.0, 1e-6);
        found++;
    }
    CHECK_EQ_INT(found, 5);
    CHECK_NEAR(chorus_output_time(o) * rate, (double)s.pcm.n, 1e-6);
    /* the WAV stream carries the same samples */
    CHECK_EQ_INT(s.bytes.len, 44 + 2 * s.pcm.n);
    chorus_output_destroy(o);
    sinks_free(&s);
}

/* A tone with quiet edges: lead samples of quiet noise, the tone, tail samples of quiet noise. */
static float *edged_tone(size_t lead, size_t tone, size_t tail, int rate, unsigned *seed) {
    float *x = malloc((lead + tone + tail) * sizeof *x);
    for (size_t i = 0; i < lead + tone + tail; i++) {
        if (i >= lead && i < lead + tone)
            x[i] = 0.4f * (float)sin(2 * M_PI * 300 * (double)(i - lead + 3) / rate);
        else /* noise just below the quiet level */
            x[i] = 0.003f * ((float)(trand(seed) % 2001) / 1000.0f - 1.0f);
    }
    return x;
}

/* Silent runs (below the quiet level) of at least min_len samples, between loud stretches. */
static size_t gaps(const float *x, size_t n, size_t min_len, size_t *out, size_t cap) {
    size_t k = 0, i = 0;
    while (i < n && fabsf(x[i]) < CHORUS_OUTPUT_QUIET) i++;
    while (i < n) {
        size_t j = i;
        while (j < n && fabsf(x[j]) < CHORUS_OUTPUT_QUIET) j++;
        if (j < n && j - i >= min_len && k < cap) out[k++] = j - i;
        i = j < n ? j + 1 : n;
    }
    return k;
}

/* Whatever quiet the engine leaves at a segment's edges (none, less than the fade margins, far
 * more), the silence between two segments is exactly the join's pause, and no loud sample of
 * one segment is ever mixed with another's: every tone comes out whole. */
TEST(join_pause_exact_whatever_the_edges) {
    int rate = 22050;
    unsigned seed = 7;
    static const size_t leads[] = {0, 10, 300, 2000, 30000};
    static const double pauses[] = {0.0, 0.005, 0.33, 0.18, 0.6};
    for (int crossfade = 0; crossfade < 3; crossfade++) {
        struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, rate);
        oo.crossfade_ms = crossfade == 0 ? -1 : crossfade == 1 ? 0 : 200;
        struct sinks s = {0};
        struct chorus_output *o;
        char err[256];
        CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
        size_t tone = 5000;
        for (int k = 0; k < 5; k++) {
            float *x = edged_tone(leads[k], tone, leads[(k + 2) % 5], rate, &seed);
            if (k) CHECK_EQ_INT(chorus_output_join(o, pauses[k]), CHORUS_OK);
            CHECK_EQ_INT(feed_segment(o, x, leads[k] + tone + leads[(k + 2) % 5], rate, 999), CHORUS_OK);
            free(x);
        }
        CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
        size_t g[16];
        size_t ng = gaps(s.pcm.x, s.pcm.n, 3, g, 16);
        /* the tone has no quiet stretch inside except its zero crossings (one sample at most) */
        size_t big[16], nb = 0;
        for (size_t i = 0; i < ng; i++)
            if (g[i] > 2) big[nb++] = g[i];
        /* four joins; the last follows a segment that ends loud, so its 5 ms fade-out adds up
         * to 111 quiet samples to the pause; the others are exact to the sample */
        CHECK_MSG(nb == 4, "crossfade %d: %zu gaps", crossfade, nb);
        for (size_t i = 0; i < nb && i < 4; i++) {
            size_t want = (size_t)llround(pauses[i + 1] * rate);
            if (i < 3)
                CHECK_MSG(big[i] == want, "crossfade %d join %zu: %zu quiet samples, pause %zu",
                          crossfade, i + 1, big[i], want);
            else
                CHECK_MSG(big[i] >= want && big[i] <= want + 111, "crossfade %d join %zu: %zu, pause %zu",
                          crossfade, i + 1, big[i], want);
        }
        /* every tone is whole: 5 tones of 5000 loud-or-crossing samples, nothing mixed */
        size_t loud = 0;
        for (size_t i = 0; i < s.pcm.n; i++) loud += fabsf(s.pcm.x[i]) >= CHORUS_OUTPUT_QUIET;
        CHECK_MSG(loud <= 5 * 5000 && loud >= 5 * 5000 - 5 * 40, "crossfade %d: %zu loud samples", crossfade, loud);
        chorus_output_destroy(o);
        sinks_free(&s);
    }
}

TEST(segment_start_exact_with_resampling) {
    /* engine at 16 kHz, output at 24 kHz: an impulse at engine sample 2000 peaks at output
     * sample start + 3000 */
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, 24000);
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    double starts[3];
    for (int k = 0; k < 3; k++) {
        float *x = calloc(5000 + 333 * k, sizeof *x);
        x[2000] = 1.0f;
        CHECK_EQ_INT(chorus_output_segment_begin(o), CHORUS_OK);
        CHECK_EQ_INT(chorus_output_pcm(o, x, 5000 + 333 * k, 16000), CHORUS_OK);
        CHECK_EQ_INT(chorus_output_segment_end(o), CHORUS_OK);
        starts[k] = chorus_output_segment_start(o); /* placed by the first loud sample */
        free(x);
    }
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    for (int k = 0; k < 3; k++) {
        size_t c = (size_t)llround(starts[k] * 24000) + 3000, best = c - 50;
        for (size_t i = c - 50; i <= c + 50; i++)
            if (s.pcm.x[i] > s.pcm.x[best]) best = i;
        CHECK_MSG(best == c, "segment %d: peak at %zu, expected %zu", k, best, c);
    }
    chorus_output_destroy(o);
    sinks_free(&s);
}

/* Two sines in opposite phase, joined: the worst case for a click. */
static void join_check(double crossfade_ms, double fade_ms, size_t expect_len) {
    int rate = 24000;
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, rate);
    oo.crossfade_ms = crossfade_ms;
    oo.fade_ms = fade_ms;
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    size_t n = 7000; /* ends mid-wave */
    float *a = tsine(n, 440, rate, 0.5), *b = tsine(n, 440, rate, -0.5);
    for (size_t i = 0; i < n; i++) /* opposite phase, and starting off zero */
        b[i] = (float)(-0.5 * sin(2 * M_PI * 440 * (double)(i + 37) / rate));
    CHECK_EQ_INT(feed_segment(o, a, n, rate, 512), CHORUS_OK);
    CHECK_EQ_INT(feed_segment(o, b, n, rate, 512), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    CHECK_EQ_INT(s.pcm.n, expect_len);
    /* a 440 Hz sine of amplitude 0.5 moves at most 0.058 per sample; allow a little more */
    float lim = (float)(0.5 * 2 * M_PI * 440 / rate) * 1.5f;
    float j = tmaxjump(s.pcm.x, s.pcm.n);
    CHECK_MSG(j <= lim, "max jump %g > %g (crossfade %g ms, fade %g ms)", (double)j, (double)lim,
              crossfade_ms, fade_ms);
    CHECK(tpeak(s.pcm.x, s.pcm.n) <= 0.5f * 1.42f);
    chorus_output_destroy(o);
    free(a);
    free(b);
    sinks_free(&s);
}

TEST(joins_have_no_clicks) {
    /* loud edges (nothing quiet to cut at): short fades, and nothing overlaps */
    join_check(-1, -1, 14000);
    if (test_cur_failed_) return;
    join_check(20, 5, 14000);
    if (test_cur_failed_) return;
    join_check(0, 5, 14000);
    if (test_cur_failed_) return;
    /* and without any fade, the jump is there: the check above can fail */
    int rate = 24000;
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, rate);
    oo.crossfade_ms = 0;
    oo.fade_ms = 0;
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    float *a = tsine(7000, 440, rate, 0.5);
    CHECK_EQ_INT(feed_segment(o, a, 7000, rate, 512), CHORUS_OK);
    for (size_t i = 0; i < 7000; i++) /* continues the wave, inverted */
        a[i] = (float)(-0.5 * sin(2 * M_PI * 440 * (double)(i + 7000) / rate));
    CHECK_EQ_INT(feed_segment(o, a, 7000, rate, 512), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    CHECK(tmaxjump(s.pcm.x, s.pcm.n) > 0.2f);
    chorus_output_destroy(o);
    free(a);
    sinks_free(&s);
}

TEST(silence_is_counted_exactly) {
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_WAV, 24000);
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    for (int i = 0; i < 1000; i++) CHECK_EQ_INT(chorus_output_silence(o, 0.0123), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    CHECK_EQ_INT(s.pcm.n, 295200); /* 1000 * 0.0123 * 24000 */
    CHECK_EQ_INT(tpeak(s.pcm.x, s.pcm.n) == 0.0f, 1);
    chorus_output_destroy(o);
    sinks_free(&s);
}

TEST(trim_silence) {
    int rate = 24000;
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, rate);
    oo.trim_silence = 1;
    oo.crossfade_ms = 0;
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    /* 0.3 s quiet, 0.5 s tone with a 0.1 s gap inside, 0.4 s quiet */
    size_t n = (size_t)(1.2 * rate);
    float *x = calloc(n, sizeof *x);
    for (size_t i = 7200; i < 19200; i++)
        x[i] = (i >= 12000 && i < 14400) ? 0.0f : 0.5f * (float)sin(2 * M_PI * 440 * (i + 0.5) / rate);
    x[100] = 0.001f; /* noise below the threshold */
    for (int seg = 0; seg < 2; seg++) {
        CHECK_EQ_INT(chorus_output_segment_begin(o), CHORUS_OK);
        CHECK_EQ_INT(chorus_output_pcm(o, x, n, rate), CHORUS_OK);
        /* the segment's untrimmed first sample: 0.3 s before its first kept one */
        double want = seg == 0 ? -0.3 : 0.5 - 0.3;
        CHECK_NEAR(chorus_output_segment_start(o), want, 1.0 / rate);
        CHECK_EQ_INT(chorus_output_segment_end(o), CHORUS_OK);
    }
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    /* each segment keeps its 0.5 s including the inner gap */
    CHECK_EQ_INT(s.pcm.n, 2 * 12000);
    chorus_output_destroy(o);
    free(x);
    sinks_free(&s);
}

TEST(volume) {
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, 24000);
    oo.volume = 0.25f;
    oo.fade_ms = 0;
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err), CHORUS_OK);
    float *x = tsine(10000, 300, 24000, 0.8);
    CHECK_EQ_INT(feed_segment(o, x, 10000, 24000, 999), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    CHECK_EQ_INT(s.pcm.n, 10000);
    for (size_t i = 0; i < 10000; i++) CHECK_NEAR(s.pcm.x[i], 0.25 * x[i], 1e-6);
    chorus_output_destroy(o);
    free(x);
    sinks_free(&s);
}

static double loud_reached;

static void loud_run(double target_db, float amp, size_t quiet_then_burst, double *rms_db,
                     float *peak, size_t *len) {
    int rate = 24000;
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_PCM, rate);
    oo.loudness_db = target_db;
    oo.fade_ms = 0;
    struct sinks s = {0};
    struct chorus_output *o;
    char err[256];
    *len = 0;
    if (chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err)) return;
    size_t n = 5 * (size_t)rate;
    float *x = tsine(n, 250, rate, amp);
    if (quiet_then_burst) /* a sudden burst 20 dB louder */
        for (size_t i = quiet_then_burst; i < quiet_then_burst + 2400; i++) x[i] *= 10.0f;
    feed_segment(o, x, n, rate, 333);
    chorus_output_finish(o);
    loud_reached = chorus_output_loudness_reached(o);
    *len = s.pcm.n;
    *rms_db = 20 * log10(trms(s.pcm.x + 2 * rate, 2 * (size_t)rate));
    *peak = tpeak(s.pcm.x, s.pcm.n);
    chorus_output_destroy(o);
    free(x);
    sinks_free(&s);
}

TEST(loudness_normalization) {
    double db;
    float pk;
    size_t len;
    /* -30 dBFS RMS in, -20 out */
    loud_run(-20, (float)(pow(10, -30 / 20.0) * sqrt(2)), 0, &db, &pk, &len);
    CHECK_EQ_INT(len, 5 * 24000);
    CHECK_NEAR(db, -20.0, 1.0);
    /* -6 dBFS RMS in, -26 out: it also turns down */
    loud_run(-26, (float)(pow(10, -6 / 20.0) * sqrt(2)), 0, &db, &pk, &len);
    CHECK_NEAR(db, -26.0, 1.0);
    /* peak-safe: a target that would push the peak past -1 dBFS is capped there */
    loud_run(-3, 0.9f, 0, &db, &pk, &len);
    CHECK(pk <= 0.8913f);
    CHECK(db > -5.0);
    /* and the chain says so: the loudness reached is the capped one (a sine: -1 - 3 dB), which
     * the stream turns into a warning */
    CHECK_NEAR(loud_reached, -4.0, 0.3);
    loud_run(-20, (float)(pow(10, -30 / 20.0) * sqrt(2)), 0, &db, &pk, &len);
    CHECK_NEAR(loud_reached, -20.0, 1.0); /* a target within reach is reached */
    /* and a burst the gain did not expect never passes the ceiling */
    loud_run(-20, 0.05f, 3 * 24000, &db, &pk, &len);
    CHECK_EQ_INT(len, 5 * 24000);
    CHECK_MSG(pk <= 0.8913f, "peak %g", (double)pk);
    CHECK(pk > 0.7f);
}

static int count_pcm(void *ud, const float *x, size_t n, int rate) {
    *(size_t *)ud += n;
    return 0;
}
static int count_bytes(void *ud, const unsigned char *d, size_t n) { return 0; }

TEST(memory_is_bounded) {
    /* ten minutes through the whole chain (resampling, crossfades, silences, loudness) in small
     * pieces: the resident set does not grow with the length */
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_WAV, 24000);
    oo.loudness_db = -20;
    oo.trim_silence = 1;
    size_t count = 0;
    struct chorus_output *o;
    char err[256];
    CHECK_EQ_INT(chorus_output_create(&o, &oo, count_pcm, count_bytes, &count, err, sizeof err), CHORUS_OK);
    float *x = tsine(22050, 200, 22050, 0.3);
    long rss_1min = 0;
    for (int sec = 0; sec < 600; sec++) {
        if (sec % 5 == 0) CHECK_EQ_INT(chorus_output_silence(o, 0.2), CHORUS_OK);
        CHECK_EQ_INT(feed_segment(o, x, 22050, 22050, 480), CHORUS_OK);
        if (sec == 60) rss_1min = trss_kib();
    }
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    long rss_end = trss_kib();
#if !defined(__SANITIZE_ADDRESS__) /* ASan's quarantine makes the resident set meaningless */
    CHECK_MSG(rss_end - rss_1min < 1024, "RSS grew by %ld KiB from minute 1 to 10", rss_end - rss_1min);
#else
    (void)rss_end;
    (void)rss_1min;
#endif
    CHECK(count > 590 * 24000);
    chorus_output_destroy(o);
    free(x);
}

/* The whole chain, every format: bytes leave while audio still comes in, and what an
 * independent decoder makes of the result lasts as long as the PCM the chain handed out. */
TEST(chain_streams_every_format) {
    for (int f = CHORUS_FORMAT_WAV; f < CHORUS_FORMAT_COUNT_; f++) {
        int rate = 0;
        char err[256];
        CHECK_EQ_INT(chorus_format_pick_rate(f, 0, 22050, &rate, err, sizeof err), CHORUS_OK);
        struct chorus_output_opts oo = opts_for(f, rate);
        struct sinks s = {0};
        struct chorus_output *o;
        CHECK_MSG(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err) == CHORUS_OK, "%s", err);
        float *x = tsine(22050, 330, 22050, 0.4);
        size_t bytes_mid = 0;
        for (int seg = 0; seg < 6; seg++) {
            CHECK_EQ_INT(feed_segment(o, x, 22050, 22050, 441), CHORUS_OK);
            if (seg == 2) bytes_mid = s.bytes.len;
        }
        CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
        CHECK_MSG(bytes_mid > s.bytes.len / 5, "%s: %zu of %zu bytes by mid-stream",
                  chorus_format_name(f), bytes_mid, s.bytes.len);
        double want = (double)s.pcm.n / rate;
        CHECK_NEAR(chorus_output_time(o), want, 1e-9);
        const char *path = ttmp(chorus_format_extension(f));
        CHECK(twrite_file(path, s.bytes.p, s.bytes.len) == 0);
        char raw[64];
        snprintf(raw, sizeof raw, "s16le -ar %d -ac 1", rate);
        size_t nd = 0;
        float *y = tdecode(path, f == CHORUS_FORMAT_PCM ? raw : NULL, &nd);
        CHECK(y != NULL);
        int drate = f == CHORUS_FORMAT_OPUS ? 48000 : rate;
        CHECK_MSG(fabs((double)nd / drate - want) <= 0.02 * want + 2048.0 / drate,
                  "%s: decoded %.4f s, chain gave %.4f s", chorus_format_name(f), (double)nd / drate, want);
        CHECK_NEAR(tfreq(y, nd / 4, nd * 3 / 4, drate), 330.0, 2.0);
        unlink(path);
        free(y);
        free(x);
        chorus_output_destroy(o);
        sinks_free(&s);
    }
}

/* Random sequences of calls with random options: the invariants hold whatever the order. */
TEST(random_call_sequences_keep_invariants) {
    unsigned seed = 2024;
    static const int rates[] = {8000, 16000, 22050, 24000, 44100, 48000};
    float *buf = malloc(20000 * sizeof *buf);
    for (int iter = 0; iter < 150; iter++) {
        struct chorus_output_opts oo = opts_for(trand(&seed) % 2 ? CHORUS_FORMAT_PCM : CHORUS_FORMAT_WAV,
                                                rates[trand(&seed) % 6]);
        oo.crossfade_ms = (double)(trand(&seed) % 4) * 20.0 - 1.0; /* -1 (default), 19, 39, 59 */
        oo.fade_ms = (double)(trand(&seed) % 3) * 3.0 - 1.0;
        oo.trim_silence = trand(&seed) % 2;
        oo.loudness_db = trand(&seed) % 3 == 0 ? -23.0 : 0.0;
        oo.volume = trand(&seed) % 4 == 0 ? 0.7f : 0.0f;
        struct sinks s = {0};
        struct chorus_output *o;
        char err[256];
        CHECK_MSG(chorus_output_create(&o, &oo, pcm_cb, bytes_cb, &s, err, sizeof err) == CHORUS_OK, "%s", err);
        int engine_rate = rates[trand(&seed) % 6];
        double last_start = -1e9;
        int in_seg = 0;
        for (int op = 0; op < 40; op++) {
            int kind = trand(&seed) % 6;
            int rc = CHORUS_OK;
            if (kind == 0) {
                rc = chorus_output_segment_begin(o);
                in_seg = 1;
                double st = chorus_output_segment_start(o);
                if (!oo.trim_silence) CHECK_MSG(st >= last_start - 1e-9, "segment start went back: %g < %g", st, last_start);
                last_start = st;
            } else if (kind <= 3) {
                size_t n = trand(&seed) % 5000;
                int quiet = trand(&seed) % 4 == 0;
                for (size_t i = 0; i < n; i++)
                    buf[i] = quiet ? 0.0f : 0.6f * (float)sin(0.05 * (double)i + op) * (float)(trand(&seed) % 100) / 100.0f;
                if (trand(&seed) % 10 == 0) engine_rate = rates[trand(&seed) % 6]; /* engine switched */
                rc = chorus_output_pcm(o, buf, n, engine_rate);
                in_seg = 1;
            } else if (kind == 4) {
                rc = chorus_output_segment_end(o);
                in_seg = 0;
            } else {
                rc = chorus_output_silence(o, (double)(trand(&seed) % 300) / 1000.0);
            }
            CHECK_MSG(rc == CHORUS_OK, "op %d kind %d: %s", op, kind, chorus_output_errmsg(o));
        }
        (void)in_seg;
        CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
        CHECK_NEAR(chorus_output_time(o) * oo.sample_rate, (double)s.pcm.n, 1e-6);
        for (size_t i = 0; i < s.pcm.n; i++) CHECK(s.pcm.x[i] == s.pcm.x[i] && fabsf(s.pcm.x[i]) <= 1.5f);
        if (oo.loudness_db != 0.0) CHECK(tpeak(s.pcm.x, s.pcm.n) <= 0.8913f);
        size_t hdr = oo.format == CHORUS_FORMAT_WAV ? 44 : 0;
        CHECK_EQ_INT(s.bytes.len, hdr + 2 * s.pcm.n);
        chorus_output_destroy(o);
        sinks_free(&s);
    }
    free(buf);
}

static int stop_after(void *ud, const float *x, size_t n, int rate) {
    size_t *left = ud;
    if (*left <= n) return 1;
    *left -= n;
    return 0;
}

TEST(bad_input_and_errors) {
    struct chorus_output *o = (void *)1;
    char err[256];
    struct chorus_output_opts oo = opts_for(CHORUS_FORMAT_DEFAULT, 24000);
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(o == NULL && strstr(err, "format"));
    oo = opts_for(CHORUS_FORMAT_MP3, 96000);
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "96000") && strstr(err, "allowed"));
    oo = opts_for(CHORUS_FORMAT_WAV, 24000);
    oo.volume = -1;
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_E_INVALID);
    CHECK(strstr(err, "volume"));
    oo.volume = 0;
    oo.loudness_db = 12;
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_E_INVALID);
    CHECK(strstr(err, "loudness"));
    oo.loudness_db = 0;
    oo.crossfade_ms = 1e9;
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_E_INVALID);
    /* a consumer that stops: the chain reports it, and stays failed */
    oo = opts_for(CHORUS_FORMAT_PCM, 24000);
    size_t left = 5000;
    CHECK_EQ_INT(chorus_output_create(&o, &oo, stop_after, NULL, &left, err, sizeof err), CHORUS_OK);
    float *x = tsine(24000, 440, 24000, 0.5);
    CHECK_EQ_INT(feed_segment(o, x, 24000, 24000, 1000), CHORUS_E_CANCELLED);
    CHECK_EQ_INT(chorus_output_pcm(o, x, 10, 24000), CHORUS_E_CANCELLED);
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_E_CANCELLED);
    CHECK(chorus_output_errmsg(o)[0] != 0);
    chorus_output_destroy(o);
    /* implausible engine rate, audio after finish, silence out of range */
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_silence(o, -1), CHORUS_E_INVALID);
    chorus_output_destroy(o);
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_pcm(o, x, 10, 5), CHORUS_E_INVALID);
    CHECK(strstr(chorus_output_errmsg(o), "rate"));
    chorus_output_destroy(o);
    CHECK_EQ_INT(chorus_output_create(&o, &oo, NULL, NULL, NULL, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_finish(o), CHORUS_OK);
    CHECK_EQ_INT(chorus_output_pcm(o, x, 10, 24000), CHORUS_E_INVALID);
    chorus_output_destroy(o);
    chorus_output_destroy(NULL);
    free(x);
}

int main(void) {
    RUN(passthrough_is_exact);
    RUN(segment_start_exact_with_joins_and_silence);
    RUN(join_pause_exact_whatever_the_edges);
    RUN(segment_start_exact_with_resampling);
    RUN(joins_have_no_clicks);
    RUN(silence_is_counted_exactly);
    RUN(trim_silence);
    RUN(volume);
    RUN(loudness_normalization);
    RUN(memory_is_bounded);
    RUN(chain_streams_every_format);
    RUN(random_call_sequences_keep_invariants);
    RUN(bad_input_and_errors);
    return test_summary();
}
