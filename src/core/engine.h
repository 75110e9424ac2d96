/* engine.h — the engine's internals, shared by engine.c, stream.c and the file writer. */
#ifndef CHORUS_CORE_ENGINE_H
#define CHORUS_CORE_ENGINE_H

#include <pthread.h>

#include "chorus/chorus.h"
#include "core/backend.h"
#include "core/config.h"
#include "core/job_filter.h"
#include "core/limiter.h"

/** How many job filters src/filters.def lists. */
enum {
    CHORUS_N_JOB_FILTERS = 0
#define CHORUS_JOB_FILTER(sym) +1
#include "filters.def"
#undef CHORUS_JOB_FILTER
};

struct chorus_engine {
    struct chorus_config *cfg;
    char *config_path;
    struct chorus_limiter *limiter;
    pthread_mutex_t mu; /* instances list and their open() */
    struct chorus_backend *instances;
    char *default_backend;
    /* each job filter's state (src/filters.def order), NULL where the filter is off */
    void *filter_state[CHORUS_N_JOB_FILTERS > 0 ? CHORUS_N_JOB_FILTERS : 1];
};

/** The job filters, in src/filters.def order (CHORUS_N_JOB_FILTERS of them). */
extern const struct chorus_job_filter_desc *const chorus_job_filters[];

/** Find or create and open the instance `name`. On failure returns a status with a message
 *  (unknown backend listing the known ones; open failure) in err. The instance stays owned by
 *  the engine. */
int chorus_engine_backend(struct chorus_engine *e, const char *name, struct chorus_backend **out,
                          char *err, size_t errlen);
/** Probe an instance (including a failed open). 1 available, else 0 with why filled. */
int chorus_backend_probe(struct chorus_backend *b, struct chorus_probe *why);
/** The registry: NULL-terminated list of built-in descriptors. */
const struct chorus_backend_desc *const *chorus_registry(void);
/** Set the calling thread's engine-level message. */
void chorus_engine_set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
