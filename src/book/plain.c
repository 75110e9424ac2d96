/* plain.c — books in one file: Markdown (chapters at the top heading level that repeats; a
 * single top heading is the book's title; YAML front matter and pandoc's "% title" lines give
 * metadata), plain text (chapters at "Chapter …", "Part …", "Prologue"… lines after a blank line;
 * Project Gutenberg's header and licence left out, its Title/Author/Language read) and HTML
 * (chapters at h1, else h2). Chapters are byte ranges of the file (HTML: heading ordinals), so
 * their text is extracted only when needed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "book/book_internal.h"

/* ---- lines ---- */

struct line {
    const char *p;
    size_t n;    /* without the newline */
    size_t next; /* offset of the following line */
};

static int next_line(const char *s, size_t len, size_t off, struct line *l) {
    if (off >= len) return 0;
    const char *nl = memchr(s + off, '\n', len - off);
    l->p = s + off;
    l->n = nl ? (size_t)(nl - (s + off)) : len - off;
    l->next = off + l->n + (nl ? 1 : 0);
    if (l->n && l->p[l->n - 1] == '\r') l->n--;
    return 1;
}

static int blank(const struct line *l) {
    for (size_t i = 0; i < l->n; i++)
        if (!isspace((unsigned char)l->p[i])) return 0;
    return 1;
}

static void trim(const char **p, size_t *n) {
    while (*n && isspace((unsigned char)**p)) (*p)++, (*n)--;
    while (*n && isspace((unsigned char)(*p)[*n - 1])) (*n)--;
}

static char *dup_trim(const char *p, size_t n) {
    trim(&p, &n);
    return chorus_strndup(p, n);
}

/* ---- Markdown ---- */

/* ATX heading level of a line (1-6), or 0. */
static int atx_level(const struct line *l) {
    size_t i = 0;
    while (i < l->n && i < 3 && l->p[i] == ' ') i++;
    int lv = 0;
    while (i < l->n && l->p[i] == '#' && lv < 7) i++, lv++;
    if (lv < 1 || lv > 6) return 0;
    return i == l->n || l->p[i] == ' ' || l->p[i] == '\t' ? lv : 0;
}

static int setext_level(const struct line *l) {
    const char *p = l->p;
    size_t n = l->n;
    trim(&p, &n);
    if (!n || (p[0] != '=' && p[0] != '-')) return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != p[0]) return 0;
    return p[0] == '=' ? 1 : 2;
}

static int fence(const struct line *l) {
    const char *p = l->p;
    size_t n = l->n;
    trim(&p, &n);
    return n >= 3 && (strncmp(p, "```", 3) == 0 || strncmp(p, "~~~", 3) == 0);
}

struct md_head {
    size_t off; /* start of the heading's first line */
    int level;
    char *title;
};

static char *atx_title(const struct line *l) {
    const char *p = l->p;
    size_t n = l->n;
    trim(&p, &n);
    while (n && *p == '#') p++, n--;
    while (n && (p[n - 1] == '#' || isspace((unsigned char)p[n - 1]))) n--;
    return dup_trim(p, n);
}

static int md_scan(const char *s, size_t len, struct md_head **out, size_t *n_out, size_t *body) {
    struct md_head *h = NULL;
    size_t n = 0, off = 0, prev_off = 0;
    struct line l, prev = {0};
    int in_fence = 0, have_prev = 0;
    *body = 0;
    /* YAML front matter */
    if (next_line(s, len, 0, &l) && l.n == 3 && strncmp(l.p, "---", 3) == 0) {
        for (off = l.next; next_line(s, len, off, &l); off = l.next)
            if ((l.n == 3 && (strncmp(l.p, "---", 3) == 0 || strncmp(l.p, "...", 3) == 0))) {
                *body = off = l.next;
                break;
            }
        if (!*body) off = 0;
    }
    for (; next_line(s, len, off, &l); off = l.next) {
        if (fence(&l)) in_fence = !in_fence;
        int lv = in_fence ? 0 : atx_level(&l);
        int sx = !in_fence && have_prev && !blank(&prev) && !atx_level(&prev) ? setext_level(&l) : 0;
        if ((lv || sx) && n < BOOK_MAX_CHAPTERS) {
            struct md_head *t = realloc(h, (n + 1) * sizeof *h);
            if (!t) goto nomem;
            h = t;
            h[n].off = lv ? off : prev_off;
            h[n].level = lv ? lv : sx;
            h[n].title = lv ? atx_title(&l) : dup_trim(prev.p, prev.n);
            if (!h[n].title) goto nomem;
            n++;
        }
        prev = l;
        prev_off = off;
        have_prev = 1;
    }
    *out = h;
    *n_out = n;
    return CHORUS_OK;
nomem:
    for (size_t i = 0; i < n; i++) free(h[i].title);
    free(h);
    return CHORUS_E_NOMEM;
}

static void md_front_matter(struct chorus_book *b, const char *s, size_t body) {
    struct line l;
    for (size_t off = 0; off < body && next_line(s, body, off, &l); off = l.next) {
        char **dst = NULL;
        size_t k = 0;
        if (l.n > 6 && strncasecmp(l.p, "title:", 6) == 0) dst = &b->title, k = 6;
        else if (l.n > 7 && strncasecmp(l.p, "author:", 7) == 0) dst = &b->author, k = 7;
        else if (l.n > 5 && strncasecmp(l.p, "lang:", 5) == 0) dst = &b->language, k = 5;
        else if (l.n > 9 && strncasecmp(l.p, "language:", 9) == 0) dst = &b->language, k = 9;
        if (!dst || *dst) continue;
        const char *p = l.p + k;
        size_t n = l.n - k;
        trim(&p, &n);
        if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) p++, n -= 2;
        *dst = chorus_strndup(p, n);
    }
}

int chorus_book_markdown_open(struct chorus_book *b, const char *s, size_t len) {
    struct md_head *h = NULL;
    size_t n = 0, body = 0;
    int rc = md_scan(s, len, &h, &n, &body);
    if (rc) return rc;
    md_front_matter(b, s, body);
    /* split at the shallowest level that occurs more than once; a lone shallower heading
     * before it is the book's title */
    int split = 0;
    for (int lv = 1; lv <= 6 && !split; lv++) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++) c += h[i].level == lv;
        if (c >= 2) split = lv;
        else if (c == 1 && !b->title)
            for (size_t i = 0; i < n; i++)
                if (h[i].level == lv) b->title = chorus_strdup(h[i].title);
    }
    if (!split && n) split = h[0].level;
    size_t first = n;
    for (size_t i = 0; i < n; i++)
        if (h[i].level == split) {
            first = i;
            break;
        }
    /* text before the first chapter heading: kept as an opening chapter when it says much */
    size_t pre_end = first < n ? h[first].off : len;
    struct chorus_buf pre = {0};
    rc = chorus_book_markdown_text(s + body, pre_end - body, &pre);
    size_t pre_chars = rc ? 0 : chorus_utf8_chars(pre.p, pre.len);
    chorus_buf_release(&pre);
    if (!rc && (pre_chars >= 200 || first == n)) {
        const char *t = b->title ? b->title : "";
        rc = chorus_book_add_chapter(b, t, strlen(t));
        if (!rc) b->ch[b->n_ch - 1].off = body, b->ch[b->n_ch - 1].len = pre_end - body;
    }
    for (size_t i = first; !rc && i < n; i++) {
        if (h[i].level != split) continue;
        size_t end = len;
        for (size_t j = i + 1; j < n; j++)
            if (h[j].level <= split) {
                end = h[j].off;
                break;
            }
        rc = chorus_book_add_chapter(b, h[i].title, strlen(h[i].title));
        if (!rc) b->ch[b->n_ch - 1].off = h[i].off, b->ch[b->n_ch - 1].len = end - h[i].off;
    }
    for (size_t i = 0; i < n; i++) free(h[i].title);
    free(h);
    return rc;
}

/* Inline Markdown → words: links and images, emphasis, code spans, HTML tags, footnote refs. */
static int md_inline(const char *p, size_t n, struct chorus_buf *out) {
    for (size_t i = 0; i < n;) {
        char c = p[i];
        if (c == '!' && i + 1 < n && p[i + 1] == '[') { /* image: its alt text is not read */
            const char *close = memchr(p + i, ']', n - i);
            if (close && (size_t)(close - p) + 1 < n && close[1] == '(') {
                const char *rp = memchr(close, ')', n - (size_t)(close - p));
                if (rp) {
                    i = (size_t)(rp - p) + 1;
                    continue;
                }
            }
        }
        if (c == '[') {
            const char *close = memchr(p + i, ']', n - i);
            if (close && i + 1 < n && p[i + 1] == '^') { /* [^1] footnote reference */
                i = (size_t)(close - p) + 1;
                continue;
            }
            if (close) {
                size_t after = (size_t)(close - p) + 1;
                int r = md_inline(p + i + 1, (size_t)(close - p) - i - 1, out);
                if (r) return r;
                if (after < n && (p[after] == '(' || p[after] == '[')) {
                    const char *rp = memchr(p + after, p[after] == '(' ? ')' : ']', n - after);
                    after = rp ? (size_t)(rp - p) + 1 : after;
                }
                i = after;
                continue;
            }
        }
        if (c == '<') { /* an HTML tag or autolink */
            const char *gt = memchr(p + i, '>', n - i);
            if (gt && i + 1 < n && (isalpha((unsigned char)p[i + 1]) || p[i + 1] == '/')) {
                i = (size_t)(gt - p) + 1;
                continue;
            }
        }
        if (c == '*' || c == '`' || (c == '_' && (i == 0 || !isalnum((unsigned char)p[i - 1]) ||
                                                  i + 1 == n || !isalnum((unsigned char)p[i + 1])))) {
            i++;
            continue;
        }
        if (c == '\\' && i + 1 < n && ispunct((unsigned char)p[i + 1])) i++;
        if (chorus_buf_append(out, p + i, 1)) return CHORUS_E_NOMEM;
        i++;
    }
    return CHORUS_OK;
}

static int md_block_line(const struct line *l, struct chorus_buf *out, int *para) {
    const char *p = l->p;
    size_t n = l->n;
    trim(&p, &n);
    int head = atx_level(l) > 0;
    if (head) {
        while (n && *p == '#') p++, n--;
        while (n && (p[n - 1] == '#' || isspace((unsigned char)p[n - 1]))) n--;
        trim(&p, &n);
    }
    while (n && *p == '>') { /* block quote */
        p++, n--;
        trim(&p, &n);
    }
    if (n >= 2 && (p[0] == '-' || p[0] == '*' || p[0] == '+') && p[1] == ' ') p += 2, n -= 2;
    size_t d = 0;
    while (d < n && isdigit((unsigned char)p[d])) d++;
    if (d && d + 1 < n && (p[d] == '.' || p[d] == ')') && p[d + 1] == ' ') p += d + 2, n -= d + 2;
    if (n && p[0] == '|') { /* table row: cells become a list; separator rows vanish */
        int only_sep = 1;
        for (size_t i = 0; i < n; i++)
            if (!strchr("|-: ", p[i])) only_sep = 0;
        if (only_sep) return CHORUS_OK;
    }
    if (!n) return CHORUS_OK;
    if (out->len && chorus_buf_append(out, *para ? "\n\n" : " ", *para ? 2 : 1))
        return CHORUS_E_NOMEM;
    *para = 0;
    struct chorus_buf tmp = {0};
    int rc = md_inline(p, n, &tmp);
    for (size_t i = 0; !rc && i < tmp.len; i++)
        if (tmp.p[i] == '|') tmp.p[i] = ',';
    if (!rc && tmp.len) rc = chorus_buf_append(out, tmp.p, tmp.len);
    chorus_buf_release(&tmp);
    if (head) *para = 1;
    return rc;
}

int chorus_book_markdown_text(const char *s, size_t len, struct chorus_buf *out) {
    struct line l, nx;
    int in_fence = 0, para = 0, rc = CHORUS_OK;
    for (size_t off = 0; !rc && next_line(s, len, off, &l); off = l.next) {
        if (fence(&l)) {
            in_fence = !in_fence;
            para = 1;
            continue;
        }
        if (in_fence) continue;
        if (blank(&l) || setext_level(&l) == 1 ||
            (setext_level(&l) == 2 && l.n >= 3)) { /* blank, underline or rule */
            para = 1;
            continue;
        }
        const char *p = l.p;
        size_t n = l.n;
        trim(&p, &n);
        /* [id]: url and [^1]: footnote definitions are not read */
        if (n && p[0] == '[' && memchr(p, ']', n)) {
            const char *c = memchr(p, ']', n);
            if ((size_t)(c - p) + 1 < n && c[1] == ':') {
                if (p[1] == '^') /* skip the footnote's continuation lines too */
                    while (next_line(s, len, l.next, &nx) && !blank(&nx) &&
                           isspace((unsigned char)nx.p[0]))
                        l = nx;
                continue;
            }
        }
        int sx = next_line(s, len, l.next, &nx) && setext_level(&nx) == 1;
        rc = md_block_line(&l, out, &para);
        if (sx) para = 1;
    }
    return rc;
}

/* ---- plain text ---- */

static int starts_word(const char *p, size_t n, const char *w) {
    size_t k = strlen(w);
    return n >= k && strncasecmp(p, w, k) == 0 && (n == k || !isalpha((unsigned char)p[k]));
}

static int text_heading(const struct line *l) {
    const char *p = l->p;
    size_t n = l->n;
    trim(&p, &n);
    if (!n || n > 80) return 0;
    static const char *const words[] = {"chapter",  "part",         "book",
                                        "prologue", "epilogue",     "preface",
                                        "introduction", "afterword", "foreword",
                                        "interlude", "appendix",    NULL};
    for (const char *const *w = words; *w; w++)
        if (starts_word(p, n, *w)) {
            /* "Chapter 3", "CHAPTER III.", "Part One": a short line, not a sentence */
            return n < 60 && !(p[n - 1] == '.' && n > 20) ? 1 : 0;
        }
    return 0;
}

/* Project Gutenberg: the body is between the START and END lines; metadata is above. */
static void gutenberg(struct chorus_book *b, const char *s, size_t len, size_t *from,
                      size_t *to) {
    struct line l;
    *from = 0;
    *to = len;
    for (size_t off = 0; next_line(s, len, off, &l); off = l.next) {
        if (l.n > 9 && memmem(l.p, l.n, "*** START OF", 12)) {
            *from = l.next;
            continue;
        }
        if (l.n > 9 && memmem(l.p, l.n, "*** END OF", 10)) {
            *to = off;
            break;
        }
        if (*from) continue;
        char **dst = NULL;
        size_t k = 0;
        if (l.n > 6 && strncmp(l.p, "Title:", 6) == 0) dst = &b->title, k = 6;
        else if (l.n > 7 && strncmp(l.p, "Author:", 7) == 0) dst = &b->author, k = 7;
        else if (l.n > 9 && strncmp(l.p, "Language:", 9) == 0) dst = &b->language, k = 9;
        if (dst && !*dst) *dst = dup_trim(l.p + k, l.n - k);
    }
    if (b->language && strcasecmp(b->language, "english") == 0) {
        free(b->language);
        b->language = chorus_strdup("en");
    }
}

int chorus_book_text_open(struct chorus_book *b, const char *s, size_t len) {
    size_t from, to;
    gutenberg(b, s, len, &from, &to);
    struct line l, nx;
    int prev_blank = 1, rc = CHORUS_OK;
    size_t start = from;
    for (size_t off = from; !rc && off < to && next_line(s, to, off, &l); off = l.next) {
        int head = prev_blank && text_heading(&l);
        prev_blank = blank(&l);
        if (!head) continue;
        if (!b->n_ch && off > start) { /* the opening, before the first heading */
            struct chorus_buf t = {0};
            rc = chorus_book_plain_text(s + start, off - start, &t);
            size_t c = rc ? 0 : chorus_utf8_chars(t.p, t.len);
            chorus_buf_release(&t);
            if (!rc && c >= 200) {
                const char *tt = b->title ? b->title : "";
                rc = chorus_book_add_chapter(b, tt, strlen(tt));
                if (!rc) b->ch[0].off = start, b->ch[0].len = off - start;
            }
        }
        /* "CHAPTER I." followed by a short subtitle line: "CHAPTER I. Loomings" */
        char *title = dup_trim(l.p, l.n);
        size_t after = l.next;
        while (next_line(s, to, after, &nx) && blank(&nx)) after = nx.next;
        if (title && next_line(s, to, after, &nx) && nx.n < 60 && !text_heading(&nx)) {
            struct line nn;
            if (!next_line(s, to, nx.next, &nn) || blank(&nn)) {
                char *sub = dup_trim(nx.p, nx.n);
                size_t tl = strlen(title);
                char *j = sub ? malloc(tl + strlen(sub) + 3) : NULL;
                if (j) {
                    int dot = tl && strchr(".:", title[tl - 1]);
                    sprintf(j, "%s%s %s", title, dot ? "" : ":", sub);
                    free(title);
                    title = j;
                }
                free(sub);
            }
        }
        if (!title) return CHORUS_E_NOMEM;
        if (b->n_ch) {
            struct book_chapter *c = &b->ch[b->n_ch - 1];
            c->len = off - c->off;
        }
        rc = chorus_book_add_chapter(b, title, strlen(title));
        free(title);
        if (!rc) b->ch[b->n_ch - 1].off = off, b->ch[b->n_ch - 1].len = to - off;
    }
    if (!rc && !b->n_ch) {
        const char *tt = b->title ? b->title : "";
        rc = chorus_book_add_chapter(b, tt, strlen(tt));
        if (!rc) b->ch[0].off = from, b->ch[0].len = to - from;
    }
    return rc;
}

int chorus_book_plain_text(const char *s, size_t len, struct chorus_buf *out) {
    struct line l;
    int para = 0;
    for (size_t off = 0; next_line(s, len, off, &l); off = l.next) {
        if (blank(&l)) {
            para = 1;
            continue;
        }
        const char *p = l.p;
        size_t n = l.n;
        trim(&p, &n);
        if (out->len && chorus_buf_append(out, para ? "\n\n" : " ", para ? 2 : 1))
            return CHORUS_E_NOMEM;
        /* a heading line ends its own sentence */
        para = text_heading(&l);
        if (chorus_buf_append(out, p, n)) return CHORUS_E_NOMEM;
    }
    return CHORUS_OK;
}

/* ---- one HTML file ---- */

int chorus_book_html_open(struct chorus_book *b, const char *s, size_t len) {
    static const char *const tags[] = {"h1", "h2", NULL};
    char **titles = NULL;
    size_t n = 0;
    int rc = CHORUS_OK;
    for (const char *const *t = tags; *t && !rc; t++) {
        rc = chorus_book_html_headings(s, len, *t, &titles, &n);
        if (!rc && n >= 2) {
            b->split_tag = *t;
            break;
        }
        for (size_t i = 0; i < n; i++) free(titles[i]);
        free(titles);
        titles = NULL;
        n = 0;
    }
    if (!b->title) b->title = chorus_book_html_title(s, len);
    if (!rc && n >= 2) {
        /* text before the first heading is an opening chapter */
        struct chorus_buf pre = {0};
        struct book_html_opts o = {.split = b->split_tag, .from_nth = 0, .to_nth = 1};
        rc = chorus_book_html_text(s, len, &o, &pre);
        size_t c = rc ? 0 : chorus_utf8_chars(pre.p, pre.len);
        chorus_buf_release(&pre);
        if (!rc && c >= 200) {
            rc = chorus_book_add_chapter(b, b->title ? b->title : "", b->title ? strlen(b->title) : 0);
            if (!rc) b->ch[b->n_ch - 1].nth = 0;
        }
        for (size_t i = 0; !rc && i < n; i++) {
            rc = chorus_book_add_chapter(b, titles[i], strlen(titles[i]));
            if (!rc) b->ch[b->n_ch - 1].nth = (long)i + 1;
        }
    } else if (!rc) {
        b->split_tag = NULL;
        rc = chorus_book_add_chapter(b, b->title ? b->title : "", b->title ? strlen(b->title) : 0);
    }
    for (size_t i = 0; i < n; i++) free(titles[i]);
    free(titles);
    return rc;
}

int chorus_book_plain_chapter_text(struct chorus_book *b, size_t i, const char *src, size_t len,
                            struct chorus_buf *out) {
    const struct book_chapter *c = &b->ch[i];
    if (b->kind == BOOK_HTML) {
        struct book_html_opts o = {.speak_alt = b->speak_alt};
        if (b->split_tag) {
            o.split = b->split_tag;
            o.from_nth = c->nth;
            o.to_nth = i + 1 < b->n_ch ? b->ch[i + 1].nth : 0;
        }
        return chorus_book_html_text(src, len, &o, out);
    }
    if (c->off > len || c->len > len - c->off) return CHORUS_E_INVALID;
    if (b->kind == BOOK_MARKDOWN) return chorus_book_markdown_text(src + c->off, c->len, out);
    return chorus_book_plain_text(src + c->off, c->len, out);
}
