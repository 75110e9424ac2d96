/*
 * writer.c — writing one cache entry: records stream into DIR/tmp/XXXXXX.tmp as the backend
 * produces them (memory stays flat), the header with length and checksum is written last, and
 * commit hands the file to the index (rename + insert in one transaction). Layout:
 * cache_internal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache_internal.h"
#include "core/util.h"

#define WBUF 65536

struct chorus_cache_writer {
    struct chorus_cache *c;
    struct chorus_cache_key key;
    int fd;
    char path[PATH_MAX];
    struct sha256_ctx sha;
    uint64_t plen, limit;
    uint32_t nrec;
    int failed;
    size_t bn;
    unsigned char buf[WBUF];
};

int chorus_cache_writer_begin(struct chorus_cache *c, const struct chorus_cache_key *key,
                              struct chorus_cache_writer **out) {
    *out = NULL;
    char err[512] = "";
    pthread_mutex_lock(&c->mu);
    int rc = chorus_cache_open_locked(c, 1, err, sizeof err);
    pthread_mutex_unlock(&c->mu);
    if (rc) {
        chorus_cache_warn(c, "%s", err);
        return CHORUS_E_IO;
    }
    struct chorus_cache_writer *w = malloc(sizeof *w);
    if (!w) return CHORUS_E_NOMEM;
    memset(w, 0, offsetof(struct chorus_cache_writer, buf));
    w->c = c;
    w->key = *key;
    chorus_fmt(w->path, sizeof w->path, "%s/tmp/%.16s-XXXXXX.tmp", c->dir, key->hex);
    w->fd = mkostemps(w->path, 4, O_CLOEXEC);
    if (w->fd < 0) {
        chorus_cache_warn(c, "cannot create a temporary entry in %s/tmp: %s", c->dir, strerror(errno));
        free(w);
        return CHORUS_E_IO;
    }
    unsigned char zero[CHORUS_CACHE_HEADER_SIZE] = {0};
    if (write(w->fd, zero, sizeof zero) != (ssize_t)sizeof zero) {
        chorus_cache_warn(c, "cannot write %s: %s", w->path, strerror(errno));
        chorus_cache_writer_abort(w);
        return CHORUS_E_IO;
    }
    sha256_init(&w->sha);
    w->limit = c->max_bytes < CHORUS_CACHE_MAX_ENTRY ? c->max_bytes : CHORUS_CACHE_MAX_ENTRY;
    *out = w;
    return CHORUS_OK;
}


static int flush_buf(struct chorus_cache_writer *w) {
    if (w->bn && chorus_write_all(w->fd, w->buf, w->bn) < 0) {
        if (!w->failed) chorus_cache_warn(w->c, "cannot write %s: %s", w->path, strerror(errno));
        w->failed = 1;
    }
    w->bn = 0;
    return w->failed ? CHORUS_E_IO : 0;
}

/* Append payload bytes (hashed as they go). */
static int put(struct chorus_cache_writer *w, const void *data, size_t n) {
    if (w->failed) return CHORUS_E_IO;
    const unsigned char *p = data;
    sha256_update(&w->sha, n, p);
    w->plen += n;
    while (n) {
        size_t m = WBUF - w->bn < n ? WBUF - w->bn : n;
        memcpy(w->buf + w->bn, p, m);
        w->bn += m;
        p += m;
        n -= m;
        if (w->bn == WBUF && flush_buf(w)) return CHORUS_E_IO;
    }
    return 0;
}

/* Start a record of `blen` body bytes; fails (dropping the entry) past the size limit. */
static int rec_begin(struct chorus_cache_writer *w, uint32_t type, size_t blen) {
    if (w->failed) return CHORUS_E_IO;
    if (w->plen + REC_HEAD + blen + CHORUS_CACHE_HEADER_SIZE > w->limit) {
        w->failed = 1; /* too large to keep: not an error worth a warning */
        return CHORUS_E_TOO_LONG;
    }
    unsigned char h[REC_HEAD];
    le32_put(h, type);
    le32_put(h + 4, (uint32_t)blen);
    w->nrec++;
    return put(w, h, sizeof h);
}

static int put_u32(struct chorus_cache_writer *w, uint32_t v) {
    unsigned char b[4];
    le32_put(b, v);
    return put(w, b, 4);
}

int chorus_cache_writer_pcm_f32(struct chorus_cache_writer *w, const float *x, size_t n, int rate) {
    while (n) {
        size_t m = n < REC_MAX_BODY / 4 ? n : REC_MAX_BODY / 4;
        int rc = rec_begin(w, REC_PCM_F32, 4 + 4 * m);
        if (!rc) rc = put_u32(w, (uint32_t)rate);
        for (size_t i = 0; i < m && !rc; i++) {
            uint32_t u;
            memcpy(&u, &x[i], sizeof u);
            rc = put_u32(w, u);
        }
        if (rc) return rc;
        x += m;
        n -= m;
    }
    return 0;
}

int chorus_cache_writer_pcm_s16(struct chorus_cache_writer *w, const int16_t *x, size_t n,
                                int rate) {
    while (n) {
        size_t m = n < REC_MAX_BODY / 2 ? n : REC_MAX_BODY / 2;
        int rc = rec_begin(w, REC_PCM_S16, 4 + 2 * m);
        if (!rc) rc = put_u32(w, (uint32_t)rate);
        unsigned char tmp[1024];
        for (size_t i = 0; i < m && !rc;) {
            size_t k = 0;
            for (; k < sizeof tmp / 2 && i < m; k++, i++) {
                uint16_t u = (uint16_t)x[i];
                tmp[2 * k] = (unsigned char)u;
                tmp[2 * k + 1] = (unsigned char)(u >> 8);
            }
            rc = put(w, tmp, 2 * k);
        }
        if (rc) return rc;
        x += m;
        n -= m;
    }
    return 0;
}

int chorus_cache_writer_encoded(struct chorus_cache_writer *w, enum chorus_format fmt,
                                const void *data, size_t n) {
    const unsigned char *p = data;
    do {
        size_t m = n < REC_MAX_BODY ? n : REC_MAX_BODY;
        int rc = rec_begin(w, REC_ENCODED, 4 + m);
        if (!rc) rc = put_u32(w, (uint32_t)fmt);
        if (!rc) rc = put(w, p, m);
        if (rc) return rc;
        p += m;
        n -= m;
    } while (n);
    return 0;
}

int chorus_cache_writer_word(struct chorus_cache_writer *w, size_t off, size_t len, double start,
                             double end) {
    unsigned char b[32];
    le64_put(b, off);
    le64_put(b + 8, len);
    f64_put(b + 16, start);
    f64_put(b + 24, end);
    int rc = rec_begin(w, REC_WORD, sizeof b);
    return rc ? rc : put(w, b, sizeof b);
}

int chorus_cache_writer_mark(struct chorus_cache_writer *w, const char *name, double time) {
    size_t l = strnlen(name, MARK_NAME_MAX + 1);
    if (l > MARK_NAME_MAX) {
        w->failed = 1; /* a mark we could not replay exactly: do not keep the entry */
        return CHORUS_E_TOO_LONG;
    }
    unsigned char b[8];
    f64_put(b, time);
    int rc = rec_begin(w, REC_MARK, 8 + l);
    if (!rc) rc = put(w, b, 8);
    return rc ? rc : put(w, name, l);
}

int chorus_cache_writer_commit(struct chorus_cache_writer *w) {
    if (!w) return CHORUS_E_INVALID;
    if (w->failed || flush_buf(w)) {
        chorus_cache_writer_abort(w);
        return CHORUS_E_IO;
    }
    unsigned char h[CHORUS_CACHE_HEADER_SIZE] = {0};
    unsigned char sum[32];
    sha256_digest(&w->sha, sizeof sum, sum);
    memcpy(h, ENTRY_MAGIC, 8);
    le32_put(h + 8, ENTRY_VERSION);
    le32_put(h + 12, CHORUS_CACHE_HEADER_SIZE);
    memcpy(h + 16, w->key.b, CHORUS_CACHE_KEY_SIZE);
    le64_put(h + 48, w->plen);
    memcpy(h + 56, sum, 32);
    le32_put(h + 88, w->nrec);
    if (pwrite(w->fd, h, sizeof h, 0) != (ssize_t)sizeof h || close(w->fd) < 0) {
        chorus_cache_warn(w->c, "cannot finish %s: %s", w->path, strerror(errno));
        w->fd = -1;
        chorus_cache_writer_abort(w);
        return CHORUS_E_IO;
    }
    w->fd = -1;
    int rc = chorus_cache_index_insert(w->c, &w->key, w->path, w->plen + CHORUS_CACHE_HEADER_SIZE, sum);
    free(w);
    return rc;
}

void chorus_cache_writer_abort(struct chorus_cache_writer *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    unlink(w->path);
    free(w);
}
