/*
 * server.c — the HTTP side of `chorus serve`: listening socket, libmicrohttpd daemon, routing,
 * authentication and graceful shutdown. Admission is in admission.c, metrics in metrics.c,
 * responses and errors in respond.c, the JSON endpoints in listing.c, speech in speech.c.
 */
#include "server_internal.h"

#include "guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct srv_options srv_options_default(void) {
    struct srv_options o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.port = 8880;
    o.max_queue = 32;
    o.queue_timeout_ms = 30000;
    o.max_body = 1u << 20;
    o.max_input_chars = 100000;
    o.max_buffered = 64u << 20;
    o.max_held = 256u << 20;
    o.request_timeout_ms = 30000;
    o.stall_timeout_ms = 10000;
    o.max_client_conns = 64;
    o.access_log = 1;
    o.download_ttl_s = 3600;
    o.download_max_bytes = 256u << 20;
    return o;
}

double srv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ addresses ---- */

/* Create, bind and listen; the reason of a failure goes to err. */
static int listen_on(const char *host, int port, int *fd_out, int *port_out, int *v6, char *err,
                     size_t errlen) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int g = getaddrinfo(host, ps, &hints, &res);
    if (g != 0) {
        snprintf(err, errlen, "cannot resolve the address to bind '%s': %s; use an IP address such as 127.0.0.1",
                 host, gai_strerror(g));
        return CHORUS_E_INVALID;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) {
            *v6 = ai->ai_family == AF_INET6;
            break;
        }
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s%s", host, port, strerror(e),
                 e == EADDRINUSE ? "; another server uses that port: pick another with --port" : "");
        return CHORUS_E_IO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *port_out = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                    : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return CHORUS_OK;
}

/* ------------------------------------------------------------------ client liveness ---- */

int srv_client_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 0;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return 0;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return 1;
    if (p.revents & POLLIN) {
        char b;
        ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) return 1;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ auth ---- */

/* Constant-time in the presented token: every key is compared over its whole length. */
static int key_matches(const char *given, size_t glen, const char *key) {
    size_t klen = strlen(key);
    unsigned char diff = (unsigned char)(glen != klen);
    for (size_t i = 0; i < klen; i++) {
        unsigned char g = glen ? (unsigned char)given[i < glen ? i : glen - 1] : 0;
        diff |= g ^ (unsigned char)key[i];
    }
    return diff == 0;
}

static int authorized(struct srv *s, struct MHD_Connection *c) {
    if (!s->opt.n_api_keys) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return 0;
    const char *tok = h + 7;
    while (*tok == ' ') tok++;
    size_t tl = strlen(tok);
    while (tl && tok[tl - 1] == ' ') tl--;
    int ok = 0;
    for (size_t i = 0; i < s->opt.n_api_keys; i++) ok |= key_matches(tok, tl, s->opt.api_keys[i]);
    return ok;
}

/* ------------------------------------------------------------------ routing ---- */

/* The route of a normalized path; *arg: the {id} or {file} part (points into path). */
static int route(const char *path, const char **arg) {
    static const struct { const char *path; int ep; } exact[] = {
        {"/v1/audio/speech", SRV_EP_SPEECH},           {"/v1/audio/speech/captioned", SRV_EP_CAPTIONED},
        {"/dev/captioned_speech", SRV_EP_CAPTIONED},  {"/v1/audio/voices", SRV_EP_VOICES},
        {"/v1/audio/models", SRV_EP_AUDIO_MODELS},     {"/v1/models", SRV_EP_MODELS},
        {"/v1/backends", SRV_EP_BACKENDS},             {"/health", SRV_EP_HEALTH},
        {"/v1/health", SRV_EP_HEALTH},                 {"/metrics", SRV_EP_METRICS},
        {"/", SRV_EP_PAGE},                            {"/index.html", SRV_EP_PAGE},
        {"/dev/phonemize", SRV_EP_PHONEMIZE},          {"/dev/generate_from_phonemes", SRV_EP_FROM_PHONEMES},
        {"/v1/audio/voices/combine", SRV_EP_COMBINE}};
    *arg = NULL;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(path, exact[i].path)) return exact[i].ep;
    if (!strncmp(path, "/v1/models/", 11) && path[11]) {
        *arg = path + 11;
        return SRV_EP_MODELS;
    }
    size_t pl = strlen(path), sl = strlen("/stream-input");
    if (!strncmp(path, "/v1/text-to-speech/", 19) && pl > 19 + sl &&
        !strcmp(path + pl - sl, "/stream-input")) {
        *arg = path + 19; /* the voice; the caller cuts the suffix */
        return SRV_EP_STREAM_INPUT;
    }
    if (!strncmp(path, "/v1/download/", 13) && path[13]) {
        *arg = path + 13;
        return SRV_EP_DOWNLOAD;
    }
    return SRV_EP_OTHER;
}

/* Endpoints answered without a key: health and the page always, listing when asked to. */
static int open_endpoint(const struct srv *s, int ep) {
    if (ep == SRV_EP_HEALTH || ep == SRV_EP_PAGE) return 1;
    return s->opt.open_listing &&
           (ep == SRV_EP_MODELS || ep == SRV_EP_AUDIO_MODELS || ep == SRV_EP_VOICES);
}

static enum MHD_Result method_not_allowed(struct srv_req *q, const char *allow) {
    struct srv_error e;
    srv_error_set(&e, 405, "invalid_request_error", "method_not_allowed", NULL,
                  "method %s is not allowed on %.100s; use %s", q->method, q->url, allow);
    e.allow = allow;
    return srv_send_error(q, &e);
}

static enum MHD_Result reject(struct srv_req *q, const struct srv_error *e) {
    q->rejected = 1;
    return srv_send_error(q, e);
}

/* Without a key, refuse what a foreign web page could send (guard.h). 0: refused and answered. */
static int browser_guard(struct srv_req *q) {
    struct srv *s = q->srv;
    const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Host");
    const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Origin");
    const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");
    const char *allowed = s->opt.cors_origin;
    struct srv_error e;
    if (!srv_guard_host_ok(host))
        srv_error_set(&e, 403, "invalid_request_error", "host_not_allowed", NULL,
                      "Host '%.100s' is not accepted by a server without an API key (it protects against DNS rebinding): connect as 127.0.0.1, [::1] or localhost, or start chorus serve with an API key",
                      host);
    else if (!srv_guard_origin_ok(origin, host, allowed ? &allowed : NULL, allowed ? 1 : 0))
        srv_error_set(&e, 403, "invalid_request_error", "origin_not_allowed", NULL,
                      "requests from the web page at origin '%.100s' are refused by a server without an API key; allow that site with --cors ORIGIN, or start chorus serve with an API key",
                      origin);
    else if (!strcmp(q->method, "POST") && !srv_guard_json_type(ct))
        srv_error_set(&e, 415, "invalid_request_error", "unsupported_media_type", NULL,
                      "a POST body must be sent as 'Content-Type: application/json' (got '%.100s'); with curl add -H 'Content-Type: application/json'",
                      ct ? ct : "none");
    else
        return 1;
    reject(q, &e);
    return 0;
}

/* Refuse a request whose framing a proxy could read differently (two Content-Lengths that
 * differ, or one beside Transfer-Encoding), or a URL too long to log and route. 0: answered. */
struct cl_scan {
    const char *first;
    int n, conflict, te;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    struct cl_scan *c = cls;
    (void)kind;
    if (!strcasecmp(key, "Transfer-Encoding")) c->te = 1;
    if (strcasecmp(key, "Content-Length")) return MHD_YES;
    if (c->n++ && (!value || !c->first || strcmp(value, c->first))) c->conflict = 1;
    if (c->n == 1) c->first = value;
    return MHD_YES;
}

static int framing_ok(struct srv_req *q, const char *url) {
    struct cl_scan c = {NULL, 0, 0, 0};
    MHD_get_connection_values(q->conn, MHD_HEADER_KIND, scan_header, &c);
    struct srv_error e;
    if (c.conflict || (c.n && c.te))
        srv_error_set(&e, 400, "invalid_request_error", "invalid_request", NULL,
                      "%s: the request's length is ambiguous; send one Content-Length or chunked Transfer-Encoding, not both",
                      c.conflict ? "conflicting Content-Length headers" : "Content-Length together with Transfer-Encoding");
    else if (strlen(url) > SRV_MAX_URL)
        srv_error_set(&e, 414, "invalid_request_error", "uri_too_long", NULL,
                      "the URL is %zu bytes long, more than this server's limit of %d", strlen(url), SRV_MAX_URL);
    else
        return 1;
    reject(q, &e);
    return 0;
}

/* The first call for a request: route it, answer a preflight, refuse what we can before its
 * body arrives (no key, a declared body over the limit). */
static enum MHD_Result request_begin(struct srv *s, struct srv_req *q, const char *url) {
    struct srv_error e;
    if (srv_path_normalize(q->url, q->path, sizeof q->path) < 0) q->path[0] = 0;
    q->endpoint = route(q->path, &q->model_id);
    if (!strcmp(q->method, "OPTIONS") && s->opt.cors_origin) {
        q->endpoint = SRV_EP_OPTIONS;
        q->rejected = 1; /* nothing more to do with a body */
        return srv_send_preflight(q);
    }
    if (!open_endpoint(s, q->endpoint) && !authorized(s, q->conn)) {
        srv_error_set(&e, 401, "invalid_request_error", "invalid_api_key", NULL,
                      "missing or incorrect API key: send it as 'Authorization: Bearer KEY' (the key given to chorus serve --api-key)");
        return reject(q, &e);
    }
    if (!s->opt.n_api_keys && !browser_guard(q)) return MHD_YES;
    if (!framing_ok(q, url)) return MHD_YES;
    const char *cl = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        unsigned long long v = strtoull(cl, &end, 10);
        if (end != cl && v > s->opt.max_body) {
            srv_error_set(&e, 413, "invalid_request_error", "request_too_large", NULL,
                          "request body of %llu bytes is larger than this server's limit of %zu bytes; shorten the input or raise [server] max_body",
                          v, s->opt.max_body);
            return reject(q, &e);
        }
    }
    return MHD_YES;
}

/* Keep a piece of the body (counted against max_held). -1: drop the connection (a body that
 * keeps coming far past max_body: chunked uploads have no length to refuse up front). */
static int request_body(struct srv *s, struct srv_req *q, const char *upload, size_t n) {
    if (q->rejected || q->too_large || q->held_refused) {
        q->discarded += n;
        /* a client that overshoots a little still gets its 413; past twice the limit, cut */
        return q->discarded > s->opt.max_body ? -1 : 0;
    }
    if (q->body_len + n > s->opt.max_body) {
        q->too_large = 1;
        q->discarded = q->body_len + n - s->opt.max_body;
        return 0;
    }
    if (srv_hold(s, n) < 0) {
        q->held_refused = 1;
        return 0;
    }
    q->body_held += n;
    char *nb = realloc(q->body, q->body_len + n + 1);
    if (!nb) return -1;
    q->body = nb;
    memcpy(q->body + q->body_len, upload, n);
    q->body_len += n;
    q->body[q->body_len] = 0;
    return 0;
}

static enum MHD_Result send_metrics(struct srv_req *q) {
    char *t = srv_metrics_text(q->srv);
    if (!t) return MHD_NO;
    return srv_send_buffer(q, 200, "text/plain; version=0.0.4; charset=utf-8", t, strlen(t));
}

static enum MHD_Result send_page(struct srv_req *q) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(srv_page_html), (void *)srv_page_html, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    q->bytes_out += strlen(srv_page_html);
    return srv_queue(q, 200, r);
}

static enum MHD_Result speech(struct srv_req *q) {
    return srv_handle_speech(q, 0);
}
static enum MHD_Result captioned(struct srv_req *q) {
    return srv_handle_speech(q, 1);
}
static enum MHD_Result models(struct srv_req *q) {
    return srv_handle_models(q, q->model_id);
}

static enum MHD_Result not_found(struct srv_req *q) {
    struct srv_error e;
    srv_error_set(&e, 404, "invalid_request_error", "not_found", NULL,
                  "no such endpoint: %s %.200s; see GET /v1/models, POST /v1/audio/speech",
                  q->method, q->url);
    return srv_send_error(q, &e);
}

/* The body is complete: hand the request to its endpoint. */
static enum MHD_Result dispatch(struct srv_req *q) {
    static const struct {
        int ep;
        int post; /* 1: POST, 0: GET or HEAD */
        enum MHD_Result (*fn)(struct srv_req *);
    } table[] = {
        {SRV_EP_SPEECH, 1, speech},                 {SRV_EP_CAPTIONED, 1, captioned},
        {SRV_EP_VOICES, 0, srv_handle_voices},      {SRV_EP_MODELS, 0, models},
        {SRV_EP_AUDIO_MODELS, 0, srv_handle_audio_models},
        {SRV_EP_BACKENDS, 0, srv_handle_backends},  {SRV_EP_HEALTH, 0, srv_handle_health},
        {SRV_EP_METRICS, 0, send_metrics},          {SRV_EP_PAGE, 0, send_page},
        {SRV_EP_DOWNLOAD, 0, srv_handle_download},  {SRV_EP_PHONEMIZE, 1, srv_handle_phonemize},
        {SRV_EP_FROM_PHONEMES, 1, srv_handle_from_phonemes}, {SRV_EP_COMBINE, 1, srv_handle_combine},
        {SRV_EP_STREAM_INPUT, 0, srv_handle_stream_input}};
    if (q->too_large) {
        struct srv_error e;
        srv_error_set(&e, 413, "invalid_request_error", "request_too_large", NULL,
                      "request body is larger than this server's limit of %zu bytes; shorten the input or raise [server] max_body",
                      q->srv->opt.max_body);
        return srv_send_error(q, &e);
    }
    int get = !strcmp(q->method, "GET") || !strcmp(q->method, "HEAD");
    int post = !strcmp(q->method, "POST");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].ep != q->endpoint) continue;
        if (table[i].post ? !post : !get) return method_not_allowed(q, table[i].post ? "POST" : "GET");
        return table[i].fn(q);
    }
    return not_found(q);
}

static struct srv_req *request_new(struct srv *s, struct MHD_Connection *conn, const char *url,
                                   const char *method) {
    struct srv_req *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->srv = s;
    q->conn = conn;
    atomic_init(&q->refs, 1);
    q->t0 = srv_now();
    pthread_mutex_lock(&s->mu);
    q->id = ++s->next_id;
    pthread_mutex_unlock(&s->mu);
    snprintf(q->method, sizeof q->method, "%.15s", method);
    snprintf(q->url, sizeof q->url, "%.255s", url);
    return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    struct srv *s = cls;
    struct srv_req *q = *con_cls;
    (void)version;
    if (!q) {
        if (!(q = request_new(s, conn, url, method))) return MHD_NO;
        *con_cls = q;
        return request_begin(s, q, url);
    }
    if (*upload_size) {
        int rc = request_body(s, q, upload, *upload_size);
        *upload_size = 0;
        return rc < 0 ? MHD_NO : MHD_YES;
    }
    srv_watch_phase(srv_watch_of(conn), SRV_PHASE_WORKING); /* the whole request is in */
    if (q->rejected) return MHD_YES; /* the response is already queued */
    if (q->held_refused) {
        struct srv_error e;
        srv_error_set(&e, 503, "server_error", "server_overloaded", NULL,
                      "the server holds too many request and response bytes for other clients right now (limit %zu bytes); retry shortly",
                      s->opt.max_held);
        e.retry_after = 1;
        return srv_send_error(q, &e);
    }
    return dispatch(q);
}

void srv_req_unref(struct srv_req *q) {
    if (!q || atomic_fetch_sub(&q->refs, 1) != 1) return;
    if (q->srv->opt.access_log) {
        int toe = q->toe;
        const char *how = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
                          toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? " (client went away)" :
                          toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? " (shutdown)" : " (aborted)";
        char method[64], url[4 * sizeof q->url];
        srv_log_escape(q->method, method, sizeof method);
        srv_log_escape(q->url, url, sizeof url);
        fprintf(stderr, "chorus serve: %s %s %d %zu bytes %.3f s%s%s%s\n", method, url,
                q->status, q->bytes_out, srv_now() - q->t0, q->errmsg_logged ? " " : "",
                q->errmsg_logged ? q->errmsg_logged : "", how);
    }
    if (q->body_held) srv_unhold(q->srv, q->body_held);
    srv_stream_input_release(q->stream_input);
    free(q->body);
    free(q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    struct srv_req *q = *con_cls;
    (void)cls;
    srv_watch_phase(srv_watch_of(conn), SRV_PHASE_RECEIVING); /* the next request's clock */
    if (!q) return;
    *con_cls = NULL;
    q->toe = (int)toe;
    srv_req_unref(q);
}

/* ------------------------------------------------------------------ lifecycle ---- */

int srv_start(struct chorus_engine *e, const struct srv_options *o, struct srv **out, char *err,
              size_t errlen) {
    *out = NULL;
    if (!srv_host_is_loopback(o->host) && !o->n_api_keys && !o->insecure) {
        snprintf(err, errlen,
                 "refusing to listen on non-loopback address %s without an API key: anyone who can reach it could use it; give --api-key KEY (or [server] api_key), or --insecure if the network is trusted",
                 o->host);
        return CHORUS_E_INVALID;
    }
    struct srv *s = calloc(1, sizeof *s);
    if (!s) return CHORUS_E_NOMEM;
    s->opt = *o;
    s->engine = e;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->mmu, NULL);
    pthread_mutex_init(&s->dmu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    atomic_init(&s->held, 0);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    int max_active = o->max_concurrent > 0 ? o->max_concurrent : st.max_concurrent;
    int rc = chorus_engine_set_admission(e, max_active > 0 ? max_active : 1, o->max_queue,
                                         o->queue_timeout_ms);
    if (rc != CHORUS_OK) {
        snprintf(err, errlen, "%s", chorus_engine_errmsg(e));
        srv_free(s);
        return rc;
    }
    const char *db = o->default_backend && *o->default_backend ? o->default_backend
                                                               : chorus_engine_default_backend(e);
    snprintf(s->default_backend, sizeof s->default_backend, "%s", db ? db : "espeak");
    int v6 = 0;
    rc = listen_on(o->host, o->port, &s->listen_fd, &s->port, &v6, err, errlen);
    if (rc != CHORUS_OK) {
        srv_free(s);
        return rc;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    if (v6) flags |= MHD_USE_IPv6;
    if (CHORUS_WITH_WEBSOCKET) flags |= MHD_ALLOW_UPGRADE; /* streamin.c */
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                 MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_NOTIFY_CONNECTION, srv_watch_notify, s,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                 (unsigned)(o->max_client_conns > 0 ? o->max_client_conns : 0),
                                 MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot start the HTTP server on %s port %d (libmicrohttpd refused to start)",
                 o->host, s->port);
        close(s->listen_fd);
        srv_free(s);
        return CHORUS_E_IO;
    }
    if (srv_watch_start(s) < 0) {
        snprintf(err, errlen, "cannot start the connection watcher thread (out of threads?)");
        MHD_stop_daemon(s->daemon);
        srv_free(s);
        return CHORUS_E_NOMEM;
    }
    *out = s;
    return CHORUS_OK;
}

int srv_port(const struct srv *s) {
    return s ? s->port : 0;
}

void srv_free(struct srv *s) {
    if (!s) return;
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->mmu);
    pthread_mutex_destroy(&s->dmu);
    pthread_mutex_destroy(&s->wmu);
    free(s);
}

void srv_drain(struct srv *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->draining = 1;
    pthread_mutex_unlock(&s->mu);
}

/* Until no generation runs, or for at most `seconds`. */
static void wait_generations(struct srv *s, double seconds) {
    double deadline = srv_now() + seconds;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int busy = s->active;
        pthread_mutex_unlock(&s->mu);
        if (!busy || srv_now() >= deadline) break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void srv_stop(struct srv *s, int grace_ms) {
    if (!s) return;
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    wait_generations(s, grace_ms / 1000.0);
    atomic_store(&s->force_stop, 1); /* readers cancel their streams within 50 ms */
    wait_generations(s, 2.0); /* WebSocket sessions send their close (streamin.c) */
    MHD_stop_daemon(s->daemon);
    srv_watch_stop(s);
    srv_dl_cleanup(s);
    srv_free(s);
}

