/* html_text.c — the speakable text of an (X)HTML document, read leniently with libxml2's HTML
 * parser (sloppy markup, HTML entities, unclosed tags): block elements become paragraph breaks,
 * whitespace is folded, and what a listener should not hear is left out — scripts, styles,
 * navigation, asides, footnotes and endnotes (EPUB 3 epub:type, DPUB-ARIA roles), note
 * references, ruby annotations. A span between two element ids can be extracted alone, which is
 * how several chapters in one file are read. */
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "book/book_internal.h"

#define MAX_DEPTH 400

struct walk {
    const struct book_html_opts *o;
    long nth; /* split elements seen */
    struct chorus_buf *out;
    int collecting, done;
    int space;     /* a space is due before the next text */
    int paragraph; /* a paragraph break is due */
    int rc;
};

static int name_is(const xmlNode *n, const char *name) {
    return n->name && strcasecmp((const char *)n->name, name) == 0;
}

static int is_block(const xmlNode *n) {
    static const char *const blocks[] = {
        "p",     "div",     "h1",   "h2",      "h3",      "h4",         "h5", "h6",
        "li",    "ul",      "ol",   "dl",      "dt",      "dd",         "tr", "table",
        "br",    "section", "article", "blockquote", "pre", "figure", "figcaption", "hr",
        "header", "footer", "main", "body",   "address", "td",        "th", "caption",
        "center", NULL};
    for (const char *const *b = blocks; *b; b++)
        if (name_is(n, *b)) return 1;
    return 0;
}

/* Attribute value by local name ("type" matches epub:type and type). */
static const char *attr_local(const xmlNode *n, const char *local, xmlChar **tofree) {
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        const char *nm = (const char *)a->name;
        const char *colon = strchr(nm, ':');
        const char *ln = colon ? colon + 1 : nm;
        if (strcasecmp(ln, local) == 0 && (strcmp(local, "type") != 0 || colon || a->ns)) {
            *tofree = xmlNodeGetContent((const xmlNode *)a);
            return (const char *)*tofree;
        }
    }
    return NULL;
}

static int has_word(const char *list, const char *const *words) {
    if (!list) return 0;
    for (const char *const *w = words; *w; w++) {
        size_t wl = strlen(*w);
        for (const char *p = list; (p = strstr(p, *w)); p += wl) {
            int left = p == list || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '-';
            int right = p[wl] == 0 || p[wl] == ' ' || p[wl] == '\t';
            if (left && right) return 1;
        }
    }
    return 0;
}

/* A class token starting with one of the prefixes ("footnote" matches footnote-ref, footnotes). */
static int class_prefix(const char *list, const char *const *prefixes) {
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t') p++;
        size_t n = strcspn(p, " \t");
        for (const char *const *w = prefixes; n && *w; w++)
            if (n >= strlen(*w) && strncasecmp(p, *w, strlen(*w)) == 0) return 1;
        p += n;
    }
    return 0;
}

/* Elements a listener should not hear. */
static int skipped(const xmlNode *n) {
    static const char *const names[] = {"head", "script", "style", "template", "noscript",
                                        "nav",  "aside",  "rt",    "rp",       "svg",
                                        "math", "object", "iframe", NULL};
    for (const char *const *s = names; *s; s++)
        if (name_is(n, *s)) return 1;
    static const char *const notes[] = {"footnote", "endnote",  "rearnote", "footnotes",
                                        "endnotes", "noteref",  "note",     "pagebreak",
                                        "doc-footnote", "doc-endnote", "doc-endnotes",
                                        "doc-noteref", "doc-pagebreak", "toc", NULL};
    xmlChar *t1 = NULL, *t2 = NULL;
    int skip = has_word(attr_local(n, "type", &t1), notes) ||
               has_word(attr_local(n, "role", &t2), notes);
    static const char *const classes[] = {"footnote", "endnote", "noteref", "pagenum",
                                          "page-number", NULL};
    xmlChar *t3 = NULL;
    skip = skip || class_prefix(attr_local(n, "class", &t3), classes);
    xmlFree(t1);
    xmlFree(t2);
    xmlFree(t3);
    if (skip) return 1;
    /* <sup><a href="#fn1">1</a></sup>: a note reference without markup saying so */
    if (name_is(n, "sup")) {
        for (const xmlNode *c = n->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && name_is(c, "a")) return 1;
    }
    return 0;
}

static int emit(struct walk *w, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
        /* U+00A0 no-break space counts as a space */
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
            ws = 1;
            i++;
        }
        if (ws) {
            w->space = 1;
            continue;
        }
        if (w->out->len) {
            if (w->paragraph) {
                if (chorus_buf_append(w->out, "\n\n", 2)) return CHORUS_E_NOMEM;
            } else if (w->space) {
                if (chorus_buf_append(w->out, " ", 1)) return CHORUS_E_NOMEM;
            }
        }
        w->paragraph = w->space = 0;
        if (chorus_buf_append(w->out, s + i, 1)) return CHORUS_E_NOMEM;
    }
    return CHORUS_OK;
}

static const char *node_id(const xmlNode *n, xmlChar **tofree) {
    const char *id = attr_local(n, "id", tofree);
    if (!id && name_is(n, "a")) id = attr_local(n, "name", tofree);
    return id;
}

static void walk(struct walk *w, const xmlNode *n, int depth) {
    for (; n && !w->done && !w->rc; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (w->collecting && n->content)
                w->rc = emit(w, (const char *)n->content, strlen((const char *)n->content));
            continue;
        }
        if (n->type != XML_ELEMENT_NODE) continue;
        if (w->o && (w->o->from || w->o->to)) {
            xmlChar *f = NULL;
            const char *id = node_id(n, &f);
            if (id && w->o->to && strcmp(id, w->o->to) == 0) w->done = 1;
            if (id && w->o->from && strcmp(id, w->o->from) == 0) w->collecting = 1;
            xmlFree(f);
            if (w->done) return;
        }
        if (w->o && w->o->split && name_is(n, w->o->split)) {
            w->nth++;
            if (w->o->to_nth && w->nth >= w->o->to_nth) {
                w->done = 1;
                return;
            }
            if (w->nth >= w->o->from_nth) w->collecting = 1;
        }
        if (skipped(n)) continue;
        int block = is_block(n);
        if (block) w->paragraph = 1;
        if (w->collecting && name_is(n, "img") && w->o && w->o->speak_alt) {
            xmlChar *f = NULL;
            const char *alt = attr_local(n, "alt", &f);
            if (alt && *alt) {
                w->space = 1;
                w->rc = emit(w, alt, strlen(alt));
                w->space = 1;
            }
            xmlFree(f);
        }
        if (depth < MAX_DEPTH) walk(w, n->children, depth + 1);
        if (block) w->paragraph = 1;
        /* inline elements still separate words at their edges only when the markup had spaces */
    }
}

static htmlDocPtr parse(const char *html, size_t len) {
    if (len > (size_t)0x7fffffff) return NULL;
    /* EPUB content is UTF-8 (or UTF-16 with a BOM); an HTML file naming another charset in a
     * <meta> is left to libxml2's detection. */
    const char *enc = "UTF-8";
    if (len >= 2 && (((unsigned char)html[0] == 0xFF && (unsigned char)html[1] == 0xFE) ||
                     ((unsigned char)html[0] == 0xFE && (unsigned char)html[1] == 0xFF)))
        enc = NULL;
    else {
        size_t scan = len < 2048 ? len : 2048;
        for (size_t i = 0; i + 8 < scan; i++)
            if (strncasecmp(html + i, "charset=", 8) == 0) {
                const char *v = html + i + 8;
                while (*v == '"' || *v == '\'') v++;
                if (strncasecmp(v, "utf-8", 5) != 0 && strncasecmp(v, "utf8", 4) != 0)
                    enc = NULL;
                break;
            }
    }
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
               HTML_PARSE_NONET | HTML_PARSE_NOBLANKS | HTML_PARSE_COMPACT;
    return htmlReadMemory(html, (int)len, NULL, enc, opts);
}

int book_html_text(const char *html, size_t len, const struct book_html_opts *o,
                   struct chorus_buf *out) {
    htmlDocPtr doc = parse(html, len);
    if (!doc) return CHORUS_OK; /* nothing readable: no text */
    struct walk w = {.o = o, .out = out,
                     .collecting = !(o && (o->from || (o->split && o->from_nth > 0)))};
    walk(&w, xmlDocGetRootElement(doc), 0);
    xmlFreeDoc(doc);
    return w.rc;
}

static const xmlNode *find_first(const xmlNode *n, const char *const *names, int depth) {
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        for (const char *const *s = names; *s; s++)
            if (name_is(n, *s)) return n;
        if (depth < MAX_DEPTH && !skipped(n)) {
            const xmlNode *f = find_first(n->children, names, depth + 1);
            if (f) return f;
        }
    }
    return NULL;
}

static char *folded_text(const xmlNode *n) {
    struct chorus_buf b = {0};
    struct walk w = {.out = &b, .collecting = 1};
    walk(&w, n->children, 0);
    if (w.rc || chorus_buf_append(&b, "", 1)) {
        chorus_buf_release(&b);
        return NULL;
    }
    for (char *p = b.p; *p; p++)
        if (*p == '\n') *p = ' ';
    return b.p;
}

char *book_html_title(const char *html, size_t len) {
    htmlDocPtr doc = parse(html, len);
    if (!doc) return chorus_strdup("");
    static const char *const heads[] = {"h1", "h2", "h3", NULL};
    static const char *const titles[] = {"title", NULL};
    const xmlNode *root = xmlDocGetRootElement(doc);
    char *t = NULL;
    const xmlNode *h = find_first(root, heads, 0);
    if (h) t = folded_text(h);
    if (!t || !*t) {
        free(t);
        t = NULL;
        /* <title> lives in <head>, which the walk skips: look there directly */
        for (const xmlNode *c = root ? root->children : NULL; c && !t; c = c->next)
            if (c->type == XML_ELEMENT_NODE && name_is(c, "head")) {
                const xmlNode *ti = NULL;
                for (const xmlNode *d = c->children; d; d = d->next)
                    if (d->type == XML_ELEMENT_NODE && name_is(d, titles[0])) ti = d;
                if (ti) t = folded_text(ti);
            }
    }
    xmlFreeDoc(doc);
    return t ? t : chorus_strdup("");
}

static void collect_heads(const xmlNode *n, const char *tag, char ***titles, size_t *count,
                          int depth, int *rc) {
    for (; n && !*rc; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || skipped(n)) continue;
        if (name_is(n, tag)) {
            if (*count >= BOOK_MAX_CHAPTERS) return;
            char **t = realloc(*titles, (*count + 1) * sizeof **titles);
            char *s = t ? folded_text(n) : NULL;
            if (t) *titles = t;
            if (!s) {
                *rc = CHORUS_E_NOMEM;
                return;
            }
            (*titles)[(*count)++] = s;
            continue;
        }
        if (depth < MAX_DEPTH) collect_heads(n->children, tag, titles, count, depth + 1, rc);
    }
}

int book_html_headings(const char *html, size_t len, const char *tag, char ***titles,
                       size_t *n) {
    *titles = NULL;
    *n = 0;
    htmlDocPtr doc = parse(html, len);
    if (!doc) return CHORUS_OK;
    int rc = CHORUS_OK;
    collect_heads(xmlDocGetRootElement(doc), tag, titles, n, 0, &rc);
    xmlFreeDoc(doc);
    return rc;
}
