/* config.c — a small, strict TOML-subset reader (see config.h for what it accepts). */
#include "core/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chorus/chorus.h"
#include "core/util.h"

struct entry {
    char *section;
    char *key;
    char *value;
    int line; /* where the value was set, for messages */
};

struct chorus_config {
    struct entry *e;
    size_t n, cap;
    char *path; /* the file read, for messages ("config" when parsed from memory) */
};

static int add_entry(struct chorus_config *c, const char *section, const char *key, char *value,
                     int line) {
    /* a later duplicate replaces the earlier value */
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->e[i].section, section) && !strcasecmp(c->e[i].key, key)) {
            free(c->e[i].value);
            c->e[i].value = value;
            c->e[i].line = line;
            return 0;
        }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        struct entry *p = realloc(c->e, nc * sizeof *p);
        if (!p) return -1;
        c->e = p;
        c->cap = nc;
    }
    c->e[c->n].section = strdup(section);
    c->e[c->n].key = strdup(key);
    c->e[c->n].value = value;
    c->e[c->n].line = line;
    if (!c->e[c->n].section || !c->e[c->n].key) {
        free(c->e[c->n].section);
        free(c->e[c->n].key);
        return -1;
    }
    c->n++;
    return 0;
}

void chorus_config_free(struct chorus_config *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].section);
        free(c->e[i].key);
        free(c->e[i].value);
    }
    free(c->e);
    free(c->path);
    free(c);
}

static int is_bare(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

struct parser {
    const char *p, *end;
    int line;
    const char *path;
    char *err;
    size_t errlen;
};

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parser *ps, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->err) chorus_fmt(ps->err, ps->errlen, "%s:%d: %s", ps->path, ps->line, msg);
    return -1;
}

static void skip_ws(struct parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t')) ps->p++;
}

/* After a value or header: only whitespace and an optional comment may follow on the line. */
static int end_of_line(struct parser *ps) {
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '#')
        while (ps->p < ps->end && *ps->p != '\n') ps->p++;
    if (ps->p < ps->end && *ps->p == '\r') ps->p++;
    if (ps->p < ps->end && *ps->p != '\n') return perr(ps, "unexpected '%c' after value", *ps->p);
    return 0;
}

static int put_utf8(struct chorus_buf *b, unsigned long cp) {
    unsigned char o[4];
    size_t n;
    if (cp < 0x80) o[0] = (unsigned char)cp, n = 1;
    else if (cp < 0x800) o[0] = (unsigned char)(0xC0 | (cp >> 6)), o[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return chorus_buf_append(b, o, n);
}

static int parse_basic_string(struct parser *ps, struct chorus_buf *out) {
    ps->p++; /* opening quote */
    while (ps->p < ps->end && *ps->p != '"') {
        char ch = *ps->p;
        if (ch == '\n') return perr(ps, "unterminated string");
        if (ch == '\\') {
            ps->p++;
            if (ps->p >= ps->end) return perr(ps, "unterminated string");
            char e = *ps->p++;
            char c1;
            switch (e) {
            case 'n': c1 = '\n'; break;
            case 't': c1 = '\t'; break;
            case 'r': c1 = '\r'; break;
            case '"': c1 = '"'; break;
            case '\\': c1 = '\\'; break;
            case 'u':
            case 'U': {
                int nd = e == 'u' ? 4 : 8;
                unsigned long cp = 0;
                for (int i = 0; i < nd; i++) {
                    if (ps->p >= ps->end) return perr(ps, "short \\%c escape", e);
                    char h = *ps->p++;
                    int v = (h >= '0' && h <= '9') ? h - '0'
                            : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                            : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                    if (v < 0) return perr(ps, "bad hex digit in \\%c escape", e);
                    cp = cp * 16 + (unsigned long)v;
                }
                if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                    return perr(ps, "escape is not a valid unicode scalar value");
                if (put_utf8(out, cp) < 0) return perr(ps, "out of memory");
                continue;
            }
            default: return perr(ps, "unknown escape '\\%c' in string", e);
            }
            if (chorus_buf_append(out, &c1, 1) < 0) return perr(ps, "out of memory");
            continue;
        }
        if (chorus_buf_append(out, &ch, 1) < 0) return perr(ps, "out of memory");
        ps->p++;
    }
    if (ps->p >= ps->end) return perr(ps, "unterminated string");
    ps->p++;
    return 0;
}

static int parse_literal_string(struct parser *ps, struct chorus_buf *out) {
    ps->p++;
    const char *s = ps->p;
    while (ps->p < ps->end && *ps->p != '\'' && *ps->p != '\n') ps->p++;
    if (ps->p >= ps->end || *ps->p != '\'') return perr(ps, "unterminated string");
    if (chorus_buf_append(out, s, (size_t)(ps->p - s)) < 0) return perr(ps, "out of memory");
    ps->p++;
    return 0;
}

static int parse_value(struct parser *ps, struct chorus_buf *out) {
    if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '#') return perr(ps, "missing value");
    char ch = *ps->p;
    if (ch == '"') {
        if (ps->end - ps->p >= 3 && !strncmp(ps->p, "\"\"\"", 3))
            return perr(ps, "multi-line strings are not supported");
        return parse_basic_string(ps, out);
    }
    if (ch == '\'') return parse_literal_string(ps, out);
    if (ch == '[') { /* flat array: keep its text */
        const char *s = ps->p;
        int depth = 0, in_str = 0;
        for (; ps->p < ps->end && *ps->p != '\n'; ps->p++) {
            if (*ps->p == '"' && (ps->p == s || ps->p[-1] != '\\')) in_str = !in_str;
            if (in_str) continue;
            if (*ps->p == '[') depth++;
            if (*ps->p == ']' && --depth == 0) break;
        }
        if (ps->p >= ps->end || *ps->p != ']') return perr(ps, "unterminated array");
        ps->p++;
        if (chorus_buf_append(out, s, (size_t)(ps->p - s)) < 0) return perr(ps, "out of memory");
        return 0;
    }
    if (ch == '{') return perr(ps, "inline tables are not supported; use a [section]");
    /* bare scalar: number, boolean, date */
    const char *s = ps->p;
    while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '#' && *ps->p != ' ' && *ps->p != '\t' &&
           *ps->p != '\r')
        ps->p++;
    size_t n = (size_t)(ps->p - s);
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) return perr(ps, "invalid value");
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (strcmp(tmp, "true") && strcmp(tmp, "false") && strcmp(tmp, "inf") && strcmp(tmp, "nan")) {
        char clean[64];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (tmp[i] != '_') clean[k++] = tmp[i];
        clean[k] = 0;
        char *endp;
        errno = 0;
        strtod(clean, &endp);
        int ok = *endp == 0 && k > 0;
        if (!ok) { /* a date/time like 1979-05-27 is kept as text */
            ok = n >= 8 && tmp[0] >= '0' && tmp[0] <= '9' && strchr(tmp, '-');
        }
        if (!ok) return perr(ps, "invalid value '%s' (strings need quotes)", tmp);
    }
    return chorus_buf_append(out, s, n) < 0 ? perr(ps, "out of memory") : 0;
}

/* key or dotted key: bare or quoted parts joined with '.' */
static int parse_key(struct parser *ps, struct chorus_buf *out, char stop) {
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end) return perr(ps, "unexpected end of file in key");
        if (*ps->p == '"') {
            if (parse_basic_string(ps, out) < 0) return -1;
        } else if (*ps->p == '\'') {
            if (parse_literal_string(ps, out) < 0) return -1;
        } else {
            const char *s = ps->p;
            while (ps->p < ps->end && is_bare(*ps->p)) ps->p++;
            if (ps->p == s) return perr(ps, "expected a key, found '%c'", *ps->p == '\n' ? ' ' : *ps->p);
            if (chorus_buf_append(out, s, (size_t)(ps->p - s)) < 0) return perr(ps, "out of memory");
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '.') {
            ps->p++;
            if (chorus_buf_append(out, ".", 1) < 0) return perr(ps, "out of memory");
            continue;
        }
        if (ps->p >= ps->end || *ps->p != stop)
            return perr(ps, "expected '%c' after key", stop);
        return 0;
    }
}

/* One "key = value" line into the config. 0, or -1 with the message in ps. */
static int parse_entry(struct parser *ps, struct chorus_config *c, const struct chorus_buf *section) {
    struct chorus_buf key = {0}, val = {0}, sec2 = {0};
    int rc = -1;
    if (chorus_buf_append(&key, "", 0) < 0 || chorus_buf_append(&val, "", 0) < 0) {
        perr(ps, "out of memory");
        goto out;
    }
    if (parse_key(ps, &key, '=') < 0) goto out;
    ps->p++;
    skip_ws(ps);
    if (parse_value(ps, &val) < 0 || end_of_line(ps) < 0) goto out;
    if (key.len == 0 || memchr(val.p, 0, val.len) || memchr(key.p, 0, key.len)) {
        perr(ps, key.len ? "string contains a NUL character" : "empty key");
        goto out;
    }
    /* a dotted key a.b = v inside [s] lives in section "s.a" */
    const char *k = key.p;
    char *dot = strrchr(key.p, '.');
    if (chorus_buf_append(&sec2, section->p, section->len) < 0) {
        perr(ps, "out of memory");
        goto out;
    }
    if (dot) {
        *dot = 0;
        if ((sec2.len && chorus_buf_append(&sec2, ".", 1) < 0) ||
            chorus_buf_append(&sec2, key.p, strlen(key.p)) < 0) {
            perr(ps, "out of memory");
            goto out;
        }
        k = dot + 1;
    }
    if (add_entry(c, sec2.p, k, val.p, ps->line) < 0) {
        perr(ps, "out of memory");
        goto out;
    }
    val.p = NULL; /* owned by the entry now */
    rc = 0;
out:
    chorus_buf_release(&sec2);
    chorus_buf_release(&key);
    chorus_buf_release(&val);
    return rc;
}

struct chorus_config *chorus_config_parse(const char *text, size_t len, const char *path,
                                          char *err, size_t errlen) {
    struct parser ps = {text, text + len, 1, path ? path : "config", err, errlen};
    struct chorus_config *c = calloc(1, sizeof *c);
    struct chorus_buf section = {0};
    if (!c || !(c->path = strdup(ps.path)) || chorus_buf_append(&section, "", 0) < 0) {
        perr(&ps, "out of memory");
        goto fail;
    }
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) ps.p += 3;
    while (ps.p < ps.end) {
        skip_ws(&ps);
        if (ps.p >= ps.end) break;
        char ch = *ps.p;
        if (ch == '\n') {
            ps.p++, ps.line++;
            continue;
        }
        if (ch == '\r' || ch == '#') {
            if (end_of_line(&ps) < 0) goto fail;
            continue;
        }
        if (ch == '[') {
            ps.p++;
            if (ps.p < ps.end && *ps.p == '[') {
                perr(&ps, "arrays of tables ([[...]]) are not supported");
                goto fail;
            }
            section.len = 0;
            if (parse_key(&ps, &section, ']') < 0) goto fail;
            if (section.len == 0 || memchr(section.p, 0, section.len)) {
                perr(&ps, "invalid section name");
                goto fail;
            }
            ps.p++;
            if (end_of_line(&ps) < 0) goto fail;
            continue;
        }
        if (parse_entry(&ps, c, &section) < 0) goto fail;
    }
    chorus_buf_release(&section);
    return c;
fail:
    chorus_buf_release(&section);
    chorus_config_free(c);
    return NULL;
}

struct chorus_config *chorus_config_load(const char *path, int optional, char *err,
                                         size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (optional && errno == ENOENT) return chorus_config_parse("", 0, path, err, errlen);
        chorus_fmt(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct chorus_buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (b.len + n > (4u << 20)) {
            fclose(f);
            chorus_buf_release(&b);
            chorus_fmt(err, errlen, "config file %s is larger than 4 MiB", path);
            return NULL;
        }
        if (chorus_buf_append(&b, tmp, n) < 0) {
            fclose(f);
            chorus_buf_release(&b);
            chorus_fmt(err, errlen, "out of memory reading config file %s", path);
            return NULL;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        chorus_buf_release(&b);
        chorus_fmt(err, errlen, "cannot read config file %s", path);
        return NULL;
    }
    struct chorus_config *c = chorus_config_parse(b.p ? b.p : "", b.len, path, err, errlen);
    chorus_buf_release(&b);
    return c;
}

const char *chorus_config_get(const struct chorus_config *c, const char *section,
                              const char *key) {
    if (!c || !key) return NULL;
    if (!section) section = "";
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->e[i].section, section) && !strcasecmp(c->e[i].key, key))
            return c->e[i].value;
    return NULL;
}

const char *chorus_config_find(const struct chorus_config *c, const char *env,
                               const char *const *places) {
    if (env) {
        const char *v = getenv(env);
        if (v && *v) return v;
    }
    for (size_t i = 0; places && places[i] && places[i + 1]; i += 2) {
        const char *v = chorus_config_get(c, places[i], places[i + 1]);
        if (v && *v) return v;
    }
    return NULL;
}

static const struct entry *find_entry(const struct chorus_config *c, const char *section,
                                      const char *key) {
    if (!c || !key) return NULL;
    if (!section) section = "";
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->e[i].section, section) && !strcasecmp(c->e[i].key, key))
            return &c->e[i];
    return NULL;
}

double chorus_config_double(const struct chorus_config *c, const char *section, const char *key,
                            double def) {
    double d;
    const char *v = chorus_config_get(c, section, key);
    return v && chorus_parse_number(v, &d) == 0 ? d : def;
}

int chorus_config_bool(const struct chorus_config *c, const char *section, const char *key,
                       int def) {
    int b;
    const char *v = chorus_config_get(c, section, key);
    return v && chorus_parse_bool(v, &b) == 0 ? b : def;
}

/* "PATH:LINE: [section] key = 'value'" for a message about a bad value. */
static void where(const struct chorus_config *c, const struct entry *en, char *buf, size_t cap) {
    chorus_fmt(buf, cap, "%s:%d: [%s] %s = '%.64s'", c->path ? c->path : "config", en->line,
               en->section, en->key, en->value);
}

int chorus_config_number(const struct chorus_config *c, const char *section, const char *key,
                         double min, double max, int whole, double def, double *out, char *err,
                         size_t errlen) {
    *out = def;
    const struct entry *en = find_entry(c, section, key);
    if (!en) return CHORUS_OK;
    double d;
    int ok = chorus_parse_number(en->value, &d) == 0;
    if (ok && (d < min || d > max || (whole && d != floor(d)))) ok = 0;
    if (!ok) {
        char w[512];
        where(c, en, w, sizeof w);
        chorus_fmt(err, errlen, "%s: use %s from %g to %g", w, whole ? "a whole number" : "a number",
                   min, max);
        return CHORUS_E_CONFIG;
    }
    *out = d;
    return CHORUS_OK;
}

int chorus_config_flag(const struct chorus_config *c, const char *section, const char *key,
                       int def, int *out, char *err, size_t errlen) {
    *out = def;
    const struct entry *en = find_entry(c, section, key);
    if (!en) return CHORUS_OK;
    if (chorus_parse_bool(en->value, out) < 0) {
        char w[512];
        where(c, en, w, sizeof w);
        chorus_fmt(err, errlen, "%s: use true or false", w);
        *out = def;
        return CHORUS_E_CONFIG;
    }
    return CHORUS_OK;
}

int chorus_config_entry(const struct chorus_config *c, const char *section, size_t i,
                        const char **key, const char **value) {
    if (!c) return 0;
    if (!section) section = "";
    for (size_t j = 0; j < c->n; j++) {
        if (strcasecmp(c->e[j].section, section)) continue;
        if (i-- == 0) {
            *key = c->e[j].key;
            *value = c->e[j].value;
            return 1;
        }
    }
    return 0;
}
