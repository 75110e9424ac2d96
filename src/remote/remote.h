/*
 * remote.h — glue shared by the remote backends (openai, elevenlabs, alltalk), between the core
 * (sinks, jobs, config) and the HTTP layer (src/net, which knows nothing of the core): turning a
 * response's audio bytes into sink calls exactly once across retries, the HTTP policy from a
 * job's options, cancellation, base64, and config look-ups with the prior implementation's keys.
 *
 * Audio path of one job:   body bytes -> chorus_once (dedupe a replay / hold until complete)
 *                          -> the first bytes are sniffed (chorus_format_sniff): what the
 *                             server really sent wins over what was asked or what its
 *                             Content-Type said (AllTalk transcodes, or serves text/plain)
 *                          -> mp3/opus/flac/aac: chorus_sink_encoded (passthrough or decode)
 *                           | any wav -> PCM (chorus_wavreader) -> chorus_sink_pcm_f32 (never
 *                             passed through: streaming servers write size-0 headers and float
 *                             samples, the core writes a proper 16-bit WAV)
 *                           | raw s16le PCM at a known rate  -> chorus_sink_pcm_s16
 *
 * The options every remote backend accepts (CHORUS_REMOTE_OPTIONS in each option table):
 *   retries (0-10, default 3), timeout (idle seconds, default 60), connect_timeout (seconds,
 *   default 10), retry_mode (stream|buffer, default stream; see docs/net.md).
 */
#ifndef CHORUS_REMOTE_REMOTE_H
#define CHORUS_REMOTE_REMOTE_H

#include <stddef.h>

#include "chorus/chorus.h"
#include "core/backend.h"
#include "net/net.h"

#define CHORUS_REMOTE_OPTIONS                                                                    \
    {"retries", "int", "3", 0, 10, NULL,                                                         \
     "attempts after the first on connection errors, timeouts, 429 and 5xx"},                    \
    {"timeout", "float", "60", 1, 3600, NULL,                                                    \
     "seconds without any byte from the server before giving up"},                               \
    {"connect_timeout", "float", "10", 0.1, 600, NULL, "seconds to establish the connection"},   \
    {"retry_mode", "enum", "stream", 1, 0, "stream|buffer",                                      \
     "stream: forward audio as it arrives and resume a dropped chunk only if the retry is "      \
     "byte-identical; buffer: hold each chunk's audio until its response completes, so a retry " \
     "is always exact"}

enum chorus_remote_kind {
    CHORUS_REMOTE_ENCODED, /* bytes of `format`, to chorus_sink_encoded */
    CHORUS_REMOTE_WAV,     /* a wav stream, read into PCM */
    CHORUS_REMOTE_PCM      /* raw s16le mono at `rate` */
};

struct chorus_remote_audio {
    const struct chorus_job *job;
    struct chorus_sink *sink;
    enum chorus_remote_kind kind;
    enum chorus_format format; /* ENCODED */
    int rate;                  /* PCM */
    struct chorus_once once;
    struct chorus_wavreader *wav; /* the reader for wav answers */
    unsigned char head[16];       /* the first bytes, until the format is known */
    size_t head_len;
    int route;                    /* 0 undecided, else the enum chorus_remote_kind + 1 taken */
    enum chorus_format route_fmt; /* ENCODED route: the sniffed (or declared) format */
    unsigned char odd;            /* PCM: a byte of an incomplete sample */
    int have_odd;
    size_t samples;               /* PCM samples delivered (for durations) */
    char msg[400];                /* why a write failed (replay mismatch, bad wav) */
};

/** Set up for a job; hold = retry_mode buffer. Returns CHORUS_OK or E_NOMEM. */
int chorus_remote_audio_init(struct chorus_remote_audio *a, const struct chorus_job *job,
                             struct chorus_sink *sink, enum chorus_remote_kind kind,
                             enum chorus_format format, int rate);
/** The kind can change per attempt (a server may answer wav where pcm was asked): call before
 *  the attempt's first byte. */
void chorus_remote_audio_rewind(struct chorus_remote_audio *a);
/** Audio bytes of the current attempt. Returns CHORUS_OK or a negative status (a->msg or the
 *  stream's message says why). */
int chorus_remote_audio_write(struct chorus_remote_audio *a, const void *p, size_t n);
/** The response completed: flush held audio, check the wav was whole. */
int chorus_remote_audio_finish(struct chorus_remote_audio *a);
void chorus_remote_audio_release(struct chorus_remote_audio *a);

/** The HTTP policy from the job's options (retries, timeout, connect_timeout, retry_mode). */
struct chorus_http_policy chorus_remote_policy(const struct chorus_job *job);

/** What each backend's on_retry calls: logs "WHAT: attempt N failed (why); retrying in X s"
 *  at info level (the message is already secret-masked; the log redacts again). */
void chorus_remote_log_retry(const char *what, int attempt, long wait_ms, const char *why);

/** Decode standard or URL-safe base64 (padding optional, whitespace skipped) into out, which
 *  must hold 3*(n/4)+3 bytes. Returns the decoded length, or -1 on a bad character. */
long chorus_base64_decode(const char *in, size_t n, unsigned char *out);

/** Copy the first value found (env, then config places) into dst; 1 if found, 0 if not. */
int chorus_remote_setting(const struct chorus_config *cfg, const char *env,
                          const char *const *places, char *dst, size_t cap);

#endif
