/* book.c — the book handle: open (format by extension, else by content), metadata, chapters and
 * their text on demand. Chapters with nothing to say (a cover page, an image plate) are dropped
 * when the book is opened, so --list shows what will be spoken. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "book/book_internal.h"

int chorus_book_fail(struct chorus_book *b, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return rc;
}

int chorus_book_add_chapter(struct chorus_book *b, const char *title, size_t title_len) {
    if (b->n_ch >= BOOK_MAX_CHAPTERS)
        return chorus_book_fail(b, CHORUS_E_TOO_LONG, "%s has more than %d chapters", b->path,
                         BOOK_MAX_CHAPTERS);
    struct book_chapter *c = realloc(b->ch, (b->n_ch + 1) * sizeof *c);
    if (!c) return CHORUS_E_NOMEM;
    b->ch = c;
    c = &b->ch[b->n_ch];
    memset(c, 0, sizeof *c);
    c->title = chorus_strndup(title, title_len);
    if (!c->title) return CHORUS_E_NOMEM;
    b->n_ch++;
    return CHORUS_OK;
}

int chorus_book_read_file(struct chorus_book *b, const char *path, size_t max, char **out,
                   size_t *len) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return chorus_book_fail(b, CHORUS_E_IO, "cannot open %s: %s", path, strerror(errno));
    struct chorus_buf buf = {0};
    char tmp[65536];
    size_t r;
    int rc = CHORUS_OK;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (buf.len + r > max) {
            rc = chorus_book_fail(b, CHORUS_E_TOO_LONG, "%s is larger than %zu MiB", path, max >> 20);
            break;
        }
        if (chorus_buf_append(&buf, tmp, r)) {
            rc = CHORUS_E_NOMEM;
            break;
        }
    }
    if (!rc && ferror(f)) rc = chorus_book_fail(b, CHORUS_E_IO, "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    if (!rc && chorus_buf_append(&buf, "", 1)) rc = CHORUS_E_NOMEM;
    if (rc) {
        chorus_buf_release(&buf);
        return rc;
    }
    *out = buf.p;
    *len = buf.len - 1;
    return CHORUS_OK;
}

static enum book_kind kind_of(const char *path, const char *head, size_t n) {
    const char *dot = strrchr(path, '.');
    if (dot && strchr(dot, '/')) dot = NULL;
    if (dot) {
        if (!strcasecmp(dot, ".epub")) return BOOK_EPUB;
        if (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown")) return BOOK_MARKDOWN;
        if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm") || !strcasecmp(dot, ".xhtml"))
            return BOOK_HTML;
        if (!strcasecmp(dot, ".txt")) return BOOK_TEXT;
    }
    if (n >= 4 && memcmp(head, "PK\3\4", 4) == 0) return BOOK_EPUB;
    for (size_t i = 0; i + 5 < n; i++)
        if (!strncasecmp(head + i, "<html", 5) || !strncasecmp(head + i, "<!doc", 5))
            return BOOK_HTML;
    return BOOK_TEXT;
}

static int chapter_text(struct chorus_book *b, size_t i, const char *src, size_t len,
                        struct chorus_buf *out) {
    return b->kind == BOOK_EPUB ? chorus_book_epub_chapter_text(b, i, out)
                                : chorus_book_plain_chapter_text(b, i, src, len, out);
}

/* Count each chapter's characters; drop the empty ones; give untitled ones a title. */
static int measure(struct chorus_book *b, const char *src, size_t len) {
    size_t keep = 0;
    for (size_t i = 0; i < b->n_ch; i++) {
        struct chorus_buf t = {0};
        int rc = chapter_text(b, i, src, len, &t);
        b->ch[i].chars = rc ? 0 : chorus_utf8_chars(t.p, t.len);
        chorus_buf_release(&t);
        if (rc) return rc;
    }
    /* Dropping changes where the previous chapter ends (its text runs to the next start), so an
     * empty chapter is merged into the one before it instead, keeping the earlier start. */
    for (size_t i = 0; i < b->n_ch; i++) {
        if (!b->ch[i].chars) {
            free(b->ch[i].title);
            free(b->ch[i].start.anchor);
            continue;
        }
        b->ch[keep++] = b->ch[i];
    }
    b->n_ch = keep;
    if (!keep) return chorus_book_fail(b, CHORUS_E_EMPTY_TEXT, "%s has no text to speak", b->path);
    /* recount: a kept chapter now runs to the next kept one */
    for (size_t i = 0; i < b->n_ch; i++) {
        struct chorus_buf t = {0};
        int rc = chapter_text(b, i, src, len, &t);
        b->ch[i].chars = rc ? 0 : chorus_utf8_chars(t.p, t.len);
        chorus_buf_release(&t);
        if (rc) return rc;
        if (!b->ch[i].title[0]) {
            char n[32];
            snprintf(n, sizeof n, "Chapter %zu", i + 1);
            free(b->ch[i].title);
            b->ch[i].title = chorus_strdup(n);
            if (!b->ch[i].title) return CHORUS_E_NOMEM;
        }
    }
    return CHORUS_OK;
}

static int open_plain(struct chorus_book *b) {
    char *src = NULL;
    size_t len = 0;
    int rc = chorus_book_read_file(b, b->path, BOOK_MAX_FILE, &src, &len);
    if (rc) return rc;
    if (b->kind == BOOK_MARKDOWN) rc = chorus_book_markdown_open(b, src, len);
    else if (b->kind == BOOK_HTML) rc = chorus_book_html_open(b, src, len);
    else rc = chorus_book_text_open(b, src, len);
    if (!rc) rc = measure(b, src, len);
    free(src);
    return rc;
}

int chorus_book_open(const char *path, struct chorus_book **out) {
    if (!out) return CHORUS_E_INVALID;
    struct chorus_book *b = calloc(1, sizeof *b);
    *out = b;
    if (!b) return CHORUS_E_NOMEM;
    if (!path || !*path) return chorus_book_fail(b, CHORUS_E_INVALID, "no book file given");
    b->path = chorus_strdup(path);
    if (!b->path) return CHORUS_E_NOMEM;
    struct stat st;
    if (stat(path, &st) != 0) return chorus_book_fail(b, CHORUS_E_IO, "cannot open %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return chorus_book_fail(b, CHORUS_E_IO, "%s is not a regular file", path);
    char head[512];
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return chorus_book_fail(b, CHORUS_E_IO, "cannot open %s: %s", path, strerror(errno));
    n = fread(head, 1, sizeof head, f);
    fclose(f);
    b->kind = kind_of(path, head, n);
    int rc = b->kind == BOOK_EPUB ? chorus_book_epub_open(b) : open_plain(b);
    if (!rc && b->kind == BOOK_EPUB) rc = measure(b, NULL, 0);
    if (rc && !b->err[0])
        chorus_book_fail(b, rc, "cannot read %s: %s", path, chorus_strerror(rc));
    if (!rc) b->err[0] = 0;
    return rc;
}

void chorus_book_close(struct chorus_book *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n_ch; i++) {
        free(b->ch[i].title);
        free(b->ch[i].start.anchor);
    }
    free(b->ch);
    for (size_t i = 0; i < b->n_spine; i++) free(b->spine[i]);
    free(b->spine);
    chorus_zipread_close(b->zip);
    free(b->path);
    free(b->title);
    free(b->author);
    free(b->language);
    free(b->cover);
    free(b->cover_mime);
    free(b);
}

const char *chorus_book_errmsg(const struct chorus_book *b) { return b ? b->err : ""; }
const char *chorus_book_title(const struct chorus_book *b) {
    return b && b->title ? b->title : "";
}
const char *chorus_book_author(const struct chorus_book *b) {
    return b && b->author ? b->author : "";
}
const char *chorus_book_language(const struct chorus_book *b) {
    return b && b->language ? b->language : "";
}
const char *chorus_book_format(const struct chorus_book *b) {
    static const char *const names[] = {"epub", "markdown", "html", "text"};
    return b ? names[b->kind] : "";
}
int chorus_book_cover(struct chorus_book *b, const unsigned char **data, size_t *len,
                      const char **mime) {
    if (!b) return CHORUS_E_INVALID;
    if (!b->cover) return chorus_book_fail(b, CHORUS_E_NOT_FOUND, "%s has no cover image", b->path);
    if (data) *data = b->cover;
    if (len) *len = b->cover_len;
    if (mime) *mime = b->cover_mime;
    return CHORUS_OK;
}
size_t chorus_book_chapter_count(const struct chorus_book *b) { return b ? b->n_ch : 0; }
const char *chorus_book_chapter_title(const struct chorus_book *b, size_t i) {
    return b && i < b->n_ch ? b->ch[i].title : NULL;
}
void chorus_book_set_image_alt(struct chorus_book *b, int speak_alt_text) {
    if (b) b->speak_alt = speak_alt_text != 0;
}

size_t chorus_book_chapter_chars(const struct chorus_book *b, size_t i);
size_t chorus_book_chapter_chars(const struct chorus_book *b, size_t i) {
    return b && i < b->n_ch ? b->ch[i].chars : 0;
}

int chorus_book_chapter_text(struct chorus_book *b, size_t i, char **out, size_t *len) {
    if (!b || !out) return CHORUS_E_INVALID;
    *out = NULL;
    b->err[0] = 0;
    if (i >= b->n_ch)
        return chorus_book_fail(b, CHORUS_E_INVALID, "chapter %zu does not exist (the book has %zu)",
                         i + 1, b->n_ch);
    char *src = NULL;
    size_t slen = 0;
    int rc = b->kind == BOOK_EPUB ? CHORUS_OK
                                  : chorus_book_read_file(b, b->path, BOOK_MAX_FILE, &src, &slen);
    struct chorus_buf t = {0};
    if (!rc) rc = chapter_text(b, i, src, slen, &t);
    free(src);
    if (!rc && chorus_buf_append(&t, "", 1)) rc = CHORUS_E_NOMEM;
    if (rc) {
        chorus_buf_release(&t);
        return rc;
    }
    *out = t.p;
    if (len) *len = t.len - 1;
    return CHORUS_OK;
}
