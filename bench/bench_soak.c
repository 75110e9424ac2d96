/*
 * bench_soak.c — `chorus serve` under a mixed, partly hostile load: RSS and open fds over time.
 *
 *   bench_soak [-d SECONDS] [-r READERS] [-n NONREADERS] [-x DISCONNECTERS]
 *
 * Runs the server in this process (its sources compiled in, as bench_server does) on 127.0.0.1
 * and an ephemeral port with -j 2, --stall-timeout 2000 and --request-timeout 3000, then for
 * SECONDS (default 60) keeps these clients busy, one connection per request:
 *   READERS (4)        streamed and whole ("stream": false) requests, read to the end;
 *   NONREADERS (4)     a long whole or streamed request, then never read (tiny receive buffer)
 *                      until the server cuts them;
 *   DISCONNECTERS (4)  a long request, read a little, hang up; or trickle headers and stop.
 * Every second it prints the process's RSS (VmRSS), open fds, held bytes, active generations and
 * the totals so far. Bounded in count and time; loopback only. Numbers, not assertions.
 */
#include <dirent.h>
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

static int port;
static double t_end;
static atomic_llong n_ok, n_cut, n_other;

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n - 1; /* the DIR's own */
}

static int dial(int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_speech(int fd, int sentences, int stream) {
    char body[8192];
    int n = snprintf(body, sizeof body, "{\"input\":\"");
    for (int i = 0; i < sentences && n < (int)sizeof body - 200; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "This sentence makes the speech longer. ");
    n += snprintf(body + n, sizeof body - (size_t)n, "\",\"response_format\":\"pcm\",\"stream\":%s}",
                  stream ? "true" : "false");
    char req[9000];
    int m = snprintf(req, sizeof req,
                     "POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n%s", n, body);
    return send(fd, req, (size_t)m, MSG_NOSIGNAL) == m ? 0 : -1;
}

/* Read to the end (or at most `limit` bytes); returns the bytes read, -1 on a cut. */
static long drain(int fd, long limit) {
    char buf[65536];
    long total = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0) return total;
        if (r < 0) return -1;
        total += r;
        if (limit && total >= limit) return total;
    }
}

static void *reader(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (srv_now() < t_end) {
        int fd = dial(0);
        if (fd < 0) continue;
        long got = send_speech(fd, 2 + (int)(rand_r(&seed) % 6), rand_r(&seed) % 2) ? -1 : drain(fd, 0);
        atomic_fetch_add(got > 0 ? &n_ok : &n_other, 1);
        close(fd);
    }
    return NULL;
}

static void *nonreader(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (srv_now() < t_end) {
        int fd = dial(4096);
        if (fd < 0) continue;
        send_speech(fd, 60, rand_r(&seed) % 2);
        /* never read: wait until the server cuts us (or the run ends) */
        for (int i = 0; i < 100 && srv_now() < t_end; i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            char b;
            if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) break;
        }
        atomic_fetch_add(&n_cut, 1);
        close(fd);
    }
    return NULL;
}

static void *disconnecter(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (srv_now() < t_end) {
        int fd = dial(0);
        if (fd < 0) continue;
        if (rand_r(&seed) % 2) {
            send_speech(fd, 40, rand_r(&seed) % 2);
            drain(fd, 1 + rand_r(&seed) % 20000); /* a little, then hang up */
        } else {
            static const char part[] = "POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n";
            send(fd, part, sizeof part - 1, MSG_NOSIGNAL); /* trickle nothing more */
            struct timespec ts = {0, (long)(rand_r(&seed) % 500) * 1000000L};
            nanosleep(&ts, NULL);
        }
        atomic_fetch_add(&n_other, 1);
        close(fd);
    }
    return NULL;
}

static int start_threads(pthread_t *t, int n, void *(*fn)(void *), unsigned base) {
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, (void *)(uintptr_t)(base + (unsigned)i))) return -1;
    return 0;
}

int main(int argc, char **argv) {
    double seconds = 60;
    int readers = 4, nonreaders = 4, disconnecters = 4, c;
    while ((c = getopt(argc, argv, "d:r:n:x:")) != -1) {
        switch (c) {
        case 'd': seconds = atof(optarg); break;
        case 'r': readers = atoi(optarg); break;
        case 'n': nonreaders = atoi(optarg); break;
        case 'x': disconnecters = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: bench_soak [-d SECONDS] [-r READERS] [-n NONREADERS] [-x DISCONNECTERS]\n");
            return 2;
        }
    }
    if (seconds <= 0 || seconds > 3600 || readers < 0 || nonreaders < 0 || disconnecters < 0 ||
        readers + nonreaders + disconnecters > 64)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    setenv("CHORUS_CACHE", "0", 1);
    srv_malloc_setup(); /* as chorus serve does */
    struct chorus_engine *e = NULL;
    struct chorus_engine_options eo = chorus_engine_options_default();
    eo.no_config = 1;
    char eerr[512] = "";
    if (chorus_engine_create2(&e, &eo, eerr, sizeof eerr) != CHORUS_OK) {
        fprintf(stderr, "bench_soak: cannot create the engine: %s\n", eerr);
        return 1;
    }
    struct srv_options o = srv_options_default();
    o.port = 0;
    o.access_log = 0;
    o.max_concurrent = 2;
    o.max_queue = 64;
    o.stall_timeout_ms = 2000;
    o.request_timeout_ms = 3000;
    o.default_backend = "espeak";
    struct srv *s = NULL;
    char err[512];
    if (srv_start(e, &o, &s, err, sizeof err) != CHORUS_OK) {
        fprintf(stderr, "bench_soak: %s\n", err);
        return 1;
    }
    port = srv_port(s);
    printf("bench_soak: %.0f s, %d readers, %d non-readers, %d disconnecters, -j 2, stall 2 s\n",
           seconds, readers, nonreaders, disconnecters);
    printf("%6s %9s %5s %10s %6s %8s %8s %8s\n", "t(s)", "rss(KiB)", "fds", "held(B)", "active",
           "ok", "cut", "other");
    long rss0 = rss_kb(), rss_max = rss0;
    int fds0 = open_fds(), fds_max = fds0;
    double t0 = srv_now();
    t_end = t0 + seconds;
    pthread_t th[64];
    int nt = readers + nonreaders + disconnecters;
    if (start_threads(th, readers, reader, 1) || start_threads(th + readers, nonreaders, nonreader, 100) ||
        start_threads(th + readers + nonreaders, disconnecters, disconnecter, 200)) {
        fprintf(stderr, "bench_soak: cannot start client threads\n");
        return 1;
    }
    for (int sec = 0; srv_now() < t_end + 4; sec++) { /* and 4 s after, to see it settle */
        long rss = rss_kb();
        int fds = open_fds();
        if (rss > rss_max) rss_max = rss;
        if (fds > fds_max) fds_max = fds;
        pthread_mutex_lock(&s->mu);
        int active = s->active;
        pthread_mutex_unlock(&s->mu);
        printf("%6.0f %9ld %5d %10zu %6d %8lld %8lld %8lld\n", srv_now() - t0, rss, fds,
               atomic_load(&s->held), active, atomic_load(&n_ok), atomic_load(&n_cut),
               atomic_load(&n_other));
        fflush(stdout);
        sleep(1);
    }
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    sleep(1);
    printf("bench_soak: RSS %ld KiB at start, %ld KiB peak, %ld KiB at the end; fds %d at start, "
           "%d peak, %d at the end; cut connections: %llu stalled, %llu slow\n",
           rss0, rss_max, rss_kb(), fds0, fds_max, open_fds(),
           (unsigned long long)s->m.reaped_stalled_responses,
           (unsigned long long)s->m.reaped_slow_requests);
    srv_stop(s, 1000);
    chorus_engine_destroy(e);
    return 0;
}
