/* fuzz_espeak_voice.c — the voice, variant and SSML strings a request hands to libespeak-ng
 * (src/backends/espeak/espeak_names.c), driving the real library: whatever the checks accept is
 * loaded with espeak_SetVoiceByName, and accepted SSML is spoken. libespeak-ng is not
 * instrumented, so its fixed-buffer overflows show as a _FORTIFY_SOURCE abort ("buffer overflow
 * detected"), which the fuzzer reports as a crash.
 *
 * Input: one mode byte, then the text. Mode 0: a voice spec; 1: "voice\nvariant"; 2: an SSML
 * document (at most 400 bytes, spoken with the default voice). */
#include <espeak-ng/speak_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/espeak/espeak_names.h"
#include "backends/espeak/espeak_shared.h"
#include "chorus/chorus.h"

static int count_cb(short *wav, int n, espeak_EVENT *ev) {
    (void)wav, (void)n, (void)ev;
    return 0;
}

static int ready(void) {
    static int state; /* 0 unknown, 1 ready, -1 unavailable */
    if (!state) {
        char err[256];
        state = chorus_espeak_init(err, sizeof err) > 0 ? 1 : -1;
        if (state > 0) {
            chorus_espeak_lock();
            espeak_SetSynthCallback(count_cb);
            chorus_espeak_refuse_uris();
            chorus_espeak_unlock();
        }
    }
    return state > 0;
}

/* An accepted spec never holds what libespeak-ng would turn into a path or an overflow. */
static void assert_safe(const char *spec) {
    const char *plus = strchr(spec, '+');
    if (strstr(spec, "..") || spec[0] == '/' || (plus && strchr(plus, '/'))) abort();
    if (plus && strlen(plus + 1) > CHORUS_ESPEAK_MAX_VARIANT) abort();
    if ((plus ? (size_t)(plus - spec) : strlen(spec)) > CHORUS_ESPEAK_MAX_BASE) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 401 || !ready()) return 0;
    int mode = data[0] % 3;
    char *s = malloc(size);
    if (!s) return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    char spec[96], err[512];
    chorus_espeak_lock();
    if (mode == 2) {
        if (chorus_espeak_ssml_check(s, strlen(s), err, sizeof err) == 0 &&
            espeak_SetVoiceByName("en") == EE_OK)
            espeak_Synth(s, strlen(s) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8 | espeakSSML,
                         NULL, NULL);
        else if (!err[0])
            abort(); /* a refusal always says why */
    } else {
        char *variant = NULL;
        if (mode == 1 && (variant = strchr(s, '\n'))) *variant++ = 0;
        if (chorus_espeak_voice_check(s, variant, spec, sizeof spec, err, sizeof err) == 0) {
            assert_safe(spec);
            (void)espeak_SetVoiceByName(spec);
        } else if (!err[0]) {
            abort();
        }
    }
    chorus_espeak_unlock();
    free(s);
    return 0;
}
