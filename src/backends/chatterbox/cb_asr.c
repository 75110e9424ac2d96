/*
 * cb_asr.c — transcribing candidates with pocketsphinx (Debian's libpocketsphinx3 and its
 * pocketsphinx-en-us model) so the candidate whose words best match the text can win.
 *
 * Chatterbox speaks at 24 kHz; the en-us acoustic model wants 16 kHz, so the PCM goes through
 * the audio stage's resampler (soxr) first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pocketsphinx.h>

#include "audio/audio.h"
#include "backends/chatterbox/cb_internal.h"
#include "chorus/chorus.h"
#include "core/util.h"

struct cb_asr {
    ps_decoder_t *ps;
    cmd_ln_t *cfg;
};

int chorus_cb_asr_create(struct cb_asr **out, const char *model_dir, char *err, size_t errlen) {
    *out = NULL;
    char hmm[600], lm[600], dict[600];
    snprintf(hmm, sizeof hmm, "%s/en-us", model_dir);
    snprintf(lm, sizeof lm, "%s/en-us.lm.bin", model_dir);
    snprintf(dict, sizeof dict, "%s/cmudict-en-us.dict", model_dir);
    struct stat st;
    if (stat(hmm, &st) != 0 || stat(lm, &st) != 0 || stat(dict, &st) != 0) {
        chorus_fmt(err, errlen, "the speech recognizer's model is not in %s (want en-us/, "
                   "en-us.lm.bin, cmudict-en-us.dict); install pocketsphinx-en-us or set "
                   "[chatterbox] asr_model_dir", model_dir);
        return CHORUS_E_MODEL;
    }
    struct cb_asr *a = calloc(1, sizeof *a);
    if (!a) return CHORUS_E_NOMEM;
    a->cfg = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-lm", lm, "-dict", dict,
                         "-logfn", "/dev/null", "-samprate", "16000", NULL);
    if (a->cfg) a->ps = ps_init(a->cfg);
    if (!a->ps) {
        chorus_fmt(err, errlen, "the speech recognizer could not load its model from %s",
                   model_dir);
        chorus_cb_asr_destroy(a);
        return CHORUS_E_MODEL;
    }
    *out = a;
    return CHORUS_OK;
}

struct pcm16 {
    int16_t *x;
    size_t n, cap;
};

static int collect16(void *ud, const float *x, size_t n, int rate) {
    (void)rate;
    struct pcm16 *p = ud;
    if (p->n + n > p->cap) {
        size_t nc = (p->n + n) * 2;
        int16_t *nx = realloc(p->x, nc * sizeof *nx);
        if (!nx) return CHORUS_E_NOMEM;
        p->x = nx;
        p->cap = nc;
    }
    for (size_t i = 0; i < n; i++) p->x[p->n++] = chorus_pcm_f32_to_s16(x[i]);
    return 0;
}

int chorus_cb_asr_transcribe(struct cb_asr *a, const int16_t *pcm, size_t n, int rate, char *out,
                      size_t cap) {
    out[0] = '\0';
    struct pcm16 p = {0};
    int rc;
    if (rate == 16000) {
        rc = CHORUS_OK;
        p.x = (int16_t *)pcm;
        p.n = n;
    } else {
        struct chorus_resampler *r;
        rc = chorus_resampler_create(&r, rate, 16000, collect16, &p);
        if (rc) return rc;
        float buf[4096];
        for (size_t i = 0; i < n && rc == CHORUS_OK; i += 4096) {
            size_t k = n - i < 4096 ? n - i : 4096;
            chorus_pcm_s16_to_f32(pcm + i, buf, k);
            rc = chorus_resampler_write(r, buf, k);
        }
        if (rc == CHORUS_OK) rc = chorus_resampler_flush(r);
        chorus_resampler_destroy(r);
    }
    if (rc == CHORUS_OK) {
        if (ps_start_utt(a->ps) < 0 || ps_process_raw(a->ps, p.x, p.n, FALSE, TRUE) < 0 ||
            ps_end_utt(a->ps) < 0) {
            rc = CHORUS_E_BACKEND;
        } else {
            int32 score;
            const char *hyp = ps_get_hyp(a->ps, &score);
            snprintf(out, cap, "%s", hyp ? hyp : "");
        }
    }
    if (p.x != pcm) free(p.x);
    return rc;
}

void chorus_cb_asr_destroy(struct cb_asr *a) {
    if (!a) return;
    if (a->ps) ps_free(a->ps);
    if (a->cfg) cmd_ln_free_r(a->cfg);
    free(a);
}
