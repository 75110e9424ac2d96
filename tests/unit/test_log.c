/* test_log.c — secrets never reach a log line. */
#include "core/log.h"
#include "test.h"

static char last[2048];
static void capture(enum chorus_log_level l, const char *msg, void *ud) {
    (void)l, (void)ud;
    snprintf(last, sizeof last, "%s", msg);
}

TEST(registered_secret_is_redacted) {
    chorus_set_log(capture, NULL, CHORUS_LOG_DEBUG);
    chorus_secret_register("sk-test-SECRET-123456");
    chorus_log(CHORUS_LOG_ERROR, "request failed with key sk-test-SECRET-123456 at %s", "x");
    CHECK_MSG(strstr(last, "SECRET") == NULL, "secret leaked: %s", last);
    CHECK(strstr(last, "[redacted]") != NULL);
}

TEST(header_patterns_are_redacted) {
    chorus_set_log(capture, NULL, CHORUS_LOG_DEBUG);
    chorus_log(CHORUS_LOG_INFO, "Authorization: Bearer abcdefghijkl");
    CHECK_MSG(strstr(last, "abcdefghijkl") == NULL, "leaked: %s", last);
    chorus_log(CHORUS_LOG_INFO, "xi-api-key: zyxwvutsrq");
    CHECK_MSG(strstr(last, "zyxwvutsrq") == NULL, "leaked: %s", last);
    chorus_log(CHORUS_LOG_INFO, "url ?api_key=qwertyuiop&x=1");
    CHECK_MSG(strstr(last, "qwertyuiop") == NULL, "leaked: %s", last);
    CHECK(strstr(last, "x=1") != NULL);
}

TEST(level_filter) {
    chorus_set_log(capture, NULL, CHORUS_LOG_WARN);
    last[0] = 0;
    chorus_log(CHORUS_LOG_DEBUG, "hidden");
    CHECK_STR(last, "");
    chorus_log(CHORUS_LOG_WARN, "shown");
    CHECK_STR(last, "shown");
}

/* issue 13: credentials in upstream URLs reached /v1/backends reasons and error messages */
TEST(url_credentials_are_redacted) {
    char a[256] = "cannot connect to http://alice:pa55w0rd-xyz@10.0.0.2:7851/api (refused)";
    chorus_redact(a);
    CHECK(strstr(a, "pa55w0rd") == NULL);
    CHECK(strstr(a, "alice") == NULL);
    CHECK(strstr(a, "@10.0.0.2:7851/api (refused)") != NULL);
    CHECK(strstr(a, "http://") != NULL);
    char b[256] = "server URL 'ftp://u:p@h' is not an http(s) URL; see https://example.org/a@b";
    chorus_redact(b);
    CHECK(strstr(b, "u:p@") == NULL);
    CHECK(strstr(b, "https://example.org/a@b") != NULL); /* '@' in a path is not userinfo */
    char c[64] = "no urls here: a@b, ://@x";
    chorus_redact(c);
    CHECK_STR(c, "no urls here: a@b, ://@x");
}

int main(void) {
    RUN(url_credentials_are_redacted);
    RUN(registered_secret_is_redacted);
    RUN(header_patterns_are_redacted);
    RUN(level_filter);
    return test_summary();
}
