/*
 * elevenlabs.c — the `elevenlabs` backend (../shared/specs/providers.md §2).
 *
 * POST {base}/v1/text-to-speech/{voice_id}/stream, or .../stream/with-timestamps (NDJSON: one
 * JSON object per line with base64 audio and that piece's character alignment) when word
 * timings are wanted (option timestamps, on by default): characters are grouped into words and
 * mapped to byte offsets of the job's text for chorus_sink_word.
 *
 * Voices by id, or by name through GET /v1/voices (cached 10 minutes; with show_legacy=true
 * when [elevenlabs] show_legacy is set). No voice is built in: the premade voices of 2023 were
 * retired or became paid library voices, so without a configured voice the account's first
 * voice is used (and the log says which). Voice settings as options. Formats: mp3 is passed
 * through when the core can; otherwise raw PCM (pcm_<rate>) is requested and handed over as
 * samples, so a "wav" output is a real WAV written by the core; output_format=wav_* goes to the
 * non-streaming convert endpoint (POST /v1/text-to-speech/{id}), the only one that makes wav.
 * Per-model limits in characters (not bytes): a job longer than the model takes is split at
 * sentence boundaries here. Every request of a stream carries the request ids of up to three
 * before it and the texts before and after it (the next piece, or the core's next job) for
 * continuity (request stitching). Errors come in {"detail":{"status",
 * "message"}} or {"detail":{"type","code","message"}}: quota_exceeded (401) is a quota error,
 * missing_permissions (401) a permission error, paid_plan_required (402) a plan error,
 * voice_not_found (404) an unknown voice. An NDJSON line that does not parse is skipped and
 * logged, as the SDK does. Checked against elevenlabs-python 54e5899 and elevenlabs-docs
 * 3557f0b (docs/backends/elevenlabs.md).
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "chorus/chorus.h"
#include "core/backend.h"
#include "core/util.h"
#include "core/config.h"
#include "core/log.h"
#include "net/net.h"
#include "remote/remote.h"
#include "text/text.h"

#define EL_DEFAULT_BASE "https://api.elevenlabs.io"
#define EL_DEFAULT_MODEL "eleven_multilingual_v2"
#define EL_CACHE_SECONDS 600
#define EL_MAX_VOICES 512
#define EL_CONT_SLOTS 32
/* "A maximum of 3 request_ids can be send" (previous_request_ids, elevenlabs-python
 * src/elevenlabs/text_to_speech/raw_client.py) */
#define EL_MAX_IDS 3

struct el_voice {
    char id[64];
    char name[96];
    char gender[16];
    char accent[48];
};

/* what request stitching knows of the speech before: the request-id headers of the latest
 * requests of a stream (oldest first) and the previous job's text tail */
struct el_ids {
    char id[EL_MAX_IDS][128];
    int n;
    char tail[400];
};

/* continuity between the jobs of one stream */
struct el_cont {
    const void *stream;
    unsigned next_index;
    struct el_ids ids;
    double used;
};

struct el_priv {
    char key[512];
    char base[512];
    char model[64];
    char voice[96];
    double def_stability, def_similarity, def_style;
    int def_boost; /* -1 unset */
    pthread_mutex_t mu;
    int mu_ok;
    struct el_voice *voices;
    size_t n_voices;
    time_t voices_at;
    struct el_cont cont[EL_CONT_SLOTS];
    double cont_clock;
    int show_legacy;      /* [elevenlabs] show_legacy: list legacy voices too */
    int default_logged;   /* the "using the account's first voice" line was logged */
    struct chorus_http_pool *pool; /* connections reused across chunks and retries */
};

static const struct chorus_option_desc el_options[] = {
    {"stability", "float", NULL, 0, 1, NULL, "voice stability (0-1); lower is more expressive"},
    {"similarity_boost", "float", NULL, 0, 1, NULL, "closeness to the original voice (0-1)"},
    {"style", "float", NULL, 0, 1, NULL, "style exaggeration (0-1)"},
    {"use_speaker_boost", "bool", NULL, 1, 0, NULL, "boost similarity to the speaker"},
    {"language_code", "string", NULL, 1, 0, NULL,
     "ISO 639-1 language to enforce (turbo/flash v2.5 models only)"},
    {"seed", "int", NULL, 0, 4294967295.0, NULL, "best-effort deterministic sampling"},
    {"apply_text_normalization", "enum", NULL, 1, 0, "auto|on|off", "text normalization"},
    {"output_format", "string", NULL, 1, 0, NULL,
     "native format to request, e.g. mp3_44100_128, pcm_24000, opus_48000_64, or wav_24000 "
     "(not streamed: the whole chunk is made first) (default: mp3 when passed through, else "
     "pcm)"},
    {"timestamps", "bool", "true", 1, 0, NULL,
     "use the with-timestamps endpoint to report word timings"},
    CHORUS_REMOTE_OPTIONS,
    {NULL, NULL, NULL, 0, 0, NULL, NULL}};

static size_t model_limit(const char *model) {
    if (!strncmp(model, "eleven_v3", 9)) return 3000;
    if (!strncmp(model, "eleven_flash_v2_5", 17) || !strncmp(model, "eleven_turbo_v2_5", 17))
        return 40000;
    if (!strncmp(model, "eleven_flash_v2", 15) || !strncmp(model, "eleven_turbo_v2", 15))
        return 30000;
    return 10000;
}

static int el_open(struct chorus_backend *b, const struct chorus_config *cfg) {
    struct el_priv *p = b->priv;
    p->mu_ok = pthread_mutex_init(&p->mu, NULL) == 0;
    if (!p->mu_ok) return CHORUS_E_NOMEM;
    const char *key_places[] = {"elevenlabs", "api_key", "API", "elevenlabs_api_key",
                                "app_tts", "ELEVENLABS_API_KEY_fallback", NULL};
    chorus_remote_setting(cfg, "ELEVENLABS_API_KEY", key_places, p->key, sizeof p->key);
    if (p->key[0]) chorus_secret_register(p->key);
    const char *base_places[] = {"elevenlabs", "base_url", NULL};
    if (!chorus_remote_setting(cfg, "ELEVENLABS_BASE_URL", base_places, p->base, sizeof p->base))
        snprintf(p->base, sizeof p->base, "%s", EL_DEFAULT_BASE);
    size_t bl = strlen(p->base);
    while (bl > 0 && p->base[bl - 1] == '/') p->base[--bl] = '\0';
    if (bl >= 3 && !strcmp(p->base + bl - 3, "/v1")) p->base[bl - 3] = '\0';
    if (strncmp(p->base, "http://", 7) != 0 && strncmp(p->base, "https://", 8) != 0) {
        chorus_backend_fail(b, CHORUS_E_CONFIG,
                 "elevenlabs: base URL '%.200s' is not an http(s) URL; fix ELEVENLABS_BASE_URL "
                 "or [elevenlabs] base_url", p->base);
        return CHORUS_E_CONFIG;
    }
    const char *model_places[] = {"elevenlabs", "model", "app_tts", "ELEVENLABS_DEFAULT_MODEL",
                                  NULL};
    if (!chorus_remote_setting(cfg, NULL, model_places, p->model, sizeof p->model))
        snprintf(p->model, sizeof p->model, "%s", EL_DEFAULT_MODEL);
    const char *voice_places[] = {"app_tts", "ELEVENLABS_DEFAULT_VOICE", NULL};
    const char *voice_places2[] = {"elevenlabs", "voice", NULL};
    if (!chorus_remote_setting(cfg, NULL, voice_places2, p->voice, sizeof p->voice))
        chorus_remote_setting(cfg, NULL, voice_places, p->voice, sizeof p->voice);
    char legacy[16] = "";
    const char *legacy_places[] = {"elevenlabs", "show_legacy", NULL};
    chorus_remote_setting(cfg, "ELEVENLABS_SHOW_LEGACY", legacy_places, legacy, sizeof legacy);
    p->show_legacy = !strcasecmp(legacy, "true") || !strcmp(legacy, "1") ||
                     !strcasecmp(legacy, "yes");
    p->def_stability = chorus_config_double(cfg, "app_tts", "ELEVENLABS_VOICE_STABILITY", -1);
    p->def_similarity =
        chorus_config_double(cfg, "app_tts", "ELEVENLABS_VOICE_SIMILARITY_BOOST", -1);
    p->def_style = chorus_config_double(cfg, "app_tts", "ELEVENLABS_VOICE_STYLE", -1);
    p->def_boost = chorus_config_bool(cfg, "app_tts", "ELEVENLABS_VOICE_USE_SPEAKER_BOOST", -1);
    p->pool = chorus_http_pool_create(NULL);
    return CHORUS_OK;
}

static void el_close(struct chorus_backend *b) {
    struct el_priv *p = b->priv;
    free(p->voices);
    p->voices = NULL;
    chorus_http_pool_destroy(p->pool);
    p->pool = NULL;
    if (p->mu_ok) pthread_mutex_destroy(&p->mu);
}

static const char missing_key_msg[] =
    "elevenlabs: no API key: export ELEVENLABS_API_KEY or set api_key in the [elevenlabs] "
    "section of config.toml";

static int el_probe(struct chorus_backend *b, struct chorus_probe *why) {
    struct el_priv *p = b->priv;
    if (!p->key[0]) {
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "%s", missing_key_msg);
        return 0;
    }
    return 1;
}

/* ---- errors -------------------------------------------------------------------------------- */

static void el_classify_result(const struct chorus_http_result *r,
                               struct chorus_http_verdict *v) {
    struct chorus_provider_error e;
    chorus_provider_error_parse(r->error_body, r->error_body_len, &e);
    chorus_http_classify_default("elevenlabs", r, v);
    const char *m = e.message[0] ? e.message : "(no message)";
    const char *st = e.code;
    long code = r->status;
    if (!strcmp(st, "missing_permissions")) {
        v->status = CHORUS_E_AUTH;
        v->retryable = 0;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: the API key lacks a permission this needs "
                 "(missing_permissions, HTTP %ld): %s; the key is valid but scoped: enable "
                 "Text to Speech (and Voices read) for it in ElevenLabs' API key settings", code,
                 m);
    } else if (code == 402 || !strcmp(st, "paid_plan_required") ||
               !strcmp(st, "payment_required")) {
        v->status = CHORUS_E_QUOTA;
        v->retryable = 0;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: this needs a paid plan (%s, HTTP %ld): %s; "
                 "library voices and some models are not available on the free plan: pick a "
                 "voice of your own account ('chorus voices -b elevenlabs') or upgrade", st[0] ?
                 st : "payment_required", code, m);
    } else if (!strcmp(st, "quota_exceeded")) {
        v->status = CHORUS_E_QUOTA;
        v->retryable = 0;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: out of credits (quota_exceeded, HTTP %ld): "
                 "%s; top up or upgrade the plan", code, m);
    } else if (!strcmp(st, "invalid_api_key") || code == 401) {
        v->status = CHORUS_E_AUTH;
        v->retryable = 0;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: the API key was refused (HTTP %ld%s%s): %s; "
                 "check ELEVENLABS_API_KEY or api_key in the [elevenlabs] section of config.toml",
                 code, st[0] ? " " : "", st, m);
    } else if (!strcmp(st, "voice_not_found") || (code == 404 && strstr(m, "voice"))) {
        v->status = CHORUS_E_UNKNOWN_VOICE;
        v->retryable = 0;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: unknown voice (HTTP %ld): %s; run 'chorus "
                 "voices -b elevenlabs' to list the voices of this account", code, m);
    } else if (!strcmp(st, "max_character_limit_exceeded")) {
        v->status = CHORUS_E_TOO_LONG;
        v->retryable = 0;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: text too long for the model (HTTP %ld): %s",
                 code, m);
    } else if (code == 429 || !strcmp(st, "too_many_concurrent_requests") ||
               !strcmp(st, "system_busy")) {
        v->status = CHORUS_E_RATE_LIMIT;
        v->retryable = 1;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: rate limited (HTTP %ld%s%s): %s; lower "
                 "max_concurrent in the [elevenlabs] section to your plan's limit", code,
                 st[0] ? " " : "", st, m);
    } else if (code == 403) {
        v->status = CHORUS_E_AUTH;
        snprintf(v->msg, sizeof v->msg, "elevenlabs: not allowed on this plan (HTTP 403%s%s): %s",
                 st[0] ? " " : "", st, m);
    } else if (code == 400 || code == 422) {
        snprintf(v->msg, sizeof v->msg, "elevenlabs: request rejected (HTTP %ld%s%s): %s", code,
                 st[0] ? " " : "", st, m);
    } else if (code >= 500) {
        snprintf(v->msg, sizeof v->msg, "elevenlabs: server error (HTTP %ld): %s", code, m);
    }
}

static void el_classify(void *ud, const struct chorus_http_result *r,
                        struct chorus_http_verdict *v) {
    (void)ud;
    el_classify_result(r, v);
}

/* ---- voices -------------------------------------------------------------------------------- */


static void copy_str(char *dst, size_t cap, json_t *v) {
    const char *s = json_string_value(v);
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Fetch /v1/voices into the cache. Caller holds p->mu. */
static int fetch_voices(struct el_priv *p, char *err, size_t errlen) {
    char url[600], hdr[600];
    if (chorus_net_join_url(url, sizeof url, p->base,
                            p->show_legacy ? "v1/voices?show_legacy=true" : "v1/voices") != 0)
        return CHORUS_E_CONFIG;
    snprintf(hdr, sizeof hdr, "xi-api-key: %s", p->key);
    const char *hdrs[] = {hdr, "Accept: application/json", NULL};
    struct chorus_net_buf g = {0};
    struct chorus_http_req req = {0};
    req.method = "GET";
    req.url = url;
    req.headers = hdrs;
    req.secret = p->key;
    req.what = "elevenlabs";
    req.pool = p->pool;
    req.policy.max_retries = 2;
    req.policy.idle_timeout_ms = 15000;
    req.policy.backoff_initial_ms = 300;
    req.on_body = chorus_net_buf_body;
    req.classify = el_classify;
    req.ud = &g;
    struct chorus_http_result r;
    int rc = chorus_http_perform(&req, &r);
    if (rc != CHORUS_OK) {
        snprintf(err, errlen, "%s", r.msg);
        chorus_http_result_release(&r);
        free(g.p);
        return rc;
    }
    chorus_http_result_release(&r);
    json_error_t jerr;
    json_t *root = g.p ? json_loadb(g.p, g.n, 0, &jerr) : NULL;
    free(g.p);
    json_t *arr = json_object_get(root, "voices");
    if (!json_is_array(arr)) {
        json_decref(root);
        snprintf(err, errlen, "elevenlabs: the voice list from %s is not {\"voices\":[...]}",
                 url);
        return CHORUS_E_BACKEND;
    }
    size_t n = json_array_size(arr);
    if (n > EL_MAX_VOICES) n = EL_MAX_VOICES;
    struct el_voice *vs = calloc(n ? n : 1, sizeof *vs);
    if (!vs) {
        json_decref(root);
        return CHORUS_E_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(json_object_get(v, "voice_id"))) continue;
        copy_str(vs[k].id, sizeof vs[k].id, json_object_get(v, "voice_id"));
        copy_str(vs[k].name, sizeof vs[k].name, json_object_get(v, "name"));
        json_t *labels = json_object_get(v, "labels");
        copy_str(vs[k].gender, sizeof vs[k].gender, json_object_get(labels, "gender"));
        copy_str(vs[k].accent, sizeof vs[k].accent, json_object_get(labels, "accent"));
        k++;
    }
    json_decref(root);
    free(p->voices);
    p->voices = vs;
    p->n_voices = k;
    p->voices_at = time(NULL);
    return CHORUS_OK;
}

/* Make sure the cache is fresh. Caller holds p->mu. A failed refresh keeps an older list;
 * without any list, the error is returned (err says why). */
static int ensure_voices(struct el_priv *p, char *err, size_t errlen) {
    if (p->voices && time(NULL) - p->voices_at < EL_CACHE_SECONDS) return CHORUS_OK;
    if (!p->key[0]) {
        snprintf(err, errlen, "%s", missing_key_msg);
        return CHORUS_E_AUTH;
    }
    int rc = fetch_voices(p, err, errlen);
    if (rc != CHORUS_OK && p->voices) {
        CHORUS_LOGW("%s (using the voice list from %ld s ago)", err[0] ? err :
                    chorus_strerror(rc), (long)(time(NULL) - p->voices_at));
        return CHORUS_OK;
    }
    return rc;
}

static int el_list_voices(struct chorus_backend *b, struct chorus_voice_list *out) {
    struct el_priv *p = b->priv;
    pthread_mutex_lock(&p->mu);
    char err[1024] = "";
    int rc = ensure_voices(p, err, sizeof err);
    if (rc != CHORUS_OK) {
        pthread_mutex_unlock(&p->mu);
        CHORUS_LOGW("%s", err[0] ? err : chorus_strerror(rc));
        return rc;
    }
    const struct el_voice *vs = p->voices;
    size_t n = p->n_voices;
    for (size_t i = 0; i < n && rc == CHORUS_OK; i++) {
        char desc[128];
        snprintf(desc, sizeof desc, "%s%s%s", vs[i].accent, vs[i].accent[0] ? " " : "",
                 "ElevenLabs voice");
        rc = chorus_voice_list_add(out, vs[i].id, vs[i].name, NULL,
                                   vs[i].gender[0] ? vs[i].gender : NULL, desc);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int looks_like_id(const char *v) {
    size_t n = strlen(v);
    if (n < 16 || n > 40) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i])) return 0;
    return 1;
}

/* Voice name or id -> id; "" = the account's first voice. E_UNKNOWN_VOICE with a message
 * listing some voices. An id is used without the list (a shared or library voice). */
static int resolve_voice(struct el_priv *p, const struct chorus_job *job, const char *want,
                         char *id, size_t cap) {
    if (*want && looks_like_id(want) && strlen(want) < cap) {
        snprintf(id, cap, "%s", want);
        return CHORUS_OK;
    }
    pthread_mutex_lock(&p->mu);
    char err[1024] = "";
    int rc = ensure_voices(p, err, sizeof err);
    if (rc != CHORUS_OK) {
        pthread_mutex_unlock(&p->mu);
        return chorus_job_fail(job, rc, "%s%s", err[0] ? err : chorus_strerror(rc),
                               *want ? "" : " (needed to pick a voice: none is configured; set "
                               "[elevenlabs] voice or pass -v)");
    }
    const struct el_voice *vs = p->voices;
    size_t n = p->n_voices;
    if (!*want) {
        if (n == 0) {
            pthread_mutex_unlock(&p->mu);
            return chorus_job_fail(job, CHORUS_E_UNKNOWN_VOICE, "elevenlabs: no voice is "
                                   "configured and this account lists none; add one in "
                                   "ElevenLabs' voice library, then pass it with -v");
        }
        snprintf(id, cap, "%s", vs[0].id);
        if (!p->default_logged)
            CHORUS_LOGI("elevenlabs: no voice configured; using '%s' (%s), the first voice of "
                        "this account (set [elevenlabs] voice to choose)", vs[0].name, vs[0].id);
        p->default_logged = 1;
        pthread_mutex_unlock(&p->mu);
        return CHORUS_OK;
    }
    const char *found = NULL;
    for (size_t i = 0; i < n && !found; i++)
        if (!strcmp(vs[i].id, want) || !strcasecmp(vs[i].name, want)) found = vs[i].id;
    if (found) {
        size_t fl = strlen(found) < cap ? strlen(found) : cap - 1; /* ids are short; never overflow */
        memcpy(id, found, fl);
        id[fl] = 0;
        pthread_mutex_unlock(&p->mu);
        return CHORUS_OK;
    }
    char some[300] = "";
    for (size_t i = 0; i < n && i < 8; i++) {
        size_t l = strlen(some);
        snprintf(some + l, sizeof some - l, "%s%s", i ? ", " : "", vs[i].name);
    }
    pthread_mutex_unlock(&p->mu);
    return chorus_job_fail(job, CHORUS_E_UNKNOWN_VOICE,
                           "elevenlabs: unknown voice '%s'; voices include %s (run 'chorus voices "
                           "-b elevenlabs' for all, or pass a voice id)", want, some);
}

/* ---- continuity ---------------------------------------------------------------------------- */

/* The tail of s[0..n): at most `max` bytes, starting on a character boundary. */
static void text_tail(char *dst, size_t cap, const char *s, size_t n, size_t max) {
    size_t keep = n < max ? n : max;
    const char *from = s + n - keep;
    while (keep > 0 && ((unsigned char)*from & 0xC0) == 0x80) from++, keep--;
    snprintf(dst, cap, "%.*s", (int)keep, from);
}

/* The head of s[0..n): at most `max` bytes, ending on a character boundary. */
static void text_head(char *dst, size_t cap, const char *s, size_t n, size_t max) {
    size_t keep = n < max ? n : max;
    while (keep > 0 && keep < n && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    snprintf(dst, cap, "%.*s", (int)keep, s);
}


/* Remember a finished request's id; the oldest goes when EL_MAX_IDS are kept. */
static void ids_push(struct el_ids *ids, const char *rid) {
    if (!rid || !rid[0]) return;
    if (ids->n == EL_MAX_IDS) {
        memmove(ids->id[0], ids->id[1], sizeof ids->id[0] * (EL_MAX_IDS - 1));
        ids->n--;
    }
    snprintf(ids->id[ids->n++], sizeof ids->id[0], "%s", rid);
}

static void cont_get(struct el_priv *p, const struct chorus_job *job, struct el_ids *ids) {
    memset(ids, 0, sizeof *ids);
    if (job->is_first) return;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < EL_CONT_SLOTS; i++)
        if (p->cont[i].stream == job->stream && p->cont[i].next_index == job->index)
            *ids = p->cont[i].ids;
    pthread_mutex_unlock(&p->mu);
}

static void cont_put(struct el_priv *p, const struct chorus_job *job, const struct el_ids *ids,
                     const char *text, size_t len) {
    pthread_mutex_lock(&p->mu);
    int slot = -1;
    for (int i = 0; i < EL_CONT_SLOTS && slot < 0; i++)
        if (p->cont[i].stream == job->stream) slot = i;
    if (job->is_last) {
        if (slot >= 0) memset(&p->cont[slot], 0, sizeof p->cont[slot]);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    if (slot < 0) { /* the least recently used */
        slot = 0;
        for (int i = 1; i < EL_CONT_SLOTS; i++)
            if (p->cont[i].used < p->cont[slot].used) slot = i;
    }
    struct el_cont *c = &p->cont[slot];
    c->stream = job->stream;
    c->next_index = job->index + 1;
    c->used = ++p->cont_clock;
    c->ids = *ids;
    text_tail(c->ids.tail, sizeof c->ids.tail, text, len, 300);
    pthread_mutex_unlock(&p->mu);
}

/* ---- word timings from character alignment ------------------------------------------------- */

struct el_word {
    size_t off, len;
    double start, end;
};

struct el_align {
    const char *text; /* the request's text */
    size_t len;
    size_t base_off;  /* the request's offset in the job's text */
    double time_base; /* the request's start in the job's audio (sub-requests) */
    size_t cursor;
    int in_word;
    struct el_word cur;
    double line_base, last_end;
    size_t produced;  /* words produced by this attempt */
    size_t emitted;   /* words given to the sink (stream mode: never twice) */
    int hold;
    struct el_word *held;
    size_t n_held, cap_held;
};

static int is_space_utf8(const char *s, size_t n) {
    if (n == 1) return isspace((unsigned char)s[0]);
    return (n == 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) || /* nbsp */
           (n == 3 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80); /* U+20xx */
}

static int word_out(struct el_align *al, struct chorus_sink *sink) {
    struct el_word w = al->cur;
    al->in_word = 0;
    /* trim ASCII punctuation around the word: "Hello," speaks "Hello" */
    while (w.len > 0 && ispunct((unsigned char)al->text[w.off])) w.off++, w.len--;
    while (w.len > 0 && ispunct((unsigned char)al->text[w.off + w.len - 1])) w.len--;
    if (w.len == 0) return CHORUS_OK;
    w.off += al->base_off;
    w.start += al->time_base;
    w.end += al->time_base;
    size_t idx = al->produced++;
    if (al->hold) {
        if (al->n_held == al->cap_held) {
            size_t cap = al->cap_held ? al->cap_held * 2 : 64;
            struct el_word *q = realloc(al->held, cap * sizeof *q);
            if (!q) return CHORUS_E_NOMEM;
            al->held = q;
            al->cap_held = cap;
        }
        al->held[al->n_held++] = w;
        return CHORUS_OK;
    }
    if (idx < al->emitted) return CHORUS_OK; /* a replay: already reported */
    al->emitted++;
    return chorus_sink_word(sink, w.off, w.len, w.start, w.end);
}

static int align_line(struct el_align *al, json_t *alignment, struct chorus_sink *sink) {
    json_t *chars = json_object_get(alignment, "characters");
    json_t *starts = json_object_get(alignment, "character_start_times_seconds");
    json_t *ends = json_object_get(alignment, "character_end_times_seconds");
    if (!json_is_array(chars) || !json_is_array(starts) || !json_is_array(ends)) return CHORUS_OK;
    size_t n = json_array_size(chars);
    if (json_array_size(starts) < n || json_array_size(ends) < n) n = 0;
    /* times may restart at 0 for each piece (relative) or run on (absolute): detect it */
    if (n > 0) {
        double first = json_number_value(json_array_get(starts, 0));
        if (first + al->line_base < al->last_end - 0.05) al->line_base = al->last_end;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *cj = json_array_get(chars, i);
        const char *ch = json_string_value(cj);
        size_t cl = ch ? json_string_length(cj) : 0;
        double t0 = json_number_value(json_array_get(starts, i)) + al->line_base;
        double t1 = json_number_value(json_array_get(ends, i)) + al->line_base;
        if (!isfinite(t0) || !isfinite(t1) || t0 < 0 || t1 < t0 || t1 > 1e6) continue;
        if (t1 > al->last_end) al->last_end = t1;
        if (cl == 0) continue;
        /* find the character in the text at the cursor (or a little further) */
        size_t at = (size_t)-1;
        for (size_t k = al->cursor; k < al->len && k <= al->cursor + 16; k++)
            if (k + cl <= al->len && !memcmp(al->text + k, ch, cl)) {
                at = k;
                break;
            }
        int space = is_space_utf8(ch, cl);
        if (space) {
            if (al->in_word) {
                int rc = word_out(al, sink);
                if (rc) return rc;
            }
            if (at != (size_t)-1) al->cursor = at + cl;
            continue;
        }
        if (at == (size_t)-1) continue; /* not in our text (normalized): skip */
        /* text spaces the alignment skipped still end the word */
        if (al->in_word && at > al->cursor) {
            int rc = word_out(al, sink);
            if (rc) return rc;
        }
        if (!al->in_word) {
            al->in_word = 1;
            al->cur.off = at;
            al->cur.start = t0;
        }
        al->cur.len = at + cl - al->cur.off;
        al->cur.end = t1;
        al->cursor = at + cl;
    }
    return CHORUS_OK;
}

static void align_rewind(struct el_align *al) {
    al->cursor = 0;
    al->in_word = 0;
    al->line_base = 0;
    al->last_end = 0;
    al->produced = 0;
    al->n_held = 0;
}

/* ---- one request --------------------------------------------------------------------------- */

struct el_call {
    const struct chorus_job *job;
    struct chorus_sink *sink;
    struct chorus_remote_audio *audio;
    int ndjson;
    struct chorus_framer framer;
    struct el_align al;
    size_t bad_lines;
    int status;
    char msg[1024];
};

static int el_fail(struct el_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int el_fail(struct el_call *c, int status, const char *fmt, ...) {
    if (!c->status) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
        c->status = status;
    }
    return status;
}

static int el_audio(struct el_call *c, const void *p, size_t n) {
    int rc = chorus_remote_audio_write(c->audio, p, n);
    if (rc && rc != CHORUS_E_CANCELLED && c->audio->msg[0])
        return el_fail(c, rc, "elevenlabs: %s", c->audio->msg);
    return rc;
}

static int on_line(void *ud, const char *line, size_t n) {
    struct el_call *c = ud;
    json_error_t jerr;
    json_t *o = json_loadb(line, n, 0, &jerr);
    if (!json_is_object(o)) {
        /* the SDK skips what it cannot parse (elevenlabs-python text_to_speech/raw_client.py:
         * json.loads in a try, continue on JSONDecodeError): the audio of that piece is lost,
         * the rest of the answer is still good */
        json_decref(o);
        c->bad_lines++;
        CHORUS_LOGW("elevenlabs: skipped a timestamps line that is not a JSON object (%zu bytes, "
                    "%s)", n, jerr.text);
        return CHORUS_OK;
    }
    int rc = CHORUS_OK;
    json_t *a = json_object_get(o, "audio_base64");
    if (json_is_string(a) && json_string_length(a) > 0) {
        size_t len = json_string_length(a);
        unsigned char *buf = malloc(len / 4 * 3 + 3);
        if (!buf) {
            rc = CHORUS_E_NOMEM;
        } else {
            long got = chorus_base64_decode(json_string_value(a), len, buf);
            rc = got < 0 ? el_fail(c, CHORUS_E_BACKEND, "elevenlabs: audio_base64 is not base64")
                         : el_audio(c, buf, (size_t)got);
            free(buf);
        }
    }
    json_t *al = json_object_get(o, "alignment");
    if (rc == CHORUS_OK && json_is_object(al)) rc = align_line(&c->al, al, c->sink);
    json_decref(o);
    return rc;
}

static int el_on_response(void *ud, const struct chorus_http_result *r) {
    struct el_call *c = ud;
    chorus_remote_audio_rewind(c->audio);
    align_rewind(&c->al);
    chorus_framer_release(&c->framer);
    chorus_framer_init(&c->framer, 0, 0, on_line, c);
    if (c->ndjson && strncasecmp(r->content_type, "application/json", 16) != 0 &&
        strncasecmp(r->content_type, "application/x-ndjson", 20) != 0 && r->content_type[0])
        return el_fail(c, CHORUS_E_BACKEND, "elevenlabs: expected JSON lines from the "
                       "timestamps endpoint, got %s", r->content_type);
    return CHORUS_OK;
}

static int el_on_body(void *ud, const void *data, size_t n) {
    struct el_call *c = ud;
    if (c->ndjson) return chorus_framer_feed(&c->framer, data, n);
    return el_audio(c, data, n);
}

static void on_retry(void *ud, int attempt, long wait_ms, const char *why) {
    (void)ud;
    chorus_remote_log_retry("elevenlabs", attempt, wait_ms, why);
}

static int el_cancelled(void *ud) {
    return chorus_job_cancelled(((struct el_call *)ud)->job);
}

static void add_setting(json_t *vs, const struct chorus_job *job, const char *opt, double def) {
    const char *v = chorus_job_option(job, opt);
    if (v)
        json_object_set_new(vs, opt, json_real(chorus_job_option_double(job, opt, 0)));
    else if (def >= 0)
        json_object_set_new(vs, opt, json_real(def));
}

static int opt_bool(const char *v, int def) {
    int b;
    return v && chorus_parse_bool(v, &b) == 0 ? b : def;
}

/* Request stitching (elevenlabs-docs request-stitching.mdx; field docs in elevenlabs-python
 * text_to_speech/raw_client.py): previous_request_ids are the request-id headers of the latest
 * requests of this stream (at most 3, oldest first), previous_text the text before this piece
 * (the service ignores it when ids are sent, but ids older than two hours are not honoured),
 * next_text the text after it: the rest of a split job, else the start of the core's next job.
 * next_request_ids name requests made *after* this one, which exist only when regenerating a
 * piece; chorus speaks in order, so it never sends them. */
static void add_continuity(json_t *body, const struct chorus_job *job, size_t base_off,
                           size_t len, const struct el_ids *ids) {
    char prev_text[400] = "", next_text[400] = "";
    if (base_off > 0)
        text_tail(prev_text, sizeof prev_text, job->text, base_off, 300);
    else
        snprintf(prev_text, sizeof prev_text, "%s", ids->tail); /* the previous job's */
    size_t end = base_off + len;
    if (end < job->len)
        text_head(next_text, sizeof next_text, job->text + end, job->len - end, 300);
    else if (job->next_text && job->next_len)
        text_head(next_text, sizeof next_text, job->next_text, job->next_len, 300);
    if (ids->n) {
        json_t *arr = json_array();
        for (int i = 0; i < ids->n; i++) json_array_append_new(arr, json_string(ids->id[i]));
        json_object_set_new(body, "previous_request_ids", arr);
    }
    if (prev_text[0]) json_object_set_new(body, "previous_text", json_string(prev_text));
    if (next_text[0]) json_object_set_new(body, "next_text", json_string(next_text));
}

/* One HTTP request speaking text[0..len) (a piece of the job starting at base_off). */
static int el_request(struct chorus_backend *b, const struct chorus_job *job,
                      struct chorus_sink *out, struct chorus_remote_audio *audio,
                      const char *voice_id, const char *model, const char *output_format,
                      int timestamps, size_t base_off, const char *text, size_t len,
                      struct el_ids *ids, double *time_base) {
    /* wav exists only on the non-streaming convert endpoint (no timestamps there either) */
    int convert = !strncmp(output_format, "wav_", 4);
    if (convert) timestamps = 0;
    struct el_priv *p = b->priv;
    json_t *body = json_object();
    json_object_set_new(body, "text", json_stringn(text, len));
    json_object_set_new(body, "model_id", json_string(model));
    json_t *vs = json_object();
    add_setting(vs, job, "stability", p->def_stability);
    add_setting(vs, job, "similarity_boost", p->def_similarity);
    add_setting(vs, job, "style", p->def_style);
    const char *boost = chorus_job_option(job, "use_speaker_boost");
    if (boost || p->def_boost >= 0)
        json_object_set_new(vs, "use_speaker_boost", json_boolean(opt_bool(boost, p->def_boost)));
    if (fabsf(job->speed - 1.0f) > 1e-4f)
        json_object_set_new(vs, "speed", json_real(round(job->speed * 1000.0) / 1000.0));
    if (json_object_size(vs))
        json_object_set_new(body, "voice_settings", vs);
    else
        json_decref(vs);
    const char *lc = chorus_job_option(job, "language_code");
    if (lc) json_object_set_new(body, "language_code", json_string(lc));
    const char *seed = chorus_job_option(job, "seed");
    if (seed)
        json_object_set_new(body, "seed",
                            json_integer((json_int_t)chorus_job_option_double(job, "seed", 0)));
    const char *norm = chorus_job_option(job, "apply_text_normalization");
    if (norm) json_object_set_new(body, "apply_text_normalization", json_string(norm));
    if (strncmp(model, "eleven_v3", 9) != 0) /* v3 does not take stitching fields */
        add_continuity(body, job, base_off, len, ids);
    char *payload = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!payload) return chorus_job_fail(job, CHORUS_E_NOMEM, "elevenlabs: out of memory");

    char path[256], url[1024], q[96] = "";
    snprintf(path, sizeof path, "v1/text-to-speech/");
    chorus_net_urlencode_append(path, sizeof path, voice_id);
    size_t pl = strlen(path);
    snprintf(path + pl, sizeof path - pl, "%s",
             convert ? "" : timestamps ? "/stream/with-timestamps" : "/stream");
    chorus_net_urlencode_append(q, sizeof q, output_format);
    char joined[900];
    if (chorus_net_join_url(joined, sizeof joined, p->base, path) != 0) {
        free(payload);
        return chorus_job_fail(job, CHORUS_E_CONFIG, "elevenlabs: the base URL is too long");
    }
    snprintf(url, sizeof url, "%s?output_format=%s", joined, q);
    char hdr[600];
    snprintf(hdr, sizeof hdr, "xi-api-key: %s", p->key);
    const char *hdrs[] = {hdr, "Content-Type: application/json",
                          timestamps ? "Accept: application/json" : "Accept: */*", NULL};

    struct el_call c;
    memset(&c, 0, sizeof c);
    c.job = job;
    c.sink = out;
    c.audio = audio;
    c.ndjson = timestamps;
    c.al.text = text;
    c.al.len = len;
    c.al.base_off = base_off;
    c.al.time_base = *time_base;
    c.al.hold = audio->once.hold;
    chorus_framer_init(&c.framer, 0, 0, on_line, &c);
    size_t samples_before = audio->samples;

    struct chorus_http_req req = {0};
    req.method = "POST";
    req.url = url;
    req.headers = hdrs;
    req.body = payload;
    req.body_len = strlen(payload);
    req.secret = p->key;
    req.what = "elevenlabs";
    req.pool = p->pool;
    req.policy = chorus_remote_policy(job);
    req.on_response = el_on_response;
    req.on_body = el_on_body;
    req.classify = el_classify;
    req.is_cancelled = el_cancelled;
    req.on_retry = on_retry;
    req.ud = &c;
    struct chorus_http_result r;
    int rc = chorus_http_perform(&req, &r);
    if (rc == CHORUS_OK && c.ndjson) rc = chorus_framer_finish(&c.framer);
    if (rc == CHORUS_OK && c.bad_lines)
        CHORUS_LOGW("elevenlabs: chunk %u: %zu timestamps line(s) could not be read and were "
                    "skipped; that audio may be missing", job->index, c.bad_lines);
    if (rc == CHORUS_OK && c.status) rc = c.status;
    if (rc == CHORUS_OK && c.al.in_word) rc = word_out(&c.al, out);
    if (rc == CHORUS_OK) {
        rc = chorus_remote_audio_finish(audio);
        if (rc && audio->msg[0]) el_fail(&c, rc, "elevenlabs: %s", audio->msg);
    }
    if (rc == CHORUS_OK && c.al.hold) /* held words go out with their audio */
        for (size_t i = 0; i < c.al.n_held && rc == CHORUS_OK; i++)
            rc = chorus_sink_word(out, c.al.held[i].off, c.al.held[i].len, c.al.held[i].start,
                                  c.al.held[i].end);
    if (rc == CHORUS_OK) {
        ids_push(ids, r.request_id);
        /* where the next sub-request's audio starts */
        if (audio->rate > 0 && audio->samples > samples_before)
            *time_base += (double)(audio->samples - samples_before) / audio->rate;
        else
            *time_base += c.al.last_end; /* encoded audio: the alignment's end */
        if (r.character_cost[0]) {
            struct chorus_estimate est;
            if (chorus_price_estimate(b->desc, chorus_backend_config(b), model, text, len,
                                      &est) == CHORUS_OK)
                CHORUS_LOGI("elevenlabs: %s credits charged (estimated %.0f)", r.character_cost,
                            est.credits);
        }
        if (r.retries) CHORUS_LOGI("elevenlabs: chunk %u needed %d retries", job->index, r.retries);
    } else if (rc != CHORUS_E_CANCELLED) {
        if (c.status && c.msg[0])
            chorus_job_fail(job, rc, "%s", c.msg);
        else if (r.msg[0])
            chorus_job_fail(job, rc, "%s", r.msg);
    }
    chorus_http_result_release(&r);
    chorus_framer_release(&c.framer);
    free(c.al.held);
    free(payload);
    return rc;
}

/* Unicode characters in s[0..n) (ElevenLabs' limits count characters, not bytes). */
static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Bytes of the first `chars` characters of s[0..n) (n if it has fewer). */
static size_t utf8_prefix(const char *s, size_t n, size_t chars) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && c++ == chars) return i;
    return n;
}

static int pick_pcm_rate(int want) {
    static const int ok[] = {8000, 16000, 22050, 24000};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (want == ok[i]) return want;
    return 24000; /* pcm_44100 needs a Pro plan; the core resamples */
}

static int el_synthesize(struct chorus_backend *b, const struct chorus_job *job,
                         struct chorus_sink *out) {
    struct el_priv *p = b->priv;
    if (!p->key[0]) return chorus_job_fail(job, CHORUS_E_AUTH, "%s", missing_key_msg);
    if (job->speed < 0.7f - 1e-4f || job->speed > 1.2f + 1e-4f)
        return chorus_job_fail(job, CHORUS_E_INVALID, "elevenlabs: speed %.2f is outside the "
                               "0.7-1.2 range ElevenLabs accepts", job->speed);
    const char *model = job->model && *job->model ? job->model : p->model;
    char voice_id[96];
    int rc = resolve_voice(p, job, job->voice && *job->voice ? job->voice : p->voice, voice_id,
                           sizeof voice_id);
    if (rc) return rc;
    size_t limit = model_limit(model); /* characters */
    size_t nchars = utf8_chars(job->text, job->len);
    int split = nchars > limit;

    /* output format and how its bytes reach the sink */
    char of[64];
    enum chorus_remote_kind kind;
    enum chorus_format fmt = CHORUS_FORMAT_DEFAULT;
    int rate = 0;
    const char *ofo = chorus_job_option(job, "output_format");
    if (ofo) {
        snprintf(of, sizeof of, "%s", ofo);
        if (!strncmp(of, "pcm_", 4)) {
            kind = CHORUS_REMOTE_PCM;
            rate = atoi(of + 4);
        } else if (!strncmp(of, "wav_", 4)) {
            kind = CHORUS_REMOTE_WAV; /* the convert endpoint: see el_request */
        } else if (!strncmp(of, "mp3_", 4)) {
            kind = CHORUS_REMOTE_ENCODED;
            fmt = CHORUS_FORMAT_MP3;
        } else if (!strncmp(of, "opus_", 5)) {
            kind = CHORUS_REMOTE_ENCODED;
            fmt = CHORUS_FORMAT_OPUS;
        } else {
            return chorus_job_fail(job, CHORUS_E_OPTION, "elevenlabs: output_format '%s' is not "
                                   "one chorus can read; use mp3_*, pcm_*, wav_* or opus_*", of);
        }
        if (kind == CHORUS_REMOTE_PCM && (rate < 8000 || rate > 48000))
            return chorus_job_fail(job, CHORUS_E_OPTION, "elevenlabs: output_format '%s' has no "
                                   "valid rate; use e.g. pcm_24000", of);
        if (split && kind == CHORUS_REMOTE_ENCODED)
            return chorus_job_fail(job, CHORUS_E_TOO_LONG, "elevenlabs: this chunk (%zu "
                                   "characters) exceeds %s's %zu-character limit and must be "
                                   "split, which needs PCM output; drop the output_format option",
                                   nchars, model, limit);
    } else if (job->passthrough_ok && job->want_format == CHORUS_FORMAT_MP3 && !split) {
        snprintf(of, sizeof of, "mp3_44100_128");
        kind = CHORUS_REMOTE_ENCODED;
        fmt = CHORUS_FORMAT_MP3;
    } else {
        rate = pick_pcm_rate(job->want_rate);
        snprintf(of, sizeof of, "pcm_%d", rate);
        kind = CHORUS_REMOTE_PCM;
    }
    int timestamps = opt_bool(chorus_job_option(job, "timestamps"), 1);

    struct chorus_remote_audio audio;
    rc = chorus_remote_audio_init(&audio, job, out, kind, fmt, rate);
    if (rc) {
        chorus_remote_audio_release(&audio);
        return chorus_job_fail(job, rc, "elevenlabs: out of memory");
    }
    struct el_ids ids;
    cont_get(p, job, &ids);
    double time_base = 0;
    size_t off = 0;
    while (rc == CHORUS_OK && off < job->len) {
        size_t n = job->len - off;
        size_t cap = utf8_prefix(job->text + off, n, limit); /* bytes of `limit` characters */
        if (cap < n) n = chorus_text_chunk_end(job->text + off, cap, cap);
        if (n == 0) n = cap ? cap : job->len - off;
        if (off > 0) {
            /* a new response for the same job: a fresh exactly-once window */
            chorus_remote_audio_release(&audio);
            rc = chorus_remote_audio_init(&audio, job, out, kind, fmt, rate);
            if (rc) break;
        }
        rc = el_request(b, job, out, &audio, voice_id, model, of, timestamps, off, job->text + off,
                        n, &ids, &time_base);
        off += n;
    }
    if (rc == CHORUS_OK) cont_put(p, job, &ids, job->text, job->len);
    chorus_remote_audio_release(&audio);
    return rc;
}

static const char *el_default_model(struct chorus_backend *b) {
    return ((struct el_priv *)b->priv)->model;
}

/* ElevenLabs' published prices (../shared/specs/providers.md §2.7), as of 2026: 1 credit per
 * character, flash and turbo models 0.5; USD per credit from the Creator plan ($22 / 100k). */
static const struct chorus_price el_prices[] = {
    {.model = "eleven_flash", .credits_per_char = 0.5, .usd_per_credit = 0.00022,
     .basis = "0.5 credit / character, $22 / 100k credits"},
    {.model = "eleven_turbo", .credits_per_char = 0.5, .usd_per_credit = 0.00022,
     .basis = "0.5 credit / character, $22 / 100k credits"},
    {.model = NULL, .credits_per_char = 1.0, .usd_per_credit = 0.00022,
     .basis = "1 credit / character, $22 / 100k credits"},
};

static const struct chorus_backend_ops el_ops = {
    .default_model = el_default_model,
    .open = el_open,
    .probe = el_probe,
    .synthesize = el_synthesize,
    .list_voices = el_list_voices,
    .close = el_close,
};

const struct chorus_backend_desc chorus_backend_elevenlabs = {
    .name = "elevenlabs",
    .pattern = NULL,
    .description = "ElevenLabs text-to-speech (streaming, word timestamps, voice settings)",
    .caps = CHORUS_CAP_STREAMING | CHORUS_CAP_REMOTE | CHORUS_CAP_WORD_TIMESTAMPS,
    .flags = CHORUS_BF_ANY_VOICE,
    .max_input_chars = 5000,
    .first_chunk_chars = 0,
    .sample_rate = 0,
    .max_concurrent = 2,
    .default_voice = NULL,
    .options = el_options,
    .priv_size = sizeof(struct el_priv),
    .ops = &el_ops,
    .prices = el_prices,
};
