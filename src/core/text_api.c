/* text_api.c — the public text-inspection calls, on the text stage (src/text). */
#include <stdlib.h>
#include <string.h>

#include "chorus/chorus.h"
#include "core/backend.h"
#include "core/engine.h"
#include "core/stream_internal.h"
#include "core/util.h"
#include "text/text.h"

void chorus_free(void *p) {
    free(p);
}

int chorus_normalize_text(const char *text, size_t len, const char *options, const char *lang,
                          char **out, size_t **offsets, char *errbuf, size_t errbuf_size) {
    if (!text || !out) return CHORUS_E_INVALID;
    *out = NULL;
    if (offsets) *offsets = NULL;
    if (!len) len = strlen(text);
    size_t bad;
    if (!chorus_utf8_valid(text, len, &bad)) {
        chorus_fmt(errbuf, errbuf_size, "text is not valid UTF-8 (first bad byte at offset %zu)", bad);
        return CHORUS_E_BAD_UTF8;
    }
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    if (options && chorus_norm_options_parse(&o, options, errbuf, errbuf_size) < 0)
        return CHORUS_E_OPTION;
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    if (chorus_text_normalize(&b, text, len, 0, lang, &o) < 0 || chorus_textbuf_reserve(&b, 1) < 0) {
        chorus_textbuf_free(&b);
        return CHORUS_E_NOMEM;
    }
    b.map[b.len] = len;
    *out = b.text ? b.text : strdup("");
    if (offsets) *offsets = b.map;
    else free(b.map);
    return *out ? CHORUS_OK : CHORUS_E_NOMEM;
}

const char *chorus_detect_language(const char *text, size_t len, double *confidence) {
    if (!text) return "und";
    return chorus_text_detect_language(text, len ? len : strlen(text), confidence);
}

int chorus_plan_text(const char *text, size_t len, enum chorus_input_kind kind, size_t max_chars,
                     int normalize, const char *options, chorus_segment_fn fn, void *userdata,
                     char *errbuf, size_t errbuf_size) {
    if (!text || !fn) return CHORUS_E_INVALID;
    if (!len) len = strlen(text);
    size_t bad;
    if (!chorus_utf8_valid(text, len, &bad)) {
        chorus_fmt(errbuf, errbuf_size, "text is not valid UTF-8 (first bad byte at offset %zu)", bad);
        return CHORUS_E_BAD_UTF8;
    }
    struct chorus_text_config tc = {0};
    tc.max_chars = max_chars;
    tc.normalize = normalize && kind == CHORUS_INPUT_TEXT;
    tc.paragraph_pause = -1;
    tc.normalize_options = options;
    struct chorus_textiter *it;
    int rc = chorus_textiter_create(&it, text, len, kind, &tc, errbuf, errbuf_size);
    if (rc) return rc < 0 ? rc : CHORUS_E_INVALID;
    struct chorus_textseg seg;
    unsigned i = 0;
    while ((rc = chorus_textiter_next(it, &seg)) > 0) {
        struct chorus_text_segment s = {i++, seg.text, seg.len, seg.src_offset, seg.src_len,
                                        seg.pause_before, seg.voice, seg.rate, seg.pitch,
                                        seg.volume, seg.is_ssml};
        if (fn(&s, userdata)) break;
    }
    if (rc < 0) chorus_fmt(errbuf, errbuf_size, "%s", chorus_textiter_errmsg(it));
    chorus_textiter_destroy(it);
    return rc < 0 ? rc : CHORUS_OK;
}

/* Phonemes of each segment the stream's text stage gives (normalized as a job's text is),
 * joined by spaces. */
static int phonemize_segments(struct chorus_stream *s, char **out, char *why, size_t whylen) {
    struct chorus_backend *b = s->backend;
    const struct chorus_backend_desc *d = b->desc;
    struct chorus_text_config tc = {0};
    tc.max_chars = d->max_input_chars;
    tc.normalize = !(s->flags & CHORUS_FLAG_NO_NORMALIZE);
    tc.paragraph_pause = -1;
    tc.language = s->language;
    tc.normalize_options = s->normalize_options;
    struct chorus_textiter *it;
    int rc = chorus_textiter_create(&it, s->text, s->text_len, CHORUS_INPUT_TEXT, &tc, why, whylen);
    if (rc) return rc < 0 ? rc : CHORUS_E_INVALID;
    char *acc = NULL;
    size_t alen = 0;
    struct chorus_textseg raw, seg;
    struct chorus_textbuf pb;
    chorus_textbuf_init(&pb);
    while ((rc = chorus_textiter_next(it, &raw)) > 0) {
        char *ph = NULL;
        /* the pronunciation dictionaries apply as they do to a job's text */
        if ((rc = chorus_stream_pronounce(s, &raw, &pb, &seg)) != CHORUS_OK) break;
        struct chorus_op op;
        chorus_op_begin(&op, why, whylen, NULL);
        rc = d->ops->phonemize(b, s->voice, s->language ? s->language : seg.language, seg.text,
                               seg.len, &ph);
        chorus_op_end(&op);
        if (rc != CHORUS_OK) break;
        size_t pl = ph ? strlen(ph) : 0;
        char *n = pl ? realloc(acc, alen + pl + 2) : acc;
        if (pl && !n) {
            free(ph);
            rc = CHORUS_E_NOMEM;
            break;
        }
        acc = n;
        if (pl) {
            if (alen) acc[alen++] = ' ';
            memcpy(acc + alen, ph, pl + 1);
            alen += pl;
        }
        free(ph);
    }
    if (rc < 0 && !why[0]) chorus_fmt(why, whylen, "%s", chorus_textiter_errmsg(it));
    chorus_textiter_destroy(it);
    chorus_textbuf_free(&pb);
    if (rc < 0) {
        free(acc);
        return rc;
    }
    *out = acc ? acc : strdup("");
    return *out ? CHORUS_OK : CHORUS_E_NOMEM;
}

int chorus_phonemize(struct chorus_engine *e, const char *backend, const char *voice,
                     const char *text, size_t len, char **out, char *errbuf, size_t errbuf_size) {
    return chorus_phonemize_lang(e, backend, voice, NULL, text, len, out, errbuf, errbuf_size);
}

int chorus_phonemize_lang(struct chorus_engine *e, const char *backend, const char *voice,
                          const char *language, const char *text, size_t len, char **out,
                          char *errbuf, size_t errbuf_size) {
    chorus_engine_clear_err(e);
    if (!e || !text || !out) {
        chorus_engine_set_err(e, "chorus_phonemize: no engine, text or output pointer given");
        chorus_fmt(errbuf, errbuf_size, "%s", chorus_engine_errmsg(e));
        return CHORUS_E_INVALID;
    }
    *out = NULL;
    /* a stream does the validation and voice resolution a real request would get; the
     * backend's probe is skipped (a G2P needs no model weights) */
    struct chorus_request r = chorus_request_default();
    r.backend = backend;
    r.voice = voice;
    r.language = language;
    r.text = text;
    r.text_len = len;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open_internal(e, &r, CHORUS_SFLAG_NO_PROBE, &s);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err(e, "%s", s ? chorus_stream_errmsg(s) : chorus_strerror(rc));
    } else if (!s->backend->desc->ops->phonemize) {
        chorus_engine_set_err(e, "backend %s has no phoneme notation to show", s->backend->name);
        rc = CHORUS_E_INVALID;
    } else {
        char why[1024] = "";
        rc = phonemize_segments(s, out, why, sizeof why);
        if (rc != CHORUS_OK)
            chorus_engine_set_err(e, "cannot phonemize with %s: %s", s->backend->name,
                                  why[0] ? why : chorus_strerror(rc));
    }
    if (rc != CHORUS_OK) chorus_fmt(errbuf, errbuf_size, "%s", chorus_engine_errmsg(e));
    chorus_stream_destroy(s);
    return rc;
}

int chorus_voice_export(struct chorus_engine *e, const char *backend, const char *voice,
                        void **data, size_t *len, char *errbuf, size_t errbuf_size) {
    chorus_engine_clear_err(e);
    if (!e || !data || !len) {
        chorus_engine_set_err(e, "chorus_voice_export: no engine or output pointer given");
        chorus_fmt(errbuf, errbuf_size, "%s", chorus_engine_errmsg(e));
        return CHORUS_E_INVALID;
    }
    *data = NULL;
    *len = 0;
    /* a stream resolves backend, aliases and voice as a request would; no probe: exporting
     * reads the voice files, not the model */
    struct chorus_request r = chorus_request_default();
    r.backend = backend;
    r.voice = voice;
    r.text = ".";
    r.text_len = 1;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open_internal(e, &r, CHORUS_SFLAG_NO_PROBE, &s);
    if (rc != CHORUS_OK) {
        chorus_engine_set_err(e, "%s", s ? chorus_stream_errmsg(s) : chorus_strerror(rc));
    } else if (!s->backend->desc->ops->export_voice) {
        chorus_engine_set_err(e, "backend %s has no voice files to export", s->backend->name);
        rc = CHORUS_E_INVALID;
    } else {
        char why[1024] = "";
        unsigned char *buf = NULL;
        struct chorus_op op;
        chorus_op_begin(&op, why, sizeof why, NULL);
        rc = s->backend->desc->ops->export_voice(s->backend, s->voice, &buf, len);
        chorus_op_end(&op);
        if (rc == CHORUS_OK) *data = buf;
        else
            chorus_engine_set_err(e, "cannot export voice %s of %s: %s", s->voice ? s->voice : "",
                                  s->backend->name, why[0] ? why : chorus_strerror(rc));
    }
    if (rc != CHORUS_OK) chorus_fmt(errbuf, errbuf_size, "%s", chorus_engine_errmsg(e));
    chorus_stream_destroy(s);
    return rc;
}
