/*
 * bench_espeak.c — the espeak engine through chorus versus the raw espeak-ng command.
 *
 *   bench_espeak [--chars N] [--raw]
 *
 * Prints one line: mode, input characters, time to first audio chunk, wall time, audio seconds,
 * real-time factor (audio seconds per wall second), peak RSS. Run each case in its own process
 * (bench/run.sh does) so peak RSS belongs to that case alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chorus/chorus.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *sentence = "The quick brown fox jumps over the lazy dog, and then it rests. ";

static char *make_text(size_t n) {
    if (!n) return strdup("Hello, this is a single sentence of typical length for a reply.");
    char *t = malloc(n + 1);
    size_t l = strlen(sentence);
    for (size_t i = 0; i < n; i++) t[i] = sentence[i % l];
    t[n] = 0;
    return t;
}

struct ctx {
    double t0, first;
    size_t samples;
    int rate;
};

static int cb(const struct chorus_event *ev, void *ud) {
    struct ctx *c = ud;
    if (ev->type == CHORUS_EVENT_CHUNK) {
        if (c->first < 0 && ev->chunk->n_samples) c->first = now() - c->t0;
        c->samples += ev->chunk->n_samples;
        c->rate = ev->chunk->sample_rate;
        if (ev->chunk->data_len) {
            /* write to /dev/null like a real sink would */
            static FILE *devnull;
            if (!devnull) devnull = fopen("/dev/null", "wb");
            fwrite(ev->chunk->data, 1, ev->chunk->data_len, devnull);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    size_t chars = 0;
    int raw = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--chars") && i + 1 < argc) chars = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--raw")) raw = 1;
        else {
            fprintf(stderr, "usage: bench_espeak [--chars N] [--raw]\n");
            return 2;
        }
    }
    char *text = make_text(chars);
    size_t n = strlen(text);
    if (raw) {
        char path[] = "/tmp/bench-espeak-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, text, n) != (ssize_t)n) return 1;
        close(fd);
        double t0 = now();
        pid_t pid = fork();
        if (pid == 0) {
            int out = open("/dev/null", O_WRONLY);
            dup2(out, 1);
            execlp("espeak-ng", "espeak-ng", "--stdout", "-f", path, (char *)NULL);
            _exit(127);
        }
        int st;
        struct rusage ru;
        wait4(pid, &st, 0, &ru);
        double wall = now() - t0;
        unlink(path);
        /* audio length from chorus's own run is not available here: report throughput as
         * characters per second, which the table compares */
        printf("raw-espeak-ng chars=%zu wall=%.3fs chars_per_s=%.0f peak_rss=%.1fMB\n", n, wall,
               n / wall, ru.ru_maxrss / 1024.0);
        free(text);
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
    }
    struct chorus_engine *e;
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    if (chorus_engine_create(&e, &o) != CHORUS_OK) return 1;
    struct ctx c = {0, -1, 0, 0};
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = text;
    r.format = CHORUS_FORMAT_WAV;
    r.callback = cb;
    r.userdata = &c;
    c.t0 = now();
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    double wall = now() - c.t0;
    if (rc != CHORUS_OK) fprintf(stderr, "bench: %s\n", chorus_stream_errmsg(s));
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double audio = c.rate ? (double)c.samples / c.rate : 0;
    printf("chorus-espeak chars=%zu first_audio=%.1fms wall=%.3fs audio=%.1fs rtf=%.0fx "
           "chars_per_s=%.0f peak_rss=%.1fMB\n",
           n, c.first * 1000, wall, audio, audio / wall, n / wall, ru.ru_maxrss / 1024.0);
    free(text);
    return rc == CHORUS_OK ? 0 : 1;
}
