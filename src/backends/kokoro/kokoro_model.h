/*
 * kokoro_model.h — the Kokoro-82M network (hexgrad/kokoro KModel) in C on src/nn kernels.
 *
 * chorus_kokoro_model_load() reads config.json (every dimension and the vocab) and the weights
 * (a torch.save checkpoint such as kokoro-v1_0.pth, with or without the `module.` prefix,
 * weight-norm pairs folded at load). Widths the reference hard-codes in its Decoder (1024, 64,
 * 512) are taken from the weight shapes, so smaller test models load too.
 *
 * chorus_kokoro_model_forward() runs KModel.forward_with_tokens for one chunk: token ids (with the two
 * 0 pads) and a 256-float style row -> 24 kHz audio and per-token durations. It allocates its
 * own scratch, so one model can serve several threads at once. See docs/kokoro.md.
 */
#ifndef CHORUS_KOKORO_MODEL_H
#define CHORUS_KOKORO_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct kokoro_model;

struct kokoro_config {
    int n_token, hidden, style_dim, n_layer, max_dur, te_kernel;
    int bert_hidden, bert_heads, bert_inter, bert_maxpos, bert_layers, bert_emb;
    float bert_eps;
    int n_ups, up_rates[4], up_kernels[4], up_channel;
    int n_rk, rk_sizes[4], rk_dil[4][3];
    int n_fft, hop;
    uint32_t vocab_cp[256]; /**< vocab code points ... */
    int vocab_id[256];      /**< ... and their ids */
    int n_vocab;
};

/** Hooks for a forward pass; any member may be NULL. */
struct kokoro_hooks {
    void *ud;
    /** Called with named intermediate tensors (see docs/kokoro.md for names and layouts). The
     *  hook may overwrite x (tests inject reference tensors to check one stage at a time). */
    void (*trace)(void *ud, const char *name, float *x, size_t n);
    /** Fill out[0..n) with the harmonic source's standard-normal noise values first ..
     *  first+n-1 of this pass ([samples][9] in order). Called from the kernels' threads at
     *  once for disjoint ranges, in no particular order: a value must depend only on its index
     *  (and on what the caller fixed before the pass). */
    void (*noise)(void *ud, float *out, size_t first, size_t n);
    /** Return non-zero to stop (checked between stages and inside the generator). */
    int (*cancelled)(void *ud);
    /** Buffers kept between this caller's passes (NULL: each pass allocates its own). */
    struct kokoro_scratch *scratch;
};

/**
 * The generator's big buffers, kept between one caller's forward passes (a job's chunks): the
 * next pass reuses their pages instead of faulting in and zeroing fresh ones; a chunk that
 * needs more replaces them with larger ones (a quarter to spare). They hold the largest
 * chunk's stage tensors until freed. One
 * pass at a time per scratch. chorus_kokoro_scratch_new returns NULL when out of memory;
 * chorus_kokoro_scratch_free(NULL) does nothing.
 */
struct kokoro_scratch *chorus_kokoro_scratch_new(void);
void chorus_kokoro_scratch_free(struct kokoro_scratch *s);

/** Parse config.json text (for tools and the fuzzer; chorus_kokoro_model_load reads the file). */
int chorus_kokoro_config_parse(struct kokoro_config *c, const char *text, size_t len, const char *label,
                        char *err, size_t errlen);

/** Load. Returns 0 or a negative chorus status with "FILE: what is wrong" in err. */
int chorus_kokoro_model_load(struct kokoro_model **out, const char *config_path,
                      const char *weights_path, char *err, size_t errlen);
/**
 * Load with a packfile of the packed convolution weights at pack_path (NULL: none; see
 * nn/packfile.h). If pack_path holds one made from this very checkpoint (size, mtime, hash),
 * the convolutions use its mapped arrays and weight norm is not folded again (*mapped = 1);
 * otherwise the model is packed as usual and pack_path is (re)written for the next start
 * (*mapped = 0; a file that cannot be written is logged, not an error). mapped may be NULL.
 */
int chorus_kokoro_model_load_packed(struct kokoro_model **out, const char *config_path,
                                    const char *weights_path, const char *pack_path,
                                    int *mapped, char *err, size_t errlen);
void chorus_kokoro_model_free(struct kokoro_model *m);
const struct kokoro_config *chorus_kokoro_model_config(const struct kokoro_model *m);

/** Columns per tile of the generator's residual blocks (default CHORUS_KOKORO_TILE); 0 runs
 *  them on whole-chunk tensors (more memory, same output). Not while a forward pass runs. */
#define CHORUS_KOKORO_TILE 4096
void chorus_kokoro_model_set_tile(struct kokoro_model *m, int cols);

/** Store every convolution's weights as bfloat16 (half their memory; activations, sums and
 *  the duration path stay float32). Once, after load, before any forward pass. 0 or
 *  CHORUS_E_NOMEM. */
int chorus_kokoro_model_to_bf16(struct kokoro_model *m);
/** The same with int8 weights and a float32 scale per output channel for the convolutions the
 *  direct kernel runs (the decoder's and generator's stride-1 ones: ~95 % of the weights; a
 *  quarter of float32's memory, products at bf16's rate, chorus_nn_conv_to_int8), bfloat16
 *  for the rest. Either conversion, once: CHORUS_E_INVALID after the other one. */
int chorus_kokoro_model_to_int8(struct kokoro_model *m);
/** 0 float32, 1 bfloat16, 2 int8 (chorus_kokoro_model_to_int8). */
int chorus_kokoro_model_is_bf16(const struct kokoro_model *m);

/** Vocab id of a code point, or -1. */
int chorus_kokoro_vocab_id(const struct kokoro_config *c, uint32_t cp);

/**
 * One chunk. ids: T token ids including the leading and trailing 0; ref_s: 256 floats (the
 * voice row); speed > 0. On success *audio (malloc'd, *n_audio samples at 24 kHz) and
 * *durations (malloc'd, T frame counts, 600 samples each) are set; returns 0, or
 * CHORUS_E_CANCELLED, CHORUS_E_NOMEM, CHORUS_E_INVALID (message in err).
 */
int chorus_kokoro_model_forward(const struct kokoro_model *m, const int *ids, int t,
                         const float *ref_s, float speed, const struct kokoro_hooks *hooks,
                         float **audio, size_t *n_audio, int **durations, char *err,
                         size_t errlen);

/**
 * Seeded standard-normal noise for kokoro_hooks.noise, drawn by index: value i of pass p is a
 * function of (seed, p, i) alone (SplitMix64 of the pair i/2, Box-Muller in float), so any
 * range comes out the same on any thread. Call chorus_kokoro_rng_next between passes for
 * fresh noise; the same seed gives the same sequence of passes.
 */
struct kokoro_rng {
    uint64_t key; /**< this pass's stream */
    uint64_t seed, pass;
};
void chorus_kokoro_rng_seed(struct kokoro_rng *r, uint64_t seed);
void chorus_kokoro_rng_next(struct kokoro_rng *r);
void chorus_kokoro_rng_normal(void *rng, float *out, size_t first, size_t n);

#endif
