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
};

const char *srv_voice_map(struct srv *s, const char *backend, const char *voice) {
    if (!voice || !backend) return NULL;
    char sec[192];
    snprintf(sec, sizeof sec, "server.voices.%s", backend);
    const char *v = chorus_engine_config(s->engine, sec, voice);
    if (!v && !strcmp(backend, s->default_backend))
        v = chorus_engine_config(s->engine, "server.voices", voice);
    if (!v) v = srv_voice_builtin(backend, voice);
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

static ssize_t gen_read(void *cls, uint64_t pos, char *buf, size_t max) {
    struct gen *g = cls;
    (void)pos;
    srv_watch_pull_begin(g->watch); /* waiting for audio is not the client's stall */
    while (g->out_off == g->out_len) {
        g->out_off = g->out_len = 0;
        if (g->ended || g->failed) {
            srv_watch_pull_end(g->watch);
            return g->ended ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
        }
        gen_fill(g);
    }
    srv_watch_pull_end(g->watch);
    size_t n = g->out_len - g->out_off;
    if (n > max) n = max;
    memcpy(buf, g->out + g->out_off, n);
    g->out_off += n;
    if (g->t_first == 0) g->t_first = srv_now();
    g->bytes += n;
    return (ssize_t)n;
}

static void gen_free(void *cls) {
    struct gen *g = cls;
    if (!g) return;
    if (!g->ended && !g->failed) g->outcome = SRV_GEN_CANCELLED; /* the client left mid-stream */
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
    if (g->slot) srv_slot_release(g->srv);
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

/* The generation is over: give back its slot and stream before the body is sent. */
static void generation_done(struct gen *g) {
    double now = srv_now();
    srv_metrics_generation(g->srv, SRV_GEN_DONE, now - g->t_arrival, now - g->t_start, g->audio, 0);
    g->metered = 1;
    chorus_stream_destroy(g->s);
    g->s = NULL;
    if (g->slot) srv_slot_release(g->srv);
    g->slot = 0;
}

/* The captioned whole body: one JSON document replaces the audio in g->out. */
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

/* The whole body at once ("stream": false). It is sent from g->out by gen_read (so a client
 * that does not read is cut by the stall deadline), and stays counted against max_held until
 * libmicrohttpd is done with it. */
static enum MHD_Result send_collected(struct srv_req *q, struct gen *g, int captioned) {
    collect_all(g);
    if (g->outcome == SRV_GEN_CANCELLED) {
        gen_free(g);
        return MHD_NO;
    }
    struct srv_error e;
    if (g->failed) {
        if (g->err_status == CHORUS_E_BUSY) {
            srv_error_set(&e, 503, "server_error", "server_overloaded", "stream", "%s", g->err_msg);
            e.retry_after = 1;
        } else {
            srv_error_from_status(&e, g->err_status ? g->err_status : CHORUS_E_BACKEND, g->err_msg,
                                  g->err_status == CHORUS_E_TOO_LONG ? "stream" : NULL);
        }
        gen_free(g);
        return srv_send_error(q, &e);
    }
    unsigned char hdr[256];
    size_t hl = 0;
    if (chorus_stream_final_header(g->s, hdr, sizeof hdr, &hl) == CHORUS_OK && hl && hl <= g->out_len)
        memcpy(g->out, hdr, hl);
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
    MHD_add_response_header(r, "Content-Type", captioned ? "application/json" : g->mime);
    if (!captioned) {
        char cd[64];
        snprintf(cd, sizeof cd, "inline; filename=\"speech.%s\"", chorus_format_extension(g->format));
        MHD_add_response_header(r, "Content-Disposition", cd);
    }
    return srv_queue(q, 200, r);
}

enum MHD_Result srv_handle_speech(struct srv_req *q, int captioned) {
    struct srv *s = q->srv;
    struct srv_speech sp;
    struct srv_error e;
    if (srv_speech_parse(q->body, q->body_len, s->opt.max_input_chars, &sp, &e))
        return srv_send_error(q, &e);

    char bname[128], bmodel[256];
    if (srv_model_split(sp.model, bname, sizeof bname, bmodel, sizeof bmodel) < 0) {
        srv_error_set(&e, 400, "invalid_request_error", "invalid_value", "model",
                      "invalid model '%.100s': use a backend (espeak, kokoro), backend/model (openai/tts-1-hd) or an OpenAI model name (tts-1)",
                      sp.model);
        srv_speech_release(&sp);
        return srv_send_error(q, &e);
    }
    const char *backend = bname[0] ? bname : s->default_backend;
    const char *model = bmodel[0] ? bmodel : NULL;
    if (!bname[0] && sp.model && srv_model_is_openai(sp.model) && !strcmp(backend, "openai"))
        model = sp.model; /* the real thing takes its own model names */
    const char *voice = sp.voice;
    const char *mapped = srv_voice_map(s, backend, voice);
    if (mapped) voice = mapped;

    enum chorus_format fmt = sp.format;
    if (!sp.format_given) {
        fmt = chorus_format_supported(CHORUS_FORMAT_MP3) ? CHORUS_FORMAT_MP3 : CHORUS_FORMAT_WAV;
    } else if (!chorus_format_supported(fmt)) {
        char have[128] = "";
        size_t off = 0;
        for (int f = CHORUS_FORMAT_WAV; f < CHORUS_FORMAT_COUNT_; f++)
            if (chorus_format_supported((enum chorus_format)f)) {
                int n = snprintf(have + off, sizeof have - off, "%s%s", off ? ", " : "",
                                 chorus_format_name((enum chorus_format)f));
                if (n > 0 && (size_t)n < sizeof have - off) off += (size_t)n;
            }
        srv_error_set(&e, 400, "invalid_request_error", "unsupported_format", "response_format",
                      "response_format %s is not available in this build of chorus; use one of: %s",
                      chorus_format_name(fmt), have);
        srv_speech_release(&sp);
        return srv_send_error(q, &e);
    }

    struct chorus_option opts[SRV_MAX_OPTIONS + 1];
    size_t nopts = 0;
    for (size_t i = 0; i < sp.n_options; i++) opts[nopts++] = sp.options[i];
    if (sp.instructions && *sp.instructions) {
        /* passed on only to backends that take it (OpenAI's gpt-4o-mini-tts) */
        const struct chorus_option_desc *od = NULL;
        size_t no = 0;
        if (chorus_backend_options(s->engine, backend, &od, &no) == CHORUS_OK)
            for (size_t k = 0; k < no; k++)
                if (!strcasecmp(od[k].key, "instructions")) {
                    opts[nopts].key = "instructions";
                    opts[nopts].value = sp.instructions;
                    nopts++;
                    break;
                }
    }

    struct chorus_request r = chorus_request_default();
    r.backend = backend;
    r.model = model;
    r.voice = voice;
    r.language = sp.language;
    r.text = sp.input;
    r.text_len = sp.input_len;
    r.speed = (float)sp.speed;
    r.format = fmt;
    r.sample_rate = sp.sample_rate;
    r.options = opts;
    r.n_options = nopts;
    r.flags = CHORUS_FLAG_NO_SAMPLES;
    if (sp.no_normalize) r.flags |= CHORUS_FLAG_NO_NORMALIZE;
    r.volume = (float)sp.volume;
    r.normalize_options = sp.normalize_opts[0] ? sp.normalize_opts : NULL;

    int a = srv_slot_acquire(s, q->conn, &e);
    if (a == -2) {
        srv_speech_release(&sp);
        return MHD_NO; /* the client left while queued */
    }
    if (a < 0) {
        srv_speech_release(&sp);
        return srv_send_error(q, &e);
    }
    double t_start = srv_now();
    struct chorus_stream *st = NULL;
    int rc = chorus_stream_open(s->engine, &r, &st);
    if (rc != CHORUS_OK) {
        srv_error_from_status(&e, rc, st ? chorus_stream_errmsg(st) : NULL, NULL);
        /* the format itself was checked above: what it refuses now is the requested rate */
        if (rc == CHORUS_E_FORMAT && r.sample_rate > 0) e.param = "sample_rate";
        chorus_stream_destroy(st);
        srv_slot_release(s);
        srv_speech_release(&sp);
        return srv_send_error(q, &e);
    }
    struct gen *g = calloc(1, sizeof *g);
    if (g) g->text = malloc(sp.input_len + 1);
    if (!g || !g->text) {
        if (g) free(g);
        chorus_stream_destroy(st);
        srv_slot_release(s);
        srv_speech_release(&sp);
        return MHD_NO;
    }
    memcpy(g->text, sp.input, sp.input_len);
    g->text[sp.input_len] = 0;
    g->text_len = sp.input_len;
    g->input_chars = sp.input_chars;
    g->srv = s;
    g->conn = q->conn;
    g->watch = srv_watch_of(q->conn);
    g->s = st;
    g->slot = 1;
    g->t_start = t_start;
    g->t_arrival = q->t0;
    g->format = fmt;
    g->mime = chorus_format_mime(fmt);
    g->mode = captioned ? GEN_NDJSON : sp.stream_format == SRV_STREAM_SSE ? GEN_SSE : GEN_AUDIO;
    g->return_timestamps = sp.return_timestamps;
    g->collect = !sp.stream && g->mode != GEN_SSE;
    if (g->collect && captioned) g->words = json_array();
    srv_speech_release(&sp);

    /* the first chunk before answering: early failures get a real status */
    rc = next_chunk(g, &g->first);
    if (rc == GEN_GONE) {
        g->outcome = SRV_GEN_CANCELLED;
        gen_free(g);
        return MHD_NO;
    }
    if (rc < 0) {
        srv_error_from_status(&e, rc, chorus_stream_errmsg(st), NULL);
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
    if (g->collect) return send_collected(q, g, captioned);

    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, gen_read, g, gen_free);
    if (!resp) {
        gen_free(g);
        return MHD_NO;
    }
    atomic_fetch_add(&q->refs, 1);
    g->q = q;
    if (g->mode == GEN_SSE) {
        MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    } else if (g->mode == GEN_NDJSON) {
        MHD_add_response_header(resp, "Content-Type", "application/x-ndjson");
    } else {
        MHD_add_response_header(resp, "Content-Type", g->mime);
        char cd[64];
        snprintf(cd, sizeof cd, "inline; filename=\"speech.%s\"", chorus_format_extension(fmt));
        MHD_add_response_header(resp, "Content-Disposition", cd);
    }
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "x-chorus-backend", chorus_stream_backend(st));
    if (chorus_stream_voice(st) && *chorus_stream_voice(st))
        MHD_add_response_header(resp, "x-chorus-voice", chorus_stream_voice(st));
    char rate[16];
    snprintf(rate, sizeof rate, "%d", chorus_stream_sample_rate(st));
    MHD_add_response_header(resp, "x-chorus-sample-rate", rate);
    return srv_queue(q, 200, resp);
}
