/*
 * backend.h — the interface between the core and one speech engine.
 *
 * A backend is a const descriptor (struct chorus_backend_desc) with an ops table and the size of
 * its private state, which the core allocates zeroed (curl's Curl_handler, FFmpeg's FFCodec).
 * The built-in backends are listed in src/backends/backends.def; adding one is one folder and
 * one line there (docs/NEW-BACKEND.md).
 *
 * Lifetime: open is called once per instance, under the engine lock, on zeroed private state.
 * close is called once when the engine is destroyed for EVERY instance whose open was called,
 * whether open succeeded or not: an open that fails after initialising part of its state
 * (a mutex, an allocation) returns its error and leaves that state for close, which must cope
 * with any prefix of open's work (test what was set up: `if (p->mu_ok) ...`).
 *
 * Threading: open/close run under the engine lock. probe and
 * list_voices may run concurrently with synthesize. synthesize may be called from several
 * threads at once for the same instance; a backend whose engine is not reentrant serializes
 * itself (espeak does, behind a process-wide mutex).
 */
#ifndef CHORUS_CORE_BACKEND_H
#define CHORUS_CORE_BACKEND_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "chorus/chorus.h"

struct chorus_config;
struct chorus_sink;
struct chorus_stream;

/** Why a backend can't run: filled by probe. */
struct chorus_probe {
    char reason[512];
};

/** A growable list of voices a backend fills in list_voices (strings are copied). */
struct chorus_voice_list {
    struct chorus_voice *v;
    size_t n, cap;
};
int chorus_voice_list_add(struct chorus_voice_list *l, const char *id, const char *name,
                          const char *language, const char *gender, const char *description);
void chorus_voice_list_release(struct chorus_voice_list *l);

/** A validated backend option of a job. */
struct chorus_kv {
    char *key;
    char *value;
};

/** One engine call: a piece of text (at most the backend's max_input_chars) to speak. */
struct chorus_job {
    const char *text; /**< NUL-terminated; normalized text, SSML, or phonemes per `input` */
    size_t len;
    enum chorus_input_kind input;
    const char *voice;    /**< resolved voice id, never NULL (backend default resolved) */
    const char *model;    /**< NULL: backend default */
    const char *language; /**< NULL: from the voice */
    float speed;          /**< 1.0 normal, already includes SSML prosody rate */
    float pitch;          /**< 1.0 normal (SSML prosody pitch multiplier) */
    float volume;         /**< 1.0 normal (applied by the core; informational) */
    const struct chorus_kv *options;
    size_t n_options;
    enum chorus_format want_format; /**< what the caller wants; remote backends may ask for it */
    int want_rate;                  /**< the caller's output rate, 0 = any */
    int passthrough_ok; /**< 1 if encoded bytes in want_format can go to the caller untouched */
    unsigned index;     /**< 0, 1, 2... the job's place in the stream */
    int is_first, is_last;
    struct chorus_stream *stream;
    /** The start of the next job's text (not NUL-terminated), when the core already knows it
     *  (its one-job lookahead; before [pronunciations] are applied), else NULL: a hint for
     *  engines that take the following text for
     *  continuity (ElevenLabs next_text). Valid during synthesize only; never spoken. */
    const char *next_text;
    size_t next_len;
};

/** The backend's option value for key, or NULL (only keys in its table can be set). */
const char *chorus_job_option(const struct chorus_job *job, const char *key);
double chorus_job_option_double(const struct chorus_job *job, const char *key, double def);
/** 1 if the stream has been cancelled: long loops check this and return CHORUS_E_CANCELLED. */
int chorus_job_cancelled(const struct chorus_job *job);
/** Set the stream's detailed message (printf-style) and return `status` for convenience. */
int chorus_job_fail(const struct chorus_job *job, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Output of a job. Each call returns CHORUS_OK or a negative status (CHORUS_E_CANCELLED when
 * the stream was cancelled): on non-zero the backend stops and returns that status.
 * Word offsets are byte offsets into job->text; times are seconds from the job's first sample.
 *
 * A sink is an ops table: the stream's own sink (core/stream.c) turns the calls into audio
 * chunks and events; a job filter (core/job_filter.h, the cache) may hand the backend a sink of
 * its own that records each call and passes it on. Backends only call the functions below.
 */
struct chorus_sink_ops {
    int (*pcm_f32)(struct chorus_sink *s, const float *x, size_t n, int sample_rate);
    int (*pcm_s16)(struct chorus_sink *s, const int16_t *x, size_t n, int sample_rate);
    int (*encoded)(struct chorus_sink *s, enum chorus_format fmt, const void *data, size_t n);
    int (*word)(struct chorus_sink *s, size_t text_offset, size_t text_len, double start,
                double end);
    int (*mark)(struct chorus_sink *s, const char *name, double time);
};
/** The base every sink starts with (first member, so a sink pointer converts to its type). */
struct chorus_sink {
    const struct chorus_sink_ops *ops;
};
int chorus_sink_pcm_f32(struct chorus_sink *s, const float *x, size_t n, int sample_rate);
int chorus_sink_pcm_s16(struct chorus_sink *s, const int16_t *x, size_t n, int sample_rate);
/** Encoded audio (a container stream: wav, mp3, ...) as it arrives; the core passes it through
 *  or decodes it. A job's encoded bytes must form one file of one format. */
int chorus_sink_encoded(struct chorus_sink *s, enum chorus_format fmt, const void *data,
                        size_t n);
int chorus_sink_word(struct chorus_sink *s, size_t text_offset, size_t text_len, double start,
                     double end);
int chorus_sink_mark(struct chorus_sink *s, const char *name, double time);

struct chorus_backend;

struct chorus_backend_ops {
    /** Prepare the instance (read config; defer heavy loads to first use). On failure return a
     *  status after chorus_backend_fail (the backend then lists as unavailable with that
     *  message). Optional. */
    int (*open)(struct chorus_backend *b, const struct chorus_config *cfg);
    /** 1 if usable now; else 0, after chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "why")
     *  (writing why->reason directly is the older form, still read). Should be cheap; may run
     *  while a first synthesize loads the engine. Optional (= usable). */
    int (*probe)(struct chorus_backend *b, struct chorus_probe *why);
    /** Speak one job into the sink. Required. */
    int (*synthesize)(struct chorus_backend *b, const struct chorus_job *job,
                      struct chorus_sink *out);
    /** Fill the voice list; on failure return a status after chorus_backend_fail. Optional. */
    int (*list_voices)(struct chorus_backend *b, struct chorus_voice_list *out);
    /** Release what open made. Optional. */
    void (*close)(struct chorus_backend *b);
    /** The model a job without one uses (read from the config at open). Optional; the
     *  estimate prices it. */
    const char *(*default_model)(struct chorus_backend *b);
    /** The phonemes the engine would speak for text[0..len) with `voice` (resolved id) in the
     *  notation its CHORUS_INPUT_PHONEMES takes; *out malloc'd. Optional. */
    int (*phonemize)(struct chorus_backend *b, const char *voice, const char *language,
                     const char *text, size_t len, char **out);
    /** The voice `voice` (resolved id, mixes included) as a file the engine's own tools load
     *  (Kokoro: a torch.save .pt tensor); *data malloc'd, *len its size. Optional. */
    int (*export_voice)(struct chorus_backend *b, const char *voice, unsigned char **data,
                        size_t *len);
};

enum chorus_backend_flags {
    CHORUS_BF_ANY_VOICE = 1u << 0, /**< accepts voice ids it cannot list (custom voices) */
    CHORUS_BF_DEFAULT_CANDIDATE = 1u << 1, /**< may be picked as the default local engine */
    /** the first job of plain text ends at its first clause or sentence end from
     *  CHORUS_TEXT_FIRST_MIN characters on (within first_chunk_chars): for an engine whose
     *  time grows with the text, first audio comes after one clause, not one sentence */
    CHORUS_BF_FIRST_CLAUSE = 1u << 2
};

/** A price row of an engine that bills (chorus_estimate): `model` is a case-insensitive prefix;
 *  the last row has model NULL and prices every model no earlier row names. Input tokens are
 *  estimated at 4 characters each; audio tokens at audio_tokens_per_char. Each figure can be
 *  overridden in the config under [pricing.BACKEND.MODEL] by its field name. */
struct chorus_price {
    const char *model;
    double usd_per_million_chars;
    double usd_per_million_input_tokens;
    double usd_per_million_output_tokens;
    double audio_tokens_per_char;
    double credits_per_char;
    double usd_per_credit;
    const char *basis; /**< how it is priced, for people ("$15.00 / 1M characters") */
};

struct chorus_model_desc;

struct chorus_backend_desc {
    const char *name;        /**< exact name ("espeak") */
    const char *pattern;     /**< prefix pattern also served ("alltalk_*"), or NULL */
    const char *description;
    unsigned caps;           /**< enum chorus_capability */
    unsigned flags;          /**< enum chorus_backend_flags */
    int default_priority;    /**< higher wins when choosing the default local engine */
    size_t max_input_chars;  /**< per-job text limit, 0 = unbounded */
    size_t first_chunk_chars; /**< target size of the first job (latency), 0 = core default */
    int sample_rate;         /**< native PCM rate, 0 if it varies */
    int max_concurrent;      /**< per-backend limit, 0 = only the engine's */
    const char *default_voice;
    const struct chorus_option_desc *options; /**< NULL-key terminated, or NULL */
    size_t priv_size;
    const struct chorus_backend_ops *ops;
    /** Output shaping this engine wants by default (the config's [NAME] or [chorus] keys
     *  override): target loudness in dBFS RMS (0 = off), crossfade in ms (0 = core default). */
    double loudness_db;
    double crossfade_ms;
    /** Other names of its voices ({"alloy", "am_adam"}, ...; {NULL, NULL} ends it), or NULL.
     *  The core applies them to every request before resolving the voice; the config's
     *  [NAME.voices] alias = "voice" adds or overrides. */
    const char *const (*voice_aliases)[2];
    /** The engine's own pauses after a sentence and a clause, as silence (below -50 dBFS)
     *  between the last sound of one word and the first of the next, at a few speeds
     *  (ascending, ended by speed 0); a chunk join gets the same pause, interpolated. NULL: the
     *  core's defaults (350 and 200 ms at speed 1, divided by the speed). */
    const struct chorus_pause_point *pauses;
    /** What a request costs (NULL: a local engine, free; see struct chorus_price). */
    const struct chorus_price *prices;
    /** Name prefixes the prior implementation used for this engine ("local_kokoro_"), routed
     *  here; NULL-terminated, or NULL. */
    const char *const *legacy_prefixes;
    /** The files `chorus models pull NAME` installs for a local engine, or NULL. */
    const struct chorus_model_desc *model;
    /** The inline phoneme markup its text takes (enum chorus_pron_notation, text/pron.h):
     *  pronunciation dictionaries and SSML <phoneme> become espeak's [[...]] or misaki's
     *  [word](/.../); 0 (none): they give it their aliases. */
    int notation;
};

/** A group of a model's files: NAMEs fetched from base_url + NAME (a mirror given by the user
 *  serves them as SUBDIR/NAME under its own base) into SUBDIR/NAME of the model folder. */
struct chorus_model_fileset {
    const char *subdir;       /**< "" for the model folder itself */
    const char *base_url;     /**< NULL: the model's base_url (with subdir/ appended) */
    const char *const *files; /**< NULL-terminated */
};

/** What chorus_model_pull() installs for an engine (chorus_model_dir(NAME) holds it). */
struct chorus_model_desc {
    const char *base_url; /**< the published files, pinned to one revision */
    const struct chorus_model_fileset *sets; /**< always installed; ended by files == NULL */
    const char *voice_subdir, *voice_ext;    /**< one file per voice: "voices/" NAME ".pt" */
    const char *const *default_voices, *const *all_voices; /**< NULL-terminated */
    const char *const (*sha256)[2]; /**< {relative path, hex SHA-256}, {NULL, NULL} ends it */
};

struct chorus_pause_point {
    float speed;
    float sentence_ms, clause_ms;
};

/** Estimate what speaking text[0..len) with model (NULL: the last row's) costs on an engine
 *  described by d, from d->prices and the config's [pricing.NAME.MODEL] overrides (cfg may be
 *  NULL). Fills provider (d->name, or "local" for a free engine), model, characters, tokens,
 *  credits, usd and basis; backend is left to the caller. Returns CHORUS_OK. */
int chorus_price_estimate(const struct chorus_backend_desc *d, const struct chorus_config *cfg,
                          const char *model, const char *text, size_t len,
                          struct chorus_estimate *out);

/** One live instance of a backend ("alltalk_narrator" is an instance of "alltalk_*"). */
struct chorus_backend {
    const struct chorus_backend_desc *desc;
    struct chorus_engine *engine;
    char *name;    /**< the instance name requested */
    char *variant; /**< the part after the pattern's prefix ("narrator"), "" for exact names */
    void *priv;    /**< desc->priv_size zeroed bytes */
    /* below: core bookkeeping */
    int open_status;
    char open_error[512];
    struct chorus_limiter *limiter; /**< per-backend, NULL if none */
    struct chorus_backend *next;
};

/**
 * The error channel of every op (open, probe, list_voices, phonemize, synthesize): an op that
 * fails calls `return chorus_backend_fail(b, CHORUS_E_..., "what failed, on what, what to do")`.
 * The core hands the message to whoever asked: the stream's errmsg for synthesize (like
 * chorus_job_fail), the engine's errmsg for listings and phonemize, the backend's "not
 * available" reason for open and probe. The first message of a call is kept; every message
 * passes through the secret redactor. Returns `status`.
 */
int chorus_backend_fail(const struct chorus_backend *b, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** The engine's config (for backends that read it outside open). */
const struct chorus_config *chorus_backend_config(const struct chorus_backend *b);

#endif
