/* nn.c — see nn.h. */
#include "core/log.h"
#include "nn/nn.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define NN_X86 1
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

/* CBLAS constants (the ABI every CBLAS shares). */
enum { CB_ROW_MAJOR = 101, CB_NO_TRANS = 111, CB_TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);

static int nn_threads = 1;
static sgemm_fn nn_sgemm;
static sgemv_fn nn_sgemv;
static char nn_blas_name[128] = "built-in (no BLAS found)";
static pthread_once_t nn_once = PTHREAD_ONCE_INIT;

/*
 * OpenBLAS picks its kernels when it loads, from OPENBLAS_CORETYPE or its own CPU detection,
 * and Debian 12's 0.3.21 detects recent AVX-512 cores as an old model (several times slower).
 * So we do not link it: we set OPENBLAS_CORETYPE from the CPU's features (unless the user set
 * it) and then dlopen it. Any other CBLAS (libblas.so.3 from the alternatives system: BLIS,
 * OpenBLAS, ATLAS) is the second choice; plain loops are the last resort, correct but slow.
 */
/* 2: AVX-512F usable (CPU and OS), 1: AVX2, 0: neither (and on every other architecture,
 * where OpenBLAS's own detection is kept and the kernels are plain C). */
#ifndef NN_X86
static int cpu_level(void) { return 0; }
#else
static int cpu_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0x6) != 0x6 || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if ((b & (1u << 16)) && (lo & 0xe0) == 0xe0) return 2;
    return (b & (1u << 5)) ? 1 : 0;
}
#endif

int chorus_nn_cpu_avx512(void) { return cpu_level() == 2; }

/* x86 OpenBLAS core types without AVX-512 kernels (case-insensitive). */
static int weaker_coretype(const char *t) {
    static const char *const weak[] = {"Haswell", "Zen", "Sandybridge", "Nehalem", "Prescott",
                                       "Core2", "Penryn", "Dunnington", "Barcelona", "Bulldozer",
                                       "Piledriver", "Steamroller", "Excavator", "Katmai",
                                       "Coppermine", "Northwood", "Atom", "Bobcat", "Opteron"};
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++)
        if (!strcasecmp(t, weak[i])) return 1;
    return 0;
}

/*
 * The OpenBLAS core type, chosen when libchorus is loaded: before main() for a program linked
 * with it, so before any thread of the program runs. setenv() while other threads call
 * getenv() is undefined in glibc, and OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded
 * (on the first Kokoro job), so the choice is made here, once, and nothing touches the
 * environment later. A program that dlopen()s libchorus while its own threads run should set
 * OPENBLAS_CORETYPE (or CHORUS_OPENBLAS_CORETYPE) itself before starting them.
 *
 * CHORUS_OPENBLAS_CORETYPE forces a core type. Otherwise, when nobody set OPENBLAS_CORETYPE,
 * we pick one from CPUID (the usual case: Debian's OpenBLAS alone would pick "Prescott" on
 * AVX-512 cores, ~4x slower). A preset OPENBLAS_CORETYPE is the user's or the system's
 * decision (some environments pin a type to avoid old OpenBLAS bugs) and is kept; when it is a
 * weaker x86 type than the CPU runs, the first Kokoro job says so once: measured on an AVX-512
 * EPYC, "Haswell" costs 1.5-2x in sgemm (1 thread 128x20000x128: Haswell 65-103 GFLOP/s,
 * SkylakeX 103-124).
 */
__attribute__((constructor)) static void nn_pick_coretype(void) {
    const char *force = getenv("CHORUS_OPENBLAS_CORETYPE");
    if (force && *force) {
        setenv("OPENBLAS_CORETYPE", force, 1);
        return;
    }
    int lvl = cpu_level();
    const char *want = lvl == 2 ? "SkylakeX" : lvl == 1 ? "Haswell" : NULL;
    const char *have = getenv("OPENBLAS_CORETYPE");
    if (want && (!have || !*have)) setenv("OPENBLAS_CORETYPE", want, 1);
}

static void nn_init_once(void) {
    const char *e = getenv("CHORUS_THREADS");
    long n = e && *e ? strtol(e, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > 8) n = 8;
    nn_threads = (int)n;
    const char *have = getenv("OPENBLAS_CORETYPE"), *force = getenv("CHORUS_OPENBLAS_CORETYPE");
    if (have && !(force && *force) && cpu_level() == 2 && weaker_coretype(have))
        CHORUS_LOGI("OPENBLAS_CORETYPE=%s is set, but this CPU runs SkylakeX kernels: Kokoro would "
                    "be about 1.5x faster with CHORUS_OPENBLAS_CORETYPE=SkylakeX", have);
    static const char *const libs[] = {"libopenblas.so.0", "libopenblas.so", "libblas.so.3",
                                       "libcblas.so.3"};
    /* CHORUS_NN_BLAS=0: plain loops (make check-arm64 tests them; slow otherwise) */
    const char *use = getenv("CHORUS_NN_BLAS");
    size_t nlibs = use && !strcmp(use, "0") ? 0 : sizeof libs / sizeof libs[0];
    for (size_t i = 0; i < nlibs && !nn_sgemm; i++) {
        void *h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        sgemm_fn g = (sgemm_fn)(uintptr_t)dlsym(h, "cblas_sgemm");
        sgemv_fn v = (sgemv_fn)(uintptr_t)dlsym(h, "cblas_sgemv");
        if (!g || !v) {
            dlclose(h);
            continue;
        }
        void (*set_threads)(int) = (void (*)(int))(uintptr_t)dlsym(h, "openblas_set_num_threads");
        /* One BLAS thread: we split the big products ourselves (chorus_nn_gemm, convolutions).
         * OpenBLAS's own threading barely scales on these shapes (M = K = 128, long N: 1
         * thread 124 GFLOP/s, 2 threads 117) and its idle threads spin in sched_yield. */
        if (set_threads) set_threads(1);
        nn_sgemm = g;
        nn_sgemv = v;
        snprintf(nn_blas_name, sizeof nn_blas_name, "%s%s%s", libs[i],
                 getenv("OPENBLAS_CORETYPE") ? " OPENBLAS_CORETYPE=" : "",
                 getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "");
    }
}

void chorus_nn_init(void) { pthread_once(&nn_once, nn_init_once); }

int chorus_nn_threads(void) {
    chorus_nn_init();
    return nn_threads;
}

const char *chorus_nn_blas_name(void) {
    chorus_nn_init();
    return nn_blas_name;
}

/* ---------------------------------------------------------------------------------------- */
/* Parallel ranges [c0, c1) of channels, columns or rows: the calling thread plus up to         */
/* nn_threads-1 pool workers. Below `work` = 2^16 it runs on the calling thread alone.          */
/*                                                                                            */
/* The workers start on first use and live as long as the process. A call queues its ranges   */
/* but the first, runs that one, takes back any range no worker has started and runs it too,  */
/* then waits for the rest: it never waits on a worker that is busy with another call, so     */
/* concurrent callers (and a pool that could not start) cannot deadlock. Workers and waiting  */
/* callers spin ~30 us before they sleep: a generation makes thousands of calls back to back, */
/* and a thread start or a futex wake-up per call was 3-4 % of a Kokoro run.                  */

typedef void (*chan_fn)(void *ctx, int c0, int c1);
struct chan_task {
    chan_fn fn;
    void *ctx;
    int c0, c1;
    int *left; /* the call's ranges not yet done (atomic) */
};
enum { TP_QUEUE = 64, TP_SPIN = 4000 };
static pthread_mutex_t tp_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tp_work = PTHREAD_COND_INITIALIZER, tp_done = PTHREAD_COND_INITIALIZER;
static struct chan_task tp_q[TP_QUEUE];
static int tp_count;   /* queued tasks, under tp_mu (read atomically while spinning) */
static int tp_workers; /* started, under tp_mu */

/* Set while a thread runs a range: a kernel called from inside one (a parallel loop over
 * attention heads calling the GEMM) runs on that thread instead of queueing more. */
static _Thread_local int nn_in_range;
static int nn_jobs; /* generations running (chorus_nn_job_begin/end), atomic */
void chorus_nn_job_begin(void) { __atomic_add_fetch(&nn_jobs, 1, __ATOMIC_RELAXED); }
void chorus_nn_job_end(void) { __atomic_sub_fetch(&nn_jobs, 1, __ATOMIC_RELAXED); }

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void task_done(int *left) {
    if (__atomic_sub_fetch(left, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_mutex_lock(&tp_mu);
        pthread_cond_broadcast(&tp_done);
        pthread_mutex_unlock(&tp_mu);
    }
}

static void *tp_worker(void *arg) {
    (void)arg;
    nn_in_range = 1;
    for (;;) {
        for (int i = 0; i < TP_SPIN && !__atomic_load_n(&tp_count, __ATOMIC_RELAXED); i++)
            cpu_relax();
        pthread_mutex_lock(&tp_mu);
        while (!tp_count) pthread_cond_wait(&tp_work, &tp_mu);
        struct chan_task t = tp_q[0];
        tp_q[0] = tp_q[tp_count - 1];
        __atomic_store_n(&tp_count, tp_count - 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&tp_mu);
        t.fn(t.ctx, t.c0, t.c1);
        task_done(t.left);
    }
    return NULL;
}

/* In a child after fork() the workers are gone and the locks may be held: start afresh. */
static void tp_atfork_child(void) {
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    tp_mu = m;
    tp_work = c;
    tp_done = c;
    tp_count = 0;
    tp_workers = 0;
}

/* Under tp_mu: queues t unless the queue is full (0 then: the caller runs it). */
static int tp_push(const struct chan_task *t) {
    if (tp_workers < nn_threads - 1) {
        pthread_attr_t at;
        pthread_t th;
        if (!tp_workers) pthread_atfork(NULL, NULL, tp_atfork_child);
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        while (tp_workers < nn_threads - 1 && pthread_create(&th, &at, tp_worker, NULL) == 0)
            tp_workers++;
        pthread_attr_destroy(&at);
    }
    if (tp_count == TP_QUEUE) return 0;
    tp_q[tp_count] = *t;
    __atomic_store_n(&tp_count, tp_count + 1, __ATOMIC_RELAXED);
    pthread_cond_signal(&tp_work);
    return 1;
}

/* Takes back one queued task of this call (left == mine), or returns 0. */
static int tp_reclaim(int *mine, struct chan_task *out) {
    int got = 0;
    pthread_mutex_lock(&tp_mu);
    for (int i = 0; i < tp_count; i++)
        if (tp_q[i].left == mine) {
            *out = tp_q[i];
            tp_q[i] = tp_q[tp_count - 1];
            __atomic_store_n(&tp_count, tp_count - 1, __ATOMIC_RELAXED);
            got = 1;
            break;
        }
    pthread_mutex_unlock(&tp_mu);
    return got;
}

static void parallel_channels(chan_fn fn, void *ctx, int c, size_t work) {
    chorus_nn_init();
    int running = __atomic_load_n(&nn_jobs, __ATOMIC_RELAXED);
    int budget = running > 1 ? nn_threads / running : nn_threads;
    if (budget < 1) budget = 1;
    int nt = budget < c ? budget : c;
    if (nt <= 1 || work < (1u << 16) || nn_in_range) {
        fn(ctx, 0, c);
        return;
    }
    if (nt > 8) nt = 8;
    int left = nt;
    struct chan_task t = {fn, ctx, 0, 0, &left}, inl[8];
    int n_inl = 0;
    pthread_mutex_lock(&tp_mu);
    for (int i = 1; i < nt; i++) {
        t.c0 = c * i / nt;
        t.c1 = c * (i + 1) / nt;
        if (!tp_push(&t)) inl[n_inl++] = t;
    }
    pthread_mutex_unlock(&tp_mu);
    nn_in_range = 1;
    fn(ctx, 0, c / nt);
    task_done(&left);
    for (int i = 0; i < n_inl; i++) {
        fn(ctx, inl[i].c0, inl[i].c1);
        task_done(&left);
    }
    while (tp_reclaim(&left, &t)) {
        fn(ctx, t.c0, t.c1);
        task_done(&left);
    }
    nn_in_range = 0;
    for (int i = 0; i < TP_SPIN && __atomic_load_n(&left, __ATOMIC_ACQUIRE); i++) cpu_relax();
    if (__atomic_load_n(&left, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&tp_mu);
        while (__atomic_load_n(&left, __ATOMIC_ACQUIRE)) pthread_cond_wait(&tp_done, &tp_mu);
        pthread_mutex_unlock(&tp_mu);
    }
}

struct gemm_ctx {
    int ta, tb, m, n, k, lda, ldb, ldc, by_rows;
    float alpha, beta;
    const float *a, *b;
    float *c;
};
/* Blocks [b0, b1) of a GEMM: GEMM_ROWS rows or GEMM_COLS columns each, one BLAS call per
 * block. The blocks depend on the shape only, never on the thread count, so a product (and
 * the audio) is the same whatever CHORUS_THREADS is and however many generations share the
 * threads: BLAS kernels may round differently for different block widths. */
enum { GEMM_ROWS = 64, GEMM_COLS = 128 };
static void gemm_range(void *p, int b0, int b1) {
    struct gemm_ctx *g = p;
    for (int blk = b0; blk < b1; blk++) {
        if (g->by_rows) {
            int r0 = blk * GEMM_ROWS, r1 = r0 + GEMM_ROWS < g->m ? r0 + GEMM_ROWS : g->m;
            const float *a = g->ta ? g->a + r0 : g->a + (size_t)r0 * g->lda;
            nn_sgemm(CB_ROW_MAJOR, g->ta ? CB_TRANS : CB_NO_TRANS,
                     g->tb ? CB_TRANS : CB_NO_TRANS, r1 - r0, g->n, g->k, g->alpha, a, g->lda,
                     g->b, g->ldb, g->beta, g->c + (size_t)r0 * g->ldc, g->ldc);
        } else {
            int c0 = blk * GEMM_COLS, c1 = c0 + GEMM_COLS < g->n ? c0 + GEMM_COLS : g->n;
            const float *b = g->tb ? g->b + (size_t)c0 * g->ldb : g->b + c0;
            nn_sgemm(CB_ROW_MAJOR, g->ta ? CB_TRANS : CB_NO_TRANS,
                     g->tb ? CB_TRANS : CB_NO_TRANS, g->m, c1 - c0, g->k, g->alpha, g->a,
                     g->lda, b, g->ldb, g->beta, g->c + c0, g->ldc);
        }
    }
}

void chorus_nn_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                    int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    chorus_nn_init();
    if (m <= 0 || n <= 0) return;
    if (k > 0 && nn_sgemm) {
        struct gemm_ctx g = {trans_a, trans_b, m, n, k, lda, ldb, ldc, 0, alpha, beta, a, b, c};
        double flops = (double)m * n * k;
        if (flops >= (double)(1 << 22) && (n >= 64 || m >= 64)) {
            g.by_rows = n < 64 || (m >= 4 * n);
            int parts = g.by_rows ? (m + GEMM_ROWS - 1) / GEMM_ROWS : (n + GEMM_COLS - 1) / GEMM_COLS;
            /* work is scaled so that the 2^16 threshold of parallel_channels is passed */
            parallel_channels(gemm_range, &g, parts, (size_t)1 << 20);
        } else {
            g.by_rows = 1;
            nn_sgemm(CB_ROW_MAJOR, trans_a ? CB_TRANS : CB_NO_TRANS,
                     trans_b ? CB_TRANS : CB_NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c,
                     ldc);
        }
        return;
    }
    /* no BLAS: row by row, B read along its rows when it is not transposed (cache order) */
    for (int i = 0; i < m; i++) {
        float *cr = c + (size_t)i * ldc;
        for (int j = 0; j < n; j++) cr[j] = beta != 0 ? beta * cr[j] : 0.0f;
        for (int q = 0; q < k; q++) {
            float aq = alpha * (trans_a ? a[(size_t)q * lda + i] : a[(size_t)i * lda + q]);
            if (trans_b)
                for (int j = 0; j < n; j++) cr[j] += aq * b[(size_t)j * ldb + q];
            else
                for (int j = 0; j < n; j++) cr[j] += aq * b[(size_t)q * ldb + j];
        }
    }
}

/* y[m] = A[m][n] x + y */
static void gemv_acc(int m, int n, const float *a, const float *x, float *y) {
    if (nn_sgemv) {
        nn_sgemv(CB_ROW_MAJOR, CB_NO_TRANS, m, n, 1.0f, a, n, x, 1, 1.0f, y, 1);
        return;
    }
    for (int i = 0; i < m; i++) {
        float acc = 0;
        for (int j = 0; j < n; j++) acc += a[(size_t)i * n + j] * x[j];
        y[i] += acc;
    }
}

void chorus_nn_linear(const float *x, int t, int in, const float *w, const float *b, int out,
                      float *y) {
    if (b)
        for (int i = 0; i < t; i++) memcpy(y + (size_t)i * out, b, (size_t)out * sizeof *y);
    chorus_nn_gemm(0, 1, t, out, in, 1.0f, x, in, w, in, b ? 1.0f : 0.0f, y, out);
}

/* ---------------------------------------------------------------------------------------- */
/* Convolutions                                                                               */

int chorus_nn_conv_init(struct chorus_nn_conv *c, int transposed, int cin, int cout, int k,
                        int stride, int pad, int dil, int groups, int out_pad,
                        const float *tw, const float *bias) {
    memset(c, 0, sizeof *c);
    *c = (struct chorus_nn_conv){cin, cout, k, stride, pad, dil, groups, out_pad, transposed,
                                 NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, NULL};
    size_t per = groups == 1 ? (size_t)cin * cout : (size_t)cin;
    c->w = malloc(per * (size_t)k * sizeof *c->w);
    if (!c->w) return -1;
    if (groups != 1) {
        /* depthwise: torch [c][1][k] either way */
        memcpy(c->w, tw, per * (size_t)k * sizeof *c->w);
    } else {
        for (int o = 0; o < cout; o++)
            for (int i = 0; i < cin; i++)
                for (int j = 0; j < k; j++) {
                    float v = transposed ? tw[((size_t)i * cout + o) * k + j]
                                         : tw[((size_t)o * cin + i) * k + j];
                    c->w[((size_t)j * cout + o) * cin + i] = v;
                }
    }
    if (bias) {
        c->b = malloc((size_t)cout * sizeof *c->b);
        if (!c->b) {
            free(c->w);
            c->w = NULL;
            return -1;
        }
        memcpy(c->b, bias, (size_t)cout * sizeof *c->b);
    }
    return 0;
}

size_t chorus_nn_conv_packed_count(const struct chorus_nn_conv *c) {
    return (c->groups == 1 ? (size_t)c->cin * c->cout : (size_t)c->cin) * (size_t)c->k;
}

int chorus_nn_conv_init_packed(struct chorus_nn_conv *c, int transposed, int cin, int cout,
                               int k, int stride, int pad, int dil, int groups, int out_pad,
                               const float *packed_w, const float *bias) {
    *c = (struct chorus_nn_conv){cin, cout, k, stride, pad, dil, groups, out_pad, transposed,
                                 NULL, NULL, 1, NULL, NULL, NULL, NULL, 0, NULL};
    c->w = (float *)(uintptr_t)packed_w; /* read-only: forward passes never write weights */
    if (bias) {
        c->b = malloc((size_t)cout * sizeof *c->b);
        if (!c->b) {
            c->w = NULL;
            return -1;
        }
        memcpy(c->b, bias, (size_t)cout * sizeof *c->b);
    }
    return 0;
}

uint16_t chorus_nn_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(u >> 16 | 0x40); /* quiet NaN */
    u += 0x7fffu + (u >> 16 & 1u);
    return (uint16_t)(u >> 16);
}

static int conv_direct_shape(const struct chorus_nn_conv *c) {
    return !c->transposed && c->groups == 1 && c->stride == 1 && c->cout % 8 == 0;
}

int chorus_nn_conv_to_bf16(struct chorus_nn_conv *c) {
    if (!c->w || c->wb || c->wp) return 0;
    size_t n = chorus_nn_conv_packed_count(c);
    if (conv_direct_shape(c)) {
        if (!(c->wp = chorus_nn_dconv_pack_bf16(c))) return -1;
    } else {
        /* an even count, so that the array is whole 4-byte words (packfile entries) */
        if (!(c->wb = malloc((n + 1) / 2 * 2 * sizeof *c->wb))) return -1;
        for (size_t i = 0; i < n; i++) c->wb[i] = chorus_nn_to_bf16(c->w[i]);
        if (n % 2) c->wb[n] = 0;
    }
    if (!c->w_borrowed) free(c->w);
    c->w = NULL;
    return chorus_nn_conv_polyphase(c);
}

int chorus_nn_conv_to_int8(struct chorus_nn_conv *c) {
    if (!c->w || c->wb || c->wp || c->wq) return 0;
    if (!conv_direct_shape(c)) return chorus_nn_conv_to_bf16(c);
    if (!(c->wq = chorus_nn_dconv_pack_int8(c, &c->ws))) return -1;
    if (!c->w_borrowed) free(c->w);
    c->w = NULL;
    return 0;
}

static size_t int8_bytes(const struct chorus_nn_conv *c) {
    return (size_t)c->cout * c->k * ((c->cin + 1) / 2) * 2;
}

void chorus_nn_conv_int8_data(const struct chorus_nn_conv *c, const int8_t **q, size_t *qbytes,
                              const float **scales) {
    *q = c->wq;
    *qbytes = c->wq ? int8_bytes(c) : 0;
    *scales = c->ws;
}

int chorus_nn_conv_use_int8(struct chorus_nn_conv *c, const int8_t *q, size_t qbytes,
                            const float *scales) {
    if (!q || !scales || !conv_direct_shape(c) || qbytes != int8_bytes(c) || c->wb || c->wp ||
        c->wq)
        return -1;
    c->wq = (int8_t *)(uintptr_t)q; /* read-only, like borrowed w */
    c->ws = (float *)(uintptr_t)scales;
    c->wq_borrowed = 1;
    if (!c->w_borrowed) free(c->w);
    c->w = NULL;
    return 0;
}

void chorus_nn_conv_bf16_data(const struct chorus_nn_conv *c, const void **data, size_t *bytes) {
    *data = NULL;
    *bytes = 0;
    if (c->wp) {
        *data = c->wp;
        *bytes = (size_t)c->cout * c->k * ((c->cin + 1) / 2) * sizeof *c->wp;
    } else if (c->wb) {
        *data = c->wb;
        *bytes = (chorus_nn_conv_packed_count(c) + 1) / 2 * 2 * sizeof *c->wb;
    }
}

int chorus_nn_conv_use_bf16(struct chorus_nn_conv *c, const void *data, size_t bytes) {
    int direct = conv_direct_shape(c);
    size_t want = direct ? (size_t)c->cout * c->k * ((c->cin + 1) / 2) * sizeof(uint32_t)
                         : (chorus_nn_conv_packed_count(c) + 1) / 2 * 2 * sizeof(uint16_t);
    if (!data || bytes != want || c->wb || c->wp || (uintptr_t)data % 4) return -1;
    if (direct) c->wp = (uint32_t *)(uintptr_t)data; /* read-only, like borrowed w */
    else c->wb = (uint16_t *)(uintptr_t)data;
    c->wq_borrowed = 1;
    if (!c->w_borrowed) free(c->w);
    c->w = NULL;
    return chorus_nn_conv_polyphase(c);
}

void chorus_nn_conv_release(struct chorus_nn_conv *c) {
    if (!c) return;
    if (c->ph) {
        for (int r = 0; r < c->stride; r++) chorus_nn_conv_release(&c->ph[r]);
        free(c->ph);
        c->ph = NULL;
    }
    if (!c->wq_borrowed) {
        free(c->wb);
        free(c->wp);
        free(c->wq);
        free(c->ws);
    }
    c->wb = NULL;
    c->wp = NULL;
    c->wq = NULL;
    c->ws = NULL;
    if (!c->w_borrowed) free(c->w);
    free(c->b);
    c->w = c->b = NULL;
}

int chorus_nn_conv_out_len(const struct chorus_nn_conv *c, int l) {
    if (c->transposed) return (l - 1) * c->stride - 2 * c->pad + c->dil * (c->k - 1) + 1 + c->out_pad;
    return (l + 2 * c->pad - c->dil * (c->k - 1) - 1) / c->stride + 1;
}

static void add_bias(const struct chorus_nn_conv *c, float *y, int lout) {
    for (int o = 0; o < c->cout; o++) {
        float bv = c->b ? c->b[o] : 0.0f;
        float *r = y + (size_t)o * lout;
        for (int t = 0; t < lout; t++) r[t] = bv;
    }
}

struct conv_ctx {
    const struct chorus_nn_conv *c;
    const float *x;
    int l;
    float *y;
    int lout;
};
static void dw_transposed_range(void *ctx, int c0, int c1) {
    struct conv_ctx *cc = ctx;
    const struct chorus_nn_conv *c = cc->c;
    for (int ch = c0; ch < c1; ch++) {
        const float *xr = cc->x + (size_t)ch * cc->l, *w = c->w + (size_t)ch * c->k;
        float *yr = cc->y + (size_t)ch * cc->lout;
        for (int t = 0; t < cc->l; t++)
            for (int j = 0; j < c->k; j++) {
                int p = t * c->stride + j * c->dil - c->pad;
                if (p >= 0 && p < cc->lout) yr[p] += xr[t] * w[j];
            }
    }
}

static int conv_transposed(const struct chorus_nn_conv *c, const float *x, int l, float *y) {
    int lout = chorus_nn_conv_out_len(c, l);
    add_bias(c, y, lout);
    if (c->groups != 1) { /* depthwise: channels on the kernels' threads */
        struct conv_ctx cc = {c, x, l, y, lout};
        parallel_channels(dw_transposed_range, &cc, c->cin, (size_t)c->cin * l * c->k);
        return 0;
    }
    /* Z[k*cout][blk] = Wp[k*cout][cin] @ x[cin][t0:t0+blk], then scatter-add. */
    const int blk = 1024;
    int kc = c->k * c->cout;
    float *z = chorus_nn_alloc((size_t)kc * blk * sizeof *z);
    if (!z) return -1;
    for (int t0 = 0; t0 < l; t0 += blk) {
        int nb = l - t0 < blk ? l - t0 : blk;
        chorus_nn_gemm(0, 0, kc, nb, c->cin, 1.0f, c->w, c->cin, x + t0, l, 0.0f, z, nb);
        for (int j = 0; j < c->k; j++)
            for (int o = 0; o < c->cout; o++) {
                const float *zr = z + ((size_t)j * c->cout + o) * nb;
                float *yr = y + (size_t)o * lout;
                for (int t = 0; t < nb; t++) {
                    int p = (t0 + t) * c->stride + j * c->dil - c->pad;
                    if (p >= 0 && p < lout) yr[p] += zr[t];
                }
            }
    }
    free(z);
    return 0;
}

enum { CONV_BLK = 1024 };
/* Output blocks [b0, b1) of a stride-1 convolution, straight from the unpadded input: tap j
 * reads x[t + j*dil - pad], so each tap's GEMM covers only the output columns whose input is
 * inside x (the zero padding contributes nothing and is never materialized). */
static void conv_range(void *p, int b0, int b1) {
    struct conv_ctx *cc = p;
    const struct chorus_nn_conv *c = cc->c;
    for (int b = b0; b < b1; b++) {
        int t0 = b * CONV_BLK, t1 = cc->lout - t0 < CONV_BLK ? cc->lout : t0 + CONV_BLK;
        for (int j = 0; j < c->k; j++) {
            int off = j * c->dil - c->pad;
            int lo = t0 > -off ? t0 : -off, hi = t1 < cc->l - off ? t1 : cc->l - off;
            if (lo >= hi) continue;
            nn_sgemm(CB_ROW_MAJOR, CB_NO_TRANS, CB_NO_TRANS, c->cout, hi - lo, c->cin, 1.0f,
                     c->w + (size_t)j * c->cout * c->cin, c->cin, cc->x + lo + off, cc->l, 1.0f,
                     cc->y + lo, cc->lout);
        }
    }
}

/* xp[cin][l + 2 pad] = x[cin][l] with pad zeros on both sides of each row. */
static void pad_rows(const struct chorus_nn_conv *c, const float *x, int l, float *xp) {
    int lp = l + 2 * c->pad;
    for (int i = 0; i < c->cin; i++) {
        float *r = xp + (size_t)i * lp;
        memset(r, 0, (size_t)c->pad * sizeof *r);
        memcpy(r + c->pad, x + (size_t)i * l, (size_t)l * sizeof *r);
        memset(r + c->pad + l, 0, (size_t)c->pad * sizeof *r);
    }
}

/* A bf16 convolution: its weights widened to a float32 copy for this call. */
static int conv_bf16(const struct chorus_nn_conv *c, const float *x, int l, float *y) {
    size_t n = chorus_nn_conv_packed_count(c);
    float *w = chorus_nn_alloc(n * sizeof *w);
    if (!w) return -1;
    chorus_nn_conv_weights_f32(c, w);
    struct chorus_nn_conv f = *c;
    f.w = w;
    f.wb = NULL;
    f.wp = NULL;
    f.wq = NULL;
    f.ws = NULL;
    int rc = chorus_nn_conv_forward(&f, x, l, y);
    free(w);
    return rc;
}

/* A strided ConvTranspose1d as `stride` = s stride-1 convolutions: output column p = q*s + r -
 * pad (phase r) sums taps j = r + m*s over inputs x[q - m], m = 0 .. M-1 (M = k/s), so phase r
 * is a valid convolution of x zero-padded by M-1 columns on each side, with those taps in
 * reverse order. */
int chorus_nn_conv_polyphase(struct chorus_nn_conv *c) {
    if (c->ph || !c->transposed || c->groups != 1 || c->dil != 1 || c->stride < 2 ||
        c->k % c->stride || c->cout % 8 || c->out_pad > c->pad || !c->wb ||
        chorus_nn_dconv_level() < 2)
        return 0;
    int s = c->stride, M = c->k / s;
    size_t per = (size_t)c->cout * c->cin;
    float *all = malloc(chorus_nn_conv_packed_count(c) * sizeof *all),
          *w = malloc((size_t)M * per * sizeof *w);
    struct chorus_nn_conv *ph = calloc((size_t)s, sizeof *ph);
    int rc = all && w && ph ? 0 : -1;
    if (!rc) chorus_nn_conv_weights_f32(c, all);
    for (int r = 0; r < s && !rc; r++) {
        for (int m = 0; m < M; m++) /* tap m of the phase is tap r + (M-1-m)*s */
            memcpy(w + (size_t)m * per, all + (size_t)(r + (M - 1 - m) * s) * per,
                   per * sizeof *w);
        /* w is borrowed, so to_bf16 forgets it (reused for the next phase) */
        if (chorus_nn_conv_init_packed(&ph[r], 0, c->cin, c->cout, M, 1, 0, 1, 1, 0, w, NULL) ||
            chorus_nn_conv_to_bf16(&ph[r]) || !ph[r].wp)
            rc = -1;
    }
    free(all);
    free(w);
    if (rc) {
        if (ph)
            for (int r = 0; r < s; r++) chorus_nn_conv_release(&ph[r]);
        free(ph);
        return -1;
    }
    c->ph = ph;
    return 0;
}

enum { PH_BLK = 2048 };
struct ph_job {
    const struct chorus_nn_conv *c;
    const float *win; /* [cin][nb + M - 1]: x zero-padded, columns q0 - (M-1) .. */
    float *ob;        /* [s][cout][nb] */
    float *y;
    int nb, q0, lout, err; /* err: atomic */
};
static void ph_conv_range(void *p, int r0, int r1) {
    struct ph_job *j = p;
    const struct chorus_nn_conv *c = j->c;
    int M = c->k / c->stride;
    for (int r = r0; r < r1; r++) /* nested: each runs on this thread */
        if (chorus_nn_conv_valid(&c->ph[r], j->win, j->nb + M - 1,
                                 j->ob + (size_t)r * c->cout * j->nb, j->nb, 0))
            __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
}
static void ph_interleave_range(void *p, int o0, int o1) {
    struct ph_job *j = p;
    const struct chorus_nn_conv *c = j->c;
    int s = c->stride;
    for (int o = o0; o < o1; o++) {
        float b = c->b ? c->b[o] : 0.0f, *yr = j->y + (size_t)o * j->lout;
        for (int q = 0; q < j->nb; q++)
            for (int r = 0; r < s; r++) {
                long pp = (long)(j->q0 + q) * s + r - c->pad;
                if (pp >= 0 && pp < j->lout) yr[pp] = j->ob[((size_t)r * c->cout + o) * j->nb + q] + b;
            }
    }
}
static int conv_polyphase(const struct chorus_nn_conv *c, const float *x, int l, float *y) {
    int s = c->stride, M = c->k / s, nq = l + M - 1, lout = chorus_nn_conv_out_len(c, l);
    if (lout <= 0) return 0;
    int bl = nq < PH_BLK ? nq : PH_BLK, wl = bl + M - 1;
    float *win = chorus_nn_alloc((size_t)c->cin * wl * sizeof *win),
          *ob = chorus_nn_alloc((size_t)s * c->cout * bl * sizeof *ob);
    int rc = win && ob ? 0 : -1;
    for (int q0 = 0; q0 < nq && !rc; q0 += bl) {
        int nb = nq - q0 < bl ? nq - q0 : bl;
        for (int i = 0; i < c->cin; i++)
            for (int u = 0; u < nb + M - 1; u++) {
                int src = q0 + u - (M - 1);
                win[(size_t)i * (nb + M - 1) + u] = src >= 0 && src < l ? x[(size_t)i * l + src] : 0.0f;
            }
        struct ph_job j = {c, win, ob, y, nb, q0, lout, 0};
        chorus_nn_parallel(ph_conv_range, &j, s, (size_t)c->cout * c->cin * c->k * nb);
        if ((rc = -__atomic_load_n(&j.err, __ATOMIC_RELAXED))) break;
        chorus_nn_parallel(ph_interleave_range, &j, c->cout, (size_t)c->cout * nb * s);
    }
    free(win);
    free(ob);
    return rc;
}

/* A bf16 conv the direct kernel runs (bf16 dot products): its padding made explicit. */
static int conv_direct_bf16(const struct chorus_nn_conv *c, const float *x, int l, float *y) {
    int lp = l + 2 * c->pad, lout = chorus_nn_conv_out_len(c, l);
    if (lout <= 0) return 0;
    float *xp = chorus_nn_alloc((size_t)c->cin * lp * sizeof *xp);
    if (!xp) return -1;
    pad_rows(c, x, l, xp);
    int rc = chorus_nn_conv_valid(c, xp, lp, y, lout, 0);
    free(xp);
    return rc;
}

int chorus_nn_conv_forward(const struct chorus_nn_conv *c, const float *x, int l, float *y) {
    chorus_nn_init();
    if ((c->wp || c->wq) && chorus_nn_dconv_level() >= 2) /* stride 1 */
        return conv_direct_bf16(c, x, l, y);
    if (c->ph && chorus_nn_dconv_level() >= 2) return conv_polyphase(c, x, l, y);
    if (c->wb || c->wp || c->wq) return conv_bf16(c, x, l, y);
    if (c->transposed) return conv_transposed(c, x, l, y);
    int lout = chorus_nn_conv_out_len(c, l);
    if (lout <= 0) return 0;
    add_bias(c, y, lout);
    if (c->k == 1 && c->stride == 1 && c->pad == 0) {
        chorus_nn_gemm(0, 0, c->cout, l, c->cin, 1.0f, c->w, c->cin, x, l, 1.0f, y, l);
        return 0;
    }
    if (c->stride == 1 && nn_sgemm) {
        struct conv_ctx cc = {c, x, l, y, lout};
        int nblk = (lout + CONV_BLK - 1) / CONV_BLK;
        parallel_channels(conv_range, &cc, nblk, (size_t)c->cout * c->cin * c->k * lout / 64);
        return 0;
    }
    int lp = l + 2 * c->pad;
    float *xp = chorus_nn_alloc((size_t)c->cin * lp * sizeof *xp);
    if (!xp) return -1;
    pad_rows(c, x, l, xp);
    if (c->stride == 1) {
        for (int j = 0; j < c->k; j++)
            chorus_nn_gemm(0, 0, c->cout, lout, c->cin, 1.0f, c->w + (size_t)j * c->cout * c->cin,
                           c->cin, xp + (size_t)j * c->dil, lp, 1.0f, y, lout);
    } else {
        float *col = chorus_nn_alloc((size_t)c->cin * lout * sizeof *col);
        if (!col) {
            free(xp);
            return -1;
        }
        for (int j = 0; j < c->k; j++) {
            for (int i = 0; i < c->cin; i++) {
                const float *r = xp + (size_t)i * lp + (size_t)j * c->dil;
                float *cr = col + (size_t)i * lout;
                for (int t = 0; t < lout; t++) cr[t] = r[(size_t)t * c->stride];
            }
            chorus_nn_gemm(0, 0, c->cout, lout, c->cin, 1.0f, c->w + (size_t)j * c->cout * c->cin,
                           c->cin, col, lout, 1.0f, y, lout);
        }
        free(col);
    }
    free(xp);
    return 0;
}

static int nn_huge = -1; /* CHORUS_NN_HUGEPAGES=0 turns the advice off (a benign race) */
static int huge_on(void) {
    int on = __atomic_load_n(&nn_huge, __ATOMIC_RELAXED);
    if (on < 0) {
        const char *e = getenv("CHORUS_NN_HUGEPAGES");
        on = !(e && !strcmp(e, "0"));
        __atomic_store_n(&nn_huge, on, __ATOMIC_RELAXED);
    }
    return on;
}

/* Advise p[0:bytes) for transparent huge pages (advice only: errors are fine). */
static void advise_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    if (huge_on()) (void)madvise(p, bytes, MADV_HUGEPAGE);
#else
    (void)p, (void)bytes;
#endif
}

void *chorus_nn_alloc(size_t bytes) {
    if (!bytes) bytes = 1;
#ifdef MADV_HUGEPAGE
    const size_t huge = (size_t)2 << 20;
    if (bytes >= 4 * huge && huge_on()) {
        void *p = NULL;
        if (posix_memalign(&p, huge, bytes)) return NULL;
        advise_huge(p, bytes / huge * huge);
        return p;
    }
#endif
    return malloc(bytes);
}

/* Mappings start on a 2 MB boundary and span whole 2 MB units, so that huge pages fill them
 * (a 4 KB-aligned one splits its huge pages at both ends; an earlier version that grew
 * buffers with mremap landed on such addresses and its stage-1 convolutions ran 10-20 %
 * slower). */
#define MAP_UNIT ((size_t)2 << 20)
static size_t map_round(size_t b) { return (b + MAP_UNIT - 1) & ~(MAP_UNIT - 1); }

void *chorus_nn_map(size_t bytes) {
    bytes = map_round(bytes ? bytes : 1);
    size_t total = bytes + MAP_UNIT;
    char *q = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) return NULL;
    char *a = (char *)(((uintptr_t)q + MAP_UNIT - 1) & ~(uintptr_t)(MAP_UNIT - 1));
    if (a > q) munmap(q, (size_t)(a - q));
    if (q + total > a + bytes) munmap(a + bytes, (size_t)(q + total - (a + bytes)));
    advise_huge(a, bytes);
    return a;
}

void chorus_nn_unmap(void *p, size_t bytes) {
    if (p) munmap(p, map_round(bytes ? bytes : 1));
}

void chorus_nn_parallel(void (*fn)(void *ctx, int i0, int i1), void *ctx, int n, size_t work) {
    parallel_channels(fn, ctx, n, work);
}

/* ---------------------------------------------------------------------------------------- */
/* LSTM                                                                                       */

static float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

int chorus_nn_lstm_forward(const struct chorus_nn_lstm *l, const float *x, int t, float *y) {
    int H = l->hidden, G = 4 * H, D = l->dirs;
    float *g = malloc(((size_t)t * G + (size_t)G + 2 * (size_t)H) * sizeof *g);
    if (!g) return -1;
    float *gt = g + (size_t)t * G, *h = gt + G, *cs = h + H;
    for (int d = 0; d < D; d++) {
        chorus_nn_linear(x, t, l->in, l->w_ih[d], l->bias[d], G, g);
        memset(h, 0, (size_t)H * sizeof *h);
        memset(cs, 0, (size_t)H * sizeof *cs);
        for (int s = 0; s < t; s++) {
            int ti = d ? t - 1 - s : s;
            memcpy(gt, g + (size_t)ti * G, (size_t)G * sizeof *gt);
            gemv_acc(G, H, l->w_hh[d], h, gt);
            float *out = y + (size_t)ti * D * H + (size_t)d * H;
            for (int j = 0; j < H; j++) {
                float ig = sigm(gt[j]), fg = sigm(gt[H + j]), gg = tanhf(gt[2 * H + j]),
                      og = sigm(gt[3 * H + j]);
                cs[j] = fg * cs[j] + ig * gg;
                h[j] = og * tanhf(cs[j]);
                out[j] = h[j];
            }
        }
    }
    free(g);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Norms and activations                                                                      */

void chorus_nn_layer_norm(float *x, int rows, int n, const float *gamma, const float *beta,
                          float eps) {
    for (int r = 0; r < rows; r++) {
        float *v = x + (size_t)r * n;
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) s += v[i];
        float mean = (float)(s / n);
        for (int i = 0; i < n; i++) {
            float d = v[i] - mean;
            ss += (double)d * d;
        }
        float inv = 1.0f / sqrtf((float)(ss / n) + eps);
        for (int i = 0; i < n; i++) {
            float o = (v[i] - mean) * inv;
            if (gamma) o *= gamma[i];
            if (beta) o += beta[i];
            v[i] = o;
        }
    }
}

/*
 * AdaIN and Snake, fused: per channel one pass for the mean, one for the variance, and one that
 * applies the affine and the Snake together (the unfused version made five passes over memory).
 * The kernels are written branch-free with independent lanes so that the compiler vectorizes
 * them, and compiled for AVX-512 and AVX2 besides the baseline; the dynamic loader picks
 * the clone for the CPU (GCC/Clang target_clones).
 */
/* Sanitizer runtimes are not ready when the ifunc resolvers of clones run (before main,
 * during relocation): ThreadSanitizer binaries crashed in a resolver. No clones there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NN_NO_CLONES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NN_NO_CLONES 1
#endif
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(NN_NO_CLONES)
#define NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NN_CLONES
#endif

/* bfloat16 is the top half of a float32: widening is a shift (vectorized per clone). */
NN_CLONES static void bf16_widen(const uint16_t *restrict in, size_t n, float *restrict out) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)in[i] << 16;
        memcpy(out + i, &u, sizeof u);
    }
}

/* Not cloned itself: a clone's ifunc resolver of an extern function would be exported from
 * libchorus.so (lib_symbols), so the clones stay static behind this. */
void chorus_nn_bf16_widen(const uint16_t *in, size_t n, float *out) {
    bf16_widen(in, n, out);
}

enum { LANES = 16, SUM_CHUNK = 1024 };

/* Sum of v[i] (square = 0) or of (v[i] - shift)^2 (square = 1), in float lanes over chunks of
 * SUM_CHUNK, chunks added in double; *maxabs gets max |v[i]|. */
NN_CLONES static double sum_lanes(const float *restrict v, int l, float shift, int square,
                                  float *maxabs) {
    double total = 0;
    float mx[LANES] = {0};
    for (int c0 = 0; c0 < l; c0 += SUM_CHUNK) {
        int c1 = l - c0 < SUM_CHUNK ? l : c0 + SUM_CHUNK, i = c0;
        float lane[LANES] = {0};
        if (square)
            for (; i + LANES <= c1; i += LANES)
                for (int j = 0; j < LANES; j++) {
                    float d = v[i + j] - shift;
                    lane[j] += d * d;
                    float m = fabsf(v[i + j]);
                    mx[j] = m > mx[j] ? m : mx[j];
                }
        else
            for (; i + LANES <= c1; i += LANES)
                for (int j = 0; j < LANES; j++) {
                    lane[j] += v[i + j];
                    float m = fabsf(v[i + j]);
                    mx[j] = m > mx[j] ? m : mx[j];
                }
        float part = 0;
        for (; i < c1; i++) {
            float d = square ? v[i] - shift : v[i];
            part += square ? d * d : d;
            float m = fabsf(v[i]);
            mx[0] = m > mx[0] ? m : mx[0];
        }
        for (int j = 0; j < LANES; j++) part += lane[j];
        total += part;
    }
    float m = 0;
    for (int j = 0; j < LANES; j++) m = mx[j] > m ? mx[j] : m;
    *maxabs = m;
    return total;
}

/* sin(x)^2 without libm: reduce by pi (the sign of sin drops out when squared), then an odd
 * polynomial on [-pi/2, pi/2] (|error| < 2e-7). The reduction is exact for |x| < 1e5. */
static inline float sin2_fast(float x) {
    const float inv_pi = 0.318309886f, pi_hi = 3.14159274f, pi_lo = -8.74227766e-08f;
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float k = (x * inv_pi + magic) - magic;
    float r = (x - k * pi_hi) - k * pi_lo;
    float r2 = r * r;
    float p = -2.3889859e-08f;
    p = p * r2 + 2.7525562e-06f;
    p = p * r2 - 1.9840874e-04f;
    p = p * r2 + 8.3333310e-03f;
    p = p * r2 - 1.6666667e-01f;
    float sn = r + r * r2 * p;
    return sn * sn;
}

/* d = s * k + o, then Snake with alpha a (a != 0, every |a * v| < 1e5 after the affine);
 * d may be s (in place). */
NN_CLONES static void affine_snake_row(const float *s, float *d, int l, float k, float o,
                                       float a) {
    float ia = 1.0f / a;
    for (int i = 0; i < l; i++) {
        float y = s[i] * k + o;
        d[i] = y + ia * sin2_fast(a * y);
    }
}

NN_CLONES static void affine_row(const float *s, float *d, int l, float k, float o) {
    for (int i = 0; i < l; i++) d[i] = s[i] * k + o;
}

/* Row modes of an affine (+ Snake): plain affine, affine + fast Snake, affine + libm Snake. */
enum { ROW_AFFINE = 0, ROW_SNAKE_FAST = 1, ROW_SNAKE_SLOW = 2 };

/* Channel ch of x[c][l]: the affine k, o of its AdaIN (k = 1, o = 0 when norm is 0) and the
 * row mode. Both the whole-row and the windowed paths use these numbers. */
/* sum_lanes of a bf16 row widened: chunk by chunk of SUM_CHUNK, as sum_lanes adds them, so
 * the same numbers as over the widened row. */
static double sum_lanes_bf16(const uint16_t *v, int l, float shift, int square, float *maxabs) {
    float w[SUM_CHUNK];
    double total = 0;
    *maxabs = 0;
    for (int c0 = 0; c0 < l; c0 += SUM_CHUNK) {
        int n = l - c0 < SUM_CHUNK ? l - c0 : SUM_CHUNK;
        float mx;
        bf16_widen(v + c0, (size_t)n, w);
        total += sum_lanes(w, n, shift, square, &mx);
        *maxabs = mx > *maxabs ? mx : *maxabs;
    }
    return total;
}

/* The statistics of row v (float) or vb (bf16, when v is NULL). */
static double row_sum(const float *v, const uint16_t *vb, int l, float shift, int square,
                      float *maxabs) {
    return v ? sum_lanes(v, l, shift, square, maxabs)
             : sum_lanes_bf16(vb, l, shift, square, maxabs);
}

static void chan_coeffs(const float *v, const uint16_t *vb, int l, int norm, int ch,
                        const float *gamma, const float *beta, const float *alpha, float *k_,
                        float *o_, unsigned char *mode) {
    float k = 1.0f, o = 0.0f, mx;
    if (norm) {
        float mean = (float)(row_sum(v, vb, l, 0.0f, 0, &mx) / l);
        float var = (float)(row_sum(v, vb, l, mean, 1, &mx) / l);
        float inv = 1.0f / sqrtf(var + 1e-5f);
        float g = gamma ? 1.0f + gamma[ch] : 1.0f, b = beta ? beta[ch] : 0.0f;
        k = g * inv;
        o = b - mean * k;
    } else {
        row_sum(v, vb, l, 0.0f, 0, &mx);
    }
    *k_ = k;
    *o_ = o;
    if (!alpha) {
        *mode = ROW_AFFINE;
        return;
    }
    float al = alpha[ch];
    /* bound on |alpha * y| over the row: the fast sine is exact below 1e5 */
    *mode = al != 0.0f && fabsf(al) * (mx * fabsf(k) + fabsf(o)) < 1e5f ? ROW_SNAKE_FAST
                                                                        : ROW_SNAKE_SLOW;
}

/* d[0:n] = affine (+ Snake) of s[0:n], by mode (d may be s). */
static void apply_row(const float *s, float *d, int n, float k, float o, float al,
                      unsigned char mode) {
    if (mode == ROW_AFFINE) {
        affine_row(s, d, n, k, o);
    } else if (mode == ROW_SNAKE_FAST) {
        affine_snake_row(s, d, n, k, o, al);
    } else {
        float ia = 1.0f / al; /* rare: huge values (or alpha 0, which gives inf/nan as torch) */
        for (int i = 0; i < n; i++) {
            float y = s[i] * k + o, q = sinf(al * y);
            d[i] = y + ia * (q * q);
        }
    }
}

struct adain_ctx {
    float *x;
    int l, norm;
    const float *gamma, *beta, *alpha;
};
static void adain_range(void *p, int c0, int c1) {
    struct adain_ctx *a = p;
    int l = a->l;
    for (int ch = c0; ch < c1; ch++) {
        float *v = a->x + (size_t)ch * l, k, o;
        unsigned char mode;
        chan_coeffs(v, NULL, l, a->norm, ch, a->gamma, a->beta, a->alpha, &k, &o, &mode);
        if (a->norm || a->alpha) apply_row(v, v, l, k, o, a->alpha ? a->alpha[ch] : 0.0f, mode);
    }
}

void chorus_nn_adain_snake(float *x, int c, int l, const float *gamma, const float *beta,
                           const float *alpha) {
    struct adain_ctx a = {x, l, 1, gamma, beta, alpha};
    parallel_channels(adain_range, &a, c, (size_t)c * l * (alpha ? 8 : 1));
}

struct coeff_ctx {
    const float *x;
    const uint16_t *xb; /* instead of x: bf16 rows */
    int l;
    const float *gamma, *beta, *alpha;
    struct chorus_nn_affine *af;
};
static void coeff_range(void *p, int c0, int c1) {
    struct coeff_ctx *a = p;
    for (int ch = c0; ch < c1; ch++)
        chan_coeffs(a->x ? a->x + (size_t)ch * a->l : NULL,
                    a->xb ? a->xb + (size_t)ch * a->l : NULL, a->l, 1, ch, a->gamma, a->beta,
                    a->alpha, &a->af->k[ch], &a->af->o[ch], &a->af->mode[ch]);
}

void chorus_nn_adain_coeffs(const float *x, int c, int l, const float *gamma, const float *beta,
                            const float *alpha, struct chorus_nn_affine *af) {
    struct coeff_ctx a = {x, NULL, l, gamma, beta, alpha, af};
    af->alpha = alpha;
    parallel_channels(coeff_range, &a, c, (size_t)c * l);
}

void chorus_nn_adain_coeffs_bf16(const uint16_t *x, int c, int l, const float *gamma,
                                 const float *beta, const float *alpha,
                                 struct chorus_nn_affine *af) {
    struct coeff_ctx a = {NULL, x, l, gamma, beta, alpha, af};
    af->alpha = alpha;
    parallel_channels(coeff_range, &a, c, (size_t)c * l);
}

struct window_ctx {
    const float *x;
    int l, t0, n;
    const struct chorus_nn_affine *af;
    float *out;
    const uint16_t *xb; /* instead of x: bf16 rows (widened into the window first) */
};
/* Columns [a, b) of row ch of the window into r[0:b-a]: the affine (+ Snake) of the row
 * inside it, zero (the conv's padding) outside. */
static void window_part(const struct window_ctx *w, int ch, int a, int b, float *r) {
    int lo = w->t0 < 0 ? -w->t0 : 0, hi = w->l - w->t0 < w->n ? w->l - w->t0 : w->n;
    if (lo < a) lo = a;
    if (hi > b) hi = b;
    if (hi <= lo) {
        memset(r, 0, (size_t)(b - a) * sizeof *r);
        return;
    }
    memset(r, 0, (size_t)(lo - a) * sizeof *r);
    memset(r + (hi - a), 0, (size_t)(b - hi) * sizeof *r);
    const struct chorus_nn_affine *af = w->af;
    const float *src = r + (lo - a);
    if (w->xb) /* widened into the window, then transformed in place */
        bf16_widen(w->xb + (size_t)ch * w->l + w->t0 + lo, (size_t)(hi - lo), r + (lo - a));
    else
        src = w->x + (size_t)ch * w->l + w->t0 + lo;
    apply_row(src, r + (lo - a), hi - lo, af->k[ch], af->o[ch], af->alpha ? af->alpha[ch] : 0.0f,
              af->mode[ch]);
}
static void window_row(const struct window_ctx *w, int ch, float *r) {
    window_part(w, ch, 0, w->n, r);
}
static void window_range(void *p, int c0, int c1) {
    struct window_ctx *w = p;
    for (int ch = c0; ch < c1; ch++) window_row(w, ch, w->out + (size_t)ch * w->n);
}

void chorus_nn_affine_window(const float *x, int c, int l, int t0, int n,
                             const struct chorus_nn_affine *af, float *out) {
    struct window_ctx w = {x, l, t0, n, af, out, NULL};
    parallel_channels(window_range, &w, c, (size_t)c * n * 8);
}

/* See chorus_nn_bf16_pairs: round to nearest even as chorus_nn_to_bf16, without its NaN case.
 * Static: a clone-dispatched global would export its ifunc resolver from libchorus. */
NN_CLONES static void bf16_pairs(const float *restrict a, const float *restrict b, int n,
                                 uint32_t *restrict out) {
    for (int i = 0; i < n; i++) {
        uint32_t ua, ub = 0;
        memcpy(&ua, a + i, sizeof ua);
        if (b) memcpy(&ub, b + i, sizeof ub);
        ua += 0x7fffu + (ua >> 16 & 1u);
        ub += 0x7fffu + (ub >> 16 & 1u);
        out[i] = ua >> 16 | (ub & 0xffff0000u);
    }
}
void chorus_nn_bf16_pairs(const float *a, const float *b, int n, uint32_t *out) {
    bf16_pairs(a, b, n, out);
}

NN_CLONES static void bf16_row(const float *restrict a, int n, uint16_t *restrict out) {
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, a + i, sizeof u);
        u += 0x7fffu + (u >> 16 & 1u);
        out[i] = (uint16_t)(u >> 16);
    }
}
void chorus_nn_bf16_row(const float *a, int n, uint16_t *out) { bf16_row(a, n, out); }

struct wpair_ctx {
    struct window_ctx w; /* its out is unused: rows go through a two-row scratch */
    int c;
    uint32_t *out;
};
/* Channel pairs [i0, i1), WPAIR_RUN columns at a time through two rows of scratch that stay
 * in L1 (the values go straight from x to the pairs, with no copy of the window). */
enum { WPAIR_RUN = 512 };
static void wpair_range(void *p, int i0, int i1) {
    struct wpair_ctx *wp = p;
    int n = wp->w.n;
    float rows[2 * WPAIR_RUN];
    for (int i = i0; i < i1; i++) {
        int two = 2 * i + 1 < wp->c;
        for (int a = 0; a < n; a += WPAIR_RUN) {
            int b = n - a < WPAIR_RUN ? n : a + WPAIR_RUN;
            window_part(&wp->w, 2 * i, a, b, rows);
            if (two) window_part(&wp->w, 2 * i + 1, a, b, rows + WPAIR_RUN);
            bf16_pairs(rows, two ? rows + WPAIR_RUN : NULL, b - a, wp->out + (size_t)i * n + a);
        }
    }
}

int chorus_nn_affine_window_pairs(const float *x, int c, int l, int t0, int n,
                                  const struct chorus_nn_affine *af, uint32_t *out) {
    struct wpair_ctx wp = {{x, l, t0, n, af, NULL, NULL}, c, out};
    parallel_channels(wpair_range, &wp, (c + 1) / 2, (size_t)c * n * 8);
    return 0;
}

int chorus_nn_affine_window_pairs_bf16(const uint16_t *x, int c, int l, int t0, int n,
                                       const struct chorus_nn_affine *af, uint32_t *out) {
    struct wpair_ctx wp = {{NULL, l, t0, n, af, NULL, x}, c, out};
    parallel_channels(wpair_range, &wp, (c + 1) / 2, (size_t)c * n * 8);
    return 0;
}

void chorus_nn_adain(float *x, int c, int l, const float *gamma, const float *beta) {
    chorus_nn_adain_snake(x, c, l, gamma, beta, NULL);
}

void chorus_nn_snake(float *x, int c, int l, const float *alpha) {
    struct adain_ctx a = {x, l, 0, NULL, NULL, alpha};
    parallel_channels(adain_range, &a, c, (size_t)c * l * 8);
}

NN_CLONES static void leaky_relu(float *restrict x, size_t n, float slope) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = v < 0 ? v * slope : v;
    }
}

NN_CLONES static void add_div(float *restrict y, const float *restrict x, size_t n, float div) {
    if (div == 1.0f)
        for (size_t i = 0; i < n; i++) y[i] += x[i];
    else
        for (size_t i = 0; i < n; i++) y[i] = (y[i] + x[i]) / div;
}

NN_CLONES static void add_mul(float *restrict y, const float *restrict x, size_t n, float k) {
    for (size_t i = 0; i < n; i++) y[i] = (y[i] + x[i]) * k;
}

/* exp(x) for x clamped to [-87, 88], within ~2 ulp, in plain arithmetic that vectorizes
 * (no libm call): x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so that n * hi is exact),
 * e^r by its Taylor series to r^7 (remainder < 1.2e-8 relative), times 2^n from the bits. */
static inline float exp_vec(float x) {
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float n = __builtin_floorf(x * 1.44269504f + 0.5f);
    float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-6f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t e = ((int32_t)n + 127) * (1 << 23);
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

/* tanh within ~3 ulp, vectorizable: an odd Taylor polynomial to u^11 below |u| = 0.3 (next
 * term < 6e-10), 1 - 2 / (e^(2|u|) + 1) above (exp_vec saturates it to 1 past |u| = 44). */
static inline float tanh_vec(float u) {
    float a = __builtin_fabsf(u), a2 = a * a;
    float p = -1382.0f / 155925;
    p = p * a2 + 62.0f / 2835;
    p = p * a2 - 17.0f / 315;
    p = p * a2 + 2.0f / 15;
    p = p * a2 - 1.0f / 3;
    float ts = a + a * a2 * p, tl = 1.0f - 2.0f / (exp_vec(2.0f * a) + 1.0f);
    return __builtin_copysignf(a < 0.3f ? ts : tl, u);
}

/* GELU, tanh form (HF's gelu_new, torch's formula and order of operations): 0.5 x (1 +
 * tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3). */
NN_CLONES static void gelu_tanh(float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanh_vec(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

/* Elementwise passes over whole tensors, in blocks of EW_BLOCK floats on the kernels' threads
 * (memory-bound, but one core does not saturate the memory bus). Same numbers either way. */
enum { EW_BLOCK = 1 << 15, EW_LEAKY, EW_ADD, EW_COPY, EW_GELU, EW_ADD_MUL };
struct ew_job {
    int op;
    float *y;
    const float *x;
    size_t n;
    float v;
};
static void ew_range(void *p, int b0, int b1) {
    struct ew_job *j = p;
    size_t i0 = (size_t)b0 * EW_BLOCK, i1 = (size_t)b1 * EW_BLOCK < j->n ? (size_t)b1 * EW_BLOCK : j->n;
    if (j->op == EW_LEAKY) leaky_relu(j->y + i0, i1 - i0, j->v);
    else if (j->op == EW_ADD) add_div(j->y + i0, j->x + i0, i1 - i0, j->v);
    else if (j->op == EW_GELU) gelu_tanh(j->y + i0, i1 - i0);
    else if (j->op == EW_ADD_MUL) add_mul(j->y + i0, j->x + i0, i1 - i0, j->v);
    else memcpy(j->y + i0, j->x + i0, (i1 - i0) * sizeof *j->y);
}
static void ew_run(int op, float *y, const float *x, size_t n, float v, size_t work) {
    struct ew_job j = {op, y, x, n, v};
    size_t blocks = (n + EW_BLOCK - 1) / EW_BLOCK;
    if (blocks > (size_t)INT32_MAX) blocks = 1; /* not reached: tensors are far smaller */
    if (blocks < 2) ew_range(&j, 0, (int)blocks);
    else parallel_channels(ew_range, &j, (int)blocks, work);
}

void chorus_nn_leaky_relu(float *x, size_t n, float slope) {
    ew_run(EW_LEAKY, x, NULL, n, slope, n);
}
void chorus_nn_add(float *y, const float *x, size_t n, float div) {
    ew_run(EW_ADD, y, x, n, div, n);
}
void chorus_nn_copy(float *y, const float *x, size_t n) { ew_run(EW_COPY, y, x, n, 0.0f, n); }
void chorus_nn_add_mul(float *y, const float *x, size_t n, float k) {
    ew_run(EW_ADD_MUL, y, x, n, k, n);
}
void chorus_nn_gelu_tanh(float *x, size_t n) { ew_run(EW_GELU, x, NULL, n, 0.0f, n * 16); }

void chorus_nn_transpose(const float *x, int rows, int cols, float *out) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) out[(size_t)c * rows + r] = x[(size_t)r * cols + c];
}

/* ---------------------------------------------------------------------------------------- */
/* STFT                                                                                       */

/* cos/sin of 2 pi i / n, exact at multiples of a quarter turn (so DC and Nyquist bins have
 * exactly zero imaginary parts, as an FFT gives). */
static double cos_exact(long i, int n) {
    if (4 * i % n == 0) {
        long q = 4 * i / n;
        return q == 0 ? 1.0 : q == 2 ? -1.0 : 0.0;
    }
    return cos(2.0 * M_PI * (double)i / n);
}
static double sin_exact(long i, int n) {
    if (4 * i % n == 0) {
        long q = 4 * i / n;
        return q == 1 ? 1.0 : q == 3 ? -1.0 : 0.0;
    }
    return sin(2.0 * M_PI * (double)i / n);
}

static void hann(double *w, int n) {
    for (int i = 0; i < n; i++) w[i] = 0.5 - 0.5 * cos(2.0 * M_PI * i / n);
}

/* Frames [f0, f1) of an STFT (each frame on its own: run on the kernels' threads). */
struct stft_job {
    const float *x;
    int n, n_fft, hop, bins, frames;
    const double *w, *ct, *st;
    float *mag, *phase;
};
static void stft_range(void *p, int f0, int f1) {
    const struct stft_job *j = p;
    int n_fft = j->n_fft, half = n_fft / 2;
    double fr[4096]; /* n_fft <= 4096 (checked by the caller) */
    for (int f = f0; f < f1; f++) {
        for (int q = 0; q < n_fft; q++) {
            long p2 = (long)f * j->hop + q - half; /* reflect padding */
            if (p2 < 0) p2 = -p2;
            if (p2 >= j->n) p2 = 2L * (j->n - 1) - p2;
            fr[q] = (double)j->x[p2] * j->w[q];
        }
        for (int k = 0; k < j->bins; k++) {
            double re = 0, im = 0;
            for (int q = 0; q < n_fft; q++) {
                re += fr[q] * j->ct[k * n_fft + q];
                im += fr[q] * j->st[k * n_fft + q];
            }
            float fre = (float)re, fim = (float)im;
            j->mag[(size_t)k * j->frames + f] = sqrtf(fre * fre + fim * fim);
            j->phase[(size_t)k * j->frames + f] = atan2f(fim, fre);
        }
    }
}

int chorus_nn_stft(const float *x, int n, int n_fft, int hop, float *mag, float *phase) {
    int half = n_fft / 2, bins = half + 1;
    if (n_fft <= 0 || n_fft > 4096 || hop <= 0 || n <= half) return -1;
    int frames = 1 + n / hop;
    double *w = malloc(sizeof(double) * (size_t)(n_fft + bins * n_fft * 2));
    if (!w) return -1;
    double *ct = w + n_fft, *st = ct + (size_t)bins * n_fft;
    hann(w, n_fft);
    for (int k = 0; k < bins; k++)
        for (int j = 0; j < n_fft; j++) {
            ct[k * n_fft + j] = cos_exact((long)k * j % n_fft, n_fft);
            st[k * n_fft + j] = -sin_exact((long)k * j % n_fft, n_fft);
        }
    struct stft_job j = {x, n, n_fft, hop, bins, frames, w, ct, st, mag, phase};
    parallel_channels(stft_range, &j, frames, (size_t)frames * bins * n_fft * 2);
    free(w);
    return frames;
}

/* The time signal of frames [f0, f1) of an iSTFT block into fr[f - base][n_fft] (each frame
 * on its own: run on the kernels' threads; the overlap-add stays in frame order). */
struct istft_job {
    const float *mag, *phase;
    int frames, n_fft, bins, base;
    const double *ct, *st;
    double *fr;
};
static void istft_range(void *p, int f0, int f1) {
    const struct istft_job *j = p;
    int n_fft = j->n_fft, half = n_fft / 2;
    for (int f = f0; f < f1; f++) {
        double *fr = j->fr + (size_t)(f - j->base) * n_fft;
        for (int q = 0; q < n_fft; q++) fr[q] = 0;
        for (int k = 0; k < j->bins; k++) {
            float m = j->mag[(size_t)k * j->frames + f], ph = j->phase[(size_t)k * j->frames + f];
            double re = (double)(m * cosf(ph)), im = (double)(m * sinf(ph));
            int edge = k == 0 || (n_fft % 2 == 0 && k == half);
            double scale = edge ? 1.0 : 2.0;
            if (edge) im = 0;
            for (int q = 0; q < n_fft; q++)
                fr[q] += scale * (re * j->ct[k * n_fft + q] - im * j->st[k * n_fft + q]);
        }
    }
}

/* parallel_channels gives ranges from 0: frames [base + i0, base + i1) */
static void istft_block(void *p, int i0, int i1) {
    const struct istft_job *j = p;
    istft_range(p, j->base + i0, j->base + i1);
}

enum { ISTFT_BLOCK = 4096 };
int chorus_nn_istft(const float *mag, const float *phase, int frames, int n_fft, int hop,
                    float *out) {
    int half = n_fft / 2, bins = half + 1;
    if (n_fft <= 0 || n_fft > 4096 || hop <= 0 || frames < 1) return -1;
    size_t total = (size_t)n_fft + (size_t)hop * (frames - 1);
    int blk = frames < ISTFT_BLOCK ? frames : ISTFT_BLOCK;
    double *buf = calloc(total * 2 + (size_t)n_fft + (size_t)bins * n_fft * 2 +
                             (size_t)blk * n_fft,
                         sizeof *buf);
    if (!buf) return -1;
    double *env = buf + total, *w = env + total, *ct = w + n_fft, *st = ct + (size_t)bins * n_fft,
           *frs = st + (size_t)bins * n_fft;
    hann(w, n_fft);
    for (int k = 0; k < bins; k++)
        for (int j = 0; j < n_fft; j++) {
            ct[k * n_fft + j] = cos_exact((long)k * j % n_fft, n_fft);
            st[k * n_fft + j] = sin_exact((long)k * j % n_fft, n_fft);
        }
    for (int b0 = 0; b0 < frames; b0 += blk) {
        int b1 = frames - b0 < blk ? frames : b0 + blk;
        struct istft_job j = {mag, phase, frames, n_fft, bins, b0, ct, st, frs};
        parallel_channels(istft_block, &j, b1 - b0, (size_t)(b1 - b0) * bins * n_fft * 4);
        for (int f = b0; f < b1; f++) {
            const double *fr = frs + (size_t)(f - b0) * n_fft;
            size_t o = (size_t)f * hop;
            for (int q = 0; q < n_fft; q++) {
                buf[o + q] += fr[q] / n_fft * w[q];
                env[o + q] += w[q] * w[q];
            }
        }
    }
    size_t n = (size_t)hop * (frames - 1);
    for (size_t i = 0; i < n; i++) {
        double e = env[i + half];
        out[i] = (float)(e > 1e-11 ? buf[i + half] / e : buf[i + half]);
    }
    free(buf);
    return 0;
}
