/*
 * encoder.c — creates encoders by format and dispatches to their vtables (encoders/<fmt>.c).
 * Checks the sample rate against the format table first, so every encoder can rely on it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/encoders/encoders.h"

static const struct chorus_encoder_vt *const vts[] = {
    &chorus_enc_wav, &chorus_enc_pcm, &chorus_enc_mp3, &chorus_enc_opus, &chorus_enc_flac,
#if CHORUS_WITH_AAC
    &chorus_enc_aac,
#endif
};

static const struct chorus_encoder_vt *vt_for(enum chorus_format f) {
    for (size_t i = 0; i < sizeof vts / sizeof vts[0]; i++)
        if (vts[i]->format == f) return vts[i];
    return NULL;
}

int chorus_encoder_available(enum chorus_format f) { return vt_for(f) != NULL; }

int chorus_encoder_fail(struct chorus_encoder *e, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof e->err, fmt, ap);
    va_end(ap);
    return status;
}

int chorus_encoder_create(struct chorus_encoder **out, enum chorus_format f, int sample_rate,
                          const struct chorus_encoder_opts *opts, chorus_bytes_fn fn, void *ud,
                          char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!out) return CHORUS_E_INVALID;
    *out = NULL;
    if (!chorus_format_info(f)) {
        if (err && errlen) snprintf(err, errlen, "unknown output format %d", (int)f);
        return CHORUS_E_FORMAT;
    }
    if (!chorus_format_rate_allowed(f, sample_rate)) {
        char list[256];
        chorus_format_describe_rates(f, list, sizeof list);
        if (err && errlen)
            snprintf(err, errlen, "%s output cannot use a sample rate of %d Hz; allowed: %s",
                     chorus_format_name(f), sample_rate, list);
        return CHORUS_E_FORMAT;
    }
    const struct chorus_encoder_vt *vt = vt_for(f);
    if (!vt) {
        if (err && errlen)
            snprintf(err, errlen, "%s output is not available in this build%s", chorus_format_name(f),
                     f == CHORUS_FORMAT_AAC && !CHORUS_WITH_AAC
                         ? ": chorus was built with CHORUS_WITH_AAC=OFF (no libavcodec); rebuild "
                           "with cmake -DCHORUS_WITH_AAC=ON, or choose wav, mp3, opus, flac or pcm"
                         : "");
        return CHORUS_E_FORMAT;
    }
    struct chorus_encoder_opts defaults = {0, 0, -1, 0};
    struct chorus_encoder *e = calloc(1, sizeof *e);
    if (!e) return CHORUS_E_NOMEM;
    e->vt = vt;
    e->sample_rate = sample_rate;
    e->channels = 1;
    e->out = fn;
    e->out_ud = ud;
    if (vt->priv_size && !(e->priv = calloc(1, vt->priv_size))) {
        free(e);
        return CHORUS_E_NOMEM;
    }
    int rc = vt->init(e, opts ? opts : &defaults);
    if (rc != CHORUS_OK) {
        if (err && errlen) snprintf(err, errlen, "%s", e->err[0] ? e->err : "encoder init failed");
        chorus_encoder_destroy(e);
        return rc;
    }
    *out = e;
    return CHORUS_OK;
}

int chorus_encoder_write(struct chorus_encoder *e, const float *x, size_t n) {
    if (!e) return CHORUS_E_INVALID;
    if (n == 0) return CHORUS_OK;
    if (!x) return CHORUS_E_INVALID;
    int rc = e->vt->write(e, x, n);
    if (rc == CHORUS_OK) e->samples_in += n;
    return rc;
}

int chorus_encoder_finish(struct chorus_encoder *e) {
    if (!e) return CHORUS_E_INVALID;
    return e->vt->finish(e);
}

int chorus_encoder_header(struct chorus_encoder *e, unsigned char *buf, size_t cap, size_t *len) {
    if (len) *len = 0;
    if (!e || !buf || !len) return CHORUS_E_INVALID;
    if (!e->vt->header) return CHORUS_E_INVALID;
    return e->vt->header(e, buf, cap, len);
}

void chorus_encoder_destroy(struct chorus_encoder *e) {
    if (!e) return;
    if (e->vt && e->vt->release && e->priv) e->vt->release(e);
    free(e->priv);
    free(e);
}

int chorus_encoder_emit(struct chorus_encoder *e, const void *data, size_t n) {
    if (n == 0) return CHORUS_OK;
    e->bytes_out += n;
    if (!e->out) return CHORUS_OK;
    int rc = e->out(e->out_ud, data, n);
    if (rc == 0) return CHORUS_OK;
    /* a negative chorus status from the sink passes through (E_IO from a file sink...) */
    if (rc < 0) {
        snprintf(e->err, sizeof e->err, "the output sink failed (status %d)", rc);
        return rc;
    }
    snprintf(e->err, sizeof e->err, "the output sink stopped the stream");
    return CHORUS_E_CANCELLED;
}
