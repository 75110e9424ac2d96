/*
 * dev.c — Kokoro-FastAPI's phoneme endpoints, as its clients call them (remsky/Kokoro-FastAPI,
 * api/src/routers/development.py and api/src/structures/text_schemas.py):
 *
 *   POST /dev/phonemize {"text", "language": "a"}        → {"phonemes": "...", "tokens": []}
 *   POST /dev/generate_from_phonemes {"phonemes", "voice"} → WAV audio, streamed
 *
 * The phonemes are the notation of the backend that speaks them (Kokoro's IPA for kokoro,
 * espeak-ng's for espeak): "model" picks the backend as in speech requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

#define DEV_MAX_VOICE 256

struct dev_req {
    json_t *root;
    const char *text;   /* "text" or "phonemes" */
    size_t len;
    const char *voice, *language;
    char bname[128], bmodel[256];
};

static int dev_string(json_t *root, const char *key, const char **out, struct srv_error *e) {
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    srv_error_set(e, 400, "invalid_request_error", "invalid_type", key, "'%s' must be a string", key);
    return -1;
}

/* Parse {text_key, voice, language, model}; the text is required, bounded like speech input. */
static int dev_parse(struct srv_req *q, const char *text_key, struct dev_req *d, struct srv_error *e) {
    memset(d, 0, sizeof *d);
    json_error_t je;
    d->root = json_loadb(q->body ? q->body : "", q->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!d->root || !json_is_object(d->root)) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_json", NULL,
                      "the request body must be a JSON object with '%s'%s%s", text_key,
                      d->root ? "" : ": ", d->root ? "" : je.text);
        return -1;
    }
    const char *model;
    if (dev_string(d->root, text_key, &d->text, e) || dev_string(d->root, "voice", &d->voice, e) ||
        dev_string(d->root, "language", &d->language, e) || dev_string(d->root, "model", &model, e))
        return -1;
    if (!d->text || !*d->text) {
        srv_error_set(e, 400, "invalid_request_error", "missing_required_parameter", text_key,
                      "'%s' is missing or empty: give the %s", text_key,
                      strcmp(text_key, "text") ? "phonemes to speak" : "text to phonemize");
        return -1;
    }
    d->len = strlen(d->text);
    if (q->srv->opt.max_input_chars && d->len > q->srv->opt.max_input_chars * 4) {
        srv_error_set(e, 400, "invalid_request_error", "string_above_max_length", text_key,
                      "'%s' is longer than this server accepts (max_input_chars)", text_key);
        return -1;
    }
    if ((d->voice && strlen(d->voice) > DEV_MAX_VOICE) || (d->language && strlen(d->language) > 32)) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", d->voice ? "voice" : "language",
                      "'voice' is at most %d characters, 'language' at most 32", DEV_MAX_VOICE);
        return -1;
    }
    if (srv_model_split(model, d->bname, sizeof d->bname, d->bmodel, sizeof d->bmodel) < 0) {
        srv_error_set(e, 400, "invalid_request_error", "invalid_value", "model",
                      "invalid model '%.100s': use a backend name such as kokoro or espeak", model);
        return -1;
    }
    if (!d->bname[0]) snprintf(d->bname, sizeof d->bname, "%s", q->srv->default_backend);
    const char *mapped = srv_voice_map(q->srv, d->bname, d->voice);
    if (mapped) d->voice = mapped;
    return 0;
}

enum MHD_Result srv_handle_phonemize(struct srv_req *q) {
    struct dev_req d;
    struct srv_error e;
    if (dev_parse(q, "text", &d, &e) < 0) {
        json_decref(d.root);
        return srv_send_error(q, &e);
    }
    /* Kokoro's language letters ("a") name espeak-style voices ("en-us") when no voice is given */
    const char *voice = d.voice ? d.voice : d.language ? srv_lang_from_code(d.language) : NULL;
    char *ph = NULL, err[512] = "";
    int rc = chorus_phonemize(q->srv->engine, d.bname, voice, d.text, d.len, &ph, err, sizeof err);
    if (rc == CHORUS_E_UNKNOWN_VOICE && !d.voice && voice) /* a language this backend's voices do not name */
        rc = chorus_phonemize(q->srv->engine, d.bname, NULL, d.text, d.len, &ph, err, sizeof err);
    json_decref(d.root);
    if (rc != CHORUS_OK) {
        srv_error_from_status(&e, rc, err, rc == CHORUS_E_INVALID ? "model" : NULL);
        return srv_send_error(q, &e);
    }
    json_t *o = json_object();
    json_object_set_new(o, "phonemes", json_string(ph));
    json_object_set_new(o, "tokens", json_array());
    chorus_free(ph);
    return srv_send_json(q, 200, o);
}

enum MHD_Result srv_handle_from_phonemes(struct srv_req *q) {
    struct dev_req d;
    struct srv_error e;
    if (dev_parse(q, "phonemes", &d, &e) < 0) {
        json_decref(d.root);
        return srv_send_error(q, &e);
    }
    struct chorus_request r = chorus_request_default();
    r.backend = d.bname;
    r.model = d.bmodel[0] ? d.bmodel : NULL;
    r.voice = d.voice;
    r.text = d.text;
    r.text_len = d.len;
    r.input = CHORUS_INPUT_PHONEMES;
    r.format = CHORUS_FORMAT_WAV; /* Kokoro-FastAPI answers WAV, streamed */
    r.flags = CHORUS_FLAG_NO_SAMPLES;
    struct run run = {.text = d.text, .text_len = d.len, .input_chars = d.len,
                      .format = CHORUS_FORMAT_WAV, .stream = 1};
    enum MHD_Result ret = srv_run(q, &r, &run);
    json_decref(d.root);
    return ret;
}

/*
 * POST /v1/audio/voices/combine — Kokoro-FastAPI's voice mixer (remsky/Kokoro-FastAPI,
 * api/src/routers/openai_compatible.py, combine_voices): the body is a JSON string "a+b" or a
 * list ["a", "b"]; an OpenAI voice name stands for its Kokoro voice; the answer is the mean voice
 * pack as a PyTorch .pt file (application/octet-stream, attachment "a+b.pt"). Kokoro-FastAPI
 * wants two voices at least; chorus also takes weights, "a(2)+b(1)", as its speech requests do.
 */
#define COMBINE_MAX_VOICES 16

/* The voices of the body, OpenAI names mapped, joined with '+' into out. */
static int combine_names(struct srv_req *q, json_t *root, char *out, size_t outlen, struct srv_error *e) {
    const char *one[1];
    size_t n = 0;
    json_t *item;
    size_t i;
    out[0] = 0;
    if (json_is_string(root)) {
        one[0] = json_string_value(root);
        const char *mapped = srv_voice_map(q->srv, "kokoro", one[0]);
        snprintf(out, outlen, "%s", mapped ? mapped : one[0]);
        n = strchr(out, '+') ? 2 : 1;
    } else if (json_is_array(root) && json_array_size(root) <= COMBINE_MAX_VOICES) {
        json_array_foreach(root, i, item) {
            if (!json_is_string(item)) break;
            const char *v = json_string_value(item), *mapped = srv_voice_map(q->srv, "kokoro", v);
            while (*v == ' ') v++;
            if (!*v) continue;
            size_t used = strlen(out);
            int w = snprintf(out + used, outlen - used, "%s%s", n ? "+" : "", mapped ? mapped : v);
            if (w < 0 || (size_t)w >= outlen - used) break;
            n++;
        }
        if (i < json_array_size(root)) n = 0;
    } else {
        n = 0;
    }
    if (n >= 2 && strlen(out) <= DEV_MAX_VOICE) return 0;
    srv_error_set(e, 400, "invalid_request_error", "invalid_value", NULL,
                  "give two voices or more to combine, as a JSON string \"af_bella+af_sky\" or a "
                  "list [\"af_bella\", \"af_sky\"] (at most %d voices, %d characters)",
                  COMBINE_MAX_VOICES, DEV_MAX_VOICE);
    return -1;
}

enum MHD_Result srv_handle_combine(struct srv_req *q) {
    struct srv_error e;
    json_error_t je;
    json_t *root = json_loadb(q->body ? q->body : "", q->body_len,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    char names[DEV_MAX_VOICE + 64];
    if (!root || combine_names(q, root, names, sizeof names, &e) < 0) {
        if (!root)
            srv_error_set(&e, 400, "invalid_request_error", "invalid_json", NULL,
                          "the body must be a JSON string \"a+b\" or a list of voice names: %s", je.text);
        json_decref(root);
        return srv_send_error(q, &e);
    }
    json_decref(root);
    void *pt = NULL;
    size_t len = 0;
    char err[512] = "";
    int rc = chorus_voice_export(q->srv->engine, "kokoro", names, &pt, &len, err, sizeof err);
    if (rc != CHORUS_OK) {
        srv_error_from_status(&e, rc, err, rc == CHORUS_E_UNKNOWN_VOICE ? "voice" : NULL);
        return srv_send_error(q, &e);
    }
    /* the response owns a malloc'd copy: libmicrohttpd frees it with free() */
    void *copy = malloc(len);
    if (!copy) {
        chorus_free(pt);
        return MHD_NO;
    }
    memcpy(copy, pt, len);
    chorus_free(pt);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(copy);
        return MHD_NO;
    }
    char cd[DEV_MAX_VOICE + 64];
    size_t k = 0;
    for (const char *c = names; *c && k < sizeof names - 1; c++) /* a header-safe file name */
        names[k++] = (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f) ? '_' : *c;
    names[k] = 0;
    snprintf(cd, sizeof cd, "attachment; filename=\"%s.pt\"", names);
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Content-Disposition", cd);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    q->bytes_out += len;
    return srv_queue(q, 200, r);
}
