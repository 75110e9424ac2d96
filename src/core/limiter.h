/*
 * limiter.h — a counting semaphore whose waits can be cancelled: at most `max` holders at once.
 * The engine has one (all generations) and each backend with a limit has its own.
 */
#ifndef CHORUS_CORE_LIMITER_H
#define CHORUS_CORE_LIMITER_H

#include <stdatomic.h>
#include <stdint.h>

struct chorus_limiter;

struct chorus_limiter *chorus_limiter_create(int max);
void chorus_limiter_destroy(struct chorus_limiter *l);
/** Wait for a slot. Returns CHORUS_OK, or CHORUS_E_CANCELLED as soon as *cancel becomes non-zero
 *  (the canceller calls chorus_limiter_wake). */
int chorus_limiter_acquire(struct chorus_limiter *l, const atomic_int *cancel);
void chorus_limiter_release(struct chorus_limiter *l);
/** Wake every waiter so it re-checks its cancel flag. */
void chorus_limiter_wake(struct chorus_limiter *l);
void chorus_limiter_stats(struct chorus_limiter *l, int *max, int *active, int *queued,
                          uint64_t *total);

#endif
