/*
 * flac.c — FLAC through libFLAC's stream encoder (init_stream + write callback), 16-bit mono,
 * streamable subset, compression level 5 by default (option: 0-8).
 *
 * A non-seekable stream cannot have its STREAMINFO rewritten, so a streamed FLAC says "total
 * samples unknown" (0) and carries no MD5, which every decoder accepts. For seekable outputs
 * libFLAC hands the final STREAMINFO to the metadata callback at finish; chorus_encoder_header()
 * returns the first 42 bytes of the file ("fLaC", block header, STREAMINFO) rebuilt from it.
 */
#include <string.h>

#include <FLAC/stream_encoder.h>

#include "audio/encoders/encoders.h"

#define FLAC_HEAD_LEN 42 /* "fLaC" + 4-byte block header + 34-byte STREAMINFO */

struct flac_priv {
    FLAC__StreamEncoder *enc;
    struct chorus_encoder *e;
    int sink_rc;
    unsigned char head[FLAC_HEAD_LEN]; /* the first bytes written, then the final STREAMINFO */
    size_t head_len;
    int have_final;
    int closing; /* being destroyed: libFLAC may still write, drop it */
    FLAC__int32 buf[CHORUS_ENC_PIECE];
};

static FLAC__StreamEncoderWriteStatus flac_write_cb(const FLAC__StreamEncoder *enc,
                                                    const FLAC__byte buffer[], size_t bytes,
                                                    uint32_t samples, uint32_t frame, void *ud) {
    struct flac_priv *p = ud;
    if (p->closing) return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
    if (p->head_len < FLAC_HEAD_LEN) {
        size_t k = FLAC_HEAD_LEN - p->head_len;
        if (k > bytes) k = bytes;
        memcpy(p->head + p->head_len, buffer, k);
        p->head_len += k;
    }
    int rc = chorus_encoder_emit(p->e, buffer, bytes);
    if (rc) {
        p->sink_rc = rc;
        return FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
    }
    return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

static void put_bits(unsigned char *b, unsigned *pos, uint64_t v, unsigned nbits) {
    for (unsigned i = 0; i < nbits; i++, (*pos)++) {
        unsigned bit = (unsigned)(v >> (nbits - 1 - i)) & 1u;
        if (bit) b[*pos / 8] |= (unsigned char)(0x80u >> (*pos % 8));
    }
}

static void flac_metadata_cb(const FLAC__StreamEncoder *enc, const FLAC__StreamMetadata *m,
                             void *ud) {
    struct flac_priv *p = ud;
    if (m->type != FLAC__METADATA_TYPE_STREAMINFO || p->head_len < FLAC_HEAD_LEN) return;
    const FLAC__StreamMetadata_StreamInfo *si = &m->data.stream_info;
    unsigned char *b = p->head + 8;
    memset(b, 0, 34);
    unsigned pos = 0;
    put_bits(b, &pos, si->min_blocksize, 16);
    put_bits(b, &pos, si->max_blocksize, 16);
    put_bits(b, &pos, si->min_framesize, 24);
    put_bits(b, &pos, si->max_framesize, 24);
    put_bits(b, &pos, si->sample_rate, 20);
    put_bits(b, &pos, si->channels - 1, 3);
    put_bits(b, &pos, si->bits_per_sample - 1, 5);
    put_bits(b, &pos, si->total_samples, 36);
    memcpy(b + 18, si->md5sum, 16);
    p->have_final = 1;
}

static int flac_init(struct chorus_encoder *e, const struct chorus_encoder_opts *o) {
    struct flac_priv *p = e->priv;
    p->e = e;
    int level = o->compression < 0 ? 5 : o->compression;
    if (level > 8)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT,
                                   "flac compression level %d is out of range; allowed: 0 to 8", level);
    p->enc = FLAC__stream_encoder_new();
    if (!p->enc) return chorus_encoder_fail(e, CHORUS_E_NOMEM, "flac: out of memory");
    FLAC__stream_encoder_set_channels(p->enc, 1);
    FLAC__stream_encoder_set_bits_per_sample(p->enc, 16);
    FLAC__stream_encoder_set_sample_rate(p->enc, (uint32_t)e->sample_rate);
    FLAC__stream_encoder_set_compression_level(p->enc, (uint32_t)level);
    FLAC__stream_encoder_set_streamable_subset(p->enc, e->sample_rate <= 65535 * 10);
    FLAC__StreamEncoderInitStatus st = FLAC__stream_encoder_init_stream(
        p->enc, flac_write_cb, NULL, NULL, flac_metadata_cb, p);
    if (p->sink_rc) return p->sink_rc;
    if (st != FLAC__STREAM_ENCODER_INIT_STATUS_OK)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT, "flac: cannot start the encoder at %d Hz: %s",
                                   e->sample_rate, FLAC__StreamEncoderInitStatusString[st]);
    return CHORUS_OK;
}

static int flac_state_fail(struct chorus_encoder *e, struct flac_priv *p, const char *what) {
    if (p->sink_rc) return p->sink_rc;
    return chorus_encoder_fail(e, CHORUS_E_FORMAT, "flac: %s failed: %s", what,
                               FLAC__stream_encoder_get_resolved_state_string(p->enc));
}

static int flac_write(struct chorus_encoder *e, const float *x, size_t n) {
    struct flac_priv *p = e->priv;
    while (n) {
        size_t k = n < CHORUS_ENC_PIECE ? n : CHORUS_ENC_PIECE;
        for (size_t i = 0; i < k; i++) p->buf[i] = chorus_pcm_f32_to_s16(x[i]);
        if (!FLAC__stream_encoder_process_interleaved(p->enc, p->buf, (uint32_t)k))
            return flac_state_fail(e, p, "encoding");
        x += k;
        n -= k;
    }
    return CHORUS_OK;
}

static int flac_finish(struct chorus_encoder *e) {
    struct flac_priv *p = e->priv;
    if (!FLAC__stream_encoder_finish(p->enc)) return flac_state_fail(e, p, "finishing");
    return CHORUS_OK;
}

static int flac_header(struct chorus_encoder *e, unsigned char *buf, size_t cap, size_t *len) {
    struct flac_priv *p = e->priv;
    if (!p->have_final || cap < FLAC_HEAD_LEN) return CHORUS_E_INVALID;
    memcpy(buf, p->head, FLAC_HEAD_LEN);
    *len = FLAC_HEAD_LEN;
    return CHORUS_OK;
}

static void flac_release(struct chorus_encoder *e) {
    struct flac_priv *p = e->priv;
    p->closing = 1;
    if (p->enc) FLAC__stream_encoder_delete(p->enc);
}

const struct chorus_encoder_vt chorus_enc_flac = {
    .format = CHORUS_FORMAT_FLAC,
    .priv_size = sizeof(struct flac_priv),
    .init = flac_init,
    .write = flac_write,
    .finish = flac_finish,
    .release = flac_release,
    .header = flac_header,
};
