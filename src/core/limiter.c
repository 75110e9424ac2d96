#include "core/limiter.h"

#include <pthread.h>
#include <stdlib.h>

#include "chorus/chorus.h"

struct chorus_limiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int max, active, queued;
    uint64_t total;
};

struct chorus_limiter *chorus_limiter_create(int max) {
    struct chorus_limiter *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->max = max > 0 ? max : 1;
    return l;
}

void chorus_limiter_destroy(struct chorus_limiter *l) {
    if (!l) return;
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

int chorus_limiter_acquire(struct chorus_limiter *l, const atomic_int *cancel) {
    pthread_mutex_lock(&l->mu);
    l->queued++;
    while (l->active >= l->max && !(cancel && atomic_load(cancel)))
        pthread_cond_wait(&l->cv, &l->mu);
    l->queued--;
    if (cancel && atomic_load(cancel)) {
        pthread_mutex_unlock(&l->mu);
        return CHORUS_E_CANCELLED;
    }
    l->active++;
    l->total++;
    pthread_mutex_unlock(&l->mu);
    return CHORUS_OK;
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

void chorus_limiter_stats(struct chorus_limiter *l, int *max, int *active, int *queued,
                          uint64_t *total) {
    pthread_mutex_lock(&l->mu);
    if (max) *max = l->max;
    if (active) *active = l->active;
    if (queued) *queued = l->queued;
    if (total) *total = l->total;
    pthread_mutex_unlock(&l->mu);
}
