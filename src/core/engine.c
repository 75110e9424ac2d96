/* engine.c — the engine handle: config, registry, backend instances, limiter, listings. */
#include "core/engine.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"
#include "core/log.h"
#include "core/util.h"

#define CHORUS_BACKEND(sym) extern const struct chorus_backend_desc sym;
#include "backends/backends.def"
#undef CHORUS_BACKEND

static const struct chorus_backend_desc *const registry[] = {
#define CHORUS_BACKEND(sym) &sym,
#include "backends/backends.def"
#undef CHORUS_BACKEND
    NULL};

#define CHORUS_JOB_FILTER(sym) extern const struct chorus_job_filter_desc sym;
#include "filters.def"
#undef CHORUS_JOB_FILTER

const struct chorus_job_filter_desc *const chorus_job_filters[] = {
#define CHORUS_JOB_FILTER(sym) &sym,
#include "filters.def"
#undef CHORUS_JOB_FILTER
    NULL};

static _Thread_local char engine_err[1024];

const struct chorus_backend_desc *const *chorus_registry(void) {
    return registry;
}

void chorus_engine_set_err(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(engine_err, sizeof engine_err, fmt, ap);
    va_end(ap);
    chorus_redact(engine_err);
}

const char *chorus_engine_errmsg(const struct chorus_engine *e) {
    (void)e;
    return engine_err;
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

int chorus_engine_create2(struct chorus_engine **out, const struct chorus_engine_options *opts,
                          char *errbuf, size_t errbuf_size) {
    if (!out) return CHORUS_E_INVALID;
    *out = NULL;
    struct chorus_engine_options o = {0};
    if (opts) o = *opts;
    struct chorus_engine *e = calloc(1, sizeof *e);
    if (!e) return CHORUS_E_NOMEM;
    pthread_mutex_init(&e->mu, NULL);
    char err[1024] = "";
    if (o.no_config) {
        e->cfg = chorus_config_parse("", 0, "none", err, sizeof err);
    } else {
        char buf[4096];
        int explicit_ = 0;
        const char *path = o.config_path;
        if (path) explicit_ = 1;
        else path = default_config_path(buf, sizeof buf, &explicit_);
        if (path) {
            e->cfg = chorus_config_load(path, !explicit_, err, sizeof err);
            if (e->cfg) e->config_path = strdup(path);
        } else {
            e->cfg = chorus_config_parse("", 0, "none", err, sizeof err);
        }
    }
    if (!e->cfg) {
        chorus_engine_set_err("%s", err[0] ? err : "cannot load config");
        if (errbuf) chorus_fmt(errbuf, errbuf_size, "%s", engine_err);
        chorus_engine_destroy(e);
        return CHORUS_E_CONFIG;
    }
    int maxc = o.max_concurrent;
    if (maxc <= 0) {
        const char *env = getenv("CHORUS_MAX_CONCURRENT");
        if (env && *env) maxc = atoi(env);
    }
    if (maxc <= 0) maxc = (int)chorus_config_double(e->cfg, "chorus", "max_concurrent", 4);
    if (maxc <= 0 || maxc > 1024) {
        chorus_engine_set_err("invalid max_concurrent %d: use a value from 1 to 1024", maxc);
        if (errbuf) chorus_fmt(errbuf, errbuf_size, "%s", engine_err);
        chorus_engine_destroy(e);
        return CHORUS_E_CONFIG;
    }
    e->limiter = chorus_limiter_create(maxc);
    if (!e->limiter) {
        chorus_engine_destroy(e);
        return CHORUS_E_NOMEM;
    }
    int crc = create_filters(e, o.no_config, err, sizeof err);
    if (crc != CHORUS_OK) {
        chorus_engine_set_err("%s", err[0] ? err : chorus_strerror(crc));
        if (errbuf) chorus_fmt(errbuf, errbuf_size, "%s", engine_err);
        chorus_engine_destroy(e);
        return crc;
    }
    *out = e;
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
        if (b->open_status == CHORUS_OK && b->desc->ops->close) b->desc->ops->close(b);
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
    free(e->config_path);
    free(e->default_backend);
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

void chorus_engine_get_stats(struct chorus_engine *e, struct chorus_engine_stats *out) {
    memset(out, 0, sizeof *out);
    if (!e) return;
    chorus_limiter_stats(e->limiter, &out->max_concurrent, &out->active, &out->queued,
                         &out->started_total);
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

const char *chorus_voice_alias_lookup(const struct chorus_backend_desc *d, const char *voice) {
    if (!d || !voice) return voice;
    for (const struct chorus_voice_alias *a = d->voice_aliases; a && a->from; a++)
        if (!strcasecmp(voice, a->from)) return a->to;
    return voice;
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
        if (maxc > 0) b->limiter = chorus_limiter_create(maxc);
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
            b->open_status = d->ops->open(b, e->cfg);
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
    int ok = b->desc->ops->probe(b, why);
    if (!ok && !why->reason[0]) chorus_fmt(why->reason, sizeof why->reason, "not available");
    chorus_redact(why->reason);
    return ok;
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
    if (!e || !out || !n) return CHORUS_E_INVALID;
    size_t count = 0;
    while (registry[count]) count++;
    struct chorus_backend_info *v = calloc(count ? count : 1, sizeof *v);
    if (!v) return CHORUS_E_NOMEM;
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
    (void)e;
    const char *variant;
    const struct chorus_backend_desc *d = backend ? registry_match(backend, &variant) : NULL;
    if (!d) {
        char known[512];
        known_backends(known, sizeof known);
        chorus_engine_set_err("unknown backend '%s'; known backends: %s", backend ? backend : "",
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
    if (!e || !out || !n) return CHORUS_E_INVALID;
    *out = NULL;
    *n = 0;
    if (!backend) backend = chorus_engine_default_backend(e);
    struct chorus_backend *b;
    char err[1024];
    int rc = chorus_engine_backend(e, backend, &b, err, sizeof err);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err("%s", err);
        return rc;
    }
    struct chorus_probe why;
    if (!chorus_backend_probe(b, &why)) {
        chorus_engine_set_err("backend %s is not available: %s", b->name, why.reason);
        return CHORUS_E_UNAVAILABLE;
    }
    struct chorus_voice_list l = {0};
    if (b->desc->ops->list_voices) {
        rc = b->desc->ops->list_voices(b, &l);
        if (rc != CHORUS_OK) {
            chorus_voice_list_release(&l);
            if (!engine_err[0] || rc == CHORUS_E_NOMEM)
                chorus_engine_set_err("cannot list voices of %s: %s", b->name, chorus_strerror(rc));
            return rc;
        }
    }
    for (size_t i = 0; i < l.n; i++) {
        l.v[i].backend = strdup(b->name);
        if (!l.v[i].backend) {
            chorus_voice_list_release(&l);
            return CHORUS_E_NOMEM;
        }
    }
    *out = l.v;
    *n = l.n;
    return CHORUS_OK;
}
