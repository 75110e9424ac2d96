/* bench_remote.c — the remote path against the loopback fake OpenAI server: time to first
 * audio, total time and audio produced, for stream and buffer retry modes, on a sentence and a
 * long text. Numbers only (no assertions); the fake paces its first chunks like a server that
 * streams, so time to first audio shows whether bytes are forwarded as they arrive.
 * Run: build/bench/bench_remote  (needs python3; uses tests/fakes/fake_tts.py) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/fakes/fake_spawn.h"
#include "chorus/chorus.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct m {
    double t0, first;
    size_t samples;
    int rate;
};

static int cb(const struct chorus_event *ev, void *ud) {
    struct m *m = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->n_samples) {
        if (m->first < 0) m->first = now_s() - m->t0;
        m->samples += ev->chunk->n_samples;
        m->rate = ev->chunk->sample_rate;
    }
    return 0;
}

static void one(const char *label, const char *text, const char *mode) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e;
    if (chorus_engine_create(&e, &o) != CHORUS_OK) return;
    struct chorus_option opt = {"retry_mode", mode};
    struct chorus_request r = chorus_request_default();
    r.backend = "openai";
    r.text = text;
    r.format = CHORUS_FORMAT_PCM;
    r.options = &opt;
    r.n_options = 1;
    r.flags = CHORUS_FLAG_NO_CACHE;
    struct m m = {now_s(), -1, 0, 0};
    r.callback = cb;
    r.userdata = &m;
    struct chorus_stream *s;
    int rc = chorus_stream_open(e, &r, &s);
    if (rc == CHORUS_OK) rc = chorus_stream_run(s);
    double total = now_s() - m.t0;
    double audio = m.rate ? (double)m.samples / m.rate : 0;
    printf("%-10s %-7s chars %6zu  first audio %7.1f ms  total %7.1f ms  audio %7.1f s  "
           "x%.0f real time%s%s\n", label, mode, strlen(text), m.first * 1000, total * 1000,
           audio, total > 0 ? audio / total : 0, rc ? "  ERROR: " : "",
           rc ? chorus_stream_errmsg(s) : "");
    chorus_stream_destroy(s);
    chorus_engine_destroy(e);
}

int main(void) {
    struct fake f;
    if (fake_start(&f, "openai", "--key", "sk-bench", NULL) != 0) {
        fprintf(stderr, "bench_remote: cannot start the fake server (python3?)\n");
        return 1;
    }
    char base[128];
    snprintf(base, sizeof base, "%s/v1", f.base);
    setenv("OPENAI_BASE_URL", base, 1);
    setenv("OPENAI_API_KEY", "sk-bench", 1);
    const char *sentence = "The quick brown fox jumps over the lazy dog, twice.";
    static char longtext[20001];
    longtext[0] = 0;
    while (strlen(longtext) + strlen(sentence) + 1 < 20000) {
        strcat(longtext, sentence);
        strcat(longtext, " ");
    }
    for (int i = 0; i < 2; i++) {
        const char *mode = i ? "buffer" : "stream";
        one("sentence", sentence, mode);
        one("long", longtext, mode);
    }
    fake_stop(&f);
    return 0;
}
