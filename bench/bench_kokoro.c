/*
 * bench_kokoro — speed and memory of the native Kokoro engine (numbers, never assertions).
 *
 *   bench_kokoro MODEL.pth CONFIG.json VOICE [TEXT_FILE]
 *
 * VOICE is a .pt/.bin voice pack or NAME@voices-v1.0.bin. Random full-size weights cost the
 * same as the real ones (tools/kokoro/make_random_checkpoint.py writes such a checkpoint).
 * Prints: the machine's sgemm GFLOP/s, first-audio latency for an opening sentence, the
 * real-time factor over a ~1,000-character English text (G2P included), a per-stage profile,
 * and peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "backends/kokoro/kokoro_g2p.h"
#include "backends/kokoro/kokoro_model.h"
#include "backends/kokoro/kokoro_voice.h"
#include "nn/nn.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *default_text =
    "The old lighthouse stood at the edge of the cliff, its white paint peeling in long strips "
    "after decades of salt and wind. Every evening, Margaret climbed the narrow spiral stairs to "
    "light the lamp, counting each of the one hundred and twelve steps as her father had taught "
    "her. She had never missed a night, not during the storm of the century, nor the winter "
    "when the harbor froze solid. Ships no longer needed the light, of course; satellites and "
    "radar had made it a relic. Yet the fishermen still looked for it when they came home late, "
    "and the children in the village believed it kept the sea monsters away. One autumn a young "
    "engineer arrived with plans to automate the lamp. He was polite, even kind, and he listened "
    "when Margaret explained how the lens had to be cleaned by hand. That night they climbed the "
    "stairs together, and he counted the steps out loud. At the top, watching the beam sweep "
    "across the dark water, he quietly folded his plans and put them back in his coat.";

/* Stage timing through the trace hook: time since the previous traced stage. */
static const char *stage_names[] = {"bert", "d", "lstm", "F0", "t_en", "dec_encode", "gen_in",
                                    "har", "gen_stage0", "gen_stage1", "audio"};
#define NSTAGE (sizeof stage_names / sizeof stage_names[0])
struct prof {
    double last, t[NSTAGE];
    struct kokoro_rng rng;
};
static void on_trace(void *ud, const char *name, float *x, size_t n) {
    struct prof *p = ud;
    for (size_t i = 0; i < NSTAGE; i++)
        if (!strcmp(name, stage_names[i])) {
            double t = now();
            p->t[i] += t - p->last;
            p->last = t;
        }
}
static void on_noise(void *ud, float *out, size_t n) {
    kokoro_rng_normal(&((struct prof *)ud)->rng, out, n);
}

static double sgemm_gflops(void) {
    int n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) a[i] = b[i] = 0.001f * (float)(i % 97);
    chorus_nn_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
    double t0 = now();
    int reps = 10;
    for (int r = 0; r < reps; r++) chorus_nn_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
    double dt = now() - t0;
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * (double)n * reps / dt / 1e9;
}

/* Synthesize `text`; returns audio seconds; *first = seconds until the first chunk's audio. */
static double run(const struct kokoro_model *m, const float *pack, int rows, const char *text,
                  struct prof *p, double *first, double *compute) {
    const struct kokoro_config *cfg = kokoro_model_config(m);
    struct kokoro_tokens toks;
    char err[512];
    double t0 = now();
    if (kokoro_g2p(text, strlen(text), "a", cfg, &toks, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    uint32_t *ps = malloc((toks.ncp + toks.n + 1) * sizeof *ps);
    int ids[520];
    double audio_s = 0;
    *first = -1;
    struct kokoro_hooks h = {p, on_trace, on_noise, NULL};
    for (size_t a = 0; a < toks.n;) {
        size_t e = kokoro_chunk_end(&toks, a, 510), n = kokoro_tokens_ps(&toks, a, e, ps);
        if (n > 510) n = 510;
        int t = 0;
        ids[t++] = 0;
        for (size_t i = 0; i < n; i++) {
            int id = kokoro_vocab_id(cfg, ps[i]);
            if (id > 0) ids[t++] = id;
        }
        ids[t++] = 0;
        float *audio;
        size_t na;
        int *dur;
        p->last = now();
        int row = (int)n - 1 < rows - 1 ? (int)n - 1 : rows - 1;
        if (kokoro_model_forward(m, ids, t, pack + (size_t)row * 256, 1.0f, &h, &audio, &na, &dur,
                                 err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
        if (*first < 0) *first = now() - t0;
        audio_s += (double)na / 24000;
        free(audio);
        free(dur);
        a = e;
    }
    *compute = now() - t0;
    free(ps);
    kokoro_tokens_release(&toks);
    return audio_s;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.pth CONFIG.json VOICE.pt|VOICE.bin|NAME@voices.bin [TEXT_FILE]\n",
                argv[0]);
        return 2;
    }
    char err[512];
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("BLAS: %s, threads: %d, sgemm 1024^3: %.1f GFLOP/s\n", chorus_nn_blas_name(),
           chorus_nn_threads(), sgemm_gflops());
    double t0 = now();
    struct kokoro_model *m;
    if (kokoro_model_load(&m, argv[2], argv[1], err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("load: %.2f s\n", now() - t0);
    /* voice: NAME@ARCHIVE, or a single pack file (its directory and stem) */
    char vdir[1024], vname[256];
    const char *at = strchr(argv[3], '@');
    if (at) {
        snprintf(vname, sizeof vname, "%.*s", (int)(at - argv[3]), argv[3]);
        snprintf(vdir, sizeof vdir, "%s", at + 1);
    } else {
        snprintf(vdir, sizeof vdir, "%s", argv[3]);
        char *s = strrchr(vdir, '/');
        const char *base = s ? s + 1 : vdir;
        snprintf(vname, sizeof vname, "%.250s", base);
        char *dot = strrchr(vname, '.');
        if (dot) *dot = 0;
        if (s) *s = 0;
        else snprintf(vdir, sizeof vdir, ".");
    }
    struct kokoro_voices v;
    float *pack;
    int rows;
    if (kokoro_voices_open(&v, vdir, err, sizeof err) ||
        kokoro_voices_load(&v, vname, &pack, &rows, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char *text = NULL;
    if (argc > 4) {
        FILE *f = fopen(argv[4], "rb");
        if (!f) {
            perror(argv[4]);
            return 1;
        }
        text = calloc(1 << 20, 1);
        size_t n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = 0;
        fclose(f);
    }
    struct prof p;
    memset(&p, 0, sizeof p);
    kokoro_rng_seed(&p.rng, 1);
    double first, compute;
    double a1 = run(m, pack, rows, "Hello there, and welcome to the show.", &p, &first, &compute);
    printf("first audio (opening sentence, %.2f s of audio): %.3f s\n", a1, first);
    memset(p.t, 0, sizeof p.t);
    const char *body = text ? text : default_text;
    double audio = run(m, pack, rows, body, &p, &first, &compute);
    printf("text: %zu chars -> %.2f s of audio in %.2f s: RTF %.3f (%.2fx faster than real time), "
           "first chunk after %.2f s\n",
           strlen(body), audio, compute, compute / audio, audio / compute, first);
    double sum = 0;
    for (size_t i = 0; i < NSTAGE; i++) sum += p.t[i];
    printf("profile (seconds, share):\n");
    const char *label[] = {"ALBERT", "duration encoder", "duration LSTM/proj", "F0/N predictor",
                           "text encoder", "decoder encode", "decoder decode",
                           "harmonic source+STFT", "generator stage 0", "generator stage 1",
                           "conv_post+iSTFT"};
    for (size_t i = 0; i < NSTAGE; i++)
        printf("  %-22s %7.3f  %5.1f%%\n", label[i], p.t[i], 100 * p.t[i] / (sum > 0 ? sum : 1));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.0f MB\n", ru.ru_maxrss / 1024.0);
    free(pack);
    free(text);
    kokoro_voices_close(&v);
    kokoro_model_free(m);
    return 0;
}
