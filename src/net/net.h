/*
 * net.h — the HTTP layer shared by the remote backends (openai, elevenlabs, alltalk, ...).
 *
 * One libcurl transfer per request, driven through the multi interface so that cancellation is
 * noticed within ~50 ms even while a server says nothing. What it does for every backend:
 *
 *  - streams a 2xx body straight to the caller's on_body callback as bytes arrive;
 *  - connect timeout, idle (read) timeout, optional total timeout;
 *  - retries with exponential backoff and jitter on connection errors, timeouts before any body
 *    byte, HTTP 408, 429 and 5xx, honouring Retry-After (seconds or HTTP-date) and
 *    retry-after-ms, up to a cap; the backend's classify callback can veto a retry (a 429 that
 *    means "quota exhausted" must not be retried);
 *  - a failure after body bytes were delivered is retried only when the caller allows it
 *    (policy.retry_after_body): the caller then dedupes the replay (see struct chorus_once);
 *  - non-2xx bodies are collected (capped) for the backend to turn into a message;
 *  - every message it produces has the request's secret (API key) masked, and the secret is
 *    never put in a URL (keys travel in headers only) and never logged.
 *
 * Nothing here depends on the core: cancellation is a callback, so the layer is testable alone.
 * Threading: every function is reentrant; chorus_net_global_init() is called once (thread-safe).
 */
#ifndef CHORUS_NET_H
#define CHORUS_NET_H

#include <stddef.h>

/** A growable, capped collector for small bodies (voice lists, JSON answers): use
 *  chorus_net_buf_body as a request's on_body with the buffer as ud. p is NUL-terminated.
 *  max 0 = 8 MiB; a longer body aborts the transfer with E_TOO_LONG. Free p with free(). */
struct chorus_net_buf {
    char *p;
    size_t n, cap, max;
};
int chorus_net_buf_body(void *ud, const void *data, size_t n);

/** curl_global_init once, thread-safe. Returns CHORUS_OK or CHORUS_E_NETWORK. */
int chorus_net_global_init(void);

struct chorus_http_policy {
    long connect_timeout_ms; /**< 0: 10 s */
    long idle_timeout_ms;    /**< no byte for this long: E_TIMEOUT; 0: 60 s (1 s granularity) */
    long total_timeout_ms;   /**< whole transfer; 0: none */
    int max_retries;         /**< retries after the first attempt; <0: 3 */
    long backoff_initial_ms; /**< first backoff; 0: 500 ms (doubles, with jitter) */
    long backoff_max_ms;     /**< cap of one backoff; 0: 8 s */
    long retry_after_max_ms; /**< a longer Retry-After is not waited for; 0: 60 s */
    int retry_after_body;    /**< 1: also retry a transfer that failed after body bytes */
    int honour_should_retry; /**< 1: an x-should-retry: true|false answer header decides
                                  whether a failed attempt is retried (OpenAI's servers send
                                  it; openai-python's _should_retry obeys it first) */
};

/** What classify decides about a non-2xx answer. */
struct chorus_http_verdict {
    int status;    /**< chorus status (negative) */
    int retryable; /**< 1: worth another attempt (subject to the policy) */
    char msg[1024]; /**< actionable message (the layer masks the secret afterwards) */
};

struct chorus_http_result;

/**
 * A connection cache shared by the requests of one backend instance (libcurl's share interface:
 * connections, DNS and TLS sessions), so that the chunks and retries of a stream reuse one
 * TCP+TLS connection instead of a handshake each. Thread-safe: concurrent requests take
 * different connections from it and put them back. ca_file: a PEM bundle to trust instead of
 * the system's (NULL: the system's). NULL when out of memory (requests then work unshared).
 */
struct chorus_http_pool;
struct chorus_http_pool *chorus_http_pool_create(const char *ca_file);
/** After every request that used it has returned. NULL is fine. */
void chorus_http_pool_destroy(struct chorus_http_pool *p);

struct chorus_http_req {
    const char *method;          /**< "GET", "POST"; NULL: POST if body, else GET */
    const char *url;             /**< must not contain secrets */
    const char *const *headers;  /**< NULL-terminated "Name: value" lines, or NULL */
    const char *body;            /**< request body, or NULL */
    size_t body_len;
    const char *secret;          /**< masked in every message (may be NULL) */
    const char *what;            /**< who is asking, for messages ("openai") */
    struct chorus_http_pool *pool; /**< reuse connections from it (NULL: a fresh connection
                                        per attempt) */
    struct chorus_http_policy policy;
    /** Called once per attempt when a 2xx status and headers are in, before its first body
     *  byte (so a replaying caller can rewind). Return <0 to abort with that status. */
    int (*on_response)(void *ud, const struct chorus_http_result *r);
    /** 2xx body bytes as they arrive. Return <0 to abort the transfer with that status
     *  (no retry: the message is the caller's). */
    int (*on_body)(void *ud, const void *data, size_t n);
    /** Non-2xx answer: map it (status, body) to a verdict. NULL: chorus_http_classify_default. */
    void (*classify)(void *ud, const struct chorus_http_result *r, struct chorus_http_verdict *v);
    /** Before each retry's wait (may be NULL): the attempt that failed (1-based), the wait,
     *  and why (the failure's message, secret masked). For logs. */
    void (*on_retry)(void *ud, int attempt, long wait_ms, const char *why);
    /** 1 when the caller wants to stop; polled at least every 50 ms. */
    int (*is_cancelled)(void *ud);
    void *ud;
};

struct chorus_http_result {
    long status;          /**< last HTTP status, 0 if none was received */
    int attempts;         /**< requests sent */
    int retries;          /**< attempts - 1 */
    size_t body_bytes;    /**< body bytes delivered by the last attempt */
    size_t body_total;    /**< body bytes delivered over all attempts */
    char *error_body;     /**< last non-2xx body, NUL-terminated (<= 64 KiB), or NULL */
    size_t error_body_len;
    char content_type[128];
    char request_id[128];     /**< x-request-id / request-id header, "" if none */
    char character_cost[32];  /**< ElevenLabs character-cost header, "" if none */
    long retry_after_ms;      /**< last Retry-After / retry-after-ms seen, -1 if none */
    int should_retry;         /**< last x-should-retry: 1 true, 0 false, -1 none */
    long total_wait_ms;       /**< time spent in backoff */
    char msg[1024];           /**< failure message (secret masked), "" on success */
};

/**
 * Perform the request with the policy's retries. Returns CHORUS_OK when a 2xx body was
 * received completely, else a negative chorus status with r->msg set. E_CANCELLED when
 * is_cancelled said so (at once, mid-transfer or mid-backoff). Free r with
 * chorus_http_result_release().
 */
int chorus_http_perform(const struct chorus_http_req *req, struct chorus_http_result *r);
void chorus_http_result_release(struct chorus_http_result *r);

/** The generic mapping used when a request has no classify: 400/409/413/415/422 BAD_REQUEST
 *  (a backend whose server means "try again" by 409, like OpenAI, says so in its classify),
 *  401/403 AUTH, 404 NOT_FOUND, 408 TIMEOUT (retryable), 429 RATE_LIMIT (retryable), 5xx
 *  SERVER (retryable), anything else BACKEND; the message quotes a short, printable excerpt of the body. */
void chorus_http_classify_default(const char *what, const struct chorus_http_result *r,
                                  struct chorus_http_verdict *v);

/**
 * Parse a Retry-After value: delta-seconds ("120", "1.5") or an HTTP-date ("Wed, 21 Oct 2015
 * 07:28:00 GMT"), relative to `now` (unix seconds). Returns milliseconds >= 0, or -1 if the
 * value is not understood.
 */
long chorus_http_parse_retry_after(const char *value, long long now);

/** Backoff before retry number `retry` (1-based): min(max, initial * 2^(retry-1)) scaled by a
 *  random factor in [0.5, 1.0] ("equal jitter"). `rnd` in [0,1) is supplied for testability. */
long chorus_http_backoff_ms(const struct chorus_http_policy *p, int retry, double rnd);

/**
 * Mask `secret` in s (in place, NUL-terminated, capacity cap): every occurrence of the secret,
 * and, for secrets of 12 characters or more, every run of 6 or more characters that is a
 * substring of it (providers echo key fragments such as "sk-proj-abcd...uvwxyz"), becomes
 * "***". No-op for NULL/empty secrets.
 */
void chorus_net_redact(char *s, size_t cap, const char *secret);

/** Append `s` URL-encoded (RFC 3986 unreserved kept) to buf (capacity cap, NUL-terminated).
 *  Returns 0, or -1 if it did not fit (buf then holds a truncated but terminated string). */
int chorus_net_urlencode_append(char *buf, size_t cap, const char *s);

/** "http://host:port/base" + "/path" without doubling the slash; 0 or -1 if it does not fit. */
int chorus_net_join_url(char *buf, size_t cap, const char *base, const char *path);

/* ---- exactly-once delivery of one job's audio across retried attempts ------------------- */

/**
 * A job's audio is a byte stream. With retries, an attempt that failed after forwarding bytes
 * is repeated; struct chorus_once makes sure the caller's sink sees every byte exactly once:
 *
 *  - hold = 0 ("stream"): bytes are forwarded as they arrive and remembered. On a replay the
 *    incoming bytes are compared with what was already forwarded; matching bytes are dropped,
 *    and forwarding resumes where the last attempt stopped. If the replay differs (the server
 *    is not deterministic), writing fails with E_NETWORK: the job cannot be completed exactly,
 *    and the error says so rather than duplicating or losing audio.
 *  - hold = 1 ("buffer"): bytes are kept until chorus_once_commit(), when the response is
 *    complete; a replay simply discards what the failed attempt produced. Exact always, at the
 *    cost of latency (the job's audio arrives when its response completes).
 *
 * Memory: one job's audio (at most the backend's max_input_chars worth).
 */
struct chorus_once {
    int hold;
    int no_replay;      /* stream mode without retries: nothing to compare, keep nothing */
    unsigned char *buf; /* forwarded (stream) or held (buffer) bytes of this job */
    size_t len, cap;
    size_t pos;         /* bytes of the current attempt seen so far */
    int attempt;        /* attempts begun */
    int (*deliver)(void *ud, const unsigned char *p, size_t n); /* <0 aborts */
    void *ud;
};

void chorus_once_init(struct chorus_once *o, int hold,
                      int (*deliver)(void *ud, const unsigned char *p, size_t n), void *ud);
/** A new attempt starts (call from on_response). */
void chorus_once_rewind(struct chorus_once *o);
/** Bytes of the current attempt. CHORUS_OK, a deliver error, E_NOMEM, or E_NETWORK when a
 *  replay does not match what was forwarded (msg explains, if non-NULL). */
int chorus_once_write(struct chorus_once *o, const void *p, size_t n, char *msg, size_t msglen);
/** The attempt completed: deliver held bytes (hold mode); in stream mode, E_NETWORK (msg
 *  says why) if the completed replay was shorter than what had been delivered. */
int chorus_once_commit(struct chorus_once *o, char *msg, size_t msglen);
/** Bytes forwarded to the sink so far. */
size_t chorus_once_delivered(const struct chorus_once *o);
void chorus_once_release(struct chorus_once *o);

/* ---- incremental framing: Server-Sent Events and newline-delimited JSON ------------------ */

/**
 * Splits a byte stream into SSE events (text/event-stream: "data:" lines joined with "\n",
 * an empty line ends an event; the "event:" name is kept in f->event for on_frame; "id:",
 * "retry:" and comments are ignored) or into
 * lines (NDJSON). Lines may end in \n, \r\n or \r. One event or line is capped at max_len
 * (0: 32 MiB): longer input is an error, so memory stays bounded.
 */
struct chorus_framer {
    int sse;                 /* 1: SSE events, 0: lines */
    size_t max_len;
    char *line;              /* the line being assembled */
    size_t line_len, line_cap;
    char *data;              /* SSE: the event's data being assembled */
    size_t data_len, data_cap;
    int have_data;
    int last_cr;             /* the previous byte was \r (so a following \n is not a line) */
    char event[32];          /* SSE: the "event:" name of the event being delivered ("" if
                                none): on_frame may read it (OpenAI sends "event: error") */
    int (*on_frame)(void *ud, const char *frame, size_t n); /* NUL-terminated; <0 aborts */
    void *ud;
};

void chorus_framer_init(struct chorus_framer *f, int sse, size_t max_len,
                        int (*on_frame)(void *ud, const char *frame, size_t n), void *ud);
/** Feed bytes. Returns CHORUS_OK, an on_frame error, E_NOMEM, or E_TOO_LONG. */
int chorus_framer_feed(struct chorus_framer *f, const void *data, size_t n);
/** End of input: a trailing line without newline is delivered; a pending SSE event too. */
int chorus_framer_finish(struct chorus_framer *f);
void chorus_framer_release(struct chorus_framer *f);

/* ---- WAV byte stream reader (servers that answer with wav) -------------------------------- */

/**
 * Reads a RIFF/WAVE byte stream incrementally (the audio stage's WAV decoder underneath, so
 * there is one WAV parser) and hands out mono PCM. Whatever real servers write: integer PCM
 * 8/16/24/32-bit, IEEE float 32/64-bit (AllTalk's XTTS and travisvn's Chatterbox save float32
 * through torchaudio), WAVE_FORMAT_EXTENSIBLE with a PCM or float sub-format, 1-16 channels
 * (downmixed), and data sizes of 0 or 0xFFFFFFFF (streaming headers) read as "to the end".
 * Float samples are clipped to [-1, 1] when converted to 16-bit for on_pcm.
 */
struct chorus_decoder;
struct chorus_wavreader {
    struct chorus_decoder *dec; /* created on the first feed */
    int state;                  /* 0 running, -1 error */
    int sample_rate;            /* of the last delivered PCM (0 before any) */
    int cb_status;              /* a callback's refusal */
    /* 16-bit PCM to on_pcm, or (when set) float PCM to on_f32 */
    int (*on_pcm)(void *ud, const short *x, size_t n, int sample_rate); /* <0 aborts */
    int (*on_f32)(void *ud, const float *x, size_t n, int sample_rate); /* <0 aborts */
    void *ud;
    char err[256];
};

void chorus_wavreader_init(struct chorus_wavreader *w,
                           int (*on_pcm)(void *ud, const short *x, size_t n, int rate),
                           void *ud);
/** Feed bytes. CHORUS_OK, a callback's error, E_NOMEM, or E_BACKEND with w->err set (not a
 *  WAV that can be read: the message says what is wrong with it). */
int chorus_wavreader_feed(struct chorus_wavreader *w, const void *data, size_t n);
/** End of input: E_BACKEND if no audio data was found or a sized data chunk was cut short. */
int chorus_wavreader_finish(struct chorus_wavreader *w);
/** Free what the reader holds (init again to reuse it). */
void chorus_wavreader_release(struct chorus_wavreader *w);

/* ---- provider error envelopes ------------------------------------------------------------ */

/** What a provider's error body says, whichever envelope it uses. Strings empty if absent. */
struct chorus_provider_error {
    char message[300]; /* human text */
    char type[64];     /* OpenAI error.type */
    char code[64];     /* OpenAI error.code, ElevenLabs detail.status, FastAPI detail.error */
    char param[64];    /* OpenAI error.param: the request field at fault ("voice", "input") */
};

/**
 * Parse an error body: OpenAI {"error":{"message","type","param","code"}}; ElevenLabs
 * {"detail":{"status","message"}}; FastAPI {"detail":"..."} and {"detail":[{"loc","msg"}]};
 * Kokoro-FastAPI {"detail":{"error","message","type"}}; travisvn {"detail":{"error":{...}}};
 * AllTalk {"status":"generate-failure","error":...} / {"error":"..."} / {"message":...}. A body
 * that is not JSON gives its first printable line as the message. Returns 1 if anything was
 * found, 0 if the body was empty.
 */
int chorus_provider_error_parse(const char *body, size_t len, struct chorus_provider_error *e);


#endif
