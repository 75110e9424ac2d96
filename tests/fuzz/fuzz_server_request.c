/* fuzz_server_request.c — the JSON body parser of POST /v1/audio/speech (src/server/request.c,
 * compiled in: the server is not part of the library) and the model/voice name mapping. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/guard.c"
#include "server/request.c"

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
        (void)srv_voice_builtin("espeak", r.voice);
        (void)srv_voice_builtin("kokoro", r.voice);
        size_t n;
        char *enc = srv_base64((const unsigned char *)r.input, r.input_len, &n);
        if (enc && n != (r.input_len + 2) / 3 * 4) abort();
        free(enc);
        srv_speech_release(&r);
    } else {
        if (e.status != 400 || !e.code || !e.message[0]) abort();
    }
    return 0;
}
