/*
 * tags.h — Kokoro-FastAPI's inline voice and pause tags as SSML (see tags.c).
 */
#ifndef CHORUS_SERVER_TAGS_H
#define CHORUS_SERVER_TAGS_H

#include <stddef.h>

/** Longest voice name in a [voice:NAME] tag; a longer one is text. */
#define SRV_TAG_MAX_NAME 128
/** Longest pause a [pause:Xs] tag gives (the SSML stage's own cap), in milliseconds. */
#define SRV_TAG_MAX_PAUSE_MS 60000.0

/** Maps a tag's voice name (an OpenAI alias...) to the backend's, or NULL to keep it. */
typedef const char *(*srv_tag_voice_fn)(void *ud, const char *name);

/**
 * Translate text with [voice:NAME] and [pause:Xs] tags into an SSML document: the text escaped,
 * each voice tag a <voice name> span up to the next one, each pause a <break>. On success
 * *out is a NUL-terminated malloc'ed string (free it), *n_tags the tags found (may be NULL).
 * Returns -1 only when out of memory.
 */
int srv_tags_to_ssml(const char *in, size_t n, srv_tag_voice_fn map, void *ud, char **out,
                     size_t *out_len, int *n_tags);

#endif
