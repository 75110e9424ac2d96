/*
 * server_internal.h — what the files of src/server share: the server and per-request state,
 * response helpers (every error in OpenAI's envelope), admission, metrics, voice mapping.
 * Not installed; the server still sees the library only through chorus/chorus.h.
 */
#ifndef CHORUS_SERVER_INTERNAL_H
#define CHORUS_SERVER_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "request.h"
#include "server.h"
#include "watch.h"

/** Longest URL routed (longer: 414 in the JSON envelope, up to libmicrohttpd's own limit). */
#define SRV_MAX_URL 2048

/** Endpoints, for routing and the metrics label. */
enum {
    SRV_EP_SPEECH = 0,
    SRV_EP_CAPTIONED,
    SRV_EP_VOICES,
    SRV_EP_MODELS,
    SRV_EP_BACKENDS,
    SRV_EP_HEALTH,
    SRV_EP_METRICS,
    SRV_EP_PAGE,
    SRV_EP_AUDIO_MODELS,
    SRV_EP_DOWNLOAD,
    SRV_EP_PHONEMIZE,
    SRV_EP_FROM_PHONEMES,
    SRV_EP_COMBINE,
    SRV_EP_STREAM_INPUT, /* the text-stream WebSocket (streamin.c) */
    SRV_EP_OPTIONS, /* a CORS preflight */
    SRV_EP_OTHER,
    SRV_EP_COUNT
};

/** Outcomes of a generation, for chorus_generations_total. */
enum { SRV_GEN_DONE = 0, SRV_GEN_ERROR, SRV_GEN_CANCELLED, SRV_GEN_OUTCOMES };

#define SRV_STATUS_SLOTS 16
#define SRV_TTFB_BUCKETS 11
#define SRV_RTF_BUCKETS 9

struct srv_status_count {
    int status;
    uint64_t count;
};

/** Counters behind GET /metrics (guarded by srv.mmu). Histogram buckets are cumulative. */
struct srv_metrics {
    struct srv_status_count requests[SRV_EP_COUNT][SRV_STATUS_SLOTS];
    uint64_t ttfb_bucket[SRV_TTFB_BUCKETS], ttfb_count;
    double ttfb_sum;
    uint64_t rtf_bucket[SRV_RTF_BUCKETS], rtf_count;
    double rtf_sum;
    uint64_t generations[SRV_GEN_OUTCOMES];
    uint64_t bytes_out;
    double audio_seconds;
    uint64_t reaped_slow_requests;     /* requests not in within request_timeout_ms */
    uint64_t reaped_stalled_responses; /* responses without progress for stall_timeout_ms */
    uint64_t refused_held;             /* 503s because too many bytes were held */
};

struct srv {
    struct srv_options opt;
    struct chorus_engine *engine;
    struct MHD_Daemon *daemon;
    int listen_fd, port;
    char default_backend[128];
    pthread_mutex_t mu; /* active (generations in flight), stopping, draining, next_id */
    int active, stopping, draining;
    uint64_t next_id;
    atomic_int force_stop; /* cancel every running generation now */
    pthread_mutex_t mmu;
    struct srv_metrics m;
    struct srv_downloads *dls; /* download.c, made on first use */
    pthread_mutex_t dmu;
    pthread_mutex_t wmu;    /* the watched connections (watch.c) */
    struct srv_conn *conns;
    pthread_t reaper;
    int reaper_on;
    atomic_int reaper_stop;
    atomic_int trim_due;    /* a generation ended since the reaper last trimmed the heap */
    atomic_size_t held;     /* request bodies and unsent whole responses, in bytes */
};

/** Hold n more bytes against opt.max_held (request bodies, unsent whole responses): 0, or -1
 *  (nothing held) when that would pass the limit. */
int srv_hold(struct srv *s, size_t n);
void srv_unhold(struct srv *s, size_t n);

struct si_session;

/** One HTTP request (MHD's per-request pointer), freed when MHD reports it complete. */
struct srv_req {
    struct srv *srv;
    struct MHD_Connection *conn;
    uint64_t id;
    double t0;
    char method[16];
    char url[256];
    int endpoint;
    char path[256];       /* the normalized path the router matched */
    const char *model_id; /* GET /v1/models/{id}, GET /v1/download/{file}: points into path */
    char *body;
    size_t body_len, body_held; /* body_held: bytes counted by srv_hold */
    int too_large, rejected, held_refused;
    size_t discarded; /* body bytes read and dropped after a refusal */
    int status;
    size_t bytes_out;
    const char *errmsg_logged; /* error code for the access log (never the message) */
    atomic_int refs;           /* MHD's, plus one while a streamed response lives */
    int toe;                   /* how MHD says the request ended */
    struct si_session *stream_input; /* a WebSocket session not yet upgraded (streamin.c) */
};

/** Drop a reference to q; the last one writes the access log line and frees it. */
void srv_req_unref(struct srv_req *q);

double srv_now(void);
void srv_free(struct srv *s);

/** 1 if the client closed its connection (peeked, nothing consumed). */
int srv_client_gone(struct MHD_Connection *c);

/** A generation starts: 0, or -1 with a 503 in *err when the server is stopping. Admission
 *  (slots, queue, timeout) is the library's; this only counts generations for a graceful stop. */
int srv_gen_begin(struct srv *s, struct srv_error *err);
void srv_gen_end(struct srv *s);
int srv_stopping(struct srv *s);

/** Record a finished generation (ttfb < 0: no audio was sent). */
void srv_metrics_generation(struct srv *s, int outcome, double ttfb, double wall, double audio,
                            uint64_t bytes);

void srv_error_set(struct srv_error *e, int status, const char *type, const char *code,
                   const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/** Map a library status and its message to an HTTP error. */
void srv_error_from_status(struct srv_error *e, int rc, const char *msg, const char *param);
json_t *srv_error_json(const struct srv_error *e);
json_t *srv_formats_json(void);

/** Queue a response (adds x-request-id, counts it, destroys our reference). */
enum MHD_Result srv_queue(struct srv_req *q, int status, struct MHD_Response *r);
/** Send malloc'ed data (taken over) with a content type. */
enum MHD_Result srv_send_buffer(struct srv_req *q, int status, const char *ctype, void *data,
                                size_t len);
/** Send a JSON document (reference taken over). */
enum MHD_Result srv_send_json(struct srv_req *q, int status, json_t *j);
/** Send an error in OpenAI's envelope with x-should-retry and Retry-After as they apply. */
enum MHD_Result srv_send_error(struct srv_req *q, const struct srv_error *e);

/** The voice a name maps to for backend b (config [server.voices.B], [server.voices] for the
 *  default backend, then the built-in table), or NULL when it is not an alias. */
const char *srv_voice_map(struct srv *s, const char *backend, const char *voice);

void srv_metrics_count(struct srv *s, int ep, int status);
/** The Prometheus text of GET /metrics (free it), NULL on no memory. */
char *srv_metrics_text(struct srv *s);

/** 1 if CORS is on and a request from this Origin may read the answer (respond.c). */
int srv_cors_allows(const struct srv *s, const char *origin);
/** Answer a CORS preflight (OPTIONS) with 204 and the allowed methods and headers. */
enum MHD_Result srv_send_preflight(struct srv_req *q);

/** The JSON endpoints (listing.c). */
enum MHD_Result srv_handle_backends(struct srv_req *q);
enum MHD_Result srv_handle_models(struct srv_req *q, const char *one);
enum MHD_Result srv_handle_voices(struct srv_req *q);
enum MHD_Result srv_handle_health(struct srv_req *q);
/** GET /v1/audio/models: Open WebUI's {"models":[{"id"}]}. */
enum MHD_Result srv_handle_audio_models(struct srv_req *q);

/** How a generation's audio goes back (speech.c). */
struct run {
    const char *text;      /* what the stream speaks (the SSML a request became...), for captions */
    size_t text_len, input_chars;
    enum chorus_format format;
    int captioned, sse, stream, return_timestamps, download;
};
/** Take a slot, open the stream for r, wait for its first chunk and answer: streamed, whole,
 *  captioned or SSE as run says; a failure before audio is an error in OpenAI's envelope. */
enum MHD_Result srv_run(struct srv_req *q, const struct chorus_request *r, const struct run *run);

/* Download links (download.c): a copy of a response kept for GET /v1/download/{file}, in a
 * private folder, for [server] download_ttl seconds, within download_max_bytes in all. */
struct srv_dl;
/** Start a copy in format f; NULL if downloads are off or the folder cannot be made. */
struct srv_dl *srv_dl_create(struct srv *s, enum chorus_format f);
/** "/download/NAME", the X-Download-Path header's value. */
const char *srv_dl_path(const struct srv_dl *d);
void srv_dl_write(struct srv_dl *d, const void *p, size_t n);
/** ok: publish it (hdr, when hl > 0, overwrites the file's first bytes: the exact WAV header);
 *  otherwise remove it. Frees d. */
void srv_dl_finish(struct srv *s, struct srv_dl *d, int ok, const unsigned char *hdr, size_t hl);
/** Remove every copy and the folder (at stop). */
void srv_dl_cleanup(struct srv *s);
enum MHD_Result srv_handle_download(struct srv_req *q);

/** POST /dev/phonemize and /dev/generate_from_phonemes (dev.c). */
enum MHD_Result srv_handle_phonemize(struct srv_req *q);
enum MHD_Result srv_handle_from_phonemes(struct srv_req *q);
enum MHD_Result srv_handle_combine(struct srv_req *q);

/** GET /v1/text-to-speech/{voice}/stream-input: the text-stream WebSocket (streamin.c); the
 *  voice is q->model_id. */
enum MHD_Result srv_handle_stream_input(struct srv_req *q);
/** Free a session whose upgrade never ran (the request ended first). NULL is a no-op. */
void srv_stream_input_release(struct si_session *x);

/** POST /v1/audio/speech (captioned = 0) and its captioned NDJSON variant (speech.c). */
enum MHD_Result srv_handle_speech(struct srv_req *q, int captioned);

#endif
