/*
 * segment.c — the stream's hook: one handle per backend job that either replays a verified
 * entry into the sink or records what the backend hands the sink and commits it when the job
 * ended well. stream.c calls these at a few clear points (run_segment and the sink's entry
 * points); all cache logic stays here.
 */
#include <stdlib.h>

#include "cache/cache_internal.h"
#include "core/backend.h"

struct chorus_cache_seg {
    struct chorus_cache *c;
    struct chorus_cache_writer *w;    /* miss: the recording, NULL once dropped */
    struct chorus_cache_blob *hit;    /* hit: the verified entry */
};

struct chorus_cache_seg *chorus_cache_seg_begin(struct chorus_cache *c,
                                                const struct chorus_backend *b,
                                                const struct chorus_job *job, unsigned flags) {
    if (!chorus_cache_enabled(c) || (flags & CHORUS_FLAG_NO_CACHE)) return NULL;
    struct chorus_cache_key key;
    if (chorus_cache_key_for_job(b, job, &key) != CHORUS_OK) return NULL;
    struct chorus_cache_seg *cs = calloc(1, sizeof *cs);
    if (!cs) return NULL;
    cs->c = c;
    if (chorus_cache_get(c, &key, &cs->hit) == CHORUS_OK) return cs;
    if (chorus_cache_writer_begin(c, &key, &cs->w) != CHORUS_OK) {
        free(cs);
        return NULL;
    }
    return cs;
}

int chorus_cache_seg_is_hit(const struct chorus_cache_seg *cs) {
    return cs && cs->hit;
}

static int rp_f32(void *ud, const float *x, size_t n, int rate) {
    return chorus_sink_pcm_f32(ud, x, n, rate);
}
static int rp_s16(void *ud, const int16_t *x, size_t n, int rate) {
    return chorus_sink_pcm_s16(ud, x, n, rate);
}
static int rp_enc(void *ud, enum chorus_format fmt, const void *data, size_t n) {
    return chorus_sink_encoded(ud, fmt, data, n);
}
static int rp_word(void *ud, size_t off, size_t len, double start, double end) {
    return chorus_sink_word(ud, off, len, start, end);
}
static int rp_mark(void *ud, const char *name, double time) {
    return chorus_sink_mark(ud, name, time);
}

int chorus_cache_seg_replay(struct chorus_cache_seg *cs, struct chorus_sink *sink) {
    static const struct chorus_cache_visitor v = {rp_f32, rp_s16, rp_enc, rp_word, rp_mark};
    if (!cs || !cs->hit) return CHORUS_E_INVALID;
    return chorus_cache_entry_walk(cs->hit->p, cs->hit->n, &v, sink);
}

/* A recording that failed (disk full, entry too large) is dropped at once; the job goes on. */
static void check(struct chorus_cache_seg *cs, int rc) {
    if (rc) {
        chorus_cache_writer_abort(cs->w);
        cs->w = NULL;
    }
}

void chorus_cache_seg_pcm_f32(struct chorus_cache_seg *cs, const float *x, size_t n, int rate) {
    if (cs && cs->w) check(cs, chorus_cache_writer_pcm_f32(cs->w, x, n, rate));
}
void chorus_cache_seg_pcm_s16(struct chorus_cache_seg *cs, const int16_t *x, size_t n, int rate) {
    if (cs && cs->w) check(cs, chorus_cache_writer_pcm_s16(cs->w, x, n, rate));
}
void chorus_cache_seg_encoded(struct chorus_cache_seg *cs, enum chorus_format fmt,
                              const void *data, size_t n) {
    if (cs && cs->w) check(cs, chorus_cache_writer_encoded(cs->w, fmt, data, n));
}
void chorus_cache_seg_word(struct chorus_cache_seg *cs, size_t off, size_t len, double start,
                           double end) {
    if (cs && cs->w) check(cs, chorus_cache_writer_word(cs->w, off, len, start, end));
}
void chorus_cache_seg_mark(struct chorus_cache_seg *cs, const char *name, double time) {
    if (cs && cs->w) check(cs, chorus_cache_writer_mark(cs->w, name, time));
}

void chorus_cache_seg_end(struct chorus_cache_seg *cs, int ok) {
    if (!cs) return;
    if (cs->w) {
        if (ok) chorus_cache_writer_commit(cs->w);
        else chorus_cache_writer_abort(cs->w);
    }
    chorus_cache_blob_free(cs->hit);
    free(cs);
}
