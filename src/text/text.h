/*
 * text.h — the text stage: validation, normalization, SSML, chunking, language.
 *
 * The core turns the caller's input into a sequence of segments with chorus_textiter. Each
 * segment is what one backend call speaks, plus how to place it (pause before, voice/rate
 * changes from SSML) and a map from every byte of the segment's text back to the caller's input,
 * so word timestamps and progress always point into the original text.
 *
 * Plain text is iterated lazily (memory flat for any length); an SSML document is parsed once.
 */
#ifndef CHORUS_TEXT_H
#define CHORUS_TEXT_H

#include <stddef.h>

#include "chorus/chorus.h"

/** 1 if s[0..n) is valid UTF-8 (no overlongs, surrogates or values over U+10FFFF). On failure
 *  *bad_offset (if non-NULL) is the offset of the first invalid byte. */
int chorus_utf8_valid(const char *s, size_t n, size_t *bad_offset);
/** 1 if s[0..n) holds nothing but whitespace (ASCII and Unicode spaces). */
int chorus_text_is_blank(const char *s, size_t n);

struct chorus_text_config {
    size_t max_chars;   /* hard limit per segment (backend's), 0 = unbounded */
    size_t first_chars; /* target size of the first segment (latency), 0 = default */
    size_t target_chars; /* preferred size of later segments, 0 = max_chars or a default */
    int normalize;      /* apply normalization (numbers, abbreviations...) */
    int ssml_native;    /* backend takes SSML: pass the document through as one segment */
    double paragraph_pause; /* seconds of silence between paragraphs, <0 = default */
    const char *language;   /* normalization language ("en"), NULL = en */
    const char *normalize_options; /* "key=value,..." per-flag overrides, NULL = defaults */
};

struct chorus_textseg {
    const char *text;  /* NUL-terminated text to speak, owned by the iterator until next() */
    size_t len;
    const size_t *map; /* len+1 entries: map[i] = input offset of text byte i; map[len] = end */
    size_t src_offset; /* span of the caller's input this segment covers */
    size_t src_len;
    double pause_before; /* seconds of silence before this segment */
    const char *voice;   /* SSML <voice> override, or NULL */
    float rate, pitch, volume; /* multipliers, 1.0 = unchanged */
    int is_ssml;         /* text is SSML for a native-SSML backend */
    int paragraph_start;
    const char *const *marks; /* SSML <mark> names that come right before this segment */
    size_t n_marks;
};

struct chorus_textiter;

int chorus_textiter_create(struct chorus_textiter **out, const char *input, size_t len,
                           enum chorus_input_kind kind, const struct chorus_text_config *cfg,
                           char *err, size_t errlen);
/** 1: *seg filled; 0: no more segments; <0: error (message in err of create... see errmsg). */
int chorus_textiter_next(struct chorus_textiter *it, struct chorus_textseg *seg);
const char *chorus_textiter_errmsg(const struct chorus_textiter *it);
void chorus_textiter_destroy(struct chorus_textiter *it);

/** Find the end of the next chunk in s[0..n): the best break at or before `limit` bytes
 *  (sentence > clause > word > character boundary, never inside a word, a number or a UTF-8
 *  sequence). Returns the chunk length (>0 when n>0). */
size_t chorus_text_chunk_end(const char *s, size_t n, size_t limit);

#endif
