/*
 * textiter.c — the segment iterator: input text (or SSML) -> segments a backend speaks.
 *
 * Plain text is read lazily: each call looks at most one window (the current size limit plus a
 * small look-ahead) past the read position, normalizes only the chunk it cuts there, and hands
 * it out. Memory is the two small buffers below, whatever the input's length.
 */
#include "text/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_FIRST 100
#define DEFAULT_TARGET 400
#define DEFAULT_PARAGRAPH_PAUSE 0.5
#define LOOKAHEAD 64
#define LANG_MIN_CONFIDENCE 0.5
#define LANG_SCAN 2048 /* bytes of plain text read to guess its language (time to first audio) */

struct chorus_textiter {
    const char *in;
    size_t len;
    enum chorus_input_kind kind;
    char *language;
    struct chorus_norm_options nopt;
    int passthrough; /* native SSML: the document is one segment */
    size_t first, target, max;
    int first_clause;
    double ppause;

    size_t pos;  /* plain text: next input byte to read */
    size_t nseg; /* segments handed out */
    int done;

    struct chorus_textbuf cur; /* normalized text of the current chunk */
    size_t cur_pos;            /* bytes of cur already handed out */
    size_t cur_end;            /* input offset just past cur's source */

    double pend_pause; /* attributes for the next segment handed out */
    int pend_para;

    struct chorus_textbuf seg; /* the segment handed out last */

    /* SSML */
    struct chorus_ssml_doc *doc;
    size_t run; /* next run of doc to load */
    const struct chorus_ssml_run *cur_run;
    int run_first;

    char err[512];
};

const char *chorus_textiter_errmsg(const struct chorus_textiter *it) {
    return it ? it->err : "no iterator";
}

size_t chorus_textiter_mem(const struct chorus_textiter *it, size_t *peak) {
    size_t per = sizeof(char) + sizeof(size_t);
    size_t now = sizeof *it + (it->cur.cap + it->seg.cap) * per;
    if (peak) *peak = sizeof *it + (it->cur.peak + it->seg.peak) * per;
    return now;
}

void chorus_textiter_destroy(struct chorus_textiter *it) {
    if (!it) return;
    chorus_textbuf_free(&it->cur);
    chorus_textbuf_free(&it->seg);
    chorus_ssml_doc_free(it->doc);
    free(it->language);
    free(it);
}

int chorus_textiter_create(struct chorus_textiter **out, const char *input, size_t len,
                           enum chorus_input_kind kind, const struct chorus_text_config *cfg,
                           char *err, size_t errlen) {
    static const struct chorus_text_config defcfg = {0, 0, 0, 0, 1, 0, -1.0, NULL, NULL};
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (errlen) err[0] = '\0';
    *out = NULL;
    if (!cfg) cfg = &defcfg;
    if (!input && len) {
        snprintf(err, errlen, "no input text (NULL pointer with length %zu)", len);
        return CHORUS_E_INVALID;
    }
    if (kind != CHORUS_INPUT_TEXT && kind != CHORUS_INPUT_SSML) {
        snprintf(err, errlen, "the text stage takes plain text or SSML, not input kind %d",
                 (int)kind);
        return CHORUS_E_INVALID;
    }
    size_t bad;
    if (!chorus_utf8_valid(input, len, &bad)) {
        snprintf(err, errlen,
                 "input is not valid UTF-8: bad byte 0x%02x at offset %zu; convert it to UTF-8 "
                 "(e.g. iconv -t UTF-8)",
                 (unsigned char)input[bad], bad);
        return CHORUS_E_BAD_UTF8;
    }
    const char *nul = len ? memchr(input, 0, len) : NULL;
    if (nul) {
        /* engines read text up to a NUL: the rest would be dropped without a word */
        snprintf(err, errlen, "input holds a NUL byte at offset %zu; remove it (text cannot contain NUL)",
                 (size_t)(nul - input));
        return CHORUS_E_BAD_UTF8;
    }
    if (kind == CHORUS_INPUT_TEXT && chorus_text_is_blank(input, len)) {
        snprintf(err, errlen, len ? "input holds only white space: nothing to speak"
                                  : "input is empty: nothing to speak");
        return CHORUS_E_EMPTY_TEXT;
    }
    struct chorus_textiter *it = calloc(1, sizeof *it);
    if (!it) {
        snprintf(err, errlen, "out of memory creating the text iterator");
        return CHORUS_E_NOMEM;
    }
    it->in = input ? input : "";
    it->len = len;
    it->kind = kind;
    chorus_norm_options_default(&it->nopt);
    if (chorus_norm_options_parse(&it->nopt, cfg->normalize_options, err, errlen) < 0) {
        chorus_textiter_destroy(it);
        return CHORUS_E_OPTION;
    }
    if (!cfg->normalize) it->nopt.normalize = 0;
    if (cfg->language && !(it->language = strdup(cfg->language))) {
        chorus_textiter_destroy(it);
        snprintf(err, errlen, "out of memory creating the text iterator");
        return CHORUS_E_NOMEM;
    }
    if (!cfg->language && kind == CHORUS_INPUT_TEXT) {
        /* no language given: detect it from the head of the text, so French is not read with
         * English number words; only a confident non-English answer changes anything */
        double conf = 0;
        const char *l = chorus_text_detect_language(input, len < LANG_SCAN ? len : LANG_SCAN,
                                                    &conf);
        if (strcmp(l, "und") != 0 && strcmp(l, "en") != 0 && conf >= LANG_MIN_CONFIDENCE &&
            !(it->language = strdup(l))) {
            chorus_textiter_destroy(it);
            snprintf(err, errlen, "out of memory creating the text iterator");
            return CHORUS_E_NOMEM;
        }
    }
    it->max = cfg->max_chars;
    it->target = cfg->target_chars ? cfg->target_chars : (it->max ? it->max : DEFAULT_TARGET);
    if (it->max && it->target > it->max) it->target = it->max;
    it->first = cfg->first_chars ? cfg->first_chars : DEFAULT_FIRST;
    if (it->first > it->target) it->first = it->target;
    it->first_clause = cfg->first_clause;
    it->ppause = cfg->paragraph_pause >= 0 ? cfg->paragraph_pause : DEFAULT_PARAGRAPH_PAUSE;
    chorus_textbuf_init(&it->cur);
    chorus_textbuf_init(&it->seg);

    if (kind == CHORUS_INPUT_SSML) {
        int rc = chorus_ssml_parse(&it->doc, input, len, err, errlen);
        if (rc != CHORUS_OK) {
            chorus_textiter_destroy(it);
            return rc;
        }
        if (!cfg->ssml_native && chorus_ssml_doc_is_blank(it->doc)) {
            snprintf(err, errlen, "the SSML document has no text to speak");
            chorus_textiter_destroy(it);
            return CHORUS_E_EMPTY_TEXT;
        }
        if (cfg->ssml_native) {
            /* pass through as one segment; the parse above validated it */
            chorus_ssml_doc_free(it->doc);
            it->doc = NULL;
            it->kind = CHORUS_INPUT_SSML;
            it->passthrough = 1;
        }
    }
    *out = it;
    return CHORUS_OK;
}

/* The size limit for the next segment: first, then doubling toward target. */
static size_t next_limit(const struct chorus_textiter *it) {
    size_t lim = it->first;
    for (size_t i = 0; i < it->nseg && lim < it->target; i++) lim *= 2;
    if (lim > it->target) lim = it->target;
    if (it->max && lim > it->max) lim = it->max;
    return lim ? lim : 1;
}

static void trim_trailing_space(struct chorus_textbuf *b) {
    while (b->len > 0 && b->text[b->len - 1] == ' ') b->len--;
    if (b->text) b->text[b->len] = '\0';
}

/* Read the next chunk of plain text into cur. 1: loaded, 0: input done, <0 error. */
static int plain_fill(struct chorus_textiter *it) {
    const char *in = it->in;
    size_t newlines = 0;
    while (it->pos < it->len) {
        size_t k = chorus_text_space_len(in + it->pos, it->len - it->pos);
        if (!k) break;
        char c = in[it->pos];
        if (c == '\n' || (c == '\r' && (it->pos + 1 >= it->len || in[it->pos + 1] != '\n')))
            newlines++;
        else if (k == 3 && memcmp(in + it->pos, "\xE2\x80\xA9", 3) == 0)
            newlines += 2; /* U+2029 PARAGRAPH SEPARATOR */
        it->pos += k;
    }
    if (it->pos >= it->len) return 0;
    if (it->nseg == 0 || newlines >= 2) {
        if (it->nseg > 0 && it->pend_para == 0) it->pend_pause += it->ppause;
        it->pend_para = 1;
    }
    size_t lim = next_limit(it);
    size_t n = it->len - it->pos;
    if (n > lim + LOOKAHEAD) n = lim + LOOKAHEAD;
    /* a blank line (or U+2029) inside the window ends the paragraph there */
    const char *s = in + it->pos;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' || s[i] == '\r') {
            size_t j = i + 1;
            if (s[i] == '\r' && j < n && s[j] == '\n') j++;
            while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
            if (j < n && (s[j] == '\n' || s[j] == '\r')) {
                n = i;
                break;
            }
        } else if ((unsigned char)s[i] == 0xE2 && i + 2 < n && s[i + 1] == '\x80' &&
                   s[i + 2] == '\xA9') {
            n = i;
            break;
        }
    }
    size_t c = chorus_text_chunk_end(s, n, lim);
    if (it->nseg == 0 && it->first_clause) {
        size_t f = chorus_text_first_clause_end(s, n, CHORUS_TEXT_FIRST_MIN, lim);
        if (f && f < c) c = f;
    }
    chorus_textbuf_clear(&it->cur);
    if (chorus_text_normalize(&it->cur, s, c, it->pos, it->language, &it->nopt) < 0) {
        snprintf(it->err, sizeof it->err, "out of memory normalizing text at offset %zu",
                 it->pos);
        return CHORUS_E_NOMEM;
    }
    trim_trailing_space(&it->cur);
    it->cur_pos = 0;
    it->pos += c;
    it->cur_end = it->pos;
    return 1;
}

/* Load the next SSML run into cur. 1: loaded, 0: document done, <0 error. */
static int ssml_fill(struct chorus_textiter *it) {
    const struct chorus_ssml_run *r;
    for (;;) {
        r = chorus_ssml_doc_run(it->doc, it->run);
        if (!r) {
            if (it->pend_pause > 0 && it->nseg > 0) {
                /* a trailing <break>: an empty segment that carries the pause */
                chorus_textbuf_clear(&it->cur);
                it->cur_pos = 0;
                it->cur_end = it->len;
                it->cur_run = NULL;
                return 2;
            }
            return 0;
        }
        it->run++;
        it->pend_pause += r->pause_before;
        if (r->paragraph_start) it->pend_para = 1;
        if (r->n_marks || r->len) break;
        /* a run with nothing but a pause: carry the pause to the next one */
    }
    it->cur_run = r;
    it->run_first = 1;
    chorus_textbuf_clear(&it->cur);
    int rc = 0;
    /* say-as and sub are already words; normalizing them again leaves them as they are */
    rc = chorus_text_normalize(&it->cur, r->text, r->len, 0,
                               r->language ? r->language : it->language, &it->nopt);
    if (rc < 0) {
        snprintf(it->err, sizeof it->err, "out of memory normalizing SSML text");
        return CHORUS_E_NOMEM;
    }
    /* compose: cur.map holds offsets into the run's text; turn them into document offsets */
    for (size_t i = 0; i < it->cur.len; i++) it->cur.map[i] = r->map[it->cur.map[i]];
    trim_trailing_space(&it->cur);
    it->cur_pos = 0;
    it->cur_end = r->map[r->len];
    if (it->cur.len == 0 && r->n_marks) return 2; /* an empty segment */
    return 1;
}

static int emit(struct chorus_textiter *it, struct chorus_textseg *seg, int allow_empty) {
    struct chorus_textbuf *c = &it->cur;
    while (it->cur_pos < c->len && c->text[it->cur_pos] == ' ') it->cur_pos++;
    size_t rem = c->len - it->cur_pos;
    size_t limit = it->kind == CHORUS_INPUT_SSML ? next_limit(it) : (it->max ? it->max : rem);
    size_t pl = rem <= limit ? rem : chorus_text_chunk_end(c->text + it->cur_pos, rem, limit);
    size_t endpos = it->cur_pos + pl;
    size_t src_end = endpos < c->len ? c->map[endpos] : it->cur_end;
    while (pl > 0 && c->text[it->cur_pos + pl - 1] == ' ') pl--;
    if (pl == 0 && !allow_empty) {
        it->cur_pos = endpos;
        return 0;
    }
    chorus_textbuf_clear(&it->seg);
    if (chorus_textbuf_reserve(&it->seg, pl) < 0) {
        snprintf(it->err, sizeof it->err, "out of memory building a text segment");
        return CHORUS_E_NOMEM;
    }
    memcpy(it->seg.text, c->text + it->cur_pos, pl);
    memcpy(it->seg.map, c->map + it->cur_pos, pl * sizeof(size_t));
    it->seg.len = pl;
    it->seg.text[pl] = '\0';
    size_t start = pl ? it->seg.map[0] : src_end;
    /* the span ends at the last spoken byte, not on the white space after it */
    while (src_end > start && src_end <= it->len &&
           (it->in[src_end - 1] == ' ' || (it->in[src_end - 1] >= '\t' && it->in[src_end - 1] <= '\r')))
        src_end--;
    if (src_end < start) src_end = start;
    it->seg.map[pl] = src_end;
    it->cur_pos = endpos;

    memset(seg, 0, sizeof *seg);
    seg->text = it->seg.text;
    seg->len = pl;
    seg->map = it->seg.map;
    seg->src_offset = start;
    seg->src_len = src_end - start;
    seg->pause_before = it->pend_pause;
    seg->paragraph_start = it->pend_para;
    seg->rate = seg->pitch = seg->volume = 1.0f;
    seg->language = it->language;
    const struct chorus_ssml_run *r = it->kind == CHORUS_INPUT_SSML ? it->cur_run : NULL;
    if (r) {
        /* every piece of a run keeps its voice and prosody; marks go with the run's first
         * piece only */
        seg->voice = r->voice;
        seg->rate = r->rate;
        seg->pitch = r->pitch;
        seg->volume = r->volume;
        seg->language = r->language;
        seg->spans = chorus_ssml_doc_spans(it->doc, &seg->n_spans);
        if (it->run_first) {
            seg->marks = (const char *const *)r->marks;
            seg->n_marks = r->n_marks;
        }
    }
    it->run_first = 0;
    seg->index = it->nseg++;
    it->pend_pause = 0;
    it->pend_para = 0;
    return 1;
}

int chorus_textiter_next(struct chorus_textiter *it, struct chorus_textseg *seg) {
    if (!it || !seg) return CHORUS_E_INVALID;
    if (it->done) return 0;
    if (it->passthrough) {
        /* native SSML: the whole document, once */
        it->done = 1;
        chorus_textbuf_clear(&it->seg);
        if (chorus_textbuf_copy(&it->seg, it->in, it->len, 0) < 0) {
            snprintf(it->err, sizeof it->err, "out of memory copying the SSML document");
            return CHORUS_E_NOMEM;
        }
        if (chorus_textbuf_reserve(&it->seg, 0) < 0) return CHORUS_E_NOMEM;
        it->seg.map[it->len] = it->len;
        memset(seg, 0, sizeof *seg);
        seg->text = it->seg.text;
        seg->len = it->len;
        seg->map = it->seg.map;
        seg->src_len = it->len;
        seg->rate = seg->pitch = seg->volume = 1.0f;
        seg->is_ssml = 1;
        seg->paragraph_start = 1;
        seg->index = it->nseg++;
        return 1;
    }
    for (;;) {
        if (it->cur_pos < it->cur.len) {
            int rc = emit(it, seg, 0);
            if (rc != 0) return rc;
            continue;
        }
        int rc = it->kind == CHORUS_INPUT_SSML ? ssml_fill(it) : plain_fill(it);
        if (rc < 0) return rc;
        if (rc == 0) {
            it->done = 1;
            return 0;
        }
        if (rc == 2) return emit(it, seg, 1);
    }
}
