/*
 * bench_normalize_linear.c — is the English normalizer linear on adversarial text? Each pattern
 * is repeated to 10 KB and to 100 KB; the time per KB at both sizes and their ratio are printed
 * (1.0 = linear; a quadratic scan shows ~10), with the machine-independent work count
 * (chorus_text_normalize_work) beside it. Then a seeded random search over short patterns built
 * from the bytes rules react to reports the worst work ratios it found (fuzzing for linearity).
 * Numbers only; nothing here asserts a time. Usage: bench_normalize_linear [RANDOM_PATTERNS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/text.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine may be shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *repeat(const char *pat, size_t n) {
    size_t pl = strlen(pat);
    char *s = malloc(n + 1);
    if (!s) exit(1);
    for (size_t i = 0; i < n; i++) s[i] = pat[i % pl];
    /* end on a character boundary */
    while (n > 0 && ((unsigned char)s[n - 1] & 0xC0) == 0x80) n--;
    if (n > 0 && (unsigned char)s[n - 1] >= 0xC0) n--;
    s[n] = '\0';
    return s;
}

/* seconds (best of three) and work to normalize the pattern repeated to n bytes */
static double run(const char *pat, size_t n, size_t *work) {
    char *s = repeat(pat, n);
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    o.unit = 1;
    double best = 1e9;
    for (int k = 0; k < 3; k++) {
        struct chorus_textbuf b;
        chorus_textbuf_init(&b);
        double t0 = now();
        if (chorus_text_normalize_work(&b, s, strlen(s), 0, "en", &o, work) < 0) exit(1);
        double t = now() - t0;
        if (t < best) best = t;
        chorus_textbuf_free(&b);
    }
    free(s);
    return best;
}

static void report(const char *label, const char *pat) {
    size_t w10, w100;
    double t10 = run(pat, 10240, &w10), t100 = run(pat, 102400, &w100);
    printf("  %-22s %8.2f us/KB @10KB %8.2f us/KB @100KB  time ratio %5.2f  work ratio %5.2f\n",
           label, t10 * 1e6 / 10, t100 * 1e6 / 100, (t100 / 100) / (t10 / 10),
           ((double)w100 / 100) / ((double)w10 / 10));
}

static uint32_t rs = 12345;
static uint32_t rnd(void) {
    rs = rs * 1103515245u + 12345u;
    return rs >> 8;
}

int main(int argc, char **argv) {
    static const struct {
        const char *label, *pat;
    } adversarial[] = {
        {"1-1-1-", "1-"},           {"a.a.a.", "a."},         {"a-a-a-", "a-"},
        {"1.1.1.", "1."},           {"a@a@a@", "a@"},         {"a.b@", "a.b@"},
        {"((((", "("},              {"$1-$1-", "$1-"},        {"http://", "http://a."},
        {"www.", "www."},           {"1,1,1,", "1,"},         {"1/1/1/", "1/"},
        {"IIII", "I "},             {"St. St. ", "St. "},     {"9999999", "9"},
        {"-.-.-.", "-."},           {"x.com/.", "x.com/."},   {"a-a-a.", "a-a-a."},
        {"Jan 1 Jan ", "Jan 1 "},   {"1:1:1:", "1:"},         {"\xE2\x80\x93" "1", "\xE2\x80\x93" "1"},
        {"prose", "On March 5, 2024, Dr. Smith paid $12.50 for 3 books at 3:30 pm. "},
    };
    printf("normalizer time per KB at 10 KB and 100 KB (ratio 1.0 = linear)\n");
    for (size_t k = 0; k < sizeof adversarial / sizeof adversarial[0]; k++)
        report(adversarial[k].label, adversarial[k].pat);

    int tries = argc > 1 ? atoi(argv[1]) : 300;
    static const char alphabet[] = "1a.-@/:$(,' A_I%+";
    char worst[5][16] = {{0}};
    double worst_r[5] = {0};
    for (int t = 0; t < tries; t++) {
        char pat[16];
        size_t len = 1 + rnd() % 6;
        for (size_t i = 0; i < len; i++) pat[i] = alphabet[rnd() % (sizeof alphabet - 1)];
        pat[len] = '\0';
        size_t w1, w8;
        run(pat, 4096, &w1);
        run(pat, 32768, &w8);
        double r = ((double)w8 / 8) / (double)w1;
        for (int k = 0; k < 5; k++) {
            if (r > worst_r[k]) {
                memmove(worst_r + k + 1, worst_r + k, sizeof(double) * (size_t)(4 - k));
                memmove(worst[k + 1], worst[k], sizeof worst[0] * (size_t)(4 - k));
                worst_r[k] = r;
                memcpy(worst[k], pat, sizeof pat);
                break;
            }
        }
    }
    printf("random search: %d patterns, the worst work ratios (4 KB vs 32 KB, 1.0 = linear)\n",
           tries);
    for (int k = 0; k < 5 && worst_r[k] > 0; k++) {
        char label[40];
        snprintf(label, sizeof label, "\"%s\"", worst[k]);
        report(label, worst[k]);
    }
    return 0;
}
