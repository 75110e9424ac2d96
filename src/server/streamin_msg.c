/* streamin_msg.c — the pure parsers of the text-stream endpoint (streamin.h). */
#include "streamin.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t cap, const char *msg) {
    snprintf(err, cap, "%s", msg);
    return -1;
}

static double number_of(json_t *v) {
    return json_is_number(v) ? json_number_value(v) : 0;
}

int si_parse_message(const char *buf, size_t n, struct si_msg *m, char *err, size_t cap) {
    memset(m, 0, sizeof *m);
    json_error_t je;
    /* jansson checks UTF-8 and refuses \u0000 (no JSON_ALLOW_NUL) */
    json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(err, cap, "the message is not JSON: %.200s (line %d, column %d)", je.text,
                 je.line, je.column);
        return -1;
    }
    int rc = -1;
    json_t *t = json_object_get(j, "text");
    if (!json_is_object(j)) {
        fail(err, cap, "a message must be a JSON object such as {\"text\": \"Hello \"}");
    } else if (!json_is_string(t)) {
        fail(err, cap, "a message needs \"text\" as a string; send {\"text\": \"\"} to end the text");
    } else if (json_object_get(j, "flush") && !json_is_boolean(json_object_get(j, "flush"))) {
        fail(err, cap, "\"flush\" must be true or false");
    } else {
        m->len = json_string_length(t);
        m->text = malloc(m->len + 1);
        if (!m->text) {
            fail(err, cap, "out of memory");
        } else {
            memcpy(m->text, json_string_value(t), m->len + 1);
            m->eos = m->len == 0;
            m->flush = json_is_true(json_object_get(j, "flush"));
            m->speed = number_of(json_object_get(json_object_get(j, "voice_settings"), "speed"));
            if (m->speed == 0) m->speed = number_of(json_object_get(j, "speed"));
            rc = 0;
        }
    }
    json_decref(j);
    return rc;
}

int si_parse_format(const char *s, enum chorus_format *f, int *rate) {
    if (!s || !*s || strlen(s) > 32) return -1;
    char codec[16];
    size_t cl = strcspn(s, "_");
    if (cl == 0 || cl >= sizeof codec) return -1;
    memcpy(codec, s, cl);
    codec[cl] = 0;
    *f = chorus_format_from_name(codec);
    *rate = 0;
    if (*f == CHORUS_FORMAT_DEFAULT) return -1;
    if (!s[cl]) return 0;
    const char *p = s + cl + 1;
    long r = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 7; p++, digits++) r = r * 10 + (*p - '0');
    if (!digits || r < 8000 || r > 192000) return -1;
    if (*p == '_') { /* a bitrate: digits only, the encoder picks its own */
        p++;
        if (!*p) return -1;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p) return -1;
    *rate = (int)r;
    return 0;
}

int si_key_ok(const char *key) {
    if (!key || strlen(key) != 24) return 0;
    for (int i = 0; i < 22; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return 0;
    }
    return key[22] == '=' && key[23] == '=';
}
