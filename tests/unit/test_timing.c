/* test_timing.c — every format's decoded audio lines up with the timestamps: files of each
 * format chorus writes (and MP3 written as a stream) are decoded by FFmpeg (an independent
 * decoder), cross-correlated with the WAV of the same request, and the lag must be the one
 * chorus_format_decode_delay() documents, within 2 ms. MP3 files carry their Info (gapless)
 * frame: FFmpeg decodes exactly the WAV's samples and ffprobe reads the length from the tag. */
#include <stdio.h>
#include <unistd.h>

#include "chorus/chorus.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"

#define TEXT "Timing matters. Every format must line up with the words, to the millisecond."

static struct chorus_engine *engine(void) {
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    struct chorus_engine *e = NULL;
    return chorus_engine_create(&e, &o) == CHORUS_OK ? e : NULL;
}

/* Decode `path` with FFmpeg to mono float at `rate`. */
static float *ff_decode(const char *path, int rate, size_t *n) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f f32le -ac 1 -ar %d -", path, rate);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, len = 0;
    float *x = malloc(cap * sizeof *x);
    size_t got;
    while (x && (got = fread(x + len, sizeof *x, cap - len, p)) > 0) {
        len += got;
        if (len == cap) {
            float *y = realloc(x, (cap *= 2) * sizeof *x);
            if (!y) free(x);
            x = y;
        }
    }
    int st = pclose(p);
    if (st != 0 || !x) {
        free(x);
        return NULL;
    }
    *n = len;
    return x;
}

/* The lag (samples) of b behind a that maximises their normalized correlation, in [-max, max]. */
static long best_lag(const float *a, size_t na, const float *b, size_t nb, long max) {
    long best = 0;
    double bestv = -1e300;
    for (long lag = -max; lag <= max; lag++) {
        double s = 0;
        for (size_t i = 0; i < na; i += 2) {
            long j = (long)i + lag;
            if (j < 0 || (size_t)j >= nb) continue;
            s += (double)a[i] * b[j];
        }
        if (s > bestv) bestv = s, best = lag;
    }
    return best;
}

static int count_samples(const struct chorus_event *ev, void *ud) {
    if (ev->type == CHORUS_EVENT_CHUNK) *(size_t *)ud += ev->chunk->n_samples;
    return 0;
}

static size_t produced; /* samples the last write_file's stream produced */

static int write_file(struct chorus_engine *e, enum chorus_format f, const char *path) {
    struct chorus_request r = chorus_request_default();
    r.text = TEXT;
    r.backend = "espeak";
    r.format = f;
    produced = 0;
    r.callback = count_samples;
    r.userdata = &produced;
    char err[512];
    int rc = chorus_synthesize_file(e, &r, path, err, sizeof err);
    if (rc) fprintf(stderr, "  %s: %s\n", path, err);
    return rc;
}

static int bytes_cb(const struct chorus_event *ev, void *ud) {
    FILE *f = ud;
    if (ev->type == CHORUS_EVENT_CHUNK && ev->chunk->data_len)
        fwrite(ev->chunk->data, 1, ev->chunk->data_len, f);
    return 0;
}

TEST(formats_align_with_wav) {
    struct chorus_engine *e = engine();
    CHECK(e);
    char dir[] = "/tmp/chorus-timing-XXXXXX";
    CHECK(mkdtemp(dir));
    char wav[300];
    snprintf(wav, sizeof wav, "%s/ref.wav", dir);
    /* libespeak-ng's syntheses in one process vary by up to ~50 ms in length (its own state):
     * the correlation finds the lag from the start, where they agree */
    CHECK_EQ_INT(write_file(e, CHORUS_FORMAT_WAV, wav), CHORUS_OK);
    CHECK_EQ_INT(write_file(e, CHORUS_FORMAT_WAV, wav), CHORUS_OK);
    int rate = 22050;
    size_t nref = 0;
    float *ref = ff_decode(wav, rate, &nref);
    CHECK(ref && nref > (size_t)rate);
    static const enum chorus_format fmts[] = {CHORUS_FORMAT_MP3, CHORUS_FORMAT_OPUS,
                                              CHORUS_FORMAT_FLAC, CHORUS_FORMAT_AAC};
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        if (!chorus_format_supported(fmts[k])) continue;
        char path[300];
        snprintf(path, sizeof path, "%s/out.%s", dir, chorus_format_extension(fmts[k]));
        CHECK_EQ_INT(write_file(e, fmts[k], path), CHORUS_OK);
        size_t n = 0;
        float *x = ff_decode(path, rate, &n);
        CHECK_MSG(x, "ffmpeg cannot decode %s", path);
        if (!x) continue;
        long lag = best_lag(ref, nref, x, n, 3000);
        /* the delay is documented at the format's own rate; compare in this rate */
        double want = chorus_format_decode_delay(fmts[k], rate, 1) * rate;
        CHECK_MSG(fabs((double)lag - want) <= 0.002 * rate, "%s: decoded %ld samples late, documented %.0f",
                  chorus_format_name(fmts[k]), lag, want);
        if (fmts[k] == CHORUS_FORMAT_MP3) /* gapless: exactly the samples the stream made */
            CHECK_MSG(n == produced, "mp3 file decodes to %zu samples, the stream made %zu", n, produced);
        free(x);
        unlink(path);
    }
    /* MP3 as a stream (HTTP, pipes): no Info frame, the documented delay */
    char spath[300];
    snprintf(spath, sizeof spath, "%s/stream.mp3", dir);
    FILE *f = fopen(spath, "wb");
    CHECK(f);
    struct chorus_request r = chorus_request_default();
    r.text = TEXT;
    r.backend = "espeak";
    r.format = CHORUS_FORMAT_MP3;
    r.callback = bytes_cb;
    r.userdata = f;
    r.flags = CHORUS_FLAG_NO_SAMPLES;
    struct chorus_stream *st = NULL;
    CHECK_EQ_INT(chorus_stream_open(e, &r, &st), CHORUS_OK);
    CHECK_EQ_INT(chorus_stream_run(st), CHORUS_OK);
    chorus_stream_destroy(st);
    fclose(f);
    size_t n = 0;
    float *x = ff_decode(spath, rate, &n);
    CHECK(x);
    if (x) {
        long lag = best_lag(ref, nref, x, n, 3000);
        double want = chorus_format_decode_delay(CHORUS_FORMAT_MP3, rate, 0) * rate;
        CHECK_MSG(fabs((double)lag - want) <= 0.002 * rate, "streamed mp3: %ld samples late, documented %.0f", lag, want);
    }
    free(x);
    unlink(spath);
    free(ref);
    unlink(wav);
    rmdir(dir);
    chorus_engine_destroy(e);
}

/* The Info frame: ffprobe reads the length from the tag (no estimate from the bitrate), and a
 * stream has none (clients concatenate streamed MP3). */
TEST(mp3_file_has_info_frame_stream_has_none) {
    struct chorus_engine *e = engine();
    CHECK(e);
    char dir[] = "/tmp/chorus-timing-XXXXXX";
    CHECK(mkdtemp(dir));
    char path[300], cmd[700], out[512] = "";
    snprintf(path, sizeof path, "%s/a.mp3", dir);
    CHECK_EQ_INT(write_file(e, CHORUS_FORMAT_MP3, path), CHORUS_OK);
    unsigned char head[2048];
    FILE *f = fopen(path, "rb");
    CHECK(f);
    size_t hn = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    /* the first frame is the tag: "Info" (CBR) at the side-info offset, with LAME's name */
    int info = 0;
    for (size_t i = 0; i + 4 <= hn && i < 64; i++) info |= !memcmp(head + i, "Info", 4) || !memcmp(head + i, "Xing", 4);
    CHECK_MSG(info, "no Info/Xing tag in the first frame");
    snprintf(cmd, sizeof cmd, "ffprobe -v warning -show_entries format=duration -of csv=p=0 '%s' 2>&1", path);
    FILE *p = popen(cmd, "r");
    CHECK(p);
    size_t on = p ? fread(out, 1, sizeof out - 1, p) : 0;
    if (p) pclose(p);
    out[on] = 0;
    CHECK_MSG(!strstr(out, "stimat"), "ffprobe estimates the duration: %s", out);
    unlink(path);
    rmdir(dir);
    chorus_engine_destroy(e);
}

int main(void) {
    RUN(formats_align_with_wav);
    RUN(mp3_file_has_info_frame_stream_has_none);
    return test_summary();
}
