/*
 * server.c — the HTTP side of `chorus serve`: listening socket, libmicrohttpd daemon, routing,
 * authentication, admission (slots and a bounded queue), the JSON endpoints, metrics and
 * graceful shutdown. The speech endpoints live in speech.c.
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

/* ------------------------------------------------------------------ admission ---- */

int srv_slot_acquire(struct srv *s, struct MHD_Connection *c, struct srv_error *err) {
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        srv_error_set(err, 503, "server_error", "server_shutting_down", NULL,
                      "the server is shutting down; retry against a running instance");
        err->retry_after = 1;
        return -1;
    }
    if (s->active < s->max_active) {
        s->active++;
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    if (s->queued >= s->opt.max_queue) {
        pthread_mutex_unlock(&s->mu);
        srv_error_set(err, 429, "rate_limit_error", "rate_limit_exceeded", NULL,
                      "too many requests: %d generations are running and %d are waiting (the queue is full); retry shortly",
                      s->max_active, s->opt.max_queue);
        err->retry_after = 1;
        return -1;
    }
    s->queued++;
    double deadline = srv_now() + s->opt.queue_timeout_ms / 1000.0;
    int rc = 0;
    while (s->active >= s->max_active) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->stopping) {
            srv_error_set(err, 503, "server_error", "server_shutting_down", NULL,
                          "the server is shutting down; retry against a running instance");
            err->retry_after = 1;
            rc = -1;
            break;
        }
        if (s->active < s->max_active) break;
        if (srv_now() > deadline) {
            srv_error_set(err, 503, "server_error", "server_overloaded", NULL,
                          "the server is overloaded: no generation slot became free within %d ms; retry later",
                          s->opt.queue_timeout_ms);
            err->retry_after = 2;
            rc = -1;
            break;
        }
        pthread_mutex_unlock(&s->mu);
        int gone = srv_client_gone(c);
        pthread_mutex_lock(&s->mu);
        if (gone) {
            rc = -2;
            break;
        }
    }
    s->queued--;
    if (rc == 0) s->active++;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void srv_slot_release(struct srv *s) {
    pthread_mutex_lock(&s->mu);
    if (s->active > 0) s->active--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ held bytes ---- */

int srv_hold(struct srv *s, size_t n) {
    size_t cur = atomic_load(&s->held);
    do {
        if (n > s->opt.max_held || cur > s->opt.max_held - n) {
            pthread_mutex_lock(&s->mmu);
            s->m.refused_held++;
            pthread_mutex_unlock(&s->mmu);
            return -1;
        }
    } while (!atomic_compare_exchange_weak(&s->held, &cur, cur + n));
    return 0;
}

void srv_unhold(struct srv *s, size_t n) {
    atomic_fetch_sub(&s->held, n);
}

/* ------------------------------------------------------------------ metrics ---- */

static const char *const endpoint_names[SRV_EP_COUNT] = {
    "/v1/audio/speech", "/v1/audio/speech/captioned", "/v1/audio/voices", "/v1/models",
    "/v1/backends", "/health", "/metrics", "/", "other"};

const double srv_ttfb_buckets[SRV_TTFB_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                   0.5,   1,    2.5,   5,    10};
const double srv_rtf_buckets[SRV_RTF_BUCKETS] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5};

static void metrics_count(struct srv *s, int ep, int status) {
    pthread_mutex_lock(&s->mmu);
    struct srv_status_count *sc = s->m.requests[ep];
    for (int i = 0; i < SRV_STATUS_SLOTS; i++) {
        if (sc[i].status == status || sc[i].status == 0) {
            sc[i].status = status;
            sc[i].count++;
            break;
        }
    }
    pthread_mutex_unlock(&s->mmu);
}

void srv_metrics_generation(struct srv *s, int outcome, double ttfb, double wall, double audio,
                            uint64_t bytes) {
    pthread_mutex_lock(&s->mmu);
    s->m.generations[outcome]++;
    s->m.bytes_out += bytes;
    s->m.audio_seconds += audio;
    if (ttfb >= 0) {
        for (int i = 0; i < SRV_TTFB_BUCKETS; i++)
            if (ttfb <= srv_ttfb_buckets[i]) s->m.ttfb_bucket[i]++;
        s->m.ttfb_sum += ttfb;
        s->m.ttfb_count++;
    }
    if (outcome == SRV_GEN_DONE && audio > 0) {
        double rtf = wall / audio;
        for (int i = 0; i < SRV_RTF_BUCKETS; i++)
            if (rtf <= srv_rtf_buckets[i]) s->m.rtf_bucket[i]++;
        s->m.rtf_sum += rtf;
        s->m.rtf_count++;
    }
    pthread_mutex_unlock(&s->mmu);
}

static char *metrics_text(struct srv *s) {
    struct chorus_engine_stats es = {.size = sizeof es};
    chorus_engine_get_stats(s->engine, &es);
    pthread_mutex_lock(&s->mu);
    int active = s->active, queued = s->queued, max_active = s->max_active;
    pthread_mutex_unlock(&s->mu);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    pthread_mutex_lock(&s->mmu);
    struct srv_metrics m = s->m;
    pthread_mutex_unlock(&s->mmu);
    fputs("# HELP chorus_http_requests_total HTTP requests answered, by endpoint and status.\n"
          "# TYPE chorus_http_requests_total counter\n", f);
    for (int ep = 0; ep < SRV_EP_COUNT; ep++)
        for (int i = 0; i < SRV_STATUS_SLOTS && m.requests[ep][i].status; i++)
            fprintf(f, "chorus_http_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
                    endpoint_names[ep], m.requests[ep][i].status,
                    (unsigned long long)m.requests[ep][i].count);
    fputs("# HELP chorus_time_to_first_byte_seconds Time from a speech request to its first audio byte.\n"
          "# TYPE chorus_time_to_first_byte_seconds histogram\n", f);
    for (int i = 0; i < SRV_TTFB_BUCKETS; i++)
        fprintf(f, "chorus_time_to_first_byte_seconds_bucket{le=\"%g\"} %llu\n", srv_ttfb_buckets[i],
                (unsigned long long)m.ttfb_bucket[i]);
    fprintf(f, "chorus_time_to_first_byte_seconds_bucket{le=\"+Inf\"} %llu\n",
            (unsigned long long)m.ttfb_count);
    fprintf(f, "chorus_time_to_first_byte_seconds_sum %.6f\n", m.ttfb_sum);
    fprintf(f, "chorus_time_to_first_byte_seconds_count %llu\n", (unsigned long long)m.ttfb_count);
    fputs("# HELP chorus_real_time_factor Generation wall time divided by audio duration (lower is faster).\n"
          "# TYPE chorus_real_time_factor histogram\n", f);
    for (int i = 0; i < SRV_RTF_BUCKETS; i++)
        fprintf(f, "chorus_real_time_factor_bucket{le=\"%g\"} %llu\n", srv_rtf_buckets[i],
                (unsigned long long)m.rtf_bucket[i]);
    fprintf(f, "chorus_real_time_factor_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)m.rtf_count);
    fprintf(f, "chorus_real_time_factor_sum %.6f\n", m.rtf_sum);
    fprintf(f, "chorus_real_time_factor_count %llu\n", (unsigned long long)m.rtf_count);
    fprintf(f,
            "# HELP chorus_generations_active Speech generations holding a slot now.\n"
            "# TYPE chorus_generations_active gauge\nchorus_generations_active %d\n"
            "# HELP chorus_generations_queued Speech requests waiting for a slot now.\n"
            "# TYPE chorus_generations_queued gauge\nchorus_generations_queued %d\n"
            "# HELP chorus_generations_max Slots for concurrent generations.\n"
            "# TYPE chorus_generations_max gauge\nchorus_generations_max %d\n"
            "# HELP chorus_engine_generations_active Generations running in the library's limiter.\n"
            "# TYPE chorus_engine_generations_active gauge\nchorus_engine_generations_active %d\n"
            "# HELP chorus_engine_generations_queued Generations waiting in the library's limiter.\n"
            "# TYPE chorus_engine_generations_queued gauge\nchorus_engine_generations_queued %d\n",
            active, queued, max_active, es.active, es.queued);
    fprintf(f,
            "# HELP chorus_held_bytes Bytes of request bodies and unsent whole responses held now.\n"
            "# TYPE chorus_held_bytes gauge\nchorus_held_bytes %zu\n"
            "# HELP chorus_held_refused_total Requests refused (503) because too many bytes were held.\n"
            "# TYPE chorus_held_refused_total counter\nchorus_held_refused_total %llu\n"
            "# HELP chorus_connections_cut_total Connections shut down past a deadline.\n"
            "# TYPE chorus_connections_cut_total counter\n"
            "chorus_connections_cut_total{reason=\"slow_request\"} %llu\n"
            "chorus_connections_cut_total{reason=\"stalled_response\"} %llu\n",
            atomic_load(&s->held), (unsigned long long)m.refused_held,
            (unsigned long long)m.reaped_slow_requests, (unsigned long long)m.reaped_stalled_responses);
    fputs("# HELP chorus_generations_total Speech generations by outcome.\n"
          "# TYPE chorus_generations_total counter\n", f);
    static const char *const outcomes[SRV_GEN_OUTCOMES] = {"done", "error", "cancelled"};
    for (int i = 0; i < SRV_GEN_OUTCOMES; i++)
        fprintf(f, "chorus_generations_total{outcome=\"%s\"} %llu\n", outcomes[i],
                (unsigned long long)m.generations[i]);
    fprintf(f,
            "# HELP chorus_bytes_out_total Audio and event bytes sent by the speech endpoints.\n"
            "# TYPE chorus_bytes_out_total counter\nchorus_bytes_out_total %llu\n"
            "# HELP chorus_audio_seconds_total Seconds of audio generated.\n"
            "# TYPE chorus_audio_seconds_total counter\nchorus_audio_seconds_total %.3f\n",
            (unsigned long long)m.bytes_out, m.audio_seconds);
    struct chorus_cache_stats cs = {.size = sizeof cs};
    if (chorus_engine_cache_stats(s->engine, &cs) == CHORUS_OK) {
        fprintf(f,
                "# HELP chorus_cache_enabled 1 if generations read and write the audio cache.\n"
                "# TYPE chorus_cache_enabled gauge\nchorus_cache_enabled %d\n"
                "# HELP chorus_cache_hits_total Segments served from the audio cache.\n"
                "# TYPE chorus_cache_hits_total counter\nchorus_cache_hits_total %llu\n"
                "# HELP chorus_cache_misses_total Segments looked up in the cache and generated.\n"
                "# TYPE chorus_cache_misses_total counter\nchorus_cache_misses_total %llu\n"
                "# HELP chorus_cache_stores_total Entries written to the cache.\n"
                "# TYPE chorus_cache_stores_total counter\nchorus_cache_stores_total %llu\n"
                "# HELP chorus_cache_entries Entries in the cache now.\n"
                "# TYPE chorus_cache_entries gauge\nchorus_cache_entries %llu\n"
                "# HELP chorus_cache_bytes Bytes in the cache now.\n"
                "# TYPE chorus_cache_bytes gauge\nchorus_cache_bytes %llu\n",
                cs.enabled, (unsigned long long)cs.hits, (unsigned long long)cs.misses,
                (unsigned long long)cs.stores, (unsigned long long)cs.entries,
                (unsigned long long)cs.bytes);
    }
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------------ responses ---- */

void srv_error_set(struct srv_error *e, int status, const char *type, const char *code,
                   const char *param, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->status = status;
    e->type = type;
    e->code = code;
    e->param = param;
    e->retry_after = 0;
    e->should_retry = -1;
}

static void add_common_headers(struct srv_req *q, struct MHD_Response *r) {
    char id[40];
    snprintf(id, sizeof id, "req_%016llx", (unsigned long long)q->id);
    MHD_add_response_header(r, "x-request-id", id);
    MHD_add_response_header(r, "Server", "chorus/" CHORUS_VERSION_STRING);
}

enum MHD_Result srv_queue(struct srv_req *q, int status, struct MHD_Response *r) {
    add_common_headers(q, r);
    srv_watch_phase(srv_watch_of(q->conn), SRV_PHASE_RESPONDING);
    q->status = status;
    metrics_count(q->srv, q->endpoint, status);
    enum MHD_Result ret = MHD_queue_response(q->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result srv_send_buffer(struct srv_req *q, int status, const char *ctype, void *data,
                                size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    q->bytes_out += len;
    return srv_queue(q, status, r);
}

enum MHD_Result srv_send_json(struct srv_req *q, int status, json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(j);
    if (!s) return MHD_NO;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2); /* end with a newline, as curl users like */
    if (t) {
        t[n++] = '\n';
        t[n] = 0;
        s = t;
    }
    return srv_send_buffer(q, status, "application/json", s, n);
}

json_t *srv_error_json(const struct srv_error *e) {
    json_t *o = json_object();
    json_object_set_new(o, "message", json_string(e->message));
    json_object_set_new(o, "type", json_string(e->type ? e->type : "invalid_request_error"));
    json_object_set_new(o, "param", e->param ? json_string(e->param) : json_null());
    json_object_set_new(o, "code", e->code ? json_string(e->code) : json_null());
    json_t *root = json_object();
    json_object_set_new(root, "error", o);
    return root;
}

enum MHD_Result srv_send_error(struct srv_req *q, const struct srv_error *e) {
    json_t *j = srv_error_json(e);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return MHD_NO;
    size_t n = strlen(s);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    int retry = e->should_retry;
    if (retry < 0) retry = e->status == 429 || e->status >= 500 ? (e->retry_after > 0) : 0;
    MHD_add_response_header(r, "x-should-retry", retry ? "true" : "false");
    if (e->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", e->retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (e->status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"chorus\"");
    if (e->status == 405 && e->allow) MHD_add_response_header(r, "Allow", e->allow);
    if (e->status == 413 || e->status == 401 || e->status == 403 || e->status == 415)
        MHD_add_response_header(r, "Connection", "close"); /* a body may be unread */
    q->bytes_out += n;
    q->errmsg_logged = e->code;
    return srv_queue(q, e->status, r);
}

void srv_error_from_status(struct srv_error *e, int rc, const char *msg, const char *param) {
    const char *m = msg && *msg ? msg : chorus_strerror(rc);
    switch (rc) {
    case CHORUS_E_UNKNOWN_BACKEND:
        srv_error_set(e, 404, "invalid_request_error", "model_not_found", param ? param : "model", "%s", m);
        break;
    case CHORUS_E_UNKNOWN_VOICE:
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "voice", "%s", m);
        break;
    case CHORUS_E_FORMAT:
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "response_format", "%s", m);
        break;
    case CHORUS_E_EMPTY_TEXT:
    case CHORUS_E_BAD_UTF8:
    case CHORUS_E_SSML:
    case CHORUS_E_TOO_LONG:
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", param ? param : "input", "%s", m);
        break;
    case CHORUS_E_OPTION:
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "options", "%s", m);
        break;
    case CHORUS_E_INVALID:
    case CHORUS_E_BAD_REQUEST:
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", param, "%s", m);
        break;
    case CHORUS_E_NOT_FOUND:
        srv_error_set(e, 404, "invalid_request_error", "not_found", param, "%s", m);
        break;
    case CHORUS_E_UNAVAILABLE:
        srv_error_set(e, 503, "server_error", "backend_unavailable", "model", "%s", m);
        e->should_retry = 0;
        break;
    case CHORUS_E_RATE_LIMIT:
    case CHORUS_E_BUSY:
        srv_error_set(e, 429, "rate_limit_error", "rate_limit_exceeded", NULL, "%s", m);
        e->retry_after = 1;
        break;
    case CHORUS_E_QUOTA:
        srv_error_set(e, 429, "insufficient_quota", "insufficient_quota", NULL, "%s", m);
        e->should_retry = 0;
        break;
    case CHORUS_E_SERVER:
    case CHORUS_E_NETWORK:
    case CHORUS_E_TIMEOUT:
        srv_error_set(e, 503, "server_error", "upstream_unavailable", NULL, "%s", m);
        e->retry_after = 1;
        break;
    case CHORUS_E_AUTH:
        srv_error_set(e, 500, "server_error", "upstream_auth_failed", NULL, "%s", m);
        e->should_retry = 0;
        break;
    default:
        srv_error_set(e, 500, "server_error", "internal_error", NULL, "%s", m);
        e->should_retry = 0;
        break;
    }
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

/* ------------------------------------------------------------------ simple endpoints ---- */

static json_t *caps_json(unsigned caps) {
    static const struct { unsigned bit; const char *name; } names[] = {
        {CHORUS_CAP_STREAMING, "streaming"}, {CHORUS_CAP_WORD_TIMESTAMPS, "word_timestamps"},
        {CHORUS_CAP_SSML, "ssml"},           {CHORUS_CAP_VOICE_CLONING, "voice_cloning"},
        {CHORUS_CAP_LOCAL, "local"},         {CHORUS_CAP_REMOTE, "remote"},
        {CHORUS_CAP_PHONEMES, "phonemes"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & names[i].bit) json_array_append_new(a, json_string(names[i].name));
    return a;
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static enum MHD_Result handle_backends(struct srv_req *q) {
    struct chorus_backend_info *bi = NULL;
    size_t n = 0;
    int rc = chorus_list_backends(q->srv->engine, &bi, &n);
    if (rc != CHORUS_OK) {
        struct srv_error e;
        srv_error_from_status(&e, rc, chorus_engine_errmsg(q->srv->engine), NULL);
        return srv_send_error(q, &e);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(bi[i].name));
        json_object_set_new(o, "pattern", str_or_null(bi[i].pattern));
        json_object_set_new(o, "description", str_or_null(bi[i].description));
        json_object_set_new(o, "available", json_boolean(bi[i].available));
        json_object_set_new(o, "reason", bi[i].available ? json_null() : str_or_null(bi[i].reason));
        json_object_set_new(o, "capabilities", caps_json(bi[i].caps));
        json_object_set_new(o, "max_input_chars", json_integer((json_int_t)bi[i].max_input_chars));
        json_object_set_new(o, "sample_rate", json_integer(bi[i].sample_rate));
        json_object_set_new(o, "default", json_boolean(!strcmp(bi[i].name, q->srv->default_backend)));
        const struct chorus_option_desc *od = NULL;
        size_t no = 0;
        json_t *opts = json_array();
        if (chorus_backend_options(q->srv->engine, bi[i].name, &od, &no) == CHORUS_OK)
            for (size_t k = 0; k < no; k++) {
                json_t *x = json_object();
                json_object_set_new(x, "key", json_string(od[k].key));
                json_object_set_new(x, "type", str_or_null(od[k].type));
                json_object_set_new(x, "default", str_or_null(od[k].def));
                json_object_set_new(x, "help", str_or_null(od[k].help));
                json_array_append_new(opts, x);
            }
        json_object_set_new(o, "options", opts);
        json_array_append_new(arr, o);
    }
    chorus_backend_infos_free(bi, n);
    json_t *root = json_object();
    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "default", json_string(q->srv->default_backend));
    json_object_set_new(root, "formats", srv_formats_json());
    json_object_set_new(root, "data", arr);
    return srv_send_json(q, 200, root);
}

json_t *srv_formats_json(void) {
    json_t *a = json_array();
    for (int f = CHORUS_FORMAT_WAV; f < CHORUS_FORMAT_COUNT_; f++)
        if (chorus_format_supported((enum chorus_format)f))
            json_array_append_new(a, json_string(chorus_format_name((enum chorus_format)f)));
    return a;
}

static json_t *model_obj(const char *id, const char *backend) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "object", json_string("model"));
    json_object_set_new(o, "created", json_integer(1686935002));
    json_object_set_new(o, "owned_by", json_string("chorus"));
    json_object_set_new(o, "backend", json_string(backend));
    return o;
}

static enum MHD_Result handle_models(struct srv_req *q, const char *one) {
    static const char *const openai_models[] = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", NULL};
    json_t *arr = json_array();
    for (size_t i = 0; openai_models[i]; i++)
        json_array_append_new(arr, model_obj(openai_models[i], q->srv->default_backend));
    struct chorus_backend_info *bi = NULL;
    size_t n = 0;
    if (chorus_list_backends(q->srv->engine, &bi, &n) == CHORUS_OK) {
        for (size_t i = 0; i < n; i++)
            if (bi[i].available) json_array_append_new(arr, model_obj(bi[i].name, bi[i].name));
        chorus_backend_infos_free(bi, n);
    }
    if (one) {
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
            if (!strcmp(json_string_value(json_object_get(v, "id")), one)) {
                json_incref(v);
                json_decref(arr);
                return srv_send_json(q, 200, v);
            }
        }
        json_decref(arr);
        struct srv_error e;
        srv_error_set(&e, 404, "invalid_request_error", "model_not_found", "model",
                      "the model '%.100s' does not exist here; GET /v1/models lists them", one);
        return srv_send_error(q, &e);
    }
    json_t *root = json_object();
    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "data", arr);
    return srv_send_json(q, 200, root);
}

static enum MHD_Result handle_voices(struct srv_req *q) {
    struct srv *s = q->srv;
    const char *b = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "backend");
    const char *model = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "model");
    const char *legacy = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "legacy");
    char bname[128], bmodel[128];
    if (!b || !*b) {
        if (srv_model_split(model, bname, sizeof bname, bmodel, sizeof bmodel) < 0 || !bname[0])
            snprintf(bname, sizeof bname, "%s", s->default_backend);
        b = bname;
    }
    struct chorus_voice *v = NULL;
    size_t n = 0;
    int rc = chorus_list_voices(s->engine, b, &v, &n);
    if (rc != CHORUS_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot list the voices of backend '%.100s': %s", b,
                 chorus_engine_errmsg(s->engine));
        struct srv_error e;
        srv_error_from_status(&e, rc, msg, "backend");
        return srv_send_error(q, &e);
    }
    int leg = legacy && (!strcmp(legacy, "true") || !strcmp(legacy, "1"));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (leg) {
            json_array_append_new(arr, json_string(v[i].id));
            continue;
        }
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(v[i].id));
        json_object_set_new(o, "name", json_string(v[i].name ? v[i].name : v[i].id));
        json_object_set_new(o, "language", str_or_null(v[i].language));
        json_object_set_new(o, "gender", str_or_null(v[i].gender));
        json_object_set_new(o, "backend", json_string(v[i].backend ? v[i].backend : b));
        if (v[i].description) json_object_set_new(o, "description", json_string(v[i].description));
        json_array_append_new(arr, o);
    }
    chorus_voices_free(v, n);
    json_t *root = json_object();
    json_object_set_new(root, "voices", arr);
    if (!leg) {
        /* the OpenAI names this server maps for that backend */
        json_t *aliases = json_object();
        for (size_t i = 0; srv_openai_voices[i]; i++) {
            const char *to = srv_voice_map(s, b, srv_openai_voices[i]);
            if (to) json_object_set_new(aliases, srv_openai_voices[i], json_string(to));
        }
        json_object_set_new(root, "aliases", aliases);
        json_object_set_new(root, "backend", json_string(b));
    }
    return srv_send_json(q, 200, root);
}

static enum MHD_Result handle_health(struct srv_req *q) {
    json_t *o = json_object();
    pthread_mutex_lock(&q->srv->mu);
    int stopping = q->srv->stopping;
    pthread_mutex_unlock(&q->srv->mu);
    json_object_set_new(o, "status", json_string(stopping ? "stopping" : "healthy"));
    json_object_set_new(o, "version", json_string(chorus_version()));
    json_object_set_new(o, "default_backend", json_string(q->srv->default_backend));
    return srv_send_json(q, stopping ? 503 : 200, o);
}

/* ------------------------------------------------------------------ routing ---- */

static int route(const char *url, const char **model_id) {
    *model_id = NULL;
    if (!strcmp(url, "/v1/audio/speech") || !strcmp(url, "/audio/speech")) return SRV_EP_SPEECH;
    if (!strcmp(url, "/v1/audio/speech/captioned") || !strcmp(url, "/dev/captioned_speech"))
        return SRV_EP_CAPTIONED;
    if (!strcmp(url, "/v1/audio/voices")) return SRV_EP_VOICES;
    if (!strcmp(url, "/v1/models")) return SRV_EP_MODELS;
    if (!strncmp(url, "/v1/models/", 11) && url[11]) {
        *model_id = url + 11;
        return SRV_EP_MODELS;
    }
    if (!strcmp(url, "/v1/backends")) return SRV_EP_BACKENDS;
    if (!strcmp(url, "/health") || !strcmp(url, "/v1/health")) return SRV_EP_HEALTH;
    if (!strcmp(url, "/metrics")) return SRV_EP_METRICS;
    if (!strcmp(url, "/") || !strcmp(url, "/index.html")) return SRV_EP_PAGE;
    return SRV_EP_OTHER;
}

static enum MHD_Result method_not_allowed(struct srv_req *q, const char *allow) {
    struct srv_error e;
    srv_error_set(&e, 405, "invalid_request_error", "method_not_allowed", NULL,
                  "method %s is not allowed on %.100s; use %s", q->method, q->url, allow);
    e.allow = allow;
    return srv_send_error(q, &e);
}

/* Without a key, refuse what a foreign web page could send (guard.h). 0: refused and answered. */
static int browser_guard(struct srv_req *q, const char *method) {
    struct srv *s = q->srv;
    const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Host");
    const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Origin");
    const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");
    struct srv_error e;
    if (!srv_guard_host_ok(host))
        srv_error_set(&e, 403, "invalid_request_error", "host_not_allowed", NULL,
                      "Host '%.100s' is not accepted by a server without an API key (it protects against DNS rebinding): connect as 127.0.0.1, [::1] or localhost, or start chorus serve with an API key",
                      host);
    else if (!srv_guard_origin_ok(origin, host, s->opt.cors_origins, s->opt.n_cors_origins))
        srv_error_set(&e, 403, "invalid_request_error", "origin_not_allowed", NULL,
                      "requests from the web page at origin '%.100s' are refused by a server without an API key; start chorus serve with an API key to serve other sites",
                      origin);
    else if (!strcmp(method, "POST") && !srv_guard_json_type(ct))
        srv_error_set(&e, 415, "invalid_request_error", "unsupported_media_type", NULL,
                      "a POST body must be sent as 'Content-Type: application/json' (got '%.100s'); with curl add -H 'Content-Type: application/json'",
                      ct ? ct : "none");
    else
        return 1;
    q->rejected = 1;
    srv_send_error(q, &e);
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
    q->rejected = 1;
    srv_send_error(q, &e);
    return 0;
}

/* Keep a piece of the body (counted against max_held). -1: drop the connection (a body that
 * keeps coming far past max_body: chunked uploads have no length to refuse up front). */
static int take_upload(struct srv_req *q, const char *data, size_t n) {
    struct srv *s = q->srv;
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
    memcpy(q->body + q->body_len, data, n);
    q->body_len += n;
    q->body[q->body_len] = 0;
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    struct srv *s = cls;
    struct srv_req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *con_cls = q;
        q->srv = s;
        q->conn = conn;
        atomic_init(&q->refs, 1);
        q->t0 = srv_now();
        pthread_mutex_lock(&s->mu);
        q->id = ++s->next_id;
        pthread_mutex_unlock(&s->mu);
        snprintf(q->method, sizeof q->method, "%.15s", method);
        snprintf(q->url, sizeof q->url, "%.255s", url);
        q->endpoint = route(url, &q->model_id);
        /* reject what we can before reading a body */
        int open_ep = q->endpoint == SRV_EP_HEALTH || q->endpoint == SRV_EP_PAGE;
        if (!open_ep && !authorized(s, conn)) {
            q->rejected = 1;
            struct srv_error e;
            srv_error_set(&e, 401, "invalid_request_error", "invalid_api_key", NULL,
                          "missing or incorrect API key: send it as 'Authorization: Bearer KEY' (the key given to chorus serve --api-key)");
            return srv_send_error(q, &e);
        }
        if (!s->opt.n_api_keys && !browser_guard(q, method)) return MHD_YES;
        if (!framing_ok(q, url)) return MHD_YES;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long v = strtoull(cl, &end, 10);
            if (end != cl && v > s->opt.max_body) {
                q->rejected = 1;
                struct srv_error e;
                srv_error_set(&e, 413, "invalid_request_error", "request_too_large", NULL,
                              "request body of %llu bytes is larger than this server's limit of %zu bytes; shorten the input or raise [server] max_body",
                              v, s->opt.max_body);
                return srv_send_error(q, &e);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        int rc = take_upload(q, upload, *upload_size);
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
    (void)version;
    if (q->too_large) {
        struct srv_error e;
        srv_error_set(&e, 413, "invalid_request_error", "request_too_large", NULL,
                      "request body is larger than this server's limit of %zu bytes; shorten the input or raise [server] max_body",
                      s->opt.max_body);
        return srv_send_error(q, &e);
    }
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int post = !strcmp(method, "POST");
    switch (q->endpoint) {
    case SRV_EP_SPEECH:
    case SRV_EP_CAPTIONED:
        if (!post) return method_not_allowed(q, "POST");
        return srv_handle_speech(q, q->endpoint == SRV_EP_CAPTIONED);
    case SRV_EP_VOICES:
        if (!get) return method_not_allowed(q, "GET");
        return handle_voices(q);
    case SRV_EP_MODELS:
        if (!get) return method_not_allowed(q, "GET");
        return handle_models(q, q->model_id);
    case SRV_EP_BACKENDS:
        if (!get) return method_not_allowed(q, "GET");
        return handle_backends(q);
    case SRV_EP_HEALTH:
        if (!get) return method_not_allowed(q, "GET");
        return handle_health(q);
    case SRV_EP_METRICS: {
        if (!get) return method_not_allowed(q, "GET");
        char *t = metrics_text(s);
        if (!t) return MHD_NO;
        return srv_send_buffer(q, 200, "text/plain; version=0.0.4; charset=utf-8", t, strlen(t));
    }
    case SRV_EP_PAGE: {
        if (!get) return method_not_allowed(q, "GET");
        struct MHD_Response *r = MHD_create_response_from_buffer(
            strlen(srv_page_html), (void *)srv_page_html, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        q->bytes_out += strlen(srv_page_html);
        return srv_queue(q, 200, r);
    }
    default: {
        struct srv_error e;
        srv_error_set(&e, 404, "invalid_request_error", "not_found", NULL,
                      "no such endpoint: %s %.200s; see GET /v1/models, POST /v1/audio/speech",
                      method, url);
        return srv_send_error(q, &e);
    }
    }
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
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->mmu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    atomic_init(&s->held, 0);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    s->max_active = o->max_concurrent > 0 ? o->max_concurrent : st.max_concurrent;
    if (s->max_active <= 0) s->max_active = 1;
    const char *db = o->default_backend && *o->default_backend ? o->default_backend
                                                               : chorus_engine_default_backend(e);
    snprintf(s->default_backend, sizeof s->default_backend, "%s", db ? db : "espeak");
    int v6 = 0;
    int rc = listen_on(o->host, o->port, &s->listen_fd, &s->port, &v6, err, errlen);
    if (rc != CHORUS_OK) {
        srv_free(s);
        return rc;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    if (v6) flags |= MHD_USE_IPv6;
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
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mmu);
    pthread_mutex_destroy(&s->wmu);
    free(s);
}

void srv_stop(struct srv *s, int grace_ms) {
    if (!s) return;
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    double deadline = srv_now() + grace_ms / 1000.0;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int busy = s->active + s->queued;
        pthread_mutex_unlock(&s->mu);
        if (!busy || srv_now() >= deadline) break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    atomic_store(&s->force_stop, 1); /* readers cancel their streams within 50 ms */
    MHD_stop_daemon(s->daemon);
    srv_watch_stop(s);
    srv_free(s);
}
