/* test_config.c — the TOML-subset config reader. */
#include <stdlib.h>

#include "core/config.h"
#include "test.h"

static struct chorus_config *parse(const char *s, char *err) {
    return chorus_config_parse(s, strlen(s), "t.toml", err, 256);
}

TEST(reads_sections_and_types) {
    char err[256] = "";
    struct chorus_config *c = parse(
        "# top\nname = \"chorus\"\n\n[chorus]\nmax_concurrent = 3 # comment\n"
        "default_backend = 'espeak'\n[api_settings.openai]\napi_key = \"sk-\\u00e9\\n\"\n"
        "[app_tts]\nOPENAI_API_KEY_fallback = \"fb\"\nflag = true\nlist = [1, \"a]\", 2]\n"
        "dotted.key = 5\n",
        err);
    CHECK_MSG(c != NULL, "parse failed: %s", err);
    CHECK_STR(chorus_config_get(c, "", "name"), "chorus");
    CHECK_EQ_INT((int)chorus_config_double(c, "chorus", "max_concurrent", 0), 3);
    CHECK_STR(chorus_config_get(c, "chorus", "default_backend"), "espeak");
    CHECK_STR(chorus_config_get(c, "api_settings.openai", "api_key"), "sk-\xc3\xa9\n");
    /* look-ups are case-insensitive, as the prior implementation's keys mix cases */
    CHECK_STR(chorus_config_get(c, "APP_TTS", "openai_api_key_fallback"), "fb");
    CHECK_EQ_INT(chorus_config_bool(c, "app_tts", "flag", 0), 1);
    CHECK_STR(chorus_config_get(c, "app_tts", "list"), "[1, \"a]\", 2]");
    CHECK_STR(chorus_config_get(c, "app_tts.dotted", "key"), "5");
    CHECK(chorus_config_get(c, "chorus", "missing") == NULL);
    chorus_config_free(c);
}

TEST(errors_name_the_line) {
    char err[256] = "";
    struct chorus_config *c = parse("[ok]\na = 1\nb = unquoted words\n", err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "t.toml:3:") != NULL, "error does not name line 3: %s", err);
    c = parse("a = \"open\n", err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "t.toml:1:") && strstr(err, "unterminated"), "%s", err);
    c = parse("[sec\n", err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "t.toml:1:") != NULL, "%s", err);
    c = parse("x = 1 2\n", err);
    CHECK(c == NULL);
    c = parse("= 3\n", err);
    CHECK(c == NULL);
    c = parse("\"\" = 1\n", err); /* found by fuzz_config: an empty quoted key */
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "empty key") != NULL, "%s", err);
    c = parse("s = \"bad \\q escape\"\n", err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "escape") != NULL, "%s", err);
}

TEST(find_prefers_environment) {
    char err[256] = "";
    struct chorus_config *c = parse("[openai]\napi_key = \"from-file\"\n[API]\nopenai_api_key = \"legacy\"\n", err);
    CHECK(c != NULL);
    const char *places[] = {"openai", "api_key", "API", "openai_api_key", NULL};
    const char *later[] = {"nope", "nope", "API", "openai_api_key", NULL};
    unsetenv("CHORUS_TEST_KEY");
    CHECK_STR(chorus_config_find(c, "CHORUS_TEST_KEY", places), "from-file");
    CHECK_STR(chorus_config_find(c, "CHORUS_TEST_KEY", later), "legacy");
    setenv("CHORUS_TEST_KEY", "from-env", 1);
    CHECK_STR(chorus_config_find(c, "CHORUS_TEST_KEY", places), "from-env");
    unsetenv("CHORUS_TEST_KEY");
    chorus_config_free(c);
}

TEST(missing_file) {
    char err[256] = "";
    struct chorus_config *c = chorus_config_load("/nonexistent/chorus.toml", 1, err, sizeof err);
    CHECK(c != NULL); /* optional: empty config */
    chorus_config_free(c);
    c = chorus_config_load("/nonexistent/chorus.toml", 0, err, sizeof err);
    CHECK(c == NULL);
    CHECK_MSG(strstr(err, "/nonexistent/chorus.toml") != NULL, "%s", err);
}

int main(void) {
    RUN(reads_sections_and_types);
    RUN(errors_name_the_line);
    RUN(find_prefers_environment);
    RUN(missing_file);
    return test_summary();
}
