/* bench_http_reuse.c — what connection reuse buys a remote backend: small speech requests in a
 * row (like the chunks of one stream) against the loopback fake OpenAI server over HTTPS (a
 * throw-away self-signed certificate), once with a fresh connection per request (a new TCP and
 * TLS handshake each time: what every request paid before the per-backend pool) and once
 * through one chorus_http_pool. Prints requests per second and how many TCP connections the
 * server accepted. Numbers only, no assertions.
 * Run: build/bench/bench_http_reuse [requests]   (needs python3 and openssl) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/fakes/fake_spawn.h"
#include "chorus/chorus.h"
#include "net/net.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_body(void *ud, const void *data, size_t n) {
    (void)data;
    *(size_t *)ud += n;
    return 0;
}

/* n requests; pool NULL: a fresh pool (so a fresh connection) for each one */
static int run(const char *url, const char *ca, struct chorus_http_pool *pool, int n,
               double *secs, size_t *bytes) {
    static const char body[] = "{\"model\":\"tts-1\",\"input\":\"One short chunk.\","
                               "\"voice\":\"alloy\",\"response_format\":\"pcm\"}";
    const char *hdrs[] = {"Content-Type: application/json", "Authorization: Bearer sk-bench",
                          NULL};
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        struct chorus_http_pool *p = pool ? pool : chorus_http_pool_create(ca);
        struct chorus_http_req req = {0};
        req.method = "POST";
        req.url = url;
        req.headers = hdrs;
        req.body = body;
        req.body_len = sizeof body - 1;
        req.what = "bench";
        req.pool = p;
        req.policy.max_retries = 0;
        req.on_body = count_body;
        req.ud = bytes;
        struct chorus_http_result r;
        int rc = chorus_http_perform(&req, &r);
        if (rc != CHORUS_OK) fprintf(stderr, "request %d: %s\n", i, r.msg);
        chorus_http_result_release(&r);
        if (!pool) chorus_http_pool_destroy(p);
        if (rc != CHORUS_OK) return rc;
    }
    *secs = now_s() - t0;
    return 0;
}

/* distinct "conn" numbers in the fake's log */
static int connections(const struct fake *f) {
    char *log = fake_requests(f);
    int max = 0;
    for (char *p = log; p && (p = strstr(p, "\"conn\": ")); p += 8) {
        int c = atoi(p + 8);
        if (c > max) max = c;
    }
    free(log);
    return max;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    if (n < 1) n = 100;
    char dir[] = "/tmp/chorus-bench-tlsXXXXXX";
    if (!mkdtemp(dir)) return 1;
    char cert[128], key[128], cmd[600];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
             "-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
             key, cert);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_http_reuse: openssl could not make a certificate\n");
        return 0;
    }
    printf("%-28s %9s %10s %12s\n", "connections", "requests", "req/s", "TCP+TLS");
    for (int pooled = 0; pooled <= 1; pooled++) {
        struct fake f;
        if (fake_start(&f, "openai", "--key", "sk-bench", "--delay-ms", "0", "--tls-cert", cert,
                       "--tls-key", key, NULL) != 0) {
            fprintf(stderr, "bench_http_reuse: cannot start the fake server\n");
            return 0;
        }
        char url[128];
        snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/audio/speech", f.port);
        struct chorus_http_pool *pool = pooled ? chorus_http_pool_create(cert) : NULL;
        double secs = 0;
        size_t bytes = 0;
        int rc = run(url, cert, pool, n, &secs, &bytes);
        chorus_http_pool_destroy(pool);
        if (rc == 0)
            printf("%-28s %9d %10.1f %12d\n",
                   pooled ? "one pool (after)" : "fresh per request (before)", n, n / secs,
                   connections(&f));
        fake_stop(&f);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 0;
    return 0;
}
