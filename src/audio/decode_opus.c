/*
 * decode_opus.c — streaming Ogg Opus decoder: libogg finds pages in whatever bytes have
 * arrived (skipping garbage to the next capture pattern), libopus decodes each packet at once.
 *
 * Follows RFC 7845: OpusHead (channels, pre-skip, output gain), OpusTags skipped, the first
 * pre-skip samples dropped, and the end trimmed to the final page's granule position. Output is
 * 48 kHz mono (stereo is averaged). Mapping family 0 (mono/stereo) only; other families are an
 * error naming the family. Only the first logical stream is decoded (chained streams end it).
 * Memory: libogg keeps at most one page (<= 64 KiB) plus the bytes of the current feed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ogg/ogg.h>
#include <opus/opus.h>

#include "audio/decoders.h"

#define OPUS_RATE 48000
#define OPUS_MAX_FRAME 5760 /* 120 ms at 48 kHz */

struct opus_dec {
    ogg_sync_state oy;
    ogg_stream_state os;
    int os_init;
    int done; /* EOS seen: later pages are ignored */
    int packets;
    OpusDecoder *dec;
    int channels;
    int preskip_left;
    float gain;
    int preskip;
    int64_t eos_granule; /* granule position of the last page; -1 unknown */
    int64_t emitted;
    uint64_t bad_packets, garbage;
    float pcm[OPUS_MAX_FRAME * 2];
    float mono[OPUS_MAX_FRAME];
};

static int op_init(struct chorus_decoder *d) {
    struct opus_dec *o = d->priv = calloc(1, sizeof *o);
    if (!o) return CHORUS_E_NOMEM;
    ogg_sync_init(&o->oy);
    o->eos_granule = -1;
    return CHORUS_OK;
}

static int op_head(struct chorus_decoder *d, struct opus_dec *o, const ogg_packet *op) {
    const unsigned char *p = op->packet;
    if (op->bytes < 19 || memcmp(p, "OpusHead", 8) != 0)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "opus: the Ogg stream is not Opus (no OpusHead)");
    if ((p[8] & 0xf0) != 0)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "opus: unsupported OpusHead version %d", p[8]);
    int ch = p[9], family = p[18];
    if (family != 0 || ch < 1 || ch > 2)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                   "opus: channel mapping family %d with %d channels is not supported "
                                   "(mono or stereo only)", family, ch);
    o->channels = ch;
    o->preskip = o->preskip_left = p[10] | p[11] << 8;
    int16_t gain_q8 = (int16_t)(p[16] | p[17] << 8);
    o->gain = powf(10.0f, (float)gain_q8 / (20.0f * 256.0f));
    int err = 0;
    o->dec = opus_decoder_create(OPUS_RATE, ch, &err);
    if (!o->dec)
        return chorus_decoder_fail(d, CHORUS_E_NOMEM, "opus: cannot create the decoder: %s", opus_strerror(err));
    return CHORUS_OK;
}

static int op_audio(struct chorus_decoder *d, struct opus_dec *o, const ogg_packet *op) {
    int n = opus_decode_float(o->dec, op->packet, (opus_int32)op->bytes, o->pcm, OPUS_MAX_FRAME, 0);
    if (n < 0) {
        o->bad_packets++;
        return CHORUS_OK;
    }
    int start = 0;
    if (o->preskip_left) {
        start = n < o->preskip_left ? n : o->preskip_left;
        o->preskip_left -= start;
    }
    int64_t k = n - start;
    if (o->eos_granule >= 0) {
        int64_t limit = o->eos_granule - o->preskip;
        if (o->emitted + k > limit) k = limit - o->emitted;
    }
    if (k <= 0) return CHORUS_OK;
    for (int64_t i = 0; i < k; i++) {
        const float *f = o->pcm + (size_t)(start + i) * (size_t)o->channels;
        float s = o->channels == 2 ? 0.5f * (f[0] + f[1]) : f[0];
        o->mono[i] = s * o->gain;
    }
    o->emitted += k;
    return chorus_decoder_emit(d, o->mono, (size_t)k, OPUS_RATE);
}

static int op_pages(struct chorus_decoder *d, struct opus_dec *o) {
    ogg_page og;
    for (;;) {
        int r = ogg_sync_pageout(&o->oy, &og);
        if (r == 0) return CHORUS_OK;
        if (r < 0) {
            o->garbage++; /* bytes skipped to the next page */
            continue;
        }
        if (o->done) continue;
        if (!o->os_init) {
            if (!ogg_page_bos(&og)) continue; /* wait for a stream's first page */
            ogg_stream_init(&o->os, ogg_page_serialno(&og));
            o->os_init = 1;
        }
        if (ogg_page_serialno(&og) != o->os.serialno) continue;
        if (ogg_stream_pagein(&o->os, &og) != 0) continue;
        if (ogg_page_eos(&og)) {
            o->done = 1;
            /* the final granule position counts the pre-skip samples too */
            o->eos_granule = ogg_page_granulepos(&og);
        }
        ogg_packet op;
        int pr;
        while ((pr = ogg_stream_packetout(&o->os, &op)) != 0) {
            if (pr < 0) {
                o->bad_packets++; /* a gap in the page sequence */
                continue;
            }
            int rc = CHORUS_OK;
            if (o->packets == 0) rc = op_head(d, o, &op);
            else if (o->packets >= 2) rc = op_audio(d, o, &op);
            o->packets++;
            if (rc) return rc;
        }
    }
}

static int op_feed(struct chorus_decoder *d, const unsigned char *p, size_t n) {
    struct opus_dec *o = d->priv;
    while (n) {
        /* hand libogg bounded pieces so its buffer stays small */
        size_t k = n < 65536 ? n : 65536;
        char *buf = ogg_sync_buffer(&o->oy, (long)k);
        if (!buf) return chorus_decoder_fail(d, CHORUS_E_NOMEM, "opus: out of memory");
        memcpy(buf, p, k);
        ogg_sync_wrote(&o->oy, (long)k);
        int rc = op_pages(d, o);
        if (rc) return rc;
        p += k;
        n -= k;
    }
    return CHORUS_OK;
}

static int op_finish(struct chorus_decoder *d) {
    struct opus_dec *o = d->priv;
    if (!o->dec)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "opus: no Ogg Opus stream found in the data");
    if (d->samples_out == 0 && o->bad_packets)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "opus: no decodable audio (%llu damaged packets)",
                                   (unsigned long long)o->bad_packets);
    return CHORUS_OK;
}

static void op_release(struct chorus_decoder *d) {
    struct opus_dec *o = d->priv;
    if (!o) return;
    if (o->dec) opus_decoder_destroy(o->dec);
    if (o->os_init) ogg_stream_clear(&o->os);
    ogg_sync_clear(&o->oy);
}

const struct chorus_decoder_ops chorus_dec_opus = {op_init, op_feed, op_finish, op_release};
