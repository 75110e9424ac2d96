/* subtitles.c — SubRip and WebVTT from word timings, one cue per word or per sentence (a cue
 * also ends before it grows past ~7 s or 84 characters, or across a pause of over a second, so
 * read-along text stays on screen in readable pieces). Written to a temp file renamed into place
 * (chorus_output_open: a device or FIFO in place, a symlink's target replaced). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "book/book_internal.h"

#define CUE_MAX_SECONDS 7.0
#define CUE_MAX_CHARS 84
#define CUE_GAP 1.0

struct sub_writer {
    FILE *f;
    char *path, *tmp;
    int vtt, per_word;
    size_t n_cues;
    struct chorus_buf text; /* the pending cue */
    double start, end;
    int open; /* a cue is pending */
    int err;
};

int chorus_sub_open(struct sub_writer **out, const char *path, const char *kind, int per_word,
             char *err, size_t errcap) {
    *out = NULL;
    int vtt = kind && strcmp(kind, "vtt") == 0;
    if (!kind || (!vtt && strcmp(kind, "srt") != 0)) {
        chorus_fmt(err, errcap, "unknown subtitle format '%s': use srt or vtt", kind ? kind : "");
        return CHORUS_E_INVALID;
    }
    struct sub_writer *w = calloc(1, sizeof *w);
    if (!w) return CHORUS_E_NOMEM;
    w->vtt = vtt;
    w->per_word = per_word;
    /* a device or FIFO is written in place; a symlink keeps pointing at the file written */
    int fd = chorus_output_open(path, ".tmp", &w->path, &w->tmp);
    w->f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!w->f) {
        int e = errno;
        if (fd >= 0) close(fd);
        if (w->tmp) unlink(w->tmp);
        chorus_fmt(err, errcap, "cannot write %s: %s", path, strerror(e));
        free(w->tmp);
        free(w->path);
        free(w);
        return e == ENOMEM ? CHORUS_E_NOMEM : CHORUS_E_IO;
    }
    if (vtt) fputs("WEBVTT\n\n", w->f);
    *out = w;
    return CHORUS_OK;
}

static void stamp(FILE *f, double t, int vtt) {
    if (t < 0) t = 0;
    long long ms = (long long)(t * 1000.0 + 0.5);
    fprintf(f, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
            vtt ? '.' : ',', ms % 1000);
}

static void flush_cue(struct sub_writer *w) {
    if (!w->open) return;
    w->n_cues++;
    if (!w->vtt) fprintf(w->f, "%zu\n", w->n_cues);
    stamp(w->f, w->start, w->vtt);
    fputs(" --> ", w->f);
    stamp(w->f, w->end > w->start ? w->end : w->start + 0.05, w->vtt);
    fputc('\n', w->f);
    fwrite(w->text.p, 1, w->text.len, w->f);
    fputs("\n\n", w->f);
    w->text.len = 0;
    w->open = 0;
}

/* Append cue text, escaping what WebVTT reads as markup and folding newlines. */
static int add_text(struct sub_writer *w, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        char c = s[i];
        if (c == '\n' || c == '\r' || c == '\t') rep = " ";
        else if (w->vtt && c == '<') rep = "&lt;";
        else if (w->vtt && c == '&') rep = "&amp;";
        if (chorus_buf_append(&w->text, rep ? rep : &c, rep ? strlen(rep) : 1))
            return CHORUS_E_NOMEM;
    }
    return CHORUS_OK;
}

int chorus_sub_add(struct sub_writer *w, const struct sub_word *word, double offset) {
    if (w->err) return w->err;
    double s = word->start + offset, e = word->end + offset;
    if (w->open && (w->per_word || s - w->end > CUE_GAP || e - w->start > CUE_MAX_SECONDS ||
                    w->text.len + word->len + 1 > CUE_MAX_CHARS))
        flush_cue(w);
    if (!w->open) {
        w->open = 1;
        w->start = s;
    } else if (chorus_buf_append(&w->text, " ", 1)) {
        return w->err = CHORUS_E_NOMEM;
    }
    if (add_text(w, word->text, word->len)) return w->err = CHORUS_E_NOMEM;
    w->end = e > w->end ? e : w->end;
    if (word->sentence_end) flush_cue(w);
    return CHORUS_OK;
}

void chorus_sub_break(struct sub_writer *w) { flush_cue(w); }

int chorus_sub_close(struct sub_writer *w, int commit, char *err, size_t errcap) {
    if (!w) return CHORUS_OK;
    int rc = w->err;
    if (commit && !rc) flush_cue(w);
    if (fflush(w->f) != 0 || ferror(w->f)) rc = rc ? rc : CHORUS_E_IO;
    if (fclose(w->f) != 0 && !rc) rc = CHORUS_E_IO;
    if (commit && !rc && w->tmp && rename(w->tmp, w->path) != 0) rc = CHORUS_E_IO;
    if (rc == CHORUS_E_IO)
        chorus_fmt(err, errcap, "cannot write %s: %s", w->path ? w->path : "the subtitles",
                   strerror(errno));
    if ((!commit || rc) && w->tmp) unlink(w->tmp);
    chorus_buf_release(&w->text);
    free(w->tmp);
    free(w->path);
    free(w);
    return rc;
}

int chorus_sub_sentence_end(const char *after, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = after[i];
        if (c == '.' || c == '!' || c == '?' || c == '\n' || c == ';' || c == ':') return 1;
    }
    return 0;
}

void chorus_sub_span(const char *text, size_t lo, size_t hi, size_t *s, size_t *e) {
    while (*s > lo && !isspace((unsigned char)text[*s - 1])) (*s)--;
    while (*e < hi && !isspace((unsigned char)text[*e])) (*e)++;
}

int chorus_subtitles_write(const char *path, const char *kind, const char *text,
                           const struct chorus_word *words, size_t n, int per_word,
                           char *errbuf, size_t errbuf_size) {
    if (!path || !text || (n && !words)) {
        chorus_fmt(errbuf, errbuf_size, "no subtitle path, text or words given");
        return CHORUS_E_INVALID;
    }
    size_t tlen = strlen(text);
    struct sub_writer *w;
    int rc = chorus_sub_open(&w, path, kind, per_word, errbuf, errbuf_size);
    size_t prev_end = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const struct chorus_word *cw = &words[i];
        if (cw->text_offset > tlen || cw->text_len > tlen - cw->text_offset) continue;
        size_t beg = cw->text_offset, end = beg + cw->text_len;
        size_t next = i + 1 < n && words[i + 1].text_offset >= end ? words[i + 1].text_offset
                                                                  : tlen;
        if (next > tlen) next = tlen;
        int se = chorus_sub_sentence_end(text + end, next - end);
        chorus_sub_span(text, prev_end, next, &beg, &end);
        prev_end = end;
        struct sub_word sw = {.start = cw->start, .end = cw->end, .text = text + beg,
                              .len = end - beg, .sentence_end = se};
        rc = chorus_sub_add(w, &sw, 0);
    }
    if (w) {
        int rc2 = chorus_sub_close(w, !rc, errbuf, errbuf_size);
        rc = rc ? rc : rc2;
    }
    return rc;
}
