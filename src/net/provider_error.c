/*
 * provider_error.c — read whichever error envelope a provider sent (see net.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "chorus/chorus.h"
#include "net/net.h"

/* Copy printable text, collapsing whitespace, dropping control bytes. */
static void put_text(char *dst, size_t cap, const char *src, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\r' || c == '\n' || c == '\t') c = ' ';
        if (c < 0x20 || c == 0x7f) continue;
        if (c == ' ' && (k == 0 || dst[k - 1] == ' ')) continue;
        dst[k++] = (char)c;
    }
    while (k > 0 && dst[k - 1] == ' ') k--;
    /* do not end in the middle of a UTF-8 sequence */
    size_t cut = k;
    while (cut > 0 && ((unsigned char)dst[cut - 1] & 0xC0) == 0x80) cut--;
    if (cut > 0 && ((unsigned char)dst[cut - 1] & 0x80)) {
        unsigned char lead = (unsigned char)dst[cut - 1];
        size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (k - (cut - 1) < want) k = cut - 1;
    }
    dst[k] = '\0';
}

static void put_json_string(char *dst, size_t cap, json_t *v) {
    if (json_is_string(v))
        put_text(dst, cap, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v))
        snprintf(dst, cap, "%lld", (long long)json_integer_value(v));
}

/* {"message","type","code"} style object */
static void from_object(struct chorus_provider_error *e, json_t *o) {
    json_t *m = json_object_get(o, "message");
    if (!m) m = json_object_get(o, "msg");
    if (!m) m = json_object_get(o, "detail");
    if (json_is_string(m)) put_json_string(e->message, sizeof e->message, m);
    put_json_string(e->type, sizeof e->type, json_object_get(o, "type"));
    json_t *c = json_object_get(o, "code");
    if (!json_is_string(c) && !json_is_integer(c)) c = json_object_get(o, "status");
    if (!json_is_string(c)) {
        json_t *er = json_object_get(o, "error");
        if (json_is_string(er)) c = er;
    }
    put_json_string(e->code, sizeof e->code, c);
    put_json_string(e->param, sizeof e->param, json_object_get(o, "param"));
}

/* FastAPI validation list: [{"loc":["body","speed"],"msg":"...","type":"..."}] */
static void from_validation(struct chorus_provider_error *e, json_t *a) {
    json_t *first = json_array_get(a, 0);
    if (!json_is_object(first)) return;
    char loc[96] = "";
    json_t *l = json_object_get(first, "loc");
    size_t i;
    json_t *part;
    json_array_foreach(l, i, part) {
        if (json_is_string(part) && strcmp(json_string_value(part), "body") != 0) {
            size_t n = strlen(loc);
            snprintf(loc + n, sizeof loc - n, "%s%s", n ? "." : "", json_string_value(part));
        }
    }
    json_t *msg = json_object_get(first, "msg");
    char m[200] = "";
    if (json_is_string(msg)) put_text(m, sizeof m, json_string_value(msg), json_string_length(msg));
    if (loc[0])
        snprintf(e->message, sizeof e->message, "%s: %s", loc, m);
    else
        snprintf(e->message, sizeof e->message, "%s", m);
    put_json_string(e->type, sizeof e->type, json_object_get(first, "type"));
    snprintf(e->code, sizeof e->code, "validation_error");
}

int chorus_provider_error_parse(const char *body, size_t len, struct chorus_provider_error *e) {
    memset(e, 0, sizeof *e);
    if (!body || len == 0) return 0;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) {
        /* not JSON (HTML error page, plain text): its first non-empty line */
        size_t i = 0;
        while (i < len && isspace((unsigned char)body[i])) i++;
        size_t j = i;
        while (j < len && body[j] != '\n') j++;
        put_text(e->message, sizeof e->message, body + i, j - i);
        return e->message[0] != '\0';
    }
    if (json_is_object(root)) {
        json_t *err = json_object_get(root, "error");
        json_t *det = json_object_get(root, "detail");
        if (json_is_object(err)) {
            from_object(e, err); /* OpenAI */
        } else if (json_is_object(det)) {
            json_t *inner = json_object_get(det, "error");
            if (json_is_object(inner))
                from_object(e, inner); /* travisvn chatterbox */
            else
                from_object(e, det); /* ElevenLabs / Kokoro-FastAPI */
        } else if (json_is_array(det)) {
            from_validation(e, det);
        } else if (json_is_string(det)) {
            put_json_string(e->message, sizeof e->message, det);
        } else if (json_is_string(err)) {
            put_json_string(e->message, sizeof e->message, err); /* AllTalk */
            put_json_string(e->code, sizeof e->code, json_object_get(root, "status"));
        } else {
            from_object(e, root); /* {"status":"error","message":...} and friends */
        }
    } else if (json_is_string(root)) {
        put_json_string(e->message, sizeof e->message, root);
    }
    json_decref(root);
    return e->message[0] || e->code[0] || e->type[0];
}
