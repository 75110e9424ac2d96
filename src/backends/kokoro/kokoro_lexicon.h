/*
 * kokoro_lexicon.h — misaki's English pronunciation lexicons (hexgrad/misaki misaki/data/
 * {us,gb}_{gold,silver}.json), held compactly.
 *
 * A lexicon file is one JSON object: word -> phonemes, or word -> {POS tag -> phonemes or null}
 * (tags: DEFAULT, NOUN, VERB, VBD, VBN, VBP, ADJ, ADV, DT, and "None" for a word before
 * punctuation or at the end). Loading keeps one string pool ("key\0value\0" per entry) and a
 * sorted array of offsets into it; a tagged value is stored as "\x01TAG\x02phonemes..." runs,
 * null as "\x03". Lookups are a binary search. Nothing of the JSON tree is kept.
 */
#ifndef CHORUS_KOKORO_LEXICON_H
#define CHORUS_KOKORO_LEXICON_H

#include <stddef.h>
#include <stdint.h>

struct kokoro_lexicon {
    char *pool;      /**< "key\0value\0" runs */
    uint32_t *keys;  /**< offsets of the keys in pool, sorted by strcmp */
    size_t n;        /**< entries */
    size_t pool_len; /**< bytes used in pool */
};

/** Parse a lexicon from JSON text. label names it in errors. Returns 0 or a negative chorus
 *  status (CHORUS_E_MODEL for a malformed file, CHORUS_E_NOMEM) with the reason in err. */
int chorus_kokoro_lexicon_parse(struct kokoro_lexicon **out, const char *json, size_t len,
                                const char *label, char *err, size_t errlen);
/** Read and parse a file (at most 64 MiB). CHORUS_E_NOT_FOUND when it does not exist. */
int chorus_kokoro_lexicon_load(struct kokoro_lexicon **out, const char *path, char *err,
                               size_t errlen);
void chorus_kokoro_lexicon_free(struct kokoro_lexicon *l);

/** The raw value of an exact key (len bytes), or NULL. */
const char *chorus_kokoro_lexicon_raw(const struct kokoro_lexicon *l, const char *word, size_t len);

/** Whether a raw value is tagged (a POS dict). */
static inline int chorus_kokoro_lexicon_tagged(const char *raw) { return raw && raw[0] == '\x01'; }

/**
 * Phonemes of a raw value for a tag (NULL or "" for none): a plain value as is; a tagged value
 * gives the tag's entry, else DEFAULT's. *len gets the length; returns NULL where the chosen
 * entry is null. Pointers point into the lexicon's pool.
 */
const char *chorus_kokoro_lexicon_pick(const char *raw, const char *tag, size_t *len);
/** Whether a tagged raw value has an entry for exactly this tag. */
int chorus_kokoro_lexicon_has_tag(const char *raw, const char *tag);

/** Bytes held by a lexicon (pool and index). */
size_t chorus_kokoro_lexicon_bytes(const struct kokoro_lexicon *l);

#endif
