/* wyoming.c — the Wyoming TTS server (see wyoming.h): a listener thread and one thread per
 * connection (at most max_connections), each reading events and answering on the same socket.
 * Everything a peer sends is bounded (line, data and payload lengths, text per request, idle
 * time); a peer that goes away cancels its synthesis at the next write. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chorus/textstream.h"
#include "wyoming.h"

#define WY_VERSION "1.7.2"

/* ---------------------------------------------------------------- framing */

void wy_event_clear(struct wy_event *ev) {
    json_decref(ev->data);
    memset(ev, 0, sizeof *ev);
}

static int length_field(json_t *h, const char *key, size_t max, size_t *out, char *err,
                        size_t cap) {
    json_t *v = json_object_get(h, key);
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (json_int_t)max < json_integer_value(v)) {
        snprintf(err, cap, "%s must be a whole number from 0 to %zu", key, max);
        return -1;
    }
    *out = (size_t)json_integer_value(v);
    return 0;
}

int wy_parse_header(const char *line, size_t len, struct wy_event *ev, char *err, size_t cap) {
    memset(ev, 0, sizeof *ev);
    json_error_t je;
    json_t *h = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!h || !json_is_object(h)) {
        snprintf(err, cap, "the event header is not a JSON object: %s", h ? "wrong type" : je.text);
        json_decref(h);
        return -1;
    }
    const char *type = json_string_value(json_object_get(h, "type"));
    if (!type || !*type || strlen(type) >= sizeof ev->type) {
        snprintf(err, cap, "the event header has no type");
        json_decref(h);
        return -1;
    }
    snprintf(ev->type, sizeof ev->type, "%s", type);
    if (length_field(h, "data_length", WY_MAX_DATA, &ev->data_length, err, cap) ||
        length_field(h, "payload_length", WY_MAX_PAYLOAD, &ev->payload_length, err, cap)) {
        json_decref(h);
        return -1;
    }
    json_t *d = json_object_get(h, "data");
    if (d && !json_is_object(d) && !json_is_null(d)) {
        snprintf(err, cap, "the event's data is not an object");
        json_decref(h);
        return -1;
    }
    ev->data = d && json_is_object(d) ? json_incref(d) : json_object();
    json_decref(h);
    if (!ev->data) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

int wy_merge_data(struct wy_event *ev, const char *buf, size_t len, char *err, size_t cap) {
    json_error_t je;
    json_t *d = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!d || !json_is_object(d)) {
        snprintf(err, cap, "the event's data block is not a JSON object: %s", d ? "wrong type" : je.text);
        json_decref(d);
        return -1;
    }
    int r = json_object_update(ev->data, d);
    json_decref(d);
    if (r) snprintf(err, cap, "out of memory");
    return r ? -1 : 0;
}

/* ---------------------------------------------------------------- connection I/O */

struct conn {
    struct wy_server *srv;
    int fd;
    pthread_t th;
    int used, finished;
    char buf[8192];
    size_t off, len;
    /* the synthesis in progress, for wy_stop to cancel */
    pthread_mutex_t mu;
    struct chorus_stream *stream;
    struct chorus_textstream *ts;
    int audio_started, write_failed;
    size_t stream_text; /* bytes appended to the open text stream */
};

struct wy_server {
    struct chorus_engine *e;
    struct wy_options o;
    int lfd, port, wake[2];
    pthread_t accept_th;
    atomic_int stopping;
    pthread_mutex_t mu;
    struct conn *conns;
    char *info; /* the describe answer, built once */
    size_t info_len;
};

static int fill(struct conn *c) {
    if (c->off < c->len) return 1;
    c->off = c->len = 0;
    for (;;) {
        ssize_t r = recv(c->fd, c->buf, sizeof c->buf, 0);
        if (r > 0) {
            c->len = (size_t)r;
            return 1;
        }
        if (r < 0 && errno == EINTR) continue;
        return 0; /* closed, reset or idle past the timeout */
    }
}

/* One line without its '\n' into *line (malloc'd). 1: ok, 0: closed, -1: too long. */
static int read_line(struct conn *c, char **line, size_t *n) {
    size_t cap = 256, len = 0;
    char *p = malloc(cap);
    if (!p) return 0;
    for (;;) {
        if (!fill(c)) {
            free(p);
            return 0;
        }
        char ch = c->buf[c->off++];
        if (ch == '\n') break;
        if (len + 1 >= WY_MAX_LINE) {
            free(p);
            return -1;
        }
        if (len + 1 >= cap) {
            char *q = realloc(p, cap *= 2);
            if (!q) {
                free(p);
                return 0;
            }
            p = q;
        }
        p[len++] = ch;
    }
    p[len] = 0;
    *line = p;
    *n = len;
    return 1;
}

/* Read n bytes into dst (or drop them when dst is NULL). */
static int read_exact(struct conn *c, char *dst, size_t n) {
    while (n) {
        if (!fill(c)) return 0;
        size_t k = c->len - c->off < n ? c->len - c->off : n;
        if (dst) memcpy(dst, c->buf + c->off, k), dst += k;
        c->off += k;
        n -= k;
    }
    return 1;
}

static int send_all(struct conn *c, const void *p, size_t n) {
    const char *s = p;
    while (n) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            c->write_failed = 1;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send an event: header line with inline data, then the payload. */
static int send_event(struct conn *c, const char *type, json_t *data, const void *payload,
                      size_t plen) {
    json_t *h = json_pack("{s:s, s:s}", "type", type, "version", WY_VERSION);
    if (!h) return -1;
    if (data) json_object_set(h, "data", data);
    if (plen) json_object_set_new(h, "payload_length", json_integer((json_int_t)plen));
    char *s = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    if (!s) return -1;
    int r = send_all(c, s, strlen(s));
    if (!r) r = send_all(c, "\n", 1);
    free(s);
    if (!r && plen) r = send_all(c, payload, plen);
    return r;
}

static void send_error(struct conn *c, const char *text, int status) {
    json_t *d = json_pack("{s:s, s:s}", "text", text, "code", chorus_status_name(status));
    if (d) send_event(c, "error", d, NULL, 0);
    json_decref(d);
}

/* ---------------------------------------------------------------- describe → info */

static json_t *voice_entry(const struct chorus_voice *v, const char *backend, int is_default) {
    char id[256];
    snprintf(id, sizeof id, "%s%s%s", is_default ? "" : backend, is_default ? "" : ":", v->id);
    json_t *langs = json_array();
    if (v->language) json_array_append_new(langs, json_string(v->language));
    json_t *e = json_pack("{s:s, s:s, s:{s:s, s:s}, s:b, s:o}", "name", id, "description",
                          v->name && *v->name ? v->name : v->id, "attribution", "name", backend,
                          "url", "", "installed", 1, "languages", langs);
    return e;
}

static int build_info(struct wy_server *s) {
    json_t *voices = json_array();
    const char *def = s->o.backend ? s->o.backend : chorus_engine_default_backend(s->e);
    struct chorus_backend_info *bi = NULL;
    size_t nb = 0;
    if (chorus_list_backends(s->e, &bi, &nb) == CHORUS_OK) {
        for (size_t i = 0; i < nb; i++) {
            /* remote voice lists are never fetched for describe: local engines only */
            if (!bi[i].available || !(bi[i].caps & CHORUS_CAP_LOCAL)) continue;
            struct chorus_voice *v = NULL;
            size_t nv = 0;
            if (chorus_list_voices(s->e, bi[i].name, &v, &nv) != CHORUS_OK) continue;
            for (size_t k = 0; k < nv; k++) {
                json_t *ve = voice_entry(&v[k], bi[i].name, def && !strcmp(def, bi[i].name));
                if (ve) json_array_append_new(voices, ve);
            }
            chorus_voices_free(v, nv);
        }
        chorus_backend_infos_free(bi, nb);
    }
    json_t *info = json_pack(
        "{s:[{s:s, s:s, s:{s:s, s:s}, s:b, s:s, s:b, s:o}]}", "tts", "name", "chorus",
        "description", "chorus text to speech (espeak-ng, Kokoro and remote engines)",
        "attribution", "name", "chorus", "url", "", "installed", 1, "version", chorus_version(),
        "supports_synthesize_streaming", 1, "voices", voices);
    if (!info) return CHORUS_E_NOMEM;
    s->info = json_dumps(info, JSON_COMPACT);
    json_decref(info);
    if (!s->info) return CHORUS_E_NOMEM;
    s->info_len = strlen(s->info);
    return CHORUS_OK;
}

static int send_info(struct conn *c) {
    char head[128];
    int n = snprintf(head, sizeof head,
                     "{\"type\":\"info\",\"version\":\"" WY_VERSION "\",\"data_length\":%zu}\n",
                     c->srv->info_len);
    if (send_all(c, head, (size_t)n)) return -1;
    return send_all(c, c->srv->info, c->srv->info_len);
}

/* ---------------------------------------------------------------- synthesis */

/* voice {name, language}: "backend:id" or an id of the default backend; a language alone is a
 * voice for engines that take language codes. */
static void pick_voice(struct conn *c, json_t *data, struct chorus_request *r, char *bk,
                       size_t cap) {
    json_t *v = json_object_get(data, "voice");
    const char *name = json_string_value(json_object_get(v, "name"));
    const char *lang = json_string_value(json_object_get(v, "language"));
    r->backend = c->srv->o.backend;
    r->voice = NULL;
    if (name && *name) {
        const char *colon = strchr(name, ':');
        if (colon && (size_t)(colon - name) < cap) {
            snprintf(bk, cap, "%.*s", (int)(colon - name), name);
            r->backend = bk;
            r->voice = colon + 1;
        } else {
            r->voice = name;
        }
    } else if (lang && *lang) {
        r->voice = lang;
    }
    r->language = lang && *lang ? lang : NULL;
}

static json_t *audio_format(const struct conn *c) {
    return json_pack("{s:i, s:i, s:i}", "rate", c->srv->o.sample_rate, "width", 2, "channels", 1);
}

static int on_audio(const struct chorus_event *ev, void *ud) {
    struct conn *c = ud;
    if (atomic_load(&c->srv->stopping)) return 1;
    if (ev->type != CHORUS_EVENT_CHUNK || !ev->chunk->data_len) return 0;
    json_t *fmt = audio_format(c);
    int r = fmt ? 0 : -1;
    if (!r && !c->audio_started) {
        r = send_event(c, "audio-start", fmt, NULL, 0);
        c->audio_started = 1;
    }
    if (!r) r = send_event(c, "audio-chunk", fmt, ev->chunk->data, ev->chunk->data_len);
    json_decref(fmt);
    return r ? 1 : 0; /* a peer gone away cancels */
}

static struct chorus_request audio_request(struct conn *c) {
    struct chorus_request r = chorus_request_default();
    r.format = CHORUS_FORMAT_PCM;
    r.sample_rate = c->srv->o.sample_rate;
    r.callback = on_audio;
    r.userdata = c;
    return r;
}

static int finish_audio(struct conn *c) {
    if (!c->audio_started) return 0;
    int r = send_event(c, "audio-stop", NULL, NULL, 0);
    c->audio_started = 0;
    return r;
}

static void synthesize(struct conn *c, json_t *data) {
    const char *text = json_string_value(json_object_get(data, "text"));
    size_t n = text ? strlen(text) : 0;
    if (!n) return send_error(c, "synthesize needs non-empty text", CHORUS_E_EMPTY_TEXT);
    if (n > WY_MAX_TEXT) return send_error(c, "the text is longer than 100000 bytes", CHORUS_E_TOO_LONG);
    struct chorus_request r = audio_request(c);
    char bk[64];
    pick_voice(c, data, &r, bk, sizeof bk);
    r.text = text;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(c->srv->e, &r, &s);
    if (rc == CHORUS_OK) {
        pthread_mutex_lock(&c->mu);
        c->stream = s;
        pthread_mutex_unlock(&c->mu);
        rc = atomic_load(&c->srv->stopping) ? CHORUS_E_CANCELLED : chorus_stream_run(s);
        pthread_mutex_lock(&c->mu);
        c->stream = NULL;
        pthread_mutex_unlock(&c->mu);
    }
    if (rc == CHORUS_OK) {
        if (!c->audio_started) { /* nothing speakable: an empty audio group */
            json_t *fmt = audio_format(c);
            send_event(c, "audio-start", fmt, NULL, 0);
            json_decref(fmt);
            c->audio_started = 1;
        }
        finish_audio(c);
    } else if (!c->write_failed) {
        finish_audio(c);
        send_error(c, s ? chorus_stream_errmsg(s) : chorus_strerror(rc), rc);
    }
    chorus_stream_destroy(s);
}

static void stream_start(struct conn *c, json_t *data) {
    if (c->ts) return send_error(c, "a synthesis stream is already open", CHORUS_E_INVALID);
    struct chorus_request r = audio_request(c);
    char bk[64];
    pick_voice(c, data, &r, bk, sizeof bk);
    struct chorus_textstream *ts = NULL;
    int rc = chorus_textstream_open(c->srv->e, &r, &ts);
    if (rc != CHORUS_OK) {
        send_error(c, ts ? chorus_textstream_errmsg(ts) : chorus_strerror(rc), rc);
        chorus_textstream_destroy(ts);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->ts = ts;
    pthread_mutex_unlock(&c->mu);
    c->stream_text = 0;
}

static void stream_end(struct conn *c, int rc) {
    pthread_mutex_lock(&c->mu);
    struct chorus_textstream *ts = c->ts;
    c->ts = NULL;
    pthread_mutex_unlock(&c->mu);
    if (rc != CHORUS_OK && !c->write_failed) {
        finish_audio(c);
        send_error(c, chorus_textstream_errmsg(ts), rc);
    }
    chorus_textstream_destroy(ts);
}

static void stream_chunk(struct conn *c, json_t *data) {
    if (!c->ts) return send_error(c, "synthesize-chunk without synthesize-start", CHORUS_E_INVALID);
    const char *text = json_string_value(json_object_get(data, "text"));
    size_t n = text ? strlen(text) : 0;
    if (c->stream_text + n > WY_MAX_TEXT) {
        chorus_textstream_cancel(c->ts);
        return stream_end(c, CHORUS_E_TOO_LONG);
    }
    c->stream_text += n;
    int rc = chorus_textstream_append(c->ts, text ? text : "", n);
    if (rc != CHORUS_OK) stream_end(c, rc);
}

static void stream_stop(struct conn *c) {
    if (!c->ts) return send_error(c, "synthesize-stop without synthesize-start", CHORUS_E_INVALID);
    int rc = chorus_textstream_finish(c->ts);
    if (rc != CHORUS_OK) return stream_end(c, rc);
    stream_end(c, CHORUS_OK);
    finish_audio(c);
    send_event(c, "synthesize-stopped", NULL, NULL, 0);
}

static void dispatch(struct conn *c, struct wy_event *ev) {
    const char *t = ev->type;
    if (!strcmp(t, "describe")) send_info(c);
    else if (!strcmp(t, "ping")) send_event(c, "pong", ev->data, NULL, 0);
    else if (!strcmp(t, "synthesize")) {
        if (!c->ts) synthesize(c, ev->data); /* inside a stream it repeats the whole text */
    } else if (!strcmp(t, "synthesize-start")) stream_start(c, ev->data);
    else if (!strcmp(t, "synthesize-chunk")) stream_chunk(c, ev->data);
    else if (!strcmp(t, "synthesize-stop")) stream_stop(c);
    /* anything else is ignored, as the protocol asks */
}

/* One event: 1 handled, 0 connection over. */
static int serve_one(struct conn *c) {
    char *line = NULL, err[256];
    size_t n = 0;
    int r = read_line(c, &line, &n);
    if (r <= 0) {
        if (r < 0) send_error(c, "event header line too long", CHORUS_E_TOO_LONG);
        return 0;
    }
    if (n == 0 || (n == 1 && line[0] == '\r')) { /* tolerate blank lines */
        free(line);
        return 1;
    }
    struct wy_event ev;
    int bad = wy_parse_header(line, n, &ev, err, sizeof err);
    free(line);
    if (bad) { /* the framing is lost: say why and close */
        send_error(c, err, CHORUS_E_INVALID);
        return 0;
    }
    int ok = 1;
    if (ev.data_length) {
        char *d = malloc(ev.data_length);
        ok = d && read_exact(c, d, ev.data_length);
        if (ok && wy_merge_data(&ev, d, ev.data_length, err, sizeof err)) {
            send_error(c, err, CHORUS_E_INVALID);
            ok = 0;
        }
        free(d);
    }
    if (ok && ev.payload_length) ok = read_exact(c, NULL, ev.payload_length);
    if (ok) dispatch(c, &ev);
    wy_event_clear(&ev);
    return ok && !c->write_failed;
}

static void *conn_main(void *arg) {
    struct conn *c = arg;
    while (!atomic_load(&c->srv->stopping) && serve_one(c)) {}
    if (c->ts) stream_end(c, CHORUS_E_CANCELLED); /* a disconnect cancels */
    shutdown(c->fd, SHUT_RDWR);
    pthread_mutex_lock(&c->srv->mu);
    c->finished = 1;
    pthread_mutex_unlock(&c->srv->mu);
    return NULL;
}

/* ---------------------------------------------------------------- listener */

static void reap(struct wy_server *s, int all) {
    for (int i = 0; i < s->o.max_connections; i++) {
        struct conn *c = &s->conns[i];
        pthread_mutex_lock(&s->mu);
        int join = c->used && (c->finished || all);
        pthread_mutex_unlock(&s->mu);
        if (!join) continue;
        pthread_join(c->th, NULL);
        close(c->fd);
        pthread_mutex_destroy(&c->mu);
        pthread_mutex_lock(&s->mu);
        c->used = c->finished = 0;
        pthread_mutex_unlock(&s->mu);
    }
}

static void accept_one(struct wy_server *s) {
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return;
    reap(s, 0);
    struct conn *c = NULL;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->o.max_connections && !c; i++)
        if (!s->conns[i].used) c = &s->conns[i];
    if (c) c->used = 1;
    pthread_mutex_unlock(&s->mu);
    if (!c) { /* over the connection cap: say so and close */
        struct conn tmp = {.srv = s, .fd = fd};
        send_error(&tmp, "too many Wyoming connections", CHORUS_E_BUSY);
        close(fd);
        return;
    }
    struct timeval tv = {.tv_sec = s->o.idle_timeout_ms / 1000,
                         .tv_usec = (s->o.idle_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct timeval wt = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof wt);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->srv = s;
    c->fd = fd;
    pthread_mutex_init(&c->mu, NULL);
    if (pthread_create(&c->th, NULL, conn_main, c) != 0) {
        close(fd);
        pthread_mutex_destroy(&c->mu);
        pthread_mutex_lock(&s->mu);
        c->used = 0;
        pthread_mutex_unlock(&s->mu);
    }
}

static void *accept_main(void *arg) {
    struct wy_server *s = arg;
    struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN}, {.fd = s->wake[0], .events = POLLIN}};
    while (!atomic_load(&s->stopping)) {
        if (poll(p, 2, 1000) < 0 && errno != EINTR) break;
        if (p[1].revents) break;
        if (p[0].revents & POLLIN) accept_one(s);
        else reap(s, 0);
    }
    return NULL;
}

static int listen_on(struct wy_server *s, char *err, size_t cap) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", s->o.port);
    int g = getaddrinfo(s->o.host, port, &hints, &ai);
    if (g) {
        snprintf(err, cap, "Wyoming address %s: %s", s->o.host, gai_strerror(g));
        return CHORUS_E_INVALID;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd >= 0 && (bind(fd, a->ai_addr, a->ai_addrlen) || listen(fd, 16))) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        snprintf(err, cap, "cannot listen for Wyoming on %s:%d: %s", s->o.host, s->o.port,
                 strerror(errno));
        return CHORUS_E_IO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    s->lfd = fd;
    return CHORUS_OK;
}

int wy_start(struct chorus_engine *e, const struct wy_options *o, struct wy_server **out,
             char *err, size_t cap) {
    *out = NULL;
    struct wy_server *s = calloc(1, sizeof *s);
    if (!s) return CHORUS_E_NOMEM;
    s->e = e;
    s->o = *o;
    if (!s->o.host) s->o.host = "127.0.0.1";
    if (s->o.port < 0) s->o.port = 10200;
    if (!s->o.sample_rate) s->o.sample_rate = 22050;
    if (s->o.max_connections <= 0) s->o.max_connections = 32;
    if (s->o.idle_timeout_ms <= 0) s->o.idle_timeout_ms = 120000;
    s->lfd = s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->mu, NULL);
    atomic_init(&s->stopping, 0);
    s->conns = calloc((size_t)s->o.max_connections, sizeof *s->conns);
    int rc = s->conns ? build_info(s) : CHORUS_E_NOMEM;
    if (!rc) rc = listen_on(s, err, cap);
    if (!rc && pipe2(s->wake, O_CLOEXEC)) rc = CHORUS_E_IO;
    if (!rc && pthread_create(&s->accept_th, NULL, accept_main, s)) rc = CHORUS_E_NOMEM;
    if (rc) {
        if (s->lfd >= 0) close(s->lfd);
        if (s->wake[0] >= 0) close(s->wake[0]), close(s->wake[1]);
        free(s->conns);
        free(s->info);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rc;
    }
    *out = s;
    return CHORUS_OK;
}

int wy_port(const struct wy_server *s) { return s ? s->port : 0; }

void wy_stop(struct wy_server *s) {
    if (!s) return;
    atomic_store(&s->stopping, 1);
    if (write(s->wake[1], "x", 1) < 0) { /* the poll times out within a second anyway */
    }
    pthread_join(s->accept_th, NULL);
    close(s->lfd);
    for (int i = 0; i < s->o.max_connections; i++) {
        struct conn *c = &s->conns[i];
        pthread_mutex_lock(&s->mu);
        int used = c->used;
        pthread_mutex_unlock(&s->mu);
        if (!used) continue;
        pthread_mutex_lock(&c->mu);
        if (c->stream) chorus_stream_cancel(c->stream);
        if (c->ts) chorus_textstream_cancel(c->ts);
        pthread_mutex_unlock(&c->mu);
        shutdown(c->fd, SHUT_RDWR);
    }
    reap(s, 1);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s->conns);
    free(s->info);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
