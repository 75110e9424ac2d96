/* file.c — chorus_synthesize_file(): atomic file output (temp file + rename), exact WAV header. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "core/abi.h"
#include "core/engine.h"
#include "core/stream_internal.h"
#include "core/util.h"

struct file_ctx {
    int fd;
    int write_errno;
    chorus_callback user_cb;
    void *user_ud;
};


static int file_cb(const struct chorus_event *ev, void *ud) {
    struct file_ctx *f = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->data_len) {
        if (chorus_write_all(f->fd, ev->chunk->data, ev->chunk->data_len) < 0) {
            f->write_errno = errno;
            return 1;
        }
    }
    return f->user_cb ? f->user_cb(ev, f->user_ud) : 0;
}

int chorus_stream_final_header(const struct chorus_stream *s, unsigned char *buf, size_t cap,
                               size_t *len) {
    if (!s || !len || !s->ran || !s->out) return CHORUS_E_INVALID;
    *len = 0;
    struct chorus_encoder *enc = chorus_output_encoder(s->out);
    if (!enc || !enc->vt->header) return CHORUS_OK;
    int rc = chorus_encoder_header(enc, buf, cap, len);
    if (rc != CHORUS_OK) {
        /* the stream ended well; its message now says why the file cannot be finished */
        struct chorus_stream *w = (struct chorus_stream *)s;
        chorus_fmt(w->err, sizeof w->err, "cannot finish the %s file header: %s",
                   chorus_format_name(w->format), enc->err);
    }
    return rc;
}

/* The output for path (chorus_output_open): in place for a device or FIFO (*tmp NULL), else a
 * temp file beside the real target. Returns the fd, -1 (I/O, message in err) or -2 (no memory). */
static int open_output(const char *path, char **target, char **tmp, char *err, size_t errlen) {
    int fd = chorus_output_open(path, ".tmp", target, tmp);
    if (fd >= 0) return fd;
    int e = errno;
    chorus_fmt(err, errlen, "cannot write to %s: %s%s", path, strerror(e),
               e == ENOENT ? " (does its directory exist?)" : "");
    return e == ENOMEM ? -2 : -1;
}

static int synthesize_file(struct chorus_engine *e, const struct chorus_request *req,
                           const char *path, char *errbuf, size_t errbuf_size) {
    if (!req || !path || !*path) {
        chorus_fmt(errbuf, errbuf_size, "no output path given");
        return CHORUS_E_INVALID;
    }
    struct chorus_request r = chorus_request_default();
    char aerr[1024];
    if (chorus_abi_read(&r, sizeof r, req, CHORUS_REQUEST_MIN, "chorus_request", aerr,
                        sizeof aerr)) {
        chorus_fmt(errbuf, errbuf_size, "%s", aerr);
        return CHORUS_E_INVALID;
    }
    if (r.format == CHORUS_FORMAT_DEFAULT) r.format = chorus_format_from_path(path);
    if (r.format == CHORUS_FORMAT_DEFAULT) r.format = CHORUS_FORMAT_WAV;
    struct file_ctx f = {-1, 0, r.callback, r.userdata};
    r.callback = file_cb;
    r.userdata = &f;

    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open_internal(e, &r, CHORUS_SFLAG_FILE_OUTPUT, &s);
    if (rc != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "%s", s ? chorus_stream_errmsg(s) : chorus_strerror(rc));
        chorus_stream_destroy(s);
        return rc;
    }
    /* a temp file beside the (real) target so the final rename is atomic; a device or FIFO
     * that exists is written in place (replacing /dev/null with a file would be a disaster) */
    char *target = NULL, *tmp = NULL;
    f.fd = open_output(path, &target, &tmp, errbuf, errbuf_size);
    if (f.fd < 0) {
        chorus_stream_destroy(s);
        return f.fd == -2 ? CHORUS_E_NOMEM : CHORUS_E_IO;
    }
    rc = chorus_stream_run(s);
    if (rc == CHORUS_OK) {
        unsigned char hdr[CHORUS_FINAL_HEADER_MAX];
        size_t hl = 0;
        /* a pipe or a device cannot seek: it keeps the streamed header, as standard output does */
        rc = chorus_stream_final_header(s, hdr, sizeof hdr, &hl);
        if (rc == CHORUS_OK && hl && lseek(f.fd, 0, SEEK_CUR) >= 0 &&
            pwrite(f.fd, hdr, hl, 0) != (ssize_t)hl)
            f.write_errno = errno ? errno : EIO;
    }
    if (rc == CHORUS_OK && !f.write_errno && tmp && fsync(f.fd) < 0 && errno != EINVAL)
        f.write_errno = errno;
    if (close(f.fd) < 0 && !f.write_errno && rc == CHORUS_OK) f.write_errno = errno;
    if (f.write_errno) {
        chorus_fmt(errbuf, errbuf_size, "cannot write to %s: %s", path, strerror(f.write_errno));
        rc = CHORUS_E_IO;
    } else if (rc != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "%s", chorus_stream_errmsg(s));
    } else if (tmp && rename(tmp, target) < 0) {
        chorus_fmt(errbuf, errbuf_size, "cannot write to %s: %s", path, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc != CHORUS_OK && tmp) unlink(tmp);
    free(tmp);
    free(target);
    chorus_stream_destroy(s);
    return rc;
}

int chorus_synthesize_file(struct chorus_engine *e, const struct chorus_request *req,
                           const char *path, char *errbuf, size_t errbuf_size) {
    chorus_engine_clear_err(e);
    char msg[1024] = "";
    int rc = synthesize_file(e, req, path, msg, sizeof msg);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err(e, "%s", msg[0] ? msg : chorus_strerror(rc));
        if (errbuf) chorus_fmt(errbuf, errbuf_size, "%s", chorus_engine_errmsg(e));
    }
    return rc;
}
