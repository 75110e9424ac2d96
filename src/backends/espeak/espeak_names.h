/*
 * espeak_names.h — the only voice strings chorus hands to libespeak-ng.
 *
 * libespeak-ng 1.51 copies voice and variant names into fixed buffers with sprintf (a variant of
 * 37 bytes or more overflows ExtractVoiceVariantName's 40-byte buffer and aborts the process) and
 * opens voice and variant names as files under its data folder ("../" walks out of it). So every
 * voice spec ("base" or "base+variant") and every voice name inside SSML is checked here first:
 *
 *   - base: a name, identifier or language espeak-ng lists (matched without case), or a short
 *     name of [A-Za-z0-9_-] (at most CHORUS_ESPEAK_MAX_BASE bytes);
 *   - variant: a variant espeak-ng lists (by file name or display name, without case; it is
 *     rewritten to the file name), or a number 1-99 (espeak's m1-m9 / f1-f89 shorthand).
 *
 * Nothing else reaches espeak_SetVoiceByName; a rejected spec gets a message that says what is
 * accepted. The list is read from libespeak-ng once (espeak_ListVoices) and kept.
 */
#ifndef CHORUS_ESPEAK_NAMES_H
#define CHORUS_ESPEAK_NAMES_H

#include <stddef.h>

/** Longest accepted base voice (libespeak-ng keeps 40-byte voice names). */
#define CHORUS_ESPEAK_MAX_BASE 39
/** Longest accepted variant file name (its buffer holds "!v/" + name in 40 bytes; listed names
 *  are at most 12 bytes, so this bound is never what rejects a real variant). */
#define CHORUS_ESPEAK_MAX_VARIANT 24

/**
 * Check the voice spec `voice`, optionally with a separate `variant` (options.variant; NULL if
 * none, and ignored when `voice` already carries "+variant"), and write the spec to hand to
 * espeak_SetVoiceByName into out (cap >= 64). Returns 0, or a negative chorus status
 * (CHORUS_E_UNKNOWN_VOICE or CHORUS_E_OPTION) with the reason in err.
 * Call with chorus_espeak_lock() held, after chorus_espeak_init().
 */
int chorus_espeak_voice_check(const char *voice, const char *variant, char *out, size_t cap,
                              char *err, size_t errlen);

/**
 * Check the voice names an SSML document makes libespeak-ng load itself (the name attribute of
 * <speak> and <voice>), with the same rules. Returns 0, or CHORUS_E_SSML with the reason in err.
 * Call with chorus_espeak_lock() held.
 */
int chorus_espeak_ssml_check(const char *ssml, size_t len, char *err, size_t errlen);

/** Make libespeak-ng refuse every <audio src> of SSML (it would read the file, or run sox on
 *  it); the element's text is spoken instead. Call once with the lock held. */
void chorus_espeak_refuse_uris(void);

#endif
