/*
 * audio.h — the audio stage: encoders, decoders, resampling, joins and shaping.
 *
 * Everything here is streaming and bounded: objects take PCM (mono float in [-1, 1]) or bytes
 * in pieces and emit output through a callback as soon as they have it; none keeps more than a
 * fixed window, so memory does not grow with the input's length.
 */
#ifndef CHORUS_AUDIO_H
#define CHORUS_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "chorus/chorus.h"

/** Receives output bytes (encoders) — return non-zero to stop (propagated as an error). */
typedef int (*chorus_bytes_fn)(void *ud, const unsigned char *data, size_t n);
/** Receives PCM (decoders, resamplers) — return non-zero to stop. */
typedef int (*chorus_pcm_fn)(void *ud, const float *x, size_t n, int sample_rate);

/* ---- format table (one table for CLI, server and cache: format.c) ---- */

struct chorus_format_info {
    enum chorus_format format;
    const char *name;      /* "mp3" */
    const char *mime;      /* "audio/mpeg" */
    const char *extension; /* "mp3" */
    int default_rate;      /* rate used when the caller asks none and the engine's is not allowed */
    const int *rates;      /* allowed output rates, 0-terminated; NULL = any 8000..192000 */
    int prefer_default;    /* 1: with no rate requested, use default_rate even if the engine's
                              rate is allowed (pcm: no header tells the listener the rate) */
};
const struct chorus_format_info *chorus_format_info(enum chorus_format f);
/** Pick the output rate for `f`: `requested` if allowed (else E_FORMAT with a message listing
 *  the allowed rates in err), or, when requested is 0, the engine's rate if allowed, else the
 *  format's default. */
int chorus_format_pick_rate(enum chorus_format f, int requested, int engine_rate, int *out,
                            char *err, size_t errlen);
/** 1 if `rate` is an allowed output rate for `f`. */
int chorus_format_rate_allowed(enum chorus_format f, int rate);
/** Human list of the allowed rates of `f` ("8000, 11025, ... Hz" or "any rate from ..."). */
int chorus_format_describe_rates(enum chorus_format f, char *buf, size_t cap);

/* ---- encoders: encoder.c dispatches to encoders/<format>.c ---- */

struct chorus_encoder_opts {
    int bitrate_kbps; /* mp3/opus/aac; 0 = format default */
    int vbr;          /* mp3: 1 = VBR instead of CBR */
    int compression;  /* flac level 0-8, -1 = default */
    int seekable;     /* output is a seekable file (wav: exact header via chorus_encoder_header) */
};

struct chorus_encoder;

/** Per-format vtable (each encoders/<format>.c defines one). */
struct chorus_encoder_vt {
    enum chorus_format format;
    size_t priv_size;
    int (*init)(struct chorus_encoder *e, const struct chorus_encoder_opts *o);
    int (*write)(struct chorus_encoder *e, const float *x, size_t n);
    int (*finish)(struct chorus_encoder *e);
    void (*release)(struct chorus_encoder *e);
    /* optional: rewrite the file header once the length is known (seekable outputs) */
    int (*header)(struct chorus_encoder *e, unsigned char *buf, size_t cap, size_t *len);
};

struct chorus_encoder {
    const struct chorus_encoder_vt *vt;
    int sample_rate;
    int channels; /* always 1 today */
    uint64_t samples_in;
    uint64_t bytes_out;
    chorus_bytes_fn out;
    void *out_ud;
    void *priv;
    char err[256];
};

/** 1 if this build has an encoder for `f`. */
int chorus_encoder_available(enum chorus_format f);
int chorus_encoder_create(struct chorus_encoder **out, enum chorus_format f, int sample_rate,
                          const struct chorus_encoder_opts *opts, chorus_bytes_fn fn, void *ud,
                          char *err, size_t errlen);
int chorus_encoder_write(struct chorus_encoder *e, const float *x, size_t n);
int chorus_encoder_finish(struct chorus_encoder *e);
/** For seekable outputs: the final header bytes to write at offset 0 (wav). E_INVALID if the
 *  format has none to rewrite. */
int chorus_encoder_header(struct chorus_encoder *e, unsigned char *buf, size_t cap, size_t *len);
void chorus_encoder_destroy(struct chorus_encoder *e);
/** Used by encoders to emit bytes (counts them, forwards to the callback). */
int chorus_encoder_emit(struct chorus_encoder *e, const void *data, size_t n);

/* ---- decoders (for engines that return encoded audio) ---- */

/** How many leading bytes chorus_format_sniff() looks at. */
#define CHORUS_SNIFF_BYTES 12
/** The format of an audio byte stream from its first bytes (up to CHORUS_SNIFF_BYTES), whatever
 *  a Content-Type header claimed: "RIFF"...."WAVE" -> WAV; "ID3" or an MPEG audio frame header
 *  -> MP3; an ADTS header -> AAC; "OggS" -> OPUS (the only Ogg codec decoded here); "fLaC" ->
 *  FLAC. DEFAULT when the bytes are none of these (JSON, HTML, text, raw PCM, too short). */
enum chorus_format chorus_format_sniff(const void *data, size_t n);

struct chorus_decoder;
/** Streaming decoder for `f`; PCM (downmixed to mono) goes to fn as soon as it decodes.
 *  pcm_rate_hint: the rate of raw pcm input (0: 24000, OpenAI's contract); other formats carry
 *  their rate and ignore it. Opus always decodes at 48000 Hz. Errors (E_FORMAT for input that
 *  is not the format or is cut short) leave a message in chorus_decoder_errmsg(). */
int chorus_decoder_create(struct chorus_decoder **out, enum chorus_format f, int pcm_rate_hint,
                          chorus_pcm_fn fn, void *ud, char *err, size_t errlen);
int chorus_decoder_feed(struct chorus_decoder *d, const void *data, size_t n);
int chorus_decoder_finish(struct chorus_decoder *d);
/** Why the last call failed ("" if none). */
const char *chorus_decoder_errmsg(const struct chorus_decoder *d);
void chorus_decoder_destroy(struct chorus_decoder *d);

/* ---- resampling (libsoxr) ---- */

struct chorus_resampler;
int chorus_resampler_create(struct chorus_resampler **out, int in_rate, int out_rate,
                            chorus_pcm_fn fn, void *ud);
int chorus_resampler_write(struct chorus_resampler *r, const float *x, size_t n);
int chorus_resampler_flush(struct chorus_resampler *r);
void chorus_resampler_destroy(struct chorus_resampler *r);

/* ---- the output chain: what the core drives for every stream (output.c) ----
 *
 * engine PCM (any rate) -> resample to the output rate -> edges and joins (the pause a join asks
 * for, fades only over quiet samples, silences) -> shape (volume, loudness) -> encode. Two
 * outputs: the final PCM (what the caller hears, at the output rate) and the encoded bytes.
 * Everything is bounded: the chain holds at most a short fade, one quiet run (2 s) and the
 * encoder's own frame buffer.
 */
/* The level below which a sample counts as silence at a segment's edges (-50 dBFS). */
#define CHORUS_OUTPUT_QUIET 0.0031622777f

struct chorus_output_opts {
    enum chorus_format format;  /* never DEFAULT here */
    int sample_rate;            /* output rate, already validated with chorus_format_pick_rate */
    struct chorus_encoder_opts enc;
    double crossfade_ms;        /* longest quiet margin kept (and faded) at each side of a join,
                                 * <0 = default 50 ms, 0 = none; speech is never crossfaded */
    double fade_ms;             /* fade where an edge is loud (no quiet to cut at), <0 = default */
    int trim_silence;           /* also drop the stream's leading/trailing silence and the quiet
                                 * runs beside explicit silences (joins always trim) */
    float volume;               /* linear gain, 0 = 1.0 */
    double loudness_db;         /* target loudness (dBFS RMS), 0 = off */
};

struct chorus_output;
int chorus_output_create(struct chorus_output **out, const struct chorus_output_opts *o,
                         chorus_pcm_fn pcm_out, chorus_bytes_fn bytes_out, void *ud, char *err,
                         size_t errlen);
/** The next segment joins the previous one with `pause` seconds of silence between the last
 *  sample of the one and the first of the other at or above CHORUS_OUTPUT_QUIET (both edges are
 *  trimmed to that level first). Without this call a segment right after another joins with a
 *  pause of 0. Ignored after an explicit chorus_output_silence(). */
int chorus_output_join(struct chorus_output *o, double pause);
/** A new segment (one backend job) starts. */
int chorus_output_segment_begin(struct chorus_output *o);
/** PCM of the current segment at the engine's rate (constant within a stream). */
int chorus_output_pcm(struct chorus_output *o, const float *x, size_t n, int rate);
int chorus_output_segment_end(struct chorus_output *o);
/** Insert `seconds` of silence at the current position (SSML breaks, paragraph pauses). */
int chorus_output_silence(struct chorus_output *o, double seconds);
/** Output time (seconds) at which the current segment's first (untrimmed, resampled) sample
 *  would land; word times of the segment are offset by this. Final once
 *  chorus_output_segment_placed() says so: a segment whose leading quiet is being trimmed is
 *  placed by its first loud sample (or its end). */
double chorus_output_segment_start(const struct chorus_output *o);
int chorus_output_segment_placed(const struct chorus_output *o);
/** Output time of the current segment's first kept loud sample (where its speech starts, once
 *  placed), and just past its (or the last ended segment's) last loud sample: where its speech
 *  ends, before any trailing silence. */
double chorus_output_segment_audible_start(const struct chorus_output *o);
double chorus_output_segment_audible_end(const struct chorus_output *o);
/** The gated loudness (dBFS RMS, as the target is measured) of what normalization put out so
 *  far; 0 without normalization or output. Below the target when the -1 dBFS peak ceiling (or
 *  the +24 dB gain limit) held the gain back. */
double chorus_output_loudness_reached(const struct chorus_output *o);
/** The share (0-1) of those blocks whose gain the -1 dBFS peak or +24 dB gain limit held more
 *  than 1 dB below what the target asked for. */
double chorus_output_loudness_capped(const struct chorus_output *o);
/** Seconds of audio emitted through pcm_out so far. */
double chorus_output_time(const struct chorus_output *o);
/** Flush everything (pending tail, encoder) — the stream is complete. */
int chorus_output_finish(struct chorus_output *o);
/** The encoder, e.g. to rewrite a WAV header on a seekable file. */
struct chorus_encoder *chorus_output_encoder(struct chorus_output *o);
const char *chorus_output_errmsg(const struct chorus_output *o);
void chorus_output_destroy(struct chorus_output *o);

/* ---- playback (libao: player.c) ---- */

struct chorus_player;
/** Open a sound output for mono PCM at `rate`. `device`: "driver" or "driver:target" — a live
 *  libao driver ("pulse", "alsa:hw:1", "oss", "sndio", "null") or a file driver
 *  ("wav:/path.wav", "raw:/path", "au:/path"); NULL or "": $CHORUS_AUDIO_DEVICE, else libao's
 *  default. Errors name the device and list the drivers there are (E_INVALID, E_UNAVAILABLE
 *  when no driver works, E_IO when the device will not open). */
int chorus_player_open(struct chorus_player **out, int rate, const char *device, char *err,
                       size_t errlen);
/** Play samples (blocks as the device consumes them). E_IO if the device fails. */
int chorus_player_write(struct chorus_player *p, const float *x, size_t n);
/** Drain, close and free. NULL is a no-op. */
int chorus_player_close(struct chorus_player *p);

/* ---- helpers ---- */

void chorus_pcm_s16_to_f32(const int16_t *in, float *out, size_t n);
void chorus_pcm_f32_to_s16le(const float *in, unsigned char *out, size_t n); /* clips */
/** One sample to s16: x * 32767 rounded, clipped; NaN gives 0. */
int16_t chorus_pcm_f32_to_s16(float x);

#endif
