/*
 * test_audio_encode.c — every encoder, checked through independent decoders (ffprobe/ffmpeg,
 * sox): sample rate, channels, duration, a sine's frequency and its correlation with the input,
 * bytes streamed before finish, and bad input.
 */
#include "audio/audio.h"
#include "test.h"
#include "test_audio_util.h"

struct enc_case {
    enum chorus_format f;
    int rate;
    struct chorus_encoder_opts opts;
    double min_corr;
};

/* Encode `n` samples of x in pseudo-random pieces; returns bytes seen before finish. */
static int encode_pieces(struct chorus_encoder *e, const float *x, size_t n, unsigned seed,
                         size_t *before_finish, struct tbytes *b) {
    size_t i = 0;
    while (i < n) {
        size_t k = 1 + trand(&seed) % 3000;
        if (k > n - i) k = n - i;
        int rc = chorus_encoder_write(e, x + i, k);
        if (rc) return rc;
        i += k;
    }
    *before_finish = b->len;
    return chorus_encoder_finish(e);
}

static void check_case(const struct enc_case *c) {
    const char *name = chorus_format_name(c->f);
    fprintf(stderr, "   %s at %d Hz\n", name, c->rate);
    CHECK_MSG(chorus_encoder_available(c->f), "%s: no encoder", name);
    size_t n = (size_t)c->rate * 3; /* 3 s */
    float *x = tsine(n, 440.0, c->rate, 0.5);
    struct tbytes b = {0};
    struct chorus_encoder *e = NULL;
    char err[256];
    int rc = chorus_encoder_create(&e, c->f, c->rate, &c->opts, tbytes_cb, &b, err, sizeof err);
    CHECK_MSG(rc == CHORUS_OK, "%s create: %s", name, err);
    size_t before = 0;
    rc = encode_pieces(e, x, n, 7u + (unsigned)c->rate, &before, &b);
    CHECK_MSG(rc == CHORUS_OK, "%s encode: %s", name, e->err);
    CHECK_EQ_INT(e->samples_in, n);
    CHECK_EQ_INT(e->bytes_out, b.len);
    /* streaming: most of the bytes were out before finish */
    CHECK_MSG(before > b.len / 2, "%s: only %zu of %zu bytes before finish", name, before, b.len);
    chorus_encoder_destroy(e);

    const char *path = ttmp(chorus_format_extension(c->f));
    CHECK(twrite_file(path, b.p, b.len) == 0);
    char rawfmt[64];
    snprintf(rawfmt, sizeof rawfmt, "s16le -ar %d -ac 1", c->rate);
    const char *force = c->f == CHORUS_FORMAT_PCM ? rawfmt : NULL;
    if (!force) {
        int pr = 0, pc = 0;
        CHECK_MSG(tprobe(path, &pr, &pc) == 0, "ffprobe cannot read %s output", name);
        /* opus always decodes at 48 kHz; its header keeps the input rate */
        CHECK_EQ_INT(pr, c->f == CHORUS_FORMAT_OPUS ? 48000 : c->rate);
        CHECK_EQ_INT(pc, 1);
    }
    size_t nd = 0;
    float *y = tdecode(path, force, &nd);
    CHECK_MSG(y != NULL, "ffmpeg cannot decode %s output", name);
    int drate = c->f == CHORUS_FORMAT_OPUS ? 48000 : c->rate;
    double dur_in = (double)n / c->rate, dur_out = (double)nd / drate;
    /* within 2%, plus one codec frame of padding */
    CHECK_MSG(fabs(dur_out - dur_in) <= 0.02 * dur_in + 2048.0 / drate,
              "%s: decoded %.4f s, encoded %.4f s", name, dur_out, dur_in);
    double f = tfreq(y, nd / 4, nd * 3 / 4, drate);
    CHECK_MSG(fabs(f - 440.0) < 2.0, "%s: decoded frequency %.2f Hz", name, f);
    if (drate == c->rate) {
        size_t lag = 0;
        double r = tcorr(x + c->rate / 2, (size_t)c->rate / 5, y + c->rate / 2,
                         nd > (size_t)c->rate / 2 ? nd - (size_t)c->rate / 2 : 0, 3000, &lag);
        CHECK_MSG(r >= c->min_corr, "%s: correlation %.4f (lag %zu)", name, r, lag);
    }
    if (c->f == CHORUS_FORMAT_WAV || c->f == CHORUS_FORMAT_PCM || c->f == CHORUS_FORMAT_FLAC) {
        /* lossless up to 16-bit quantization, and exactly as long */
        CHECK_EQ_INT(nd, n);
        float md = 0;
        for (size_t i = 0; i < n; i++) md = fmaxf(md, fabsf(y[i] - x[i]));
        CHECK_MSG(md < 1.5f / 32768.0f, "%s: max error %g", name, (double)md);
    }
    unlink(path);
    free(y);
    free(x);
    free(b.p);
}

static const struct enc_case cases[] = {
    {CHORUS_FORMAT_WAV, 24000, {0, 0, -1, 0}, 0.999},
    {CHORUS_FORMAT_WAV, 44100, {0, 0, -1, 0}, 0.999},
    {CHORUS_FORMAT_PCM, 24000, {0, 0, -1, 0}, 0.999},
    {CHORUS_FORMAT_PCM, 16000, {0, 0, -1, 0}, 0.999},
    {CHORUS_FORMAT_MP3, 24000, {0, 0, -1, 0}, 0.98},
    {CHORUS_FORMAT_MP3, 44100, {192, 0, -1, 0}, 0.98},
    {CHORUS_FORMAT_MP3, 8000, {0, 0, -1, 0}, 0.95},
    {CHORUS_FORMAT_MP3, 22050, {0, 1, -1, 0}, 0.98},
    {CHORUS_FORMAT_OPUS, 48000, {0, 0, -1, 0}, 0.95},
    {CHORUS_FORMAT_OPUS, 24000, {0, 0, -1, 0}, 0.95},
    {CHORUS_FORMAT_OPUS, 44100, {32, 0, -1, 0}, 0.95},
    {CHORUS_FORMAT_FLAC, 24000, {0, 0, -1, 0}, 0.999},
    {CHORUS_FORMAT_FLAC, 44100, {0, 0, 8, 0}, 0.999},
    {CHORUS_FORMAT_FLAC, 96000, {0, 0, 0, 0}, 0.999},
    {CHORUS_FORMAT_AAC, 24000, {0, 0, -1, 0}, 0.98},
    {CHORUS_FORMAT_AAC, 44100, {128, 0, -1, 0}, 0.98},
    {CHORUS_FORMAT_AAC, 16000, {0, 0, -1, 0}, 0.95},
};

TEST(every_format_decodes_independently) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_case(&cases[i]);
        if (test_cur_failed_) return;
    }
}

TEST(wav_headers_streaming_and_exact) {
    struct tbytes b = {0};
    struct chorus_encoder *e;
    char err[256];
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_WAV, 22050, NULL, tbytes_cb, &b, err, sizeof err), CHORUS_OK);
    /* the header leaves at once, with the "unknown length" sizes */
    CHECK_EQ_INT(b.len, 44);
    CHECK(memcmp(b.p, "RIFF\xff\xff\xff\xffWAVEfmt ", 16) == 0);
    CHECK(memcmp(b.p + 36, "data\xff\xff\xff\xff", 8) == 0);
    float *x = tsine(12345, 300, 22050, 0.25);
    CHECK_EQ_INT(chorus_encoder_write(e, x, 12345), CHORUS_OK);
    CHECK_EQ_INT(chorus_encoder_finish(e), CHORUS_OK);
    CHECK_EQ_INT(b.len, 44 + 2 * 12345);
    /* streaming header: ffmpeg reads to the end */
    const char *p1 = ttmp("wav");
    CHECK(twrite_file(p1, b.p, b.len) == 0);
    size_t nd = 0;
    float *y = tdecode(p1, NULL, &nd);
    CHECK(y != NULL);
    CHECK_EQ_INT(nd, 12345);
    free(y);
    /* exact header for a seekable file: sox trusts the header */
    unsigned char h[64];
    size_t hl = 0;
    CHECK_EQ_INT(chorus_encoder_header(e, h, 10, &hl), CHORUS_E_INVALID);
    CHECK_EQ_INT(chorus_encoder_header(e, h, sizeof h, &hl), CHORUS_OK);
    CHECK_EQ_INT(hl, 44);
    memcpy(b.p, h, hl);
    CHECK(twrite_file(p1, b.p, b.len) == 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "soxi -s '%s'", p1);
    size_t ol;
    char *out = (char *)tcmd_read(cmd, &ol);
    CHECK(out != NULL);
    CHECK_EQ_INT(atol(out), 12345);
    free(out);
    snprintf(cmd, sizeof cmd, "soxi -r '%s'", p1);
    out = (char *)tcmd_read(cmd, &ol);
    CHECK(out != NULL);
    CHECK_EQ_INT(atol(out), 22050);
    free(out);
    unlink(p1);
    chorus_encoder_destroy(e);
    free(x);
    free(b.p);
}

TEST(pcm_has_no_header_to_rewrite) {
    struct tbytes b = {0};
    struct chorus_encoder *e;
    char err[256];
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_PCM, 24000, NULL, tbytes_cb, &b, err, sizeof err), CHORUS_OK);
    CHECK_EQ_INT(b.len, 0);
    float x[3] = {1.5f, -2.0f, 0.5f}; /* out of range clips */
    CHECK_EQ_INT(chorus_encoder_write(e, x, 3), CHORUS_OK);
    CHECK_EQ_INT(b.len, 6);
    CHECK(b.p[0] == 0xff && b.p[1] == 0x7f); /* 32767 */
    CHECK(b.p[2] == 0x00 && b.p[3] == 0x80); /* -32768 */
    CHECK(b.p[4] == 0x00 && b.p[5] == 0x40); /* 16384 (0.5 * 32767 rounds to 16384) */
    unsigned char h[64];
    size_t hl;
    CHECK_EQ_INT(chorus_encoder_header(e, h, sizeof h, &hl), CHORUS_E_INVALID);
    chorus_encoder_destroy(e);
    free(b.p);
}

static int stop_cb(void *ud, const unsigned char *d, size_t n) { return 1; }
static int io_cb(void *ud, const unsigned char *d, size_t n) { return CHORUS_E_IO; }

TEST(bad_input) {
    struct chorus_encoder *e = (void *)1;
    char err[256];
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_DEFAULT, 24000, NULL, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(e == NULL);
    CHECK(err[0] != 0);
    CHECK_EQ_INT(chorus_encoder_create(&e, (enum chorus_format)77, 24000, NULL, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_WAV, 4000, NULL, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "4000") && strstr(err, "allowed"));
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_MP3, 96000, NULL, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "96000") && strstr(err, "48000"));
    /* a sink that stops the stream: the encoder says so */
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_WAV, 24000, NULL, stop_cb, NULL, err, sizeof err), CHORUS_E_CANCELLED);
    CHECK(e == NULL);
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_PCM, 24000, NULL, io_cb, NULL, err, sizeof err), CHORUS_OK);
    float x[10] = {0};
    CHECK_EQ_INT(chorus_encoder_write(e, x, 10), CHORUS_E_IO);
    CHECK(strstr(e->err, "sink") != NULL);
    CHECK_EQ_INT(chorus_encoder_write(e, NULL, 10), CHORUS_E_INVALID);
    chorus_encoder_destroy(e);
    chorus_encoder_destroy(NULL);
}

TEST(codec_options_out_of_range) {
    struct chorus_encoder *e;
    char err[256];
    struct chorus_encoder_opts o = {500, 0, -1, 0};
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_MP3, 24000, &o, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "500") && strstr(err, "160"));
    o.bitrate_kbps = 128; /* MPEG-2.5 (8 kHz) tops out at 64 */
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_MP3, 8000, &o, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "64"));
    o.bitrate_kbps = 1000;
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_OPUS, 48000, &o, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "510"));
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_AAC, 48000, &o, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "320"));
    o.bitrate_kbps = 0;
    o.compression = 12;
    CHECK_EQ_INT(chorus_encoder_create(&e, CHORUS_FORMAT_FLAC, 48000, &o, tbytes_cb, NULL, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "0 to 8"));
}

/* Seekable outputs: the final header (mp3 LAME tag, flac STREAMINFO) makes the length exact. */
static void seekable_check(enum chorus_format f, int rate) {
    struct tbytes b = {0};
    struct chorus_encoder *e;
    char err[256];
    struct chorus_encoder_opts o = {0, f == CHORUS_FORMAT_MP3, -1, 1};
    CHECK_EQ_INT(chorus_encoder_create(&e, f, rate, &o, tbytes_cb, &b, err, sizeof err), CHORUS_OK);
    size_t n = (size_t)rate * 2 + 123;
    float *x = tsine(n, 440, rate, 0.5);
    CHECK_EQ_INT(chorus_encoder_write(e, x, n), CHORUS_OK);
    CHECK_EQ_INT(chorus_encoder_finish(e), CHORUS_OK);
    unsigned char h[4096];
    size_t hl = 0;
    CHECK_EQ_INT(chorus_encoder_header(e, h, sizeof h, &hl), CHORUS_OK);
    CHECK(hl > 0 && hl <= b.len);
    memcpy(b.p, h, hl);
    const char *path = ttmp(chorus_format_extension(f));
    CHECK(twrite_file(path, b.p, b.len) == 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ffprobe -v error -show_entries stream=duration_ts,duration -of default=nw=1 '%s'", path);
    size_t ol;
    char *out = (char *)tcmd_read(cmd, &ol);
    CHECK(out != NULL);
    out = realloc(out, ol + 1);
    out[ol] = 0;
    char *d = strstr(out, "duration=");
    CHECK_MSG(d != NULL, "no duration in: %s", out);
    /* from the header, not estimated from the bitrate: within one sample */
    if (f == CHORUS_FORMAT_FLAC)
        CHECK_MSG(fabs(atof(d + 9) - (double)n / rate) < 1.5 / rate, "%s duration %s, want %.6f",
                  chorus_format_name(f), d + 9, (double)n / rate);
    size_t nd = 0;
    float *y = tdecode(path, NULL, &nd);
    CHECK(y != NULL);
    CHECK_EQ_INT(nd, n); /* gapless: the LAME tag's delay/padding trim the codec's own */
    free(y);
    free(out);
    unlink(path);
    chorus_encoder_destroy(e);
    free(x);
    free(b.p);
}

TEST(seekable_headers) {
    seekable_check(CHORUS_FORMAT_FLAC, 24000);
    if (test_cur_failed_) return;
    seekable_check(CHORUS_FORMAT_MP3, 24000);
}

int main(void) {
    RUN(codec_options_out_of_range);
    RUN(seekable_headers);
    RUN(every_format_decodes_independently);
    RUN(wav_headers_streaming_and_exact);
    RUN(pcm_has_no_header_to_rewrite);
    RUN(bad_input);
    return test_summary();
}
