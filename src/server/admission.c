/*
 * admission.c — the server's generation slots and its bounded wait queue: a request past the
 * queue is a 429, one that waits too long a 503, a queued client that hangs up leaves the queue.
 */
#include "server_internal.h"

#include <stdio.h>
#include <time.h>

/* ------------------------------------------------------------------ admission ---- */

int srv_slot_acquire(struct srv *s, struct MHD_Connection *c, struct srv_error *err) {
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        srv_error_set(err, 503, "server_error", "server_shutting_down", NULL,
                      "the server is shutting down; retry against a running instance");
        err->retry_after = 1;
        return -1;
    }
    if (s->active < s->max_active) {
        s->active++;
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    if (s->queued >= s->opt.max_queue) {
        pthread_mutex_unlock(&s->mu);
        srv_error_set(err, 429, "rate_limit_error", "rate_limit_exceeded", NULL,
                      "too many requests: %d generations are running and %d are waiting (the queue is full); retry shortly",
                      s->max_active, s->opt.max_queue);
        err->retry_after = 1;
        return -1;
    }
    s->queued++;
    double deadline = srv_now() + s->opt.queue_timeout_ms / 1000.0;
    int rc = 0;
    while (s->active >= s->max_active) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->stopping) {
            srv_error_set(err, 503, "server_error", "server_shutting_down", NULL,
                          "the server is shutting down; retry against a running instance");
            err->retry_after = 1;
            rc = -1;
            break;
        }
        if (s->active < s->max_active) break;
        if (srv_now() > deadline) {
            srv_error_set(err, 503, "server_error", "server_overloaded", NULL,
                          "the server is overloaded: no generation slot became free within %d ms; retry later",
                          s->opt.queue_timeout_ms);
            err->retry_after = 2;
            rc = -1;
            break;
        }
        pthread_mutex_unlock(&s->mu);
        int gone = srv_client_gone(c);
        pthread_mutex_lock(&s->mu);
        if (gone) {
            rc = -2;
            break;
        }
    }
    s->queued--;
    if (rc == 0) s->active++;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void srv_slot_release(struct srv *s) {
    pthread_mutex_lock(&s->mu);
    if (s->active > 0) s->active--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

