/*
 * chorus.h — the public API of libchorus, a streaming text-to-speech library.
 *
 * One request shape drives many engines: local ones inside the process (espeak-ng, Kokoro-82M)
 * and remote ones over HTTP (OpenAI, ElevenLabs, AllTalk, Chatterbox, any OpenAI-compatible
 * server). Every request streams: audio reaches your callback chunk by chunk while the engine is
 * still working, and memory stays flat however long the text.
 *
 * Quick start (error handling trimmed):
 *
 *     #include <chorus/chorus.h>
 *
 *     static int on_event(const struct chorus_event *ev, void *ud) {
 *         if (ev->type == CHORUS_EVENT_CHUNK)
 *             fwrite(ev->chunk->data, 1, ev->chunk->data_len, (FILE *)ud);
 *         return 0;                        // non-zero cancels the stream
 *     }
 *
 *     struct chorus_engine *eng;
 *     if (chorus_engine_create(&eng, NULL) != CHORUS_OK) ...;
 *     struct chorus_request r = chorus_request_default();
 *     r.text = "Hello, world.";
 *     r.format = CHORUS_FORMAT_WAV;
 *     r.callback = on_event;
 *     r.userdata = stdout;
 *     struct chorus_stream *s;
 *     int rc = chorus_stream_open(eng, &r, &s);
 *     if (rc == CHORUS_OK) rc = chorus_stream_run(s);
 *     if (rc != CHORUS_OK) fprintf(stderr, "%s\n", chorus_stream_errmsg(s));
 *     chorus_stream_destroy(s);
 *     chorus_engine_destroy(eng);
 *
 * Conventions
 *  - Functions return an `int` that is a `enum chorus_status`: CHORUS_OK (0) on success, a
 *    negative code on failure. The detailed, actionable message is on the stream
 *    (chorus_stream_errmsg) or the engine (chorus_engine_errmsg).
 *  - `_create` / `_destroy` pairs; `_destroy(NULL)` is a no-op.
 *  - Pointers handed to your callback are valid only during the callback.
 *  - Strings and arrays the library returns say how to free them.
 *  - Thread safety: an engine may be shared by any number of threads. A stream belongs to one
 *    thread, except chorus_stream_cancel(), which may be called from any thread.
 */
#ifndef CHORUS_CHORUS_H
#define CHORUS_CHORUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CHORUS_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CHORUS_API __attribute__((visibility("default")))
#else
#define CHORUS_API
#endif

#define CHORUS_VERSION_MAJOR 0
#define CHORUS_VERSION_MINOR 1
#define CHORUS_VERSION_PATCH 0
#define CHORUS_VERSION_STRING "0.1.0"

/** The library's version string, e.g. "0.1.0". */
CHORUS_API const char *chorus_version(void);

/* ------------------------------------------------------------------------------------------ */
/* Status codes                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/*
 * X(NAME, value, "short description"). Codes are appended, never renumbered or reused.
 * Positive values are not errors: they are the pull API's AGAIN and EOF.
 */
#define CHORUS_STATUS_LIST(X)                                                                     \
    X(OK, 0, "success")                                                                           \
    X(AGAIN, 1, "no data yet, try again")                                                         \
    X(EOF, 2, "end of stream")                                                                    \
    X(E_INVALID, -1, "invalid argument")                                                          \
    X(E_NOMEM, -2, "out of memory")                                                               \
    X(E_EMPTY_TEXT, -3, "no text to speak")                                                       \
    X(E_BAD_UTF8, -4, "text is not valid UTF-8")                                                  \
    X(E_UNKNOWN_BACKEND, -5, "unknown backend")                                                   \
    X(E_UNKNOWN_VOICE, -6, "unknown voice")                                                       \
    X(E_UNAVAILABLE, -7, "backend cannot run here")                                               \
    X(E_FORMAT, -8, "unsupported output format or sample rate")                                   \
    X(E_IO, -9, "input/output error")                                                             \
    X(E_CONFIG, -10, "invalid configuration")                                                     \
    X(E_CANCELLED, -11, "cancelled")                                                              \
    X(E_BACKEND, -12, "the engine failed")                                                        \
    X(E_AUTH, -13, "authentication failed")                                                       \
    X(E_QUOTA, -14, "quota or credits exhausted")                                                 \
    X(E_RATE_LIMIT, -15, "rate limited")                                                          \
    X(E_SERVER, -16, "remote server error")                                                       \
    X(E_NETWORK, -17, "network error")                                                            \
    X(E_TIMEOUT, -18, "timed out")                                                                \
    X(E_SSML, -19, "invalid SSML")                                                                \
    X(E_OPTION, -20, "unknown or invalid option")                                                 \
    X(E_TOO_LONG, -21, "input too long")                                                          \
    X(E_MODEL, -22, "model file missing or invalid")                                              \
    X(E_NOT_FOUND, -23, "not found")                                                              \
    X(E_BAD_REQUEST, -24, "request rejected by the server")                                       \
    X(E_BUSY, -25, "too many generations at once")

enum chorus_status {
#define CHORUS_X_ENUM(name, value, text) CHORUS_##name = (value),
    CHORUS_STATUS_LIST(CHORUS_X_ENUM)
#undef CHORUS_X_ENUM
};

/** A short, static description of a status code ("unknown voice"). Never NULL. */
CHORUS_API const char *chorus_strerror(int status);
/** The code's name without prefix ("E_UNKNOWN_VOICE"), for logs and JSON. Never NULL. */
CHORUS_API const char *chorus_status_name(int status);

/* ------------------------------------------------------------------------------------------ */
/* Formats                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** Output formats: the six of OpenAI's speech API. */
enum chorus_format {
    CHORUS_FORMAT_DEFAULT = 0, /**< from the output path's extension, else wav */
    CHORUS_FORMAT_WAV,         /**< 16-bit PCM RIFF/WAVE */
    CHORUS_FORMAT_PCM,         /**< raw signed 16-bit little-endian mono, no header */
    CHORUS_FORMAT_MP3,
    CHORUS_FORMAT_OPUS, /**< Ogg Opus */
    CHORUS_FORMAT_FLAC,
    CHORUS_FORMAT_AAC, /**< AAC-LC in ADTS */
    CHORUS_FORMAT_COUNT_
};

/** Lowercase name ("mp3"); NULL for an invalid value. */
CHORUS_API const char *chorus_format_name(enum chorus_format f);
/** MIME type ("audio/mpeg"); NULL for an invalid value. */
CHORUS_API const char *chorus_format_mime(enum chorus_format f);
/** File extension without the dot ("mp3"); NULL for an invalid value. */
CHORUS_API const char *chorus_format_extension(enum chorus_format f);
/** Format by name, case-insensitive ("MP3", "ogg" and "opus" both give OPUS). DEFAULT if unknown. */
CHORUS_API enum chorus_format chorus_format_from_name(const char *name);
/** Format from a path's extension ("out.flac"). DEFAULT if none or unknown. */
CHORUS_API enum chorus_format chorus_format_from_path(const char *path);
/** 1 if the format can be produced by this build (encoder present), else 0. */
CHORUS_API int chorus_format_supported(enum chorus_format f);

/* ------------------------------------------------------------------------------------------ */
/* Engine                                                                                       */
/* ------------------------------------------------------------------------------------------ */

struct chorus_engine;

/** Options for chorus_engine_create(). Zero means default for every field. */
struct chorus_engine_options {
    /** Config file to read. NULL: $CHORUS_CONFIG, else $XDG_CONFIG_HOME/chorus/config.toml,
     *  else ~/.config/chorus/config.toml. A missing default file is not an error; a missing file
     *  named here or in $CHORUS_CONFIG is. */
    const char *config_path;
    /** Skip reading any config file (tests, sandboxes). */
    int no_config;
    /** Generations allowed at once in this engine; 0: $CHORUS_MAX_CONCURRENT, else config
     *  [chorus] max_concurrent, else 4. */
    int max_concurrent;
    /** Admission: generations that may wait for a slot when all are taken; more are refused at
     *  once with CHORUS_E_BUSY. 0: config [chorus] max_queue, else unbounded; < 0: none may
     *  wait. */
    int max_queue;
    /** Admission: the longest a generation waits for a slot (ms) before it fails with
     *  CHORUS_E_BUSY. 0: config [chorus] queue_timeout_ms, else no limit. */
    int queue_timeout_ms;
};

/**
 * Create an engine: reads the config, registers the built-in backends (none is started until
 * first used). Every numeric and boolean key the core reads is checked here: a bad value
 * ("four", inf, 1e10 for max_concurrent) fails with CHORUS_E_CONFIG naming file and line.
 * On failure *out is NULL and the message is in chorus_engine_errmsg(NULL) (and errbuf).
 */
CHORUS_API int chorus_engine_create(struct chorus_engine **out,
                                    const struct chorus_engine_options *opts);
/** As chorus_engine_create(), also returning the failure message in errbuf (may be NULL). */
CHORUS_API int chorus_engine_create2(struct chorus_engine **out,
                                     const struct chorus_engine_options *opts, char *errbuf,
                                     size_t errbuf_size);
/** Destroy an engine. All its streams must have been destroyed first. NULL is a no-op. */
CHORUS_API void chorus_engine_destroy(struct chorus_engine *e);
/**
 * The engine's error channel (as sqlite3_errmsg, per handle): the message of the calling
 * thread's last call on this engine: "" after a success, what failed and what to do after a
 * failure. Every call taking the engine clears it first, so it never reports an earlier error;
 * other threads' calls do not touch it. Valid until the thread's next call on the engine (the
 * last few engines a thread used keep their messages). e = NULL: the thread's last failed
 * chorus_engine_create. Stream failures are on the stream (chorus_stream_errmsg).
 */
CHORUS_API const char *chorus_engine_errmsg(const struct chorus_engine *e);
/** Read a config value ("section", "key"); NULL if unset. Valid until the engine is destroyed. */
CHORUS_API const char *chorus_engine_config(const struct chorus_engine *e, const char *section,
                                            const char *key);
/** Path of the config file that was read, or NULL if none. */
CHORUS_API const char *chorus_engine_config_path(const struct chorus_engine *e);
/** Name of the backend used when a request names none: config [chorus] default_backend (or
 *  the prior implementation's [app_tts] default_provider), else the best local engine that can
 *  run. The string is static or owned by the engine. */
CHORUS_API const char *chorus_engine_default_backend(struct chorus_engine *e);

/**
 * Change the engine's admission limits while it runs (a server applies its own flags): at most
 * max_concurrent generations at once (1..1024), at most max_queue waiting for a slot (-1:
 * unbounded, 0: none), each waiting at most queue_timeout_ms (0: no limit). A generation the
 * limits refuse fails with CHORUS_E_BUSY (queue full: at once; timeout: after waiting); waiters
 * re-check the new limits at once. Returns CHORUS_OK or CHORUS_E_INVALID.
 */
CHORUS_API int chorus_engine_set_admission(struct chorus_engine *e, int max_concurrent,
                                           int max_queue, int queue_timeout_ms);

/** Snapshot of the engine's limiter: generations running now and waiting for a slot. */
struct chorus_engine_stats {
    int max_concurrent;
    int active;
    int queued;
    uint64_t started_total;
};
CHORUS_API void chorus_engine_get_stats(struct chorus_engine *e, struct chorus_engine_stats *out);

/** The audio cache as seen by one engine (docs/cache.md). */
struct chorus_cache_stats {
    int enabled;          /**< 1 if this engine's streams read and write the cache */
    const char *dir;      /**< the cache directory (owned by the engine), NULL if none */
    uint64_t hits;        /**< segments this engine served from the cache */
    uint64_t misses;      /**< segments it looked up and had to generate */
    uint64_t corrupt;     /**< entries it found damaged and evicted (also counted as misses) */
    uint64_t stores;      /**< entries it wrote */
    uint64_t entries;     /**< entries in the shared index now (all processes) */
    uint64_t bytes;       /**< their total size in bytes */
    uint64_t max_bytes;   /**< the size cap ([cache] max_bytes) */
    uint64_t hits_total;  /**< hits recorded in the index over the entries' lives */
};
/**
 * Fill *out with the cache's counters (this engine) and size (the shared index). Works when the
 * cache is disabled (then enabled is 0 and the directory's contents are still reported).
 * Returns CHORUS_OK, or E_IO with chorus_engine_errmsg() when the index cannot be read.
 */
CHORUS_API int chorus_engine_cache_stats(struct chorus_engine *e, struct chorus_cache_stats *out);
/**
 * Remove every cache entry (index rows and files). *entries and *bytes (each may be NULL)
 * receive what was removed. Safe while other processes use the cache. Returns CHORUS_OK,
 * E_NOT_FOUND when the engine has no cache directory, or E_IO with chorus_engine_errmsg().
 */
CHORUS_API int chorus_engine_cache_clear(struct chorus_engine *e, uint64_t *entries,
                                         uint64_t *bytes);

/* ------------------------------------------------------------------------------------------ */
/* Backends and voices                                                                          */
/* ------------------------------------------------------------------------------------------ */

/** Capability bits a backend declares. */
enum chorus_capability {
    CHORUS_CAP_STREAMING = 1u << 0,       /**< emits audio before the whole chunk is done */
    CHORUS_CAP_WORD_TIMESTAMPS = 1u << 1, /**< reports word events with audio times */
    CHORUS_CAP_SSML = 1u << 2,            /**< takes SSML natively */
    CHORUS_CAP_VOICE_CLONING = 1u << 3,
    CHORUS_CAP_LOCAL = 1u << 4,  /**< runs inside the process, offline */
    CHORUS_CAP_REMOTE = 1u << 5, /**< reached over the network */
    CHORUS_CAP_PHONEMES = 1u << 6 /**< takes phoneme input */
};

/** One backend's description, as listed by chorus_list_backends(). */
struct chorus_backend_info {
    const char *name;        /**< registration name ("espeak", "alltalk") */
    const char *pattern;     /**< prefix pattern it also serves ("alltalk_*"), or NULL */
    const char *description; /**< one line */
    unsigned caps;           /**< enum chorus_capability bits */
    int available;           /**< 1 if it can run now */
    const char *reason;      /**< when not available: why, in words a person can act on */
    size_t max_input_chars;  /**< longest text per engine call (chunking limit), 0 = unbounded */
    int sample_rate;         /**< native PCM rate, 0 if it varies */
};

/** List every registered backend, probing each. Free with chorus_backend_infos_free(). */
CHORUS_API int chorus_list_backends(struct chorus_engine *e, struct chorus_backend_info **out,
                                    size_t *n);
CHORUS_API void chorus_backend_infos_free(struct chorus_backend_info *infos, size_t n);

/** An option a backend accepts through chorus_request.options ("pitch", "stability"...). */
struct chorus_option_desc {
    const char *key;
    const char *type;   /**< "int", "float", "bool", "string", "enum" */
    const char *def;    /**< default as text, or NULL */
    double min, max;    /**< range for int/float (min > max: unbounded) */
    const char *values; /**< for enum: '|'-separated allowed values */
    const char *help;
};
/** The option table of a backend (static storage, NULL-key terminated; *n excludes it). */
CHORUS_API int chorus_backend_options(struct chorus_engine *e, const char *backend,
                                      const struct chorus_option_desc **out, size_t *n);

/** A voice as listed by chorus_list_voices(). */
struct chorus_voice {
    const char *id;       /**< what to pass as chorus_request.voice */
    const char *name;     /**< human name */
    const char *language; /**< BCP-47-ish code ("en-us"), or NULL */
    const char *gender;   /**< "female", "male", or NULL */
    const char *backend;  /**< backend that provides it */
    const char *description;
};
/** List voices of one backend (NULL: the default backend). Free with chorus_voices_free(). */
CHORUS_API int chorus_list_voices(struct chorus_engine *e, const char *backend,
                                  struct chorus_voice **out, size_t *n);
CHORUS_API void chorus_voices_free(struct chorus_voice *voices, size_t n);

/*
 * The local voice library: reference clips for voice-cloning backends (Chatterbox), kept under
 * [voices] dir, else $XDG_DATA_HOME/chorus/voices, else ~/.local/share/chorus/voices. A cloned
 * voice is used by naming it as the request's voice ("NAME" or "clone:NAME"); the backend
 * uploads the clip to its server the first time. Names are 1-64 letters, digits, '_' or '-',
 * starting with a letter or digit. Failures leave their message in chorus_engine_errmsg().
 */

/** A voice of the local library, as listed by chorus_cloned_voice_list(). */
struct chorus_cloned_voice {
    const char *name;
    const char *description; /**< "" if none */
    double duration;         /**< seconds of the reference clip */
    int sample_rate;         /**< Hz of the stored clip */
    int channels;            /**< of the original file (the clip is stored downmixed to mono) */
    const char *created;     /**< ISO 8601 UTC ("2026-11-24T18:00:00Z") */
    const char *path;        /**< the stored clip (mono 16-bit WAV) */
};

/**
 * Add a reference clip (wav, flac, ogg or mp3) to the library as `name`. The clip is decoded,
 * downmixed to mono and checked: under 3 s or over 60 s, silent, or unreadable is refused
 * (E_INVALID / E_IO); outside the recommended 7-20 s it is stored with a warning copied into
 * `warning` (may be NULL; "" when none). An existing name is refused (remove it first).
 */
CHORUS_API int chorus_cloned_voice_add(struct chorus_engine *e, const char *name,
                                       const char *file, const char *description,
                                       char *warning, size_t warning_size);
/** Remove a voice from the library: CHORUS_OK, E_NOT_FOUND, E_INVALID (bad name) or E_IO. */
CHORUS_API int chorus_cloned_voice_remove(struct chorus_engine *e, const char *name);
/** List the library, sorted by name (a missing library is empty). Free with
 *  chorus_cloned_voices_free(). */
CHORUS_API int chorus_cloned_voice_list(struct chorus_engine *e,
                                        struct chorus_cloned_voice **out, size_t *n);
CHORUS_API void chorus_cloned_voices_free(struct chorus_cloned_voice *v, size_t n);

/* ------------------------------------------------------------------------------------------ */
/* Requests, chunks, events                                                                     */
/* ------------------------------------------------------------------------------------------ */

enum chorus_input_kind {
    CHORUS_INPUT_TEXT = 0, /**< plain text (normalized, chunked) */
    CHORUS_INPUT_SSML,     /**< an SSML document */
    CHORUS_INPUT_PHONEMES  /**< engine phonemes, for backends with CHORUS_CAP_PHONEMES */
};

/** A key/value backend option. Both strings are copied when the stream opens. */
struct chorus_option {
    const char *key;
    const char *value;
};

/** A word's place in the caller's input and in the audio. */
struct chorus_word {
    size_t text_offset; /**< byte offset into chorus_request.text */
    size_t text_len;    /**< byte length there */
    double start;       /**< seconds from the start of the stream's audio */
    double end;
};

/** A piece of output audio. */
struct chorus_chunk {
    unsigned index;         /**< 0, 1, 2... within the stream */
    const float *samples;   /**< mono PCM in [-1, 1] at sample_rate, or NULL (see flags) */
    size_t n_samples;
    int sample_rate;
    const unsigned char *data; /**< encoded bytes in the requested format (may be empty) */
    size_t data_len;
    size_t text_offset; /**< span of the caller's input this chunk speaks */
    size_t text_len;
    double start_time; /**< audio time of the chunk's first sample, seconds */
    const struct chorus_word *words; /**< words that start in this chunk */
    size_t n_words;
};

enum chorus_event_type {
    CHORUS_EVENT_STARTED = 1, /**< a slot was obtained, the engine begins */
    CHORUS_EVENT_CHUNK,       /**< ev->chunk holds audio */
    CHORUS_EVENT_WORD,        /**< ev->word: a word's timing (also listed on its chunk) */
    CHORUS_EVENT_PROGRESS,    /**< ev->progress */
    CHORUS_EVENT_MARK,        /**< an SSML <mark>: ev->mark_name at ev->mark_time */
    CHORUS_EVENT_DONE,        /**< finished; the last event of a successful stream */
    CHORUS_EVENT_ERROR,       /**< ev->status and ev->message; the last event of a failed one */
    CHORUS_EVENT_CANCELLED    /**< the last event of a cancelled stream */
};

struct chorus_progress {
    size_t chars_done;  /**< bytes of input spoken so far */
    size_t chars_total; /**< bytes of input */
    double percent;     /**< 0..100 */
    double eta_seconds; /**< estimated seconds left, < 0 if unknown */
    double audio_seconds; /**< audio produced so far */
    const char *current_text; /**< the chunk being spoken (not NUL-terminated) */
    size_t current_len;
};

struct chorus_event {
    enum chorus_event_type type;
    const struct chorus_chunk *chunk;       /**< CHUNK */
    const struct chorus_word *word;         /**< WORD */
    const struct chorus_progress *progress; /**< PROGRESS */
    const char *mark_name;                  /**< MARK */
    double mark_time;                       /**< MARK */
    int status;                             /**< ERROR: the code */
    const char *message;                    /**< ERROR: the message */
};

/**
 * Receives every event of a stream, in order, on the thread that runs the stream (the caller of
 * chorus_stream_run(), or the stream's worker thread in pull mode, which never calls back).
 * Return 0 to go on, non-zero to cancel the stream.
 */
typedef int (*chorus_callback)(const struct chorus_event *ev, void *userdata);

enum chorus_request_flags {
    CHORUS_FLAG_NO_CACHE = 1u << 0,      /**< neither read nor write the audio cache */
    CHORUS_FLAG_NO_SAMPLES = 1u << 1,    /**< leave chunk->samples NULL (encoded bytes only) */
    CHORUS_FLAG_NO_NORMALIZE = 1u << 2,  /**< speak the text as written */
    CHORUS_FLAG_FILE_OUTPUT = 1u << 3    /**< internal: output goes to a seekable file */
};

/** One synthesis request. Get one from chorus_request_default(); zero means default. */
struct chorus_request {
    const char *backend; /**< registration name or instance ("alltalk_narrator"); NULL: default */
    const char *model;   /**< backend's model, NULL: backend default */
    const char *voice;   /**< backend's voice id, name or language code; NULL: default */
    const char *language; /**< language hint ("en-us"), NULL: from the voice */
    const char *text;     /**< UTF-8 input; copied when the stream opens */
    size_t text_len;      /**< 0: strlen(text) */
    enum chorus_input_kind input;
    float speed;        /**< 1.0 = normal; 0: default */
    enum chorus_format format; /**< DEFAULT: wav */
    int sample_rate;    /**< output rate in Hz; 0: the format's default or the engine's */
    const struct chorus_option *options; /**< backend options, validated against its table */
    size_t n_options;
    unsigned flags; /**< enum chorus_request_flags */
    chorus_callback callback;
    void *userdata;
    /** Output gain (linear, up to 64); 0: 1.0. Kokoro-FastAPI's volume_multiplier. */
    float volume;
    /** Normalization switches, "key=value,...", Kokoro-FastAPI's normalization_options names:
     *  normalize, unit_normalization, url_normalization, email_normalization,
     *  pluralization_normalization, phone_normalization, replace_remaining_symbols.
     *  NULL: defaults (all on but units). Copied at open. */
    const char *normalize_options;
};

/** A request with every field at its default. */
CHORUS_API struct chorus_request chorus_request_default(void);

/* ------------------------------------------------------------------------------------------ */
/* Streams                                                                                      */
/* ------------------------------------------------------------------------------------------ */

struct chorus_stream;

/**
 * Validate a request and prepare a stream: resolves the backend and voice, checks the text
 * (empty, invalid UTF-8), options and format. Copies everything it needs from the request.
 * On failure *out is still a stream holding the message (its own error channel, cleared by
 * nothing but kept for the stream's life): read it with chorus_stream_errmsg(), then destroy
 * it; it may be cancelled and destroyed like any stream. Only when the stream itself cannot be
 * allocated is *out NULL, with the message in chorus_engine_errmsg(e).
 */
CHORUS_API int chorus_stream_open(struct chorus_engine *e, const struct chorus_request *req,
                                  struct chorus_stream **out);

/**
 * Run the stream to the end on the calling thread, delivering events to the request's callback.
 * Waits (cancellably) for a slot in the engine's limiter first. Returns CHORUS_OK, the error,
 * or CHORUS_E_CANCELLED.
 */
CHORUS_API int chorus_stream_run(struct chorus_stream *s);

/**
 * Pull mode: start the stream on a worker thread and take its chunks one at a time.
 * chorus_stream_receive() waits up to timeout_ms (negative: forever) and returns CHORUS_OK with
 * *out set (free it with chorus_chunk_free()), CHORUS_AGAIN if nothing came in time, CHORUS_EOF
 * when the stream ended well, or the stream's error. The worker blocks when the caller falls
 * more than a few chunks behind, so memory stays bounded. The first call starts the stream.
 */
CHORUS_API int chorus_stream_receive(struct chorus_stream *s, struct chorus_chunk **out,
                                     int timeout_ms);
CHORUS_API void chorus_chunk_free(struct chorus_chunk *c);

/** Ask the stream to stop; safe from any thread, idempotent. Returns promptly. */
CHORUS_API void chorus_stream_cancel(struct chorus_stream *s);
/** The detailed message of the stream's failure, "" if none. Never NULL for a non-NULL s. */
CHORUS_API const char *chorus_stream_errmsg(const struct chorus_stream *s);
/** The stream's resolved backend name and voice (after defaults and aliases). */
CHORUS_API const char *chorus_stream_backend(const struct chorus_stream *s);
CHORUS_API const char *chorus_stream_voice(const struct chorus_stream *s);
/** Output sample rate the stream will produce (valid after open). */
CHORUS_API int chorus_stream_sample_rate(const struct chorus_stream *s);
/**
 * For callers writing the stream's bytes to a seekable file themselves: after a successful run,
 * the exact header to write over the start of the file (WAV sizes are only known at the end;
 * streamed WAV carries the conventional "unknown length" 0xFFFFFFFF sizes). Sets *len to 0 when
 * the format needs no rewrite. Returns CHORUS_OK, or E_INVALID before the stream has run.
 */
CHORUS_API int chorus_stream_final_header(const struct chorus_stream *s, unsigned char *buf,
                                          size_t cap, size_t *len);
/** Destroy a stream (cancelling and joining its worker if it runs). NULL is a no-op. */
CHORUS_API void chorus_stream_destroy(struct chorus_stream *s);

/**
 * Convenience: synthesize the request into a file at `path`, atomically: the audio goes to a
 * temporary file beside it that is renamed over `path` on success and removed on any failure or
 * cancellation, so no partial file is ever left. WAV files get an exact header. The request's
 * callback, if any, still receives every event. If errbuf is non-NULL it receives the message.
 */
CHORUS_API int chorus_synthesize_file(struct chorus_engine *e, const struct chorus_request *req,
                                      const char *path, char *errbuf, size_t errbuf_size);

/* ------------------------------------------------------------------------------------------ */
/* Cost estimates                                                                               */
/* ------------------------------------------------------------------------------------------ */

/** What a request would cost, estimated without sending it. Strings are static or the engine's. */
struct chorus_estimate {
    const char *backend;   /**< backend that would run it */
    const char *provider;  /**< "openai", "elevenlabs", "alltalk", or "local" (free) */
    const char *model;     /**< model priced */
    size_t characters;     /**< Unicode characters of the input */
    double input_tokens;   /**< estimated input tokens (token-priced models), else 0 */
    double output_tokens;  /**< estimated audio tokens (gpt-4o-mini-tts), else 0 */
    double credits;        /**< ElevenLabs credits, else 0 */
    double usd;            /**< estimated US dollars */
    const char *basis;     /**< how it was priced, e.g. "$15.00 / 1M characters" */
};
/**
 * Estimate the cost of a request from the pricing table (defaults from the providers' published
 * prices; [pricing.PROVIDER.MODEL] in the config overrides them). Nothing is sent.
 */
CHORUS_API int chorus_estimate(struct chorus_engine *e, const struct chorus_request *req,
                               struct chorus_estimate *out);

/* ------------------------------------------------------------------------------------------ */
/* Playback                                                                                     */
/* ------------------------------------------------------------------------------------------ */

struct chorus_player;
/**
 * Open a sound output for mono float PCM at `sample_rate` (libao). `device`: a driver name
 * ("pulse", "alsa", "alsa:hw:1", "null") or a file driver ("wav:/path.wav", "raw:/path");
 * NULL or "": $CHORUS_AUDIO_DEVICE, else the system default. Errors name the device and list the
 * drivers available.
 */
CHORUS_API int chorus_player_open(struct chorus_player **out, int sample_rate, const char *device,
                                  char *errbuf, size_t errbuf_size);
/** Play samples in [-1, 1]; blocks while the device consumes them. */
CHORUS_API int chorus_player_write(struct chorus_player *p, const float *x, size_t n);
/** Drain, close and free. NULL is a no-op. */
CHORUS_API int chorus_player_close(struct chorus_player *p);

/* ------------------------------------------------------------------------------------------ */
/* Model files for local engines                                                                */
/* ------------------------------------------------------------------------------------------ */

/**
 * The folder a local engine's model is installed into by chorus_model_pull() and looked up in
 * by default: $XDG_DATA_HOME/chorus/models/NAME (else ~/.local/share/chorus/models/NAME).
 * Models known: "kokoro". Returns E_NOT_FOUND for an unknown name.
 */
CHORUS_API int chorus_model_dir(const char *model, char *buf, size_t cap);

/** Progress of a download: file being fetched, bytes so far and expected (0 if unknown). Return
 *  non-zero to cancel. Called on the pulling thread. */
typedef int (*chorus_download_fn)(const char *file, uint64_t done, uint64_t total, void *ud);

/**
 * Download a model's files into chorus_model_dir(): for "kokoro", config.json, kokoro-v1_0.pth
 * and one voices/NAME.pt per voice in `voices` (NULL-terminated; NULL = af_heart, af_bella,
 * am_michael, am_fenrir, bf_emma; {"all", NULL} = all 54). `base_url` NULL: $CHORUS_MODELS_URL,
 * else [models] kokoro_url in the config, else the published files, pinned to one revision of
 * huggingface.co/hexgrad/Kokoro-82M. Every file is checked against its SHA-256: the pinned
 * table (the published files), or `manifest`, a file in sha256sum's format ("<hex>  <path>"),
 * when given (a mirror or your own weights). A mismatch deletes the download and says so; a file
 * with no known checksum is checked for its format. Downloads go to NAME.part and resume from
 * there after an interruption (HTTP Range); a file takes its final name only once complete and
 * verified. Files already installed are kept. Messages (file, URL, what failed) go to errbuf.
 */
CHORUS_API int chorus_model_pull(struct chorus_engine *e, const char *model, const char *base_url,
                                 const char *manifest, const char *const *voices,
                                 chorus_download_fn progress, void *userdata, char *errbuf,
                                 size_t errbuf_size);
/** Remove an installed model's files (and partial downloads) from chorus_model_dir(). */
CHORUS_API int chorus_model_remove(const char *model, char *errbuf, size_t errbuf_size);

/* ------------------------------------------------------------------------------------------ */
/* Text inspection: what the text stage makes of an input, without speaking it                  */
/* ------------------------------------------------------------------------------------------ */

/** Free a string or buffer the library returned (chorus_normalize_text...). NULL is a no-op. */
CHORUS_API void chorus_free(void *p);

/**
 * Normalize text for speech ("$12.50" -> "twelve dollars and fifty cents"), as streams do.
 * `options`: as chorus_request.normalize_options; `lang`: "en" (NULL) or another code (then only
 * language-neutral rules apply). On success *out is a NUL-terminated string to chorus_free().
 * With offsets non-NULL, *offsets receives strlen(*out)+1 input offsets (also chorus_free()).
 */
CHORUS_API int chorus_normalize_text(const char *text, size_t len, const char *options,
                                     const char *lang, char **out, size_t **offsets,
                                     char *errbuf, size_t errbuf_size);

/**
 * The phonemes a backend would speak for a text, in the notation its phoneme input
 * (CHORUS_INPUT_PHONEMES, `chorus say --phonemes`) takes: espeak-ng's own for espeak, Kokoro's
 * IPA (misaki) for kokoro. `backend` NULL: the default; `voice` NULL: the backend's default.
 * *out is a string to chorus_free(). E_INVALID if the backend has no phoneme notation.
 */
CHORUS_API int chorus_phonemize(struct chorus_engine *e, const char *backend, const char *voice,
                                const char *text, size_t len, char **out, char *errbuf,
                                size_t errbuf_size);

/** Detect the language of a text: an ISO 639-1 code ("en", "fr"...) or "und"; static string. */
CHORUS_API const char *chorus_detect_language(const char *text, size_t len, double *confidence);

/** One segment of the plan a stream would speak (see chorus_plan_text()). */
struct chorus_text_segment {
    unsigned index;
    const char *text;   /**< what the engine receives (normalized text, or SSML for native SSML) */
    size_t len;
    size_t src_offset;  /**< the span of the input it covers */
    size_t src_len;
    double pause_before; /**< seconds of silence before it */
    const char *voice;   /**< SSML <voice> override, or NULL */
    float rate, pitch, volume; /**< SSML prosody multipliers (1 = unchanged) */
    int is_ssml;
};
typedef int (*chorus_segment_fn)(const struct chorus_text_segment *seg, void *userdata);

/**
 * The segments a request's text becomes: validation (UTF-8, blank), normalization, SSML,
 * chunking at `max_chars` (0 = unbounded) with a short first chunk. `normalize` 0 speaks the text
 * as written. Calls fn for each segment (non-zero stops). Errors (bad SSML with line and column,
 * invalid UTF-8) go to errbuf.
 */
CHORUS_API int chorus_plan_text(const char *text, size_t len, enum chorus_input_kind kind,
                                size_t max_chars, int normalize, const char *options,
                                chorus_segment_fn fn, void *userdata, char *errbuf,
                                size_t errbuf_size);

/* ------------------------------------------------------------------------------------------ */
/* Logging                                                                                      */
/* ------------------------------------------------------------------------------------------ */

enum chorus_log_level { CHORUS_LOG_ERROR = 0, CHORUS_LOG_WARN, CHORUS_LOG_INFO, CHORUS_LOG_DEBUG };
typedef void (*chorus_log_fn)(enum chorus_log_level level, const char *msg, void *userdata);
/**
 * Route the library's log lines (default: stderr at WARN, or the level in $CHORUS_LOG:
 * error|warn|info|debug). Secrets are redacted before any line is formatted. Process-wide.
 */
CHORUS_API void chorus_set_log(chorus_log_fn fn, void *userdata, enum chorus_log_level level);

#ifdef __cplusplus
}
#endif
#endif /* CHORUS_CHORUS_H */
