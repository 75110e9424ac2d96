/*
 * framer.c — incremental SSE event / NDJSON line splitter (see net.h).
 */
#include <stdlib.h>
#include <string.h>

#include "chorus/chorus.h"
#include "net/net.h"

#define DEFAULT_MAX (32u * 1024u * 1024u)

void chorus_framer_init(struct chorus_framer *f, int sse, size_t max_len,
                        int (*on_frame)(void *ud, const char *frame, size_t n), void *ud) {
    memset(f, 0, sizeof *f);
    f->sse = sse;
    f->max_len = max_len ? max_len : DEFAULT_MAX;
    f->on_frame = on_frame;
    f->ud = ud;
}

static int grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return CHORUS_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    char *p = realloc(*buf, c);
    if (!p) return CHORUS_E_NOMEM;
    *buf = p;
    *cap = c;
    return CHORUS_OK;
}

static int emit(struct chorus_framer *f, char *s, size_t n) {
    s[n] = '\0';
    return f->on_frame ? f->on_frame(f->ud, s, n) : CHORUS_OK;
}

static int sse_dispatch(struct chorus_framer *f) {
    if (!f->have_data) {
        f->event[0] = '\0'; /* an event without data is not delivered */
        return CHORUS_OK;
    }
    f->have_data = 0;
    size_t n = f->data_len;
    f->data_len = 0;
    int rc = grow(&f->data, &f->data_cap, n + 1);
    if (rc) return rc;
    rc = emit(f, f->data, n);
    f->event[0] = '\0';
    return rc;
}

/* A complete line (without its terminator) is in f->line[0..line_len). */
static int line_done(struct chorus_framer *f) {
    size_t n = f->line_len;
    f->line_len = 0;
    int rc = grow(&f->line, &f->line_cap, n + 1);
    if (rc) return rc;
    if (!f->sse) {
        if (n == 0) return CHORUS_OK; /* NDJSON: blank lines carry nothing */
        return emit(f, f->line, n);
    }
    if (n == 0) return sse_dispatch(f);
    const char *l = f->line;
    if (l[0] == ':') return CHORUS_OK; /* comment */
    const char *colon = memchr(l, ':', n);
    size_t flen = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    if (v < l + n && *v == ' ') v++;
    size_t vlen = (size_t)(l + n - v);
    if (flen == 5 && !memcmp(l, "event", 5)) {
        size_t k = vlen < sizeof f->event - 1 ? vlen : sizeof f->event - 1;
        memcpy(f->event, v, k);
        f->event[k] = '\0';
        return CHORUS_OK;
    }
    if (flen != 4 || memcmp(l, "data", 4) != 0) return CHORUS_OK; /* id:, retry: */
    size_t need = f->data_len + (f->have_data ? 1 : 0) + vlen + 1;
    if (need > f->max_len) return CHORUS_E_TOO_LONG;
    if ((rc = grow(&f->data, &f->data_cap, need))) return rc;
    if (f->have_data) f->data[f->data_len++] = '\n';
    memcpy(f->data + f->data_len, v, vlen);
    f->data_len += vlen;
    f->have_data = 1;
    return CHORUS_OK;
}

int chorus_framer_feed(struct chorus_framer *f, const void *data, size_t n) {
    const char *p = data;
    for (size_t i = 0; i < n;) {
        char c = p[i];
        if (c == '\n' || c == '\r') {
            int was_cr = f->last_cr;
            f->last_cr = c == '\r';
            i++;
            if (c == '\n' && was_cr) continue; /* the \n of a \r\n */
            int rc = line_done(f);
            if (rc) return rc;
            continue;
        }
        f->last_cr = 0;
        /* copy the run up to the next terminator at once */
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r') j++;
        size_t run = j - i;
        if (f->line_len + run + 1 > f->max_len) return CHORUS_E_TOO_LONG;
        int rc = grow(&f->line, &f->line_cap, f->line_len + run + 1);
        if (rc) return rc;
        memcpy(f->line + f->line_len, p + i, run);
        f->line_len += run;
        i = j;
    }
    return CHORUS_OK;
}

int chorus_framer_finish(struct chorus_framer *f) {
    int rc = CHORUS_OK;
    if (f->line_len) rc = line_done(f);
    if (rc == CHORUS_OK && f->sse) rc = sse_dispatch(f);
    return rc;
}

void chorus_framer_release(struct chorus_framer *f) {
    free(f->line);
    free(f->data);
    f->line = f->data = NULL;
    f->line_cap = f->data_cap = f->line_len = f->data_len = 0;
}

int chorus_net_buf_body(void *ud, const void *data, size_t n) {
    struct chorus_net_buf *g = ud;
    size_t max = g->max ? g->max : 8u * 1024 * 1024;
    if (g->n + n + 1 > max) return CHORUS_E_TOO_LONG;
    if (g->n + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16384;
        while (cap < g->n + n + 1) cap *= 2;
        char *q = realloc(g->p, cap);
        if (!q) return CHORUS_E_NOMEM;
        g->p = q;
        g->cap = cap;
    }
    memcpy(g->p + g->n, data, n);
    g->n += n;
    g->p[g->n] = '\0';
    return CHORUS_OK;
}
