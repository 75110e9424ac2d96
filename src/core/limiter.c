/* limiter.c — the admission semaphore (limiter.h). */
#include "core/limiter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chorus/chorus.h"

struct chorus_limiter {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    int max, active, queued, max_queue, timeout_ms;
    uint64_t total, refused;
};

struct chorus_limiter *chorus_limiter_create(int max, int max_queue, int timeout_ms) {
    struct chorus_limiter *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(l);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&l->cv, &ca) != 0;
    pthread_condattr_destroy(&ca);
    if (bad || pthread_mutex_init(&l->mu, NULL) != 0) {
        if (!bad) pthread_cond_destroy(&l->cv);
        free(l);
        return NULL;
    }
    l->max = max > 0 ? max : 1;
    l->max_queue = max_queue;
    l->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
    return l;
}

void chorus_limiter_destroy(struct chorus_limiter *l) {
    if (!l) return;
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

void chorus_limiter_configure(struct chorus_limiter *l, int max, int max_queue, int timeout_ms) {
    pthread_mutex_lock(&l->mu);
    l->max = max > 0 ? max : 1;
    l->max_queue = max_queue;
    l->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static struct timespec deadline_after(int ms) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    return t;
}

static int cancelled(const atomic_int *cancel) {
    return cancel && atomic_load(cancel);
}

int chorus_limiter_acquire(struct chorus_limiter *l, const atomic_int *cancel, int *why) {
    if (why) *why = 0;
    pthread_mutex_lock(&l->mu);
    if (l->active >= l->max && l->max_queue >= 0 && l->queued >= l->max_queue &&
        !cancelled(cancel)) {
        l->refused++;
        pthread_mutex_unlock(&l->mu);
        if (why) *why = CHORUS_LIMIT_QUEUE_FULL;
        return CHORUS_E_BUSY;
    }
    struct timespec dl = deadline_after(l->timeout_ms);
    int timed_out = 0;
    l->queued++;
    while (l->active >= l->max && !cancelled(cancel) && !timed_out) {
        if (l->timeout_ms > 0)
            timed_out = pthread_cond_timedwait(&l->cv, &l->mu, &dl) == ETIMEDOUT &&
                        l->active >= l->max;
        else
            pthread_cond_wait(&l->cv, &l->mu);
    }
    l->queued--;
    int rc = CHORUS_OK;
    if (cancelled(cancel)) {
        rc = CHORUS_E_CANCELLED;
    } else if (timed_out) {
        l->refused++;
        rc = CHORUS_E_BUSY;
        if (why) *why = CHORUS_LIMIT_TIMED_OUT;
    } else {
        l->active++;
        l->total++;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

void chorus_limiter_release(struct chorus_limiter *l) {
    pthread_mutex_lock(&l->mu);
    if (l->active > 0) l->active--;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void chorus_limiter_wake(struct chorus_limiter *l) {
    pthread_mutex_lock(&l->mu);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void chorus_limiter_stats(struct chorus_limiter *l, struct chorus_limiter_stats *out) {
    pthread_mutex_lock(&l->mu);
    out->max = l->max;
    out->active = l->active;
    out->queued = l->queued;
    out->max_queue = l->max_queue;
    out->timeout_ms = l->timeout_ms;
    out->total = l->total;
    out->refused = l->refused;
    pthread_mutex_unlock(&l->mu);
}
