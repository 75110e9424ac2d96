/*
 * chatterbox.c — the `chatterbox` backend: voice cloning through a Chatterbox server
 * (Resemble AI's model runs in that server, not in chorus). ../shared/specs/providers.md §4.
 *
 * Two server APIs, picked by CHATTERBOX_API / [chatterbox] api:
 *  - devnen (Chatterbox-TTS-Server, port 8004): POST /tts with voice_mode predefined|clone and
 *    every model knob; reference clips go up through POST /upload_reference.
 *  - travisvn (chatterbox-tts-api, port 4123): POST /v1/audio/speech/stream (chunked WAV as it is
 *    generated) or /v1/audio/speech; reference clips go into its voice library (POST /v1/voices).
 *
 * Around the model: text preprocessing (cb_text.c); the core chunks at sentence boundaries to
 * max_input_chars (300) and crossfades joins; each job's audio is forwarded as it arrives.
 * Multi-candidate mode asks for N takes with different seeds, transcribes each with pocketsphinx
 * (cb_asr.c) and keeps the best match, retrying below min_score. A failed chunk is retried with
 * the balanced, then the safe preset before the stream fails.
 *
 * Voices: "clone:NAME" or NAME from the local voice library (core/voicelib.h) clone that clip,
 * uploaded under "chorus-NAME-<sha8>" the first time; anything else is a server voice
 * (devnen: a predefined voice file; travisvn: a library voice or alias).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backends/chatterbox/cb_internal.h"
#include "chorus/chorus.h"
#include "core/backend.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "core/voicelib.h"
#include "net/net.h"
#include "remote/remote.h"

enum { API_DEVNEN = 0, API_TRAVISVN = 1 };

#define MAX_UPLOADED 64

/* devnen's default max_reference_duration_sec (config.yaml; server.py refuses longer uploads) */
#define CB_DEVNEN_MAX_REF_S 30

struct cb_priv {
    char url[512];
    int api;
    char asr_dir[512];
    pthread_mutex_t mu; /* uploaded[] */
    int mu_ok;
    char uploaded[MAX_UPLOADED][128]; /* server-side names known to be there */
    size_t n_uploaded;
    int asr_failed;
    char asr_err[512];
    struct chorus_http_pool *pool; /* connections reused across chunks and retries */
};

static const struct chorus_option_desc cb_options[] = {
    {"exaggeration", "float", "0.5", 0.25, 2.0, NULL,
     "emotion intensity: 0.5 neutral, higher is more dramatic (and faster)"},
    {"cfg_weight", "float", "0.5", 0.0, 1.0, NULL,
     "how closely pacing follows the reference voice (devnen accepts 0.2-1.0)"},
    {"temperature", "float", "0.8", 0.0, 5.0, NULL,
     "sampling randomness (devnen accepts 0-1.5, travisvn 0.05-5)"},
    {"seed", "int", "0", 0, 2147483647, NULL,
     "devnen: random seed, 0 = random; candidate i uses seed+i"},
    {"speed_factor", "float", "1.0", 0.25, 4.0, NULL,
     "devnen: speaking rate (default: the request's speed); travisvn ignores speed"},
    {"language", "string", "en", 1, 0, NULL, "devnen multilingual model: language code"},
    {"candidates", "int", "1", 1, 8, NULL,
     "takes per chunk; each is transcribed (pocketsphinx) and the best match with the text wins"},
    {"validate", "bool", "false", 1, 0, NULL,
     "transcribe even a single take and regenerate it when it scores below min_score"},
    {"min_score", "float", "0.5", 0.0, 1.0, NULL,
     "transcript match (0-1) below which a chunk's takes are regenerated"},
    {"candidate_rounds", "int", "2", 1, 5, NULL,
     "rounds of takes before settling for the best one below min_score"},
    {"report_scores", "bool", "false", 1, 0, NULL,
     "log every take's score and transcript at warning level (they are always logged at info)"},
    {"fallback", "bool", "true", 1, 0, NULL,
     "when a chunk fails, retry it with the balanced, then the safe preset"},
    {"preprocess", "bool", "true", 1, 0, NULL,
     "clean the text for the model (initials, [n] references, URLs, repeated punctuation)"},
    {"stream", "bool", "true", 1, 0, NULL,
     "travisvn: use /v1/audio/speech/stream so audio arrives while it is generated"},
    CHORUS_REMOTE_OPTIONS,
    {NULL, NULL, NULL, 0, 0, NULL, NULL}};

/* ---- settings: request option, else env/config (incl. the prior [app_tts] keys) ---------- */

struct knob {
    const char *key;
    const char *env;  /* also the prior implementation's [app_tts] key */
};
static const struct knob knobs[] = {
    {"exaggeration", "CHATTERBOX_EXAGGERATION"}, {"cfg_weight", "CHATTERBOX_CFG_WEIGHT"},
    {"temperature", "CHATTERBOX_TEMPERATURE"},   {"seed", "CHATTERBOX_RANDOM_SEED"},
    {"speed_factor", "CHATTERBOX_SPEED_FACTOR"}, {"language", "CHATTERBOX_LANGUAGE"},
    {"candidates", "CHATTERBOX_NUM_CANDIDATES"}, {"validate", "CHATTERBOX_VALIDATE_WHISPER"},
    {"min_score", "CHATTERBOX_MIN_SCORE"},       {"preprocess", "CHATTERBOX_PREPROCESS_TEXT"},
    {"stream", "CHATTERBOX_STREAMING"},          {"fallback", "CHATTERBOX_FALLBACK"},
    {NULL, NULL}};

static const struct chorus_option_desc *opt_desc(const char *key) {
    for (const struct chorus_option_desc *d = cb_options; d->key; d++)
        if (!strcmp(d->key, key)) return d;
    return NULL;
}

static const char *cfg_value(const struct chorus_config *cfg, const char *key) {
    for (const struct knob *k = knobs; k->key; k++) {
        if (strcmp(k->key, key)) continue;
        const char *places[] = {"chatterbox", key, "app_tts", k->env, NULL};
        return chorus_config_find(cfg, k->env, places);
    }
    return NULL;
}

static const char *setting(const struct chorus_backend *b, const struct chorus_job *job,
                           const char *key) {
    const char *v = chorus_job_option(job, key);
    if (v) return v;
    v = cfg_value(chorus_backend_config(b), key);
    if (v && *v) return v;
    const struct chorus_option_desc *d = opt_desc(key);
    return d ? d->def : NULL;
}

static double setting_double(const struct chorus_backend *b, const struct chorus_job *job,
                             const char *key) {
    const char *v = setting(b, job, key);
    return v ? atof(v) : 0;
}

static int parse_bool(const char *v) {
    int b = 0;
    return v && chorus_parse_bool(v, &b) == 0 && b;
}

static int setting_bool(const struct chorus_backend *b, const struct chorus_job *job,
                        const char *key) {
    return parse_bool(setting(b, job, key));
}

/* Check a config/env value against the option table (same rules as request options). */
static int check_cfg_value(const char *key, const char *v, char *err, size_t errlen) {
    const struct chorus_option_desc *d = opt_desc(key);
    if (!d || !v) return 0;
    if (!strcmp(d->type, "float") || !strcmp(d->type, "int")) {
        char *end;
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x) || (d->min <= d->max && (x < d->min || x > d->max)) ||
            (!strcmp(d->type, "int") && x != floor(x))) {
            chorus_fmt(err, errlen, "chatterbox: %s = '%s' in the config/environment is invalid: "
                       "use a %s from %g to %g", key, v, d->type, d->min, d->max);
            return -1;
        }
    } else if (!strcmp(d->type, "bool")) {
        int b;
        if (chorus_parse_bool(v, &b) == 0) return 0;
        chorus_fmt(err, errlen, "chatterbox: %s = '%s' in the config/environment is not a "
                   "boolean (true or false)", key, v);
        return -1;
    }
    return 0;
}

static const char *api_name(int api) { return api == API_TRAVISVN ? "travisvn" : "devnen"; }

static int cb_open(struct chorus_backend *b, const struct chorus_config *cfg) {
    struct cb_priv *p = b->priv;
    if (pthread_mutex_init(&p->mu, NULL) != 0) return CHORUS_E_NOMEM;
    p->mu_ok = 1;
    char api[32];
    const char *api_places[] = {"chatterbox", "api", NULL};
    const char *url_places[] = {"chatterbox", "url", "chatterbox", "base_url", "app_tts",
                                "CHATTERBOX_URL", NULL};
    int have_url = chorus_remote_setting(cfg, "CHATTERBOX_URL", url_places, p->url, sizeof p->url);
    if (chorus_remote_setting(cfg, "CHATTERBOX_API", api_places, api, sizeof api)) {
        if (!strcasecmp(api, "devnen")) {
            p->api = API_DEVNEN;
        } else if (!strcasecmp(api, "travisvn")) {
            p->api = API_TRAVISVN;
        } else {
            chorus_backend_fail(b, CHORUS_E_CONFIG,
                     "chatterbox: unknown server API '%.40s' in CHATTERBOX_API or [chatterbox] "
                     "api; use devnen (Chatterbox-TTS-Server) or travisvn (chatterbox-tts-api)",
                     api);
            return CHORUS_E_CONFIG;
        }
    } else {
        /* no API named: travisvn's well-known port says travisvn, anything else devnen */
        p->api = have_url && strstr(p->url, ":4123") ? API_TRAVISVN : API_DEVNEN;
    }
    if (!have_url)
        snprintf(p->url, sizeof p->url, "%s",
                 p->api == API_TRAVISVN ? "http://127.0.0.1:4123" : "http://127.0.0.1:8004");
    size_t l = strlen(p->url);
    while (l > 0 && p->url[l - 1] == '/') p->url[--l] = '\0';
    if (l >= 3 && !strcmp(p->url + l - 3, "/v1")) p->url[l -= 3] = '\0';
    if (strncmp(p->url, "http://", 7) != 0 && strncmp(p->url, "https://", 8) != 0) {
        chorus_backend_fail(b, CHORUS_E_CONFIG,
                 "chatterbox: server URL '%.200s' is not an http(s) URL; set CHATTERBOX_URL or "
                 "[chatterbox] url, e.g. http://127.0.0.1:8004", p->url);
        return CHORUS_E_CONFIG;
    }
    for (const struct knob *k = knobs; k->key; k++) {
        const char *v = cfg_value(cfg, k->key);
        if (v && *v && check_cfg_value(k->key, v, b->open_error, sizeof b->open_error))
            return CHORUS_E_CONFIG;
    }
    const char *asr_places[] = {"chatterbox", "asr_model_dir", NULL};
    if (!chorus_remote_setting(cfg, "CHATTERBOX_ASR_MODEL_DIR", asr_places, p->asr_dir,
                               sizeof p->asr_dir))
        snprintf(p->asr_dir, sizeof p->asr_dir, "/usr/share/pocketsphinx/model/en-us");
    p->pool = chorus_http_pool_create(NULL);
    return CHORUS_OK;
}

static void cb_close(struct chorus_backend *b) {
    struct cb_priv *p = b->priv;
    if (p->mu_ok) pthread_mutex_destroy(&p->mu);
    p->mu_ok = 0;
    chorus_http_pool_destroy(p->pool);
    p->pool = NULL;
}

/* ---- small HTTP exchanges (lists, uploads, probe) ---------------------------------------- */

struct small_call {
    struct chorus_buf body;
    const struct chorus_job *job;
};

static int small_on_response(void *ud, const struct chorus_http_result *r) {
    (void)r;
    ((struct small_call *)ud)->body.len = 0;
    return CHORUS_OK;
}

static int small_on_body(void *ud, const void *data, size_t n) {
    struct small_call *c = ud;
    if (c->body.len + n > (8u << 20)) return CHORUS_E_TOO_LONG;
    return chorus_buf_append(&c->body, data, n) ? CHORUS_E_NOMEM : CHORUS_OK;
}

static int small_cancelled(void *ud) {
    struct small_call *c = ud;
    return c->job ? chorus_job_cancelled(c->job) : 0;
}

static void cb_on_retry(void *ud, int attempt, long wait_ms, const char *why) {
    (void)ud;
    chorus_remote_log_retry("chatterbox", attempt, wait_ms, why);
}

static void cb_classify(void *ud, const struct chorus_http_result *r,
                        struct chorus_http_verdict *v) {
    (void)ud;
    struct chorus_provider_error e;
    chorus_provider_error_parse(r->error_body, r->error_body_len, &e);
    chorus_http_classify_default("chatterbox", r, v);
    const char *m = e.message[0] ? e.message : "(no message)";
    long st = r->status;
    if (st == 503) {
        v->retryable = 1;
        snprintf(v->msg, sizeof v->msg, "chatterbox: the server is not ready (HTTP 503): %s; is "
                 "its model loaded?", m);
    } else if (st == 404) {
        snprintf(v->msg, sizeof v->msg, "chatterbox: not found (HTTP 404): %s; check the voice, "
                 "and that CHATTERBOX_API (devnen or travisvn) matches the server", m);
    } else if (st == 400 || st == 422) {
        snprintf(v->msg, sizeof v->msg, "chatterbox: the server rejected the request (HTTP %ld):"
                 " %s", st, m);
    } else if (st >= 500) {
        snprintf(v->msg, sizeof v->msg, "chatterbox: server error (HTTP %ld): %s", st, m);
    }
}

/* Perform a request whose answer is small (JSON). *body is malloc'd (NUL-terminated). */
static int small_request(struct cb_priv *p, const struct chorus_job *job, const char *method,
                         const char *path, const char *const *headers, const char *body,
                         size_t body_len, struct chorus_http_policy pol, char **out,
                         long *status, char *err, size_t errlen) {
    char url[700];
    if (chorus_net_join_url(url, sizeof url, p->url, path) != 0) {
        chorus_fmt(err, errlen, "chatterbox: the server URL is too long");
        return CHORUS_E_CONFIG;
    }
    struct small_call c = {.job = job};
    struct chorus_http_req req = {0};
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = body_len;
    req.what = "chatterbox";
    req.pool = p->pool;
    req.policy = pol;
    req.on_response = small_on_response;
    req.on_body = small_on_body;
    req.classify = cb_classify;
    req.on_retry = cb_on_retry;
    req.is_cancelled = small_cancelled;
    req.ud = &c;
    struct chorus_http_result r;
    int rc = chorus_http_perform(&req, &r);
    if (status) *status = r.status;
    if (rc == CHORUS_OK) {
        if (chorus_buf_append(&c.body, "", 1)) rc = CHORUS_E_NOMEM;
    } else if (r.msg[0]) {
        chorus_fmt(err, errlen, "%s", r.msg);
    } else {
        chorus_fmt(err, errlen, "chatterbox: %s %s failed: %s", method, path, chorus_strerror(rc));
    }
    /* a 409 (travisvn: the voice exists) is an answer the caller wants to see */
    if (rc != CHORUS_OK && r.status == 409) rc = CHORUS_OK;
    chorus_http_result_release(&r);
    if (rc == CHORUS_OK && out) {
        *out = c.body.p;
        if (!*out) *out = strdup("");
    } else {
        chorus_buf_release(&c.body);
    }
    return rc;
}

static void server_down_message(struct cb_priv *p, int rc, char *err, size_t errlen) {
    if (rc != CHORUS_E_NETWORK && rc != CHORUS_E_TIMEOUT) return;
    char why[700];
    snprintf(why, sizeof why, "%s", err);
    chorus_fmt(err, errlen, "chatterbox: the %s server at %s did not answer (%s); start it (see "
               "docs/backends/chatterbox.md) or point CHATTERBOX_URL at it", api_name(p->api),
               p->url, why);
}

static int cb_probe(struct chorus_backend *b, struct chorus_probe *why) {
    struct cb_priv *p = b->priv;
    struct chorus_http_policy pol = {0};
    pol.max_retries = 0;
    pol.connect_timeout_ms = 1500;
    pol.total_timeout_ms = 3000;
    char err[512] = "";
    long st = 0;
    char *body = NULL;
    int rc = small_request(p, NULL, "GET",
                           p->api == API_TRAVISVN ? "health" : "get_predefined_voices", NULL,
                           NULL, 0, pol, &body, &st, err, sizeof err);
    if (rc == CHORUS_OK && p->api == API_TRAVISVN) {
        /* travisvn answers /health with 200 while "initializing" or in "error" (app/api/
         * endpoints/health.py): ready means status "healthy" and the model loaded */
        json_t *j = body ? json_loads(body, 0, NULL) : NULL;
        const char *hs = json_string_value(json_object_get(j, "status"));
        int loaded = json_is_true(json_object_get(j, "model_loaded"));
        if (!hs || strcmp(hs, "healthy") != 0 || !loaded) {
            snprintf(why->reason, sizeof why->reason, "chatterbox: the server at %.200s is up "
                     "but not ready (status '%.40s', model %s); wait for the model to load, or "
                     "see the server's log", p->url, hs ? hs : "?",
                     loaded ? "loaded" : "not loaded");
            rc = CHORUS_E_UNAVAILABLE;
        }
        json_decref(j);
        if (rc) {
            free(body);
            return 0;
        }
    }
    free(body);
    if (rc == CHORUS_OK) return 1;
    if (rc == CHORUS_E_NETWORK || rc == CHORUS_E_TIMEOUT) {
        server_down_message(p, rc, err, sizeof err);
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "%s", err);
    } else {
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "%s", err[0] ? err : chorus_strerror(rc));
    }
    return 0;
}

/* ---- voice lists ----------------------------------------------------------------------- */

int chorus_cb_parse_voice_list(const char *body, size_t len, int api,
                        void (*fn)(void *ud, const char *name, const char *display), void *ud) {
    json_t *j = json_loadb(body, len, 0, NULL);
    if (!j) return -1;
    json_t *arr = j;
    if (json_is_object(j)) {
        arr = json_object_get(j, "voices");
        if (!arr) arr = json_object_get(j, "files");
    }
    if (!json_is_array(arr)) {
        json_decref(j);
        return -1;
    }
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *name = NULL, *display = NULL;
        if (json_is_string(v)) {
            name = json_string_value(v);
        } else if (json_is_object(v)) {
            name = json_string_value(json_object_get(v, api == API_DEVNEN ? "filename" : "name"));
            if (!name) name = json_string_value(json_object_get(v, "name"));
            if (!name) name = json_string_value(json_object_get(v, "filename"));
            display = json_string_value(json_object_get(v, "display_name"));
        }
        if (!name || !*name || strlen(name) > 200) continue;
        fn(ud, name, display);
        n++;
    }
    json_decref(j);
    return n;
}

struct list_ctx {
    struct chorus_voice_list *out;
    int rc;
    const char *want; /* has_voice: the name looked for */
    int found;
};

static void add_server_voice(void *ud, const char *name, const char *display) {
    struct list_ctx *c = ud;
    if (c->rc) return;
    if (!strncmp(name, "chorus-", 7)) return; /* our uploads: listed as clone:NAME */
    c->rc = chorus_voice_list_add(c->out, name, display ? display : name, NULL, NULL,
                                  "voice on the Chatterbox server");
}

static int cb_list_voices(struct chorus_backend *b, struct chorus_voice_list *out) {
    struct cb_priv *p = b->priv;
    struct chorus_voicelib_entry *v;
    size_t n;
    char err[1024];
    int rc = chorus_voicelib_list(chorus_backend_config(b), &v, &n, err, sizeof err);
    if (rc) CHORUS_LOGW("chatterbox: %s", err);
    for (size_t i = 0; rc == CHORUS_OK && i < n; i++) {
        char id[80], desc[1200];
        snprintf(id, sizeof id, "clone:%s", v[i].name);
        snprintf(desc, sizeof desc, "cloned from the voice library (%.1f s)%s%s", v[i].duration,
                 v[i].description && *v[i].description ? ": " : "",
                 v[i].description ? v[i].description : "");
        rc = chorus_voice_list_add(out, id, v[i].name, NULL, NULL, desc);
    }
    if (rc == CHORUS_OK) chorus_voicelib_entries_free(v, n);
    if (rc && rc != CHORUS_E_CONFIG && rc != CHORUS_E_IO) return rc;
    struct chorus_http_policy pol = {0};
    pol.max_retries = 0;
    pol.connect_timeout_ms = 2000;
    pol.total_timeout_ms = 10000;
    char *body = NULL;
    rc = small_request(p, NULL, "GET",
                       p->api == API_TRAVISVN ? "v1/voices" : "get_predefined_voices", NULL, NULL,
                       0, pol, &body, NULL, err, sizeof err);
    if (rc) {
        CHORUS_LOGW("chatterbox: cannot list the server's voices: %s", err);
        return CHORUS_OK; /* the cloned voices still work */
    }
    struct list_ctx c = {.out = out};
    if (chorus_cb_parse_voice_list(body, strlen(body), p->api, add_server_voice, &c) < 0)
        CHORUS_LOGW("chatterbox: the server's voice list is not a JSON list of voices");
    free(body);
    return c.rc;
}

/* The language: the option (or its config default), else the request's language ("fr-ca"
 * -> "fr"), else "en". */
static void job_language(const struct chorus_backend *b, const struct chorus_job *job,
                         char *out, size_t cap) {
    const char *v = chorus_job_option(job, "language");
    if (!v || !*v) v = cfg_value(chorus_backend_config(b), "language");
    if ((!v || !*v) && job->language && *job->language) {
        size_t n = strcspn(job->language, "-_");
        snprintf(out, cap, "%.*s", (int)(n < 8 ? n : 8), job->language);
        return;
    }
    snprintf(out, cap, "%s", v && *v ? v : "en");
}

/* ---- cloned voices: resolve and upload --------------------------------------------------- */

static void has_voice(void *ud, const char *name, const char *display) {
    (void)display;
    struct list_ctx *c = ud;
    if (!strcmp(name, c->want)) c->found = 1;
}

static int known_uploaded(struct cb_priv *p, const char *name) {
    pthread_mutex_lock(&p->mu);
    int k = 0;
    for (size_t i = 0; i < p->n_uploaded && !k; i++) k = !strcmp(p->uploaded[i], name);
    pthread_mutex_unlock(&p->mu);
    return k;
}

static void remember_uploaded(struct cb_priv *p, const char *name) {
    pthread_mutex_lock(&p->mu);
    int k = 0;
    for (size_t i = 0; i < p->n_uploaded && !k; i++) k = !strcmp(p->uploaded[i], name);
    if (!k) {
        if (p->n_uploaded == MAX_UPLOADED) p->n_uploaded = 0; /* forget; re-checked on use */
        snprintf(p->uploaded[p->n_uploaded++], sizeof p->uploaded[0], "%s", name);
    }
    pthread_mutex_unlock(&p->mu);
}

/* A reference clip is at most a minute of audio (CHORUS_VOICELIB_MAX_S); this bounds what a
 * damaged or replaced library file can make us hold. */
#define CB_CLIP_MAX ((size_t)64 << 20)

/* multipart/form-data: text fields, then one file field. */
static int multipart(struct chorus_buf *out, char *ctype, size_t ctcap, const char *const *fields,
                     const char *file_field, const char *filename, const struct chorus_buf *file) {
    char boundary[64];
    snprintf(boundary, sizeof boundary, "chorus-%08lx%08lx", (unsigned long)random(),
             (unsigned long)time(NULL));
    snprintf(ctype, ctcap, "Content-Type: multipart/form-data; boundary=%s", boundary);
    int e = 0;
    for (size_t i = 0; fields && fields[i]; i += 2)
        e |= chorus_buf_printf(out, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                               "%s\r\n", boundary, fields[i], fields[i + 1]);
    e |= chorus_buf_printf(out, "--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                           "filename=\"%s\"\r\nContent-Type: audio/wav\r\n\r\n", boundary,
                           file_field, filename);
    e |= chorus_buf_append(out, file->p, file->len);
    e |= chorus_buf_printf(out, "\r\n--%s--\r\n", boundary);
    return e ? CHORUS_E_NOMEM : CHORUS_OK;
}

/* Make sure the cloned voice is on the server; srv_name receives its server-side name. */
static int ensure_uploaded(struct chorus_backend *b, const struct chorus_job *job,
                           const struct chorus_voicelib_entry *v, char *srv_name, size_t cap) {
    struct cb_priv *p = b->priv;
    if (p->api == API_DEVNEN)
        snprintf(srv_name, cap, "chorus-%s-%.8s.wav", v->name, v->sha256);
    else
        snprintf(srv_name, cap, "chorus-%s-%.8s", v->name, v->sha256);
    if (known_uploaded(p, srv_name)) return CHORUS_OK;
    struct chorus_http_policy pol = chorus_remote_policy(job);
    char err[1024];
    char *body = NULL;
    int rc = small_request(p, job, "GET",
                           p->api == API_TRAVISVN ? "v1/voices" : "get_reference_files", NULL,
                           NULL, 0, pol, &body, NULL, err, sizeof err);
    if (rc) {
        server_down_message(p, rc, err, sizeof err);
        return rc == CHORUS_E_CANCELLED ? rc : chorus_job_fail(job, rc, "%s", err);
    }
    struct list_ctx c = {.want = srv_name};
    chorus_cb_parse_voice_list(body, strlen(body), p->api, has_voice, &c);
    free(body);
    if (c.found) {
        remember_uploaded(p, srv_name);
        return CHORUS_OK;
    }
    if (p->api == API_DEVNEN && v->duration > CB_DEVNEN_MAX_REF_S + 0.05)
        return chorus_job_fail(job, CHORUS_E_INVALID, "chatterbox: the reference clip of voice "
                               "'%s' is %.1f s; the devnen server refuses clips over %d s "
                               "(max_reference_duration_sec in its config.yaml): add the voice "
                               "again with a clip of at most %d s, or raise that setting",
                               v->name, v->duration, CB_DEVNEN_MAX_REF_S, CB_DEVNEN_MAX_REF_S);
    struct chorus_buf clip = {0}, form = {0};
    if (chorus_read_file(v->path, CB_CLIP_MAX, &clip.p, &clip.len) < 0)
        return chorus_job_fail(job, errno == ENOMEM ? CHORUS_E_NOMEM : CHORUS_E_IO,
                               "chatterbox: cannot read the reference clip %s of voice '%s' (%s); "
                               "add the voice again", v->path, v->name, strerror(errno));
    clip.cap = clip.len + 1;
    char ctype[128];
    char lang[16];
    job_language(b, job, lang, sizeof lang);
    const char *fields_tv[] = {"voice_name", srv_name, "language", lang, NULL};
    char fname[160];
    snprintf(fname, sizeof fname, "%s%s", srv_name, p->api == API_TRAVISVN ? ".wav" : "");
    rc = multipart(&form, ctype, sizeof ctype, p->api == API_TRAVISVN ? fields_tv : NULL,
                   p->api == API_TRAVISVN ? "voice_file" : "files", fname, &clip);
    chorus_buf_release(&clip);
    if (rc) {
        chorus_buf_release(&form);
        return chorus_job_fail(job, rc, "chatterbox: out of memory");
    }
    const char *hdrs[] = {ctype, "Accept: application/json", NULL};
    long st = 0;
    rc = small_request(p, job, "POST", p->api == API_TRAVISVN ? "v1/voices" : "upload_reference",
                       hdrs, form.p, form.len, pol, &body, &st, err, sizeof err);
    chorus_buf_release(&form);
    if (rc) {
        server_down_message(p, rc, err, sizeof err);
        if (rc == CHORUS_E_CANCELLED) return rc;
        return chorus_job_fail(job, rc, "chatterbox: uploading the reference clip of voice '%s' "
                               "failed: %s", v->name, err);
    }
    free(body);
    CHORUS_LOGI("chatterbox: uploaded voice '%s' to %s as %s%s", v->name, p->url, srv_name,
                st == 409 ? " (it was already there)" : "");
    remember_uploaded(p, srv_name);
    return CHORUS_OK;
}

/* A server voice name must be in travisvn's list (remembered once seen). */
static int check_server_voice(struct chorus_backend *b, const struct chorus_job *job,
                              const char *name) {
    struct cb_priv *p = b->priv;
    /* the six OpenAI names are taken as "the default voice" on purpose (speech.py) */
    static const char *const openai_names[] = {"alloy", "echo", "fable", "onyx", "nova",
                                               "shimmer"};
    for (size_t i = 0; i < sizeof openai_names / sizeof openai_names[0]; i++)
        if (!strcasecmp(name, openai_names[i])) return CHORUS_OK;
    if (known_uploaded(p, name)) return CHORUS_OK;
    char err[1024];
    char *body = NULL;
    int rc = small_request(p, job, "GET", "v1/voices", NULL, NULL, 0, chorus_remote_policy(job),
                           &body, NULL, err, sizeof err);
    if (rc) {
        free(body);
        server_down_message(p, rc, err, sizeof err);
        return rc == CHORUS_E_CANCELLED ? rc : chorus_job_fail(job, rc, "%s", err);
    }
    struct list_ctx c = {.want = name};
    chorus_cb_parse_voice_list(body, strlen(body), p->api, has_voice, &c);
    free(body);
    if (!c.found)
        return chorus_job_fail(job, CHORUS_E_UNKNOWN_VOICE, "chatterbox: the server has no voice "
                               "'%s' (it would silently speak with its default voice instead); "
                               "'chorus voices -b chatterbox' lists them, 'default' picks the "
                               "server's default", name);
    remember_uploaded(p, name);
    return CHORUS_OK;
}

/* ---- one take: a request for one chunk with one set of parameters ------------------------ */

/* which knobs a request sends to devnen (its config.yaml's tuned defaults apply to the rest) */
enum { K_EXAG = 1, K_CFG = 2, K_TEMP = 4, K_SEED = 8, K_SPEED = 16, K_ALL = 31 };

struct params {
    const char *preset;
    double exaggeration, cfg_weight, temperature, speed_factor;
    long long seed;
    int candidates;
    unsigned set; /* K_*: set by the user (or a preset), so sent to devnen */
};

struct pcmbuf {
    int16_t *x;
    size_t n, cap;
    int rate;
};

struct take_call {
    const struct chorus_job *job;
    int collect; /* 1: PCM into pcm (candidates); 0: stream to the sink via audio */
    struct chorus_remote_audio audio;
    struct chorus_wavreader *wav;
    struct pcmbuf pcm;
    int status;
    char msg[600];
};

static int take_collect_pcm(void *ud, const short *x, size_t n, int rate) {
    struct take_call *t = ud;
    if (t->pcm.n + n > t->pcm.cap) {
        size_t nc = (t->pcm.n + n) * 2;
        if (nc > (size_t)rate * 600) return CHORUS_E_TOO_LONG; /* 10 minutes for one chunk */
        int16_t *nx = realloc(t->pcm.x, nc * sizeof *nx);
        if (!nx) return CHORUS_E_NOMEM;
        t->pcm.x = nx;
        t->pcm.cap = nc;
    }
    memcpy(t->pcm.x + t->pcm.n, x, n * sizeof *x);
    t->pcm.n += n;
    t->pcm.rate = rate;
    return CHORUS_OK;
}

static int take_on_response(void *ud, const struct chorus_http_result *r) {
    struct take_call *t = ud;
    if (strncasecmp(r->content_type, "application/json", 16) == 0) {
        snprintf(t->msg, sizeof t->msg, "chatterbox: the server answered JSON instead of audio; "
                 "is CHATTERBOX_API (%s) right for this server?", "devnen or travisvn");
        t->status = CHORUS_E_BACKEND;
        return CHORUS_E_BACKEND;
    }
    if (t->collect) {
        t->pcm.n = 0;
        chorus_wavreader_release(t->wav);
        chorus_wavreader_init(t->wav, take_collect_pcm, t);
    } else {
        chorus_remote_audio_rewind(&t->audio);
    }
    return CHORUS_OK;
}

static int take_on_body(void *ud, const void *data, size_t n) {
    struct take_call *t = ud;
    int rc;
    if (t->collect) {
        rc = chorus_wavreader_feed(t->wav, data, n);
        if (rc == CHORUS_E_BACKEND && !t->status) {
            snprintf(t->msg, sizeof t->msg, "chatterbox: the server's audio is not a WAV this "
                     "backend reads: %s", t->wav->err);
            t->status = rc;
        }
        return rc;
    }
    rc = chorus_remote_audio_write(&t->audio, data, n);
    if (rc && rc != CHORUS_E_CANCELLED && t->audio.msg[0] && !t->status) {
        snprintf(t->msg, sizeof t->msg, "chatterbox: %s", t->audio.msg);
        t->status = rc;
    }
    return rc;
}

static int take_cancelled(void *ud) { return chorus_job_cancelled(((struct take_call *)ud)->job); }

static char *build_body(struct cb_priv *p, const struct chorus_backend *b,
                        const struct chorus_job *job, const char *text, const struct params *pr,
                        const char *voice, int clone, long long seed) {
    json_t *o = json_object();
    double r3 = 1000.0;
    if (p->api == API_DEVNEN) {
        json_object_set_new(o, "text", json_string(text));
        json_object_set_new(o, "voice_mode", json_string(clone ? "clone" : "predefined"));
        json_object_set_new(o, clone ? "reference_audio_filename" : "predefined_voice_id",
                            json_string(voice));
        json_object_set_new(o, "output_format", json_string("wav"));
        json_object_set_new(o, "split_text", json_false()); /* chorus chunks */
        /* only what the user set: an omitted field takes the server's config.yaml value
         * (devnen server.py: request.x if request.x is not None else config default) */
        if (pr->set & K_TEMP)
            json_object_set_new(o, "temperature", json_real(round(pr->temperature * r3) / r3));
        if (pr->set & K_EXAG)
            json_object_set_new(o, "exaggeration", json_real(round(pr->exaggeration * r3) / r3));
        if (pr->set & K_CFG)
            json_object_set_new(o, "cfg_weight", json_real(round(pr->cfg_weight * r3) / r3));
        if ((pr->set & K_SEED) || seed != pr->seed) json_object_set_new(o, "seed", json_integer(seed));
        if (pr->set & K_SPEED)
            json_object_set_new(o, "speed_factor", json_real(round(pr->speed_factor * r3) / r3));
        char lang[16];
        job_language(b, job, lang, sizeof lang);
        json_object_set_new(o, "language", json_string(lang));
    } else {
        json_object_set_new(o, "input", json_string(text));
        if (voice && *voice) json_object_set_new(o, "voice", json_string(voice));
        json_object_set_new(o, "response_format", json_string("wav"));
        json_object_set_new(o, "exaggeration", json_real(round(pr->exaggeration * r3) / r3));
        json_object_set_new(o, "cfg_weight", json_real(round(pr->cfg_weight * r3) / r3));
        json_object_set_new(o, "temperature", json_real(round(pr->temperature * r3) / r3));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/*
 * One request. collect=0 streams the audio to the sink as it arrives; collect=1 gathers PCM
 * into *pcm (caller frees x). *delivered says whether any audio reached the sink (then a
 * fallback would duplicate audio).
 */
static int take(struct chorus_backend *b, const struct chorus_job *job, struct chorus_sink *sink,
                const char *text, const struct params *pr, const char *voice, int clone,
                long long seed, int collect, struct pcmbuf *pcm, int *delivered, char *err,
                size_t errlen) {
    struct cb_priv *p = b->priv;
    /* travisvn's stream endpoint always writes int16; its plain one float32 on most installs
     * (torchaudio's soundfile backend): both are read, the stream one is preferred */
    int stream_ep = p->api == API_TRAVISVN && setting_bool(b, job, "stream");
    const char *path = p->api == API_DEVNEN ? "tts"
                       : stream_ep          ? "v1/audio/speech/stream"
                                            : "v1/audio/speech";
    char url[700];
    if (chorus_net_join_url(url, sizeof url, p->url, path) != 0) {
        chorus_fmt(err, errlen, "chatterbox: the server URL is too long");
        return CHORUS_E_CONFIG;
    }
    char *body = build_body(p, b, job, text, pr, voice, clone, seed);
    if (!body) {
        chorus_fmt(err, errlen, "chatterbox: cannot encode the request (is the text UTF-8?)");
        return CHORUS_E_NOMEM;
    }
    struct take_call t;
    memset(&t, 0, sizeof t);
    t.job = job;
    t.collect = collect;
    int rc = chorus_remote_audio_init(&t.audio, job, sink, CHORUS_REMOTE_WAV,
                                      CHORUS_FORMAT_DEFAULT, 24000);
    t.wav = malloc(sizeof *t.wav);
    if (rc || !t.wav) {
        free(body);
        free(t.wav);
        chorus_remote_audio_release(&t.audio);
        chorus_fmt(err, errlen, "chatterbox: out of memory");
        return CHORUS_E_NOMEM;
    }
    chorus_wavreader_init(t.wav, take_collect_pcm, &t);
    const char *hdrs[] = {"Content-Type: application/json", "Accept: audio/wav, */*", NULL};
    struct chorus_http_req req = {0};
    req.method = "POST";
    req.url = url;
    req.headers = hdrs;
    req.body = body;
    req.body_len = strlen(body);
    req.what = "chatterbox";
    req.pool = p->pool;
    req.policy = chorus_remote_policy(job);
    req.on_response = take_on_response;
    req.on_body = take_on_body;
    req.classify = cb_classify;
    req.on_retry = cb_on_retry;
    req.is_cancelled = take_cancelled;
    req.ud = &t;
    struct chorus_http_result r;
    rc = chorus_http_perform(&req, &r);
    if (rc == CHORUS_OK && t.status) rc = t.status;
    if (rc == CHORUS_OK) {
        if (collect) {
            rc = chorus_wavreader_finish(t.wav);
            if (rc) snprintf(t.msg, sizeof t.msg, "chatterbox: the server's audio is not a "
                             "whole WAV: %s", t.wav->err);
            else if (t.pcm.n == 0) {
                rc = CHORUS_E_BACKEND;
                snprintf(t.msg, sizeof t.msg, "chatterbox: the server sent no audio");
            }
        } else {
            rc = chorus_remote_audio_finish(&t.audio);
            if (rc && t.audio.msg[0]) snprintf(t.msg, sizeof t.msg, "chatterbox: %s", t.audio.msg);
            if (!rc && t.audio.samples == 0) {
                rc = CHORUS_E_BACKEND;
                snprintf(t.msg, sizeof t.msg, "chatterbox: the server sent no audio");
            }
        }
    }
    if (!collect) *delivered = chorus_once_delivered(&t.audio.once) > 0;
    if (rc && rc != CHORUS_E_CANCELLED) {
        if (t.msg[0]) chorus_fmt(err, errlen, "%s", t.msg);
        else if (r.msg[0]) chorus_fmt(err, errlen, "%s", r.msg);
        else chorus_fmt(err, errlen, "chatterbox: %s", chorus_strerror(rc));
        server_down_message(p, rc, err, errlen);
    }
    if (rc == CHORUS_OK && r.retries)
        CHORUS_LOGI("chatterbox: chunk %u needed %d retries", job->index, r.retries);
    chorus_http_result_release(&r);
    chorus_remote_audio_release(&t.audio);
    chorus_wavreader_release(t.wav);
    free(t.wav);
    free(body);
    if (rc == CHORUS_OK && collect) {
        *pcm = t.pcm;
    } else {
        free(t.pcm.x);
    }
    return rc;
}

/* ---- candidates ------------------------------------------------------------------------ */

/*
 * The recognizer is loaded once per process (its model is ~30 MB and takes a while to load) and
 * kept until exit; every instance and engine shares it behind asr_mu, since a pocketsphinx
 * decoder serves one utterance at a time.
 */
static pthread_mutex_t asr_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cb_asr *asr_shared;
static char asr_shared_dir[512];

static int get_asr(struct cb_priv *p, char *err, size_t errlen) {
    /* caller holds asr_mu */
    if (asr_shared && !strcmp(asr_shared_dir, p->asr_dir)) return CHORUS_OK;
    if (p->asr_failed) {
        chorus_fmt(err, errlen, "%s", p->asr_err);
        return CHORUS_E_MODEL;
    }
    struct cb_asr *a;
    int rc = chorus_cb_asr_create(&a, p->asr_dir, p->asr_err, sizeof p->asr_err);
    if (rc) {
        p->asr_failed = 1;
        chorus_fmt(err, errlen, "%s", p->asr_err);
        return rc;
    }
    chorus_cb_asr_destroy(asr_shared);
    asr_shared = a;
    snprintf(asr_shared_dir, sizeof asr_shared_dir, "%s", p->asr_dir);
    return CHORUS_OK;
}

static int score_take(struct cb_priv *p, const char *text, const struct pcmbuf *pcm,
                      double *score, char *hyp, size_t hypcap, char *err, size_t errlen) {
    pthread_mutex_lock(&asr_mu);
    int rc = get_asr(p, err, errlen);
    if (rc == CHORUS_OK)
        rc = chorus_cb_asr_transcribe(asr_shared, pcm->x, pcm->n, pcm->rate, hyp, hypcap);
    pthread_mutex_unlock(&asr_mu);
    if (rc == CHORUS_E_BACKEND) chorus_fmt(err, errlen, "chatterbox: transcription failed");
    if (rc) return rc;
    *score = chorus_cb_text_match(text, hyp);
    return CHORUS_OK;
}

static long long pick_seed(long long base, int round, int i, int n) {
    if (base == 0) {
        /* random: still distinct per take */
        unsigned long long x = (unsigned long long)time(NULL) ^ ((unsigned long long)random() << 16);
        return (long long)(x % 2000000000ull) + 1 + i;
    }
    long long s = base + (long long)round * n + i;
    return s > 2147483647ll ? s - 2147483647ll : s;
}

static int send_pcm(struct chorus_sink *sink, const struct pcmbuf *pcm) {
    for (size_t i = 0; i < pcm->n; i += 8192) {
        size_t k = pcm->n - i < 8192 ? pcm->n - i : 8192;
        int rc = chorus_sink_pcm_s16(sink, pcm->x + i, k, pcm->rate);
        if (rc) return rc;
    }
    return CHORUS_OK;
}

/* N takes per round, best transcript wins; rounds until one reaches min_score. */
static int run_candidates(struct chorus_backend *b, const struct chorus_job *job,
                          struct chorus_sink *sink, const char *text, const struct params *pr,
                          const char *voice, int clone, char *err, size_t errlen) {
    struct cb_priv *p = b->priv;
    int n = pr->candidates;
    int rounds = (int)setting_double(b, job, "candidate_rounds");
    if (rounds < 1) rounds = 1;
    double min_score = setting_double(b, job, "min_score");
    int loud = setting_bool(b, job, "report_scores");
    struct pcmbuf best = {0};
    double best_score = -1;
    long long best_seed = 0;
    int rc = CHORUS_OK, last_fail = CHORUS_OK;
    char last_err[1024] = "";
    for (int round = 0; round < rounds && best_score < min_score; round++) {
        for (int i = 0; i < n; i++) {
            if (chorus_job_cancelled(job)) {
                free(best.x);
                return CHORUS_E_CANCELLED;
            }
            long long seed = pick_seed(pr->seed, round, i, n);
            struct pcmbuf pcm = {0};
            int dummy = 0;
            rc = take(b, job, sink, text, pr, voice, clone, seed, 1, &pcm, &dummy, last_err,
                      sizeof last_err);
            if (rc == CHORUS_E_CANCELLED) {
                free(best.x);
                return rc;
            }
            if (rc) {
                last_fail = rc;
                CHORUS_LOGW("chatterbox: chunk %u take with seed %lld failed: %s", job->index,
                            seed, last_err);
                continue;
            }
            double sc = 0;
            char hyp[2048];
            rc = score_take(p, text, &pcm, &sc, hyp, sizeof hyp, err, errlen);
            if (rc) {
                free(pcm.x);
                free(best.x);
                return rc;
            }
            chorus_log(loud ? CHORUS_LOG_WARN : CHORUS_LOG_INFO,
                       "chatterbox: chunk %u round %d take %d seed %lld score %.3f (%s) "
                       "transcript \"%.300s\"", job->index, round + 1, i + 1, seed, sc,
                       pr->preset, hyp);
            if (sc > best_score) {
                free(best.x);
                best = pcm;
                best_score = sc;
                best_seed = seed;
            } else {
                free(pcm.x);
            }
        }
        if (best_score >= 0 && best_score < min_score && round + 1 < rounds)
            CHORUS_LOGW("chatterbox: chunk %u: best take scored %.3f, below min_score %.2f; "
                        "generating %d more", job->index, best_score, min_score, n);
    }
    if (best_score < 0) {
        chorus_fmt(err, errlen, "%s", last_err[0] ? last_err : "chatterbox: every take failed");
        return last_fail ? last_fail : CHORUS_E_BACKEND;
    }
    if (best_score < min_score)
        CHORUS_LOGW("chatterbox: chunk %u: no take reached min_score %.2f; using the best (seed "
                    "%lld, score %.3f)", job->index, min_score, best_seed, best_score);
    chorus_log(loud ? CHORUS_LOG_WARN : CHORUS_LOG_INFO,
               "chatterbox: chunk %u chose seed %lld score %.3f", job->index, best_seed,
               best_score);
    rc = send_pcm(sink, &best);
    free(best.x);
    return rc;
}

/* ---- synthesize ------------------------------------------------------------------------- */

static int fallback_worthy(int rc) {
    return rc == CHORUS_E_SERVER || rc == CHORUS_E_BAD_REQUEST || rc == CHORUS_E_BACKEND ||
           rc == CHORUS_E_TIMEOUT;
}

static int check_api_ranges(const struct cb_priv *p, const struct params *pr, char *err,
                            size_t errlen) {
    if (p->api == API_DEVNEN && (pr->cfg_weight < 0.2 || pr->temperature > 1.5)) {
        chorus_fmt(err, errlen, "chatterbox: the devnen server accepts cfg_weight 0.2-1.0 and "
                   "temperature 0-1.5 (got cfg_weight %g, temperature %g)", pr->cfg_weight,
                   pr->temperature);
        return CHORUS_E_OPTION;
    }
    if (p->api == API_TRAVISVN && pr->temperature < 0.05) {
        chorus_fmt(err, errlen, "chatterbox: the travisvn server accepts temperature 0.05-5.0 "
                   "(got %g)", pr->temperature);
        return CHORUS_E_OPTION;
    }
    return CHORUS_OK;
}

static int cb_synthesize(struct chorus_backend *b, const struct chorus_job *job,
                         struct chorus_sink *sink) {
    struct cb_priv *p = b->priv;
    if (job->input == CHORUS_INPUT_PHONEMES)
        return chorus_job_fail(job, CHORUS_E_INVALID, "chatterbox: the model takes text, not "
                               "phonemes");
    /* the voice: cloned (library) or the server's own */
    const char *want = job->voice && *job->voice ? job->voice : "default";
    /* "profile:NAME" is the prior implementation's spelling */
    int explicit_clone = !strncasecmp(want, "clone:", 6) || !strncasecmp(want, "profile:", 8);
    const char *lib_name = explicit_clone ? strchr(want, ':') + 1 : want;
    struct chorus_voicelib_entry ve;
    char err[1536] = "";
    int clone = 0;
    int rc = CHORUS_E_UNKNOWN_VOICE;
    if (chorus_voicelib_name_ok(lib_name) || explicit_clone)
        rc = chorus_voicelib_find(chorus_backend_config(b), lib_name, &ve, err, sizeof err);
    if (rc == CHORUS_OK) {
        clone = 1;
    } else if (explicit_clone || rc == CHORUS_E_IO || rc == CHORUS_E_NOMEM) {
        /* a bare name that is no library voice (or no library at all) is a server voice; a
         * damaged library entry of that name is an error worth seeing */
        return chorus_job_fail(job, rc == CHORUS_E_INVALID ? CHORUS_E_UNKNOWN_VOICE : rc, "%s",
                               err);
    }
    char srv_voice[160];
    if (clone) {
        rc = ensure_uploaded(b, job, &ve, srv_voice, sizeof srv_voice);
        chorus_voicelib_entry_release(&ve);
        if (rc) return rc;
    } else if (!strcmp(want, "default")) {
        snprintf(srv_voice, sizeof srv_voice, "%s", p->api == API_DEVNEN ? "Emily.wav" : "");
    } else if (p->api == API_DEVNEN && !strchr(want, '.')) {
        snprintf(srv_voice, sizeof srv_voice, "%.150s.wav", want);
    } else {
        snprintf(srv_voice, sizeof srv_voice, "%.150s", want);
        /* travisvn falls back to its default voice without an error for a name it does not
         * know (app/api/endpoints/speech.py resolve_voice_path_and_language): check the name
         * against its list first */
        if (p->api == API_TRAVISVN && (rc = check_server_voice(b, job, srv_voice)) != CHORUS_OK)
            return rc;
    }

    char *text = setting_bool(b, job, "preprocess") ? chorus_cb_preprocess(job->text, job->len)
                                                     : strndup(job->text, job->len);
    if (!text) return chorus_job_fail(job, CHORUS_E_NOMEM, "chatterbox: out of memory");
    if (!text[strspn(text, " \t\r\n.,;:!?-\"'()")]) {
        free(text); /* nothing left to say ("[1]", a bare URL) */
        if (job->is_first && job->is_last)
            return chorus_job_fail(job, CHORUS_E_EMPTY_TEXT, "chatterbox: nothing is left to "
                                   "say once references and URLs are removed from '%.80s'; "
                                   "set the option preprocess=false to speak it as written",
                                   job->text);
        return CHORUS_OK;
    }

    struct params req = {.preset = "requested"};
    static const struct { const char *key; unsigned bit; } knob_bits[] = {
        {"exaggeration", K_EXAG}, {"cfg_weight", K_CFG}, {"temperature", K_TEMP},
        {"seed", K_SEED}, {"speed_factor", K_SPEED}};
    for (size_t k = 0; k < sizeof knob_bits / sizeof knob_bits[0]; k++) {
        const char *uv = chorus_job_option(job, knob_bits[k].key);
        if (!uv) uv = cfg_value(chorus_backend_config(b), knob_bits[k].key);
        if (uv && *uv) req.set |= knob_bits[k].bit;
    }
    if (job->speed > 0 && fabs(job->speed - 1.0) > 1e-3) req.set |= K_SPEED;
    req.exaggeration = setting_double(b, job, "exaggeration");
    req.cfg_weight = setting_double(b, job, "cfg_weight");
    req.temperature = setting_double(b, job, "temperature");
    const char *sf = chorus_job_option(job, "speed_factor");
    if (!sf) sf = cfg_value(chorus_backend_config(b), "speed_factor");
    req.speed_factor = sf && *sf ? atof(sf) : (job->speed > 0 ? job->speed : 1.0);
    if (req.speed_factor < 0.25 || req.speed_factor > 4.0) {
        free(text);
        return chorus_job_fail(job, CHORUS_E_INVALID, "chatterbox: speed %.2f is outside the "
                               "0.25-4.0 range", req.speed_factor);
    }
    if (p->api == API_TRAVISVN && job->is_first && fabs(req.speed_factor - 1.0) > 1e-3)
        CHORUS_LOGW("chatterbox: the travisvn server ignores speed (%.2f); the audio keeps the "
                    "model's pace", req.speed_factor);
    req.seed = (long long)setting_double(b, job, "seed");
    req.candidates = (int)setting_double(b, job, "candidates");
    if (req.candidates < 1) req.candidates = 1;
    int validate = req.candidates > 1 || setting_bool(b, job, "validate");
    if ((rc = check_api_ranges(p, &req, err, sizeof err)) != CHORUS_OK) {
        free(text);
        return chorus_job_fail(job, rc, "%s", err);
    }
    if (validate) {
        pthread_mutex_lock(&asr_mu);
        rc = get_asr(p, err, sizeof err);
        pthread_mutex_unlock(&asr_mu);
        if (rc) {
            free(text);
            return chorus_job_fail(job, rc, "chatterbox: candidate validation needs a speech "
                                   "recognizer: %s", err);
        }
    }

    /* presets tried after the requested parameters fail */
    struct params presets[3] = {req, req, req};
    int n_presets = setting_bool(b, job, "fallback") ? 3 : 1;
    presets[1].set = presets[2].set = req.set | K_EXAG | K_CFG | K_TEMP;
    presets[1].preset = "balanced";
    presets[1].exaggeration = 0.4;
    presets[1].cfg_weight = 0.6;
    presets[1].temperature = 0.6;
    presets[1].candidates = req.candidates > 2 ? 2 : req.candidates;
    presets[2].preset = "safe";
    presets[2].exaggeration = 0.3;
    presets[2].cfg_weight = 0.8;
    presets[2].temperature = 0.4;
    presets[2].candidates = 1;

    rc = CHORUS_E_BACKEND;
    for (int i = 0; i < n_presets; i++) {
        const struct params *pr = &presets[i];
        int delivered = 0;
        err[0] = '\0';
        if (validate)
            rc = run_candidates(b, job, sink, text, pr, srv_voice, clone, err, sizeof err);
        else
            rc = take(b, job, sink, text, pr, srv_voice, clone, pr->seed, 0, NULL, &delivered,
                      err, sizeof err);
        if (rc == CHORUS_OK || rc == CHORUS_E_CANCELLED) break;
        if (!fallback_worthy(rc) || delivered) {
            if (delivered && fallback_worthy(rc) && i + 1 < n_presets)
                chorus_fmt(err + strlen(err), sizeof err - strlen(err),
                           " (after part of the chunk's audio was played, so no fallback)");
            break;
        }
        if (i + 1 < n_presets)
            CHORUS_LOGW("chatterbox: chunk %u failed with the %s parameters (%s); trying the %s "
                        "preset (exaggeration %.2f, cfg_weight %.2f, temperature %.2f)",
                        job->index, pr->preset, err, presets[i + 1].preset,
                        presets[i + 1].exaggeration, presets[i + 1].cfg_weight,
                        presets[i + 1].temperature);
        else if (n_presets > 1) {
            char last[1600];
            snprintf(last, sizeof last, "%s", err);
            chorus_fmt(err, sizeof err, "chatterbox: chunk %u failed with the requested, "
                       "balanced and safe parameters; last error: %s", job->index, last);
        }
    }
    free(text);
    if (rc && rc != CHORUS_E_CANCELLED) return chorus_job_fail(job, rc, "%s", err);
    return rc;
}

static const struct chorus_backend_ops cb_ops = {
    .open = cb_open,
    .probe = cb_probe,
    .synthesize = cb_synthesize,
    .list_voices = cb_list_voices,
    .close = cb_close,
};

const struct chorus_backend_desc chorus_backend_chatterbox = {
    .name = "chatterbox",
    .pattern = NULL,
    .description = "Chatterbox voice cloning (Resemble AI) through a Chatterbox server "
                   "(devnen Chatterbox-TTS-Server or travisvn chatterbox-tts-api)",
    .caps = CHORUS_CAP_STREAMING | CHORUS_CAP_VOICE_CLONING | CHORUS_CAP_REMOTE,
    .flags = CHORUS_BF_ANY_VOICE,
    .max_input_chars = 300,
    .first_chunk_chars = 0,
    .sample_rate = 24000,
    .max_concurrent = 2,
    .default_voice = "default",
    .options = cb_options,
    .priv_size = sizeof(struct cb_priv),
    .ops = &cb_ops,
    .legacy_prefixes = (const char *const[]){"local_chatterbox_", NULL},
    .loudness_db = -20, /* the prior implementation normalized Chatterbox to -20 dB */
    .crossfade_ms = 50,
};
