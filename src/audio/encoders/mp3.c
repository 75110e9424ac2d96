/*
 * mp3.c — MPEG audio layer III through libmp3lame, mono.
 *
 * CBR 128 kbit/s by default (the bitrate option changes it; the VBR option switches to LAME's
 * default VBR mode, quality 4). The rate is one MPEG allows (format table); the bitrate must be
 * one that the rate's MPEG version has: 32-320 for 32/44.1/48 kHz, 8-160 for 16/22.05/24 kHz,
 * 8-64 for 8/11.025/12 kHz. The default (128) is lowered to 64 for the last group.
 * Streaming outputs carry no Xing/LAME tag (it must be written at the start once the stream is
 * complete); seekable outputs get LAME's placeholder frame first and chorus_encoder_header()
 * returns the final tag frame to write over it (exact length, gapless delay/padding).
 */
#include <stdio.h>

#include <lame/lame.h>

#include "audio/encoders/encoders.h"

#define MP3_BUF (CHORUS_ENC_PIECE * 5 / 4 + 7200)
#define MP3_DEFAULT_KBPS 128

struct mp3_priv {
    lame_t lame;
    int tagged;
    unsigned char buf[MP3_BUF];
};

static const int br_mpeg1[] = {32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0};
static const int br_mpeg2[] = {8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0};
static const int br_mpeg25[] = {8, 16, 24, 32, 40, 48, 56, 64, 0};

static const int *bitrates_for(int rate) {
    if (rate >= 32000) return br_mpeg1;
    if (rate >= 16000) return br_mpeg2;
    return br_mpeg25;
}

static int mp3_init(struct chorus_encoder *e, const struct chorus_encoder_opts *o) {
    struct mp3_priv *p = e->priv;
    const int *brs = bitrates_for(e->sample_rate);
    int kbps = o->bitrate_kbps;
    if (kbps == 0) {
        kbps = MP3_DEFAULT_KBPS;
        int top = 0;
        for (const int *b = brs; *b; b++) top = *b;
        if (kbps > top) kbps = top;
    } else {
        int ok = 0;
        char list[160] = "";
        size_t len = 0;
        for (const int *b = brs; *b; b++) {
            if (*b == kbps) ok = 1;
            int k = snprintf(list + len, sizeof list - len, "%s%d", b == brs ? "" : ", ", *b);
            if (k > 0 && (size_t)k < sizeof list - len) len += (size_t)k;
        }
        if (!ok)
            return chorus_encoder_fail(e, CHORUS_E_FORMAT,
                                       "mp3 at %d Hz cannot use %d kbit/s; allowed: %s kbit/s",
                                       e->sample_rate, kbps, list);
    }
    p->lame = lame_init();
    if (!p->lame) return chorus_encoder_fail(e, CHORUS_E_NOMEM, "mp3: lame_init failed");
    lame_set_num_channels(p->lame, 1);
    lame_set_mode(p->lame, MONO);
    lame_set_in_samplerate(p->lame, e->sample_rate);
    lame_set_out_samplerate(p->lame, e->sample_rate);
    lame_set_quality(p->lame, 5);
    if (o->vbr) {
        lame_set_VBR(p->lame, vbr_default);
        lame_set_VBR_quality(p->lame, 4.0f);
        if (o->bitrate_kbps) lame_set_VBR_max_bitrate_kbps(p->lame, kbps);
    } else {
        lame_set_VBR(p->lame, vbr_off);
        lame_set_brate(p->lame, kbps);
    }
    p->tagged = o->seekable != 0;
    lame_set_bWriteVbrTag(p->lame, p->tagged);
    if (lame_init_params(p->lame) < 0)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT,
                                   "mp3: libmp3lame rejected %d Hz at %d kbit/s%s", e->sample_rate,
                                   kbps, o->vbr ? " (VBR)" : "");
    return CHORUS_OK;
}

static int mp3_write(struct chorus_encoder *e, const float *x, size_t n) {
    struct mp3_priv *p = e->priv;
    while (n) {
        size_t k = n < CHORUS_ENC_PIECE ? n : CHORUS_ENC_PIECE;
        int r = lame_encode_buffer_ieee_float(p->lame, x, x, (int)k, p->buf, MP3_BUF);
        if (r < 0) return chorus_encoder_fail(e, CHORUS_E_FORMAT, "mp3: libmp3lame failed (%d)", r);
        int rc = chorus_encoder_emit(e, p->buf, (size_t)r);
        if (rc) return rc;
        x += k;
        n -= k;
    }
    return CHORUS_OK;
}

static int mp3_finish(struct chorus_encoder *e) {
    struct mp3_priv *p = e->priv;
    int r = lame_encode_flush(p->lame, p->buf, MP3_BUF);
    if (r < 0) return chorus_encoder_fail(e, CHORUS_E_FORMAT, "mp3: libmp3lame flush failed (%d)", r);
    return chorus_encoder_emit(e, p->buf, (size_t)r);
}

/* The Info/LAME tag is one whole MP3 frame (384-576 bytes at our settings, at most 1441); LAME
 * returns the size it needs, without writing, when cap is too small. */
static int mp3_header(struct chorus_encoder *e, unsigned char *buf, size_t cap, size_t *len) {
    struct mp3_priv *p = e->priv;
    *len = 0;
    if (!p->tagged) return CHORUS_OK; /* streaming: nothing to rewrite */
    size_t n = lame_get_lametag_frame(p->lame, buf, cap);
    if (n == 0)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT, "mp3: libmp3lame gave no Info (gapless) frame");
    if (n > cap)
        return chorus_encoder_fail(e, CHORUS_E_INVALID,
                                   "mp3: the Info (gapless) frame needs %zu bytes, the buffer has %zu", n, cap);
    *len = n;
    return CHORUS_OK;
}

static void mp3_release(struct chorus_encoder *e) {
    struct mp3_priv *p = e->priv;
    if (p->lame) lame_close(p->lame);
}

const struct chorus_encoder_vt chorus_enc_mp3 = {
    .format = CHORUS_FORMAT_MP3,
    .priv_size = sizeof(struct mp3_priv),
    .init = mp3_init,
    .write = mp3_write,
    .finish = mp3_finish,
    .release = mp3_release,
    .header = mp3_header,
};
