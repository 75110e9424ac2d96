/*
 * streamin.c — GET /v1/text-to-speech/{voice}/stream-input: a WebSocket (RFC 6455, framed by
 * wslay) on which a client streams text in and audio streams back as sentences complete
 * (streamin.h, docs/server.md). The HTTP side (auth, Host/Origin guard, routing) is the
 * server's; the request is checked and the text stream opened before the 101, so a bad voice
 * format or model still gets an HTTP error. After the upgrade the connection's own thread
 * (one per connection) runs the session: messages are read, their text is appended to a
 * chorus_textstream, whose audio events are sent as they come.
 */
#include "server_internal.h"

#include "streamin.h"

#if CHORUS_WITH_WEBSOCKET

#include <errno.h>
#include <nettle/sha1.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#include "chorus/textstream.h"

/* RFC 6455 section 1.3: the GUID appended to the client's key */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct si_text {
    struct si_text *next;
    struct si_msg m;
};

struct si_session {
    struct srv *srv;
    struct chorus_textstream *ts;
    atomic_int claimed; /* the upgrade handler or the request's release owns it */
    size_t held;        /* counted by srv_hold */
    MHD_socket fd;
    wslay_event_context_ptr ws;
    const char *extra;  /* bytes MHD read past the headers */
    size_t extra_len;
    struct si_text *head, *tail; /* messages received, not yet spoken */
    size_t queued;               /* their bytes */
    size_t chars;                /* characters appended so far */
    int eos, dead, closing, failed;
    double stop_seen; /* when this session first saw the server stopping, 0 before */
    double t0, t_first, last_msg, audio;
    uint64_t bytes;
    int rate;
    char backend[64], bmodel[128], voice[128], language[32];
};

/* ------------------------------------------------------------------ socket I/O ---- */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *ud) {
    struct si_session *x = ud;
    (void)flags;
    if (x->queued > x->srv->opt.max_body) { /* speak what is queued first */
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (x->extra_len) {
        size_t n = x->extra_len < len ? x->extra_len : len;
        memcpy(buf, x->extra, n);
        x->extra += n;
        x->extra_len -= n;
        return (ssize_t)n;
    }
    ssize_t r = recv(x->fd, buf, len, MSG_DONTWAIT);
    if (r > 0) return r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud) {
    struct si_session *x = ud;
    (void)flags;
    ssize_t r = send(x->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r >= 0) return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

/* Send everything queued, waiting for the socket; a peer that takes nothing for
 * stall_timeout_ms, a closed socket or a stop marks the session dead. */
static void flush_out(struct si_session *x) {
    double last = srv_now();
    while (!x->dead && wslay_event_want_write(x->ws)) {
        /* a stop: what is queued gets half a second to go out before the close frame */
        if (atomic_load(&x->srv->force_stop) && !x->closing) {
            if (!x->stop_seen) x->stop_seen = srv_now();
            if (srv_now() - x->stop_seen > 0.5) x->dead = 1;
        }
        struct pollfd p = {.fd = x->fd, .events = POLLOUT};
        int n = poll(&p, 1, 50);
        if (n < 0 && errno != EINTR) x->dead = 1;
        if (n > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL))) x->dead = 1;
        if (x->dead) break;
        if (n > 0 && (p.revents & POLLOUT)) {
            if (wslay_event_send(x->ws) != 0) x->dead = 1;
            last = srv_now();
        } else if (srv_now() - last > x->srv->opt.stall_timeout_ms / 1000.0) {
            x->dead = 1;
        }
    }
}

/* Queue one JSON text message (reference taken over) and send it. */
static void send_json(struct si_session *x, json_t *j) {
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) {
        x->dead = 1;
        return;
    }
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)s, strlen(s)};
    if (wslay_event_queue_msg(x->ws, &m) != 0) x->dead = 1; /* wslay copies the message */
    free(s);
    flush_out(x);
}

/* An error in OpenAI's envelope, then a close with `code` (RFC 6455 section 7.4.1). */
static void send_error_close(struct si_session *x, const struct srv_error *e, uint16_t code) {
    if (x->dead || x->closing) return;
    send_json(x, srv_error_json(e));
    const char *why = e->code ? e->code : "error";
    wslay_event_queue_close(x->ws, code, (const uint8_t *)why, strlen(why));
    x->closing = 1;
    x->failed = 1;
    flush_out(x);
}

/* ------------------------------------------------------------------ audio ---- */

static int client_gone(struct si_session *x) {
    struct pollfd p = {.fd = x->fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL));
}

static int on_event(const struct chorus_event *ev, void *ud) {
    struct si_session *x = ud;
    if (x->dead || client_gone(x)) {
        x->dead = 1;
        return 1; /* cancels the sentence */
    }
    if (atomic_load(&x->srv->force_stop)) return 1; /* run_session then closes with 1001 */
    if (ev->type != CHORUS_EVENT_CHUNK || !ev->chunk->data_len) return 0;
    const struct chorus_chunk *c = ev->chunk;
    char *b64 = srv_base64(c->data, c->data_len, NULL);
    json_t *j = b64 ? json_pack("{s:s, s:b, s:n}", "audio", b64, "isFinal", 0, "alignment") : NULL;
    free(b64);
    if (!x->t_first) x->t_first = srv_now();
    x->bytes += c->data_len;
    if (c->sample_rate) x->audio = c->start_time + (double)c->n_samples / c->sample_rate;
    send_json(x, j);
    return x->dead ? 1 : 0;
}

/* ------------------------------------------------------------------ messages ---- */

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *ud) {
    struct si_session *x = ud;
    (void)ctx;
    if (wslay_is_ctrl_frame(a->opcode) || x->closing || x->eos) return;
    struct srv_error e;
    if (a->opcode != WSLAY_TEXT_FRAME) {
        srv_error_set(&e, 400, "invalid_request_error", "invalid_value", NULL,
                      "send text messages with JSON such as {\"text\": \"Hello \"}, not binary ones");
        return send_error_close(x, &e, 1003);
    }
    struct si_text *t = calloc(1, sizeof *t);
    char err[300];
    if (!t || si_parse_message((const char *)a->msg, a->msg_length, &t->m, err, sizeof err)) {
        free(t);
        srv_error_set(&e, 400, "invalid_request_error", "invalid_json", "text", "%s",
                      t ? err : "out of memory");
        return send_error_close(x, &e, 1007);
    }
    x->last_msg = srv_now();
    if (t->m.eos) x->eos = 1;
    x->queued += t->m.len;
    if (x->tail) x->tail->next = t;
    else x->head = t;
    x->tail = t;
}

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Speak one message's text (the last one ends the stream). */
static void speak(struct si_session *x, struct si_text *t) {
    struct srv_error e;
    if (atomic_load(&x->srv->force_stop)) return; /* stopping: nothing more is spoken */
    x->chars += utf8_chars(t->m.text, t->m.len);
    if (x->chars > x->srv->opt.max_input_chars) {
        srv_error_set(&e, 400, "invalid_request_error", "string_above_max_length", "text",
                      "the text of this stream is longer than this server's limit of %zu characters; end the stream with {\"text\": \"\"} and open another",
                      x->srv->opt.max_input_chars);
        return send_error_close(x, &e, 1008);
    }
    int rc = t->m.eos ? chorus_textstream_finish(x->ts)
                      : chorus_textstream_append(x->ts, t->m.text, t->m.len);
    if (x->dead || atomic_load(&x->srv->force_stop)) return;
    if (rc != CHORUS_OK) {
        srv_error_from_status(&e, rc, chorus_textstream_errmsg(x->ts), "text");
        return send_error_close(x, &e, e.status < 500 ? 1008 : 1011);
    }
    if (!t->m.eos) return;
    send_json(x, json_pack("{s:b}", "isFinal", 1));
    static const char bye[] = "done";
    wslay_event_queue_close(x->ws, 1000, (const uint8_t *)bye, sizeof bye - 1);
    x->closing = 1;
    flush_out(x);
}

static void speak_queued(struct si_session *x) {
    while (x->head && !x->dead) {
        struct si_text *t = x->head;
        x->head = t->next;
        if (!x->head) x->tail = NULL;
        x->queued -= t->m.len;
        if (!x->failed) speak(x, t);
        free(t->m.text);
        free(t);
    }
}

/* ------------------------------------------------------------------ the session ---- */

/* Read, speak, repeat until the peer or we close, a stop, an idle peer or a closing handshake
 * that does not complete in time. */
static void run_session(struct si_session *x) {
    double idle = x->srv->opt.request_timeout_ms / 1000.0;
    while (!x->dead) {
        if (atomic_load(&x->srv->force_stop) && !x->closing) {
            static const char bye[] = "server stopping";
            wslay_event_queue_close(x->ws, 1001, (const uint8_t *)bye, sizeof bye - 1);
            x->closing = 1;
            flush_out(x);
        }
        if (!wslay_event_want_read(x->ws) && !wslay_event_want_write(x->ws)) break;
        if (srv_now() - x->last_msg > idle) {
            if (x->closing) break; /* the peer never answered our close */
            struct srv_error e;
            srv_error_set(&e, 408, "invalid_request_error", "timeout", NULL,
                          "no message for %.0f s: send text as it is written, and {\"text\": \"\"} at the end",
                          idle);
            send_error_close(x, &e, 1008);
            x->last_msg = srv_now();
            continue;
        }
        struct pollfd p = {.fd = x->fd, .events = POLLIN};
        int n = x->extra_len ? 1 : poll(&p, 1, 50);
        if (n < 0 && errno != EINTR) break;
        if (n > 0 && wslay_event_recv(x->ws) != 0) break; /* a protocol error or a hang-up */
        speak_queued(x);
        flush_out(x);
    }
}

/* After our close, let the peer read it: stop sending and drain what it still sends for a
 * moment, so closing a socket with unread data (a reset) does not destroy the close frame. */
static void linger(struct si_session *x) {
    shutdown(x->fd, SHUT_WR);
    char buf[4096];
    size_t drained = 0;
    double until = srv_now() + 1.0;
    while (drained < (4u << 20) && srv_now() < until) {
        struct pollfd p = {.fd = x->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t n = recv(x->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
        if (n > 0) drained += (size_t)n;
    }
}

static void session_free(struct si_session *x) {
    if (!x) return;
    for (struct si_text *t = x->head, *n; t; t = n) {
        n = t->next;
        free(t->m.text);
        free(t);
    }
    chorus_textstream_destroy(x->ts);
    if (x->held) srv_unhold(x->srv, x->held);
    srv_gen_end(x->srv);
    free(x);
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh) {
    struct si_session *x = cls;
    struct srv_req *q = req_cls;
    if (atomic_exchange(&x->claimed, 1)) { /* released already: nothing to serve */
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    /* MHD calls this on the connection's thread, before the request's completion: the request
     * (and its access log line) outlives the session */
    q->stream_input = NULL;
    srv_watch_phase(srv_watch_of(conn), SRV_PHASE_WORKING); /* our own deadlines from here */
    x->fd = sock;
    x->extra = extra_in;
    x->extra_len = extra_in_size;
    x->last_msg = srv_now();
    struct wslay_event_callbacks cb = {ws_recv, ws_send, NULL, NULL, NULL, NULL, on_msg};
    if (wslay_event_context_server_init(&x->ws, &cb, x) == 0) {
        wslay_event_config_set_max_recv_msg_length(x->ws, x->srv->opt.max_body);
        run_session(x);
        if (!x->dead) linger(x);
        wslay_event_context_free(x->ws);
    }
    chorus_textstream_cancel(x->ts);
    int outcome = x->failed ? SRV_GEN_ERROR : x->eos && !x->dead ? SRV_GEN_DONE : SRV_GEN_CANCELLED;
    srv_metrics_generation(x->srv, outcome, x->t_first ? x->t_first - x->t0 : -1,
                           srv_now() - x->t0, x->audio, x->bytes);
    q->bytes_out += x->bytes;
    session_free(x);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

void srv_stream_input_release(struct si_session *x) {
    if (x && !atomic_exchange(&x->claimed, 1)) session_free(x);
}

/* ------------------------------------------------------------------ the handshake ---- */

static int header_has_token(struct MHD_Connection *c, const char *name, const char *token) {
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    size_t tl = strlen(token);
    while (v && *v) {
        while (*v == ' ' || *v == ',' || *v == '\t') v++;
        size_t n = strcspn(v, ",");
        size_t m = n;
        while (m && (v[m - 1] == ' ' || v[m - 1] == '\t')) m--;
        if (m == tl && !strncasecmp(v, token, tl)) return 1;
        v += n;
    }
    return 0;
}

/* Sec-WebSocket-Accept: base64(SHA-1(key + GUID)), RFC 6455 section 4.2.2. */
static char *accept_value(const char *key) {
    struct sha1_ctx h;
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_init(&h);
    sha1_update(&h, strlen(key), (const uint8_t *)key);
    sha1_update(&h, sizeof WS_GUID - 1, (const uint8_t *)WS_GUID);
    sha1_digest(&h, sizeof d, d);
    return srv_base64(d, sizeof d, NULL);
}

/* The request → x's text stream; -1 with *e on a bad request. */
static int open_stream(struct srv_req *q, struct si_session *x, struct srv_error *e) {
    struct srv *s = q->srv;
    struct MHD_Connection *c = q->conn;
    const char *model = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model_id");
    if (!model) model = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "model");
    if (srv_model_split(model, x->backend, sizeof x->backend, x->bmodel, sizeof x->bmodel) < 0) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "model_id",
                      "invalid model_id '%.100s': use a backend (espeak, kokoro) or backend/model",
                      model);
        return -1;
    }
    struct chorus_request r = chorus_request_default();
    r.backend = x->backend[0] ? x->backend : s->default_backend;
    const struct chorus_option_desc *od = NULL;
    size_t no = 0;
    int rc = chorus_backend_options(s->engine, r.backend, &od, &no); /* no request is made */
    if (rc == CHORUS_E_UNKNOWN_BACKEND) {
        srv_error_set(e, 404, "invalid_request_error", "model_not_found", "model_id",
                      "no backend '%.60s' in this chorus: GET /v1/backends lists them", r.backend);
        return -1;
    }
    r.model = x->bmodel[0] ? x->bmodel : NULL;
    const char *mapped = srv_voice_map(s, r.backend, x->voice);
    r.voice = mapped ? mapped : x->voice[0] ? x->voice : NULL;
    const char *of = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "output_format");
    r.format = chorus_format_supported(CHORUS_FORMAT_MP3) ? CHORUS_FORMAT_MP3 : CHORUS_FORMAT_PCM;
    if (of && (si_parse_format(of, &r.format, &r.sample_rate) < 0 || !chorus_format_supported(r.format))) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "output_format",
                      "output_format '%.40s' is not one this server streams: use pcm, wav, mp3 or aac, optionally with a rate (pcm_24000, mp3_44100_128)",
                      of);
        return -1;
    }
    const char *lang = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "language_code");
    if (lang) snprintf(x->language, sizeof x->language, "%s", srv_lang_from_code(lang));
    r.language = x->language[0] ? x->language : NULL;
    r.flags = CHORUS_FLAG_NO_SAMPLES;
    r.callback = on_event;
    r.userdata = x;
    rc = chorus_textstream_open(s->engine, &r, &x->ts);
    if (rc == CHORUS_OK) return 0;
    srv_error_from_status(e, rc, x->ts ? chorus_textstream_errmsg(x->ts) : NULL, NULL);
    if (rc == CHORUS_E_FORMAT) e->param = "output_format";
    return -1;
}

/* Refuse what is not a WebSocket handshake we can take (426 says which version we speak). */
static int handshake_ok(struct srv_req *q, struct srv_error *e) {
    struct MHD_Connection *c = q->conn;
    const char *ver = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Version");
    if (!header_has_token(c, "Upgrade", "websocket") || !header_has_token(c, "Connection", "upgrade")) {
        srv_error_set(e, 426, "invalid_request_error", "upgrade_required", NULL,
                      "this endpoint is a WebSocket: connect with ws://.../stream-input (Upgrade: websocket)");
    } else if (!ver || strcmp(ver, "13")) {
        srv_error_set(e, 426, "invalid_request_error", "upgrade_required", NULL,
                      "WebSocket version %.10s is not supported; use 13 (RFC 6455)", ver ? ver : "none");
    } else if (!si_key_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Key"))) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", NULL,
                      "Sec-WebSocket-Key must be 16 random bytes in base64 (RFC 6455)");
    } else {
        return 1;
    }
    return 0;
}

static enum MHD_Result refuse(struct srv_req *q, struct si_session *x, struct srv_error *e) {
    if (x) {
        chorus_textstream_destroy(x->ts);
        if (x->held) srv_unhold(q->srv, x->held);
        free(x);
    }
    return srv_send_error(q, e);
}

enum MHD_Result srv_handle_stream_input(struct srv_req *q) {
    struct srv *s = q->srv;
    struct srv_error e;
    if (!handshake_ok(q, &e)) return refuse(q, NULL, &e);
    struct si_session *x = calloc(1, sizeof *x);
    if (!x) return MHD_NO;
    x->srv = s;
    atomic_init(&x->claimed, 0);
    x->t0 = srv_now();
    const char *v = q->model_id ? q->model_id : "";
    size_t vl = strlen(v) - strlen("/stream-input"); /* the router saw the suffix */
    if (vl >= sizeof x->voice || memchr(v, '/', vl)) {
        srv_error_set(&e, 400, "invalid_request_error", "invalid_value", "voice",
                      "the voice in /v1/text-to-speech/{voice}/stream-input must be one name of at most %zu bytes",
                      sizeof x->voice - 1);
        return refuse(q, x, &e);
    }
    memcpy(x->voice, v, vl);
    if (open_stream(q, x, &e) < 0) return refuse(q, x, &e);
    /* what wslay may buffer for one message, and what we queue before speaking it */
    if (srv_hold(s, 2 * s->opt.max_body) < 0) {
        srv_error_set(&e, 503, "server_error", "server_overloaded", NULL,
                      "the server holds too many bytes for other clients right now (limit %zu bytes); retry shortly",
                      s->opt.max_held);
        e.retry_after = 1;
        return refuse(q, x, &e);
    }
    x->held = 2 * s->opt.max_body;
    if (srv_gen_begin(s, &e) < 0) return refuse(q, x, &e);
    char *acc = accept_value(MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Sec-WebSocket-Key"));
    struct MHD_Response *r = acc ? MHD_create_response_for_upgrade(on_upgrade, x) : NULL;
    if (!r) {
        free(acc);
        session_free(x);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", acc);
    free(acc);
    q->stream_input = x; /* released with the request if the upgrade never runs */
    return srv_queue(q, MHD_HTTP_SWITCHING_PROTOCOLS, r);
}

#else /* !CHORUS_WITH_WEBSOCKET */

enum MHD_Result srv_handle_stream_input(struct srv_req *q) {
    struct srv_error e;
    srv_error_set(&e, 501, "server_error", "not_implemented", NULL,
                  "this chorus was built without WebSocket support (CHORUS_WITH_WEBSOCKET=OFF, needs libwslay); stream text with chorus serve --wyoming instead");
    return srv_send_error(q, &e);
}

void srv_stream_input_release(struct si_session *x) {
    (void)x;
}

#endif
