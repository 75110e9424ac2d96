/*
 * alltalk.c — the `alltalk` backend, registered as `alltalk` and the pattern `alltalk_*`
 * (AllTalk TTS v2, ../shared/specs/providers.md §3).
 *
 * Three ways to speak, option `api`:
 *   generate (default)  POST /api/tts-generate (form fields) -> JSON with output_file_url,
 *                       then GET that file (a wav) and stream it out;
 *   stream              GET /api/tts-generate-streaming?text=&voice=&language=&output_file=
 *                       (a wav streamed as the engine makes it; XTTS only);
 *   openai              POST /v1/audio/speech (voices alloy..shimmer mapped by the server).
 * Readiness from /api/ready, voices from /api/voices, the loaded engine and whether it can
 * stream from /api/currentsettings (cached a minute). AllTalk as shipped loads Piper, whose
 * voices are .onnx models: no voice is assumed (the core takes the first of /api/voices when
 * none is configured, and /api/tts-generate gets no voice field when there is none); the OpenAI
 * names (alloy...) map to XTTS sample files only when XTTS is loaded. Whatever audio comes back
 * (float32 WAV from XTTS, a transcoded mp3/opus/flac, a streaming WAV whose header says 0
 * bytes, served as text/plain) is recognised by its bytes and decoded (remote/remote.h); a WAV is
 * never passed through as is. Checked against erew123/alltalk_tts alltalkbeta @7a59e9c
 * (docs/backends/alltalk.md). The server URL comes from
 * ALLTALK_TTS_URL, the instance's section ([alltalk_narrator] url), [alltalk] url, the prior
 * implementation's [app_tts] ALLTALK_TTS_URL_DEFAULT, else http://127.0.0.1:7851.
 * AllTalk's error bodies are unreliable (its OpenAI handler crashes into a bare 500): every
 * failure is turned into a message naming the URL, the status and what to check.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
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

#define AT_DEFAULT_URL "http://127.0.0.1:7851"

#define AT_SETTINGS_SECONDS 60

/* what /api/currentsettings said (tts_server.py apifunction_get_current_settings) */
struct at_settings {
    int known;         /* 1: fetched and parsed */
    char engine[32];   /* current_engine_loaded: "piper", "xtts", ... */
    int streaming;     /* streaming_capable */
    time_t at;
};

struct at_priv {
    char url[512];
    char voice[128]; /* configured default voice, "" = none (the server's engine default) */
    char language[16];
    pthread_mutex_t mu;
    int mu_ok;
    struct at_settings settings;
    int speed_warned;
    struct chorus_http_pool *pool; /* connections reused across chunks and retries */
};

static const struct chorus_option_desc at_options[] = {
    {"api", "enum", "generate", 1, 0, "generate|stream|openai",
     "generate: /api/tts-generate then fetch the file; stream: /api/tts-generate-streaming "
     "(XTTS); openai: the server's /v1/audio/speech"},
    {"temperature", "float", NULL, 0.1, 1.0, NULL, "sampling temperature (generate)"},
    {"repetition_penalty", "float", NULL, 1.0, 20.0, NULL, "repetition penalty (generate)"},
    {"pitch", "int", NULL, -10, 10, NULL, "pitch shift (generate)"},
    {"text_filtering", "enum", "standard", 1, 0, "none|standard|html", "AllTalk text filter"},
    CHORUS_REMOTE_OPTIONS,
    {NULL, NULL, NULL, 0, 0, NULL, NULL}};

/* OpenAI names -> the files the prior implementation mapped them to (generate/stream APIs) */
static const char *const openai_alias[][2] = {
    {"alloy", "female_01.wav"}, {"echo", "male_01.wav"},  {"fable", "female_02.wav"},
    {"onyx", "male_02.wav"},    {"nova", "female_03.wav"}, {"shimmer", "female_04.wav"}};

static const char *const at_languages[] = {"ar", "zh-cn", "zh", "cs", "nl", "en", "fr",
                                           "de", "hu",    "hi", "it", "ja", "ko", "pl",
                                           "pt", "ru",    "es", "tr"};

static int at_open(struct chorus_backend *b, const struct chorus_config *cfg) {
    struct at_priv *p = b->priv;
    const char *url_places[] = {b->name, "url", "alltalk", "url", "app_tts",
                                "ALLTALK_TTS_URL_DEFAULT", NULL};
    if (!chorus_remote_setting(cfg, "ALLTALK_TTS_URL", url_places, p->url, sizeof p->url))
        snprintf(p->url, sizeof p->url, "%s", AT_DEFAULT_URL);
    size_t l = strlen(p->url);
    while (l > 0 && p->url[l - 1] == '/') p->url[--l] = '\0';
    if (strncmp(p->url, "http://", 7) != 0 && strncmp(p->url, "https://", 8) != 0) {
        chorus_backend_fail(b, CHORUS_E_CONFIG,
                 "%s: server URL '%.200s' is not an http(s) URL; set ALLTALK_TTS_URL or "
                 "[alltalk] url, e.g. http://127.0.0.1:7851", b->name, p->url);
        return CHORUS_E_CONFIG;
    }
    const char *voice_places[] = {b->name, "voice", "alltalk", "voice", "app_tts",
                                  "ALLTALK_TTS_VOICE_DEFAULT", NULL};
    /* no built-in default: female_01.wav exists only for XTTS, and Piper is the shipped engine */
    chorus_remote_setting(cfg, NULL, voice_places, p->voice, sizeof p->voice);
    p->mu_ok = pthread_mutex_init(&p->mu, NULL) == 0;
    if (!p->mu_ok) return CHORUS_E_NOMEM;
    p->pool = chorus_http_pool_create(NULL);
    const char *lang_places[] = {b->name, "language", "alltalk", "language", "app_tts",
                                 "ALLTALK_TTS_LANGUAGE_DEFAULT", NULL};
    if (!chorus_remote_setting(cfg, NULL, lang_places, p->language, sizeof p->language))
        snprintf(p->language, sizeof p->language, "en");
    return CHORUS_OK;
}

/* ---- small GETs ---------------------------------------------------------------------------- */

/* small answers are collected with the net layer's capped buffer (4 MiB here) */
#define AT_BODY_MAX (4u * 1024 * 1024)

static void at_classify_what(const char *what, const char *url,
                             const struct chorus_http_result *r,
                             struct chorus_http_verdict *v) {
    struct chorus_provider_error e;
    chorus_provider_error_parse(r->error_body, r->error_body_len, &e);
    chorus_http_classify_default(what, r, v);
    const char *m = e.message[0] ? e.message : "no details given";
    /* AllTalk's 500s are its own deterministic failures (missing voice file, bad input):
     * retrying them only repeats the wait; gateways and overload are worth another try */
    v->retryable = r->status == 502 || r->status == 503 || r->status == 504 || r->status == 429;
    if (r->status == 404)
        snprintf(v->msg, sizeof v->msg, "%s: %s answered 404 (%s); is this AllTalk v2 (the "
                 "alltalkbeta branch) and the URL right?", what, url, m);
    else if (r->status >= 500)
        snprintf(v->msg, sizeof v->msg, "%s: AllTalk at %s failed (HTTP %ld: %s); check that "
                 "the voice exists ('chorus voices -b alltalk') and the AllTalk console for the "
                 "cause", what, url, r->status, m);
    else
        snprintf(v->msg, sizeof v->msg, "%s: AllTalk at %s refused the request (HTTP %ld): %s",
                 what, url, r->status, m);
}

struct at_ctx {
    const char *what;
    const char *url;
    const struct chorus_job *job; /* NULL outside synthesis */
    void *inner;                  /* body consumer state */
    int (*on_body)(void *ud, const void *data, size_t n);
    int (*on_response)(void *ud, const struct chorus_http_result *r);
    struct chorus_http_pool *pool;
};

static void at_classify(void *ud, const struct chorus_http_result *r,
                        struct chorus_http_verdict *v) {
    struct at_ctx *c = ud;
    at_classify_what(c->what, c->url, r, v);
}
static int at_ctx_body(void *ud, const void *d, size_t n) {
    struct at_ctx *c = ud;
    return c->on_body(c->inner, d, n);
}
static int at_ctx_response(void *ud, const struct chorus_http_result *r) {
    struct at_ctx *c = ud;
    return c->on_response ? c->on_response(c->inner, r) : CHORUS_OK;
}
static void at_on_retry(void *ud, int attempt, long wait_ms, const char *why) {
    chorus_remote_log_retry(((struct at_ctx *)ud)->what, attempt, wait_ms, why);
}
static int at_ctx_cancelled(void *ud) {
    struct at_ctx *c = ud;
    return c->job ? chorus_job_cancelled(c->job) : 0;
}

/* A request through the context; `policy` from the job or a short one for probes. */
static int at_perform(struct at_ctx *c, const char *method, const char *url, const char *body,
                      const char *const *hdrs, struct chorus_http_policy pol,
                      struct chorus_http_result *r) {
    struct chorus_http_req req = {0};
    req.method = method;
    req.url = url;
    req.headers = hdrs;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.what = c->what;
    req.pool = c->pool;
    req.policy = pol;
    req.on_response = at_ctx_response;
    req.on_body = at_ctx_body;
    req.classify = at_classify;
    req.is_cancelled = at_ctx_cancelled;
    req.on_retry = at_on_retry;
    req.ud = c;
    return chorus_http_perform(&req, r);
}

static struct chorus_http_policy quick_policy(void) {
    struct chorus_http_policy p = {0};
    p.max_retries = 0;
    p.connect_timeout_ms = 2000;
    p.idle_timeout_ms = 3000;
    p.total_timeout_ms = 5000;
    return p;
}

static int at_get_small(struct chorus_backend *b, const char *path, struct chorus_net_buf *g,
                        char *err, size_t errlen) {
    struct at_priv *p = b->priv;
    char url[700];
    if (chorus_net_join_url(url, sizeof url, p->url, path) != 0) return CHORUS_E_CONFIG;
    struct at_ctx c = {b->name, p->url, NULL, g, chorus_net_buf_body, NULL, p->pool};
    struct chorus_http_result r;
    int rc = at_perform(&c, "GET", url, NULL, NULL, quick_policy(), &r);
    if (rc != CHORUS_OK) snprintf(err, errlen, "%s", r.msg);
    chorus_http_result_release(&r);
    return rc;
}

static void at_close(struct chorus_backend *b) {
    struct at_priv *p = b->priv;
    if (p->mu_ok) pthread_mutex_destroy(&p->mu);
    p->mu_ok = 0;
    chorus_http_pool_destroy(p->pool);
    p->pool = NULL;
}

/* The loaded engine and its streaming capability (cached). A server that does not answer
 * leaves them unknown: the requests then go out as asked and its errors speak. */
static struct at_settings at_current_settings(struct chorus_backend *b) {
    struct at_priv *p = b->priv;
    pthread_mutex_lock(&p->mu);
    struct at_settings st = p->settings;
    pthread_mutex_unlock(&p->mu);
    if (st.known && time(NULL) - st.at < AT_SETTINGS_SECONDS) return st;
    struct chorus_net_buf g = {0, 0, 0, AT_BODY_MAX};
    char err[1024] = "";
    memset(&st, 0, sizeof st);
    if (at_get_small(b, "api/currentsettings", &g, err, sizeof err) == CHORUS_OK && g.p) {
        json_error_t jerr;
        json_t *root = json_loadb(g.p, g.n, 0, &jerr);
        const char *eng = json_string_value(json_object_get(root, "current_engine_loaded"));
        if (eng) {
            st.known = 1;
            snprintf(st.engine, sizeof st.engine, "%s", eng);
            st.streaming = json_is_true(json_object_get(root, "streaming_capable"));
            st.at = time(NULL);
        }
        json_decref(root);
    } else {
        CHORUS_LOGD("%s: no /api/currentsettings (%s)", b->name, err);
    }
    free(g.p);
    if (st.known) {
        pthread_mutex_lock(&p->mu);
        p->settings = st;
        pthread_mutex_unlock(&p->mu);
    }
    return st;
}

static int is_xtts(const struct at_settings *st) {
    return !st->known || !strncasecmp(st->engine, "xtts", 4);
}

static int at_probe(struct chorus_backend *b, struct chorus_probe *why) {
    struct at_priv *p = b->priv;
    struct chorus_net_buf g = {0, 0, 0, AT_BODY_MAX};
    char err[1024] = "";
    int rc = at_get_small(b, "api/ready", &g, err, sizeof err);
    int ok = 0;
    if (rc != CHORUS_OK) {
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "%s: not answering at %.200s (%.200s); start "
                 "AllTalk or set ALLTALK_TTS_URL / [alltalk] url", b->name, p->url, err);
    } else if (g.p && !strncmp(g.p, "Ready", 5)) {
        ok = 1;
    } else {
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "%s: AllTalk at %.200s is up but not ready "
                 "(/api/ready says '%.40s'); load a model in AllTalk", b->name, p->url,
                 g.p ? g.p : "");
    }
    free(g.p);
    return ok;
}

static int at_list_voices(struct chorus_backend *b, struct chorus_voice_list *out) {
    struct chorus_net_buf g = {0, 0, 0, AT_BODY_MAX};
    char err[1024] = "";
    int rc = at_get_small(b, "api/voices", &g, err, sizeof err);
    if (rc != CHORUS_OK) {
        CHORUS_LOGW("%s", err);
        free(g.p);
        return rc;
    }
    json_error_t jerr;
    json_t *root = g.p ? json_loadb(g.p, g.n, 0, &jerr) : NULL;
    free(g.p);
    json_t *arr = json_object_get(root, "voices");
    if (!json_is_array(arr)) {
        const char *m = json_string_value(json_object_get(root, "message"));
        CHORUS_LOGW("%s: /api/voices gave no voice list%s%s", b->name, m ? ": " : "",
                    m ? m : "");
        json_decref(root);
        return CHORUS_E_BACKEND;
    }
    size_t i;
    json_t *v;
    rc = CHORUS_OK;
    json_array_foreach(arr, i, v) {
        const char *id = json_string_value(v);
        if (!id || !*id) continue;
        char name[128];
        snprintf(name, sizeof name, "%s", id);
        size_t l = strlen(name);
        if (l > 4 && !strcasecmp(name + l - 4, ".wav")) name[l - 4] = '\0';
        const char *gender = !strncasecmp(id, "female", 6) ? "female"
                             : !strncasecmp(id, "male", 4) ? "male" : NULL;
        rc = chorus_voice_list_add(out, id, name, NULL, gender, "AllTalk voice");
        if (rc) break;
    }
    json_decref(root);
    /* the OpenAI names, for --opt api=openai (and mapped to XTTS files for the other APIs) */
    struct at_settings st = at_current_settings(b);
    if (!is_xtts(&st)) return rc; /* Piper & co.: AllTalk's openai_voices table is per engine */
    for (size_t k = 0; k < sizeof openai_alias / sizeof openai_alias[0] && rc == CHORUS_OK; k++)
        rc = chorus_voice_list_add(out, openai_alias[k][0], openai_alias[k][0], NULL, NULL,
                                   "OpenAI voice name (api=openai: mapped by AllTalk)");
    return rc;
}

/* ---- synthesis ----------------------------------------------------------------------------- */

struct at_call {
    const struct chorus_job *job;
    struct chorus_remote_audio audio;
    int status;
    char msg[1024];
};

static int at_audio_body(void *ud, const void *data, size_t n) {
    struct at_call *c = ud;
    int rc = chorus_remote_audio_write(&c->audio, data, n);
    if (rc && rc != CHORUS_E_CANCELLED && c->audio.msg[0] && !c->status) {
        c->status = rc;
        snprintf(c->msg, sizeof c->msg, "alltalk: %s", c->audio.msg);
    }
    return rc;
}
static int at_audio_response(void *ud, const struct chorus_http_result *r) {
    struct at_call *c = ud;
    chorus_remote_audio_rewind(&c->audio);
    /* text types pass: Windows hosts serve the files as text/plain; the bytes decide */
    if (!strncasecmp(r->content_type, "application/json", 16)) {
        c->status = CHORUS_E_BACKEND;
        snprintf(c->msg, sizeof c->msg, "alltalk: expected audio, got %s", r->content_type);
        return CHORUS_E_BACKEND;
    }
    return CHORUS_OK;
}

static void map_language(const struct chorus_job *job, const struct at_priv *p, char *out,
                         size_t cap) {
    const char *l = job->language && *job->language ? job->language : p->language;
    char low[16];
    size_t n = 0;
    for (; l[n] && n + 1 < sizeof low; n++) low[n] = (char)tolower((unsigned char)l[n]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof at_languages / sizeof at_languages[0]; i++)
        if (!strcmp(low, at_languages[i])) {
            snprintf(out, cap, "%s", low);
            return;
        }
    if (!strcmp(low, "auto")) {
        snprintf(out, cap, "auto");
        return;
    }
    /* "en-us" -> "en", "pt-br" -> "pt" */
    char two[3] = {low[0], low[1], 0};
    for (size_t i = 0; i < sizeof at_languages / sizeof at_languages[0]; i++)
        if (!strcmp(two, at_languages[i])) {
            snprintf(out, cap, "%s", two);
            return;
        }
    snprintf(out, cap, "auto");
}

static int form_add(char *buf, size_t cap, const char *key, const char *value) {
    size_t l = strlen(buf);
    int w = snprintf(buf + l, cap - l, "%s%s=", l ? "&" : "", key);
    if (w < 0 || (size_t)w >= cap - l) return -1;
    return chorus_net_urlencode_append(buf, cap, value);
}

static int finish_call(struct at_call *c, const struct chorus_job *job, int rc,
                       struct chorus_http_result *r) {
    if (rc == CHORUS_OK && c->status) rc = c->status;
    if (rc == CHORUS_OK) {
        rc = chorus_remote_audio_finish(&c->audio);
        if (rc && c->audio.msg[0] && !c->status) {
            c->status = rc;
            snprintf(c->msg, sizeof c->msg, "alltalk: %s", c->audio.msg);
        }
    }
    if (rc != CHORUS_OK && rc != CHORUS_E_CANCELLED) {
        if (c->status && c->msg[0])
            chorus_job_fail(job, rc, "%s", c->msg);
        else if (r->msg[0])
            chorus_job_fail(job, rc, "%s", r->msg);
    }
    return rc;
}

/* What the loaded engine can do, checked before any generation: streaming needs a
 * streaming-capable engine and a voice (the GET endpoint requires one); the OpenAI names map
 * to sample files only under XTTS. */
static int at_check_engine(struct chorus_backend *b, const struct chorus_job *job,
                           const char *api, const char **voice) {
    if (!strcasecmp(api, "openai")) return CHORUS_OK; /* the server maps its own names */
    struct at_settings st = at_current_settings(b);
    if (!strcasecmp(api, "stream") && st.known && !st.streaming)
        return chorus_job_fail(job, CHORUS_E_OPTION, "%s: the engine AllTalk has loaded (%s) "
                               "cannot stream (/api/currentsettings: streaming_capable false); "
                               "use --opt api=generate or load XTTS in AllTalk", b->name,
                               st.engine);
    if (!is_xtts(&st))
        for (size_t k = 0; k < sizeof openai_alias / sizeof openai_alias[0]; k++)
            if (!strcasecmp(*voice, openai_alias[k][0]))
                return chorus_job_fail(job, CHORUS_E_UNKNOWN_VOICE, "%s: '%s' is an OpenAI "
                                       "voice name, which AllTalk maps to XTTS sample files, but "
                                       "the loaded engine is %s; pick one of its voices ('chorus "
                                       "voices -b alltalk') or use --opt api=openai", b->name,
                                       *voice, st.engine);
    if (!strcasecmp(api, "stream") && !**voice)
        return chorus_job_fail(job, CHORUS_E_UNKNOWN_VOICE, "%s: AllTalk's streaming API needs a "
                               "voice and none is set; pass one ('chorus voices -b alltalk')",
                               b->name);
    return CHORUS_OK;
}

static int at_synthesize(struct chorus_backend *b, const struct chorus_job *job,
                         struct chorus_sink *out) {
    struct at_priv *p = b->priv;
    const char *api = chorus_job_option(job, "api");
    if (!api) api = "generate";
    const char *voice = job->voice && *job->voice ? job->voice : p->voice;
    char lang[16];
    map_language(job, p, lang, sizeof lang);
    int rc = at_check_engine(b, job, api, &voice);
    if (rc) return rc;

    struct at_call c;
    memset(&c, 0, sizeof c);
    c.job = job;
    /* whatever comes back is sniffed: wav of any encoding is read, transcoded files decoded */
    rc = chorus_remote_audio_init(&c.audio, job, out, CHORUS_REMOTE_WAV, CHORUS_FORMAT_WAV, 0);
    if (rc) {
        chorus_remote_audio_release(&c.audio);
        return chorus_job_fail(job, rc, "alltalk: out of memory");
    }
    struct chorus_http_policy pol = chorus_remote_policy(job);
    struct at_ctx ctx = {b->name, p->url, job, &c, at_audio_body, at_audio_response, p->pool};
    struct chorus_http_result r;
    memset(&r, 0, sizeof r);
    char url[2048];
    char *big = NULL;

    if (!strcasecmp(api, "openai")) {
        static const char *const six[] = {"alloy", "echo", "fable", "nova", "onyx", "shimmer"};
        if (!*voice) voice = "alloy"; /* mapped by the server to its engine's voice */
        int ok = 0;
        for (size_t i = 0; i < 6; i++) ok |= !strcasecmp(voice, six[i]);
        if (!ok) {
            chorus_remote_audio_release(&c.audio);
            return chorus_job_fail(job, CHORUS_E_UNKNOWN_VOICE, "%s: AllTalk's OpenAI endpoint "
                                   "takes only the voices alloy, echo, fable, nova, onyx and "
                                   "shimmer (mapped to voice files in AllTalk), not '%s'; use "
                                   "one of those or --opt api=generate", b->name, voice);
        }
        if (job->speed < 0.25f || job->speed > 4.0f) {
            chorus_remote_audio_release(&c.audio);
            return chorus_job_fail(job, CHORUS_E_INVALID, "%s: speed %.2f is outside 0.25-4.0",
                                   b->name, job->speed);
        }
        json_t *body = json_object();
        json_object_set_new(body, "model", json_string("tts-1"));
        json_object_set_new(body, "input", json_stringn(job->text, job->len));
        json_object_set_new(body, "voice", json_string(voice));
        json_object_set_new(body, "response_format", json_string("wav"));
        json_object_set_new(body, "speed", json_real(round(job->speed * 1000.0) / 1000.0));
        big = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        const char *hdrs[] = {"Content-Type: application/json", NULL};
        chorus_net_join_url(url, sizeof url, p->url, "v1/audio/speech");
        rc = big ? at_perform(&ctx, "POST", url, big, hdrs, pol, &r) : CHORUS_E_NOMEM;
        rc = finish_call(&c, job, rc, &r);
    } else {
        for (size_t k = 0; k < sizeof openai_alias / sizeof openai_alias[0]; k++)
            if (!strcasecmp(voice, openai_alias[k][0])) voice = openai_alias[k][1];
    }
    if (!strcasecmp(api, "stream") && fabsf(job->speed - 1.0f) > 1e-3f) {
        pthread_mutex_lock(&p->mu);
        int warned = p->speed_warned;
        p->speed_warned = 1;
        pthread_mutex_unlock(&p->mu);
        if (!warned)
            CHORUS_LOGW("%s: AllTalk's streaming API ignores speed (it always speaks at 1.0); "
                        "speed %.2f is not applied; use --opt api=generate for it", b->name,
                        job->speed);
    }
    if (!strcasecmp(api, "openai")) {
        /* done above */
    } else if (!strcasecmp(api, "stream")) {
        size_t cap = job->len * 3 + 1024;
        big = malloc(cap);
        if (!big) {
            rc = CHORUS_E_NOMEM;
        } else {
            chorus_net_join_url(big, cap, p->url, "api/tts-generate-streaming?text=");
            char *textz = strndup(job->text, job->len);
            int bad = !textz || chorus_net_urlencode_append(big, cap, textz);
            free(textz);
            char rest[512];
            snprintf(rest, sizeof rest, "&voice=");
            bad |= chorus_net_urlencode_append(rest, sizeof rest, voice);
            size_t l = strlen(rest);
            snprintf(rest + l, sizeof rest - l, "&language=%s&output_file=chorus_stream", lang);
            if (!bad && strlen(big) + strlen(rest) + 1 < cap) strcat(big, rest);
            rc = bad ? CHORUS_E_NOMEM : at_perform(&ctx, "GET", big, NULL, NULL, pol, &r);
        }
        rc = finish_call(&c, job, rc, &r);
    } else {
        /* generate: form post, then fetch the file */
        if (job->speed < 0.25f || job->speed > 2.0f) {
            chorus_remote_audio_release(&c.audio);
            return chorus_job_fail(job, CHORUS_E_INVALID, "%s: speed %.2f is outside the "
                                   "0.25-2.0 range of /api/tts-generate", b->name, job->speed);
        }
        size_t cap = job->len * 3 + 2048;
        big = malloc(cap);
        if (!big) {
            chorus_remote_audio_release(&c.audio);
            return chorus_job_fail(job, CHORUS_E_NOMEM, "alltalk: out of memory");
        }
        big[0] = '\0';
        char *textz = strndup(job->text, job->len);
        char num[32];
        const char *filt = chorus_job_option(job, "text_filtering");
        int bad = !textz || form_add(big, cap, "text_input", textz);
        free(textz);
        bad |= form_add(big, cap, "text_filtering", filt ? filt : "standard");
        /* no voice: the server uses its engine's def_character_voice */
        if (*voice) bad |= form_add(big, cap, "character_voice_gen", voice);
        bad |= form_add(big, cap, "narrator_enabled", "false");
        bad |= form_add(big, cap, "text_not_inside", "character");
        bad |= form_add(big, cap, "language", lang);
        bad |= form_add(big, cap, "output_file_name", "chorus");
        bad |= form_add(big, cap, "output_file_timestamp", "true");
        bad |= form_add(big, cap, "autoplay", "false");
        snprintf(num, sizeof num, "%.3f", job->speed);
        bad |= form_add(big, cap, "speed", num);
        const char *keys[] = {"temperature", "repetition_penalty", "pitch"};
        for (size_t i = 0; i < 3; i++) {
            const char *v = chorus_job_option(job, keys[i]);
            if (v) bad |= form_add(big, cap, keys[i], v);
        }
        if (bad) {
            free(big);
            chorus_remote_audio_release(&c.audio);
            return chorus_job_fail(job, CHORUS_E_NOMEM, "alltalk: out of memory");
        }
        struct chorus_net_buf g = {0, 0, 0, AT_BODY_MAX};
        struct at_ctx gctx = {b->name, p->url, job, &g, chorus_net_buf_body, NULL, p->pool};
        const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
        chorus_net_join_url(url, sizeof url, p->url, "api/tts-generate");
        rc = at_perform(&gctx, "POST", url, big, hdrs, pol, &r);
        if (rc != CHORUS_OK && rc != CHORUS_E_CANCELLED && r.msg[0])
            chorus_job_fail(job, rc, "%s", r.msg);
        char file_url[1024] = "";
        if (rc == CHORUS_OK) {
            json_error_t jerr;
            json_t *root = g.p ? json_loadb(g.p, g.n, 0, &jerr) : NULL;
            const char *st = json_string_value(json_object_get(root, "status"));
            const char *fu = json_string_value(json_object_get(root, "output_file_url"));
            if (!st || strcmp(st, "generate-success") != 0 || !fu || !*fu) {
                struct chorus_provider_error e;
                chorus_provider_error_parse(g.p, g.n, &e);
                rc = chorus_job_fail(job, CHORUS_E_BACKEND, "%s: AllTalk at %s did not generate "
                                     "audio (%s); check the AllTalk console", b->name, p->url,
                                     e.message[0] ? e.message : "no output_file_url");
            } else if (!strncmp(fu, "http://", 7) || !strncmp(fu, "https://", 8)) {
                /* legacy API mode: absolute URL; only follow it to the same server */
                const char *path = strchr(strstr(fu, "://") + 3, '/');
                if (!path)
                    rc = chorus_job_fail(job, CHORUS_E_BACKEND, "%s: AllTalk gave a file URL "
                                         "without a path", b->name);
                else
                    chorus_net_join_url(file_url, sizeof file_url, p->url, path);
            } else {
                chorus_net_join_url(file_url, sizeof file_url, p->url, fu);
            }
            json_decref(root);
        }
        free(g.p);
        chorus_http_result_release(&r);
        memset(&r, 0, sizeof r);
        if (rc == CHORUS_OK) rc = at_perform(&ctx, "GET", file_url, NULL, NULL, pol, &r);
        rc = finish_call(&c, job, rc, &r);
    }
    chorus_http_result_release(&r);
    free(big);
    chorus_remote_audio_release(&c.audio);
    return rc;
}

static const struct chorus_backend_ops at_ops = {
    .open = at_open,
    .probe = at_probe,
    .synthesize = at_synthesize,
    .list_voices = at_list_voices,
    .close = at_close,
};

const struct chorus_backend_desc chorus_backend_alltalk = {
    .name = "alltalk",
    .pattern = "alltalk_*",
    .description = "AllTalk TTS v2 server (XTTS, Piper, F5...), local network",
    .caps = CHORUS_CAP_REMOTE,
    .flags = 0,
    .max_input_chars = 2000,
    .first_chunk_chars = 0,
    .sample_rate = 0,
    .max_concurrent = 1,
    .default_voice = NULL, /* the first of /api/voices: female_01.wav is XTTS-only */
    .options = at_options,
    .priv_size = sizeof(struct at_priv),
    .ops = &at_ops,
    .prices = (const struct chorus_price[]){{.model = NULL, .basis = "local server: free"}},
};
