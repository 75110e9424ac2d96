/* pcm.c — sample format helpers (s16 <-> float). */
#include <math.h>

#include "audio/audio.h"

void chorus_pcm_s16_to_f32(const int16_t *in, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)in[i] * (1.0f / 32768.0f);
}

int16_t chorus_pcm_f32_to_s16(float x) {
    /* NaN becomes silence; out-of-range values clip */
    if (!(x == x)) return 0;
    float v = x * 32767.0f;
    if (v >= 32767.0f) return 32767;
    if (v <= -32768.0f) return -32768;
    return (int16_t)lrintf(v);
}

void chorus_pcm_f32_to_s16le(const float *in, unsigned char *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint16_t u = (uint16_t)chorus_pcm_f32_to_s16(in[i]);
        out[2 * i] = (unsigned char)(u & 0xff);
        out[2 * i + 1] = (unsigned char)(u >> 8);
    }
}
