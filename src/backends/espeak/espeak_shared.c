/* espeak_shared.c — one initialization and one lock for the process-global libespeak-ng. */
#include "backends/espeak/espeak_shared.h"

#include <dlfcn.h>
#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "chorus/chorus.h"

static pthread_mutex_t espeak_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t espeak_once = PTHREAD_ONCE_INIT;
static int espeak_rate; /* > 0 once initialized */

/*
 * No sound server, no sound card. espeak-ng up to 1.51 (Debian 12's) creates a libpcaudio
 * device in espeak_ng_InitializeOutput whatever the output mode (speech.c; fixed in 1.52 by
 * commit cd0dd09, "Do not create audio out if not required"), and libpcaudio's
 * create_audio_device_object probes for one by opening a PulseAudio playback stream
 * (pulseaudio.c, pulseaudio_is_available: which may autospawn a daemon), then ALSA, then OSS.
 * chorus uses only the synchronous mode, which never plays through that device.
 *
 * So the library defines create_audio_device_object itself, ahead of libpcaudio in the lookup
 * order (libpcaudio is a dependency of libespeak-ng, itself a dependency of libchorus): while
 * chorus initialises espeak-ng, on that thread, it answers "no device" (espeak-ng checks for
 * one before each use); every other caller in the process gets libpcaudio's own, found with
 * dlsym(RTLD_NEXT), so a program that plays through espeak-ng or pcaudio itself is unaffected.
 * tests/unit/test_espeak_no_audio.c checks it against a stand-in sound server.
 */
struct audio_object;
__attribute__((visibility("default"))) struct audio_object *
create_audio_device_object(const char *device, const char *application_name,
                           const char *description);

static _Thread_local int espeak_initializing;

struct audio_object *create_audio_device_object(const char *device, const char *application_name,
                                                const char *description) {
    if (espeak_initializing) return NULL;
    typedef struct audio_object *(*create_fn)(const char *, const char *, const char *);
    void *sym = dlsym(RTLD_NEXT, "create_audio_device_object");
    create_fn real = NULL;
    if (sym) memcpy(&real, &sym, sizeof real);
    return real ? real(device, application_name, description) : NULL;
}

static void espeak_init_once(void) {
    /* synchronous mode: the synth callback runs on the caller's thread as audio is produced;
     * 40 ms buffers keep first audio early */
    espeak_initializing = 1;
    espeak_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 40, NULL, espeakINITIALIZE_DONT_EXIT);
    espeak_initializing = 0;
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
