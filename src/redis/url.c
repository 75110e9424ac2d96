/*
 * url.c — Redis URLs: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], the form of the IANA
 * registration (https://www.iana.org/assignments/uri-schemes/prov/redis) that redis-cli -u and
 * most clients accept. Input comes from config files and the environment: everything is bounded
 * and checked, and no message repeats the password.
 */
#include <stdio.h>
#include <string.h>

#include "redis/redis.h"

static int fail(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return -1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Copy s[0..n) %-decoded into out (cap bytes with the NUL); no NUL or control bytes allowed. */
static int decode(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || o + 1 >= cap) return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

/* Parse a decimal in [lo, hi] from s[0..n). */
static int number(const char *s, size_t n, long lo, long hi, int *out) {
    if (n == 0 || n > 6) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse_host(const char *h, size_t n, struct chorus_redis_url *u, char *err, size_t errlen) {
    const char *colon = NULL;
    if (n && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        if (!close || close == h + 1) return fail(err, errlen, "Redis URL: unterminated [IPv6] host");
        if (decode(h + 1, (size_t)(close - h - 1), u->host, sizeof u->host) < 0)
            return fail(err, errlen, "Redis URL: bad host");
        if (close + 1 < h + n && close[1] != ':') return fail(err, errlen, "Redis URL: junk after ]");
        colon = close + 1 < h + n ? close + 1 : NULL;
    } else {
        colon = memchr(h, ':', n);
        size_t hl = colon ? (size_t)(colon - h) : n;
        if (hl == 0 || hl >= sizeof u->host) return fail(err, errlen, "Redis URL: missing or too long host");
        for (size_t i = 0; i < hl; i++) {
            char c = h[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                return fail(err, errlen, "Redis URL: the host may hold letters, digits, '.', '-' and '_'");
        }
        memcpy(u->host, h, hl);
        u->host[hl] = 0;
    }
    if (colon && number(colon + 1, (size_t)(h + n - colon - 1), 1, 65535, &u->port) < 0)
        return fail(err, errlen, "Redis URL: the port must be 1 to 65535");
    return 0;
}

static int parse_auth(const char *a, size_t n, struct chorus_redis_url *u, char *err, size_t errlen) {
    const char *colon = memchr(a, ':', n);
    size_t ul = colon ? (size_t)(colon - a) : n;
    if (!colon) /* redis://SECRET@host: the one part is the password (as redis-cli reads it) */
        return decode(a, n, u->password, sizeof u->password) < 0
                   ? fail(err, errlen, "Redis URL: bad or too long password (escape '@' ':' '/' '%' as %XX)")
                   : 0;
    if (decode(a, ul, u->user, sizeof u->user) < 0) return fail(err, errlen, "Redis URL: bad or too long user name");
    if (decode(colon + 1, n - ul - 1, u->password, sizeof u->password) < 0)
        return fail(err, errlen, "Redis URL: bad or too long password (escape '@' ':' '/' '%' as %XX)");
    return 0;
}

int chorus_redis_url_parse(const char *s, struct chorus_redis_url *u, char *err, size_t errlen) {
    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (!s) return fail(err, errlen, "no Redis URL");
    size_t n = strnlen(s, CHORUS_REDIS_URL_MAX + 1);
    if (n > CHORUS_REDIS_URL_MAX) return fail(err, errlen, "Redis URL is too long");
    if (!strncmp(s, "rediss://", 9))
        return fail(err, errlen,
                    "rediss:// (Redis over TLS) is not supported: Debian 12's hiredis 0.14 has no TLS. "
                    "Reach Redis over a private network or a tunnel (stunnel, WireGuard) with redis://");
    if (strncmp(s, "redis://", 8))
        return fail(err, errlen, "a Redis URL starts with redis:// (redis://[:PASSWORD@]HOST[:PORT][/DB])");
    const char *p = s + 8, *end = s + n;
    if (memchr(p, '?', (size_t)(end - p)) || memchr(p, '#', (size_t)(end - p)))
        return fail(err, errlen, "Redis URL: options (?...) are not supported");
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *hp_end = slash ? slash : end;
    const char *at = NULL;
    for (const char *q = p; q < hp_end; q++)
        if (*q == '@') at = q; /* the last '@' ends the credentials */
    if (at && parse_auth(p, (size_t)(at - p), u, err, errlen) < 0) return -1;
    const char *h = at ? at + 1 : p;
    if (parse_host(h, (size_t)(hp_end - h), u, err, errlen) < 0) return -1;
    if (slash && slash + 1 < end && number(slash + 1, (size_t)(end - slash - 1), 0, 9999, &u->db) < 0)
        return fail(err, errlen, "Redis URL: the database after / must be a number 0 to 9999");
    return 0;
}

char *chorus_redis_url_show(const struct chorus_redis_url *u, char *buf, size_t cap) {
    int v6 = strchr(u->host, ':') != NULL;
    snprintf(buf, cap, "redis://%s%s%s:%d/%d", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->db);
    return buf;
}
