/*
 * kokoro_g2p.h — text to Kokoro phoneme tokens, and the timestamp math on predicted durations.
 *
 * G2P runs libespeak-ng per word (IPA, '^' ties inside multi-letter phonemes), which is what
 * misaki's EspeakFallback does for English, then applies misaki's rewrites: the E2M table,
 * syllabic consonants, the US/GB rules, o->ɔ (espeak < 1.52), ɾ->T, ʔ->t, tie removal. Other
 * languages use misaki's EspeakG2P table. Punctuation becomes its own token (misaki's token
 * model), so the phoneme string of "Hello, world." is "həlˈO, wˈɜɹld.". Characters outside the
 * model's vocab are dropped here, so every code point of a token's phonemes is one model token
 * and the duration-to-word mapping is exact. Every espeak call holds chorus_espeak_lock().
 */
#ifndef CHORUS_KOKORO_G2P_H
#define CHORUS_KOKORO_G2P_H

#include <stddef.h>
#include <stdint.h>

struct kokoro_config;

struct kokoro_token {
    size_t text_off, text_len; /**< bytes in the input text */
    size_t ph_off, ph_len;     /**< code points in kokoro_tokens.cp */
    int whitespace;            /**< followed by whitespace */
    int is_word;               /**< a word (else punctuation) */
};

struct kokoro_tokens {
    struct kokoro_token *t;
    size_t n, cap;
    uint32_t *cp;
    size_t ncp, cpcap;
};

/** espeak voice for a Kokoro language code ('a' en-us, 'b' en-gb, 'e' es, 'f' fr-fr, 'h' hi,
 *  'i' it, 'p' pt-br) or an espeak name given directly; NULL if unsupported. */
const char *chorus_kokoro_lang_espeak(const char *lang);

/** Tokens of `text` in language `lang` (see chorus_kokoro_lang_espeak). Returns 0 or a negative
 *  chorus status with a message in err. */
int chorus_kokoro_g2p(const char *text, size_t len, const char *lang, const struct kokoro_config *cfg,
               struct kokoro_tokens *out, char *err, size_t errlen);
struct kokoro_en_lex;
/** As chorus_kokoro_g2p, English words looked up in misaki's lexicons first (lex may be NULL:
 *  espeak-ng and misaki's rules only). cfg may be NULL: Kokoro v1.0's vocab filters. */
int chorus_kokoro_g2p_lex(const char *text, size_t len, const char *lang,
                          const struct kokoro_config *cfg, const struct kokoro_en_lex *lex,
                          struct kokoro_tokens *out, char *err, size_t errlen);
/** The English path of chorus_kokoro_g2p_lex with the fallback for unknown words given (the
 *  engine's is espeak-ng with the lock held; tests and the fuzzer pass their own). 0 or -1. */
int chorus_kokoro_g2p_english(const char *text, size_t len, int british,
                              const struct kokoro_config *cfg, const struct kokoro_en_lex *lex,
                              char *(*fb)(void *ud, const char *word), void *ud,
                              struct kokoro_tokens *out);
/** Tokens of a phoneme string given directly (words split at spaces, punctuation split off). */
int chorus_kokoro_tokens_from_phonemes(const char *ps, size_t len, const struct kokoro_config *cfg,
                                struct kokoro_tokens *out, char *err, size_t errlen);
void chorus_kokoro_tokens_release(struct kokoro_tokens *t);

/** Phoneme code points of tokens [a, b), as KPipeline.tokens_to_ps (joined, then stripped).
 *  out must hold chorus_kokoro_tokens_ps_len(); returns the count. */
size_t chorus_kokoro_tokens_ps(const struct kokoro_tokens *t, size_t a, size_t b, uint32_t *out);
size_t chorus_kokoro_tokens_ps_len(const struct kokoro_tokens *t, size_t a, size_t b);
/** End of the chunk starting at token a: at most `max` phonemes, cut after the last sentence
 *  end, else clause punctuation, else comma/dash (KPipeline.waterfall_last), else at the limit.
 *  Always > a when a < n. */
size_t chorus_kokoro_chunk_end(const struct kokoro_tokens *t, size_t a, size_t max);
/** End of the chunk starting at token a aimed at `target` phonemes (Kokoro-FastAPI's way, with
 *  KPipeline's marks): the whole sentences that fit in the target; a first sentence longer
 *  than the target is cut at its last clause mark (: ;) within it, else its last comma or
 *  dash; with no mark there, it goes whole when it fits in max, else chunk_end(max) cuts it.
 *  target >= max is exactly chorus_kokoro_chunk_end(max). Always > a when a < n. */
size_t chorus_kokoro_chunk_end_target(const struct kokoro_tokens *t, size_t a, size_t target,
                                      size_t max);
/** KPipeline.join_timestamps for tokens [a, b) and their chunk's durations (n_dur = phonemes
 *  + 2): start/end in seconds per token, -1 when the token got none. */
void chorus_kokoro_join_timestamps(const struct kokoro_tokens *t, size_t a, size_t b, const int *dur,
                            size_t n_dur, double *start, double *end);
/** UTF-8 of tokens' phonemes (malloc'd), for inspection. */
char *chorus_kokoro_tokens_ps_utf8(const struct kokoro_tokens *t, size_t a, size_t b);

#endif
