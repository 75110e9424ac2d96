/*
 * opus.c — Ogg Opus through libopusenc's callback API, mono.
 *
 * libopusenc takes any input rate and resamples to Opus's 48 kHz itself; the OpusHead keeps the
 * input rate as "original rate". Default 48 kbit/s VBR (bitrate option: 6-510), signal type
 * voice. Headers are flushed at init so a stream starts at once, and the muxing delay is
 * lowered to 200 ms so pages leave while synthesis runs (a page per ~200 ms of audio).
 */
#include <opus/opusenc.h>

#include "audio/encoders/encoders.h"

#define OPUS_DEFAULT_KBPS 48
#define OPUS_MUX_DELAY 9600 /* 48 kHz samples: 200 ms */

struct opus_priv {
    OggOpusEnc *enc;
    OggOpusComments *comments;
    struct chorus_encoder *e;
    int sink_rc; /* status of the last failing emit */
};

static int opus_write_cb(void *ud, const unsigned char *ptr, opus_int32 len) {
    struct opus_priv *p = ud;
    int rc = chorus_encoder_emit(p->e, ptr, (size_t)len);
    if (rc) p->sink_rc = rc;
    return rc ? 1 : 0;
}

static int opus_close_cb(void *ud) { return 0; }

static int opus_init(struct chorus_encoder *e, const struct chorus_encoder_opts *o) {
    struct opus_priv *p = e->priv;
    p->e = e;
    int kbps = o->bitrate_kbps ? o->bitrate_kbps : OPUS_DEFAULT_KBPS;
    if (kbps < 6 || kbps > 510)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT,
                                   "opus cannot use %d kbit/s; allowed: 6 to 510 kbit/s", kbps);
    p->comments = ope_comments_create();
    if (!p->comments) return chorus_encoder_fail(e, CHORUS_E_NOMEM, "opus: out of memory");
    ope_comments_add(p->comments, "ENCODER", "chorus");
    OpusEncCallbacks cbs = {opus_write_cb, opus_close_cb};
    int err = 0;
    p->enc = ope_encoder_create_callbacks(&cbs, p, p->comments, e->sample_rate, 1, 0, &err);
    if (!p->enc)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT, "opus: cannot create the encoder at %d Hz: %s",
                                   e->sample_rate, ope_strerror(err));
    ope_encoder_ctl(p->enc, OPUS_SET_BITRATE(kbps * 1000));
    ope_encoder_ctl(p->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    ope_encoder_ctl(p->enc, OPE_SET_MUXING_DELAY(OPUS_MUX_DELAY));
    /* libopusenc holds up to 2 s of input by default to decide on packet sizes: too late */
    ope_encoder_ctl(p->enc, OPE_SET_DECISION_DELAY(OPUS_MUX_DELAY));
    err = ope_encoder_flush_header(p->enc);
    if (p->sink_rc) return p->sink_rc;
    if (err != OPE_OK)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT, "opus: cannot write the headers: %s", ope_strerror(err));
    return CHORUS_OK;
}

static int opus_write(struct chorus_encoder *e, const float *x, size_t n) {
    struct opus_priv *p = e->priv;
    while (n) {
        size_t k = n < CHORUS_ENC_PIECE ? n : CHORUS_ENC_PIECE;
        int err = ope_encoder_write_float(p->enc, x, (int)k);
        if (p->sink_rc) return p->sink_rc;
        if (err != OPE_OK)
            return chorus_encoder_fail(e, CHORUS_E_FORMAT, "opus: encoding failed: %s", ope_strerror(err));
        x += k;
        n -= k;
    }
    return CHORUS_OK;
}

static int opus_finish(struct chorus_encoder *e) {
    struct opus_priv *p = e->priv;
    int err = ope_encoder_drain(p->enc);
    if (p->sink_rc) return p->sink_rc;
    if (err != OPE_OK)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT, "opus: draining failed: %s", ope_strerror(err));
    return CHORUS_OK;
}

static void opus_release(struct chorus_encoder *e) {
    struct opus_priv *p = e->priv;
    if (p->enc) ope_encoder_destroy(p->enc);
    if (p->comments) ope_comments_destroy(p->comments);
}

const struct chorus_encoder_vt chorus_enc_opus = {
    .format = CHORUS_FORMAT_OPUS,
    .priv_size = sizeof(struct opus_priv),
    .init = opus_init,
    .write = opus_write,
    .finish = opus_finish,
    .release = opus_release,
    .header = NULL,
};
