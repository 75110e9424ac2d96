/*
 * fuzz_book.c — the book readers on hostile input. The first byte picks what the rest is:
 *   0: a whole file read as .epub (zip damage, bombs, lies about sizes)
 *   1/2/3: a Markdown / HTML / plain-text book
 *   4: the parts of an EPUB separated by "\n--8<--\n" — OPS/p.opf, OPS/toc.ncx, OPS/nav.xhtml,
 *      OPS/a.xhtml, OPS/b.xhtml — zipped here (libzip) so the package, NCX, nav and content
 *      parsers see well-formed zips with fuzzed XML.
 * Invariants: no crash or leak; open either succeeds with at least one chapter whose text is
 * NUL-terminated, or fails with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "chorus/book.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_book(const char *path) {
    struct chorus_book *b = NULL;
    int rc = chorus_book_open(path, &b);
    if (rc != CHORUS_OK) {
        if (b && !chorus_book_errmsg(b)[0]) abort(); /* every failure explains itself */
        chorus_book_close(b);
        return;
    }
    size_t n = chorus_book_chapter_count(b);
    if (!n) abort();
    for (size_t i = 0; i < n; i++) {
        if (!chorus_book_chapter_title(b, i)) abort();
        char *t = NULL;
        size_t len = 0;
        if (chorus_book_chapter_text(b, i, &t, &len) == CHORUS_OK && (!t || t[len])) abort();
        chorus_free(t);
    }
    chorus_book_close(b);
}

static int write_file(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(d, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static void zip_parts(const char *path, const uint8_t *d, size_t n) {
    static const char *const names[] = {"OPS/p.opf", "OPS/toc.ncx", "OPS/nav.xhtml", "OPS/a.xhtml",
                                        "OPS/b.xhtml"};
    static const char container[] =
        "<container xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>"
        "<rootfile full-path=\"OPS/p.opf\"/></rootfiles></container>";
    int err;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) return;
    zip_source_t *s = zip_source_buffer(z, container, sizeof container - 1, 0);
    if (s && zip_file_add(z, "META-INF/container.xml", s, 0) < 0) zip_source_free(s);
    const char *sep = "\n--8<--\n";
    const uint8_t *p = d, *end = d + n;
    for (size_t k = 0; k < 5 && p <= end; k++) {
        const uint8_t *q = memmem(p, (size_t)(end - p), sep, 8);
        size_t len = q ? (size_t)(q - p) : (size_t)(end - p);
        s = zip_source_buffer(z, p, len, 0);
        if (s && zip_file_add(z, names[k], s, 0) < 0) zip_source_free(s);
        if (!q) break;
        p = q + 8;
    }
    zip_close(z); /* writes the archive; the buffers are still ours here */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 20)) return 0;
    static const char *const ext[] = {"epub", "md", "html", "txt", "epub"};
    unsigned kind = data[0] % 5;
    char path[64];
    snprintf(path, sizeof path, "/tmp/chorus-fuzz-book-%ld.%s", (long)getpid(), ext[kind]);
    if (kind == 4) zip_parts(path, data + 1, size - 1);
    else if (write_file(path, data + 1, size - 1) != 0) return 0;
    check_book(path);
    unlink(path);
    return 0;
}
