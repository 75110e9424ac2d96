/*
 * bench_kokoro — speed and memory of the native Kokoro engine (numbers, never assertions).
 *
 *   bench_kokoro MODEL.pth CONFIG.json VOICE [TEXT_FILE]
 *
 * VOICE is a .pt/.bin voice pack or NAME@voices-v1.0.bin. Random full-size weights cost the
 * same as the real ones (tools/kokoro/make_random_checkpoint.py writes such a checkpoint).
 * Prints: the machine's sgemm GFLOP/s, first-audio latency for an opening sentence and for
 * its first clause (the core's first job for Kokoro), the real-time factor over a
 * ~1,000-character English text (G2P included), a per-stage profile, and peak RSS.
 *
 * Side by side with a reference implementation (the PyTorch one, which is not part of this
 * repository): set CHORUS_BENCH_REF to a shell command. It is run once as `CMD OPEN.txt TEXT.txt`,
 * where each file holds the phoneme chunks chorus synthesized (UTF-8, one chunk per line, in
 * order), so both sides get the same phonemes, weights and voice. It must print, for every chunk
 * in order, a line `chunk FILE_INDEX COMPUTE_SECONDS AUDIO_SECONDS` (FILE_INDEX 0 or 1), and
 * at the end `maxrss MEGABYTES`. docs/kokoro.md ("Speed") describes the driver we used.
 *
 * Chunks are cut as the backend cuts them: aimed at CHORUS_BENCH_TARGET phonemes (default 175,
 * the backend's [kokoro] target_phonemes; 510 = KPipeline's packing), at most 510.
 *
 * Precision of the main run (first audio, text, profile): CHORUS_BENCH_PRECISION=bf16 (or int8)
 * converts the loaded model as `[kokoro] precision = "bf16"` (or "int8") does (default float32).
 *
 * Load: with CHORUS_BENCH_PACK=PATH the model loads through a packfile there (written by the
 * first run, mapped by the next; see nn/packfile.h) and the load line says which.
 *
 * Modes side by side: CHORUS_BENCH_MODES="whole,tiled,bf16" (comma-separated: "whole" = float32
 * weights, generator on whole-chunk tensors; "tiled" or "fp32" = float32, generator tiled in
 * time, the default; "bf16" = bfloat16 convolution weights, tiled; "int8" = int8 weights with
 * per-channel scales for the direct kernel's convolutions, bf16 for the rest, tiled) loads a
 * model per mode, runs the text once with the same noise and prints compute, RTF, the
 * resident size before the text (weights and runtime) and its peak during the text (VmHWM,
 * reset through /proc/self/clear_refs), with ratios to the first mode, the SNR and log-mel
 * distance of the audio against the first mode's and whether the durations are identical. A second text file
 * (CHORUS_BENCH_TEXT2) is run the same way. CHORUS_BENCH_MODES_ONLY=1 prints only that table.
 *
 * Concurrency: with CHORUS_BENCH_JOBS=N (2-16) it then synthesizes the text once alone and N
 * times at once (N threads sharing the one loaded model, as the server's concurrent requests
 * do) and prints both throughputs (seconds of audio per wall-clock second) and their ratio.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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
static void on_noise(void *ud, float *out, size_t first, size_t n) {
    chorus_kokoro_rng_normal(&((struct prof *)ud)->rng, out, first, n);
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

/* CPU time of this process so far (user + system), less sensitive to a busy machine. */
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

/* The machine's load average (shared machines: read the numbers with it). */
static void print_load(const char *when) {
    char buf[128] = "";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
    printf("load average (%s): %s\n", when, buf[0] ? buf : "unknown");
}

static void put_utf8(FILE *f, uint32_t c) {
    if (c < 0x80) {
        fputc((int)c, f);
    } else if (c < 0x800) {
        fputc((int)(0xc0 | c >> 6), f);
        fputc((int)(0x80 | (c & 0x3f)), f);
    } else if (c < 0x10000) {
        fputc((int)(0xe0 | c >> 12), f);
        fputc((int)(0x80 | (c >> 6 & 0x3f)), f);
        fputc((int)(0x80 | (c & 0x3f)), f);
    } else {
        fputc((int)(0xf0 | c >> 18), f);
        fputc((int)(0x80 | (c >> 12 & 0x3f)), f);
        fputc((int)(0x80 | (c >> 6 & 0x3f)), f);
        fputc((int)(0x80 | (c & 0x3f)), f);
    }
}

/* When set (run_modes, one thread), run() appends each chunk's audio and durations here. */
struct collect {
    float *a;
    size_t n, cap;
    int *d;
    size_t nd, dcap;
};
static struct collect *g_collect;
static void collect_add(struct collect *c, const float *a, size_t na, const int *d, int nd) {
    if (c->n + na > c->cap) {
        c->cap = (c->n + na) * 2;
        c->a = realloc(c->a, c->cap * sizeof *c->a);
    }
    if (c->nd + (size_t)nd > c->dcap) {
        c->dcap = (c->nd + (size_t)nd) * 2;
        c->d = realloc(c->d, c->dcap * sizeof *c->d);
    }
    if (!c->a || !c->d) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memcpy(c->a + c->n, a, na * sizeof *a);
    memcpy(c->d + c->nd, d, (size_t)nd * sizeof *d);
    c->n += na;
    c->nd += (size_t)nd;
}

static size_t g_target = 175; /* CHORUS_BENCH_TARGET */

/* Synthesize `text` chunk by chunk as the backend does; returns audio seconds; *first = seconds
 * until the first chunk's audio. If `chunks` is not NULL, each chunk's phonemes go there, one
 * line per chunk. */
static double run(const struct kokoro_model *m, const float *pack, int rows, const char *text,
                  struct prof *p, double *first, double *compute, FILE *chunks) {
    const struct kokoro_config *cfg = chorus_kokoro_model_config(m);
    struct kokoro_tokens toks;
    char err[512];
    double t0 = now();
    if (chorus_kokoro_g2p(text, strlen(text), "a", cfg, &toks, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    uint32_t *ps = malloc((toks.ncp + toks.n + 1) * sizeof *ps);
    int ids[520];
    double audio_s = 0;
    *first = -1;
    struct kokoro_hooks h = {p, on_trace, on_noise, NULL, chorus_kokoro_scratch_new()};
    chorus_nn_job_begin(); /* one generation, registered as the backend registers it */
    for (size_t a = 0; a < toks.n;) {
        size_t e = chorus_kokoro_chunk_end_target(&toks, a, g_target, 510);
        size_t n = chorus_kokoro_tokens_ps(&toks, a, e, ps);
        if (n > 510) n = 510;
        if (chunks) {
            for (size_t i = 0; i < n; i++) put_utf8(chunks, ps[i]);
            fputc('\n', chunks);
        }
        int t = 0;
        ids[t++] = 0;
        for (size_t i = 0; i < n; i++) {
            int id = chorus_kokoro_vocab_id(cfg, ps[i]);
            if (id > 0) ids[t++] = id;
        }
        ids[t++] = 0;
        float *audio;
        size_t na;
        int *dur;
        p->last = now();
        int row = (int)n - 1 < rows - 1 ? (int)n - 1 : rows - 1;
        if (chorus_kokoro_model_forward(m, ids, t, pack + (size_t)row * 256, 1.0f, &h, &audio, &na, &dur,
                                 err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
        if (*first < 0) *first = now() - t0;
        if (g_collect) collect_add(g_collect, audio, na, dur, t);
        audio_s += (double)na / 24000;
        free(audio);
        free(dur);
        chorus_kokoro_rng_next(&p->rng);
        a = e;
    }
    chorus_nn_job_end();
    chorus_kokoro_scratch_free(h.scratch);
    *compute = now() - t0;
    free(ps);
    chorus_kokoro_tokens_release(&toks);
    return audio_s;
}

/* One synthesis of the text in its own thread, with its own noise and no trace hook. */
struct conc_job {
    const struct kokoro_model *m;
    const float *pack;
    int rows;
    const char *text;
    double audio;
};
static void *conc_run(void *arg) {
    struct conc_job *j = arg;
    struct prof p;
    memset(&p, 0, sizeof p);
    chorus_kokoro_rng_seed(&p.rng, 7);
    double first, compute;
    /* run() registers the generation (as the backend does): concurrent ones share the threads */
    j->audio = run(j->m, j->pack, j->rows, j->text, &p, &first, &compute, NULL);
    return NULL;
}

/* Throughput (audio seconds per wall second) of n simultaneous syntheses of text. */
static double throughput(const struct kokoro_model *m, const float *pack, int rows,
                         const char *text, int n, double *wall) {
    struct conc_job jobs[16];
    pthread_t th[16];
    double t0 = now(), audio = 0;
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct conc_job){m, pack, rows, text, 0};
        if (pthread_create(&th[i], NULL, conc_run, &jobs[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        audio += jobs[i].audio;
    }
    *wall = now() - t0;
    return audio / *wall;
}

static void report_concurrency(const struct kokoro_model *m, const float *pack, int rows,
                               const char *text) {
    const char *e = getenv("CHORUS_BENCH_JOBS");
    int n = e ? atoi(e) : 0;
    if (n < 2) return;
    if (n > 16) n = 16;
    double w1, wn, t1 = throughput(m, pack, rows, text, 1, &w1);
    double tn = throughput(m, pack, rows, text, n, &wn);
    printf("concurrency (one shared model, %d threads per job):\n", chorus_nn_threads());
    printf("  1 job:  %.2f s wall, %.2f s of audio per second\n", w1, t1);
    printf("  %d jobs: %.2f s wall, %.2f s of audio per second (%.2fx the single job's "
           "throughput)\n", n, wn, tn, tn / t1);
}

/* VmRSS / VmHWM of this process in MB (-1 if unknown). */
static double vm_mb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') v = atof(line + kl + 1) / 1024.0;
    if (f) fclose(f);
    return v;
}
/* Resets VmHWM to the current RSS (Linux >= 4.0); returns 0 on success. */
static int reset_hwm(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int rc = fputs("5", f) < 0;
    return fclose(f) || rc ? -1 : 0;
}

/* Log-mel spectrogram (512-point STFT, 10 ms hop, 80 HTK-mel bands to 12 kHz, log10 of the
 * power, floor 1e-10): out[band][frames]; returns frames. */
static int log_mel(const float *x, size_t n, float **out) {
    enum { NFFT = 512, HOP = 240, BANDS = 80 };
    int bins = NFFT / 2 + 1, frames = 1 + (int)(n / HOP);
    float *mag = malloc(sizeof(float) * (size_t)bins * frames * 2), *ph = mag + (size_t)bins * frames;
    *out = calloc((size_t)BANDS * frames, sizeof **out);
    if (!mag || !*out || chorus_nn_stft(x, (int)n, NFFT, HOP, mag, ph) != frames) {
        fprintf(stderr, "log-mel: failed\n");
        exit(1);
    }
    double mmax = 2595 * log10(1 + 12000 / 700.0), edge[BANDS + 2];
    for (int b = 0; b < BANDS + 2; b++)
        edge[b] = 700 * (pow(10, mmax * b / (BANDS + 1) / 2595) - 1); /* Hz */
    for (int b = 0; b < BANDS; b++)
        for (int k = 0; k < bins; k++) {
            double f = k * 24000.0 / NFFT, w = 0;
            if (f > edge[b] && f < edge[b + 1]) w = (f - edge[b]) / (edge[b + 1] - edge[b]);
            else if (f >= edge[b + 1] && f < edge[b + 2])
                w = (edge[b + 2] - f) / (edge[b + 2] - edge[b + 1]);
            if (w <= 0) continue;
            const float *mr = mag + (size_t)k * frames;
            float *o = *out + (size_t)b * frames;
            for (int t = 0; t < frames; t++) o[t] += (float)(w * mr[t] * mr[t]);
        }
    for (size_t i = 0; i < (size_t)BANDS * frames; i++)
        (*out)[i] = log10f((*out)[i] > 1e-10f ? (*out)[i] : 1e-10f);
    free(mag);
    return frames * BANDS;
}

/* SNR (dB) of b against a, and the mean |difference| of their log-mel spectra in dB. */
static void accuracy(const struct collect *a, const struct collect *b, double *snr, double *mel_db) {
    size_t n = a->n < b->n ? a->n : b->n;
    double se = 0, sr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)b->a[i] - a->a[i];
        se += d * d;
        sr += (double)a->a[i] * a->a[i];
    }
    *snr = se > 0 ? 10 * log10(sr / se) : INFINITY;
    float *ma, *mb;
    int na = log_mel(a->a, n, &ma), nb = log_mel(b->a, n, &mb);
    double s = 0;
    for (int i = 0; i < na && i < nb; i++) s += fabs((double)ma[i] - mb[i]);
    *mel_db = 10 * s / (na > 0 ? na : 1);
    free(ma);
    free(mb);
}

struct mode_result {
    char name[32];
    double audio, compute, rss0, peak, snr, mel;
    int same_dur;
};
struct model_files {
    const char *model, *config, *pack;
};
static struct kokoro_model *load_mode(const struct model_files *mf, const char *mode) {
    char err[512];
    struct kokoro_model *m;
    int bf16 = !strcmp(mode, "bf16"), int8 = !strcmp(mode, "int8"),
        tile = !strcmp(mode, "whole") ? 0 : CHORUS_KOKORO_TILE;
    if (!bf16 && !int8 && strcmp(mode, "whole") && strcmp(mode, "tiled") && strcmp(mode, "fp32")) {
        fprintf(stderr, "CHORUS_BENCH_MODES: unknown mode '%s' (whole, tiled, fp32, bf16, int8)\n",
                mode);
        exit(2);
    }
    if (chorus_kokoro_model_load_packed(&m, mf->config, mf->model, mf->pack, NULL, err,
                                        sizeof err) ||
        (bf16 && chorus_kokoro_model_to_bf16(m)) || (int8 && chorus_kokoro_model_to_int8(m))) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    chorus_kokoro_model_set_tile(m, tile);
    return m;
}

static void run_modes(const struct model_files *mf, const float *pack, int rows, const char *text,
                      const char *label) {
    const char *e = getenv("CHORUS_BENCH_MODES");
    if (!e || !*e) return;
    struct mode_result r[8];
    struct collect col[8];
    memset(col, 0, sizeof col);
    int n = 0;
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", e);
    for (char *tok = strtok_r(buf, ",", &save); tok && n < 8; tok = strtok_r(NULL, ",", &save)) {
        struct kokoro_model *m = load_mode(mf, tok);
        struct prof p;
        memset(&p, 0, sizeof p);
        chorus_kokoro_rng_seed(&p.rng, 3);
        double first, c;
        run(m, pack, rows, "Hello there.", &p, &first, &c, NULL); /* page the weights in */
        chorus_kokoro_rng_seed(&p.rng, 1);
        snprintf(r[n].name, sizeof r[n].name, "%s", tok);
        r[n].rss0 = vm_mb("VmRSS");
        if (reset_hwm()) fprintf(stderr, "cannot reset VmHWM: peaks below include earlier runs\n");
        g_collect = &col[n];
        r[n].audio = run(m, pack, rows, text, &p, &first, &r[n].compute, NULL);
        g_collect = NULL;
        r[n].peak = vm_mb("VmHWM");
        chorus_kokoro_model_free(m);
        r[n].same_dur = col[n].nd == col[0].nd &&
                        !memcmp(col[n].d, col[0].d, col[0].nd * sizeof *col[0].d);
        r[n].snr = r[n].mel = 0;
        if (n > 0) accuracy(&col[0], &col[n], &r[n].snr, &r[n].mel);
        n++;
    }
    printf("\nmodes side by side, %s (%zu chars; accuracy against %s, same noise):\n", label,
           strlen(text), r[0].name);
    printf("  %-6s %8s %9s %6s %6s %7s %7s %8s %8s %7s %8s %5s\n", "mode", "audio s",
           "compute s", "RTF", "x real", "RSS0 MB", "peak MB", "time/1st", "peak/1st", "SNR dB",
           "logmel dB", "durs");
    for (int i = 0; i < n; i++) {
        char snr[16] = "-", mel[16] = "-";
        if (i > 0) {
            snprintf(snr, sizeof snr, "%.1f", r[i].snr);
            snprintf(mel, sizeof mel, "%.3f", r[i].mel);
        }
        printf("  %-6s %8.2f %9.2f %6.3f %6.2f %7.0f %7.0f %8.2f %8.2f %7s %8s %5s\n", r[i].name,
               r[i].audio, r[i].compute, r[i].compute / r[i].audio, r[i].audio / r[i].compute,
               r[i].rss0, r[i].peak, r[i].compute / r[0].compute, r[i].peak / r[0].peak, snr, mel,
               r[i].same_dur ? "same" : "DIFF");
    }
    for (int i = 0; i < n; i++) {
        free(col[i].a);
        free(col[i].d);
    }
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
    print_load("start");
    double t0 = now(), c0 = cpu_seconds();
    struct kokoro_model *m;
    const char *tg = getenv("CHORUS_BENCH_TARGET");
    if (tg && atoi(tg) >= 32 && atoi(tg) <= 510) g_target = (size_t)atoi(tg);
    printf("chunks: aimed at %zu phonemes, at most 510\n", g_target);
    const char *pk = getenv("CHORUS_BENCH_PACK");
    int mapped = 0;
    if (chorus_kokoro_model_load_packed(&m, argv[2], argv[1], pk, &mapped, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("load: %.2f s (%.2f s of CPU)%s\n", now() - t0, cpu_seconds() - c0,
           !pk || !*pk ? "" : mapped ? ", packfile mapped" : ", packfile written");
    const char *prec = getenv("CHORUS_BENCH_PRECISION");
    if (prec && (!strcmp(prec, "bf16") || !strcmp(prec, "int8"))) {
        int int8 = !strcmp(prec, "int8");
        if (int8 ? chorus_kokoro_model_to_int8(m) : chorus_kokoro_model_to_bf16(m)) {
            fprintf(stderr, "out of memory converting to %s\n", prec);
            return 1;
        }
        printf("precision: %s (the main run; modes below say their own)\n", prec);
    }
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
    if (chorus_kokoro_voices_open(&v, vdir, err, sizeof err) ||
        chorus_kokoro_voices_load(&v, vname, &pack, &rows, err, sizeof err)) {
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
    chorus_kokoro_rng_seed(&p.rng, 1);
    char fopen_[64] = "/tmp/chorus-bench-openXXXXXX", ftext[64] = "/tmp/chorus-bench-textXXXXXX";
    const char *ref = getenv("CHORUS_BENCH_REF");
    FILE *fo = NULL, *ft = NULL;
    if (ref && *ref) {
        int a = mkstemp(fopen_), b = mkstemp(ftext);
        fo = a >= 0 ? fdopen(a, "w") : NULL;
        ft = b >= 0 ? fdopen(b, "w") : NULL;
        if (!fo || !ft) {
            perror("mkstemp");
            return 1;
        }
    }
    double first0, first, compute;
    const char *only = getenv("CHORUS_BENCH_MODES_ONLY");
    if (only && *only == '1') { /* just the modes table */
        chorus_kokoro_model_free(m);
        struct model_files mf = {argv[1], argv[2], pk};
        run_modes(&mf, pack, rows, text ? text : default_text, "the text");
        free(pack);
        free(text);
        chorus_kokoro_voices_close(&v);
        return 0;
    }
    /* warm-up (page in the weights, start the BLAS), then the measured opening sentence */
    const char *opening = "Hello there, and welcome to the show.";
    run(m, pack, rows, opening, &p, &first0, &compute, NULL);
    double a1 = run(m, pack, rows, opening, &p, &first0, &compute, fo);
    printf("first audio (opening sentence, %.2f s of audio): %.3f s\n", a1, first0);
    /* what the core sends first (CHORUS_BF_FIRST_CLAUSE: the opening's first clause) */
    double fc, ac = run(m, pack, rows, "Hello there,", &p, &fc, &compute, NULL);
    printf("first audio (its first clause, the core's first job, %.2f s of audio): %.3f s\n", ac, fc);
    /* a long first job (the core's default limit is 100 characters, Kokoro's 64) */
    double f100, a100 = run(m, pack, rows,
                            "The old lighthouse stood at the edge of the cliff, its white paint "
                            "peeling in long strips after",
                            &p, &f100, &compute, NULL);
    printf("first audio (a 96-character first job, %.2f s of audio): %.3f s\n", a100, f100);
    memset(p.t, 0, sizeof p.t);
    const char *body = text ? text : default_text;
    double audio = run(m, pack, rows, body, &p, &first, &compute, ft);
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
    report_concurrency(m, pack, rows, body);
    /* modes load their own models: this one goes first, so it does not count in their RSS */
    chorus_kokoro_model_free(m);
    m = NULL;
    struct model_files mf = {argv[1], argv[2], pk};
    run_modes(&mf, pack, rows, body, "the text");
    const char *t2 = getenv("CHORUS_BENCH_TEXT2");
    if (t2 && *t2) {
        FILE *f2 = fopen(t2, "rb");
        char *text2 = f2 ? calloc(1 << 20, 1) : NULL;
        if (text2) {
            text2[fread(text2, 1, (1 << 20) - 1, f2)] = 0;
            run_modes(&mf, pack, rows, text2, t2);
        }
        if (f2) fclose(f2);
        free(text2);
    }
    print_load("end");
    double rss = ru.ru_maxrss / 1024.0;
    printf("peak RSS: %.0f MB\n", rss);
    if (fo && ft) {
        fclose(fo);
        fclose(ft);
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s %s %s", ref, fopen_, ftext);
        printf("reference: running `%s`\n", cmd);
        FILE *pp = popen(cmd, "r");
        double rfirst = -1, rcomp = 0, raudio = 0, rrss = 0, ra1 = 0;
        char line[512];
        while (pp && fgets(line, sizeof line, pp)) {
            int fi;
            double c, au, r;
            if (sscanf(line, "chunk %d %lf %lf", &fi, &c, &au) == 3) {
                if (fi == 0) {
                    if (rfirst < 0) rfirst = c;
                    ra1 += au;
                } else {
                    rcomp += c;
                    raudio += au;
                }
            } else if (sscanf(line, "maxrss %lf", &r) == 1) {
                rrss = r;
            } else {
                fputs(line, stdout);
            }
        }
        int st = pp ? pclose(pp) : -1;
        unlink(fopen_);
        unlink(ftext);
        if (st != 0 || raudio <= 0 || rcomp <= 0) {
            printf("reference: failed (status %d)\n", st);
        } else {
            printf("\n%-44s %12s %12s\n", "side by side (same phonemes, weights, voice)",
                   "chorus", "reference");
            printf("%-44s %12.3f %12.3f\n", "first audio, opening sentence (s)", first0, rfirst);
            printf("%-44s %12.2f %12.2f\n", "  its audio (s)", a1, ra1);
            printf("%-44s %12.2f %12.2f\n", "text: audio (s)", audio, raudio);
            printf("%-44s %12.2f %12.2f\n", "text: compute (s)", compute, rcomp);
            printf("%-44s %12.3f %12.3f\n", "text: RTF (compute / audio)", compute / audio,
                   rcomp / raudio);
            printf("%-44s %12.2f %12.2f\n", "text: x faster than real time", audio / compute,
                   raudio / rcomp);
            printf("%-44s %12.0f %12.0f\n", "peak RSS (MB)", rss, rrss);
            printf("chorus is %.2fx faster than the reference on the text\n",
                   (rcomp / raudio) / (compute / audio));
        }
    }
    free(pack);
    free(text);
    chorus_kokoro_voices_close(&v);
    chorus_kokoro_model_free(m);
    return 0;
}
