/*
 * test_text.c — the text stage: UTF-8, blank detection, chunk boundaries, the segment iterator
 * on plain text (sizes, paragraphs, white space, offset maps, flat memory).
 */
#include <malloc.h>
#include <stdint.h>

#include "test.h"
#include "text/text.h"

TEST(utf8_validation) {
    size_t bad = 99;
    CHECK(chorus_utf8_valid("", 0, &bad));
    CHECK(chorus_utf8_valid("plain ascii", 11, &bad));
    const char *ok = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD";
    CHECK(chorus_utf8_valid(ok, strlen(ok), &bad));
    /* overlong NUL */
    CHECK(!chorus_utf8_valid("ab\xC0\x80", 4, &bad));
    CHECK_EQ_INT(bad, 2);
    /* overlong 3-byte */
    CHECK(!chorus_utf8_valid("\xE0\x80\xAF", 3, &bad));
    CHECK_EQ_INT(bad, 0);
    /* UTF-16 surrogate */
    CHECK(!chorus_utf8_valid("x\xED\xA0\x80", 4, &bad));
    CHECK_EQ_INT(bad, 1);
    /* above U+10FFFF */
    CHECK(!chorus_utf8_valid("\xF4\x90\x80\x80", 4, &bad));
    /* truncated sequence at the end */
    CHECK(!chorus_utf8_valid("abc\xE2\x82", 5, &bad));
    CHECK_EQ_INT(bad, 3);
    /* stray continuation byte */
    CHECK(!chorus_utf8_valid("a\x80", 2, &bad));
    CHECK_EQ_INT(bad, 1);
    /* NULL bad_offset is allowed */
    CHECK(!chorus_utf8_valid("\xFF", 1, NULL));
    /* embedded NUL is valid UTF-8 */
    CHECK(chorus_utf8_valid("a\0b", 3, NULL));
}

TEST(blank_detection) {
    CHECK(chorus_text_is_blank("", 0));
    CHECK(chorus_text_is_blank(" \t\r\n\v\f", 6));
    CHECK(chorus_text_is_blank("\xC2\xA0\xE3\x80\x80\xE2\x80\x83", 8)); /* NBSP, ideographic, em */
    CHECK(!chorus_text_is_blank("  a ", 4));
    CHECK(!chorus_text_is_blank("\xC2\xA1", 2)); /* inverted exclamation mark */
    CHECK(!chorus_text_is_blank("\xFF", 1));
}

static size_t ce(const char *s, size_t limit) { return chorus_text_chunk_end(s, strlen(s), limit); }

TEST(chunk_end_prefers_sentences_then_clauses_then_words) {
    CHECK_EQ_INT(ce("", 10), 0);
    CHECK_EQ_INT(ce("Short.", 100), 6);
    /* sentence end inside the limit wins */
    const char *s = "The first sentence is here. The second one, with a clause, goes on and on.";
    CHECK_EQ_INT(ce(s, 50), 27);
    /* no sentence end before the limit: the clause */
    const char *c = "When the clock struck twelve, everyone in the hall stood up and cheered loudly";
    CHECK_EQ_INT(ce(c, 50), 29);
    /* neither: the last word boundary */
    const char *w = "one two three four five six seven eight nine ten eleven";
    size_t e = ce(w, 20);
    CHECK_EQ_INT(e, 18); /* "one two three four" */
    CHECK(w[e] == ' ');
    /* an abbreviation's period does not end a sentence */
    const char *a = "Please ask Dr. Smith about it, then leave the room now please";
    size_t ea = ce(a, 40);
    CHECK_EQ_INT(ea, 30); /* the comma after "it", not "Dr." */
    /* decimals and thousands are not breaks */
    const char *d = "It costs 1,234.56 dollars or so and more words follow here";
    size_t ed = ce(d, 14);
    CHECK_EQ_INT(ed, 8); /* "It costs", never inside 1,234.56 */
    /* a word break that would split "Dr. Smith", "3:30 pm" or "10 km" is the last resort */
    CHECK_EQ_INT(ce("we met Dr. Smith there", 14), 6);     /* "we met", not "we met Dr." */
    CHECK_EQ_INT(ce("see you at 3:30 pm today", 16), 10); /* "see you at" */
    CHECK_EQ_INT(ce("run 10 km now", 8), 3);              /* "run" */
    CHECK_EQ_INT(ce("10 km away", 4), 2);                 /* no other choice */
    /* CJK sentence punctuation needs no space */
    const char *z = "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82\xE6\x88\x91\xE5\xBE\x88\xE5\xA5\xBD";
    CHECK_EQ_INT(ce(z, 14), 9);
    /* ... also when Latin text follows it */
    const char *zl = "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82OK then more";
    CHECK_EQ_INT(ce(zl, 12), 9);
}

static size_t fce(const char *s, size_t limit) {
    return chorus_text_first_clause_end(s, strlen(s), CHORUS_TEXT_FIRST_MIN, limit);
}

/* The first clause of an opening (a first job for first audio): the first clause or sentence
 * end from 10 bytes on, never a bare word break, an abbreviation or a number's comma. */
TEST(first_clause_end_of_an_opening) {
    CHECK_EQ_INT(fce("Hello there, and welcome to the show.", 64), 12);
    CHECK_EQ_INT(fce("The old lighthouse stood at the edge of the cliff, its white paint", 64), 50);
    /* too short an opening stays with what follows: the next end */
    CHECK_EQ_INT(fce("Hi, I am Sam. How are you today?", 64), 13);
    CHECK_EQ_INT(fce("Well, well; what have we here?", 64), 11);
    /* none within the limit, or only the text's own end: 0 (the usual cut applies) */
    CHECK_EQ_INT(fce("one two three four five six seven eight nine ten eleven", 64), 0);
    CHECK_EQ_INT(fce("Hello there, friend", 8), 0);
    CHECK_EQ_INT(fce("Welcome to the show.", 64), 0);
    CHECK_EQ_INT(fce("", 64), 0);
    /* "Dr." and "1,234.56" are no ends; a sentence end is one */
    CHECK_EQ_INT(fce("Please ask Dr. Smith about it, then leave", 64), 30);
    CHECK_EQ_INT(fce("It costs 1,234.56 dollars or so. Then more", 64), 32);
    CHECK_EQ_INT(fce("Wait!  Then go on, please", 64), 18);
    /* a closing quote goes with its clause; CJK punctuation needs no space */
    CHECK_EQ_INT(fce("\"Good evening,\" she said, smiling", 64), 15);
    const char *z = "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE6\x88\x91";
    CHECK_EQ_INT(fce(z, 64), 15);
}

TEST(chunk_end_never_splits_a_character) {
    /* one long word of 3-byte characters: the cut lands on a character boundary */
    char buf[300];
    size_t n = 0;
    for (int i = 0; i < 90; i++) {
        memcpy(buf + n, "\xE2\x82\xAC", 3);
        n += 3;
    }
    for (size_t limit = 1; limit < 40; limit++) {
        size_t e = chorus_text_chunk_end(buf, n, limit);
        CHECK(e > 0 && e <= (limit < 3 ? 3 : limit));
        CHECK_EQ_INT(e % 3, 0);
    }
}

/* a tiny deterministic PRNG for property tests */
static uint32_t rng_state = 12345;
static uint32_t rng(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) & 0xFFFFFF;
}

static size_t random_text(char *buf, size_t cap) {
    static const char *const words[] = {
        "alpha", "beta", "gamma,", "delta.", "epsilon", "zeta;", "eta", "theta!", "iota",
        "kappa?", "caf\xC3\xA9", "\xE2\x82\xAC\x35", "1,234", "3.14", "Dr.", "x", "longerwordhere",
        "\n", "\n\n", "  ", "\t", "end.\n\n"};
    size_t n = 0;
    while (n + 20 < cap) {
        const char *w = words[rng() % (sizeof words / sizeof words[0])];
        size_t l = strlen(w);
        memcpy(buf + n, w, l);
        n += l;
        buf[n++] = ' ';
    }
    buf[n] = '\0';
    return n;
}

TEST(chunk_end_property_never_inside_a_word) {
    char buf[4096];
    for (int iter = 0; iter < 200; iter++) {
        size_t n = random_text(buf, 200 + rng() % 3000);
        size_t limit = 5 + rng() % 300;
        size_t e = chorus_text_chunk_end(buf, n, limit);
        CHECK(e > 0 && e <= n);
        if (n > limit) {
            CHECK(e <= limit);
            /* cut at white space unless the text had none in reach */
            int space_in_reach = 0;
            for (size_t i = 1; i <= limit; i++)
                if (chorus_text_space_len(buf + i, n - i) && !chorus_text_space_len(buf + i - 1, 1))
                    space_in_reach = 1;
            if (space_in_reach) CHECK_MSG(chorus_text_space_len(buf + e, n - e) > 0,
                                          "cut at %zu inside a word (limit %zu)", e, limit);
        }
    }
}

/* Collect all segments of an input into an array of strings (test helper). */
struct collected {
    char text[64][512];
    size_t map0[64], srcoff[64], srclen[64];
    double pause[64];
    int para[64];
    size_t n;
};

static int iterate(const char *in, const struct chorus_text_config *cfg, struct collected *c) {
    struct chorus_textiter *it;
    char err[256];
    int rc = chorus_textiter_create(&it, in, strlen(in), CHORUS_INPUT_TEXT, cfg, err, sizeof err);
    if (rc != CHORUS_OK) return rc;
    struct chorus_textseg seg;
    c->n = 0;
    while ((rc = chorus_textiter_next(it, &seg)) == 1 && c->n < 64) {
        snprintf(c->text[c->n], sizeof c->text[0], "%s", seg.text);
        c->srcoff[c->n] = seg.src_offset;
        c->srclen[c->n] = seg.src_len;
        c->pause[c->n] = seg.pause_before;
        c->para[c->n] = seg.paragraph_start;
        c->n++;
    }
    chorus_textiter_destroy(it);
    return rc;
}

TEST(iterator_plain_segments) {
    struct chorus_text_config cfg = {0};
    cfg.first_chars = 30;
    cfg.target_chars = 80;
    cfg.paragraph_pause = 0.75;
    const char *in = "  Hello   there,\tworld. This is the second sentence of the first paragraph.\n"
                     "It continues on this line.\n\n\n   A new paragraph starts here.  ";
    struct collected c;
    CHECK_EQ_INT(iterate(in, &cfg, &c), 0);
    CHECK_EQ_INT(c.n, 4);
    CHECK_STR(c.text[0], "Hello there, world.");
    CHECK_STR(c.text[1], "This is the second sentence of the first paragraph.");
    CHECK_STR(c.text[2], "It continues on this line.");
    CHECK_STR(c.text[3], "A new paragraph starts here.");
    CHECK(c.para[0] && !c.para[1] && !c.para[2] && c.para[3]);
    CHECK_NEAR(c.pause[0], 0.0, 1e-9);
    CHECK_NEAR(c.pause[1], 0.0, 1e-9);
    CHECK_NEAR(c.pause[3], 0.75, 1e-9);
    /* spans point into the input */
    CHECK_EQ_INT(c.srcoff[0], 2);
    CHECK_EQ_INT(c.srclen[0], strlen("Hello   there,\tworld."));
    CHECK_EQ_INT(c.srclen[3], strlen("A new paragraph starts here."));
    CHECK(memcmp(in + c.srcoff[3], "A new paragraph starts here.", c.srclen[3]) == 0);
}

TEST(iterator_first_segment_short_then_growing) {
    char in[20000];
    size_t n = 0;
    while (n < sizeof in - 100) n += (size_t)snprintf(in + n, sizeof in - n, "word%zu ", n % 97);
    struct chorus_text_config cfg = {0};
    cfg.max_chars = 500;
    cfg.target_chars = 400;
    struct chorus_textiter *it;
    CHECK_EQ_INT(chorus_textiter_create(&it, in, n, CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
    struct chorus_textseg seg;
    size_t lens[200], k = 0;
    while (chorus_textiter_next(it, &seg) == 1 && k < 200) lens[k++] = seg.len;
    chorus_textiter_destroy(it);
    CHECK(k > 10);
    CHECK_MSG(lens[0] <= 100 && lens[0] >= 50, "first segment %zu bytes", lens[0]);
    CHECK(lens[1] > lens[0]);
    CHECK(lens[2] > lens[1]);
    for (size_t i = 0; i < k; i++) CHECK(lens[i] <= 400);
    CHECK(lens[5] >= 300); /* grown to the target */
}

/* With first_clause (Kokoro's), the first segment is the opening's first clause; the rest
 * follows as usual, and nothing else changes. */
TEST(iterator_first_segment_is_the_first_clause) {
    struct chorus_text_config cfg = {0};
    cfg.first_chars = 64;
    cfg.target_chars = 400;
    cfg.first_clause = 1;
    struct collected c;
    CHECK_EQ_INT(iterate("Hello there, and welcome to the show. Today, we talk about rain.", &cfg, &c), 0);
    CHECK_EQ_INT(c.n, 2);
    CHECK_STR(c.text[0], "Hello there,");
    CHECK_STR(c.text[1], "and welcome to the show. Today, we talk about rain.");
    CHECK_EQ_INT(c.srcoff[1], 13);
    /* a first sentence is a first clause too */
    CHECK_EQ_INT(iterate("Welcome to the show. Today, we talk about rain.", &cfg, &c), 0);
    CHECK_EQ_INT(c.n, 2);
    CHECK_STR(c.text[0], "Welcome to the show.");
    /* an opening without a clause end within 64 characters is cut as without the option */
    const char *o = "The weather across the whole region stays dry and bright until the evening, they say.";
    struct collected c0;
    CHECK_EQ_INT(iterate(o, &cfg, &c), 0);
    cfg.first_clause = 0;
    CHECK_EQ_INT(iterate(o, &cfg, &c0), 0);
    CHECK(c.n == c0.n && c.n == 2);
    CHECK_STR(c.text[0], c0.text[0]);
    CHECK_EQ_INT(iterate("Hello there, and welcome to the show. Today, we talk about rain.", &cfg, &c), 0);
    CHECK_EQ_INT(c.n, 1);
}

/* no character lost or duplicated, and every byte maps back to the same byte of the input */
TEST(iterator_property_lossless_and_exact_map) {
    static char buf[40000];
    for (int iter = 0; iter < 60; iter++) {
        size_t n = random_text(buf, 100 + rng() % 30000);
        struct chorus_text_config cfg = {0};
        cfg.normalize = 0;
        cfg.max_chars = 20 + rng() % 400;
        cfg.first_chars = 1 + rng() % 150;
        cfg.first_clause = (int)(rng() % 2);
        struct chorus_textiter *it;
        CHECK_EQ_INT(chorus_textiter_create(&it, buf, n, CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
        struct chorus_textseg seg;
        size_t in_pos = 0, last_end = 0;
        int rc;
        while ((rc = chorus_textiter_next(it, &seg)) == 1) {
            CHECK(seg.len > 0 && seg.len <= cfg.max_chars);
            CHECK(seg.text[seg.len] == '\0');
            CHECK(seg.src_offset >= last_end);
            CHECK(seg.map[seg.len] == seg.src_offset + seg.src_len);
            last_end = seg.src_offset + seg.src_len;
            for (size_t i = 0; i < seg.len; i++) {
                if (seg.text[i] == ' ') {
                    CHECK(chorus_text_space_len(buf + seg.map[i], n - seg.map[i]) > 0);
                    continue;
                }
                /* the next non-space input byte is exactly this one */
                while (in_pos < n && chorus_text_space_len(buf + in_pos, n - in_pos))
                    in_pos += chorus_text_space_len(buf + in_pos, n - in_pos);
                CHECK_MSG(seg.map[i] == in_pos, "byte %zu maps to %zu, expected %zu", i,
                          seg.map[i], in_pos);
                CHECK(buf[in_pos] == seg.text[i]);
                in_pos++;
            }
        }
        CHECK_EQ_INT(rc, 0);
        while (in_pos < n && chorus_text_space_len(buf + in_pos, n - in_pos))
            in_pos += chorus_text_space_len(buf + in_pos, n - in_pos);
        CHECK_EQ_INT(in_pos, n); /* everything was spoken */
        chorus_textiter_destroy(it);
    }
}

static size_t heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* memory held by the iterator does not grow with the input */
static void run_flat(size_t n, int normalize, size_t *peak_out, size_t *heap_growth,
                     size_t *nseg) {
    char *in = malloc(n + 1);
    for (size_t i = 0; i < n; i++) in[i] = "The quick brown fox, jumps. "[i % 28];
    in[n] = '\0';
    size_t base = heap_in_use(), top = base;
    struct chorus_textiter *it;
    struct chorus_text_config cfg = {0};
    cfg.normalize = normalize;
    cfg.max_chars = 300;
    if (chorus_textiter_create(&it, in, n, CHORUS_INPUT_TEXT, &cfg, NULL, 0) != 0) abort();
    struct chorus_textseg seg;
    *nseg = 0;
    while (chorus_textiter_next(it, &seg) == 1) {
        (*nseg)++;
        if ((*nseg & 1023) == 0) {
            size_t h = heap_in_use();
            if (h > top) top = h;
        }
    }
    chorus_textiter_mem(it, peak_out);
    chorus_textiter_destroy(it);
    free(in);
    *heap_growth = top - base;
}

TEST(iterator_memory_is_flat) {
    /* 50,000 characters vs 50 MB as typed; normalization on for 50,000 vs 2 MB (it is the
     * slower path, and its buffers are the same size whatever the length) */
    for (int normalize = 0; normalize < 2; normalize++) {
        size_t big = normalize ? 2u << 20 : 50u << 20;
        size_t peak_small, peak_big, heap_small, heap_big, segs_small, segs_big;
        run_flat(50000, normalize, &peak_small, &heap_small, &segs_small);
        run_flat(big, normalize, &peak_big, &heap_big, &segs_big);
        CHECK(segs_big * 50000 > segs_small * (big / 2));
        CHECK_MSG(peak_big == peak_small, "iterator peak %zu vs %zu bytes", peak_big, peak_small);
        CHECK_MSG(peak_big < 32768, "iterator peak %zu bytes", peak_big);
        /* the whole heap, as glibc counts it (ASan's allocator reports nothing here) */
        CHECK_MSG(heap_big < 65536, "heap grew by %zu bytes while iterating %zu bytes", heap_big,
                  big);
    }
}

TEST(iterator_errors) {
    struct chorus_textiter *it = (void *)1;
    char err[256];
    CHECK_EQ_INT(chorus_textiter_create(&it, "", 0, CHORUS_INPUT_TEXT, NULL, err, sizeof err),
                 CHORUS_E_EMPTY_TEXT);
    CHECK(it == NULL);
    CHECK(strstr(err, "empty"));
    CHECK_EQ_INT(chorus_textiter_create(&it, " \n\t ", 4, CHORUS_INPUT_TEXT, NULL, err, sizeof err),
                 CHORUS_E_EMPTY_TEXT);
    CHECK(strstr(err, "white space"));
    CHECK_EQ_INT(chorus_textiter_create(&it, "ok \xC3\x28", 5, CHORUS_INPUT_TEXT, NULL, err,
                                        sizeof err),
                 CHORUS_E_BAD_UTF8);
    CHECK(strstr(err, "offset 3"));
    struct chorus_text_config cfg = {0};
    cfg.normalize = 1;
    cfg.normalize_options = "url_normalization=false,bogus=true";
    CHECK_EQ_INT(chorus_textiter_create(&it, "hi", 2, CHORUS_INPUT_TEXT, &cfg, err, sizeof err),
                 CHORUS_E_OPTION);
    CHECK(strstr(err, "bogus"));
    cfg.normalize_options = "url_normalization=maybe";
    CHECK_EQ_INT(chorus_textiter_create(&it, "hi", 2, CHORUS_INPUT_TEXT, &cfg, err, sizeof err),
                 CHORUS_E_OPTION);
    CHECK(strstr(err, "maybe"));
    chorus_textiter_destroy(NULL);
}

TEST(iterator_ssml_native_passthrough) {
    const char *doc = "<speak>Hello <break time=\"1s\"/> world</speak>";
    struct chorus_text_config cfg = {0};
    cfg.ssml_native = 1;
    struct chorus_textiter *it;
    char err[256];
    CHECK_EQ_INT(chorus_textiter_create(&it, doc, strlen(doc), CHORUS_INPUT_SSML, &cfg, err,
                                        sizeof err),
                 0);
    struct chorus_textseg seg;
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK(seg.is_ssml);
    CHECK_STR(seg.text, doc);
    CHECK_EQ_INT(seg.map[seg.len], strlen(doc));
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 0);
    chorus_textiter_destroy(it);
    /* still validated */
    const char *bad = "<speak>Hello <break time=\"1s\"> world</speak>";
    CHECK_EQ_INT(chorus_textiter_create(&it, bad, strlen(bad), CHORUS_INPUT_SSML, &cfg, err,
                                        sizeof err),
                 CHORUS_E_SSML);
    CHECK(strstr(err, "line 1, column"));
}

int main(void) {
    RUN(utf8_validation);
    RUN(blank_detection);
    RUN(chunk_end_prefers_sentences_then_clauses_then_words);
    RUN(first_clause_end_of_an_opening);
    RUN(chunk_end_never_splits_a_character);
    RUN(chunk_end_property_never_inside_a_word);
    RUN(iterator_plain_segments);
    RUN(iterator_first_segment_short_then_growing);
    RUN(iterator_first_segment_is_the_first_clause);
    RUN(iterator_property_lossless_and_exact_map);
    RUN(iterator_memory_is_flat);
    RUN(iterator_errors);
    RUN(iterator_ssml_native_passthrough);
    return test_summary();
}
