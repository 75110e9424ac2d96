/* espeak_names.c — validating the voice strings handed to libespeak-ng (see espeak_names.h). */
#include "backends/espeak/espeak_names.h"

#include <espeak-ng/speak_lib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chorus/chorus.h"
#include "core/util.h"

/* What espeak-ng lists, read once (under the espeak lock) and kept for the process. */
struct name_table {
    int loaded;
    char **base; /* voice names, identifiers and languages */
    size_t n_base;
    char **vfile, **vname; /* variants: file name (after "!v/") and display name */
    size_t n_var;
};
static struct name_table names;

static int push(char ***arr, size_t *n, const char *s) {
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) return -1;
    *arr = a;
    if (!(a[*n] = strdup(s ? s : ""))) return -1;
    (*n)++;
    return 0;
}

static int load_variants(void) {
    espeak_VOICE spec;
    memset(&spec, 0, sizeof spec);
    spec.languages = "variant";
    const espeak_VOICE **vs = espeak_ListVoices(&spec);
    for (size_t i = 0; vs && vs[i]; i++) {
        const char *id = vs[i]->identifier;
        if (!id || strncmp(id, "!v/", 3) != 0) continue;
        size_t nf = names.n_var, nn = names.n_var;
        if (push(&names.vfile, &nf, id + 3) < 0 || push(&names.vname, &nn, vs[i]->name) < 0)
            return -1;
        names.n_var = nn;
    }
    return 0;
}

static int load_voices(void) {
    const espeak_VOICE **vs = espeak_ListVoices(NULL);
    for (size_t i = 0; vs && vs[i]; i++) {
        const espeak_VOICE *v = vs[i];
        if ((v->name && push(&names.base, &names.n_base, v->name) < 0) ||
            (v->identifier && push(&names.base, &names.n_base, v->identifier) < 0))
            return -1;
        /* languages: a priority byte then a NUL-terminated name, repeated, ending in a 0 byte */
        for (const char *p = v->languages; p && *p; p += strlen(p + 1) + 2)
            if (push(&names.base, &names.n_base, p + 1) < 0) return -1;
    }
    return 0;
}

static int names_load(void) {
    if (names.loaded) return 0;
    if (load_variants() < 0 || load_voices() < 0) return -1;
    names.loaded = 1;
    return 0;
}

static int short_name(const char *s, size_t n, size_t max) {
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int listed(char *const *arr, size_t n, const char *s, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(arr[i]) == len && !strncasecmp(arr[i], s, len)) return (int)i;
    return -1;
}

static int base_ok(const char *s, size_t n) {
    if (n == 0 || n > CHORUS_ESPEAK_MAX_BASE) return 0;
    return listed(names.base, names.n_base, s, n) >= 0 || short_name(s, n, CHORUS_ESPEAK_MAX_BASE);
}

/* The file name of variant s (listed by file or display name), or a number 1-99 as given. */
static const char *variant_file(const char *s, size_t n) {
    if (n >= 1 && n <= 2 && s[0] >= '1' && s[0] <= '9' && (n == 1 || (s[1] >= '0' && s[1] <= '9')))
        return s;
    if (n > CHORUS_ESPEAK_MAX_VARIANT) return NULL;
    int i = listed(names.vfile, names.n_var, s, n);
    if (i < 0) i = listed(names.vname, names.n_var, s, n);
    return i >= 0 ? names.vfile[i] : NULL;
}

/* A few variant names for an error message. */
static void some_variants(char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < names.n_var && i < 12; i++) {
        int k = snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", names.vfile[i]);
        if (k < 0 || (size_t)k >= cap - off) break;
        off += (size_t)k;
    }
}

int chorus_espeak_voice_check(const char *voice, const char *variant, char *out, size_t cap,
                              char *err, size_t errlen) {
    if (names_load() < 0) {
        chorus_fmt(err, errlen, "out of memory reading espeak-ng's voice list");
        return CHORUS_E_NOMEM;
    }
    if (!voice) voice = "";
    const char *plus = strchr(voice, '+');
    size_t bl = plus ? (size_t)(plus - voice) : strlen(voice);
    if (!base_ok(voice, bl)) {
        chorus_fmt(err, errlen,
                   "espeak-ng has no voice '%.60s%s': use a language code (en-us, fr), a voice "
                   "name or identifier from `chorus voices espeak`, at most %d characters of "
                   "letters, digits, '-' and '_'",
                   voice, strlen(voice) > 60 ? "..." : "", CHORUS_ESPEAK_MAX_BASE);
        return CHORUS_E_UNKNOWN_VOICE;
    }
    const char *var = plus ? plus + 1 : variant;
    const char *file = NULL;
    if (var) {
        size_t vl = strlen(var);
        file = variant_file(var, vl);
        if (!file) {
            char some[160];
            some_variants(some, sizeof some);
            chorus_fmt(err, errlen,
                       "espeak-ng has no voice variant '%.40s%s': use one it lists (%s, ...; "
                       "`espeak-ng --voices=variant` shows all) or a number 1-99",
                       var, vl > 40 ? "..." : "", some);
            return plus ? CHORUS_E_UNKNOWN_VOICE : CHORUS_E_OPTION;
        }
    }
    if (file)
        chorus_fmt(out, cap, "%.*s+%s", (int)bl, voice, file);
    else
        chorus_fmt(out, cap, "%.*s", (int)bl, voice);
    return 0;
}

/* ------------------------------------------------------------------ SSML ---- */

/* libespeak-ng finds an attribute as `name` after any (wide) white space, anywhere in the tag,
 * values included; skips spaces, an optional '=' and spaces; and reads from the quote (' or ")
 * up to the next '"' not preceded by '\\' (ssml.c: GetSsmlAttribute, attrcopy_utf8). So every
 * such place is checked, a non-ASCII byte counting as possible white space. */
static int maybe_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c >= 0x80;
}

static int value_end(const char *v, const char *end) {
    for (const char *p = v; p < end; p++)
        if (*p == '"' && (p == v || p[-1] != '\\')) return (int)(p - v);
    return (int)(end - v);
}

static int check_tag_names(const char *p, const char *end, char *err, size_t errlen) {
    for (const char *a = p; a + 5 <= end; a++) {
        if (!maybe_space((unsigned char)a[0]) || strncmp(a + 1, "name", 4) != 0) continue;
        const char *v = a + 5;
        while (v < end && maybe_space((unsigned char)*v)) v++;
        if (v < end && *v == '=') v++;
        while (v < end && maybe_space((unsigned char)*v)) v++;
        if (v >= end || (*v != '"' && *v != '\'')) continue; /* espeak reads an empty name */
        v++;
        int n = value_end(v, end);
        char val[64], spec[96], why[320];
        const char *bad = NULL;
        if ((size_t)n >= sizeof val) {
            bad = "it is too long";
        } else {
            memcpy(val, v, (size_t)n);
            val[n] = 0;
            if (chorus_espeak_voice_check(val, NULL, spec, sizeof spec, why, sizeof why) != 0)
                bad = why;
        }
        if (bad) {
            chorus_fmt(err, errlen, "SSML voice name '%.*s' is not usable: %s", n < 40 ? n : 40,
                       v, bad);
            return CHORUS_E_SSML;
        }
    }
    return 0;
}

int chorus_espeak_ssml_check(const char *ssml, size_t len, char *err, size_t errlen) {
    const char *end = ssml + len;
    for (const char *p = memchr(ssml, '<', len); p; p = memchr(p, '<', (size_t)(end - p))) {
        p++;
        const char *close = memchr(p, '>', (size_t)(end - p));
        if (!close) close = end;
        /* a voice name is read from <speak> and <voice>; <mark name> is not a voice. Every
         * other tag (comments included) is checked too: a false alarm costs less than a miss. */
        size_t tn = 0;
        while (p + tn < close && !maybe_space((unsigned char)p[tn]) && p[tn] != '/') tn++;
        if (!(tn == 4 && !strncasecmp(p, "mark", 4))) {
            int rc = check_tag_names(p + tn, close, err, errlen);
            if (rc) return rc;
        }
        if (close == end) break;
        p = close;
    }
    return 0;
}

/* Nonzero: "do not play it", and libespeak-ng speaks the element's text instead. */
static int refuse_uri(int type, const char *uri, const char *base) {
    (void)type, (void)uri, (void)base;
    return 1;
}

void chorus_espeak_refuse_uris(void) {
    espeak_SetUriCallback(refuse_uri);
}
