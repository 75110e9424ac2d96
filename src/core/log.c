#include "core/log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static chorus_log_fn log_fn;
static void *log_ud;
static int log_level = -1; /* -1: not yet read from the environment */

#define MAX_SECRETS 32
static char *secrets[MAX_SECRETS];
static size_t n_secrets;

static int level_from_env(void) {
    const char *e = getenv("CHORUS_LOG");
    if (!e || !*e) return CHORUS_LOG_WARN;
    if (!strcasecmp(e, "error")) return CHORUS_LOG_ERROR;
    if (!strcasecmp(e, "warn") || !strcasecmp(e, "warning")) return CHORUS_LOG_WARN;
    if (!strcasecmp(e, "info")) return CHORUS_LOG_INFO;
    if (!strcasecmp(e, "debug")) return CHORUS_LOG_DEBUG;
    return CHORUS_LOG_WARN;
}

void chorus_set_log(chorus_log_fn fn, void *userdata, enum chorus_log_level level) {
    pthread_mutex_lock(&log_mu);
    log_fn = fn;
    log_ud = userdata;
    log_level = (int)level;
    pthread_mutex_unlock(&log_mu);
}

int chorus_log_enabled(enum chorus_log_level level) {
    pthread_mutex_lock(&log_mu);
    if (log_level < 0) log_level = level_from_env();
    int on = (int)level <= log_level;
    pthread_mutex_unlock(&log_mu);
    return on;
}

void chorus_secret_register(const char *secret) {
    if (!secret || strlen(secret) < 4) return;
    pthread_mutex_lock(&log_mu);
    for (size_t i = 0; i < n_secrets; i++)
        if (!strcmp(secrets[i], secret)) {
            pthread_mutex_unlock(&log_mu);
            return;
        }
    if (n_secrets < MAX_SECRETS) {
        char *c = strdup(secret);
        if (c) secrets[n_secrets++] = c;
    }
    pthread_mutex_unlock(&log_mu);
}

static void replace_span(char *s, size_t at, size_t len) {
    static const char red[] = "[redacted]";
    size_t rl = sizeof red - 1;
    if (rl > len) {
        /* never grow the string: overwrite with as much of the marker as fits */
        memset(s + at, '*', len);
        return;
    }
    memcpy(s + at, red, rl);
    memmove(s + at + rl, s + at + len, strlen(s + at + len) + 1);
}

/* After a marker ("Bearer ", "api_key="), redact the token that follows. */
static void redact_after(char *s, const char *marker) {
    size_t ml = strlen(marker);
    char *p = s;
    while ((p = strcasestr(p, marker)) != NULL) {
        char *v = p + ml;
        while (*v == ' ' || *v == '"' || *v == ':' || *v == '=') v++;
        size_t n = 0;
        while (v[n] && !isspace((unsigned char)v[n]) && v[n] != '"' && v[n] != '&' && v[n] != ',')
            n++;
        if (n >= 4 && strncmp(v, "[redacted]", 10) != 0) replace_span(s, (size_t)(v - s), n);
        p = v;
    }
}

/* "scheme://user:password@host" → "scheme://[redacted]@host": credentials in a URL. */
static void redact_userinfo(char *s) {
    for (char *p = strstr(s, "://"); p; p = strstr(p, "://")) {
        char *a = p + 3;
        size_t n = strcspn(a, "/?#\"'<>() \t\r\n");
        char *at = NULL;
        for (size_t i = 0; i < n; i++)
            if (a[i] == '@') at = a + i;
        if (at && at > a && strncmp(a, "[redacted]@", 11) != 0) {
            replace_span(s, (size_t)(a - s), (size_t)(at - a));
            n = strcspn(a, "/?#\"'<>() \t\r\n");
        }
        p = a + n;
    }
}

void chorus_redact(char *s) {
    if (!s) return;
    redact_userinfo(s);
    pthread_mutex_lock(&log_mu);
    for (size_t i = 0; i < n_secrets; i++) {
        size_t l = strlen(secrets[i]);
        char *p;
        while ((p = strstr(s, secrets[i])) != NULL) replace_span(s, (size_t)(p - s), l);
    }
    pthread_mutex_unlock(&log_mu);
    redact_after(s, "bearer ");
    redact_after(s, "xi-api-key");
    redact_after(s, "api_key");
    redact_after(s, "api-key");
    redact_after(s, "authorization:");
}

void chorus_log(enum chorus_log_level level, const char *fmt, ...) {
    if (!chorus_log_enabled(level)) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    chorus_redact(buf);
    pthread_mutex_lock(&log_mu);
    chorus_log_fn fn = log_fn;
    void *ud = log_ud;
    pthread_mutex_unlock(&log_mu);
    if (fn) {
        fn(level, buf, ud);
    } else {
        static const char *names[] = {"error", "warning", "info", "debug"};
        fprintf(stderr, "chorus: %s: %s\n", names[level], buf);
    }
}
