/*
 * admission.c — admission is the library's (chorus_engine_set_admission: slots, the bounded
 * queue, its timeout, CHORUS_E_BUSY); the server only counts the generations in flight, so a
 * graceful stop can wait for them, and the bytes held in memory across connections (request
 * bodies, unsent whole replies) against max_held.
 */
#include "server_internal.h"

#include <stdio.h>

int srv_gen_begin(struct srv *s, struct srv_error *err) {
    pthread_mutex_lock(&s->mu);
    int stopping = s->stopping;
    if (!stopping) s->active++;
    pthread_mutex_unlock(&s->mu);
    if (stopping) {
        srv_error_set(err, 503, "server_error", "server_shutting_down", NULL,
                      "the server is shutting down; retry against a running instance");
        err->retry_after = 1;
        return -1;
    }
    return 0;
}

void srv_gen_end(struct srv *s) {
    pthread_mutex_lock(&s->mu);
    if (s->active > 0) s->active--;
    pthread_mutex_unlock(&s->mu);
    atomic_store(&s->trim_due, 1); /* the reaper gives the heap back once all is quiet */
}

int srv_stopping(struct srv *s) {
    pthread_mutex_lock(&s->mu);
    int v = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* ------------------------------------------------------------------ held bytes ---- */

int srv_hold(struct srv *s, size_t n) {
    size_t cur = atomic_load(&s->held);
    do {
        if (n > s->opt.max_held || cur > s->opt.max_held - n) {
            pthread_mutex_lock(&s->mmu);
            s->m.refused_held++;
            pthread_mutex_unlock(&s->mmu);
            return -1;
        }
    } while (!atomic_compare_exchange_weak(&s->held, &cur, cur + n));
    return 0;
}

void srv_unhold(struct srv *s, size_t n) {
    atomic_fetch_sub(&s->held, n);
}
