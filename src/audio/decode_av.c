/*
 * decode_av.c — streaming decoders for mp3, aac (ADTS) and flac through libavcodec's parsers
 * and decoders (no libavformat: bytes arrive from the network, not from a file).
 *
 * feed() copies the new bytes through a fixed input window into the codec's parser, which cuts
 * them into packets as soon as a whole frame is there; each packet is decoded at once and its
 * PCM (downmixed to mono) goes out. A leading ID3v2 tag (mp3, aac) is skipped. FLAC's "fLaC"
 * header and metadata blocks are read here and STREAMINFO is given to the decoder as extradata;
 * FLAC frames are cut here too, not by libavcodec's parser (which holds ten frames back, over
 * a second of audio): a frame ends where the next frame's sync code follows bytes whose
 * CRC-16 matches the two before it, so a frame goes out as soon as the next one starts.
 * Packets the decoder rejects (garbage between frames) are skipped and counted; a stream from
 * which nothing decodes is an error at finish. An mp3's Xing/Info frame is dropped, and when it
 * carries LAME's encoder delay and padding they are trimmed (gapless, as ffmpeg does); other
 * encoder delays are not (ADTS has nowhere to say them).
 */
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>

#include "audio/decoders.h"

#define AV_IN_CHUNK 4096
#define FLAC_BUF_CAP (1u << 18) /* larger than any frame of 16/24-bit mono or stereo */

enum av_state { AS_START, AS_ID3, AS_FLAC_META_HDR, AS_FLAC_META_SKIP, AS_FRAMES };

struct av_dec {
    enum AVCodecID id;
    const AVCodec *codec;
    AVCodecParserContext *parser;
    AVCodecContext *ctx;
    AVPacket *pkt;
    AVFrame *frame;
    enum av_state st;
    unsigned char head[42]; /* start of stream: ID3 header / fLaC + STREAMINFO */
    size_t head_len, head_need;
    uint64_t skip;
    int flac_last_block;
    unsigned char streaminfo[34];
    int have_streaminfo;
    uint64_t bytes_in, bad_packets, frames, garbage;
    /* mp3 gapless: from a Xing/Info frame's LAME tag */
    int mp3_checked;
    uint64_t skip_left; /* decoded samples still to drop at the start */
    int64_t limit;      /* samples to emit in all; -1 unknown */
    int64_t emitted;
    /* flac framing */
    unsigned char *fbuf, *fpkt;
    size_t flen, fscan, fcrc_pos;
    unsigned fcrc;
    unsigned char in[AV_IN_CHUNK + AV_INPUT_BUFFER_PADDING_SIZE];
    float out[CHORUS_DEC_PIECE];
};

static const char *fmt_name(const struct chorus_decoder *d) { return chorus_format_name(d->format); }

static int av_open(struct chorus_decoder *d, struct av_dec *a) {
    a->ctx = avcodec_alloc_context3(a->codec);
    if (!a->ctx) return chorus_decoder_fail(d, CHORUS_E_NOMEM, "%s: out of memory", fmt_name(d));
    if (a->have_streaminfo) {
        a->ctx->extradata = av_mallocz(34 + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!a->ctx->extradata) return chorus_decoder_fail(d, CHORUS_E_NOMEM, "%s: out of memory", fmt_name(d));
        memcpy(a->ctx->extradata, a->streaminfo, 34);
        a->ctx->extradata_size = 34;
    }
    if (avcodec_open2(a->ctx, a->codec, NULL) < 0)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "%s: cannot open the decoder", fmt_name(d));
    return CHORUS_OK;
}

static int av_init(struct chorus_decoder *d) {
    struct av_dec *a = d->priv = calloc(1, sizeof *a);
    if (!a) return CHORUS_E_NOMEM;
    av_log_set_level(AV_LOG_QUIET); /* errors are reported through chorus (process-wide) */
    a->id = d->format == CHORUS_FORMAT_MP3 ? AV_CODEC_ID_MP3
          : d->format == CHORUS_FORMAT_AAC ? AV_CODEC_ID_AAC : AV_CODEC_ID_FLAC;
    a->codec = avcodec_find_decoder(a->id);
    if (a->id == AV_CODEC_ID_FLAC) {
        a->fbuf = malloc(FLAC_BUF_CAP);
        a->fpkt = malloc(FLAC_BUF_CAP + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!a->fbuf || !a->fpkt) return chorus_decoder_fail(d, CHORUS_E_NOMEM, "flac: out of memory");
        a->fscan = 2;
    } else {
        a->parser = av_parser_init(a->id);
    }
    a->pkt = av_packet_alloc();
    a->frame = av_frame_alloc();
    if (!a->codec || (!a->parser && !a->fbuf))
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "%s: this libavcodec has no decoder for it", fmt_name(d));
    if (!a->pkt || !a->frame) return chorus_decoder_fail(d, CHORUS_E_NOMEM, "%s: out of memory", fmt_name(d));
    a->st = AS_START;
    a->limit = -1;
    a->head_need = d->format == CHORUS_FORMAT_FLAC ? 4 : 10;
    /* flac waits for STREAMINFO before opening; the others open now */
    if (d->format != CHORUS_FORMAT_FLAC) return av_open(d, a);
    return CHORUS_OK;
}

static float av_sample(const AVFrame *f, int ch, int i, int planar, int nch) {
    const uint8_t *base = planar ? f->extended_data[ch] : f->extended_data[0];
    int idx = planar ? i : i * nch + ch;
    switch (f->format) {
    case AV_SAMPLE_FMT_FLT:
    case AV_SAMPLE_FMT_FLTP: { float v = ((const float *)base)[idx]; return v == v ? v : 0.0f; }
    case AV_SAMPLE_FMT_DBL:
    case AV_SAMPLE_FMT_DBLP: { double v = ((const double *)base)[idx]; return v == v ? (float)v : 0.0f; }
    case AV_SAMPLE_FMT_S16:
    case AV_SAMPLE_FMT_S16P: return ((const int16_t *)base)[idx] / 32768.0f;
    case AV_SAMPLE_FMT_S32:
    case AV_SAMPLE_FMT_S32P: return (float)(((const int32_t *)base)[idx] / 2147483648.0);
    case AV_SAMPLE_FMT_U8:
    case AV_SAMPLE_FMT_U8P: return (((const uint8_t *)base)[idx] - 128) / 128.0f;
    default: return 0.0f;
    }
}

static int av_emit_frame(struct chorus_decoder *d, struct av_dec *a) {
    AVFrame *f = a->frame;
    int nch = f->ch_layout.nb_channels;
    if (nch < 1 || f->sample_rate < 1000 || f->sample_rate > 1000000) return CHORUS_OK;
    int planar = av_sample_fmt_is_planar(f->format);
    size_t k = 0;
    int i0 = 0, i1 = f->nb_samples;
    if (a->skip_left) {
        i0 = a->skip_left < (uint64_t)i1 ? (int)a->skip_left : i1;
        a->skip_left -= (uint64_t)i0;
    }
    if (a->limit >= 0 && a->emitted + (i1 - i0) > a->limit)
        i1 = i0 + (int)(a->limit - a->emitted > 0 ? a->limit - a->emitted : 0);
    a->emitted += i1 - i0;
    for (int i = i0; i < i1; i++) {
        float s = 0.0f;
        for (int c = 0; c < nch; c++) s += av_sample(f, c, i, planar, nch);
        a->out[k++] = s / (float)nch;
        if (k == CHORUS_DEC_PIECE) {
            int rc = chorus_decoder_emit(d, a->out, k, f->sample_rate);
            if (rc) return rc;
            k = 0;
        }
    }
    a->frames++;
    return chorus_decoder_emit(d, a->out, k, f->sample_rate);
}

/* The first mp3 frame may be a Xing/Info frame: it holds no audio (decoding it would give a
 * frame of silence) and, written by LAME, the encoder delay and padding. Returns 1 to drop it.
 * As ffmpeg does, the decoder's own 529-sample delay is dropped with the encoder's. */
static int mp3_info_frame(struct av_dec *a, const uint8_t *p, int n) {
    if (n < 4 || p[0] != 0xFF || (p[1] & 0xE0) != 0xE0) return 0;
    int mpeg1 = ((p[1] >> 3) & 3) == 3, mono = ((p[3] >> 6) & 3) == 3;
    int side = mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17);
    int spf = mpeg1 ? 1152 : 576;
    int x = 4 + side;
    if (n < x + 8 || (memcmp(p + x, "Xing", 4) != 0 && memcmp(p + x, "Info", 4) != 0)) return 0;
    uint32_t flags = (uint32_t)p[x + 4] << 24 | (uint32_t)p[x + 5] << 16 | (uint32_t)p[x + 6] << 8 | p[x + 7];
    int o = x + 8;
    int64_t frames = -1;
    if (flags & 1) {
        if (n < o + 4) return 1;
        frames = (int64_t)((uint32_t)p[o] << 24 | (uint32_t)p[o + 1] << 16 | (uint32_t)p[o + 2] << 8 | p[o + 3]);
        o += 4;
    }
    if (flags & 2) o += 4;
    if (flags & 4) o += 100;
    if (flags & 8) o += 4;
    /* LAME extension: 9-byte version string, then delay/padding 21 bytes in (12 bits each) */
    if (n >= o + 24 && (memcmp(p + o, "LAME", 4) == 0 || memcmp(p + o, "Lavc", 4) == 0 ||
                        memcmp(p + o, "Lavf", 4) == 0)) {
        const uint8_t *dp = p + o + 21;
        int delay = dp[0] << 4 | dp[1] >> 4, pad = (dp[1] & 0x0F) << 8 | dp[2];
        a->skip_left = (uint64_t)delay + 529;
        if (frames > 0) {
            a->limit = frames * spf - delay - pad;
            if (a->limit < 0) a->limit = 0;
        }
    }
    return 1;
}

/* Decode one packet (NULL: flush the decoder) and emit its frames. */
static int av_decode(struct chorus_decoder *d, struct av_dec *a, AVPacket *pkt) {
    if (pkt && d->format == CHORUS_FORMAT_MP3 && !a->mp3_checked) {
        a->mp3_checked = 1;
        if (mp3_info_frame(a, pkt->data, pkt->size)) return CHORUS_OK;
    }
    int r = avcodec_send_packet(a->ctx, pkt);
    if (r < 0 && r != AVERROR_EOF) {
        a->bad_packets++; /* garbage or a damaged frame: skip it */
        if (r != AVERROR(EAGAIN)) return CHORUS_OK;
    }
    for (;;) {
        r = avcodec_receive_frame(a->ctx, a->frame);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return CHORUS_OK;
        if (r < 0) {
            a->bad_packets++;
            return CHORUS_OK;
        }
        int rc = av_emit_frame(d, a);
        av_frame_unref(a->frame);
        if (rc) return rc;
    }
}

/* Run n bytes through the parser, decoding each packet it completes. */
static int av_parse(struct chorus_decoder *d, struct av_dec *a, const unsigned char *p, size_t n) {
    while (n) {
        size_t k = n < AV_IN_CHUNK ? n : AV_IN_CHUNK;
        memcpy(a->in, p, k);
        memset(a->in + k, 0, AV_INPUT_BUFFER_PADDING_SIZE);
        const uint8_t *in = a->in;
        int left = (int)k;
        while (left > 0) {
            uint8_t *out = NULL;
            int out_len = 0;
            int used = av_parser_parse2(a->parser, a->ctx, &out, &out_len, in, left, AV_NOPTS_VALUE,
                                        AV_NOPTS_VALUE, 0);
            if (used < 0 || (used == 0 && out_len == 0))
                return chorus_decoder_fail(d, CHORUS_E_FORMAT, "%s: the parser made no progress", fmt_name(d));
            in += used;
            left -= used;
            if (out_len > 0) {
                a->pkt->data = out;
                a->pkt->size = out_len;
                int rc = av_decode(d, a, a->pkt);
                if (rc) return rc;
            }
        }
        p += k;
        n -= k;
    }
    return CHORUS_OK;
}

/* End of input: the parser may still hold several frames (flac's does); take them all. */
static int av_parse_flush(struct chorus_decoder *d, struct av_dec *a) {
    memset(a->in, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    for (int guard = 0; guard < 1 << 16; guard++) {
        uint8_t *out = NULL;
        int out_len = 0;
        av_parser_parse2(a->parser, a->ctx, &out, &out_len, a->in, 0, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
        if (out_len <= 0) return CHORUS_OK;
        a->pkt->data = out;
        a->pkt->size = out_len;
        int rc = av_decode(d, a, a->pkt);
        if (rc) return rc;
    }
    return CHORUS_OK;
}

/* ---- FLAC framing ---- */

static unsigned crc16_byte(unsigned crc, unsigned char b) {
    crc ^= (unsigned)b << 8;
    for (int i = 0; i < 8; i++) crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x8005u) : (crc << 1);
    return crc & 0xffffu;
}

static int flac_sync_at(const unsigned char *p) { return p[0] == 0xFF && (p[1] & 0xFE) == 0xF8; }

static void flac_drop(struct av_dec *a, size_t n) {
    memmove(a->fbuf, a->fbuf + n, a->flen - n);
    a->flen -= n;
    a->fscan = 2;
    a->fcrc = 0;
    a->fcrc_pos = 0;
}

static int flac_decode_frame(struct chorus_decoder *d, struct av_dec *a, size_t len) {
    memcpy(a->fpkt, a->fbuf, len);
    memset(a->fpkt + len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    a->pkt->data = a->fpkt;
    a->pkt->size = (int)len;
    int rc = av_decode(d, a, a->pkt);
    flac_drop(a, len);
    return rc;
}

/* Cut and decode every complete frame in the buffer. */
static int flac_frames(struct chorus_decoder *d, struct av_dec *a) {
    for (;;) {
        if (a->flen < 2) return CHORUS_OK;
        if (!flac_sync_at(a->fbuf)) { /* resync: skip to the next sync code */
            size_t j = 1;
            while (j + 1 < a->flen && !flac_sync_at(a->fbuf + j)) j++;
            a->garbage += j;
            flac_drop(a, j);
            continue;
        }
        int found = 0;
        for (; a->fscan + 1 < a->flen; a->fscan++) {
            size_t j = a->fscan;
            if (j < 6 || !flac_sync_at(a->fbuf + j)) continue;
            while (a->fcrc_pos < j - 2) a->fcrc = crc16_byte(a->fcrc, a->fbuf[a->fcrc_pos++]);
            if (a->fcrc == ((unsigned)a->fbuf[j - 2] << 8 | a->fbuf[j - 1])) {
                int rc = flac_decode_frame(d, a, j);
                if (rc) return rc;
                found = 1;
                break;
            }
        }
        if (!found) return CHORUS_OK;
    }
}

static int flac_feed(struct chorus_decoder *d, struct av_dec *a, const unsigned char *p, size_t n) {
    while (n) {
        size_t room = FLAC_BUF_CAP - a->flen;
        if (room == 0) { /* no frame fits: what we hold is not FLAC, drop a byte and resync */
            a->garbage++;
            flac_drop(a, 1);
            continue;
        }
        size_t k = n < room ? n : room;
        memcpy(a->fbuf + a->flen, p, k);
        a->flen += k;
        p += k;
        n -= k;
        int rc = flac_frames(d, a);
        if (rc) return rc;
    }
    return CHORUS_OK;
}

static int flac_flush(struct chorus_decoder *d, struct av_dec *a) {
    /* the last frame has no successor: its own CRC-16 closes it */
    if (a->flen >= 8 && flac_sync_at(a->fbuf)) {
        unsigned crc = 0;
        for (size_t i = 0; i + 2 < a->flen; i++) crc = crc16_byte(crc, a->fbuf[i]);
        if (crc == ((unsigned)a->fbuf[a->flen - 2] << 8 | a->fbuf[a->flen - 1]))
            return flac_decode_frame(d, a, a->flen);
    }
    a->garbage += a->flen;
    a->flen = 0;
    return CHORUS_OK;
}

static int av_feed(struct chorus_decoder *d, const unsigned char *p, size_t n) {
    struct av_dec *a = d->priv;
    a->bytes_in += n;
    while (n) {
        switch (a->st) {
        case AS_START:
        case AS_FLAC_META_HDR: {
            size_t k = a->head_need - a->head_len;
            if (k > n) k = n;
            memcpy(a->head + a->head_len, p, k);
            a->head_len += k;
            p += k;
            n -= k;
            if (a->head_len < a->head_need) return CHORUS_OK;
            if (a->st == AS_START && d->format == CHORUS_FORMAT_FLAC) {
                if (memcmp(a->head, "fLaC", 4) != 0)
                    return chorus_decoder_fail(d, CHORUS_E_FORMAT, "flac: not a FLAC stream (no fLaC marker)");
                a->st = AS_FLAC_META_HDR;
                a->head_len = 0;
                a->head_need = 4;
            } else if (a->st == AS_START) {
                int rc;
                if (memcmp(a->head, "ID3", 3) == 0) { /* mp3, and aac streams that carry one */
                    /* ID3v2: syncsafe size, plus a footer when flagged */
                    uint64_t sz = (uint64_t)(a->head[6] & 0x7f) << 21 | (uint64_t)(a->head[7] & 0x7f) << 14 |
                                  (uint64_t)(a->head[8] & 0x7f) << 7 | (uint64_t)(a->head[9] & 0x7f);
                    a->skip = sz + ((a->head[5] & 0x10) ? 10 : 0);
                    a->st = AS_ID3;
                    break;
                }
                a->st = AS_FRAMES;
                if ((rc = av_parse(d, a, a->head, a->head_len))) return rc;
            } else { /* a FLAC metadata block header */
                uint32_t len = (uint32_t)a->head[1] << 16 | (uint32_t)a->head[2] << 8 | a->head[3];
                int type = a->head[0] & 0x7f;
                a->flac_last_block = (a->head[0] & 0x80) != 0;
                if (type == 0 && !a->have_streaminfo) {
                    if (len != 34)
                        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "flac: bad STREAMINFO length %u", len);
                    a->skip = 34; /* gathered into streaminfo below */
                    a->have_streaminfo = -1;
                } else {
                    a->skip = len;
                }
                a->head_len = 0;
                a->st = AS_FLAC_META_SKIP;
            }
            break;
        }
        case AS_ID3:
        case AS_FLAC_META_SKIP: {
            size_t k = a->skip < n ? (size_t)a->skip : n;
            if (a->have_streaminfo == -1) memcpy(a->streaminfo + (34 - a->skip), p, k);
            a->skip -= k;
            p += k;
            n -= k;
            if (a->skip) return CHORUS_OK;
            if (a->st == AS_ID3) {
                a->st = AS_FRAMES;
            } else {
                if (a->have_streaminfo == -1) a->have_streaminfo = 1;
                if (a->flac_last_block) {
                    if (a->have_streaminfo != 1)
                        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "flac: no STREAMINFO block");
                    int rc = av_open(d, a);
                    if (rc) return rc;
                    a->st = AS_FRAMES;
                } else {
                    a->st = AS_FLAC_META_HDR;
                    a->head_need = 4;
                }
            }
            break;
        }
        case AS_FRAMES:
            return d->format == CHORUS_FORMAT_FLAC ? flac_feed(d, a, p, n) : av_parse(d, a, p, n);
        }
    }
    return CHORUS_OK;
}

static int av_finish(struct chorus_decoder *d) {
    struct av_dec *a = d->priv;
    int rc;
    if (a->st == AS_START && a->head_len && d->format != CHORUS_FORMAT_FLAC) {
        a->st = AS_FRAMES; /* a stream shorter than an ID3 header */
        if ((rc = av_parse(d, a, a->head, a->head_len))) return rc;
    }
    if (a->st == AS_FRAMES) {
        if ((rc = d->format == CHORUS_FORMAT_FLAC ? flac_flush(d, a) : av_parse_flush(d, a))) return rc;
        if ((rc = av_decode(d, a, NULL))) return rc;
    }
    if (a->frames == 0)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                   "%s: no decodable audio in %llu bytes (%llu damaged packets, "
                                   "%llu bytes skipped)", fmt_name(d),
                                   (unsigned long long)a->bytes_in,
                                   (unsigned long long)a->bad_packets,
                                   (unsigned long long)a->garbage);
    return CHORUS_OK;
}

static void av_release(struct chorus_decoder *d) {
    struct av_dec *a = d->priv;
    if (!a) return;
    if (a->parser) av_parser_close(a->parser);
    avcodec_free_context(&a->ctx);
    av_packet_free(&a->pkt);
    av_frame_free(&a->frame);
    free(a->fbuf);
    free(a->fpkt);
}

const struct chorus_decoder_ops chorus_dec_av = {av_init, av_feed, av_finish, av_release};
