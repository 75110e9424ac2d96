/*
 * chorus/book.h — long-form input: a book in, chaptered audio out (part of libchorus).
 *
 *     struct chorus_book *b;
 *     if (chorus_book_open("novel.epub", &b) != CHORUS_OK) {
 *         fprintf(stderr, "%s\n", chorus_book_errmsg(b));   // b holds the message
 *         chorus_book_close(b);
 *         return;
 *     }
 *     struct chorus_book_render_options o = chorus_book_render_default();
 *     o.output = "novel.m4b";
 *     if (chorus_book_render(engine, b, &o) != CHORUS_OK)
 *         fprintf(stderr, "%s\n", chorus_book_errmsg(b));
 *     chorus_book_close(b);
 *
 * Readers: EPUB 2 and 3 (container.xml → OPF → spine; chapters from the EPUB 3 nav or the EPUB 2
 * NCX, split at fragment anchors), Markdown (chapters at headings), HTML (chapters at h1/h2) and
 * plain text (chapters at "Chapter …"/"Part …" lines). PDF is not read (see docs/book.md).
 * A chapter's text is extracted only when asked for, so memory does not grow with the book.
 *
 * Thread safety: a book handle belongs to one thread at a time.
 * Errors: functions return enum chorus_status; the message of the last failed call on a book is
 * chorus_book_errmsg(book) (cleared by each call that can fail).
 */
#ifndef CHORUS_BOOK_H
#define CHORUS_BOOK_H

#include <stddef.h>

#include "chorus.h"

#ifdef __cplusplus
extern "C" {
#endif

struct chorus_book;

/**
 * Open and index a book: its format from the extension (.epub .md .markdown .html .htm .xhtml
 * .txt), else from its first bytes. On failure other than E_NOMEM, *out is still a handle holding
 * the message: read chorus_book_errmsg(), then chorus_book_close(). Failures: E_IO (unreadable),
 * E_INVALID (not a book this reader understands: a broken zip, a missing OPF, a spine pointing
 * nowhere, an entry over the size limits — zip bombs are refused, not inflated), E_EMPTY_TEXT.
 */
CHORUS_API int chorus_book_open(const char *path, struct chorus_book **out);
/** Close a book. NULL is a no-op. */
CHORUS_API void chorus_book_close(struct chorus_book *b);
/** The message of the last failed call on this book, "" if none. Never NULL for a non-NULL b. */
CHORUS_API const char *chorus_book_errmsg(const struct chorus_book *b);

/** Metadata (owned by the book; "" when the book does not say). */
CHORUS_API const char *chorus_book_title(const struct chorus_book *b);
CHORUS_API const char *chorus_book_author(const struct chorus_book *b);
/** BCP-47 language of the book ("en", "fr-CA"), "" when unknown. */
CHORUS_API const char *chorus_book_language(const struct chorus_book *b);
/** The format read: "epub", "markdown", "html" or "text". */
CHORUS_API const char *chorus_book_format(const struct chorus_book *b);
/** Cover image bytes and MIME type ("image/jpeg"); E_NOT_FOUND when the book has none. The
 *  bytes are owned by the book. */
CHORUS_API int chorus_book_cover(struct chorus_book *b, const unsigned char **data, size_t *len,
                                 const char **mime);

/** Number of chapters (at least 1 for an open book). */
CHORUS_API size_t chorus_book_chapter_count(const struct chorus_book *b);
/** Title of chapter i (0-based): the book's own (TOC label or heading), never a made-up
 *  "Chapter N" unless the book has no title for it. NULL if i is out of range. */
CHORUS_API const char *chorus_book_chapter_title(const struct chorus_book *b, size_t i);
/**
 * The spoken text of chapter i, extracted now: paragraphs separated by blank lines, footnotes,
 * asides, scripts and page-break markers left out. *out is a NUL-terminated string to
 * chorus_free(); *len (may be NULL) its length.
 */
CHORUS_API int chorus_book_chapter_text(struct chorus_book *b, size_t i, char **out, size_t *len);

/** Reading options (set before chorus_book_chapter_text / chorus_book_render). */
CHORUS_API void chorus_book_set_image_alt(struct chorus_book *b, int speak_alt_text);

/** Events of a render, for a progress display. */
enum chorus_book_event_type {
    CHORUS_BOOK_CHAPTER_START = 1, /**< a chapter begins (or is found done: skipped = 1) */
    CHORUS_BOOK_CHAPTER_PROGRESS,  /**< inside a chapter: chars_done of chars */
    CHORUS_BOOK_CHAPTER_DONE,      /**< a chapter is finished and recorded in the manifest */
    CHORUS_BOOK_ASSEMBLING         /**< every chapter is done; the final file is being written */
};
struct chorus_book_event {
    enum chorus_book_event_type type;
    size_t chapter;       /**< 0-based index in the book */
    size_t nth, of;       /**< 1-based position among the chapters rendered, and their count */
    const char *title;
    int skipped;          /**< CHAPTER_START: already done by an earlier run */
    size_t chars_done;    /**< characters of the selected chapters done so far (all chapters) */
    size_t chars_total;   /**< characters of the selected chapters */
    double audio_seconds; /**< audio produced so far (all chapters, earlier runs included) */
};
/** Return non-zero to cancel the render (the finished chapters stay recorded). */
typedef int (*chorus_book_fn)(const struct chorus_book_event *ev, void *userdata);

/** Options of chorus_book_render(). Get them from chorus_book_render_default(). */
struct chorus_book_render_options {
    size_t struct_size; /**< sizeof(struct chorus_book_render_options), set by the default */
    /** Output file: .m4b/.m4a (AAC in MP4 with chapters, tags and cover) or .mp3 (ID3 chapter
     *  frames); with `split`, a folder receiving one file per chapter. */
    const char *output;
    int split;                 /**< one file per chapter into the folder `output` */
    enum chorus_format format; /**< format of split files (DEFAULT: mp3) */
    /** Job folder holding finished chapters and the manifest; NULL: OUTPUT.chorus-job beside
     *  the output. Running again with the same job folder continues where it stopped. */
    const char *job_dir;
    const char *chapters;  /**< "3-7,9" (1-based, as --list shows them); NULL: all */
    size_t redo;           /**< 1-based chapter to speak again even if done; 0: none */
    const char *backend, *voice, *model; /**< as chorus_request; voice NULL: from the book's
                                              language where the backend takes language codes */
    const char *dialogue_voice; /**< voice for text in quotation marks, NULL: same voice */
    float speed;                /**< 0: default */
    const char *subtitles;      /**< "srt" or "vtt": also write OUTPUT.srt/.vtt; NULL: none */
    int subtitle_words;         /**< 1: one cue per word; 0: one per sentence */
    int sample_rate;            /**< 0: 24000 */
    chorus_book_fn callback;
    void *userdata;
};
CHORUS_API struct chorus_book_render_options chorus_book_render_default(void);

/**
 * Speak the selected chapters into the job folder, one finished file per chapter, writing the
 * manifest as each completes, then assemble the output atomically (temp file + rename). A run
 * interrupted at any point (Ctrl-C, kill -9) and started again with the same options continues
 * with the first unfinished chapter: nothing is spoken twice and nothing is lost. A job folder
 * made for another book or other voice settings is refused (E_INVALID, saying which).
 */
CHORUS_API int chorus_book_render(struct chorus_engine *e, struct chorus_book *b,
                                  const struct chorus_book_render_options *opts);

/**
 * Subtitles from word timings: write `n` words (chorus_word spans into `text`) as SubRip ("srt")
 * or WebVTT ("vtt") to `path`, atomically; one cue per word or per sentence. Times are offset by
 * `offset` seconds. Used by chorus_book_render() and `chorus say --subtitles`.
 */
CHORUS_API int chorus_subtitles_write(const char *path, const char *kind, const char *text,
                                      const struct chorus_word *words, size_t n, int per_word,
                                      char *errbuf, size_t errbuf_size);

#ifdef __cplusplus
}
#endif
#endif /* CHORUS_BOOK_H */
