/* fuzz_server_request.c — the JSON body parser of POST /v1/audio/speech (src/server/request.c,
 * compiled in: the server is not part of the library), the model/voice name mapping, the inline
 * voice/pause tags translated to SSML (src/server/tags.c) and the request path normalizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/guard.c"
#include "server/request.c"
#include "server/tags.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The Host/Origin/Content-Type rules of a server without a key (guard.c) on the same bytes. */
static void fuzz_guard(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return;
    memcpy(s, data, size);
    s[size] = 0;
    char *nl = strchr(s, '\n'); /* "origin\nhost" */
    if (nl) *nl = 0;
    int h = srv_guard_host_ok(s);
    if (h && strpbrk(s, "/@ ")) abort(); /* a host never holds these */
    int o = srv_guard_origin_ok(s, nl ? nl + 1 : NULL, NULL, 0);
    if (o && !strcmp(s, "null")) abort();
    (void)srv_guard_json_type(s);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_guard(data, size);
    struct srv_speech r;
    struct srv_error e;
    if (srv_speech_parse((const char *)data, size, 4096, &r, &e) == 0) {
        if (!r.input || r.input_len == 0 || r.input_chars > 4096 || r.n_options > SRV_MAX_OPTIONS) abort();
        char b[128], m[256];
        if (srv_model_split(r.model, b, sizeof b, m, sizeof m) == 0 && b[0] && !*b) abort();
        (void)srv_voice_is_openai(r.voice);
        size_t n;
        char *enc = srv_base64((const unsigned char *)r.input, r.input_len, &n);
        if (enc && n != (r.input_len + 2) / 3 * 4) abort();
        free(enc);
        char *doc = NULL;
        size_t dl = 0;
        int tags = 0;
        if (srv_tags_to_ssml(r.input, r.input_len, NULL, NULL, &doc, &dl, &tags) == 0) {
            if (strlen(doc) != dl || strncmp(doc, "<speak>", 7) || tags < 0) abort();
            free(doc);
        }
        srv_speech_release(&r);
    } else {
        if (e.status != 400 || !e.code || !e.message[0]) abort();
    }
    /* the bytes as a request path */
    char path[300], out[256];
    size_t n = size < sizeof path - 1 ? size : sizeof path - 1;
    memcpy(path, data, n);
    path[n] = 0;
    if (srv_path_normalize(path, out, sizeof out) == 0) {
        if (out[0] != '/' || strstr(out, "//") || strlen(out) >= sizeof out) abort();
        if (strlen(out) > 1 && out[strlen(out) - 1] == '/') abort();
    }
    return 0;
}
