/*
 * admission.c — admission is the library's (chorus_engine_set_admission: slots, the bounded
 * queue, its timeout, CHORUS_E_BUSY); the server only counts the generations in flight, so a
 * graceful stop can wait for them.
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
}

int srv_stopping(struct srv *s) {
    pthread_mutex_lock(&s->mu);
    int v = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return v;
}
