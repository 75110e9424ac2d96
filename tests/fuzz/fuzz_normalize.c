/*
 * fuzz_normalize.c — the normalizer, the chunker and the plain-text iterator on arbitrary text.
 * The first byte picks the options and limits. Invariants: valid UTF-8 out, offset map
 * non-decreasing and inside the input, chunks within their limit and on character boundaries,
 * no text lost by the iterator when normalization is off.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned flags = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    (void)chorus_text_detect_language(s, n, NULL);
    if (!chorus_utf8_valid(s, n, NULL)) return 0;

    struct chorus_norm_options o;
    chorus_norm_options_default(&o);
    o.unit = flags & 1;
    o.url = !(flags & 2);
    o.email = !(flags & 4);
    o.phone = !(flags & 8);
    o.symbols = !(flags & 16);
    o.pluralization = !(flags & 32);
    struct chorus_textbuf b;
    chorus_textbuf_init(&b);
    if (chorus_text_normalize(&b, s, n, 0, (flags & 64) ? "fr" : "en", &o) < 0) abort();
    if (b.len && !chorus_utf8_valid(b.text, b.len, NULL)) abort();
    for (size_t i = 0; i < b.len; i++) {
        if (b.map[i] >= n) abort();
        if (i && b.map[i] < b.map[i - 1]) abort();
    }
    chorus_textbuf_free(&b);

    size_t limit = 1 + (flags % 97);
    size_t e = chorus_text_chunk_end(s, n, limit);
    if (n && (e == 0 || e > n)) abort();
    if (e < n && ((unsigned char)s[e] & 0xC0) == 0x80) abort(); /* inside a character */
    size_t fc = chorus_text_first_clause_end(s, n, CHORUS_TEXT_FIRST_MIN, limit);
    if (fc && (fc < CHORUS_TEXT_FIRST_MIN || fc > limit || fc >= n)) abort();
    if (fc && ((unsigned char)s[fc] & 0xC0) == 0x80) abort();

    struct chorus_text_config cfg = {0};
    cfg.normalize = (flags & 128) != 0;
    cfg.max_chars = limit + 8;
    cfg.first_chars = limit;
    cfg.first_clause = (int)(n & 1); /* the flag byte is all used */
    cfg.paragraph_pause = -1;
    struct chorus_textiter *it;
    if (chorus_textiter_create(&it, s, n, CHORUS_INPUT_TEXT, &cfg, NULL, 0) != 0) return 0;
    struct chorus_textseg seg;
    size_t spoken = 0;
    int rc;
    while ((rc = chorus_textiter_next(it, &seg)) == 1) {
        if (seg.len == 0 || seg.len > cfg.max_chars) abort();
        for (size_t i = 0; i <= seg.len; i++)
            if (seg.map[i] > n) abort();
        for (size_t i = 0; i < seg.len; i++) spoken += seg.text[i] != ' ';
    }
    if (rc < 0) abort();
    chorus_textiter_destroy(it);
    if (!cfg.normalize) {
        size_t nonspace = 0;
        for (size_t i = 0; i < n;) {
            size_t k = chorus_text_space_len(s + i, n - i);
            if (k) {
                i += k;
            } else {
                nonspace++;
                i++;
            }
        }
        if (spoken != nonspace) abort();
    }
    return 0;
}
