/*
 * textbuf.c — growable text with a per-byte source offset map.
 */
#include "text/text.h"

#include <stdlib.h>
#include <string.h>

void chorus_textbuf_init(struct chorus_textbuf *b) { memset(b, 0, sizeof *b); }

void chorus_textbuf_free(struct chorus_textbuf *b) {
    free(b->text);
    free(b->map);
    memset(b, 0, sizeof *b);
}

void chorus_textbuf_clear(struct chorus_textbuf *b) {
    b->len = 0;
    if (b->text) b->text[0] = '\0';
}

int chorus_textbuf_reserve(struct chorus_textbuf *b, size_t extra) {
    if (extra > ((size_t)-1) / 2 - b->len) return -1;
    size_t need = b->len + extra + 1; /* NUL, and map[len] */
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *t = realloc(b->text, cap);
    if (!t) return -1;
    b->text = t;
    size_t *m = realloc(b->map, cap * sizeof *m);
    if (!m) return -1;
    b->map = m;
    b->cap = cap;
    if (cap > b->peak) b->peak = cap;
    return 0;
}

int chorus_textbuf_put(struct chorus_textbuf *b, const char *s, size_t n, size_t src) {
    if (chorus_textbuf_reserve(b, n) < 0) return -1;
    memcpy(b->text + b->len, s, n);
    for (size_t i = 0; i < n; i++) b->map[b->len + i] = src;
    b->len += n;
    b->text[b->len] = '\0';
    return 0;
}

int chorus_textbuf_copy(struct chorus_textbuf *b, const char *s, size_t n, size_t src) {
    if (chorus_textbuf_reserve(b, n) < 0) return -1;
    memcpy(b->text + b->len, s, n);
    for (size_t i = 0; i < n; i++) b->map[b->len + i] = src + i;
    b->len += n;
    b->text[b->len] = '\0';
    return 0;
}
