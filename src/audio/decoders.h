/*
 * decoders.h — internal to src/audio: the codec decoders behind chorus_decoder_* (decoder.c).
 *
 * Each is push-driven: feed() takes any piece of the byte stream as it arrives and delivers the
 * PCM it can decode now (mono float, downmixed) through the shared emit helper; finish() drains
 * what is left and reports a stream that ended early or held no audio. Buffers are bounded.
 */
#ifndef CHORUS_AUDIO_DECODERS_H
#define CHORUS_AUDIO_DECODERS_H

#include "audio/audio.h"

struct chorus_decoder;

struct chorus_decoder_ops {
    int (*init)(struct chorus_decoder *d);
    int (*feed)(struct chorus_decoder *d, const unsigned char *p, size_t n);
    int (*finish)(struct chorus_decoder *d);
    void (*release)(struct chorus_decoder *d);
};

struct chorus_decoder {
    enum chorus_format format;
    const struct chorus_decoder_ops *ops;
    int rate_hint;
    chorus_pcm_fn fn;
    void *ud;
    void *priv;
    uint64_t samples_out;
    int failed; /* a feed failed: further calls return this status */
    char err[256];
};

/** Deliver mono PCM at `rate` to the decoder's callback (maps a non-zero return to a status). */
int chorus_decoder_emit(struct chorus_decoder *d, const float *x, size_t n, int rate);
/** Set d->err (printf style) and return `status`. */
int chorus_decoder_fail(struct chorus_decoder *d, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Largest piece of PCM a decoder hands to the callback at once (frames). */
#define CHORUS_DEC_PIECE 4096

extern const struct chorus_decoder_ops chorus_dec_wav;
extern const struct chorus_decoder_ops chorus_dec_pcm;
extern const struct chorus_decoder_ops chorus_dec_av;   /* mp3, flac, aac (libavcodec) */
extern const struct chorus_decoder_ops chorus_dec_opus; /* Ogg Opus (libogg + libopus) */

#endif
