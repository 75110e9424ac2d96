/*
 * player.c — playback through libao (chorus say --play).
 *
 * The device string is "driver" or "driver:target": a live driver ("pulse", "alsa", "oss",
 * "sndio", "null") with an optional device ("alsa:hw:1", "pulse:sink_name", "oss:/dev/dsp1"),
 * or a file driver ("wav:/tmp/out.wav", "raw:...", "au:...") writing what would have been
 * heard. NULL or "" means $CHORUS_AUDIO_DEVICE, else libao's default driver (its own config:
 * /etc/libao.conf, ~/.libao). libao's global init runs once per process (pthread_once) and is
 * never shut down, so players may be opened from any thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ao/ao.h>

#include "audio/audio.h"

#define PLAYER_PIECE 4096

struct chorus_player {
    ao_device *dev;
    int rate;
    unsigned char buf[PLAYER_PIECE * 2];
};

static pthread_once_t ao_once = PTHREAD_ONCE_INIT;
static void ao_init_once(void) { ao_initialize(); }

static void list_drivers(char *buf, size_t cap) {
    int n = 0;
    ao_info **info = ao_driver_info_list(&n);
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && info; i++) {
        int k = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", info[i]->short_name);
        if (k < 0 || (size_t)k >= cap - len) break;
        len += (size_t)k;
    }
}

static const char *ao_errtext(int e) {
    switch (e) {
    case AO_ENODRIVER: return "no such driver";
    case AO_ENOTFILE: return "this driver writes files: give a path (driver:/path)";
    case AO_ENOTLIVE: return "this driver is not a live output";
    case AO_EBADOPTION: return "bad device option";
    case AO_EOPENDEVICE: return "cannot open the device (no sound server or card?)";
    case AO_EOPENFILE: return "cannot open the file";
    case AO_EFILEEXISTS: return "the file exists";
    case AO_EBADFORMAT: return "the device does not take 16-bit mono at this rate";
    default: return "failed";
    }
}

int chorus_player_open(struct chorus_player **out, int rate, const char *device, char *err,
                       size_t errlen) {
    char drivers[512];
    if (err && errlen) err[0] = '\0';
    if (!out) return CHORUS_E_INVALID;
    *out = NULL;
    if (rate < 1000 || rate > 384000) {
        if (err && errlen) snprintf(err, errlen, "playback: sample rate %d Hz is not plausible", rate);
        return CHORUS_E_INVALID;
    }
    pthread_once(&ao_once, ao_init_once);
    if (!device || !*device) device = getenv("CHORUS_AUDIO_DEVICE");
    char name[64] = "";
    const char *target = NULL;
    int id;
    if (device && *device) {
        const char *colon = strchr(device, ':');
        size_t nl = colon ? (size_t)(colon - device) : strlen(device);
        if (nl == 0 || nl >= sizeof name) {
            if (err && errlen) snprintf(err, errlen, "playback: bad device \"%s\" (want driver or driver:device)", device);
            return CHORUS_E_INVALID;
        }
        memcpy(name, device, nl);
        name[nl] = '\0';
        target = colon && colon[1] ? colon + 1 : NULL;
        id = ao_driver_id(name);
        if (id < 0) {
            list_drivers(drivers, sizeof drivers);
            if (err && errlen)
                snprintf(err, errlen, "playback: unknown audio driver \"%s\"; available: %s", name, drivers);
            return CHORUS_E_INVALID;
        }
    } else {
        id = ao_default_driver_id();
        if (id < 0) {
            list_drivers(drivers, sizeof drivers);
            if (err && errlen)
                snprintf(err, errlen,
                         "playback: no usable sound output found; set CHORUS_AUDIO_DEVICE to one of: %s",
                         drivers);
            return CHORUS_E_UNAVAILABLE;
        }
        ao_info *inf = ao_driver_info(id);
        snprintf(name, sizeof name, "%s", inf ? inf->short_name : "default");
    }
    ao_info *info = ao_driver_info(id);
    struct chorus_player *p = calloc(1, sizeof *p);
    if (!p) return CHORUS_E_NOMEM;
    p->rate = rate;
    ao_sample_format fmt;
    memset(&fmt, 0, sizeof fmt);
    fmt.bits = 16;
    fmt.channels = 1;
    fmt.rate = rate;
    fmt.byte_format = AO_FMT_LITTLE;
    fmt.matrix = (char *)"M";
    ao_option *opts = NULL;
    errno = 0;
    if (info && info->type == AO_TYPE_FILE) {
        if (!target) {
            ao_free_options(opts);
            free(p);
            if (err && errlen) snprintf(err, errlen, "playback: driver \"%s\" writes a file: use %s:/path/to/file", name, name);
            return CHORUS_E_INVALID;
        }
        p->dev = ao_open_file(id, target, 1, &fmt, NULL);
    } else {
        if (target) {
            const char *key = strcmp(name, "pulse") == 0 ? "sink" : strcmp(name, "oss") == 0 ? "dsp" : "dev";
            ao_append_option(&opts, key, target);
        }
        p->dev = ao_open_live(id, &fmt, opts);
    }
    ao_free_options(opts);
    if (!p->dev) {
        int e = errno;
        free(p);
        if (err && errlen)
            snprintf(err, errlen, "playback: cannot open %s%s%s: %s", name, target ? ":" : "",
                     target ? target : "", ao_errtext(e));
        return CHORUS_E_IO;
    }
    *out = p;
    return CHORUS_OK;
}

int chorus_player_write(struct chorus_player *p, const float *x, size_t n) {
    if (!p || (!x && n)) return CHORUS_E_INVALID;
    while (n) {
        size_t k = n < PLAYER_PIECE ? n : PLAYER_PIECE;
        chorus_pcm_f32_to_s16le(x, p->buf, k);
        if (!ao_play(p->dev, (char *)p->buf, (uint_32)(k * 2))) return CHORUS_E_IO;
        x += k;
        n -= k;
    }
    return CHORUS_OK;
}

int chorus_player_close(struct chorus_player *p) {
    if (!p) return CHORUS_OK;
    int ok = ao_close(p->dev);
    free(p);
    return ok ? CHORUS_OK : CHORUS_E_IO;
}
