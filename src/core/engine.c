/* engine.c — the engine handle: config, registry, backend instances, limiter, listings. */
#include "core/abi.h"
#include "core/engine.h"

#include <ctype.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"
#include "core/log.h"
#include "core/util.h"

#define CHORUS_BACKEND_DROPPED(name, option, legacy_prefix)
#define CHORUS_BACKEND(sym) extern const struct chorus_backend_desc sym;
#include "backends/backends.def"
#undef CHORUS_BACKEND

static const struct chorus_backend_desc *const registry[] = {
#define CHORUS_BACKEND(sym) &sym,
#include "backends/backends.def"
#undef CHORUS_BACKEND
    NULL};
#undef CHORUS_BACKEND_DROPPED

/* Backends this build left out (a CHORUS_WITH_* option OFF): named so a request for one says
 * how to get it rather than "unknown". */
static const struct {
    const char *name, *option, *legacy_prefix;
} dropped[] = {
#define CHORUS_BACKEND(sym)
#define CHORUS_BACKEND_DROPPED(name, option, legacy_prefix) {name, option, legacy_prefix},
#include "backends/backends.def"
#undef CHORUS_BACKEND
#undef CHORUS_BACKEND_DROPPED
    {NULL, NULL, NULL}};

#define CHORUS_JOB_FILTER(sym) extern const struct chorus_job_filter_desc sym;
#include "filters.def"
#undef CHORUS_JOB_FILTER

const struct chorus_job_filter_desc *const chorus_job_filters[] = {
#define CHORUS_JOB_FILTER(sym) &sym,
#include "filters.def"
#undef CHORUS_JOB_FILTER
    NULL};

/*
 * The engine's error channel (sqlite3_errmsg per handle, but safe with threads): each thread
 * keeps the message of its last call on each of the few engines it used most recently, tagged
 * with the engine's serial so an engine created at a freed one's address starts clean. Every
 * public call on an engine clears its message first (chorus_engine_clear_err), so a message
 * always belongs to the last call. A failed create has no engine: its message is kept for the
 * NULL handle.
 */
#define ERR_SLOTS 4
struct err_slot {
    uint64_t serial; /* 0: free; the NULL handle uses 1 */
    char msg[1024];
};
static _Thread_local struct err_slot err_slots[ERR_SLOTS];
static _Thread_local unsigned err_next;
static atomic_uint_fast64_t engine_serials = 1;

static uint64_t serial_of(const struct chorus_engine *e) { return e ? e->serial : 1; }

static struct err_slot *err_slot(const struct chorus_engine *e, int claim) {
    uint64_t id = serial_of(e);
    for (unsigned i = 0; i < ERR_SLOTS; i++)
        if (err_slots[i].serial == id) return &err_slots[i];
    if (!claim) return NULL;
    struct err_slot *sl = &err_slots[err_next++ % ERR_SLOTS];
    sl->serial = id;
    sl->msg[0] = 0;
    return sl;
}

const struct chorus_backend_desc *const *chorus_registry(void) {
    return registry;
}

void chorus_engine_clear_err(const struct chorus_engine *e) {
    struct err_slot *sl = err_slot(e, 0);
    if (sl) sl->msg[0] = 0;
}

void chorus_engine_set_err(const struct chorus_engine *e, const char *fmt, ...) {
    struct err_slot *sl = err_slot(e, 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sl->msg, sizeof sl->msg, fmt, ap);
    va_end(ap);
    chorus_redact(sl->msg);
}

const char *chorus_engine_errmsg(const struct chorus_engine *e) {
    struct err_slot *sl = err_slot(e, 0);
    return sl ? sl->msg : "";
}

static const char *default_config_path(char *buf, size_t cap, int *explicit_) {
    const char *p = getenv("CHORUS_CONFIG");
    if (p && *p) {
        *explicit_ = 1;
        return p;
    }
    *explicit_ = 0;
    const char *x = getenv("XDG_CONFIG_HOME");
    if (x && *x) return chorus_fmt(buf, cap, "%s/chorus/config.toml", x);
    const char *h = getenv("HOME");
    if (h && *h) return chorus_fmt(buf, cap, "%s/.config/chorus/config.toml", h);
    return NULL;
}

/* One state per job filter (src/filters.def); the first failure fails the engine. */
static int create_filters(struct chorus_engine *e, int no_config, char *err, size_t errlen) {
    for (size_t i = 0; i < CHORUS_N_JOB_FILTERS; i++) {
        int rc = chorus_job_filters[i]->create(e->cfg, no_config, &e->filter_state[i], err, errlen);
        if (rc != CHORUS_OK) return rc;
    }
    return CHORUS_OK;
}

void *chorus_engine_filter_state(const struct chorus_engine *e,
                                 const struct chorus_job_filter_desc *d) {
    if (!e) return NULL;
    for (size_t i = 0; i < CHORUS_N_JOB_FILTERS; i++)
        if (chorus_job_filters[i] == d) return e->filter_state[i];
    return NULL;
}

/* Numeric keys the core reads, with their ranges: in [chorus] and in each backend's section.
 * Checked when the engine is created so a bad value is an error naming its line, never a
 * silent default or an out-of-range conversion. */
struct num_key {
    const char *key;
    double min, max;
    int whole, core_only;
};
static const struct num_key num_keys[] = {
    {"max_concurrent", 0, 1024, 1, 0}, /* [chorus]: 1..1024 (checked below); [BACKEND]: 0 = none */
    {"max_concurrent_global", 0, 1024, 1, 0}, /* [BACKEND]: across instances (src/redis) */
    {"max_queue", 0, 1000000, 1, 1},
    {"queue_timeout_ms", 0, 86400000, 1, 1},
    {"max_chunk_chars", 1, 1000000, 1, 0},
    {"crossfade_ms", 0, 2000, 0, 0},
    {"fade_ms", 0, 2000, 0, 0},
    {"loudness_db", -70, 0, 0, 0},
};

static int check_section(const struct chorus_config *cfg, const char *section, int core,
                         char *err, size_t errlen) {
    double d;
    for (size_t i = 0; i < sizeof num_keys / sizeof num_keys[0]; i++) {
        const struct num_key *k = &num_keys[i];
        if (k->core_only && !core) continue;
        double min = core && !strcmp(k->key, "max_concurrent") ? 1 : k->min;
        int rc = chorus_config_number(cfg, section, k->key, min, k->max, k->whole, 0, &d, err,
                                      errlen);
        if (rc) return rc;
    }
    int b;
    return chorus_config_flag(cfg, section, "trim_silence", 0, &b, err, errlen);
}

static int check_config(const struct chorus_config *cfg, char *err, size_t errlen) {
    int rc = check_section(cfg, "chorus", 1, err, errlen);
    for (size_t i = 0; !rc && registry[i]; i++) rc = check_section(cfg, registry[i]->name, 0, err, errlen);
    return rc;
}

/* An environment variable holding a whole number in [min, max]: 0 if unset, 1 if set (*out),
 * -1 with a message if it holds anything else. */
static int env_int(const char *name, long min, long max, long *out, char *err, size_t errlen) {
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    double d;
    if (chorus_parse_number(v, &d) < 0 || d != floor(d) || d < (double)min || d > (double)max) {
        chorus_fmt(err, errlen, "invalid %s '%.64s': use a whole number from %ld to %ld", name, v,
                   min, max);
        return -1;
    }
    *out = (long)d;
    return 1;
}

static int load_config(struct chorus_engine *e, const struct chorus_engine_options *o, char *err,
                       size_t errlen) {
    if (o->no_config) {
        e->cfg = chorus_config_parse("", 0, "none", err, errlen);
    } else {
        char buf[4096];
        int explicit_ = 0;
        const char *path = o->config_path;
        if (path) explicit_ = 1;
        else path = default_config_path(buf, sizeof buf, &explicit_);
        if (path) {
            e->cfg = chorus_config_load(path, !explicit_, err, errlen);
            if (e->cfg && !(e->config_path = strdup(path))) return CHORUS_E_NOMEM;
        } else {
            e->cfg = chorus_config_parse("", 0, "none", err, errlen);
        }
    }
    if (!e->cfg) {
        if (!err[0]) chorus_fmt(err, errlen, "out of memory reading the config");
        return CHORUS_E_CONFIG;
    }
    return check_config(e->cfg, err, errlen);
}

/* The engine's admission limiter: options, then $CHORUS_MAX_CONCURRENT, then [chorus]. */
static int make_limiter(struct chorus_engine *e, const struct chorus_engine_options *o, char *err,
                        size_t errlen) {
    long maxc = o->max_concurrent;
    if (maxc < 0 || maxc > 1024) {
        chorus_fmt(err, errlen, "invalid max_concurrent %ld in the engine options: use 1 to 1024 (0 = "
                   "the config's)", maxc);
        return CHORUS_E_INVALID;
    }
    if (maxc == 0 && env_int("CHORUS_MAX_CONCURRENT", 1, 1024, &maxc, err, errlen) < 0)
        return CHORUS_E_CONFIG;
    if (maxc == 0) maxc = (long)chorus_config_double(e->cfg, "chorus", "max_concurrent", 4);
    int queue = o->max_queue; /* > 0 that many, < 0 none may wait, 0 the config's */
    if (queue == 0) queue = (int)chorus_config_double(e->cfg, "chorus", "max_queue", -1);
    else if (queue < 0) queue = 0;
    int timeout = o->queue_timeout_ms;
    if (timeout < 0) {
        chorus_fmt(err, errlen, "invalid queue_timeout_ms %d in the engine options: use 0 (the "
                   "config's, else no limit) or more", timeout);
        return CHORUS_E_INVALID;
    }
    if (timeout == 0) timeout = (int)chorus_config_double(e->cfg, "chorus", "queue_timeout_ms", 0);
    e->limiter = chorus_limiter_create((int)maxc, queue, timeout);
    return e->limiter ? CHORUS_OK : CHORUS_E_NOMEM;
}

/* The user's pronunciation dictionary: the options' file, else [pronunciations] file. A bad
 * file fails the engine with its path and line (a dictionary half read would be a surprise). */
static int load_pronunciations(struct chorus_engine *e, const struct chorus_engine_options *o,
                               char *err, size_t errlen) {
    const char *path = o->pronunciations_file;
    if (!path || !*path) path = chorus_config_get(e->cfg, "pronunciations", "file");
    if (!path || !*path) return CHORUS_OK;
    int rc = chorus_pron_load(&e->pron, path, err, errlen);
    if (rc == CHORUS_OK) CHORUS_LOGI("pronunciations: %zu entries from %s", e->pron.n, path);
    return rc;
}

int chorus_engine_create2(struct chorus_engine **out, const struct chorus_engine_options *opts,
                          char *errbuf, size_t errbuf_size) {
    chorus_engine_clear_err(NULL);
    if (!out) return CHORUS_E_INVALID;
    *out = NULL;
    struct chorus_engine_options o = chorus_engine_options_default();
    if (opts) {
        char aerr[1024];
        if (chorus_abi_read(&o, sizeof o, opts, CHORUS_ENGINE_OPTIONS_MIN, "chorus_engine_options",
                            aerr, sizeof aerr)) {
            chorus_engine_set_err(NULL, "%s", aerr);
            if (errbuf) chorus_fmt(errbuf, errbuf_size, "%s", chorus_engine_errmsg(NULL));
            return CHORUS_E_INVALID;
        }
    }
    char err[1024] = "";
    struct chorus_engine *e = calloc(1, sizeof *e);
    int rc = e ? CHORUS_OK : CHORUS_E_NOMEM;
    if (rc == CHORUS_OK) {
        e->serial = atomic_fetch_add(&engine_serials, 1) + 1; /* 1 is the NULL handle's */
        if (pthread_mutex_init(&e->mu, NULL) != 0) {
            free(e);
            e = NULL;
            rc = CHORUS_E_NOMEM;
        }
    }
    if (rc == CHORUS_OK) rc = load_config(e, &o, err, sizeof err);
    if (rc == CHORUS_OK) rc = make_limiter(e, &o, err, sizeof err);
    if (rc == CHORUS_OK) rc = create_filters(e, o.no_config, err, sizeof err);
    if (rc == CHORUS_OK) rc = load_pronunciations(e, &o, err, sizeof err);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err(NULL, "%s", err[0] ? err : chorus_strerror(rc));
        if (errbuf) chorus_fmt(errbuf, errbuf_size, "%s", chorus_engine_errmsg(NULL));
        chorus_engine_destroy(e);
        return rc;
    }
    *out = e;
    return CHORUS_OK;
}

int chorus_engine_set_admission(struct chorus_engine *e, int max_concurrent, int max_queue,
                                int queue_timeout_ms) {
    chorus_engine_clear_err(e);
    if (!e) return CHORUS_E_INVALID;
    if (max_concurrent < 1 || max_concurrent > 1024 || max_queue < -1 || queue_timeout_ms < 0) {
        chorus_engine_set_err(e, "invalid admission limits (%d at once, queue %d, timeout %d ms): "
                              "use 1 to 1024 at once, a queue of -1 (unbounded) or more, a "
                              "timeout of 0 (none) or more", max_concurrent, max_queue,
                              queue_timeout_ms);
        return CHORUS_E_INVALID;
    }
    chorus_limiter_configure(e->limiter, max_concurrent, max_queue, queue_timeout_ms);
    return CHORUS_OK;
}

int chorus_engine_create(struct chorus_engine **out, const struct chorus_engine_options *opts) {
    return chorus_engine_create2(out, opts, NULL, 0);
}

void chorus_engine_destroy(struct chorus_engine *e) {
    if (!e) return;
    struct chorus_backend *b = e->instances;
    while (b) {
        struct chorus_backend *next = b->next;
        /* backend.h: close runs for every instance whose open ran, even a failed one */
        if (b->desc->ops->close) b->desc->ops->close(b);
        free(b->priv);
        free(b->name);
        free(b->variant);
        chorus_limiter_destroy(b->limiter);
        free(b);
        b = next;
    }
    chorus_limiter_destroy(e->limiter);
    for (size_t i = 0; i < CHORUS_N_JOB_FILTERS; i++)
        if (e->filter_state[i]) chorus_job_filters[i]->destroy(e->filter_state[i]);
    chorus_config_free(e->cfg);
    chorus_pron_free(&e->pron);
    free(e->config_path);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

const char *chorus_engine_config(const struct chorus_engine *e, const char *section,
                                 const char *key) {
    return e ? chorus_config_get(e->cfg, section, key) : NULL;
}

const char *chorus_engine_config_path(const struct chorus_engine *e) {
    return e ? e->config_path : NULL;
}

const struct chorus_config *chorus_backend_config(const struct chorus_backend *b) {
    return b->engine->cfg;
}

void chorus_engine_options_init(struct chorus_engine_options *o, size_t size) {
    struct chorus_engine_options def;
    memset(&def, 0, sizeof def);
    chorus_abi_init(o, size, &def, sizeof def);
}

int chorus_engine_get_stats(struct chorus_engine *e, struct chorus_engine_stats *out) {
    chorus_engine_clear_err(e);
    if (!e || !out) return CHORUS_E_INVALID;
    struct chorus_engine_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    struct chorus_limiter_stats ls;
    chorus_limiter_stats(e->limiter, &ls);
    st.max_concurrent = ls.max;
    st.active = ls.active;
    st.queued = ls.queued;
    st.started_total = ls.total;
    char err[1024];
    int rc = chorus_abi_write(out, &st, sizeof st, CHORUS_ENGINE_STATS_MIN, "chorus_engine_stats",
                              err, sizeof err);
    if (rc) chorus_engine_set_err(e, "%s", err);
    return rc;
}

/* Match `name` against the registry: exact names first, then prefix patterns, then the prior
 * implementation's ids. Sets *variant to the part after the prefix. */
static const struct chorus_backend_desc *registry_match(const char *name, const char **variant) {
    for (size_t i = 0; registry[i]; i++)
        if (!strcasecmp(registry[i]->name, name)) {
            *variant = "";
            return registry[i];
        }
    for (size_t i = 0; registry[i]; i++) {
        const char *pat = registry[i]->pattern;
        if (!pat) continue;
        size_t pl = strcspn(pat, "*");
        if (strlen(name) > pl && !strncasecmp(pat, name, pl)) {
            *variant = name + pl;
            return registry[i];
        }
    }
    /* the prior implementation's ids ("local_kokoro_default"): the descriptors' prefixes */
    for (size_t i = 0; registry[i]; i++)
        for (const char *const *lp = registry[i]->legacy_prefixes; lp && *lp; lp++)
            if (!strncasecmp(name, *lp, strlen(*lp))) {
                *variant = "";
                return registry[i];
            }
    return NULL;
}

/* The build option that left out backend `name` (or an instance of it, "name_...", or one of
 * the prior implementation's ids for it), or NULL. */
static const char *dropped_option(const char *name) {
    for (size_t i = 0; name && dropped[i].name; i++) {
        size_t n = strlen(dropped[i].name);
        if (!strncasecmp(name, dropped[i].name, n) && (name[n] == 0 || name[n] == '_'))
            return dropped[i].option;
        const char *lp = dropped[i].legacy_prefix;
        if (lp && !strncasecmp(name, lp, strlen(lp))) return dropped[i].option;
    }
    return NULL;
}

const char *chorus_backend_voice_alias(const struct chorus_config *cfg,
                                       const struct chorus_backend_desc *d, const char *voice) {
    if (!d || !voice || !*voice) return NULL;
    char sec[160];
    chorus_fmt(sec, sizeof sec, "%s.voices", d->name);
    const char *o = cfg ? chorus_config_get(cfg, sec, voice) : NULL;
    if (o && *o) return o;
    for (size_t i = 0; d->voice_aliases && d->voice_aliases[i][0]; i++)
        if (!strcasecmp(voice, d->voice_aliases[i][0])) return d->voice_aliases[i][1];
    return NULL;
}

const char *chorus_voice_alias(struct chorus_engine *e, const char *backend, const char *voice) {
    chorus_engine_clear_err(e);
    if (!e || !voice) return NULL;
    if (!backend || !*backend) backend = chorus_engine_default_backend(e);
    const char *variant = "";
    const struct chorus_backend_desc *d = backend ? registry_match(backend, &variant) : NULL;
    return chorus_backend_voice_alias(e->cfg, d, voice);
}

static void known_backends(char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; registry[i] && off + 1 < cap; i++) {
        int n = snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", registry[i]->name);
        if (n < 0) break;
        off += (size_t)n;
        if (registry[i]->pattern && off + 1 < cap) {
            n = snprintf(buf + off, cap - off, " (%s)", registry[i]->pattern);
            if (n > 0) off += (size_t)n;
        }
    }
}

int chorus_engine_backend(struct chorus_engine *e, const char *name, struct chorus_backend **out,
                          char *err, size_t errlen) {
    *out = NULL;
    const char *variant = "";
    const struct chorus_backend_desc *d = name ? registry_match(name, &variant) : NULL;
    if (!d) {
        char known[512];
        known_backends(known, sizeof known);
        const char *opt = dropped_option(name);
        if (opt) {
            chorus_fmt(err, errlen,
                       "backend '%s' is not in this build: chorus was built without it (%s=OFF); "
                       "rebuild with cmake -D%s=ON, or use one of: %s",
                       name, opt, opt, known);
            return CHORUS_E_UNAVAILABLE;
        }
        chorus_fmt(err, errlen, "unknown backend '%s'; known backends: %s", name ? name : "",
                   known);
        return CHORUS_E_UNKNOWN_BACKEND;
    }
    /* instances are keyed by the name with the variant; "openai" and "OpenAI" share one */
    char key[256];
    if (*variant) chorus_fmt(key, sizeof key, "%s", name);
    else chorus_fmt(key, sizeof key, "%s", d->name);
    for (char *p = key; *p; p++) *p = (char)tolower((unsigned char)*p);

    pthread_mutex_lock(&e->mu);
    struct chorus_backend *b;
    for (b = e->instances; b; b = b->next)
        if (!strcmp(b->name, key)) break;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) {
            pthread_mutex_unlock(&e->mu);
            return CHORUS_E_NOMEM;
        }
        b->desc = d;
        b->engine = e;
        b->name = strdup(key);
        b->variant = strdup(*variant ? key + (variant - name) : "");
        b->priv = d->priv_size ? calloc(1, d->priv_size) : NULL;
        int maxc = (int)chorus_config_double(e->cfg, d->name, "max_concurrent", d->max_concurrent);
        if (maxc > 0) b->limiter = chorus_limiter_create(maxc, -1, 0);
        if (!b->name || !b->variant || (d->priv_size && !b->priv) || (maxc > 0 && !b->limiter)) {
            free(b->name);
            free(b->variant);
            free(b->priv);
            chorus_limiter_destroy(b->limiter);
            free(b);
            pthread_mutex_unlock(&e->mu);
            return CHORUS_E_NOMEM;
        }
        b->open_status = CHORUS_OK;
        if (d->ops->open) {
            struct chorus_op op;
            chorus_op_begin(&op, b->open_error, sizeof b->open_error, NULL);
            b->open_status = d->ops->open(b, e->cfg);
            chorus_op_end(&op);
            if (b->open_status != CHORUS_OK && !b->open_error[0])
                chorus_fmt(b->open_error, sizeof b->open_error, "%s: %s", d->name,
                           chorus_strerror(b->open_status));
            chorus_redact(b->open_error);
        }
        b->next = e->instances;
        e->instances = b;
    }
    pthread_mutex_unlock(&e->mu);
    *out = b;
    return CHORUS_OK;
}

int chorus_backend_probe(struct chorus_backend *b, struct chorus_probe *why) {
    why->reason[0] = 0;
    if (b->open_status != CHORUS_OK) {
        chorus_fmt(why->reason, sizeof why->reason, "%s", b->open_error);
        return 0;
    }
    if (!b->desc->ops->probe) return 1;
    struct chorus_op op;
    chorus_op_begin(&op, why->reason, sizeof why->reason, NULL);
    int ok = b->desc->ops->probe(b, why);
    chorus_op_end(&op);
    if (!ok && !why->reason[0]) chorus_fmt(why->reason, sizeof why->reason, "not available");
    chorus_redact(why->reason);
    return ok;
}

/* ---- the backends' error channel ----
 * Each op runs inside a chorus_op naming where its message goes; chorus_backend_fail writes
 * there (or to the stream, during synthesize). Ops nest (a stream's open lists voices): the
 * innermost wins, and the previous one is restored at the end. */
static _Thread_local struct chorus_op *cur_op;

void chorus_op_begin(struct chorus_op *op, char *buf, size_t cap, struct chorus_stream *s) {
    op->buf = buf;
    op->cap = cap;
    op->stream = s;
    op->prev = cur_op;
    if (buf && cap) buf[0] = 0;
    cur_op = op;
}

void chorus_op_end(struct chorus_op *op) {
    if (op->buf && op->cap) chorus_redact(op->buf);
    cur_op = op->prev;
}

int chorus_backend_fail(const struct chorus_backend *b, int status, const char *fmt, ...) {
    struct chorus_op *op = cur_op;
    va_list ap;
    va_start(ap, fmt);
    if (op && op->stream) {
        chorus_stream_vfail(op->stream, status, fmt, ap);
    } else if (op && op->buf && op->cap && !op->buf[0]) { /* the first cause is kept */
        vsnprintf(op->buf, op->cap, fmt, ap);
    } else if (!op) {
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        CHORUS_LOGW("%s: %s (reported outside a call)", b ? b->desc->name : "backend", msg);
    }
    va_end(ap);
    return status;
}

int chorus_backend_list_voices(struct chorus_backend *b, struct chorus_voice_list *out,
                               char *err, size_t errlen) {
    struct chorus_op op;
    chorus_op_begin(&op, err, errlen, NULL);
    int rc = b->desc->ops->list_voices(b, out);
    chorus_op_end(&op);
    if (rc != CHORUS_OK && err && errlen && !err[0]) chorus_fmt(err, errlen, "%s", chorus_strerror(rc));
    return rc;
}

const char *chorus_engine_default_backend(struct chorus_engine *e) {
    const char *places[] = {"chorus", "default_backend", "app_tts", "default_provider", NULL};
    const char *v = chorus_config_find(e->cfg, "CHORUS_BACKEND", places);
    if (v) return v;
    const struct chorus_backend_desc *best = NULL;
    for (size_t i = 0; registry[i]; i++) {
        const struct chorus_backend_desc *d = registry[i];
        if (!(d->flags & CHORUS_BF_DEFAULT_CANDIDATE)) continue;
        if (best && d->default_priority <= best->default_priority) continue;
        struct chorus_backend *b;
        char err[256];
        if (chorus_engine_backend(e, d->name, &b, err, sizeof err) != CHORUS_OK) continue;
        struct chorus_probe why;
        if (chorus_backend_probe(b, &why)) best = d;
    }
    return best ? best->name : "espeak";
}

/* ---- listings ---- */

int chorus_list_backends(struct chorus_engine *e, struct chorus_backend_info **out, size_t *n) {
    chorus_engine_clear_err(e);
    if (!e || !out || !n) return CHORUS_E_INVALID;
    size_t count = 0;
    while (registry[count]) count++;
    struct chorus_backend_info *v = calloc(count ? count : 1, sizeof *v);
    if (!v) {
        chorus_engine_set_err(e, "out of memory listing the backends");
        return CHORUS_E_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        const struct chorus_backend_desc *d = registry[i];
        struct chorus_backend *b = NULL;
        char err[512] = "";
        struct chorus_probe why = {{0}};
        int ok = 0;
        if (chorus_engine_backend(e, d->name, &b, err, sizeof err) == CHORUS_OK)
            ok = chorus_backend_probe(b, &why);
        else
            chorus_fmt(why.reason, sizeof why.reason, "%s", err);
        v[i].name = d->name;
        v[i].pattern = d->pattern;
        v[i].description = d->description;
        v[i].caps = d->caps;
        v[i].available = ok;
        v[i].reason = ok ? NULL : strdup(why.reason);
        if (!ok && !v[i].reason) {
            chorus_backend_infos_free(v, i);
            chorus_engine_set_err(e, "out of memory listing the backends");
            return CHORUS_E_NOMEM;
        }
        v[i].max_input_chars = d->max_input_chars;
        v[i].sample_rate = d->sample_rate;
    }
    *out = v;
    *n = count;
    return CHORUS_OK;
}

void chorus_backend_infos_free(struct chorus_backend_info *infos, size_t n) {
    if (!infos) return;
    for (size_t i = 0; i < n; i++) free((char *)infos[i].reason);
    free(infos);
}

int chorus_backend_options(struct chorus_engine *e, const char *backend,
                           const struct chorus_option_desc **out, size_t *n) {
    chorus_engine_clear_err(e);
    if (!out || !n) return CHORUS_E_INVALID;
    const char *variant;
    const struct chorus_backend_desc *d = backend ? registry_match(backend, &variant) : NULL;
    if (!d) {
        char known[512];
        known_backends(known, sizeof known);
        const char *opt = dropped_option(backend);
        if (opt) {
            chorus_engine_set_err(e, "backend '%s' is not in this build: chorus was built without it "
                                  "(%s=OFF); rebuild with cmake -D%s=ON, or use one of: %s",
                                  backend, opt, opt, known);
            return CHORUS_E_UNAVAILABLE;
        }
        chorus_engine_set_err(e, "unknown backend '%s'; known backends: %s", backend ? backend : "",
                              known);
        return CHORUS_E_UNKNOWN_BACKEND;
    }
    static const struct chorus_option_desc none[] = {{0}};
    *out = d->options ? d->options : none;
    size_t k = 0;
    while ((*out)[k].key) k++;
    *n = k;
    return CHORUS_OK;
}

int chorus_voice_list_add(struct chorus_voice_list *l, const char *id, const char *name,
                          const char *language, const char *gender, const char *description) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        struct chorus_voice *p = realloc(l->v, nc * sizeof *p);
        if (!p) return CHORUS_E_NOMEM;
        l->v = p;
        l->cap = nc;
    }
    struct chorus_voice *v = &l->v[l->n];
    memset(v, 0, sizeof *v);
    v->id = chorus_strdup(id);
    v->name = chorus_strdup(name ? name : id);
    v->language = chorus_strdup(language);
    v->gender = chorus_strdup(gender);
    v->description = chorus_strdup(description);
    if (!v->id || !v->name) {
        free((char *)v->id);
        free((char *)v->name);
        free((char *)v->language);
        free((char *)v->gender);
        free((char *)v->description);
        return CHORUS_E_NOMEM;
    }
    l->n++;
    return CHORUS_OK;
}

void chorus_voices_free(struct chorus_voice *voices, size_t n) {
    if (!voices) return;
    for (size_t i = 0; i < n; i++) {
        free((char *)voices[i].id);
        free((char *)voices[i].name);
        free((char *)voices[i].language);
        free((char *)voices[i].gender);
        free((char *)voices[i].backend);
        free((char *)voices[i].description);
    }
    free(voices);
}

void chorus_voice_list_release(struct chorus_voice_list *l) {
    chorus_voices_free(l->v, l->n);
    l->v = NULL;
    l->n = l->cap = 0;
}

int chorus_list_voices(struct chorus_engine *e, const char *backend, struct chorus_voice **out,
                       size_t *n) {
    chorus_engine_clear_err(e);
    if (!e || !out || !n) return CHORUS_E_INVALID;
    *out = NULL;
    *n = 0;
    if (!backend) backend = chorus_engine_default_backend(e);
    struct chorus_backend *b;
    char err[1024];
    int rc = chorus_engine_backend(e, backend, &b, err, sizeof err);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err(e, "%s", err);
        return rc;
    }
    struct chorus_probe why;
    if (!chorus_backend_probe(b, &why)) {
        chorus_engine_set_err(e, "backend %s is not available: %s", b->name, why.reason);
        return CHORUS_E_UNAVAILABLE;
    }
    struct chorus_voice_list l = {0};
    if (b->desc->ops->list_voices) {
        char why_list[512];
        rc = chorus_backend_list_voices(b, &l, why_list, sizeof why_list);
        if (rc != CHORUS_OK) {
            chorus_voice_list_release(&l);
            chorus_engine_set_err(e, "cannot list the voices of %s: %s", b->name, why_list);
            return rc;
        }
    }
    for (size_t i = 0; i < l.n; i++) {
        l.v[i].backend = strdup(b->name);
        if (!l.v[i].backend) {
            chorus_voice_list_release(&l);
            chorus_engine_set_err(e, "out of memory listing the voices of %s", b->name);
            return CHORUS_E_NOMEM;
        }
    }
    *out = l.v;
    *n = l.n;
    return CHORUS_OK;
}
