/*
 * bench_audio.c — encoder throughput and memory, per format.
 *
 *   bench_audio [SECONDS] [RATE]      (default: 3600 s of audio at 24000 Hz)
 *
 * Each format runs in its own child process (so peak RSS is its own): a speech-like signal
 * (a gliding tone with a syllable envelope and a little noise) is pushed in 20 ms pieces through
 * the encoder, bytes are counted and dropped. Prints seconds of audio encoded per second of
 * wall time (x real time), the output bitrate, and peak RSS after the first minute and at the
 * end: flat memory shows as equal figures. A last line runs the whole output chain (22050 Hz
 * engine -> resample -> crossfaded segments -> loudness -> mp3).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long maxrss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static uint64_t total_bytes;
static int count_bytes(void *ud, const unsigned char *d, size_t n) {
    total_bytes += n;
    return 0;
}
static int drop_pcm(void *ud, const float *x, size_t n, int rate) { return 0; }

/* Speech-like test signal, continuous across calls. */
static void fill(float *x, size_t n, int rate, uint64_t *pos, unsigned *seed) {
    for (size_t i = 0; i < n; i++, (*pos)++) {
        double t = (double)*pos / rate;
        double f0 = 140 + 40 * sin(2 * M_PI * 0.7 * t);
        double env = 0.5 + 0.5 * sin(2 * M_PI * 4 * t);
        *seed = *seed * 1103515245u + 12345u;
        double noise = ((double)((*seed >> 16) & 0x7fff) / 16384.0 - 1.0) * 0.02;
        x[i] = (float)(0.3 * env * (sin(2 * M_PI * f0 * t) + 0.4 * sin(4 * M_PI * f0 * t)) + noise);
    }
}

static int run_encoder(enum chorus_format f, double seconds, int rate) {
    struct chorus_encoder *e;
    char err[256];
    if (chorus_encoder_create(&e, f, f == CHORUS_FORMAT_OPUS ? 48000 : rate, NULL, count_bytes, NULL, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", chorus_format_name(f), err);
        return 1;
    }
    int r = f == CHORUS_FORMAT_OPUS ? 48000 : rate;
    size_t piece = (size_t)r / 50;
    float *x = malloc(piece * sizeof *x);
    uint64_t pos = 0, total = (uint64_t)(seconds * r);
    unsigned seed = 1;
    long rss_1min = 0;
    double t0 = now(), gen = 0;
    while (pos < total) {
        double g0 = now();
        fill(x, piece, r, &pos, &seed);
        gen += now() - g0;
        if (chorus_encoder_write(e, x, piece)) return 1;
        if (!rss_1min && pos >= (uint64_t)r * 60) rss_1min = maxrss_kib();
    }
    if (chorus_encoder_finish(e)) return 1;
    double dt = now() - t0 - gen;
    printf("%-5s %6d Hz  %8.1f x real time  %7.1f kbit/s  peak RSS %6ld KiB after 1 min, %6ld KiB after %.0f s\n",
           chorus_format_name(f), r, seconds / dt, total_bytes * 8.0 / seconds / 1000.0,
           rss_1min ? rss_1min : maxrss_kib(), maxrss_kib(), seconds);
    chorus_encoder_destroy(e);
    free(x);
    return 0;
}

static int run_chain(double seconds) {
    struct chorus_output_opts oo;
    memset(&oo, 0, sizeof oo);
    oo.format = CHORUS_FORMAT_MP3;
    oo.sample_rate = 24000;
    oo.enc.compression = -1;
    oo.crossfade_ms = -1;
    oo.fade_ms = -1;
    oo.loudness_db = -20;
    struct chorus_output *o;
    char err[256];
    if (chorus_output_create(&o, &oo, drop_pcm, count_bytes, NULL, err, sizeof err)) {
        fprintf(stderr, "chain: %s\n", err);
        return 1;
    }
    size_t piece = 441;
    float *x = malloc(piece * sizeof *x);
    uint64_t pos = 0, total = (uint64_t)(seconds * 22050);
    unsigned seed = 1;
    double t0 = now();
    while (pos < total) {
        if (pos % (22050 * 4) == 0) { /* a 4 s segment */
            if (pos) chorus_output_segment_end(o);
            chorus_output_segment_begin(o);
        }
        fill(x, piece, 22050, &pos, &seed);
        if (chorus_output_pcm(o, x, piece, 22050)) return 1;
    }
    if (chorus_output_finish(o)) return 1;
    double dt = now() - t0;
    printf("chain 22050->24000 Hz, crossfades, loudness, mp3: %.1f x real time, peak RSS %ld KiB\n",
           seconds / dt, maxrss_kib());
    chorus_output_destroy(o);
    free(x);
    return 0;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3600;
    int rate = argc > 2 ? atoi(argv[2]) : 24000;
    if (seconds <= 0 || rate <= 0) {
        fprintf(stderr, "usage: bench_audio [SECONDS] [RATE]\n");
        return 2;
    }
    printf("encoding %.0f s of speech-like audio per format, in 20 ms pieces\n", seconds);
    fflush(stdout);
    int fails = 0;
    for (int f = CHORUS_FORMAT_WAV; f <= CHORUS_FORMAT_COUNT_; f++) {
        pid_t pid = fork();
        if (pid == 0) {
            int rc = f == CHORUS_FORMAT_COUNT_ ? run_chain(seconds) : run_encoder((enum chorus_format)f, seconds, rate);
            fflush(stdout);
            _exit(rc);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) fails++;
    }
    return fails ? 1 : 0;
}
