/*
 * http.c — libcurl transfers with streaming, timeouts, retries, cancellation (see net.h).
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "chorus/chorus.h"
#include "net/net.h"

#define ERROR_BODY_CAP 65536
#define POLL_MS 50

static pthread_once_t net_once = PTHREAD_ONCE_INIT;
static int net_init_rc;

static void net_init_once(void) {
    net_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? CHORUS_OK
                                                                     : CHORUS_E_NETWORK;
}

int chorus_net_global_init(void) {
    pthread_once(&net_once, net_init_once);
    return net_init_rc;
}

/* ---- connection pool (libcurl share: connections, DNS, TLS sessions) -------------------- */

struct chorus_http_pool {
    CURLSH *sh;
    pthread_mutex_t mu[CURL_LOCK_DATA_LAST];
    char *ca_file;
};

static void pool_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud) {
    struct chorus_http_pool *p = ud;
    (void)h, (void)access;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&p->mu[data]);
}

static void pool_unlock(CURL *h, curl_lock_data data, void *ud) {
    struct chorus_http_pool *p = ud;
    (void)h;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&p->mu[data]);
}

struct chorus_http_pool *chorus_http_pool_create(const char *ca_file) {
    if (chorus_net_global_init() != CHORUS_OK) return NULL;
    struct chorus_http_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&p->mu[i], NULL);
    p->sh = curl_share_init();
    if (ca_file && *ca_file && !(p->ca_file = strdup(ca_file))) {
        chorus_http_pool_destroy(p);
        return NULL;
    }
    if (!p->sh || curl_share_setopt(p->sh, CURLSHOPT_LOCKFUNC, pool_lock) != CURLSHE_OK ||
        curl_share_setopt(p->sh, CURLSHOPT_UNLOCKFUNC, pool_unlock) != CURLSHE_OK ||
        curl_share_setopt(p->sh, CURLSHOPT_USERDATA, p) != CURLSHE_OK ||
        curl_share_setopt(p->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        curl_share_setopt(p->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(p->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        chorus_http_pool_destroy(p);
        return NULL;
    }
    return p;
}

void chorus_http_pool_destroy(struct chorus_http_pool *p) {
    if (!p) return;
    if (p->sh) curl_share_cleanup(p->sh);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&p->mu[i]);
    free(p->ca_file);
    free(p);
}

/* ---- small helpers ---------------------------------------------------------------------- */

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double random_unit(void) {
    unsigned int v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
        v = (unsigned int)now_ms() * 2654435761u;
    return (double)v / 4294967296.0;
}

/* The URL without query string or user info, for messages (queries may carry user text). */
static void url_for_message(const char *url, char *out, size_t cap) {
    const char *s = url ? url : "";
    const char *scheme_end = strstr(s, "://");
    const char *host = scheme_end ? scheme_end + 3 : s;
    const char *at = NULL;
    for (const char *p = host; *p && *p != '/' && *p != '?' && *p != '#'; p++)
        if (*p == '@') at = p;
    size_t n = 0;
    if (scheme_end && at) { /* drop user:password@ */
        size_t pre = (size_t)(host - s);
        n = pre < cap - 1 ? pre : cap - 1;
        memcpy(out, s, n);
        s = at + 1;
    }
    for (; *s && *s != '?' && *s != '#' && n + 1 < cap; s++) out[n++] = *s;
    out[n] = '\0';
}

long chorus_http_parse_retry_after(const char *value, long long now) {
    if (!value) return -1;
    while (*value == ' ' || *value == '\t') value++;
    if (!*value) return -1;
    if (isdigit((unsigned char)*value)) {
        char *end;
        errno = 0;
        double secs = strtod(value, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
        if (*end == '\0' && errno == 0 && secs >= 0 && secs < 1e7)
            return (long)(secs * 1000.0 + 0.5);
        if (*end != '\0' && !isalpha((unsigned char)*end)) return -1;
    }
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1) return -1;
    long long d = (long long)t - now;
    if (d < 0) d = 0;
    if (d > 10000000) d = 10000000;
    return (long)(d * 1000);
}

long chorus_http_backoff_ms(const struct chorus_http_policy *p, int retry, double rnd) {
    long initial = p && p->backoff_initial_ms > 0 ? p->backoff_initial_ms : 500;
    long cap = p && p->backoff_max_ms > 0 ? p->backoff_max_ms : 8000;
    double d = (double)initial;
    for (int i = 1; i < retry && d < (double)cap; i++) d *= 2.0;
    if (d > (double)cap) d = (double)cap;
    if (rnd < 0) rnd = 0;
    if (rnd >= 1) rnd = 0.999999;
    return (long)(d * (0.5 + 0.5 * rnd));
}

/* ---- redaction -------------------------------------------------------------------------- */

void chorus_net_redact(char *s, size_t cap, const char *secret) {
    if (!s || !secret || !*secret || cap == 0) return;
    size_t slen = strlen(secret);
    size_t minrun = slen < 12 ? slen : 6;
    size_t n = strlen(s);
    size_t i = 0;
    while (i < n) {
        /* longest run starting at s+i that occurs somewhere in the secret */
        size_t best = 0;
        for (size_t j = 0; j < slen; j++) {
            size_t k = 0;
            while (i + k < n && j + k < slen && s[i + k] == secret[j + k]) k++;
            if (k > best) best = k;
        }
        if (best >= minrun) {
            /* replace s[i, i+best) by "***" */
            const char *mask = "***";
            size_t ml = 3;
            if (ml > best) { /* grow: shift right if room, else truncate */
                size_t grow = ml - best;
                if (n + grow + 1 > cap) {
                    n = cap - 1 - grow < n ? cap - 1 - grow : n;
                    s[n] = '\0';
                }
                memmove(s + i + ml, s + i + best, n - i - best + 1);
                n += grow;
            } else {
                memmove(s + i + ml, s + i + best, n - i - best + 1);
                n -= best - ml;
            }
            memcpy(s + i, mask, ml);
            i += ml;
        } else {
            i++;
        }
    }
}

int chorus_net_urlencode_append(char *buf, size_t cap, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(buf);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int keep = isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t need = keep ? 1 : 3;
        if (n + need + 1 > cap) {
            buf[n] = '\0';
            return -1;
        }
        if (keep) {
            buf[n++] = (char)*p;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    buf[n] = '\0';
    return 0;
}

int chorus_net_join_url(char *buf, size_t cap, const char *base, const char *path) {
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') bl--;
    while (*path == '/') path++;
    int w = snprintf(buf, cap, "%.*s/%s", (int)bl, base, path);
    return (w < 0 || (size_t)w >= cap) ? -1 : 0;
}

/* ---- default classification --------------------------------------------------------------- */

static void excerpt(const char *body, size_t len, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap && n < 200; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == '\r' || c == '\n' || c == '\t') c = ' ';
        if (c < 0x20 || c == 0x7f) continue;
        if (c == ' ' && n > 0 && out[n - 1] == ' ') continue;
        out[n++] = (char)c;
    }
    while (n > 0 && out[n - 1] == ' ') n--;
    out[n] = '\0';
}

void chorus_http_classify_default(const char *what, const struct chorus_http_result *r,
                                  struct chorus_http_verdict *v) {
    char ex[300] = "";
    struct chorus_provider_error pe;
    if (r->error_body && chorus_provider_error_parse(r->error_body, r->error_body_len, &pe) &&
        pe.message[0])
        snprintf(ex, sizeof ex, "%s", pe.message);
    else if (r->error_body)
        excerpt(r->error_body, r->error_body_len, ex, sizeof ex);
    long st = r->status;
    v->retryable = 0;
    const char *kind;
    if (st == 400 || st == 409 || st == 413 || st == 415 || st == 422) {
        v->status = CHORUS_E_BAD_REQUEST;
        kind = "rejected the request";
    } else if (st == 401 || st == 403) {
        v->status = CHORUS_E_AUTH;
        kind = "refused the credentials";
    } else if (st == 404) {
        v->status = CHORUS_E_NOT_FOUND;
        kind = "has no such resource";
    } else if (st == 408) {
        v->status = CHORUS_E_TIMEOUT;
        v->retryable = 1;
        kind = "timed out";
    } else if (st == 429) {
        v->status = CHORUS_E_RATE_LIMIT;
        v->retryable = 1;
        kind = "is rate limiting requests";
    } else if (st >= 500) {
        v->status = CHORUS_E_SERVER;
        v->retryable = 1;
        kind = "failed";
    } else {
        v->status = CHORUS_E_BACKEND;
        kind = "gave an unexpected answer";
    }
    snprintf(v->msg, sizeof v->msg, "%s: server %s (HTTP %ld)%s%s", what ? what : "http", kind,
             st, ex[0] ? ": " : "", ex);
}

/* ---- one transfer ------------------------------------------------------------------------ */

struct xfer {
    const struct chorus_http_req *req;
    struct chorus_http_result *r;
    long status;          /* status of the current response (final, not 1xx) */
    int headers_done;
    int is_2xx;
    int cb_status;        /* a callback's abort status */
    int cancelled;
    size_t body_bytes;    /* 2xx body bytes of this attempt */
    int have_request_id;  /* a request-id header was seen (preferred to x-request-id) */
    char *err;            /* error body being collected */
    size_t err_len;
};

static int header_is(const char *line, size_t n, const char *name, const char **value,
                     size_t *vlen) {
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':') return 0;
    const char *v = line + k + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud) {
    struct xfer *x = ud;
    size_t n = size * nitems;
    const char *v;
    size_t vl;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new response (1xx interim, or the final one) */
        const char *sp = memchr(buf, ' ', n);
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->headers_done = 0;
        x->r->content_type[0] = '\0';
        return n;
    }
    if (n <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        if (x->status >= 200 || x->status == 0) {
            x->headers_done = 1;
            x->r->status = x->status;
            x->is_2xx = x->status >= 200 && x->status < 300;
            if (x->is_2xx && x->req->on_response) {
                int rc = x->req->on_response(x->req->ud, x->r);
                if (rc < 0) {
                    x->cb_status = rc;
                    return 0;
                }
            }
        }
        return n;
    }
    if (header_is(buf, n, "content-type", &v, &vl)) {
        copy_value(x->r->content_type, sizeof x->r->content_type, v, vl);
    } else if (header_is(buf, n, "request-id", &v, &vl)) {
        /* ElevenLabs' stitching id (previous_request_ids) is request-id; it wins over an
         * x-request-id a proxy or another layer may add */
        copy_value(x->r->request_id, sizeof x->r->request_id, v, vl);
        x->have_request_id = 1;
    } else if (header_is(buf, n, "x-request-id", &v, &vl)) {
        if (!x->have_request_id) copy_value(x->r->request_id, sizeof x->r->request_id, v, vl);
    } else if (header_is(buf, n, "character-cost", &v, &vl)) {
        copy_value(x->r->character_cost, sizeof x->r->character_cost, v, vl);
    } else if (header_is(buf, n, "x-should-retry", &v, &vl)) {
        x->r->should_retry = (vl == 4 && !strncasecmp(v, "true", 4))    ? 1
                             : (vl == 5 && !strncasecmp(v, "false", 5)) ? 0
                                                                         : -1;
    } else if (header_is(buf, n, "retry-after-ms", &v, &vl)) {
        char tmp[64];
        copy_value(tmp, sizeof tmp, v, vl);
        char *end;
        double ms = strtod(tmp, &end);
        if (end != tmp && ms >= 0 && ms < 1e9) x->r->retry_after_ms = (long)ms;
    } else if (header_is(buf, n, "retry-after", &v, &vl)) {
        char tmp[128];
        copy_value(tmp, sizeof tmp, v, vl);
        long ms = chorus_http_parse_retry_after(tmp, (long long)time(NULL));
        if (ms >= 0 && x->r->retry_after_ms < 0) x->r->retry_after_ms = ms;
    }
    return n;
}

static size_t on_write(char *buf, size_t size, size_t nmemb, void *ud) {
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (!x->headers_done) { /* HTTP/0.9 or odd server: take the status now */
        long code = 0;
        x->headers_done = 1;
        x->r->status = x->status = code;
        x->is_2xx = 0;
    }
    if (x->is_2xx) {
        if (x->req->on_body && n > 0) {
            int rc = x->req->on_body(x->req->ud, buf, n);
            if (rc < 0) {
                x->cb_status = rc;
                return 0;
            }
        }
        x->body_bytes += n;
        x->r->body_total += n;
        return n;
    }
    /* error body: keep up to the cap, drop the rest */
    if (x->err_len < ERROR_BODY_CAP) {
        size_t take = n;
        if (take > ERROR_BODY_CAP - x->err_len) take = ERROR_BODY_CAP - x->err_len;
        char *p = realloc(x->err, x->err_len + take + 1);
        if (!p) {
            x->cb_status = CHORUS_E_NOMEM;
            return 0;
        }
        x->err = p;
        memcpy(x->err + x->err_len, buf, take);
        x->err_len += take;
        x->err[x->err_len] = '\0';
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    struct xfer *x = ud;
    (void)dt, (void)dn, (void)ut, (void)un;
    if (x->req->is_cancelled && x->req->is_cancelled(x->req->ud)) {
        x->cancelled = 1;
        return 1;
    }
    return 0;
}

static struct curl_slist *build_headers(const struct chorus_http_req *req, int *ok) {
    struct curl_slist *h = NULL, *t;
    *ok = 1;
    /* keep the transfer a plain exchange: no 100-continue round trip, no compression */
    if (!(t = curl_slist_append(h, "Expect:"))) goto fail;
    h = t;
    if (req->headers)
        for (const char *const *p = req->headers; *p; p++) {
            if (!(t = curl_slist_append(h, *p))) goto fail;
            h = t;
        }
    return h;
fail:
    *ok = 0;
    curl_slist_free_all(h);
    return NULL;
}

/* One attempt. Returns the CURLcode; x is filled. */
static CURLcode attempt(const struct chorus_http_req *req, struct xfer *x, struct curl_slist *hdrs,
                        char *errbuf) {
    const struct chorus_http_policy *p = &req->policy;
    CURL *c = curl_easy_init();
    if (!c) return CURLE_OUT_OF_MEMORY;
    CURLM *m = curl_multi_init();
    if (!m) {
        curl_easy_cleanup(c);
        return CURLE_OUT_OF_MEMORY;
    }
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* never send the key to another host */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "chorus/" CHORUS_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (req->pool) {
        curl_easy_setopt(c, CURLOPT_SHARE, req->pool->sh);
        if (req->pool->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, req->pool->ca_file);
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     p->connect_timeout_ms > 0 ? p->connect_timeout_ms : 10000L);
    long idle_s = p->idle_timeout_ms > 0 ? (p->idle_timeout_ms + 999) / 1000 : 60;
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, idle_s);
    if (p->total_timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->total_timeout_ms);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (req->body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);

    CURLcode res = CURLE_OK;
    curl_multi_add_handle(m, c);
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (req->is_cancelled && req->is_cancelled(req->ud)) {
            x->cancelled = 1;
            res = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (!running) {
            int left;
            CURLMsg *msg;
            res = CURLE_OK;
            while ((msg = curl_multi_info_read(m, &left)))
                if (msg->msg == CURLMSG_DONE) res = msg->data.result;
            break;
        }
        mc = curl_multi_poll(m, NULL, 0, POLL_MS, NULL);
        if (mc != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
    }
    long code = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code > 0) {
        x->status = code;
        x->r->status = code;
        if (!x->headers_done) x->is_2xx = code >= 200 && code < 300;
    }
    curl_multi_remove_handle(m, c);
    curl_easy_cleanup(c);
    curl_multi_cleanup(m);
    return res;
}

static int cancellable_sleep(const struct chorus_http_req *req, long ms) {
    long long until = now_ms() + ms;
    for (;;) {
        if (req->is_cancelled && req->is_cancelled(req->ud)) return 1;
        long long left = until - now_ms();
        if (left <= 0) return 0;
        struct timespec ts = {0, (long)((left < POLL_MS ? left : POLL_MS) * 1000000L)};
        nanosleep(&ts, NULL);
    }
}

static void set_msg(const struct chorus_http_req *req, struct chorus_http_result *r,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_msg(const struct chorus_http_req *req, struct chorus_http_result *r,
                    const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    chorus_net_redact(r->msg, sizeof r->msg, req->secret);
}

int chorus_http_perform(const struct chorus_http_req *req, struct chorus_http_result *r) {
    memset(r, 0, sizeof *r);
    r->retry_after_ms = -1;
    r->should_retry = -1;
    const char *what = req->what ? req->what : "http";
    char shown[256];
    url_for_message(req->url, shown, sizeof shown);
    if (chorus_net_global_init() != CHORUS_OK) {
        set_msg(req, r, "%s: could not initialise libcurl", what);
        return CHORUS_E_NETWORK;
    }
    int ok;
    struct curl_slist *hdrs = build_headers(req, &ok);
    if (!ok) {
        set_msg(req, r, "%s: out of memory", what);
        return CHORUS_E_NOMEM;
    }
    const struct chorus_http_policy *p = &req->policy;
    int max_retries = p->max_retries < 0 ? 3 : p->max_retries;
    long ra_max = p->retry_after_max_ms > 0 ? p->retry_after_max_ms : 60000;
    int rc = CHORUS_E_NETWORK;

    for (;;) {
        struct xfer x;
        memset(&x, 0, sizeof x);
        x.req = req;
        x.r = r;
        char errbuf[CURL_ERROR_SIZE] = "";
        free(r->error_body);
        r->error_body = NULL;
        r->error_body_len = 0;
        r->status = 0;
        r->retry_after_ms = -1;
        r->should_retry = -1;
        r->attempts++;
        r->retries = r->attempts - 1;
        CURLcode res = attempt(req, &x, hdrs, errbuf);
        r->body_bytes = x.body_bytes;
        r->error_body = x.err;
        r->error_body_len = x.err_len;
        x.err = NULL;

        int retryable = 0;
        r->msg[0] = '\0';
        if (x.cancelled || res == CURLE_ABORTED_BY_CALLBACK) {
            if (x.cb_status < 0) {
                rc = x.cb_status;
            } else {
                rc = CHORUS_E_CANCELLED;
                set_msg(req, r, "%s: request to %s cancelled", what, shown);
            }
            break;
        }
        if (x.cb_status < 0) { /* on_body / on_response refused: the caller explains */
            rc = x.cb_status;
            break;
        }
        if (res == CURLE_OK && x.is_2xx) {
            rc = CHORUS_OK;
            break;
        }
        if (res == CURLE_OK || (res != CURLE_OK && r->status >= 300 && !x.is_2xx &&
                                r->status != 0 && res != CURLE_OPERATION_TIMEDOUT)) {
            /* a complete non-2xx answer: the backend maps it */
            struct chorus_http_verdict v;
            memset(&v, 0, sizeof v);
            if (req->classify)
                req->classify(req->ud, r, &v);
            else
                chorus_http_classify_default(what, r, &v);
            if (v.status >= 0) v.status = CHORUS_E_BACKEND;
            rc = v.status;
            retryable = v.retryable;
            /* the server's own word first, as openai-python's _should_retry takes it */
            if (p->honour_should_retry && r->should_retry >= 0) retryable = r->should_retry;
            set_msg(req, r, "%s", v.msg);
        } else {
            const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(res);
            switch (res) {
            case CURLE_COULDNT_CONNECT:
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_COULDNT_RESOLVE_PROXY:
                rc = CHORUS_E_NETWORK;
                retryable = 1;
                set_msg(req, r, "%s: cannot connect to %s (%s); is the server running and the "
                        "URL right?", what, shown, detail);
                break;
            case CURLE_OPERATION_TIMEDOUT:
                rc = CHORUS_E_TIMEOUT;
                retryable = 1;
                if (r->status == 0 && x.body_bytes == 0)
                    set_msg(req, r, "%s: no answer from %s (%s)", what, shown, detail);
                else
                    set_msg(req, r, "%s: %s stopped sending after %zu bytes (%s)", what, shown,
                            x.body_bytes, detail);
                break;
            case CURLE_PARTIAL_FILE:
            case CURLE_RECV_ERROR:
            case CURLE_SEND_ERROR:
            case CURLE_GOT_NOTHING:
            case CURLE_HTTP2:
            case CURLE_HTTP2_STREAM:
            case CURLE_WEIRD_SERVER_REPLY:
                rc = CHORUS_E_NETWORK;
                retryable = 1;
                set_msg(req, r, "%s: connection to %s dropped after %zu bytes (%s)", what, shown,
                        x.body_bytes, detail);
                break;
            case CURLE_URL_MALFORMAT:
            case CURLE_UNSUPPORTED_PROTOCOL:
                rc = CHORUS_E_CONFIG;
                set_msg(req, r, "%s: invalid URL %s (%s); check the base URL setting", what,
                        shown, detail);
                break;
            case CURLE_OUT_OF_MEMORY:
                rc = CHORUS_E_NOMEM;
                set_msg(req, r, "%s: out of memory", what);
                break;
            default:
                rc = CHORUS_E_NETWORK;
                set_msg(req, r, "%s: request to %s failed (%s)", what, shown, detail);
                break;
            }
            /* audio already went out on this attempt: only a replay-aware caller may retry */
            if (retryable && x.body_bytes > 0 && !p->retry_after_body) retryable = 0;
        }
        if (!retryable || r->retries >= max_retries) {
            if (retryable && r->retries > 0) {
                size_t l = strlen(r->msg);
                snprintf(r->msg + l, sizeof r->msg - l, " (gave up after %d attempts)",
                         r->attempts);
            }
            break;
        }
        long wait = chorus_http_backoff_ms(p, r->retries + 1, random_unit());
        if (r->retry_after_ms >= 0) {
            if (r->retry_after_ms > ra_max) {
                size_t l = strlen(r->msg);
                snprintf(r->msg + l, sizeof r->msg - l,
                         " (the server asks to wait %.0f s, longer than the %.0f s limit; try "
                         "again later)", r->retry_after_ms / 1000.0, ra_max / 1000.0);
                break;
            }
            wait = r->retry_after_ms;
        }
        r->total_wait_ms += wait;
        if (req->on_retry) req->on_retry(req->ud, r->attempts, wait, r->msg);
        if (cancellable_sleep(req, wait)) {
            rc = CHORUS_E_CANCELLED;
            set_msg(req, r, "%s: request to %s cancelled", what, shown);
            break;
        }
    }
    curl_slist_free_all(hdrs);
    if (rc == CHORUS_OK) r->msg[0] = '\0';
    return rc;
}

void chorus_http_result_release(struct chorus_http_result *r) {
    if (!r) return;
    free(r->error_body);
    r->error_body = NULL;
    r->error_body_len = 0;
}
