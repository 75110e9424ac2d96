/*
 * listing.c — the read-only JSON endpoints: GET /v1/models (and /v1/models/{id}),
 * /v1/audio/models, /v1/audio/voices, /v1/backends and /health, in the shapes the clients of
 * ../shared/specs/clients.md parse.
 */
#include "server_internal.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ simple endpoints ---- */

static json_t *caps_json(unsigned caps) {
    static const struct { unsigned bit; const char *name; } names[] = {
        {CHORUS_CAP_STREAMING, "streaming"}, {CHORUS_CAP_WORD_TIMESTAMPS, "word_timestamps"},
        {CHORUS_CAP_SSML, "ssml"},           {CHORUS_CAP_VOICE_CLONING, "voice_cloning"},
        {CHORUS_CAP_LOCAL, "local"},         {CHORUS_CAP_REMOTE, "remote"},
        {CHORUS_CAP_PHONEMES, "phonemes"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & names[i].bit) json_array_append_new(a, json_string(names[i].name));
    return a;
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

enum MHD_Result srv_handle_backends(struct srv_req *q) {
    struct chorus_backend_info *bi = NULL;
    size_t n = 0;
    int rc = chorus_list_backends(q->srv->engine, &bi, &n);
    if (rc != CHORUS_OK) {
        struct srv_error e;
        srv_error_from_status(&e, rc, chorus_engine_errmsg(q->srv->engine), NULL);
        return srv_send_error(q, &e);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(bi[i].name));
        json_object_set_new(o, "pattern", str_or_null(bi[i].pattern));
        json_object_set_new(o, "description", str_or_null(bi[i].description));
        json_object_set_new(o, "available", json_boolean(bi[i].available));
        json_object_set_new(o, "reason", bi[i].available ? json_null() : str_or_null(bi[i].reason));
        json_object_set_new(o, "capabilities", caps_json(bi[i].caps));
        json_object_set_new(o, "max_input_chars", json_integer((json_int_t)bi[i].max_input_chars));
        json_object_set_new(o, "sample_rate", json_integer(bi[i].sample_rate));
        json_object_set_new(o, "default", json_boolean(!strcmp(bi[i].name, q->srv->default_backend)));
        const struct chorus_option_desc *od = NULL;
        size_t no = 0;
        json_t *opts = json_array();
        if (chorus_backend_options(q->srv->engine, bi[i].name, &od, &no) == CHORUS_OK)
            for (size_t k = 0; k < no; k++) {
                json_t *x = json_object();
                json_object_set_new(x, "key", json_string(od[k].key));
                json_object_set_new(x, "type", str_or_null(od[k].type));
                json_object_set_new(x, "default", str_or_null(od[k].def));
                json_object_set_new(x, "help", str_or_null(od[k].help));
                json_array_append_new(opts, x);
            }
        json_object_set_new(o, "options", opts);
        json_array_append_new(arr, o);
    }
    chorus_backend_infos_free(bi, n);
    json_t *root = json_object();
    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "default", json_string(q->srv->default_backend));
    json_object_set_new(root, "formats", srv_formats_json());
    json_object_set_new(root, "data", arr);
    return srv_send_json(q, 200, root);
}

json_t *srv_formats_json(void) {
    json_t *a = json_array();
    for (int f = CHORUS_FORMAT_WAV; f < CHORUS_FORMAT_COUNT_; f++)
        if (chorus_format_supported((enum chorus_format)f))
            json_array_append_new(a, json_string(chorus_format_name((enum chorus_format)f)));
    return a;
}

/* One entry of GET /v1/models: OpenAI's fields, plus what tldw_chatbook's native-server adapter
 * reads (rmusser01/tldw_chatbook, tldw_chatbook/TTS/audio_cpp_contract.py: owned_by "engine",
 * non-empty family, task and mode; it keeps the entries whose task is "tts"). */
static json_t *model_obj(const char *id, const char *backend, unsigned caps) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "object", json_string("model"));
    json_object_set_new(o, "created", json_integer(1686935002));
    json_object_set_new(o, "owned_by", json_string("engine"));
    json_object_set_new(o, "backend", json_string(backend));
    json_object_set_new(o, "family", json_string(backend));
    json_object_set_new(o, "task", json_string("tts"));
    json_object_set_new(o, "mode", json_string(caps & CHORUS_CAP_STREAMING ? "streaming" : "batch"));
    return o;
}

/* OpenAI's model names (on the default backend), then every available backend. */
static json_t *models_array(struct srv *s) {
    static const char *const openai_models[] = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", NULL};
    struct chorus_backend_info *bi = NULL;
    size_t n = 0;
    if (chorus_list_backends(s->engine, &bi, &n) != CHORUS_OK) n = 0;
    unsigned dcaps = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(bi[i].name, s->default_backend)) dcaps = bi[i].caps;
    json_t *arr = json_array();
    for (size_t i = 0; openai_models[i]; i++)
        json_array_append_new(arr, model_obj(openai_models[i], s->default_backend, dcaps));
    for (size_t i = 0; i < n; i++)
        if (bi[i].available) json_array_append_new(arr, model_obj(bi[i].name, bi[i].name, bi[i].caps));
    chorus_backend_infos_free(bi, n);
    return arr;
}

enum MHD_Result srv_handle_audio_models(struct srv_req *q) {
    json_t *arr = models_array(q->srv), *v, *models = json_array();
    size_t i;
    json_array_foreach(arr, i, v) {
        json_t *o = json_object();
        json_object_set(o, "id", json_object_get(v, "id"));
        json_object_set(o, "name", json_object_get(v, "id"));
        json_array_append_new(models, o);
    }
    json_decref(arr);
    json_t *root = json_object();
    json_object_set_new(root, "models", models);
    return srv_send_json(q, 200, root);
}

enum MHD_Result srv_handle_models(struct srv_req *q, const char *one) {
    json_t *arr = models_array(q->srv);
    if (one) {
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
            if (!strcmp(json_string_value(json_object_get(v, "id")), one)) {
                json_incref(v);
                json_decref(arr);
                return srv_send_json(q, 200, v);
            }
        }
        json_decref(arr);
        struct srv_error e;
        srv_error_set(&e, 404, "invalid_request_error", "model_not_found", "model",
                      "the model '%.100s' does not exist here; GET /v1/models lists them", one);
        return srv_send_error(q, &e);
    }
    json_t *root = json_object();
    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "data", arr);
    return srv_send_json(q, 200, root);
}

enum MHD_Result srv_handle_voices(struct srv_req *q) {
    struct srv *s = q->srv;
    const char *b = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "backend");
    const char *model = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "model");
    const char *legacy = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "legacy");
    char bname[128], bmodel[128];
    if (!b || !*b) {
        if (srv_model_split(model, bname, sizeof bname, bmodel, sizeof bmodel) < 0 || !bname[0])
            snprintf(bname, sizeof bname, "%s", s->default_backend);
        b = bname;
    }
    struct chorus_voice *v = NULL;
    size_t n = 0;
    int rc = chorus_list_voices(s->engine, b, &v, &n);
    if (rc != CHORUS_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot list the voices of backend '%.100s': %s", b,
                 chorus_engine_errmsg(s->engine));
        struct srv_error e;
        srv_error_from_status(&e, rc, msg, "backend");
        return srv_send_error(q, &e);
    }
    /* a list of ids with legacy=true, and for ?model= as Kokoro-FastAPI and tldw_chatbook read it */
    int leg = legacy ? !strcmp(legacy, "true") || !strcmp(legacy, "1") : model != NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (leg) {
            json_array_append_new(arr, json_string(v[i].id));
            continue;
        }
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(v[i].id));
        json_object_set_new(o, "name", json_string(v[i].name ? v[i].name : v[i].id));
        json_object_set_new(o, "language", str_or_null(v[i].language));
        json_object_set_new(o, "gender", str_or_null(v[i].gender));
        json_object_set_new(o, "backend", json_string(v[i].backend ? v[i].backend : b));
        if (v[i].description) json_object_set_new(o, "description", json_string(v[i].description));
        json_array_append_new(arr, o);
    }
    chorus_voices_free(v, n);
    json_t *root = json_object();
    json_object_set_new(root, "voices", arr);
    if (!leg) {
        /* the OpenAI names this server maps for that backend */
        json_t *aliases = json_object();
        for (size_t i = 0; srv_openai_voices[i]; i++) {
            const char *to = srv_voice_map(s, b, srv_openai_voices[i]);
            if (to) json_object_set_new(aliases, srv_openai_voices[i], json_string(to));
        }
        json_object_set_new(root, "aliases", aliases);
        json_object_set_new(root, "backend", json_string(b));
    }
    return srv_send_json(q, 200, root);
}

/* {"status":"ok"} as tldw_chatbook's supervisor checks it (audio_cpp_contract.py,
 * parse_health_response: status "ok", a backend name, the number of models), plus "state" for
 * load balancers: "ready" (200), "draining" (503: SIGTERM came, requests are still served during
 * --drain-delay) or "stopping" (503: no new generations, running ones finish). */
enum MHD_Result srv_handle_health(struct srv_req *q) {
    json_t *o = json_object();
    pthread_mutex_lock(&q->srv->mu);
    int stopping = q->srv->stopping, draining = q->srv->draining;
    pthread_mutex_unlock(&q->srv->mu);
    const char *state = stopping ? "stopping" : draining ? "draining" : "ready";
    json_t *models = models_array(q->srv);
    json_object_set_new(o, "status", json_string(stopping || draining ? state : "ok"));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "backend", json_string(q->srv->default_backend));
    json_object_set_new(o, "models", json_integer((json_int_t)json_array_size(models)));
    json_decref(models);
    json_object_set_new(o, "version", json_string(chorus_version()));
    json_object_set_new(o, "default_backend", json_string(q->srv->default_backend));
    return srv_send_json(q, stopping || draining ? 503 : 200, o);
}
