/* book_internal.h — the book handle and the readers behind include/chorus/book.h.
 *
 * A book is an index, not its text: each chapter says where its text lies (a byte range of a
 * text file, or a span of EPUB spine documents between two anchors), and chorus_book_chapter_text
 * extracts it on demand. Readers: epub.c (zip via zipread.c, OPF/NCX/nav via libxml2),
 * html_text.c (HTML → speakable text), plain.c (Markdown, plain text, one HTML file). */
#ifndef CHORUS_BOOK_INTERNAL_H
#define CHORUS_BOOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chorus/book.h"
#include "core/util.h"

/* Size limits against hostile files (a zip bomb declares or inflates past these). */
#define BOOK_MAX_ENTRY (64u << 20)  /* one zip entry, inflated */
#define BOOK_MAX_COVER (16u << 20)
#define BOOK_MAX_FILE (512u << 20)  /* a plain-text/Markdown/HTML book */
#define BOOK_MAX_SPINE 10000
#define BOOK_MAX_CHAPTERS 10000

enum book_kind { BOOK_EPUB, BOOK_MARKDOWN, BOOK_HTML, BOOK_TEXT };

/* Where a chapter starts in an EPUB: a spine document and, optionally, an element id in it. */
struct book_pos {
    size_t spine;
    char *anchor; /* NULL: the document's start */
};

struct book_chapter {
    char *title;
    long nth;              /* HTML: ordinal of the heading that starts it (0: the start) */
    struct book_pos start; /* EPUB */
    size_t off, len;       /* text formats: byte range of the source file */
    size_t chars;          /* characters of spoken text (filled by chorus_book_open) */
};

struct zipread;

struct chorus_book {
    enum book_kind kind;
    char *path;
    char *title, *author, *language;
    unsigned char *cover;
    size_t cover_len;
    char *cover_mime;
    struct book_chapter *ch;
    size_t n_ch;
    /* EPUB: the zip and the spine's documents (zip entry names) */
    struct zipread *zip;
    char **spine;
    size_t n_spine;
    int speak_alt;
    const char *split_tag; /* HTML: the heading level chapters start at */
    char err[1024];
};

/* book.c */
int chorus_book_fail(struct chorus_book *b, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int chorus_book_add_chapter(struct chorus_book *b, const char *title, size_t title_len);
int chorus_book_read_file(struct chorus_book *b, const char *path, size_t max, char **out, size_t *len);

/* zipread.c: bounded reading of zip entries (libzip). */
int chorus_zipread_open(const char *path, struct zipread **out, char *err, size_t errcap);
void chorus_zipread_close(struct zipread *z);
/* Read entry `name` whole (NUL-terminated) if its inflated size is at most `max`. Returns
 * CHORUS_OK, E_NOT_FOUND, E_TOO_LONG or E_INVALID (damaged). */
int chorus_zipread_get(struct zipread *z, const char *name, size_t max, char **out, size_t *len,
                char *err, size_t errcap);
/* Resolve `href` (relative, percent-encoded, maybe with #fragment) against the folder of
 * `base` (a zip entry name); the fragment, if any, goes to *frag. Returns malloc'd strings. */
int chorus_zipread_resolve(const char *base, const char *href, char **path, char **frag);

/* epub.c */
int chorus_book_epub_open(struct chorus_book *b);
int chorus_book_epub_chapter_text(struct chorus_book *b, size_t i, struct chorus_buf *out);
/* html_text.c: speakable text of an HTML/XHTML document, optionally only the part between the
 * element with id `from` (NULL: start) and the element with id `to` (NULL: end). */
struct book_html_opts {
    const char *from, *to;
    int speak_alt;
    /* or: split at elements named `split` ("h1"): collect from the from_nth-th (1-based; 0 =
     * the document's start) to the to_nth-th (0 = the end) */
    const char *split;
    long from_nth, to_nth;
};
int chorus_book_html_text(const char *html, size_t len, const struct book_html_opts *o,
                   struct chorus_buf *out);
/* Texts of every `tag` element ("h1") in document order; free each and the array. */
int chorus_book_html_headings(const char *html, size_t len, const char *tag, char ***titles,
                       size_t *n);
/* Title-ish text of a document: its first h1-h3, else <title>; "" if none. malloc'd. */
char *chorus_book_html_title(const char *html, size_t len);

/* plain.c */
int chorus_book_markdown_open(struct chorus_book *b, const char *src, size_t len);
int chorus_book_text_open(struct chorus_book *b, const char *src, size_t len);
int chorus_book_html_open(struct chorus_book *b, const char *src, size_t len);
/* Text of chapter i of a Markdown/text/HTML book (`src` is the whole file). */
int chorus_book_plain_chapter_text(struct chorus_book *b, size_t i, const char *src, size_t len,
                            struct chorus_buf *out);
/* Plain text (hard-wrapped lines, blank-line paragraphs) → speakable text. */
int chorus_book_plain_text(const char *src, size_t len, struct chorus_buf *out);
/* Speakable text of a Markdown span (emphasis, links, code, tables stripped). */
int chorus_book_markdown_text(const char *src, size_t len, struct chorus_buf *out);

/* subtitles.c */
struct sub_word {
    double start, end;
    const char *text;
    size_t len;
    int sentence_end; /* the word ends a sentence */
};
struct sub_writer;
int chorus_sub_open(struct sub_writer **out, const char *path, const char *kind, int per_word,
             char *err, size_t errcap);
int chorus_sub_add(struct sub_writer *w, const struct sub_word *word, double offset);
/* End the pending cue (a chapter ends). */
void chorus_sub_break(struct sub_writer *w);
/* Finish (flush the last cue) and rename into place; or abandon (commit 0). Frees w. */
int chorus_sub_close(struct sub_writer *w, int commit, char *err, size_t errcap);
/* Whether the text after a word (up to the next word) ends a sentence. */
int chorus_sub_sentence_end(const char *after, size_t n);
/* Widen a word's span [*s, *e) to the punctuation attached to it, within [lo, hi). */
void chorus_sub_span(const char *text, size_t lo, size_t hi, size_t *s, size_t *e);

/* m4b.c: join finished chapter files (same codec) into one file with chapters. */
struct book_mux_chapter {
    const char *file;
    const char *title;
};
struct book_mux_meta {
    const char *title, *author, *language;
    const unsigned char *cover;
    size_t cover_len;
    const char *cover_mime;
};
int chorus_book_mux(const char *out_path, const struct book_mux_chapter *ch, size_t n,
             const struct book_mux_meta *meta, double *durations, char *err, size_t errcap);

#endif
