/*
 * bench_kokoro_conv — the generator's convolution shapes on each kernel, side by side (numbers,
 * never assertions).
 *
 *   bench_kokoro_conv [COLUMNS]
 *
 * For the stride-1 residual-block convolutions of Kokoro's generator (channels x kernel x
 * dilation: 256 and 128 channels, kernels 3/7/11, dilations 1/3/5) over a tile of COLUMNS
 * output columns (default 4096, the tiled generator's), prints GFLOP/s of: OpenBLAS's per-tap
 * GEMMs (chorus_nn_conv_forward on float32 weights), the direct float32 kernel and the direct
 * bf16 kernel (chorus_nn_conv_valid; which kernel the CPU has is printed first) on the
 * kernels' threads (CHORUS_THREADS, default the CPUs: run it with CHORUS_THREADS=1 for one
 * core), plus the largest difference of the float32 kernel from the per-tap result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/nn.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f - 0.5f;
}

/* Seconds per call of f over enough calls to take ~0.3 s. */
typedef int (*call_fn)(void *ctx);
static double per_call(call_fn f, void *ctx) {
    f(ctx); /* warm-up */
    int reps = 0;
    double t0 = now(), t;
    do {
        f(ctx);
        reps++;
    } while ((t = now() - t0) < 0.3);
    return t / reps;
}

struct job {
    struct chorus_nn_conv *c;
    const float *x;
    int l, n;
    float *y;
};
static int run_forward(void *p) {
    struct job *j = p;
    return chorus_nn_conv_forward(j->c, j->x, j->l, j->y);
}
static int run_valid(void *p) {
    struct job *j = p;
    return chorus_nn_conv_valid(j->c, j->x, j->l, j->y, j->n, 0);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4096;
    if (n < 16 || n > 1 << 20) {
        fprintf(stderr, "usage: %s [COLUMNS 16..1048576]\n", argv[0]);
        return 2;
    }
    static const int shapes[][3] = {{256, 3, 1}, {256, 7, 3}, {256, 11, 5},
                                    {128, 3, 1}, {128, 7, 3}, {128, 11, 5}};
    printf("BLAS: %s, threads: %d, direct kernel level %d (2 = AVX512_BF16, 1 = AVX-512F, "
           "0 = none: per-tap GEMMs)\n",
           chorus_nn_blas_name(), chorus_nn_threads(), chorus_nn_dconv_level());
    printf("%d output columns per call; GFLOP/s\n", n);
    printf("  ch  k dil   per-tap sgemm     direct fp32     direct bf16   max|fp32 - sgemm|\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ch = shapes[s][0], k = shapes[s][1], dil = shapes[s][2], h = (k - 1) * dil / 2;
        int l = n + 2 * h;
        unsigned seed = 7;
        float *w = malloc(sizeof *w * ch * ch * k), *b = malloc(sizeof *b * ch),
              *x = malloc(sizeof *x * ch * l), *y0 = malloc(sizeof *y0 * ch * l),
              *y1 = malloc(sizeof *y1 * ch * n);
        if (!w || !b || !x || !y0 || !y1) return 1;
        for (long i = 0; i < (long)ch * ch * k; i++) w[i] = frand(&seed) * 0.1f;
        for (int i = 0; i < ch; i++) b[i] = frand(&seed);
        for (long i = 0; i < (long)ch * l; i++) x[i] = frand(&seed);
        struct chorus_nn_conv pad, f32, bf;
        if (chorus_nn_conv_init(&pad, 0, ch, ch, k, 1, 0, dil, 1, 0, w, b) ||
            chorus_nn_conv_init(&f32, 0, ch, ch, k, 1, h, dil, 1, 0, w, b) ||
            chorus_nn_conv_init(&bf, 0, ch, ch, k, 1, h, dil, 1, 0, w, b) ||
            chorus_nn_conv_to_bf16(&bf))
            return 1;
        double flops = 2.0 * ch * ch * k * n, r[3];
        struct job jp = {&pad, x, l, n, y0}, jf = {&f32, x, l, n, y1}, jb = {&bf, x, l, n, y1};
        r[0] = flops / per_call(run_forward, &jp) / 1e9;
        r[1] = flops / per_call(run_valid, &jf) / 1e9;
        r[2] = flops / per_call(run_valid, &jb) / 1e9;
        chorus_nn_conv_forward(&pad, x, l, y0);
        chorus_nn_conv_valid(&f32, x, l, y1, n, 0);
        double md = 0;
        for (long i = 0; i < (long)ch * n; i++) {
            double d = (double)y0[i] - y1[i];
            md = d > md ? d : -d > md ? -d : md;
        }
        printf("  %3d %2d %3d   %13.1f   %13.1f   %13.1f   %.2g\n", ch, k, dil, r[0], r[1], r[2],
               md);
        chorus_nn_conv_release(&pad);
        chorus_nn_conv_release(&f32);
        chorus_nn_conv_release(&bf);
        free(w);
        free(b);
        free(x);
        free(y0);
        free(y1);
    }
    return 0;
}
