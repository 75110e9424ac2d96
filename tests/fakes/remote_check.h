/*
 * remote_check.h — helpers for the remote backend tests: an engine without config, a request
 * run through the public API collecting audio, words and the error, a log capture that checks
 * no line ever holds a key, and JSON access to the fake's request log.
 */
#ifndef CHORUS_REMOTE_CHECK_H
#define CHORUS_REMOTE_CHECK_H

#include <jansson.h>
#include <pthread.h>

#include "chorus/chorus.h"
#include "fake_spawn.h"

struct run {
    /* in */
    const char *backend, *voice, *model, *text;
    enum chorus_format format;
    struct chorus_option opts[8];
    size_t n_opts;
    unsigned flags;
    int sample_rate;
    /* out */
    int rc;
    char err[1024];
    unsigned char *bytes;
    size_t n_bytes, cap;
    float *pcm;
    size_t n_pcm, cap_pcm;
    int rate;
    struct chorus_word words[2048];
    size_t n_words;
    int done, errors;
};

static __attribute__((unused)) int run_cb(const struct chorus_event *ev, void *ud) {
    struct run *r = ud;
    if (ev->type == CHORUS_EVENT_CHUNK) {
        const struct chorus_chunk *c = ev->chunk;
        if (r->n_bytes + c->data_len > r->cap) {
            r->cap = (r->n_bytes + c->data_len) * 2 + 4096;
            r->bytes = realloc(r->bytes, r->cap);
        }
        if (c->data_len) memcpy(r->bytes + r->n_bytes, c->data, c->data_len);
        r->n_bytes += c->data_len;
        if (c->samples && c->n_samples) {
            if (r->n_pcm + c->n_samples > r->cap_pcm) {
                r->cap_pcm = (r->n_pcm + c->n_samples) * 2 + 4096;
                r->pcm = realloc(r->pcm, r->cap_pcm * sizeof *r->pcm);
            }
            memcpy(r->pcm + r->n_pcm, c->samples, c->n_samples * sizeof *r->pcm);
            r->n_pcm += c->n_samples;
        }
        if (c->sample_rate) r->rate = c->sample_rate;
    } else if (ev->type == CHORUS_EVENT_WORD) {
        if (r->n_words < 2048) r->words[r->n_words++] = *ev->word;
    } else if (ev->type == CHORUS_EVENT_DONE) {
        r->done++;
    } else if (ev->type == CHORUS_EVENT_ERROR) {
        r->errors++;
    }
    return 0;
}

static __attribute__((unused)) struct chorus_engine *remote_engine(void) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    if (chorus_engine_create(&e, &o) != CHORUS_OK) return NULL;
    return e;
}

static __attribute__((unused)) void run_opt(struct run *r, const char *k, const char *v) {
    if (r->n_opts < 8) {
        r->opts[r->n_opts].key = k;
        r->opts[r->n_opts].value = v;
        r->n_opts++;
    }
}

/* Run r on engine e (shared engines share the backend instances and their limits). */
static __attribute__((unused)) int run_request_on(struct chorus_engine *e, struct run *r) {
    struct chorus_request q = chorus_request_default();
    q.backend = r->backend;
    q.voice = r->voice;
    q.model = r->model;
    q.text = r->text;
    q.format = r->format ? r->format : CHORUS_FORMAT_WAV;
    q.sample_rate = r->sample_rate;
    q.options = r->opts;
    q.n_options = r->n_opts;
    q.flags = r->flags | CHORUS_FLAG_NO_CACHE;
    q.callback = run_cb;
    q.userdata = r;
    struct chorus_stream *s = NULL;
    r->rc = chorus_stream_open(e, &q, &s);
    if (r->rc == CHORUS_OK) r->rc = chorus_stream_run(s);
    snprintf(r->err, sizeof r->err, "%s", s ? chorus_stream_errmsg(s) : "");
    chorus_stream_destroy(s);
    return r->rc;
}

/* Run r through a fresh engine (the environment is read when the backend opens). */
static __attribute__((unused)) int run_request(struct run *r) {
    struct chorus_engine *e = remote_engine();
    if (!e) {
        r->rc = CHORUS_E_INVALID;
        snprintf(r->err, sizeof r->err, "engine create failed");
        return r->rc;
    }
    run_request_on(e, r);
    chorus_engine_destroy(e);
    return r->rc;
}

static __attribute__((unused)) void run_free(struct run *r) {
    free(r->bytes);
    free(r->pcm);
    r->bytes = NULL;
    r->pcm = NULL;
}

static __attribute__((unused)) double run_seconds(const struct run *r) {
    return r->rate ? (double)r->n_pcm / r->rate : 0;
}

static __attribute__((unused)) double run_rms(const struct run *r) {
    double s = 0;
    for (size_t i = 0; i < r->n_pcm; i++) s += (double)r->pcm[i] * r->pcm[i];
    return r->n_pcm ? sqrt(s / (double)r->n_pcm) : 0;
}

/* The fake's request log as a JSON array of objects (caller json_decref's). */
static __attribute__((unused)) json_t *fake_log_json(const struct fake *f) {
    char *s = fake_requests(f);
    json_t *arr = json_array();
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (o) json_array_append_new(arr, o);
        if (!nl) break;
        line = nl + 1;
    }
    free(s);
    return arr;
}

/* Log capture: every line the library logs, checked for a secret. */
static pthread_mutex_t logcap_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *logcap_secret;
static int logcap_lines, logcap_leaks;
static __attribute__((unused)) void logcap_fn(enum chorus_log_level level, const char *msg, void *ud) {
    (void)level, (void)ud;
    pthread_mutex_lock(&logcap_mu);
    logcap_lines++;
    if (logcap_secret && strstr(msg, logcap_secret)) logcap_leaks++;
    pthread_mutex_unlock(&logcap_mu);
}
static __attribute__((unused)) void logcap_start(const char *secret) {
    logcap_secret = secret;
    chorus_set_log(logcap_fn, NULL, CHORUS_LOG_DEBUG);
}

#endif
