/* espeak_shared.c — one initialization and one lock for the process-global libespeak-ng. */
#include "backends/espeak/espeak_shared.h"

#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdio.h>

#include "chorus/chorus.h"

static pthread_mutex_t espeak_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t espeak_once = PTHREAD_ONCE_INIT;
static int espeak_rate; /* > 0 once initialized */

static void espeak_init_once(void) {
    /* synchronous mode: the synth callback runs on the caller's thread as audio is produced;
     * 40 ms buffers keep first audio early */
    espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 40, NULL, espeakINITIALIZE_DONT_EXIT);
}

int chorus_espeak_init(char *err, size_t errlen) {
    pthread_once(&espeak_once, espeak_init_once);
    if (espeak_rate <= 0) {
        if (err)
            snprintf(err, errlen,
                     "libespeak-ng could not start: its data files were not found (install the "
                     "espeak-ng-data package, or set ESPEAK_DATA_PATH to the folder holding "
                     "espeak-ng-data)");
        return CHORUS_E_UNAVAILABLE;
    }
    return espeak_rate;
}

void chorus_espeak_lock(void) {
    pthread_mutex_lock(&espeak_mu);
}

void chorus_espeak_unlock(void) {
    pthread_mutex_unlock(&espeak_mu);
}
