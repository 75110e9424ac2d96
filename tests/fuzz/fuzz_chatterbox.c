/*
 * fuzz_chatterbox.c — what the chatterbox backend reads from outside: text it preprocesses and
 * matches against transcripts, the voice library's metadata files, and the servers' voice
 * lists. The first byte picks the parser; the rest is its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/chatterbox/cb_internal.h"
#include "core/voicelib.h"

static void on_name(void *ud, const char *name, const char *display) {
    size_t *n = ud;
    *n += strlen(name) + (display ? strlen(display) : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: {
        char *out = chorus_cb_preprocess(s, n);
        if (out && strlen(out) > 2 * n) abort(); /* the bound the buffer was sized for */
        free(out);
        break;
    }
    case 1: {
        char *a = malloc(n + 1);
        if (!a) return 0;
        memcpy(a, s, n);
        a[n] = '\0';
        size_t half = strlen(a) / 2;
        double m = chorus_cb_text_match(a + half, a);
        if (!(m >= 0.0 && m <= 1.0)) abort();
        free(a);
        break;
    }
    case 2: {
        struct chorus_voicelib_entry e;
        char err[256];
        if (chorus_voicelib_parse_meta(s, n, &e, err, sizeof err) == 0) {
            if (!chorus_voicelib_name_ok(e.name)) abort();
            chorus_voicelib_entry_release(&e);
        }
        break;
    }
    default: {
        size_t total = 0;
        (void)chorus_cb_parse_voice_list(s, n, data[0] & 4 ? 1 : 0, on_name, &total);
        break;
    }
    }
    return 0;
}
