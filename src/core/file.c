/* file.c — chorus_synthesize_file(): atomic file output (temp file + rename), exact WAV header. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio.h"
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
    return chorus_encoder_header(enc, buf, cap, len);
}

int chorus_synthesize_file(struct chorus_engine *e, const struct chorus_request *req,
                           const char *path, char *errbuf, size_t errbuf_size) {
    if (!req || !path || !*path) {
        chorus_fmt(errbuf, errbuf_size, "no output path given");
        return CHORUS_E_INVALID;
    }
    struct chorus_request r = *req;
    if (r.format == CHORUS_FORMAT_DEFAULT) r.format = chorus_format_from_path(path);
    if (r.format == CHORUS_FORMAT_DEFAULT) r.format = CHORUS_FORMAT_WAV;
    r.flags |= CHORUS_FLAG_FILE_OUTPUT;
    struct file_ctx f = {-1, 0, req->callback, req->userdata};
    r.callback = file_cb;
    r.userdata = &f;

    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "%s", s ? chorus_stream_errmsg(s) : chorus_strerror(rc));
        chorus_stream_destroy(s);
        return rc;
    }
    /* temp file beside the target so the final rename is atomic */
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) {
        chorus_stream_destroy(s);
        return CHORUS_E_NOMEM;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".XXXXXX.tmp", 12);
    f.fd = mkstemps(tmp, 4);
    if (f.fd < 0) {
        int err = errno;
        chorus_fmt(errbuf, errbuf_size, "cannot write to %s: %s%s", path, strerror(err),
                   err == ENOENT ? " (does its directory exist?)" : "");
        free(tmp);
        chorus_stream_destroy(s);
        return CHORUS_E_IO;
    }
    { /* mkstemp makes 0600; give the file the mode a plain creat() would */
        mode_t m = umask(0);
        umask(m);
        fchmod(f.fd, 0666 & ~m);
    }
    rc = chorus_stream_run(s);
    if (rc == CHORUS_OK) {
        unsigned char hdr[256];
        size_t hl = 0;
        if (chorus_stream_final_header(s, hdr, sizeof hdr, &hl) == CHORUS_OK && hl) {
            if (pwrite(f.fd, hdr, hl, 0) != (ssize_t)hl) f.write_errno = errno ? errno : EIO;
        }
    }
    if (rc == CHORUS_OK && !f.write_errno && fsync(f.fd) < 0 && errno != EINVAL) f.write_errno = errno;
    if (close(f.fd) < 0 && !f.write_errno && rc == CHORUS_OK) f.write_errno = errno;
    if (f.write_errno) {
        chorus_fmt(errbuf, errbuf_size, "cannot write to %s: %s", path, strerror(f.write_errno));
        rc = CHORUS_E_IO;
    } else if (rc != CHORUS_OK) {
        chorus_fmt(errbuf, errbuf_size, "%s", chorus_stream_errmsg(s));
    } else if (rename(tmp, path) < 0) {
        chorus_fmt(errbuf, errbuf_size, "cannot write to %s: %s", path, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (rc != CHORUS_OK) unlink(tmp);
    free(tmp);
    chorus_stream_destroy(s);
    return rc;
}
