/*
 * resample.c — streaming sample-rate conversion with libsoxr (HQ quality, mono float).
 *
 * Input is taken in any piece size and converted in pieces of at most RS_PIECE samples, so the
 * output buffer has a fixed size. soxr compensates its own filter delay: output sample k is at
 * time k / out_rate of the input's timeline, and after flush the output holds
 * round(n_in * out_rate / in_rate) samples. Equal rates pass through untouched.
 */
#include <math.h>
#include <stdlib.h>

#include <soxr.h>

#include "audio/audio.h"

#define RS_PIECE 4096

struct chorus_resampler {
    soxr_t soxr; /* NULL when in_rate == out_rate */
    int in_rate, out_rate;
    chorus_pcm_fn fn;
    void *ud;
    size_t out_cap;
    float *out;
};

int chorus_resampler_create(struct chorus_resampler **out, int in_rate, int out_rate,
                            chorus_pcm_fn fn, void *ud) {
    if (!out) return CHORUS_E_INVALID;
    *out = NULL;
    if (in_rate <= 0 || out_rate <= 0 || in_rate > 1000000 || out_rate > 1000000 || !fn)
        return CHORUS_E_INVALID;
    struct chorus_resampler *r = calloc(1, sizeof *r);
    if (!r) return CHORUS_E_NOMEM;
    r->in_rate = in_rate;
    r->out_rate = out_rate;
    r->fn = fn;
    r->ud = ud;
    if (in_rate != out_rate) {
        soxr_error_t err = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        r->soxr = soxr_create((double)in_rate, (double)out_rate, 1, &err, &io, &q, NULL);
        if (!r->soxr || err) {
            free(r);
            return CHORUS_E_NOMEM;
        }
        r->out_cap = (size_t)ceil(RS_PIECE * ((double)out_rate / in_rate)) + 256;
        r->out = malloc(r->out_cap * sizeof *r->out);
        if (!r->out) {
            chorus_resampler_destroy(r);
            return CHORUS_E_NOMEM;
        }
    }
    *out = r;
    return CHORUS_OK;
}

/* Push `n` samples (NULL = flush) through soxr until it has taken them all / is drained. */
static int rs_process(struct chorus_resampler *r, const float *x, size_t n) {
    for (;;) {
        size_t idone = 0, odone = 0;
        soxr_error_t err = soxr_process(r->soxr, x, x ? n : 0, &idone, r->out, r->out_cap, &odone);
        if (err) return CHORUS_E_INVALID;
        if (odone) {
            int rc = r->fn(r->ud, r->out, odone, r->out_rate);
            if (rc) return rc < 0 ? rc : CHORUS_E_CANCELLED;
        }
        if (x) {
            x += idone;
            n -= idone;
            if (n == 0) return CHORUS_OK;
            if (idone == 0 && odone == 0) return CHORUS_E_INVALID; /* no progress: cannot happen */
        } else if (odone == 0) {
            return CHORUS_OK;
        }
    }
}

int chorus_resampler_write(struct chorus_resampler *r, const float *x, size_t n) {
    if (!r || (!x && n)) return CHORUS_E_INVALID;
    if (n == 0) return CHORUS_OK;
    if (!r->soxr) {
        int rc = r->fn(r->ud, x, n, r->out_rate);
        return rc ? (rc < 0 ? rc : CHORUS_E_CANCELLED) : CHORUS_OK;
    }
    while (n) {
        size_t k = n < RS_PIECE ? n : RS_PIECE;
        int rc = rs_process(r, x, k);
        if (rc) return rc;
        x += k;
        n -= k;
    }
    return CHORUS_OK;
}

int chorus_resampler_flush(struct chorus_resampler *r) {
    if (!r) return CHORUS_E_INVALID;
    if (!r->soxr) return CHORUS_OK;
    int rc = rs_process(r, NULL, 0);
    /* ready for a new, independent stretch of input */
    soxr_clear(r->soxr);
    return rc;
}

void chorus_resampler_destroy(struct chorus_resampler *r) {
    if (!r) return;
    if (r->soxr) soxr_delete(r->soxr);
    free(r->out);
    free(r);
}
