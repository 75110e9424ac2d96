/* packfile.c — see packfile.h. */
#include "nn/packfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PK_MAGIC "CHORUSPK"
#define PK_VERSION 1u
#define PK_HDR 64u
#define PK_ENT 128u
#define PK_ALIGN 64u
#define PK_HASH_SPAN (1u << 20)

static int pk_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

void chorus_pack_source_id(struct chorus_pack_source *s, uint64_t size, uint64_t mtime_ns,
                           const void *data) {
    const unsigned char *p = data;
    size_t head = size < PK_HASH_SPAN ? (size_t)size : PK_HASH_SPAN;
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, p, head);
    if (size > PK_HASH_SPAN) {
        size_t tail = size - PK_HASH_SPAN < PK_HASH_SPAN ? (size_t)(size - PK_HASH_SPAN)
                                                         : PK_HASH_SPAN;
        h = fnv1a(h, p + size - tail, tail);
    }
    s->size = size;
    s->mtime_ns = mtime_ns;
    s->hash = h;
}

static uint64_t rd64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static uint32_t rd32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int chorus_packfile_open_mem(struct chorus_packfile *pf, const void *data, size_t size,
                             const struct chorus_pack_source *want, char *err, size_t errlen) {
    memset(pf, 0, sizeof *pf);
    const unsigned char *b = data;
    if (size < PK_HDR || memcmp(b, PK_MAGIC, 8) != 0)
        return pk_fail(err, errlen, "packfile: not a chorus packfile (no CHORUSPK header)");
    if (rd32(b + 8) != PK_VERSION)
        return pk_fail(err, errlen, "packfile: format version %u, this build reads %u",
                       rd32(b + 8), PK_VERSION);
    uint64_t n = rd32(b + 12), fsize = rd64(b + 40);
    if (fsize != size)
        return pk_fail(err, errlen, "packfile: %zu bytes, its header says %llu (truncated?)",
                       size, (unsigned long long)fsize);
    if (want && (rd64(b + 16) != want->size || rd64(b + 24) != want->mtime_ns ||
                 rd64(b + 32) != want->hash))
        return pk_fail(err, errlen, "packfile: made from a different version of the model file");
    if (n > (size - PK_HDR) / PK_ENT)
        return pk_fail(err, errlen, "packfile: %llu entries do not fit in %zu bytes",
                       (unsigned long long)n, size);
    pf->e = calloc(n ? n : 1, sizeof *pf->e);
    if (!pf->e) return pk_fail(err, errlen, "packfile: out of memory");
    for (size_t i = 0; i < n; i++) {
        const unsigned char *q = b + PK_HDR + i * PK_ENT;
        struct chorus_pack_entry *e = &pf->e[i];
        memcpy(e->name, q, CHORUS_PACK_NAME_MAX);
        uint64_t off = rd64(q + 112), cnt = rd64(q + 120);
        int ok = memchr(e->name, 0, CHORUS_PACK_NAME_MAX) != NULL && off % PK_ALIGN == 0 &&
                 off >= PK_HDR + n * PK_ENT && off <= size && cnt <= (size - off) / 4;
        for (int d = 0; d < 3 && ok; d++) {
            e->dims[d] = (int32_t)rd32(q + 96 + 4 * d);
            ok = e->dims[d] >= 0;
        }
        if (!ok) {
            free(pf->e);
            pf->e = NULL;
            return pk_fail(err, errlen, "packfile: entry %zu is malformed", i);
        }
        e->data = (const float *)(const void *)(b + off);
        e->count = cnt;
    }
    pf->n = (size_t)n;
    return 0;
}

int chorus_packfile_open(struct chorus_packfile *pf, const char *path,
                         const struct chorus_pack_source *want, char *err, size_t errlen) {
    memset(pf, 0, sizeof *pf);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pk_fail(err, errlen, "packfile: cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)PK_HDR) {
        close(fd);
        return pk_fail(err, errlen, "packfile: not a regular file of at least %u bytes", PK_HDR);
    }
    size_t size = (size_t)st.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return pk_fail(err, errlen, "packfile: cannot map: %s", strerror(errno));
    if (chorus_packfile_open_mem(pf, map, size, want, err, errlen) != 0) {
        munmap(map, size);
        return -1;
    }
    pf->map = map;
    pf->map_size = size;
    return 0;
}

const struct chorus_pack_entry *chorus_packfile_find(const struct chorus_packfile *pf,
                                                     const char *name) {
    for (size_t i = 0; pf && i < pf->n; i++)
        if (strcmp(pf->e[i].name, name) == 0) return &pf->e[i];
    return NULL;
}

void chorus_packfile_release(struct chorus_packfile *pf) {
    if (!pf) return;
    free(pf->e);
    if (pf->map) munmap(pf->map, pf->map_size);
    memset(pf, 0, sizeof *pf);
}

void chorus_pack_writer_add(struct chorus_pack_writer *w, const char *name, const int dims[3],
                            const float *data, uint64_t count) {
    if (w->failed) return;
    if (strlen(name) >= CHORUS_PACK_NAME_MAX) {
        w->failed = 1;
        return;
    }
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 64;
        struct chorus_pack_entry *ne = realloc(w->e, nc * sizeof *ne);
        if (!ne) {
            w->failed = 1;
            return;
        }
        w->e = ne;
        w->cap = nc;
    }
    struct chorus_pack_entry *e = &w->e[w->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    for (int d = 0; d < 3; d++) e->dims[d] = dims[d];
    e->data = data;
    e->count = count;
}

static uint64_t align_up(uint64_t x) { return (x + PK_ALIGN - 1) / PK_ALIGN * PK_ALIGN; }

static int write_all(FILE *f, const struct chorus_pack_writer *w,
                     const struct chorus_pack_source *src) {
    static const unsigned char zeros[PK_ALIGN];
    uint64_t off = align_up(PK_HDR + (uint64_t)w->n * PK_ENT), *offs = malloc((w->n + 1) * 8);
    if (!offs) return -1;
    for (size_t i = 0; i < w->n; i++) {
        offs[i] = off;
        off = align_up(off + w->e[i].count * 4);
    }
    unsigned char h[PK_HDR] = {0};
    uint32_t ver = PK_VERSION, n = (uint32_t)w->n;
    memcpy(h, PK_MAGIC, 8);
    memcpy(h + 8, &ver, 4);
    memcpy(h + 12, &n, 4);
    memcpy(h + 16, &src->size, 8);
    memcpy(h + 24, &src->mtime_ns, 8);
    memcpy(h + 32, &src->hash, 8);
    memcpy(h + 40, &off, 8);
    int bad = fwrite(h, 1, PK_HDR, f) != PK_HDR;
    for (size_t i = 0; i < w->n && !bad; i++) {
        unsigned char q[PK_ENT] = {0};
        memcpy(q, w->e[i].name, CHORUS_PACK_NAME_MAX);
        memcpy(q + 96, w->e[i].dims, 12);
        memcpy(q + 112, &offs[i], 8);
        memcpy(q + 120, &w->e[i].count, 8);
        bad = fwrite(q, 1, PK_ENT, f) != PK_ENT;
    }
    uint64_t pos = PK_HDR + (uint64_t)w->n * PK_ENT;
    for (size_t i = 0; i < w->n && !bad; i++) {
        bad = fwrite(zeros, 1, (size_t)(offs[i] - pos), f) != offs[i] - pos;
        size_t bytes = (size_t)w->e[i].count * 4;
        if (!bad && bytes) bad = fwrite(w->e[i].data, 1, bytes, f) != bytes;
        pos = offs[i] + bytes;
    }
    if (!bad && pos < off) bad = fwrite(zeros, 1, (size_t)(off - pos), f) != off - pos;
    free(offs);
    return bad ? -1 : 0;
}

int chorus_pack_writer_write(struct chorus_pack_writer *w, const char *path,
                             const struct chorus_pack_source *src, char *err, size_t errlen) {
    if (w->failed) return pk_fail(err, errlen, "packfile: out of memory or an over-long name");
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 8);
    if (!tmp) return pk_fail(err, errlen, "packfile: out of memory");
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".XXXXXX", 8);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return pk_fail(err, errlen, "packfile: cannot create a file beside %s: %s", path,
                       strerror(e));
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) close(fd);
    int rc = f ? write_all(f, w, src) : -1;
    if (f && fclose(f) != 0) rc = -1;
    if (rc == 0 && (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0)) rc = -1;
    if (rc != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return pk_fail(err, errlen, "packfile: cannot write %s: %s", path,
                       e ? strerror(e) : "short write");
    }
    free(tmp);
    return 0;
}

void chorus_pack_writer_release(struct chorus_pack_writer *w) {
    if (!w) return;
    free(w->e);
    memset(w, 0, sizeof *w);
}
