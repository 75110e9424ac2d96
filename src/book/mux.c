/* mux.c — the final audiobook file from finished chapter files, without re-encoding (libavformat):
 * the chapters' AAC (ADTS) packets into MP4/M4B, or their MP3 frames into one MP3, on one running
 * sample clock, with a chapter entry per chapter at the exact sample its audio starts (measured
 * from the packets, so priming and padding frames count where they really are), tags (title,
 * author, album, genre) and the cover as an attached picture. Written to a temp file and renamed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/mem.h>

#include "book/book_internal.h"

static int av_fail(char *err, size_t cap, const char *what, const char *file, int averr) {
    char e[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, e, sizeof e);
    chorus_fmt(err, cap, "%s %s: %s", what, file, e);
    return CHORUS_E_IO;
}

static int open_in(const char *file, AVFormatContext **in, char *err, size_t cap) {
    *in = NULL;
    int r = avformat_open_input(in, file, NULL, NULL);
    if (r < 0) return av_fail(err, cap, "cannot open chapter audio", file, r);
    r = avformat_find_stream_info(*in, NULL);
    if (r < 0 || (*in)->nb_streams < 1 ||
        (*in)->streams[0]->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) {
        avformat_close_input(in);
        chorus_fmt(err, cap, "chapter audio %s has no audio stream", file);
        return CHORUS_E_IO;
    }
    return CHORUS_OK;
}

/* Samples in a packet: its duration in the stream's time base, else the codec's frame size. */
static int64_t packet_samples(const AVPacket *p, const AVStream *st) {
    int sr = st->codecpar->sample_rate;
    if (p->duration > 0)
        return av_rescale_q(p->duration, st->time_base, (AVRational){1, sr});
    return st->codecpar->frame_size > 0 ? st->codecpar->frame_size : 1152;
}

/* Pass 1: each chapter's length in samples (so the chapter table can precede the audio). */
static int measure(const struct book_mux_chapter *ch, size_t n, int64_t *samples, int *rate,
                   char *err, size_t cap) {
    AVPacket *p = av_packet_alloc();
    if (!p) return CHORUS_E_NOMEM;
    int rc = CHORUS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        AVFormatContext *in;
        rc = open_in(ch[i].file, &in, err, cap);
        if (rc) break;
        AVStream *st = in->streams[0];
        if (!*rate) *rate = st->codecpar->sample_rate;
        if (st->codecpar->sample_rate != *rate) {
            chorus_fmt(err, cap, "chapter audio %s is at %d Hz, the others at %d Hz", ch[i].file,
                       st->codecpar->sample_rate, *rate);
            rc = CHORUS_E_FORMAT;
        }
        samples[i] = 0;
        while (!rc && av_read_frame(in, p) >= 0) {
            if (p->stream_index == 0) samples[i] += packet_samples(p, st);
            av_packet_unref(p);
        }
        avformat_close_input(&in);
    }
    av_packet_free(&p);
    return rc;
}

static int add_chapters(AVFormatContext *oc, const struct book_mux_chapter *ch, size_t n,
                        const int64_t *samples, int rate) {
    oc->chapters = av_calloc(n, sizeof *oc->chapters);
    if (!oc->chapters) return CHORUS_E_NOMEM;
    int64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        AVChapter *c = av_mallocz(sizeof *c);
        if (!c) return CHORUS_E_NOMEM;
        oc->chapters[oc->nb_chapters++] = c;
        c->id = (int64_t)i + 1;
        c->time_base = (AVRational){1, rate};
        c->start = at;
        at += samples[i];
        c->end = at;
        av_dict_set(&c->metadata, "title", ch[i].title, 0);
    }
    return CHORUS_OK;
}

static void set_tags(AVFormatContext *oc, const struct book_mux_meta *m) {
    if (m->title && *m->title) {
        av_dict_set(&oc->metadata, "title", m->title, 0);
        av_dict_set(&oc->metadata, "album", m->title, 0);
    }
    if (m->author && *m->author) {
        av_dict_set(&oc->metadata, "artist", m->author, 0);
        av_dict_set(&oc->metadata, "album_artist", m->author, 0);
    }
    av_dict_set(&oc->metadata, "genre", "Audiobook", 0);
    av_dict_set(&oc->metadata, "encoder", "chorus", 0);
}

/* Width and height from a PNG's IHDR or a JPEG's SOF marker (muxers want them for covers). */
static int image_size(const unsigned char *d, size_t n, int *w, int *h) {
    if (n >= 24 && !memcmp(d, "\x89PNG", 4)) {
        *w = (int)((unsigned)d[16] << 24 | (unsigned)d[17] << 16 | d[18] << 8 | d[19]);
        *h = (int)((unsigned)d[20] << 24 | (unsigned)d[21] << 16 | d[22] << 8 | d[23]);
        return *w > 0 && *h > 0;
    }
    for (size_t i = 2; n >= 4 && i + 9 < n;) { /* JPEG: walk the marker segments */
        if (d[i] != 0xFF) return 0;
        unsigned m = d[i + 1], len = (unsigned)d[i + 2] << 8 | d[i + 3];
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            *h = d[i + 5] << 8 | d[i + 6];
            *w = d[i + 7] << 8 | d[i + 8];
            return *w > 0 && *h > 0;
        }
        i += 2 + len;
    }
    return 0;
}

static AVStream *add_cover(AVFormatContext *oc, const struct book_mux_meta *m) {
    if (!m->cover || !m->cover_len || !m->cover_mime) return NULL;
    enum AVCodecID id = !strcmp(m->cover_mime, "image/jpeg") ? AV_CODEC_ID_MJPEG
                        : !strcmp(m->cover_mime, "image/png") ? AV_CODEC_ID_PNG
                                                               : AV_CODEC_ID_NONE;
    int w = 0, h = 0;
    if (id == AV_CODEC_ID_NONE || !image_size(m->cover, m->cover_len, &w, &h)) return NULL;
    AVStream *st = avformat_new_stream(oc, NULL);
    if (!st) return NULL;
    st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    st->codecpar->codec_id = id;
    st->codecpar->width = w;
    st->codecpar->height = h;
    st->disposition = AV_DISPOSITION_ATTACHED_PIC;
    st->time_base = (AVRational){1, 90000};
    return st;
}

static int write_cover(AVFormatContext *oc, AVStream *st, const struct book_mux_meta *m) {
    AVPacket *p = av_packet_alloc();
    if (!p) return CHORUS_E_NOMEM;
    int r = av_new_packet(p, (int)m->cover_len);
    if (r >= 0) {
        memcpy(p->data, m->cover, m->cover_len);
        p->stream_index = st->index;
        p->flags |= AV_PKT_FLAG_KEY;
        p->pts = p->dts = 0;
        r = av_interleaved_write_frame(oc, p);
    }
    av_packet_free(&p);
    return r < 0 ? CHORUS_E_IO : CHORUS_OK;
}

/* Pass 2: every chapter's packets, restamped on one sample clock. */
static int copy_audio(AVFormatContext *oc, AVStream *ost, const struct book_mux_chapter *ch,
                      size_t n, int rate, char *err, size_t cap) {
    AVPacket *p = av_packet_alloc();
    if (!p) return CHORUS_E_NOMEM;
    int64_t clock = 0;
    int rc = CHORUS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        AVFormatContext *in;
        rc = open_in(ch[i].file, &in, err, cap);
        if (rc) break;
        AVStream *ist = in->streams[0];
        int r;
        while (!rc && (r = av_read_frame(in, p)) >= 0) {
            if (p->stream_index != 0) {
                av_packet_unref(p);
                continue;
            }
            int64_t ns = packet_samples(p, ist);
            p->stream_index = ost->index;
            p->pts = p->dts = av_rescale_q(clock, (AVRational){1, rate}, ost->time_base);
            p->duration = av_rescale_q(ns, (AVRational){1, rate}, ost->time_base);
            p->pos = -1;
            clock += ns;
            r = av_interleaved_write_frame(oc, p);
            if (r < 0) rc = av_fail(err, cap, "cannot write", oc->url, r);
        }
        avformat_close_input(&in);
    }
    av_packet_free(&p);
    return rc;
}

static int mux_to(const char *tmp, const char *out_path, const struct book_mux_chapter *ch,
                  size_t n, const struct book_mux_meta *meta, const int64_t *samples, int rate,
                  char *err, size_t cap) {
    AVFormatContext *oc = NULL, *first = NULL;
    const AVOutputFormat *fmt = av_guess_format(NULL, out_path, NULL);
    int r = fmt ? avformat_alloc_output_context2(&oc, fmt, NULL, tmp) : -1;
    if (r < 0 || !oc) {
        chorus_fmt(err, cap, "no muxer for %s: use .m4b, .m4a or .mp3", out_path);
        return CHORUS_E_FORMAT;
    }
    int rc = open_in(ch[0].file, &first, err, cap);
    AVStream *ost = rc ? NULL : avformat_new_stream(oc, NULL);
    if (!rc && !ost) rc = CHORUS_E_NOMEM;
    if (!rc) {
        avcodec_parameters_copy(ost->codecpar, first->streams[0]->codecpar);
        ost->codecpar->codec_tag = 0;
        ost->time_base = (AVRational){1, rate};
    }
    avformat_close_input(&first);
    AVStream *cover = rc ? NULL : add_cover(oc, meta);
    if (!rc) rc = add_chapters(oc, ch, n, samples, rate);
    if (!rc) set_tags(oc, meta);
    if (!rc && (r = avio_open(&oc->pb, tmp, AVIO_FLAG_WRITE)) < 0)
        rc = av_fail(err, cap, "cannot create", tmp, r);
    if (!rc && (r = avformat_write_header(oc, NULL)) < 0)
        rc = av_fail(err, cap, "cannot start", out_path, r);
    if (!rc && cover) rc = write_cover(oc, cover, meta);
    if (!rc) rc = copy_audio(oc, ost, ch, n, rate, err, cap);
    if (!rc && (r = av_write_trailer(oc)) < 0) rc = av_fail(err, cap, "cannot finish", out_path, r);
    if (oc->pb) avio_closep(&oc->pb);
    avformat_free_context(oc);
    return rc;
}

/* The muxer needs a seekable file of its own. For a regular target (or a symlink, followed) that
 * is a new file beside it, renamed over it at the end; for a device or FIFO (/dev/stdout,
 * /dev/null) a temp file in $TMPDIR whose bytes are then written into the target in place, so
 * nothing that is not a regular file is ever replaced (chorus_output_open). */
struct mux_out {
    int fd;       /* the target opened in place, or -1 */
    char *target; /* the file renamed over (NULL in place) */
    char *tmp;    /* where the muxer writes */
};

static int out_begin(struct mux_out *o, const char *out_path, char *err, size_t errcap) {
    o->tmp = o->target = NULL;
    int fd = chorus_output_open(out_path, ".tmp", &o->target, &o->tmp);
    if (fd < 0) {
        chorus_fmt(err, errcap, "cannot write to %s: %s%s", out_path, strerror(errno),
                   errno == ENOENT ? " (does its directory exist?)" : "");
        return errno == ENOMEM ? CHORUS_E_NOMEM : CHORUS_E_IO;
    }
    if (o->tmp) { /* a regular file: the muxer reopens the temp by name */
        close(fd);
        o->fd = -1;
        return CHORUS_OK;
    }
    o->fd = fd;
    const char *dir = getenv("TMPDIR");
    size_t cap = strlen(dir && *dir ? dir : "/tmp") + 32;
    int t = -1;
    if ((o->tmp = malloc(cap))) {
        snprintf(o->tmp, cap, "%s/chorus-book-XXXXXX", dir && *dir ? dir : "/tmp");
        t = mkstemp(o->tmp);
    }
    if (t < 0) {
        int nomem = !o->tmp;
        chorus_fmt(err, errcap, "cannot create a temporary file for %s: %s", out_path,
                   nomem ? "out of memory" : strerror(errno));
        close(fd);
        free(o->tmp);
        o->tmp = NULL;
        return nomem ? CHORUS_E_NOMEM : CHORUS_E_IO;
    }
    close(t);
    return CHORUS_OK;
}

static int copy_into(int fd, const char *from) {
    FILE *f = fopen(from, "rb");
    char buf[65536];
    size_t n;
    int ok = f != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t w = 0; ok && w < n;) {
            ssize_t k = write(fd, buf + w, n - w);
            if (k < 0 && errno == EINTR) continue;
            ok = k > 0;
            w += k > 0 ? (size_t)k : 0;
        }
    if (f && ferror(f)) ok = 0;
    if (f) fclose(f);
    return ok ? 0 : -1;
}

/* Commit (rc 0) or discard what the muxer wrote; frees o. */
static int out_end(struct mux_out *o, int rc, const char *out_path, char *err, size_t errcap) {
    if (!rc && o->fd >= 0 && copy_into(o->fd, o->tmp) != 0) {
        chorus_fmt(err, errcap, "cannot write to %s: %s", out_path, strerror(errno));
        rc = CHORUS_E_IO;
    } else if (!rc && o->fd < 0 && rename(o->tmp, o->target) != 0) {
        chorus_fmt(err, errcap, "cannot rename %s to %s: %s", o->tmp, o->target, strerror(errno));
        rc = CHORUS_E_IO;
    }
    if (o->tmp && (rc || o->fd >= 0)) unlink(o->tmp);
    if (o->fd >= 0) close(o->fd);
    free(o->tmp);
    free(o->target);
    return rc;
}

int chorus_book_mux(const char *out_path, const struct book_mux_chapter *ch, size_t n,
             const struct book_mux_meta *meta, double *durations, char *err, size_t errcap) {
    if (!n) {
        chorus_fmt(err, errcap, "no chapters to join");
        return CHORUS_E_INVALID;
    }
    av_log_set_level(AV_LOG_QUIET);
    int64_t *samples = calloc(n, sizeof *samples);
    if (!samples) return CHORUS_E_NOMEM;
    int rate = 0;
    int rc = measure(ch, n, samples, &rate, err, errcap);
    struct mux_out o = {-1, NULL, NULL};
    if (!rc && !(rc = out_begin(&o, out_path, err, errcap))) {
        rc = mux_to(o.tmp, out_path, ch, n, meta, samples, rate, err, errcap);
        rc = out_end(&o, rc, out_path, err, errcap);
    }
    for (size_t i = 0; !rc && durations && i < n; i++) durations[i] = (double)samples[i] / rate;
    free(samples);
    return rc;
}
