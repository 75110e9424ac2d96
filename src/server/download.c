/*
 * download.c — Kokoro-FastAPI's download links: with "return_download_link": true the response
 * also goes into a file, named in the X-Download-Path header ("/download/NAME", as Kokoro-FastAPI
 * sends it: remsky/Kokoro-FastAPI api/src/services/temp_manager.py), served by
 * GET /v1/download/NAME.
 *
 * Safety: the files live in a private folder (mkdtemp, 0700) made on first use and removed at
 * stop; names are random and only names in this server's table are served, opened relative to
 * the folder with O_NOFOLLOW, so no request reads a file the server did not write. A copy is
 * published only once its response completed; copies expire after download_ttl seconds, and
 * the oldest go first when the total would pass download_max_bytes or SRV_DL_MAX_FILES.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server_internal.h"

#define SRV_DL_MAX_FILES 128
#define SRV_DL_NAME 48

struct dl_entry {
    char name[SRV_DL_NAME];
    size_t size;
    double expires;
};

struct srv_downloads {
    char dir[512];
    int dirfd;
    struct dl_entry e[SRV_DL_MAX_FILES];
    size_t n, bytes;
};

struct srv_dl {
    char name[SRV_DL_NAME];
    char path[SRV_DL_NAME + 16];
    int fd;
    size_t size, cap;
    int failed;
};

/* The folder, made on first use (under dmu). */
static struct srv_downloads *store(struct srv *s) {
    if (s->dls) return s->dls;
    struct srv_downloads *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(d->dir, sizeof d->dir, "%s/chorus-downloads.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (!mkdtemp(d->dir) || (d->dirfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        if (s->opt.access_log)
            fprintf(stderr, "chorus serve: cannot make a folder for download links in %s: %s\n",
                    tmp && *tmp == '/' ? tmp : "/tmp", strerror(errno));
        free(d);
        return NULL;
    }
    s->dls = d;
    return d;
}

static void drop(struct srv_downloads *d, size_t i) {
    unlinkat(d->dirfd, d->e[i].name, 0);
    d->bytes -= d->e[i].size;
    d->e[i] = d->e[--d->n];
}

/* Expired copies go; then the oldest until `extra` more bytes and one more file fit. */
static void evict(struct srv *s, struct srv_downloads *d, size_t extra) {
    double now = srv_now();
    for (size_t i = 0; i < d->n;)
        if (d->e[i].expires <= now) drop(d, i);
        else i++;
    while (d->n && (d->n >= SRV_DL_MAX_FILES || d->bytes + extra > s->opt.download_max_bytes)) {
        size_t old = 0;
        for (size_t i = 1; i < d->n; i++)
            if (d->e[i].expires < d->e[old].expires) old = i;
        drop(d, old);
    }
}

struct srv_dl *srv_dl_create(struct srv *s, enum chorus_format f) {
    if (!s->opt.download_max_bytes || s->opt.download_ttl_s <= 0) return NULL;
    unsigned char rnd[12];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) return NULL;
    struct srv_dl *dl = calloc(1, sizeof *dl);
    if (!dl) return NULL;
    int n = snprintf(dl->name, sizeof dl->name, "speech-");
    for (size_t i = 0; i < sizeof rnd; i++) n += snprintf(dl->name + n, sizeof dl->name - (size_t)n, "%02x", rnd[i]);
    snprintf(dl->name + n, sizeof dl->name - (size_t)n, ".%s", chorus_format_extension(f));
    snprintf(dl->path, sizeof dl->path, "/download/%s", dl->name);
    dl->cap = s->opt.download_max_bytes;
    pthread_mutex_lock(&s->dmu);
    struct srv_downloads *d = store(s);
    dl->fd = d ? openat(d->dirfd, dl->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
    pthread_mutex_unlock(&s->dmu);
    if (dl->fd < 0) {
        free(dl);
        return NULL;
    }
    return dl;
}

const char *srv_dl_path(const struct srv_dl *d) {
    return d->path;
}

void srv_dl_write(struct srv_dl *d, const void *p, size_t n) {
    if (d->failed) return;
    if (n > d->cap - d->size) {
        d->failed = 1; /* larger than all copies may be together: not kept */
        return;
    }
    const char *c = p;
    while (n) {
        ssize_t w = write(d->fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            d->failed = 1;
            return;
        }
        c += w;
        n -= (size_t)w;
        d->size += (size_t)w;
    }
}

void srv_dl_finish(struct srv *s, struct srv_dl *d, int ok, const unsigned char *hdr, size_t hl) {
    if (!d) return;
    if (ok && !d->failed && hl && hl <= d->size && pwrite(d->fd, hdr, hl, 0) != (ssize_t)hl) d->failed = 1;
    if (close(d->fd) != 0) d->failed = 1;
    pthread_mutex_lock(&s->dmu);
    struct srv_downloads *st = s->dls;
    if (st && ok && !d->failed) {
        evict(s, st, d->size);
        struct dl_entry *e = &st->e[st->n++];
        snprintf(e->name, sizeof e->name, "%s", d->name);
        e->size = d->size;
        e->expires = srv_now() + s->opt.download_ttl_s;
        st->bytes += d->size;
    } else if (st) {
        unlinkat(st->dirfd, d->name, 0);
    }
    pthread_mutex_unlock(&s->dmu);
    free(d);
}

void srv_dl_cleanup(struct srv *s) {
    struct srv_downloads *d = s->dls;
    if (!d) return;
    while (d->n) drop(d, 0);
    /* copies still being written when the server stopped */
    DIR *dir = fdopendir(dup(d->dirfd));
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir)))
            if (!strncmp(de->d_name, "speech-", 7)) unlinkat(d->dirfd, de->d_name, 0);
        closedir(dir);
    }
    close(d->dirfd);
    rmdir(d->dir);
    free(d);
    s->dls = NULL;
}

/* Open a published copy: only a name in the table, relative to the folder, no links. */
static int open_copy(struct srv *s, const char *name, size_t *size) {
    int fd = -1;
    pthread_mutex_lock(&s->dmu);
    struct srv_downloads *d = s->dls;
    if (d) {
        evict(s, d, 0);
        for (size_t i = 0; i < d->n; i++)
            if (!strcmp(d->e[i].name, name)) {
                fd = openat(d->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                *size = d->e[i].size;
                break;
            }
    }
    pthread_mutex_unlock(&s->dmu);
    return fd;
}

enum MHD_Result srv_handle_download(struct srv_req *q) {
    const char *name = q->model_id;
    size_t size = 0;
    int fd = strlen(name) < SRV_DL_NAME && !strchr(name, '/') ? open_copy(q->srv, name, &size) : -1;
    if (fd < 0) {
        struct srv_error e;
        srv_error_set(&e, 404, "invalid_request_error", "not_found", NULL,
                      "no download '%.60s' here: links last %d seconds and only for this server's own responses; ask again with \"return_download_link\": true",
                      name, q->srv->opt.download_ttl_s);
        return srv_send_error(q, &e);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    const char *dot = strrchr(name, '.');
    enum chorus_format f = dot ? chorus_format_from_name(dot + 1) : CHORUS_FORMAT_DEFAULT;
    MHD_add_response_header(r, "Content-Type", f != CHORUS_FORMAT_DEFAULT ? chorus_format_mime(f) : "application/octet-stream");
    char cd[96];
    snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", name);
    MHD_add_response_header(r, "Content-Disposition", cd);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    q->bytes_out += size;
    return srv_queue(q, 200, r);
}
