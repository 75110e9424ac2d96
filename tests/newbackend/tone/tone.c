/*
 * tone.c — a trivial backend that exists only in the test build (tests/newbackend): it proves
 * docs/NEW-BACKEND.md's promise that a backend is one folder plus one line in backends.def.
 * Nothing else in the tree names it; CMake adds this folder and that one line.
 *
 * It "speaks" a sine tone of 80 ms per character (the voice picks the pitch), reports one word
 * event per space-separated word, bills $2 per million characters ($4 for model "hd"), answers
 * to OpenAI's "alloy" and to the made-up legacy ids "old_tone_*".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/backend.h"

#define TONE_RATE 16000
#define TONE_SAMPLES_PER_CHAR (TONE_RATE * 80 / 1000)

struct tone_priv {
    const char *model;
};

static double voice_hz(const char *voice) {
    return voice && !strcasecmp(voice, "high") ? 880.0 : 440.0;
}

static int tone_open(struct chorus_backend *b, const struct chorus_config *cfg) {
    ((struct tone_priv *)b->priv)->model = "standard";
    return CHORUS_OK;
}

static int tone_words(const struct chorus_job *job, struct chorus_sink *out) {
    for (size_t i = 0; i < job->len;) {
        while (i < job->len && job->text[i] == ' ') i++;
        size_t j = i;
        while (j < job->len && job->text[j] != ' ') j++;
        if (j > i) {
            double t0 = (double)i * 0.08, t1 = (double)j * 0.08;
            int rc = chorus_sink_word(out, i, j - i, t0, t1);
            if (rc) return rc;
        }
        i = j;
    }
    return CHORUS_OK;
}

static int tone_synthesize(struct chorus_backend *b, const struct chorus_job *job,
                           struct chorus_sink *out) {
    double hz = voice_hz(job->voice);
    float block[TONE_SAMPLES_PER_CHAR];
    for (size_t c = 0; c < job->len; c++) {
        for (size_t i = 0; i < TONE_SAMPLES_PER_CHAR; i++) {
            double t = (double)(c * TONE_SAMPLES_PER_CHAR + i) / TONE_RATE;
            block[i] = (float)(0.5 * sin(2.0 * M_PI * hz * t));
        }
        int rc = chorus_sink_pcm_f32(out, block, TONE_SAMPLES_PER_CHAR, TONE_RATE);
        if (rc) return rc;
    }
    return tone_words(job, out);
}

static int tone_list_voices(struct chorus_backend *b, struct chorus_voice_list *out) {
    int rc = chorus_voice_list_add(out, "low", "Low", "en-us", NULL, "a 440 Hz tone");
    if (rc == CHORUS_OK) rc = chorus_voice_list_add(out, "high", "High", "en-us", NULL, "880 Hz");
    return rc;
}

static const char *tone_default_model(struct chorus_backend *b) {
    return ((struct tone_priv *)b->priv)->model;
}

static const struct chorus_price tone_prices[] = {
    {.model = "hd", .usd_per_million_chars = 4.0, .basis = "$4 / 1M characters"},
    {.model = NULL, .usd_per_million_chars = 2.0, .basis = "$2 / 1M characters"},
};

static const char *const tone_aliases[][2] = {{"alloy", "high"}, {NULL, NULL}};
static const char *const tone_legacy[] = {"old_tone_", NULL};

const struct chorus_backend_desc chorus_backend_tone = {
    .name = "tone",
    .description = "test tones (test build only)",
    .caps = CHORUS_CAP_STREAMING | CHORUS_CAP_WORD_TIMESTAMPS | CHORUS_CAP_LOCAL,
    .default_priority = 0,
    .max_input_chars = 200,
    .sample_rate = TONE_RATE,
    .default_voice = "low",
    .priv_size = sizeof(struct tone_priv),
    .ops = &(const struct chorus_backend_ops){
        .open = tone_open,
        .synthesize = tone_synthesize,
        .list_voices = tone_list_voices,
        .default_model = tone_default_model,
    },
    .prices = tone_prices,
    .voice_aliases = tone_aliases,
    .legacy_prefixes = tone_legacy,
};
