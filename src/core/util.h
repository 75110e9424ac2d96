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
/* Unicode code points in s[0..n) (UTF-8; continuation bytes are not counted). */
size_t chorus_utf8_chars(const char *s, size_t n);

/* Files. mkdir -p with `mode` for each created folder: 0, or -1 with errno. */
int chorus_mkdir_p(const char *path, unsigned mode);
/* write(2) all of p[0..n) (retrying short writes and EINTR): 0, or -1 with errno. */
int chorus_write_all(int fd, const void *p, size_t n);
/* Read a whole regular file of at most `max` bytes into a malloc'd, NUL-terminated buffer:
 * 0 with *out and *len set, or -1 with errno (EFBIG when larger than max). */
int chorus_read_file(const char *path, size_t max, char **out, size_t *len);

/* Growable byte buffer. */
struct chorus_buf {
    char *p;
    size_t len, cap;
};
int chorus_buf_append(struct chorus_buf *b, const void *data, size_t n);
int chorus_buf_printf(struct chorus_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void chorus_buf_release(struct chorus_buf *b);

/* The one boolean spelling of config files, options and environment variables: true/false,
 * yes/no, on/off, 1/0 (case-insensitive). 0 with *out set, or -1 if v is none of them. */
int chorus_parse_bool(const char *v, int *out);
int chorus_parse_bool_n(const char *v, size_t n, int *out);
/* A number written in full: digits, sign, point, exponent, '_' between digits; finite. 0 with
 * *out set, or -1 ("four", "inf", "nan", "0x10", "1e999", "" are all -1). */
int chorus_parse_number(const char *v, double *out);
/* Create a new file "PATH.RANDOM" + suffix beside path, exclusively, with mode 0666 less the
 * process umask (read by the kernel: nothing process-wide is changed). Returns the open fd and
 * the malloc'd name in *tmp_out, or -1 with errno. */
int chorus_create_beside(const char *path, const char *suffix, char **tmp_out);
/* Open path for an atomic write without harming what is there. A path that exists and is not a
 * regular file (a device, a FIFO) is opened in place: *tmp and *target stay NULL, and replacing
 * /dev/null with a file cannot happen. Otherwise a new file is made beside the real target
 * (chorus_create_beside; a symlink is followed, even a dangling one, so the final
 * rename(*tmp, *target) replaces the file it points to and keeps the link): free both. Returns
 * the fd, or -1 with errno (EISDIR for a directory). */
int chorus_output_open(const char *path, const char *suffix, char **target, char **tmp);

/* Monotonic clock in seconds. */
double chorus_now(void);

#endif
