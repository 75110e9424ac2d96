/* fuzz_provider_json.c — what remote servers send us: error envelopes (every provider's),
 * SSE and NDJSON framing fed in arbitrary pieces, base64 audio in JSON events, Retry-After
 * values, and the redactor run over the resulting messages. The first byte picks the path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chorus/chorus.h"
#include "net/net.h"
#include "remote/remote.h"

static int on_frame(void *ud, const char *s, size_t n) {
    size_t *count = ud;
    (*count)++;
    /* each frame is what a backend JSON-parses and base64-decodes */
    json_error_t e;
    json_t *o = json_loadb(s, n, 0, &e);
    json_t *a = json_object_get(o, "audio");
    if (!a) a = json_object_get(o, "audio_base64");
    if (json_is_string(a)) {
        size_t len = json_string_length(a);
        unsigned char *buf = malloc(len / 4 * 3 + 3);
        if (buf) {
            long got = chorus_base64_decode(json_string_value(a), len, buf);
            if (got > (long)(len / 4 * 3 + 3)) abort();
            free(buf);
        }
    }
    json_decref(o);
    return *count > 100000 ? CHORUS_E_TOO_LONG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    switch (mode % 4) {
    case 0: {
        struct chorus_provider_error e;
        chorus_provider_error_parse((const char *)data, size, &e);
        if (strlen(e.message) >= sizeof e.message || strlen(e.code) >= sizeof e.code) abort();
        char msg[512];
        snprintf(msg, sizeof msg, "x: %s (%s)", e.message, e.code);
        chorus_net_redact(msg, sizeof msg, "sk-secret-key-0123456789");
        if (strstr(msg, "sk-secret-key-0123456789")) abort();
        break;
    }
    case 1:
    case 2: {
        struct chorus_framer f;
        size_t count = 0;
        chorus_framer_init(&f, mode % 4 == 1, 1 << 20, on_frame, &count);
        /* feed in pieces whose sizes come from the data itself */
        size_t i = 0;
        while (i < size) {
            size_t step = 1 + data[i] % 64;
            if (step > size - i) step = size - i;
            if (chorus_framer_feed(&f, data + i, step)) break;
            i += step;
        }
        chorus_framer_finish(&f);
        chorus_framer_release(&f);
        break;
    }
    case 3: {
        char *s = malloc(size + 1);
        if (!s) return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        long ms = chorus_http_parse_retry_after(s, 1700000000);
        if (ms < -1) abort();
        char buf[256];
        snprintf(buf, sizeof buf, "%s", s);
        chorus_net_redact(buf, sizeof buf, s[0] ? s : NULL);
        if (strlen(buf) >= sizeof buf) abort();
        free(s);
        break;
    }
    }
    return 0;
}
