/*
 * speech.c — POST /v1/audio/speech and the captioned variant: request → chorus stream (pull
 * mode) → chunked audio, SSE events or NDJSON captions, or one whole body when the client asks
 * for "stream": false.
 *
 * The handler waits for a slot and for the first chunk before it answers, so every failure that
 * happens before any audio (bad voice, backend down, remote auth) gets a proper status and
 * OpenAI's error envelope. After that, MHD's content-reader callback pulls one chunk at a time;
 * while it waits it checks every 50 ms whether the client is still connected and cancels the
 * stream if not. The response's free callback destroys the stream and releases the slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server_internal.h"
#include "tags.h"

enum gen_mode { GEN_AUDIO, GEN_SSE, GEN_NDJSON };

#define GEN_GONE 1000 /* next_chunk: the client left or the server is stopping */

struct gen {
    struct srv *srv;
    struct srv_req *q; /* referenced while a streamed response lives (bytes for the log) */
    struct MHD_Connection *conn;
    struct srv_conn *watch; /* the connection's deadlines (watch.h) */
    struct chorus_stream *s;
    enum gen_mode mode;
    int collect;           /* whole body: append everything, no streaming */
    int return_timestamps;
    char *text;
    size_t text_len, input_chars;
    const char *mime;
    enum chorus_format format;
    struct chorus_chunk *first;
    char *out;
    size_t out_len, out_off, out_cap;
    size_t held;           /* bytes of out counted by srv_hold (whole bodies only) */
    json_t *words;         /* collect + captioned: every word */
    int ended, failed, outcome, slot;
    int metered;           /* the generation was counted (whole bodies: before sending) */
    int err_status;        /* collect: the failure */
    char err_msg[512];
    double t_arrival, t_start, t_first, audio; /* request arrival, slot taken, first byte */
    uint64_t bytes;
    struct srv_dl *dl;     /* return_download_link: the copy being written, or NULL */
    char dl_path[96];      /* its X-Download-Path, "" if none */
};

const char *srv_voice_map(struct srv *s, const char *backend, const char *voice) {
    if (!voice || !backend) return NULL;
    char sec[192];
    snprintf(sec, sizeof sec, "server.voices.%s", backend);
    const char *v = chorus_engine_config(s->engine, sec, voice);
    if (!v && !strcmp(backend, s->default_backend))
        v = chorus_engine_config(s->engine, "server.voices", voice);
    /* the engine's own table (its descriptor) and [BACKEND.voices]: one table for every entry
     * point, so the library, the CLI and this server agree */
    if (!v) v = chorus_voice_alias(s->engine, backend, voice);
    return v && *v ? v : NULL;
}

static int out_append(struct gen *g, const void *p, size_t n) {
    if (n == 0) return 0;
    if (g->out_len + n + 1 > g->out_cap) {
        size_t nc = g->out_cap ? g->out_cap : 8192;
        while (nc < g->out_len + n + 1) nc *= 2;
        /* a whole body waits in memory until sent: it counts against the server's limit */
        if (g->collect && srv_hold(g->srv, nc - g->out_cap) < 0) {
            g->err_status = CHORUS_E_BUSY;
            snprintf(g->err_msg, sizeof g->err_msg,
                     "the server holds too much unsent audio for other clients right now (limit %zu bytes); retry shortly, or send \"stream\": true",
                     g->srv->opt.max_held);
            return -1;
        }
        if (g->collect) g->held += nc - g->out_cap;
        char *q = realloc(g->out, nc);
        if (!q) return -1;
        g->out = q;
        g->out_cap = nc;
    }
    if (n) memcpy(g->out + g->out_len, p, n); /* a chunk may carry no bytes yet (p NULL) */
    g->out_len += n;
    return 0;
}

static int out_str(struct gen *g, const char *s) {
    return out_append(g, s, strlen(s));
}

/* Wait for the next chunk, watching the client and the server's stop flag. */
static int next_chunk(struct gen *g, struct chorus_chunk **c) {
    for (;;) {
        int rc = chorus_stream_receive(g->s, c, 50);
        if (rc != CHORUS_AGAIN) return rc;
        if (atomic_load(&g->srv->force_stop) || srv_client_gone(g->conn)) {
            chorus_stream_cancel(g->s);
            return GEN_GONE;
        }
    }
}

static json_t *words_json(struct gen *g, const struct chorus_chunk *c) {
    json_t *a = json_array();
    for (size_t i = 0; i < c->n_words; i++) {
        const struct chorus_word *w = &c->words[i];
        if (w->text_offset > g->text_len || w->text_len > g->text_len - w->text_offset) continue;
        json_t *word = json_stringn(g->text + w->text_offset, w->text_len);
        if (!word) continue;
        json_t *o = json_object();
        json_object_set_new(o, "word", word);
        json_object_set_new(o, "start_time", json_real(w->start));
        json_object_set_new(o, "end_time", json_real(w->end));
        json_object_set_new(o, "offset", json_integer((json_int_t)w->text_offset));
        json_object_set_new(o, "length", json_integer((json_int_t)w->text_len));
        json_array_append_new(a, o);
    }
    return a;
}

static void note_audio(struct gen *g, const struct chorus_chunk *c) {
    if (c->sample_rate > 0) {
        double end = c->start_time + (double)c->n_samples / c->sample_rate;
        if (end > g->audio) g->audio = end;
    }
}

/* Format one chunk into the output buffer. */
static int put_chunk(struct gen *g, const struct chorus_chunk *c) {
    note_audio(g, c);
    if (g->collect) {
        if (out_append(g, c->data, c->data_len)) return -1;
        if (g->words && g->return_timestamps) {
            json_t *w = words_json(g, c);
            json_array_extend(g->words, w);
            json_decref(w);
        }
        if (g->out_len > g->srv->opt.max_buffered) {
            g->err_status = CHORUS_E_TOO_LONG;
            snprintf(g->err_msg, sizeof g->err_msg,
                     "the audio is larger than %zu bytes, too much to send unstreamed; send \"stream\": true",
                     g->srv->opt.max_buffered);
            chorus_stream_cancel(g->s);
            return -1;
        }
        return 0;
    }
    if (g->mode == GEN_AUDIO) return out_append(g, c->data, c->data_len);
    if (g->mode == GEN_SSE) {
        if (!c->data_len) return 0;
        char *b = srv_base64(c->data, c->data_len, NULL);
        if (!b) return -1;
        int rc = out_str(g, "data: {\"type\":\"speech.audio.delta\",\"audio\":\"") || out_str(g, b) ||
                 out_str(g, "\"}\n\n");
        free(b);
        return rc ? -1 : 0;
    }
    /* NDJSON captions: one object per chunk */
    if (!c->data_len && !c->n_words) return 0;
    char *b = srv_base64(c->data, c->data_len, NULL);
    if (!b) return -1;
    json_t *o = json_object();
    json_object_set_new(o, "audio", json_string(b));
    free(b);
    json_object_set_new(o, "audio_format", json_string(g->mime));
    json_object_set_new(o, "timestamps", g->return_timestamps ? words_json(g, c) : json_array());
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!s) return -1;
    int rc = out_str(g, s) || out_str(g, "\n");
    free(s);
    return rc ? -1 : 0;
}

static void put_error_event(struct gen *g, int rc) {
    struct srv_error e;
    srv_error_from_status(&e, rc, chorus_stream_errmsg(g->s), NULL);
    json_t *j = srv_error_json(&e);
    if (g->mode == GEN_SSE) json_object_set_new(j, "type", json_string("error"));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return;
    if (g->mode == GEN_SSE) out_str(g, "data: ");
    out_str(g, s);
    out_str(g, g->mode == GEN_SSE ? "\n\n" : "\n");
    free(s);
}

/* Take the next chunk (or the end) and append its bytes; sets ended/failed at the end. */
static void gen_fill(struct gen *g) {
    struct chorus_chunk *c = g->first;
    int rc = CHORUS_OK;
    g->first = NULL;
    if (!c) rc = next_chunk(g, &c);
    if (rc == CHORUS_OK) {
        int bad = put_chunk(g, c);
        chorus_chunk_free(c);
        if (bad) {
            if (!g->err_status) {
                g->err_status = CHORUS_E_NOMEM;
                snprintf(g->err_msg, sizeof g->err_msg, "out of memory while sending audio");
            }
            chorus_stream_cancel(g->s);
            g->failed = 1;
            g->outcome = SRV_GEN_ERROR;
        }
        return;
    }
    if (rc == CHORUS_EOF) {
        g->ended = 1;
        g->outcome = SRV_GEN_DONE;
        if (g->mode == GEN_SSE && !g->collect) {
            char done[256];
            unsigned long long in = (g->input_chars + 3) / 4, out = (unsigned long long)(g->audio * 50.0 + 0.5);
            snprintf(done, sizeof done,
                     "data: {\"type\":\"speech.audio.done\",\"usage\":{\"input_tokens\":%llu,\"output_tokens\":%llu,\"total_tokens\":%llu}}\n\n",
                     in, out, in + out);
            out_str(g, done);
        }
        return;
    }
    if (rc == GEN_GONE) {
        g->failed = 1;
        g->outcome = SRV_GEN_CANCELLED;
        return;
    }
    g->outcome = SRV_GEN_ERROR;
    g->err_status = rc;
    snprintf(g->err_msg, sizeof g->err_msg, "%s", chorus_stream_errmsg(g->s));
    if (g->srv->opt.access_log)
        fprintf(stderr, "chorus serve: generation failed: %s\n", g->err_msg);
    if (!g->collect && g->mode != GEN_AUDIO) {
        put_error_event(g, rc); /* the client learns why, then the stream ends */
        g->ended = 1;
    } else {
        g->failed = 1;
    }
}

/* The download copy: published (with the exact header a streamed WAV could not have) once every
 * byte is written and before the answer's last chunk leaves, so a client that asks for it right
 * after reading finds it; removed if the generation did not finish. */
static void gen_publish(struct gen *g) {
    if (!g->dl) return;
    unsigned char hdr[256];
    size_t hl = 0;
    int ok = g->ended && g->outcome == SRV_GEN_DONE;
    if (ok && chorus_stream_final_header(g->s, hdr, sizeof hdr, &hl) != CHORUS_OK) hl = 0;
    srv_dl_finish(g->srv, g->dl, ok, hdr, hl);
    g->dl = NULL;
}

static ssize_t gen_read(void *cls, uint64_t pos, char *buf, size_t max) {
    struct gen *g = cls;
    (void)pos;
    srv_watch_pull_begin(g->watch); /* waiting for audio is not the client's stall */
    while (g->out_off == g->out_len) {
        g->out_off = g->out_len = 0;
        if (g->ended || g->failed) {
            srv_watch_pull_end(g->watch);
            if (g->failed) return MHD_CONTENT_READER_END_WITH_ERROR;
            gen_publish(g);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        gen_fill(g);
    }
    srv_watch_pull_end(g->watch);
    size_t n = g->out_len - g->out_off;
    if (n > max) n = max;
    memcpy(buf, g->out + g->out_off, n);
    if (g->dl && g->mode == GEN_AUDIO) srv_dl_write(g->dl, buf, n);
    g->out_off += n;
    if (g->t_first == 0) g->t_first = srv_now();
    g->bytes += n;
    return (ssize_t)n;
}

static void gen_free(void *cls) {
    struct gen *g = cls;
    if (!g) return;
    if (!g->ended && !g->failed) g->outcome = SRV_GEN_CANCELLED; /* the client left mid-stream */
    gen_publish(g);
    chorus_stream_destroy(g->s); /* cancels and joins the worker */
    chorus_chunk_free(g->first);
    double now = srv_now();
    if (!g->metered) {
        srv_metrics_generation(g->srv, g->outcome, g->t_first > 0 ? g->t_first - g->t_arrival : -1,
                               now - g->t_start, g->audio, g->bytes);
    } else {
        pthread_mutex_lock(&g->srv->mmu);
        g->srv->m.bytes_out += g->bytes;
        pthread_mutex_unlock(&g->srv->mmu);
    }
    if (g->slot) srv_gen_end(g->srv);
    if (g->held) srv_unhold(g->srv, g->held);
    if (g->q) {
        g->q->bytes_out += g->bytes;
        srv_req_unref(g->q);
    }
    json_decref(g->words);
    free(g->text);
    free(g->out);
    free(g);
}

static void add_audio_headers(struct gen *g, struct MHD_Response *resp);

/* Generate everything, watching the client and the server's stop flag between chunks too (a
 * fast backend never makes next_chunk wait, where it would otherwise look). */
static void collect_all(struct gen *g) {
    while (!g->ended && !g->failed) {
        if (atomic_load(&g->srv->force_stop) || srv_client_gone(g->conn)) {
            chorus_stream_cancel(g->s);
            g->failed = 1;
            g->outcome = SRV_GEN_CANCELLED;
            return;
        }
        gen_fill(g);
    }
}

/* The generation is over: count it and give back its stream (and with it the library's
 * generation slot) before the body is sent, however slowly the client reads. */
static void generation_done(struct gen *g) {
    double now = srv_now();
    srv_metrics_generation(g->srv, SRV_GEN_DONE, now - g->t_arrival, now - g->t_start, g->audio, 0);
    g->metered = 1;
    chorus_stream_destroy(g->s);
    g->s = NULL;
    if (g->slot) srv_gen_end(g->srv);
    g->slot = 0;
}

/* The captioned whole body: one JSON document with the base64 audio and every word replaces the
 * audio in g->out. -2 when holding it would pass max_held, -1 out of memory. */
static int captioned_body(struct gen *g) {
    char *b = srv_base64((unsigned char *)g->out, g->out_len, NULL);
    json_t *o = json_object();
    json_object_set_new(o, "audio", b ? json_string(b) : json_null());
    free(b);
    json_object_set_new(o, "audio_format", json_string(g->mime));
    json_object_set_new(o, "timestamps", g->words ? json_incref(g->words) : json_array());
    char *doc = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!doc) return -1;
    size_t n = strlen(doc);
    if (srv_hold(g->srv, n) < 0) {
        free(doc);
        return -2;
    }
    free(g->out);
    srv_unhold(g->srv, g->held);
    g->out = doc;
    g->held = g->out_cap = g->out_len = n;
    return 0;
}

static void collected_error(struct gen *g, struct srv_error *e) {
    if (g->err_status == CHORUS_E_BUSY) {
        srv_error_set(e, 503, "server_error", "server_overloaded", "stream", "%s", g->err_msg);
        e->retry_after = 1;
    } else {
        srv_error_from_status(e, g->err_status ? g->err_status : CHORUS_E_BACKEND, g->err_msg,
                              g->err_status == CHORUS_E_TOO_LONG ? "stream" : NULL);
    }
}

/* The whole body at once ("stream": false), with a Content-Length. It is sent from g->out by
 * gen_read (so a client that does not read is cut by the stall deadline), and stays counted
 * against max_held until libmicrohttpd is done with it. The download copy is published first. */
static enum MHD_Result send_collected(struct srv_req *q, struct gen *g, int captioned) {
    collect_all(g);
    if (g->outcome == SRV_GEN_CANCELLED) {
        gen_free(g);
        return MHD_NO;
    }
    struct srv_error e;
    if (g->failed) {
        collected_error(g, &e);
        gen_free(g);
        return srv_send_error(q, &e);
    }
    unsigned char hdr[256];
    size_t hl = 0;
    if (chorus_stream_final_header(g->s, hdr, sizeof hdr, &hl) == CHORUS_OK && hl && hl <= g->out_len)
        memcpy(g->out, hdr, hl); /* the exact sizes, now that they are known */
    if (g->dl && !captioned) {
        srv_dl_write(g->dl, g->out, g->out_len);
        gen_publish(g);
    }
    generation_done(g);
    int rc = captioned ? captioned_body(g) : 0;
    if (rc < 0) {
        if (rc == -2)
            srv_error_set(&e, 503, "server_error", "server_overloaded", "stream",
                          "the server holds too much unsent audio for other clients right now (limit %zu bytes); retry shortly, or send \"stream\": true",
                          g->srv->opt.max_held);
        else
            srv_error_set(&e, 500, "server_error", "internal_error", NULL, "out of memory");
        e.retry_after = rc == -2 ? 1 : 0;
        gen_free(g);
        return srv_send_error(q, &e);
    }
    struct MHD_Response *r = MHD_create_response_from_callback(g->out_len, 65536, gen_read, g, gen_free);
    if (!r) {
        gen_free(g);
        return MHD_NO;
    }
    g->t_first = srv_now();
    g->ended = 1;
    atomic_fetch_add(&q->refs, 1);
    g->q = q;
    if (captioned) MHD_add_response_header(r, "Content-Type", "application/json");
    else add_audio_headers(g, r);
    return srv_queue(q, 200, r);
}

/* ------------------------------------------------------------------ the request ---- */

/* A speech request turned into a chorus_request, with what its strings point into. */
struct job {
    struct srv_speech sp;
    char bname[128], bmodel[256];
    struct chorus_option opts[SRV_MAX_OPTIONS + 1];
    char *doc;        /* the SSML the tags became (owned), or NULL */
    struct srv *srv;
    struct chorus_request r;
};

static const char *tag_voice(void *ud, const char *name) {
    struct job *j = ud;
    return srv_voice_map(j->srv, j->r.backend, name);
}

/* The default format, or a 400 naming what this build can encode. */
static int pick_format(const struct srv_speech *sp, enum chorus_format *fmt, struct srv_error *e) {
    *fmt = sp->format;
    if (!sp->format_given) {
        *fmt = chorus_format_supported(CHORUS_FORMAT_MP3) ? CHORUS_FORMAT_MP3 : CHORUS_FORMAT_WAV;
        return 0;
    }
    if (chorus_format_supported(*fmt)) return 0;
    char have[128] = "";
    size_t off = 0;
    for (int f = CHORUS_FORMAT_WAV; f < CHORUS_FORMAT_COUNT_; f++)
        if (chorus_format_supported((enum chorus_format)f)) {
            int n = snprintf(have + off, sizeof have - off, "%s%s", off ? ", " : "",
                             chorus_format_name((enum chorus_format)f));
            if (n > 0 && (size_t)n < sizeof have - off) off += (size_t)n;
        }
    srv_error_set(e, 400, "invalid_request_error", "unsupported_format", "response_format",
                  "response_format %s is not available in this build of chorus; use one of: %s",
                  chorus_format_name(*fmt), have);
    return -1;
}

/* Backend options: the request's, plus "instructions" for backends that take it. */
static size_t pick_options(struct srv *s, struct job *j, const char *backend) {
    size_t n = 0;
    for (size_t i = 0; i < j->sp.n_options; i++) j->opts[n++] = j->sp.options[i];
    if (!j->sp.instructions || !*j->sp.instructions) return n;
    const struct chorus_option_desc *od = NULL;
    size_t no = 0;
    if (chorus_backend_options(s->engine, backend, &od, &no) == CHORUS_OK)
        for (size_t k = 0; k < no; k++)
            if (!strcasecmp(od[k].key, "instructions")) {
                j->opts[n].key = "instructions";
                j->opts[n].value = j->sp.instructions;
                n++;
                break;
            }
    return n;
}

/* The text as the library gets it: SSML as is, tags as SSML, or plain text. */
static int pick_input(struct job *j, struct srv_error *e) {
    j->r.text = j->sp.input;
    j->r.text_len = j->sp.input_len;
    if (j->sp.ssml) {
        j->r.input = CHORUS_INPUT_SSML;
    } else if (j->sp.voice_tags) {
        size_t n = 0;
        int tags = 0;
        if (srv_tags_to_ssml(j->sp.input, j->sp.input_len, tag_voice, j, &j->doc, &n, &tags) < 0) {
            srv_error_set(e, 500, "server_error", "internal_error", NULL, "out of memory");
            return -1;
        }
        if (tags) {
            j->r.input = CHORUS_INPUT_SSML;
            j->r.text = j->doc;
            j->r.text_len = n;
        }
    }
    return 0;
}

/* Parse the body and fill j->r; on failure *e says why (j is released then). */
static int job_prepare(struct srv *s, struct srv_req *q, struct job *j, struct srv_error *e) {
    memset(j, 0, sizeof *j);
    j->srv = s;
    if (srv_speech_parse(q->body, q->body_len, s->opt.max_input_chars, &j->sp, e)) return -1;
    if (srv_model_split(j->sp.model, j->bname, sizeof j->bname, j->bmodel, sizeof j->bmodel) < 0) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "model",
                      "invalid model '%.100s': use a backend (espeak, kokoro), backend/model (openai/tts-1-hd) or an OpenAI model name (tts-1)",
                      j->sp.model);
        goto fail;
    }
    struct chorus_request *r = &j->r;
    *r = chorus_request_default();
    r->backend = j->bname[0] ? j->bname : s->default_backend;
    r->model = j->bmodel[0] ? j->bmodel : NULL;
    if (!j->bname[0] && j->sp.model && srv_model_is_openai(j->sp.model) && !strcmp(r->backend, "openai"))
        r->model = j->sp.model; /* the real thing takes its own model names */
    const char *mapped = srv_voice_map(s, r->backend, j->sp.voice);
    r->voice = mapped ? mapped : j->sp.voice;
    if (pick_format(&j->sp, &r->format, e) < 0) goto fail;
    if (j->sp.download_link && j->sp.download_format != CHORUS_FORMAT_DEFAULT &&
        j->sp.download_format != r->format) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "download_format",
                      "download_format must be the response_format (%s) here: the download is a copy of the response",
                      chorus_format_name(r->format));
        goto fail;
    }
    if (pick_input(j, e) < 0) goto fail;
    r->language = j->sp.language;
    r->speed = (float)j->sp.speed;
    r->sample_rate = j->sp.sample_rate;
    r->options = j->opts;
    r->n_options = pick_options(s, j, r->backend);
    r->flags = CHORUS_FLAG_NO_SAMPLES;
    if (j->sp.no_normalize) r->flags |= CHORUS_FLAG_NO_NORMALIZE;
    r->volume = (float)j->sp.volume;
    r->normalize_options = j->sp.normalize_opts[0] ? j->sp.normalize_opts : NULL;
    r->pronunciations = j->sp.n_prons ? j->sp.prons : NULL;
    r->n_pronunciations = j->sp.n_prons;
    return 0;
fail:
    srv_speech_release(&j->sp);
    free(j->doc);
    return -1;
}

static void job_release(struct job *j) {
    srv_speech_release(&j->sp);
    free(j->doc);
    j->doc = NULL;
}

/* ------------------------------------------------------------------ the generation ---- */

/* Input with nothing to speak (only symbols, only whitespace once normalized) becomes a short
 * silence in the requested format, so a client reading fragments one by one (Open WebUI's
 * read-aloud sends "***") goes on. The silence comes from the embedded espeak backend (local,
 * no cost, whatever backend was asked for): a short word at an output gain of 1e-6, which
 * rounds to digital silence in every format. (SSML's volume="silent" is not honoured once
 * chorus emulates SSML for espeak.) */
static int open_silence(struct srv *s, const struct chorus_request *r, struct chorus_stream **st) {
    static const char doc[] = "ah";
    struct chorus_request q = chorus_request_default();
    q.backend = "espeak";
    q.input = CHORUS_INPUT_TEXT;
    q.volume = 1e-6f;
    q.speed = 2.0f;
    q.text = doc;
    q.text_len = strlen(doc);
    q.format = r->format;
    q.sample_rate = r->sample_rate;
    q.flags = r->flags | CHORUS_FLAG_NO_CACHE;
    if (s->opt.access_log) fprintf(stderr, "chorus serve: nothing to speak in the input: answering a short silence\n");
    return chorus_stream_open(s->engine, &q, st);
}

static int open_stream(struct srv *s, const struct chorus_request *r, struct chorus_stream **st) {
    int rc = chorus_stream_open(s->engine, r, st);
    if (rc != CHORUS_E_EMPTY_TEXT) return rc;
    chorus_stream_destroy(*st);
    *st = NULL;
    return open_silence(s, r, st);
}

/* The first chunk; a stream that finds nothing to speak only now is replaced by the silence. */
static int first_chunk(struct gen *g, const struct chorus_request *r) {
    int rc = next_chunk(g, &g->first);
    if (rc != CHORUS_E_EMPTY_TEXT) return rc;
    chorus_stream_destroy(g->s);
    g->s = NULL;
    rc = open_silence(g->srv, r, &g->s);
    if (rc != CHORUS_OK) return rc;
    return next_chunk(g, &g->first);
}

static struct gen *gen_new(struct srv_req *q, struct chorus_stream *st, const struct run *run) {
    struct gen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->text = malloc(run->text_len + 1);
    if (!g->text) {
        free(g);
        return NULL;
    }
    memcpy(g->text, run->text, run->text_len);
    g->text[run->text_len] = 0;
    g->text_len = run->text_len;
    g->input_chars = run->input_chars;
    g->srv = q->srv;
    g->conn = q->conn;
    g->watch = srv_watch_of(q->conn);
    g->s = st;
    g->slot = 1;
    g->t_arrival = q->t0;
    g->format = run->format;
    g->mime = chorus_format_mime(run->format);
    g->mode = run->captioned ? GEN_NDJSON : run->sse ? GEN_SSE : GEN_AUDIO;
    g->return_timestamps = run->return_timestamps;
    g->collect = !run->stream && g->mode != GEN_SSE;
    if (g->collect && run->captioned) g->words = json_array();
    return g;
}

static void add_audio_headers(struct gen *g, struct MHD_Response *resp) {
    MHD_add_response_header(resp, "Content-Type", g->mime);
    char cd[64];
    snprintf(cd, sizeof cd, "inline; filename=\"speech.%s\"", chorus_format_extension(g->format));
    MHD_add_response_header(resp, "Content-Disposition", cd);
    if (g->dl_path[0]) MHD_add_response_header(resp, "X-Download-Path", g->dl_path);
}

/* The streamed answer: headers now, chunks from gen_read as they come. */
static enum MHD_Result send_streamed(struct srv_req *q, struct gen *g) {
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, gen_read, g, gen_free);
    if (!resp) {
        gen_free(g);
        return MHD_NO;
    }
    atomic_fetch_add(&q->refs, 1);
    g->q = q;
    if (g->mode == GEN_SSE) MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    else if (g->mode == GEN_NDJSON) MHD_add_response_header(resp, "Content-Type", "application/x-ndjson");
    else add_audio_headers(g, resp);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "x-chorus-backend", chorus_stream_backend(g->s));
    if (chorus_stream_voice(g->s) && *chorus_stream_voice(g->s))
        MHD_add_response_header(resp, "x-chorus-voice", chorus_stream_voice(g->s));
    char rate[16];
    snprintf(rate, sizeof rate, "%d", chorus_stream_sample_rate(g->s));
    MHD_add_response_header(resp, "x-chorus-sample-rate", rate);
    return srv_queue(q, 200, resp);
}

enum MHD_Result srv_run(struct srv_req *q, const struct chorus_request *r, const struct run *run) {
    struct srv *s = q->srv;
    struct srv_error e;
    if (srv_gen_begin(s, &e) < 0) return srv_send_error(q, &e);
    double t_start = srv_now();
    struct chorus_stream *st = NULL;
    int rc = open_stream(s, r, &st);
    if (rc != CHORUS_OK) {
        srv_error_from_status(&e, rc, st ? chorus_stream_errmsg(st) : NULL, NULL);
        /* the format itself was checked before: what it refuses now is the requested rate */
        if (rc == CHORUS_E_FORMAT && r->sample_rate > 0) e.param = "sample_rate";
        /* the library names a bad entry "pronunciation N (...)" */
        if (rc == CHORUS_E_INVALID && r->n_pronunciations && st &&
            !strncmp(chorus_stream_errmsg(st), "pronunciation", 13))
            e.param = "pronunciations";
        chorus_stream_destroy(st);
        srv_gen_end(s);
        return srv_send_error(q, &e);
    }
    struct gen *g = gen_new(q, st, run);
    if (!g) {
        chorus_stream_destroy(st);
        srv_gen_end(s);
        return MHD_NO;
    }
    g->t_start = t_start;
    if (run->download && g->mode == GEN_AUDIO) { /* captions and events are not audio files */
        g->dl = srv_dl_create(s, g->format);
        if (g->dl) snprintf(g->dl_path, sizeof g->dl_path, "%s", srv_dl_path(g->dl));
    }

    /* the first chunk before answering: early failures get a real status */
    rc = first_chunk(g, r);
    if (rc == GEN_GONE) {
        g->outcome = SRV_GEN_CANCELLED;
        gen_free(g);
        return MHD_NO;
    }
    if (rc == CHORUS_E_BUSY && srv_now() - t_start >= s->opt.queue_timeout_ms / 1000.0) {
        /* the library's queue timeout (a full queue refuses at once: 429 below) */
        srv_error_set(&e, 503, "server_error", "server_overloaded", NULL, "%s",
                      g->s ? chorus_stream_errmsg(g->s) : "no generation slot became free in time");
        e.retry_after = 2;
    } else if (rc < 0) {
        srv_error_from_status(&e, rc, g->s ? chorus_stream_errmsg(g->s) : NULL, NULL);
    }
    if (rc < 0) {
        if (s->opt.access_log) fprintf(stderr, "chorus serve: generation failed: %s\n", e.message);
        g->outcome = SRV_GEN_ERROR;
        gen_free(g);
        return srv_send_error(q, &e);
    }
    if (rc == CHORUS_EOF) {
        g->ended = 1;
        g->outcome = SRV_GEN_DONE;
        if (g->mode == GEN_SSE) gen_fill(g); /* still say done */
    }
    if (g->collect) return send_collected(q, g, run->captioned);
    return send_streamed(q, g);
}

enum MHD_Result srv_handle_speech(struct srv_req *q, int captioned) {
    struct job j;
    struct srv_error e;
    if (job_prepare(q->srv, q, &j, &e) < 0) return srv_send_error(q, &e);
    struct run run = {
        .text = j.r.text, .text_len = j.r.text_len, .input_chars = j.sp.input_chars,
        .format = j.r.format, .captioned = captioned, .sse = j.sp.stream_format == SRV_STREAM_SSE,
        .stream = j.sp.stream, .return_timestamps = j.sp.return_timestamps,
        .download = j.sp.download_link};
    enum MHD_Result ret = srv_run(q, &j.r, &run);
    job_release(&j);
    return ret;
}
