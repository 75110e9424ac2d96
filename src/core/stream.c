/*
 * stream.c — one generation: request validation, the text → engine → audio pipeline, events,
 * progress, cancellation, the push (run) and pull (receive) forms.
 *
 * Data flow for each text segment (see DESIGN.md "The pipeline"):
 *   chorus_textiter → backend synthesize(job) → sink (PCM, encoded bytes, words)
 *   → chorus_output (resample, join, shape, encode) → pending chunk → callback.
 * A chunk is delivered as soon as it holds CHUNK_SECONDS of audio (the first one at once), so
 * memory stays bounded and first audio comes fast.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audio/audio.h"
#include "core/engine.h"
#include "core/log.h"
#include "core/abi.h"
#include "core/stream_internal.h"
#include "core/util.h"
#include "text/text.h"

#define CHUNK_SECONDS 0.25

static int words_drain(struct chorus_stream *s, int final);

/* The stream's sink: what a backend (or a filter's replay) hands over becomes audio and events. */
struct stream_sink {
    struct chorus_sink base; /* first: a struct chorus_sink * is a struct stream_sink * */
    struct chorus_stream *s;
    const struct chorus_textseg *seg;
    struct chorus_job *job;
    struct chorus_decoder *dec;
    enum chorus_format dec_fmt;
    int dec_finished;
    int passthrough;
    int engine_rate;
    size_t job_chars; /* code points → bytes map built lazily for words */
};

/* ---------------------------------------------------------------- request ---- */

void chorus_request_init(struct chorus_request *r, size_t size) {
    struct chorus_request def;
    memset(&def, 0, sizeof def);
    def.speed = 1.0f;
    chorus_abi_init(r, size, &def, sizeof def);
}

/* Record the stream's first failure (a cancellation may be replaced by the real cause); the
 * message passes through the secret redactor. */
static void vfail(struct chorus_stream *s, int status, int over_cancel, const char *fmt, va_list ap) {
    if (s->status == CHORUS_OK || (over_cancel && s->status == CHORUS_E_CANCELLED)) {
        vsnprintf(s->err, sizeof s->err, fmt, ap);
        /* a stage that failed without saying why (out of memory, mostly): never an empty message */
        if (!s->err[0]) chorus_fmt(s->err, sizeof s->err, "%s", chorus_strerror(status));
        chorus_redact(s->err);
        s->status = status;
    }
}

void chorus_stream_vfail(struct chorus_stream *s, int status, const char *fmt, va_list ap) {
    vfail(s, status, 0, fmt, ap);
}

static int fail(struct chorus_stream *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct chorus_stream *s, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(s, status, 1, fmt, ap);
    va_end(ap);
    return s->status;
}

int chorus_job_fail(const struct chorus_job *job, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(job->stream, status, 0, fmt, ap);
    va_end(ap);
    return status;
}

int chorus_job_cancelled(const struct chorus_job *job) {
    return atomic_load(&job->stream->cancel) != 0;
}

const char *chorus_job_option(const struct chorus_job *job, const char *key) {
    for (size_t i = 0; i < job->n_options; i++)
        if (!strcasecmp(job->options[i].key, key)) return job->options[i].value;
    return NULL;
}

double chorus_job_option_double(const struct chorus_job *job, const char *key, double def) {
    const char *v = chorus_job_option(job, key);
    if (!v) return def;
    char *end;
    double d = strtod(v, &end);
    return (end != v && *end == 0) ? d : def;
}

static int validate_option(const struct chorus_option_desc *d, const char *value, char *err,
                           size_t errlen) {
    const char *t = d->type ? d->type : "string";
    if (!strcmp(t, "int") || !strcmp(t, "float")) {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || errno || !isfinite(v)) {
            chorus_fmt(err, errlen, "option %s wants a number, got '%s'", d->key, value);
            return 0;
        }
        if (!strcmp(t, "int") && v != floor(v)) {
            chorus_fmt(err, errlen, "option %s wants a whole number, got '%s'", d->key, value);
            return 0;
        }
        if (d->min <= d->max && (v < d->min || v > d->max)) {
            chorus_fmt(err, errlen, "option %s=%s is out of range: use %g to %g", d->key, value,
                       d->min, d->max);
            return 0;
        }
    } else if (!strcmp(t, "bool")) {
        int b;
        if (chorus_parse_bool(value, &b) < 0) {
            chorus_fmt(err, errlen, "option %s wants true or false, got '%s'", d->key, value);
            return 0;
        }
    } else if (!strcmp(t, "enum") && d->values) {
        const char *p = d->values;
        while (*p) {
            size_t n = strcspn(p, "|");
            if (strlen(value) == n && !strncasecmp(p, value, n)) return 1;
            p += n;
            if (*p == '|') p++;
        }
        chorus_fmt(err, errlen, "option %s=%s is not allowed; use one of: %s", d->key, value,
                   d->values);
        return 0;
    }
    return 1;
}

/* Unknown voice: suggest the closest ids. */
static void suggest_voices(const struct chorus_voice_list *l, const char *want, char *out,
                           size_t cap) {
    out[0] = 0;
    size_t best[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
    size_t idx[3] = {0, 0, 0};
    for (size_t i = 0; i < l->n; i++) {
        size_t d = chorus_edit_distance(want, l->v[i].id, 8);
        size_t d2 = chorus_edit_distance(want, l->v[i].name, 8);
        if (d2 < d) d = d2;
        if (strcasestr(l->v[i].id, want) || strcasestr(l->v[i].name, want)) d = d > 1 ? 1 : d;
        for (int k = 0; k < 3; k++)
            if (d < best[k]) {
                for (int j = 2; j > k; j--) best[j] = best[j - 1], idx[j] = idx[j - 1];
                best[k] = d, idx[k] = i;
                break;
            }
    }
    size_t off = 0;
    for (int k = 0; k < 3; k++) {
        if (best[k] >= 5) break;
        int n = snprintf(out + off, cap - off, "%s%s", off ? ", " : "", l->v[idx[k]].id);
        if (n < 0 || (size_t)n >= cap - off) break;
        off += (size_t)n;
    }
}

static int voice_matches(const struct chorus_voice *v, const char *want, size_t n) {
    return (strlen(v->id) == n && !strncasecmp(v->id, want, n)) ||
           (v->name && strlen(v->name) == n && !strncasecmp(v->name, want, n));
}

/* Resolve the request's voice against the backend's list (id, then name, then language;
 * "base+variant" matches on the base). */
static int resolve_voice(struct chorus_stream *s, const char *want) {
    struct chorus_backend *b = s->backend;
    const char *places[] = {b->desc->name, "voice", b->desc->name, "default_voice", NULL};
    if (!want || !*want) want = chorus_config_find(b->engine->cfg, NULL, places);
    if (!want || !*want) want = b->desc->default_voice;
    const char *alias = chorus_backend_voice_alias(b->engine->cfg, b->desc, want);
    if (alias) want = alias;
    if (!b->desc->ops->list_voices || (b->desc->flags & CHORUS_BF_ANY_VOICE)) {
        if (!want || !*want) {
            s->voice = strdup("");
        } else {
            s->voice = strdup(want);
        }
        return s->voice ? CHORUS_OK : fail(s, CHORUS_E_NOMEM, "out of memory");
    }
    struct chorus_voice_list l = {0};
    char why[512];
    int rc = chorus_backend_list_voices(b, &l, why, sizeof why);
    if (rc != CHORUS_OK) {
        chorus_voice_list_release(&l);
        return fail(s, rc, "cannot list the voices of %s: %s", b->name, why);
    }
    if (!want || !*want) want = l.n ? l.v[0].id : "";
    size_t n = strcspn(want, "+");
    const char *found = NULL;
    for (size_t i = 0; i < l.n && !found; i++)
        if (voice_matches(&l.v[i], want, strlen(want))) found = l.v[i].id;
    for (size_t i = 0; i < l.n && !found; i++)
        if (l.v[i].language && strlen(l.v[i].language) == n &&
            !strncasecmp(l.v[i].language, want, n))
            found = l.v[i].id;
    for (size_t i = 0; i < l.n && !found; i++)
        if (voice_matches(&l.v[i], want, n)) found = l.v[i].id;
    if (!found) {
        char sugg[256];
        suggest_voices(&l, want, sugg, sizeof sugg);
        fail(s, CHORUS_E_UNKNOWN_VOICE, "unknown voice '%s' for backend %s%s%s%s; run 'chorus voices -b %s' to list them",
             want, b->name, sugg[0] ? " (did you mean: " : "", sugg, sugg[0] ? "?)" : "", b->name);
        chorus_voice_list_release(&l);
        return s->status;
    }
    if (n < strlen(want) && strcasecmp(found, want)) {
        /* keep the variant */
        size_t fl = strlen(found);
        s->voice = malloc(fl + strlen(want + n) + 1);
        if (s->voice) memcpy(s->voice, found, fl), strcpy(s->voice + fl, want + n);
    } else {
        s->voice = strdup(found);
    }
    chorus_voice_list_release(&l);
    return s->voice ? CHORUS_OK : fail(s, CHORUS_E_NOMEM, "out of memory");
}

int chorus_stream_open(struct chorus_engine *e, const struct chorus_request *req,
                       struct chorus_stream **out) {
    return chorus_stream_open_internal(e, req, 0, out);
}

/* One of the request's pronunciations into s->pron_req; 0 or a failure. */
static int take_pronunciation(struct chorus_stream *s, size_t i, const struct chorus_pronunciation *p) {
    char w[80];
    snprintf(w, sizeof w, "%.60s", p->word ? p->word : "");
    chorus_utf8_sanitize(w);
    if (!p->word) return fail(s, CHORUS_E_INVALID, "pronunciation %zu has no word", i);
    if (!p->alias && !p->phonemes)
        return fail(s, CHORUS_E_INVALID, "pronunciation %zu (\"%s\") has neither an alias nor phonemes", i, w);
    int kind = chorus_pron_alphabet_kind(p->alphabet);
    if (p->phonemes && kind < 0)
        return fail(s, CHORUS_E_INVALID, "pronunciation %zu (\"%s\"): alphabet \"%.30s\" is not one "
                    "chorus speaks; use ipa (Kokoro) or x-espeak (espeak-ng)", i, w, p->alphabet);
    /* bounded reads: anything longer than the limits is refused by the checks below */
    size_t kl = strnlen(p->word, CHORUS_PRON_MAX_KEY + 1);
    const char *why = NULL;
    int rc = 0;
    if (p->phonemes)
        rc = chorus_pron_add(&s->pron_req, p->word, kl, kind, p->phonemes,
                             strnlen(p->phonemes, CHORUS_PRON_MAX_VALUE + 1), &why);
    if (!rc && p->alias)
        rc = chorus_pron_add(&s->pron_req, p->word, kl, CHORUS_PRON_ALIAS, p->alias,
                             strnlen(p->alias, CHORUS_PRON_MAX_VALUE + 1), &why);
    if (rc == CHORUS_E_NOMEM) return fail(s, CHORUS_E_NOMEM, "out of memory");
    if (rc) return fail(s, CHORUS_E_INVALID, "pronunciation %zu (\"%s\"): %s", i, w, why);
    return 0;
}

/* The request's own pronunciations, checked and copied now (a bad one fails the open). */
static int take_pronunciations(struct chorus_stream *s, const struct chorus_request *req) {
    if (!req->n_pronunciations) return 0;
    if (!req->pronunciations)
        return fail(s, CHORUS_E_INVALID, "n_pronunciations is %zu but pronunciations is NULL",
                    req->n_pronunciations);
    if (req->n_pronunciations > CHORUS_MAX_REQUEST_PRONUNCIATIONS)
        return fail(s, CHORUS_E_INVALID, "%zu pronunciations; a request takes at most %d (put "
                    "more in a [pronunciations] file)", req->n_pronunciations,
                    CHORUS_MAX_REQUEST_PRONUNCIATIONS);
    for (size_t i = 0; i < req->n_pronunciations; i++) {
        int rc = take_pronunciation(s, i, &req->pronunciations[i]);
        if (rc) return rc;
    }
    return chorus_pron_finish(&s->pron_req) ? fail(s, CHORUS_E_NOMEM, "out of memory") : 0;
}

int chorus_stream_open_internal(struct chorus_engine *e, const struct chorus_request *creq,
                                unsigned sflags, struct chorus_stream **out) {
    if (!out) return CHORUS_E_INVALID;
    *out = NULL;
    chorus_engine_clear_err(e);
    struct chorus_stream *s = calloc(1, sizeof *s);
    if (!s) {
        /* no stream to hold the message: the engine's channel has it */
        chorus_engine_set_err(e, "out of memory opening a stream");
        return CHORUS_E_NOMEM;
    }
    pthread_mutex_init(&s->qmu, NULL);
    /* timed waits (chorus_stream_receive) count on the monotonic clock: a step of the wall
     * clock neither stalls nor cuts them short */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->qcv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&s->cancel, 0);
    s->engine = e;
    *out = s;
    if (!e || !creq) return fail(s, CHORUS_E_INVALID, "no engine or request given");
    struct chorus_request rq = chorus_request_default();
    char err[1024];
    if (chorus_abi_read(&rq, sizeof rq, creq, CHORUS_REQUEST_MIN, "chorus_request", err, sizeof err))
        return fail(s, CHORUS_E_INVALID, "%s", err);
    const struct chorus_request *req = &rq;
    if (req->flags & ~CHORUS_FLAG_PUBLIC_MASK)
        return fail(s, CHORUS_E_INVALID,
                    "request flags 0x%x include bits this library does not know (0x%x): use the "
                    "CHORUS_FLAG_* of the chorus.h this library was built with",
                    req->flags, req->flags & ~CHORUS_FLAG_PUBLIC_MASK);

    s->callback = req->callback;
    s->userdata = req->userdata;
    s->flags = req->flags | sflags;
    if (s->flags & CHORUS_FLAG_SEEKABLE_OUTPUT) s->flags |= CHORUS_SFLAG_FILE_OUTPUT;
    s->input = req->input;
    s->speed = req->speed > 0 ? req->speed : 1.0f;
    if (!(s->speed >= 0.25f && s->speed <= 4.0f))
        return fail(s, CHORUS_E_INVALID, "speed %g is out of range: use 0.25 to 4.0", (double)s->speed);

    /* text */
    if (!req->text) return fail(s, CHORUS_E_EMPTY_TEXT, "no text given: pass the text to speak");
    s->text_len = req->text_len ? req->text_len : strlen(req->text);
    size_t bad;
    if (!chorus_utf8_valid(req->text, s->text_len, &bad))
        return fail(s, CHORUS_E_BAD_UTF8,
                    "text is not valid UTF-8 (first bad byte at offset %zu); convert it to UTF-8, e.g. with iconv",
                    bad);
    if (s->text_len == 0 || chorus_text_is_blank(req->text, s->text_len))
        return fail(s, CHORUS_E_EMPTY_TEXT, "text is empty or only whitespace: nothing to speak");
    s->text = chorus_strndup(req->text, s->text_len);
    if (!s->text) return fail(s, CHORUS_E_NOMEM, "out of memory");

    /* backend */
    const char *bname = req->backend && *req->backend ? req->backend : chorus_engine_default_backend(e);
    int rc = chorus_engine_backend(e, bname, &s->backend, err, sizeof err);
    if (rc != CHORUS_OK) return fail(s, rc, "%s", err);
    struct chorus_probe why;
    if (!(sflags & CHORUS_SFLAG_NO_PROBE) && !chorus_backend_probe(s->backend, &why))
        return fail(s, CHORUS_E_UNAVAILABLE, "backend %s cannot run: %s", s->backend->name, why.reason);
    const struct chorus_backend_desc *d = s->backend->desc;
    if (s->input == CHORUS_INPUT_PHONEMES && !(d->caps & CHORUS_CAP_PHONEMES))
        return fail(s, CHORUS_E_INVALID, "backend %s does not take phoneme input", d->name);

    /* options */
    if (req->n_options) {
        s->options = calloc(req->n_options, sizeof *s->options);
        if (!s->options) return fail(s, CHORUS_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < req->n_options; i++) {
        const struct chorus_option *o = &req->options[i];
        if (!o->key || !o->value) return fail(s, CHORUS_E_OPTION, "option %zu has no key or value", i);
        const struct chorus_option_desc *od = NULL;
        for (size_t k = 0; d->options && d->options[k].key; k++)
            if (!strcasecmp(d->options[k].key, o->key)) od = &d->options[k];
        if (!od) {
            char known[512] = "";
            size_t off = 0;
            for (size_t k = 0; d->options && d->options[k].key && off + 1 < sizeof known; k++) {
                int n = snprintf(known + off, sizeof known - off, "%s%s", k ? ", " : "", d->options[k].key);
                if (n > 0) off += (size_t)n;
            }
            return fail(s, CHORUS_E_OPTION, "backend %s has no option '%s'%s%s", d->name, o->key,
                        known[0] ? "; its options: " : " (it takes none)", known);
        }
        if (!validate_option(od, o->value, err, sizeof err)) return fail(s, CHORUS_E_OPTION, "%s", err);
        s->options[i].key = strdup(od->key);
        s->options[i].value = strdup(o->value);
        s->n_options++;
        if (!s->options[i].key || !s->options[i].value) return fail(s, CHORUS_E_NOMEM, "out of memory");
    }

    /* format and rate */
    s->format = req->format == CHORUS_FORMAT_DEFAULT ? CHORUS_FORMAT_WAV : req->format;
    if ((int)s->format < 0 || s->format >= CHORUS_FORMAT_COUNT_)
        return fail(s, CHORUS_E_FORMAT, "invalid output format %d", (int)req->format);
    if (!chorus_format_supported(s->format))
        return fail(s, CHORUS_E_FORMAT, "output format %s is not available in this build%s",
                    chorus_format_name(s->format),
                    s->format == CHORUS_FORMAT_AAC && !CHORUS_WITH_AAC
                        ? ": chorus was built with CHORUS_WITH_AAC=OFF (no libavcodec); rebuild "
                          "with cmake -DCHORUS_WITH_AAC=ON, or choose wav, mp3, opus, flac or pcm"
                        : "");
    rc = chorus_format_pick_rate(s->format, req->sample_rate, d->sample_rate, &s->out_rate, err, sizeof err);
    if (rc != CHORUS_OK) return fail(s, rc, "%s", err);
    s->req_rate = req->sample_rate;

    if (!(req->volume >= 0.0f && req->volume <= 64.0f))
        return fail(s, CHORUS_E_INVALID, "volume %g is out of range: use 0 to 64", (double)req->volume);
    s->volume = req->volume;
    if (req->normalize_options) {
        /* validate now, so a bad flag is an open() error rather than a mid-stream one */
        struct chorus_norm_options no;
        chorus_norm_options_default(&no);
        if (chorus_norm_options_parse(&no, req->normalize_options, err, sizeof err) < 0)
            return fail(s, CHORUS_E_OPTION, "%s", err);
        s->normalize_options = strdup(req->normalize_options);
        if (!s->normalize_options) return fail(s, CHORUS_E_NOMEM, "out of memory");
    }
    rc = take_pronunciations(s, req);
    if (rc) return rc;
    s->model = chorus_strdup(req->model);
    s->language = chorus_strdup(req->language);
    if ((req->model && !s->model) || (req->language && !s->language)) return fail(s, CHORUS_E_NOMEM, "out of memory");
    rc = resolve_voice(s, req->voice);
    if (rc != CHORUS_OK) return rc;
    s->opened = 1;
    return CHORUS_OK;
}

/* ---------------------------------------------------------------- events ---- */

static int emit(struct chorus_stream *s, const struct chorus_event *ev) {
    if (!s->callback) return 0;
    int r = s->callback(ev, s->userdata);
    if (r) {
        atomic_store(&s->cancel, 1);
        return CHORUS_E_CANCELLED;
    }
    return 0;
}

static int emit_progress(struct chorus_stream *s, size_t done) {
    if (done > s->text_len) done = s->text_len;
    if (done < s->chars_done) done = s->chars_done;
    s->chars_done = done;
    struct chorus_progress p = {0};
    p.chars_done = done;
    p.chars_total = s->text_len;
    p.percent = s->text_len ? 100.0 * (double)done / (double)s->text_len : 100.0;
    double el = chorus_now() - s->t_start;
    p.eta_seconds = done ? el * (double)(s->text_len - done) / (double)done : -1.0;
    p.audio_seconds = (double)s->samples_out / (double)s->out_rate;
    if (s->cur_seg) {
        p.current_text = s->text + s->cur_seg->src_offset;
        p.current_len = s->cur_seg->src_len;
    }
    struct chorus_event ev = {.type = CHORUS_EVENT_PROGRESS, .progress = &p};
    return emit(s, &ev);
}

/* Deliver the pending chunk (samples, bytes, words), if it holds anything. */
static int flush_chunk(struct chorus_stream *s, int force) {
    if (!force && s->pend_n < (size_t)(CHUNK_SECONDS * s->out_rate) && s->chunk_index > 0)
        return 0;
    if (s->pend_n == 0 && s->pend_bytes.len == 0 && s->pend_nwords == 0) return 0;
    struct chorus_chunk c = {0};
    c.index = s->chunk_index++;
    c.samples = (s->flags & CHORUS_FLAG_NO_SAMPLES) ? NULL : s->pend;
    c.n_samples = s->pend_n;
    c.sample_rate = s->out_rate;
    c.data = (const unsigned char *)s->pend_bytes.p;
    c.data_len = s->pend_bytes.len;
    c.start_time = (double)s->samples_out / (double)s->out_rate;
    if (s->cur_seg) {
        c.text_offset = s->cur_seg->src_offset;
        c.text_len = s->cur_seg->src_len;
    }
    c.words = s->pend_words;
    c.n_words = s->pend_nwords;
    struct chorus_event ev = {.type = CHORUS_EVENT_CHUNK, .chunk = &c};
    int rc = emit(s, &ev);
    s->samples_out += s->pend_n;
    s->pend_n = 0;
    s->pend_bytes.len = 0;
    s->pend_nwords = 0;
    if (rc) return rc;
    return emit_progress(s, s->word_done > (s->cur_seg ? s->cur_seg->src_offset : 0)
                                ? s->word_done
                                : (s->cur_seg ? s->cur_seg->src_offset : 0));
}

/* output chain callbacks: final PCM and encoded bytes */
static int on_out_pcm(void *ud, const float *x, size_t n, int rate) {
    struct chorus_stream *s = ud;
    (void)rate;
    if (s->pend_n + n > s->pend_cap) {
        size_t nc = s->pend_cap ? s->pend_cap : 4096;
        while (nc < s->pend_n + n) nc *= 2;
        float *p = realloc(s->pend, nc * sizeof *p);
        if (!p) return CHORUS_E_NOMEM;
        s->pend = p;
        s->pend_cap = nc;
    }
    memcpy(s->pend + s->pend_n, x, n * sizeof *x);
    s->pend_n += n;
    return 0;
}

static int on_out_bytes(void *ud, const unsigned char *data, size_t n) {
    struct chorus_stream *s = ud;
    return chorus_buf_append(&s->pend_bytes, data, n) < 0 ? CHORUS_E_NOMEM : 0;
}

static int check_cancel(struct chorus_stream *s) {
    if (atomic_load(&s->cancel)) {
        if (s->status == CHORUS_OK) s->status = CHORUS_E_CANCELLED;
        return CHORUS_E_CANCELLED;
    }
    return 0;
}

/* ---------------------------------------------------------------- sink ---- */

static int sink_pcm(struct stream_sink *k, const float *x, size_t n, int rate) {
    struct chorus_stream *s = k->s;
    if (check_cancel(s)) return CHORUS_E_CANCELLED;
    if (rate <= 0) return chorus_job_fail(k->job, CHORUS_E_BACKEND, "backend %s gave audio without a sample rate", s->backend->name);
    if (s->engine_rate && rate != s->engine_rate)
        return chorus_job_fail(k->job, CHORUS_E_BACKEND,
                               "backend %s changed its sample rate mid-stream (%d to %d Hz)",
                               s->backend->name, s->engine_rate, rate);
    s->engine_rate = rate;
    int rc = chorus_output_pcm(s->out, x, n, rate);
    if (rc) return fail(s, rc < 0 ? rc : CHORUS_E_BACKEND, "audio output failed: %s", chorus_output_errmsg(s->out));
    if ((rc = words_drain(s, 0))) return rc;
    rc = flush_chunk(s, 0);
    if (rc) return check_cancel(s) ? CHORUS_E_CANCELLED : fail(s, rc, "cannot deliver audio: %s", chorus_strerror(rc));
    return check_cancel(s);
}

static int ss_pcm_f32(struct chorus_sink *sk, const float *x, size_t n, int sample_rate) {
    return sink_pcm((struct stream_sink *)sk, x, n, sample_rate);
}

static int ss_pcm_s16(struct chorus_sink *sk, const int16_t *x, size_t n, int sample_rate) {
    struct stream_sink *k = (struct stream_sink *)sk;
    float tmp[2048];
    while (n) {
        size_t m = n < 2048 ? n : 2048;
        chorus_pcm_s16_to_f32(x, tmp, m);
        int rc = sink_pcm(k, tmp, m, sample_rate);
        if (rc) return rc;
        x += m;
        n -= m;
    }
    return check_cancel(k->s);
}

static int on_decoded(void *ud, const float *x, size_t n, int rate) {
    return sink_pcm(ud, x, n, rate);
}

static int ss_encoded(struct chorus_sink *sk, enum chorus_format fmt, const void *data,
                      size_t n) {
    struct stream_sink *k = (struct stream_sink *)sk;
    struct chorus_stream *s = k->s;
    if (check_cancel(s)) return CHORUS_E_CANCELLED;
    if (k->passthrough && fmt == s->format && (s->flags & CHORUS_FLAG_NO_SAMPLES)) {
        /* bytes go to the caller untouched (single job, same format, no samples wanted) */
        s->passthrough_used = 1;
        if (chorus_buf_append(&s->pend_bytes, data, n) < 0) return CHORUS_E_NOMEM;
        int rc = chorus_stream_emit_raw_chunk(s);
        return rc ? rc : check_cancel(s);
    }
    if (!k->dec) {
        char err[256] = "";
        int rc = chorus_decoder_create(&k->dec, fmt, 0, on_decoded, k, err, sizeof err);
        if (rc) return chorus_job_fail(k->job, rc, "cannot decode %s audio from %s: %s",
                                       chorus_format_name(fmt), s->backend->name, err);
        k->dec_fmt = fmt;
    } else if (fmt != k->dec_fmt) {
        return chorus_job_fail(k->job, CHORUS_E_BACKEND, "backend %s mixed audio formats in one job", s->backend->name);
    }
    int rc = chorus_decoder_feed(k->dec, data, n);
    if (rc && !s->status) return chorus_job_fail(k->job, rc, "cannot decode %s audio from %s", chorus_format_name(fmt), s->backend->name);
    return rc ? rc : check_cancel(s);
}

/* Emit one placed word: an event now, and a place in the pending chunk. */
static int word_out(struct chorus_stream *s, struct chorus_word w) {
    if (w.start < s->last_word_start) w.start = s->last_word_start; /* keep monotonic */
    if (w.end < w.start) w.end = w.start;
    s->last_word_start = w.start;
    if (s->pend_nwords == s->pend_wcap) {
        size_t nc = s->pend_wcap ? s->pend_wcap * 2 : 16;
        struct chorus_word *p = realloc(s->pend_words, nc * sizeof *p);
        if (!p) return CHORUS_E_NOMEM;
        s->pend_words = p;
        s->pend_wcap = nc;
    }
    s->pend_words[s->pend_nwords++] = w;
    if (w.text_offset + w.text_len > s->word_done) s->word_done = w.text_offset + w.text_len;
    struct chorus_event ev = {.type = CHORUS_EVENT_WORD, .word = &w};
    emit(s, &ev);
    return check_cancel(s);
}

/* Place the segment's queued words once the output knows where the segment starts. A word
 * leaves when the next one bounds it (its end never runs past the next word's start) or, with
 * `final`, at the segment's end, bounded by where the segment's sound ends. */
static int words_drain(struct chorus_stream *s, int final) {
    if (!s->segw_n || (!final && !chorus_output_segment_placed(s->out))) return 0;
    double base = chorus_output_segment_start(s->out);
    double div = (double)s->speed_time_div;
    double first = chorus_output_segment_audible_start(s->out);
    double stop = chorus_output_segment_audible_end(s->out);
    size_t n = final ? s->segw_n : s->segw_n - 1, i;
    int rc = 0;
    for (i = 0; i < n && !rc; i++) {
        const struct seg_word *q = &s->segw[i];
        struct chorus_word w = {.text_offset = q->a, .text_len = q->b - q->a};
        w.start = base + (q->start < 0 ? 0 : q->start) / div;
        w.end = base + (q->end < q->start ? q->start : q->end) / div;
        double bound = i + 1 < s->segw_n ? base + s->segw[i + 1].start / div : stop;
        if (w.end > bound) w.end = bound;
        if (w.start < first) w.start = first; /* an engine's word can begin in trimmed quiet */
        if (w.end < first) w.end = first;
        if (final && w.start > stop) w.start = stop;
        rc = word_out(s, w);
    }
    memmove(s->segw, s->segw + i, (s->segw_n - i) * sizeof *s->segw);
    s->segw_n -= i;
    return rc;
}

static int ss_word(struct chorus_sink *sk, size_t off, size_t len, double start, double end) {
    struct stream_sink *k = (struct stream_sink *)sk;
    struct chorus_stream *s = k->s;
    const struct chorus_textseg *seg = k->seg;
    if (off > seg->len) return 0;
    if (off + len > seg->len) len = seg->len - off;
    size_t a = seg->map[off], b = seg->map[off + len];
    /* normalized text maps several output bytes into one input span: end at the first output
     * byte after the word that maps past its start */
    for (size_t j = off + len; b <= a && j < seg->len; j++) b = seg->map[j + 1];
    if (b < a) b = a;
    for (int tag = 1; tag;) {
        while (b > a && (s->text[b - 1] == ' ' || s->text[b - 1] == '\n' || s->text[b - 1] == '\t' ||
                         s->text[b - 1] == '\r'))
            b--;
        /* SSML: a word that ends where an element closes (</phoneme>, </sub>) ends before it */
        size_t t = b;
        tag = s->input == CHORUS_INPUT_SSML && b > a && s->text[b - 1] == '>';
        while (tag && t > a && s->text[t - 1] != '<') t--;
        tag = tag && t > a + 1;
        if (tag) b = t - 1;
    }
    struct seg_word *last = s->segw_n ? &s->segw[s->segw_n - 1] : NULL;
    if (last && last->a == a) {
        /* the spoken words of one written token ("$12.50" -> "twelve dollars fifty cents")
         * are one entry: the token's span, from its first spoken word to its last */
        if (b > last->b) last->b = b;
        if (end > last->end) last->end = end;
        return check_cancel(s);
    }
    if (s->segw_n == s->segw_cap) {
        size_t nc = s->segw_cap ? s->segw_cap * 2 : 16;
        struct seg_word *p = realloc(s->segw, nc * sizeof *p);
        if (!p) return CHORUS_E_NOMEM;
        s->segw = p;
        s->segw_cap = nc;
    }
    s->segw[s->segw_n++] = (struct seg_word){a, b, start, end};
    int rc = words_drain(s, 0);
    return rc ? rc : check_cancel(s);
}

static int ss_mark(struct chorus_sink *sk, const char *name, double time) {
    struct stream_sink *k = (struct stream_sink *)sk;
    struct chorus_stream *s = k->s;
    struct chorus_event ev = {.type = CHORUS_EVENT_MARK, .mark_name = name,
                              .mark_time = chorus_output_segment_start(s->out) + time};
    emit(s, &ev);
    return check_cancel(s);
}

static const struct chorus_sink_ops stream_sink_ops = {ss_pcm_f32, ss_pcm_s16, ss_encoded, ss_word,
                                                       ss_mark};

/* What backends call: dispatch to whichever sink they were handed. */
int chorus_sink_pcm_f32(struct chorus_sink *k, const float *x, size_t n, int sample_rate) {
    return k->ops->pcm_f32(k, x, n, sample_rate);
}
int chorus_sink_pcm_s16(struct chorus_sink *k, const int16_t *x, size_t n, int sample_rate) {
    return k->ops->pcm_s16(k, x, n, sample_rate);
}
int chorus_sink_encoded(struct chorus_sink *k, enum chorus_format fmt, const void *data, size_t n) {
    return k->ops->encoded(k, fmt, data, n);
}
int chorus_sink_word(struct chorus_sink *k, size_t off, size_t len, double start, double end) {
    return k->ops->word(k, off, len, start, end);
}
int chorus_sink_mark(struct chorus_sink *k, const char *name, double time) {
    return k->ops->mark(k, name, time);
}

/* ---------------------------------------------------------------- segments ---- */

int chorus_stream_pronounce(struct chorus_stream *s, const struct chorus_textseg *seg,
                            struct chorus_textbuf *buf, struct chorus_textseg *out) {
    *out = *seg;
    const struct chorus_pron *dicts[2] = {&s->pron_req, &s->engine->pron};
    if (seg->is_ssml || s->input == CHORUS_INPUT_PHONEMES || seg->len == 0) return 0;
    if (!s->pron_req.n && !s->engine->pron.n && !seg->n_spans) return 0;
    int rc = chorus_pron_rewrite(buf, seg->text, seg->len, seg->map, dicts, 2, seg->spans,
                                 seg->n_spans, (enum chorus_pron_notation)s->backend->desc->notation);
    if (rc < 0) return CHORUS_E_NOMEM;
    if (rc > 0) {
        out->text = buf->text;
        out->len = buf->len;
        out->map = buf->map;
    }
    return 0;
}

int chorus_seg_copy_take(struct seg_copy *c, const struct chorus_textseg *src) {
    memset(c, 0, sizeof *c);
    c->seg = *src;
    c->text = chorus_strndup(src->text ? src->text : "", src->len);
    c->map = malloc((src->len + 1) * sizeof *c->map);
    if (!c->text || !c->map) goto oom;
    if (src->map) memcpy(c->map, src->map, (src->len + 1) * sizeof *c->map);
    else
        for (size_t i = 0; i <= src->len; i++) c->map[i] = src->src_offset + (i < src->src_len ? i : src->src_len);
    if (src->voice) {
        c->voice = strdup(src->voice);
        if (!c->voice) goto oom;
    }
    if (src->n_marks) {
        c->marks = calloc(src->n_marks, sizeof *c->marks);
        if (!c->marks) goto oom;
        for (size_t i = 0; i < src->n_marks; i++)
            if (!(c->marks[i] = strdup(src->marks[i]))) goto oom;
    }
    c->seg.text = c->text;
    c->seg.map = c->map;
    c->seg.voice = c->voice;
    c->seg.marks = (const char *const *)c->marks;
    return 0;
oom:
    chorus_seg_copy_release(c);
    return CHORUS_E_NOMEM;
}

void chorus_seg_copy_release(struct seg_copy *c) {
    free(c->text);
    free(c->map);
    free(c->voice);
    if (c->marks)
        for (size_t i = 0; i < c->seg.n_marks; i++) free(c->marks[i]);
    free(c->marks);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- run ---- */

/* What the text before a join ends with: the pause it calls for. */
enum join_kind { JOIN_WORD, JOIN_CLAUSE, JOIN_SENTENCE };

static int ends_with_seq(const char *t, size_t n, const char *seq) {
    size_t k = strlen(seq);
    return n >= k && memcmp(t + n - k, seq, k) == 0;
}

static enum join_kind text_join_kind(const char *t, size_t n) {
    static const char *const closers[] = {")", "]", "}", "\"", "'", "\xE2\x80\x9D", "\xE2\x80\x99", "\xC2\xBB", NULL};
    static const char *const sentence[] = {".", "!", "?", "\xE2\x80\xA6", "\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F", NULL};
    static const char *const clause[] = {",", ";", ":", "\xE2\x80\x94", "\xE2\x80\x93", "\xE3\x80\x81", "\xEF\xBC\x8C", "\xEF\xBC\x9B", " -", NULL};
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\n' || t[n - 1] == '\t' || t[n - 1] == '\r')) n--;
    for (int again = 1; again;) { /* step back over closing quotes and brackets */
        again = 0;
        for (const char *const *c = closers; *c; c++)
            if (ends_with_seq(t, n, *c)) {
                n -= strlen(*c);
                again = 1;
                break;
            }
    }
    for (const char *const *c = sentence; *c; c++)
        if (ends_with_seq(t, n, *c)) return JOIN_SENTENCE;
    for (const char *const *c = clause; *c; c++)
        if (ends_with_seq(t, n, *c)) return JOIN_CLAUSE;
    return JOIN_WORD;
}

/* The engine's natural sentence/clause pause at `speed`: its measured table, interpolated
 * (config [BACKEND] sentence_pause_ms / clause_pause_ms, at speed 1, override it), else the
 * core's defaults divided by the speed. */
static double engine_pause(const struct chorus_stream *s, enum join_kind kind, float speed) {
    const struct chorus_backend_desc *d = s->backend->desc;
    const char *key = kind == JOIN_SENTENCE ? "sentence_pause_ms" : "clause_pause_ms";
    double ms = chorus_config_double(s->engine->cfg, d->name, key, -1);
    if (ms >= 0) return ms / 1000.0 / speed;
    const struct chorus_pause_point *p = d->pauses;
    if (!p || !p[0].speed) return (kind == JOIN_SENTENCE ? 0.35 : 0.2) / speed;
    size_t i = 0;
    while (p[i + 1].speed && p[i + 1].speed <= speed) i++;
    const struct chorus_pause_point *a = &p[i], *b = p[i + 1].speed ? &p[i + 1] : &p[i];
    double va = kind == JOIN_SENTENCE ? a->sentence_ms : a->clause_ms;
    double vb = kind == JOIN_SENTENCE ? b->sentence_ms : b->clause_ms;
    if (speed <= a->speed || b == a) return va / 1000.0; /* outside the table: its end value */
    double f = (speed - a->speed) / (b->speed - a->speed);
    return (va + (vb - va) * f) / 1000.0;
}

/* The silence between the previous segment's last sound and this one's first: an explicit
 * pause (SSML <break>, a paragraph) stands for itself, else the pause the text calls for. */
static double join_pause(const struct chorus_stream *s, const struct chorus_textseg *seg, float speed) {
    double text = s->last_join == JOIN_WORD ? 0.0 : engine_pause(s, (enum join_kind)s->last_join, speed);
    if (!(seg->pause_before > 0)) return text;
    if (s->input == CHORUS_INPUT_SSML) return seg->pause_before;
    /* a paragraph: at least a sentence's pause, scaled like one */
    double para = seg->pause_before / speed, sent = engine_pause(s, JOIN_SENTENCE, speed);
    return para > sent ? para : sent;
}

/* Finish the job's decoder (encoded audio) once: the last samples go out, or the error. */
static int finish_decoder(struct stream_sink *k, const struct chorus_job *job, int rc) {
    struct chorus_stream *s = k->s;
    if (!k->dec || k->dec_finished) return rc;
    k->dec_finished = 1;
    if (rc != CHORUS_OK) return rc;
    int r2 = chorus_decoder_finish(k->dec);
    if (r2 && !s->status) return chorus_job_fail(job, r2, "cannot decode the audio from %s", s->backend->name);
    return r2;
}

/* The backend itself: wait for its limiter, synthesize into `out`, finish the decoding. The
 * result is CHORUS_OK only if the job ended well (see chorus_job_produce_fn). */
static int produce_backend(struct chorus_stream *s, struct chorus_job *job, struct stream_sink *k,
                           struct chorus_sink *out) {
    struct chorus_limiter *bl = s->backend->limiter;
    if (bl) {
        int rc = chorus_limiter_acquire(bl, &s->cancel, NULL);
        if (rc) return check_cancel(s) ? CHORUS_E_CANCELLED : rc;
    }
    struct chorus_op op;
    chorus_op_begin(&op, NULL, 0, s);
    int rc = s->backend->desc->ops->synthesize(s->backend, job, out);
    chorus_op_end(&op);
    if (bl) chorus_limiter_release(bl);
    rc = finish_decoder(k, job, rc);
    if (rc == CHORUS_OK && s->status) rc = s->status;
    if (rc == CHORUS_OK && atomic_load(&s->cancel)) rc = CHORUS_E_CANCELLED;
    return rc;
}

/* The job filters (src/filters.def) around the backend, outermost first: level i runs filter
 * i (when its engine state is on) with level i + 1 as what produces the job. */
struct filter_level {
    struct chorus_stream *s;
    struct chorus_job *job;
    struct stream_sink *sink;
    size_t i;
    struct filter_level *all;
};

static int produce_at(void *ud, struct chorus_sink *out) {
    struct filter_level *l = ud;
    struct chorus_stream *s = l->s;
    for (size_t i = l->i; i < CHORUS_N_JOB_FILTERS; i++) {
        void *st = s->engine->filter_state[i];
        if (st)
            return chorus_job_filters[i]->run(st, s->backend, l->job, s->flags, out, produce_at,
                                              &l->all[i + 1]);
    }
    return produce_backend(s, l->job, l->sink, out);
}

static int run_segment(struct chorus_stream *s, const struct chorus_textseg *seg, unsigned index,
                       const struct chorus_textseg *next) {
    int is_last = next == NULL;
    int rc = 0;
    s->cur_seg = seg;
    float speed = s->speed * (seg->rate > 0 ? seg->rate : 1.0f);
    if (index > 0 && seg->len > 0) {
        rc = chorus_output_join(s->out, join_pause(s, seg, speed));
    } else if (seg->pause_before > 0) {
        rc = chorus_output_silence(s->out, seg->pause_before);
    }
    if (rc) return fail(s, rc, "audio output failed: %s", chorus_output_errmsg(s->out));
    s->segw_n = 0;
    for (size_t i = 0; i < seg->n_marks; i++) {
        struct chorus_event ev = {.type = CHORUS_EVENT_MARK, .mark_name = seg->marks[i],
                                  .mark_time = chorus_output_time(s->out)};
        if (emit(s, &ev)) return check_cancel(s);
    }
    if (seg->len == 0) return 0;
    /* what the engine speaks: the text with its pronunciations, mapped to the same words */
    struct chorus_textseg rs;
    if (chorus_stream_pronounce(s, seg, &s->pron_buf, &rs)) return fail(s, CHORUS_E_NOMEM, "out of memory");
    size_t lim = s->backend->desc->max_input_chars, chars = 0;
    for (size_t i = 0; lim && rs.text != seg->text && i < rs.len; i++)
        chars += ((unsigned char)rs.text[i] & 0xC0) != 0x80;
    if (lim && chars > lim)
        return fail(s, CHORUS_E_TOO_LONG, "the pronunciations make a part of the text %zu characters "
                    "long, over %s's limit of %zu per call; use shorter aliases", chars,
                    s->backend->name, lim);
    struct chorus_job job = {0};
    job.text = rs.text;
    job.len = rs.len;
    job.input = seg->is_ssml ? CHORUS_INPUT_SSML : (s->input == CHORUS_INPUT_PHONEMES ? CHORUS_INPUT_PHONEMES : CHORUS_INPUT_TEXT);
    job.voice = seg->voice && *seg->voice ? seg->voice : s->voice;
    job.model = s->model;
    job.language = s->language ? s->language : seg->language; /* xml:lang or detected */
    job.speed = speed;
    job.pitch = seg->pitch > 0 ? seg->pitch : 1.0f;
    job.volume = seg->volume > 0 ? seg->volume : 1.0f;
    job.options = s->options;
    job.n_options = s->n_options;
    job.want_format = s->format;
    job.want_rate = s->req_rate;
    job.index = index;
    job.is_first = index == 0;
    job.is_last = is_last;
    job.passthrough_ok = job.is_first && is_last && s->req_rate == 0 &&
                         (s->flags & CHORUS_FLAG_NO_SAMPLES) && !(s->flags & CHORUS_SFLAG_FILE_OUTPUT);
    job.stream = s;
    if (next && !next->is_ssml && next->len > 0) job.next_text = next->text, job.next_len = next->len;
    struct stream_sink sink = {.base = {&stream_sink_ops}, .s = s, .seg = &rs, .job = &job,
                               .passthrough = job.passthrough_ok};
    s->speed_time_div = 1.0f; /* engines report times in their own (already sped-up) audio */

    rc = chorus_output_segment_begin(s->out);
    if (rc) return fail(s, rc, "audio output failed: %s", chorus_output_errmsg(s->out));
    struct filter_level levels[CHORUS_N_JOB_FILTERS + 1];
    for (size_t i = 0; i <= CHORUS_N_JOB_FILTERS; i++)
        levels[i] = (struct filter_level){s, &job, &sink, i, levels};
    rc = produce_at(&levels[0], &sink.base);
    /* a replayed job's encoded audio is finished here (a produced one already was) */
    if (rc == CHORUS_OK) rc = finish_decoder(&sink, &job, rc);
    chorus_decoder_destroy(sink.dec);
    if (check_cancel(s)) return CHORUS_E_CANCELLED;
    if (rc) {
        if (s->status == CHORUS_OK) fail(s, rc, "backend %s failed: %s", s->backend->name, chorus_strerror(rc));
        return s->status;
    }
    if (s->status) return s->status;
    rc = chorus_output_segment_end(s->out);
    if (rc) return fail(s, rc, "audio output failed: %s", chorus_output_errmsg(s->out));
    s->last_join = text_join_kind(seg->text, seg->len);
    return words_drain(s, 1);
}

int chorus_stream_emit_raw_chunk(struct chorus_stream *s) {
    struct chorus_chunk c = {0};
    c.index = s->chunk_index++;
    c.sample_rate = s->out_rate;
    c.data = (const unsigned char *)s->pend_bytes.p;
    c.data_len = s->pend_bytes.len;
    if (s->cur_seg) c.text_offset = s->cur_seg->src_offset, c.text_len = s->cur_seg->src_len;
    struct chorus_event ev = {.type = CHORUS_EVENT_CHUNK, .chunk = &c};
    int rc = emit(s, &ev);
    s->pend_bytes.len = 0;
    return rc;
}

/* A loudness target the peak ceiling does not allow is capped: say so, with what was reached.
 * Only when the limits really held the gain back in a quarter of the speech or more: a short
 * clip can end below its target while the gain is still ramping, which is no cap. */
static void warn_loudness(const struct chorus_stream *s, double target) {
    double got = chorus_output_loudness_reached(s->out);
    if (target == 0.0 || got == 0.0 || got >= target - 1.0) return;
    if (chorus_output_loudness_capped(s->out) < 0.25) return;
    CHORUS_LOGW("loudness target %g dBFS for %s was not reached: the audio reached %.1f dBFS, "
                "held back by the -1 dBFS peak limit (or the +24 dB gain limit); set loudness_db "
                "to %.0f or lower in [%s] (or [chorus]) of the config to avoid the cap",
                target, s->backend->name, got, floor(got), s->backend->name);
}

static int run_pipeline(struct chorus_stream *s) {
    const struct chorus_backend_desc *d = s->backend->desc;
    char err[512] = "";
    struct chorus_text_config tc = {0};
    /* [BACKEND] max_chunk_chars can only lower the engine's own limit */
    tc.max_chars = d->max_input_chars;
    double mc = chorus_config_double(s->engine->cfg, d->name, "max_chunk_chars", 0);
    if (mc >= 1 && (tc.max_chars == 0 || (size_t)mc < tc.max_chars)) tc.max_chars = (size_t)mc;
    tc.first_chars = d->first_chunk_chars;
    tc.first_clause = (d->flags & CHORUS_BF_FIRST_CLAUSE) != 0;
    /* aliases may make a chunk longer: keep a quarter of an engine's limit for them */
    if (tc.max_chars && (s->pron_req.n || s->engine->pron.n)) tc.max_chars -= tc.max_chars / 4;
    /* SSML emulated for an engine without it is normalized too (numbers between tags) */
    tc.normalize = !(s->flags & CHORUS_FLAG_NO_NORMALIZE) && s->input != CHORUS_INPUT_PHONEMES;
    tc.ssml_native = (d->caps & CHORUS_CAP_SSML) != 0;
    tc.paragraph_pause = -1;
    tc.language = s->language;
    tc.normalize_options = s->normalize_options;
    /* phonemes are chunked like text (at spaces and punctuation), never normalized; the jobs
     * still say CHORUS_INPUT_PHONEMES */
    enum chorus_input_kind kind = s->input == CHORUS_INPUT_PHONEMES ? CHORUS_INPUT_TEXT : s->input;
    int rc = chorus_textiter_create(&s->iter, s->text, s->text_len, kind, &tc, err, sizeof err);
    if (rc) return fail(s, rc < 0 ? rc : CHORUS_E_INVALID, "%s", err[0] ? err : "cannot read the text");

    struct chorus_output_opts oo = {0};
    oo.format = s->format;
    oo.sample_rate = s->out_rate;
    oo.enc.seekable = (s->flags & CHORUS_SFLAG_FILE_OUTPUT) != 0;
    oo.enc.compression = -1;
    oo.volume = s->volume;
    /* joins and shaping: [BACKEND] then [chorus] crossfade_ms, fade_ms, trim_silence,
     * loudness_db, then the backend's own defaults */
    const struct chorus_config *cfg = s->engine->cfg;
    const char *bn = d->name;
    oo.crossfade_ms = chorus_config_double(cfg, bn, "crossfade_ms",
                          chorus_config_double(cfg, "chorus", "crossfade_ms", d->crossfade_ms > 0 ? d->crossfade_ms : -1));
    oo.fade_ms = chorus_config_double(cfg, bn, "fade_ms", chorus_config_double(cfg, "chorus", "fade_ms", -1));
    oo.trim_silence = chorus_config_bool(cfg, bn, "trim_silence", chorus_config_bool(cfg, "chorus", "trim_silence", 0));
    oo.loudness_db = chorus_config_double(cfg, bn, "loudness_db",
                                          chorus_config_double(cfg, "chorus", "loudness_db", d->loudness_db));
    rc = chorus_output_create(&s->out, &oo, on_out_pcm, on_out_bytes, s, err, sizeof err);
    if (rc) return fail(s, rc, "%s", err);

    /* one segment of lookahead tells each job whether it is the last */
    struct chorus_textseg cur, next;
    int have = chorus_textiter_next(s->iter, &cur);
    if (have < 0) return fail(s, have, "%s", chorus_textiter_errmsg(s->iter));
    if (have == 0 && s->input == CHORUS_INPUT_TEXT)
        return fail(s, CHORUS_E_EMPTY_TEXT, "the text has nothing to speak once normalized (only symbols?)");
    /* the iterator owns segment storage until the next call: copy the current one */
    unsigned index = 0;
    while (have > 0) {
        struct seg_copy cp;
        rc = chorus_seg_copy_take(&cp, &cur);
        if (rc) return fail(s, CHORUS_E_NOMEM, "out of memory");
        int more = chorus_textiter_next(s->iter, &next);
        if (more < 0) {
            chorus_seg_copy_release(&cp);
            return fail(s, more, "%s", chorus_textiter_errmsg(s->iter));
        }
        rc = run_segment(s, &cp.seg, index++, more > 0 ? &next : NULL);
        if (!rc) rc = emit_progress(s, cp.seg.src_offset + cp.seg.src_len);
        s->cur_seg = NULL;
        chorus_seg_copy_release(&cp);
        if (rc) return check_cancel(s) ? CHORUS_E_CANCELLED : rc;
        cur = next;
        have = more;
    }
    rc = chorus_output_finish(s->out);
    if (rc) return fail(s, rc, "audio output failed: %s", chorus_output_errmsg(s->out));
    warn_loudness(s, oo.loudness_db);
    rc = flush_chunk(s, 1);
    if (rc) return check_cancel(s) ? CHORUS_E_CANCELLED : rc;
    return emit_progress(s, s->text_len);
}

/* The engine refused a slot: say why and what to do. */
static void busy_message(struct chorus_stream *s, int why) {
    struct chorus_limiter_stats st;
    chorus_limiter_stats(s->engine->limiter, &st);
    if (why == CHORUS_LIMIT_TIMED_OUT)
        fail(s, CHORUS_E_BUSY,
             "the engine is busy: no generation slot came free within %d ms (%d run at once); "
             "retry later, or raise [chorus] max_concurrent or queue_timeout_ms",
             st.timeout_ms, st.max);
    else
        fail(s, CHORUS_E_BUSY,
             "the engine is busy: %d generations are running and %d are waiting (the queue is "
             "full); retry shortly, or raise [chorus] max_concurrent or max_queue",
             st.max, st.max_queue);
}

int chorus_stream_run(struct chorus_stream *s) {
    if (!s) return CHORUS_E_INVALID;
    if (!s->opened) return s->status ? s->status : CHORUS_E_INVALID;
    if (s->ran) return fail(s, CHORUS_E_INVALID, "stream already ran; open a new one");
    s->ran = 1;
    s->t_start = chorus_now();
    struct chorus_limiter *gl = s->engine->limiter;
    int why = 0;
    int rc = chorus_limiter_acquire(gl, &s->cancel, &why);
    int have_slot = rc == CHORUS_OK;
    if (rc == CHORUS_E_BUSY) busy_message(s, why);
    if (have_slot) {
        struct chorus_event ev = {.type = CHORUS_EVENT_STARTED};
        rc = emit(s, &ev);
        if (!rc) rc = run_pipeline(s);
    }
    if (atomic_load(&s->cancel)) rc = CHORUS_E_CANCELLED;
    /* the terminal event comes while the slot is still held, so "between STARTED and the last
     * event" is exactly when a stream counts against the limit */
    struct chorus_event ev = {0};
    if (rc == CHORUS_E_CANCELLED) {
        s->status = CHORUS_E_CANCELLED;
        if (!strstr(s->err, "cancel")) chorus_fmt(s->err, sizeof s->err, "cancelled");
        ev.type = CHORUS_EVENT_CANCELLED;
        ev.status = CHORUS_E_CANCELLED;
        ev.message = s->err;
    } else if (rc) {
        if (!s->status) fail(s, rc, "%s", chorus_strerror(rc));
        rc = s->status;
        ev.type = CHORUS_EVENT_ERROR;
        ev.status = s->status;
        ev.message = s->err;
    } else {
        ev.type = CHORUS_EVENT_DONE;
    }
    if (s->callback) s->callback(&ev, s->userdata);
    if (have_slot) chorus_limiter_release(gl);
    chorus_textiter_destroy(s->iter);
    s->iter = NULL;
    return rc;
}

void chorus_stream_cancel(struct chorus_stream *s) {
    if (!s) return;
    atomic_store(&s->cancel, 1);
    /* wake any limiter wait and any pull-mode wait (a stream whose open failed may have no
     * engine or backend) */
    if (s->engine) chorus_limiter_wake(s->engine->limiter);
    if (s->backend && s->backend->limiter) chorus_limiter_wake(s->backend->limiter);
    pthread_mutex_lock(&s->qmu);
    pthread_cond_broadcast(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
}

const char *chorus_stream_errmsg(const struct chorus_stream *s) {
    return s ? s->err : "no stream";
}

const char *chorus_stream_backend(const struct chorus_stream *s) {
    return s && s->backend ? s->backend->name : NULL;
}

const char *chorus_stream_voice(const struct chorus_stream *s) {
    return s ? s->voice : NULL;
}

int chorus_stream_sample_rate(const struct chorus_stream *s) {
    return s ? s->out_rate : 0;
}

void chorus_stream_destroy(struct chorus_stream *s) {
    if (!s) return;
    if (s->worker_started) {
        chorus_stream_cancel(s);
        pthread_join(s->worker, NULL);
    }
    for (size_t i = 0; i < s->qn; i++) chorus_chunk_free(s->queue[(s->qhead + i) % QUEUE_MAX_ALLOC]);
    chorus_output_destroy(s->out);
    chorus_textiter_destroy(s->iter);
    for (size_t i = 0; i < s->n_options; i++) {
        free(s->options[i].key);
        free(s->options[i].value);
    }
    free(s->options);
    free(s->text);
    free(s->voice);
    free(s->model);
    free(s->language);
    free(s->normalize_options);
    chorus_pron_free(&s->pron_req);
    chorus_textbuf_free(&s->pron_buf);
    free(s->pend);
    free(s->pend_words);
    free(s->segw);
    chorus_buf_release(&s->pend_bytes);
    pthread_mutex_destroy(&s->qmu);
    pthread_cond_destroy(&s->qcv);
    free(s);
}
