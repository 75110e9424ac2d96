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
#include <stdint.h>

#include "chorus/chorus.h"

/** 1 if s[0..n) is valid UTF-8 (no overlongs, surrogates or values over U+10FFFF). On failure
 *  *bad_offset (if non-NULL) is the offset of the first invalid byte. */
int chorus_utf8_valid(const char *s, size_t n, size_t *bad_offset);
/** 1 if s[0..n) holds nothing but whitespace (ASCII and Unicode spaces). */
int chorus_text_is_blank(const char *s, size_t n);

struct chorus_text_config {
    size_t max_chars;   /* hard limit per segment (backend's), 0 = unbounded */
    size_t first_chars; /* target size of the first segment (latency), 0 = default */
    int first_clause;   /* plain text: the first segment ends at its first clause or sentence
                         * end from CHORUS_TEXT_FIRST_MIN bytes on, if one is within first_chars */
    size_t target_chars; /* preferred size of later segments, 0 = max_chars or a default */
    int normalize;      /* apply normalization (numbers, abbreviations...) */
    int ssml_native;    /* backend takes SSML: pass the document through as one segment */
    double paragraph_pause; /* seconds of silence between paragraphs, <0 = default */
    const char *language;   /* normalization language ("en"); NULL = detect from the first
                             * 2 KiB of plain text, English unless confidently another */
    const char *normalize_options; /* "key=value,..." per-flag overrides, NULL = defaults */
};

struct chorus_pron_span; /* text/pron.h */

/* One segment. text and map are valid until the next chorus_textiter_next() call; voice,
 * language, spans and marks until the iterator is destroyed. A segment
 * may have len 0: it then only carries pause_before and/or marks (an SSML <break> or <mark>
 * at the very end of a document). */
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
    /* Added by the text stage (extensions): */
    const char *language;  /* SSML xml:lang in effect, else cfg.language, else the language
                            * detected with confidence >= 0.5 when it is not English; NULL =
                            * unknown (English rules) */
    const struct chorus_pron_span *spans; /* SSML <phoneme> contents of the document (all of
                                           * them, sorted; map[] says which this text holds) */
    size_t n_spans;
    size_t index;          /* 0-based segment number */
};

struct chorus_textiter;
struct chorus_textbuf;

/** Start iterating input[0..len) (plain text or SSML; cfg may be NULL for defaults). The input
 *  must outlive the iterator: it is read in place, never copied. Checks everything it can up
 *  front: CHORUS_E_BAD_UTF8 (naming the offset), CHORUS_E_EMPTY_TEXT, CHORUS_E_OPTION (bad
 *  normalize_options), CHORUS_E_SSML / CHORUS_E_TOO_LONG (naming line and column), with the
 *  message in err (may be NULL) and *out NULL. */
int chorus_textiter_create(struct chorus_textiter **out, const char *input, size_t len,
                           enum chorus_input_kind kind, const struct chorus_text_config *cfg,
                           char *err, size_t errlen);
/** 1: *seg filled; 0: no more segments; <0: error, message from chorus_textiter_errmsg(). */
int chorus_textiter_next(struct chorus_textiter *it, struct chorus_textseg *seg);
const char *chorus_textiter_errmsg(const struct chorus_textiter *it);
void chorus_textiter_destroy(struct chorus_textiter *it);

/** Find the end of the next chunk in s[0..n): the best break at or before `limit` bytes
 *  (sentence > clause > word > character boundary, never inside a word, a number or a UTF-8
 *  sequence). Returns the chunk length (>0 when n>0). */
size_t chorus_text_chunk_end(const char *s, size_t n, size_t limit);
/** The first clause or sentence end in s[0..n) at or after `min` bytes and at or before
 *  `limit` (the break classes of chorus_text_chunk_end: "Hello there, and ..." -> 12 with
 *  min 10; "Dr. Smith" is no end). 0 when there is none. */
size_t chorus_text_first_clause_end(const char *s, size_t n, size_t min, size_t limit);
/** min for chorus_text_first_clause_end in a first segment: shorter openings ("Hi,", "Well,")
 *  stay with what follows (RealtimeTTS's minimum first fragment is 10 characters too). */
#define CHORUS_TEXT_FIRST_MIN 10

/* ---- Normalization ------------------------------------------------------------------------ */

/** Flags of the normalizer; the first seven are Kokoro-FastAPI's normalization_options. */
struct chorus_norm_options {
    int normalize;      /* master switch: 0 = only collapse white space */
    int unit;           /* "10 km" -> "ten kilometers" (off by default) */
    int url;            /* URLs spoken ("example dot com slash docs") */
    int email;          /* e-mail addresses spoken ("jane at example dot com") */
    int pluralization;  /* "word(s)" -> "words" */
    int phone;          /* phone numbers digit by digit */
    int symbols;        /* replace_remaining_symbols: & % @ # + ... as words */
};
/** The defaults: everything on except unit. */
void chorus_norm_options_default(struct chorus_norm_options *o);
/** Apply "key=value,key=value" overrides (keys as Kokoro-FastAPI names them, with or without the
 *  _normalization suffix; values true/false/1/0/yes/no/on/off). <0 with a message on a bad key. */
int chorus_norm_options_parse(struct chorus_norm_options *o, const char *spec, char *err,
                              size_t errlen);
/** Normalize s[0..n) (valid UTF-8) for speech and append it to out, every output byte mapped to
 *  base + the offset of the input byte (or token) it comes from. White space runs become one
 *  space; no leading space is added to an empty buffer. lang: "en" (NULL = en); other languages
 *  get the language-neutral rules only. Returns 0, or <0 when out of memory. */
int chorus_text_normalize(struct chorus_textbuf *out, const char *s, size_t n, size_t base,
                          const char *lang, const struct chorus_norm_options *o);

/** chorus_text_normalize(), and *work (if not NULL) = the bytes its rules looked at: a measure of
 *  its time that does not depend on the machine, for the linearity checks (tests, fuzzing). */
int chorus_text_normalize_work(struct chorus_textbuf *out, const char *s, size_t n, size_t base,
                               const char *lang, const struct chorus_norm_options *o,
                               size_t *work);

/** SSML say-as: speak s[0..n) as `interpret` ("characters", "spell-out", "cardinal", "ordinal",
 *  "digits", "date", "time", "telephone"...), `format` as SSML's (dates: "mdy", "dmy", "ymd"...;
 *  times: "hms12", "hms24"; may be NULL). Appends the spoken words to out, mapped to base + the
 *  offset of what they read. Text that does not fit the interpretation is normalized as usual.
 *  Returns 0, or <0 when out of memory. */
int chorus_text_say_as(struct chorus_textbuf *out, const char *interpret, const char *format,
                       const char *s, size_t n, size_t base);
/** 1 if chorus_text_say_as() knows `interpret`. */
int chorus_text_say_as_known(const char *interpret);

/* ---- Language detection ------------------------------------------------------------------ */

/** Detect the language of s[0..n) (UTF-8; only the first CHORUS_LANG_SCAN_BYTES are read).
 *  Returns an ISO 639-1 code ("en", "es", "fr", "de", "it", "pt", "nl", "ru", "uk", "el", "ar",
 *  "fa", "he", "hi", "bn", "ta", "th", "ka", "hy", "zh", "ja", "ko") or "und" when there is no
 *  evidence, and sets *confidence (if non-NULL) in [0, 1]. Non-Latin scripts decide by script;
 *  Latin-script text by a small stopword and diacritic model. The string is static. */
const char *chorus_text_detect_language(const char *s, size_t n, double *confidence);
#define CHORUS_LANG_SCAN_BYTES 8192

/* ---- SSML ------------------------------------------------------------------------------- */

/** One run of an SSML document's plan: text spoken with one set of attributes, after a pause.
 *  The iterator normalizes and chunks each run into segments. */
struct chorus_ssml_run {
    char *text;      /* the run's text (NUL-terminated), before normalization */
    size_t len;
    size_t *map;     /* len+1 entries: document offsets */
    double pause_before; /* seconds of silence before the run (breaks, paragraphs) */
    int paragraph_start;
    char **marks;    /* <mark> names right before the run */
    size_t n_marks;
    const char *voice, *language; /* owned by the document, or NULL */
    float rate, pitch, volume; /* multipliers */
};
struct chorus_ssml_doc;

/** Parse an SSML document (securely: no DTD, no entities beyond XML's five, bounded depth,
 *  size and element count) into a plan of runs. Errors name line and column and return
 *  CHORUS_E_SSML (or E_TOO_LONG / E_NOMEM), with *out NULL. */
int chorus_ssml_parse(struct chorus_ssml_doc **out, const char *s, size_t n, char *err,
                      size_t errlen);
/** Run i of the plan, NULL past the end. */
const struct chorus_ssml_run *chorus_ssml_doc_run(const struct chorus_ssml_doc *d, size_t i);
size_t chorus_ssml_doc_count(const struct chorus_ssml_doc *d);
/** The document's <phoneme> spans (document offsets of the content, sorted); *n their count. */
const struct chorus_pron_span *chorus_ssml_doc_spans(const struct chorus_ssml_doc *d, size_t *n);
/** 1 if no run has anything to speak (text or mark). */
int chorus_ssml_doc_is_blank(const struct chorus_ssml_doc *d);
void chorus_ssml_doc_free(struct chorus_ssml_doc *d);

/** Limits of the SSML parser. */
#define CHORUS_SSML_MAX_BYTES (4u << 20)  /* documents larger than 4 MiB are refused */
#define CHORUS_SSML_MAX_DEPTH 64
#define CHORUS_SSML_MAX_ELEMENTS 100000
#define CHORUS_SSML_MAX_BREAK 60.0        /* seconds; longer breaks are clamped */

/* ---- Helpers shared inside the text stage (and its tests) ------------------------------ */

/** Decode one UTF-8 character at s[0..n): returns its length (1-4) and sets *cp, or -1 if the
 *  bytes there are not valid UTF-8, 0 if n == 0. */
int chorus_utf8_decode(const char *s, size_t n, uint32_t *cp);
/** Encode code point cp (at most 0x10FFFF) as UTF-8 into o[0..4): returns the length (1-4). */
size_t chorus_utf8_encode(uint32_t cp, char *o);
/** Length of the character at s (1 for an invalid byte, 0 if n == 0). */
size_t chorus_utf8_char_len(const char *s, size_t n);
/** Replace every byte of the NUL-terminated s that is not valid UTF-8 with '?' (for messages
 *  that quote clipped input). */
void chorus_utf8_sanitize(char *s);
/** 1 for Unicode white space (ASCII controls \t\n\v\f\r, space, NBSP, U+2000..U+200B...). */
int chorus_unicode_is_space(uint32_t cp);
/** Length in bytes of the white-space character at s[0..n), 0 if there is none there. */
size_t chorus_text_space_len(const char *s, size_t n);

/** 1 if the word w[0..n) (without its final period) is an abbreviation or an initial whose
 *  period does not end a sentence ("Dr", "e.g", "J"). */
int chorus_text_is_abbrev(const char *w, size_t n);

/** Bytes the iterator holds right now / has ever held at once (its buffers; the input is the
 *  caller's). Flat for plain text of any length. */
size_t chorus_textiter_mem(const struct chorus_textiter *it, size_t *peak);

/** A growable text with its offset map: map[i] is the source offset of text[i]. text is kept
 *  NUL-terminated. */
struct chorus_textbuf {
    char *text;
    size_t *map;
    size_t len, cap;
    size_t peak; /* largest cap ever reached */
};
void chorus_textbuf_init(struct chorus_textbuf *b);
void chorus_textbuf_free(struct chorus_textbuf *b);
void chorus_textbuf_clear(struct chorus_textbuf *b);
int chorus_textbuf_reserve(struct chorus_textbuf *b, size_t extra);
/** Append n bytes, every one mapped to source offset `src` (a rewritten token). */
int chorus_textbuf_put(struct chorus_textbuf *b, const char *s, size_t n, size_t src);
/** Append n bytes copied from the source, byte i mapped to src + i. */
int chorus_textbuf_copy(struct chorus_textbuf *b, const char *s, size_t n, size_t src);

#endif
