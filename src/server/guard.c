/* guard.c — Host, Origin and Content-Type rules for a server without an API key (guard.h). */
#include "guard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "request.h"

/* Split "name:port" or "[v6]:port" into the bare name (brackets removed). 0 if malformed. */
static int host_name(const char *hp, char *out, size_t cap) {
    size_t n;
    if (hp[0] == '[') {
        const char *rb = strchr(hp, ']');
        if (!rb || (rb[1] && rb[1] != ':')) return 0;
        n = (size_t)(rb - hp - 1);
        hp++;
    } else {
        n = strcspn(hp, ":");
        if (hp[n] == ':' && strchr(hp + n + 1, ':')) return 0; /* unbracketed IPv6 */
    }
    const char *port = hp[n] == ']' ? hp + n + 1 : hp + n;
    if (*port == ':')
        for (const char *p = port + 1; *p; p++)
            if (*p < '0' || *p > '9') return 0;
    if (n == 0 || n >= cap) return 0;
    memcpy(out, hp, n);
    out[n] = 0;
    return 1;
}

static int is_localhost(const char *name) {
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            return 0;
    size_t n = strlen(name);
    if (n && name[n - 1] == '.') n--; /* "localhost." */
    if (n == 9 && !strncasecmp(name, "localhost", 9)) return 1;
    return n > 10 && !strncasecmp(name + n - 10, ".localhost", 10);
}

static int is_ip_literal(const char *name) {
    unsigned char a[16];
    return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

int srv_guard_host_ok(const char *host) {
    if (!host) return 1;
    char name[256];
    if (!host_name(host, name, sizeof name)) return 0;
    return is_localhost(name) || is_ip_literal(name);
}

int srv_guard_origin_ok(const char *origin, const char *host, const char *const *allowed,
                        size_t n_allowed) {
    if (!origin) return 1;
    for (size_t i = 0; i < n_allowed; i++)
        if (allowed[i] && (!strcmp(allowed[i], "*") || !strcasecmp(allowed[i], origin))) return 1;
    const char *hp = NULL;
    if (!strncasecmp(origin, "http://", 7)) hp = origin + 7;
    else if (!strncasecmp(origin, "https://", 8)) hp = origin + 8;
    if (!hp || strchr(hp, '/') || strchr(hp, '@')) return 0; /* "null", file:, paths */
    if (host && !strcasecmp(hp, host)) return 1; /* same origin */
    char name[256];
    if (!host_name(hp, name, sizeof name)) return 0;
    return is_localhost(name) || srv_host_is_loopback(name);
}

int srv_guard_json_type(const char *ct) {
    if (!ct) return 0;
    while (*ct == ' ' || *ct == '\t') ct++;
    if (strncasecmp(ct, "application/json", 16)) return 0;
    ct += 16;
    while (*ct == ' ' || *ct == '\t') ct++;
    return *ct == 0 || *ct == ';';
}
