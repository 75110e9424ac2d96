/*
 * wav.c — 16-bit PCM RIFF/WAVE, mono.
 *
 * The 44-byte header goes out at init, before any audio, so a streaming sink gets bytes at once.
 * Its RIFF and data sizes are 0xFFFFFFFF, the conventional "length unknown" value that ffmpeg,
 * sox and most players read as "until the end of the stream". A seekable sink rewrites the
 * header after finish with the exact one from chorus_encoder_header(). WAV cannot describe more
 * than 4 GiB: past that (about 24 h at 24 kHz) the exact header keeps the sizes at 0xFFFFFFFF.
 */
#include <string.h>

#include "audio/encoders/encoders.h"

#define WAV_HEADER_LEN 44u
#define WAV_UNKNOWN 0xFFFFFFFFu

struct wav_priv {
    unsigned char buf[CHORUS_ENC_PIECE * 2];
};

static void put_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put_le16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

/* data_bytes == UINT64_MAX: unknown length */
static void wav_make_header(unsigned char *h, int rate, uint64_t data_bytes) {
    uint32_t riff = WAV_UNKNOWN, data = WAV_UNKNOWN;
    if (data_bytes <= (uint64_t)WAV_UNKNOWN - 36u) {
        data = (uint32_t)data_bytes;
        riff = (uint32_t)data_bytes + 36u;
    }
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, riff);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);                    /* fmt chunk size */
    put_le16(h + 20, 1);                     /* WAVE_FORMAT_PCM */
    put_le16(h + 22, 1);                     /* channels */
    put_le32(h + 24, (uint32_t)rate);        /* sample rate */
    put_le32(h + 28, (uint32_t)rate * 2u);   /* byte rate */
    put_le16(h + 32, 2);                     /* block align */
    put_le16(h + 34, 16);                    /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, data);
}

static int wav_init(struct chorus_encoder *e, const struct chorus_encoder_opts *o) {
    unsigned char h[WAV_HEADER_LEN];
    wav_make_header(h, e->sample_rate, UINT64_MAX);
    return chorus_encoder_emit(e, h, sizeof h);
}

static int wav_write(struct chorus_encoder *e, const float *x, size_t n) {
    struct wav_priv *p = e->priv;
    while (n) {
        size_t k = n < CHORUS_ENC_PIECE ? n : CHORUS_ENC_PIECE;
        chorus_pcm_f32_to_s16le(x, p->buf, k);
        int rc = chorus_encoder_emit(e, p->buf, k * 2);
        if (rc) return rc;
        x += k;
        n -= k;
    }
    return CHORUS_OK;
}

static int wav_finish(struct chorus_encoder *e) { return CHORUS_OK; }

static int wav_header(struct chorus_encoder *e, unsigned char *buf, size_t cap, size_t *len) {
    if (cap < WAV_HEADER_LEN) return CHORUS_E_INVALID;
    wav_make_header(buf, e->sample_rate, e->samples_in * 2u);
    *len = WAV_HEADER_LEN;
    return CHORUS_OK;
}

const struct chorus_encoder_vt chorus_enc_wav = {
    .format = CHORUS_FORMAT_WAV,
    .priv_size = sizeof(struct wav_priv),
    .init = wav_init,
    .write = wav_write,
    .finish = wav_finish,
    .release = NULL,
    .header = wav_header,
};
