/*
 * words.c — word timestamps from libespeak-ng's word events.
 *
 * espeak-ng reports a WORD event where it starts speaking a word, with the word's position in
 * the text. Its spans are its own words, not the writer's: it joins function words to the next
 * one ("of the", "has been" get one event), cuts at apostrophes and hyphens ("don't" -> "don",
 * "3rd-year" -> "3rd"), and it has no event for where a word's sound ends. So, for plain text:
 *  - the written words are the job text's white-space separated tokens, less the punctuation
 *    around them (quotes, brackets, stops; a currency sign or % stays) ("O'Brien", "don't", "3rd-year" stay whole; a token of punctuation alone is no
 *    word);
 *  - each event starts the token it falls in; tokens no event starts share their predecessor's
 *    time, split in proportion to their length;
 *  - a word (or such a group) ends where its sound ends: the last sample at or above -50 dBFS
 *    before the next event, so a pause after it (a sentence end, a <break>) is not part of it.
 * Phoneme and SSML input keep espeak's own spans, with the same ends.
 */
#include "backends/espeak/words.h"

#include <stdlib.h>
#include <string.h>

#include "core/backend.h"

#define LOUD_S16 104 /* -50 dBFS */

void chorus_ew_init(struct espeak_words *w, const char *text, size_t len, int by_token, int rate) {
    memset(w, 0, sizeof *w);
    w->text = text;
    w->len = len;
    w->by_token = by_token;
    w->rate = rate > 0 ? rate : 22050;
}

void chorus_ew_audio(struct espeak_words *w, const short *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (x[i] >= LOUD_S16 || x[i] <= -LOUD_S16) w->last_loud = w->scanned + i + 1;
    w->scanned += n;
}

int chorus_ew_event(struct espeak_words *w, size_t a, size_t len, double t) {
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        struct chorus_ew_event *p = realloc(w->ev, nc * sizeof *p);
        if (!p) return -1;
        w->ev = p;
        w->cap = nc;
    }
    w->ev[w->n++] = (struct chorus_ew_event){a, len, t < 0 ? 0 : t, w->last_loud};
    return 0;
}

void chorus_ew_release(struct espeak_words *w) {
    free(w->ev);
    w->ev = NULL;
    w->n = w->cap = 0;
}

/* Punctuation that surrounds a word without being part of it (ASCII, and the common quotes
 * and dashes); symbols that are read with the word stay. */
static size_t edge_punct_len(const char *s, size_t n, int at_end) {
    static const char *const uq[] = {"\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x98", "\xE2\x80\x99",
                                     "\xC2\xAB", "\xC2\xBB", "\xE2\x80\xA6", "\xE2\x80\x94",
                                     "\xE2\x80\x93", "\xC2\xBF", "\xC2\xA1", NULL};
    if (!n) return 0;
    unsigned char c = (unsigned char)(at_end ? s[n - 1] : s[0]);
    if (c < 0x80) return c && strchr(".,;:!?\"'()[]{}<>*_-", c) ? 1 : 0; /* "$5", "#1", "50%" keep theirs */
    for (const char *const *q = uq; *q; q++) {
        size_t k = strlen(*q);
        if (n >= k && memcmp(at_end ? s + n - k : s, *q, k) == 0) return k;
    }
    return 0;
}

struct span {
    size_t a, b;
};

/* The written words of text[0..len): tokens between white space, less edge punctuation. */
static size_t tokenize(const char *t, size_t len, struct span *out) {
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && (t[i] == ' ' || (t[i] >= '\t' && t[i] <= '\r'))) i++;
        size_t a = i;
        while (i < len && !(t[i] == ' ' || (t[i] >= '\t' && t[i] <= '\r'))) i++;
        size_t b = i, k;
        while (a < b && (k = edge_punct_len(t + a, b - a, 0))) a += k;
        while (b > a && (k = edge_punct_len(t + a, b - a, 1))) b -= k;
        if (b > a) out[n++] = (struct span){a, b};
    }
    return n;
}

static double loud_time(const struct espeak_words *w, size_t loud, double floor) {
    double e = (double)loud / w->rate;
    return e > floor ? e : floor;
}

/* Tokens [from, to) share [start, end], in proportion to their lengths. */
static int emit_group(const struct espeak_words *w, struct chorus_sink *sink, const struct span *tok,
                      size_t from, size_t to, double start, double end) {
    size_t total = 0;
    for (size_t k = from; k < to; k++) total += tok[k].b - tok[k].a;
    double t = start, per = total ? (end - start) / (double)total : 0;
    for (size_t k = from; k < to; k++) {
        double e = k + 1 == to ? end : t + per * (double)(tok[k].b - tok[k].a);
        int rc = chorus_sink_word(sink, tok[k].a, tok[k].b - tok[k].a, t, e);
        if (rc) return rc;
        t = e;
    }
    (void)w;
    return 0;
}

static int finish_tokens(struct espeak_words *w, struct chorus_sink *sink) {
    struct span *tok = malloc((w->len / 2 + 1) * sizeof *tok);
    if (!tok) return CHORUS_E_NOMEM;
    size_t m = tokenize(w->text, w->len, tok);
    int rc = 0;
    /* the events that start a new token, each with the token it starts */
    size_t group_from = 0, prev_k = 0, have = 0;
    double start = 0;
    for (size_t i = 0; i < w->n && !rc; i++) {
        size_t k = 0;
        while (k < m && tok[k].b <= w->ev[i].a) k++;
        if (k == m || (have && k <= prev_k)) continue; /* inside the word already started */
        if (have) rc = emit_group(w, sink, tok, group_from, k, start, loud_time(w, w->ev[i].loud_before, start));
        if (!have) group_from = 0; /* words before the first event go with it */
        else group_from = k;
        start = w->ev[i].t;
        prev_k = k;
        have = 1;
    }
    if (!rc && m > group_from)
        rc = emit_group(w, sink, tok, group_from, m, have ? start : 0, loud_time(w, w->last_loud, have ? start : 0));
    free(tok);
    return rc;
}

int chorus_ew_finish(struct espeak_words *w, struct chorus_sink *sink) {
    if (w->by_token) return finish_tokens(w, sink);
    for (size_t i = 0; i < w->n; i++) {
        size_t loud = i + 1 < w->n ? w->ev[i + 1].loud_before : w->last_loud;
        int rc = chorus_sink_word(sink, w->ev[i].a, w->ev[i].len, w->ev[i].t,
                                  loud_time(w, loud, w->ev[i].t));
        if (rc) return rc;
    }
    return 0;
}
