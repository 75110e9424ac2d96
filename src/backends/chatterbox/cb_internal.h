/*
 * cb_internal.h — pieces of the chatterbox backend shared between its files and its tests.
 *
 *   cb_text.c   text preprocessing for the model, transcript matching
 *   cb_asr.c    the candidate validator: pocketsphinx (Debian's en-us model) transcription
 *   chatterbox.c the backend: both server APIs, uploads, candidates, fallback presets
 */
#ifndef CHORUS_CHATTERBOX_INTERNAL_H
#define CHORUS_CHATTERBOX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/**
 * Prepare text for Chatterbox: collapse whitespace; initials "J.R.R." -> "J R R"; drop
 * bracketed references ("[12]", "[3, 4]", "[1-3]", "[citation needed]") but keep other brackets
 * (Turbo's "[laugh]" tags); drop URLs; collapse runs of . ! ? to one mark; a space after . ! ?
 * before a capital. Returns a malloc'd NUL-terminated string (possibly empty), NULL on OOM.
 */
char *chorus_cb_preprocess(const char *in, size_t len);

/**
 * How well a transcript matches the text, 0..1: 2*LCS/(|a|+|b|) over lowercased words (letters,
 * digits and apostrophes). 1.0 for identical word sequences, 0 when nothing matches or either
 * side is empty.
 */
double chorus_cb_text_match(const char *text, const char *transcript);

/** Speech recognizer for candidate validation (one decoder; not thread-safe: lock around it). */
struct cb_asr;
/** model_dir holds en-us/ (acoustic model), en-us.lm.bin and cmudict-en-us.dict. */
int chorus_cb_asr_create(struct cb_asr **out, const char *model_dir, char *err, size_t errlen);
/** Transcribe mono s16 PCM at `rate` into out (lowercase words). CHORUS_OK or a status. */
int chorus_cb_asr_transcribe(struct cb_asr *a, const int16_t *pcm, size_t n, int rate, char *out,
                      size_t cap);
void chorus_cb_asr_destroy(struct cb_asr *a);

/**
 * Names of the voices in a server's voice-list answer (outside input). api 0 (devnen
 * /get_predefined_voices: [{"display_name","filename"}] or /get_reference_files: ["x.wav"]),
 * api 1 (travisvn /voices: {"voices":[names or {"name":...}]}). Calls fn for each name
 * (display may be NULL). Returns the number of names, or -1 if the body is not such a list.
 */
int chorus_cb_parse_voice_list(const char *body, size_t len, int api,
                        void (*fn)(void *ud, const char *name, const char *display), void *ud);

#endif
