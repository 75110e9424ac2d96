/* engine.h — the engine's internals, shared by engine.c, stream.c and the file writer. */
#ifndef CHORUS_CORE_ENGINE_H
#define CHORUS_CORE_ENGINE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include "chorus/chorus.h"
#include "text/pron.h"
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
    uint64_t serial; /* tags this engine's messages (engine.c) */
    /* each job filter's state (src/filters.def order), NULL where the filter is off */
    void *filter_state[CHORUS_N_JOB_FILTERS > 0 ? CHORUS_N_JOB_FILTERS : 1];
    /* the pronunciation dictionary ([pronunciations] file, or the options' file); n 0: none */
    struct chorus_pron pron;
};

/** The job filters, in src/filters.def order (CHORUS_N_JOB_FILTERS of them). */
extern const struct chorus_job_filter_desc *const chorus_job_filters[];

/** Find or create and open the instance `name`. On failure returns a status with a message
 *  (unknown backend listing the known ones; open failure) in err. The instance stays owned by
 *  the engine. */
int chorus_engine_backend(struct chorus_engine *e, const char *name, struct chorus_backend **out,
                          char *err, size_t errlen);
/** The voice `voice` stands for on engine d: the config's [NAME.voices] entry, else the
 *  descriptor's voice_aliases; NULL when it is no alias there. */
const char *chorus_backend_voice_alias(const struct chorus_config *cfg,
                                       const struct chorus_backend_desc *d, const char *voice);
/** Probe an instance (including a failed open). 1 available, else 0 with why filled. */
int chorus_backend_probe(struct chorus_backend *b, struct chorus_probe *why);
/** Where the message of a backend op goes (backend.h, chorus_backend_fail): a buffer, or the
 *  stream a synthesize call works for. begin clears buf; end redacts it. */
struct chorus_op {
    char *buf;
    size_t cap;
    struct chorus_stream *stream;
    struct chorus_op *prev;
};
void chorus_op_begin(struct chorus_op *op, char *buf, size_t cap, struct chorus_stream *s);
void chorus_op_end(struct chorus_op *op);
/** list_voices through the error channel: on failure err holds why (never empty). */
int chorus_backend_list_voices(struct chorus_backend *b, struct chorus_voice_list *out,
                               char *err, size_t errlen);
/** Record a stream failure (first cause kept; stream.c). */
void chorus_stream_vfail(struct chorus_stream *s, int status, const char *fmt, va_list ap);
/** The registry: NULL-terminated list of built-in descriptors. */
const struct chorus_backend_desc *const *chorus_registry(void);
/** The engine's error channel (chorus_engine_errmsg): every public call on an engine clears the
 *  calling thread's message for it first, and a failure sets it (redacted). e may be NULL (a
 *  failed create). */
void chorus_engine_clear_err(const struct chorus_engine *e);
void chorus_engine_set_err(const struct chorus_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
