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
    double tol;     /* max abs difference from ffmpeg's decoding */
    const char *af; /* ffmpeg filter for the reference: our downmix is the plain average */
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
        CHECK_MSG(out.n == nref, "piece %zu: %zu samples, ffmpeg %zu", pieces[p], out.n, nref);
        float md = 0;
        for (size_t i = 0; i < nref; i++) md = fmaxf(md, fabsf(out.x[i] - ref[i]));
        CHECK_MSG(md <= c->tol, "piece %zu: max difference from ffmpeg %g", pieces[p], (double)md);
        /* incremental: PCM came out long before the last byte went in */
        if (pieces[p] < len / 4)
            CHECK_MSG(first < len / 2, "first PCM only after %zu of %zu bytes", first, len);
        free(out.x);
    }
    unlink(path);
    free(ref);
    free(data);
}

static const struct dec_case dec_cases[] = {
    {CHORUS_FORMAT_WAV, "sox -n -r 24000 -c 1 -b 16 '%s' synth 1 sine 440", "wav", 1e-6, NULL},
    {CHORUS_FORMAT_WAV, "sox -n -r 44100 -c 2 -b 24 '%s' synth 1 sine 300 sine 500", "wav", 1e-5,
     "pan=mono|c0=0.5*c0+0.5*c1"},
    {CHORUS_FORMAT_WAV, "sox -n -r 16000 -c 1 -b 8 -e unsigned '%s' synth 1 sine 440", "wav", 1e-6, NULL},
    {CHORUS_FORMAT_WAV, "sox -n -r 22050 -c 1 -e float -b 32 '%s' synth 1 sine 440", "wav", 1e-6, NULL},
    {CHORUS_FORMAT_WAV, "sox -n -r 48000 -c 1 -b 32 '%s' synth 1 sine 440", "wav", 1e-6, NULL},
    /* WAVE_FORMAT_EXTENSIBLE, 3 channels, and a LIST chunk before the data */
    {CHORUS_FORMAT_WAV,
     "ffmpeg -nostdin -y -f lavfi -i 'sine=f=440:d=1:r=24000' -af 'pan=3c|c0=c0|c1=c0|c2=c0' "
     "-metadata title=chorus -c:a pcm_s16le '%s'", "wav", 1e-4,
     "pan=mono|c0=0.333333*c0+0.333333*c1+0.333334*c2"},
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
    CHECK_EQ_INT(chorus_decoder_create(&d, CHORUS_FORMAT_PCM, 0, tpcm_cb, &out, err, sizeof err), CHORUS_E_FORMAT);
    CHECK(strstr(err, "rate"));
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
    RUN(raw_pcm);
    RUN(wav_errors);
    return test_summary();
}
