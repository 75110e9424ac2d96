/*
 * job_filter.h — what may sit between a stream and its backend for each job.
 *
 * A job filter wraps one backend job: it may answer the job itself (replay stored output into
 * the sink) or let the backend produce it (calling `produce`, possibly with a sink of its own
 * that passes every call on to `sink`). The core knows nothing else about a filter; the audio
 * cache (src/cache/filter.c) is one. Filters are listed in src/filters.def, one line each, and
 * each engine creates one state per filter from its config (NULL state: the filter is off for
 * that engine).
 *
 * Dependencies point one way: a filter includes core headers; the core includes only this one.
 */
#ifndef CHORUS_CORE_JOB_FILTER_H
#define CHORUS_CORE_JOB_FILTER_H

#include <stddef.h>

struct chorus_backend;
struct chorus_config;
struct chorus_job;
struct chorus_sink;

/** Let the backend (or the next filter) produce the job into `out`. Returns CHORUS_OK only when
 *  the job ended well: the backend succeeded, its audio decoded, and the stream was neither
 *  cancelled nor failed; otherwise the status (CHORUS_E_CANCELLED, the backend's, ...). */
typedef int (*chorus_job_produce_fn)(void *ctx, struct chorus_sink *out);

struct chorus_job_filter_desc {
    const char *name;
    /** Make the engine's state from its config; *state = NULL turns the filter off. Returns
     *  CHORUS_OK, or an error (CHORUS_E_CONFIG with a message in err) that fails engine creation. */
    int (*create)(const struct chorus_config *cfg, int no_config, void **state, char *err,
                  size_t errlen);
    void (*destroy)(void *state);
    /** Run one job: either replay into `sink` or call produce(ctx, a sink). `flags` are the
     *  request's (CHORUS_FLAG_NO_CACHE...). Returns what produce or the sink returned. A filter
     *  that cannot do its part for a job (disk full) steps aside: it calls produce(ctx, sink). */
    int (*run)(void *state, const struct chorus_backend *b, const struct chorus_job *job,
               unsigned flags, struct chorus_sink *sink, chorus_job_produce_fn produce,
               void *ctx);
};

/** The engine's state of filter `d`, or NULL (off, or `d` not listed in src/filters.def). */
struct chorus_engine;
void *chorus_engine_filter_state(const struct chorus_engine *e,
                                 const struct chorus_job_filter_desc *d);

#endif
