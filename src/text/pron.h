/*
 * pron.h — pronunciation dictionaries: words and phrases -> an engine's phonemes or an alias.
 *
 * A dictionary (the [pronunciations] file, a request's list, SSML <phoneme>) is applied to each
 * segment's text after normalization, right before an engine speaks it: a match becomes espeak's
 * [[phonemes]], misaki's [word](/phonemes/) for Kokoro, or the alias text for engines without
 * phoneme input. The rewritten text keeps an offset map, so word timestamps still point at the
 * original words. The file format and the rules are in docs/text.md ("Pronunciations").
 */
#ifndef CHORUS_TEXT_PRON_H
#define CHORUS_TEXT_PRON_H

#include <stddef.h>

#include "text/text.h"

#define CHORUS_PRON_MAX_KEY 256          /* bytes of one word or phrase */
#define CHORUS_PRON_MAX_WORDS 16         /* words of one phrase */
#define CHORUS_PRON_MAX_VALUE 512        /* bytes of an alias or a phoneme string */
#define CHORUS_PRON_MAX_ESPEAK_WORD 64   /* bytes of one word inside espeak's [[...]] */
#define CHORUS_PRON_MAX_ENTRIES 100000   /* lines of a dictionary file */
#define CHORUS_PRON_MAX_FILE (8u << 20)  /* bytes of a dictionary file */

/** What an entry gives: a respelling, Kokoro's (misaki's) IPA, or espeak-ng's mnemonics. */
enum chorus_pron_kind { CHORUS_PRON_ALIAS, CHORUS_PRON_IPA, CHORUS_PRON_ESPEAK, CHORUS_PRON_KINDS };

/** What an engine takes inline (struct chorus_backend_desc.notation). */
enum chorus_pron_notation {
    CHORUS_NOTATION_NONE = 0, /* aliases only (remote engines) */
    CHORUS_NOTATION_ESPEAK,   /* espeak-ng's [[mnemonics]] */
    CHORUS_NOTATION_MISAKI    /* misaki's [word](/ipa/) (Kokoro) */
};

struct chorus_pron_entry {
    char *key;   /* as written (white space collapsed) */
    char *fold;  /* key with A-Z lowered */
    size_t klen, head; /* bytes of key; of its leading run of word characters */
    int exact;   /* the key has a capital: it matches only that spelling */
    size_t seq;  /* order of addition (the later line wins) */
    char *v[CHORUS_PRON_KINDS];
};

struct chorus_pron {
    struct chorus_pron_entry *e;
    size_t n, cap, seq;
    int sorted;
};

/** A span of the document (SSML <phoneme>) whose bytes are pronounced as ph. */
struct chorus_pron_span {
    size_t a, b;   /* document offsets [a, b) of the content */
    const char *ph;
    int kind;      /* CHORUS_PRON_IPA or CHORUS_PRON_ESPEAK; -1: an alphabet no engine takes */
};

void chorus_pron_init(struct chorus_pron *d);
void chorus_pron_free(struct chorus_pron *d);
/** The kind an SSML/request alphabet names: "ipa" -> IPA, "x-espeak" -> ESPEAK, else -1. */
int chorus_pron_alphabet_kind(const char *alphabet);
/** NULL if v[0..n) is acceptable as a value of kind k, else why not (a static string). */
const char *chorus_pron_check_value(int kind, const char *v, size_t n);
/** NULL if k[0..n) is acceptable as a word or phrase, else why not. */
const char *chorus_pron_check_key(const char *k, size_t n);
/** Add (or override) one pronunciation of key. 0; -1 with *why on bad input; CHORUS_E_NOMEM. */
int chorus_pron_add(struct chorus_pron *d, const char *key, size_t klen, int kind, const char *v,
                    size_t vlen, const char **why);
/** Parse a dictionary in the file format (docs/text.md), adding its entries. Errors name
 *  `name`:line: CHORUS_E_CONFIG (or CHORUS_E_NOMEM) with the message in err. */
int chorus_pron_parse(struct chorus_pron *d, const char *text, size_t len, const char *name,
                      char *err, size_t errlen);
/** Read and parse the file at path (at most CHORUS_PRON_MAX_FILE bytes). */
int chorus_pron_load(struct chorus_pron *d, const char *path, char *err, size_t errlen);
/** Merge repeated keys and index the entries; needed after adding, before rewriting. */
int chorus_pron_finish(struct chorus_pron *d);

/** Rewrite text[0..len) (map: len+1 source offsets) for an engine of notation nt: spans (sorted
 *  by a, not overlapping) first, then the dictionaries in order (the first that has a word
 *  wins), longest match first. out gets the text and its map (out->map[out->len] = map[len]).
 *  Returns the number of replacements, or <0 when out of memory. */
int chorus_pron_rewrite(struct chorus_textbuf *out, const char *text, size_t len,
                        const size_t *map, const struct chorus_pron *const *dicts, size_t nd,
                        const struct chorus_pron_span *spans, size_t ns,
                        enum chorus_pron_notation nt);

#endif
