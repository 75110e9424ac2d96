/*
 * test_espeak_names.c — the voice strings chorus hands to libespeak-ng (espeak_names.c), checked
 * against the real library: crash inputs of libespeak-ng 1.51 (a variant of 37+ bytes overflows
 * ExtractVoiceVariantName, voices.c) and path traversal through variant, voice and SSML voice
 * names are refused; every accepted spec loads in the real library.
 */
#include <espeak-ng/speak_lib.h>
#include <string.h>

#include "backends/espeak/espeak_names.h"
#include "backends/espeak/espeak_shared.h"
#include "chorus/chorus.h"
#include "test.h"

static int check(const char *voice, const char *variant, char *spec, size_t cap) {
    char err[512];
    chorus_espeak_lock();
    int rc = chorus_espeak_voice_check(voice, variant, spec, cap, err, sizeof err);
    chorus_espeak_unlock();
    if (rc) fprintf(stderr, "  (rejected: %s)\n", err);
    return rc;
}

static int loads(const char *spec) {
    chorus_espeak_lock();
    int ok = espeak_SetVoiceByName(spec) == EE_OK;
    chorus_espeak_unlock();
    return ok;
}

TEST(accepts_listed_voices_and_variants) {
    char spec[96];
    CHECK(check("en-us", NULL, spec, sizeof spec) == 0);
    CHECK_STR(spec, "en-us");
    CHECK(loads(spec));
    CHECK(check("en-us", "f3", spec, sizeof spec) == 0);
    CHECK_STR(spec, "en-us+f3");
    CHECK(loads(spec));
    CHECK(check("en-us+klatt", NULL, spec, sizeof spec) == 0);
    CHECK(loads(spec));
    /* display names map to the variant's file name: "Auntie" is !v/aunty */
    CHECK(check("en", "AUNTIE", spec, sizeof spec) == 0);
    CHECK_STR(spec, "en+aunty");
    CHECK(loads(spec));
    CHECK(check("en-us", "3", spec, sizeof spec) == 0);
    CHECK_STR(spec, "en-us+3");
    CHECK(check("gmw/en-US", NULL, spec, sizeof spec) == 0); /* a listed identifier */
    CHECK(loads(spec));
    CHECK(check("English (Great Britain)", NULL, spec, sizeof spec) == 0); /* a listed name */
    CHECK(loads(spec));
}

TEST(refuses_crash_and_traversal_inputs) {
    char spec[96], v37[64];
    memset(v37, 'a', 37);
    v37[37] = 0;
    char joined[128];
    snprintf(joined, sizeof joined, "en-us+%s", v37);
    CHECK(check(joined, NULL, spec, sizeof spec) == CHORUS_E_UNKNOWN_VOICE);
    CHECK(check("en-us", v37, spec, sizeof spec) == CHORUS_E_OPTION);
    CHECK(check("en-us", "../../../../../../etc/passwd", spec, sizeof spec) == CHORUS_E_OPTION);
    CHECK(check("en-us+../../../../../../etc/passwd", NULL, spec, sizeof spec) ==
          CHORUS_E_UNKNOWN_VOICE);
    CHECK(check("../../../../../../etc/passwd", NULL, spec, sizeof spec) == CHORUS_E_UNKNOWN_VOICE);
    CHECK(check("/etc/passwd", NULL, spec, sizeof spec) == CHORUS_E_UNKNOWN_VOICE);
    CHECK(check("en-us", "nosuchvariant", spec, sizeof spec) == CHORUS_E_OPTION);
    CHECK(check("en-us", "100", spec, sizeof spec) == CHORUS_E_OPTION);
    CHECK(check("", NULL, spec, sizeof spec) == CHORUS_E_UNKNOWN_VOICE);
    CHECK(check("en us", NULL, spec, sizeof spec) == CHORUS_E_UNKNOWN_VOICE);
    char longbase[64];
    memset(longbase, 'x', 40);
    longbase[40] = 0;
    CHECK(check(longbase, NULL, spec, sizeof spec) == CHORUS_E_UNKNOWN_VOICE);
    CHECK(check("en-us+f3+f2", NULL, spec, sizeof spec) == CHORUS_E_UNKNOWN_VOICE);
}

TEST(error_message_says_what_is_accepted) {
    char spec[96], err[512];
    chorus_espeak_lock();
    int rc = chorus_espeak_voice_check("en-us", "zz/..", spec, sizeof spec, err, sizeof err);
    chorus_espeak_unlock();
    CHECK(rc == CHORUS_E_OPTION);
    CHECK(strstr(err, "variant 'zz/..'") != NULL);
    CHECK(strstr(err, "f3") || strstr(err, "klatt") || strstr(err, "adam"));
}

static int ssml(const char *doc) {
    char err[512];
    chorus_espeak_lock();
    int rc = chorus_espeak_ssml_check(doc, strlen(doc), err, sizeof err);
    chorus_espeak_unlock();
    if (rc) fprintf(stderr, "  (SSML rejected: %s)\n", err);
    return rc;
}

TEST(ssml_voice_names) {
    CHECK(ssml("<speak>plain</speak>") == 0);
    CHECK(ssml("<speak><voice name=\"en-us+f3\">hi</voice><mark name=\"any mark / ..\"/></speak>") == 0);
    CHECK(ssml("<speak xml:lang=\"en\"><voice gender=\"female\">hi</voice></speak>") == 0);
    CHECK(ssml("<speak><voice name=\"en+../../../../../../etc/passwd\">x</voice></speak>") == CHORUS_E_SSML);
    CHECK(ssml("<speak><voice name='en+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'>x</voice></speak>") == CHORUS_E_SSML);
    /* espeak reads `name` anywhere after white space, values included, and ends a value only at
     * an unescaped '"' (ssml.c GetSsmlAttribute, attrcopy_utf8) */
    CHECK(ssml("<speak><voice xml:lang=\"en name='../../etc/passwd'\">x</voice></speak>") == CHORUS_E_SSML);
    CHECK(ssml("<speak><voice\tname = '../x\">x</voice></speak>") == CHORUS_E_SSML);
    CHECK(ssml("<speak><VOICE NAME=\"ok\">x</VOICE><voice name=\"/abs\">") == CHORUS_E_SSML);
    CHECK(ssml("<speak><voice name=\"en-us+f3") == 0); /* unterminated, but a safe name */
    CHECK(ssml("<speak><voice name=\"../unterminated") == CHORUS_E_SSML);
}

int main(void) {
    char err[256];
    if (chorus_espeak_init(err, sizeof err) < 0) {
        fprintf(stderr, "SKIP: %s\n", err);
        return 0;
    }
    RUN(accepts_listed_voices_and_variants);
    RUN(refuses_crash_and_traversal_inputs);
    RUN(error_message_says_what_is_accepted);
    RUN(ssml_voice_names);
    return test_summary();
}
