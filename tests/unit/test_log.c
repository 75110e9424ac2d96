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

int main(void) {
    RUN(registered_secret_is_redacted);
    RUN(header_patterns_are_redacted);
    RUN(level_filter);
    return test_summary();
}
