/*
 * dconv.c — direct stride-1 convolutions for the generator's residual blocks (see nn.h,
 * chorus_nn_conv_valid).
 *
 * The per-tap GEMMs of chorus_nn_conv_forward() give OpenBLAS a K of only cin (128 in the
 * generator's last stage): every tap re-reads and re-writes the output block and re-packs the
 * input, and the run reaches about a third of the CPU's FMA rate there. Here one register-
 * blocked kernel sums all taps and channels of an 8-row x 48-column output block before
 * storing it once, reading the input rows in place (tap j is the same rows shifted by j*dil),
 * with the weights re-laid out per call as [row block][tap][channel][8 rows] so each step
 * broadcasts 8 consecutive floats.
 *
 * bfloat16 weights run on AVX512_BF16 dot products (vdpbf16ps: two products per lane and
 * instruction, twice the float32 FMA rate): the input is rounded to bfloat16 once per call and
 * stored as channel pairs [c/2][t] (32 bits: channel 2i in the low half, 2i+1 in the high), the
 * weights as the same pairs, accumulation in float32. Without AVX512_BF16 they are widened to
 * float32 and take the float32 kernel.
 *
 * Only x86-64 with AVX-512F has a kernel; every other CPU (and CHORUS_NN_DCONV=0) runs the
 * portable path: chorus_nn_conv_forward() with the padding already in the window.
 */
#include "nn/nn.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define DC_X86 1
#endif

enum { MR = 8, NV = 3, NR = 16 * NV, SUPER = 8 * NR };

/* 2: AVX512_BF16 and AVX-512F, 1: AVX-512F, 0: neither or disabled (CHORUS_NN_DCONV=0). */
static int dc_level_once = -1;
#ifdef DC_X86
static int dc_detect(void) {
    const char *e = getenv("CHORUS_NN_DCONV");
    if (e && !strcmp(e, "0")) return 0;
    if (!chorus_nn_cpu_avx512()) return 0; /* AVX-512F, enabled by the OS */
    int lvl = 1;
    unsigned a, b, c, d;
    if (e && !strcmp(e, "1")) return lvl; /* float32 kernel only */
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) lvl = 2; /* AVX512_BF16 */
    return lvl;
}
#else
static int dc_detect(void) { return 0; }
#endif

int chorus_nn_dconv_level(void) {
    /* a benign race: every thread computes the same value */
    int v = __atomic_load_n(&dc_level_once, __ATOMIC_RELAXED);
    if (v < 0) {
        v = dc_detect();
        __atomic_store_n(&dc_level_once, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* The portable path: the window already holds the padding, so an unpadded conv of it. */
static int conv_valid_portable(const struct chorus_nn_conv *c, const float *x, int l, float *y,
                               int ldy, int add) {
    struct chorus_nn_conv v = *c;
    v.pad = 0;
    int n = chorus_nn_conv_out_len(&v, l);
    float *tmp = chorus_nn_alloc((size_t)c->cout * n * sizeof *tmp);
    if (!tmp) return -1;
    int rc = chorus_nn_conv_forward(&v, x, l, tmp);
    for (int o = 0; rc == 0 && o < c->cout; o++) {
        float *d = y + (size_t)o * ldy;
        const float *s = tmp + (size_t)o * n;
        if (add)
            for (int i = 0; i < n; i++) d[i] = s[i] + d[i];
        else
            memcpy(d, s, (size_t)n * sizeof *d);
    }
    free(tmp);
    return rc;
}

#ifdef DC_X86
#define DC_F32 __attribute__((target("avx512f")))
#define DC_BF16 __attribute__((target("avx512f,avx512bf16")))

struct dc_job {
    const struct chorus_nn_conv *c;
    const void *w;    /* packed: float [cout/MR][k][cin][MR] or uint32 [cout/MR][k][cin/2][MR] */
    const void *x;    /* float [cin][ldx] or uint32 pairs [cin/2][ldx] */
    int ldx, rows, n; /* rows: cin, or channel pairs */
    float *y;
    int ldy, add, bf16;
    const float *scale; /* int8 weights (w: int8 [cout/MR][k][cin/2][MR][2]): their scales */
    int failed;         /* set (atomically) when a range could not get its scratch */
};

static inline __mmask16 DC_F32 lane_mask(int left) {
    return left >= 16 ? (__mmask16)0xffff : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
}

/* The masks of a block with nc valid columns, and its accumulators set to the bias. */
static inline __attribute__((always_inline)) void DC_F32 block_init(__m512 acc[MR][NV],
                                                                     __mmask16 m[NV], int nc,
                                                                     const float *bias) {
    _Pragma("GCC unroll 8")
    for (int v = 0; v < NV; v++) m[v] = lane_mask(nc - 16 * v);
    _Pragma("GCC unroll 8")
    for (int r = 0; r < MR; r++)
        _Pragma("GCC unroll 8")
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_set1_ps(bias ? bias[r] : 0.0f);
}

/* Store (or add into y) the accumulators of one 8 x 48 block, nc columns of it valid; with
 * scale (int8 weights) they are first scaled per row and the bias added. */
static inline void DC_F32 block_store(__m512 acc[MR][NV], const __mmask16 m[NV], float *y,
                                      int ldy, int add, const float *scale, const float *bias) {
    _Pragma("GCC unroll 8")
    for (int r = 0; r < MR; r++) {
        float *yr = y + (size_t)r * ldy;
        __m512 sc = _mm512_set1_ps(scale ? scale[r] : 1.0f);
        __m512 bv = _mm512_set1_ps(scale && bias ? bias[r] : 0.0f);
        _Pragma("GCC unroll 8")
        for (int v = 0; v < NV; v++) {
            __m512 s = scale ? _mm512_fmadd_ps(acc[r][v], sc, bv) : acc[r][v];
            if (add) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m[v], yr + 16 * v));
            _mm512_mask_storeu_ps(yr + 16 * v, m[v], s);
        }
    }
}

/* y[8][nc] (+)= bias + sum over taps and channels, float32 FMAs. */
static void DC_F32 kernel_f32(const float *restrict w, const float *restrict x, int ldx, int cin,
                              int k, int dil, int nc, const float *bias, float *y, int ldy,
                              int add) {
    __mmask16 m[NV];
    __m512 acc[MR][NV];
    block_init(acc, m, nc, bias);
    for (int j = 0; j < k; j++) {
        const float *xj = x + (size_t)j * dil, *wj = w + (size_t)j * cin * MR;
        for (int c = 0; c < cin; c++) {
            const float *xr = xj + (size_t)c * ldx, *wr = wj + (size_t)c * MR;
            __m512 xv[NV];
            _Pragma("GCC unroll 8")
            for (int v = 0; v < NV; v++) xv[v] = _mm512_maskz_loadu_ps(m[v], xr + 16 * v);
            _Pragma("GCC unroll 8")
            for (int r = 0; r < MR; r++) {
                __m512 wv = _mm512_set1_ps(wr[r]);
                _Pragma("GCC unroll 8")
                for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(wv, xv[v], acc[r][v]);
            }
        }
    }
    block_store(acc, m, y, ldy, add, NULL, NULL);
}

/* The same on bfloat16 channel pairs: each vdpbf16ps adds two channels' products per lane.
 * scale: the rows' scales of int8 weights (w then holds them widened), else NULL. */
static void DC_BF16 kernel_bf16(const uint32_t *restrict w, const uint32_t *restrict x, int ldx,
                                int pairs, int k, int dil, int nc, const float *bias, float *y,
                                int ldy, int add, const float *scale) {
    __mmask16 m[NV];
    __m512 acc[MR][NV];
    block_init(acc, m, nc, scale ? NULL : bias);
    for (int j = 0; j < k; j++) {
        const uint32_t *xj = x + (size_t)j * dil, *wj = w + (size_t)j * pairs * MR;
        for (int c = 0; c < pairs; c++) {
            const uint32_t *xr = xj + (size_t)c * ldx, *wr = wj + (size_t)c * MR;
            __m512bh xv[NV];
            _Pragma("GCC unroll 8")
            for (int v = 0; v < NV; v++)
                xv[v] = (__m512bh)_mm512_maskz_loadu_epi32(m[v], xr + 16 * v);
            _Pragma("GCC unroll 8")
            for (int r = 0; r < MR; r++) {
                __m512bh wv = (__m512bh)_mm512_set1_epi32((int)wr[r]);
                _Pragma("GCC unroll 8")
                for (int v = 0; v < NV; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], xv[v], wv);
            }
        }
    }
    block_store(acc, m, y, ldy, add, scale, bias);
}

/* n int8 weights (even) as bf16, in order: int8 pairs become the kernel's bf16 pairs. Exact:
 * every |q| <= 127 is a bfloat16. */
static void DC_BF16 widen_q8(const int8_t *restrict q, size_t n, uint32_t *restrict out) {
    uint16_t *o = (uint16_t *)(void *)out;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(q + i));
        __m256bh h = _mm512_cvtneps_pbh(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)));
        _mm256_storeu_si256((__m256i *)(void *)(o + i), (__m256i)h);
    }
    for (; i < n; i++) o[i] = chorus_nn_to_bf16((float)q[i]);
}

/* Columns [s0, s1) of the job in super-blocks: per super-block every row block, so the row
 * block's weights are reused over 8 column blocks and the input super-block stays in L2. */
static void dc_range(void *p, int s0, int s1) {
    struct dc_job *jb = p;
    const struct chorus_nn_conv *c = jb->c;
    size_t wblk = (size_t)c->k * jb->rows * MR;
    /* int8 weights: each row block widened to bf16 pairs here, once per super-block (the
     * kernel then runs it over 8 column blocks); on the heap, not the stack (~50 KB for the
     * decoder's, and callers' threads may have small stacks) */
    uint32_t *wide = jb->scale ? malloc(wblk * sizeof *wide) : NULL;
    if (jb->scale && !wide) {
        __atomic_store_n(&jb->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int s = s0; s < s1; s++) {
        int t0 = s * SUPER, t1 = jb->n - t0 < SUPER ? jb->n : t0 + SUPER;
        for (int ob = 0; ob < c->cout / MR; ob++) {
            const uint32_t *wb = (const uint32_t *)jb->w + ob * wblk;
            if (wide) {
                widen_q8((const int8_t *)jb->w + ob * wblk * 2, wblk * 2, wide);
                wb = wide;
            }
            for (int t = t0; t < t1; t += NR) {
                int nc = t1 - t < NR ? t1 - t : NR;
                float *y = jb->y + (size_t)ob * MR * jb->ldy + t;
                const float *b = c->b ? c->b + ob * MR : NULL;
                if (jb->bf16)
                    kernel_bf16(wb, (const uint32_t *)jb->x + t, jb->ldx, jb->rows, c->k, c->dil,
                                nc, b, y, jb->ldy, jb->add, wide ? jb->scale + ob * MR : NULL);
                else
                    kernel_f32((const float *)jb->w + ob * wblk, (const float *)jb->x + t,
                               jb->ldx, jb->rows, c->k, c->dil, nc, b, y, jb->ldy, jb->add);
            }
        }
    }
    free(wide);
}

#endif /* DC_X86 */

/* bf16 bits of the weight of tap j, output o, input channel i (0 past cin), from w or wb
 * (a conv with wp is read in wp's own order: chorus_nn_conv_weights_f32, pack_f32). */
static uint16_t wbits(const struct chorus_nn_conv *c, int j, int o, int i) {
    if (i >= c->cin) return 0;
    size_t at = ((size_t)j * c->cout + o) * c->cin + i;
    return c->wb ? c->wb[at] : chorus_nn_to_bf16(c->w[at]);
}

/* Weight of tap j, output o, input channel i as float32. */
static inline float w_at(const struct chorus_nn_conv *c, int j, int o, int i) {
    if (c->w) return c->w[((size_t)j * c->cout + o) * c->cin + i];
    if (c->wq) {
        size_t e = (((size_t)(o / MR) * c->k + j) * ((c->cin + 1) / 2) + i / 2) * MR + o % MR;
        return (float)c->wq[2 * e + (i & 1)] * c->ws[o];
    }
    uint32_t u = (uint32_t)wbits(c, j, o, i) << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void chorus_nn_conv_weights_f32(const struct chorus_nn_conv *c, float *out) {
    if (c->w) {
        memcpy(out, c->w, chorus_nn_conv_packed_count(c) * sizeof *out);
    } else if (c->wb) {
        chorus_nn_bf16_widen(c->wb, chorus_nn_conv_packed_count(c), out);
    } else if (c->wq) {
        for (int j = 0; j < c->k; j++)
            for (int o = 0; o < c->cout; o++)
                for (int i = 0; i < c->cin; i++)
                    out[((size_t)j * c->cout + o) * c->cin + i] = w_at(c, j, o, i);
    } else if (c->wp) { /* read wp in order, scatter to [k][cout][cin] */
        const uint32_t *u = c->wp;
        int pairs = (c->cin + 1) / 2;
        for (int ob = 0; ob < c->cout; ob += MR)
            for (int j = 0; j < c->k; j++)
                for (int i = 0; i < pairs; i++)
                    for (int r = 0; r < MR; r++, u++) {
                        float *d = out + ((size_t)j * c->cout + ob + r) * c->cin + 2 * i;
                        uint32_t lo = *u << 16, hi = *u & 0xffff0000u;
                        memcpy(d, &lo, sizeof lo);
                        if (2 * i + 1 < c->cin) memcpy(d + 1, &hi, sizeof hi);
                    }
    }
}

uint32_t *chorus_nn_dconv_pack_bf16(const struct chorus_nn_conv *c) {
    if (c->transposed || c->groups != 1 || c->stride != 1 || c->cout % MR) return NULL;
    if (!c->w && !c->wb) return NULL;
    int pairs = (c->cin + 1) / 2;
    uint32_t *w = chorus_nn_alloc((size_t)c->cout * c->k * pairs * sizeof *w), *d = w;
    if (!w) return NULL;
    for (int ob = 0; ob < c->cout; ob += MR)
        for (int j = 0; j < c->k; j++)
            for (int i = 0; i < pairs; i++)
                for (int r = 0; r < MR; r++)
                    *d++ = wbits(c, j, ob + r, 2 * i) | (uint32_t)wbits(c, j, ob + r, 2 * i + 1) << 16;
    return w;
}

int8_t *chorus_nn_dconv_pack_int8(const struct chorus_nn_conv *c, float **scales) {
    *scales = NULL;
    if (c->transposed || c->groups != 1 || c->stride != 1 || c->cout % MR || !c->w) return NULL;
    int pairs = (c->cin + 1) / 2;
    float *s = malloc((size_t)c->cout * sizeof *s);
    int8_t *q = chorus_nn_alloc((size_t)c->cout * c->k * pairs * 2), *d = q;
    if (!s || !q) {
        free(s);
        free(q);
        return NULL;
    }
    for (int o = 0; o < c->cout; o++) { /* max |w| of the output channel over taps and inputs */
        float mx = 0.0f;
        for (int j = 0; j < c->k; j++)
            for (int i = 0; i < c->cin; i++) mx = fmaxf(mx, fabsf(w_at(c, j, o, i)));
        s[o] = mx > 0.0f ? mx / 127.0f : 1.0f;
    }
    for (int ob = 0; ob < c->cout; ob += MR)
        for (int j = 0; j < c->k; j++)
            for (int i = 0; i < 2 * pairs; i += 2)
                for (int r = 0; r < MR; r++)
                    for (int h = 0; h < 2; h++) {
                        float v = i + h < c->cin ? w_at(c, j, ob + r, i + h) / s[ob + r] : 0.0f;
                        long qv = lrintf(v);
                        *d++ = (int8_t)(qv > 127 ? 127 : qv < -127 ? -127 : qv);
                    }
    *scales = s;
    return q;
}

#ifdef DC_X86
static float *pack_f32(const struct chorus_nn_conv *c) {
    float *w = chorus_nn_alloc((size_t)c->cout * c->k * c->cin * sizeof *w), *d = w;
    if (!w) return NULL;
    if (c->wp) { /* same order with each pair split in two rows: read wp in order */
        const uint32_t *u = c->wp;
        int pairs = (c->cin + 1) / 2;
        for (int ob = 0; ob < c->cout; ob += MR)
            for (int j = 0; j < c->k; j++, d += (size_t)c->cin * MR)
                for (int i = 0; i < pairs; i++)
                    for (int r = 0; r < MR; r++, u++) {
                        uint32_t lo = *u << 16, hi = *u & 0xffff0000u;
                        memcpy(d + (size_t)2 * i * MR + r, &lo, sizeof lo);
                        if (2 * i + 1 < c->cin) memcpy(d + (size_t)(2 * i + 1) * MR + r, &hi, sizeof hi);
                    }
        return w;
    }
    for (int ob = 0; ob < c->cout; ob += MR)
        for (int j = 0; j < c->k; j++)
            for (int i = 0; i < c->cin; i++)
                for (int r = 0; r < MR; r++) *d++ = w_at(c, j, ob + r, i);
    return w;
}

/* Input channel pairs as bfloat16 (round to nearest even, as chorus_nn_to_bf16 without the
 * NaN case), rows [p0, p1). */
struct pair_job {
    const float *x;
    int cin, l;
    uint32_t *out;
};
static void pairs_range(void *p, int p0, int p1) {
    struct pair_job *pj = p;
    for (int i = p0; i < p1; i++) {
        const float *a = pj->x + (size_t)2 * i * pj->l;
        chorus_nn_bf16_pairs(a, 2 * i + 1 < pj->cin ? a + pj->l : NULL, pj->l,
                             pj->out + (size_t)i * pj->l);
    }
}

/* The kernel over every 8 x 48 block of jb's output, on the kernels' threads. */
static int dc_run(struct dc_job *jb) {
    const struct chorus_nn_conv *c = jb->c;
    int supers = (jb->n + SUPER - 1) / SUPER;
    chorus_nn_parallel(dc_range, jb, supers, (size_t)c->cout * c->cin * c->k * jb->n / 64);
    return jb->failed ? -1 : 0;
}

static int conv_valid_x86(const struct chorus_nn_conv *c, const float *x, int l, float *y,
                          int ldy, int add, int lvl) {
    int n = l - (c->k - 1) * c->dil;
    struct dc_job jb = {c, NULL, x, l, c->cin, n, y, ldy, add,
                        (c->wb || c->wp || c->wq) && lvl >= 2, NULL, 0};
    uint32_t *xp = NULL;
    void *w = NULL; /* packed for this call, when the conv has no packed copy of its own */
    if (jb.bf16) {
        jb.rows = (c->cin + 1) / 2;
        if (c->wq) jb.w = c->wq, jb.scale = c->ws;
        else if (c->wp) jb.w = c->wp;
        else jb.w = w = chorus_nn_dconv_pack_bf16(c);
        xp = chorus_nn_alloc((size_t)jb.rows * l * sizeof *xp);
        if (jb.w && xp) {
            struct pair_job pj = {x, c->cin, l, xp};
            chorus_nn_parallel(pairs_range, &pj, jb.rows, (size_t)c->cin * l);
            jb.x = xp;
        }
    } else {
        jb.w = w = pack_f32(c);
    }
    int rc = -1;
    if (jb.w && (!jb.bf16 || xp)) rc = dc_run(&jb);
    free(w);
    free(xp);
    return rc;
}
#endif

int chorus_nn_conv_takes_pairs(const struct chorus_nn_conv *c) {
#ifdef DC_X86
    return (c->wp || c->wq) && !c->transposed && c->groups == 1 && c->stride == 1 &&
           c->cout % MR == 0 && chorus_nn_dconv_level() >= 2;
#else
    (void)c;
    return 0;
#endif
}

int chorus_nn_conv_valid_pairs(const struct chorus_nn_conv *c, const uint32_t *xp, int l,
                               float *y, int ldy, int add) {
    if (!chorus_nn_conv_takes_pairs(c)) return -1;
#ifdef DC_X86
    int n = l - (c->k - 1) * c->dil;
    if (n <= 0) return 0;
    struct dc_job jb = {c,   c->wq ? (const void *)c->wq : (const void *)c->wp,
                        xp,  l, (c->cin + 1) / 2, n, y, ldy, add, 1, c->wq ? c->ws : NULL, 0};
    return dc_run(&jb);
#else
    (void)xp, (void)l, (void)y, (void)ldy, (void)add; /* not reached: no pairs kernel here */
    return 0;
#endif
}

int chorus_nn_conv_valid(const struct chorus_nn_conv *c, const float *x, int l, float *y,
                         int ldy, int add) {
    int n = l - (c->k - 1) * c->dil;
    if (n <= 0) return 0;
#ifdef DC_X86
    int lvl = chorus_nn_dconv_level();
    if (lvl >= 1 && !c->transposed && c->groups == 1 && c->stride == 1 && c->cout % MR == 0 &&
        (c->w || c->wb || c->wp || c->wq))
        return conv_valid_x86(c, x, l, y, ldy, add, lvl);
#endif
    return conv_valid_portable(c, x, l, y, ldy, add);
}
