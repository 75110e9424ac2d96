/*
 * decoder.c — chorus_decoder_* dispatch, and the two decoders without a codec library:
 * WAV (RIFF chunks parsed incrementally; PCM 8/16/24/32-bit and float 32/64, WAVE_FORMAT_
 * EXTENSIBLE, any channel count up to 16, downmixed) and raw s16le mono PCM at the rate hint
 * (0: 24000 Hz, OpenAI's "pcm").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/decoders.h"

static const struct chorus_decoder_ops *ops_for(enum chorus_format f) {
    switch (f) {
    case CHORUS_FORMAT_WAV: return &chorus_dec_wav;
    case CHORUS_FORMAT_PCM: return &chorus_dec_pcm;
#if CHORUS_WITH_AAC
    case CHORUS_FORMAT_MP3:
    case CHORUS_FORMAT_AAC:
    case CHORUS_FORMAT_FLAC: return &chorus_dec_av;
#endif
    case CHORUS_FORMAT_OPUS: return &chorus_dec_opus;
    default: return NULL;
    }
}

int chorus_decoder_fail(struct chorus_decoder *d, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return status;
}

int chorus_decoder_emit(struct chorus_decoder *d, const float *x, size_t n, int rate) {
    if (n == 0) return CHORUS_OK;
    d->samples_out += n;
    int rc = d->fn(d->ud, x, n, rate);
    if (rc == 0) return CHORUS_OK;
    return chorus_decoder_fail(d, rc < 0 ? rc : CHORUS_E_CANCELLED,
                               "the decoder's consumer stopped it (status %d)", rc);
}

int chorus_decoder_create(struct chorus_decoder **out, enum chorus_format f, int pcm_rate_hint,
                          chorus_pcm_fn fn, void *ud, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!out || !fn) return CHORUS_E_INVALID;
    *out = NULL;
    const struct chorus_decoder_ops *ops = ops_for(f);
    if (!ops) {
        if (err && errlen)
            snprintf(err, errlen, "cannot decode %s audio: no decoder for it in this build%s",
                     chorus_format_name(f) ? chorus_format_name(f) : "unknown",
                     !CHORUS_WITH_AAC && (f == CHORUS_FORMAT_MP3 || f == CHORUS_FORMAT_AAC ||
                                          f == CHORUS_FORMAT_FLAC)
                         ? " (built with CHORUS_WITH_AAC=OFF, which drops libavcodec; rebuild "
                           "with cmake -DCHORUS_WITH_AAC=ON, or have the engine send wav or pcm)"
                         : "");
        return CHORUS_E_FORMAT;
    }
    struct chorus_decoder *d = calloc(1, sizeof *d);
    if (!d) return CHORUS_E_NOMEM;
    d->format = f;
    d->ops = ops;
    d->rate_hint = pcm_rate_hint;
    d->fn = fn;
    d->ud = ud;
    int rc = ops->init(d);
    if (rc != CHORUS_OK) {
        if (err && errlen) snprintf(err, errlen, "%s", d->err[0] ? d->err : "decoder init failed");
        chorus_decoder_destroy(d);
        return rc;
    }
    *out = d;
    return CHORUS_OK;
}

int chorus_decoder_feed(struct chorus_decoder *d, const void *data, size_t n) {
    if (!d || (!data && n)) return CHORUS_E_INVALID;
    if (d->failed) return d->failed;
    if (n == 0) return CHORUS_OK;
    int rc = d->ops->feed(d, data, n);
    if (rc) d->failed = rc;
    return rc;
}

int chorus_decoder_finish(struct chorus_decoder *d) {
    if (!d) return CHORUS_E_INVALID;
    if (d->failed) return d->failed;
    int rc = d->ops->finish(d);
    if (rc) d->failed = rc;
    return rc;
}

const char *chorus_decoder_errmsg(const struct chorus_decoder *d) { return d ? d->err : ""; }

void chorus_decoder_destroy(struct chorus_decoder *d) {
    if (!d) return;
    if (d->ops && d->ops->release) d->ops->release(d);
    free(d->priv);
    free(d);
}

/* ------------------------------------------------------------------------------------------ */
/* WAV                                                                                          */
/* ------------------------------------------------------------------------------------------ */

enum wav_state { WS_RIFF, WS_CHUNK, WS_FMT, WS_SKIP, WS_DATA, WS_TAIL };

#define WAV_MAX_CHANNELS 16
#define WAV_FMT_MAX 1024

struct wav_dec {
    enum wav_state st;
    unsigned char hdr[WAV_FMT_MAX]; /* bytes gathered for the current header item */
    size_t have, need;
    uint64_t skip;      /* bytes left to skip (WS_SKIP) */
    uint64_t data_left; /* bytes of audio data left; UINT64_MAX: until the end */
    int have_fmt;
    int tag, channels, rate, bits, frame; /* tag 1 = int PCM, 3 = float */
    unsigned char part[WAV_MAX_CHANNELS * 8]; /* partial frame across feeds */
    size_t part_len;
    float out[CHORUS_DEC_PIECE];
    size_t out_len;
};

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static int wav_init(struct chorus_decoder *d) {
    struct wav_dec *w = d->priv = calloc(1, sizeof *w);
    if (!w) return CHORUS_E_NOMEM;
    w->st = WS_RIFF;
    w->need = 12;
    return CHORUS_OK;
}

static int wav_parse_fmt(struct chorus_decoder *d, struct wav_dec *w, const unsigned char *p,
                         size_t n) {
    if (n < 16) return chorus_decoder_fail(d, CHORUS_E_FORMAT, "wav: fmt chunk too short (%zu bytes)", n);
    int tag = le16(p), ch = le16(p + 2), bits = le16(p + 14);
    uint32_t rate = le32(p + 4);
    if (tag == 0xFFFE) {
        if (n < 40) return chorus_decoder_fail(d, CHORUS_E_FORMAT, "wav: extensible fmt chunk too short");
        tag = le16(p + 24); /* first two bytes of the sub-format GUID */
    }
    if (tag != 1 && tag != 3)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                   "wav: unsupported encoding (format tag %d); only PCM and float are decoded", tag);
    if (ch < 1 || ch > WAV_MAX_CHANNELS)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "wav: unsupported channel count %d (1-%d)", ch, WAV_MAX_CHANNELS);
    if (rate < 1000 || rate > 1000000)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "wav: implausible sample rate %u Hz", rate);
    if ((tag == 1 && bits != 8 && bits != 16 && bits != 24 && bits != 32) ||
        (tag == 3 && bits != 32 && bits != 64))
        return chorus_decoder_fail(d, CHORUS_E_FORMAT, "wav: unsupported sample size %d bits for %s",
                                   bits, tag == 1 ? "PCM" : "float");
    w->tag = tag;
    w->channels = ch;
    w->rate = (int)rate;
    w->bits = bits;
    w->frame = ch * bits / 8;
    w->have_fmt = 1;
    return CHORUS_OK;
}

static float wav_sample(const struct wav_dec *w, const unsigned char *p) {
    switch (w->bits) {
    case 8: return ((float)p[0] - 128.0f) / 128.0f;
    case 16: return (float)(int16_t)le16(p) / 32768.0f;
    case 24: {
        int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24);
        return (float)(v / 256) / 8388608.0f;
    }
    case 32:
        if (w->tag == 3) {
            float f;
            uint32_t u = le32(p);
            memcpy(&f, &u, 4);
            return f == f ? f : 0.0f;
        }
        return (float)((double)(int32_t)le32(p) / 2147483648.0);
    default: { /* 64-bit float */
        uint64_t u = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
        double f;
        memcpy(&f, &u, 8);
        return f == f ? (float)f : 0.0f;
    }
    }
}

static int wav_flush_out(struct chorus_decoder *d, struct wav_dec *w) {
    int rc = chorus_decoder_emit(d, w->out, w->out_len, w->rate);
    w->out_len = 0;
    return rc;
}

static int wav_frame(struct chorus_decoder *d, struct wav_dec *w, const unsigned char *p) {
    float s = 0.0f;
    int bps = w->bits / 8;
    for (int c = 0; c < w->channels; c++) s += wav_sample(w, p + c * bps);
    w->out[w->out_len++] = s / (float)w->channels;
    if (w->out_len == CHORUS_DEC_PIECE) return wav_flush_out(d, w);
    return CHORUS_OK;
}

static int wav_data(struct chorus_decoder *d, struct wav_dec *w, const unsigned char *p, size_t n) {
    size_t fr = (size_t)w->frame;
    if (w->part_len) {
        size_t k = fr - w->part_len;
        if (k > n) k = n;
        memcpy(w->part + w->part_len, p, k);
        w->part_len += k;
        p += k;
        n -= k;
        if (w->part_len < fr) return CHORUS_OK;
        w->part_len = 0;
        int rc = wav_frame(d, w, w->part);
        if (rc) return rc;
    }
    while (n >= fr) {
        int rc = wav_frame(d, w, p);
        if (rc) return rc;
        p += fr;
        n -= fr;
    }
    memcpy(w->part, p, n);
    w->part_len = n;
    return wav_flush_out(d, w);
}

static int wav_feed(struct chorus_decoder *d, const unsigned char *p, size_t n) {
    struct wav_dec *w = d->priv;
    while (n) {
        switch (w->st) {
        case WS_RIFF:
        case WS_CHUNK:
        case WS_FMT: {
            size_t k = w->need - w->have;
            if (k > n) k = n;
            memcpy(w->hdr + w->have, p, k);
            w->have += k;
            p += k;
            n -= k;
            if (w->have < w->need) return CHORUS_OK;
            w->have = 0;
            if (w->st == WS_RIFF) {
                if (memcmp(w->hdr, "RIFF", 4) != 0 || memcmp(w->hdr + 8, "WAVE", 4) != 0)
                    return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                               "wav: not a RIFF/WAVE stream (bad magic bytes)");
                w->st = WS_CHUNK;
                w->need = 8;
            } else if (w->st == WS_FMT) {
                int rc = wav_parse_fmt(d, w, w->hdr, w->need);
                if (rc) return rc;
                w->st = WS_CHUNK;
                w->need = 8;
            } else {
                uint32_t size = le32(w->hdr + 4);
                if (memcmp(w->hdr, "data", 4) == 0) {
                    if (!w->have_fmt)
                        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                                   "wav: audio data before the fmt chunk");
                    /* 0xFFFFFFFF (streaming) and 0 (never rewritten) mean "until the end" */
                    w->data_left = (size == 0xFFFFFFFFu || size == 0) ? UINT64_MAX : size;
                    w->st = WS_DATA;
                } else if (memcmp(w->hdr, "fmt ", 4) == 0) {
                    if (size < 16 || size > WAV_FMT_MAX)
                        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                                   "wav: bad fmt chunk size %u", size);
                    w->st = WS_FMT;
                    w->need = size + (size & 1u);
                    if (w->need > WAV_FMT_MAX) w->need = WAV_FMT_MAX;
                } else {
                    w->st = WS_SKIP;
                    w->skip = (uint64_t)size + (size & 1u);
                }
            }
            break;
        }
        case WS_SKIP: {
            size_t k = w->skip < n ? (size_t)w->skip : n;
            w->skip -= k;
            p += k;
            n -= k;
            if (w->skip == 0) {
                w->st = WS_CHUNK;
                w->need = 8;
            }
            break;
        }
        case WS_DATA: {
            size_t k = w->data_left < n ? (size_t)w->data_left : n;
            int rc = wav_data(d, w, p, k);
            if (rc) return rc;
            if (w->data_left != UINT64_MAX) w->data_left -= k;
            p += k;
            n -= k;
            if (w->data_left == 0) w->st = WS_TAIL;
            break;
        }
        case WS_TAIL: /* chunks after the audio (LIST...): not needed */
            return CHORUS_OK;
        }
    }
    return CHORUS_OK;
}

static int wav_finish(struct chorus_decoder *d) {
    struct wav_dec *w = d->priv;
    if (w->st != WS_DATA && w->st != WS_TAIL)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                   "wav: the stream ended before any audio data (truncated header)");
    if (w->st == WS_DATA && w->data_left != UINT64_MAX)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                   "wav: the stream ended %llu bytes before the end of its audio data",
                                   (unsigned long long)w->data_left);
    return CHORUS_OK;
}

const struct chorus_decoder_ops chorus_dec_wav = {wav_init, wav_feed, wav_finish, NULL};

/* ------------------------------------------------------------------------------------------ */
/* raw PCM s16le mono                                                                           */
/* ------------------------------------------------------------------------------------------ */

struct pcm_dec {
    int has_odd;
    unsigned char odd;
    float out[CHORUS_DEC_PIECE];
};

static int pcm_init(struct chorus_decoder *d) {
    if (d->rate_hint == 0) d->rate_hint = 24000; /* OpenAI's pcm contract */
    if (d->rate_hint < 1000 || d->rate_hint > 1000000)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                   "raw pcm has no header: a sample rate is needed (got %d Hz)",
                                   d->rate_hint);
    d->priv = calloc(1, sizeof(struct pcm_dec));
    return d->priv ? CHORUS_OK : CHORUS_E_NOMEM;
}

static int pcm_feed(struct chorus_decoder *d, const unsigned char *p, size_t n) {
    struct pcm_dec *s = d->priv;
    size_t k = 0;
    if (s->has_odd) {
        unsigned char two[2] = {s->odd, p[0]};
        s->out[k++] = (float)(int16_t)le16(two) / 32768.0f;
        s->has_odd = 0;
        p++;
        n--;
    }
    while (n >= 2) {
        s->out[k++] = (float)(int16_t)le16(p) / 32768.0f;
        p += 2;
        n -= 2;
        if (k == CHORUS_DEC_PIECE) {
            int rc = chorus_decoder_emit(d, s->out, k, d->rate_hint);
            if (rc) return rc;
            k = 0;
        }
    }
    if (n) {
        s->odd = p[0];
        s->has_odd = 1;
    }
    return chorus_decoder_emit(d, s->out, k, d->rate_hint);
}

static int pcm_finish(struct chorus_decoder *d) {
    struct pcm_dec *s = d->priv;
    if (s->has_odd)
        return chorus_decoder_fail(d, CHORUS_E_FORMAT,
                                   "raw pcm ended in the middle of a sample (odd byte count)");
    return CHORUS_OK;
}

const struct chorus_decoder_ops chorus_dec_pcm = {pcm_init, pcm_feed, pcm_finish, NULL};
