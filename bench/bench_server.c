/*
 * bench_server.c — throughput and latency of `chorus serve` against the espeak backend, and the
 * same load on the library directly, to show what the HTTP layer costs.
 *
 *   bench_server [-c CLIENTS] [-d SECONDS] [-f FORMAT] [--soak SECONDS] [-t TEXT]
 *
 * Runs the server in this process (its sources are compiled in: the server is not part of the
 * library) on 127.0.0.1 and an ephemeral port; CLIENTS threads each POST /v1/audio/speech in a
 * loop for SECONDS (one connection per request), timing the first response byte (the server
 * answers once the first audio chunk exists) and the whole body. Then the same threads call
 * chorus_stream_receive() directly. Prints requests/s, p50/p99 time to first byte and to the
 * end, and the difference. --soak runs the server load for that long and prints peak RSS,
 * sampled every second. Numbers, not assertions: see docs/server.md for figures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chorus/chorus.h"
#include "server_internal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sample {
    double ttfb, total;
};

struct client {
    pthread_t th;
    int port;
    int direct;
    struct chorus_engine *engine;
    const char *body;
    const char *text;
    enum chorus_format fmt;
    double until;
    struct sample *s;
    size_t n, cap;
    size_t errors;
    unsigned long long bytes;
};

static void add_sample(struct client *c, double ttfb, double total) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->s = realloc(c->s, c->cap * sizeof *c->s);
        if (!c->s) abort();
    }
    c->s[c->n].ttfb = ttfb;
    c->s[c->n].total = total;
    c->n++;
}

static int one_http(struct client *c) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double t0 = now_s();
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    char req[8192];
    int n = snprintf(req, sizeof req,
                     "POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(c->body), c->body);
    if (n <= 0 || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char buf[65536];
    double first = 0;
    int ok = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (!first) {
            first = now_s();
            ok = r >= 12 && !memcmp(buf, "HTTP/1.1 200", 12);
        }
        c->bytes += (unsigned long long)r;
    }
    close(fd);
    if (!ok) return -1;
    add_sample(c, first - t0, now_s() - t0);
    return 0;
}

static int one_direct(struct client *c) {
    struct chorus_request r = chorus_request_default();
    r.backend = "espeak";
    r.text = c->text;
    r.format = c->fmt;
    r.flags = CHORUS_FLAG_NO_SAMPLES | CHORUS_FLAG_NO_CACHE;
    double t0 = now_s(), first = 0;
    struct chorus_stream *s = NULL;
    int rc = chorus_stream_open(c->engine, &r, &s);
    while (rc == CHORUS_OK) {
        struct chorus_chunk *ch = NULL;
        rc = chorus_stream_receive(s, &ch, -1);
        if (rc == CHORUS_OK) {
            if (!first) first = now_s();
            c->bytes += ch->data_len;
            chorus_chunk_free(ch);
        }
    }
    chorus_stream_destroy(s);
    if (rc != CHORUS_EOF) return -1;
    add_sample(c, first - t0, now_s() - t0);
    return 0;
}

static void *client_main(void *arg) {
    struct client *c = arg;
    while (now_s() < c->until)
        if ((c->direct ? one_direct(c) : one_http(c)) < 0) c->errors++;
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct result {
    double rps, ttfb50, ttfb99, total50, total99;
    size_t n, errors;
    unsigned long long bytes;
};

static double pct(const double *v, size_t n, double p) {
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static long rss_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl)) v = atol(line + fl + 1);
    fclose(f);
    return v;
}

static struct result run_load(int nclients, double seconds, int direct, int port,
                              struct chorus_engine *e, const char *body, const char *text,
                              enum chorus_format fmt, int soak) {
    struct client *cs = calloc((size_t)nclients, sizeof *cs);
    double t0 = now_s();
    for (int i = 0; i < nclients; i++) {
        cs[i] = (struct client){.port = port, .direct = direct, .engine = e, .body = body,
                                .text = text, .fmt = fmt, .until = t0 + seconds};
        pthread_create(&cs[i].th, NULL, client_main, &cs[i]);
    }
    long peak = 0;
    if (soak) {
        while (now_s() < t0 + seconds) {
            sleep(1);
            long r = rss_kb("VmRSS:");
            if (r > peak) peak = r;
            printf("  soak t=%4.0fs rss=%ld KiB\n", now_s() - t0, r);
            fflush(stdout);
        }
    }
    struct result res = {0};
    for (int i = 0; i < nclients; i++) {
        pthread_join(cs[i].th, NULL);
        res.n += cs[i].n;
        res.errors += cs[i].errors;
        res.bytes += cs[i].bytes;
    }
    double el = now_s() - t0;
    double *tt = malloc((res.n + 1) * sizeof *tt), *to = malloc((res.n + 1) * sizeof *to);
    size_t k = 0;
    for (int i = 0; i < nclients; i++)
        for (size_t j = 0; j < cs[i].n; j++, k++) tt[k] = cs[i].s[j].ttfb, to[k] = cs[i].s[j].total;
    qsort(tt, res.n, sizeof *tt, cmp_double);
    qsort(to, res.n, sizeof *to, cmp_double);
    res.rps = (double)res.n / el;
    res.ttfb50 = pct(tt, res.n, 0.5);
    res.ttfb99 = pct(tt, res.n, 0.99);
    res.total50 = pct(to, res.n, 0.5);
    res.total99 = pct(to, res.n, 0.99);
    if (soak) printf("  peak RSS during soak: %ld KiB (VmHWM %ld KiB)\n", peak, rss_kb("VmHWM:"));
    for (int i = 0; i < nclients; i++) free(cs[i].s);
    free(cs);
    free(tt);
    free(to);
    return res;
}

static void print_result(const char *what, const struct result *r) {
    printf("%-8s %6zu requests %4zu errors  %7.1f req/s  ttfb p50 %6.1f ms p99 %6.1f ms  "
           "total p50 %6.1f ms p99 %6.1f ms  %.1f MB\n",
           what, r->n, r->errors, r->rps, r->ttfb50 * 1e3, r->ttfb99 * 1e3, r->total50 * 1e3,
           r->total99 * 1e3, (double)r->bytes / 1e6);
}

int main(int argc, char **argv) {
    int clients = 16;
    double seconds = 10, soak = 0;
    const char *fmtname = "wav";
    const char *text = "The quick brown fox jumps over the lazy dog. Speech servers answer many clients at once.";
    static const struct option opts[] = {{"soak", required_argument, 0, 's'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:d:f:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': clients = atoi(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'f': fmtname = optarg; break;
        case 't': text = optarg; break;
        case 's': soak = atof(optarg); break;
        default:
            fprintf(stderr, "usage: bench_server [-c CLIENTS] [-d SECONDS] [-f FORMAT] [--soak SECONDS] [-t TEXT]\n");
            return 2;
        }
    }
    if (clients < 1 || seconds <= 0) return 2;
    enum chorus_format fmt = chorus_format_from_name(fmtname);
    if (fmt == CHORUS_FORMAT_DEFAULT || !chorus_format_supported(fmt)) {
        fprintf(stderr, "bench_server: format %s is not available\n", fmtname);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setenv("CHORUS_CACHE", "0", 1); /* measure generation, not the cache */
    struct chorus_engine *e = NULL;
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.no_config = 1;
    if (chorus_engine_create(&e, &eo) != CHORUS_OK) {
        fprintf(stderr, "bench_server: cannot create the engine\n");
        return 1;
    }
    struct srv_options o = srv_options_default();
    o.port = 0;
    o.access_log = 0;
    o.max_queue = clients * 2;
    o.queue_timeout_ms = 600000;
    o.default_backend = "espeak";
    struct srv *s = NULL;
    char err[512];
    if (srv_start(e, &o, &s, err, sizeof err) != CHORUS_OK) {
        fprintf(stderr, "bench_server: %s\n", err);
        return 1;
    }
    json_t *b = json_object();
    json_object_set_new(b, "model", json_string("espeak"));
    json_object_set_new(b, "input", json_string(text));
    json_object_set_new(b, "voice", json_string("alloy"));
    json_object_set_new(b, "response_format", json_string(fmtname));
    char *body = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct chorus_engine_stats st = {.size = sizeof st};
    chorus_engine_get_stats(e, &st);
    printf("bench_server: %d clients, %.0f s each, espeak, %s, %d generations at once, %zu-byte text\n",
           clients, seconds, fmtname, st.max_concurrent, strlen(text));
    struct result http = run_load(clients, seconds, 0, srv_port(s), e, body, text, fmt, 0);
    print_result("server", &http);
    struct result direct = run_load(clients, seconds, 1, 0, e, body, text, fmt, 0);
    print_result("library", &direct);
    printf("server overhead: ttfb p50 %+.1f ms, p99 %+.1f ms; throughput %.1f%% of direct\n",
           (http.ttfb50 - direct.ttfb50) * 1e3, (http.ttfb99 - direct.ttfb99) * 1e3,
           direct.rps > 0 ? 100.0 * http.rps / direct.rps : 0);
    if (soak > 0) {
        printf("soak: %d clients for %.0f s\n", clients, soak);
        struct result r = run_load(clients, soak, 0, srv_port(s), e, body, text, fmt, 1);
        print_result("soak", &r);
    }
    free(body);
    srv_stop(s, 1000);
    chorus_engine_destroy(e);
    return 0;
}
