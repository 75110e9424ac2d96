/*
 * once.c — exactly-once delivery of a job's audio across retried attempts (see net.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chorus/chorus.h"
#include "net/net.h"

void chorus_once_init(struct chorus_once *o, int hold,
                      int (*deliver)(void *ud, const unsigned char *p, size_t n), void *ud) {
    memset(o, 0, sizeof *o);
    o->hold = hold;
    o->deliver = deliver;
    o->ud = ud;
}

void chorus_once_rewind(struct chorus_once *o) {
    o->attempt++;
    o->pos = 0;
    if (o->hold) o->len = 0; /* what a failed attempt held is simply dropped */
}

static int keep(struct chorus_once *o, const unsigned char *p, size_t n) {
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 65536;
        while (cap < o->len + n) cap *= 2;
        unsigned char *b = realloc(o->buf, cap);
        if (!b) return CHORUS_E_NOMEM;
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return CHORUS_OK;
}

int chorus_once_write(struct chorus_once *o, const void *data, size_t n, char *msg,
                      size_t msglen) {
    const unsigned char *p = data;
    if (n == 0) return CHORUS_OK;
    if (o->hold) {
        o->pos += n;
        return keep(o, p, n);
    }
    if (o->no_replay) {
        o->pos += n;
        return o->deliver ? o->deliver(o->ud, p, n) : CHORUS_OK;
    }
    /* stream mode: the part already forwarded by an earlier attempt must match */
    if (o->pos < o->len) {
        size_t overlap = o->len - o->pos;
        if (overlap > n) overlap = n;
        if (memcmp(o->buf + o->pos, p, overlap) != 0) {
            if (msg && msglen)
                snprintf(msg, msglen,
                         "the retried request produced different audio than the %zu bytes "
                         "already delivered, so the chunk cannot be resumed without a glitch; "
                         "use the option retry_mode=buffer to make retries exact",
                         o->len);
            return CHORUS_E_NETWORK;
        }
        o->pos += overlap;
        p += overlap;
        n -= overlap;
        if (n == 0) return CHORUS_OK;
    }
    int rc = keep(o, p, n);
    if (rc != CHORUS_OK) return rc;
    o->pos += n;
    return o->deliver ? o->deliver(o->ud, p, n) : CHORUS_OK;
}

int chorus_once_commit(struct chorus_once *o, char *msg, size_t msglen) {
    if (!o->hold) {
        if (o->pos < o->len) { /* the replay ended before what was already delivered */
            if (msg && msglen)
                snprintf(msg, msglen,
                         "the retried request produced %zu bytes of audio, fewer than the %zu "
                         "already delivered; use the option retry_mode=buffer to make retries "
                         "exact", o->pos, o->len);
            return CHORUS_E_NETWORK;
        }
        return CHORUS_OK;
    }
    if (o->pos < o->len) o->len = o->pos;
    int rc = CHORUS_OK;
    if (o->len && o->deliver) rc = o->deliver(o->ud, o->buf, o->len);
    o->len = 0;
    o->pos = 0;
    return rc;
}

size_t chorus_once_delivered(const struct chorus_once *o) {
    return o->hold ? 0 : o->len;
}

void chorus_once_release(struct chorus_once *o) {
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = o->pos = 0;
}
