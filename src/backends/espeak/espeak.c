/*
 * espeak.c — the embedded default engine, on libespeak-ng.
 *
 * Streaming: espeak-ng runs in synchronous mode and calls our synth callback every 40 ms of
 * audio; each buffer goes straight to the sink. Word events carry a character position in the
 * job text and an audio position in ms, which become word timestamps. libespeak-ng is
 * process-global, so every call into it holds chorus_espeak_lock() (espeak_shared.h): concurrent
 * espeak streams take turns per job.
 */
#include <espeak-ng/speak_lib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

#include "backends/espeak/espeak_names.h"
#include "backends/espeak/espeak_shared.h"
#include "backends/espeak/words.h"
#include "core/backend.h"
#include "core/util.h"
#include "text/pron.h"

struct espeak_priv {
    int rate;
};

struct synth_ctx {
    const struct chorus_job *job;
    struct chorus_sink *sink;
    int rate;
    int status;
    size_t *char_to_byte; /* code point index -> byte offset in job text */
    size_t n_chars;
    size_t samples;
    struct espeak_words words; /* word events -> word timestamps (words.c) */
};

static const struct chorus_option_desc espeak_options[] = {
    {"pitch", "int", "50", 0, 100, NULL, "base pitch, 0-100"},
    {"range", "int", "50", 0, 100, NULL, "pitch range (expressiveness), 0-100"},
    {"word_gap", "int", "0", 0, 100, NULL, "extra pause between words, in units of 10 ms"},
    {"variant", "string", NULL, 1, 0, NULL, "voice variant, e.g. f3, m2, klatt, whisper"},
    {NULL, NULL, NULL, 0, 0, NULL, NULL}};

static size_t char_pos_to_byte(const struct synth_ctx *c, int pos) {
    if (pos <= 0) return 0;
    size_t i = (size_t)pos;
    return i < c->n_chars ? c->char_to_byte[i] : c->char_to_byte[c->n_chars];
}

static int synth_cb(short *wav, int numsamples, espeak_EVENT *events) {
    struct synth_ctx *c = events ? events->user_data : NULL;
    if (!c) return 0;
    if (c->status) return 1;
    size_t have = wav && numsamples > 0 ? (size_t)numsamples : 0, seen = 0;
    for (espeak_EVENT *ev = events; ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
        double t = ev->audio_position / 1000.0;
        /* the audio of this buffer before the event: where the speech before it stops */
        size_t at = (size_t)(ev->audio_position > 0 ? (double)ev->audio_position * c->rate / 1000.0 : 0);
        size_t upto = at > c->samples ? at - c->samples : 0;
        if (upto > have) upto = have;
        if (upto > seen) {
            chorus_ew_audio(&c->words, wav + seen, upto - seen);
            seen = upto;
        }
        int rc = 0;
        if (ev->type == espeakEVENT_WORD) {
            /* text_position is 1-based, in characters */
            size_t a = char_pos_to_byte(c, ev->text_position - 1);
            size_t b = char_pos_to_byte(c, ev->text_position - 1 + ev->length);
            if (b > a && chorus_ew_event(&c->words, a, b - a, t) < 0) rc = CHORUS_E_NOMEM;
        } else if (ev->type == espeakEVENT_MARK && ev->id.name) {
            rc = chorus_sink_mark(c->sink, ev->id.name, t);
        }
        if (rc) {
            c->status = rc;
            return 1;
        }
    }
    if (have) {
        chorus_ew_audio(&c->words, wav + seen, have - seen);
        int rc = chorus_sink_pcm_s16(c->sink, wav, have, c->rate);
        c->samples += have;
        if (rc) {
            c->status = rc;
            return 1;
        }
    }
    return 0;
}

static int espeak_open(struct chorus_backend *b, const struct chorus_config *cfg) {
    (void)cfg;
    struct espeak_priv *p = b->priv;
    int r = chorus_espeak_init(b->open_error, sizeof b->open_error);
    if (r < 0) return r;
    chorus_espeak_lock();
    espeak_SetSynthCallback(synth_cb);
    chorus_espeak_refuse_uris(); /* SSML <audio src> would read files; speak its text */
    chorus_espeak_unlock();
    p->rate = r;
    return CHORUS_OK;
}

/* The first language of an espeak voice: a priority byte then a NUL-terminated name, repeated. */
static const char *voice_language(const espeak_VOICE *v) {
    return (v->languages && v->languages[0]) ? v->languages + 1 : NULL;
}

static int espeak_list_voices(struct chorus_backend *b, struct chorus_voice_list *out) {
    (void)b;
    chorus_espeak_lock();
    const espeak_VOICE **vs = espeak_ListVoices(NULL);
    int rc = CHORUS_OK;
    for (size_t i = 0; vs && vs[i] && rc == CHORUS_OK; i++) {
        const espeak_VOICE *v = vs[i];
        const char *lang = voice_language(v);
        if (!lang || !v->name) continue;
        /* a language can have several voices: the first gets the language as its id */
        int dup = 0;
        for (size_t k = 0; k < out->n; k++) dup |= !strcasecmp(out->v[k].id, lang);
        const char *id = dup ? v->identifier : lang;
        const char *g = v->gender == 1 ? "male" : v->gender == 2 ? "female" : NULL;
        rc = chorus_voice_list_add(out, id, v->name, lang, g, v->identifier);
    }
    chorus_espeak_unlock();
    return rc;
}

static int espeak_synthesize(struct chorus_backend *b, const struct chorus_job *job,
                             struct chorus_sink *sink) {
    struct espeak_priv *p = b->priv;
    struct synth_ctx c = {0};
    c.job = job;
    c.sink = sink;
    c.rate = p->rate;
    /* code point index -> byte offset, for word positions */
    c.char_to_byte = malloc((job->len + 2) * sizeof *c.char_to_byte);
    if (!c.char_to_byte) return CHORUS_E_NOMEM;
    for (size_t i = 0; i < job->len; i++)
        if (((unsigned char)job->text[i] & 0xC0) != 0x80) c.char_to_byte[c.n_chars++] = i;
    c.char_to_byte[c.n_chars] = job->len;
    chorus_ew_init(&c.words, job->text, job->len, job->input == CHORUS_INPUT_TEXT, c.rate);

    const char *variant = chorus_job_option(job, "variant");
    /* libespeak-ng reads text up to a NUL: one inside would silently drop the rest */
    if (memchr(job->text, 0, job->len)) {
        free(c.char_to_byte);
        return chorus_job_fail(job, CHORUS_E_INVALID,
                               "the text holds a NUL byte at offset %zu; remove it",
                               (size_t)((const char *)memchr(job->text, 0, job->len) - job->text));
    }

    /* phoneme input is espeak's [[...]] notation */
    char *text = NULL;
    const char *speak = job->text;
    if (job->input == CHORUS_INPUT_PHONEMES) {
        text = malloc(job->len + 5);
        if (!text) {
            free(c.char_to_byte);
            return CHORUS_E_NOMEM;
        }
        memcpy(text, "[[", 2);
        memcpy(text + 2, job->text, job->len);
        memcpy(text + 2 + job->len, "]]", 3);
        speak = text;
    }
    int rate = (int)(espeakRATE_NORMAL * job->speed + 0.5);
    if (rate < espeakRATE_MINIMUM) rate = espeakRATE_MINIMUM;
    if (rate > espeakRATE_MAXIMUM) rate = espeakRATE_MAXIMUM;
    int pitch = (int)(chorus_job_option_double(job, "pitch", 50) * job->pitch + 0.5);
    if (pitch > 100) pitch = 100;
    unsigned flags = espeakCHARS_UTF8 | espeakPHONEMES;
    if (job->input == CHORUS_INPUT_SSML) flags |= espeakSSML;

    chorus_espeak_lock();
    char voice[96], why[512];
    int rc = chorus_espeak_voice_check(job->voice, variant, voice, sizeof voice, why, sizeof why);
    if (rc == CHORUS_OK && job->input == CHORUS_INPUT_SSML)
        rc = chorus_espeak_ssml_check(speak, strlen(speak), why, sizeof why);
    if (rc != CHORUS_OK) {
        rc = chorus_job_fail(job, rc, "%s", why);
    } else if (espeak_SetVoiceByName(voice) != EE_OK) {
        espeak_VOICE want = {0};
        char base[CHORUS_ESPEAK_MAX_BASE + 1];
        chorus_fmt(base, sizeof base, "%.*s", (int)strcspn(voice, "+"), voice);
        want.languages = base;
        if (espeak_SetVoiceByProperties(&want) != EE_OK)
            rc = chorus_job_fail(job, CHORUS_E_UNKNOWN_VOICE, "espeak-ng cannot load voice '%s'", voice);
    }
    if (rc == CHORUS_OK) {
        espeak_SetParameter(espeakRATE, rate, 0);
        espeak_SetParameter(espeakPITCH, pitch, 0);
        espeak_SetParameter(espeakRANGE, (int)chorus_job_option_double(job, "range", 50), 0);
        espeak_SetParameter(espeakWORDGAP, (int)chorus_job_option_double(job, "word_gap", 0), 0);
        espeak_SetParameter(espeakVOLUME, 100, 0);
        size_t bytes = strlen(speak) + 1;
        espeak_ERROR er = espeak_Synth(speak, bytes, 0, POS_CHARACTER, 0, flags, NULL, &c);
        if (c.status == CHORUS_OK && er != EE_OK)
            rc = chorus_job_fail(job, CHORUS_E_BACKEND, "espeak-ng failed to synthesize (error %d)", (int)er);
        /* a callback abort leaves espeak mid-message: make sure it is reset for the next caller */
        if (c.status) espeak_Cancel();
    }
    chorus_espeak_unlock();
    if (c.status == CHORUS_OK && rc == CHORUS_OK) rc = chorus_ew_finish(&c.words, sink);
    chorus_ew_release(&c.words);
    free(text);
    free(c.char_to_byte);
    if (c.status) return c.status;
    return rc;
}

static int append_word(struct chorus_buf *acc, const char *s, size_t n) {
    if (n == 0) return 0;
    return (acc->len && chorus_buf_append(acc, " ", 1) < 0) || chorus_buf_append(acc, s, n) < 0 ? -1 : 0;
}

/* espeak-ng's own phoneme mnemonics, which its [[...]] input (CHORUS_INPUT_PHONEMES) reads back. */
static int espeak_phonemize(struct chorus_backend *b, const char *voice, const char *language,
                            const char *text, size_t len, char **out) {
    (void)language;
    if (memchr(text, 0, len))
        return chorus_backend_fail(b, CHORUS_E_INVALID, "the text holds a NUL byte at offset %zu; remove it",
                                   (size_t)((const char *)memchr(text, 0, len) - text));
    char *copy = chorus_strndup(text, len);
    struct chorus_buf acc = {0};
    if (!copy || chorus_buf_append(&acc, "", 0) < 0) {
        free(copy);
        chorus_buf_release(&acc);
        return chorus_backend_fail(b, CHORUS_E_NOMEM, "out of memory");
    }
    char spec[96];
    chorus_espeak_lock();
    char why[512];
    int rc = chorus_espeak_voice_check(voice, NULL, spec, sizeof spec, why, sizeof why);
    if (rc != CHORUS_OK)
        rc = chorus_backend_fail(b, rc, "%s", why);
    else if (espeak_SetVoiceByName(spec) != EE_OK)
        rc = chorus_backend_fail(b, CHORUS_E_UNKNOWN_VOICE,
                                 "espeak-ng cannot load voice '%s'; run 'chorus voices -b espeak'",
                                 spec);
    /* [[mnemonics]] (a pronunciation dictionary's) are phonemes already: copied, not read */
    char *p = copy;
    while (rc == CHORUS_OK && p && *p) {
        char *open = strstr(p, "[["), *close = open ? strstr(open + 2, "]]") : NULL;
        if (open && close) *open = '\0';
        const void *pos = p;
        while (rc == CHORUS_OK && pos) {
            const char *ph = espeak_TextToPhonemes(&pos, espeakCHARS_UTF8, 0);
            if (ph && *ph && append_word(&acc, ph, strlen(ph)) < 0)
                rc = chorus_backend_fail(b, CHORUS_E_NOMEM, "out of memory");
        }
        if (rc == CHORUS_OK && open && close && append_word(&acc, open + 2, (size_t)(close - open - 2)) < 0)
            rc = chorus_backend_fail(b, CHORUS_E_NOMEM, "out of memory");
        p = open && close ? close + 2 : NULL;
    }
    chorus_espeak_unlock();
    free(copy);
    if (rc != CHORUS_OK) {
        chorus_buf_release(&acc);
        return rc;
    }
    *out = acc.p;
    return CHORUS_OK;
}

/* espeak-ng 1.51's pauses inside one synthesis (bench/pauses.py on its text: medians of 4
 * sentence and 6 clause pauses, -50 dBFS). Its rate is clamped to 80-450 words/min, and its
 * pauses shrink faster than 1/speed. */
static const struct chorus_pause_point espeak_pauses[] = {
    {0.25f, 896, 530}, {0.5f, 851, 505}, {0.75f, 483, 298}, {1.0f, 308, 199}, {1.25f, 210, 139},
    {1.5f, 139, 97},   {2.0f, 51, 40},   {2.5f, 33, 23},    {3.0f, 52, 41},   {4.0f, 52, 41},
    {0, 0, 0}};
/* espeak-ng stand-ins for OpenAI's voices: a language plus a variant of the matching gender. */
/* One table for every entry point (library, CLI, server): the core applies it, and
 * [espeak.voices] overrides it. */
static const char *const espeak_voice_aliases[][2] = {
    {"alloy", "en-us"},      {"ash", "en-us+m3"},   {"ballad", "en-gb+m2"}, {"coral", "en-us+f3"},
    {"echo", "en-us+m2"},    {"fable", "en-gb-x-rp"}, {"onyx", "en-us+m1"}, {"nova", "en-us+f2"},
    {"sage", "en-us+f4"},    {"shimmer", "en-us+f5"}, {"verse", "en-gb+m3"}, {"marin", "en-us+f1"},
    {"cedar", "en-us+m4"},   {NULL, NULL}};

const struct chorus_backend_desc chorus_backend_espeak = {
    .name = "espeak",
    .pattern = NULL,
    .description = "espeak-ng, embedded: 100+ languages, offline, instant",
    /* SSML is read by chorus (normalized text, breaks, prosody, marks, timestamps into the
     * document's text), not by espeak-ng's own reader, which skips the normalization and
     * reports positions in the markup */
    .caps = CHORUS_CAP_STREAMING | CHORUS_CAP_WORD_TIMESTAMPS | CHORUS_CAP_LOCAL |
            CHORUS_CAP_PHONEMES,
    .flags = CHORUS_BF_DEFAULT_CANDIDATE,
    .default_priority = 10,
    .max_input_chars = 0,
    .first_chunk_chars = 0,
    .sample_rate = 22050,
    .default_voice = "en-us",
    .options = espeak_options,
    .pauses = espeak_pauses,
    .priv_size = sizeof(struct espeak_priv),
    .ops = &(const struct chorus_backend_ops){
        .open = espeak_open,
        .synthesize = espeak_synthesize,
        .list_voices = espeak_list_voices,
        .phonemize = espeak_phonemize,
    },
    .voice_aliases = espeak_voice_aliases,
    .notation = CHORUS_NOTATION_ESPEAK, /* pronunciations as [[mnemonics]] (espeakPHONEMES) */
};
