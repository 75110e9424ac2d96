/* zip.c — see zip.h. Only the central directory is trusted for sizes (npz local headers carry
 * ZIP64 placeholders); the local header is read only to find where the data starts. */
#include "nn/zip.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* 1 if [off, off+len) lies inside a buffer of `size` bytes. */
static int in_range(uint64_t off, uint64_t len, size_t size) {
    return off <= size && len <= size - off;
}

void chorus_zip_release(struct chorus_zip *z) {
    if (!z) return;
    for (size_t i = 0; i < z->n; i++) free(z->entries[i].name);
    free(z->entries);
    memset(z, 0, sizeof *z);
}

int chorus_zip_open(struct chorus_zip *z, const void *data, size_t size, char *err,
                    size_t errlen) {
    memset(z, 0, sizeof *z);
    const unsigned char *b = data;
    z->base = b;
    z->size = size;
    if (size < 22) return fail(err, errlen, "zip: file is too short (%zu bytes) to be an archive", size);
    /* The end-of-central-directory record: last 22 bytes plus up to 64 KiB of comment. */
    size_t eocd = (size_t)-1;
    size_t lo = size > 22 + 65535 ? size - 22 - 65535 : 0;
    for (size_t p = size - 22 + 1; p-- > lo;) {
        if (rd32(b + p) == 0x06054b50u) {
            eocd = p;
            break;
        }
    }
    if (eocd == (size_t)-1)
        return fail(err, errlen, "zip: no end-of-central-directory record (not a zip archive, "
                                 "or truncated)");
    uint64_t count = rd16(b + eocd + 10);
    uint64_t cd_size = rd32(b + eocd + 12);
    uint64_t cd_off = rd32(b + eocd + 16);
    if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        /* ZIP64: a locator sits just before the classic record. */
        if (eocd < 20 || rd32(b + eocd - 20) != 0x07064b50u)
            return fail(err, errlen, "zip: zip64 fields set but no zip64 locator");
        uint64_t z64 = rd64(b + eocd - 20 + 8);
        if (!in_range(z64, 56, size) || rd32(b + z64) != 0x06064b50u)
            return fail(err, errlen, "zip: zip64 end-of-central-directory record is missing or "
                                     "out of range");
        count = rd64(b + z64 + 32);
        cd_size = rd64(b + z64 + 40);
        cd_off = rd64(b + z64 + 48);
    }
    if (!in_range(cd_off, cd_size, size))
        return fail(err, errlen, "zip: central directory (offset %llu, %llu bytes) lies outside "
                                 "the file (%zu bytes): truncated?",
                    (unsigned long long)cd_off, (unsigned long long)cd_size, size);
    if (count > cd_size / 46)
        return fail(err, errlen, "zip: %llu entries cannot fit a %llu-byte central directory",
                    (unsigned long long)count, (unsigned long long)cd_size);
    z->entries = calloc(count ? count : 1, sizeof *z->entries);
    if (!z->entries) return fail(err, errlen, "zip: out of memory");
    uint64_t p = cd_off, end = cd_off + cd_size;
    for (uint64_t i = 0; i < count; i++) {
        if (!in_range(p, 46, end) || p + 46 > end || rd32(b + p) != 0x02014b50u) {
            chorus_zip_release(z);
            return fail(err, errlen, "zip: central directory entry %llu is corrupt",
                        (unsigned long long)i);
        }
        unsigned method = rd16(b + p + 10);
        uint64_t csize = rd32(b + p + 20), usize = rd32(b + p + 24);
        uint64_t nlen = rd16(b + p + 28), xlen = rd16(b + p + 30), clen = rd16(b + p + 32);
        uint64_t loff = rd32(b + p + 42);
        if (p + 46 + nlen + xlen + clen > end) {
            chorus_zip_release(z);
            return fail(err, errlen, "zip: central directory entry %llu overruns the directory",
                        (unsigned long long)i);
        }
        /* ZIP64 extra field: the 0xFFFFFFFF fields follow in order usize, csize, offset. */
        const unsigned char *x = b + p + 46 + nlen, *xe = x + xlen;
        while (x + 4 <= xe) {
            unsigned id = rd16(x), sz = rd16(x + 2);
            if (x + 4 + sz > xe) break;
            if (id == 0x0001) {
                const unsigned char *q = x + 4, *qe = x + 4 + sz;
                if (usize == 0xFFFFFFFFu && q + 8 <= qe) usize = rd64(q), q += 8;
                if (csize == 0xFFFFFFFFu && q + 8 <= qe) csize = rd64(q), q += 8;
                if (loff == 0xFFFFFFFFu && q + 8 <= qe) loff = rd64(q), q += 8;
            }
            x += 4 + sz;
        }
        struct chorus_zip_entry *e = &z->entries[z->n];
        e->name = malloc(nlen + 1);
        if (!e->name) {
            chorus_zip_release(z);
            return fail(err, errlen, "zip: out of memory");
        }
        memcpy(e->name, b + p + 46, nlen);
        e->name[nlen] = 0;
        z->n++;
        if (!in_range(loff, 30, size) || rd32(b + loff) != 0x04034b50u) {
            fail(err, errlen, "zip: local header of '%s' is missing or out of range", e->name);
            chorus_zip_release(z);
            return -1;
        }
        uint64_t data_off = loff + 30 + rd16(b + loff + 26) + rd16(b + loff + 28);
        if (method == 0 && csize != usize) {
            fail(err, errlen, "zip: stored member '%s' has different sizes (%llu vs %llu)",
                 e->name, (unsigned long long)csize, (unsigned long long)usize);
            chorus_zip_release(z);
            return -1;
        }
        if (!in_range(data_off, csize, size)) {
            fail(err, errlen, "zip: data of '%s' (%llu bytes at %llu) runs past the end of the "
                              "file (%zu bytes): truncated?",
                 e->name, (unsigned long long)csize, (unsigned long long)data_off, size);
            chorus_zip_release(z);
            return -1;
        }
        e->offset = data_off;
        e->size = usize;
        e->method = method;
        p += 46 + nlen + xlen + clen;
    }
    return 0;
}

const struct chorus_zip_entry *chorus_zip_find(const struct chorus_zip *z, const char *name) {
    for (size_t i = 0; i < z->n; i++)
        if (strcmp(z->entries[i].name, name) == 0) return &z->entries[i];
    return NULL;
}

const unsigned char *chorus_zip_data(const struct chorus_zip *z, const struct chorus_zip_entry *e,
                                     char *err, size_t errlen) {
    if (e->method != 0) {
        fail(err, errlen, "zip: member '%s' is compressed (method %u); only stored members are "
                          "supported (re-save it without compression)",
             e->name, e->method);
        return NULL;
    }
    return z->base + e->offset;
}
