/* request.c — parsing and validating speech request bodies; model and voice name mapping. */
#include "request.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* No path separators, parent references or control characters: names never become paths. */
static int name_safe(const char *s) {
    if (strstr(s, "..")) return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f) return 0;
    return 1;
}

const char *const srv_openai_voices[] = {"alloy", "ash",  "ballad", "coral", "echo",
                                         "fable", "onyx", "nova",   "sage",  "shimmer",
                                         "verse", "marin", "cedar", NULL};

int srv_voice_is_openai(const char *voice) {
    if (!voice) return 0;
    for (size_t i = 0; srv_openai_voices[i]; i++)
        if (!strcasecmp(voice, srv_openai_voices[i])) return 1;
    return 0;
}

int srv_model_is_openai(const char *model) {
    if (!model) return 0;
    return !strcmp(model, "tts-1") || !strcmp(model, "tts-1-hd") ||
           !strncmp(model, "gpt-4o-mini-tts", 15) || !strncmp(model, "gpt-4o-tts", 10);
}

int srv_model_split(const char *model, char *backend, size_t bcap, char *bmodel, size_t mcap) {
    backend[0] = 0;
    bmodel[0] = 0;
    if (!model || !*model || srv_model_is_openai(model)) return 0;
    const char *slash = strchr(model, '/');
    size_t bl = slash ? (size_t)(slash - model) : strlen(model);
    if (bl == 0 || bl >= bcap) return -1;
    memcpy(backend, model, bl);
    backend[bl] = 0;
    if (!name_safe(backend)) return -1;
    if (slash) {
        size_t ml = strlen(slash + 1);
        if (ml == 0 || ml >= mcap) return -1;
        memcpy(bmodel, slash + 1, ml + 1);
        /* remote models may be "org/name"; never absolute or with parent references */
        if (bmodel[0] == '/' || strstr(bmodel, "..") || strchr(bmodel, '\\')) return -1;
        for (const char *p = bmodel; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) return -1;
    }
    return 0;
}

const char *srv_lang_from_code(const char *code) {
    static const char *const letters[][2] = {{"a", "en-us"}, {"b", "en-gb"}, {"e", "es"},
                                             {"f", "fr-fr"}, {"h", "hi"},    {"i", "it"},
                                             {"j", "ja"},    {"p", "pt-br"}, {"z", "zh"},
                                             {NULL, NULL}};
    if (!code) return NULL;
    for (size_t i = 0; letters[i][0]; i++)
        if (!strcasecmp(code, letters[i][0])) return letters[i][1];
    return code;
}

char *srv_base64(const unsigned char *d, size_t n, size_t *out_len) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t m = (n + 2) / 3 * 4;
    char *o = malloc(m + 1);
    if (!o) return NULL;
    size_t j = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        o[j++] = tab[v >> 18];
        o[j++] = tab[(v >> 12) & 63];
        o[j++] = tab[(v >> 6) & 63];
        o[j++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0);
        o[j++] = tab[v >> 18];
        o[j++] = tab[(v >> 12) & 63];
        o[j++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        o[j++] = '=';
    }
    o[j] = 0;
    if (out_len) *out_len = j;
    return o;
}

static int bad(struct srv_error *e, int status, const char *code, const char *param,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad(struct srv_error *e, int status, const char *code, const char *param,
               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->status = status;
    e->type = "invalid_request_error";
    e->code = code;
    e->param = param;
    return -1;
}

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* A string field: NULL (absent or null) or its value; -1 on a wrong type. */
static int get_string(json_t *root, const char *key, const char **out, struct srv_error *e) {
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v))
        return bad(e, 400, "invalid_type", key, "'%s' must be a string, not %s", key, type_name(v));
    *out = json_string_value(v);
    return 0;
}

/* Pydantic's lax mode (which Kokoro-FastAPI and most Python servers run) turns "1.0" into 1.0
 * and "false" into False; clients with text boxes (SillyTavern's customParams) send such strings.
 * The rules below are pydantic v2's: a number from a decimal string (surrounding whitespace
 * allowed) or a boolean; a boolean from true/false, 0/1 and the strings t/f, y/n, yes/no, on/off. */
static int lax_number_string(const char *s, double *out) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    int digits = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') digits = 1;
        else if (!strchr(".eE+- \t\n\r", *p)) return -1; /* no hex, inf, nan or words */
    }
    if (!digits) return -1;
    char *end;
    *out = strtod(s, &end);
    if (end == s) return -1;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
    return *end ? -1 : 0;
}

static int lax_bool(const json_t *v, int *out) {
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return 0;
    }
    if (json_is_real(v) && (json_real_value(v) == 0.0 || json_real_value(v) == 1.0)) {
        *out = json_real_value(v) == 1.0;
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) > 8) return -1;
    static const char *const yes[] = {"true", "1", "t", "y", "yes", "on", NULL};
    static const char *const no[] = {"false", "0", "f", "n", "no", "off", NULL};
    const char *s = json_string_value(v);
    for (size_t i = 0; yes[i]; i++) {
        if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
            *out = !strcasecmp(s, yes[i]);
            return 0;
        }
    }
    return -1;
}

static int get_number(json_t *root, const char *key, double *out, int *given, struct srv_error *e) {
    json_t *v = json_object_get(root, key);
    *given = 0;
    if (!v || json_is_null(v)) return 0;
    if (json_is_number(v)) *out = json_number_value(v);
    else if (json_is_boolean(v)) *out = json_is_true(v);
    else if (!json_is_string(v) || json_string_length(v) > 64 ||
             lax_number_string(json_string_value(v), out) < 0)
        return bad(e, 400, "invalid_type", key, "'%s' must be a number (or a string holding one), not %s",
                   key, json_is_string(v) ? "a string that is not a number" : type_name(v));
    *given = 1;
    if (!isfinite(*out)) return bad(e, 400, "invalid_value", key, "'%s' must be a finite number", key);
    return 0;
}

static int get_bool(json_t *root, const char *key, int *out, struct srv_error *e) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) return 0;
    if (lax_bool(v, out) < 0)
        return bad(e, 400, "invalid_type", key,
                   "'%s' must be true or false (also accepted: \"true\"/\"false\", 1/0, yes/no, on/off), not %s",
                   key, json_is_string(v) ? "a string that is not a boolean" : type_name(v));
    return 0;
}

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int key_ok(const char *k) {
    size_t n = strlen(k);
    if (n == 0 || n > 40) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
              (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-' || k[i] == '.'))
            return 0;
    return 1;
}

static int parse_normalization(json_t *v, struct srv_speech *r, struct srv_error *e) {
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v))
        return bad(e, 400, "invalid_type", "normalization_options",
                   "'normalization_options' must be an object such as {\"normalize\": false}, not %s",
                   type_name(v));
    const char *k;
    json_t *val;
    size_t off = 0;
    json_object_foreach(v, k, val) {
        if (!key_ok(k))
            return bad(e, 400, "invalid_value", "normalization_options",
                       "normalization_options has an invalid key; keys are names like url_normalization");
        int on;
        if (lax_bool(val, &on) < 0)
            return bad(e, 400, "invalid_type", "normalization_options",
                       "normalization_options.%s must be true or false, not %s", k, type_name(val));
        if (!strcmp(k, "normalize")) {
            r->no_normalize = !on;
            continue;
        }
        int n = snprintf(r->normalize_opts + off, sizeof r->normalize_opts - off, "%s%s=%s",
                         off ? "," : "", k, on ? "true" : "false");
        if (n < 0 || (size_t)n >= sizeof r->normalize_opts - off)
            return bad(e, 400, "invalid_value", "normalization_options",
                       "normalization_options has too many keys");
        off += (size_t)n;
    }
    return 0;
}

static int parse_options(json_t *v, struct srv_speech *r, struct srv_error *e) {
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v))
        return bad(e, 400, "invalid_type", "options",
                   "'options' must be an object of backend options, e.g. {\"pitch\": 60}, not %s",
                   type_name(v));
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val) {
        if (!key_ok(k))
            return bad(e, 400, "invalid_value", "options",
                       "options has an invalid key; keys are option names like pitch");
        if (r->n_options == SRV_MAX_OPTIONS)
            return bad(e, 400, "invalid_value", "options", "too many options: at most %d",
                       SRV_MAX_OPTIONS);
        char *buf = r->optval[r->n_options];
        const char *s;
        if (json_is_string(val)) s = json_string_value(val);
        else if (json_is_integer(val)) {
            snprintf(buf, sizeof r->optval[0], "%lld", (long long)json_integer_value(val));
            s = buf;
        } else if (json_is_real(val)) {
            snprintf(buf, sizeof r->optval[0], "%.17g", json_real_value(val));
            s = buf;
        } else if (json_is_boolean(val)) {
            s = json_is_true(val) ? "true" : "false";
        } else {
            return bad(e, 400, "invalid_type", "options",
                       "option %s must be a string, number or boolean, not %s", k, type_name(val));
        }
        r->options[r->n_options].key = k;
        r->options[r->n_options].value = s;
        r->n_options++;
    }
    return 0;
}

/* One value of "pronunciations": an alias string, or an object of alias/phonemes/alphabet. */
static int parse_pron(const char *word, json_t *val, struct chorus_pronunciation *p,
                      struct srv_error *e) {
    memset(p, 0, sizeof *p);
    p->word = word;
    if (json_is_string(val)) {
        p->alias = json_string_value(val);
        return 0;
    }
    if (!json_is_object(val))
        return bad(e, 400, "invalid_type", "pronunciations",
                   "each pronunciation is an alias string or an object such as {\"phonemes\": "
                   "\"t@m'A:toU\", \"alphabet\": \"x-espeak\"}, not %s", type_name(val));
    const char *k;
    json_t *v;
    json_object_foreach(val, k, v) {
        const char **slot = !strcmp(k, "alias") ? &p->alias : !strcmp(k, "phonemes") ? &p->phonemes
                          : !strcmp(k, "alphabet") ? &p->alphabet : NULL;
        if (!slot)
            return bad(e, 400, "invalid_value", "pronunciations",
                       "a pronunciation object takes alias, phonemes and alphabet only");
        if (!json_is_string(v))
            return bad(e, 400, "invalid_type", "pronunciations",
                       "pronunciation fields are strings, not %s", type_name(v));
        *slot = json_string_value(v);
    }
    return 0;
}

/* Extension "pronunciations" (docs/server.md): bounded here, each entry checked by the
 * library when the stream opens (nothing is read from files). */
static int parse_pronunciations(json_t *v, struct srv_speech *r, struct srv_error *e) {
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v))
        return bad(e, 400, "invalid_type", "pronunciations",
                   "'pronunciations' must be an object of word -> alias or {\"phonemes\", "
                   "\"alphabet\"}, not %s", type_name(v));
    if (json_object_size(v) > CHORUS_MAX_REQUEST_PRONUNCIATIONS)
        return bad(e, 400, "invalid_value", "pronunciations",
                   "too many pronunciations: at most %d", CHORUS_MAX_REQUEST_PRONUNCIATIONS);
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val) {
        if (parse_pron(k, val, &r->prons[r->n_prons], e)) return -1;
        r->n_prons++;
    }
    return 0;
}

int srv_input_is_ssml(const char *s, size_t n) {
    size_t i = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) i = 3; /* a byte-order mark */
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return (n - i >= 6 && !memcmp(s + i, "<speak", 6)) || (n - i >= 5 && !memcmp(s + i, "<?xml", 5));
}

/* Kokoro-FastAPI's switches: ssml, allow_voice_tags, return_download_link, download_format. */
static int parse_kokoro_extras(json_t *root, struct srv_speech *r, struct srv_error *e) {
    if (get_bool(root, "ssml", &r->ssml, e)) return -1;
    if (!r->ssml) r->ssml = srv_input_is_ssml(r->input, r->input_len);
    if (get_bool(root, "allow_voice_tags", &r->voice_tags, e)) return -1;
    if (get_bool(root, "return_download_link", &r->download_link, e)) return -1;
    const char *df;
    if (get_string(root, "download_format", &df, e)) return -1;
    if (df) {
        r->download_format = chorus_format_from_name(df);
        if (r->download_format == CHORUS_FORMAT_DEFAULT)
            return bad(e, 400, "invalid_value", "download_format",
                       "unknown download_format '%.64s': use mp3, opus, aac, flac, wav or pcm", df);
    }
    return 0;
}

void srv_speech_release(struct srv_speech *r) {
    if (!r) return;
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

int srv_speech_parse(const char *body, size_t len, size_t max_input_chars, struct srv_speech *r,
                     struct srv_error *e) {
    memset(r, 0, sizeof *r);
    memset(e, 0, sizeof *e);
    r->stream = 1;
    r->return_timestamps = 1;
    json_error_t je;
    json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return bad(e, 400, "invalid_json", NULL,
                   "the request body is not valid JSON (%s at line %d, column %d); send a JSON object with 'input', 'model' and 'voice'",
                   je.text, je.line, je.column);
    r->json = root;
    if (!json_is_object(root)) {
        bad(e, 400, "invalid_json", NULL, "the request body must be a JSON object, not %s",
            type_name(root));
        goto fail;
    }

    if (get_string(root, "model", &r->model, e)) goto fail;
    json_t *in = json_object_get(root, "input");
    if (!in || json_is_null(in)) {
        bad(e, 400, "missing_required_parameter", "input",
            "missing required parameter 'input': the text to speak");
        goto fail;
    }
    if (!json_is_string(in)) {
        bad(e, 400, "invalid_type", "input", "'input' must be a string, not %s", type_name(in));
        goto fail;
    }
    r->input = json_string_value(in);
    r->input_len = json_string_length(in);
    r->input_chars = utf8_chars(r->input, r->input_len);
    if (r->input_len == 0) {
        bad(e, 400, "invalid_value", "input", "'input' is empty: give the text to speak");
        goto fail;
    }
    if (max_input_chars && r->input_chars > max_input_chars) {
        bad(e, 400, "string_above_max_length", "input",
            "'input' is %zu characters long; this server accepts at most %zu per request (split the text, or raise [server] max_input_chars)",
            r->input_chars, max_input_chars);
        goto fail;
    }

    json_t *v = json_object_get(root, "voice");
    if (v && json_is_object(v)) {
        json_t *id = json_object_get(v, "id");
        if (!json_is_string(id)) {
            bad(e, 400, "invalid_type", "voice", "a voice object must carry a string 'id', like {\"id\": \"en-us\"}");
            goto fail;
        }
        r->voice = json_string_value(id);
    } else if (get_string(root, "voice", &r->voice, e)) {
        e->message[0] = 0;
        bad(e, 400, "invalid_type", "voice", "'voice' must be a string or an object with an 'id', not %s",
            type_name(v));
        goto fail;
    }
    if (r->voice && (!*r->voice || strlen(r->voice) > 256)) {
        bad(e, 400, "invalid_value", "voice", "'voice' must be 1 to 256 characters long");
        goto fail;
    }
    if (r->voice && !name_safe(r->voice)) {
        bad(e, 400, "invalid_value", "voice",
            "'voice' cannot contain '/', '\\', '..' or control characters; give a voice id or name");
        goto fail;
    }

    const char *fmt;
    if (get_string(root, "response_format", &fmt, e)) goto fail;
    if (fmt) {
        r->format_given = 1;
        r->format = chorus_format_from_name(fmt);
        if (r->format == CHORUS_FORMAT_DEFAULT) {
            bad(e, 400, "invalid_value", "response_format",
                "unknown response_format '%.64s': use mp3, opus, aac, flac, wav or pcm", fmt);
            goto fail;
        }
    }

    int given;
    if (get_number(root, "speed", &r->speed, &given, e)) goto fail;
    if (given && !(r->speed >= 0.25 && r->speed <= 4.0)) {
        bad(e, 400, "invalid_value", "speed", "speed %g is out of range: use 0.25 to 4.0", r->speed);
        goto fail;
    }
    if (get_string(root, "instructions", &r->instructions, e)) goto fail;
    if (r->instructions && utf8_chars(r->instructions, strlen(r->instructions)) > 4096) {
        bad(e, 400, "string_above_max_length", "instructions", "'instructions' is longer than 4096 characters");
        goto fail;
    }

    const char *sf;
    if (get_string(root, "stream_format", &sf, e)) goto fail;
    if (sf) {
        if (!strcmp(sf, "audio")) r->stream_format = SRV_STREAM_AUDIO;
        else if (!strcmp(sf, "sse")) r->stream_format = SRV_STREAM_SSE;
        else {
            bad(e, 400, "invalid_value", "stream_format", "unknown stream_format '%.64s': use audio or sse", sf);
            goto fail;
        }
    }
    if (get_bool(root, "stream", &r->stream, e)) goto fail;
    if (get_bool(root, "return_timestamps", &r->return_timestamps, e)) goto fail;

    const char *lang, *lc;
    if (get_string(root, "language", &lang, e)) goto fail;
    if (get_string(root, "lang_code", &lc, e)) goto fail;
    r->language = lc && *lc ? srv_lang_from_code(lc) : (lang && *lang ? lang : NULL);
    if (r->language && strlen(r->language) > 32) {
        bad(e, 400, "invalid_value", lc ? "lang_code" : "language", "language code is too long");
        goto fail;
    }

    if (get_number(root, "volume_multiplier", &r->volume, &given, e)) goto fail;
    if (given && !(r->volume > 0 && r->volume <= 10)) {
        bad(e, 400, "invalid_value", "volume_multiplier",
            "volume_multiplier %g is out of range: use a number above 0, up to 10", r->volume);
        goto fail;
    }
    if (parse_normalization(json_object_get(root, "normalization_options"), r, e)) goto fail;

    double rate = 0;
    if (get_number(root, "sample_rate", &rate, &given, e)) goto fail;
    if (given) {
        if (rate != floor(rate) || rate < 1000 || rate > 384000) {
            bad(e, 400, "invalid_value", "sample_rate", "sample_rate %g is not a rate in Hz such as 24000", rate);
            goto fail;
        }
        r->sample_rate = (int)rate;
    }
    if (parse_options(json_object_get(root, "options"), r, e)) goto fail;
    if (parse_pronunciations(json_object_get(root, "pronunciations"), r, e)) goto fail;
    if (parse_kokoro_extras(root, r, e)) goto fail;
    return 0;
fail:
    srv_speech_release(r);
    return -1;
}

int srv_host_is_loopback(const char *host) {
    if (!host || !*host) return 0;
    if (!strcasecmp(host, "localhost")) return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6)) return 1;
        if (IN6_IS_ADDR_V4MAPPED(&a6)) return a6.s6_addr[12] == 127;
    }
    return 0;
}

/* The endpoints clients reach with or without /v1 in their base URL. */
static int v1_endpoint(const char *p) {
    static const char *const exact[] = {"/audio/speech", "/audio/speech/captioned", "/audio/voices",
                                        "/audio/models", "/audio/voices/combine", "/models",
                                        "/backends", "/health", NULL};
    for (size_t i = 0; exact[i]; i++)
        if (!strcmp(p, exact[i])) return 1;
    return (!strncmp(p, "/models/", 8) && p[8]) || (!strncmp(p, "/download/", 10) && p[10]);
}

int srv_path_normalize(const char *url, char *out, size_t cap) {
    if (!url || url[0] != '/' || cap < 8) return -1;
    size_t n = 0;
    for (const char *p = url; *p && *p != '?'; p++) {
        if (*p == '/' && n && out[n - 1] == '/') continue; /* "//" is "/" */
        if (n + 1 >= cap) return -1;
        out[n++] = *p;
    }
    if (n > 1 && out[n - 1] == '/') n--; /* a trailing slash */
    out[n] = 0;
    while (!strncmp(out, "/v1/v1/", 7) || !strcmp(out, "/v1/v1")) { /* base URL with /v1, and the client adds it */
        memmove(out, out + 3, strlen(out + 3) + 1);
    }
    if (strcmp(out, "/health") && v1_endpoint(out)) {
        size_t l = strlen(out);
        if (l + 4 > cap) return -1;
        memmove(out + 3, out, l + 1);
        memcpy(out, "/v1", 3);
    }
    return 0;
}

void srv_log_escape(const char *s, char *out, size_t cap) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        int esc = c < 0x20 || c >= 0x7f || c == '\\' || c == '"'; /* C1 controls too */
        if (o + (esc ? 4 : 1) >= cap) break;
        if (esc) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}
