/* watch.c — per-connection deadlines and the reaper thread (see watch.h). */
#include "watch.h"

#include <linux/sockios.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "server_internal.h"

struct srv_conn {
    struct srv_conn *prev, *next; /* in srv.conns, guarded by srv.wmu */
    int fd;
    atomic_int phase;
    atomic_llong since_ms;  /* phase start, or the last progress while RESPONDING */
    atomic_int pulling;     /* inside the response's reader */
    int last_outq;          /* reaper only */
};

static long long now_ms(void) {
    return (long long)(srv_now() * 1000.0);
}

void srv_watch_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode code) {
    struct srv *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct srv_conn *w = calloc(1, sizeof *w);
        if (!w) return; /* unwatched: libmicrohttpd's idle timeout still applies */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        w->fd = ci ? ci->connect_fd : -1;
        atomic_init(&w->phase, SRV_PHASE_RECEIVING);
        atomic_init(&w->since_ms, now_ms());
        atomic_init(&w->pulling, 0);
        pthread_mutex_lock(&s->wmu);
        w->next = s->conns;
        if (s->conns) s->conns->prev = w;
        s->conns = w;
        pthread_mutex_unlock(&s->wmu);
        *socket_context = w;
        return;
    }
    struct srv_conn *w = *socket_context;
    if (!w) return;
    /* libmicrohttpd closes the socket only after this returns: the reaper never sees a reused fd */
    pthread_mutex_lock(&s->wmu);
    if (w->prev) w->prev->next = w->next;
    else s->conns = w->next;
    if (w->next) w->next->prev = w->prev;
    pthread_mutex_unlock(&s->wmu);
    *socket_context = NULL;
    free(w);
}

struct srv_conn *srv_watch_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    return ci ? ci->socket_context : NULL;
}

void srv_watch_phase(struct srv_conn *w, int phase) {
    if (!w) return;
    atomic_store(&w->since_ms, now_ms());
    atomic_store(&w->phase, phase);
}

void srv_watch_pull_begin(struct srv_conn *w) {
    if (w) atomic_store(&w->pulling, 1);
}

void srv_watch_pull_end(struct srv_conn *w) {
    if (!w) return;
    atomic_store(&w->since_ms, now_ms());
    atomic_store(&w->pulling, 0);
}

/* 1 if w is past its deadline. Called by the reaper with wmu held. */
static int overdue(struct srv *s, struct srv_conn *w, long long now) {
    int phase = atomic_load(&w->phase);
    long long since = atomic_load(&w->since_ms);
    if (phase == SRV_PHASE_RECEIVING)
        return s->opt.request_timeout_ms > 0 && now - since > s->opt.request_timeout_ms;
    if (phase != SRV_PHASE_RESPONDING || atomic_load(&w->pulling)) return 0;
    int outq = 0;
    if (w->fd >= 0 && ioctl(w->fd, SIOCOUTQ, &outq) == 0 && (outq == 0 || outq < w->last_outq)) {
        atomic_store(&w->since_ms, now); /* the client is reading */
        w->last_outq = outq;
        return 0;
    }
    w->last_outq = outq;
    return s->opt.stall_timeout_ms > 0 && now - since > s->opt.stall_timeout_ms;
}

/* Once no generation runs and no bytes are held after some ran, the heaps' free pages go back
 * to the system, so RSS falls back after a burst (glibc keeps free chunks inside its heaps;
 * chorus serve lets buffers up to 32 MiB live there, src/cli/serve.c). */
static void trim_when_quiet(struct srv *s) {
    if (!atomic_load(&s->trim_due) || atomic_load(&s->held)) return;
    pthread_mutex_lock(&s->mu);
    int busy = s->active;
    pthread_mutex_unlock(&s->mu);
    if (busy) return;
    atomic_store(&s->trim_due, 0);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* One malloc arena per connection thread grew RSS without bound under load: a few suffice.
 * Buffers under 32 MiB stay on the heap and are reused, and a heap keeps at most 8 MiB free
 * at its top (malloc_trim cannot shrink a thread arena's top). A fixed 1 MiB mmap threshold, as
 * before, mapped and faulted in every tensor of a Kokoro generation afresh: a 1,000-character
 * request took 10.6-12.3 s instead of 8.6-8.7 s (docs/kokoro.md "Chunk target, int8 and the
 * server's heap, round 5"; bench/bench_soak.c). */
void srv_malloc_setup(void) {
#ifdef __GLIBC__
    mallopt(M_ARENA_MAX, 4);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
#endif
}

static void *reaper(void *arg) {
    struct srv *s = arg;
    for (;;) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        if (atomic_load(&s->reaper_stop)) break;
        long long now = now_ms();
        pthread_mutex_lock(&s->wmu);
        for (struct srv_conn *w = s->conns; w; w = w->next) {
            if (w->fd < 0 || !overdue(s, w, now)) continue;
            int phase = atomic_load(&w->phase);
            shutdown(w->fd, SHUT_RDWR);
            w->fd = -1; /* once */
            pthread_mutex_lock(&s->mmu);
            if (phase == SRV_PHASE_RECEIVING) s->m.reaped_slow_requests++;
            else s->m.reaped_stalled_responses++;
            pthread_mutex_unlock(&s->mmu);
        }
        pthread_mutex_unlock(&s->wmu);
        trim_when_quiet(s);
    }
    return NULL;
}

int srv_watch_start(struct srv *s) {
    atomic_store(&s->reaper_stop, 0);
    if (pthread_create(&s->reaper, NULL, reaper, s) != 0) return -1;
    s->reaper_on = 1;
    return 0;
}

void srv_watch_stop(struct srv *s) {
    if (!s->reaper_on) return;
    atomic_store(&s->reaper_stop, 1);
    pthread_join(s->reaper, NULL);
    s->reaper_on = 0;
}
