/*
 * tags.c — Kokoro-FastAPI's inline tags ("allow_voice_tags": true) turned into an SSML document
 * for the library's SSML stage, so a tag is never spoken:
 *
 *   [voice:NAME]   the following text in voice NAME (a mix such as af_bella(2)+af_sky works
 *                  where the backend takes mixes); [voice:] goes back to the request's voice
 *   [pause:1.5s]   a pause of that many seconds (<break time="1500ms"/>, at most a minute)
 *
 * The syntax follows Kokoro-FastAPI (remsky/Kokoro-FastAPI, api/src/services/text_processing/
 * text_processor.py: PAUSE_TAG_PATTERN and VOICE_TAG_PATTERN; names as VOICE_NAME_BODY in
 * api/src/structures/schemas.py): case-insensitive tag words, spaces allowed around the name.
 * Anything else in brackets is text. Pure: no engine, no I/O (fuzzed by fuzz_server_request).
 */
#include "tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct out {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct out *o, const char *s, size_t n) {
    if (o->oom || n == 0) return;
    if (o->len + n + 1 > o->cap) {
        size_t nc = o->cap ? o->cap : 256;
        while (nc < o->len + n + 1) nc *= 2;
        char *q = realloc(o->p, nc);
        if (!q) {
            o->oom = 1;
            return;
        }
        o->p = q;
        o->cap = nc;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void put_str(struct out *o, const char *s) {
    put(o, s, strlen(s));
}

/* Text or an attribute value with XML's special characters escaped. */
static void put_escaped(struct out *o, const char *s, size_t n) {
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" :
                          s[i] == '"' ? "&quot;" : NULL;
        if (!rep) continue;
        put(o, s + start, i - start);
        put_str(o, rep);
        start = i + 1;
    }
    put(o, s + start, n - start);
}

static int name_char(char c, int first) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
        return 1;
    return !first && c != 0 && strchr("+-(). ", c) != NULL;
}

static size_t skip_spaces(const char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    return i;
}

/* [voice:NAME] at s[i]: its length, the name's span (trailing spaces trimmed); 0 if not one. */
static size_t match_voice(const char *s, size_t i, size_t n, size_t *ns, size_t *nl) {
    if (n - i < 7 || strncasecmp(s + i, "[voice:", 7)) return 0;
    size_t j = skip_spaces(s, i + 7, n);
    size_t start = j;
    while (j < n && j - start <= SRV_TAG_MAX_NAME && name_char(s[j], j == start)) j++;
    size_t end = j;
    while (end > start && s[end - 1] == ' ') end--;
    j = skip_spaces(s, j, n);
    if (j >= n || s[j] != ']' || end - start > SRV_TAG_MAX_NAME) return 0;
    *ns = start;
    *nl = end - start;
    return j + 1 - i;
}

/* [pause:1.5s] at s[i]: its length and the number's span; 0 if not one. */
static size_t match_pause(const char *s, size_t i, size_t n, size_t *ns, size_t *nl) {
    if (n - i < 7 || strncasecmp(s + i, "[pause:", 7)) return 0;
    size_t j = i + 7, start = j;
    while (j < n && j - start < 12 && s[j] >= '0' && s[j] <= '9') j++;
    if (j == start) return 0;
    if (j < n && s[j] == '.') {
        size_t f = ++j;
        while (j < n && j - start < 12 && s[j] >= '0' && s[j] <= '9') j++;
        if (j == f) return 0;
    }
    if (j + 1 >= n || (s[j] != 's' && s[j] != 'S') || s[j + 1] != ']') return 0;
    *ns = start;
    *nl = j - start;
    return j + 2 - i;
}

int srv_tags_to_ssml(const char *in, size_t n, srv_tag_voice_fn map, void *ud, char **out,
                     size_t *out_len, int *n_tags) {
    struct out o = {0};
    int open = 0, tags = 0;
    size_t text = 0;
    put_str(&o, "<speak>");
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '[') continue;
        size_t ns = 0, nl = 0, len;
        int voice = 1;
        if (!(len = match_voice(in, i, n, &ns, &nl))) {
            voice = 0;
            if (!(len = match_pause(in, i, n, &ns, &nl))) continue;
        }
        put_escaped(&o, in + text, i - text);
        tags++;
        if (voice) {
            if (open) put_str(&o, "</voice>");
            open = nl > 0;
            if (open) {
                char name[SRV_TAG_MAX_NAME + 1];
                memcpy(name, in + ns, nl);
                name[nl] = 0;
                const char *mapped = map ? map(ud, name) : NULL;
                put_str(&o, "<voice name=\"");
                if (mapped) put_escaped(&o, mapped, strlen(mapped));
                else put(&o, name, nl);
                put_str(&o, "\">");
            }
        } else {
            /* whole milliseconds: engines with their own SSML (espeak-ng) read "1.5s" as 1 s */
            char num[32], brk[64];
            memcpy(num, in + ns, nl);
            num[nl] = 0;
            double ms = strtod(num, NULL) * 1000.0;
            if (ms > SRV_TAG_MAX_PAUSE_MS) ms = SRV_TAG_MAX_PAUSE_MS;
            snprintf(brk, sizeof brk, "<break time=\"%ldms\"/>", (long)(ms + 0.5));
            put_str(&o, brk);
        }
        i += len - 1;
        text = i + 1;
    }
    put_escaped(&o, in + text, n - text);
    if (open) put_str(&o, "</voice>");
    put_str(&o, "</speak>");
    if (o.oom) {
        free(o.p);
        return -1;
    }
    *out = o.p;
    if (out_len) *out_len = o.len;
    if (n_tags) *n_tags = tags;
    return 0;
}
