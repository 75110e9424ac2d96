/*
 * request.h — the speech request of `chorus serve`: parsing and validating the JSON body of
 * POST /v1/audio/speech (OpenAI's fields plus Kokoro-FastAPI's extras), mapping model names to
 * backends and OpenAI voice names to a backend's voices. Pure functions: no engine, no I/O, so
 * the parser can be fuzzed (tests/fuzz/fuzz_server_request.c) and unit-tested on its own.
 */
#ifndef CHORUS_SERVER_REQUEST_H
#define CHORUS_SERVER_REQUEST_H

#include <stddef.h>

#include "chorus/chorus.h"

/** Most backend options one request may carry ("options" object plus mapped extras). */
#define SRV_MAX_OPTIONS 32

/** How the audio travels back. */
enum srv_stream_format {
    SRV_STREAM_AUDIO = 0, /**< chunked audio bytes (OpenAI's default) */
    SRV_STREAM_SSE        /**< text/event-stream of speech.audio.delta / speech.audio.done */
};

/** A parsed speech request. Every string points into `json` (owned) or is static. */
struct srv_speech {
    void *json;            /**< the parsed document (json_t *), owns the strings below */
    const char *model;     /**< as sent, NULL if absent */
    const char *input;     /**< the text (UTF-8 checked by the library) */
    size_t input_len;      /**< bytes */
    size_t input_chars;    /**< code points, for the configured limit */
    const char *voice;     /**< string, or the "id" of a voice object; NULL if absent */
    enum chorus_format format; /**< DEFAULT when absent */
    int format_given;      /**< response_format was in the body */
    double speed;          /**< 0 when absent */
    const char *instructions;
    enum srv_stream_format stream_format;
    int stream;            /**< Kokoro "stream": 1 (default) streams, 0 sends one whole body */
    const char *language;  /**< from lang_code (Kokoro letters mapped to codes) or "language" */
    double volume;         /**< volume_multiplier, 0 when absent */
    int no_normalize;      /**< normalization_options.normalize == false */
    char normalize_opts[512]; /**< other normalization_options as "key=value,..." ("" if none) */
    int return_timestamps; /**< captioned endpoint: 1 (default) */
    int sample_rate;       /**< extension: output rate in Hz, 0 = the format's default */
    int ssml;              /**< "ssml": true, or input starting with <speak (or <?xml) */
    int voice_tags;        /**< Kokoro-FastAPI's allow_voice_tags: [voice:NAME], [pause:1.5s] */
    int download_link;     /**< return_download_link: keep a copy for GET /v1/download/{file} */
    enum chorus_format download_format; /**< download_format, DEFAULT: the response's */
    struct chorus_option options[SRV_MAX_OPTIONS]; /**< extension "options": {"k": v} */
    size_t n_options;
    char optval[SRV_MAX_OPTIONS][48]; /**< text of number and boolean option values */
    /** extension "pronunciations": {"word": "alias" | {"alias", "phonemes", "alphabet"}}; the
     *  library checks each (chorus_request.pronunciations) */
    struct chorus_pronunciation prons[CHORUS_MAX_REQUEST_PRONUNCIATIONS];
    size_t n_prons;
};

/** A request error: HTTP status and OpenAI's envelope fields. */
struct srv_error {
    int status;          /**< 400, 413, ... */
    const char *type;    /**< "invalid_request_error" */
    const char *code;    /**< "invalid_value", or NULL */
    const char *param;   /**< the offending field, or NULL */
    char message[512];
    int retry_after;     /**< seconds for Retry-After, 0: no header */
    int should_retry;    /**< x-should-retry: 1 true, 0 false, -1 from status and retry_after */
    const char *allow;   /**< 405: the Allow header */
};

/**
 * Parse and validate a speech request body. Returns 0 and fills *out (release it with
 * srv_speech_release), or -1 with *err describing the problem (out is then released already).
 */
int srv_speech_parse(const char *body, size_t len, size_t max_input_chars, struct srv_speech *out,
                     struct srv_error *err);
void srv_speech_release(struct srv_speech *r);

/** 1 if a text is an SSML document: it starts (after a BOM and whitespace) with <speak or <?xml. */
int srv_input_is_ssml(const char *s, size_t n);

/** 1 if `model` is one of OpenAI's speech model names (tts-1, tts-1-hd, gpt-4o-mini-tts...). */
int srv_model_is_openai(const char *model);

/**
 * Split a model string into backend and backend model: "espeak" → ("espeak", NULL),
 * "openai/tts-1-hd" → ("openai", "tts-1-hd"). OpenAI model names and an empty or missing model
 * give backend NULL (the caller's default backend). The strings are written into the buffers.
 * Returns -1 if a part does not fit, is empty ("openai/") or could name a path (a '/' or '\\' in the backend, a leading '/', "..", control characters).
 */
int srv_model_split(const char *model, char *backend, size_t bcap, char *bmodel, size_t mcap);

/** 1 if `voice` is one of OpenAI's built-in voice names (alloy, ash, ... cedar). */
int srv_voice_is_openai(const char *voice);
/** The OpenAI voice names, NULL-terminated. */
extern const char *const srv_openai_voices[];

/** Kokoro lang_code letter ("a") → language code ("en-us"); other strings are returned as is. */
const char *srv_lang_from_code(const char *code);

/**
 * The canonical form of a request path, as the router matches it: "//" → "/", no trailing "/",
 * "/v1/v1/..." → "/v1/...", and the /v1 endpoints reached without it ("/audio/speech",
 * "/models") get it. A query string is dropped. -1 if it is not a path or does not fit in cap.
 */
int srv_path_normalize(const char *url, char *out, size_t cap);

/** 1 if host is a loopback address or name (127.0.0.0/8, ::1, ::ffff:127.x, localhost). */
int srv_host_is_loopback(const char *host);

/** Copy s into out (cap > 0) for a log line: bytes below 0x20 or from 0x7f up, '\\' and '"' become
 *  \xHH, so a request cannot forge log lines or send terminal escapes. Truncates to fit. */
void srv_log_escape(const char *s, char *out, size_t cap);

/** Standard base64 of data into a new NUL-terminated string (free it), NULL on no memory. */
char *srv_base64(const unsigned char *data, size_t n, size_t *out_len);

#endif
