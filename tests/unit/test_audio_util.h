/*
 * test_audio_util.h — helpers for the audio tests: signals, independent decoding through the
 * ffmpeg/ffprobe/sox tools from Debian (never our own decoders), and signal measurements.
 */
#ifndef CHORUS_TEST_AUDIO_UTIL_H
#define CHORUS_TEST_AUDIO_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A growable byte sink usable as a chorus_bytes_fn. */
struct tbytes {
    unsigned char *p;
    size_t len, cap;
    size_t calls;
};
static inline int tbytes_cb(void *ud, const unsigned char *d, size_t n) {
    struct tbytes *b = ud;
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + n) c *= 2;
        unsigned char *q = realloc(b->p, c);
        if (!q) return -2;
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->calls++;
    return 0;
}

/* A growable float sink usable as a chorus_pcm_fn. */
struct tpcm {
    float *x;
    size_t n, cap;
    int rate;
    size_t calls;
};
static inline int tpcm_cb(void *ud, const float *x, size_t n, int rate) {
    struct tpcm *b = ud;
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->n + n) c *= 2;
        float *q = realloc(b->x, c * sizeof *q);
        if (!q) return -2;
        b->x = q;
        b->cap = c;
    }
    memcpy(b->x + b->n, x, n * sizeof *x);
    b->n += n;
    b->rate = rate;
    b->calls++;
    return 0;
}

static inline float *tsine(size_t n, double freq, int rate, double amp) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(amp * sin(2 * M_PI * freq * (double)i / rate));
    return x;
}

static inline int twrite_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static inline char *ttmp(const char *ext) {
    static char buf[8][256];
    static int k;
    char *b = buf[k++ % 8];
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    static unsigned seq;
    snprintf(b, 256, "%s/chorus-audio-test-%d-%u.%s", dir, (int)getpid(), seq++, ext);
    return b;
}

/* Read a command's whole stdout. */
static inline unsigned char *tcmd_read(const char *cmd, size_t *len) {
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 65536, n = 0;
    unsigned char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, p)) > 0) {
        n += k;
        if (n == cap) {
            unsigned char *q = realloc(b, cap *= 2);
            if (!q) { free(b); b = NULL; break; }
            b = q;
        }
    }
    int st = pclose(p);
    if (st != 0) { free(b); return NULL; }
    *len = n;
    return b;
}

/* ffprobe's stream sample rate and channel count; 0 on success. */
static inline int tprobe(const char *path, int *rate, int *channels) {
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate,channels "
             "-of default=nw=1 '%s'", path);
    size_t n;
    unsigned char *o = tcmd_read(cmd, &n);
    if (!o) return -1;
    char *s = realloc(o, n + 1);
    s[n] = 0;
    *rate = *channels = 0;
    char *r = strstr(s, "sample_rate="), *c = strstr(s, "channels=");
    if (r) *rate = atoi(r + 12);
    if (c) *channels = atoi(c + 9);
    free(s);
    return (*rate && *channels) ? 0 : -1;
}

/* Decode with ffmpeg to mono float at the file's own rate. `fmt` forces the input format
 * (needed for raw pcm: "s16le -ar 24000 -ac 1") or NULL. */
static inline float *tdecode_af(const char *path, const char *fmt, const char *af, size_t *n) {
    char cmd[768];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error %s%s -i '%s' %s%s%s -ac 1 -f f32le -",
             fmt ? "-f " : "", fmt ? fmt : "", path, af ? "-af '" : "", af ? af : "",
             af ? "'" : "");
    size_t len;
    unsigned char *o = tcmd_read(cmd, &len);
    if (!o) return NULL;
    *n = len / 4;
    return (float *)o;
}
static inline float *tdecode(const char *path, const char *fmt, size_t *n) {
    return tdecode_af(path, fmt, NULL, n);
}

/* Max normalized cross-correlation of b against a over lags 0..maxlag (b delayed), over the
 * first `n` samples of a. */
static inline double tcorr(const float *a, size_t na, const float *b, size_t nb, size_t maxlag,
                    size_t *best_lag) {
    double best = -2;
    size_t n = na;
    for (size_t lag = 0; lag <= maxlag; lag++) {
        if (lag + 1 >= nb) break;
        size_t m = n < nb - lag ? n : nb - lag;
        double sab = 0, saa = 0, sbb = 0;
        for (size_t i = 0; i < m; i++) {
            sab += (double)a[i] * b[i + lag];
            saa += (double)a[i] * a[i];
            sbb += (double)b[i + lag] * b[i + lag];
        }
        double c = (saa > 0 && sbb > 0) ? sab / sqrt(saa * sbb) : 0;
        if (c > best) {
            best = c;
            if (best_lag) *best_lag = lag;
        }
    }
    return best;
}

/* Frequency from the zero-crossing count of x[from..to). */
static inline double tfreq(const float *x, size_t from, size_t to, int rate) {
    size_t first = 0, last = 0, count = 0;
    for (size_t i = from + 1; i < to; i++) {
        if (x[i - 1] < 0 && x[i] >= 0) {
            if (!count) first = i;
            last = i;
            count++;
        }
    }
    if (count < 2) return 0;
    return (double)(count - 1) * rate / (double)(last - first);
}

static inline double trms(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / n) : 0;
}

static inline float tpeak(const float *x, size_t n) {
    float p = 0;
    for (size_t i = 0; i < n; i++) p = fabsf(x[i]) > p ? fabsf(x[i]) : p;
    return p;
}

/* Largest sample-to-sample jump. */
static inline float tmaxjump(const float *x, size_t n) {
    float m = 0;
    for (size_t i = 1; i < n; i++) m = fabsf(x[i] - x[i - 1]) > m ? fabsf(x[i] - x[i - 1]) : m;
    return m;
}

/* Resident set size in KiB (/proc/self/statm). */
static inline long trss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Deterministic pseudo-random piece sizes. */
static inline unsigned trand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

#endif
