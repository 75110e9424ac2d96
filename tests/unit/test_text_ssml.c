/*
 * test_text_ssml.c — SSML into the segment plan: each element's effect, offsets into the
 * document, errors with line and column, and the parser's defences.
 */
#include "test.h"
#include "text/pron.h"
#include "text/text.h"

#define MAXSEG 32
struct plan {
    char text[MAXSEG][256];
    double pause[MAXSEG];
    int para[MAXSEG];
    char voice[MAXSEG][32], lang[MAXSEG][16], ph[MAXSEG][64], marks[MAXSEG][64];
    float rate[MAXSEG], pitch[MAXSEG], volume[MAXSEG];
    size_t src_off[MAXSEG], src_len[MAXSEG];
    size_t n;
    int rc;
    char err[512];
};

static struct plan P;

/* run the iterator over an SSML document (emulated, normalization on) */
static int plan(const char *doc) {
    memset(&P, 0, sizeof P);
    struct chorus_text_config cfg = {0};
    cfg.normalize = 1;
    cfg.paragraph_pause = -1;
    struct chorus_textiter *it;
    P.rc = chorus_textiter_create(&it, doc, strlen(doc), CHORUS_INPUT_SSML, &cfg, P.err,
                                  sizeof P.err);
    if (P.rc != CHORUS_OK) return P.rc;
    struct chorus_textseg s;
    int rc;
    while ((rc = chorus_textiter_next(it, &s)) == 1 && P.n < MAXSEG) {
        size_t k = P.n++;
        snprintf(P.text[k], sizeof P.text[k], "%s", s.text);
        P.pause[k] = s.pause_before;
        P.para[k] = s.paragraph_start;
        snprintf(P.voice[k], sizeof P.voice[k], "%s", s.voice ? s.voice : "");
        snprintf(P.lang[k], sizeof P.lang[k], "%s", s.language ? s.language : "");
        /* the <phoneme> spans this segment's text holds */
        for (size_t q = 0; q < s.n_spans; q++)
            for (size_t i = 0; i < s.len; i++)
                if (s.map[i] >= s.spans[q].a && s.map[i] < s.spans[q].b) {
                    snprintf(P.ph[k], sizeof P.ph[k], "%s", s.spans[q].ph);
                    break;
                }
        for (size_t m = 0; m < s.n_marks; m++) {
            strncat(P.marks[k], s.marks[m], sizeof P.marks[k] - strlen(P.marks[k]) - 2);
            strcat(P.marks[k], ",");
        }
        P.rate[k] = s.rate;
        P.pitch[k] = s.pitch;
        P.volume[k] = s.volume;
        P.src_off[k] = s.src_offset;
        P.src_len[k] = s.src_len;
        /* every byte copied from the document maps onto the same byte */
        for (size_t i = 0; i < s.len; i++) {
            if (s.map[i] >= strlen(doc)) return -1000;
            if (i && s.map[i] < s.map[i - 1]) return -1001;
        }
    }
    chorus_textiter_destroy(it);
    P.rc = rc;
    return rc;
}

TEST(break_time_and_strength) {
    CHECK_EQ_INT(plan("<speak>Hello <break time=\"1s\"/> world.</speak>"), 0);
    CHECK_EQ_INT(P.n, 2);
    CHECK_STR(P.text[0], "Hello");
    CHECK_STR(P.text[1], "world.");
    CHECK_NEAR(P.pause[1], 1.0, 1e-9);
    CHECK_EQ_INT(plan("<speak>a <break time=\"250ms\"/> b <break strength=\"x-strong\"/> c "
                      "<break/> d <break strength=\"none\"/> e</speak>"),
                 0);
    CHECK_EQ_INT(P.n, 5);
    CHECK_NEAR(P.pause[1], 0.25, 1e-9);
    CHECK_NEAR(P.pause[2], 1.2, 1e-9);
    CHECK_NEAR(P.pause[3], 0.5, 1e-9);
    CHECK_NEAR(P.pause[4], 0.0, 1e-9);
    /* consecutive breaks add up; huge ones are clamped */
    CHECK_EQ_INT(plan("<speak>a<break time=\"1s\"/><break time=\"500ms\"/>b<break time=\"9999s\"/>c</speak>"), 0);
    CHECK_NEAR(P.pause[1], 1.5, 1e-9);
    CHECK_NEAR(P.pause[2], CHORUS_SSML_MAX_BREAK, 1e-9);
    /* a break at the end: an empty segment carries the silence */
    CHECK_EQ_INT(plan("<speak>end<break time=\"2s\"/></speak>"), 0);
    CHECK_EQ_INT(P.n, 2);
    CHECK_STR(P.text[1], "");
    CHECK_NEAR(P.pause[1], 2.0, 1e-9);
}

TEST(prosody_and_emphasis) {
    CHECK_EQ_INT(plan("<speak>plain <prosody rate=\"slow\" pitch=\"+2st\" volume=\"+6dB\">changed "
                      "<prosody rate=\"200%\" pitch=\"x-high\" volume=\"soft\">nested</prosody>"
                      "</prosody> <prosody rate=\"+20%\" pitch=\"-10%\" volume=\"50%\">rel</prosody>"
                      " <emphasis level=\"strong\">loud</emphasis> <emphasis>mod</emphasis></speak>"),
                 0);
    CHECK_EQ_INT(P.n, 6);
    CHECK_STR(P.text[0], "plain");
    CHECK_NEAR(P.rate[0], 1.0, 1e-6);
    CHECK_STR(P.text[1], "changed");
    CHECK_NEAR(P.rate[1], 0.75, 1e-6);
    CHECK_NEAR(P.pitch[1], 1.122462, 1e-5);
    CHECK_NEAR(P.volume[1], 1.995262, 1e-5);
    CHECK_STR(P.text[2], "nested");
    CHECK_NEAR(P.rate[2], 1.5, 1e-6); /* multiplies: 0.75 * 2 */
    CHECK_NEAR(P.pitch[2], 1.122462 * 1.3, 1e-5);
    CHECK_NEAR(P.volume[2], 1.995262 * 0.5, 1e-5);
    CHECK_STR(P.text[3], "rel");
    CHECK_NEAR(P.rate[3], 1.2, 1e-6);
    CHECK_NEAR(P.pitch[3], 0.9, 1e-6);
    CHECK_NEAR(P.volume[3], 0.5, 1e-6);
    CHECK_STR(P.text[4], "loud");
    CHECK(P.volume[4] > 1.3f && P.rate[4] < 1.0f);
    CHECK_STR(P.text[5], "mod");
    CHECK(P.volume[5] > 1.0f && P.volume[5] < P.volume[4]);
}

TEST(say_as_kinds) {
    static const struct {
        const char *in, *want;
    } t[] = {
        {"<say-as interpret-as=\"characters\">ABC</say-as>", "A B C"},
        {"<say-as interpret-as=\"spell-out\">hi5</say-as>", "H I five"},
        {"<say-as interpret-as=\"cardinal\">1234</say-as>", "one thousand two hundred thirty-four"},
        {"<say-as interpret-as=\"cardinal\">-12</say-as>", "minus twelve"},
        {"<say-as interpret-as=\"ordinal\">3</say-as>", "third"},
        {"<say-as interpret-as=\"ordinal\">22nd</say-as>", "twenty-second"},
        {"<say-as interpret-as=\"digits\">1234</say-as>", "one two three four"},
        {"<say-as interpret-as=\"date\" format=\"mdy\">12/25/2023</say-as>",
         "December twenty-fifth, twenty twenty-three"},
        {"<say-as interpret-as=\"date\" format=\"dmy\">25.12.2023</say-as>",
         "December twenty-fifth, twenty twenty-three"},
        {"<say-as interpret-as=\"date\">2024-03-05</say-as>", "March fifth, twenty twenty-four"},
        {"<say-as interpret-as=\"date\" format=\"y\">1984</say-as>", "nineteen eighty-four"},
        {"<say-as interpret-as=\"time\">3:30pm</say-as>", "three thirty PM"},
        {"<say-as interpret-as=\"time\">7 am</say-as>", "seven AM"},
        {"<say-as interpret-as=\"telephone\">555-1234</say-as>",
         "five five five, one two three four"},
        {"<say-as interpret-as=\"telephone\">+1 (555) 123-4567</say-as>",
         "plus one, five five five, one two three, four five six seven"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, "<speak>%s</speak>", t[i].in);
        CHECK_EQ_INT(plan(doc), 0);
        CHECK_EQ_INT(P.n, 1);
        CHECK_MSG(strcmp(P.text[0], t[i].want) == 0, "%s: got \"%s\", want \"%s\"", t[i].in,
                  P.text[0], t[i].want);
    }
    /* say-as inside a sentence keeps the sentence whole */
    CHECK_EQ_INT(plan("<speak>Call <say-as interpret-as=\"digits\">42</say-as> now.</speak>"), 0);
    CHECK_EQ_INT(P.n, 1);
    CHECK_STR(P.text[0], "Call four two now.");
    /* spoken words keep apart from the words around them, and punctuation stays attached */
    CHECK_EQ_INT(plan("<speak>I have <say-as interpret-as=\"cardinal\">42</say-as>cats. "
                      "<sub alias=\"World Wide Web\">WWW</sub>. x<sub alias=\"y\">z</sub>w "
                      "\"<say-as interpret-as=\"characters\">ab</say-as>\"</speak>"),
                 0);
    CHECK_STR(P.text[0], "I have forty-two cats. World Wide Web. x y w \"A B\"");
}

TEST(sub_phoneme_voice_lang_mark_paragraph) {
    const char *doc =
        "<speak><p>The <sub alias=\"World Wide Web\">WWW</sub> &amp; a "
        "<phoneme alphabet=\"ipa\" ph=\"t\xC9\x99\xCB\x88me\xC9\xAAto\xCA\x8A\">tomato</phoneme>."
        "</p>\n<p><voice name=\"en-gb\">Cheerio <mark name=\"m1\"/>mate</voice> "
        "<lang xml:lang=\"fr-FR\">Bonjour</lang></p><mark name=\"end\"/></speak>";
    CHECK_EQ_INT(plan(doc), 0);
    CHECK_EQ_INT(P.n, 5);
    /* a phoneme is spoken inline: its content stays in the sentence, its span carries ph */
    CHECK_STR(P.text[0], "The World Wide Web and a tomato.");
    CHECK(P.para[0]);
    CHECK_STR(P.ph[0], "t\xC9\x99\xCB\x88me\xC9\xAAto\xCA\x8A");
    CHECK_STR(P.text[1], "Cheerio");
    CHECK(P.para[1]);
    CHECK_NEAR(P.pause[1], 0.5, 1e-9);
    CHECK_STR(P.voice[1], "en-gb");
    CHECK_STR(P.text[2], "mate");
    CHECK_STR(P.marks[2], "m1,");
    CHECK_STR(P.voice[2], "en-gb");
    CHECK_STR(P.text[3], "Bonjour");
    CHECK_STR(P.lang[3], "fr-FR");
    CHECK_STR(P.voice[3], "");
    CHECK_STR(P.text[4], "");
    CHECK_STR(P.marks[4], "end,");
    /* spans point at the words in the document */
    CHECK(memcmp(doc + P.src_off[1], "Cheerio", 7) == 0 && P.src_len[1] == 7);
    CHECK(memcmp(doc + P.src_off[3], "Bonjour", 7) == 0);
}

TEST(metadata_is_not_spoken) {
    CHECK_EQ_INT(plan("<?xml version=\"1.0\"?><speak version=\"1.1\" "
                      "xmlns=\"http://www.w3.org/2001/10/synthesis\"><meta name=\"a\" "
                      "content=\"b\"/><desc>not this</desc>Only <!-- nor this -->this.</speak>"),
                 0);
    CHECK_EQ_INT(P.n, 1);
    CHECK_STR(P.text[0], "Only this.");
}

TEST(long_text_is_chunked) {
    char doc[8192];
    size_t n = (size_t)snprintf(doc, sizeof doc, "<speak>");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n, "Sentence number %d is here. ", i);
    snprintf(doc + n, sizeof doc - n, "</speak>");
    CHECK_EQ_INT(plan(doc), 0);
    CHECK(P.n > 3);
    CHECK(strlen(P.text[0]) <= 100);
    CHECK(strncmp(P.text[0], "Sentence number zero is here.", 29) == 0);
}

static void expect_error(const char *doc, int code, const char *needle) {
    struct chorus_textiter *it = NULL;
    char err[512] = "";
    struct chorus_text_config cfg = {0};
    int rc = chorus_textiter_create(&it, doc, strlen(doc), CHORUS_INPUT_SSML, &cfg, err, sizeof err);
    if (rc != code || it != NULL || !strstr(err, needle))
        fprintf(stderr, "  doc %.60s...\n  rc %d (want %d), err \"%s\" (want \"%s\")\n", doc, rc,
                code, err, needle);
    CHECK(rc == code && it == NULL && strstr(err, needle));
}

TEST(errors_name_line_and_column) {
    expect_error("<speak>\n  Hello <break time=\"1s\">\n</speak>", CHORUS_E_SSML,
                 "line 3, column 3: mismatched tag");
    expect_error("<speak>\n<break time=\"fast\"/></speak>", CHORUS_E_SSML,
                 "line 2, column 1: <break> time \"fast\" is not a duration");
    expect_error("<speak><break strength=\"huge\"/></speak>", CHORUS_E_SSML, "strength \"huge\"");
    expect_error("<speak><prosody rate=\"zoom\">x</prosody></speak>", CHORUS_E_SSML,
                 "rate \"zoom\"");
    expect_error("<speak><say-as interpret-as=\"vibes\">x</say-as></speak>", CHORUS_E_SSML,
                 "interpret-as \"vibes\" is not supported");
    expect_error("<speak><sub>x</sub></speak>", CHORUS_E_SSML, "<sub> needs an alias");
    expect_error("<speak><mark/></speak>", CHORUS_E_SSML, "<mark> needs a name");
    expect_error("<html>hi</html>", CHORUS_E_SSML, "root element is <html>");
    expect_error("just text", CHORUS_E_SSML, "line 1, column 1: syntax error");
    expect_error("<speak>a &nbsp; b</speak>", CHORUS_E_SSML, "undefined entity");
    expect_error("<speak>  </speak>", CHORUS_E_EMPTY_TEXT, "no text");
    expect_error("<speak>ok \xC3\x28</speak>", CHORUS_E_BAD_UTF8, "offset 10");
    /* a quoted value is clipped, never in the middle of a character */
    char doc[512] = "<speak><break time=\"";
    for (int i = 0; i < 30; i++) strcat(doc, "\xE2\x82\xAC");
    strcat(doc, "\"/></speak>");
    struct chorus_ssml_doc *d;
    char err[512];
    CHECK_EQ_INT(chorus_ssml_parse(&d, doc, strlen(doc), err, sizeof err), CHORUS_E_SSML);
    CHECK(strstr(err, "is not a duration"));
    CHECK(chorus_utf8_valid(err, strlen(err), NULL));
}

TEST(defences) {
    /* billion laughs: refused at the DTD, before any expansion */
    const char *lol =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n<speak>&lol9;</speak>";
    struct chorus_ssml_doc *d = NULL;
    char err[512];
    /* "fast" without a timed assertion: the parser stops at line 2 and builds nothing */
    CHECK_EQ_INT(chorus_ssml_parse(&d, lol, strlen(lol), err, sizeof err), CHORUS_E_SSML);
    CHECK(d == NULL);
    CHECK(strstr(err, "line 2") && strstr(err, "DTD"));
    /* external entities: refused the same way, nothing is read */
    const char *xxe = "<!DOCTYPE speak [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><speak>&x;</speak>";
    CHECK_EQ_INT(chorus_ssml_parse(&d, xxe, strlen(xxe), err, sizeof err), CHORUS_E_SSML);
    CHECK(strstr(err, "DTD"));
    /* depth */
    char deep[4096];
    size_t n = (size_t)snprintf(deep, sizeof deep, "<speak>");
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(deep + n, sizeof deep - n, "<s>");
    CHECK_EQ_INT(chorus_ssml_parse(&d, deep, n, err, sizeof err), CHORUS_E_SSML);
    CHECK(strstr(err, "nested deeper than 64"));
    /* size */
    size_t big = CHORUS_SSML_MAX_BYTES + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    CHECK_EQ_INT(chorus_ssml_parse(&d, huge, big, err, sizeof err), CHORUS_E_TOO_LONG);
    CHECK(strstr(err, "limit"));
    free(huge);
    /* element count */
    size_t cnt = CHORUS_SSML_MAX_ELEMENTS + 10, cap = cnt * 7 + 32;
    char *many = malloc(cap);
    n = (size_t)snprintf(many, cap, "<speak>");
    for (size_t i = 0; i < cnt; i++) memcpy(many + n, "<s/>", 4), n += 4;
    n += (size_t)snprintf(many + n, cap - n, "</speak>");
    CHECK_EQ_INT(chorus_ssml_parse(&d, many, n, err, sizeof err), CHORUS_E_TOO_LONG);
    CHECK(strstr(err, "elements"));
    free(many);
}

TEST(plain_characters_map_exactly) {
    const char *doc = "<speak>Caf\xC3\xA9 <s>is   open</s> today</speak>";
    struct chorus_ssml_doc *d;
    char err[256];
    CHECK_EQ_INT(chorus_ssml_parse(&d, doc, strlen(doc), err, sizeof err), 0);
    size_t runs = chorus_ssml_doc_count(d);
    CHECK_EQ_INT(runs, 3);
    for (size_t r = 0; r < runs; r++) {
        const struct chorus_ssml_run *run = chorus_ssml_doc_run(d, r);
        for (size_t i = 0; i < run->len; i++) CHECK(doc[run->map[i]] == run->text[i]);
    }
    CHECK(chorus_ssml_doc_run(d, runs) == NULL);
    chorus_ssml_doc_free(d);
}

int main(void) {
    RUN(break_time_and_strength);
    RUN(prosody_and_emphasis);
    RUN(say_as_kinds);
    RUN(sub_phoneme_voice_lang_mark_paragraph);
    RUN(metadata_is_not_spoken);
    RUN(long_text_is_chunked);
    RUN(errors_name_line_and_column);
    RUN(defences);
    RUN(plain_characters_map_exactly);
    return test_summary();
}
