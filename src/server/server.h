/*
 * server.h — `chorus serve`: an OpenAI-compatible speech server on libmicrohttpd, built only on
 * the public API (chorus/chorus.h). See docs/server.md for endpoints, options and limits.
 *
 * Threads: one MHD thread per connection. A speech request waits for a server slot, opens a
 * chorus stream in pull mode and takes its chunks with chorus_stream_receive() from MHD's
 * content-reader callback, polling every 50 ms whether the client is still there; a client that
 * goes away cancels its stream and frees its slot.
 */
#ifndef CHORUS_SERVER_SERVER_H
#define CHORUS_SERVER_SERVER_H

#include <stddef.h>

#include "chorus/chorus.h"

/** Server settings (the serve command fills them from flags, then [server] config). */
struct srv_options {
    const char *host;            /**< address to bind: "127.0.0.1", "::1", "0.0.0.0"... */
    int port;                    /**< 0: any free port (see srv_port) */
    const char *const *api_keys; /**< accepted Bearer keys; none: no auth */
    size_t n_api_keys;
    int insecure;                /**< allow a non-loopback bind without a key */
    int max_concurrent;          /**< generations at once; 0: the engine's limit */
    int max_queue;               /**< requests waiting for a slot before 429 */
    int queue_timeout_ms;        /**< waiting longer than this gives 503 */
    size_t max_body;             /**< request body bytes before 413 */
    size_t max_input_chars;      /**< characters of 'input' before 400 */
    size_t max_buffered;         /**< bytes of audio kept for a non-streamed reply */
    size_t max_held;             /**< bytes of request bodies and unsent whole replies kept
                                      across all connections before 503 */
    int request_timeout_ms;      /**< a request (headers and body) must arrive within this */
    int stall_timeout_ms;        /**< a response that makes no progress this long is cut */
    int max_client_conns;        /**< connections at once from one IP address */
    const char *default_backend; /**< backend for OpenAI model names; NULL: engine default */
    int access_log;              /**< one line per request on stderr */
    int open_listing;            /**< GET /v1/models, /v1/audio/models, /v1/audio/voices
                                      without a key (speech stays keyed) */
    const char *cors_origin;     /**< NULL: no CORS; "*" or one origin ("https://app.example")
                                      allowed to read answers; preflights need no key */
    int download_ttl_s;          /**< download links last this long (0: no links) */
    size_t download_max_bytes;   /**< disk for download copies, all together */
};

/** The process's allocator settings for a server (glibc; once, before any thread starts): a
 *  few malloc arenas, buffers under 32 MiB kept on the heap, at most 8 MiB free at a heap's
 *  top. With them the reaper gives the heaps' free pages back when the server is quiet. */
void srv_malloc_setup(void);

/** Defaults for every field (loopback, port 8880, queue 32, body 1 MiB...). */
struct srv_options srv_options_default(void);

struct srv;

/**
 * Bind and start serving. On failure returns a negative chorus status and writes the reason
 * (what failed, on what, what to do) into err.
 */
int srv_start(struct chorus_engine *e, const struct srv_options *o, struct srv **out, char *err,
              size_t errlen);
/** The port actually bound. */
int srv_port(const struct srv *s);
/** Draining: /health answers 503 "draining" so load balancers stop sending new requests, while
 *  requests still arriving are served as usual (the window before srv_stop). */
void srv_drain(struct srv *s);
/**
 * Graceful stop: stop accepting, let running generations finish for up to grace_ms, cancel the
 * rest, close every connection, free the server. NULL is a no-op.
 */
void srv_stop(struct srv *s, int grace_ms);

/** The static web page served at GET / (page.c). */
extern const char srv_page_html[];

#endif
