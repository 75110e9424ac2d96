/* test_textstream.c — speaking text as it arrives (chorus/textstream.h) with the espeak engine:
 * sentence ends found only when certain, the same words and audio however the text is split
 * (every byte position, UTF-8 sequences cut in half included), offsets into the concatenated
 * text, one WAV header, cancellation freeing the slot, bounded pending text. */
#include <stdint.h>

#include "chorus/textstream.h"
#include "test.h"

struct got {
    size_t bytes, samples, riff, chunks, started, done, cancelled, errors;
    struct chorus_word w[256];
    size_t nw;
    double last_start;
    int monotonic;
    int cancel_at_chunk; /* >0: cancel from the callback at this chunk */
};

static int cb(const struct chorus_event *ev, void *ud) {
    struct got *g = ud;
    switch (ev->type) {
    case CHORUS_EVENT_STARTED: g->started++; break;
    case CHORUS_EVENT_CHUNK:
        g->chunks++;
        g->bytes += ev->chunk->data_len;
        g->samples += ev->chunk->n_samples;
        for (size_t i = 0; i + 4 <= ev->chunk->data_len; i++)
            if (!memcmp(ev->chunk->data + i, "RIFF", 4)) g->riff++;
        if (g->cancel_at_chunk && (int)g->chunks == g->cancel_at_chunk) return 1;
        break;
    case CHORUS_EVENT_WORD:
        if (ev->word->start + 1e-9 < g->last_start) g->monotonic = 0;
        g->last_start = ev->word->start;
        if (g->nw < 256) g->w[g->nw++] = *ev->word;
        break;
    case CHORUS_EVENT_DONE: g->done++; break;
    case CHORUS_EVENT_CANCELLED: g->cancelled++; break;
    case CHORUS_EVENT_ERROR: g->errors++; break;
    default: break;
    }
    return 0;
}

static struct chorus_engine *engine(void) {
    struct chorus_engine *e = NULL;
    struct chorus_engine_options o = chorus_engine_options_default();
    o.no_config = 1;
    return chorus_engine_create(&e, &o) == CHORUS_OK ? e : NULL;
}

static struct chorus_request request(enum chorus_format f, struct got *g) {
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.format = f;
    r.callback = cb;
    r.userdata = g;
    memset(g, 0, sizeof *g);
    g->monotonic = 1;
    return r;
}

/* Speak `t` split into pieces at the given cut points (sorted, within the text). */
static int speak_split(struct chorus_engine *e, const char *t, const size_t *cuts, size_t ncuts,
                       struct got *g, enum chorus_format f) {
    struct chorus_request r = request(f, g);
    struct chorus_textstream *ts;
    int rc = chorus_textstream_open(e, &r, &ts);
    size_t at = 0, len = strlen(t);
    for (size_t i = 0; rc == CHORUS_OK && i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        rc = chorus_textstream_append(ts, t + at, to - at);
        at = to;
    }
    if (rc == CHORUS_OK) rc = chorus_textstream_finish(ts);
    chorus_textstream_destroy(ts);
    return rc;
}

static const char *const T =
    "Dr. Smith arrived at 9.30 on Monday. \xe2\x80\x9cIs the caf\xc3\xa9 open?\xe2\x80\x9d she "
    "asked. It was, e.g. for tea\xe2\x80\xa6 Then the rain came!\n\nA new paragraph ends it";

TEST(sentence_ends_only_when_certain) {
    struct chorus_engine *e = engine();
    CHECK(e);
    struct got g;
    struct chorus_request r = request(CHORUS_FORMAT_PCM, &g);
    struct chorus_textstream *ts;
    CHECK_EQ_INT(chorus_textstream_open(e, &r, &ts), CHORUS_OK);
    size_t appended, spoken;
    const char *steps[] = {"Dr.", " Smith is here", ". He", " waited", ". e.g. this", " one", ".",
                           "\"", " Then"};
    size_t spoken_after[9];
    for (int i = 0; i < 9; i++) {
        CHECK_EQ_INT(chorus_textstream_append(ts, steps[i], strlen(steps[i])), CHORUS_OK);
        chorus_textstream_position(ts, &appended, &spoken);
        spoken_after[i] = spoken;
    }
    /* "Dr." + " Smith" is no sentence end; "here. He" is, once "He" shows a capital */
    CHECK_EQ_INT(spoken_after[1], 0);
    CHECK_EQ_INT(spoken_after[2], strlen("Dr. Smith is here. "));
    /* "waited. e.g." — a lower-case word follows: not an end; "one." waits for what follows */
    CHECK_EQ_INT(spoken_after[4], strlen("Dr. Smith is here. "));
    CHECK_EQ_INT(spoken_after[6], strlen("Dr. Smith is here. "));
    /* a closing quote may still follow the full stop; " Then" settles it */
    CHECK_EQ_INT(spoken_after[7], strlen("Dr. Smith is here. "));
    CHECK_EQ_INT(spoken_after[8], appended - strlen("Then"));
    CHECK_EQ_INT(chorus_textstream_finish(ts), CHORUS_OK);
    chorus_textstream_position(ts, &appended, &spoken);
    CHECK_EQ_INT(spoken, appended);
    CHECK_EQ_INT(g.started, 1);
    CHECK_EQ_INT(g.done, 1);
    CHECK(g.samples > 22050); /* several seconds of speech */
    chorus_textstream_destroy(ts);
    chorus_engine_destroy(e);
}

TEST(same_words_at_every_split) {
    struct chorus_engine *e = engine();
    CHECK(e);
    static struct got whole, part;
    CHECK_EQ_INT(speak_split(e, T, NULL, 0, &whole, CHORUS_FORMAT_PCM), CHORUS_OK);
    CHECK(whole.nw >= 20);
    CHECK(whole.monotonic);
    for (size_t i = 0; i < whole.nw; i++) { /* every word points at letters of the text */
        CHECK(whole.w[i].text_offset + whole.w[i].text_len <= strlen(T));
        unsigned char c = (unsigned char)T[whole.w[i].text_offset];
        CHECK_MSG(c >= 0x80 || (c | 0x20) >= 'a' || (c >= '0' && c <= '9'),
                  "word %zu starts at '%c'", i, c);
    }
    size_t len = strlen(T);
    for (size_t k = 0; k <= len; k++) {
        CHECK_EQ_INT(speak_split(e, T, &k, 1, &part, CHORUS_FORMAT_PCM), CHORUS_OK);
        CHECK_MSG(part.nw == whole.nw, "split at %zu: %zu words, whole text %zu", k, part.nw,
                  whole.nw);
        for (size_t i = 0; i < whole.nw; i++)
            CHECK_MSG(part.w[i].text_offset == whole.w[i].text_offset &&
                          part.w[i].text_len == whole.w[i].text_len,
                      "split at %zu: word %zu at %zu+%zu, whole text %zu+%zu", k, i,
                      part.w[i].text_offset, part.w[i].text_len, whole.w[i].text_offset,
                      whole.w[i].text_len);
        /* espeak keeps a few samples of state between runs: lengths agree within 1% */
        double ratio = (double)part.samples / whole.samples;
        CHECK_MSG(ratio > 0.99 && ratio < 1.01, "split at %zu: %zu samples vs %zu", k,
                  part.samples, whole.samples);
        CHECK(part.monotonic);
    }
    /* byte by byte, as a slow tokenizer would send it */
    size_t cuts[512], n = 0;
    for (size_t k = 1; k < len && n < 512; k++) cuts[n++] = k;
    CHECK_EQ_INT(speak_split(e, T, cuts, n, &part, CHORUS_FORMAT_PCM), CHORUS_OK);
    CHECK_EQ_INT(part.nw, whole.nw);
    chorus_engine_destroy(e);
}

TEST(one_wav_header) {
    struct chorus_engine *e = engine();
    CHECK(e);
    struct got g;
    CHECK_EQ_INT(speak_split(e, T, NULL, 0, &g, CHORUS_FORMAT_WAV), CHORUS_OK);
    CHECK_EQ_INT(g.riff, 1);
    CHECK_EQ_INT(g.bytes, 44 + 2 * g.samples);
    CHECK_EQ_INT(speak_split(e, T, NULL, 0, &g, CHORUS_FORMAT_MP3), CHORUS_OK);
    CHECK(g.bytes > 1000);
    chorus_engine_destroy(e);
}

TEST(refusals_and_limits) {
    struct chorus_engine *e = engine();
    CHECK(e);
    struct got g;
    struct chorus_request r = request(CHORUS_FORMAT_OPUS, &g);
    struct chorus_textstream *ts;
    CHECK_EQ_INT(chorus_textstream_open(e, &r, &ts), CHORUS_E_FORMAT);
    CHECK(strstr(chorus_textstream_errmsg(ts), "pcm, wav, mp3 or aac"));
    chorus_textstream_destroy(ts);
    /* 40 KB without a sentence end: spoken in pieces, the remainder stays bounded */
    r = request(CHORUS_FORMAT_PCM, &g);
    CHECK_EQ_INT(chorus_textstream_open(e, &r, &ts), CHORUS_OK);
    size_t appended, spoken;
    for (int i = 0; i < 4000; i++) {
        CHECK_EQ_INT(chorus_textstream_append(ts, "and then ", 9), CHORUS_OK);
        chorus_textstream_position(ts, &appended, &spoken);
        CHECK(appended - spoken <= 16384 + 9);
    }
    CHECK(spoken > 0);
    chorus_textstream_cancel(ts);
    CHECK_EQ_INT(chorus_textstream_finish(ts), CHORUS_E_CANCELLED);
    CHECK_EQ_INT(g.cancelled, 1);
    chorus_textstream_destroy(ts);
    /* a NUL byte is refused, never truncates */
    r = request(CHORUS_FORMAT_PCM, &g);
    CHECK_EQ_INT(chorus_textstream_open(e, &r, &ts), CHORUS_OK);
    CHECK_EQ_INT(chorus_textstream_append(ts, "a\0b", 3), CHORUS_E_INVALID);
    chorus_textstream_destroy(ts);
    /* invalid UTF-8 fails with the stream's message */
    r = request(CHORUS_FORMAT_PCM, &g);
    CHECK_EQ_INT(chorus_textstream_open(e, &r, &ts), CHORUS_OK);
    CHECK_EQ_INT(chorus_textstream_append(ts, "Bad \xff byte. Next", 16), CHORUS_E_BAD_UTF8);
    CHECK_EQ_INT(g.errors, 1);
    chorus_textstream_destroy(ts);
    chorus_engine_destroy(e);
}

TEST(cancel_frees_the_slot) {
    struct chorus_engine *e = engine();
    CHECK(e);
    struct got g;
    struct chorus_request r = request(CHORUS_FORMAT_PCM, &g);
    g.cancel_at_chunk = 2;
    struct chorus_textstream *ts;
    CHECK_EQ_INT(chorus_textstream_open(e, &r, &ts), CHORUS_OK);
    const char *t = "The first sentence is long enough to make several chunks of audio. Next.";
    CHECK_EQ_INT(chorus_textstream_append(ts, t, strlen(t)), CHORUS_E_CANCELLED);
    CHECK_EQ_INT(g.cancelled, 1);
    CHECK_EQ_INT(g.chunks, 2);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    CHECK_EQ_INT(st.active, 0);
    chorus_textstream_destroy(ts);
    chorus_engine_destroy(e);
}

int main(void) {
    RUN(sentence_ends_only_when_certain);
    RUN(same_words_at_every_split);
    RUN(one_wav_header);
    RUN(refusals_and_limits);
    RUN(cancel_frees_the_slot);
    return test_summary();
}
