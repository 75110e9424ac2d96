/* ptwrite.c — see ptwrite.h. The ZIP layout follows APPNOTE.TXT (local headers, central
 * directory, end record; no ZIP64: a voice pack is far below 4 GiB and we refuse more). */
#include "nn/ptwrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    unsigned char *p;
    size_t n, cap;
    int failed;
};

static void put(struct buf *b, const void *src, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put8(struct buf *b, unsigned v) {
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}
static void put16(struct buf *b, unsigned v) {
    put8(b, v & 0xff);
    put8(b, (v >> 8) & 0xff);
}
static void put32(struct buf *b, uint32_t v) {
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}
static void put_str(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* Pickle opcodes (pickletools): the ones a protocol-2 torch.save of a plain tensor uses. */
static void pk_unicode(struct buf *b, const char *s) {
    put8(b, 'X'); /* BINUNICODE */
    put32(b, (uint32_t)strlen(s));
    put_str(b, s);
}
static void pk_int(struct buf *b, int64_t v) {
    if (v >= 0 && v < 256) {
        put8(b, 'K'); /* BININT1 */
        put8(b, (unsigned)v);
    } else if (v >= 0 && v < 65536) {
        put8(b, 'M'); /* BININT2 */
        put16(b, (unsigned)v);
    } else {
        put8(b, 'J'); /* BININT (signed 32-bit; sizes are checked below) */
        put32(b, (uint32_t)v);
    }
}
static void pk_tuple(struct buf *b, const int64_t *v, int n) {
    put8(b, '(');
    for (int i = 0; i < n; i++) pk_int(b, v[i]);
    put8(b, 't');
}

static void write_pickle(struct buf *b, const int64_t *shape, int ndim, int64_t numel) {
    int64_t stride[4];
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        s *= shape[i];
    }
    put8(b, 0x80);
    put8(b, 2); /* PROTO 2 */
    put_str(b, "ctorch._utils\n_rebuild_tensor_v2\n");
    put8(b, '(');
    put8(b, '('); /* persistent id: ("storage", FloatStorage, key, location, numel) */
    pk_unicode(b, "storage");
    put_str(b, "ctorch\nFloatStorage\n");
    pk_unicode(b, "0");
    pk_unicode(b, "cpu");
    pk_int(b, numel);
    put8(b, 't');
    put8(b, 'Q'); /* BINPERSID */
    pk_int(b, 0); /* storage offset */
    pk_tuple(b, shape, ndim);
    pk_tuple(b, stride, ndim);
    put8(b, 0x89); /* NEWFALSE: requires_grad */
    put_str(b, "ccollections\nOrderedDict\n)R"); /* backward hooks: OrderedDict() */
    put8(b, 't');
    put8(b, 'R');
    put8(b, '.');
}

struct member {
    char name[96];
    const unsigned char *data;
    size_t size;
    uint32_t crc, offset;
};

/* One local header + data; `align` pads the data start with an extra field. */
static void local_entry(struct buf *z, struct member *m, size_t align) {
    size_t nl = strlen(m->name);
    size_t start = z->n + 30 + nl;
    size_t pad = 0;
    if (align > 1 && start % align) pad = align - start % align;
    if (pad && pad < 4) pad += align; /* an extra field needs its 4-byte header */
    m->offset = (uint32_t)z->n;
    put32(z, 0x04034b50);
    put16(z, 20);
    put16(z, 0);
    put16(z, 0); /* stored */
    put16(z, 0);
    put16(z, 0x21); /* 1980-01-01: reproducible output */
    put32(z, m->crc);
    put32(z, (uint32_t)m->size);
    put32(z, (uint32_t)m->size);
    put16(z, (unsigned)nl);
    put16(z, (unsigned)pad);
    put_str(z, m->name);
    if (pad) {
        put16(z, 0x4246); /* "FB", the id torch's writer uses for its padding */
        put16(z, (unsigned)(pad - 4));
        for (size_t i = 4; i < pad; i++) put8(z, 'Z');
    }
    put(z, m->data, m->size);
}

static void central_entry(struct buf *z, const struct member *m) {
    size_t nl = strlen(m->name);
    put32(z, 0x02014b50);
    put16(z, 20);
    put16(z, 20);
    put16(z, 0);
    put16(z, 0);
    put16(z, 0);
    put16(z, 0x21);
    put32(z, m->crc);
    put32(z, (uint32_t)m->size);
    put32(z, (uint32_t)m->size);
    put16(z, (unsigned)nl);
    put16(z, 0);
    put16(z, 0);
    put16(z, 0);
    put16(z, 0);
    put32(z, 0);
    put32(z, m->offset);
    put_str(z, m->name);
}

static int archive_name_ok(const char *a) {
    size_t n = a ? strlen(a) : 0;
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-", a[i]))
            return 0;
    return 1;
}

int chorus_pt_write_f32(const char *archive, const float *data, const int64_t *shape, int ndim,
                        unsigned char **out, size_t *len) {
    if (!out || !len || !data || !shape || ndim < 1 || ndim > 4 || !archive_name_ok(archive))
        return -1;
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1 || shape[i] > (1 << 24)) return -1;
        numel *= shape[i];
        if (numel > (INT64_C(1) << 28)) return -1; /* 1 GiB of floats: far past a voice */
    }
    *out = NULL;
    *len = 0;
    size_t nbytes = (size_t)numel * sizeof(float);
    unsigned char *le = malloc(nbytes);
    struct buf pk = {0}, z = {0};
    if (!le) return -1;
    for (int64_t i = 0; i < numel; i++) { /* little-endian whatever the host */
        uint32_t u;
        memcpy(&u, &data[i], 4);
        for (int k = 0; k < 4; k++) le[i * 4 + k] = (unsigned char)(u >> (8 * k));
    }
    write_pickle(&pk, shape, ndim, numel);
    struct member m[4] = {{.data = pk.p, .size = pk.n},
                          {.data = (const unsigned char *)"little", .size = 6},
                          {.data = le, .size = nbytes},
                          {.data = (const unsigned char *)"3", .size = 1}};
    static const char *const suffix[4] = {"data.pkl", "byteorder", "data/0", "version"};
    for (int i = 0; i < 4; i++) {
        snprintf(m[i].name, sizeof m[i].name, "%s/%s", archive, suffix[i]);
        m[i].crc = crc32_of(m[i].data, m[i].size);
    }
    for (int i = 0; i < 4 && !pk.failed; i++) local_entry(&z, &m[i], i == 2 ? 64 : 1);
    size_t cd = z.n;
    for (int i = 0; i < 4; i++) central_entry(&z, &m[i]);
    size_t cd_size = z.n - cd;
    put32(&z, 0x06054b50);
    put16(&z, 0);
    put16(&z, 0);
    put16(&z, 4);
    put16(&z, 4);
    put32(&z, (uint32_t)cd_size);
    put32(&z, (uint32_t)cd);
    put16(&z, 0);
    free(le);
    int failed = pk.failed || z.failed;
    free(pk.p);
    if (failed) {
        free(z.p);
        return -1;
    }
    *out = z.p;
    *len = z.n;
    return 0;
}
