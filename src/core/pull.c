/* pull.c — chorus_stream_receive(): the stream runs on a worker thread and hands out owned copies
 * of its chunks through a bounded queue (the worker waits when the reader falls behind). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/stream_internal.h"

#define QUEUE_MAX 8

void chorus_chunk_free(struct chorus_chunk *c) {
    if (!c) return;
    free((void *)c->samples);
    free((void *)c->data);
    free((void *)c->words);
    free(c);
}

static struct chorus_chunk *chunk_dup(const struct chorus_chunk *c) {
    struct chorus_chunk *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    *d = *c;
    d->samples = NULL;
    d->data = NULL;
    d->words = NULL;
    if (c->samples && c->n_samples) {
        float *p = malloc(c->n_samples * sizeof *p);
        if (!p) goto oom;
        memcpy(p, c->samples, c->n_samples * sizeof *p);
        d->samples = p;
    }
    if (c->data_len) {
        unsigned char *p = malloc(c->data_len);
        if (!p) goto oom;
        memcpy(p, c->data, c->data_len);
        d->data = p;
    }
    if (c->n_words) {
        struct chorus_word *p = malloc(c->n_words * sizeof *p);
        if (!p) goto oom;
        memcpy(p, c->words, c->n_words * sizeof *p);
        d->words = p;
    }
    return d;
oom:
    chorus_chunk_free(d);
    return NULL;
}

static int queue_cb(const struct chorus_event *ev, void *ud) {
    struct chorus_stream *s = ud;
    if (ev->type != CHORUS_EVENT_CHUNK) return 0;
    struct chorus_chunk *c = chunk_dup(ev->chunk);
    if (!c) return 1;
    pthread_mutex_lock(&s->qmu);
    while (s->qn >= QUEUE_MAX && !atomic_load(&s->cancel)) pthread_cond_wait(&s->qcv, &s->qmu);
    if (atomic_load(&s->cancel)) {
        pthread_mutex_unlock(&s->qmu);
        chorus_chunk_free(c);
        return 1;
    }
    s->queue[(s->qhead + s->qn) % QUEUE_MAX_ALLOC] = c;
    s->qn++;
    pthread_cond_broadcast(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    return 0;
}

static void *worker_main(void *arg) {
    struct chorus_stream *s = arg;
    int rc = chorus_stream_run(s);
    pthread_mutex_lock(&s->qmu);
    s->worker_rc = rc;
    s->worker_done = 1;
    pthread_cond_broadcast(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    return NULL;
}

int chorus_stream_receive(struct chorus_stream *s, struct chorus_chunk **out, int timeout_ms) {
    if (!s || !out) return CHORUS_E_INVALID;
    *out = NULL;
    if (!s->opened) return s->status ? s->status : CHORUS_E_INVALID;
    if (!s->worker_started) {
        if (s->ran) return CHORUS_E_INVALID;
        s->callback = queue_cb;
        s->userdata = s;
        if (pthread_create(&s->worker, NULL, worker_main, s) != 0) return CHORUS_E_NOMEM;
        s->worker_started = 1;
    }
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl); /* qcv waits on CLOCK_MONOTONIC */
    if (timeout_ms >= 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->qmu);
    int rc = CHORUS_OK;
    for (;;) {
        if (s->qn) {
            *out = s->queue[s->qhead];
            s->qhead = (s->qhead + 1) % QUEUE_MAX_ALLOC;
            s->qn--;
            pthread_cond_broadcast(&s->qcv);
            break;
        }
        if (s->worker_done) {
            rc = s->worker_rc == CHORUS_OK ? CHORUS_EOF : s->worker_rc;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&s->qcv, &s->qmu);
        } else if (pthread_cond_timedwait(&s->qcv, &s->qmu, &dl) != 0) {
            rc = s->qn ? CHORUS_OK : CHORUS_AGAIN;
            if (s->qn) continue;
            break;
        }
    }
    pthread_mutex_unlock(&s->qmu);
    return rc;
}
