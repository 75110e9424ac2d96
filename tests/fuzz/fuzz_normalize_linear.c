/*
 * fuzz_normalize_linear.c — fuzzing the English normalizer for linear time without a clock. The
 * input (up to 64 bytes of valid UTF-8, the first byte picks the options) is a pattern; it is
 * repeated to 2 KB and to 16 KB, and chorus_text_normalize_work() counts the bytes the rules
 * look at in each. Eight times the text must cost about eight times the work: abort when it
 * costs over twelve (a scan from every token start to the end of its run costs ~64).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t work_for(const char *pat, size_t pl, size_t n, const struct chorus_norm_options *o) {
    char *s = malloc(n);
    if (!s) abort();
    size_t len = 0;
    while (len + pl <= n) { /* whole copies only: the text stays valid UTF-8 */
        memcpy(s + len, pat, pl);
        len += pl;
    }
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    size_t work = 0;
    if (chorus_text_normalize_work(&b, s, len, 0, "en", o, &work) < 0) abort();
    chorus_textbuf_free(&b);
    free(s);
    return work;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 65) return 0;
    const char *pat = (const char *)data + 1;
    size_t pl = size - 1;
    if (!chorus_utf8_valid(pat, pl, NULL)) return 0;
    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    o.unit = data[0] & 1;
    o.url = !(data[0] & 2);
    o.email = !(data[0] & 4);
    o.phone = !(data[0] & 8);
    o.symbols = !(data[0] & 16);
    size_t small = work_for(pat, pl, 2048, &o), big = work_for(pat, pl, 16384, &o);
    /* the copies differ by at most one pattern's worth: allow for it, then 12x */
    if (big > 12 * small + 4096) abort();
    return 0;
}
