/*
 * kokoro_en.h — misaki's English word rules (hexgrad/misaki misaki/en.py, Lexicon and G2P) in C.
 *
 * Words are looked up in misaki's gold lexicon, then its silver one (kokoro_lexicon.h), with
 * misaki's context forms of a/an/the/to/in/I/by/am/used, stress from capitalisation, the -s,
 * -ed and -ing suffixes on known stems, dotted and all-caps acronyms spelled as letters, and
 * hyphenated compounds (the merged word first, then its parts, stress evened out as misaki's
 * resolve_tokens does). Words found nowhere go to the fallback (espeak-ng with misaki's
 * rewrites). Without lexicons, the context forms still apply and the frequent function words
 * lose the stress espeak gives a word said alone.
 *
 * misaki tags words with spaCy; chorus guesses the few tags the rules read (see guess_tag in
 * kokoro_en.c and docs/kokoro.md): DT for the article, PRP for "I", IN/RP for "in", ADV for a
 * final "by", NNP for all-caps acronyms, and verb/noun/adjective for the heteronyms from the
 * word before and after (to/modal + verb, have + participle, determiner + noun or adjective).
 */
#ifndef CHORUS_KOKORO_EN_H
#define CHORUS_KOKORO_EN_H

#include <stddef.h>

struct kokoro_lexicon;

/** One dialect's lexicons, any may be NULL; user (the [pronunciations] kokoro file) comes first. */
struct kokoro_en_lex {
    const struct kokoro_lexicon *gold, *silver, *user;
};

/** A token of running text: a word, or punctuation whose ps the caller has set. */
struct kokoro_en_tok {
    const char *text;
    size_t len;
    int is_word;
    int space_after; /**< whitespace follows */
    char *ps;        /**< malloc'd phonemes (words: filled in; NULL: nothing speakable) */
    int given;       /**< a word whose ps the caller set ([word](/phonemes/)): kept as is */
    int stress2;     /**< [word](N): misaki's stress for the word, twice over, or KOKORO_EN_NO_STRESS */
};

/** Phonemes of one word (NUL-terminated) by espeak-ng and misaki's rewrites; malloc'd or NULL. */
typedef char *(*kokoro_en_fallback_fn)(void *ud, const char *word);

/** Fill ps of every word of t[0..n). Returns 0 or -1 (out of memory). */
int chorus_kokoro_en_g2p(struct kokoro_en_tok *t, size_t n, int british,
                         const struct kokoro_en_lex *lex, kokoro_en_fallback_fn fb, void *ud);

/** misaki's apply_stress: stress2 is twice misaki's stress value (-4..6), or KOKORO_EN_NO_STRESS.
 *  Returns a malloc'd string (NULL when out of memory). */
#define KOKORO_EN_NO_STRESS 99
char *chorus_kokoro_en_apply_stress(const char *ps, int stress2);

#endif
