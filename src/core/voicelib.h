/*
 * voicelib.h — the local library of cloned-voice reference clips (internal side).
 *
 * Lives in src/core (not in a backend) because the public API (chorus_cloned_voice_*) is
 * engine-level and any voice-cloning backend may use it; Chatterbox is the first.
 *
 * Layout of the library directory ([voices] dir in config.toml, else
 * $XDG_DATA_HOME/chorus/voices, else ~/.local/share/chorus/voices):
 *
 *   NAME.wav    the reference clip, mono 16-bit PCM at the original rate (downmixed on add)
 *   NAME.json   {"name","description","duration","sample_rate","channels","created",
 *                "source","sha256"}
 *
 * NAME is 1-64 characters of [A-Za-z0-9_-], starting with a letter or digit, so no name can
 * reach outside the directory. Files are written to a temporary name and renamed into place,
 * so a failed add leaves nothing behind.
 */
#ifndef CHORUS_CORE_VOICELIB_H
#define CHORUS_CORE_VOICELIB_H

#include <stddef.h>

struct chorus_config;

/* Durations (seconds) checked on add. */
#define CHORUS_VOICELIB_MIN_S 3.0
#define CHORUS_VOICELIB_MAX_S 60.0
#define CHORUS_VOICELIB_REC_MIN_S 7.0
#define CHORUS_VOICELIB_REC_MAX_S 20.0

/** One library entry (all strings owned by the struct; release with chorus_voicelib_entry_release). */
struct chorus_voicelib_entry {
    char name[65];
    char *description;
    double duration;
    int sample_rate;
    int channels;
    char created[32];
    char source[256];
    char sha256[65]; /* hex digest of the stored clip */
    char *path;      /* absolute path of NAME.wav (set by find/list, not by parse) */
};

/** 1 if `name` is a valid library name (see above), else 0. */
int chorus_voicelib_name_ok(const char *name);

/** The library directory for this config into buf. Returns 0, or -1 when no directory can be
 *  found (no XDG_DATA_HOME and no HOME) or it does not fit. */
int chorus_voicelib_dir(const struct chorus_config *cfg, char *buf, size_t cap);

/**
 * Parse a metadata document (outside input: the file may have been edited or damaged).
 * Returns 0 and fills e (path NULL), or -1 with err saying what is wrong.
 */
int chorus_voicelib_parse_meta(const char *json, size_t len, struct chorus_voicelib_entry *e,
                               char *err, size_t errlen);

/** Look a voice up: 0 and *e filled (release it), or CHORUS_E_UNKNOWN_VOICE / E_INVALID /
 *  E_IO with err saying what failed and what to do. */
int chorus_voicelib_find(const struct chorus_config *cfg, const char *name,
                         struct chorus_voicelib_entry *e, char *err, size_t errlen);

/** Every valid entry, sorted by name (damaged ones are skipped with a warning in the log).
 *  Returns 0 (an empty or missing directory is not an error) or a negative status. */
int chorus_voicelib_list(const struct chorus_config *cfg, struct chorus_voicelib_entry **out,
                         size_t *n, char *err, size_t errlen);

/**
 * Check and store a clip. warn (may be NULL) receives a warning for clips outside the
 * recommended 7-20 s. Returns 0, or a negative status with err set (E_INVALID for a bad name,
 * too short or too long clip, an existing name; E_IO for an unreadable clip or directory).
 */
int chorus_voicelib_add(const struct chorus_config *cfg, const char *name, const char *file,
                        const char *description, char *warn, size_t warnlen, char *err,
                        size_t errlen);

/** Remove NAME: 0, E_NOT_FOUND, E_INVALID (bad name) or E_IO. */
int chorus_voicelib_remove(const struct chorus_config *cfg, const char *name, char *err,
                           size_t errlen);

void chorus_voicelib_entry_release(struct chorus_voicelib_entry *e);
void chorus_voicelib_entries_free(struct chorus_voicelib_entry *v, size_t n);

#endif
