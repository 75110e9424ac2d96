/*
 * Kokoro's English G2P with misaki's lexicons: a small lexicon in misaki's format
 * (tests/data/kokoro/lexicon-us.json, written for these tests; the real files are downloaded by
 * `chorus models pull kokoro`), the rules of misaki's en.py on it (context forms, tags for the
 * heteronyms, suffixes, capitals, acronyms, compounds), and the loader on broken files.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/kokoro/kokoro_en.h"
#include "backends/kokoro/kokoro_g2p.h"
#include "backends/kokoro/kokoro_lexicon.h"
#include "chorus/chorus.h"
#include "test.h"

static struct kokoro_lexicon *gold;

static char *ps_of(const struct kokoro_en_lex *lex, const char *text) {
    struct kokoro_tokens t;
    char err[256];
    if (chorus_kokoro_g2p_lex(text, strlen(text), "a", NULL, lex, &t, err, sizeof err)) {
        fprintf(stderr, "  g2p: %s\n", err);
        return NULL;
    }
    char *s = chorus_kokoro_tokens_ps_utf8(&t, 0, t.n);
    chorus_kokoro_tokens_release(&t);
    return s;
}

static void check_table(const struct kokoro_en_lex *lex, const char *const (*table)[2], size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *s = ps_of(lex, table[i][0]);
        int ok = s && strcmp(s, table[i][1]) == 0;
        if (!ok) fprintf(stderr, "  '%s'\n    got  '%s'\n    want '%s'\n", table[i][0], s ? s : "(null)", table[i][1]);
        free(s);
        CHECK(ok);
    }
}

TEST(lexicon_words_and_context_forms) {
    struct kokoro_en_lex lex = {gold, NULL, NULL};
    static const char *const table[][2] = {
        /* the gold form, not espeak's: want is wˈɑnt in misaki, wˈɔnt in espeak */
        {"I want a cat.", "ˌI wˈɑnt ɐ kˈæt."},
        /* tagged entries: "None" before punctuation, DEFAULT elsewhere */
        {"There is a cat there.", "ðˌɛɹ ɪz ɐ kˈæt ðˈɛɹ."},
        {"It will end, it will.", "ˌɪt wɪl ˈɛnd, ɪt wˈɪl."},
        /* the, to, in, an, am by the next sound */
        {"The apple in the city.", "ði ˈæpᵊl ɪn ðə sˈɪTi."},
        {"Go to it, go to bed.", "ɡˈO tʊ ɪt, ɡˈO tə bˈɛd."},
        {"I am here, so am I.", "ˌI ɐm hˈɪɹ, sˌO ɐm ˌI."},
        /* a capital adds a secondary stress to an unstressed word; all capitals a primary one */
        {"THE END", "ði ˈɛnd"},
        {"Ten Percent", "tˈɛn pəɹsˈɛnt"},
    };
    check_table(&lex, table, sizeof table / sizeof table[0]);
}

TEST(heteronyms_by_tag_guess) {
    struct kokoro_en_lex lex = {gold, NULL, NULL};
    static const char *const table[][2] = {
        {"I will read it.", "ˌI wɪl ɹˈid ɪt."},        /* after a modal: the verb */
        {"I have read it.", "ˌI hæv ɹˈɛd ɪt."},        /* after have: the participle */
        {"He read it.", "hˌi ɹˈɛd ɪt."},               /* after a subject: the past */
        {"They live here.", "ðˌA lˈɪv hˈɪɹ."},         /* verb */
        {"A live cat.", "ɐ lˈIv kˈæt."},               /* after a determiner, before a noun */
        {"The record.", "ðə ɹˈɛkəɹd."},                /* noun */
        {"To record it.", "tə ɹəkˈɔɹd ɪt."},           /* verb */
        {"The present.", "ðə pɹˈɛzᵊnt."},
        {"I will present it.", "ˌI wɪl pɹizˈɛnt ɪt."},
        {"Close it.", "klˈOs ɪt."},                     /* no clue: DEFAULT */
        {"I will close it.", "ˌI wɪl klˈOz ɪt."},
        {"It was close.", "ˌɪt wʌz klˈOs."},             /* after be: adjective */
        {"He wound it.", "hˌi wˈWnd ɪt."},
        {"I used to go.", "ˌI jˈust tə ɡˈO."},          /* used to */
        {"I used it.", "ˌI jˈuzd ɪt."},
    };
    check_table(&lex, table, sizeof table / sizeof table[0]);
}

TEST(suffixes_capitals_acronyms_compounds) {
    struct kokoro_en_lex lex = {gold, NULL, NULL};
    static const char *const table[][2] = {
        /* -s, -'s, -ed, -ing on lexicon stems (misaki's _s, _ed, _ing) */
        {"cats boxes cities John's", "kˈæts bˈɑksᵻz sˈɪTiz ʤˈɑnz"},
        {"stopped walked waited ended", "stˈɑpt wˈɔkt wˈATᵻd ˈɛndᵻd"},
        {"walking hoping stopping", "wˈɔkɪŋ hˈOpɪŋ stˈɑpɪŋ"},
        /* contractions from the lexicon */
        {"I don't.", "ˌI dˈOnt."},
        /* acronyms: dotted ones and capitals spelled from the letters' entries, unless the
         * lexicon has the word (NASA) */
        {"The U.S. and NASA.", "ðə jˌuˈɛs ænd nˈæsə."},
        {"Ph.D. students", "pˌiˌAʧdˈi stˈudənts"},
        {"FBI", "ˌɛfbˌiˈI"},
        /* a compound: parts from the lexicon, the first one's stress lowered */
        {"a well-known story", "ɐ wˌɛlnˈOn stˈɔɹi"},
        /* capitalized word found through its lower-case entry and the other way round */
        {"Cat paris", "kˈæt pˈɛɹɪs"},
    };
    check_table(&lex, table, sizeof table / sizeof table[0]);
}

TEST(inline_phonemes_and_stress) {
    struct kokoro_en_lex lex = {gold, NULL, NULL};
    static const char *const table[][2] = {
        /* misaki's [word](/phonemes/): the word's phonemes as given, the next word's context
         * from them (the before the given vowel is ði) */
        {"I like [tomato](/təmˈɑtO/).", "ˌI lˈIk təmˈɑtO."},
        {"The [apple](/ˈæpəl/) and \"[Kokoro](/kˈOkəɹO/)\".", "ði ˈæpəl ænd \"kˈOkəɹO\"."},
        /* [word](N): misaki's stress values */
        {"[It](2) [is](-2) [cat](-1)", "ˈɪt ɪz kˌæt"},
        /* not markup: brackets stay punctuation */
        {"[cat] (is)", "kˈæt (ɪz)"},
    };
    check_table(&lex, table, sizeof table / sizeof table[0]);
    /* the word token spans the word inside the brackets (word timestamps point at it) */
    const char *text = "I like [tomato](/təmˈɑtO/) a lot.";
    struct kokoro_tokens t;
    char err[256];
    CHECK(chorus_kokoro_g2p_lex(text, strlen(text), "a", NULL, &lex, &t, err, sizeof err) == 0);
    int found = 0;
    for (size_t i = 0; i < t.n; i++)
        if (t.t[i].is_word && t.t[i].text_len == 6 && !memcmp(text + t.t[i].text_off, "tomato", 6)) found = 1;
    CHECK(found);
    chorus_kokoro_tokens_release(&t);
}

TEST(unknown_words_fall_back_to_espeak) {
    struct kokoro_en_lex lex = {gold, NULL, NULL};
    char *s = ps_of(&lex, "The zebra");
    CHECK(s && !strcmp(s, "ðə zˈibɹə"));
    free(s);
}

TEST(loader_rejects_broken_files) {
    static const char *const bad[] = {
        "",                                    /* empty */
        "{\"a\": \"x\", \"b\": ",              /* truncated */
        "[\"a\"]",                             /* not an object */
        "{\"a\": 3}",                          /* not a string */
        "{\"a\": {\"VERB\": \"x\"}}",          /* no DEFAULT */
        "{\"a\": \"x\\u0000y\"}",              /* NUL inside */
        "{\"a\": \"x\\ny\"}",                  /* control character */
        "{\"a\": \"\"}",                       /* empty pronunciation */
        "{\"a\": \"x\", \"a\": \"y\"}",        /* duplicate key */
        "{\"a\": {\"DEFAULT\": \"x\", \"V B\": \"y\"}}", /* odd tag */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct kokoro_lexicon *l = NULL;
        char err[256] = "";
        int rc = chorus_kokoro_lexicon_parse(&l, bad[i], strlen(bad[i]), "test.json", err, sizeof err);
        CHECK_MSG(rc == CHORUS_E_MODEL && !l, "accepted: %s", bad[i]);
        CHECK_MSG(strstr(err, "test.json") != NULL, "no file name in: %s", err);
    }
    struct kokoro_lexicon *l = NULL;
    char err[256];
    CHECK(chorus_kokoro_lexicon_load(&l, "/nonexistent/us_gold.json", err, sizeof err) == CHORUS_E_NOT_FOUND);
}

TEST(lookup_and_tags) {
    const char *raw = chorus_kokoro_lexicon_raw(gold, "read", 4);
    CHECK(chorus_kokoro_lexicon_tagged(raw));
    size_t n;
    const char *p = chorus_kokoro_lexicon_pick(raw, "VBD", &n);
    CHECK(p && n == strlen("ɹˈɛd") && !memcmp(p, "ɹˈɛd", n));
    p = chorus_kokoro_lexicon_pick(raw, "NOUN", &n); /* falls to DEFAULT */
    CHECK(p && n == strlen("ɹˈid") && !memcmp(p, "ɹˈid", n));
    CHECK(chorus_kokoro_lexicon_raw(gold, "rea", 3) == NULL);
    CHECK(chorus_kokoro_lexicon_raw(gold, "reads", 5) == NULL);
    CHECK(chorus_kokoro_lexicon_raw(gold, "zzz", 3) == NULL);
    CHECK(chorus_kokoro_lexicon_bytes(gold) > 0);
}

TEST(apply_stress_follows_misaki) {
    static const struct {
        const char *in;
        int s2;
        const char *out;
    } t[] = {{"hˈɛlO", -4, "hɛlO"},  {"hˈɛlˌO", -2, "hˌɛlO"}, {"hɪz", 1, "hˌɪz"},
             {"hɪz", 4, "hˈɪz"},     {"hˌɪz", 2, "hˈɪz"},     {"pst", 4, "pst"},
             {"hˈɪz", KOKORO_EN_NO_STRESS, "hˈɪz"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *s = chorus_kokoro_en_apply_stress(t[i].in, t[i].s2);
        CHECK_MSG(s && !strcmp(s, t[i].out), "%s %d -> %s", t[i].in, t[i].s2, s ? s : "(null)");
        free(s);
    }
}

int main(void) {
    const char *d = getenv("CHORUS_TEST_DATA");
    char p[1024], err[256];
    snprintf(p, sizeof p, "%s/kokoro/lexicon-us.json", d ? d : "tests/data");
    if (chorus_kokoro_lexicon_load(&gold, p, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    RUN(lexicon_words_and_context_forms);
    RUN(heteronyms_by_tag_guess);
    RUN(suffixes_capitals_acronyms_compounds);
    RUN(inline_phonemes_and_stress);
    RUN(unknown_words_fall_back_to_espeak);
    RUN(loader_rejects_broken_files);
    RUN(lookup_and_tags);
    RUN(apply_stress_follows_misaki);
    chorus_kokoro_lexicon_free(gold);
    return test_summary();
}
