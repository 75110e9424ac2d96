/* zipread.c — read EPUB zip entries with libzip, bounded: an entry's declared size is checked
 * before inflating and the inflated bytes are counted while reading, so a zip bomb (or an entry
 * that lies about its size) stops at the limit instead of filling memory. */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "book/book_internal.h"

struct zipread {
    zip_t *za;
};

int zipread_open(const char *path, struct zipread **out, char *err, size_t errcap) {
    *out = NULL;
    int ze = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!za) {
        zip_error_t e;
        zip_error_init_with_code(&e, ze);
        chorus_fmt(err, errcap, "%s is not a readable EPUB (zip): %s", path,
                   zip_error_strerror(&e));
        zip_error_fini(&e);
        return ze == ZIP_ER_OPEN || ze == ZIP_ER_READ ? CHORUS_E_IO : CHORUS_E_INVALID;
    }
    struct zipread *z = calloc(1, sizeof *z);
    if (!z) {
        zip_discard(za);
        return CHORUS_E_NOMEM;
    }
    z->za = za;
    *out = z;
    return CHORUS_OK;
}

void zipread_close(struct zipread *z) {
    if (!z) return;
    zip_discard(z->za);
    free(z);
}

static int read_bounded(zip_file_t *zf, size_t max, char **out, size_t *len) {
    size_t cap = 8192, n = 0;
    char *p = malloc(cap + 1);
    if (!p) return CHORUS_E_NOMEM;
    for (;;) {
        if (n == cap) {
            if (cap > max) break;
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *q = realloc(p, ncap + 1);
            if (!q) {
                free(p);
                return CHORUS_E_NOMEM;
            }
            p = q;
            cap = ncap;
        }
        zip_int64_t r = zip_fread(zf, p + n, cap - n);
        if (r < 0) {
            free(p);
            return CHORUS_E_INVALID;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > max) break;
    }
    if (n > max) {
        free(p);
        return CHORUS_E_TOO_LONG;
    }
    p[n] = 0;
    *out = p;
    if (len) *len = n;
    return CHORUS_OK;
}

int zipread_get(struct zipread *z, const char *name, size_t max, char **out, size_t *len,
                char *err, size_t errcap) {
    *out = NULL;
    zip_int64_t idx = zip_name_locate(z->za, name, 0);
    if (idx < 0) {
        chorus_fmt(err, errcap, "the EPUB has no file %s", name);
        return CHORUS_E_NOT_FOUND;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z->za, (zip_uint64_t)idx, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) &&
        st.size > max) {
        chorus_fmt(err, errcap, "%s in the EPUB inflates to %llu bytes, over the %zu MiB limit",
                   name, (unsigned long long)st.size, max >> 20);
        return CHORUS_E_TOO_LONG;
    }
    zip_file_t *zf = zip_fopen_index(z->za, (zip_uint64_t)idx, 0);
    if (!zf) {
        chorus_fmt(err, errcap, "cannot read %s in the EPUB: %s", name,
                   zip_strerror(z->za));
        return CHORUS_E_INVALID;
    }
    int rc = read_bounded(zf, max, out, len);
    zip_fclose(zf);
    if (rc == CHORUS_E_TOO_LONG)
        chorus_fmt(err, errcap, "%s in the EPUB inflates past the %zu MiB limit", name, max >> 20);
    else if (rc == CHORUS_E_INVALID)
        chorus_fmt(err, errcap, "%s in the EPUB is damaged (bad compressed data or checksum)",
                   name);
    return rc;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode into dst (dst may be src: decoding only shrinks). */
static void pct_decode(char *s) {
    char *d = s;
    for (; *s; s++) {
        int h, l;
        if (*s == '%' && (h = hexval((unsigned char)s[1])) >= 0 &&
            (l = hexval((unsigned char)s[2])) >= 0 && (h || l)) {
            *d++ = (char)(h * 16 + l);
            s += 2;
        } else {
            *d++ = *s;
        }
    }
    *d = 0;
}

/* Append path segment [p, p+n) to the segment stack in buf, handling "." and "..". */
static void push_segment(char *buf, size_t *blen, const char *p, size_t n) {
    if (n == 0 || (n == 1 && p[0] == '.')) return;
    if (n == 2 && p[0] == '.' && p[1] == '.') {
        while (*blen > 0 && buf[*blen - 1] != '/') (*blen)--;
        if (*blen > 0) (*blen)--; /* the slash */
        buf[*blen] = 0;
        return;
    }
    if (*blen) buf[(*blen)++] = '/';
    memcpy(buf + *blen, p, n);
    *blen += n;
    buf[*blen] = 0;
}

int zipread_resolve(const char *base, const char *href, char **path, char **frag) {
    *path = NULL;
    if (frag) *frag = NULL;
    size_t hl = strlen(href), bl = base ? strlen(base) : 0;
    const char *hash = memchr(href, '#', hl);
    size_t pl = hash ? (size_t)(hash - href) : hl;
    if (frag && hash && hash[1]) {
        *frag = chorus_strdup(hash + 1);
        if (!*frag) return CHORUS_E_NOMEM;
        pct_decode(*frag);
    }
    char *buf = malloc(bl + pl + 2);
    char *h = chorus_strndup(href, pl);
    if (!buf || !h) {
        free(buf);
        free(h);
        if (frag) {
            free(*frag);
            *frag = NULL;
        }
        return CHORUS_E_NOMEM;
    }
    pct_decode(h);
    size_t blen = 0;
    buf[0] = 0;
    if (h[0] != '/' && base) { /* the base's folder */
        const char *slash = strrchr(base, '/');
        const char *p = base;
        while (slash && p < slash) {
            const char *q = memchr(p, '/', (size_t)(slash - p));
            size_t n = q ? (size_t)(q - p) : (size_t)(slash - p);
            push_segment(buf, &blen, p, n);
            p += n + 1;
        }
    }
    const char *p = h;
    while (*p) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        push_segment(buf, &blen, p, n);
        p += n;
        if (*p == '/') p++;
    }
    free(h);
    *path = buf;
    return CHORUS_OK;
}
