/*
 * test_pron.c — pronunciation dictionaries: the file format and its errors (file:line), the
 * case and boundary rules, longest phrase first, the rewrite for each engine's notation with
 * its offset map, SSML <phoneme> spans, and the bounds on what may reach espeak-ng.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "text/pron.h"
#include "text/text.h"

static char out_text[1024];
static size_t out_map[1024];
static size_t out_len;

/* Rewrite text (mapped to itself) with the dictionary source `dict` for notation nt; the
 * result is in out_text/out_map. Returns the number of replacements. */
static int rw(const char *dict, const char *text, enum chorus_pron_notation nt) {
    struct chorus_pron d;
    chorus_pron_init(&d);
    char err[256] = "";
    int rc = chorus_pron_parse(&d, dict, strlen(dict), "t.dict", err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "parse: %s\n", err);
        exit(1);
    }
    size_t n = strlen(text), map[256];
    for (size_t i = 0; i <= n; i++) map[i] = i;
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    const struct chorus_pron *ds[1] = {&d};
    int k = chorus_pron_rewrite(&b, text, n, map, ds, 1, NULL, 0, nt);
    snprintf(out_text, sizeof out_text, "%s", b.text ? b.text : "");
    out_len = b.len;
    for (size_t i = 0; i <= b.len && i < 1024; i++) out_map[i] = b.map[i];
    chorus_textbuf_free(&b);
    chorus_pron_free(&d);
    return k;
}

static const char *const DICT =
    "# a comment, then a blank line\n"
    "\n"
    "tomato = [[t@m'A:toU]]\n"
    "tomato = /t\xC9\x99m\xCB\x88\xC9\x91tO/\n"
    "tomato = tomahto\n"
    "  New   York = [[nu: j'O@k]]\r\n"
    "new = knew\n"
    "US = U S\n"
    "nginx = engine x\n"
    "SQL = sequel\n"
    "sql = squeal\n";

TEST(notations) {
    /* espeak: its mnemonics in [[...]]; every added byte maps to the word's start */
    CHECK_EQ_INT(rw(DICT, "A tomato, please.", CHORUS_NOTATION_ESPEAK), 1);
    CHECK_STR(out_text, "A [[t@m'A:toU]], please.");
    for (size_t i = 2; i < 15; i++) CHECK_EQ_INT(out_map[i], 2);
    CHECK_EQ_INT(out_map[15], 8); /* the comma is the original comma */
    CHECK_EQ_INT(out_map[out_len], 17);
    /* Kokoro: misaki's markup around the word itself, which keeps its own offsets */
    CHECK_EQ_INT(rw(DICT, "A tomato, please.", CHORUS_NOTATION_MISAKI), 1);
    CHECK_STR(out_text, "A [tomato](/t\xC9\x99m\xCB\x88\xC9\x91tO/), please.");
    CHECK_EQ_INT(out_map[2], 2);
    CHECK_EQ_INT(out_map[3], 2);
    CHECK_EQ_INT(out_map[8], 7);
    CHECK_EQ_INT(out_map[9], 8);
    /* remote engines: the alias */
    CHECK_EQ_INT(rw(DICT, "A tomato, please.", CHORUS_NOTATION_NONE), 1);
    CHECK_STR(out_text, "A tomahto, please.");
    /* an entry without the engine's phonemes gives its alias, or leaves the word */
    CHECK_EQ_INT(rw(DICT, "Run nginx.", CHORUS_NOTATION_ESPEAK), 1);
    CHECK_STR(out_text, "Run engine x.");
    CHECK_EQ_INT(rw("york = [[j'O@k]]\n", "New York", CHORUS_NOTATION_NONE), 0);
    CHECK_STR(out_text, "New York");
}

TEST(case_rules) {
    /* a lowercase entry matches any case */
    rw(DICT, "Tomato TOMATO tomato", CHORUS_NOTATION_NONE);
    CHECK_STR(out_text, "tomahto tomahto tomahto");
    /* an entry with a capital matches only that spelling; it beats the case-insensitive one */
    rw(DICT, "SQL sql Sql", CHORUS_NOTATION_NONE);
    CHECK_STR(out_text, "sequel squeal squeal");
    rw(DICT, "US us", CHORUS_NOTATION_NONE);
    CHECK_STR(out_text, "U S us");
}

TEST(boundaries_and_phrases) {
    /* whole words only: not inside tomatoes or tomato2, but next to punctuation */
    CHECK_EQ_INT(rw(DICT, "tomatoes tomato2 (tomato) tomato's", CHORUS_NOTATION_NONE), 2);
    CHECK_STR(out_text, "tomatoes tomato2 (tomahto) tomahto's");
    /* the longest phrase first: "New York" beats "new"; a phrase key's blanks were collapsed */
    rw(DICT, "new New York news", CHORUS_NOTATION_ESPEAK);
    CHECK_STR(out_text, "knew [[nu: j'O@k]] news");
    for (size_t i = 5; i < 18; i++) CHECK_EQ_INT(out_map[i], 4);
    CHECK_EQ_INT(out_map[18], 12);
    /* non-ASCII letters are word characters: no match inside "tomatoé" */
    CHECK_EQ_INT(rw(DICT, "tomato\xC3\xA9 \xC3\xA9tomato", CHORUS_NOTATION_NONE), 0);
    /* markup already in the text is left alone */
    CHECK_EQ_INT(rw(DICT, "[tomato](/x/) tomato", CHORUS_NOTATION_MISAKI), 1);
    CHECK_STR(out_text, "[tomato](/x/) [tomato](/t\xC9\x99m\xCB\x88\xC9\x91tO/)");
    CHECK_EQ_INT(rw(DICT, "[[tomato]] tomato", CHORUS_NOTATION_ESPEAK), 1);
    CHECK_STR(out_text, "[[tomato]] [[t@m'A:toU]]");
}

TEST(spans_and_precedence) {
    struct chorus_pron req, eng;
    chorus_pron_init(&req);
    chorus_pron_init(&eng);
    const char *why = NULL;
    CHECK_EQ_INT(chorus_pron_add(&req, "tomato", 6, CHORUS_PRON_ALIAS, "tomayto", 7, &why), 0);
    CHECK_EQ_INT(chorus_pron_finish(&req), 0);
    CHECK_EQ_INT(chorus_pron_parse(&eng, DICT, strlen(DICT), "e", NULL, 0), 0);
    const char *text = "tomato and nginx and sql";
    size_t n = strlen(text), map[64];
    for (size_t i = 0; i <= n; i++) map[i] = 100 + i; /* document offsets */
    /* an SSML <phoneme> over "and" (document 107..110) */
    struct chorus_pron_span sp[2] = {{107, 110, "@nd", CHORUS_PRON_ESPEAK},
                                     {117, 120, "x", CHORUS_PRON_IPA}};
    const struct chorus_pron *ds[2] = {&req, &eng};
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    CHECK_EQ_INT(chorus_pron_rewrite(&b, text, n, map, ds, 2, sp, 2, CHORUS_NOTATION_ESPEAK), 4);
    /* the request's entry wins over the engine's; the IPA span is not espeak's: the content */
    CHECK_STR(b.text, "tomayto [[@nd]] engine x and squeal");
    CHECK_EQ_INT(b.map[8], 107);
    CHECK_EQ_INT(b.map[b.len], 100 + n);
    chorus_textbuf_free(&b);
    chorus_pron_free(&req);
    chorus_pron_free(&eng);
}

/* The parse error of dictionary text `src`, "" if it parses. */
static const char *perr(const char *src) {
    static char err[256];
    struct chorus_pron d;
    chorus_pron_init(&d);
    err[0] = '\0';
    int rc = chorus_pron_parse(&d, src, strlen(src), "my.dict", err, sizeof err);
    chorus_pron_free(&d);
    if (rc == 0 ? err[0] != '\0' : rc != CHORUS_E_CONFIG) {
        fprintf(stderr, "parse of \"%s\": %d %s\n", src, rc, err);
        exit(1);
    }
    return err;
}

TEST(errors_name_file_and_line) {
    CHECK_STR(perr("a = b\n# x\n"), "");
    CHECK(strstr(perr("a = b\n\nnothing here\n"), "my.dict:3: no '='"));
    CHECK(strstr(perr("x = [[a]b]]\n"), "my.dict:1: espeak phonemes are printable ASCII"));
    CHECK(strstr(perr("x = [[\xC9\x99]]\n"), "my.dict:1: espeak phonemes"));
    CHECK(strstr(perr("ok = fine\nx = /a)b/\n"), "my.dict:2: Kokoro phonemes cannot hold"));
    CHECK(strstr(perr("x = a [[b]]\n"), "my.dict:1: an alias cannot hold"));
    CHECK(strstr(perr("-x = y\n"), "my.dict:1: a word or phrase must begin and end"));
    CHECK(strstr(perr(" = y\n"), "my.dict:1: the word is empty"));
    CHECK(strstr(perr("x =\n"), "my.dict:1: the pronunciation is empty"));
    CHECK(strstr(perr("a\xFF = y\n"), "my.dict:1: the word is not valid UTF-8"));
    CHECK(strstr(perr("a = b\x01"), "my.dict:1: the pronunciation holds a control character"));
    /* bounds: a long espeak word, a long phrase, a long value */
    char big[2048];
    snprintf(big, sizeof big, "x = [[%065d]]\n", 0);
    CHECK(strstr(perr(big), "longer than 64 bytes"));
    memset(big, 'a', 300);
    memcpy(big + 300, " = b\n", 6);
    CHECK(strstr(perr(big), "longer than 256 bytes"));
    memcpy(big, "x = ", 4);
    memset(big + 4, 'a', 600);
    big[604] = '\0';
    CHECK(strstr(perr(big), "longer than 512 bytes"));
    CHECK(strstr(perr("a b c d e f g h i j k l m n o p q = r\n"), "at most 16 words"));
    /* a file that does not exist names itself */
    struct chorus_pron d;
    chorus_pron_init(&d);
    char err[256];
    CHECK_EQ_INT(chorus_pron_load(&d, "/nonexistent/p.dict", err, sizeof err), CHORUS_E_CONFIG);
    CHECK(strstr(err, "/nonexistent/p.dict: cannot open"));
    chorus_pron_free(&d);
}

TEST(values_reaching_espeak_are_bounded) {
    CHECK(chorus_pron_check_value(CHORUS_PRON_ESPEAK, "t@m'A:toU", 9) == NULL);
    CHECK(chorus_pron_check_value(CHORUS_PRON_ESPEAK, "a]]b", 4) != NULL);
    CHECK(chorus_pron_check_value(CHORUS_PRON_ESPEAK, "<x>", 3) != NULL);
    CHECK(chorus_pron_check_value(CHORUS_PRON_ESPEAK, "a\tb", 3) != NULL);
    CHECK(chorus_pron_alphabet_kind("ipa") == CHORUS_PRON_IPA);
    CHECK(chorus_pron_alphabet_kind("x-espeak") == CHORUS_PRON_ESPEAK);
    CHECK(chorus_pron_alphabet_kind("x-sampa") < 0);
}

int main(void) {
    RUN(notations);
    RUN(case_rules);
    RUN(boundaries_and_phrases);
    RUN(spans_and_precedence);
    RUN(errors_name_file_and_line);
    RUN(values_reaching_espeak_are_bounded);
    return test_summary();
}
