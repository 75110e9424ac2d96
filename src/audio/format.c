/*
 * format.c — the one table of output formats (name, MIME type, extension, sample rates) shared by
 * the CLI, the server and the cache, and the public chorus_format_* functions over it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"

/* MPEG-1/2/2.5 layer III rates (libmp3lame encodes these without resampling). */
static const int mp3_rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 0};
/* Sampling frequencies an ADTS header can carry that libavcodec's native AAC encoder takes. */
static const int aac_rates[] = {8000,  11025, 12000, 16000, 22050, 24000, 32000,
                                44100, 48000, 64000, 88200, 96000, 0};

/* Rates 8000..192000 are allowed where rates is NULL. */
#define ANY_RATE_MIN 8000
#define ANY_RATE_MAX 192000

static const struct chorus_format_info formats[] = {
    {CHORUS_FORMAT_WAV, "wav", "audio/wav", "wav", 24000, NULL, 0},
    /* raw PCM has no header to tell the rate: OpenAI's contract fixes it at 24 kHz unless asked */
    {CHORUS_FORMAT_PCM, "pcm", "audio/pcm", "pcm", 24000, NULL, 1},
    {CHORUS_FORMAT_MP3, "mp3", "audio/mpeg", "mp3", 24000, mp3_rates, 0},
    {CHORUS_FORMAT_OPUS, "opus", "audio/ogg", "opus", 48000, NULL, 0},
    {CHORUS_FORMAT_FLAC, "flac", "audio/flac", "flac", 24000, NULL, 0},
    {CHORUS_FORMAT_AAC, "aac", "audio/aac", "aac", 24000, aac_rates, 0},
};

/* Other names and extensions accepted for a format (lowercase). */
static const struct {
    const char *name;
    enum chorus_format format;
} aliases[] = {
    {"wave", CHORUS_FORMAT_WAV}, {"raw", CHORUS_FORMAT_PCM}, {"s16le", CHORUS_FORMAT_PCM},
    {"ogg", CHORUS_FORMAT_OPUS}, {"oga", CHORUS_FORMAT_OPUS}, {"adts", CHORUS_FORMAT_AAC},
};

const struct chorus_format_info *chorus_format_info(enum chorus_format f) {
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == f) return &formats[i];
    return NULL;
}

const char *chorus_format_name(enum chorus_format f) {
    const struct chorus_format_info *fi = chorus_format_info(f);
    return fi ? fi->name : NULL;
}

const char *chorus_format_mime(enum chorus_format f) {
    const struct chorus_format_info *fi = chorus_format_info(f);
    return fi ? fi->mime : NULL;
}

const char *chorus_format_extension(enum chorus_format f) {
    const struct chorus_format_info *fi = chorus_format_info(f);
    return fi ? fi->extension : NULL;
}

enum chorus_format chorus_format_from_name(const char *name) {
    if (!name) return CHORUS_FORMAT_DEFAULT;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcasecmp(name, formats[i].name) == 0) return formats[i].format;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(name, aliases[i].name) == 0) return aliases[i].format;
    return CHORUS_FORMAT_DEFAULT;
}

enum chorus_format chorus_format_from_path(const char *path) {
    if (!path) return CHORUS_FORMAT_DEFAULT;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1]) return CHORUS_FORMAT_DEFAULT;
    return chorus_format_from_name(dot + 1);
}

int chorus_format_supported(enum chorus_format f) {
    return chorus_format_info(f) != NULL && chorus_encoder_available(f);
}

int chorus_format_rate_allowed(enum chorus_format f, int rate) {
    const struct chorus_format_info *fi = chorus_format_info(f);
    if (!fi || rate <= 0) return 0;
    if (!fi->rates) return rate >= ANY_RATE_MIN && rate <= ANY_RATE_MAX;
    for (const int *r = fi->rates; *r; r++)
        if (*r == rate) return 1;
    return 0;
}

int chorus_format_describe_rates(enum chorus_format f, char *buf, size_t cap) {
    const struct chorus_format_info *fi = chorus_format_info(f);
    if (!buf || cap == 0) return CHORUS_E_INVALID;
    buf[0] = '\0';
    if (!fi) return CHORUS_E_INVALID;
    if (!fi->rates) {
        snprintf(buf, cap, "any rate from %d to %d Hz", ANY_RATE_MIN, ANY_RATE_MAX);
        return CHORUS_OK;
    }
    size_t len = 0;
    for (const int *r = fi->rates; *r; r++) {
        int k = snprintf(buf + len, cap - len, "%s%d", r == fi->rates ? "" : ", ", *r);
        if (k < 0 || (size_t)k >= cap - len) break;
        len += (size_t)k;
    }
    if (len + 4 < cap) strcat(buf, " Hz");
    return CHORUS_OK;
}

int chorus_format_pick_rate(enum chorus_format f, int requested, int engine_rate, int *out,
                            char *err, size_t errlen) {
    const struct chorus_format_info *fi = chorus_format_info(f);
    if (out) *out = 0;
    if (!fi || !out) {
        if (err && errlen) snprintf(err, errlen, "unknown output format %d", (int)f);
        return CHORUS_E_FORMAT;
    }
    if (requested != 0) {
        if (!chorus_format_rate_allowed(f, requested)) {
            char list[256];
            chorus_format_describe_rates(f, list, sizeof list);
            if (err && errlen)
                snprintf(err, errlen,
                         "%s output cannot use a sample rate of %d Hz; allowed: %s", fi->name,
                         requested, list);
            return CHORUS_E_FORMAT;
        }
        *out = requested;
        return CHORUS_OK;
    }
    if (!fi->prefer_default && chorus_format_rate_allowed(f, engine_rate))
        *out = engine_rate;
    else
        *out = fi->default_rate;
    return CHORUS_OK;
}

/* An MPEG-1/2/2.5 audio frame header (layer I-III): sync, a known layer, a valid bitrate and
 * sample-rate index. ADTS (AAC) shares the sync but has layer bits 00. */
static int mpeg_audio_header(const unsigned char *p) {
    if (p[0] != 0xFF || (p[1] & 0xE0) != 0xE0) return 0;
    int version = (p[1] >> 3) & 3, layer = (p[1] >> 1) & 3;
    int bitrate = p[2] >> 4, srate = (p[2] >> 2) & 3;
    return version != 1 && layer != 0 && bitrate != 15 && srate != 3;
}

static int adts_header(const unsigned char *p) {
    return p[0] == 0xFF && (p[1] & 0xF6) == 0xF0 && ((p[2] >> 2) & 0xF) < 13;
}

enum chorus_format chorus_format_sniff(const void *data, size_t n) {
    const unsigned char *p = data;
    if (!p) return CHORUS_FORMAT_DEFAULT;
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WAVE", 4)) return CHORUS_FORMAT_WAV;
    if (n >= 4 && !memcmp(p, "OggS", 4)) return CHORUS_FORMAT_OPUS;
    if (n >= 4 && !memcmp(p, "fLaC", 4)) return CHORUS_FORMAT_FLAC;
    if (n >= 3 && !memcmp(p, "ID3", 3)) return CHORUS_FORMAT_MP3;
    if (n >= 3 && adts_header(p)) return CHORUS_FORMAT_AAC;
    if (n >= 3 && mpeg_audio_header(p)) return CHORUS_FORMAT_MP3;
    return CHORUS_FORMAT_DEFAULT;
}

/* What a standard decoder gives before the first sample chorus produced (see chorus.h). */
#define AAC_PRIMING 1024      /* libavcodec's native AAC encoder: initial_padding */
#define MP3_LAME_DELAY 576    /* lame_get_encoder_delay() */
#define MP3_DECODER_DELAY 529 /* the MP3 synthesis filterbank, as FFmpeg and mpg123 count it */

double chorus_format_decode_delay(enum chorus_format f, int sample_rate, int is_file) {
    if (sample_rate <= 0) return 0.0;
    if (f == CHORUS_FORMAT_AAC) return (double)AAC_PRIMING / sample_rate;
    if (f == CHORUS_FORMAT_MP3 && !is_file) return (double)(MP3_LAME_DELAY + MP3_DECODER_DELAY) / sample_rate;
    return 0.0;
}
