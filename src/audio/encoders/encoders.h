/*
 * encoders.h — internal to src/audio: the per-format encoder vtables (one per encoders/<fmt>.c)
 * that encoder.c dispatches to. An encoder's init() reads e->sample_rate and the options, may
 * emit bytes at once (headers), and sets e->err on failure; write() takes mono float PCM in any
 * piece size; finish() flushes everything; release() frees e->priv's contents (not e->priv).
 */
#ifndef CHORUS_AUDIO_ENCODERS_H
#define CHORUS_AUDIO_ENCODERS_H

#include "audio/audio.h"

extern const struct chorus_encoder_vt chorus_enc_wav;
extern const struct chorus_encoder_vt chorus_enc_pcm;
extern const struct chorus_encoder_vt chorus_enc_mp3;
extern const struct chorus_encoder_vt chorus_enc_opus;
extern const struct chorus_encoder_vt chorus_enc_flac;
extern const struct chorus_encoder_vt chorus_enc_aac;

/** Encoders convert input in pieces of at most this many samples (bounds their buffers). */
#define CHORUS_ENC_PIECE 4096

/** Set e->err (printf style) and return `status`. */
int chorus_encoder_fail(struct chorus_encoder *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
