/*
 * test_text_normalize.c — every normalization rule, each Kokoro-FastAPI option on its own, and
 * the offset map through rewrites.
 */
#include <stdint.h>

#include "test.h"
#include "text/text.h"

static char out[4096];

/* normalize with the given option overrides; returns the output (static buffer) */
static const char *norm(const char *in, const char *opts) {
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    char err[256];
    if (opts && chorus_norm_options_parse(&o, opts, err, sizeof err) < 0) {
        snprintf(out, sizeof out, "OPTION ERROR: %s", err);
        return out;
    }
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    if (chorus_text_normalize(&b, in, strlen(in), 0, "en", &o) < 0) abort();
    snprintf(out, sizeof out, "%s", b.text ? b.text : "");
    chorus_textbuf_free(&b);
    return out;
}

struct row {
    const char *in, *opts, *want;
};

static const struct row rules[] = {
    /* cardinals, decimals, negatives, big numbers */
    {"7", NULL, "seven"},
    {"42 apples", NULL, "forty-two apples"},
    {"1,234,567", NULL, "one million two hundred thirty-four thousand five hundred sixty-seven"},
    {"100000", NULL, "one hundred thousand"},
    {"3.14", NULL, "three point one four"},
    {"0.5", NULL, "zero point five"},
    {"-5 degrees", NULL, "minus five degrees"},
    {"\xE2\x88\x92" "3", NULL, "minus three"},
    {"version 2.0.1", NULL, "version two point zero point one"},
    /* ordinals */
    {"the 3rd, 21st, 102nd, 11th and 12th", NULL,
     "the third, twenty-first, one hundred second, eleventh and twelfth"},
    /* years and decades */
    {"In 1984.", NULL, "In nineteen eighty-four."},
    {"in 2005 and 2024 and 1900 and 1905", NULL,
     "in two thousand five and twenty twenty-four and nineteen hundred and nineteen oh five"},
    {"the 1990s and the 80s", NULL, "the nineteen nineties and the eighties"},
    /* ranges */
    {"pages 10-20", NULL, "pages ten to twenty"},
    {"1990-1995", NULL, "nineteen ninety to nineteen ninety-five"},
    {"2010\xE2\x80\x93" "12", NULL, "twenty ten to twenty twelve"},
    {"He won 3-1.", NULL, "He won three to one."},
    /* percentages */
    {"50% and -2.5%", NULL, "fifty percent and minus two point five percent"},
    /* currency */
    {"$12.50", NULL, "twelve dollars and fifty cents"},
    {"$1", NULL, "one dollar"},
    {"$0.05", NULL, "five cents"},
    {"$1,000,000", NULL, "one million dollars"},
    {"\xC2\xA3" "3", NULL, "three pounds"},
    {"\xC2\xA3" "0.50", NULL, "fifty pence"},
    {"\xE2\x82\xAC" "1.2 million", NULL, "one point two million euros"},
    {"$5k", NULL, "five thousand dollars"},
    {"-$5.25", NULL, "minus five dollars and twenty-five cents"},
    {"100\xE2\x82\xAC and 5 \xC2\xA3", NULL, "one hundred euros and five pounds"},
    /* times */
    {"3:30 pm", NULL, "three thirty PM"},
    {"at 3:05", NULL, "at three oh five"},
    {"12:00", NULL, "twelve o'clock"},
    {"15:45", NULL, "fifteen forty-five"},
    {"5pm and 11 a.m.", NULL, "five PM and eleven AM"},
    /* dates */
    {"2024-03-05", NULL, "March fifth, twenty twenty-four"},
    {"03/05/2024", NULL, "March fifth, twenty twenty-four"},
    {"25/12/2023", NULL, "December twenty-fifth, twenty twenty-three"},
    {"March 5, 2024", NULL, "March fifth, twenty twenty-four"},
    /* phone numbers, digit by digit */
    {"(555) 123-4567", NULL, "five five five, one two three, four five six seven"},
    {"555-123-4567", NULL, "five five five, one two three, four five six seven"},
    {"+1 555 123 4567", NULL, "plus one, five five five, one two three, four five six seven"},
    {"555-1234", NULL, "five five five, one two three four"},
    /* URLs and e-mail */
    {"see https://www.example.com/docs?q=1 now", NULL,
     "see w w w dot example dot com slash docs question mark q equals one now"},
    {"example.org.", NULL, "example dot org."},
    {"jane.doe@example.com", NULL, "jane dot doe at example dot com"},
    /* units: off by default, on with unit_normalization */
    {"10 km", NULL, "ten km"},
    {"10 km and 5GB", "unit_normalization=true", "ten kilometers and five gigabytes"},
    {"1 kg", "unit_normalization=true", "one kilogram"},
    {"20 \xC2\xB0" "C", "unit_normalization=true", "twenty degrees Celsius"},
    {"100 mph", "unit_normalization=true", "one hundred miles per hour"},
    {"10 in the morning, 10in", "unit_normalization=true", "ten in the morning, ten inches"},
    {"2 A and 2A", "unit_normalization=true", "two A and two amps"},
    /* abbreviations and titles */
    {"Dr. Smith and Mr. Jones", NULL, "Doctor Smith and Mister Jones"},
    {"St. Paul lives on Main St. today", NULL, "Saint Paul lives on Main Street today"},
    {"apples, pears, etc. Then", NULL, "apples, pears, et cetera. Then"},
    {"e.g. this, i.e. that", NULL, "for example this, that is that"},
    {"No. 5", NULL, "number five"},
    /* roman numerals in titles */
    {"Henry VIII", NULL, "Henry the eighth"},
    {"Chapter IV", NULL, "Chapter four"},
    {"World War II", NULL, "World War two"},
    {"I am here", NULL, "I am here"},
    {"Washington DC", NULL, "Washington DC"},
    /* symbols */
    {"R&D", NULL, "R and D"},
    {"2+2=4", NULL, "two plus two equals four"},
    {"#1 fan", NULL, "number one fan"},
    {"**bold** _it_", NULL, "bold it "},
    /* (s) plurals */
    {"file(s)", NULL, "files"},
    /* hyphens and slashes before numbers; fractions */
    {"COVID-19", NULL, "COVID nineteen"},
    {"24/7", NULL, "twenty-four seven"},
    {"1/2 and 3/4 and 2/3", NULL, "one half and three quarters and two thirds"},
    /* white space */
    {"  a \t\n b  ", NULL, "a b "},
};

TEST(rules_table) {
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const char *got = norm(rules[i].in, rules[i].opts);
        CHECK_MSG(strcmp(got, rules[i].want) == 0, "normalize(\"%s\"%s%s):\n    got  \"%s\"\n    want \"%s\"",
                  rules[i].in, rules[i].opts ? ", " : "", rules[i].opts ? rules[i].opts : "", got,
                  rules[i].want);
    }
}

/* each of Kokoro-FastAPI's options on its own: off leaves its kind of text alone, and the
 * other rules still run */
TEST(each_option_individually) {
    const char *in = "Mail a@b.com, see example.com, call 555-123-4567, word(s), R&D, 10 km, $5";
    CHECK_STR(norm(in, NULL),
              "Mail a at b dot com, see example dot com, call five five five, one two three, "
              "four five six seven, words, R and D, ten km, five dollars");
    CHECK_STR(norm(in, "email_normalization=false"),
              "Mail a at b.com, see example dot com, call five five five, one two three, "
              "four five six seven, words, R and D, ten km, five dollars");
    CHECK_STR(norm(in, "url_normalization=false"),
              "Mail a at b dot com, see example.com, call five five five, one two three, "
              "four five six seven, words, R and D, ten km, five dollars");
    CHECK_STR(norm(in, "phone_normalization=false"),
              "Mail a at b dot com, see example dot com, call five hundred fifty-five one "
              "hundred twenty-three four thousand five hundred sixty-seven, words, R and D, ten "
              "km, five dollars");
    CHECK_STR(norm(in, "optional_pluralization_normalization=false"),
              "Mail a at b dot com, see example dot com, call five five five, one two three, "
              "four five six seven, word(s), R and D, ten km, five dollars");
    CHECK_STR(norm(in, "replace_remaining_symbols=false"),
              "Mail a at b dot com, see example dot com, call five five five, one two three, "
              "four five six seven, words, R&D, ten km, five dollars");
    CHECK_STR(norm(in, "unit_normalization=true"),
              "Mail a at b dot com, see example dot com, call five five five, one two three, "
              "four five six seven, words, R and D, ten kilometers, five dollars");
    CHECK_STR(norm(in, "normalize=false"), in);
    /* short names and spaces are accepted */
    CHECK_STR(norm("10 km", " units = on , url=off"), "ten kilometers");
}

TEST(option_errors) {
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    char err[256];
    CHECK(chorus_norm_options_parse(&o, "url_normalization", err, sizeof err) < 0);
    CHECK(strstr(err, "no value"));
    CHECK(chorus_norm_options_parse(&o, "speed=2", err, sizeof err) < 0);
    CHECK(strstr(err, "unknown normalize option \"speed\""));
    CHECK(chorus_norm_options_parse(&o, "unit=2", err, sizeof err) < 0);
    CHECK(strstr(err, "use true or false"));
    CHECK(chorus_norm_options_parse(&o, "", err, sizeof err) == 0);
    CHECK(chorus_norm_options_parse(&o, NULL, err, sizeof err) == 0);
}

/* "$12.50" -> "twelve dollars and fifty cents": every output byte maps into the "$12.50"
 * span, and the words around keep exact offsets */
TEST(offset_map_through_rewrites) {
    const char *in = "Pay $12.50 now, Dr. Who!";
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    CHECK(chorus_text_normalize(&b, in, strlen(in), 1000, "en", NULL) == 0);
    CHECK_STR(b.text, "Pay twelve dollars and fifty cents now, Doctor Who!");
    const char *money = strstr(b.text, "twelve");
    size_t m0 = (size_t)(money - b.text), m1 = m0 + strlen("twelve dollars and fifty cents");
    for (size_t i = m0; i < m1; i++) CHECK(b.map[i] >= 1004 && b.map[i] < 1010);
    for (size_t i = 0; i < 3; i++) CHECK_EQ_INT(b.map[i], 1000 + i); /* "Pay" */
    const char *now = strstr(b.text, "now");
    for (size_t i = 0; i < 4; i++) CHECK_EQ_INT(b.map[now - b.text + i], 1011 + i); /* "now," */
    const char *doc = strstr(b.text, "Doctor");
    for (size_t i = 0; i < 6; i++) CHECK_EQ_INT(b.map[doc - b.text + i], 1016); /* "Dr." */
    const char *who = strstr(b.text, "Who!");
    for (size_t i = 0; i < 4; i++) CHECK_EQ_INT(b.map[who - b.text + i], 1020 + i);
    chorus_textbuf_free(&b);
}

static uint32_t rs = 777;
static uint32_t rnd(void) {
    rs = rs * 1664525u + 1013904223u;
    return rs >> 8;
}

/* for any mix of tokens: the map is non-decreasing and every offset lies in the input */
TEST(offset_map_monotonic_property) {
    static const char *const toks[] = {"$12.50", "3:30 pm", "1984", "Dr.", "x@y.com",
                                       "www.a.com/b", "(555) 123-4567", "3rd", "10 km", "R&D",
                                       "word(s)", "-4", "50%", "Henry", "VIII", "2024-01-02",
                                       "caf\xC3\xA9", "\xE2\x82\xAC" "3", "hello,", "end.",
                                       "\n", "  ", "1/2", "COVID-19", "#5"};
    char in[2048];
    for (int iter = 0; iter < 300; iter++) {
        size_t n = 0;
        while (n < 1500) {
            const char *t = toks[rnd() % (sizeof toks / sizeof toks[0])];
            size_t l = strlen(t);
            memcpy(in + n, t, l);
            n += l;
            if (rnd() % 4) in[n++] = ' ';
        }
        struct chorus_norm_options o;
        chorus_norm_options_default(&o);
        o.unit = (int)(rnd() & 1);
        struct chorus_textbuf b;
        chorus_textbuf_init(&b);
        CHECK(chorus_text_normalize(&b, in, n, 0, "en", &o) == 0);
        CHECK(chorus_utf8_valid(b.text, b.len, NULL));
        for (size_t i = 0; i < b.len; i++) {
            CHECK(b.map[i] < n);
            if (i) CHECK_MSG(b.map[i] >= b.map[i - 1], "map goes back at %zu: %zu < %zu in \"%s\"",
                             i, b.map[i], b.map[i - 1], b.text);
        }
        chorus_textbuf_free(&b);
    }
}

TEST(other_languages_keep_their_text) {
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    const char *in = "Il a 3 chats  et 2 chiens.";
    CHECK(chorus_text_normalize(&b, in, strlen(in), 0, "fr", NULL) == 0);
    CHECK_STR(b.text, "Il a 3 chats et 2 chiens.");
    chorus_textbuf_clear(&b);
    CHECK(chorus_text_normalize(&b, "3 cats", 6, 0, "en-US", NULL) == 0);
    CHECK_STR(b.text, "three cats");
    chorus_textbuf_free(&b);
}

/* the iterator normalizes each chunk and maps back into the caller's text */
TEST(iterator_normalizes_with_map) {
    const char *in = "It costs $12.50.\n\nCall 555-123-4567 today.";
    struct chorus_text_config cfg = {0};
    cfg.normalize = 1;
    cfg.paragraph_pause = -1;
    struct chorus_textiter *it;
    CHECK_EQ_INT(chorus_textiter_create(&it, in, strlen(in), CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
    struct chorus_textseg seg;
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK_STR(seg.text, "It costs twelve dollars and fifty cents.");
    CHECK_EQ_INT(seg.src_offset, 0);
    CHECK_EQ_INT(seg.src_len, 16);
    CHECK_EQ_INT(seg.map[9], 9); /* "twelve" -> "$" */
    CHECK_EQ_INT(seg.map[seg.len - 1], 15); /* "." */
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK_STR(seg.text, "Call five five five, one two three, four five six seven today.");
    CHECK(seg.paragraph_start);
    CHECK(seg.pause_before > 0.2);
    CHECK_EQ_INT(seg.map[5], 23);
    CHECK_EQ_INT(seg.src_offset + seg.src_len, strlen(in));
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 0);
    chorus_textiter_destroy(it);
    /* options reach the iterator */
    cfg.normalize_options = "phone_normalization=false";
    CHECK_EQ_INT(chorus_textiter_create(&it, "555-1234", 8, CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK_STR(seg.text, "five hundred fifty-five to one thousand two hundred thirty-four");
    chorus_textiter_destroy(it);
}

/* with no language given, the iterator detects it: French keeps its digits (no English number
 * words), English is normalized, and the segment says which language it found */
TEST(iterator_detects_language) {
    struct chorus_text_config cfg = {0};
    cfg.normalize = 1;
    struct chorus_textiter *it;
    struct chorus_textseg seg;
    const char *fr = "Il a 3 chats et 2 chiens, et nous sommes tous dans la maison.";
    CHECK_EQ_INT(chorus_textiter_create(&it, fr, strlen(fr), CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK_STR(seg.text, fr);
    CHECK_STR(seg.language, "fr");
    chorus_textiter_destroy(it);
    cfg.language = "en";
    CHECK_EQ_INT(chorus_textiter_create(&it, fr, strlen(fr), CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK(strstr(seg.text, "three chats") != NULL);
    CHECK_STR(seg.language, "en");
    chorus_textiter_destroy(it);
    cfg.language = NULL;
    const char *en = "I have 3 cats and 2 dogs.";
    CHECK_EQ_INT(chorus_textiter_create(&it, en, strlen(en), CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK_STR(seg.text, "I have three cats and two dogs.");
    CHECK(seg.language == NULL);
    chorus_textiter_destroy(it);
    /* too little evidence: English rules */
    CHECK_EQ_INT(chorus_textiter_create(&it, "Buy 3 apples", 12, CHORUS_INPUT_TEXT, &cfg, NULL, 0), 0);
    CHECK_EQ_INT(chorus_textiter_next(it, &seg), 1);
    CHECK_STR(seg.text, "Buy three apples");
    chorus_textiter_destroy(it);
}

int main(void) {
    RUN(rules_table);
    RUN(each_option_individually);
    RUN(option_errors);
    RUN(offset_map_through_rewrites);
    RUN(offset_map_monotonic_property);
    RUN(other_languages_keep_their_text);
    RUN(iterator_normalizes_with_map);
    RUN(iterator_detects_language);
    return test_summary();
}
