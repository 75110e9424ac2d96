/*
 * test_audio_decode.c — the streaming decoders, fed byte streams made by independent encoders
 * (sox, ffmpeg) in pieces of every size, compared with ffmpeg's own decoding; garbage and
 * truncation give clear errors.
 */
#include "audio/audio.h"
#include "test.h"
#include "test_audio_util.h"

/* Make a file with a shell command (sox/ffmpeg) and return its bytes. */
static unsigned char *make_file(const char *cmd_fmt, const char *path, size_t *len) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, cmd_fmt, path);
    strcat(cmd, " 2>/dev/null");
    if (system(cmd) != 0) return NULL;
    snprintf(cmd, sizeof cmd, "cat '%s'", path);
    return tcmd_read(cmd, len);
}

/* Decode `data` with our decoder, fed in pieces of `piece` bytes (0 = pseudo-random sizes). */
static int our_decode(enum chorus_format f, int hint, const unsigned char *data, size_t len,
                      size_t piece, struct tpcm *out, char *err, size_t errlen,
                      size_t *first_pcm_at) {
    struct chorus_decoder *d;
    int rc = chorus_decoder_create(&d, f, hint, tpcm_cb, out, err, errlen);
    if (rc) return rc;
    unsigned seed = 99;
    size_t i = 0;
    if (first_pcm_at) *first_pcm_at = SIZE_MAX;
    while (i < len && !rc) {
        size_t k = piece ? piece : 1 + trand(&seed) % 1500;
        if (k > len - i) k = len - i;
        rc = chorus_decoder_feed(d, data + i, k);
        i += k;
        if (first_pcm_at && *first_pcm_at == SIZE_MAX && out->n) *first_pcm_at = i;
    }
    if (!rc) rc = chorus_decoder_finish(d);
    if (rc) snprintf(err, errlen, "%s", chorus_decoder_errmsg(d));
    chorus_decoder_destroy(d);
    return rc;
}

struct dec_case {
    enum chorus_format f;
    const char *make; /* %s = output path */
    const char *ext;
    double tol;     /* max abs difference from ffmpeg's decoding; 0: compare by correlation */
    const char *af; /* ffmpeg filter for the reference: our downmix is the plain average */
    size_t extra;   /* samples we may have beyond ffmpeg's (codec delay it trims from a tag) */
};

static void check_dec(const struct dec_case *c) {
    fprintf(stderr, "   %s\n", c->make);
    const char *path = ttmp(c->ext);
    size_t len = 0;
    unsigned char *data = make_file(c->make, path, &len);
    CHECK_MSG(data && len > 0, "could not make %s", path);
    size_t nref = 0;
    float *ref = tdecode_af(path, NULL, c->af, &nref);
    CHECK(ref && nref > 1000);
    int prate = 0, pch = 0;
    CHECK(tprobe(path, &prate, &pch) == 0);
    static const size_t pieces[] = {0, 1, 7, 4096, 1 << 20};
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        struct tpcm out = {0};
        char err[256];
        size_t first = 0;
        int rc = our_decode(c->f, 0, data, len, pieces[p], &out, err, sizeof err, &first);
        CHECK_MSG(rc == CHORUS_OK, "piece %zu: %s", pieces[p], err);
        CHECK_EQ_INT(out.rate, prate);
        CHECK_MSG(out.n >= nref && out.n <= nref + c->extra, "piece %zu: %zu samples, ffmpeg %zu",
                  pieces[p], out.n, nref);
        if (c->tol > 0) {
            float md = 0;
            for (size_t i = 0; i < nref; i++) md = fmaxf(md, fabsf(out.x[i] - ref[i]));
            CHECK_MSG(md <= c->tol, "piece %zu: max difference from ffmpeg %g", pieces[p], (double)md);
        } else {
            size_t lag = 0;
            double r = tcorr(ref + nref / 4, nref / 8, out.x + nref / 4, out.n - nref / 4,
                             c->extra + 16, &lag);
            CHECK_MSG(r > 0.995, "piece %zu: correlation with ffmpeg's decoding %.4f", pieces[p], r);
            CHECK_MSG(lag <= c->extra, "piece %zu: our audio is %zu samples late", pieces[p], lag);
        }
        /* incremental: PCM came out long before the last byte went in */
        if (pieces[p] < len / 4)
            CHECK_MSG(first < len / 2, "piece %zu: first PCM only after %zu of %zu bytes", pieces[p], first, len);
        free(out.x);
    }
    unlink(path);
    free(ref);
    free(data);
}

static const struct dec_case codec_cases[] = {
    /* ffmpeg's mp3 muxer writes an ID3v2 tag first, then a LAME tag with the encoder delay and
     * padding: we trim them as ffmpeg does, so the sample counts match exactly */
    {CHORUS_FORMAT_MP3, "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=24000' -c:a libmp3lame -b:a 64k '%s'",
     "mp3", 0, NULL, 0},
    {CHORUS_FORMAT_MP3, "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=44100' -ac 2 -c:a libmp3lame '%s'",
     "mp3", 0, "pan=mono|c0=0.5*c0+0.5*c1", 0},
    /* no tag at all: everything the frames hold, up to the delay ffmpeg cannot know either */
    {CHORUS_FORMAT_MP3, "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=16000' -c:a libmp3lame -write_xing 0 '%s'",
     "mp3", 0, NULL, 0},
    {CHORUS_FORMAT_AAC, "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=24000' -c:a aac '%s'", "aac", 1e-6, NULL, 0},
    {CHORUS_FORMAT_AAC, "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=48000' -ac 2 -c:a aac '%s'", "aac", 1e-5,
     "pan=mono|c0=0.5*c0+0.5*c1", 0},
    {CHORUS_FORMAT_FLAC, "sox -n -r 24000 -c 1 -b 16 '%s' synth 2 sine 440", "flac", 1e-6, NULL, 0},
    {CHORUS_FORMAT_FLAC, "sox -n -r 44100 -c 2 -b 24 '%s' synth 2 sine 300 sine 500", "flac", 1e-5,
     "pan=mono|c0=0.5*c0+0.5*c1", 0},
    /* ffmpeg decodes opus with its own decoder, we with libopus: compare by correlation */
    {CHORUS_FORMAT_OPUS, "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=48000' -c:a libopus -page_duration 200000 '%s'", "opus", 0, NULL, 0},
    {CHORUS_FORMAT_OPUS, "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=24000' -ac 2 -c:a libopus -b:a 96k -page_duration 200000 '%s'",
     "opus", 0, "pan=mono|c0=0.5*c0+0.5*c1", 0},
};

TEST(codecs_match_ffmpeg) {
    for (size_t i = 0; i < sizeof codec_cases / sizeof codec_cases[0]; i++) {
        check_dec(&codec_cases[i]);
        if (test_cur_failed_) return;
    }
}

/* Our own encoders' output decodes back, fed in small pieces. */
TEST(round_trip_through_our_encoders) {
    static const enum chorus_format fs[] = {CHORUS_FORMAT_WAV, CHORUS_FORMAT_MP3, CHORUS_FORMAT_OPUS,
                                            CHORUS_FORMAT_FLAC, CHORUS_FORMAT_AAC};
    for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++) {
        struct tbytes b = {0};
        struct chorus_encoder *e;
        char err[256];
        CHECK_EQ_INT(chorus_encoder_create(&e, fs[k], 24000, NULL, tbytes_cb, &b, err, sizeof err), CHORUS_OK);
        float *x = tsine(48000, 440, 24000, 0.5);
        CHECK_EQ_INT(chorus_encoder_write(e, x, 48000), CHORUS_OK);
        CHECK_EQ_INT(chorus_encoder_finish(e), CHORUS_OK);
        chorus_encoder_destroy(e);
        struct tpcm out = {0};
        CHECK_MSG(our_decode(fs[k], 0, b.p, b.len, 0, &out, err, sizeof err, NULL) == CHORUS_OK, "%s: %s",
                  chorus_format_name(fs[k]), err);
        int drate = fs[k] == CHORUS_FORMAT_OPUS ? 48000 : 24000;
        CHECK_EQ_INT(out.rate, drate);
        double dur = (double)out.n / drate;
        CHECK_MSG(fabs(dur - 2.0) < 0.04 + 2048.0 / drate, "%s: %.4f s", chorus_format_name(fs[k]), dur);
        CHECK_NEAR(tfreq(out.x, out.n / 4, out.n * 3 / 4, drate), 440.0, 2.0);
        free(out.x);
        free(x);
        free(b.p);
    }
}

TEST(garbage_is_an_error_not_a_crash) {
    unsigned char junk[20000];
    unsigned s = 77;
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)trand(&s);
    static const enum chorus_format fs[] = {CHORUS_FORMAT_MP3, CHORUS_FORMAT_OPUS, CHORUS_FORMAT_FLAC,
                                            CHORUS_FORMAT_AAC, CHORUS_FORMAT_WAV};
    for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++) {
        struct tpcm out = {0};
        char err[256] = "";
        int rc = our_decode(fs[k], 0, junk, sizeof junk, 0, &out, err, sizeof err, NULL);
        CHECK_MSG(rc == CHORUS_E_FORMAT, "%s: %d", chorus_format_name(fs[k]), rc);
        CHECK_MSG(strncmp(err, chorus_format_name(fs[k]), strlen(chorus_format_name(fs[k]))) == 0,
                  "message does not name the format: %s", err);
        free(out.x);
    }
}

TEST(mp3_resyncs_after_garbage) {
    const char *path = ttmp("mp3");
    size_t len;
    unsigned char *data = make_file("ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=2:r=24000' -c:a libmp3lame "
                                    "-id3v2_version 0 -write_xing 0 '%s'", path, &len);
    CHECK(data != NULL);
    unsigned char *buf = malloc(len + 3000);
    unsigned s = 3;
    for (size_t i = 0; i < 3000; i++) buf[i] = (unsigned char)(trand(&s) & 0x7f); /* no sync bytes */
    memcpy(buf + 3000, data, len);
    struct tpcm out = {0};
    char err[256];
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_MP3, 0, buf, len + 3000, 100, &out, err, sizeof err, NULL), CHORUS_OK);
    CHECK(out.n > 47000);
    CHECK_NEAR(tfreq(out.x, out.n / 4, out.n * 3 / 4, 24000), 440.0, 2.0);
    unlink(path);
    free(out.x);
    free(buf);
    free(data);
}

static const struct dec_case dec_cases[] = {
    {CHORUS_FORMAT_WAV, "sox -n -r 24000 -c 1 -b 16 '%s' synth 1 sine 440", "wav", 1e-6, NULL, 0},
    {CHORUS_FORMAT_WAV, "sox -n -r 44100 -c 2 -b 24 '%s' synth 1 sine 300 sine 500", "wav", 1e-5,
     "pan=mono|c0=0.5*c0+0.5*c1", 0},
    {CHORUS_FORMAT_WAV, "sox -n -r 16000 -c 1 -b 8 -e unsigned '%s' synth 1 sine 440", "wav", 1e-6, NULL, 0},
    {CHORUS_FORMAT_WAV, "sox -n -r 22050 -c 1 -e float -b 32 '%s' synth 1 sine 440", "wav", 1e-6, NULL, 0},
    {CHORUS_FORMAT_WAV, "sox -n -r 48000 -c 1 -b 32 '%s' synth 1 sine 440", "wav", 1e-6, NULL, 0},
    /* WAVE_FORMAT_EXTENSIBLE, 3 channels, and a LIST chunk before the data */
    {CHORUS_FORMAT_WAV,
     "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=1:r=24000' -af 'pan=3c|c0=c0|c1=c0|c2=c0' "
     "-metadata title=chorus -c:a pcm_s16le '%s'", "wav", 1e-4,
     "pan=mono|c0=0.333333*c0+0.333333*c1+0.333334*c2", 0},
};

TEST(wav_matches_ffmpeg) {
    for (size_t i = 0; i < sizeof dec_cases / sizeof dec_cases[0]; i++) {
        check_dec(&dec_cases[i]);
        if (test_cur_failed_) return;
    }
}

TEST(raw_pcm) {
    unsigned char b[8] = {0xff, 0x7f, 0x00, 0x80, 0x00, 0x40, 0x01, 0x00};
    struct tpcm out = {0};
    char err[256];
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_PCM, 16000, b, 8, 3, &out, err, sizeof err, NULL), CHORUS_OK);
    CHECK_EQ_INT(out.n, 4);
    CHECK_EQ_INT(out.rate, 16000);
    CHECK_NEAR(out.x[0], 32767 / 32768.0, 1e-9);
    CHECK_NEAR(out.x[1], -1.0, 1e-9);
    CHECK_NEAR(out.x[2], 0.5, 1e-9);
    free(out.x);
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_PCM, 16000, b, 7, 2, &out, err, sizeof err, NULL), CHORUS_E_FORMAT);
    CHECK(strstr(err, "odd"));
    free(out.x);
    struct chorus_decoder *d;
    CHECK_EQ_INT(chorus_decoder_create(&d, CHORUS_FORMAT_PCM, 5, tpcm_cb, &out, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "rate"));
    /* no hint: OpenAI's 24 kHz */
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_PCM, 0, b, 8, 8, &out, err, sizeof err, NULL), CHORUS_OK);
    CHECK_EQ_INT(out.rate, 24000);
    free(out.x);
}

TEST(wav_errors) {
    struct tpcm out = {0};
    char err[256];
    unsigned char junk[3000];
    unsigned s = 5;
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)trand(&s);
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_WAV, 0, junk, sizeof junk, 100, &out, err, sizeof err, NULL), CHORUS_E_FORMAT);
    CHECK(strstr(err, "wav") && strstr(err, "RIFF"));
    /* a real header cut short */
    static const unsigned char hdr[] = "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00";
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_WAV, 0, hdr, sizeof hdr - 1, 5, &out, err, sizeof err, NULL), CHORUS_E_FORMAT);
    CHECK(strstr(err, "truncated") || strstr(err, "ended"));
    /* nothing at all */
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_WAV, 0, hdr, 0, 5, &out, err, sizeof err, NULL), CHORUS_E_FORMAT);
    /* an unsupported encoding (A-law) */
    static const unsigned char alaw[44] = {
        'R', 'I', 'F', 'F', 0xff, 0xff, 0xff, 0xff, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
        16, 0, 0, 0, 6, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x40, 0x1f, 0, 0, 1, 0, 8, 0,
        'd', 'a', 't', 'a', 0, 0, 0, 0};
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_WAV, 0, alaw, 44, 44, &out, err, sizeof err, NULL), CHORUS_E_FORMAT);
    CHECK(strstr(err, "format tag 6"));
    /* data cut short of its declared size */
    const char *path = ttmp("wav");
    size_t len;
    unsigned char *data = make_file("sox -n -r 8000 -c 1 -b 16 '%s' synth 0.5 sine 440", path, &len);
    CHECK(data != NULL);
    CHECK_EQ_INT(our_decode(CHORUS_FORMAT_WAV, 0, data, len - 100, 64, &out, err, sizeof err, NULL), CHORUS_E_FORMAT);
    CHECK(strstr(err, "100 bytes"));
    unlink(path);
    free(data);
    free(out.x);
}

int main(void) {
    RUN(wav_matches_ffmpeg);
    RUN(codecs_match_ffmpeg);
    RUN(round_trip_through_our_encoders);
    RUN(garbage_is_an_error_not_a_crash);
    RUN(mp3_resyncs_after_garbage);
    RUN(raw_pcm);
    RUN(wav_errors);
    return test_summary();
}
