/* epub.c — EPUB 2 and 3: META-INF/container.xml → the OPF package (metadata, manifest, spine,
 * linear="no" items left out) → chapters from the EPUB 3 navigation document (nav epub:type="toc")
 * or the EPUB 2 NCX, each starting at its TOC entry's document and fragment anchor and running to
 * the next entry's, across files where a chapter spans several. Package files are read with
 * libxml2's XML parser without network or external entities; content documents with its HTML
 * parser (html_text.c). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "book/book_internal.h"

#define MAX_PKG (8u << 20) /* container.xml, OPF, NCX, nav */

struct item {
    char *id, *path, *media, *props;
};

struct opf {
    char *path;
    struct item *items;
    size_t n_items;
    char *toc_id;   /* spine toc="ncx" */
    char *cover_id; /* EPUB 2 <meta name="cover" content="..."> */
};

static int lname_is(const xmlNode *n, const char *name) {
    return n && n->type == XML_ELEMENT_NODE && n->name &&
           strcasecmp((const char *)n->name, name) == 0;
}

static char *prop(const xmlNode *n, const char *name) {
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *s = chorus_strdup((const char *)v);
    xmlFree(v);
    return s;
}

static char *text_of(const xmlNode *n) {
    xmlChar *v = xmlNodeGetContent(n);
    if (!v) return chorus_strdup("");
    /* fold whitespace */
    char *s = chorus_strdup((const char *)v);
    xmlFree(v);
    if (!s) return NULL;
    char *d = s;
    int sp = 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            sp = d != s;
            continue;
        }
        if (sp) *d++ = ' ';
        sp = 0;
        *d++ = *p;
    }
    *d = 0;
    return s;
}

static xmlDocPtr read_xml(struct chorus_book *b, const char *name, int *rc) {
    char *buf = NULL;
    size_t len = 0;
    *rc = zipread_get(b->zip, name, MAX_PKG, &buf, &len, b->err, sizeof b->err);
    if (*rc) return NULL;
    xmlDocPtr d = xmlReadMemory(buf, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    free(buf);
    if (!d) *rc = book_fail(b, CHORUS_E_INVALID, "%s in the EPUB is not well-formed XML", name);
    return d;
}

/* Depth-first search for the first element with local name `name`. */
static const xmlNode *find(const xmlNode *n, const char *name, int depth) {
    for (; n && depth < 64; n = n->next) {
        if (lname_is(n, name)) return n;
        const xmlNode *f = find(n->children, name, depth + 1);
        if (f) return f;
    }
    return NULL;
}

static int container_rootfile(struct chorus_book *b, char **opf_path) {
    int rc;
    xmlDocPtr d = read_xml(b, "META-INF/container.xml", &rc);
    if (!d)
        return rc == CHORUS_E_NOT_FOUND
                   ? book_fail(b, CHORUS_E_INVALID,
                               "%s has no META-INF/container.xml: not an EPUB", b->path)
                   : rc;
    const xmlNode *rf = find(xmlDocGetRootElement(d), "rootfile", 0);
    *opf_path = rf ? prop(rf, "full-path") : NULL;
    xmlFreeDoc(d);
    if (!*opf_path || !**opf_path) {
        free(*opf_path);
        *opf_path = NULL;
        return book_fail(b, CHORUS_E_INVALID,
                         "%s: META-INF/container.xml names no package (rootfile full-path)",
                         b->path);
    }
    return CHORUS_OK;
}

static void opf_free(struct opf *o) {
    for (size_t i = 0; i < o->n_items; i++) {
        free(o->items[i].id);
        free(o->items[i].path);
        free(o->items[i].media);
        free(o->items[i].props);
    }
    free(o->items);
    free(o->path);
    free(o->toc_id);
    free(o->cover_id);
}

static const struct item *item_by_id(const struct opf *o, const char *id) {
    for (size_t i = 0; id && i < o->n_items; i++)
        if (o->items[i].id && strcmp(o->items[i].id, id) == 0) return &o->items[i];
    return NULL;
}

static const struct item *item_with_prop(const struct opf *o, const char *p) {
    for (size_t i = 0; i < o->n_items; i++) {
        const char *pr = o->items[i].props;
        if (!pr) continue;
        for (const char *s = pr; (s = strstr(s, p)); s++) {
            size_t l = strlen(p);
            if ((s == pr || s[-1] == ' ') && (s[l] == 0 || s[l] == ' ')) return &o->items[i];
        }
    }
    return NULL;
}

static void read_metadata(struct chorus_book *b, const xmlNode *md, struct opf *o) {
    for (const xmlNode *n = md ? md->children : NULL; n; n = n->next) {
        char **dst = lname_is(n, "title")      ? &b->title
                     : lname_is(n, "creator")  ? &b->author
                     : lname_is(n, "language") ? &b->language
                                               : NULL;
        if (dst && !*dst) *dst = text_of(n);
        if (lname_is(n, "meta") && !o->cover_id) {
            char *name = prop(n, "name");
            if (name && strcmp(name, "cover") == 0) o->cover_id = prop(n, "content");
            free(name);
        }
    }
}

static int read_manifest(struct chorus_book *b, const xmlNode *mf, struct opf *o) {
    size_t n = 0;
    for (const xmlNode *c = mf ? mf->children : NULL; c; c = c->next)
        if (lname_is(c, "item")) n++;
    o->items = calloc(n ? n : 1, sizeof *o->items);
    if (!o->items) return CHORUS_E_NOMEM;
    for (const xmlNode *c = mf ? mf->children : NULL; c; c = c->next) {
        if (!lname_is(c, "item")) continue;
        struct item *it = &o->items[o->n_items];
        char *href = prop(c, "href");
        it->id = prop(c, "id");
        it->media = prop(c, "media-type");
        it->props = prop(c, "properties");
        if (href) zipread_resolve(o->path, href, &it->path, NULL);
        free(href);
        o->n_items++;
    }
    return CHORUS_OK;
}

static int read_spine(struct chorus_book *b, const xmlNode *sp, struct opf *o) {
    if (!sp) return book_fail(b, CHORUS_E_INVALID, "%s: the package has no spine", b->path);
    o->toc_id = prop(sp, "toc");
    size_t n = 0;
    for (const xmlNode *c = sp->children; c; c = c->next)
        if (lname_is(c, "itemref")) n++;
    if (n > BOOK_MAX_SPINE)
        return book_fail(b, CHORUS_E_INVALID, "%s: the spine has %zu items (limit %d)", b->path,
                         n, BOOK_MAX_SPINE);
    b->spine = calloc(n ? n : 1, sizeof *b->spine);
    if (!b->spine) return CHORUS_E_NOMEM;
    for (const xmlNode *c = sp->children; c; c = c->next) {
        if (!lname_is(c, "itemref")) continue;
        char *idref = prop(c, "idref"), *linear = prop(c, "linear");
        const struct item *it = item_by_id(o, idref);
        int skip = linear && strcmp(linear, "no") == 0;
        if (it && it->path && !skip) {
            b->spine[b->n_spine] = chorus_strdup(it->path);
            if (!b->spine[b->n_spine]) {
                free(idref);
                free(linear);
                return CHORUS_E_NOMEM;
            }
            b->n_spine++;
        }
        free(idref);
        free(linear);
    }
    if (!b->n_spine)
        return book_fail(b, CHORUS_E_INVALID,
                         "%s: the spine points at no document in the manifest", b->path);
    return CHORUS_OK;
}

static int read_opf(struct chorus_book *b, struct opf *o) {
    int rc;
    xmlDocPtr d = read_xml(b, o->path, &rc);
    if (!d)
        return rc == CHORUS_E_NOT_FOUND
                   ? book_fail(b, CHORUS_E_INVALID,
                               "%s: container.xml names %s, which the EPUB lacks", b->path,
                               o->path)
                   : rc;
    const xmlNode *root = xmlDocGetRootElement(d);
    read_metadata(b, find(root, "metadata", 0), o);
    rc = read_manifest(b, find(root, "manifest", 0), o);
    if (!rc) rc = read_spine(b, find(root, "spine", 0), o);
    xmlFreeDoc(d);
    return rc;
}

static long spine_index(const struct chorus_book *b, const char *path) {
    for (size_t i = 0; i < b->n_spine; i++)
        if (strcmp(b->spine[i], path) == 0) return (long)i;
    return -1;
}

/* One TOC entry → a chapter start, kept only if it moves forward through the spine. */
static int toc_entry(struct chorus_book *b, const char *base, const char *href, char *title) {
    char *path = NULL, *frag = NULL;
    int rc = zipread_resolve(base, href, &path, &frag);
    if (rc) {
        free(title);
        return rc;
    }
    long s = spine_index(b, path);
    free(path);
    struct book_chapter *last = b->n_ch ? &b->ch[b->n_ch - 1] : NULL;
    int same = last && (size_t)s == last->start.spine &&
               ((!frag && !last->start.anchor) ||
                (frag && last->start.anchor && strcmp(frag, last->start.anchor) == 0));
    if (s < 0 || (last && (size_t)s < last->start.spine) || same || b->n_ch >= BOOK_MAX_CHAPTERS) {
        free(frag);
        free(title);
        return CHORUS_OK;
    }
    rc = book_add_chapter(b, title ? title : "", title ? strlen(title) : 0);
    free(title);
    if (rc) {
        free(frag);
        return rc;
    }
    b->ch[b->n_ch - 1].start.spine = (size_t)s;
    b->ch[b->n_ch - 1].start.anchor = frag;
    return CHORUS_OK;
}

static void ncx_points(struct chorus_book *b, const char *base, const xmlNode *n, int depth) {
    for (; n && depth < 32; n = n->next) {
        if (!lname_is(n, "navPoint")) continue;
        const xmlNode *label = find(n->children, "navLabel", 0);
        const xmlNode *content = NULL;
        for (const xmlNode *c = n->children; c; c = c->next)
            if (lname_is(c, "content")) content = c;
        char *src = content ? prop(content, "src") : NULL;
        if (src) toc_entry(b, base, src, label ? text_of(label) : NULL);
        free(src);
        ncx_points(b, base, n->children, depth + 1);
    }
}

static int read_ncx(struct chorus_book *b, const struct item *ncx) {
    int rc;
    xmlDocPtr d = read_xml(b, ncx->path, &rc);
    if (!d) return rc;
    const xmlNode *map = find(xmlDocGetRootElement(d), "navMap", 0);
    if (map) ncx_points(b, ncx->path, map->children, 0);
    xmlFreeDoc(d);
    return CHORUS_OK;
}

static int is_toc_nav(const xmlNode *n) {
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        const char *nm = (const char *)a->name;
        const char *ln = strchr(nm, ':') ? strchr(nm, ':') + 1 : nm;
        if (strcmp(ln, "type") != 0 && strcmp(nm, "role") != 0) continue;
        xmlChar *v = xmlNodeGetContent((const xmlNode *)a);
        int toc = v && (strstr((const char *)v, "toc") != NULL);
        xmlFree(v);
        if (toc) return 1;
    }
    return 0;
}

static void nav_links(struct chorus_book *b, const char *base, const xmlNode *n, int depth) {
    for (; n && depth < 64; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (lname_is(n, "a")) {
            char *href = prop(n, "href");
            if (href) toc_entry(b, base, href, text_of(n));
            free(href);
            continue;
        }
        nav_links(b, base, n->children, depth + 1);
    }
}

static const xmlNode *find_toc_nav(const xmlNode *n, int depth) {
    for (; n && depth < 64; n = n->next) {
        if (lname_is(n, "nav") && is_toc_nav(n)) return n;
        const xmlNode *f = find_toc_nav(n->children, depth + 1);
        if (f) return f;
    }
    return NULL;
}

static int read_nav(struct chorus_book *b, const struct item *nav) {
    char *buf = NULL;
    size_t len = 0;
    int rc = zipread_get(b->zip, nav->path, MAX_PKG, &buf, &len, b->err, sizeof b->err);
    if (rc) return rc;
    htmlDocPtr d = htmlReadMemory(buf, (int)len, NULL, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                      HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    free(buf);
    if (!d) return CHORUS_OK;
    const xmlNode *toc = find_toc_nav(xmlDocGetRootElement(d), 0);
    if (toc) nav_links(b, nav->path, toc->children, 0);
    xmlFreeDoc(d);
    return CHORUS_OK;
}

/* No usable TOC: a chapter per spine document, titled by its first heading. */
static int chapters_from_spine(struct chorus_book *b) {
    for (size_t i = 0; i < b->n_spine && b->n_ch < BOOK_MAX_CHAPTERS; i++) {
        char *buf = NULL, *title;
        size_t len = 0;
        int rc = zipread_get(b->zip, b->spine[i], BOOK_MAX_ENTRY, &buf, &len, b->err,
                             sizeof b->err);
        if (rc == CHORUS_E_NOMEM) return rc;
        title = rc ? NULL : book_html_title(buf, len);
        free(buf);
        rc = book_add_chapter(b, title ? title : "", title ? strlen(title) : 0);
        free(title);
        if (rc) return rc;
        b->ch[b->n_ch - 1].start.spine = i;
    }
    b->err[0] = 0;
    return CHORUS_OK;
}

static int read_cover(struct chorus_book *b, const struct opf *o) {
    const struct item *c = item_with_prop(o, "cover-image");
    if (!c) c = item_by_id(o, o->cover_id);
    if (!c || !c->path || !c->media || strncmp(c->media, "image/", 6) != 0) return CHORUS_OK;
    char *buf = NULL;
    size_t len = 0;
    char err[256];
    int rc = zipread_get(b->zip, c->path, BOOK_MAX_COVER, &buf, &len, err, sizeof err);
    if (rc == CHORUS_E_NOMEM) return rc;
    if (rc) return CHORUS_OK; /* a missing or oversized cover is no reason to refuse the book */
    b->cover = (unsigned char *)buf;
    b->cover_len = len;
    b->cover_mime = chorus_strdup(c->media);
    return b->cover_mime ? CHORUS_OK : CHORUS_E_NOMEM;
}

int book_epub_open(struct chorus_book *b) {
    int rc = zipread_open(b->path, &b->zip, b->err, sizeof b->err);
    if (rc) return rc;
    struct opf o = {0};
    rc = container_rootfile(b, &o.path);
    if (!rc) rc = read_opf(b, &o);
    if (!rc) {
        const struct item *nav = item_with_prop(&o, "nav");
        const struct item *ncx = item_by_id(&o, o.toc_id);
        if (!ncx)
            for (size_t i = 0; i < o.n_items && !ncx; i++)
                if (o.items[i].media && strcmp(o.items[i].media, "application/x-dtbncx+xml") == 0)
                    ncx = &o.items[i];
        if (nav && nav->path) rc = read_nav(b, nav);
        if (!rc && !b->n_ch && ncx && ncx->path) rc = read_ncx(b, ncx);
        if (rc && rc != CHORUS_E_NOMEM) { /* a broken TOC: fall back to the spine */
            rc = CHORUS_OK;
            b->err[0] = 0;
        }
        if (!rc && !b->n_ch) rc = chapters_from_spine(b);
    }
    if (!rc) rc = read_cover(b, &o);
    opf_free(&o);
    return rc;
}

/* The text of chapter i: from its start to the next chapter's start, across spine documents. */
int book_epub_chapter_text(struct chorus_book *b, size_t i, struct chorus_buf *out) {
    const struct book_pos *from = &b->ch[i].start;
    const struct book_pos *to = i + 1 < b->n_ch ? &b->ch[i + 1].start : NULL;
    size_t last = to ? to->spine : b->n_spine - 1;
    for (size_t s = from->spine; s <= last && s < b->n_spine; s++) {
        if (to && s == to->spine && !to->anchor) break;
        char *buf = NULL;
        size_t len = 0;
        int rc = zipread_get(b->zip, b->spine[s], BOOK_MAX_ENTRY, &buf, &len, b->err,
                             sizeof b->err);
        if (rc == CHORUS_E_NOT_FOUND) continue; /* a spine item the zip lacks: nothing to say */
        if (rc) return rc;
        struct book_html_opts ho = {.from = s == from->spine ? from->anchor : NULL,
                                    .to = to && s == to->spine ? to->anchor : NULL,
                                    .speak_alt = b->speak_alt};
        size_t before = out->len;
        if (before && chorus_buf_append(out, "\n\n", 2)) rc = CHORUS_E_NOMEM;
        if (!rc) rc = book_html_text(buf, len, &ho, out);
        if (!rc && out->len == before + (before ? 2 : 0)) out->len = before; /* nothing added */
        free(buf);
        if (rc) return rc;
    }
    return CHORUS_OK;
}
