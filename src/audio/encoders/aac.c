/*
 * aac.c — AAC-LC in ADTS through libavcodec's native "aac" encoder, mono, 64 kbit/s by default
 * (option: 16-320 kbit/s). Debian's FFmpeg has no libfdk-aac; the native encoder is the one
 * FFmpeg recommends. libavformat is not needed: each packet gets its 7-byte ADTS header here.
 * Input is gathered into the encoder's 1024-sample frames; every packet leaves as soon as the
 * encoder returns it (the encoder delays output by about two frames).
 */
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

#include "audio/encoders/encoders.h"

#define AAC_DEFAULT_KBPS 64
#define ADTS_HEADER_LEN 7

static const int adts_rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                 22050, 16000, 12000, 11025, 8000,  7350};

struct aac_priv {
    AVCodecContext *ctx;
    AVFrame *frame;
    AVPacket *pkt;
    int rate_index;
    int fill; /* samples in the frame being gathered */
    int64_t pts;
    unsigned char out[ADTS_HEADER_LEN + 8192];
};

static void aac_quiet_logs(void) {
    /* libav* logs to stderr by default; chorus reports errors itself (process-wide setting) */
    av_log_set_level(AV_LOG_QUIET);
}

static int aac_init(struct chorus_encoder *e, const struct chorus_encoder_opts *o) {
    struct aac_priv *p = e->priv;
    aac_quiet_logs();
    int kbps = o->bitrate_kbps ? o->bitrate_kbps : AAC_DEFAULT_KBPS;
    if (kbps < 16 || kbps > 320)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT,
                                   "aac cannot use %d kbit/s; allowed: 16 to 320 kbit/s", kbps);
    p->rate_index = -1;
    for (int i = 0; i < (int)(sizeof adts_rates / sizeof adts_rates[0]); i++)
        if (adts_rates[i] == e->sample_rate) p->rate_index = i;
    if (p->rate_index < 0)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT, "aac: ADTS cannot carry %d Hz", e->sample_rate);
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    if (!codec)
        return chorus_encoder_fail(e, CHORUS_E_FORMAT,
                                   "aac: this libavcodec has no native aac encoder");
    p->ctx = avcodec_alloc_context3(codec);
    p->frame = av_frame_alloc();
    p->pkt = av_packet_alloc();
    if (!p->ctx || !p->frame || !p->pkt) return chorus_encoder_fail(e, CHORUS_E_NOMEM, "aac: out of memory");
    p->ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
    p->ctx->sample_rate = e->sample_rate;
    p->ctx->bit_rate = (int64_t)kbps * 1000;
    p->ctx->profile = FF_PROFILE_AAC_LOW;
    p->ctx->time_base = (AVRational){1, e->sample_rate};
    av_channel_layout_default(&p->ctx->ch_layout, 1);
    int r = avcodec_open2(p->ctx, codec, NULL);
    if (r < 0) {
        char msg[128];
        av_strerror(r, msg, sizeof msg);
        return chorus_encoder_fail(e, CHORUS_E_FORMAT, "aac: cannot open the encoder at %d Hz, %d kbit/s: %s",
                                   e->sample_rate, kbps, msg);
    }
    p->frame->format = AV_SAMPLE_FMT_FLTP;
    p->frame->nb_samples = p->ctx->frame_size;
    p->frame->sample_rate = e->sample_rate;
    av_channel_layout_copy(&p->frame->ch_layout, &p->ctx->ch_layout);
    if (av_frame_get_buffer(p->frame, 0) < 0)
        return chorus_encoder_fail(e, CHORUS_E_NOMEM, "aac: out of memory");
    return CHORUS_OK;
}

/* Emit every packet the encoder has ready, each behind its ADTS header. */
static int aac_drain(struct chorus_encoder *e, struct aac_priv *p) {
    for (;;) {
        int r = avcodec_receive_packet(p->ctx, p->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return CHORUS_OK;
        if (r < 0) return chorus_encoder_fail(e, CHORUS_E_FORMAT, "aac: encoding failed (%d)", r);
        size_t len = (size_t)p->pkt->size + ADTS_HEADER_LEN;
        if (len > 8191 || len > sizeof p->out) {
            av_packet_unref(p->pkt);
            return chorus_encoder_fail(e, CHORUS_E_FORMAT, "aac: packet of %d bytes is too large for ADTS", p->pkt->size);
        }
        unsigned char *h = p->out;
        h[0] = 0xFF;
        h[1] = 0xF1; /* MPEG-4, layer 0, no CRC */
        h[2] = (unsigned char)((1 << 6) | (p->rate_index << 2) | 0); /* AAC LC (object 2 - 1) */
        h[3] = (unsigned char)((1 << 6) | ((len >> 11) & 0x3)); /* channel config 1 */
        h[4] = (unsigned char)((len >> 3) & 0xFF);
        h[5] = (unsigned char)(((len & 0x7) << 5) | 0x1F); /* buffer fullness 0x7FF: VBR */
        h[6] = 0xFC;
        memcpy(h + ADTS_HEADER_LEN, p->pkt->data, (size_t)p->pkt->size);
        av_packet_unref(p->pkt);
        int rc = chorus_encoder_emit(e, h, len);
        if (rc) return rc;
    }
}

static int aac_send(struct chorus_encoder *e, struct aac_priv *p, AVFrame *f) {
    int r = avcodec_send_frame(p->ctx, f);
    if (r < 0) return chorus_encoder_fail(e, CHORUS_E_FORMAT, "aac: encoder refused a frame (%d)", r);
    return aac_drain(e, p);
}

static int aac_write(struct chorus_encoder *e, const float *x, size_t n) {
    struct aac_priv *p = e->priv;
    while (n) {
        if (p->fill == 0 && av_frame_make_writable(p->frame) < 0)
            return chorus_encoder_fail(e, CHORUS_E_NOMEM, "aac: out of memory");
        size_t k = (size_t)(p->ctx->frame_size - p->fill);
        if (k > n) k = n;
        float *dst = (float *)p->frame->data[0] + p->fill;
        for (size_t i = 0; i < k; i++) dst[i] = x[i] == x[i] ? x[i] : 0.0f;
        p->fill += (int)k;
        x += k;
        n -= k;
        if (p->fill == p->ctx->frame_size) {
            p->frame->nb_samples = p->fill;
            p->frame->pts = p->pts;
            p->pts += p->fill;
            p->fill = 0;
            int rc = aac_send(e, p, p->frame);
            if (rc) return rc;
        }
    }
    return CHORUS_OK;
}

static int aac_finish(struct chorus_encoder *e) {
    struct aac_priv *p = e->priv;
    int rc;
    if (p->fill) {
        /* the last, partial frame: the encoder takes a short final frame */
        p->frame->nb_samples = p->fill;
        p->frame->pts = p->pts;
        p->pts += p->fill;
        p->fill = 0;
        if ((rc = aac_send(e, p, p->frame))) return rc;
    }
    return aac_send(e, p, NULL);
}

static void aac_release(struct chorus_encoder *e) {
    struct aac_priv *p = e->priv;
    av_packet_free(&p->pkt);
    av_frame_free(&p->frame);
    avcodec_free_context(&p->ctx);
}

const struct chorus_encoder_vt chorus_enc_aac = {
    .format = CHORUS_FORMAT_AAC,
    .priv_size = sizeof(struct aac_priv),
    .init = aac_init,
    .write = aac_write,
    .finish = aac_finish,
    .release = aac_release,
    .header = NULL,
};
