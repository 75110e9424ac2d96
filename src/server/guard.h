/*
 * guard.h — what a server without an API key accepts from a browser (pure functions, fuzzed by
 * tests/fuzz/fuzz_server_guard.c). Without a key any web page could otherwise POST to the local
 * server (a text/plain body skips CORS preflight) and DNS rebinding could read its answers:
 *
 *   - Host must name the server by an IP literal or as localhost (or *.localhost): a rebinding
 *     page reaches us under its own host name, which is refused;
 *   - an Origin, when sent, must be the server's own (scheme://Host), a loopback origin, or one
 *     of the explicitly allowed origins (the CORS hook: srv_options.cors_origins);
 *   - a POST body must be Content-Type: application/json, which an HTML form cannot send.
 */
#ifndef CHORUS_SERVER_GUARD_H
#define CHORUS_SERVER_GUARD_H

#include <stddef.h>

/** 1 if a Host header value ("127.0.0.1:8880", "[::1]:80", "localhost") is acceptable without a
 *  key: an IPv4 or bracketed IPv6 literal, localhost or *.localhost, with an optional port. A
 *  missing Host (HTTP/1.0) is acceptable. */
int srv_guard_host_ok(const char *host);

/** 1 if an Origin header value is acceptable without a key (see above); `host` is the request's
 *  Host header. `allowed` lists exact origins an operator opted in to ("*": any). */
int srv_guard_origin_ok(const char *origin, const char *host, const char *const *allowed,
                        size_t n_allowed);

/** 1 if a Content-Type header value is application/json (any case, parameters allowed). */
int srv_guard_json_type(const char *content_type);

#endif
