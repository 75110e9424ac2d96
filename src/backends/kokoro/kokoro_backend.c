/*
 * kokoro_backend.c — the `kokoro` backend: native Kokoro-82M (kokoro_model.c) behind the
 * backend interface.
 *
 * Files: the weights (kokoro-v1_0.pth), config.json next to them, and voices (a directory of
 * .pt/.bin packs or voices-v1.0.bin). Looked up in this order: $KOKORO_MODEL_PATH /
 * $KOKORO_VOICES_PATH, [kokoro] model_path / config_path / voices_path, then
 * $XDG_DATA_HOME/chorus/models/kokoro/ (~/.local/share/... when unset). The model loads on the
 * first job (once, shared by all threads; its weights stay memory-mapped). Jobs run at the same
 * time on that one copy: the model is read-only after load and each forward pass allocates
 * its own activations.
 *
 * A job is phonemized (or taken as phonemes), cut into chunks of at most 510 phonemes at
 * punctuation, and each chunk's audio goes to the sink as soon as it is computed, with word
 * timestamps from the predicted durations.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/kokoro/kokoro_en.h"
#include "backends/kokoro/kokoro_g2p.h"
#include "backends/kokoro/kokoro_lexicon.h"
#include "backends/kokoro/kokoro_model.h"
#include "backends/kokoro/kokoro_voice.h"
#include "nn/nn.h"
#include "nn/ptwrite.h"
#include "core/backend.h"
#include "core/config.h"
#include "core/log.h"
#include "text/pron.h"

#define KOKORO_RATE 24000
#define KOKORO_MAX_PHONEMES 510
/* Chunks aim at whole sentences within this many phonemes (Kokoro-FastAPI makes chunks of
 * 175-250, target_min_tokens and target_max_tokens in remsky/Kokoro-FastAPI
 * api/src/core/config.py, and its README finds 510-phoneme ones "rushed"): the generator's
 * buffers, most of the memory, grow with a chunk's length; at 175 a 1,000-character request
 * stays under 400 MB (docs/kokoro.md, "Chunk target, int8 and the server's heap, round 5") */
#define KOKORO_TARGET_PHONEMES 175

struct kokoro_priv {
    char model[1024], config[1024], voices[1024], looked[1024];
    char precision[16]; /* [kokoro] precision: "auto", "fp32", "bf16" or "int8"; else the load
                         * fails */
    int max_ph;         /* [kokoro] max_phonemes: chunk size, 32-510 (0: the setting is bad) */
    char max_ph_text[24];
    int target_ph; /* [kokoro] target_phonemes: chunks aim at it, 32-510 (0: the setting is bad) */
    char target_ph_text[24];
    pthread_mutex_t lock;
    int lock_init, load_status;
    /* set (release) once load_status and load_err are final: probe reads them without the
     * lock, which a first load holds for seconds */
    atomic_int loaded;
    char load_err[512];
    struct kokoro_model *m;
    struct kokoro_voices v;
    const struct chorus_config *cfg;
    /* misaki's lexicons, [0] en-us and [1] en-gb, loaded on the first English job */
    char lexdir[1024];
    pthread_mutex_t lexlock;
    int lexlock_init;
    atomic_int lex_tried[2];
    struct kokoro_lexicon *gold[2], *silver[2], *user;
    char userfile[1024];
    struct kokoro_en_lex lex[2];
};

extern const struct chorus_backend_desc chorus_backend_kokoro;
extern const struct chorus_model_desc chorus_kokoro_model;

static const struct chorus_option_desc kokoro_options[] = {
    {"lang_code", "string", NULL, 1, 0, NULL,
     "language for G2P: a (en-us), b (en-gb), e, f, h, i, p, or an espeak name; default from "
     "the voice's first letter"},
    {"seed", "int", NULL, 0, 4294967295.0, NULL,
     "seed of the harmonic-source noise (same seed, same audio); default random"},
    {NULL, NULL, NULL, 0, 0, NULL, NULL}};

/* OpenAI's voice names, as Kokoro-FastAPI maps them (remsky/Kokoro-FastAPI,
 * api/src/core/openai_mappings.json: its v0 packs are the same speakers as v1.0's names below);
 * the other OpenAI names have no Kokoro counterpart there. The core applies this table (and
 * [kokoro.voices] overrides) for every entry point: library, CLI and server. */
static const char *const kokoro_voice_aliases[][2] = {
    {"alloy", "am_adam"},      {"ash", "af_nicole"},  {"coral", "bf_emma"},
    {"echo", "af_bella"},      {"fable", "af_sarah"}, {"onyx", "bm_george"},
    {"nova", "bf_isabella"},   {"sage", "am_michael"}, {"shimmer", "af_sky"},
    {NULL, NULL}};

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}
static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A phoneme count setting, 32-510: its value, def when unset, 0 when it is bad. */
static int phoneme_setting(const char *v, int def) {
    if (!v || !*v) return def;
    char *end;
    long nv = strtol(v, &end, 10);
    return *end || nv < 32 || nv > KOKORO_MAX_PHONEMES ? 0 : (int)nv;
}

/* Where `chorus models pull kokoro` installs (chorus_model_dir). */
static void data_dir(char *out, size_t n) {
    if (chorus_model_dir("kokoro", out, n) != CHORUS_OK) snprintf(out, n, "./kokoro");
}

static void dir_of(const char *path, char *out, size_t n) {
    snprintf(out, n, "%s", path);
    char *s = strrchr(out, '/');
    if (s) *s = 0;
    else snprintf(out, n, ".");
}

static int kokoro_open(struct chorus_backend *b, const struct chorus_config *cfg) {
    struct kokoro_priv *p = b->priv;
    p->cfg = cfg;
    if (pthread_mutex_init(&p->lock, NULL) != 0) return CHORUS_E_NOMEM;
    p->lock_init = 1;
    char dd[900];
    data_dir(dd, sizeof dd);
    static const char *const mplaces[] = {"kokoro", "model_path", NULL};
    static const char *const cplaces[] = {"kokoro", "config_path", NULL};
    static const char *const vplaces[] = {"kokoro", "voices_path", NULL};
    const char *m = chorus_config_find(cfg, "KOKORO_MODEL_PATH", mplaces);
    if (m && is_dir(m)) snprintf(p->model, sizeof p->model, "%s/kokoro-v1_0.pth", m);
    else if (m) snprintf(p->model, sizeof p->model, "%s", m);
    else snprintf(p->model, sizeof p->model, "%s/kokoro-v1_0.pth", dd);
    char md[1024];
    dir_of(p->model, md, sizeof md);
    const char *c = chorus_config_find(cfg, NULL, cplaces);
    if (c) snprintf(p->config, sizeof p->config, "%s", c);
    else snprintf(p->config, sizeof p->config, "%.990s/config.json", md);
    const char *v = chorus_config_find(cfg, "KOKORO_VOICES_PATH", vplaces);
    if (v) snprintf(p->voices, sizeof p->voices, "%s", v);
    else {
        snprintf(p->voices, sizeof p->voices, "%.990s/voices-v1.0.bin", md);
        if (!file_exists(p->voices)) snprintf(p->voices, sizeof p->voices, "%.990s/voices", md);
    }
    static const char *const pplaces[] = {"kokoro", "precision", NULL};
    const char *pr = chorus_config_find(cfg, "KOKORO_PRECISION", pplaces);
    snprintf(p->precision, sizeof p->precision, "%.15s", pr && *pr ? pr : "auto");
    static const char *const xplaces[] = {"kokoro", "max_phonemes", NULL};
    const char *mp = chorus_config_find(cfg, "KOKORO_MAX_PHONEMES", xplaces);
    snprintf(p->max_ph_text, sizeof p->max_ph_text, "%.20s", mp ? mp : "");
    p->max_ph = phoneme_setting(mp, KOKORO_MAX_PHONEMES);
    static const char *const tplaces[] = {"kokoro", "target_phonemes", NULL};
    const char *tp = chorus_config_find(cfg, "KOKORO_TARGET_PHONEMES", tplaces);
    snprintf(p->target_ph_text, sizeof p->target_ph_text, "%.20s", tp ? tp : "");
    p->target_ph = phoneme_setting(tp, KOKORO_TARGET_PHONEMES);
    static const char *const lplaces[] = {"kokoro", "lexicon_dir", NULL};
    const char *ld = chorus_config_find(cfg, "KOKORO_LEXICON_DIR", lplaces);
    if (ld) snprintf(p->lexdir, sizeof p->lexdir, "%s", ld);
    else snprintf(p->lexdir, sizeof p->lexdir, "%.1000s/misaki", dd);
    static const char *const uplaces[] = {"pronunciations", "kokoro", NULL};
    const char *uf = chorus_config_find(cfg, NULL, uplaces);
    if (uf) snprintf(p->userfile, sizeof p->userfile, "%s", uf);
    if (pthread_mutex_init(&p->lexlock, NULL) != 0) return CHORUS_E_NOMEM;
    p->lexlock_init = 1;
    snprintf(p->looked, sizeof p->looked,
             "$KOKORO_MODEL_PATH/$KOKORO_VOICES_PATH, [kokoro] model_path/config_path/"
             "voices_path in config.toml, then %s/",
             dd);
    return CHORUS_OK;
}

static void kokoro_close(struct chorus_backend *b) {
    struct kokoro_priv *p = b->priv;
    chorus_kokoro_model_free(p->m);
    chorus_kokoro_voices_close(&p->v);
    if (p->lock_init) pthread_mutex_destroy(&p->lock);
    if (p->lexlock_init) pthread_mutex_destroy(&p->lexlock);
    for (int i = 0; i < 2; i++) {
        chorus_kokoro_lexicon_free(p->gold[i]);
        chorus_kokoro_lexicon_free(p->silver[i]);
        p->gold[i] = p->silver[i] = NULL;
    }
    chorus_kokoro_lexicon_free(p->user);
    p->user = NULL;
    p->m = NULL;
}

static int kokoro_probe(struct chorus_backend *b, struct chorus_probe *why) {
    struct kokoro_priv *p = b->priv;
    const char *missing = !file_exists(p->model)    ? p->model
                          : !file_exists(p->config) ? p->config
                          : !file_exists(p->voices) ? p->voices
                                                    : NULL;
    if (missing) {
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE,
                            "kokoro model file not found: %.200s (looked at %.200s); install it "
                            "with 'chorus models pull kokoro'",
                            missing, p->looked);
        return 0;
    }
    if (atomic_load_explicit(&p->loaded, memory_order_acquire) && p->load_status) {
        chorus_backend_fail(b, CHORUS_E_UNAVAILABLE, "%.500s", p->load_err);
        return 0;
    }
    return 1;
}

/* Where the packed weights live (see nn/packfile.h): beside the model as MODEL.chorus-pack,
 * or, when that directory is read-only, in $XDG_CACHE_HOME/chorus/kokoro (~/.cache/...) under
 * a name made from the model's path. Models under 16 MiB (tests' tiny ones) pack in
 * milliseconds and get none; CHORUS_KOKORO_PACK=0 turns it off. Empty result: none. */
#define KOKORO_PACK_MIN_BYTES (16u << 20)
static void pack_path(const char *model, char *out, size_t n) {
    out[0] = 0;
    struct stat st;
    const char *off = getenv("CHORUS_KOKORO_PACK");
    if ((off && !strcmp(off, "0")) || stat(model, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size < KOKORO_PACK_MIN_BYTES)
        return;
    char dir[1024];
    dir_of(model, dir, sizeof dir);
    if (access(dir, W_OK) == 0) {
        snprintf(out, n, "%s.chorus-pack", model);
        return;
    }
    char base[1024];
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (x && x[0] == '/') snprintf(base, sizeof base, "%s/chorus", x);
    else if (h && *h) snprintf(base, sizeof base, "%s/.cache/chorus", h);
    else return;
    char kdir[1100];
    snprintf(kdir, sizeof kdir, "%s/kokoro", base);
    if ((mkdir(base, 0755) != 0 && errno != EEXIST) || (mkdir(kdir, 0755) != 0 && errno != EEXIST))
        return;
    uint64_t hsh = 0xcbf29ce484222325ULL;
    for (const char *c = model; *c; c++) hsh = (hsh ^ (unsigned char)*c) * 0x100000001b3ULL;
    const char *slash = strrchr(model, '/');
    snprintf(out, n, "%s/%.200s-%016llx.chorus-pack", kdir, slash ? slash + 1 : model,
             (unsigned long long)hsh);
}

/* Load model and voices once. */
static int ensure_loaded(struct kokoro_priv *p) {
    if (atomic_load_explicit(&p->loaded, memory_order_acquire)) return p->load_status;
    pthread_mutex_lock(&p->lock);
    if (!atomic_load_explicit(&p->loaded, memory_order_relaxed)) {
        char pk[2048];
        pack_path(p->model, pk, sizeof pk);
        /* auto: bf16 where the CPU has bf16 dot products (AVX512_BF16: 1.4x faster, ~100 MB
         * less, 35 dB SNR against fp32; docs/kokoro.md "Memory and precision"), else fp32 */
        int int8 = !strcmp(p->precision, "int8"),
            bf16 = !strcmp(p->precision, "bf16") ||
                   (!strcmp(p->precision, "auto") && chorus_nn_dconv_level() >= 2);
        if (!p->max_ph) {
            snprintf(p->load_err, sizeof p->load_err,
                     "[kokoro] max_phonemes = \"%s\": use a whole number from 32 to %d",
                     p->max_ph_text, KOKORO_MAX_PHONEMES);
            p->load_status = CHORUS_E_CONFIG;
        } else if (!p->target_ph) {
            snprintf(p->load_err, sizeof p->load_err,
                     "[kokoro] target_phonemes = \"%s\": use a whole number from 32 to %d",
                     p->target_ph_text, KOKORO_MAX_PHONEMES);
            p->load_status = CHORUS_E_CONFIG;
        } else if (!bf16 && !int8 && strcmp(p->precision, "fp32") &&
                   strcmp(p->precision, "auto")) {
            snprintf(p->load_err, sizeof p->load_err,
                     "[kokoro] precision = \"%s\": use \"auto\", \"fp32\", \"bf16\" or "
                     "\"int8\"", p->precision);
            p->load_status = CHORUS_E_CONFIG;
        } else {
            p->load_status = chorus_kokoro_model_load_packed(&p->m, p->config, p->model, pk,
                                                             NULL, p->load_err,
                                                             sizeof p->load_err);
        }
        if (!p->load_status && (bf16 || int8) &&
            (int8 ? chorus_kokoro_model_to_int8(p->m) : chorus_kokoro_model_to_bf16(p->m))) {
            snprintf(p->load_err, sizeof p->load_err, "kokoro: out of memory for %s weights",
                     int8 ? "int8" : "bf16");
            p->load_status = CHORUS_E_NOMEM;
        }
        if (!p->load_status)
            p->load_status = chorus_kokoro_voices_open(&p->v, p->voices, p->load_err, sizeof p->load_err);
        atomic_store_explicit(&p->loaded, 1, memory_order_release);
    }
    int rc = p->load_status;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* misaki's lexicons for an English language code (a/en-us or b/en-gb), loaded once; NULL for
 * other languages. A missing or broken file is one warning, then espeak-ng alone. */
static const struct kokoro_en_lex *english_lex(struct kokoro_priv *p, const char *lang) {
    const char *v = chorus_kokoro_lang_espeak(lang);
    if (!v || strncmp(v, "en-", 3)) return NULL;
    int gb = !strcmp(v, "en-gb");
    if (atomic_load_explicit(&p->lex_tried[gb], memory_order_acquire)) return &p->lex[gb];
    pthread_mutex_lock(&p->lexlock);
    if (!atomic_load_explicit(&p->lex_tried[gb], memory_order_relaxed)) {
        const char *d = gb ? "gb" : "us";
        char path[1200], err[512] = "";
        snprintf(path, sizeof path, "%s/%s_gold.json", p->lexdir, d);
        int rc = chorus_kokoro_lexicon_load(&p->gold[gb], path, err, sizeof err);
        if (!rc) {
            snprintf(path, sizeof path, "%s/%s_silver.json", p->lexdir, d);
            rc = chorus_kokoro_lexicon_load(&p->silver[gb], path, err, sizeof err);
        }
        if (rc == CHORUS_E_NOT_FOUND)
            CHORUS_LOGW("kokoro: misaki's %s lexicon is not installed (%s): English words are "
                        "phonemized by espeak-ng alone; run 'chorus models pull kokoro' to get it",
                        v, path);
        else if (rc)
            CHORUS_LOGW("kokoro: cannot use misaki's %s lexicon: %s; English words are phonemized by "
                        "espeak-ng alone", v, err);
        if (rc) {
            chorus_kokoro_lexicon_free(p->gold[gb]);
            chorus_kokoro_lexicon_free(p->silver[gb]);
            p->gold[gb] = p->silver[gb] = NULL;
        }
        /* the user's pronunciations ([pronunciations] kokoro = FILE, misaki's JSON format) */
        if (p->userfile[0] && !p->user && !atomic_load_explicit(&p->lex_tried[!gb], memory_order_relaxed)) {
            rc = chorus_kokoro_lexicon_load(&p->user, p->userfile, err, sizeof err);
            if (rc)
                CHORUS_LOGW("kokoro: cannot use the pronunciations in [pronunciations] kokoro: %s; "
                            "it is a JSON object of word -> Kokoro phonemes", err);
        }
        p->lex[gb] = (struct kokoro_en_lex){p->gold[gb], p->silver[gb], p->user};
        atomic_store_explicit(&p->lex_tried[gb], 1, memory_order_release);
    }
    pthread_mutex_unlock(&p->lexlock);
    return &p->lex[gb];
}

static const char *lang_name(char c) {
    switch (c) {
    case 'a': return "en-us";
    case 'b': return "en-gb";
    case 'e': return "es";
    case 'f': return "fr-fr";
    case 'h': return "hi";
    case 'i': return "it";
    case 'j': return "ja";
    case 'p': return "pt-br";
    case 'z': return "zh";
    default: return NULL;
    }
}

static int kokoro_list_voices(struct chorus_backend *b, struct chorus_voice_list *out) {
    struct kokoro_priv *p = b->priv;
    struct kokoro_voices v;
    char err[512] = "";
    int rc = chorus_kokoro_voices_open(&v, p->voices, err, sizeof err);
    if (rc) return chorus_backend_fail(b, rc, "%s", err[0] ? err : chorus_strerror(rc));
    char **names;
    int n = chorus_kokoro_voices_list(&v, &names);
    if (n < 0) {
        chorus_kokoro_voices_close(&v);
        return chorus_backend_fail(b, CHORUS_E_IO, "cannot read the voice names in %s", p->voices);
    }
    for (int i = 0; i < n && rc == CHORUS_OK; i++) {
        const char *nm = names[i];
        const char *g = strlen(nm) > 2 && nm[2] == '_' ? (nm[1] == 'f' ? "female" : nm[1] == 'm' ? "male" : NULL) : NULL;
        const char *lang = g ? lang_name(nm[0]) : NULL;
        rc = chorus_voice_list_add(out, nm, nm, lang, g, "Kokoro-82M voice");
    }
    chorus_kokoro_voices_list_free(names, n);
    chorus_kokoro_voices_close(&v);
    return rc;
}

struct hook_ctx {
    const struct chorus_job *job;
    struct kokoro_rng rng;
};
static int hook_cancelled(void *ud) { return chorus_job_cancelled(((struct hook_ctx *)ud)->job); }
static void hook_noise(void *ud, float *out, size_t first, size_t n) {
    chorus_kokoro_rng_normal(&((struct hook_ctx *)ud)->rng, out, first, n);
}

/* Kokoro's IPA for a text: what --phonemes input takes for this backend. Needs no model files:
 * the G2P is espeak-ng and the lexicons; the vocab is v1.0's unless a model is loaded. */
static int kokoro_phonemize(struct chorus_backend *b, const char *voice, const char *language,
                            const char *text, size_t len, char **out) {
    struct kokoro_priv *p = b->priv;
    const struct kokoro_config *cfg = NULL;
    if (atomic_load_explicit(&p->loaded, memory_order_acquire) && !p->load_status)
        cfg = chorus_kokoro_model_config(p->m);
    const char *v = voice && *voice ? voice : "af_heart";
    char l1[2] = {v[0], 0};
    const char *lang = language && *language ? language : l1;
    struct kokoro_tokens toks;
    char err[512] = "";
    int rc = chorus_kokoro_g2p_lex(text, len, lang, cfg, english_lex(p, lang), &toks, err, sizeof err);
    if (rc) return chorus_backend_fail(b, rc, "%s", err[0] ? err : chorus_strerror(rc));
    *out = chorus_kokoro_tokens_ps_utf8(&toks, 0, toks.n);
    chorus_kokoro_tokens_release(&toks);
    return *out ? CHORUS_OK : chorus_backend_fail(b, CHORUS_E_NOMEM, "out of memory");
}

/* A voice or mix as torch.save() writes a pack: [rows, 1, 256] float32 (Kokoro-FastAPI's
 * combine endpoint answers with this, archive folder "archive" as for an in-memory save). */
static int kokoro_export_voice(struct chorus_backend *b, const char *voice, unsigned char **data,
                               size_t *len) {
    struct kokoro_priv *p = b->priv;
    struct kokoro_voices v;
    char err[512] = "";
    int rc = chorus_kokoro_voices_open(&v, p->voices, err, sizeof err);
    if (rc) return chorus_backend_fail(b, rc, "%s", err[0] ? err : chorus_strerror(rc));
    float *pack = NULL;
    int rows = 0;
    rc = chorus_kokoro_voices_load(&v, voice && *voice ? voice : "af_heart", &pack, &rows, err,
                                   sizeof err);
    chorus_kokoro_voices_close(&v);
    if (rc) return chorus_backend_fail(b, rc, "%s", err[0] ? err : chorus_strerror(rc));
    const int64_t shape[3] = {rows, 1, 256};
    rc = chorus_pt_write_f32("archive", pack, shape, 3, data, len);
    free(pack);
    return rc ? chorus_backend_fail(b, CHORUS_E_NOMEM, "out of memory writing the voice file")
              : CHORUS_OK;
}

static int synthesize_job(struct chorus_backend *b, const struct chorus_job *job,
                          struct chorus_sink *sink);

/* Each generation tells the kernels it runs, so that concurrent ones share the threads. */
static int kokoro_synthesize(struct chorus_backend *b, const struct chorus_job *job,
                             struct chorus_sink *sink) {
    chorus_nn_job_begin();
    int rc = synthesize_job(b, job, sink);
    chorus_nn_job_end();
    return rc;
}

static int synthesize_job(struct chorus_backend *b, const struct chorus_job *job,
                          struct chorus_sink *sink) {
    struct kokoro_priv *p = b->priv;
    int rc = ensure_loaded(p);
    if (rc) return chorus_job_fail(job, rc, "%s", p->load_err);
    const struct kokoro_config *cfg = chorus_kokoro_model_config(p->m);
    const char *voice = job->voice && *job->voice ? job->voice : "af_heart";
    char err[512] = "";
    float *pack = NULL;
    int rows = 0;
    rc = chorus_kokoro_voices_load(&p->v, voice, &pack, &rows, err, sizeof err);
    if (rc) return chorus_job_fail(job, rc, "%s", err);
    const char *lang = chorus_job_option(job, "lang_code");
    char l1[2] = {voice[0], 0};
    if (!lang || !*lang) lang = job->language && *job->language ? job->language : l1;
    struct kokoro_tokens toks;
    if (job->input == CHORUS_INPUT_PHONEMES)
        rc = chorus_kokoro_tokens_from_phonemes(job->text, job->len, cfg, &toks, err, sizeof err);
    else
        rc = chorus_kokoro_g2p_lex(job->text, job->len, lang, cfg, english_lex(p, lang), &toks, err,
                                   sizeof err);
    if (rc) {
        free(pack);
        return chorus_job_fail(job, rc, "%s", err);
    }
    struct hook_ctx hc = {.job = job};
    const char *seed = chorus_job_option(job, "seed");
    chorus_kokoro_rng_seed(&hc.rng, seed ? strtoull(seed, NULL, 10)
                                  : (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&hc ^ job->index);
    /* the generator's buffers stay between the chunks: later chunks reuse their pages */
    struct kokoro_hooks hooks = {&hc, NULL, hook_noise, hook_cancelled, chorus_kokoro_scratch_new()};
    float speed = job->speed > 0 ? job->speed : 1.0f;
    uint32_t *ps = malloc((toks.ncp + toks.n + 1) * sizeof *ps);
    int *ids = malloc((KOKORO_MAX_PHONEMES + 2) * sizeof *ids);
    double *ts = malloc(2 * (toks.n + 1) * sizeof *ts);
    size_t done = 0; /* samples emitted */
    size_t maxp = (size_t)p->max_ph; /* ALBERT's positions hold the phonemes plus two pads */
    if ((size_t)cfg->bert_maxpos - 2 < maxp) maxp = (size_t)cfg->bert_maxpos - 2;
    if (!ps || !ids || !ts) rc = CHORUS_E_NOMEM;
    for (size_t a = 0; rc == 0 && a < toks.n;) {
        if (chorus_job_cancelled(job)) {
            rc = CHORUS_E_CANCELLED;
            break;
        }
        size_t e = chorus_kokoro_chunk_end_target(&toks, a, (size_t)p->target_ph, maxp);
        size_t n = chorus_kokoro_tokens_ps(&toks, a, e, ps);
        if (n > maxp) n = maxp; /* one giant token: truncate */
        if (n == 0) {
            a = e;
            continue;
        }
        CHORUS_LOGD("kokoro: chunk of %zu phonemes (tokens %zu-%zu of %zu)", n, a, e, toks.n);
        int t = 0;
        ids[t++] = 0;
        for (size_t i = 0; i < n; i++) {
            int id = chorus_kokoro_vocab_id(cfg, ps[i]);
            if (id > 0) ids[t++] = id;
        }
        ids[t++] = 0;
        int row = (int)n - 1 < rows - 1 ? (int)n - 1 : rows - 1;
        float *audio;
        size_t na;
        int *dur;
        rc = chorus_kokoro_model_forward(p->m, ids, t, pack + (size_t)row * 256, speed, &hooks, &audio,
                                  &na, &dur, err, sizeof err);
        if (rc) {
            if (rc != CHORUS_E_CANCELLED) rc = chorus_job_fail(job, rc, "%s", err);
            break;
        }
        double t0 = (double)done / KOKORO_RATE, tend = (double)(done + na) / KOKORO_RATE;
        double *st = ts, *en = ts + (e - a);
        chorus_kokoro_join_timestamps(&toks, a, e, dur, (size_t)t, st, en);
        for (size_t q = a; q < e && rc == 0; q++) {
            const struct kokoro_token *k = &toks.t[q];
            if (!k->is_word || st[q - a] < 0) continue;
            double s0 = t0 + st[q - a], s1 = t0 + en[q - a];
            if (s1 > tend) s1 = tend;
            if (s0 > s1) s0 = s1;
            rc = chorus_sink_word(sink, k->text_off, k->text_len, s0, s1);
        }
        if (rc == 0) rc = chorus_sink_pcm_f32(sink, audio, na, KOKORO_RATE);
        done += na;
        free(audio);
        free(dur);
        chorus_kokoro_rng_next(&hc.rng); /* fresh noise for the next chunk */
        a = e;
    }
    free(ps);
    free(ids);
    free(ts);
    free(pack);
    chorus_kokoro_scratch_free(hooks.scratch);
    chorus_kokoro_tokens_release(&toks);
    if (rc == CHORUS_E_NOMEM) return chorus_job_fail(job, rc, "kokoro: out of memory");
    return rc;
}

const struct chorus_backend_desc chorus_backend_kokoro = {
    .name = "kokoro",
    .pattern = NULL,
    .description = "Kokoro-82M, native C: natural voices, offline, 24 kHz",
    .caps = CHORUS_CAP_STREAMING | CHORUS_CAP_WORD_TIMESTAMPS | CHORUS_CAP_LOCAL |
            CHORUS_CAP_PHONEMES,
    .flags = CHORUS_BF_DEFAULT_CANDIDATE | CHORUS_BF_ANY_VOICE | CHORUS_BF_FIRST_CLAUSE,
    .voice_aliases = kokoro_voice_aliases,
    .default_priority = 20,
    .max_input_chars = 1000,
    /* the first job is the first clause (from 10 characters on) within 64 characters: "Hello
     * there," of "Hello there, and welcome to the show." sounds after ~0.15 s on 2 cores,
     * where the whole 2.7 s sentence takes 0.32-0.37 s */
    .first_chunk_chars = 64,
    .sample_rate = KOKORO_RATE,
    /* no limit of its own: jobs share the one read-only model and allocate their own scratch,
     * so the engine's [chorus] max_concurrent applies ([kokoro] max_concurrent caps it) */
    .max_concurrent = 0,
    .default_voice = "af_heart",
    .options = kokoro_options,
    .priv_size = sizeof(struct kokoro_priv),
    .ops = &(const struct chorus_backend_ops){
        .open = kokoro_open,
        .probe = kokoro_probe,
        .synthesize = kokoro_synthesize,
        .phonemize = kokoro_phonemize,
        .list_voices = kokoro_list_voices,
        .export_voice = kokoro_export_voice,
        .close = kokoro_close,
    },
    .legacy_prefixes = (const char *const[]){"local_kokoro_", NULL},
    .model = &chorus_kokoro_model, /* kokoro_files.c */
    .notation = CHORUS_NOTATION_MISAKI, /* pronunciations as [word](/ipa/) (kokoro_g2p.c) */
};
