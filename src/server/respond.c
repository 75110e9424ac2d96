/*
 * respond.c — queueing responses: the headers every answer carries (request id, CORS), JSON
 * bodies, and every error in OpenAI's envelope with its retry headers and the status a library
 * error maps to.
 */
#include "server_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int srv_cors_allows(const struct srv *s, const char *origin) {
    const char *c = s->opt.cors_origin;
    if (!c) return 0;
    if (!strcmp(c, "*")) return 1;
    return origin && !strcasecmp(origin, c);
}

/* CORS on every answer (--cors): who may read it, and which of our headers a page may see. */
static void add_cors_headers(struct srv_req *q, struct MHD_Response *r) {
    const struct srv *s = q->srv;
    if (!s->opt.cors_origin) return;
    const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Origin");
    if (!strcmp(s->opt.cors_origin, "*")) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    } else {
        MHD_add_response_header(r, "Vary", "Origin");
        if (!srv_cors_allows(s, origin)) return;
        MHD_add_response_header(r, "Access-Control-Allow-Origin", s->opt.cors_origin);
    }
    MHD_add_response_header(r, "Access-Control-Expose-Headers",
                            "x-request-id, x-chorus-backend, x-chorus-voice, x-chorus-sample-rate, "
                            "X-Download-Path, Content-Disposition, Retry-After, x-should-retry");
}

static void add_common_headers(struct srv_req *q, struct MHD_Response *r) {
    char id[40];
    snprintf(id, sizeof id, "req_%016llx", (unsigned long long)q->id);
    MHD_add_response_header(r, "x-request-id", id);
    MHD_add_response_header(r, "Server", "chorus/" CHORUS_VERSION_STRING);
    add_cors_headers(q, r);
}

static int header_list_ok(const char *s) {
    if (!s || !*s || strlen(s) > 1024) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == ',' || *s == ' '))
            return 0;
    return 1;
}

enum MHD_Result srv_send_preflight(struct srv_req *q) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Origin");
    if (srv_cors_allows(q->srv, origin)) {
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        /* the headers the page asks for (SDKs add their own, x-stainless-*...), when they are
         * a plain list of header names; otherwise the ones our endpoints read */
        const char *want = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
                                                       "Access-Control-Request-Headers");
        MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                header_list_ok(want) ? want : "Authorization, Content-Type, Accept");
        MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    }
    return srv_queue(q, 204, r);
}

enum MHD_Result srv_queue(struct srv_req *q, int status, struct MHD_Response *r) {
    add_common_headers(q, r);
    srv_watch_phase(srv_watch_of(q->conn), SRV_PHASE_RESPONDING);
    q->status = status;
    srv_metrics_count(q->srv, q->endpoint, status);
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

