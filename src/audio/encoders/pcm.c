/* pcm.c — raw signed 16-bit little-endian mono, no header (OpenAI's "pcm"). */
#include "audio/encoders/encoders.h"

struct pcm_priv {
    unsigned char buf[CHORUS_ENC_PIECE * 2];
};

static int pcm_init(struct chorus_encoder *e, const struct chorus_encoder_opts *o) {
    return CHORUS_OK;
}

static int pcm_write(struct chorus_encoder *e, const float *x, size_t n) {
    struct pcm_priv *p = e->priv;
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

static int pcm_finish(struct chorus_encoder *e) { return CHORUS_OK; }

const struct chorus_encoder_vt chorus_enc_pcm = {
    .format = CHORUS_FORMAT_PCM,
    .priv_size = sizeof(struct pcm_priv),
    .init = pcm_init,
    .write = pcm_write,
    .finish = pcm_finish,
    .release = NULL,
    .header = NULL,
};
