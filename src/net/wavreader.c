/*
 * wavreader.c — incremental RIFF/WAVE reader for servers that answer with wav (see net.h).
 */
#include <stdio.h>
#include <string.h>

#include "chorus/chorus.h"
#include "net/net.h"

#define WAV_ANY (~0ull)

void chorus_wavreader_init(struct chorus_wavreader *w,
                           int (*on_pcm)(void *ud, const short *x, size_t n, int rate),
                           void *ud) {
    memset(w, 0, sizeof *w);
    w->on_pcm = on_pcm;
    w->ud = ud;
}

static unsigned le16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static unsigned long le32(const unsigned char *p) {
    return (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
           (unsigned long)p[3] << 24;
}

static int fail(struct chorus_wavreader *w, const char *what) {
    w->state = -1;
    snprintf(w->err, sizeof w->err, "%s", what);
    return CHORUS_E_BACKEND;
}

/* Try to parse the header in hdr[0..hdr_len). Returns 1 when the data chunk starts at *data_at,
 * 0 if more bytes are needed, <0 on error. */
static int parse_header(struct chorus_wavreader *w, size_t *data_at) {
    const unsigned char *h = w->hdr;
    size_t n = w->hdr_len;
    if (n < 12) return 0;
    if (memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
        return fail(w, "the answer is not a RIFF/WAVE file");
    size_t off = 12;
    int have_fmt = 0;
    for (;;) {
        if (off + 8 > n) return 0;
        unsigned long size = le32(h + off + 4);
        if (memcmp(h + off, "data", 4) == 0) {
            if (!have_fmt) return fail(w, "the wav data chunk comes before its fmt chunk");
            w->data_left = (size == 0 || size == 0xFFFFFFFFul) ? WAV_ANY : size;
            *data_at = off + 8;
            return 1;
        }
        if (memcmp(h + off, "fmt ", 4) == 0) {
            if (size < 16) return fail(w, "the wav fmt chunk is too short");
            if (off + 8 + 16 > n) return 0;
            const unsigned char *f = h + off + 8;
            unsigned tag = le16(f);
            w->channels = (int)le16(f + 2);
            w->sample_rate = (int)le32(f + 4);
            w->bits = (int)le16(f + 14);
            if (tag == 0xFFFE && size >= 40) {
                if (off + 8 + 26 > n) return 0;
                tag = le16(f + 24); /* sub-format GUID starts with the format tag */
            }
            if (tag != 1 || w->bits != 16)
                return fail(w, "the wav is not 16-bit PCM (ask the server for wav/pcm s16)");
            if (w->channels < 1 || w->channels > 8)
                return fail(w, "the wav has an unsupported channel count");
            if (w->sample_rate < 1000 || w->sample_rate > 384000)
                return fail(w, "the wav has an implausible sample rate");
            have_fmt = 1;
        }
        if (size > sizeof w->hdr) return fail(w, "a wav header chunk is implausibly large");
        off += 8 + size + (size & 1);
        if (off > sizeof w->hdr - 8) return fail(w, "the wav header is too large");
    }
}

static int emit_pcm(struct chorus_wavreader *w, const unsigned char *p, size_t n) {
    /* n is a whole number of frames */
    short tmp[2048];
    size_t frame = (size_t)w->channels * 2;
    size_t frames = n / frame;
    size_t done = 0;
    while (done < frames) {
        size_t k = frames - done;
        if (k > sizeof tmp / sizeof tmp[0]) k = sizeof tmp / sizeof tmp[0];
        for (size_t i = 0; i < k; i++) {
            const unsigned char *f = p + (done + i) * frame;
            long acc = 0;
            for (int c = 0; c < w->channels; c++) acc += (short)le16(f + 2 * c);
            tmp[i] = (short)(acc / w->channels);
        }
        int rc = w->on_pcm ? w->on_pcm(w->ud, tmp, k, w->sample_rate) : CHORUS_OK;
        if (rc < 0) return rc;
        done += k;
    }
    return CHORUS_OK;
}

static int data_bytes(struct chorus_wavreader *w, const unsigned char *p, size_t n) {
    if (w->data_left != WAV_ANY) {
        if (n > w->data_left) n = (size_t)w->data_left;
        w->data_left -= n;
        if (w->data_left == 0) w->state = 2;
    }
    size_t frame = (size_t)w->channels * 2;
    int rc;
    if (w->carry_len) {
        size_t need = frame - w->carry_len;
        size_t take = n < need ? n : need;
        memcpy(w->carry + w->carry_len, p, take);
        w->carry_len += take;
        p += take;
        n -= take;
        if (w->carry_len < frame) return CHORUS_OK;
        if ((rc = emit_pcm(w, w->carry, frame))) return rc;
        w->carry_len = 0;
    }
    size_t whole = n / frame * frame;
    if (whole && (rc = emit_pcm(w, p, whole))) return rc;
    w->carry_len = n - whole;
    memcpy(w->carry, p + whole, w->carry_len);
    return CHORUS_OK;
}

int chorus_wavreader_feed(struct chorus_wavreader *w, const void *data, size_t n) {
    const unsigned char *p = data;
    if (w->state < 0) return CHORUS_E_BACKEND;
    if (w->state == 2) return CHORUS_OK;
    if (w->state == 1) return data_bytes(w, p, n);
    /* header: accumulate, then parse */
    size_t room = sizeof w->hdr - w->hdr_len;
    size_t take = n < room ? n : room;
    memcpy(w->hdr + w->hdr_len, p, take);
    w->hdr_len += take;
    size_t at = 0;
    int r = parse_header(w, &at);
    if (r < 0) return CHORUS_E_BACKEND;
    if (r == 0) {
        if (w->hdr_len == sizeof w->hdr) return fail(w, "the wav header is too large");
        return CHORUS_OK;
    }
    w->state = 1;
    /* bytes of the header buffer past the data start, then the rest of this input */
    size_t extra = w->hdr_len - at;
    int rc = data_bytes(w, w->hdr + at, extra);
    if (rc) return rc;
    if (take < n && w->state == 1) return data_bytes(w, p + take, n - take);
    return CHORUS_OK;
}

int chorus_wavreader_finish(struct chorus_wavreader *w) {
    if (w->state < 0) return CHORUS_E_BACKEND;
    if (w->state == 0) return fail(w, "the answer ended before the wav header was complete");
    return CHORUS_OK;
}
