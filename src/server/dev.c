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
