/* textstream.c — speak text while it arrives (include/chorus/textstream.h), built on the public
 * stream API: the unspoken remainder is scanned once for certain sentence ends; each complete
 * sentence becomes one chorus stream whose events are moved onto the text stream's offsets and
 * clock before they reach the caller. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chorus/textstream.h"
#include "core/util.h"

#define FIRST_CLAUSE_BYTES 100   /* before any audio: a clause this long is spoken alone */
#define MAX_PENDING_BYTES 16384  /* no sentence end by then: speak up to the last space */
/* Silence between sentences spoken as separate requests (at speed 1; PCM and WAV output): an
 * engine ends a request a few milliseconds after the last word, where inside one request it
 * would pause as the punctuation asks (espeak-ng: ~0.3 s after a sentence). */
#define PAUSE_SENTENCE 0.30
#define PAUSE_PARAGRAPH 0.60
#define PAUSE_CLAUSE 0.15

struct chorus_textstream {
    struct chorus_engine *e;
    struct chorus_request req; /* strings below are our copies */
    char *backend, *model, *voice, *language, *normopts;
    struct chorus_pronunciation *prons; /* the request's, copied (strings owned) */
    struct chorus_option *opts;
    chorus_callback cb;
    void *ud;
    enum chorus_format format; /* what the caller asked for */
    char *pending;             /* text appended but not spoken */
    size_t plen, pcap, scan;
    size_t base;     /* offset of pending[0] in everything appended */
    size_t appended; /* bytes appended */
    size_t seg_base; /* offset of the sentence being spoken */
    double clock;    /* seconds of audio delivered before the current sentence */
    double seg_end;  /* end of the current sentence's audio, on its own clock */
    int rate, started, spoke, header_sent, done;
    double pause_due; /* seconds of silence the last boundary calls for */
    double cut_pause; /* set by find_cut for the cut it returns */
    atomic_int cancelled;
    pthread_mutex_t mu;
    struct chorus_stream *cur;
    struct chorus_word words[64];
    char err[1024];
};

static int ts_fail(struct chorus_textstream *ts, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ts_fail(struct chorus_textstream *ts, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ts->err, sizeof ts->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- where a sentence ends ---- */

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Closing marks after a terminator: quotes and brackets, ASCII or the common UTF-8 ones. */
static size_t closer_len(const char *p, size_t n) {
    if (n >= 1 && strchr("\"')]}", p[0]) && p[0]) return 1;
    if (n >= 3 && (unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 &&
        ((unsigned char)p[2] == 0x9D || (unsigned char)p[2] == 0x99))
        return 3; /* ” ’ */
    if (n >= 2 && (unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xBB) return 2; /* » */
    return 0;
}

static size_t terminator_len(const char *p, size_t n) {
    if (p[0] == '.' || p[0] == '!' || p[0] == '?') return 1;
    if (n >= 3 && (unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 &&
        (unsigned char)p[2] == 0xA6)
        return 3; /* … */
    return 0;
}

/* "Dr." "e.g." "J." — a full stop that does not end a sentence. */
static int abbreviation(const char *p, size_t dot) {
    size_t s = dot;
    while (s > 0 && ((p[s - 1] >= 'A' && p[s - 1] <= 'Z') || (p[s - 1] >= 'a' && p[s - 1] <= 'z')))
        s--;
    size_t wl = dot - s;
    if (wl == 1 && p[s] >= 'A' && p[s] <= 'Z') return 1; /* an initial */
    if (s > 0 && p[s - 1] == '.') return 1;             /* e.g. i.e. U.S. */
    static const char *const abbr[] = {"mr", "mrs", "ms", "dr", "st", "mt", "jr", "sr", "vs",
                                       "prof", "rev", "gen", "col", "lt", "sgt", "capt", "no",
                                       "fig", "vol", "etc", "approx", "inc", "ltd", "co", NULL};
    for (const char *const *a = abbr; *a; a++)
        if (strlen(*a) == wl && strncasecmp(p + s, *a, wl) == 0) return 1;
    return 0;
}

/* The length of pending text that is certainly complete (0: none yet). Resumes at ts->scan. */
static size_t find_cut(struct chorus_textstream *ts, int final) {
    const char *p = ts->pending;
    size_t n = ts->plen, i = ts->scan;
    for (; i < n; i++) {
        size_t t = terminator_len(p + i, n - i);
        if (t) {
            size_t j = i + t;
            while (j < n && (terminator_len(p + j, n - j) || closer_len(p + j, n - j)))
                j += terminator_len(p + j, n - j) ? terminator_len(p + j, n - j)
                                                  : closer_len(p + j, n - j);
            if (j == n) break; /* more closers or the space may follow: wait */
            if (!is_space((unsigned char)p[j])) continue; /* 3.5, U.S.A, example.com */
            size_t k = j;
            while (k < n && is_space((unsigned char)p[k])) k++;
            if (k == n) {
                if (final) return n;
                break; /* the next word decides */
            }
            unsigned char c = (unsigned char)p[k];
            if (c >= 'a' && c <= 'z') continue; /* "e.g. this", "etc. and" */
            if (p[i] == '.' && t == 1 && abbreviation(p, i) && !(c == '\n')) continue;
            ts->cut_pause = PAUSE_SENTENCE;
            return k;
        }
        if (p[i] == '\n') { /* a blank line ends a paragraph */
            size_t k = i + 1;
            while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r')) k++;
            if (k < n && p[k] == '\n') {
                ts->cut_pause = PAUSE_PARAGRAPH;
                return k + 1;
            }
            if (k == n) break;
        }
        if (!ts->spoke && i >= FIRST_CLAUSE_BYTES && (p[i] == ',' || p[i] == ';' || p[i] == ':') &&
            i + 1 < n && is_space((unsigned char)p[i + 1])) {
            ts->cut_pause = PAUSE_CLAUSE;
            return i + 2;
        }
    }
    if (i == n) { /* a UTF-8 sequence cut at the end may be a terminator: look at it again */
        size_t lead = n;
        while (lead > 0 && n - lead < 3 && ((unsigned char)p[lead - 1] & 0xC0) == 0x80) lead--;
        if (lead > 0 && ((unsigned char)p[lead - 1] & 0xC0) == 0xC0) {
            unsigned char c = (unsigned char)p[lead - 1];
            size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (n - (lead - 1) < need) i = lead - 1;
        }
    }
    ts->scan = i;
    ts->cut_pause = 0;
    if (final) return n;
    if (n > MAX_PENDING_BYTES) { /* no end in sight: the last space, else a UTF-8 boundary */
        size_t k = MAX_PENDING_BYTES;
        while (k > MAX_PENDING_BYTES / 2 && !is_space((unsigned char)p[k - 1])) k--;
        if (k == MAX_PENDING_BYTES / 2)
            for (k = MAX_PENDING_BYTES; k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80; k--) {}
        return k;
    }
    return 0;
}

/* ---- events of one sentence, moved onto the stream's offsets and clock ---- */

static void wav_header(unsigned char *h, int rate) {
    static const unsigned char t[44] = {'R', 'I', 'F', 'F', 0xFF, 0xFF, 0xFF, 0xFF, 'W', 'A', 'V',
                                        'E', 'f', 'm', 't', ' ', 16,   0,    0,    0,    1,   0,
                                        1,   0,   0,   0,   0,   0,   0,   0,   0,   0,   2,   0,
                                        16,  0,   'd', 'a', 't', 'a', 0xFF, 0xFF, 0xFF, 0xFF};
    memcpy(h, t, 44);
    unsigned br = (unsigned)rate * 2;
    for (int k = 0; k < 4; k++) {
        h[24 + k] = (unsigned char)((unsigned)rate >> (8 * k));
        h[28 + k] = (unsigned char)(br >> (8 * k));
    }
}

static int forward(struct chorus_textstream *ts, const struct chorus_event *ev) {
    if (!ts->cb) return 0;
    int r = ts->cb(ev, ts->ud);
    if (r) atomic_store(&ts->cancelled, 1);
    return r;
}

static int on_chunk(struct chorus_textstream *ts, const struct chorus_chunk *c) {
    struct chorus_chunk cc = *c;
    unsigned char *buf = NULL;
    if (c->sample_rate > 0) {
        if (!ts->rate) ts->rate = c->sample_rate;
        double end = c->start_time + (double)c->n_samples / c->sample_rate;
        if (end > ts->seg_end) ts->seg_end = end;
    }
    cc.text_offset += ts->seg_base;
    cc.start_time += ts->clock;
    size_t nw = c->n_words < 64 ? c->n_words : 64;
    for (size_t k = 0; k < nw; k++) {
        ts->words[k] = c->words[k];
        ts->words[k].text_offset += ts->seg_base;
        ts->words[k].start += ts->clock;
        ts->words[k].end += ts->clock;
    }
    cc.words = nw ? ts->words : NULL;
    cc.n_words = nw;
    if (ts->format == CHORUS_FORMAT_WAV && !ts->header_sent) { /* one header, unknown length */
        buf = malloc(44 + c->data_len);
        if (!buf) return 1;
        wav_header(buf, ts->rate ? ts->rate : c->sample_rate);
        if (c->data_len) memcpy(buf + 44, c->data, c->data_len);
        cc.data = buf;
        cc.data_len = 44 + c->data_len;
        ts->header_sent = 1;
    }
    struct chorus_event ev = {.type = CHORUS_EVENT_CHUNK, .chunk = &cc};
    int r = forward(ts, &ev);
    free(buf);
    return r;
}

static int on_event(const struct chorus_event *ev, void *ud) {
    struct chorus_textstream *ts = ud;
    if (atomic_load(&ts->cancelled)) return 1;
    switch (ev->type) {
    case CHORUS_EVENT_STARTED:
        if (ts->started) return 0;
        ts->started = 1;
        return forward(ts, ev);
    case CHORUS_EVENT_CHUNK: return on_chunk(ts, ev->chunk);
    case CHORUS_EVENT_WORD: {
        struct chorus_word w = *ev->word;
        w.text_offset += ts->seg_base;
        w.start += ts->clock;
        w.end += ts->clock;
        if (w.end > ts->clock + ts->seg_end) ts->seg_end = w.end - ts->clock;
        struct chorus_event e2 = *ev;
        e2.word = &w;
        return forward(ts, &e2);
    }
    case CHORUS_EVENT_PROGRESS: {
        struct chorus_progress p = *ev->progress;
        p.chars_done += ts->seg_base;
        p.chars_total = ts->appended;
        p.percent = p.chars_total ? 100.0 * p.chars_done / p.chars_total : 0;
        p.audio_seconds += ts->clock;
        struct chorus_event e2 = *ev;
        e2.progress = &p;
        return forward(ts, &e2);
    }
    case CHORUS_EVENT_MARK: {
        struct chorus_event e2 = *ev;
        e2.mark_time += ts->clock;
        return forward(ts, &e2);
    }
    default: return 0; /* DONE/ERROR/CANCELLED of one sentence: the text stream sends its own */
    }
}

/* ---- speaking ---- */

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_space((unsigned char)s[i])) return 0;
    return 1;
}

/* The pause the previous boundary called for, as a chunk of silence (PCM and WAV only). */
static int emit_pause(struct chorus_textstream *ts) {
    double secs = ts->pause_due / (ts->req.speed > 0 ? ts->req.speed : 1.0f);
    ts->pause_due = 0;
    if (secs <= 0 || !ts->rate || !ts->spoke ||
        (ts->format != CHORUS_FORMAT_PCM && ts->format != CHORUS_FORMAT_WAV))
        return 0;
    size_t n = (size_t)(secs * ts->rate);
    float *z = calloc(n, sizeof *z);
    unsigned char *b = calloc(n, 2);
    int r = 1;
    if (z && b) {
        struct chorus_chunk c = {.samples = z, .n_samples = n, .sample_rate = ts->rate,
                                 .data = b, .data_len = 2 * n, .text_offset = ts->base,
                                 .start_time = 0};
        double keep = ts->clock;
        ts->seg_base = 0;
        ts->clock = keep;
        ts->seg_end = 0;
        r = on_chunk(ts, &c);
        ts->clock = keep + ts->seg_end;
    }
    free(z);
    free(b);
    return r;
}

static int speak(struct chorus_textstream *ts, size_t cut) {
    int rc = CHORUS_OK;
    double pause_after = ts->cut_pause;
    if (!blank(ts->pending, cut) && emit_pause(ts)) rc = CHORUS_E_CANCELLED;
    if (!rc && !blank(ts->pending, cut)) {
        struct chorus_request r = ts->req;
        r.text = ts->pending;
        r.text_len = cut;
        r.callback = on_event;
        r.userdata = ts;
        ts->seg_base = ts->base;
        ts->seg_end = 0;
        struct chorus_stream *s = NULL;
        rc = chorus_stream_open(ts->e, &r, &s);
        if (rc == CHORUS_OK) {
            pthread_mutex_lock(&ts->mu);
            ts->cur = s;
            int cancel = atomic_load(&ts->cancelled);
            pthread_mutex_unlock(&ts->mu);
            rc = cancel ? CHORUS_E_CANCELLED : chorus_stream_run(s);
            pthread_mutex_lock(&ts->mu);
            ts->cur = NULL;
            pthread_mutex_unlock(&ts->mu);
        }
        if (rc != CHORUS_OK && rc != CHORUS_E_CANCELLED)
            ts_fail(ts, rc, "%s", s ? chorus_stream_errmsg(s) : chorus_strerror(rc));
        chorus_stream_destroy(s);
        ts->clock += ts->seg_end;
        ts->spoke = 1;
        ts->pause_due = pause_after;
    }
    memmove(ts->pending, ts->pending + cut, ts->plen - cut);
    ts->plen -= cut;
    ts->base += cut;
    ts->scan = 0;
    if (atomic_load(&ts->cancelled)) rc = CHORUS_E_CANCELLED;
    return rc;
}

static int end_with(struct chorus_textstream *ts, int rc) {
    if (ts->done) return rc;
    ts->done = 1;
    struct chorus_event ev = {.type = rc == CHORUS_OK            ? CHORUS_EVENT_DONE
                                      : rc == CHORUS_E_CANCELLED ? CHORUS_EVENT_CANCELLED
                                                                 : CHORUS_EVENT_ERROR,
                              .status = rc, .message = ts->err};
    if (rc == CHORUS_E_CANCELLED && !ts->err[0]) ts_fail(ts, rc, "cancelled");
    if (ts->cb) ts->cb(&ev, ts->ud);
    return rc;
}

static int drain(struct chorus_textstream *ts, int final) {
    size_t cut;
    while (ts->plen && (cut = find_cut(ts, final)) > 0) {
        int rc = speak(ts, cut);
        if (rc) return end_with(ts, rc);
    }
    return CHORUS_OK;
}

int chorus_textstream_append(struct chorus_textstream *ts, const char *text, size_t len) {
    if (!ts) return CHORUS_E_INVALID;
    if (ts->done) return ts_fail(ts, CHORUS_E_INVALID, "the text stream has ended");
    if (!text && len) return ts_fail(ts, CHORUS_E_INVALID, "no text given");
    if (atomic_load(&ts->cancelled)) return end_with(ts, CHORUS_E_CANCELLED);
    if (memchr(text, 0, len))
        return end_with(ts, ts_fail(ts, CHORUS_E_INVALID, "the text contains a NUL byte"));
    if (ts->plen + len + 1 > ts->pcap) {
        size_t cap = ts->pcap ? ts->pcap : 256;
        while (cap < ts->plen + len + 1) cap *= 2;
        char *p = realloc(ts->pending, cap);
        if (!p) return end_with(ts, ts_fail(ts, CHORUS_E_NOMEM, "out of memory"));
        ts->pending = p;
        ts->pcap = cap;
    }
    if (len) memcpy(ts->pending + ts->plen, text, len);
    ts->plen += len;
    ts->appended += len;
    return drain(ts, 0);
}

int chorus_textstream_finish(struct chorus_textstream *ts) {
    if (!ts) return CHORUS_E_INVALID;
    if (ts->done) return ts_fail(ts, CHORUS_E_INVALID, "the text stream has ended");
    int rc = drain(ts, 1);
    return ts->done ? rc : end_with(ts, CHORUS_OK);
}

void chorus_textstream_cancel(struct chorus_textstream *ts) {
    if (!ts) return;
    pthread_mutex_lock(&ts->mu);
    atomic_store(&ts->cancelled, 1);
    if (ts->cur) chorus_stream_cancel(ts->cur);
    pthread_mutex_unlock(&ts->mu);
}

const char *chorus_textstream_errmsg(const struct chorus_textstream *ts) {
    return ts ? ts->err : "";
}
int chorus_textstream_sample_rate(const struct chorus_textstream *ts) {
    return ts ? (ts->rate ? ts->rate : ts->req.sample_rate) : 0;
}
void chorus_textstream_position(const struct chorus_textstream *ts, size_t *appended,
                                size_t *spoken) {
    if (appended) *appended = ts ? ts->appended : 0;
    if (spoken) *spoken = ts ? ts->base : 0;
}

static void free_copies(struct chorus_textstream *ts) {
    for (size_t i = 0; ts->opts && i < ts->req.n_options; i++) {
        free((char *)ts->opts[i].key);
        free((char *)ts->opts[i].value);
    }
    free(ts->opts);
    free(ts->backend);
    free(ts->model);
    free(ts->voice);
    free(ts->language);
    free(ts->normopts);
    for (size_t i = 0; ts->prons && i < ts->req.n_pronunciations; i++) {
        free((char *)ts->prons[i].word);
        free((char *)ts->prons[i].alias);
        free((char *)ts->prons[i].phonemes);
        free((char *)ts->prons[i].alphabet);
    }
    free(ts->prons);
}

/* The request's pronunciations outlive the caller's array: copy them (the stream checks them). */
static int copy_prons(struct chorus_textstream *ts, const struct chorus_request *req) {
    size_t n = req->pronunciations ? req->n_pronunciations : 0;
    if (n > CHORUS_MAX_REQUEST_PRONUNCIATIONS) n = CHORUS_MAX_REQUEST_PRONUNCIATIONS + 1; /* refused later */
    ts->req.n_pronunciations = 0;
    ts->req.pronunciations = NULL;
    if (!n) return CHORUS_OK;
    if (!(ts->prons = calloc(n, sizeof *ts->prons))) return CHORUS_E_NOMEM;
    ts->req.pronunciations = ts->prons;
    for (size_t i = 0; i < n; i++) {
        const struct chorus_pronunciation *p = &req->pronunciations[i];
        struct chorus_pronunciation *c = &ts->prons[i];
        ts->req.n_pronunciations = i + 1;
        c->word = chorus_strdup(p->word);
        c->alias = chorus_strdup(p->alias);
        c->phonemes = chorus_strdup(p->phonemes);
        c->alphabet = chorus_strdup(p->alphabet);
        if ((p->word && !c->word) || (p->alias && !c->alias) || (p->phonemes && !c->phonemes) ||
            (p->alphabet && !c->alphabet))
            return CHORUS_E_NOMEM;
    }
    return CHORUS_OK;
}

static int copy_request(struct chorus_textstream *ts, const struct chorus_request *req) {
    ts->req = *req;
    ts->backend = chorus_strdup(req->backend);
    ts->model = chorus_strdup(req->model);
    ts->voice = chorus_strdup(req->voice);
    ts->language = chorus_strdup(req->language);
    ts->normopts = chorus_strdup(req->normalize_options);
    if ((req->backend && !ts->backend) || (req->model && !ts->model) ||
        (req->voice && !ts->voice) || (req->language && !ts->language) ||
        (req->normalize_options && !ts->normopts))
        return CHORUS_E_NOMEM;
    if (req->n_options) {
        ts->opts = calloc(req->n_options, sizeof *ts->opts);
        if (!ts->opts) return CHORUS_E_NOMEM;
        for (size_t i = 0; i < req->n_options; i++) {
            ts->opts[i].key = chorus_strdup(req->options[i].key);
            ts->opts[i].value = chorus_strdup(req->options[i].value);
            if (!ts->opts[i].key || !ts->opts[i].value) return CHORUS_E_NOMEM;
        }
    }
    ts->req.backend = ts->backend;
    ts->req.model = ts->model;
    ts->req.voice = ts->voice;
    ts->req.language = ts->language;
    ts->req.normalize_options = ts->normopts;
    ts->req.options = ts->opts;
    ts->req.text = NULL;
    ts->req.text_len = 0;
    ts->req.flags &= ~(unsigned)CHORUS_FLAG_NO_SAMPLES; /* samples give each sentence's length */
    return copy_prons(ts, req);
}

int chorus_textstream_open(struct chorus_engine *e, const struct chorus_request *req,
                           struct chorus_textstream **out) {
    if (!out) return CHORUS_E_INVALID;
    struct chorus_textstream *ts = calloc(1, sizeof *ts);
    *out = ts;
    if (!ts) return CHORUS_E_NOMEM;
    pthread_mutex_init(&ts->mu, NULL);
    atomic_init(&ts->cancelled, 0);
    if (!e || !req) return ts_fail(ts, CHORUS_E_INVALID, "no engine or request given");
    if (req->input != CHORUS_INPUT_TEXT)
        return ts_fail(ts, CHORUS_E_INVALID, "a text stream takes plain text (not SSML or phonemes)");
    enum chorus_format f = req->format ? req->format : CHORUS_FORMAT_WAV;
    if (f == CHORUS_FORMAT_OPUS || f == CHORUS_FORMAT_FLAC)
        return ts_fail(ts, CHORUS_E_FORMAT,
                       "%s cannot be continued sentence by sentence; a text stream gives pcm, "
                       "wav, mp3 or aac",
                       chorus_format_name(f));
    int rc = copy_request(ts, req);
    if (rc) return rc;
    ts->e = e;
    ts->cb = req->callback;
    ts->ud = req->userdata;
    ts->format = f;
    ts->req.format = f == CHORUS_FORMAT_WAV ? CHORUS_FORMAT_PCM : f; /* our one header instead */
    return CHORUS_OK;
}

void chorus_textstream_destroy(struct chorus_textstream *ts) {
    if (!ts) return;
    free_copies(ts);
    free(ts->pending);
    pthread_mutex_destroy(&ts->mu);
    free(ts);
}
