/*
 * nn.h — float32 kernels for the neural backends (Kokoro), on BLAS.
 *
 * Layouts: sequences that go through Linear/LSTM/attention are time-major, x[t*C + c];
 * convolution inputs and outputs are channel-major, x[c*L + t]. Functions say which.
 * Every function is pure (no global state) except chorus_nn_init(), which configures the BLAS
 * once per process. Semantics follow PyTorch's modules of the same name (nn.Conv1d,
 * nn.ConvTranspose1d, nn.LSTM, F.layer_norm, nn.InstanceNorm1d, torch.stft/istft), so weights
 * from a state dict can be used after the packing done by chorus_nn_conv_init().
 *
 * BLAS: OpenBLAS (one thread; nn.c splits large GEMMs and convolutions over CHORUS_THREADS
 * threads itself), loaded with dlopen() on first use after setting OPENBLAS_CORETYPE from the
 * CPU's features (SkylakeX with AVX-512, Haswell with AVX2); a preset weaker than the CPU (an
 * x86 type without AVX-512 on an AVX-512 CPU) is replaced, CHORUS_OPENBLAS_CORETYPE forces one:
 * Debian 12's
 * OpenBLAS 0.3.21 mis-detects recent cores and runs sgemm several times slower without it, and
 * the variable is only read when the library loads. (Debian 12's BLIS 0.9 falls back to its
 * 'generic' kernels on AVX-512 AMD EPYC, 3x slower still.) Falls back to libblas.so.3, then to
 * plain loops (CHORUS_NN_BLAS=0 forces them, for tests). Threads: CHORUS_THREADS, else the number of online CPUs (at most 8).
 */
#ifndef CHORUS_NN_NN_H
#define CHORUS_NN_NN_H

#include <stddef.h>
#include <stdint.h>

/** Configure BLAS threading once (idempotent, thread-safe). */
void chorus_nn_init(void);
/** Number of threads the kernels use. */
int chorus_nn_threads(void);
/** Which BLAS was loaded, e.g. "libopenblas.so.0 OPENBLAS_CORETYPE=SkylakeX". */
const char *chorus_nn_blas_name(void);

/** Row-major C[M][N] = alpha * op(A) op(B) + beta * C (cblas_sgemm semantics). */
void chorus_nn_gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                    int lda, const float *b, int ldb, float beta, float *c, int ldc);

/** y[T][out] = x[T][in] W^T + b, W is [out][in] (nn.Linear); b may be NULL. */
void chorus_nn_linear(const float *x, int t, int in, const float *w, const float *b, int out,
                      float *y);

/** A 1-D convolution (nn.Conv1d) or transposed convolution (nn.ConvTranspose1d). */
struct chorus_nn_conv {
    int cin, cout, k, stride, pad, dil, groups, out_pad, transposed;
    float *w; /**< packed: [k][cout][cin] for groups == 1; [c][k] for depthwise */
    float *b; /**< [cout] or NULL */
    int w_borrowed; /**< w points into a packfile mapping (not freed by release) */
    uint16_t *wb;   /**< bf16 weights (chorus_nn_conv_to_bf16), w is then NULL; owned */
    uint32_t *wp;   /**< instead of wb for a conv the direct kernel runs (stride 1, groups 1,
                         cout a multiple of 8): bf16 weight pairs already in its layout */
    int8_t *wq;     /**< instead of wp (same shapes): int8 weights in wp's layout, two bytes
                         per pair, times the per-output-channel scales ws
                         (chorus_nn_conv_to_int8) */
    float *ws;      /**< [cout] scales of wq */
    int wq_borrowed; /**< wb, wp or wq/ws point into a packfile mapping (not freed by release) */
    struct chorus_nn_conv *ph; /**< a strided ConvTranspose1d as `stride` stride-1 convs for
                                    the direct bf16 kernel (chorus_nn_conv_polyphase); owned */
};
/** Pack torch weights (Conv1d [cout][cin/g][k], ConvTranspose1d [cin][cout/g][k]) and copy
 *  the bias. groups must be 1, or cin == cout == groups (depthwise). Returns 0 or -1 (nomem). */
int chorus_nn_conv_init(struct chorus_nn_conv *c, int transposed, int cin, int cout, int k,
                        int stride, int pad, int dil, int groups, int out_pad,
                        const float *torch_w, const float *bias);
/** Same geometry, with weights already packed (`chorus_nn_conv_packed_count` floats in the
 *  layout of `w` above, e.g. from a packfile): w is borrowed, not copied; the bias is copied.
 *  Returns 0 or -1 (nomem). */
int chorus_nn_conv_init_packed(struct chorus_nn_conv *c, int transposed, int cin, int cout,
                               int k, int stride, int pad, int dil, int groups, int out_pad,
                               const float *packed_w, const float *bias);
/** For a strided ConvTranspose1d with bf16 weights (groups 1, dilation 1, k a multiple of the
 *  stride, cout a multiple of 8, output_padding <= padding) on a CPU whose direct kernel does
 *  bf16 dot products: splits it into `stride` stride-1 convolutions of k/stride taps (one per
 *  output phase), which chorus_nn_conv_forward() then runs on that kernel instead of widening
 *  the weights for a float32 GEMM and a single-threaded scatter. Does nothing (returns 0) for
 *  any other conv or CPU; -1 when memory runs out. */
int chorus_nn_conv_polyphase(struct chorus_nn_conv *c);
/** Number of floats in a conv's packed weights. */
size_t chorus_nn_conv_packed_count(const struct chorus_nn_conv *c);
void chorus_nn_conv_release(struct chorus_nn_conv *c);
/** Store the weights as bfloat16 (rounded to nearest even), half the memory: w is freed (or,
 *  borrowed, forgotten). A conv chorus_nn_conv_valid() can run keeps them as wp, laid out for
 *  its kernel (packed once here, not per call); chorus_nn_conv_forward() of it, and of any other
 *  bf16 conv (wb), widens the weights to a float32 scratch copy before its GEMMs, so
 *  activations and sums stay float32 there. No-op without weights. 0 or -1 (nomem). */
int chorus_nn_conv_to_bf16(struct chorus_nn_conv *c);
/** The bf16 weights of a conv, as chorus_nn_conv_to_bf16() stores them: *data is wp or wb
 *  (NULL if the conv has none) and *bytes its size (wb's rounded up to 4 bytes), e.g. to keep
 *  them in a packfile. */
void chorus_nn_conv_bf16_data(const struct chorus_nn_conv *c, const void **data, size_t *bytes);
/** Point the conv at bf16 weights kept elsewhere (a packfile mapping; borrowed, not copied),
 *  as chorus_nn_conv_bf16_data() gave them for the same geometry; the float32 weights are
 *  released. 0, or -1 when the size does not fit (the conv is unchanged). */
int chorus_nn_conv_use_bf16(struct chorus_nn_conv *c, const void *data, size_t bytes);
/** Store a conv that chorus_nn_conv_valid() can run (stride 1, groups 1, cout a multiple of
 *  8) as int8 weights with one float32 scale per output channel (max |w| / 127, rounded to
 *  nearest): a quarter of float32's memory, half of bf16's. The direct kernel widens each row
 *  block's int8 weights to bf16 pairs (exact: |q| <= 127) in a scratch per call and scales the
 *  float32 sums, so the products run at bf16's rate; elsewhere the weights are widened to
 *  float32 (q * scale). Any other conv goes to bf16 (chorus_nn_conv_to_bf16). No-op without
 *  weights. 0 or -1 (nomem). */
int chorus_nn_conv_to_int8(struct chorus_nn_conv *c);
/** The int8 weights and scales of a conv (NULL/0 when it has none), e.g. for a packfile; q's
 *  size is a multiple of 4 bytes. */
void chorus_nn_conv_int8_data(const struct chorus_nn_conv *c, const int8_t **q, size_t *qbytes,
                              const float **scales);
/** Point the conv at int8 weights and cout scales kept elsewhere (borrowed, not copied), as
 *  chorus_nn_conv_int8_data() gave them for the same geometry; the float32 weights are
 *  released. 0, or -1 when the sizes do not fit (the conv is unchanged). */
int chorus_nn_conv_use_int8(struct chorus_nn_conv *c, const int8_t *q, size_t qbytes,
                            const float *scales);
/** float32 <-> bfloat16 (round to nearest even; NaN stays NaN). */
uint16_t chorus_nn_to_bf16(float f);
void chorus_nn_bf16_widen(const uint16_t *in, size_t n, float *out);
/** Output length for an input of length l. */
int chorus_nn_conv_out_len(const struct chorus_nn_conv *c, int l);
/** y[cout][lout] = conv(x[cin][l]). Returns 0 or -1 (nomem). */
int chorus_nn_conv_forward(const struct chorus_nn_conv *c, const float *x, int l, float *y);

/** A stride-1 convolution (groups 1, not transposed) of a window that already holds its
 *  padding: x[cin][l], n = l - (k-1)*dil output columns (c->pad is ignored), written into rows
 *  of stride ldy: y[o*ldy + t] = (add ? y[o*ldy + t] : 0) + b[o] + sum over taps j and
 *  channels i of W[o][i][j] x[i*l + t + j*dil]. On x86-64 with AVX-512F one register-blocked
 *  kernel sums all taps (float32 FMAs; bf16 weights use AVX512_BF16 dot products on the input
 *  rounded to bfloat16, float32 sums); elsewhere, or with CHORUS_NN_DCONV=0, the per-tap GEMMs
 *  of chorus_nn_conv_forward(). CHORUS_NN_DCONV=1 keeps the float32 kernel but not the bf16 one
 *  (bf16 weights are then widened). Returns 0 or -1 (nomem). */
int chorus_nn_conv_valid(const struct chorus_nn_conv *c, const float *x, int l, float *y,
                         int ldy, int add);
/** out[i] = bf16 bits of a[i] (low half) and b[i] (high half; 0 when b is NULL), rounded to
 *  nearest even (NaN not special-cased): one row of the direct kernel's input pairs. */
void chorus_nn_bf16_pairs(const float *a, const float *b, int n, uint32_t *out);
/** out[i] = bf16 bits of a[i], rounded as chorus_nn_bf16_pairs (a row of bf16 activations). */
void chorus_nn_bf16_row(const float *a, int n, uint16_t *out);
/** 1 when chorus_nn_conv_valid_pairs() runs c: bf16 or int8 weights in the direct kernel's
 *  layout on a CPU with bf16 dot products. */
int chorus_nn_conv_takes_pairs(const struct chorus_nn_conv *c);
/** chorus_nn_conv_valid() of an input already in bf16 channel pairs ([(cin+1)/2][l], as
 *  chorus_nn_affine_window_pairs() writes): the same output, without converting the input.
 *  Returns -1 when c is not one chorus_nn_conv_takes_pairs() accepts. */
int chorus_nn_conv_valid_pairs(const struct chorus_nn_conv *c, const uint32_t *xp, int l,
                               float *y, int ldy, int add);
/** bf16 weight pairs of c (from w, rounded, or wb) in the direct kernel's layout, or NULL when
 *  c is not a shape it runs, has neither, or memory runs out; free() them. */
uint32_t *chorus_nn_dconv_pack_bf16(const struct chorus_nn_conv *c);
/** int8 weights of c (from w) in the same layout, two bytes per pair, and their per-output-
 *  channel scales (*scales, malloc'd), or NULL as chorus_nn_dconv_pack_bf16(); free() both. */
int8_t *chorus_nn_dconv_pack_int8(const struct chorus_nn_conv *c, float **scales);
/** The weights of c as float32 in the layout of w (from w, wb, wp or wq), into out. */
void chorus_nn_conv_weights_f32(const struct chorus_nn_conv *c, float *out);
/** 1 when the CPU has AVX-512F and the OS saves its registers (x86-64), else 0. */
int chorus_nn_cpu_avx512(void);
/** Which chorus_nn_conv_valid() kernel this CPU runs: 2 = AVX512_BF16 (and float32),
 *  1 = AVX-512F float32 only, 0 = the portable per-tap GEMMs. */
int chorus_nn_dconv_level(void);
/** malloc() for large scratch and tensors (free() it): from 8 MB on aligned to 2 MB and advised
 *  for transparent huge pages (Linux's "madvise" mode), so that touching fresh memory takes 512
 *  times fewer page faults; these were 15-20 % of a Kokoro run in a VM. */
void *chorus_nn_alloc(size_t bytes);
/** Zeroed anonymous memory for buffers a caller keeps and reuses (their pages are faulted in
 *  once): `bytes` rounded up to whole 2 MB units, starting on a 2 MB boundary, advised for
 *  huge pages like chorus_nn_alloc. NULL when out of memory. Release with
 *  chorus_nn_unmap(p, the same bytes). */
void *chorus_nn_map(size_t bytes);
void chorus_nn_unmap(void *p, size_t bytes);
/** A generation (one caller of the kernels) starts or ends. The kernels split their threads
 *  among the generations running at once: with CHORUS_THREADS = 2 and two generations, each
 *  kernel call runs on one thread, so concurrent requests do not oversubscribe the cores
 *  (on 2 cores: 1.9x the throughput of one, against 1.2x with 2 threads each). */
void chorus_nn_job_begin(void);
void chorus_nn_job_end(void);
/** Runs fn(ctx, i0, i1) over [0, n) split into contiguous ranges on the kernels' threads (the
 *  calling one included); below work = 2^16 (a rough count of multiply-adds) on the calling
 *  thread alone. */
void chorus_nn_parallel(void (*fn)(void *ctx, int i0, int i1), void *ctx, int n, size_t work);

/** A single-layer (bi)directional nn.LSTM, gate order i, f, g, o. */
struct chorus_nn_lstm {
    int in, hidden, dirs;
    const float *w_ih[2], *w_hh[2]; /**< [4H][in], [4H][H] */
    float *bias[2];                 /**< b_ih + b_hh, [4H] (owned) */
};
/** y[T][dirs*H] from x[T][in]; h0 = c0 = 0. Returns 0 or -1 (nomem). */
int chorus_nn_lstm_forward(const struct chorus_nn_lstm *l, const float *x, int t, float *y);

/** Layer norm of each of `rows` rows of n floats (biased variance); gamma/beta may be NULL. */
void chorus_nn_layer_norm(float *x, int rows, int n, const float *gamma, const float *beta,
                          float eps);
/** Channel-major x[c][l]: instance norm of each channel (eps 1e-5, biased variance), then
 *  x = (1 + gamma[c]) * x + beta[c] (AdaIN). gamma/beta may be NULL (plain norm). */
void chorus_nn_adain(float *x, int c, int l, const float *gamma, const float *beta);
/** chorus_nn_adain() then chorus_nn_snake() with alpha (NULL: no Snake), fused: three passes
 *  over each channel instead of five. */
void chorus_nn_adain_snake(float *x, int c, int l, const float *gamma, const float *beta,
                           const float *alpha);
/** The per-channel affine (+ Snake) an AdaIN applies, from the statistics of a whole row:
 *  y = k[c] * x + o[c], then Snake with alpha[c] when alpha is not NULL. Arrays of c floats
 *  (mode: c bytes) owned by the caller. Lets a caller apply a whole-row AdaIN to windows of the
 *  row (tiling in time) with exactly the numbers chorus_nn_adain_snake() uses. */
struct chorus_nn_affine {
    float *k, *o;
    unsigned char *mode;
    const float *alpha;
};
/** Fill *af for AdaIN(+Snake) over x[c][l] (same statistics as chorus_nn_adain_snake). */
void chorus_nn_adain_coeffs(const float *x, int c, int l, const float *gamma, const float *beta,
                            const float *alpha, struct chorus_nn_affine *af);
/** The same over bf16 rows x[c][l]: exactly chorus_nn_adain_coeffs() of x widened. */
void chorus_nn_adain_coeffs_bf16(const uint16_t *x, int c, int l, const float *gamma,
                                 const float *beta, const float *alpha,
                                 struct chorus_nn_affine *af);
/** out[c][n] = the affine (+ Snake) of columns t0 .. t0+n-1 of x[c][l]; columns outside
 *  [0, l) are 0 (a convolution's zero padding, not the affine of 0). Bit-identical to
 *  chorus_nn_adain_snake() on the same columns. */
void chorus_nn_affine_window(const float *x, int c, int l, int t0, int n,
                             const struct chorus_nn_affine *af, float *out);
/** chorus_nn_affine_window() straight into the direct bf16 kernel's input: out[(c+1)/2][n]
 *  holds channels 2i and 2i+1 of each column as bfloat16 (low, high half; rounded to nearest
 *  even), the bits chorus_nn_conv_valid() would make of the float window. Returns 0 (it
 *  allocates nothing; the int is kept for callers that check). */
int chorus_nn_affine_window_pairs(const float *x, int c, int l, int t0, int n,
                                  const struct chorus_nn_affine *af, uint32_t *out);
/** The same of bf16 rows x[c][l]: exactly chorus_nn_affine_window_pairs() of x widened. */
int chorus_nn_affine_window_pairs_bf16(const uint16_t *x, int c, int l, int t0, int n,
                                       const struct chorus_nn_affine *af, uint32_t *out);
/** Snake: x + 1/alpha[c] * sin(alpha[c] * x)^2, channel-major. */
void chorus_nn_snake(float *x, int c, int l, const float *alpha);
void chorus_nn_leaky_relu(float *x, size_t n, float slope);
/** y[i] = (y[i] + x[i]) / div (div 1: y += x), on the kernels' threads for large n. */
void chorus_nn_add(float *y, const float *x, size_t n, float div);
/** GELU, tanh form (gelu_new, ALBERT's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) in
 *  place, torch's formula with a vectorized tanh (own, within ~3 ulp of libm's tanhf) and on
 *  the kernels' threads for large n. */
void chorus_nn_gelu_tanh(float *x, size_t n);
/** y[i] = (y[i] + x[i]) * k, on the kernels' threads for large n. */
void chorus_nn_add_mul(float *y, const float *x, size_t n, float k);
/** memcpy of n floats, on the kernels' threads for large n. */
void chorus_nn_copy(float *y, const float *x, size_t n);
/** Transposes a [rows][cols] matrix into out[cols][rows]. */
void chorus_nn_transpose(const float *x, int rows, int cols, float *out);

/** torch.stft(x, n_fft, hop, n_fft, hann periodic, center=True, reflect) of x[n] (n > n_fft/2):
 *  frames = 1 + n / hop; mag and phase are [n_fft/2+1][frames]. Returns frames, or -1. */
int chorus_nn_stft(const float *x, int n, int n_fft, int hop, float *mag, float *phase);
/** torch.istft(mag * e^{i phase}, n_fft, hop, n_fft, hann periodic, center=True): out has
 *  hop * (frames - 1) samples. mag/phase are [n_fft/2+1][frames]. Returns 0 or -1. */
int chorus_nn_istft(const float *mag, const float *phase, int frames, int n_fft, int hop,
                    float *out);

#endif
