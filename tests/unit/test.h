/*
 * test.h — the project's tiny test runner. Each tests/unit/test_*.c defines tests with TEST(name)
 * and lists them in main() through RUN(name); it ends with `return test_summary();`, which
 * prints "N passed, N failed" and returns non-zero on failure. CHECK* record a failure with its
 * place and return from the test.
 */
#ifndef CHORUS_TEST_H
#define CHORUS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed_, test_failed_, test_cur_failed_;
static const char *test_cur_name_;

#define TEST(name) static void name(void)

#define RUN(name)                                                                                 \
    do {                                                                                          \
        test_cur_name_ = #name;                                                                   \
        test_cur_failed_ = 0;                                                                     \
        fprintf(stderr, "-- %s\n", #name);                                                        \
        name();                                                                                   \
        if (test_cur_failed_) {                                                                   \
            test_failed_++;                                                                       \
            fprintf(stderr, "FAIL %s\n", #name);                                                  \
        } else {                                                                                  \
            test_passed_++;                                                                       \
        }                                                                                         \
    } while (0)

#define FAILF(...)                                                                                \
    do {                                                                                          \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                         \
        fprintf(stderr, __VA_ARGS__);                                                             \
        fputc('\n', stderr);                                                                      \
        test_cur_failed_ = 1;                                                                     \
        return;                                                                                   \
    } while (0)

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond)) FAILF("check failed: %s", #cond);                                            \
    } while (0)
#define CHECK_MSG(cond, ...)                                                                      \
    do {                                                                                          \
        if (!(cond)) FAILF(__VA_ARGS__);                                                          \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                        \
    do {                                                                                          \
        long long a_ = (long long)(a), b_ = (long long)(b);                                       \
        if (a_ != b_) FAILF("%s == %s: %lld != %lld", #a, #b, a_, b_);                            \
    } while (0)
#define CHECK_STR(a, b)                                                                           \
    do {                                                                                          \
        const char *a_ = (a), *b_ = (b);                                                          \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                    \
            FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                     \
    do {                                                                                          \
        double a_ = (a), b_ = (b);                                                                \
        if (!(fabs(a_ - b_) <= (tol))) FAILF("%s ~= %s: %g vs %g (tol %g)", #a, #b, a_, b_,       \
                                             (double)(tol));                                      \
    } while (0)

static int test_summary(void) {
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif
