#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *chorus_strdup(const char *s) {
    return s ? strdup(s) : NULL;
}

char *chorus_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

int chorus_strcaseeq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    while (*a && *b) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
        a++, b++;
    }
    return *a == *b;
}

char *chorus_fmt(char *dst, size_t cap, const char *fmt, ...) {
    if (!dst || !cap) return dst;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    return dst;
}

size_t chorus_edit_distance(const char *a, const char *b, size_t cap) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return cap;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        size_t best = row[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t v = prev + (same ? 0 : 1);
            if (row[j] + 1 < v) v = row[j] + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            prev = cur;
            if (v < best) best = v;
        }
        if (best >= cap) return cap;
    }
    return row[lb] < cap ? row[lb] : cap;
}

size_t chorus_utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

int chorus_mkdir_p(const char *path, unsigned mode) {
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST) return -1;
    struct stat st;
    if (stat(tmp, &st) < 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int chorus_write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int chorus_read_file(const char *path, size_t max, char **out, size_t *len) {
    *out = NULL;
    if (len) *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > (uint64_t)max) {
        int e = errno;
        if (fstat(fd, &st) == 0) e = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        close(fd);
        errno = e;
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *b = malloc(n + 1);
    if (!b) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    int e = errno;
    close(fd);
    if (got != n) {
        free(b);
        errno = got < n ? (e ? e : EIO) : EIO;
        return -1;
    }
    b[n] = 0;
    *out = b;
    if (len) *len = n;
    return 0;
}

int chorus_buf_append(struct chorus_buf *b, const void *data, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1) nc *= 2;
        char *p = realloc(b->p, nc);
        if (!p) return -1;
        b->p = p;
        b->cap = nc;
    }
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int chorus_buf_printf(struct chorus_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return -1;
    }
    if (chorus_buf_append(b, "", 0) < 0 || b->len + (size_t)n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + (size_t)n + 1) nc *= 2;
        char *p = realloc(b->p, nc);
        if (!p) {
            va_end(ap2);
            return -1;
        }
        b->p = p;
        b->cap = nc;
    }
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return 0;
}

void chorus_buf_release(struct chorus_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

double chorus_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int chorus_parse_bool_n(const char *v, size_t n, int *out) {
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (!v) return -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strlen(yes[i]) == n && !strncasecmp(yes[i], v, n)) return *out = 1, 0;
        if (strlen(no[i]) == n && !strncasecmp(no[i], v, n)) return *out = 0, 0;
    }
    return -1;
}

int chorus_parse_bool(const char *v, int *out) {
    return v ? chorus_parse_bool_n(v, strlen(v), out) : -1;
}

int chorus_parse_number(const char *v, double *out) {
    if (!v) return -1;
    char clean[64];
    size_t k = 0;
    /* digits, sign, point, exponent, and TOML's '_' between digits; nothing else (no hex, no
     * "inf"/"nan", no spaces) */
    for (const char *p = v; *p; p++) {
        if (*p == '_') {
            if (p == v || !isdigit((unsigned char)p[-1]) || !isdigit((unsigned char)p[1])) return -1;
            continue;
        }
        if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p)) return -1;
        if (k + 1 >= sizeof clean) return -1;
        clean[k++] = *p;
    }
    clean[k] = 0;
    if (k == 0) return -1;
    char *end;
    errno = 0;
    double d = strtod(clean, &end);
    if (*end || end == clean || !isfinite(d) || errno == ERANGE) return -1;
    *out = d;
    return 0;
}

/* A name no other process or thread can take: random bits, retried while they collide. */
static void random_suffix(char *out) {
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    static atomic_uint counter;
    unsigned char r[8];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        uint64_t x = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(chorus_now() * 1e9) ^
                     atomic_fetch_add(&counter, 1) * 0xBF58476D1CE4E5B9ull;
        memcpy(r, &x, sizeof r);
    }
    for (size_t i = 0; i < sizeof r; i++) out[i] = digits[r[i] % (sizeof digits - 1)];
    out[sizeof r] = 0;
}

int chorus_create_beside(const char *path, const char *suffix, char **tmp_out) {
    *tmp_out = NULL;
    size_t pl = strlen(path), sl = strlen(suffix);
    char *tmp = malloc(pl + sl + 11);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    for (int tries = 0; tries < 100; tries++) {
        char rnd[9];
        random_suffix(rnd);
        snprintf(tmp, pl + sl + 11, "%s.%s%s", path, rnd, suffix);
        /* mode 0666: the kernel applies the process umask, as for any new file */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *tmp_out = tmp;
            return fd;
        }
        if (errno != EEXIST) break;
    }
    int saved = errno;
    free(tmp);
    errno = saved;
    return -1;
}

/* The file a symlink leads to, even one that does not exist yet (then one level of the link,
 * relative to its folder); NULL if path is no link. Free it. */
static char *link_target(const char *path) {
    struct stat lst;
    if (lstat(path, &lst) != 0 || !S_ISLNK(lst.st_mode)) return NULL;
    char *real = realpath(path, NULL);
    if (real) return real;
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    buf[n] = 0;
    const char *slash = strrchr(path, '/');
    size_t dl = buf[0] == '/' || !slash ? 0 : (size_t)(slash - path + 1);
    char *out = malloc(dl + (size_t)n + 1);
    if (!out) return NULL;
    memcpy(out, path, dl);
    memcpy(out + dl, buf, (size_t)n + 1);
    return out;
}

int chorus_output_open(const char *path, const char *suffix, char **target, char **tmp) {
    *target = *tmp = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            errno = EISDIR;
            return -1;
        }
        return open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    }
    char *real = link_target(path);
    *target = real ? real : strdup(path);
    if (!*target) {
        errno = ENOMEM;
        return -1;
    }
    int fd = chorus_create_beside(*target, suffix, tmp);
    if (fd < 0) {
        int e = errno;
        free(*target);
        *target = NULL;
        errno = e;
    }
    return fd;
}
