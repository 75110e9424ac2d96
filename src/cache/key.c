/* key.c — the cache key: SHA-256 (nettle) over every input that changes a job's audio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache/cache.h"
#include "core/backend.h"
#include "core/config.h"

/* Bumped whenever the entry format or what a key covers changes: old entries then simply miss. */
#define KEY_SCHEME "chorus-cache-key/1"

static void put_len(struct chorus_cache_keyb *kb, uint64_t n) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(n >> (8 * i));
    sha256_update(&kb->sha, sizeof b, b);
}

void chorus_cache_key_init(struct chorus_cache_keyb *kb) {
    sha256_init(&kb->sha);
    chorus_cache_key_add_str(kb, "scheme", KEY_SCHEME);
}

void chorus_cache_key_add(struct chorus_cache_keyb *kb, const char *field, const void *value,
                          size_t len) {
    size_t fl = strlen(field);
    put_len(kb, fl);
    sha256_update(&kb->sha, fl, (const uint8_t *)field);
    if (!value) { /* absent: a length no real value has */
        put_len(kb, UINT64_MAX);
        return;
    }
    put_len(kb, len);
    if (len) sha256_update(&kb->sha, len, value);
}

void chorus_cache_key_add_str(struct chorus_cache_keyb *kb, const char *field, const char *value) {
    chorus_cache_key_add(kb, field, value, value ? strlen(value) : 0);
}

void chorus_cache_key_finish(struct chorus_cache_keyb *kb, struct chorus_cache_key *out) {
    static const char digits[] = "0123456789abcdef";
    sha256_digest(&kb->sha, CHORUS_CACHE_KEY_SIZE, out->b);
    for (int i = 0; i < CHORUS_CACHE_KEY_SIZE; i++) {
        out->hex[2 * i] = digits[out->b[i] >> 4];
        out->hex[2 * i + 1] = digits[out->b[i] & 15];
    }
    out->hex[2 * CHORUS_CACHE_KEY_SIZE] = 0;
}

int chorus_cache_key_from_hex(const char *hex, struct chorus_cache_key *out) {
    if (!hex || strlen(hex) != 2 * CHORUS_CACHE_KEY_SIZE) return -1;
    for (int i = 0; i < CHORUS_CACHE_KEY_SIZE; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + k];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        out->b[i] = (unsigned char)v;
    }
    memcpy(out->hex, hex, sizeof out->hex - 1);
    out->hex[sizeof out->hex - 1] = 0;
    return 0;
}

/* Config keys that never change the audio (or are secrets, which we keep out of the key too:
 * rotating an API key must not throw the cache away). */
static int config_key_ignored(const char *k) {
    static const char *const words[] = {"key", "token", "secret", "password", "timeout",
                                        "concurrent", "retries", "retry", "verbose", "log"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(k, words[i])) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Hash the entries of one config section, sorted, so their order in the file does not matter. */
static int add_section(struct chorus_cache_keyb *kb, const struct chorus_config *cfg,
                       const char *section) {
    const char *k, *v;
    size_t n = 0;
    while (chorus_config_entry(cfg, section, n, &k, &v)) n++;
    if (!n) return 0;
    char **lines = calloc(n, sizeof *lines);
    if (!lines) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        chorus_config_entry(cfg, section, i, &k, &v);
        if (config_key_ignored(k)) continue;
        size_t l = strlen(k) + strlen(v) + 2;
        lines[m] = malloc(l);
        if (!lines[m]) goto oom;
        snprintf(lines[m], l, "%s=%s", k, v);
        for (char *p = lines[m]; *p && *p != '='; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        m++;
    }
    qsort(lines, m, sizeof *lines, cmp_str);
    chorus_cache_key_add_str(kb, "config-section", section);
    for (size_t i = 0; i < m; i++) chorus_cache_key_add_str(kb, "config", lines[i]);
    for (size_t i = 0; i < m; i++) free(lines[i]);
    free(lines);
    return 0;
oom:
    for (size_t i = 0; i < m; i++) free(lines[i]);
    free(lines);
    return -1;
}

static int cmp_kv(const void *a, const void *b) {
    const struct chorus_kv *x = *(const struct chorus_kv *const *)a;
    const struct chorus_kv *y = *(const struct chorus_kv *const *)b;
    int r = strcasecmp(x->key, y->key);
    return r ? r : strcmp(x->value, y->value);
}

static void add_float(struct chorus_cache_keyb *kb, const char *field, double v) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", v);
    chorus_cache_key_add_str(kb, field, buf);
}

int chorus_cache_key_for_job(const struct chorus_backend *b, const struct chorus_job *job,
                             struct chorus_cache_key *out) {
    struct chorus_cache_keyb kb;
    chorus_cache_key_init(&kb);
    chorus_cache_key_add_str(&kb, "library", CHORUS_VERSION_STRING);
    chorus_cache_key_add_str(&kb, "backend", b->desc->name);
    chorus_cache_key_add_str(&kb, "instance", b->name);
    const struct chorus_config *cfg = b->engine ? chorus_backend_config(b) : NULL;
    if (cfg) {
        if (add_section(&kb, cfg, b->desc->name) < 0) return CHORUS_E_NOMEM;
        if (strcasecmp(b->name, b->desc->name) && add_section(&kb, cfg, b->name) < 0)
            return CHORUS_E_NOMEM;
    }
    chorus_cache_key_add_str(&kb, "model", job->model);
    chorus_cache_key_add_str(&kb, "voice", job->voice);
    chorus_cache_key_add_str(&kb, "language", job->language);
    char num[32];
    snprintf(num, sizeof num, "%d", (int)job->input);
    chorus_cache_key_add_str(&kb, "input", num);
    add_float(&kb, "speed", job->speed);
    add_float(&kb, "pitch", job->pitch);
    add_float(&kb, "volume", job->volume);
    if (job->n_options) {
        const struct chorus_kv **o = calloc(job->n_options, sizeof *o);
        if (!o) return CHORUS_E_NOMEM;
        for (size_t i = 0; i < job->n_options; i++) o[i] = &job->options[i];
        qsort(o, job->n_options, sizeof *o, cmp_kv);
        for (size_t i = 0; i < job->n_options; i++) {
            chorus_cache_key_add_str(&kb, "option-key", o[i]->key);
            chorus_cache_key_add_str(&kb, "option-value", o[i]->value);
        }
        free(o);
    }
    if (!(b->desc->caps & CHORUS_CAP_LOCAL)) {
        /* remote engines ask the provider for the caller's format only when their bytes may pass
         * through untouched, else for their own default, which the core decodes; some pass the
         * wanted rate on either way */
        if (job->passthrough_ok)
            snprintf(num, sizeof num, "pass/%d/%d", (int)job->want_format, job->want_rate);
        else
            snprintf(num, sizeof num, "decode/%d", job->want_rate);
        chorus_cache_key_add_str(&kb, "want", num);
    }
    chorus_cache_key_add(&kb, "text", job->text ? job->text : "", job->len);
    chorus_cache_key_finish(&kb, out);
    return CHORUS_OK;
}
