/*
 * kokoro_voice.h — Kokoro voice packs: where they live, how they are named, how they mix.
 *
 * A pack is float32 [rows][256] (rows = 510 for the official voices): row r is the style for an
 * utterance of r+1 phonemes; the first 128 floats steer the decoder, the last 128 the prosody.
 * Sources: a directory of `<name>.pt` (torch.save of a [510,1,256] tensor) or `<name>.bin`
 * (the raw little-endian float32 layout of kokoro.js), or one `voices-v1.0.bin` npz archive
 * holding `<name>.npy` members.
 *
 * Mixes follow Kokoro-FastAPI: "af_bella+af_sky" (equal weights), "af_bella(2)+af_sky(1)"
 * (weights normalized by their sum), "a-b" (subtract b's share); hexgrad's "a,b" is a mean.
 */
#ifndef CHORUS_KOKORO_VOICE_H
#define CHORUS_KOKORO_VOICE_H

#include <stddef.h>

#include "nn/tensorfile.h"

struct kokoro_voices {
    char path[1024];
    int is_dir;
    struct chorus_tensor_file npz; /**< when path is an archive */
};

/** Open a voices directory or npz archive. Returns 0 or a chorus status with err set. */
int chorus_kokoro_voices_open(struct kokoro_voices *v, const char *path, char *err, size_t errlen);
void chorus_kokoro_voices_close(struct kokoro_voices *v);
/** Voice names, sorted (malloc'd array of malloc'd strings). Returns the count, or -1. */
int chorus_kokoro_voices_list(const struct kokoro_voices *v, char ***names);
void chorus_kokoro_voices_list_free(char **names, int n);
/** The pack for a voice or a mix spec: *pack malloc'd [*rows][256]. Returns 0, or
 *  CHORUS_E_UNKNOWN_VOICE / CHORUS_E_MODEL / CHORUS_E_INVALID with err set. */
int chorus_kokoro_voices_load(const struct kokoro_voices *v, const char *spec, float **pack, int *rows,
                       char *err, size_t errlen);


#endif
