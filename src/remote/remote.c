/*
 * remote.c — audio delivery, policy and small helpers shared by the remote backends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"
#include "core/config.h"
#include "core/log.h"
#include "remote/remote.h"

static int deliver_pcm_bytes(struct chorus_remote_audio *a, const unsigned char *p, size_t n) {
    int16_t tmp[2048];
    while (n > 0) {
        size_t k = 0;
        if (a->have_odd) {
            tmp[k++] = (int16_t)(a->odd | (p[0] << 8));
            a->have_odd = 0;
            p++;
            n--;
        }
        while (k < 2048 && n >= 2) {
            tmp[k++] = (int16_t)(p[0] | (p[1] << 8));
            p += 2;
            n -= 2;
        }
        if (n == 1 && k < 2048) {
            a->odd = p[0];
            a->have_odd = 1;
            n = 0;
        }
        if (k) {
            int rc = chorus_sink_pcm_s16(a->sink, tmp, k, a->rate);
            if (rc) return rc;
            a->samples += k;
        }
    }
    return CHORUS_OK;
}

static int on_wav_pcm(void *ud, const float *x, size_t n, int rate) {
    struct chorus_remote_audio *a = ud;
    a->rate = rate;
    a->samples += n;
    return chorus_sink_pcm_f32(a->sink, x, n, rate);
}

/* A printable excerpt of the first bytes, for "this is not audio" messages. */
static void head_excerpt(const unsigned char *p, size_t n, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            out[k++] = (char)p[i];
        else
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", p[i]);
    }
    out[k] = '\0';
}

/* Decide from the first bytes what the answer is. */
static int decide_route(struct chorus_remote_audio *a) {
    enum chorus_format f = chorus_format_sniff(a->head, a->head_len);
    if (f == CHORUS_FORMAT_WAV) {
        a->route = CHORUS_REMOTE_WAV + 1;
        return CHORUS_OK;
    }
    if (a->kind == CHORUS_REMOTE_PCM) { /* raw PCM has no magic: only a WAV header is looked for */
        a->route = CHORUS_REMOTE_PCM + 1;
        return CHORUS_OK;
    }
    if (f == CHORUS_FORMAT_DEFAULT && a->kind == CHORUS_REMOTE_ENCODED) f = a->format;
    if (f == CHORUS_FORMAT_DEFAULT) {
        char ex[80];
        head_excerpt(a->head, a->head_len, ex, sizeof ex);
        snprintf(a->msg, sizeof a->msg, "the server's answer is not audio (no WAV, MP3, Ogg, "
                 "FLAC or AAC header; it starts with \"%s\"); check the server's console for "
                 "the cause", ex);
        return CHORUS_E_BACKEND;
    }
    if (a->kind == CHORUS_REMOTE_ENCODED && f != a->format)
        CHORUS_LOGD("remote audio: the server sent %s where %s was asked", chorus_format_name(f),
                    chorus_format_name(a->format));
    a->route = CHORUS_REMOTE_ENCODED + 1;
    a->route_fmt = f;
    return CHORUS_OK;
}

static int route_bytes(struct chorus_remote_audio *a, const unsigned char *p, size_t n) {
    if (n == 0) return CHORUS_OK;
    switch (a->route - 1) {
    case CHORUS_REMOTE_ENCODED:
        return chorus_sink_encoded(a->sink, a->route_fmt, p, n);
    case CHORUS_REMOTE_PCM:
        return deliver_pcm_bytes(a, p, n);
    case CHORUS_REMOTE_WAV: {
        int rc = chorus_wavreader_feed(a->wav, p, n);
        if (rc == CHORUS_E_BACKEND && a->wav->err[0])
            snprintf(a->msg, sizeof a->msg, "%s", a->wav->err);
        return rc;
    }
    }
    return CHORUS_E_INVALID;
}

static int deliver(void *ud, const unsigned char *p, size_t n) {
    struct chorus_remote_audio *a = ud;
    if (!a->route) {
        size_t k = CHORUS_SNIFF_BYTES - a->head_len;
        if (k > n) k = n;
        memcpy(a->head + a->head_len, p, k);
        a->head_len += k;
        p += k;
        n -= k;
        if (a->head_len < CHORUS_SNIFF_BYTES) return CHORUS_OK;
        int rc = decide_route(a);
        if (!rc) rc = route_bytes(a, a->head, a->head_len);
        if (rc) return rc;
    }
    return route_bytes(a, p, n);
}

int chorus_remote_audio_init(struct chorus_remote_audio *a, const struct chorus_job *job,
                             struct chorus_sink *sink, enum chorus_remote_kind kind,
                             enum chorus_format format, int rate) {
    memset(a, 0, sizeof *a);
    a->job = job;
    a->sink = sink;
    a->kind = kind;
    a->format = format;
    a->rate = rate;
    const char *mode = chorus_job_option(job, "retry_mode");
    chorus_once_init(&a->once, mode && !strcasecmp(mode, "buffer"), deliver, a);
    /* without retries no attempt is ever replayed: keep no copy of the audio */
    if (!a->once.hold && chorus_job_option_double(job, "retries", 3) < 1) a->once.no_replay = 1;
    a->wav = malloc(sizeof *a->wav);
    if (!a->wav) return CHORUS_E_NOMEM;
    chorus_wavreader_init(a->wav, NULL, a);
    a->wav->on_f32 = on_wav_pcm;
    return CHORUS_OK;
}

void chorus_remote_audio_rewind(struct chorus_remote_audio *a) {
    chorus_once_rewind(&a->once);
    /* the replayed bytes that match are dropped before `deliver`, so the wav reader and the
     * odd-byte carry keep their state: they continue exactly where delivery stopped. In hold
     * mode nothing was delivered yet, so their state is still the initial one. */
}

int chorus_remote_audio_write(struct chorus_remote_audio *a, const void *p, size_t n) {
    return chorus_once_write(&a->once, p, n, a->msg, sizeof a->msg);
}

int chorus_remote_audio_finish(struct chorus_remote_audio *a) {
    int rc = chorus_once_commit(&a->once, a->msg, sizeof a->msg);
    if (rc) return rc;
    if (!a->route && a->head_len > 0) { /* a short answer: decide on what came */
        rc = decide_route(a);
        if (!rc) rc = route_bytes(a, a->head, a->head_len);
        if (rc) return rc;
    }
    if (a->route == CHORUS_REMOTE_WAV + 1 || (!a->route && a->kind == CHORUS_REMOTE_WAV)) {
        rc = chorus_wavreader_finish(a->wav);
        if (rc) snprintf(a->msg, sizeof a->msg, "%s", a->wav->err);
        return rc;
    }
    return CHORUS_OK;
}

void chorus_remote_audio_release(struct chorus_remote_audio *a) {
    chorus_once_release(&a->once);
    chorus_wavreader_release(a->wav);
    free(a->wav);
    a->wav = NULL;
}

struct chorus_http_policy chorus_remote_policy(const struct chorus_job *job) {
    struct chorus_http_policy p = {0};
    p.max_retries = (int)chorus_job_option_double(job, "retries", 3);
    p.idle_timeout_ms = (long)(chorus_job_option_double(job, "timeout", 60) * 1000.0);
    p.connect_timeout_ms = (long)(chorus_job_option_double(job, "connect_timeout", 10) * 1000.0);
    p.retry_after_body = 1; /* every remote backend replays through chorus_once */
    return p;
}

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

long chorus_base64_decode(const char *in, size_t n, unsigned char *out) {
    unsigned long acc = 0;
    int bits = 0;
    long o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=') break;
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        int v = b64val(c);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1ul << bits) - 1;
        }
    }
    return o;
}

int chorus_remote_setting(const struct chorus_config *cfg, const char *env,
                          const char *const *places, char *dst, size_t cap) {
    const char *v = chorus_config_find(cfg, env, places);
    if (!v || !*v) {
        dst[0] = '\0';
        return 0;
    }
    snprintf(dst, cap, "%s", v);
    return 1;
}

void chorus_remote_log_retry(const char *what, int attempt, long wait_ms, const char *why) {
    CHORUS_LOGI("%s: attempt %d failed (%s); retrying in %.1f s", what, attempt,
                why && *why ? why : "no details", wait_ms / 1000.0);
}
