/*
 * utf8.c — UTF-8 validation and decoding, whitespace classification, blank detection.
 */
#include "text/text.h"

#include <stdint.h>
#include <string.h>

int chorus_utf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0) return 0;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int need;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if ((size_t)need >= n) return -1;
    for (int i = 1; i <= need; i++) {
        if ((u[i] & 0xC0) != 0x80) return -1;
        v = (v << 6) | (u[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return -1;
    *cp = v;
    return need + 1;
}

int chorus_utf8_valid(const char *s, size_t n, size_t *bad_offset) {
    size_t i = 0;
    while (i < n) {
        /* fast path over ASCII */
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        int k = chorus_utf8_decode(s + i, n - i, &cp);
        if (k <= 0) {
            if (bad_offset) *bad_offset = i;
            return 0;
        }
        i += (size_t)k;
    }
    return 1;
}

int chorus_unicode_is_space(uint32_t cp) {
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000: case 0xFEFF:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200B;
    }
}

size_t chorus_text_space_len(const char *s, size_t n) {
    if (n == 0) return 0;
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) return (c == ' ' || (c >= 0x09 && c <= 0x0D)) ? 1 : 0;
    uint32_t cp;
    int k = chorus_utf8_decode(s, n, &cp);
    if (k <= 0) return 0;
    return chorus_unicode_is_space(cp) ? (size_t)k : 0;
}

size_t chorus_utf8_char_len(const char *s, size_t n) {
    if (n == 0) return 0;
    uint32_t cp;
    int k = chorus_utf8_decode(s, n, &cp);
    return k > 0 ? (size_t)k : 1;
}

int chorus_text_is_blank(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t k = chorus_text_space_len(s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

void chorus_utf8_sanitize(char *s) {
    if (!s) return;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        uint32_t cp;
        int k = chorus_utf8_decode(s + i, n - i, &cp);
        if (k <= 0) {
            s[i++] = '?';
        } else {
            i += (size_t)k;
        }
    }
}

size_t chorus_utf8_encode(uint32_t cp, char *o) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[5] = {0, 0, 0xc0, 0xe0, 0xf0};
    for (size_t i = n - 1; i > 0; i--, cp >>= 6) o[i] = (char)(0x80 | (cp & 0x3f));
    o[0] = (char)(lead[n] | cp);
    return n;
}
