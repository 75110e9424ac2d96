/*
 * ssml.c — SSML to a plan of runs, with libexpat, securely.
 *
 * Security: no DTD at all (a <!DOCTYPE> is refused, so no entity can be declared: "billion
 * laughs" and external entities die on their first line), parameter entity parsing off, and
 * bounds on size, depth and element count.
 */
#include "text/text.h"
#include "text/pron.h"

#include <ctype.h>
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAGRAPH_PAUSE 0.5

struct chorus_ssml_doc {
    struct chorus_ssml_run *runs;
    size_t n_runs, cap_runs;
    char **strings; /* interned attribute values, freed with the document */
    size_t n_strings, cap_strings;
    struct chorus_pron_span *spans; /* <phoneme> contents, in document order */
    size_t n_spans, cap_spans;
};

enum capture { CAP_NONE, CAP_SAYAS, CAP_SUB, CAP_SKIP };

struct frame {
    const char *voice, *language;
    float rate, pitch, volume;
    enum capture cap;
    const char *sayas_interpret, *sayas_format, *sub_alias;
    size_t elem_offset; /* document offset of the element's start tag */
    int phoneme;        /* this element is a <phoneme> */
    const char *ph;     /* its ph, usable by an engine of kind ph_kind (-1: none) */
    int ph_kind;
    size_t ph_start;    /* document offset of its content */
    size_t content_start; /* document offset just past the start tag */
};

struct parser {
    XML_Parser xp;
    const char *src;
    size_t src_len;
    struct chorus_ssml_doc *doc;
    struct frame stack[CHORUS_SSML_MAX_DEPTH + 1];
    int depth;
    size_t elements;
    int seen_root;

    /* the run being built; open when run_open */
    int run_open;
    struct chorus_textbuf text;
    struct frame run_attrs;

    /* what the next run gets */
    double pend_pause;
    int pend_para;
    char **pend_marks;
    size_t n_pend_marks;

    /* say-as / sub capture */
    struct chorus_textbuf capture;

    int sep_after; /* spoken words (say-as, sub) just ended: keep a following word apart */
    int at_end;  /* parsing finished: runs end at the document's end */
    int failed; /* CHORUS_E_* once an error is recorded */
    char *err;
    size_t errlen;
};

/* ---- document ---------------------------------------------------------------------------- */

void chorus_ssml_doc_free(struct chorus_ssml_doc *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_runs; i++) {
        free(d->runs[i].text);
        free(d->runs[i].map);
        free(d->runs[i].marks); /* names are interned strings */
    }
    free(d->runs);
    for (size_t i = 0; i < d->n_strings; i++) free(d->strings[i]);
    free(d->strings);
    free(d->spans);
    free(d);
}

const struct chorus_ssml_run *chorus_ssml_doc_run(const struct chorus_ssml_doc *d, size_t i) {
    return d && i < d->n_runs ? &d->runs[i] : NULL;
}

size_t chorus_ssml_doc_count(const struct chorus_ssml_doc *d) { return d ? d->n_runs : 0; }

const struct chorus_pron_span *chorus_ssml_doc_spans(const struct chorus_ssml_doc *d, size_t *n) {
    *n = d ? d->n_spans : 0;
    return d ? d->spans : NULL;
}

int chorus_ssml_doc_is_blank(const struct chorus_ssml_doc *d) {
    for (size_t i = 0; d && i < d->n_runs; i++) {
        const struct chorus_ssml_run *r = &d->runs[i];
        if (r->n_marks || !chorus_text_is_blank(r->text, r->len)) return 0;
    }
    return 1;
}

/* ---- errors ------------------------------------------------------------------------------ */

static void fail(struct parser *p, int code, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = code;
    int k = snprintf(p->err, p->errlen, "ssml: line %lu, column %lu: ",
                     (unsigned long)XML_GetCurrentLineNumber(p->xp),
                     (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1);
    if (k >= 0 && (size_t)k < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    chorus_utf8_sanitize(p->err); /* quoted values are clipped, maybe inside a character */
    XML_StopParser(p->xp, XML_FALSE);
}

static const char *intern(struct parser *p, const char *s) {
    struct chorus_ssml_doc *d = p->doc;
    if (d->n_strings == d->cap_strings) {
        size_t cap = d->cap_strings ? d->cap_strings * 2 : 16;
        char **v = realloc(d->strings, cap * sizeof *v);
        if (!v) goto oom;
        d->strings = v;
        d->cap_strings = cap;
    }
    char *c = strdup(s);
    if (!c) goto oom;
    d->strings[d->n_strings++] = c;
    return c;
oom:
    fail(p, CHORUS_E_NOMEM, "out of memory");
    return NULL;
}

/* ---- runs -------------------------------------------------------------------------------- */

static int same_str(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_attrs(const struct frame *a, const struct frame *b) {
    return same_str(a->voice, b->voice) && same_str(a->language, b->language) &&
           a->rate == b->rate && a->pitch == b->pitch && a->volume == b->volume;
}

/* Close the run being built (if any) and add it to the document. */
static void close_run(struct parser *p) {
    p->sep_after = 0;
    if (!p->run_open) return;
    p->run_open = 0;
    struct chorus_ssml_doc *d = p->doc;
    if (d->n_runs == d->cap_runs) {
        size_t cap = d->cap_runs ? d->cap_runs * 2 : 8;
        struct chorus_ssml_run *v = realloc(d->runs, cap * sizeof *v);
        if (!v) {
            fail(p, CHORUS_E_NOMEM, "out of memory");
            return;
        }
        d->runs = v;
        d->cap_runs = cap;
    }
    struct chorus_ssml_run *r = &d->runs[d->n_runs];
    memset(r, 0, sizeof *r);
    /* hand the buffer over: it is NUL-terminated and map has room for map[len] */
    if (chorus_textbuf_reserve(&p->text, 0) < 0) {
        fail(p, CHORUS_E_NOMEM, "out of memory");
        return;
    }
    r->text = p->text.text;
    r->map = p->text.map;
    r->len = p->text.len;
    /* the run's span ends just after its last text byte (tags after it are not its text) */
    long long idx = p->at_end ? -1 : (long long)XML_GetCurrentByteIndex(p->xp);
    if (r->len) {
        size_t e = r->len;
        while (e > 0 && r->text[e - 1] == ' ') e--; /* white space before the next tag */
        r->map[r->len] = e ? r->map[e - 1] + 1 : r->map[0];
    } else {
        r->map[r->len] = idx >= 0 && (size_t)idx <= p->src_len ? (size_t)idx : p->src_len;
    }
    chorus_textbuf_init(&p->text);
    r->pause_before = p->pend_pause;
    r->paragraph_start = p->pend_para;
    r->marks = p->pend_marks;
    r->n_marks = p->n_pend_marks;
    r->voice = p->run_attrs.voice;
    r->language = p->run_attrs.language;
    r->rate = p->run_attrs.rate;
    r->pitch = p->run_attrs.pitch;
    r->volume = p->run_attrs.volume;
    p->pend_pause = 0;
    p->pend_para = 0;
    p->pend_marks = NULL;
    p->n_pend_marks = 0;
    d->n_runs++;
}

/* Make sure a run with the current attributes is open. */
static void open_run(struct parser *p) {
    const struct frame *f = &p->stack[p->depth];
    if (p->run_open && same_attrs(&p->run_attrs, f)) return;
    close_run(p);
    p->run_open = 1;
    p->run_attrs = *f;
}

static int wordish(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* Before spoken words: a space if the run ends inside a word. */
static void sep_before(struct parser *p, size_t off) {
    if (p->text.len && wordish((unsigned char)p->text.text[p->text.len - 1]) &&
        chorus_textbuf_put(&p->text, " ", 1, off) < 0)
        fail(p, CHORUS_E_NOMEM, "out of memory");
}

static void add_text(struct parser *p, const char *s, size_t n, size_t off, int mapped) {
    if (p->failed || n == 0) return;
    struct frame *f = &p->stack[p->depth];
    if (f->cap == CAP_SKIP) return;
    struct chorus_textbuf *b = f->cap == CAP_NONE ? &p->text : &p->capture;
    if (f->cap == CAP_SUB) return; /* the alias is spoken instead */
    if (f->cap == CAP_NONE) {
        if (!p->run_open && chorus_text_is_blank(s, n) && !p->n_pend_marks) {
            /* white space between elements opens no run, but keeps words apart */
            return;
        }
        open_run(p);
        b = &p->text;
        if (p->sep_after && wordish((unsigned char)s[0]) && b->len &&
            b->text[b->len - 1] != ' ' && chorus_textbuf_put(b, " ", 1, off) < 0) {
            fail(p, CHORUS_E_NOMEM, "out of memory");
            return;
        }
        p->sep_after = 0;
    }
    int rc = mapped ? chorus_textbuf_copy(b, s, n, off) : chorus_textbuf_put(b, s, n, off);
    if (rc < 0) fail(p, CHORUS_E_NOMEM, "out of memory");
}

/* ---- attribute values -------------------------------------------------------------------- */

static const char *attr(const XML_Char **atts, const char *name) {
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0) return atts[i + 1];
    return NULL;
}

/* "500ms", "1.5s", "2" (seconds). -1 if not a duration. */
static double parse_duration(const char *v) {
    char *end;
    while (isspace((unsigned char)*v)) v++;
    if (!isdigit((unsigned char)*v) && *v != '.') return -1;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x) || x < 0) return -1;
    while (isspace((unsigned char)*end)) end++;
    if (strcmp(end, "ms") == 0) x /= 1000.0;
    else if (strcmp(end, "s") == 0 || *end == '\0') (void)0;
    else return -1;
    return x;
}

/* A relative value: "+20%", "150%", "-2st", "+6dB", "1.2", or a named level from the table.
 * Returns the multiplier, or -1. */
struct level {
    const char *name;
    double value;
};

static double parse_relative(const char *v, const struct level *levels, int kind) {
    for (const struct level *l = levels; l->name; l++)
        if (strcmp(v, l->name) == 0) return l->value;
    char *end;
    int sign = (*v == '+' || *v == '-');
    double x = strtod(v, &end);
    if (end == v || !isfinite(x)) return -1;
    if (strcmp(end, "%") == 0) return sign ? 1.0 + x / 100.0 : x / 100.0;
    if (kind == 'p' && strcmp(end, "st") == 0) return pow(2.0, x / 12.0);
    if (kind == 'v' && strcmp(end, "dB") == 0) return pow(10.0, x / 20.0);
    if (kind == 'p' && strcmp(end, "Hz") == 0) /* relative to a 120 Hz speaking voice */
        return sign ? (120.0 + x) / 120.0 : x / 120.0;
    if (*end == '\0' && !sign) return x;
    return -1;
}

static const struct level rate_levels[] = {{"x-slow", 0.5}, {"slow", 0.75}, {"medium", 1.0},
                                           {"fast", 1.25},  {"x-fast", 1.75}, {"default", 1.0},
                                           {NULL, 0}};
static const struct level pitch_levels[] = {{"x-low", 0.7},  {"low", 0.85},   {"medium", 1.0},
                                            {"high", 1.15},  {"x-high", 1.3}, {"default", 1.0},
                                            {NULL, 0}};
static const struct level volume_levels[] = {{"silent", 0.0}, {"x-soft", 0.25}, {"soft", 0.5},
                                             {"medium", 1.0}, {"loud", 1.5},    {"x-loud", 2.0},
                                             {"default", 1.0}, {NULL, 0}};
static const struct level strength_levels[] = {{"none", 0.0},   {"x-weak", 0.1}, {"weak", 0.25},
                                               {"medium", 0.5}, {"strong", 0.8},
                                               {"x-strong", 1.2}, {NULL, 0}};

static float clampf(double x, double lo, double hi) {
    return (float)(x < lo ? lo : x > hi ? hi : x);
}

/* ---- expat handlers ---------------------------------------------------------------------- */

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    struct parser *p = ud;
    if (p->failed) return;
    size_t off = (size_t)XML_GetCurrentByteIndex(p->xp);
    if (++p->elements > CHORUS_SSML_MAX_ELEMENTS) {
        fail(p, CHORUS_E_TOO_LONG, "more than %d elements; split the document",
             CHORUS_SSML_MAX_ELEMENTS);
        return;
    }
    if (p->depth >= CHORUS_SSML_MAX_DEPTH) {
        fail(p, CHORUS_E_SSML, "elements nested deeper than %d", CHORUS_SSML_MAX_DEPTH);
        return;
    }
    if (!p->seen_root) {
        p->seen_root = 1;
        if (strcmp(name, "speak") != 0) {
            fail(p, CHORUS_E_SSML, "the root element is <%.40s>; an SSML document starts with <speak>",
                 name);
            return;
        }
    }
    struct frame *parent = &p->stack[p->depth];
    struct frame f = *parent;
    f.elem_offset = off;
    f.content_start = off + (size_t)XML_GetCurrentByteCount(p->xp);
    f.phoneme = 0;
    if (parent->cap != CAP_NONE) {
        /* markup inside say-as/sub/skipped content adds nothing */
        p->stack[++p->depth] = f;
        return;
    }
    const char *lang = attr(atts, "xml:lang");
    if (lang && !(f.language = intern(p, lang))) return;

    if (strcmp(name, "speak") == 0) {
        if (p->depth != 0) {
            fail(p, CHORUS_E_SSML, "<speak> inside <speak>");
            return;
        }
    } else if (strcmp(name, "p") == 0 || strcmp(name, "paragraph") == 0) {
        close_run(p);
        if (p->doc->n_runs > 0) p->pend_pause += PARAGRAPH_PAUSE;
        p->pend_para = 1;
    } else if (strcmp(name, "s") == 0 || strcmp(name, "sentence") == 0) {
        close_run(p);
    } else if (strcmp(name, "break") == 0) {
        const char *t = attr(atts, "time"), *st = attr(atts, "strength");
        double sec = 0.5;
        if (st) {
            sec = parse_relative(st, strength_levels, 's');
            if (sec < 0 || !strchr("nxwms", st[0])) {
                fail(p, CHORUS_E_SSML,
                     "<break> strength \"%.40s\" is not one of none, x-weak, weak, medium, "
                     "strong, x-strong",
                     st);
                return;
            }
        }
        if (t) {
            sec = parse_duration(t);
            if (sec < 0) {
                fail(p, CHORUS_E_SSML,
                     "<break> time \"%.40s\" is not a duration; use e.g. 500ms or 1.5s", t);
                return;
            }
        }
        if (sec > CHORUS_SSML_MAX_BREAK) sec = CHORUS_SSML_MAX_BREAK;
        close_run(p);
        p->pend_pause += sec;
    } else if (strcmp(name, "prosody") == 0) {
        const char *r = attr(atts, "rate"), *pi = attr(atts, "pitch"), *v = attr(atts, "volume");
        if (r) {
            double x = parse_relative(r, rate_levels, 'r');
            if (x <= 0) {
                fail(p, CHORUS_E_SSML,
                     "<prosody> rate \"%.40s\" is not valid; use x-slow..x-fast, a percentage "
                     "(80%%, +20%%) or a multiplier (1.2)",
                     r);
                return;
            }
            f.rate = clampf(f.rate * x, 0.1, 10.0);
        }
        if (pi) {
            double x = parse_relative(pi, pitch_levels, 'p');
            if (x <= 0) {
                fail(p, CHORUS_E_SSML,
                     "<prosody> pitch \"%.40s\" is not valid; use x-low..x-high, +10%%, -2st or "
                     "+20Hz",
                     pi);
                return;
            }
            f.pitch = clampf(f.pitch * x, 0.1, 10.0);
        }
        if (v) {
            double x = parse_relative(v, volume_levels, 'v');
            if (x < 0) {
                fail(p, CHORUS_E_SSML,
                     "<prosody> volume \"%.40s\" is not valid; use silent, x-soft..x-loud, "
                     "+6dB or 50%%",
                     v);
                return;
            }
            f.volume = clampf(f.volume * x, 0.0, 16.0);
        }
    } else if (strcmp(name, "emphasis") == 0) {
        const char *l = attr(atts, "level");
        double rate = 0.95, vol = 1.2;
        if (!l || strcmp(l, "moderate") == 0) {
        } else if (strcmp(l, "strong") == 0) {
            rate = 0.9, vol = 1.4;
        } else if (strcmp(l, "reduced") == 0) {
            rate = 1.05, vol = 0.8;
        } else if (strcmp(l, "none") == 0) {
            rate = 1.0, vol = 1.0;
        } else {
            fail(p, CHORUS_E_SSML,
                 "<emphasis> level \"%.40s\" is not one of strong, moderate, reduced, none", l);
            return;
        }
        f.rate = clampf(f.rate * rate, 0.1, 10.0);
        f.volume = clampf(f.volume * vol, 0.0, 16.0);
    } else if (strcmp(name, "say-as") == 0) {
        const char *ia = attr(atts, "interpret-as");
        if (!ia) {
            fail(p, CHORUS_E_SSML, "<say-as> needs an interpret-as attribute");
            return;
        }
        if (!chorus_text_say_as_known(ia)) {
            fail(p, CHORUS_E_SSML,
                 "<say-as> interpret-as \"%.40s\" is not supported; use characters, spell-out, "
                 "cardinal, ordinal, digits, date, time or telephone",
                 ia);
            return;
        }
        const char *fmt = attr(atts, "format");
        if (!(f.sayas_interpret = intern(p, ia))) return;
        f.sayas_format = NULL;
        if (fmt && !(f.sayas_format = intern(p, fmt))) return;
        f.cap = CAP_SAYAS;
        chorus_textbuf_clear(&p->capture);
    } else if (strcmp(name, "sub") == 0) {
        const char *al = attr(atts, "alias");
        if (!al) {
            fail(p, CHORUS_E_SSML, "<sub> needs an alias attribute (the text to speak)");
            return;
        }
        if (!(f.sub_alias = intern(p, al))) return;
        f.cap = CAP_SUB;
    } else if (strcmp(name, "phoneme") == 0) {
        const char *ph = attr(atts, "ph"), *al = attr(atts, "alphabet");
        if (!ph) {
            fail(p, CHORUS_E_SSML, "<phoneme> needs a ph attribute");
            return;
        }
        if (parent->ph || parent->phoneme) {
            fail(p, CHORUS_E_SSML, "a <phoneme> inside a <phoneme>; a phoneme holds text only");
            return;
        }
        /* the content is spoken as ph where the engine takes that alphabet (docs/text.md) */
        int kind = chorus_pron_alphabet_kind(al);
        const char *why = kind >= 0 ? chorus_pron_check_value(kind, ph, strlen(ph)) : NULL;
        if (why) {
            fail(p, CHORUS_E_SSML, "<phoneme> ph \"%.60s\": %s", ph, why);
            return;
        }
        if (!(f.ph = intern(p, ph))) return;
        f.ph_kind = kind;
        f.ph_start = off + (size_t)XML_GetCurrentByteCount(p->xp);
        f.phoneme = 1;
    } else if (strcmp(name, "voice") == 0) {
        const char *v = attr(atts, "name");
        if (!v) v = attr(atts, "gender");
        if (v && !(f.voice = intern(p, v))) return;
    } else if (strcmp(name, "mark") == 0) {
        const char *m = attr(atts, "name");
        if (!m) {
            fail(p, CHORUS_E_SSML, "<mark> needs a name attribute");
            return;
        }
        const char *im = intern(p, m);
        if (!im) return;
        close_run(p);
        char **v = realloc(p->pend_marks, (p->n_pend_marks + 1) * sizeof *v);
        if (!v) {
            fail(p, CHORUS_E_NOMEM, "out of memory");
            return;
        }
        v[p->n_pend_marks++] = (char *)im;
        p->pend_marks = v;
    } else if (strcmp(name, "desc") == 0 || strcmp(name, "meta") == 0 ||
               strcmp(name, "metadata") == 0 || strcmp(name, "lexicon") == 0) {
        f.cap = CAP_SKIP;
    }
    /* lang, audio (its content is the fallback), w, token and unknown elements: transparent */
    p->stack[++p->depth] = f;
}

/* A <phoneme> ends: its content [ph_start, here) is pronounced as its ph. */
static void add_span(struct parser *p, const struct frame *f) {
    long long idx = XML_GetCurrentByteIndex(p->xp);
    size_t b = idx >= 0 ? (size_t)idx : f->ph_start;
    struct chorus_ssml_doc *d = p->doc;
    if (f->ph_kind < 0 || b <= f->ph_start) return; /* an alphabet no engine takes; no content */
    if (d->n_spans == d->cap_spans) {
        size_t cap = d->cap_spans ? d->cap_spans * 2 : 8;
        struct chorus_pron_span *v = realloc(d->spans, cap * sizeof *v);
        if (!v) {
            fail(p, CHORUS_E_NOMEM, "out of memory");
            return;
        }
        d->spans = v;
        d->cap_spans = cap;
    }
    d->spans[d->n_spans++] = (struct chorus_pron_span){f->ph_start, b, f->ph, f->ph_kind};
}

static void XMLCALL on_end(void *ud, const XML_Char *name) {
    struct parser *p = ud;
    if (p->failed) return;
    struct frame *f = &p->stack[p->depth];
    struct frame *parent = &p->stack[p->depth - 1];
    int own = parent->cap == CAP_NONE; /* this element's capture is its own */
    if (own && f->cap == CAP_SAYAS) {
        struct chorus_textbuf out;
        chorus_textbuf_init(&out);
        const char *s = p->capture.text ? p->capture.text : "";
        size_t base = p->capture.len ? p->capture.map[0] : f->elem_offset;
        if (chorus_text_say_as(&out, f->sayas_interpret, f->sayas_format, s, p->capture.len,
                               base) < 0) {
            chorus_textbuf_free(&out);
            fail(p, CHORUS_E_NOMEM, "out of memory");
            return;
        }
        /* map back through the capture (which may hold entity-expanded text) */
        for (size_t i = 0; i < out.len; i++) {
            size_t k = out.map[i] - base;
            out.map[i] = k < p->capture.len ? p->capture.map[k] : base;
        }
        p->depth--;
        if (out.len) {
            open_run(p);
            sep_before(p, out.map[0]);
            if (chorus_textbuf_reserve(&p->text, out.len + 1) < 0) {
                fail(p, CHORUS_E_NOMEM, "out of memory");
            } else {
                memcpy(p->text.text + p->text.len, out.text, out.len);
                memcpy(p->text.map + p->text.len, out.map, out.len * sizeof(size_t));
                p->text.len += out.len;
                p->text.text[p->text.len] = '\0';
                p->sep_after = 1;
            }
        }
        chorus_textbuf_free(&out);
        chorus_textbuf_clear(&p->capture);
        return;
    }
    if (own && f->cap == CAP_SUB) {
        const char *a = f->sub_alias;
        p->depth--;
        if (*a) {
            open_run(p);
            /* the alias maps to the content it replaces (timestamps point at "WWW") */
            sep_before(p, f->content_start);
            add_text(p, a, strlen(a), f->content_start, 0);
            p->sep_after = 1;
        }
        return;
    }
    if (f->phoneme && own) add_span(p, f);
    if (own && (strcmp(name, "p") == 0 || strcmp(name, "s") == 0 ||
                strcmp(name, "paragraph") == 0 || strcmp(name, "sentence") == 0))
        close_run(p);
    p->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len) {
    struct parser *p = ud;
    if (p->failed || len <= 0) return;
    long long idx = XML_GetCurrentByteIndex(p->xp);
    int count = XML_GetCurrentByteCount(p->xp);
    size_t off = idx >= 0 ? (size_t)idx : 0;
    /* plain character data maps byte for byte; an entity reference (&amp;) or a normalized
     * line end maps to where it starts */
    int mapped = count == len && idx >= 0 && off + (size_t)len <= p->src_len &&
                 memcmp(p->src + off, s, (size_t)len) == 0;
    if (p->depth == 0) return; /* outside <speak> */
    add_text(p, s, (size_t)len, off, mapped);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal) {
    struct parser *p = ud;
    fail(p, CHORUS_E_SSML, "a DTD (<!DOCTYPE>) is not allowed in SSML; remove it");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_length, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation) {
    struct parser *p = ud;
    fail(p, CHORUS_E_SSML, "entity declarations are not allowed in SSML");
}

static int XMLCALL on_external(XML_Parser xp, const XML_Char *ctx, const XML_Char *base,
                               const XML_Char *sysid, const XML_Char *pubid) {
    return XML_STATUS_ERROR; /* never load anything */
}

int chorus_ssml_parse(struct chorus_ssml_doc **out, const char *s, size_t n, char *err,
                      size_t errlen) {
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    *out = NULL;
    if (n > CHORUS_SSML_MAX_BYTES) {
        snprintf(err, errlen, "ssml: the document is %zu bytes; the limit is %u bytes", n,
                 CHORUS_SSML_MAX_BYTES);
        return CHORUS_E_TOO_LONG;
    }
    struct parser p;
    memset(&p, 0, sizeof p);
    p.src = s;
    p.src_len = n;
    p.err = err;
    p.errlen = errlen;
    p.stack[0].rate = p.stack[0].pitch = p.stack[0].volume = 1.0f;
    chorus_textbuf_init(&p.text);
    chorus_textbuf_init(&p.capture);
    p.doc = calloc(1, sizeof *p.doc);
    p.xp = XML_ParserCreate("UTF-8");
    if (!p.doc || !p.xp) {
        snprintf(err, errlen, "ssml: out of memory");
        free(p.doc);
        if (p.xp) XML_ParserFree(p.xp);
        return CHORUS_E_NOMEM;
    }
    XML_SetUserData(p.xp, &p);
    XML_SetParamEntityParsing(p.xp, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetElementHandler(p.xp, on_start, on_end);
    XML_SetCharacterDataHandler(p.xp, on_text);
    XML_SetStartDoctypeDeclHandler(p.xp, on_doctype);
    XML_SetEntityDeclHandler(p.xp, on_entity_decl);
    XML_SetExternalEntityRefHandler(p.xp, on_external);

    int rc = CHORUS_OK;
    if (n > (size_t)INT32_MAX ||
        XML_Parse(p.xp, s ? s : "", (int)n, XML_TRUE) != XML_STATUS_OK || p.failed) {
        if (p.failed) {
            rc = p.failed;
        } else {
            rc = CHORUS_E_SSML;
            snprintf(err, errlen, "ssml: line %lu, column %lu: %s",
                     (unsigned long)XML_GetCurrentLineNumber(p.xp),
                     (unsigned long)XML_GetCurrentColumnNumber(p.xp) + 1,
                     XML_ErrorString(XML_GetErrorCode(p.xp)));
        }
    } else if (!p.seen_root) {
        rc = CHORUS_E_SSML;
        snprintf(err, errlen, "ssml: the document has no <speak> element");
    } else {
        close_run(&p);
        if (!p.failed && p.n_pend_marks) {
            /* marks at the very end: an empty run carries them */
            p.run_open = 1;
            p.run_attrs = p.stack[0];
            close_run(&p);
        } else if (!p.failed && p.pend_pause > 0) {
            p.run_open = 1;
            p.run_attrs = p.stack[0];
            close_run(&p);
        }
        if (p.failed) rc = p.failed;
    }
    XML_ParserFree(p.xp);
    chorus_textbuf_free(&p.text);
    chorus_textbuf_free(&p.capture);
    free(p.pend_marks);
    if (rc != CHORUS_OK) {
        chorus_ssml_doc_free(p.doc);
        return rc;
    }
    *out = p.doc;
    return CHORUS_OK;
}
