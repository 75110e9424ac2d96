/*
 * output.c — the output chain the core drives for every stream:
 *
 *   engine PCM ─► resample (per segment) ─► edges ─► join ─► volume ─► loudness ─► pcm_out + encoder
 *
 * Positions are counted in samples at the output rate, so the bookkeeping is exact:
 *  - The resampler is flushed at each segment's end, so a segment of n engine samples becomes
 *    round(n * out / in) output samples, aligned (soxr compensates its delay).
 *  - Edges: a segment's trailing run of samples below QUIET (-50 dBFS) is held back until what
 *    follows is known. At a join (chorus_output_join) the previous segment keeps at most
 *    `edge` (crossfade_ms) samples of its quiet tail, faded out, and the next segment at most
 *    `edge` samples of its quiet head, faded in; zeros fill the rest, so the silence between the
 *    last sample at or above QUIET and the next one is exactly the pause the join asks for
 *    (round(pause * rate) samples). Fades and the "crossfade" only ever touch quiet samples:
 *    segments never overlap, so speech is never mixed with speech. A segment that ends (or
 *    starts) on a loud sample gets a short raised-cosine fade (fade_ms) there instead.
 *  - The stream's own start and end (and the edges beside an explicit chorus_output_silence)
 *    keep their quiet runs unless trim_silence is set, which drops them.
 *  - Silence is counted with a fractional carry, so n breaks of s seconds add round(n*s*rate).
 *  - Loudness normalization measures the gated RMS (10 ms blocks above -60 dBFS) of everything
 *    seen so far, including a LOUD_LOOKAHEAD_BLOCKS lookahead, and steers a smoothed gain
 *    toward the target; the gain is capped so that no sample of the block or the lookahead
 *    exceeds -1 dBFS (peak-safe), and the cap is reached before the peak arrives.
 * Every buffer has a fixed size set at create; nothing grows with the stream's length.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"

#define DEFAULT_CROSSFADE_MS 50.0
#define DEFAULT_FADE_MS 5.0
#define MAX_JOIN_MS 2000.0
#define PIECE 4096
#define QUIET CHORUS_OUTPUT_QUIET
#define QUIET_HOLD_S 2 /* a longer quiet run inside a segment is kept as it is */
#define LOUD_BLOCK_S 0.01
#define LOUD_LOOKAHEAD_BLOCKS 20 /* 200 ms */
#define LOUD_GATE_MS 1e-6        /* -60 dBFS mean square */
#define LOUD_CEILING 0.89125094f /* -1 dBFS */
#define LOUD_MAX_GAIN 15.848932  /* +24 dB */
#define LOUD_MIN_GAIN 0.0630957  /* -24 dB */
#define LOUD_STEP 1.0116         /* at most 0.1 dB of change per block (10 dB/s) */

enum prev_kind { PREV_NONE, PREV_SEGMENT, PREV_SILENCE };

struct loudness {
    int block;       /* samples per block */
    int nblocks;     /* ring capacity: the block being output + the lookahead */
    float *ring;     /* nblocks * block samples */
    float *peak;     /* per block */
    int head, count; /* oldest block index, blocks held */
    int fill;        /* samples in the block being gathered (at ring slot head+count) */
    double sum_ms;   /* gated mean squares summed */
    uint64_t n_gated;
    double target;   /* linear RMS */
    double gain;     /* gain at the end of the last output block; < 0 before the first */
    double out_ms;   /* gated mean squares of the output blocks, summed */
    uint64_t out_n;
    uint64_t capped_n; /* of those, blocks whose gain the peak or gain limit held >1 dB low */
};

struct chorus_output {
    struct chorus_output_opts o;
    int rate;
    chorus_pcm_fn pcm_out;
    chorus_bytes_fn bytes_out;
    void *ud;
    struct chorus_encoder *enc;
    struct chorus_resampler *rs;
    int in_rate;

    /* joiner */
    size_t edge, fade; /* in samples: quiet margin kept at a join; fade at a loud edge */
    float *pend;       /* the last `fade` samples are held back for a tail fade */
    size_t pend_len, pend_cap;
    uint64_t emitted; /* samples the joiner has passed on */
    enum prev_kind prev;
    int tail_open;    /* the previous segment's tail (its quiet run) is not settled yet */
    uint64_t prev_seg_len;
    int join_set;     /* chorus_output_join() called for the next segment */
    double join_pause;

    /* current segment */
    int in_seg;
    uint64_t seg_len;    /* kept samples added */
    uint64_t seg_end;    /* joiner position just past the segment's last loud sample */
    int64_t seg_base;    /* joiner position of the segment's (resampled) sample 0 */
    uint64_t seg_first;  /* joiner position of its first kept loud sample */
    int placed;          /* seg_base is final */
    int seg_fade_in;     /* fade in the first `fade` kept samples (a loud start) */
    int leading;         /* in the segment's leading quiet run */
    uint64_t lead_seen;  /* leading quiet samples seen */
    uint64_t gap;        /* zeros + head margin owed before the first loud sample */
    float *ring;         /* the last `ring_cap` leading quiet samples (the head margin) */
    size_t ring_cap, ring_len, ring_pos;
    float *quiet;        /* held quiet run (trailing, or inside the segment) */
    size_t quiet_len, quiet_cap;

    double sil_seconds; /* silence requested so far */
    uint64_t sil_done;  /* samples of it inserted */
    uint64_t out_samples; /* through pcm_out */
    struct loudness loud;
    float *vbuf; /* PIECE: volume-scaled samples */
    float *lbuf; /* one loudness block: gain-applied samples */
    int failed;
    int finished;
    char err[256];
};


static int out_fail(struct chorus_output *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int out_fail(struct chorus_output *o, int status, const char *fmt, ...) {
    if (!o->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->err, sizeof o->err, fmt, ap);
        va_end(ap);
    }
    o->failed = status;
    return status;
}

/* ---- final stage: pcm_out and encoder ---- */

static int final_out(struct chorus_output *o, const float *x, size_t n) {
    if (n == 0) return CHORUS_OK;
    if (o->pcm_out) {
        int rc = o->pcm_out(o->ud, x, n, o->rate);
        if (rc) return out_fail(o, rc < 0 ? rc : CHORUS_E_CANCELLED, "the audio consumer stopped the stream");
    }
    o->out_samples += n;
    if (o->enc) {
        int rc = chorus_encoder_write(o->enc, x, n);
        if (rc) return out_fail(o, rc, "%s encoder: %s", chorus_format_name(o->o.format), o->enc->err);
    }
    return CHORUS_OK;
}

/* ---- loudness ---- */

static int loud_init(struct chorus_output *o) {
    struct loudness *L = &o->loud;
    L->block = (int)lrint(o->rate * LOUD_BLOCK_S);
    if (L->block < 1) L->block = 1;
    L->nblocks = LOUD_LOOKAHEAD_BLOCKS + 1;
    L->ring = calloc((size_t)L->nblocks * (size_t)L->block, sizeof(float));
    L->peak = calloc((size_t)L->nblocks, sizeof(float));
    o->lbuf = malloc((size_t)L->block * sizeof(float));
    if (!L->ring || !L->peak || !o->lbuf) return CHORUS_E_NOMEM;
    L->target = pow(10.0, o->o.loudness_db / 20.0);
    L->gain = -1.0;
    return CHORUS_OK;
}

static double loud_desired(const struct loudness *L) {
    if (L->n_gated == 0) return L->gain > 0 ? L->gain : 1.0;
    double g = L->target / sqrt(L->sum_ms / (double)L->n_gated);
    if (g > LOUD_MAX_GAIN) g = LOUD_MAX_GAIN;
    if (g < LOUD_MIN_GAIN) g = LOUD_MIN_GAIN;
    return g;
}

/* Output the oldest block (of `len` samples) with a gain ramp that is peak-safe. */
static int loud_output_oldest(struct chorus_output *o, int len) {
    struct loudness *L = &o->loud;
    float wpeak = 0.0f;
    for (int i = 0; i < L->count; i++) {
        float p = L->peak[(L->head + i) % L->nblocks];
        if (p > wpeak) wpeak = p;
    }
    double limit = wpeak > 0.0f ? LOUD_CEILING / wpeak : LOUD_MAX_GAIN;
    double want = loud_desired(L);
    double g0 = L->gain, g1;
    if (g0 < 0) {
        g0 = want < limit ? want : limit;
        g1 = g0;
    } else {
        g1 = want;
        if (g1 > g0 * LOUD_STEP) g1 = g0 * LOUD_STEP;
        if (g1 < g0 / LOUD_STEP) g1 = g0 / LOUD_STEP;
        if (g1 > limit) g1 = limit;
        /* the previous block's cap already covered this block (it was in its lookahead) */
    }
    float *x = L->ring + (size_t)L->head * (size_t)L->block;
    float *w = o->lbuf;
    for (int i = 0; i < len; i++) {
        double g = g0 + (g1 - g0) * (double)(i + 1) / (double)len;
        float y = (float)(x[i] * g);
        if (y > LOUD_CEILING) y = LOUD_CEILING; /* rounding guard; the ramp keeps below it */
        if (y < -LOUD_CEILING) y = -LOUD_CEILING;
        w[i] = y;
    }
    double oms = 0.0;
    for (int i = 0; i < len; i++) oms += (double)w[i] * w[i];
    if (len && oms / len > LOUD_GATE_MS) {
        L->out_ms += oms / len;
        L->out_n++;
        if (want > limit * 1.122) L->capped_n++; /* 1 dB */
    }
    L->gain = g1;
    L->head = (L->head + 1) % L->nblocks;
    L->count--;
    return final_out(o, w, (size_t)len);
}

static void loud_close_block(struct loudness *L) {
    int slot = (L->head + L->count) % L->nblocks;
    float *x = L->ring + (size_t)slot * (size_t)L->block;
    float pk = 0.0f;
    double ms = 0.0;
    for (int i = 0; i < L->fill; i++) {
        float a = fabsf(x[i]);
        if (a > pk) pk = a;
        ms += (double)x[i] * x[i];
    }
    if (L->fill) ms /= L->fill;
    if (ms > LOUD_GATE_MS) {
        L->sum_ms += ms;
        L->n_gated++;
    }
    L->peak[slot] = pk;
    L->count++;
}

static int loud_write(struct chorus_output *o, const float *x, size_t n) {
    struct loudness *L = &o->loud;
    while (n) {
        int slot = (L->head + L->count) % L->nblocks;
        float *b = L->ring + (size_t)slot * (size_t)L->block;
        size_t k = (size_t)(L->block - L->fill);
        if (k > n) k = n;
        for (size_t i = 0; i < k; i++) {
            float v = x[i];
            b[L->fill + (int)i] = v == v ? v : 0.0f;
        }
        L->fill += (int)k;
        x += k;
        n -= k;
        if (L->fill == L->block) {
            loud_close_block(L);
            L->fill = 0;
            if (L->count == L->nblocks) {
                int rc = loud_output_oldest(o, L->block);
                if (rc) return rc;
            }
        }
    }
    return CHORUS_OK;
}

static int loud_drain(struct chorus_output *o) {
    struct loudness *L = &o->loud;
    int last_len = L->block;
    if (L->fill) {
        if (L->count == L->nblocks) {
            int rc = loud_output_oldest(o, L->block);
            if (rc) return rc;
        }
        last_len = L->fill;
        loud_close_block(L);
        L->fill = 0;
    }
    while (L->count) {
        int rc = loud_output_oldest(o, L->count == 1 ? last_len : L->block);
        if (rc) return rc;
    }
    return CHORUS_OK;
}

/* ---- shaper: volume, then loudness ---- */

static int shape_out(struct chorus_output *o, const float *x, size_t n) {
    float vol = o->o.volume > 0.0f ? o->o.volume : 1.0f;
    while (n) {
        size_t k = n < PIECE ? n : PIECE;
        const float *src = x;
        if (vol != 1.0f) {
            for (size_t i = 0; i < k; i++) o->vbuf[i] = x[i] * vol;
            src = o->vbuf;
        }
        int rc = o->loud.ring ? loud_write(o, src, k) : final_out(o, src, k);
        if (rc) return rc;
        x += k;
        n -= k;
    }
    return CHORUS_OK;
}

/* ---- joiner ---- */

static uint64_t join_pos(const struct chorus_output *o) { return o->emitted + o->pend_len; }

static int join_emit(struct chorus_output *o, size_t n) {
    if (n == 0) return CHORUS_OK;
    int rc = shape_out(o, o->pend, n);
    if (rc) return rc;
    memmove(o->pend, o->pend + n, (o->pend_len - n) * sizeof(float));
    o->pend_len -= n;
    o->emitted += n;
    return CHORUS_OK;
}

/* Emit what no later fade can touch. */
static int join_settle(struct chorus_output *o) {
    if (o->pend_len > o->fade) return join_emit(o, o->pend_len - o->fade);
    return CHORUS_OK;
}

static float fade_curve(size_t i, size_t len) { /* raised cosine, 0 -> 1 */
    return (float)(0.5 - 0.5 * cos(M_PI * ((double)i + 0.5) / (double)len));
}

/* Append samples to the current segment; `gain` (NULL = 1) scales them. */
static int join_add(struct chorus_output *o, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x ? (x[i] == x[i] ? x[i] : 0.0f) : 0.0f;
        uint64_t si = o->seg_len + i;
        if (o->seg_fade_in && si < o->fade) v *= fade_curve((size_t)si, o->fade);
        if (o->pend_len == o->pend_cap) {
            int rc = join_settle(o);
            if (rc) return rc;
        }
        o->pend[o->pend_len++] = v;
    }
    o->seg_len += n;
    return CHORUS_OK;
}

static int join_zeros(struct chorus_output *o, uint64_t n) {
    int fi = o->seg_fade_in;
    o->seg_fade_in = 0;
    int rc = CHORUS_OK;
    while (n && !rc) {
        size_t k = n < PIECE ? (size_t)n : PIECE;
        rc = join_add(o, NULL, k);
        if (!rc) rc = join_settle(o);
        n -= k;
    }
    o->seg_fade_in = fi;
    return rc;
}

/* Append x[0..n) faded in (out = 0) or out (out = 1) over its whole length. */
static int join_add_faded(struct chorus_output *o, const float *x, size_t n, int out) {
    float buf[256];
    for (size_t i = 0; i < n;) {
        size_t k = n - i < 256 ? n - i : 256;
        for (size_t j = 0; j < k; j++)
            buf[j] = x[i + j] * fade_curve(out ? n - 1 - (i + j) : i + j, n);
        int rc = join_add(o, buf, k);
        if (rc) return rc;
        i += k;
    }
    return join_settle(o);
}

/* Fade out the held end of a previous segment that ended on a loud sample. */
static void join_fade_tail(struct chorus_output *o) {
    size_t n = o->fade;
    if (n > o->pend_len) n = o->pend_len;
    if (n > o->prev_seg_len) n = (size_t)o->prev_seg_len;
    float *t = o->pend + o->pend_len - n;
    for (size_t i = 0; i < n; i++) t[i] *= fade_curve(n - 1 - i, n);
}

/* Settle the previous segment's tail: keep at most `keep` samples of its quiet run (faded out
 * when they are a margin, as they are when keep_all is 0), or fade its loud end. */
static int tail_settle(struct chorus_output *o, size_t keep, int keep_all) {
    if (!o->tail_open) return CHORUS_OK;
    o->tail_open = 0;
    int rc = CHORUS_OK;
    if (o->quiet_len == 0) {
        if (o->prev_seg_len) join_fade_tail(o);
    } else if (keep_all) {
        rc = join_add(o, o->quiet, o->quiet_len);
        if (!rc) rc = join_settle(o);
    } else {
        size_t m = o->quiet_len < keep ? o->quiet_len : keep;
        rc = join_add_faded(o, o->quiet, m, 1);
    }
    o->quiet_len = 0;
    return rc;
}

/* ---- edges (between the resampler and the joiner) ---- */

static int quiet_flush(struct chorus_output *o) {
    int rc = join_add(o, o->quiet, o->quiet_len);
    o->quiet_len = 0;
    return rc;
}

/* The segment's first loud sample (or other content) arrives: pay the owed silence, then the
 * head margin faded in; the segment is placed. */
static int lead_end(struct chorus_output *o) {
    o->leading = 0;
    size_t m = o->ring_len;
    int rc = join_zeros(o, o->gap > m ? o->gap - m : 0);
    /* the ring, oldest first */
    size_t first = (o->ring_pos + o->ring_cap - m) % (o->ring_cap ? o->ring_cap : 1);
    for (size_t i = 0; i < m && !rc; i++) {
        float v = o->ring[(first + i) % o->ring_cap] * fade_curve(i, m);
        rc = join_add(o, &v, 1);
    }
    o->ring_len = 0;
    o->seg_fade_in = o->lead_seen == 0 && o->fade > 0; /* it starts loud */
    o->seg_base = (int64_t)join_pos(o) - (int64_t)o->lead_seen;
    o->seg_first = join_pos(o);
    o->placed = 1;
    return rc;
}

static int seg_samples(struct chorus_output *o, const float *x, size_t n) {
    int rc;
    size_t i = 0;
    if (o->leading) {
        for (; i < n && fabsf(x[i]) < QUIET; i++) {
            if (o->ring_cap) {
                o->ring[o->ring_pos] = x[i] == x[i] ? x[i] : 0.0f;
                o->ring_pos = (o->ring_pos + 1) % o->ring_cap;
                if (o->ring_len < o->ring_cap) o->ring_len++;
            }
            o->lead_seen++;
        }
        if (i == n) return CHORUS_OK;
        if ((rc = lead_end(o))) return rc;
    }
    size_t run = i; /* start of the loud stretch not yet added */
    for (; i < n; i++) {
        if (fabsf(x[i]) >= QUIET) {
            /* a loud sample after a quiet run: the run was inside the segment, keep it */
            if (o->quiet_len && (rc = quiet_flush(o))) return rc;
            continue;
        }
        if (run < i) {
            if ((rc = join_add(o, x + run, i - run))) return rc;
            o->seg_end = join_pos(o);
        }
        if (o->quiet_len == o->quiet_cap && (rc = quiet_flush(o))) return rc;
        o->quiet[o->quiet_len++] = x[i];
        run = i + 1;
    }
    if (run < n) {
        if ((rc = join_add(o, x + run, n - run))) return rc;
        o->seg_end = join_pos(o);
    }
    return join_settle(o);
}

static int rs_cb(void *ud, const float *x, size_t n, int rate) {
    (void)rate;
    return seg_samples(ud, x, n);
}

/* ---- public ---- */

int chorus_output_create(struct chorus_output **out, const struct chorus_output_opts *opts,
                         chorus_pcm_fn pcm_out, chorus_bytes_fn bytes_out, void *ud, char *err,
                         size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!out || !opts) return CHORUS_E_INVALID;
    *out = NULL;
    const char *fname = chorus_format_name(opts->format);
    if (!fname) {
        if (err && errlen) snprintf(err, errlen, "output: unknown format %d", (int)opts->format);
        return CHORUS_E_FORMAT;
    }
    if (!chorus_format_rate_allowed(opts->format, opts->sample_rate)) {
        char list[256];
        chorus_format_describe_rates(opts->format, list, sizeof list);
        if (err && errlen)
            snprintf(err, errlen, "%s output cannot use a sample rate of %d Hz; allowed: %s",
                     fname, opts->sample_rate, list);
        return CHORUS_E_FORMAT;
    }
    double xf = opts->crossfade_ms < 0 ? DEFAULT_CROSSFADE_MS : opts->crossfade_ms;
    double fd = opts->fade_ms < 0 ? DEFAULT_FADE_MS : opts->fade_ms;
    if (!(xf <= MAX_JOIN_MS) || !(fd <= MAX_JOIN_MS)) {
        if (err && errlen)
            snprintf(err, errlen, "output: crossfade (%g ms) and fade (%g ms) must be at most %g ms",
                     xf, fd, MAX_JOIN_MS);
        return CHORUS_E_INVALID;
    }
    if (!(opts->volume >= 0.0f && opts->volume <= 64.0f)) {
        if (err && errlen)
            snprintf(err, errlen, "output: volume %g is out of range (0 < volume <= 64)",
                     (double)opts->volume);
        return CHORUS_E_INVALID;
    }
    if (!(opts->loudness_db >= -70.0 && opts->loudness_db <= 0.0)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "output: loudness target %g dBFS is out of range (-70 to 0; 0 = off)",
                     opts->loudness_db);
        return CHORUS_E_INVALID;
    }
    struct chorus_output *o = calloc(1, sizeof *o);
    if (!o) return CHORUS_E_NOMEM;
    o->o = *opts;
    o->rate = opts->sample_rate;
    o->pcm_out = pcm_out;
    o->bytes_out = bytes_out;
    o->ud = ud;
    o->edge = (size_t)lrint(xf * o->rate / 1000.0);
    o->fade = (size_t)lrint(fd * o->rate / 1000.0);
    o->pend_cap = o->fade + PIECE;
    o->pend = malloc(o->pend_cap * sizeof(float));
    o->vbuf = malloc(PIECE * sizeof(float));
    o->quiet_cap = (size_t)o->rate * QUIET_HOLD_S;
    o->quiet = malloc(o->quiet_cap * sizeof(float));
    o->ring = malloc((o->edge ? o->edge : 1) * sizeof(float));
    o->join_pause = -1;
    int rc = (o->pend && o->vbuf && o->quiet && o->ring) ? CHORUS_OK : CHORUS_E_NOMEM;
    if (rc == CHORUS_OK && opts->loudness_db != 0.0) rc = loud_init(o);
    if (rc == CHORUS_OK) {
        char eerr[256];
        rc = chorus_encoder_create(&o->enc, opts->format, o->rate, &opts->enc, bytes_out, ud,
                                   eerr, sizeof eerr);
        if (rc && err && errlen) snprintf(err, errlen, "%s", eerr);
    }
    if (rc) {
        chorus_output_destroy(o);
        return rc;
    }
    *out = o;
    return CHORUS_OK;
}

static int seg_end_internal(struct chorus_output *o) {
    if (!o->in_seg) return CHORUS_OK;
    if (o->rs) {
        int rc = chorus_resampler_flush(o->rs);
        if (rc) return o->failed ? o->failed : out_fail(o, rc, "resampler failed (status %d)", rc);
    }
    o->in_seg = 0;
    if (o->leading) {
        /* nothing audible: the owed pause still stands, the segment adds nothing else */
        o->ring_len = 0;
        int rc = lead_end(o);
        if (rc) return rc;
        o->seg_end = join_pos(o);
    }
    if (o->seg_len || o->quiet_len) {
        o->prev = PREV_SEGMENT;
        o->prev_seg_len = o->seg_len;
        o->tail_open = 1;
    }
    return join_settle(o);
}

int chorus_output_join(struct chorus_output *o, double pause) {
    if (!o) return CHORUS_E_INVALID;
    if (o->failed) return o->failed;
    if (!(pause >= 0.0 && pause <= 3600.0))
        return out_fail(o, CHORUS_E_INVALID, "output: a join pause of %g s is out of range (0-3600)", pause);
    o->join_set = 1;
    o->join_pause = pause;
    return CHORUS_OK;
}

int chorus_output_segment_begin(struct chorus_output *o) {
    if (!o) return CHORUS_E_INVALID;
    if (o->failed) return o->failed;
    if (o->finished) return out_fail(o, CHORUS_E_INVALID, "output: segment after finish");
    int rc;
    if (o->in_seg && (rc = seg_end_internal(o))) return rc;
    int joined = o->prev == PREV_SEGMENT && o->tail_open;
    double pause = o->join_set ? o->join_pause : 0.0;
    o->join_set = 0;
    uint64_t gap = 0;
    if (joined) {
        /* sample-exact pause: silence from the last loud sample to the next one */
        uint64_t want = (uint64_t)llround(pause * o->rate);
        size_t keep = o->edge;
        if (keep > want / 2) keep = (size_t)(want / 2);
        size_t kept = o->quiet_len < keep ? o->quiet_len : keep;
        if ((rc = tail_settle(o, keep, 0))) return rc;
        gap = want - kept;
    } else if (o->tail_open) {
        if ((rc = tail_settle(o, 0, 0))) return rc;
    }
    o->in_seg = 1;
    o->seg_len = 0;
    o->seg_fade_in = 0;
    o->quiet_len = 0;
    o->lead_seen = 0;
    o->ring_len = o->ring_pos = 0;
    o->gap = gap;
    o->placed = 0;
    o->leading = joined || o->o.trim_silence;
    o->ring_cap = joined ? (o->edge < gap ? o->edge : (size_t)gap) : 0;
    if (!o->leading) {
        o->seg_fade_in = o->prev != PREV_NONE && o->fade > 0;
        o->seg_base = (int64_t)join_pos(o);
        o->seg_first = join_pos(o);
        o->placed = 1;
    }
    o->seg_end = join_pos(o);
    return CHORUS_OK;
}

int chorus_output_pcm(struct chorus_output *o, const float *x, size_t n, int rate) {
    if (!o || (!x && n)) return CHORUS_E_INVALID;
    if (o->failed) return o->failed;
    if (o->finished) return out_fail(o, CHORUS_E_INVALID, "output: audio after finish");
    if (rate < 1000 || rate > 1000000)
        return out_fail(o, CHORUS_E_INVALID, "output: engine sample rate %d Hz is not plausible", rate);
    if (!o->in_seg) {
        int rc = chorus_output_segment_begin(o);
        if (rc) return rc;
    }
    if (n == 0) return CHORUS_OK;
    if (!o->rs || rate != o->in_rate) {
        if (o->rs) { /* the engine changed rate mid-stream: finish the old conversion */
            int rc = chorus_resampler_flush(o->rs);
            chorus_resampler_destroy(o->rs);
            o->rs = NULL;
            if (rc) return o->failed ? o->failed : out_fail(o, rc, "resampler failed");
        }
        int rc = chorus_resampler_create(&o->rs, rate, o->rate, rs_cb, o);
        if (rc) return out_fail(o, rc, "output: cannot convert %d Hz to %d Hz", rate, o->rate);
        o->in_rate = rate;
    }
    int rc = chorus_resampler_write(o->rs, x, n);
    if (rc) return o->failed ? o->failed : out_fail(o, rc, "resampler failed (status %d)", rc);
    return CHORUS_OK;
}

int chorus_output_segment_end(struct chorus_output *o) {
    if (!o) return CHORUS_E_INVALID;
    if (o->failed) return o->failed;
    return seg_end_internal(o);
}

int chorus_output_silence(struct chorus_output *o, double seconds) {
    if (!o) return CHORUS_E_INVALID;
    if (o->failed) return o->failed;
    if (o->finished) return out_fail(o, CHORUS_E_INVALID, "output: silence after finish");
    if (!(seconds >= 0.0 && seconds <= 3600.0))
        return out_fail(o, CHORUS_E_INVALID, "output: silence of %g s is out of range (0-3600)", seconds);
    /* cumulative rounding: n breaks of s seconds add round(n * s * rate) samples in all */
    o->sil_seconds += seconds;
    uint64_t target = (uint64_t)llround(o->sil_seconds * o->rate);
    uint64_t n = target > o->sil_done ? target - o->sil_done : 0;
    o->sil_done += n;
    static const float zeros[PIECE];
    int rc;
    if (o->in_seg) {
        /* a pause inside a segment: everything before it is final, the zeros are the segment's */
        if (o->rs && (rc = chorus_resampler_flush(o->rs)))
            return o->failed ? o->failed : out_fail(o, rc, "resampler failed");
        if (o->leading && (rc = lead_end(o))) return rc; /* the break is content */
        if ((rc = quiet_flush(o))) return rc;
        return join_zeros(o, n);
    }
    /* beside an explicit silence the tail keeps its quiet run unless trimming */
    if ((rc = tail_settle(o, 0, !o->o.trim_silence))) return rc;
    if ((rc = join_emit(o, o->pend_len))) return rc;
    o->emitted += n;
    while (n) {
        size_t k = n < PIECE ? (size_t)n : PIECE;
        if ((rc = shape_out(o, zeros, k))) return rc;
        n -= k;
    }
    if (o->prev == PREV_SEGMENT || o->emitted) o->prev = PREV_SILENCE;
    return CHORUS_OK;
}

double chorus_output_segment_start(const struct chorus_output *o) {
    if (!o) return 0.0;
    return (double)(o->placed ? o->seg_base : (int64_t)join_pos(o)) / o->rate;
}

int chorus_output_segment_placed(const struct chorus_output *o) { return o ? o->placed : 0; }

double chorus_output_segment_audible_start(const struct chorus_output *o) {
    return o ? (double)(o->placed ? o->seg_first : join_pos(o)) / o->rate : 0.0;
}

double chorus_output_segment_audible_end(const struct chorus_output *o) {
    return o ? (double)o->seg_end / o->rate : 0.0;
}

double chorus_output_loudness_reached(const struct chorus_output *o) {
    if (!o || !o->loud.ring || !o->loud.out_n) return 0.0;
    return 10.0 * log10(o->loud.out_ms / (double)o->loud.out_n);
}

double chorus_output_loudness_capped(const struct chorus_output *o) {
    if (!o || !o->loud.ring || !o->loud.out_n) return 0.0;
    return (double)o->loud.capped_n / (double)o->loud.out_n;
}

double chorus_output_time(const struct chorus_output *o) {
    return o ? (double)o->out_samples / o->rate : 0.0;
}

int chorus_output_finish(struct chorus_output *o) {
    if (!o) return CHORUS_E_INVALID;
    if (o->failed) return o->failed;
    if (o->finished) return CHORUS_OK;
    int rc = seg_end_internal(o);
    if (rc) return rc;
    if ((rc = tail_settle(o, 0, !o->o.trim_silence))) return rc;
    if ((rc = join_emit(o, o->pend_len))) return rc;
    if (o->loud.ring && (rc = loud_drain(o))) return rc;
    o->finished = 1;
    rc = chorus_encoder_finish(o->enc);
    if (rc) return out_fail(o, rc, "%s encoder: %s", chorus_format_name(o->o.format), o->enc->err);
    return CHORUS_OK;
}

struct chorus_encoder *chorus_output_encoder(struct chorus_output *o) { return o ? o->enc : NULL; }

const char *chorus_output_errmsg(const struct chorus_output *o) { return o ? o->err : ""; }

void chorus_output_destroy(struct chorus_output *o) {
    if (!o) return;
    chorus_encoder_destroy(o->enc);
    chorus_resampler_destroy(o->rs);
    free(o->pend);
    free(o->vbuf);
    free(o->lbuf);
    free(o->quiet);
    free(o->ring);
    free(o->loud.ring);
    free(o->loud.peak);
    free(o);
}
