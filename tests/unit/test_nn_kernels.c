/* The fast paths of src/nn/nn.c and dconv.c (threaded GEMM split, per-tap convolution straight
 * from the unpadded input, the direct float32/bfloat16 convolution kernels, fused AdaIN+Snake
 * with vectorized sums and sine) against plain double loops, at sizes large enough to take
 * those paths. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "test.h"

static unsigned long long rng_state = 88172645463325252ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}
static float *rnd(size_t n, float scale) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = frand() * scale;
    return p;
}
/* max |a - b| / max |b| */
static double rel_err(const float *a, const double *b, size_t n) {
    double mx = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        mx = fabs(b[i]) > mx ? fabs(b[i]) : mx;
        double e = fabs((double)a[i] - b[i]);
        d = e > d ? e : d;
    }
    return d / (mx > 0 ? mx : 1);
}

static void check_gemm(int ta, int tb, int m, int n, int k) {
    float *a = rnd((size_t)m * k, 1), *b = rnd((size_t)k * n, 1), *c = rnd((size_t)m * n, 1);
    double *ref = malloc((size_t)m * n * sizeof *ref);
    int lda = ta ? m : k, ldb = tb ? k : n;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int q = 0; q < k; q++)
                acc += (double)(ta ? a[(size_t)q * lda + i] : a[(size_t)i * lda + q]) *
                       (tb ? b[(size_t)j * ldb + q] : b[(size_t)q * ldb + j]);
            ref[(size_t)i * n + j] = 0.5 * acc + 2.0 * c[(size_t)i * n + j];
        }
    chorus_nn_gemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 2.0f, c, n);
    double e = rel_err(c, ref, (size_t)m * n);
    CHECK_MSG(e < 1e-5, "gemm ta=%d tb=%d %dx%dx%d: rel err %g", ta, tb, m, n, k, e);
    free(a);
    free(b);
    free(c);
    free(ref);
}

TEST(gemm_split_matches_loops) {
    check_gemm(0, 0, 128, 3001, 128); /* split by columns */
    check_gemm(0, 1, 2000, 40, 96);   /* split by rows */
    check_gemm(1, 0, 64, 1500, 200);
    check_gemm(1, 1, 300, 700, 50);
    check_gemm(0, 0, 7, 5, 3); /* small: no split */
}

static void check_conv(int cin, int cout, int k, int pad, int dil, int l) {
    float *tw = rnd((size_t)cout * cin * k, 0.3f), *bias = rnd((size_t)cout, 1),
          *x = rnd((size_t)cin * l, 1);
    struct chorus_nn_conv c;
    CHECK(chorus_nn_conv_init(&c, 0, cin, cout, k, 1, pad, dil, 1, 0, tw, bias) == 0);
    int lout = chorus_nn_conv_out_len(&c, l);
    CHECK(lout > 0);
    if (lout <= 0) return;
    float *y = malloc((size_t)cout * lout * sizeof *y);
    double *ref = malloc((size_t)cout * lout * sizeof *ref);
    for (int o = 0; o < cout; o++)
        for (int t = 0; t < lout; t++) {
            double acc = bias[o];
            for (int i = 0; i < cin; i++)
                for (int j = 0; j < k; j++) {
                    int p = t + j * dil - pad;
                    if (p >= 0 && p < l)
                        acc += (double)tw[((size_t)o * cin + i) * k + j] * x[(size_t)i * l + p];
                }
            ref[(size_t)o * lout + t] = acc;
        }
    CHECK(chorus_nn_conv_forward(&c, x, l, y) == 0);
    double e = rel_err(y, ref, (size_t)cout * lout);
    CHECK_MSG(e < 1e-5, "conv %d->%d k=%d pad=%d dil=%d l=%d: rel err %g", cin, cout, k, pad,
              dil, l, e);
    chorus_nn_conv_release(&c);
    free(tw);
    free(bias);
    free(x);
    free(y);
    free(ref);
}

TEST(conv_without_padded_copy_matches_loops) {
    check_conv(32, 48, 11, 25, 5, 3100); /* several time blocks, dilated */
    check_conv(40, 40, 7, 3, 1, 2049);
    check_conv(16, 8, 7, 9, 3, 5);       /* input shorter than the kernel's reach */
    check_conv(8, 8, 3, 0, 1, 1500);     /* no padding */
    check_conv(24, 24, 3, 1, 1, 1);      /* a single frame */
}

static float bf16_round(float f) {
    float r;
    uint32_t u = (uint32_t)chorus_nn_to_bf16(f) << 16;
    memcpy(&r, &u, sizeof r);
    return r;
}

/* chorus_nn_conv_valid on a window x[cin][l] that holds its padding, written into rows of
 * stride ldy (> n) with add = 0 and 1, against double loops. bf16: weights stored as bfloat16;
 * with AVX512_BF16 (level 2) the kernel also rounds the input to bfloat16, so the reference
 * does too and only the float32 summation order differs. */
/* The int8 weights the test expects of torch weights tw[cout][cin][k]: per output channel,
 * scale = max |w| / 127 and q = w / scale rounded; as float32 (q * scale) into out. */
static void int8_weights(const float *tw, int cout, int cin, int k, float *out) {
    for (int o = 0; o < cout; o++) {
        const float *r = tw + (size_t)o * cin * k;
        float mx = 0;
        for (int i = 0; i < cin * k; i++) mx = fmaxf(mx, fabsf(r[i]));
        float sc = mx > 0 ? mx / 127.0f : 1.0f;
        for (int i = 0; i < cin * k; i++) out[(size_t)o * cin * k + i] = (float)lrintf(r[i] / sc) * sc;
    }
}

/* prec: 0 float32, 1 bf16 weights, 2 int8 weights (bf16 where cout is not a multiple of 8). */
static void check_valid(int cin, int cout, int k, int dil, int n, int prec, int with_bias) {
    int l = n + (k - 1) * dil, ldy = n + 13;
    float *tw = rnd((size_t)cout * cin * k, 0.3f), *bias = rnd((size_t)cout, 1),
          *x = rnd((size_t)cin * l, 1), *y = rnd((size_t)cout * ldy, 1);
    float *y0 = malloc((size_t)cout * ldy * sizeof *y0), *tq = malloc((size_t)cout * cin * k * sizeof *tq);
    memcpy(y0, y, (size_t)cout * ldy * sizeof *y0);
    int bf16 = prec == 1 || (prec == 2 && cout % 8), int8 = prec == 2 && !bf16;
    if (int8) int8_weights(tw, cout, cin, k, tq);
    struct chorus_nn_conv c;
    CHECK(chorus_nn_conv_init(&c, 0, cin, cout, k, 1, (k - 1) * dil / 2, dil, 1, 0, tw,
                              with_bias ? bias : NULL) == 0);
    if (prec == 1) CHECK(chorus_nn_conv_to_bf16(&c) == 0);
    if (prec == 2) CHECK(chorus_nn_conv_to_int8(&c) == 0);
    CHECK(!int8 || (c.wq && c.ws && !c.wp && !c.w));
    int round_x = prec && chorus_nn_dconv_level() >= 2 && cout % 8 == 0; /* else portable */
    double *ref = malloc((size_t)cout * n * sizeof *ref);
    for (int o = 0; o < cout; o++)
        for (int t = 0; t < n; t++) {
            double acc = with_bias ? bias[o] : 0.0;
            for (int i = 0; i < cin; i++)
                for (int j = 0; j < k; j++) {
                    size_t at = ((size_t)o * cin + i) * k + j;
                    float w = int8 ? tq[at] : bf16 ? bf16_round(tw[at]) : tw[at];
                    float v = x[(size_t)i * l + t + j * dil];
                    acc += (double)w * (round_x ? bf16_round(v) : v);
                }
            ref[(size_t)o * n + t] = acc;
        }
    for (int add = 0; add <= 1; add++) {
        CHECK(chorus_nn_conv_valid(&c, x, l, y, ldy, add) == 0);
        float *got = malloc((size_t)cout * n * sizeof *got);
        double *want = malloc((size_t)cout * n * sizeof *want);
        int pad_ok = 1;
        for (int o = 0; o < cout; o++) {
            for (int t = 0; t < n; t++) {
                got[(size_t)o * n + t] = y[(size_t)o * ldy + t];
                want[(size_t)o * n + t] = ref[(size_t)o * n + t] + (add ? y0[(size_t)o * ldy + t] : 0.0);
            }
            for (int t = n; t < ldy; t++) pad_ok &= y[(size_t)o * ldy + t] == y0[(size_t)o * ldy + t];
        }
        double e = rel_err(got, want, (size_t)cout * n);
        CHECK_MSG(e < 1e-5, "conv_valid %d->%d k=%d dil=%d n=%d prec=%d add=%d (level %d): rel err %g",
                  cin, cout, k, dil, n, prec, add, chorus_nn_dconv_level(), e);
        CHECK_MSG(pad_ok, "conv_valid wrote past column n (%d) of a row", n);
        /* the add pass starts from this pass's output */
        memcpy(y0, y, (size_t)cout * ldy * sizeof *y0);
        free(got);
        free(want);
    }
    chorus_nn_conv_release(&c);
    free(tw);
    free(bias);
    free(x);
    free(y);
    free(y0);
    free(tq);
    free(ref);
}

TEST(direct_conv_matches_loops) {
    fprintf(stderr, "  direct conv kernel level %d\n", chorus_nn_dconv_level());
    for (int prec = 0; prec <= 2; prec++) {
        check_valid(128, 128, 11, 5, 1100, prec, 1); /* the generator's last stage, 3 blocks */
        check_valid(32, 16, 3, 1, 1000, prec, 0);    /* tail block, no bias */
        check_valid(33, 24, 7, 3, 47, prec, 1);      /* odd channels (a zero pair half) */
        check_valid(8, 8, 1, 1, 1, prec, 1);         /* one column */
        check_valid(16, 12, 3, 2, 200, prec, 1);     /* cout not a multiple of 8: portable */
        check_valid(1090, 16, 3, 1, 60, prec, 1);    /* a decoder-sized row block (> 64 KB) */
    }
}

/* int8 weights: within their quantization of float32's output (per-channel scales; an error
 * in the scale or the rounding shows here), kept and reused through int8_data/use_int8 with
 * the same output bits, and through chorus_nn_conv_forward (padding) as through conv_valid. */
TEST(int8_conv_is_close_and_reusable) {
    int cin = 64, cout = 32, k = 7, n = 900, l = n + k - 1;
    float *tw = rnd((size_t)cout * cin * k, 0.3f), *bias = rnd((size_t)cout, 1),
          *x = rnd((size_t)cin * l, 1);
    float *y32 = malloc((size_t)cout * n * sizeof *y32), *y8 = malloc((size_t)cout * n * sizeof *y8),
          *y8b = malloc((size_t)cout * n * sizeof *y8b), *yf = malloc((size_t)cout * n * sizeof *yf);
    struct chorus_nn_conv a, b, q;
    CHECK(chorus_nn_conv_init(&a, 0, cin, cout, k, 1, 0, 1, 1, 0, tw, bias) == 0);
    CHECK(chorus_nn_conv_init(&q, 0, cin, cout, k, 1, 0, 1, 1, 0, tw, bias) == 0);
    CHECK(chorus_nn_conv_init(&b, 0, cin, cout, k, 1, 0, 1, 1, 0, tw, bias) == 0);
    CHECK(chorus_nn_conv_to_int8(&q) == 0);
    CHECK(chorus_nn_conv_valid(&a, x, l, y32, n, 0) == 0);
    CHECK(chorus_nn_conv_valid(&q, x, l, y8, n, 0) == 0);
    double num = 0, den = 0;
    for (size_t i = 0; i < (size_t)cout * n; i++) {
        num += ((double)y8[i] - y32[i]) * ((double)y8[i] - y32[i]);
        den += (double)y32[i] * y32[i];
    }
    double snr = 10 * log10(den / num);
    CHECK_MSG(snr > 35 && snr < 60, "int8 conv SNR %.1f dB against float32", snr);
    const int8_t *qd;
    const float *sd;
    size_t qb;
    chorus_nn_conv_int8_data(&q, &qd, &qb, &sd);
    CHECK(qd && sd && qb == (size_t)cout * k * (cin / 2) * 2 && qb % 4 == 0);
    CHECK(chorus_nn_conv_use_int8(&b, qd, qb - 4, sd) == -1 && b.w); /* wrong size: unchanged */
    CHECK(chorus_nn_conv_use_int8(&b, qd, qb, sd) == 0 && !b.w && b.wq_borrowed);
    CHECK(chorus_nn_conv_valid(&b, x, l, y8b, n, 0) == 0);
    CHECK(memcmp(y8, y8b, (size_t)cout * n * sizeof *y8) == 0);
    /* forward with padding 3 of the inner columns = conv_valid of them zero-padded */
    int ni = l - 6;
    float *xin = malloc((size_t)cin * ni * sizeof *xin), *xz = calloc((size_t)cin * l, sizeof *xz);
    for (int i = 0; i < cin; i++) {
        memcpy(xin + (size_t)i * ni, x + (size_t)i * l + 3, (size_t)ni * sizeof *xin);
        memcpy(xz + (size_t)i * l + 3, xin + (size_t)i * ni, (size_t)ni * sizeof *xz);
    }
    struct chorus_nn_conv qp;
    CHECK(chorus_nn_conv_init(&qp, 0, cin, cout, k, 1, 3, 1, 1, 0, tw, bias) == 0);
    CHECK(chorus_nn_conv_to_int8(&qp) == 0);
    CHECK(chorus_nn_conv_forward(&qp, xin, ni, yf) == 0);
    CHECK(chorus_nn_conv_valid(&q, xz, l, y8b, n, 0) == 0);
    double dmax = 0, ymax = 0; /* the same sums; on the portable path in another order */
    for (size_t i = 0; i < (size_t)cout * n; i++) {
        dmax = fmax(dmax, fabs((double)yf[i] - y8b[i]));
        ymax = fmax(ymax, fabs((double)y8b[i]));
    }
    CHECK_MSG(dmax <= 1e-6 * ymax, "padded forward differs by %g of %g", dmax, ymax);
    chorus_nn_conv_release(&qp);
    free(xin);
    free(xz);
    chorus_nn_conv_release(&b);
    chorus_nn_conv_release(&a);
    chorus_nn_conv_release(&q);
    free(tw);
    free(bias);
    free(x);
    free(y32);
    free(y8);
    free(y8b);
    free(yf);
}

/* A strided ConvTranspose1d with bf16 weights (the generator's upsampling convolutions)
 * against double loops over torch's definition: y[o][t*s + j - pad] += w[i][o][j] x[i][t].
 * On a bf16 kernel CPU it runs as `stride` phase convolutions (chorus_nn_conv_polyphase),
 * which round the input to bf16 as well; elsewhere the weights are widened for a float32
 * GEMM. Odd lengths, a length shorter than the taps, and one input column. */
static void check_transposed(int cin, int cout, int k, int s, int pad, int l) {
    float *tw = rnd((size_t)cin * cout * k, 0.3f), *bias = rnd((size_t)cout, 1),
          *x = rnd((size_t)cin * l, 1);
    struct chorus_nn_conv c;
    CHECK(chorus_nn_conv_init(&c, 1, cin, cout, k, s, pad, 1, 1, 0, tw, bias) == 0);
    CHECK(chorus_nn_conv_to_bf16(&c) == 0);
    int phases = chorus_nn_dconv_level() >= 2 && cout % 8 == 0 && k % s == 0;
    CHECK_MSG(!!c.ph == phases, "polyphase split %s for %d->%d k=%d s=%d (level %d)",
              c.ph ? "made" : "missing", cin, cout, k, s, chorus_nn_dconv_level());
    int lout = chorus_nn_conv_out_len(&c, l);
    CHECK(lout == (l - 1) * s - 2 * pad + k);
    double *ref = malloc((size_t)cout * lout * sizeof *ref);
    for (int o = 0; o < cout; o++)
        for (int p = 0; p < lout; p++) ref[(size_t)o * lout + p] = bias[o];
    for (int i = 0; i < cin; i++)
        for (int o = 0; o < cout; o++)
            for (int t = 0; t < l; t++)
                for (int j = 0; j < k; j++) {
                    int p = t * s + j - pad;
                    float v = x[(size_t)i * l + t];
                    if (p >= 0 && p < lout)
                        ref[(size_t)o * lout + p] += (double)bf16_round(tw[((size_t)i * cout + o) * k + j]) *
                                                     (phases ? bf16_round(v) : v);
                }
    float *y = rnd((size_t)cout * lout, 100); /* every column must be written */
    CHECK(chorus_nn_conv_forward(&c, x, l, y) == 0);
    double e = rel_err(y, ref, (size_t)cout * lout);
    CHECK_MSG(e < 1e-5, "transposed %d->%d k=%d s=%d pad=%d l=%d (phases %d): rel err %g", cin, cout,
              k, s, pad, l, phases, e);
    chorus_nn_conv_release(&c);
    CHECK(c.ph == NULL);
    free(tw);
    free(bias);
    free(x);
    free(y);
    free(ref);
}

TEST(transposed_conv_phases_match_loops) {
    check_transposed(64, 32, 12, 6, 3, 2501); /* the generator's last upsampling, 4 blocks */
    check_transposed(40, 16, 20, 10, 5, 333); /* the first one's shape, smaller */
    check_transposed(9, 8, 12, 6, 3, 1);      /* one input column */
    check_transposed(8, 8, 4, 2, 1, 3);       /* two taps per phase, 3 columns */
    check_transposed(16, 12, 12, 6, 3, 100);  /* cout not a multiple of 8: widened GEMM */
}

TEST(fused_adain_snake_matches_loops) {
    int c = 6, l = 30000;
    float *x = rnd((size_t)c * l, 2), *gamma = rnd((size_t)c, 0.5f), *beta = rnd((size_t)c, 0.5f),
          *alpha = rnd((size_t)c, 1);
    for (int i = 0; i < c; i++) alpha[i] = 0.2f + fabsf(alpha[i]) * 3;
    for (int t = 0; t < l; t++) x[t] = x[t] * 1e3f + 5e3f; /* channel 0: large offset */
    gamma[1] = 3e5f;                                           /* channel 1: |alpha y| > 1e5 */
    double *ref = malloc((size_t)c * l * sizeof *ref), *refn = malloc((size_t)c * l * sizeof *refn);
    for (int ch = 0; ch < c; ch++) {
        const float *v = x + (size_t)ch * l;
        double s = 0, ss = 0;
        for (int i = 0; i < l; i++) s += v[i];
        double mean = s / l;
        for (int i = 0; i < l; i++) ss += (v[i] - mean) * (v[i] - mean);
        double inv = 1 / sqrt(ss / l + 1e-5);
        for (int i = 0; i < l; i++) {
            double y = (1.0 + gamma[ch]) * (v[i] - mean) * inv + beta[ch], q = sin(alpha[ch] * y);
            refn[(size_t)ch * l + i] = y;
            ref[(size_t)ch * l + i] = y + q * q / alpha[ch];
        }
    }
    float *y = malloc((size_t)c * l * sizeof *y);
    memcpy(y, x, (size_t)c * l * sizeof *y);
    chorus_nn_adain_snake(y, c, l, gamma, beta, alpha);
    for (int ch = 0; ch < c; ch++) {
        /* relative to the channel's scale (channel 1 is ~3e5, where float spacing is ~0.03) */
        double e = rel_err(y + (size_t)ch * l, ref + (size_t)ch * l, (size_t)l);
        CHECK_MSG(e < (ch == 1 ? 1e-5 : 2e-6), "adain+snake channel %d: rel err %g", ch, e);
    }
    memcpy(y, x, (size_t)c * l * sizeof *y);
    chorus_nn_adain(y, c, l, gamma, beta);
    double e = rel_err(y, refn, (size_t)c * l);
    CHECK_MSG(e < 2e-6, "adain: rel err %g", e);
    free(x);
    free(gamma);
    free(beta);
    free(alpha);
    free(ref);
    free(refn);
    free(y);
}

/* Windows of a whole-row AdaIN+Snake (the tiled generator's input to each convolution): the
 * same numbers as chorus_nn_adain_snake() on the columns inside the row, zeros outside (the
 * convolution's padding), including a channel on the libm path and windows past both ends. */
TEST(adain_window_matches_whole_row) {
    int c = 5, l = 3000;
    float *x = rnd((size_t)c * l, 2), *gamma = rnd((size_t)c, 0.5f), *beta = rnd((size_t)c, 0.5f),
          *alpha = rnd((size_t)c, 1), *whole = malloc((size_t)c * l * sizeof(float)),
          k[5], o[5];
    unsigned char mode[5];
    for (int i = 0; i < c; i++) alpha[i] = 0.2f + fabsf(alpha[i]) * 3;
    gamma[1] = 3e5f; /* |alpha y| > 1e5: sinf path */
    memcpy(whole, x, (size_t)c * l * sizeof(float));
    chorus_nn_adain_snake(whole, c, l, gamma, beta, alpha);
    struct chorus_nn_affine af = {k, o, mode, NULL};
    chorus_nn_adain_coeffs(x, c, l, gamma, beta, alpha, &af);
    CHECK(af.alpha == alpha);
    static const int win[][2] = {{-25, 60}, {0, 3000}, {1234, 1}, {2980, 45}, {-3, 3006}};
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        int t0 = win[w][0], n = win[w][1];
        float *out = malloc((size_t)c * n * sizeof *out);
        chorus_nn_affine_window(x, c, l, t0, n, &af, out);
        size_t bad = 0;
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < n; i++) {
                int t = t0 + i;
                float want = t >= 0 && t < l ? whole[(size_t)ch * l + t] : 0.0f;
                bad += out[(size_t)ch * n + i] != want;
            }
        CHECK_MSG(bad == 0, "window [%d, %d): %zu values differ", t0, t0 + n, bad);
        free(out);
    }
    free(x);
    free(gamma);
    free(beta);
    free(alpha);
    free(whole);
}

/* The fused window -> bf16 pairs path of the tiled generator: the pairs hold exactly the
 * bf16 bits of the float window (both halves, odd channel count, windows past both ends), and
 * the convolution of those pairs equals the convolution of the float window. */
TEST(window_pairs_match_float_window) {
    int c = 19, l = 2000, cout = 16, k = 7;
    float *x = rnd((size_t)c * l, 2), *gamma = rnd((size_t)c, 0.5f), *beta = rnd((size_t)c, 0.5f),
          *alpha = rnd((size_t)c, 1), kk[19], o[19];
    unsigned char mode[19];
    for (int i = 0; i < c; i++) alpha[i] = 0.2f + fabsf(alpha[i]) * 3;
    struct chorus_nn_affine af = {kk, o, mode, NULL};
    chorus_nn_adain_coeffs(x, c, l, gamma, beta, alpha, &af);
    float *tw = rnd((size_t)cout * c * k, 0.3f), *bias = rnd((size_t)cout, 1);
    struct chorus_nn_conv cv;
    CHECK(chorus_nn_conv_init(&cv, 0, c, cout, k, 1, 3, 1, 1, 0, tw, bias) == 0);
    CHECK(chorus_nn_conv_to_bf16(&cv) == 0);
    int takes = chorus_nn_conv_takes_pairs(&cv);
    CHECK(takes == (chorus_nn_dconv_level() >= 2));
    static const int win[][2] = {{-3, 700}, {1500, 506}, {-3, 2006}, {1990, 13}};
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        int t0 = win[w][0], n = win[w][1], np = (c + 1) / 2, nout = n - (k - 1);
        float *fw = malloc((size_t)c * n * sizeof *fw), *y1 = malloc((size_t)cout * nout * sizeof *y1),
              *y2 = malloc((size_t)cout * nout * sizeof *y2);
        uint32_t *pw = malloc((size_t)np * n * sizeof *pw);
        chorus_nn_affine_window(x, c, l, t0, n, &af, fw);
        CHECK(chorus_nn_affine_window_pairs(x, c, l, t0, n, &af, pw) == 0);
        size_t bad = 0;
        for (int i = 0; i < np; i++)
            for (int t = 0; t < n; t++) {
                uint32_t v = pw[(size_t)i * n + t];
                float lo = fw[(size_t)2 * i * n + t], hi = 2 * i + 1 < c ? fw[(size_t)(2 * i + 1) * n + t] : 0.0f;
                uint16_t want_lo = chorus_nn_to_bf16(lo), want_hi = chorus_nn_to_bf16(hi);
                bad += (uint16_t)(v & 0xffff) != want_lo || (uint16_t)(v >> 16) != want_hi;
            }
        CHECK_MSG(bad == 0, "window [%d, %d): %zu pairs differ from the float window's bf16", t0,
                  t0 + n, bad);
        if (takes) {
            CHECK(chorus_nn_conv_valid(&cv, fw, n, y1, nout, 0) == 0);
            CHECK(chorus_nn_conv_valid_pairs(&cv, pw, n, y2, nout, 0) == 0);
            CHECK_MSG(memcmp(y1, y2, (size_t)cout * nout * sizeof *y1) == 0,
                      "conv of the pairs differs from conv of the float window [%d, %d)", t0, t0 + n);
        } else {
            CHECK(chorus_nn_conv_valid_pairs(&cv, pw, n, y2, nout, 0) == -1);
        }
        free(fw);
        free(y1);
        free(y2);
        free(pw);
    }
    chorus_nn_conv_release(&cv);
    free(x);
    free(gamma);
    free(beta);
    free(alpha);
    free(tw);
    free(bias);
}

/* bf16 rows (the resblocks' y in the reduced modes): chorus_nn_bf16_row rounds as the pairs do,
 * and the statistics and windows of bf16 rows are exactly those of the rows widened. */
TEST(bf16_rows_give_the_widened_rows_numbers) {
    int c = 9, l = 3000; /* rows longer than the sums' 1,024-column chunks */
    float *x = rnd((size_t)c * l, 2), *wide = malloc((size_t)c * l * sizeof *wide),
          *gamma = rnd((size_t)c, 0.5f), *beta = rnd((size_t)c, 0.5f), *alpha = rnd((size_t)c, 1);
    for (int i = 0; i < c; i++) x[(size_t)i * l + 7] += 40.0f * (float)i; /* offsets, outliers */
    uint16_t *xb = malloc((size_t)c * l * sizeof *xb);
    uint32_t *pairs = malloc((size_t)c * l * sizeof *pairs);
    chorus_nn_bf16_row(x, c * l, xb);
    chorus_nn_bf16_pairs(x, NULL, c * l, pairs);
    size_t bad = 0;
    for (size_t i = 0; i < (size_t)c * l; i++) bad += xb[i] != (uint16_t)(pairs[i] & 0xffff);
    CHECK_MSG(bad == 0, "%zu values round differently from the pairs", bad);
    chorus_nn_bf16_widen(xb, (size_t)c * l, wide);
    float k1[9], o1[9], k2[9], o2[9];
    unsigned char m1[9], m2[9];
    struct chorus_nn_affine a1 = {k1, o1, m1, NULL}, a2 = {k2, o2, m2, NULL};
    chorus_nn_adain_coeffs(wide, c, l, gamma, beta, alpha, &a1);
    chorus_nn_adain_coeffs_bf16(xb, c, l, gamma, beta, alpha, &a2);
    CHECK(!memcmp(k1, k2, sizeof k1) && !memcmp(o1, o2, sizeof o1) && !memcmp(m1, m2, sizeof m1));
    static const int win[][2] = {{-5, 900}, {2500, 510}, {-5, 3010}};
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        int t0 = win[w][0], n = win[w][1], np = (c + 1) / 2;
        uint32_t *p1 = malloc((size_t)np * n * sizeof *p1), *p2 = malloc((size_t)np * n * sizeof *p2);
        CHECK(chorus_nn_affine_window_pairs(wide, c, l, t0, n, &a1, p1) == 0);
        CHECK(chorus_nn_affine_window_pairs_bf16(xb, c, l, t0, n, &a2, p2) == 0);
        CHECK_MSG(!memcmp(p1, p2, (size_t)np * n * sizeof *p1), "window [%d, %d) differs", t0,
                  t0 + n);
        free(p1);
        free(p2);
    }
    free(x);
    free(wide);
    free(gamma);
    free(beta);
    free(alpha);
    free(xb);
    free(pairs);
}

/* GELU (tanh form) against the same formula in double: the tanh's error (a few ulp) times
 * 0.5 |x|, over the range where it is neither 0 nor x, plus zeros and tails. */
TEST(gelu_tanh_matches_double) {
    size_t n = 200001;
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = -12.0f + 24.0f * (float)i / (float)(n - 1);
    x[0] = 0.0f;
    x[1] = -0.0f;
    x[2] = 1e-30f;
    x[3] = 300.0f;
    x[4] = -300.0f;
    x[5] = 0.37f; /* u near the polynomial's limit, 0.3 */
    float *y = malloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    chorus_nn_gelu_tanh(y, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i], u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
        double ref = 0.5 * v * (1.0 + tanh(u));
        double e = fabs((double)y[i] - ref) / (fabs(v) + 1e-30);
        worst = e > worst ? e : worst;
    }
    CHECK_MSG(worst < 5e-7, "gelu_tanh: worst error / |x| %g", worst);
    CHECK(y[0] == 0.0f && y[3] == 300.0f && y[4] == 0.0f && y[2] == 0.5e-30f);
    free(x);
    free(y);
}

/* chorus_nn_map: zeroed, on a 2 MB boundary, usable to its last byte; a larger one replaces a
 * smaller one any number of times (each a fresh mapping; unmap takes the size it was given). */
TEST(kept_mappings_are_aligned_and_whole) {
    const size_t mb = (size_t)1 << 20;
    static const size_t sizes[] = {3 * mb + 4096, 37 * mb + 12, 41 * mb, 5 * mb, 1};
    unsigned char *p = NULL;
    size_t cap = 0, bad = 0;
    for (int k = 0; k < 5; k++) {
        unsigned char *q = chorus_nn_map(sizes[k]);
        CHECK(q != NULL);
        CHECK_EQ_INT((uintptr_t)q % (2 * mb), 0);
        for (size_t i = 0; i < sizes[k]; i += 4096) bad += q[i] != 0;
        bad += q[sizes[k] - 1] != 0;
        memset(q, 0x5a, sizes[k]);
        chorus_nn_unmap(p, cap);
        p = q;
        cap = sizes[k];
    }
    CHECK_EQ_INT(bad, 0);
    chorus_nn_unmap(p, cap);
    chorus_nn_unmap(NULL, 0);
    unsigned char *z = chorus_nn_map(0); /* one unit, like malloc(0)'s pointer */
    CHECK(z != NULL);
    chorus_nn_unmap(z, 0);
}

int main(void) {
    fprintf(stderr, "BLAS: %s\n", chorus_nn_blas_name());
    RUN(gemm_split_matches_loops);
    RUN(conv_without_padded_copy_matches_loops);
    RUN(direct_conv_matches_loops);
    RUN(int8_conv_is_close_and_reusable);
    RUN(transposed_conv_phases_match_loops);
    RUN(fused_adain_snake_matches_loops);
    RUN(adain_window_matches_whole_row);
    RUN(window_pairs_match_float_window);
    RUN(bf16_rows_give_the_widened_rows_numbers);
    RUN(gelu_tanh_matches_double);
    RUN(kept_mappings_are_aligned_and_whole);
    return test_summary();
}
