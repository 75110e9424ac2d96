/*
 * filter.c — the cache as a job filter (core/job_filter.h): around each backend job it either
 * replays a verified entry into the stream's sink, or hands the backend a tee sink that records
 * every call into a new entry and passes it on unchanged, and commits the entry only when the
 * job ended well. The core knows nothing of entries, keys or files.
 */
#include <stdlib.h>

#include "cache/cache_internal.h"
#include "core/backend.h"
#include "core/job_filter.h"

/* ---- the tee: record, then pass on ---- */

struct tee {
    struct chorus_sink base; /* first */
    struct chorus_sink *next;
    struct chorus_cache_writer *w; /* NULL once a recording failed (the job goes on) */
};

/* A recording that failed (disk full, entry too large) is dropped at once; the job goes on. */
static void check(struct tee *t, int rc) {
    if (rc) {
        chorus_cache_writer_abort(t->w);
        t->w = NULL;
    }
}

static int tee_f32(struct chorus_sink *k, const float *x, size_t n, int rate) {
    struct tee *t = (struct tee *)k;
    if (t->w) check(t, chorus_cache_writer_pcm_f32(t->w, x, n, rate));
    return chorus_sink_pcm_f32(t->next, x, n, rate);
}
static int tee_s16(struct chorus_sink *k, const int16_t *x, size_t n, int rate) {
    struct tee *t = (struct tee *)k;
    if (t->w) check(t, chorus_cache_writer_pcm_s16(t->w, x, n, rate));
    return chorus_sink_pcm_s16(t->next, x, n, rate);
}
static int tee_enc(struct chorus_sink *k, enum chorus_format fmt, const void *data, size_t n) {
    struct tee *t = (struct tee *)k;
    if (t->w) check(t, chorus_cache_writer_encoded(t->w, fmt, data, n));
    return chorus_sink_encoded(t->next, fmt, data, n);
}
static int tee_word(struct chorus_sink *k, size_t off, size_t len, double start, double end) {
    struct tee *t = (struct tee *)k;
    if (t->w) check(t, chorus_cache_writer_word(t->w, off, len, start, end));
    return chorus_sink_word(t->next, off, len, start, end);
}
static int tee_mark(struct chorus_sink *k, const char *name, double time) {
    struct tee *t = (struct tee *)k;
    if (t->w) check(t, chorus_cache_writer_mark(t->w, name, time));
    return chorus_sink_mark(t->next, name, time);
}

static const struct chorus_sink_ops tee_ops = {tee_f32, tee_s16, tee_enc, tee_word, tee_mark};

/* ---- replay: an entry's records become the same sink calls ---- */

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

int chorus_cache_replay(const struct chorus_cache_blob *hit, struct chorus_sink *sink) {
    static const struct chorus_cache_visitor v = {rp_f32, rp_s16, rp_enc, rp_word, rp_mark};
    if (!hit || !sink) return CHORUS_E_INVALID;
    return chorus_cache_entry_walk(hit->p, hit->n, &v, sink);
}

/* ---- the filter ---- */

int chorus_cache_run_job(struct chorus_cache *c, const struct chorus_backend *b,
                         const struct chorus_job *job, unsigned flags, struct chorus_sink *sink,
                         chorus_job_produce_fn produce, void *ctx) {
    struct chorus_cache_key key;
    if (!chorus_cache_enabled(c) || (flags & CHORUS_FLAG_NO_CACHE) ||
        chorus_cache_key_for_job(b, job, &key) != CHORUS_OK)
        return produce(ctx, sink);
    struct chorus_cache_blob *hit = NULL;
    if (chorus_cache_get(c, &key, &hit) == CHORUS_OK) {
        int rc = chorus_cache_replay(hit, sink);
        chorus_cache_blob_free(hit);
        return rc;
    }
    struct tee t = {{&tee_ops}, sink, NULL};
    if (chorus_cache_writer_begin(c, &key, &t.w) != CHORUS_OK) return produce(ctx, sink);
    int rc = produce(ctx, &t.base);
    /* only a job that ended well is kept: a cancelled or failed one leaves no entry */
    if (t.w && rc == CHORUS_OK) chorus_cache_writer_commit(t.w);
    else chorus_cache_writer_abort(t.w);
    return rc;
}

static int filter_create(const struct chorus_config *cfg, int no_config, void **state, char *err,
                         size_t errlen) {
    struct chorus_cache *c = NULL;
    int rc = chorus_cache_from_config(cfg, no_config, &c, err, errlen);
    *state = c;
    return rc;
}

static void filter_destroy(void *state) {
    chorus_cache_destroy(state);
}

static int filter_run(void *state, const struct chorus_backend *b, const struct chorus_job *job,
                      unsigned flags, struct chorus_sink *sink, chorus_job_produce_fn produce,
                      void *ctx) {
    return chorus_cache_run_job(state, b, job, flags, sink, produce, ctx);
}

const struct chorus_job_filter_desc chorus_cache_filter = {
    "cache", filter_create, filter_destroy, filter_run};
