/* player_none.c — chorus_player_* in a build without sound output (CHORUS_WITH_PLAYER=OFF, which
 * drops libao): every open fails with a message saying so; player.c is the real one. */
#include "audio/audio.h"
#include "core/util.h"

#if !CHORUS_WITH_PLAYER

int chorus_player_open(struct chorus_player **out, int rate, const char *device, char *err,
                       size_t errlen) {
    (void)rate;
    (void)device;
    if (out) *out = NULL;
    if (err && errlen)
        chorus_fmt(err, errlen,
                   "cannot play audio: chorus was built without sound output "
                   "(CHORUS_WITH_PLAYER=OFF, which drops libao); rebuild with cmake "
                   "-DCHORUS_WITH_PLAYER=ON, or write a file (-o out.wav) and play that");
    return CHORUS_E_UNAVAILABLE;
}

int chorus_player_write(struct chorus_player *p, const float *x, size_t n) {
    (void)p;
    (void)x;
    (void)n;
    return CHORUS_E_INVALID;
}

int chorus_player_close(struct chorus_player *p) {
    (void)p;
    return CHORUS_OK;
}

#else
typedef int chorus_player_none_unused; /* ISO C wants a translation unit to declare something */
#endif
