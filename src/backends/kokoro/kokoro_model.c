/* kokoro_model.c — see kokoro_model.h. Stage names follow hexgrad/kokoro. */
#include "backends/kokoro/kokoro_model.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "chorus/chorus.h"
#include "core/log.h"
#include "nn/nn.h"
#include "nn/packfile.h"
#include "nn/tensorfile.h"

/* ---------------------------------------------------------------------------------------- */
/* Model structure                                                                            */

struct kk_lin {
    const float *w, *b;
    int out, in;
};
struct kk_adain {
    struct kk_lin fc; /* style -> 2C */
    int c;
};
/* AdainResBlk1d */
struct kk_blk {
    int din, dout, up, has_sc;
    struct kk_adain n1, n2;
    struct chorus_nn_conv conv1, conv2, sc, pool;
};
/* AdaINResBlock1 */
struct kk_res1 {
    int ch, k;
    struct chorus_nn_conv c1[3], c2[3];
    struct kk_adain a1[3], a2[3];
    const float *al1[3], *al2[3];
};
struct kk_lstm {
    struct chorus_nn_lstm l;
};

struct kokoro_model {
    struct kokoro_config cfg;
    struct chorus_tensor_file tf;
    const char *path;
    char pathbuf[1024];
    /* ALBERT */
    const float *word, *pos, *tt, *eln_w, *eln_b;
    struct kk_lin map_in, q, k, v, dense, ffn, ffn_out;
    const float *aln_w, *aln_b, *fln_w, *fln_b;
    struct kk_lin bert_enc;
    /* predictor */
    struct kk_lstm dur_lstm[8];
    struct kk_lin dur_aln[8];
    struct kk_lstm pred_lstm, shared;
    struct kk_lin dur_proj;
    struct kk_blk f0[3], nb[3];
    struct chorus_nn_conv f0_proj, n_proj;
    /* text encoder */
    const float *temb;
    struct chorus_nn_conv tcnn[8];
    const float *tln_g[8], *tln_b[8];
    struct kk_lstm tlstm;
    /* decoder */
    struct chorus_nn_conv f0_conv, n_conv, asr_res;
    struct kk_blk encode, decode[4];
    int dec_dim, asr_dim;
    /* generator */
    const float *src_w, *src_b; /* l_linear 9 -> 1 */
    struct chorus_nn_conv noise_convs[4], ups[4], post;
    struct kk_res1 noise_res[4], resblocks[16];
    /* packed conv weights: mapped from a packfile (pk_mapped), or collected to write one (pw) */
    struct chorus_packfile pk;
    int pk_mapped, pk_misses;
    struct chorus_pack_writer *pw;
    int tile; /* generator resblocks: columns per tile, 0 = whole-chunk tensors */
    int reduced; /* convolution weights: 0 float32, 1 bfloat16, 2 int8 (the direct kernel's)
                  * and bfloat16 */
    /* the bf16 weights' own packfile (mapped, or written by the first conversion) */
    struct chorus_pack_source src;
    char bf16_pack[1100];
    struct chorus_packfile pkb;
    char *err;
    size_t errlen;
};

static int kerr(struct kokoro_model *m, int status, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    snprintf(m->err, m->errlen, "%s: %s", m->path, buf);
    return status;
}

/* Tensor "top.rest", accepting the DataParallel "top.module.rest" form first. */
static const struct chorus_tensor *kt(struct kokoro_model *m, const char *top, const char *rest) {
    char name[512];
    snprintf(name, sizeof name, "%.60s.module.%.400s", top, rest);
    const struct chorus_tensor *t = chorus_tensor_file_find(&m->tf, name);
    if (t) return t;
    snprintf(name, sizeof name, "%.60s.%.400s", top, rest);
    return chorus_tensor_file_find(&m->tf, name);
}

static int shape_is(const struct chorus_tensor *t, int nd, const int *dims) {
    if (t->ndim != nd) return 0;
    for (int i = 0; i < nd; i++)
        if (dims[i] >= 0 && t->shape[i] != dims[i]) return 0;
    return 1;
}

static void shape_str(const struct chorus_tensor *t, char *buf, size_t n) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int i = 0; i < t->ndim && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

/* Fetch a tensor and check its shape (-1 = any, filled in from the tensor). */
static int getv(struct kokoro_model *m, const float **out, const struct chorus_tensor **tp,
                const char *top, const char *rest, int nd, int *dims) {
    const struct chorus_tensor *t = kt(m, top, rest);
    if (!t)
        return kerr(m, CHORUS_E_MODEL,
                    "tensor '%s.%s' is missing (not a Kokoro checkpoint, or it does not match "
                    "the config)",
                    top, rest);
    if (!shape_is(t, nd, dims)) {
        char s[96];
        shape_str(t, s, sizeof s);
        return kerr(m, CHORUS_E_MODEL, "tensor '%s.%s' has shape %s, which does not fit the config",
                    top, rest, s);
    }
    for (int i = 0; i < nd; i++) dims[i] = (int)t->shape[i];
    *out = t->data;
    if (tp) *tp = t;
    return 0;
}

static int get1(struct kokoro_model *m, const float **out, const char *top, const char *rest,
                int n) {
    int d[1] = {n};
    return getv(m, out, NULL, top, rest, 1, d);
}

static int get_lin(struct kokoro_model *m, struct kk_lin *l, const char *top, const char *name,
                   int out, int in, int bias) {
    char r[384];
    int d[2] = {out, in};
    snprintf(r, sizeof r, "%.200s.weight", name);
    int rc = getv(m, &l->w, NULL, top, r, 2, d);
    if (rc) return rc;
    l->out = d[0];
    l->in = d[1];
    l->b = NULL;
    if (bias) {
        snprintf(r, sizeof r, "%.200s.bias", name);
        return get1(m, &l->b, top, r, l->out);
    }
    return 0;
}

/* Weight of a (possibly weight-normed) conv: folded copy in *owned, 3-D shape in dims. */
static int get_wn(struct kokoro_model *m, const char *top, const char *name, int *dims,
                  float **owned) {
    char r[384];
    const struct chorus_tensor *w, *g, *v;
    *owned = NULL;
    snprintf(r, sizeof r, "%.200s.weight", name);
    if ((w = kt(m, top, r))) {
        if (w->ndim != 3) return kerr(m, CHORUS_E_MODEL, "tensor '%s.%s' is not 3-D", top, r);
        for (int i = 0; i < 3; i++) dims[i] = (int)w->shape[i];
        *owned = malloc(w->numel * sizeof(float));
        if (!*owned) return kerr(m, CHORUS_E_NOMEM, "out of memory");
        memcpy(*owned, w->data, w->numel * sizeof(float));
        return 0;
    }
    snprintf(r, sizeof r, "%.200s.weight_g", name);
    g = kt(m, top, r);
    snprintf(r, sizeof r, "%.200s.weight_v", name);
    v = kt(m, top, r);
    if (!g || !v) {
        snprintf(r, sizeof r, "%.200s.parametrizations.weight.original0", name);
        g = kt(m, top, r);
        snprintf(r, sizeof r, "%.200s.parametrizations.weight.original1", name);
        v = kt(m, top, r);
    }
    if (!g || !v)
        return kerr(m, CHORUS_E_MODEL,
                    "tensor '%s.%s.weight' (or its weight_g/weight_v pair) is missing", top, name);
    if (v->ndim != 3 || g->numel != (size_t)v->shape[0] || v->shape[0] == 0)
        return kerr(m, CHORUS_E_MODEL, "weight-norm pair '%s.%s' has inconsistent shapes", top,
                    name);
    for (int i = 0; i < 3; i++) dims[i] = (int)v->shape[i];
    size_t per = v->numel / (size_t)v->shape[0];
    float *o = malloc(v->numel * sizeof(float));
    if (!o) return kerr(m, CHORUS_E_NOMEM, "out of memory");
    for (int i = 0; i < dims[0]; i++) {
        const float *vi = v->data + (size_t)i * per;
        double ss = 0;
        for (size_t j = 0; j < per; j++) ss += (double)vi[j] * vi[j];
        float sc = ss > 0 ? g->data[i] / (float)sqrt(ss) : 0.0f;
        for (size_t j = 0; j < per; j++) o[(size_t)i * per + j] = vi[j] * sc;
    }
    *owned = o;
    return 0;
}

/* Geometry checks shared by both ways of getting a conv's weights. */
static int conv_fits(struct kokoro_model *m, const char *top, const char *name, const int *d,
                     int transposed, int cin, int cout, int k, int groups) {
    int wcin = transposed ? d[0] : d[1] * groups, wcout = transposed ? d[1] * groups : d[0];
    if ((cin >= 0 && wcin != cin) || (cout >= 0 && wcout != cout) || (k >= 0 && d[2] != k) ||
        (groups != 1 && (wcin != groups || wcout != groups)))
        return kerr(m, CHORUS_E_MODEL,
                    "conv '%s.%s' has weights [%d,%d,%d], expected %d->%d channels, kernel %d",
                    top, name, d[0], d[1], d[2], cin, cout, k);
    return 0;
}

/* The conv's packed weights from the mapped packfile, if it has them and they fit: 1 = done,
 * 0 = not there (load from the checkpoint), or a negative status. */
static int conv_from_pack(struct kokoro_model *m, struct chorus_nn_conv *c, const char *top,
                          const char *name, int transposed, int cin, int cout, int k,
                          int stride, int pad, int dil, int groups, int out_pad, int bias) {
    char key[CHORUS_PACK_NAME_MAX + 8];
    snprintf(key, sizeof key, "%s.%s", top, name);
    const struct chorus_pack_entry *e = m->pk_mapped ? chorus_packfile_find(&m->pk, key) : NULL;
    if (!e) return 0;
    int d[3] = {e->dims[0], e->dims[1], e->dims[2]};
    int wcin = transposed ? d[0] : d[1] * groups, wcout = transposed ? d[1] * groups : d[0];
    struct chorus_nn_conv probe = {.cin = wcin, .cout = wcout, .k = d[2], .groups = groups};
    if (conv_fits(m, top, name, d, transposed, cin, cout, k, groups) ||
        chorus_nn_conv_packed_count(&probe) != e->count)
        return 0; /* the checkpoint decides (and reports) */
    const float *b = NULL;
    if (bias) {
        char r[384];
        snprintf(r, sizeof r, "%.200s.bias", name);
        int rc = get1(m, &b, top, r, wcout);
        if (rc) return rc;
    }
    if (chorus_nn_conv_init_packed(c, transposed, wcin, wcout, d[2], stride, pad, dil, groups,
                                   out_pad, e->data, b))
        return kerr(m, CHORUS_E_NOMEM, "out of memory");
    return 1;
}

/* A conv from the checkpoint. cin/cout/k: -1 = take from the weights (checked otherwise). */
static int get_conv(struct kokoro_model *m, struct chorus_nn_conv *c, const char *top,
                    const char *name, int transposed, int cin, int cout, int k, int stride,
                    int pad, int dil, int groups, int out_pad, int bias) {
    int rc = conv_from_pack(m, c, top, name, transposed, cin, cout, k, stride, pad, dil, groups,
                            out_pad, bias);
    if (rc) return rc < 0 ? rc : 0;
    if (m->pk_mapped) m->pk_misses++;
    int d[3] = {0, 0, 0};
    float *w;
    if ((rc = get_wn(m, top, name, d, &w))) return rc;
    if ((rc = conv_fits(m, top, name, d, transposed, cin, cout, k, groups))) {
        free(w);
        return rc;
    }
    int wcin = transposed ? d[0] : d[1] * groups, wcout = transposed ? d[1] * groups : d[0];
    const float *b = NULL;
    if (bias) {
        char r[384];
        snprintf(r, sizeof r, "%.200s.bias", name);
        if ((rc = get1(m, &b, top, r, wcout))) {
            free(w);
            return rc;
        }
    }
    rc = chorus_nn_conv_init(c, transposed, wcin, wcout, d[2], stride, pad, dil, groups, out_pad,
                             w, b);
    free(w);
    if (rc) return kerr(m, CHORUS_E_NOMEM, "out of memory");
    if (m->pw) {
        char key[CHORUS_PACK_NAME_MAX + 8];
        snprintf(key, sizeof key, "%s.%s", top, name);
        chorus_pack_writer_add(m->pw, key, d, c->w, chorus_nn_conv_packed_count(c));
    }
    return 0;
}

static int get_adain(struct kokoro_model *m, struct kk_adain *a, const char *top,
                     const char *name, int c) {
    char r[384];
    snprintf(r, sizeof r, "%.200s.fc", name);
    a->c = c;
    return get_lin(m, &a->fc, top, r, 2 * c, m->cfg.style_dim, 1);
}

static int get_lstm(struct kokoro_model *m, struct kk_lstm *l, const char *top, const char *name,
                    int in, int hidden) {
    char r[384];
    l->l.in = in;
    l->l.hidden = hidden;
    l->l.dirs = 2;
    for (int d = 0; d < 2; d++) {
        const char *sfx = d ? "_reverse" : "";
        int d1[2] = {4 * hidden, in}, d2[2] = {4 * hidden, hidden};
        const float *bi, *bh;
        int rc;
        snprintf(r, sizeof r, "%.200s.weight_ih_l0%s", name, sfx);
        if ((rc = getv(m, &l->l.w_ih[d], NULL, top, r, 2, d1))) return rc;
        snprintf(r, sizeof r, "%.200s.weight_hh_l0%s", name, sfx);
        if ((rc = getv(m, &l->l.w_hh[d], NULL, top, r, 2, d2))) return rc;
        snprintf(r, sizeof r, "%.200s.bias_ih_l0%s", name, sfx);
        if ((rc = get1(m, &bi, top, r, 4 * hidden))) return rc;
        snprintf(r, sizeof r, "%.200s.bias_hh_l0%s", name, sfx);
        if ((rc = get1(m, &bh, top, r, 4 * hidden))) return rc;
        l->l.bias[d] = malloc(sizeof(float) * 4 * (size_t)hidden);
        if (!l->l.bias[d]) return kerr(m, CHORUS_E_NOMEM, "out of memory");
        for (int i = 0; i < 4 * hidden; i++) l->l.bias[d][i] = bi[i] + bh[i];
    }
    return 0;
}

static int has_wn(struct kokoro_model *m, const char *top, const char *name) {
    char r[384];
    snprintf(r, sizeof r, "%.200s.weight_v", name);
    if (kt(m, top, r)) return 1;
    snprintf(r, sizeof r, "%.200s.weight", name);
    if (kt(m, top, r)) return 1;
    snprintf(r, sizeof r, "%.200s.parametrizations.weight.original1", name);
    return kt(m, top, r) != NULL;
}

/* AdainResBlk1d: channel counts from conv1's weights; upsampling iff a pool exists. */
static int get_blk(struct kokoro_model *m, struct kk_blk *b, const char *top, const char *name,
                   int din) {
    char r[384];
    int rc;
    snprintf(r, sizeof r, "%.200s.conv1", name);
    if ((rc = get_conv(m, &b->conv1, top, r, 0, din, -1, 3, 1, 1, 1, 1, 0, 1))) return rc;
    b->din = din;
    b->dout = b->conv1.cout;
    snprintf(r, sizeof r, "%.200s.conv2", name);
    if ((rc = get_conv(m, &b->conv2, top, r, 0, b->dout, b->dout, 3, 1, 1, 1, 1, 0, 1)))
        return rc;
    snprintf(r, sizeof r, "%.200s.norm1", name);
    if ((rc = get_adain(m, &b->n1, top, r, din))) return rc;
    snprintf(r, sizeof r, "%.200s.norm2", name);
    if ((rc = get_adain(m, &b->n2, top, r, b->dout))) return rc;
    snprintf(r, sizeof r, "%.200s.pool", name);
    b->up = has_wn(m, top, r);
    if (b->up && (rc = get_conv(m, &b->pool, top, r, 1, din, din, 3, 2, 1, 1, din, 1, 1)))
        return rc;
    b->has_sc = din != b->dout;
    snprintf(r, sizeof r, "%.200s.conv1x1", name);
    if (b->has_sc && (rc = get_conv(m, &b->sc, top, r, 0, din, b->dout, 1, 1, 0, 1, 1, 0, 0)))
        return rc;
    return 0;
}

static int get_res1(struct kokoro_model *m, struct kk_res1 *b, const char *top, const char *name,
                    int ch, int k, const int *dil) {
    char r[384];
    int rc;
    b->ch = ch;
    b->k = k;
    for (int j = 0; j < 3; j++) {
        snprintf(r, sizeof r, "%.200s.convs1.%d", name, j);
        if ((rc = get_conv(m, &b->c1[j], top, r, 0, ch, ch, k, 1, dil[j] * (k - 1) / 2, dil[j], 1,
                           0, 1)))
            return rc;
        snprintf(r, sizeof r, "%.200s.convs2.%d", name, j);
        if ((rc = get_conv(m, &b->c2[j], top, r, 0, ch, ch, k, 1, (k - 1) / 2, 1, 1, 0, 1)))
            return rc;
        snprintf(r, sizeof r, "%.200s.adain1.%d", name, j);
        if ((rc = get_adain(m, &b->a1[j], top, r, ch))) return rc;
        snprintf(r, sizeof r, "%.200s.adain2.%d", name, j);
        if ((rc = get_adain(m, &b->a2[j], top, r, ch))) return rc;
        int d[3] = {1, ch, 1};
        snprintf(r, sizeof r, "%.200s.alpha1.%d", name, j);
        if ((rc = getv(m, &b->al1[j], NULL, top, r, 3, d))) return rc;
        snprintf(r, sizeof r, "%.200s.alpha2.%d", name, j);
        if ((rc = getv(m, &b->al2[j], NULL, top, r, 3, d))) return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Config                                                                                     */

static int jint(json_t *o, const char *k, int def, int *out) {
    json_t *v = json_object_get(o, k);
    if (!v) {
        if (def == INT32_MIN) return -1;
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 1 << 20)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

static int jarr(json_t *o, const char *k, int *out, int max, int *n) {
    json_t *a = json_object_get(o, k);
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > (size_t)max) return -1;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 4096)
            return -1;
        out[i] = (int)json_integer_value(v);
    }
    *n = (int)json_array_size(a);
    return 0;
}

static int utf8_one(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned c = s[0];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || (size_t)len > n) return 0;
    uint32_t v = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

static int parse_config_json(struct kokoro_config *c, json_t *root, const char *path, char *err,
                             size_t errlen) {
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: kokoro config is not a JSON object", path);
        return CHORUS_E_MODEL;
    }
    memset(c, 0, sizeof *c);
    const char *bad = NULL;
    json_t *pl = json_object_get(root, "plbert"), *is = json_object_get(root, "istftnet");
    json_t *voc = json_object_get(root, "vocab"), *dl;
    if (!json_is_object(pl)) bad = "plbert";
    else if (!json_is_object(is)) bad = "istftnet";
    else if (!json_is_object(voc)) bad = "vocab";
    else if (jint(root, "n_token", INT32_MIN, &c->n_token)) bad = "n_token";
    else if (jint(root, "hidden_dim", INT32_MIN, &c->hidden)) bad = "hidden_dim";
    else if (jint(root, "style_dim", INT32_MIN, &c->style_dim) || c->style_dim != 128)
        bad = "style_dim (must be 128: voice rows are 2x128)";
    else if (jint(root, "n_layer", INT32_MIN, &c->n_layer) || c->n_layer > 8) bad = "n_layer";
    else if (jint(root, "max_dur", INT32_MIN, &c->max_dur)) bad = "max_dur";
    else if (jint(root, "text_encoder_kernel_size", INT32_MIN, &c->te_kernel) ||
             c->te_kernel % 2 == 0)
        bad = "text_encoder_kernel_size";
    else if (jint(pl, "hidden_size", INT32_MIN, &c->bert_hidden)) bad = "plbert.hidden_size";
    else if (jint(pl, "num_attention_heads", INT32_MIN, &c->bert_heads) ||
             c->bert_hidden % c->bert_heads)
        bad = "plbert.num_attention_heads";
    else if (jint(pl, "intermediate_size", INT32_MIN, &c->bert_inter))
        bad = "plbert.intermediate_size";
    else if (jint(pl, "max_position_embeddings", INT32_MIN, &c->bert_maxpos) ||
             c->bert_maxpos < 3)
        bad = "plbert.max_position_embeddings";
    else if (jint(pl, "num_hidden_layers", INT32_MIN, &c->bert_layers))
        bad = "plbert.num_hidden_layers";
    else if (jint(pl, "embedding_size", 128, &c->bert_emb)) bad = "plbert.embedding_size";
    else if (jarr(is, "upsample_rates", c->up_rates, 4, &c->n_ups)) bad = "istftnet.upsample_rates";
    else if (jarr(is, "upsample_kernel_sizes", c->up_kernels, 4, &c->n_rk) || c->n_rk != c->n_ups)
        bad = "istftnet.upsample_kernel_sizes";
    else if (jint(is, "upsample_initial_channel", INT32_MIN, &c->up_channel) ||
             c->up_channel >> c->n_ups == 0)
        bad = "istftnet.upsample_initial_channel";
    else if (jarr(is, "resblock_kernel_sizes", c->rk_sizes, 4, &c->n_rk))
        bad = "istftnet.resblock_kernel_sizes";
    else if (jint(is, "gen_istft_n_fft", INT32_MIN, &c->n_fft) || c->n_fft > 1024)
        bad = "istftnet.gen_istft_n_fft";
    else if (jint(is, "gen_istft_hop_size", INT32_MIN, &c->hop)) bad = "istftnet.gen_istft_hop_size";
    else if (!json_is_array(dl = json_object_get(is, "resblock_dilation_sizes")) ||
             json_array_size(dl) != (size_t)c->n_rk)
        bad = "istftnet.resblock_dilation_sizes";
    if (!bad) {
        for (int i = 0; i < c->n_rk && !bad; i++) {
            int n = 0;
            json_t *w = json_pack("{so}", "d", json_incref(json_array_get(dl, (size_t)i)));
            if (jarr(w, "d", c->rk_dil[i], 3, &n) || n != 3) bad = "istftnet.resblock_dilation_sizes";
            json_decref(w);
        }
        for (int i = 0; i < c->n_rk && !bad; i++)
            if (c->rk_sizes[i] % 2 == 0) bad = "istftnet.resblock_kernel_sizes (must be odd)";
        for (int i = 0; i < c->n_ups && !bad; i++)
            if ((c->up_kernels[i] - c->up_rates[i]) % 2) bad = "istftnet.upsample_kernel_sizes";
    }
    if (!bad) {
        const char *k;
        json_t *v;
        json_object_foreach(voc, k, v) {
            uint32_t cp;
            size_t kl = strlen(k);
            int l = utf8_one((const unsigned char *)k, kl, &cp);
            if (!l || (size_t)l != kl || !json_is_integer(v) || json_integer_value(v) <= 0 ||
                json_integer_value(v) >= c->n_token || c->n_vocab >= 256) {
                bad = "vocab (entries must be one character -> id in 1..n_token-1)";
                break;
            }
            c->vocab_cp[c->n_vocab] = cp;
            c->vocab_id[c->n_vocab++] = (int)json_integer_value(v);
        }
    }
    if (bad) {
        snprintf(err, errlen, "%s: kokoro config: missing or invalid '%s'", path, bad);
        return CHORUS_E_MODEL;
    }
    return 0;
}

int chorus_kokoro_config_parse(struct kokoro_config *c, const char *text, size_t len, const char *label,
                        char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        snprintf(err, errlen, "%s: kokoro config is not valid JSON: %s (line %d)", label, je.text,
                 je.line);
        return CHORUS_E_MODEL;
    }
    int rc = parse_config_json(c, root, label, err, errlen);
    json_decref(root);
    return rc;
}

static int parse_config(struct kokoro_config *c, const char *path, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "%s: cannot read kokoro config: %s (line %d)", path, je.text,
                 je.line);
        return CHORUS_E_MODEL;
    }
    int rc = parse_config_json(c, root, path, err, errlen);
    json_decref(root);
    return rc;
}

int chorus_kokoro_vocab_id(const struct kokoro_config *c, uint32_t cp) {
    for (int i = 0; i < c->n_vocab; i++)
        if (c->vocab_cp[i] == cp) return c->vocab_id[i];
    return -1;
}

/* The convolutions that go to bf16, in a fixed order (their packfile names are the indexes). */
static int bf16_convs(struct kokoro_model *m, struct chorus_nn_conv **v) {
    int n = 0;
    for (int i = 0; i < 8; i++) v[n++] = &m->tcnn[i];
    v[n++] = &m->f0_conv;
    v[n++] = &m->n_conv;
    v[n++] = &m->asr_res;
    struct kk_blk *blks[5] = {&m->encode, &m->decode[0], &m->decode[1], &m->decode[2],
                              &m->decode[3]};
    for (int i = 0; i < 5; i++) {
        v[n++] = &blks[i]->conv1;
        v[n++] = &blks[i]->conv2;
        v[n++] = &blks[i]->sc;
        v[n++] = &blks[i]->pool;
    }
    for (int i = 0; i < 4; i++) {
        v[n++] = &m->noise_convs[i];
        v[n++] = &m->ups[i];
    }
    for (int i = 0; i < 20; i++) {
        struct kk_res1 *b = i < 4 ? &m->noise_res[i] : &m->resblocks[i - 4];
        for (int j = 0; j < 3; j++) {
            v[n++] = &b->c1[j];
            v[n++] = &b->c2[j];
        }
    }
    v[n++] = &m->post;
    return n; /* 172 */
}

/* Write the reduced weights' packfile so that later starts map them instead of converting:
 * "bf16.I" for a bf16 conv, "q.I" and "s.I" for an int8 one (I: its index in bf16_convs). */
static void reduced_pack_write(struct kokoro_model *m, const char *path,
                               struct chorus_nn_conv **v, int n) {
    struct chorus_pack_writer w = {0};
    for (int i = 0; i < n; i++) {
        char name[32];
        const int8_t *q;
        const float *sc;
        size_t qbytes;
        chorus_nn_conv_int8_data(v[i], &q, &qbytes, &sc);
        if (q) {
            int dq[3] = {(int)(qbytes / 4), 0, 0}, ds[3] = {v[i]->cout, 0, 0};
            snprintf(name, sizeof name, "q.%d", i);
            chorus_pack_writer_add(&w, name, dq, (const float *)(const void *)q, qbytes / 4);
            snprintf(name, sizeof name, "s.%d", i);
            chorus_pack_writer_add(&w, name, ds, sc, (size_t)v[i]->cout);
            continue;
        }
        const void *data;
        size_t bytes;
        chorus_nn_conv_bf16_data(v[i], &data, &bytes);
        if (!data) continue;
        int dims[3] = {(int)(bytes / 4), 0, 0};
        snprintf(name, sizeof name, "bf16.%d", i);
        chorus_pack_writer_add(&w, name, dims, data, bytes / 4);
    }
    char why[256];
    if (chorus_pack_writer_write(&w, path, &m->src, why, sizeof why) == 0)
        CHORUS_LOGI("kokoro: wrote the reduced weights to %s (later starts map them)", path);
    else
        CHORUS_LOGW("kokoro: %s (starts keep converting the weights)", why);
    chorus_pack_writer_release(&w);
}

/* Conv i's reduced weights from the mapped packfile; 0 when they were there. */
static int reduced_from_pack(struct kokoro_model *m, struct chorus_nn_conv *c, int i, int int8) {
    char name[32];
    if (int8) {
        snprintf(name, sizeof name, "q.%d", i);
        const struct chorus_pack_entry *q = chorus_packfile_find(&m->pkb, name);
        snprintf(name, sizeof name, "s.%d", i);
        const struct chorus_pack_entry *sc = chorus_packfile_find(&m->pkb, name);
        if (q && sc && sc->count == (size_t)c->cout &&
            chorus_nn_conv_use_int8(c, (const int8_t *)(const void *)q->data, (size_t)q->count * 4,
                                    sc->data) == 0)
            return 0;
    }
    snprintf(name, sizeof name, "bf16.%d", i);
    const struct chorus_pack_entry *e = chorus_packfile_find(&m->pkb, name);
    return e && chorus_nn_conv_use_bf16(c, e->data, (size_t)e->count * 4) == 0 ? 0 : -1;
}

/* The convolutions of the text encoder, decoder and generator to bf16 weights, or (int8) the
 * direct kernel's ones to int8 with per-channel scales and the rest to bf16. The duration
 * path (ALBERT, LSTMs, Linear) has no convolution, so durations are unchanged; the F0/N
 * predictor stays float32 (7% of the weights): F0 is integrated into the harmonic source's
 * phase over the whole chunk, and the 0.3% change of F0 that bf16 weights there give drifts
 * that phase until the waveform no longer lines up with float32's (SNR 4 dB on the test
 * model; audio rel. error 8e-3 with F0 kept float32). With a packfile path (model loaded
 * through one) the result is kept beside it (NAME-bf16 / NAME-int8.chorus-pack) and mapped by
 * later loads. */
static int to_reduced(struct kokoro_model *m, int int8) {
    if (m->reduced) return m->reduced == (int8 ? 2 : 1) ? 0 : CHORUS_E_INVALID;
    struct chorus_nn_conv *v[200];
    int n = bf16_convs(m, v), mapped = 0, misses = 0;
    char why[256], path[1100] = "";
    if (m->bf16_pack[0]) {
        snprintf(path, sizeof path, "%s", m->bf16_pack);
        char *b = strstr(path, "bf16");
        if (int8 && b) memcpy(b, "int8", 4);
        if (chorus_packfile_open(&m->pkb, path, &m->src, why, sizeof why) == 0) mapped = 1;
        else CHORUS_LOGD("kokoro: %s: %s; converting the weights and writing it", path, why);
    }
    for (int i = 0; i < n; i++) {
        if (!v[i]->w) continue;
        if (mapped) {
            if (reduced_from_pack(m, v[i], i, int8) == 0) continue;
            misses++;
        }
        if (int8 ? chorus_nn_conv_to_int8(v[i]) : chorus_nn_conv_to_bf16(v[i]))
            return CHORUS_E_NOMEM;
    }
    if (misses)
        CHORUS_LOGW("kokoro: %s lacked %d convolutions (converted them again in memory)", path,
                    misses);
    if (path[0] && !mapped) reduced_pack_write(m, path, v, n);
    /* the float32 copies are no longer read: drop their pages from this process */
    if (m->pk.map) madvise(m->pk.map, m->pk.map_size, MADV_DONTNEED);
    m->reduced = int8 ? 2 : 1;
    return 0;
}

int chorus_kokoro_model_to_bf16(struct kokoro_model *m) { return to_reduced(m, 0); }
int chorus_kokoro_model_to_int8(struct kokoro_model *m) { return to_reduced(m, 1); }

int chorus_kokoro_model_is_bf16(const struct kokoro_model *m) { return m->reduced; }

void chorus_kokoro_model_set_tile(struct kokoro_model *m, int cols) {
    m->tile = cols > 0 ? cols : 0;
}

const struct kokoro_config *chorus_kokoro_model_config(const struct kokoro_model *m) { return &m->cfg; }

/* ---------------------------------------------------------------------------------------- */
/* Loading                                                                                    */

static int load_all(struct kokoro_model *m) {
    struct kokoro_config *c = &m->cfg;
    int rc, H = c->hidden, S = c->style_dim, BH = c->bert_hidden, E = c->bert_emb;
    char r[256];
    /* ALBERT */
    int d2[2] = {c->n_token, E};
    if ((rc = getv(m, &m->word, NULL, "bert", "embeddings.word_embeddings.weight", 2, d2))) return rc;
    d2[0] = c->bert_maxpos, d2[1] = E;
    if ((rc = getv(m, &m->pos, NULL, "bert", "embeddings.position_embeddings.weight", 2, d2)))
        return rc;
    d2[0] = -1, d2[1] = E;
    if ((rc = getv(m, &m->tt, NULL, "bert", "embeddings.token_type_embeddings.weight", 2, d2)))
        return rc;
    if ((rc = get1(m, &m->eln_w, "bert", "embeddings.LayerNorm.weight", E)) ||
        (rc = get1(m, &m->eln_b, "bert", "embeddings.LayerNorm.bias", E)) ||
        (rc = get_lin(m, &m->map_in, "bert", "encoder.embedding_hidden_mapping_in", BH, E, 1)))
        return rc;
    const char *L = "encoder.albert_layer_groups.0.albert_layers.0";
#define LIN(field, sub, o, i)                                                                     \
    do {                                                                                          \
        snprintf(r, sizeof r, "%.200s.%s", L, sub);                                                   \
        if ((rc = get_lin(m, &m->field, "bert", r, o, i, 1))) return rc;                         \
    } while (0)
    LIN(q, "attention.query", BH, BH);
    LIN(k, "attention.key", BH, BH);
    LIN(v, "attention.value", BH, BH);
    LIN(dense, "attention.dense", BH, BH);
    LIN(ffn, "ffn", c->bert_inter, BH);
    LIN(ffn_out, "ffn_output", BH, c->bert_inter);
#undef LIN
    snprintf(r, sizeof r, "%.200s.attention.LayerNorm.weight", L);
    if ((rc = get1(m, &m->aln_w, "bert", r, BH))) return rc;
    snprintf(r, sizeof r, "%.200s.attention.LayerNorm.bias", L);
    if ((rc = get1(m, &m->aln_b, "bert", r, BH))) return rc;
    snprintf(r, sizeof r, "%.200s.full_layer_layer_norm.weight", L);
    if ((rc = get1(m, &m->fln_w, "bert", r, BH))) return rc;
    snprintf(r, sizeof r, "%.200s.full_layer_layer_norm.bias", L);
    if ((rc = get1(m, &m->fln_b, "bert", r, BH))) return rc;
    /* bert_encoder is a bare Linear: its keys are "bert_encoder.module.weight". */
    {
        int dd[2] = {H, BH};
        if ((rc = getv(m, &m->bert_enc.w, NULL, "bert_encoder", "weight", 2, dd)) ||
            (rc = get1(m, &m->bert_enc.b, "bert_encoder", "bias", H)))
            return rc;
        m->bert_enc.out = H;
        m->bert_enc.in = BH;
    }
    /* predictor */
    for (int l = 0; l < c->n_layer; l++) {
        snprintf(r, sizeof r, "text_encoder.lstms.%d", 2 * l);
        if ((rc = get_lstm(m, &m->dur_lstm[l], "predictor", r, H + S, H / 2))) return rc;
        snprintf(r, sizeof r, "text_encoder.lstms.%d.fc", 2 * l + 1);
        if ((rc = get_lin(m, &m->dur_aln[l], "predictor", r, 2 * H, S, 1))) return rc;
    }
    if ((rc = get_lstm(m, &m->pred_lstm, "predictor", "lstm", H + S, H / 2)) ||
        (rc = get_lin(m, &m->dur_proj, "predictor", "duration_proj.linear_layer", c->max_dur, H, 1)) ||
        (rc = get_lstm(m, &m->shared, "predictor", "shared", H + S, H / 2)))
        return rc;
    for (int i = 0; i < 3; i++) {
        int din = i == 0 ? H : m->f0[i - 1].dout;
        snprintf(r, sizeof r, "F0.%d", i);
        if ((rc = get_blk(m, &m->f0[i], "predictor", r, din))) return rc;
        din = i == 0 ? H : m->nb[i - 1].dout;
        snprintf(r, sizeof r, "N.%d", i);
        if ((rc = get_blk(m, &m->nb[i], "predictor", r, din))) return rc;
    }
    if (!m->f0[1].up || m->f0[0].up || m->f0[2].up || !m->nb[1].up || m->nb[0].up || m->nb[2].up)
        return kerr(m, CHORUS_E_MODEL, "predictor F0/N blocks: only block 1 may upsample");
    if ((rc = get_conv(m, &m->f0_proj, "predictor", "F0_proj", 0, m->f0[2].dout, 1, 1, 1, 0, 1, 1,
                       0, 1)) ||
        (rc = get_conv(m, &m->n_proj, "predictor", "N_proj", 0, m->nb[2].dout, 1, 1, 1, 0, 1, 1, 0,
                       1)))
        return rc;
    /* text encoder */
    d2[0] = c->n_token, d2[1] = H;
    if ((rc = getv(m, &m->temb, NULL, "text_encoder", "embedding.weight", 2, d2))) return rc;
    for (int l = 0; l < c->n_layer; l++) {
        snprintf(r, sizeof r, "cnn.%d.0", l);
        if ((rc = get_conv(m, &m->tcnn[l], "text_encoder", r, 0, H, H, c->te_kernel, 1,
                           (c->te_kernel - 1) / 2, 1, 1, 0, 1)))
            return rc;
        snprintf(r, sizeof r, "cnn.%d.1.gamma", l);
        if ((rc = get1(m, &m->tln_g[l], "text_encoder", r, H))) return rc;
        snprintf(r, sizeof r, "cnn.%d.1.beta", l);
        if ((rc = get1(m, &m->tln_b[l], "text_encoder", r, H))) return rc;
    }
    if ((rc = get_lstm(m, &m->tlstm, "text_encoder", "lstm", H, H / 2))) return rc;
    /* decoder */
    if ((rc = get_conv(m, &m->f0_conv, "decoder", "F0_conv", 0, 1, 1, 3, 2, 1, 1, 1, 0, 1)) ||
        (rc = get_conv(m, &m->n_conv, "decoder", "N_conv", 0, 1, 1, 3, 2, 1, 1, 1, 0, 1)) ||
        (rc = get_conv(m, &m->asr_res, "decoder", "asr_res.0", 0, H, -1, 1, 1, 0, 1, 1, 0, 1)) ||
        (rc = get_blk(m, &m->encode, "decoder", "encode", H + 2)))
        return rc;
    m->asr_dim = m->asr_res.cout;
    m->dec_dim = m->encode.dout;
    for (int i = 0; i < 4; i++) {
        snprintf(r, sizeof r, "decode.%d", i);
        if ((rc = get_blk(m, &m->decode[i], "decoder", r, m->dec_dim + 2 + m->asr_dim))) return rc;
        if (i < 3 && (m->decode[i].up || m->decode[i].dout != m->dec_dim))
            return kerr(m, CHORUS_E_MODEL, "decoder block decode.%d has an unexpected shape", i);
    }
    if (!m->decode[3].up || m->decode[3].dout != c->up_channel || m->encode.up)
        return kerr(m, CHORUS_E_MODEL,
                    "decoder block decode.3 must upsample to istftnet.upsample_initial_channel "
                    "(%d) channels",
                    c->up_channel);
    /* generator */
    {
        int dd[2] = {1, 9};
        if ((rc = getv(m, &m->src_w, NULL, "decoder", "generator.m_source.l_linear.weight", 2, dd)) ||
            (rc = get1(m, &m->src_b, "decoder", "generator.m_source.l_linear.bias", 1)))
            return rc;
    }
    int nk = c->n_rk, ch = c->up_channel;
    if (c->n_ups * nk > 16) return kerr(m, CHORUS_E_MODEL, "too many generator resblocks");
    for (int i = 0; i < c->n_ups; i++) {
        int u = c->up_rates[i], k = c->up_kernels[i], co = ch >> (i + 1);
        snprintf(r, sizeof r, "generator.ups.%d", i);
        if ((rc = get_conv(m, &m->ups[i], "decoder", r, 1, ch >> i, co, k, u, (k - u) / 2, 1, 1, 0,
                           1)))
            return rc;
        for (int j = 0; j < nk; j++) {
            snprintf(r, sizeof r, "generator.resblocks.%d", i * nk + j);
            if ((rc = get_res1(m, &m->resblocks[i * nk + j], "decoder", r, co, c->rk_sizes[j],
                               c->rk_dil[j])))
                return rc;
        }
        snprintf(r, sizeof r, "generator.noise_convs.%d", i);
        static const int d135[3] = {1, 3, 5};
        if (i + 1 < c->n_ups) {
            int sf = 1;
            for (int q = i + 1; q < c->n_ups; q++) sf *= c->up_rates[q];
            if ((rc = get_conv(m, &m->noise_convs[i], "decoder", r, 0, c->n_fft + 2, co, sf * 2, sf,
                               (sf + 1) / 2, 1, 1, 0, 1)))
                return rc;
            snprintf(r, sizeof r, "generator.noise_res.%d", i);
            if ((rc = get_res1(m, &m->noise_res[i], "decoder", r, co, 7, d135))) return rc;
        } else {
            if ((rc = get_conv(m, &m->noise_convs[i], "decoder", r, 0, c->n_fft + 2, co, 1, 1, 0, 1,
                               1, 0, 1)))
                return rc;
            snprintf(r, sizeof r, "generator.noise_res.%d", i);
            if ((rc = get_res1(m, &m->noise_res[i], "decoder", r, co, 11, d135))) return rc;
        }
    }
    if ((rc = get_conv(m, &m->post, "decoder", "generator.conv_post", 0, ch >> c->n_ups,
                       c->n_fft + 2, 7, 1, 3, 1, 1, 0, 1)))
        return rc;
    return 0;
}

static void blk_free(struct kk_blk *b) {
    chorus_nn_conv_release(&b->conv1);
    chorus_nn_conv_release(&b->conv2);
    chorus_nn_conv_release(&b->sc);
    chorus_nn_conv_release(&b->pool);
}
static void res1_free(struct kk_res1 *b) {
    for (int j = 0; j < 3; j++) {
        chorus_nn_conv_release(&b->c1[j]);
        chorus_nn_conv_release(&b->c2[j]);
    }
}
static void lstm_free(struct kk_lstm *l) {
    free(l->l.bias[0]);
    free(l->l.bias[1]);
}

void chorus_kokoro_model_free(struct kokoro_model *m) {
    if (!m) return;
    for (int i = 0; i < 8; i++) {
        lstm_free(&m->dur_lstm[i]);
        chorus_nn_conv_release(&m->tcnn[i]);
    }
    lstm_free(&m->pred_lstm);
    lstm_free(&m->shared);
    lstm_free(&m->tlstm);
    for (int i = 0; i < 3; i++) {
        blk_free(&m->f0[i]);
        blk_free(&m->nb[i]);
    }
    chorus_nn_conv_release(&m->f0_proj);
    chorus_nn_conv_release(&m->n_proj);
    chorus_nn_conv_release(&m->f0_conv);
    chorus_nn_conv_release(&m->n_conv);
    chorus_nn_conv_release(&m->asr_res);
    blk_free(&m->encode);
    for (int i = 0; i < 4; i++) {
        blk_free(&m->decode[i]);
        chorus_nn_conv_release(&m->noise_convs[i]);
        chorus_nn_conv_release(&m->ups[i]);
        res1_free(&m->noise_res[i]);
    }
    for (int i = 0; i < 16; i++) res1_free(&m->resblocks[i]);
    chorus_nn_conv_release(&m->post);
    chorus_packfile_release(&m->pk);
    chorus_packfile_release(&m->pkb);
    chorus_tensor_file_release(&m->tf);
    free(m);
}

/* Map the packfile if it was made from this checkpoint; otherwise get ready to write one. */
static void pack_open(struct kokoro_model *m, const char *weights_path, const char *pack_path,
                      struct chorus_pack_source *src) {
    struct stat st;
    if (stat(weights_path, &st) != 0) return;
    uint64_t mt = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    chorus_pack_source_id(src, (uint64_t)m->tf.map_size, mt, m->tf.map);
    char why[256];
    if (chorus_packfile_open(&m->pk, pack_path, src, why, sizeof why) == 0) {
        m->pk_mapped = 1;
        return;
    }
    CHORUS_LOGD("kokoro: %s: %s; packing %s and writing it", pack_path, why, weights_path);
    m->pw = calloc(1, sizeof *m->pw);
}

static void pack_write(struct kokoro_model *m, const char *pack_path,
                       const struct chorus_pack_source *src) {
    char why[256];
    if (chorus_pack_writer_write(m->pw, pack_path, src, why, sizeof why) == 0)
        CHORUS_LOGI("kokoro: wrote the packed weights to %s (later starts map them)", pack_path);
    else
        CHORUS_LOGW("kokoro: %s (starts keep packing the weights)", why);
    chorus_pack_writer_release(m->pw);
    free(m->pw);
    m->pw = NULL;
}

int chorus_kokoro_model_load_packed(struct kokoro_model **out, const char *config_path,
                                    const char *weights_path, const char *pack_path,
                                    int *mapped, char *err, size_t errlen) {
    *out = NULL;
    if (mapped) *mapped = 0;
    struct kokoro_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory loading %s", weights_path);
        return CHORUS_E_NOMEM;
    }
    int rc = parse_config(&m->cfg, config_path, err, errlen);
    if (rc) {
        free(m);
        return rc;
    }
    if ((rc = chorus_tensor_file_load(&m->tf, weights_path, err, errlen))) {
        free(m);
        return rc;
    }
    snprintf(m->pathbuf, sizeof m->pathbuf, "%s", weights_path);
    m->path = m->pathbuf;
    m->err = err;
    m->errlen = errlen;
    struct chorus_pack_source src = {0, 0, 0};
    if (pack_path && *pack_path && m->tf.map_is_mmap) pack_open(m, weights_path, pack_path, &src);
    rc = load_all(m);
    m->err = NULL;
    if (rc) {
        chorus_pack_writer_release(m->pw);
        free(m->pw);
        m->pw = NULL;
        chorus_kokoro_model_free(m);
        return rc;
    }
    if (m->pw) pack_write(m, pack_path, &src);
    /* the bf16 weights' packfile: NAME.chorus-pack -> NAME-bf16.chorus-pack */
    if (src.size && pack_path) {
        m->src = src;
        size_t pl = strlen(pack_path), sl = strlen(".chorus-pack");
        if (pl > sl && !strcmp(pack_path + pl - sl, ".chorus-pack"))
            snprintf(m->bf16_pack, sizeof m->bf16_pack, "%.*s-bf16.chorus-pack", (int)(pl - sl),
                     pack_path);
        else
            snprintf(m->bf16_pack, sizeof m->bf16_pack, "%s.bf16", pack_path);
    }
    m->tile = CHORUS_KOKORO_TILE;
    if (m->pk_mapped && m->pk_misses)
        CHORUS_LOGW("kokoro: %s lacked %d convolutions (packed them again in memory)",
                    pack_path ? pack_path : "the packed weights", m->pk_misses);
    if (mapped) *mapped = m->pk_mapped && !m->pk_misses;
    /* Conv weights now live in packed copies; let the kernel drop the pages of the mapping we
     * read while packing (the ones still used, LSTM and Linear weights, fault back in from the
     * page cache). Halves the resident size of a loaded model. */
    if (m->tf.map_is_mmap) madvise(m->tf.map, m->tf.map_size, MADV_DONTNEED);
    chorus_nn_init();
    *out = m;
    return 0;
}

int chorus_kokoro_model_load(struct kokoro_model **out, const char *config_path,
                      const char *weights_path, char *err, size_t errlen) {
    return chorus_kokoro_model_load_packed(out, config_path, weights_path, NULL, NULL, err,
                                           errlen);
}

/* ---------------------------------------------------------------------------------------- */
/* Forward pass                                                                               */

struct fwd {
    const struct kokoro_model *m;
    const struct kokoro_hooks *h;
    char *err;
    size_t errlen;
};

static void trace(struct fwd *f, const char *name, float *x, size_t n) {
    if (f->h && f->h->trace) f->h->trace(f->h->ud, name, x, n);
}
/* Emit a time-major [rows][cols] tensor in torch's channel-major layout. */
/* (A replacement written by the hook is not copied back: only trace() tensors can be replaced.) */
static void trace_t(struct fwd *f, const char *name, const float *x, int rows, int cols) {
    if (!f->h || !f->h->trace) return;
    float *t = malloc((size_t)rows * cols * sizeof *t);
    if (!t) return;
    chorus_nn_transpose(x, rows, cols, t);
    f->h->trace(f->h->ud, name, t, (size_t)rows * cols);
    free(t);
}
static int cancelled(struct fwd *f) { return f->h && f->h->cancelled && f->h->cancelled(f->h->ud); }

/* A float tensor (free() it); large ones get huge pages (chorus_nn_alloc). */
static float *fnew(size_t n) { return chorus_nn_alloc((n ? n : 1) * sizeof(float)); }

/* fc(s) of an AdaIN, then instance norm + affine of x[C][L]. */
static int adain_snake(const struct kk_adain *a, const float *s, float *x, int l,
                       const float *alpha) {
    float *h = fnew(2 * (size_t)a->c);
    if (!h) return -1;
    chorus_nn_linear(s, 1, a->fc.in, a->fc.w, a->fc.b, a->fc.out, h);
    chorus_nn_adain_snake(x, a->c, l, h, h + a->c, alpha);
    free(h);
    return 0;
}
static int adain_apply(const struct kk_adain *a, const float *s, float *x, int l) {
    return adain_snake(a, s, x, l, NULL);
}

/* AdainResBlk1d: x[din][l] -> *out[dout][l or 2l]. */
static int blk_forward(const struct kk_blk *b, const float *s, const float *x, int l, float **out,
                       int *lout) {
    int l2 = b->up ? 2 * l : l, rc = -1;
    float *r = fnew((size_t)b->din * l), *p = NULL, *c1 = fnew((size_t)b->dout * l2),
          *c2 = fnew((size_t)b->dout * l2), *sc = NULL;
    if (!r || !c1 || !c2) goto done;
    chorus_nn_copy(r, x, (size_t)b->din * l);
    if (adain_apply(&b->n1, s, r, l)) goto done;
    chorus_nn_leaky_relu(r, (size_t)b->din * l, 0.2f);
    if (b->up) {
        if (!(p = fnew((size_t)b->din * l2)) || chorus_nn_conv_forward(&b->pool, r, l, p)) goto done;
        free(r);
        r = p;
        p = NULL;
    }
    if (chorus_nn_conv_forward(&b->conv1, r, l2, c1) || adain_apply(&b->n2, s, c1, l2)) goto done;
    chorus_nn_leaky_relu(c1, (size_t)b->dout * l2, 0.2f);
    if (chorus_nn_conv_forward(&b->conv2, c1, l2, c2)) goto done;
    /* shortcut */
    const float *si = x;
    if (b->up) {
        if (!(sc = fnew((size_t)b->din * l2))) goto done;
        for (int c = 0; c < b->din; c++)
            for (int t = 0; t < l2; t++) sc[(size_t)c * l2 + t] = x[(size_t)c * l + t / 2];
        si = sc;
    }
    if (b->has_sc) {
        /* conv1x1 into c1 (free now), then add */
        if (chorus_nn_conv_forward(&b->sc, si, l2, c1)) goto done;
        si = c1;
    }
    const float k = 0.70710677f; /* torch.rsqrt(torch.tensor(2)) in float32 */
    chorus_nn_add_mul(c2, si, (size_t)b->dout * l2, k);
    *out = c2;
    c2 = NULL;
    *lout = l2;
    rc = 0;
done:
    free(r);
    free(p);
    free(c1);
    free(c2);
    free(sc);
    return rc;
}

/* AdaINResBlock1, in place on x[ch][l], whole-chunk tensors (three of x's size). */
static int res1_forward_whole(const struct kk_res1 *b, const float *s, float *x, int l) {
    size_t n = (size_t)b->ch * l;
    float *xt = fnew(n), *y = fnew(n);
    int rc = -1;
    if (!xt || !y) goto done;
    for (int j = 0; j < 3; j++) {
        memcpy(xt, x, n * sizeof *xt);
        if (adain_snake(&b->a1[j], s, xt, l, b->al1[j])) goto done;
        if (chorus_nn_conv_forward(&b->c1[j], xt, l, y) ||
            adain_snake(&b->a2[j], s, y, l, b->al2[j]))
            goto done;
        if (chorus_nn_conv_forward(&b->c2[j], y, l, xt)) goto done;
        for (size_t i = 0; i < n; i++) x[i] = xt[i] + x[i];
    }
    rc = 0;
done:
    free(xt);
    free(y);
    return rc;
}

/* Scratch of the tiled AdaINResBlock1: the AdaIN numbers and the window buffer; with y kept
 * as bf16, c1's output tile before rounding. */
struct res1_tiles {
    int ch, tile, halo;
    float *h, *win; /* h: fc(s) [2ch] then k, o [ch each] */
    unsigned char *mode;
    struct chorus_nn_affine af;
    float *yt; /* [ch][tile], or NULL */
};

/* Rows of a tile of c1's output rounded to bf16 into y (bf16 rows of l), on the kernels'
 * threads. */
struct round_job {
    const float *yt;
    int tile, nt, l, t0;
    uint16_t *y;
};
static void round_range(void *p, int c0, int c1) {
    const struct round_job *j = p;
    for (int ch = c0; ch < c1; ch++)
        chorus_nn_bf16_row(j->yt + (size_t)ch * j->tile, j->nt, j->y + (size_t)ch * j->l + j->t0);
}

/* One pass of the block: `in` is x (float) or y; `out` is y (written) or x (added to). y is
 * float, or bf16 rows when r->yt is set. */
struct res1_io {
    const float *in;
    const uint16_t *inb;
    float *out;
    uint16_t *outb;
};

/* The AdaIN(+Snake) of a over the whole of the input (statistics), then per tile of `tile`
 * columns: its window with the conv's receptive-field overlap, and the conv of that window
 * (padding already in it) written to the output or added to it. Each output column sees
 * exactly the inputs, zero padding included, of the untiled conv. */
static int res1_pass(struct res1_tiles *r, const struct kk_adain *a, const float *s,
                     const float *alpha, const struct chorus_nn_conv *conv,
                     const struct res1_io *io, int l, int add) {
    chorus_nn_linear(s, 1, a->fc.in, a->fc.w, a->fc.b, a->fc.out, r->h);
    if (io->inb) chorus_nn_adain_coeffs_bf16(io->inb, r->ch, l, r->h, r->h + r->ch, alpha, &r->af);
    else chorus_nn_adain_coeffs(io->in, r->ch, l, r->h, r->h + r->ch, alpha, &r->af);
    int h = conv->pad;
    if (2 * h != (conv->k - 1) * conv->dil || conv->stride != 1) return -1;
    /* on a bf16 kernel the window is written as its input pairs (r->win holds either) */
    int pairs = chorus_nn_conv_takes_pairs(conv);
    if ((io->inb || io->outb) && !pairs) return -1;
    for (int t0 = 0; t0 < l; t0 += r->tile) {
        int nt = l - t0 < r->tile ? l - t0 : r->tile;
        if (pairs) {
            uint32_t *pw = (uint32_t *)(void *)r->win;
            int wrc = io->inb ? chorus_nn_affine_window_pairs_bf16(io->inb, r->ch, l, t0 - h,
                                                                   nt + 2 * h, &r->af, pw)
                              : chorus_nn_affine_window_pairs(io->in, r->ch, l, t0 - h,
                                                              nt + 2 * h, &r->af, pw);
            if (wrc) return -1;
            if (io->outb) { /* c1 into the tile, then rounded into y */
                if (chorus_nn_conv_valid_pairs(conv, pw, nt + 2 * h, r->yt, r->tile, 0)) return -1;
                struct round_job rj = {r->yt, r->tile, nt, l, t0, io->outb};
                chorus_nn_parallel(round_range, &rj, r->ch, (size_t)r->ch * nt);
            } else if (chorus_nn_conv_valid_pairs(conv, pw, nt + 2 * h, io->out + t0, l, add)) {
                return -1;
            }
            continue;
        }
        chorus_nn_affine_window(io->in, r->ch, l, t0 - h, nt + 2 * h, &r->af, r->win);
        if (chorus_nn_conv_valid(conv, r->win, nt + 2 * h, io->out + t0, l, add)) return -1;
    }
    return 0;
}

/* AdaINResBlock1 in place on x[ch][l], tiled in time: besides x only y (c1's output, whose
 * statistics the second AdaIN needs whole; the caller's ybuf when not NULL: ch*l floats, or
 * ch*l bf16 values with y16) and one window. Same numbers as the whole path, except that with
 * y16 y is rounded to bf16 (half its memory; only where the convolutions take bf16 pairs). */
static int res1_forward_tiled(const struct kk_res1 *b, const float *s, float *x, int l, int tile,
                              void *ybuf, int y16) {
    struct res1_tiles r = {b->ch, tile, 0, NULL, NULL, NULL, {0}, NULL};
    for (int j = 0; j < 3; j++) {
        if (b->c1[j].pad > r.halo) r.halo = b->c1[j].pad;
        if (b->c2[j].pad > r.halo) r.halo = b->c2[j].pad;
    }
    size_t ybytes = (size_t)b->ch * l * (y16 ? sizeof(uint16_t) : sizeof(float));
    void *y = ybuf ? ybuf : chorus_nn_alloc(ybytes);
    r.h = fnew(4 * (size_t)b->ch);
    r.win = fnew((size_t)b->ch * (tile + 2 * r.halo));
    r.mode = malloc((size_t)b->ch);
    if (y16) r.yt = fnew((size_t)b->ch * tile);
    int rc = -1;
    if (!y || !r.h || !r.win || !r.mode || (y16 && !r.yt)) goto done;
    r.af = (struct chorus_nn_affine){r.h + 2 * b->ch, r.h + 3 * b->ch, r.mode, NULL};
    struct res1_io one = {x, NULL, y16 ? NULL : y, y16 ? y : NULL},
                   two = {y16 ? NULL : y, y16 ? y : NULL, x, NULL};
    for (int j = 0; j < 3; j++)
        if (res1_pass(&r, &b->a1[j], s, b->al1[j], &b->c1[j], &one, l, 0) ||
            res1_pass(&r, &b->a2[j], s, b->al2[j], &b->c2[j], &two, l, 1))
            goto done;
    rc = 0;
done:
    if (y != ybuf) free(y);
    free(r.h);
    free(r.win);
    free(r.mode);
    free(r.yt);
    return rc;
}

/* 1 when the tiled block keeps y as bf16: reduced weights the bf16 kernel takes as pairs. */
static int y_bf16(const struct kokoro_model *m, const struct kk_res1 *b) {
    return m->reduced && m->tile > 0 && chorus_nn_conv_takes_pairs(&b->c1[0]) &&
           chorus_nn_conv_takes_pairs(&b->c2[0]);
}

/* ybuf: scratch for the tiled path's y (ch*l floats, or bf16 values: y_bf16), or NULL. */
static int res1_forward(const struct kk_res1 *b, const struct kokoro_model *m, const float *s,
                        float *x, int l, void *ybuf) {
    if (m->tile > 0)
        return res1_forward_tiled(b, s, x, l, m->tile < l ? m->tile : l, ybuf, y_bf16(m, b));
    return res1_forward_whole(b, s, x, l);
}

/* Attention heads [h0, h1) of one ALBERT layer, each on its own t x t block of sc (the heads
 * run on the kernels' threads; the GEMMs inside stay on the calling one). */
struct heads_job {
    int t, BH, dh;
    float scale;
    const float *q, *k, *v;
    float *ctx, *sc;
};
static void heads_range(void *p, int h0, int h1) {
    struct heads_job *j = p;
    int t = j->t;
    for (int hd = h0; hd < h1; hd++) {
        float *sc = j->sc + (size_t)hd * t * t;
        chorus_nn_gemm(0, 1, t, t, j->dh, j->scale, j->q + hd * j->dh, j->BH, j->k + hd * j->dh,
                       j->BH, 0.0f, sc, t);
        for (int i = 0; i < t; i++) {
            float *row = sc + (size_t)i * t, mx = row[0], sum = 0;
            for (int q = 1; q < t; q++) mx = row[q] > mx ? row[q] : mx;
            for (int q = 0; q < t; q++) sum += (row[q] = expf(row[q] - mx));
            for (int q = 0; q < t; q++) row[q] /= sum;
        }
        chorus_nn_gemm(0, 0, t, j->dh, t, 1.0f, sc, t, j->v + hd * j->dh, j->BH, 0.0f,
                       j->ctx + hd * j->dh, j->BH);
    }
}

/* ALBERT: ids[T] -> out[T][BH]. */
static int albert(struct fwd *f, const int *ids, int t, float *h) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int E = c->bert_emb, BH = c->bert_hidden, nh = c->bert_heads, dh = BH / nh, I = c->bert_inter;
    float *x = fnew((size_t)t * E), *q = fnew((size_t)t * BH), *k = fnew((size_t)t * BH),
          *v = fnew((size_t)t * BH), *ctx = fnew((size_t)t * BH), *a = fnew((size_t)t * BH),
          *sc = fnew((size_t)nh * t * t), *ff = fnew((size_t)t * I);
    int rc = -1;
    if (!x || !q || !k || !v || !ctx || !a || !sc || !ff) goto done;
    for (int i = 0; i < t; i++)
        for (int e = 0; e < E; e++)
            x[(size_t)i * E + e] = m->word[(size_t)ids[i] * E + e] + m->tt[e] + m->pos[(size_t)i * E + e];
    chorus_nn_layer_norm(x, t, E, m->eln_w, m->eln_b, 1e-12f);
    chorus_nn_linear(x, t, E, m->map_in.w, m->map_in.b, BH, h);
    float scale = 1.0f / sqrtf((float)dh);
    for (int layer = 0; layer < c->bert_layers; layer++) {
        chorus_nn_linear(h, t, BH, m->q.w, m->q.b, BH, q);
        chorus_nn_linear(h, t, BH, m->k.w, m->k.b, BH, k);
        chorus_nn_linear(h, t, BH, m->v.w, m->v.b, BH, v);
        struct heads_job hj = {t, BH, dh, scale, q, k, v, ctx, sc};
        chorus_nn_parallel(heads_range, &hj, nh, (size_t)nh * t * t * dh);
        chorus_nn_linear(ctx, t, BH, m->dense.w, m->dense.b, BH, a);
        for (size_t i = 0; i < (size_t)t * BH; i++) a[i] += h[i];
        chorus_nn_layer_norm(a, t, BH, m->aln_w, m->aln_b, 1e-12f);
        chorus_nn_linear(a, t, BH, m->ffn.w, m->ffn.b, I, ff);
        chorus_nn_gelu_tanh(ff, (size_t)t * I);
        chorus_nn_linear(ff, t, I, m->ffn_out.w, m->ffn_out.b, BH, h);
        for (size_t i = 0; i < (size_t)t * BH; i++) h[i] += a[i];
        chorus_nn_layer_norm(h, t, BH, m->fln_w, m->fln_b, 1e-12f);
    }
    rc = 0;
done:
    free(x);
    free(q);
    free(k);
    free(v);
    free(ctx);
    free(a);
    free(sc);
    free(ff);
    return rc;
}

/* The harmonic source's samples, blocks [b0, b1) of SINE_BLOCK (each sample on its own: the
 * blocks run on the kernels' threads with the same numbers as one loop). The noise is drawn
 * here, NOISE_RUN samples at a time, by index (kokoro_hooks.noise). */
enum { SINE_BLOCK = 8192, NOISE_RUN = 256, SINE_DIM = 9 };
struct sine_job {
    const struct kokoro_model *m;
    const struct kokoro_hooks *h;
    const float *f0;
    int f0_len, scale;
    const float *ph;
    float *out;
};
static void sine_run(const struct sine_job *j, size_t t0, size_t t1, const float *noise) {
    const int dim = SINE_DIM;
    const float sc = (float)(1.0 / j->scale);
    for (size_t t = t0; t < t1; t++) {
        float src = (float)((double)sc * ((double)t + 0.5) - 0.5);
        if (src < 0) src = 0;
        int i0 = (int)src;
        if (i0 > j->f0_len - 1) i0 = j->f0_len - 1;
        int i1 = i0 + (i0 < j->f0_len - 1 ? 1 : 0);
        float lam = src - (float)i0, l0 = 1.0f - lam;
        float fv = j->f0[t / (size_t)j->scale];
        float uv = fv > 10.0f ? 1.0f : 0.0f;
        float namp = uv * 0.003f + (1.0f - uv) * (0.1f / 3.0f);
        float acc = j->m->src_b[0];
        const float *nz = noise + (t - t0) * dim;
        for (int h = 0; h < dim; h++) {
            const float *ph = j->ph + (size_t)h * j->f0_len;
            float phase = ph[i0] * l0 + ph[i1] * lam;
            float sw = sinf(phase) * 0.1f;
            sw = sw * uv + namp * nz[h];
            acc += j->m->src_w[h] * sw;
        }
        j->out[t] = tanhf(acc);
    }
}
static void sine_range(void *p, int b0, int b1) {
    const struct sine_job *j = p;
    float noise[NOISE_RUN * SINE_DIM];
    size_t n = (size_t)j->f0_len * j->scale, t1 = (size_t)b1 * SINE_BLOCK;
    if (t1 > n) t1 = n;
    for (size_t t = (size_t)b0 * SINE_BLOCK; t < t1; t += NOISE_RUN) {
        size_t e = t + NOISE_RUN < t1 ? t + NOISE_RUN : t1;
        if (j->h && j->h->noise) j->h->noise(j->h->ud, noise, t * SINE_DIM, (e - t) * SINE_DIM);
        else memset(noise, 0, sizeof noise);
        sine_run(j, t, e, noise);
    }
}

/* Harmonic source (SineGen + l_linear + tanh) at the output rate from F0 at f0_len frames. */
static int harmonic_source(struct fwd *f, const float *f0, int f0_len, int scale, float *out) {
    const int dim = SINE_DIM;
    size_t n = (size_t)f0_len * scale;
    float *ph = fnew((size_t)f0_len * dim);
    if (!ph) return -1;
    /* Per-frame phase: cumsum of (f0 * h / sr) mod 1, times 2 pi, times the scale. */
    for (int h = 0; h < dim; h++) {
        double acc = 0;
        for (int i = 0; i < f0_len; i++) {
            float r = f0[i] * (float)(h + 1) / 24000.0f;
            r = r - floorf(r);
            acc += r;
            float p = (float)acc * 2.0f * 3.14159265358979f;
            ph[(size_t)h * f0_len + i] = p * (float)scale;
        }
    }
    struct sine_job sj = {f->m, f->h, f0, f0_len, scale, ph, out};
    int blocks = (int)((n + SINE_BLOCK - 1) / SINE_BLOCK);
    chorus_nn_parallel(sine_range, &sj, blocks, n * dim * 16);
    free(ph);
    return 0;
}

/* The generator's stage tensors live in NSLAB buffers of the largest size a stage needs: a
 * later stage (and conv_post) reuses the pages an earlier one faulted in, where a fresh
 * allocation per tensor costs a page fault and a zeroing for every page (6.7 stage-1 tensors'
 * worth per chunk; 4 now, and none at all for a chunk no larger than an earlier one of the
 * same scratch). Four are enough: a stage holds at most its input, the noise branch, the
 * upsampled tensor and the resblocks' y, or later the sum, the copy, the upsampled tensor and
 * y. y always has the last buffer, half the size when it is kept as bf16 (the reduced
 * precisions; y_bf16). Every user writes a buffer before reading it. */
enum { NSLAB = 4 };
struct kokoro_scratch {
    float *p[NSLAB];
    size_t cap[NSLAB]; /* bytes mapped */
};
struct kokoro_scratch *chorus_kokoro_scratch_new(void) { return calloc(1, sizeof(struct kokoro_scratch)); }
static void scratch_clear(struct kokoro_scratch *s) {
    for (int i = 0; i < NSLAB; i++) chorus_nn_unmap(s->p[i], s->cap[i]);
    memset(s, 0, sizeof *s);
}
void chorus_kokoro_scratch_free(struct kokoro_scratch *s) {
    if (!s) return;
    scratch_clear(s);
    free(s);
}
struct slabs {
    struct kokoro_scratch *s;
    unsigned char used[NSLAB];
    size_t n; /* floats each buffer holds for this pass */
};
/* Buffer i, at least `bytes` long: one too small for this pass is replaced by a fresh one with
 * a quarter to spare (pages never touched cost nothing), so a job whose chunks grow a little
 * faults its buffers in once. */
static void *slab_fit(struct slabs *sl, int i, size_t bytes) {
    if (sl->s->cap[i] < bytes) {
        size_t cap = bytes + bytes / 4;
        void *q = chorus_nn_map(cap);
        if (!q) return NULL;
        chorus_nn_unmap(sl->s->p[i], sl->s->cap[i]);
        sl->s->p[i] = q;
        sl->s->cap[i] = cap;
    }
    sl->used[i] = 1;
    return sl->s->p[i];
}
/* A free buffer of sl->n floats: the first NSLAB - 1 hold the stages' tensors, the last one
 * the resblocks' y (slab_take_y), which is half their size when kept as bf16. */
static float *slab_take(struct slabs *sl) {
    for (int i = 0; i < NSLAB - 1; i++)
        if (!sl->used[i]) return slab_fit(sl, i, sl->n * sizeof(float));
    return NULL;
}
static void *slab_take_y(struct slabs *sl, int half) {
    return sl->used[NSLAB - 1] ? NULL : slab_fit(sl, NSLAB - 1, sl->n * (half ? 2 : 4));
}
static void slab_give(struct slabs *sl, const void *x) {
    for (int i = 0; i < NSLAB; i++)
        if (x && sl->s->p[i] == x) sl->used[i] = 0;
}

/* Upsampling stage i: cur[ch][l] -> *out[ch/2][ls] (a slab; cur is given back when it is one).
 * The last stage frees *har once its noise branch has read it. */
static int gen_stage(struct fwd *f, struct slabs *sl, int i, const float *s, float *cur, int l,
                     float **har, int frames, float **out, int *lout) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int ch = c->up_channel >> i, co = ch >> 1, last = i == c->n_ups - 1;
    chorus_nn_leaky_relu(cur, (size_t)ch * l, 0.1f);
    int ls = chorus_nn_conv_out_len(&m->noise_convs[i], frames);
    int lu = chorus_nn_conv_out_len(&m->ups[i], l);
    /* one scratch for every resblock of the stage */
    int half = y_bf16(m, &m->noise_res[i]);
    for (int j = 0; j < c->n_rk; j++) half &= y_bf16(m, &m->resblocks[i * c->n_rk + j]);
    void *ybuf = m->tile > 0 ? slab_take_y(sl, half) : NULL;
    float *xs = slab_take(sl), *up = slab_take(sl);
    if ((m->tile > 0 && !ybuf) || !xs || !up) return CHORUS_E_NOMEM;
    if (chorus_nn_conv_forward(&m->noise_convs[i], *har, frames, xs)) return CHORUS_E_NOMEM;
    if (last) {
        free(*har);
        *har = NULL;
    }
    if (res1_forward(&m->noise_res[i], m, s, xs, ls, ybuf)) return CHORUS_E_NOMEM;
    if (last) {
        if (lu < 2 || chorus_nn_conv_forward(&m->ups[i], cur, l, up)) return CHORUS_E_NOMEM;
        /* ReflectionPad1d((1, 0)) in place: rows [co][lu] spread to [co][lu+1] from the last
         * row down (a row's new place never overlaps a lower row's old one) */
        for (int q = co - 1; q >= 0; q--) {
            float *row = up + (size_t)q * (lu + 1);
            memmove(row + 1, up + (size_t)q * lu, (size_t)lu * sizeof *up);
            row[0] = row[2];
        }
        lu++;
    } else if (chorus_nn_conv_forward(&m->ups[i], cur, l, up)) {
        return CHORUS_E_NOMEM;
    }
    if (lu != ls) {
        snprintf(f->err, f->errlen, "kokoro generator stage %d: upsampled length %d does not "
                 "match the source length %d (config does not fit the weights)", i, lu, ls);
        return CHORUS_E_INVALID;
    }
    chorus_nn_add(up, xs, (size_t)co * lu, 1.0f);
    slab_give(sl, xs);
    slab_give(sl, cur);
    size_t nn = (size_t)co * lu;
    /* acc = r0(up) + r1(up) + ...: the first resblock runs on a copy that becomes acc, the
     * middle ones on one reused copy, the last in place on up (no longer needed). */
    float *acc = NULL, *tmp = NULL;
    for (int j = 0; j < c->n_rk; j++) {
        if (cancelled(f)) return CHORUS_E_CANCELLED;
        float *w = up;
        if (j < c->n_rk - 1) {
            float **dst = j == 0 ? &acc : &tmp;
            if (!*dst && !(*dst = slab_take(sl))) return CHORUS_E_NOMEM;
            chorus_nn_copy(*dst, up, nn);
            w = *dst;
        }
        if (res1_forward(&m->resblocks[i * c->n_rk + j], m, s, w, lu, ybuf)) return CHORUS_E_NOMEM;
        if (!acc) { /* a single resblock: its result is acc */
            acc = up;
            up = NULL;
        } else if (w != acc) { /* the last one also takes the mean: (acc + w) / n_rk */
            chorus_nn_add(acc, w, nn, j == c->n_rk - 1 ? (float)c->n_rk : 1.0f);
        }
    }
    slab_give(sl, ybuf);
    slab_give(sl, tmp);
    slab_give(sl, up);
    *out = acc;
    *lout = lu;
    return 0;
}

static int generator(struct fwd *f, const float *s, float *x, int l0, const float *f0, int f0_len,
                     float **audio, size_t *n_audio) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int scale = c->hop, rc = CHORUS_E_NOMEM;
    for (int i = 0; i < c->n_ups; i++) scale *= c->up_rates[i];
    size_t ns = (size_t)f0_len * scale;
    int bins = c->n_fft / 2 + 1, frames = (int)(ns / (size_t)c->hop) + 1;
    struct kokoro_scratch own = {{NULL}, {0}};
    struct slabs sl = {f->h && f->h->scratch ? f->h->scratch : &own, {0}, 0};
    for (int i = 0; i < c->n_ups; i++) {
        size_t n = (size_t)(c->up_channel >> (i + 1)) *
                   ((size_t)chorus_nn_conv_out_len(&m->noise_convs[i], frames) + 1);
        if (n > sl.n) sl.n = n;
    }
    if ((size_t)2 * bins * frames > sl.n) sl.n = (size_t)2 * bins * frames;
    float *src = fnew(ns), *har = fnew((size_t)2 * bins * frames), *cur = x, *post = NULL,
          *wav = NULL;
    int l = l0;
    if (!src || !har) goto done;
    if (harmonic_source(f, f0, f0_len, scale, src)) goto done;
    trace(f, "har_source", src, ns);
    if ((int)ns <= c->n_fft / 2 ||
        chorus_nn_stft(src, (int)ns, c->n_fft, c->hop, har, har + (size_t)bins * frames) != frames)
        goto done;
    free(src);
    src = NULL;
    trace(f, "har", har, (size_t)2 * bins * frames);
    for (int i = 0; i < c->n_ups; i++) {
        if (cancelled(f)) {
            rc = CHORUS_E_CANCELLED;
            goto done;
        }
        float *next;
        if ((rc = gen_stage(f, &sl, i, s, cur, l, &har, frames, &next, &l))) goto done;
        rc = CHORUS_E_NOMEM;
        cur = next;
        char nm[32];
        snprintf(nm, sizeof nm, "gen_stage%d", i);
        trace(f, nm, cur, (size_t)(c->up_channel >> (i + 1)) * l);
    }
    int chl = c->up_channel >> c->n_ups;
    chorus_nn_leaky_relu(cur, (size_t)chl * l, 0.01f);
    if (l != frames) goto done;
    if (!(post = slab_take(&sl)) || chorus_nn_conv_forward(&m->post, cur, l, post)) goto done;
    trace(f, "post", post, (size_t)2 * bins * l);
    for (size_t q = 0; q < (size_t)bins * l; q++) post[q] = expf(post[q]);
    for (size_t q = (size_t)bins * l; q < (size_t)2 * bins * l; q++) post[q] = sinf(post[q]);
    size_t nout = (size_t)c->hop * (l - 1);
    if (!(wav = fnew(nout)) ||
        chorus_nn_istft(post, post + (size_t)bins * l, l, c->n_fft, c->hop, wav))
        goto done;
    *audio = wav;
    *n_audio = nout;
    wav = NULL;
    rc = 0;
done:
    free(src);
    free(har);
    free(wav);
    scratch_clear(&own);
    return rc;
}

static int concat_rows(float **out, const float *a, int ra, const float *b, int rb, const float *c,
                       int rc_, const float *d, int rd, int l) {
    float *o = fnew((size_t)(ra + rb + rc_ + rd) * l);
    if (!o) return -1;
    size_t p = 0;
    memcpy(o + p, a, (size_t)ra * l * sizeof *o), p += (size_t)ra * l;
    if (rb) memcpy(o + p, b, (size_t)rb * l * sizeof *o), p += (size_t)rb * l;
    if (rc_) memcpy(o + p, c, (size_t)rc_ * l * sizeof *o), p += (size_t)rc_ * l;
    if (rd) memcpy(o + p, d, (size_t)rd * l * sizeof *o);
    *out = o;
    return 0;
}

/* What one forward pass keeps between its stages; fwd_release frees all of it, whatever
 * stage failed. Temporaries used inside one stage stay local to that stage. */
struct fwd_state {
    int t;             /* tokens (with the two pads) */
    int F;             /* frames: the sum of the predicted durations */
    int L2;            /* length of the F0 and noise curves (2F) */
    float *d;          /* [t][H+S] duration encoder output, style appended */
    int *pd;           /* [t] predicted frames per token (the caller's durations) */
    int *tok;          /* [F] frame -> token */
    float *f0, *nn_;   /* [L2] F0 and noise curves */
    float *asr;        /* [H][F] text encoder output aligned to frames */
};

static void fwd_release(struct fwd_state *b) {
    free(b->d);
    free(b->pd);
    free(b->tok);
    free(b->f0);
    free(b->nn_);
    free(b->asr);
}

static int check_inputs(const struct kokoro_config *c, const int *ids, int t, float speed,
                        char *err, size_t errlen) {
    if (t < 3 || t > c->bert_maxpos) {
        snprintf(err, errlen, "kokoro: %d tokens (with pads) is outside 3..%d", t, c->bert_maxpos);
        return CHORUS_E_INVALID;
    }
    if (!(speed >= 0.1f && speed <= 10.0f)) {
        snprintf(err, errlen, "kokoro: speed %g is outside 0.1..10", (double)speed);
        return CHORUS_E_INVALID;
    }
    for (int i = 0; i < t; i++)
        if (ids[i] < 0 || ids[i] >= c->n_token) {
            snprintf(err, errlen, "kokoro: token id %d is outside 0..%d", ids[i], c->n_token - 1);
            return CHORUS_E_INVALID;
        }
    return CHORUS_OK;
}

/* ALBERT, bert_encoder and the DurationEncoder: b->d [t][H+S]. */
static int duration_encoder(struct fwd *f, struct fwd_state *b, const int *ids,
                            const float *s_pred) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int t = b->t, H = c->hidden, S = c->style_dim, HS = H + S, rc = CHORUS_E_NOMEM;
    float *bert = fnew((size_t)t * c->bert_hidden), *den = fnew((size_t)t * H),
          *y = fnew((size_t)t * H), *gamma = fnew(2 * (size_t)H);
    b->d = fnew((size_t)t * HS);
    if (!bert || !den || !y || !gamma || !b->d) goto out;
    if (albert(f, ids, t, bert)) goto out;
    trace(f, "bert", bert, (size_t)t * c->bert_hidden);
    chorus_nn_linear(bert, t, c->bert_hidden, m->bert_enc.w, m->bert_enc.b, H, den);
    trace_t(f, "d_en", den, t, H);
    float *d = b->d;
    for (int i = 0; i < t; i++) {
        memcpy(d + (size_t)i * HS, den + (size_t)i * H, (size_t)H * sizeof *d);
        memcpy(d + (size_t)i * HS + H, s_pred, (size_t)S * sizeof *d);
    }
    for (int l = 0; l < c->n_layer; l++) {
        if (chorus_nn_lstm_forward(&m->dur_lstm[l].l, d, t, y)) goto out;
        chorus_nn_linear(s_pred, 1, S, m->dur_aln[l].w, m->dur_aln[l].b, 2 * H, gamma);
        chorus_nn_layer_norm(y, t, H, NULL, NULL, 1e-5f);
        for (int i = 0; i < t; i++)
            for (int j = 0; j < H; j++) {
                float *p = d + (size_t)i * HS + j;
                *p = (1.0f + gamma[j]) * y[(size_t)i * H + j] + gamma[H + j];
            }
    }
    trace(f, "d", d, (size_t)t * HS);
    rc = CHORUS_OK;
out:
    free(bert);
    free(den);
    free(y);
    free(gamma);
    return rc;
}

/* The duration predictor: frames per token b->pd, their sum b->F, and the alignment b->tok. */
static int durations(struct fwd *f, struct fwd_state *b, float speed) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int t = b->t, H = c->hidden, rc = CHORUS_E_NOMEM;
    float *y = fnew((size_t)t * H), *proj = fnew((size_t)t * c->max_dur), *dur = fnew((size_t)t);
    b->pd = malloc(sizeof(int) * (size_t)t);
    if (!y || !proj || !dur || !b->pd) goto out;
    if (chorus_nn_lstm_forward(&m->pred_lstm.l, b->d, t, y)) goto out;
    trace(f, "lstm", y, (size_t)t * H);
    chorus_nn_linear(y, t, H, m->dur_proj.w, m->dur_proj.b, c->max_dur, proj);
    long frames = 0;
    for (int i = 0; i < t; i++) {
        float sum = 0;
        for (int j = 0; j < c->max_dur; j++)
            sum += 1.0f / (1.0f + expf(-proj[(size_t)i * c->max_dur + j]));
        dur[i] = sum / speed;
        float r = rintf(dur[i]); /* torch.round: half to even */
        b->pd[i] = r < 1.0f ? 1 : (int)r;
        frames += b->pd[i];
    }
    trace(f, "dur", dur, (size_t)t);
    if (f->h && f->h->trace) {
        for (int i = 0; i < t; i++) dur[i] = (float)b->pd[i];
        trace(f, "pred_dur", dur, (size_t)t);
    }
    b->F = (int)frames;
    /* Alignment: frame -> token. */
    if (!(b->tok = malloc(sizeof(int) * (size_t)b->F))) goto out;
    for (int i = 0, p = 0; i < t; i++)
        for (int r = 0; r < b->pd[i]; r++) b->tok[p++] = i;
    rc = CHORUS_OK;
out:
    free(y);
    free(proj);
    free(dur);
    return rc;
}

/* One of the F0 and noise chains: three blocks from `in` [H][F], then the 1x1 projection. */
static int curve_chain(const struct kk_blk *chain, const struct chorus_nn_conv *proj,
                       const float *s_pred, const float *in, int F, float **out, int *len) {
    const float *cur = in;
    float *owned = NULL, *nx = NULL;
    int l = F;
    for (int i = 0; i < 3; i++) {
        int lo;
        int bad = blk_forward(&chain[i], s_pred, cur, l, &nx, &lo);
        free(owned);
        if (bad) return CHORUS_E_NOMEM;
        cur = owned = nx;
        l = lo;
    }
    *out = fnew((size_t)l);
    int bad = !*out || chorus_nn_conv_forward(proj, cur, l, *out);
    free(owned);
    *len = l;
    return bad ? CHORUS_E_NOMEM : CHORUS_OK;
}

/* F0Ntrain: the shared LSTM over the frame-aligned encoder output, then the F0 and noise
 * chains: b->f0, b->nn_ [L2]. */
static int f0_noise(struct fwd *f, struct fwd_state *b, const float *s_pred) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int F = b->F, H = c->hidden, HS = H + c->style_dim, rc = CHORUS_E_NOMEM;
    float *xin = fnew((size_t)F * HS), *sh = fnew((size_t)F * H), *shc = fnew((size_t)F * H);
    if (!xin || !sh || !shc) goto out;
    for (int q = 0; q < F; q++)
        memcpy(xin + (size_t)q * HS, b->d + (size_t)b->tok[q] * HS, (size_t)HS * sizeof *xin);
    trace_t(f, "en", xin, F, HS);
    if (chorus_nn_lstm_forward(&m->shared.l, xin, F, sh)) goto out;
    chorus_nn_transpose(sh, F, H, shc);
    if (curve_chain(m->f0, &m->f0_proj, s_pred, shc, F, &b->f0, &b->L2)) goto out;
    if (curve_chain(m->nb, &m->n_proj, s_pred, shc, F, &b->nn_, &b->L2)) goto out;
    trace(f, "F0", b->f0, (size_t)b->L2);
    trace(f, "N", b->nn_, (size_t)b->L2);
    rc = CHORUS_OK;
out:
    free(xin);
    free(sh);
    free(shc);
    return rc;
}

/* TextEncoder: embeddings, CNN layers, LSTM, aligned to frames: b->asr [H][F]. */
static int text_encoder(struct fwd *f, struct fwd_state *b, const int *ids) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int t = b->t, F = b->F, H = c->hidden, rc = CHORUS_E_NOMEM;
    float *te = fnew((size_t)t * H), *te2 = fnew((size_t)t * H), *ten = fnew((size_t)t * H);
    if (!te || !te2 || !ten) goto out;
    for (int i = 0; i < t; i++)
        memcpy(te + (size_t)i * H, m->temb + (size_t)ids[i] * H, (size_t)H * sizeof *te);
    for (int l = 0; l < c->n_layer; l++) {
        chorus_nn_transpose(te, t, H, te2);
        if (chorus_nn_conv_forward(&m->tcnn[l], te2, t, ten)) goto out;
        chorus_nn_transpose(ten, H, t, te);
        chorus_nn_layer_norm(te, t, H, m->tln_g[l], m->tln_b[l], 1e-5f);
        chorus_nn_leaky_relu(te, (size_t)t * H, 0.2f);
    }
    if (chorus_nn_lstm_forward(&m->tlstm.l, te, t, te2)) goto out;
    chorus_nn_transpose(te2, t, H, ten); /* t_en [H][T] */
    trace(f, "t_en", ten, (size_t)t * H);
    if (!(b->asr = fnew((size_t)H * F))) goto out;
    for (int ch = 0; ch < H; ch++)
        for (int q = 0; q < F; q++) b->asr[(size_t)ch * F + q] = ten[(size_t)ch * t + b->tok[q]];
    trace(f, "asr", b->asr, (size_t)H * F);
    rc = CHORUS_OK;
out:
    free(te);
    free(te2);
    free(ten);
    return rc;
}

/* Decoder: encode block, four decode blocks (the first ones with the residual inputs), then
 * the generator: *audio. */
static int decoder(struct fwd *f, struct fwd_state *b, const float *s_dec, float **audio,
                   size_t *n_audio) {
    const struct kokoro_model *m = f->m;
    const struct kokoro_config *c = &m->cfg;
    int F = b->F, H = c->hidden, rc = CHORUS_E_NOMEM;
    int lf = chorus_nn_conv_out_len(&m->f0_conv, b->L2);
    if (lf != F) {
        snprintf(f->err, f->errlen, "kokoro decoder: F0 length %d does not match %d frames", lf, F);
        return CHORUS_E_INVALID;
    }
    float *f0c = fnew((size_t)F), *nc = fnew((size_t)F), *ares = NULL, *x = NULL, *x2 = NULL;
    if (!f0c || !nc || chorus_nn_conv_forward(&m->f0_conv, b->f0, b->L2, f0c) ||
        chorus_nn_conv_forward(&m->n_conv, b->nn_, b->L2, nc) ||
        concat_rows(&x, b->asr, H, f0c, 1, nc, 1, NULL, 0, F) ||
        !(ares = fnew((size_t)m->asr_dim * F)) || chorus_nn_conv_forward(&m->asr_res, b->asr, F, ares))
        goto out;
    int l = F, lo;
    if (blk_forward(&m->encode, s_dec, x, l, &x2, &lo)) goto out;
    free(x);
    x = x2;
    x2 = NULL;
    trace(f, "dec_encode", x, (size_t)m->dec_dim * F);
    int res = 1;
    for (int i = 0; i < 4; i++) {
        if (cancelled(f)) {
            rc = CHORUS_E_CANCELLED;
            goto out;
        }
        if (res) {
            if (concat_rows(&x2, x, m->dec_dim, ares, m->asr_dim, f0c, 1, nc, 1, l)) goto out;
            free(x);
            x = x2;
            x2 = NULL;
        }
        if (blk_forward(&m->decode[i], s_dec, x, l, &x2, &lo)) goto out;
        free(x);
        x = x2;
        x2 = NULL;
        if (m->decode[i].up) res = 0;
        l = lo;
    }
    trace(f, "gen_in", x, (size_t)c->up_channel * l);
    rc = generator(f, s_dec, x, l, b->f0, b->L2, audio, n_audio);
out:
    free(f0c);
    free(nc);
    free(ares);
    free(x);
    free(x2);
    return rc;
}

int chorus_kokoro_model_forward(const struct kokoro_model *m, const int *ids, int t,
                         const float *ref_s, float speed, const struct kokoro_hooks *hooks,
                         float **audio, size_t *n_audio, int **durations_out, char *err,
                         size_t errlen) {
    struct fwd f = {m, hooks, err, errlen};
    if (errlen) err[0] = 0;
    *audio = NULL;
    *n_audio = 0;
    *durations_out = NULL;
    int rc = check_inputs(&m->cfg, ids, t, speed, err, errlen);
    if (rc != CHORUS_OK) return rc;
    const float *s_pred = ref_s + m->cfg.style_dim, *s_dec = ref_s;
    struct fwd_state b = {.t = t};
    rc = duration_encoder(&f, &b, ids, s_pred);
    if (rc == CHORUS_OK) rc = durations(&f, &b, speed);
    if (rc == CHORUS_OK && cancelled(&f)) rc = CHORUS_E_CANCELLED;
    if (rc == CHORUS_OK) rc = f0_noise(&f, &b, s_pred);
    if (rc == CHORUS_OK && cancelled(&f)) rc = CHORUS_E_CANCELLED;
    if (rc == CHORUS_OK) rc = text_encoder(&f, &b, ids);
    if (rc == CHORUS_OK) rc = decoder(&f, &b, s_dec, audio, n_audio);
    if (rc == CHORUS_OK) {
        trace(&f, "audio", *audio, *n_audio);
        *durations_out = b.pd;
        b.pd = NULL;
    }
    fwd_release(&b);
    if (rc == CHORUS_E_NOMEM && errlen && err[0] == 0) snprintf(err, errlen, "kokoro: out of memory");
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Noise                                                                                      */

#define GOLDEN 0x9e3779b97f4a7c15ull

static uint64_t mix64(uint64_t z) { /* SplitMix64's output function */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t pass_key(uint64_t seed, uint64_t pass) {
    return mix64(mix64(seed + GOLDEN) + (pass + 1) * GOLDEN);
}

void chorus_kokoro_rng_seed(struct kokoro_rng *r, uint64_t seed) {
    r->seed = seed;
    r->pass = 0;
    r->key = pass_key(seed, 0);
}

void chorus_kokoro_rng_next(struct kokoro_rng *r) { r->key = pass_key(r->seed, ++r->pass); }

/* Value i is half of pair i/2: the pair's 64 bits are SplitMix64's output for counter i/2 in
 * this pass's stream, two 24-bit uniforms of them go through Box-Muller (cosine for even i,
 * sine for odd), so ranges split anywhere give the same values. */
void chorus_kokoro_rng_normal(void *rng, float *out, size_t first, size_t n) {
    const uint64_t key = ((const struct kokoro_rng *)rng)->key;
    for (size_t i = 0; i < n;) {
        size_t idx = first + i;
        uint64_t z = mix64(key + ((idx >> 1) + 1) * GOLDEN);
        float u1 = (float)((z >> 40) + 1) * 0x1p-24f, u2 = (float)(z & 0xffffff) * 0x1p-24f;
        float rad = sqrtf(-2.0f * logf(u1)), ang = 6.28318531f * u2;
        if (!(idx & 1)) {
            out[i++] = rad * cosf(ang);
            if (i == n) break;
        }
        out[i++] = rad * sinf(ang);
    }
}
