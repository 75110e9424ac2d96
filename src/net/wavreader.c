/*
 * wavreader.c — the incremental WAV reader for servers that answer with wav (see net.h): a thin
 * adapter over the audio stage's streaming WAV decoder that reports errors as the backend's
 * (E_BACKEND, "the server's wav ...") and converts to 16-bit where the caller wants that.
 */
#include <stdio.h>
#include <string.h>

#include "audio/audio.h"
#include "chorus/chorus.h"
#include "net/net.h"

void chorus_wavreader_init(struct chorus_wavreader *w,
                           int (*on_pcm)(void *ud, const short *x, size_t n, int rate),
                           void *ud) {
    memset(w, 0, sizeof *w);
    w->on_pcm = on_pcm;
    w->ud = ud;
}

static short to_s16(float f) {
    if (!(f == f)) return 0;
    if (f >= 1.0f) return 32767;
    if (f <= -1.0f) return -32768;
    float v = f * 32768.0f;
    return (short)(v >= 32767.0f ? 32767 : v);
}

static int on_decoded(void *ud, const float *x, size_t n, int rate) {
    struct chorus_wavreader *w = ud;
    w->sample_rate = rate;
    int rc = CHORUS_OK;
    if (w->on_f32) {
        rc = w->on_f32(w->ud, x, n, rate);
    } else if (w->on_pcm) {
        short tmp[1024];
        while (n && rc == CHORUS_OK) {
            size_t k = n < 1024 ? n : 1024;
            for (size_t i = 0; i < k; i++) tmp[i] = to_s16(x[i]);
            rc = w->on_pcm(w->ud, tmp, k, rate);
            x += k;
            n -= k;
        }
    }
    if (rc < 0) w->cb_status = rc;
    return rc < 0 ? rc : 0;
}

static int fail(struct chorus_wavreader *w, int rc) {
    w->state = -1;
    if (w->cb_status < 0) return w->cb_status;
    if (rc == CHORUS_E_NOMEM) {
        snprintf(w->err, sizeof w->err, "out of memory reading the wav answer");
        return rc;
    }
    const char *why = w->dec ? chorus_decoder_errmsg(w->dec) : "";
    snprintf(w->err, sizeof w->err, "the server's audio is not a readable WAV (%s)",
             why && *why ? why : "unknown reason");
    return CHORUS_E_BACKEND;
}

int chorus_wavreader_feed(struct chorus_wavreader *w, const void *data, size_t n) {
    if (w->state < 0) return w->cb_status < 0 ? w->cb_status : CHORUS_E_BACKEND;
    if (!w->dec) {
        char err[256];
        int rc = chorus_decoder_create(&w->dec, CHORUS_FORMAT_WAV, 0, on_decoded, w, err,
                                       sizeof err);
        if (rc) return fail(w, rc);
    }
    if (n == 0) return CHORUS_OK;
    int rc = chorus_decoder_feed(w->dec, data, n);
    return rc ? fail(w, rc) : CHORUS_OK;
}

int chorus_wavreader_finish(struct chorus_wavreader *w) {
    if (w->state < 0) return w->cb_status < 0 ? w->cb_status : CHORUS_E_BACKEND;
    if (!w->dec) {
        w->state = -1;
        snprintf(w->err, sizeof w->err, "the server's answer was empty where a WAV was expected");
        return CHORUS_E_BACKEND;
    }
    int rc = chorus_decoder_finish(w->dec);
    return rc ? fail(w, rc) : CHORUS_OK;
}

void chorus_wavreader_release(struct chorus_wavreader *w) {
    if (!w) return;
    chorus_decoder_destroy(w->dec);
    w->dec = NULL;
}
