/*
 * espeak_shared.h — libespeak-ng is process-global (one voice, one callback, one synthesis at a
 * time), and two parts of chorus use it: the espeak backend and Kokoro's G2P. Both go through
 * these functions, which initialize the library once and serialize every call behind one mutex.
 */
#ifndef CHORUS_ESPEAK_SHARED_H
#define CHORUS_ESPEAK_SHARED_H

#include <stddef.h>

/** Initialize libespeak-ng once per process (thread-safe). Returns the native sample rate
 *  (22050), or a negative chorus status with a message in err. */
int chorus_espeak_init(char *err, size_t errlen);
/** Hold while calling any espeak_* function; the lock is not recursive. */
void chorus_espeak_lock(void);
void chorus_espeak_unlock(void);

#endif
