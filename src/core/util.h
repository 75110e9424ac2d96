/* util.h — small helpers shared by the core: allocation, strings, growable buffers. */
#ifndef CHORUS_CORE_UTIL_H
#define CHORUS_CORE_UTIL_H

#include <stdarg.h>
#include <stddef.h>

char *chorus_strdup(const char *s);            /* NULL-safe */
char *chorus_strndup(const char *s, size_t n);
int chorus_strcaseeq(const char *a, const char *b); /* ASCII case-insensitive equality, NULL-safe */
/* snprintf that never overflows and always terminates; returns dst */
char *chorus_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Levenshtein distance on ASCII-lowercased strings, capped at `cap` (returns cap if more). */
size_t chorus_edit_distance(const char *a, const char *b, size_t cap);

/* Growable byte buffer. */
struct chorus_buf {
    char *p;
    size_t len, cap;
};
int chorus_buf_append(struct chorus_buf *b, const void *data, size_t n);
int chorus_buf_printf(struct chorus_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void chorus_buf_release(struct chorus_buf *b);

/* Monotonic clock in seconds. */
double chorus_now(void);

#endif
