/*
 * openai.c — the `openai` backend: POST {base}/audio/speech (../shared/specs/providers.md §1).
 *
 * The base URL (OPENAI_BASE_URL or config) makes it drive any OpenAI-compatible server:
 * Kokoro-FastAPI, the Chatterbox servers, AllTalk's /v1 endpoint, chorus's own server. Against
 * the official API a key is required; against another server it is sent only when set.
 *
 * Formats: when the core can pass bytes through (single job, the caller wants encoded bytes), the
 * caller's format is requested natively and handed on untouched; otherwise `wav` is requested
 * (every compatible server can make it) and read into PCM for the core to join, resample and
 * encode. stream_format=sse (gpt-4o-mini-tts) is parsed: base64 deltas, usage at the end, an
 * `event: error` frame (a bare Error object), and travisvn's speech.audio.info (raw PCM
 * deltas). Errors are classified by error.param/code, not by message wording; retries follow
 * openai-python (_base_client.py _should_retry): x-should-retry first, then 408, 409, 429
 * (not insufficient_quota) and 5xx. `instructions` is refused only for tts-1 and tts-1-hd (the
 * spec: "Does not work with tts-1 or tts-1-hd"). Checked against openai/openai-openapi f85dbe2
 * and openai-python e43b422 (docs/backends/openai.md).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "chorus/chorus.h"
#include "core/backend.h"
#include "core/config.h"
#include "core/log.h"
#include "net/net.h"
#include "remote/remote.h"
#include "text/text.h"

#define OPENAI_DEFAULT_BASE "https://api.openai.com/v1"

struct openai_priv {
    char key[512];
    char base[512];
    char org[128];
    char project[128];
    char model[64];
    int official; /* base is api.openai.com: key required, strict field rules */
    struct chorus_http_pool *pool; /* connections reused across chunks and retries */
};

static const char *const builtin_voices[] = {"alloy", "ash",     "ballad", "coral", "echo",
                                             "fable", "onyx",    "nova",   "sage",  "shimmer",
                                             "verse", "marin",   "cedar"};

static const struct chorus_option_desc openai_options[] = {
    {"instructions", "string", NULL, 1, 0, NULL,
     "how to speak (tone, accent, pace); gpt-4o-mini-tts only"},
    {"stream_format", "enum", "audio", 1, 0, "audio|sse",
     "sse: server-sent events with base64 audio deltas and token usage (not tts-1/tts-1-hd)"},
    CHORUS_REMOTE_OPTIONS,
    {NULL, NULL, NULL, 0, 0, NULL, NULL}};

static int openai_open(struct chorus_backend *b, const struct chorus_config *cfg) {
    struct openai_priv *p = b->priv;
    const char *key_places[] = {"openai", "api_key", "api_settings.openai", "api_key",
                                "openai_api", "api_key", "API", "openai_api_key",
                                "app_tts", "OPENAI_API_KEY_fallback", NULL};
    chorus_remote_setting(cfg, "OPENAI_API_KEY", key_places, p->key, sizeof p->key);
    if (p->key[0]) chorus_secret_register(p->key);
    const char *base_places[] = {"openai", "base_url", "app_tts", "OPENAI_BASE_URL", NULL};
    if (!chorus_remote_setting(cfg, "OPENAI_BASE_URL", base_places, p->base, sizeof p->base))
        snprintf(p->base, sizeof p->base, "%s", OPENAI_DEFAULT_BASE);
    /* the prior implementation stored the full endpoint; accept it */
    size_t bl = strlen(p->base);
    while (bl > 0 && p->base[bl - 1] == '/') p->base[--bl] = '\0';
    if (bl >= 13 && !strcmp(p->base + bl - 13, "/audio/speech")) p->base[bl - 13] = '\0';
    const char *org_places[] = {"openai", "organization", "app_tts", "OPENAI_ORG_ID", NULL};
    chorus_remote_setting(cfg, "OPENAI_ORG_ID", org_places, p->org, sizeof p->org);
    const char *proj_places[] = {"openai", "project", NULL};
    chorus_remote_setting(cfg, "OPENAI_PROJECT_ID", proj_places, p->project, sizeof p->project);
    const char *model_places[] = {"openai", "model", NULL};
    if (!chorus_remote_setting(cfg, "OPENAI_TTS_MODEL", model_places, p->model, sizeof p->model))
        snprintf(p->model, sizeof p->model, "tts-1");
    p->official = strstr(p->base, "://api.openai.com") != NULL;
    if (strncmp(p->base, "http://", 7) != 0 && strncmp(p->base, "https://", 8) != 0) {
        chorus_backend_fail(b, CHORUS_E_CONFIG,
                 "openai: base URL '%.200s' is not an http(s) URL; set OPENAI_BASE_URL or "
                 "[openai] base_url to e.g. https://api.openai.com/v1", p->base);
        return CHORUS_E_CONFIG;
    }
    p->pool = chorus_http_pool_create(NULL);
    return CHORUS_OK;
}

static void openai_close(struct chorus_backend *b) {
    struct openai_priv *p = b->priv;
    chorus_http_pool_destroy(p->pool);
    p->pool = NULL;
}

static const char missing_key_msg[] =
    "openai: no API key: export OPENAI_API_KEY or set api_key in the [openai] section of "
    "config.toml (or point OPENAI_BASE_URL at an OpenAI-compatible server that needs none)";

static int openai_probe(struct chorus_backend *b, struct chorus_probe *why) {
    struct openai_priv *p = b->priv;
    if (p->official && !p->key[0]) {
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "%s", missing_key_msg);
        return 0;
    }
    return 1;
}

static int openai_list_voices(struct chorus_backend *b, struct chorus_voice_list *out) {
    (void)b;
    for (size_t i = 0; i < sizeof builtin_voices / sizeof builtin_voices[0]; i++) {
        int rc = chorus_voice_list_add(out, builtin_voices[i], builtin_voices[i], "en", NULL,
                                       "OpenAI built-in voice");
        if (rc) return rc;
    }
    return CHORUS_OK;
}

/* ---- synthesis ----------------------------------------------------------------------------- */

struct openai_call {
    const struct chorus_job *job;
    struct openai_priv *p;
    const char *model;
    const char *voice;
    struct chorus_remote_audio audio;
    int sse;
    struct chorus_framer framer;
    int sse_done;
    long long usage_in, usage_out;
    int status; /* first failure inside callbacks */
    char msg[1024];
};

static int call_fail(struct openai_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int call_fail(struct openai_call *c, int status, const char *fmt, ...) {
    if (!c->status) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
        c->status = status;
    }
    return status;
}

static int audio_bytes(struct openai_call *c, const void *p, size_t n) {
    int rc = chorus_remote_audio_write(&c->audio, p, n);
    if (rc && rc != CHORUS_E_CANCELLED && c->audio.msg[0])
        return call_fail(c, rc, "openai: %s", c->audio.msg);
    return rc;
}

static int on_sse_event(void *ud, const char *data, size_t n) {
    struct openai_call *c = ud;
    if (n == 6 && !memcmp(data, "[DONE]", 6)) return CHORUS_OK;
    json_error_t jerr;
    json_t *ev = json_loadb(data, n, 0, &jerr);
    if (!ev) return call_fail(c, CHORUS_E_BACKEND, "openai: the server sent an SSE event that "
                              "is not JSON (%s)", jerr.text);
    int rc = CHORUS_OK;
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (type && !strcmp(type, "speech.audio.delta")) {
        json_t *a = json_object_get(ev, "audio");
        if (!json_is_string(a)) {
            rc = call_fail(c, CHORUS_E_BACKEND, "openai: an SSE audio delta has no audio");
        } else {
            size_t len = json_string_length(a);
            unsigned char *buf = malloc(len / 4 * 3 + 3);
            if (!buf) {
                rc = CHORUS_E_NOMEM;
            } else {
                long got = chorus_base64_decode(json_string_value(a), len, buf);
                if (got < 0)
                    rc = call_fail(c, CHORUS_E_BACKEND, "openai: an SSE audio delta is not "
                                   "valid base64");
                else
                    rc = audio_bytes(c, buf, (size_t)got);
                free(buf);
            }
        }
    } else if (type && !strcmp(type, "speech.audio.info")) {
        /* travisvn chatterbox: deltas are raw s16 PCM at this rate, whatever was asked */
        json_int_t rate = json_integer_value(json_object_get(ev, "sample_rate"));
        json_int_t bits = json_integer_value(json_object_get(ev, "bits_per_sample"));
        json_int_t ch = json_integer_value(json_object_get(ev, "channels"));
        if (rate < 1000 || rate > 384000 || (bits && bits != 16) || (ch && ch != 1))
            rc = call_fail(c, CHORUS_E_BACKEND, "openai: the server streams PCM this backend "
                           "cannot read (%lld Hz, %lld bits, %lld channels)", (long long)rate,
                           (long long)bits, (long long)ch);
        else if (c->audio.kind == CHORUS_REMOTE_ENCODED)
            rc = call_fail(c, CHORUS_E_FORMAT, "openai: the server streams raw PCM instead of "
                           "%s; ask for another output format", chorus_format_name(c->audio.format));
        else if (c->audio.once.len == 0 && c->audio.once.pos == 0) {
            c->audio.kind = CHORUS_REMOTE_PCM;
            c->audio.rate = (int)rate;
        }
    } else if (type && !strcmp(type, "speech.audio.done")) {
        json_t *u = json_object_get(ev, "usage");
        c->usage_in = json_integer_value(json_object_get(u, "input_tokens"));
        c->usage_out = json_integer_value(json_object_get(u, "output_tokens"));
        c->sse_done = 1;
    } else if (!strcmp(c->framer.event, "error") || (type && !strcmp(type, "error")) ||
               json_is_object(json_object_get(ev, "error"))) {
        /* OpenAI: "event: error" with a bare Error {message, type, code, param} as data */
        json_t *e = json_object_get(ev, "error");
        if (!json_is_object(e)) e = ev;
        const char *m = json_string_value(json_object_get(e, "message"));
        if (!m) m = json_string_value(json_object_get(ev, "error"));
        rc = call_fail(c, CHORUS_E_SERVER, "openai: the server reported an error mid-stream: %s",
                       m ? m : "(no message)");
    }
    json_decref(ev);
    return rc;
}

static int on_response(void *ud, const struct chorus_http_result *r) {
    struct openai_call *c = ud;
    chorus_remote_audio_rewind(&c->audio);
    c->sse = strncasecmp(r->content_type, "text/event-stream", 17) == 0;
    chorus_framer_release(&c->framer);
    chorus_framer_init(&c->framer, 1, 0, on_sse_event, c);
    c->sse_done = 0;
    if (!c->sse && strncasecmp(r->content_type, "application/json", 16) == 0)
        return call_fail(c, CHORUS_E_BACKEND, "openai: the server answered JSON instead of "
                         "audio; is the base URL an OpenAI-compatible speech server?");
    return CHORUS_OK;
}

static int on_body(void *ud, const void *data, size_t n) {
    struct openai_call *c = ud;
    if (c->sse) return chorus_framer_feed(&c->framer, data, n);
    return audio_bytes(c, data, n);
}

/* An input-length refusal: param "input" with a length code, or a message about the token /
 * character limit (gpt-4o-mini-tts caps input at 2000 tokens). */
static int is_too_long(const struct chorus_provider_error *e) {
    if (!strcmp(e->code, "string_above_max_length") || !strcmp(e->code, "context_length_exceeded"))
        return 1;
    int about_input = !strcmp(e->param, "input") || strstr(e->message, "input");
    return about_input && (strstr(e->message, "token") || strstr(e->message, "too long") ||
                           strstr(e->message, "at most") || strstr(e->message, "maximum"));
}

static void classify(void *ud, const struct chorus_http_result *r,
                     struct chorus_http_verdict *v) {
    struct openai_call *c = ud;
    struct chorus_provider_error e;
    chorus_provider_error_parse(r->error_body, r->error_body_len, &e);
    chorus_http_classify_default("openai", r, v);
    const char *m = e.message[0] ? e.message : "(no message)";
    long st = r->status;
    if (st == 429 && (!strcmp(e.code, "insufficient_quota") ||
                      !strcmp(e.type, "insufficient_quota"))) {
        v->status = CHORUS_E_QUOTA;
        v->retryable = 0;
        snprintf(v->msg, sizeof v->msg, "openai: quota exhausted (HTTP 429 insufficient_quota): "
                 "%s; check the plan and billing of this API key", m);
    } else if (st == 429) {
        snprintf(v->msg, sizeof v->msg, "openai: rate limited (HTTP 429%s%s): %s", e.code[0] ? " " : "",
                 e.code, m);
    } else if (st == 401) {
        snprintf(v->msg, sizeof v->msg, "openai: the API key was refused (HTTP 401): %s; check "
                 "OPENAI_API_KEY or api_key in the [openai] section of config.toml", m);
    } else if (st == 403) {
        snprintf(v->msg, sizeof v->msg, "openai: permission denied (HTTP 403): %s; the key's "
                 "project or region may not allow this model", m);
    } else if (st == 404) {
        snprintf(v->msg, sizeof v->msg, "openai: not found (HTTP 404) at %s/audio/speech with "
                 "model '%s': %s; check the model name and OPENAI_BASE_URL", c->p->base,
                 c->model, m);
    } else if (st == 409) {
        /* a conflict (e.g. a lock timeout): openai-python retries it */
        v->status = CHORUS_E_BUSY;
        v->retryable = 1;
        snprintf(v->msg, sizeof v->msg, "openai: the server reported a conflict (HTTP 409): %s",
                 m);
    } else if ((st == 400 || st == 422) && !strcmp(e.param, "voice")) {
        v->status = CHORUS_E_UNKNOWN_VOICE;
        snprintf(v->msg, sizeof v->msg, "openai: the server does not take voice '%.80s' (HTTP "
                 "%ld): %s; 'chorus voices -b openai' lists the built-in voices",
                 c->voice, st, m);
    } else if ((st == 400 || st == 422) && is_too_long(&e)) {
        v->status = CHORUS_E_TOO_LONG;
        snprintf(v->msg, sizeof v->msg, "openai: the text is too long for %s (HTTP %ld): %s; "
                 "gpt-4o-mini-tts takes at most 2000 tokens (token-dense text such as Chinese "
                 "or Japanese reaches that before 4096 characters): set max_chunk_chars in the "
                 "[openai] section lower, e.g. 1500", c->model, st, m);
    } else if (st == 400 || st == 422) {
        snprintf(v->msg, sizeof v->msg, "openai: request rejected (HTTP %ld): %s", st, m);
    } else if (st >= 500) {
        snprintf(v->msg, sizeof v->msg, "openai: server error (HTTP %ld): %s", st, m);
    }
}

static void on_retry(void *ud, int attempt, long wait_ms, const char *why) {
    (void)ud;
    chorus_remote_log_retry("openai", attempt, wait_ms, why);
}

static int call_cancelled(void *ud) {
    return chorus_job_cancelled(((struct openai_call *)ud)->job);
}

static int is_builtin_voice(const char *v) {
    for (size_t i = 0; i < sizeof builtin_voices / sizeof builtin_voices[0]; i++)
        if (!strcasecmp(v, builtin_voices[i])) return 1;
    return 0;
}

static enum chorus_format pick_native(const struct chorus_job *job) {
    if (!job->passthrough_ok) return CHORUS_FORMAT_DEFAULT;
    switch (job->want_format) {
    case CHORUS_FORMAT_MP3:
    case CHORUS_FORMAT_OPUS:
    case CHORUS_FORMAT_AAC:
    case CHORUS_FORMAT_FLAC:
    case CHORUS_FORMAT_WAV:
    case CHORUS_FORMAT_PCM:
        return job->want_format;
    default:
        return CHORUS_FORMAT_DEFAULT;
    }
}

/* gpt-4o-mini-tts refuses input over 2000 tokens ("Input of 2132 tokens is over the maximum
 * input limit of 2000 tokens. Please shorten your input.", HTTP 400, code invalid_value, param
 * null: troykelly/live-news-break#222), below the 4096-character limit for token-dense text.
 * Without the tokenizer, tokens are over-estimated from the bytes, by class, as o200k-style
 * tokenizers split text: a run of ASCII letters costs one token per 3 letters (English averages
 * 4+), digits one per 3 (tokenizers group at most 3 digits), other ASCII one each (spaces before
 * a letter are free: they start the word's token), and a non-ASCII character one token less
 * than its UTF-8 bytes, at least one (2-byte scripts 1, CJK 2 — real CJK text costs 0.7-1.5 —,
 * 4-byte emoji 3). Pieces are kept under OPENAI_TOKEN_BUDGET (200 under the cap: instructions and
 * estimation error). */
#define OPENAI_TOKEN_CAP 2000
#define OPENAI_TOKEN_BUDGET 1800

static size_t est_run(const char *s, size_t n, size_t i, size_t *tokens) {
    unsigned char c = (unsigned char)s[i];
    size_t j = i + 1;
    if (c >= 0x80) {
        while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
        *tokens += j - i > 1 ? j - i - 1 : 1;
    } else if (isalpha(c) || isdigit(c)) {
        int digit = isdigit(c) != 0;
        while (j < n && (digit ? isdigit((unsigned char)s[j]) : isalpha((unsigned char)s[j])))
            j++;
        *tokens += (j - i + 2) / 3;
    } else if (c == ' ' && j < n && isalpha((unsigned char)s[j])) {
        /* a space before a word rides with the word */
    } else {
        *tokens += 1;
    }
    return j;
}

/* The estimated tokens of s[0..n); with `fit`, counting stops once past `budget` and *fit gets
 * the longest prefix (in bytes, on a character boundary) whose estimate stays within it. */
static size_t openai_tokens(const char *s, size_t n, size_t budget, size_t *fit) {
    size_t tokens = 0, i = 0;
    if (fit) *fit = n;
    while (i < n) {
        size_t before = tokens, j = est_run(s, n, i, &tokens);
        if (fit && tokens > budget && *fit == n) {
            /* inside an over-long run: keep whole characters that fit */
            size_t k = i;
            if ((unsigned char)s[i] < 0x80 && (isalpha((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
                k = i + (budget - before) * 3;
            *fit = k > i && k < j ? k : i;
            return tokens; /* over the budget: the rest need not be counted */
        }
        i = j;
    }
    return tokens;
}

static int capped_model(const char *model) {
    return !strncmp(model, "gpt-4o-mini-tts", 15);
}

/* One HTTP request speaking text[0..len). */
static int openai_piece(struct chorus_backend *b, const struct chorus_job *job,
                        struct chorus_sink *out, const char *model, enum chorus_format native,
                        const char *text, size_t len) {
    struct openai_priv *p = b->priv;
    const char *instructions = chorus_job_option(job, "instructions");
    const char *sf = chorus_job_option(job, "stream_format");
    int want_sse = sf && !strcasecmp(sf, "sse");
    const char *rf = native ? chorus_format_name(native) : "wav";
    json_t *body = json_object();
    json_object_set_new(body, "model", json_string(model));
    json_object_set_new(body, "input", json_stringn(text, len));
    const char *voice = job->voice && *job->voice ? job->voice : "alloy";
    if (!strncmp(voice, "voice_", 6) && !is_builtin_voice(voice)) {
        json_t *vo = json_object();
        json_object_set_new(vo, "id", json_string(voice)); /* a custom voice */
        json_object_set_new(body, "voice", vo);
    } else {
        json_object_set_new(body, "voice", json_string(voice));
    }
    if (instructions && *instructions)
        json_object_set_new(body, "instructions", json_string(instructions));
    json_object_set_new(body, "response_format", json_string(rf));
    if (fabsf(job->speed - 1.0f) > 1e-4f)
        json_object_set_new(body, "speed", json_real(round(job->speed * 1000.0) / 1000.0));
    if (want_sse) json_object_set_new(body, "stream_format", json_string("sse"));
    char *payload = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!payload) return chorus_job_fail(job, CHORUS_E_NOMEM, "openai: out of memory");

    char url[600], auth[600] = "", org[200] = "", proj[200] = "";
    if (chorus_net_join_url(url, sizeof url, p->base, "audio/speech") != 0) {
        free(payload);
        return chorus_job_fail(job, CHORUS_E_CONFIG, "openai: the base URL is too long");
    }
    const char *hdrs[8];
    int nh = 0;
    hdrs[nh++] = "Content-Type: application/json";
    hdrs[nh++] = "Accept: */*";
    if (p->key[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->key);
        hdrs[nh++] = auth;
    }
    if (p->org[0]) {
        snprintf(org, sizeof org, "OpenAI-Organization: %s", p->org);
        hdrs[nh++] = org;
    }
    if (p->project[0]) {
        snprintf(proj, sizeof proj, "OpenAI-Project: %s", p->project);
        hdrs[nh++] = proj;
    }
    hdrs[nh] = NULL;

    struct openai_call c;
    memset(&c, 0, sizeof c);
    c.job = job;
    c.p = p;
    c.model = model;
    c.voice = voice;
    int rc = chorus_remote_audio_init(&c.audio, job, out,
                                      native ? CHORUS_REMOTE_ENCODED : CHORUS_REMOTE_WAV, native,
                                      24000);
    if (rc) {
        free(payload);
        chorus_remote_audio_release(&c.audio);
        return chorus_job_fail(job, rc, "openai: out of memory");
    }
    chorus_framer_init(&c.framer, 1, 0, on_sse_event, &c);

    struct chorus_http_req req = {0};
    req.method = "POST";
    req.url = url;
    req.headers = hdrs;
    req.body = payload;
    req.body_len = strlen(payload);
    req.secret = p->key;
    req.what = "openai";
    req.pool = p->pool;
    req.policy = chorus_remote_policy(job);
    req.policy.honour_should_retry = 1;
    req.on_response = on_response;
    req.on_body = on_body;
    req.classify = classify;
    req.is_cancelled = call_cancelled;
    req.on_retry = on_retry;
    req.ud = &c;
    struct chorus_http_result r;
    rc = chorus_http_perform(&req, &r);
    if (rc == CHORUS_OK && c.sse) rc = chorus_framer_finish(&c.framer);
    if (rc == CHORUS_OK && c.status) rc = c.status;
    if (rc == CHORUS_OK && c.sse && !c.sse_done)
        rc = call_fail(&c, CHORUS_E_NETWORK, "openai: the event stream ended without "
                       "speech.audio.done; the audio may be incomplete");
    if (rc == CHORUS_OK) {
        rc = chorus_remote_audio_finish(&c.audio);
        if (rc && c.audio.msg[0]) call_fail(&c, rc, "openai: %s", c.audio.msg);
    }
    if (rc == CHORUS_OK) {
        if (r.retries)
            CHORUS_LOGI("openai: chunk %u needed %d retries", job->index, r.retries);
        if (c.sse_done) {
            struct chorus_estimate est;
            if (chorus_price_estimate(b->desc, chorus_backend_config(b), model, text, len,
                                      &est) == CHORUS_OK)
                CHORUS_LOGI("openai: usage %lld input + %lld audio tokens (estimated %.0f + "
                            "%.0f)", c.usage_in, c.usage_out, est.input_tokens,
                            est.output_tokens);
        }
    } else if (rc != CHORUS_E_CANCELLED) {
        if (c.status && c.msg[0])
            chorus_job_fail(job, rc, "%s", c.msg);
        else if (r.msg[0])
            chorus_job_fail(job, rc, "%s", r.msg);
    }
    chorus_http_result_release(&r);
    chorus_framer_release(&c.framer);
    chorus_remote_audio_release(&c.audio);
    free(payload);
    return rc;
}

static int openai_synthesize(struct chorus_backend *b, const struct chorus_job *job,
                             struct chorus_sink *out) {
    struct openai_priv *p = b->priv;
    if (p->official && !p->key[0]) return chorus_job_fail(job, CHORUS_E_AUTH, "%s", missing_key_msg);
    const char *model = job->model && *job->model ? job->model : p->model;
    const char *instructions = chorus_job_option(job, "instructions");
    const char *sf = chorus_job_option(job, "stream_format");
    int want_sse = sf && !strcasecmp(sf, "sse");
    if (job->speed < 0.25f || job->speed > 4.0f)
        return chorus_job_fail(job, CHORUS_E_INVALID, "openai: speed %.2f is outside the "
                               "0.25-4.0 range the speech API accepts", job->speed);
    if (p->official && instructions && *instructions && !strncmp(model, "tts-1", 5))
        return chorus_job_fail(job, CHORUS_E_OPTION, "openai: the instructions option does not "
                               "work with %s; pick a model that takes it, e.g. -m "
                               "gpt-4o-mini-tts", model);
    if (p->official && want_sse && !strncmp(model, "tts-1", 5))
        return chorus_job_fail(job, CHORUS_E_OPTION, "openai: stream_format=sse is not "
                               "supported by %s; use gpt-4o-mini-tts or stream_format=audio",
                               model);
    /* token-dense text for gpt-4o-mini-tts: split into pieces under the token cap, each a
     * request of its own whose wav is read into PCM (a passed-through file cannot be joined) */
    size_t fit = job->len;
    int split = capped_model(model) &&
                openai_tokens(job->text, job->len, OPENAI_TOKEN_BUDGET, &fit) > OPENAI_TOKEN_BUDGET;
    if (!split) return openai_piece(b, job, out, model, pick_native(job), job->text, job->len);
    CHORUS_LOGI("openai: chunk %u (%zu bytes) may pass %s's %d-token input limit; speaking it in "
                "smaller pieces", job->index, job->len, model, OPENAI_TOKEN_CAP);
    int rc = CHORUS_OK;
    for (size_t off = 0; rc == CHORUS_OK && off < job->len;) {
        const char *t = job->text + off;
        size_t n = job->len - off;
        if (openai_tokens(t, n, OPENAI_TOKEN_BUDGET, &fit) > OPENAI_TOKEN_BUDGET) {
            n = chorus_text_chunk_end(t, n, fit ? fit : 1);
            if (n == 0 || n > fit) n = fit ? fit : 1; /* never past the budget */
        }
        rc = openai_piece(b, job, out, model, CHORUS_FORMAT_DEFAULT, t, n);
        off += n;
    }
    return rc;
}

static const char *openai_default_model(struct chorus_backend *b) {
    return ((struct openai_priv *)b->priv)->model;
}

static const struct chorus_backend_ops openai_ops = {
    .open = openai_open,
    .probe = openai_probe,
    .synthesize = openai_synthesize,
    .list_voices = openai_list_voices,
    .close = openai_close,
    .default_model = openai_default_model,
};

/* OpenAI's published prices (../shared/specs/providers.md §1.4), as of 2026. gpt-4o-mini-tts
 * bills ~1250 audio tokens per minute of speech ($0.015/min at $12/1M), and about 900
 * characters of English are spoken per minute (150 words of ~6 characters). */
static const struct chorus_price openai_prices[] = {
    {.model = "tts-1-hd", .usd_per_million_chars = 30.0, .basis = "$30.00 / 1M characters"},
    {.model = "tts-1", .usd_per_million_chars = 15.0, .basis = "$15.00 / 1M characters"},
    {.model = "gpt-4o-mini-tts", .usd_per_million_input_tokens = 0.60,
     .usd_per_million_output_tokens = 12.0, .audio_tokens_per_char = 1250.0 / 900.0,
     .basis = "$0.60 / 1M input tokens + $12.00 / 1M audio tokens (estimated from characters)"},
    {.model = NULL, .usd_per_million_chars = 15.0,
     .basis = "$15.00 / 1M characters (priced as tts-1)"},
};

static const char *const openai_legacy[] = {"openai_official_", NULL};

const struct chorus_backend_desc chorus_backend_openai = {
    .name = "openai",
    .pattern = NULL,
    .description = "OpenAI speech API (tts-1, tts-1-hd, gpt-4o-mini-tts) or any "
                   "OpenAI-compatible server via OPENAI_BASE_URL",
    .caps = CHORUS_CAP_STREAMING | CHORUS_CAP_REMOTE,
    .flags = CHORUS_BF_ANY_VOICE,
    .max_input_chars = 4096,
    .first_chunk_chars = 0,
    .sample_rate = 24000,
    .max_concurrent = 4,
    .default_voice = "alloy",
    .options = openai_options,
    .priv_size = sizeof(struct openai_priv),
    .ops = &openai_ops,
    .prices = openai_prices,
    .legacy_prefixes = openai_legacy,
};
