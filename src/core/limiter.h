/*
 * limiter.h — admission: a counting semaphore with a bounded, optionally timed queue, whose
 * waits can be cancelled. At most `max` holders at once; at most `max_queue` callers wait for a
 * slot (more are refused at once), each for at most `timeout_ms`. The engine has one (every
 * generation; its queue bound and timeout come from the engine options or the config) and each
 * backend with a limit has its own (unbounded queue, no timeout: the engine's limiter admits).
 * Waits count on the monotonic clock.
 */
#ifndef CHORUS_CORE_LIMITER_H
#define CHORUS_CORE_LIMITER_H

#include <stdatomic.h>
#include <stdint.h>

struct chorus_limiter;

/** max: holders at once (< 1 means 1); max_queue: waiters allowed, < 0 unbounded, 0 none;
 *  timeout_ms: longest wait, 0 = no limit. NULL when out of memory. */
struct chorus_limiter *chorus_limiter_create(int max, int max_queue, int timeout_ms);
void chorus_limiter_destroy(struct chorus_limiter *l);
/** Change the limits of a live limiter (same meanings as create); waiters re-check at once. */
void chorus_limiter_configure(struct chorus_limiter *l, int max, int max_queue, int timeout_ms);

enum chorus_limiter_refusal { CHORUS_LIMIT_QUEUE_FULL = 1, CHORUS_LIMIT_TIMED_OUT = 2 };

/** Wait for a slot. Returns CHORUS_OK; CHORUS_E_CANCELLED as soon as *cancel becomes non-zero
 *  (the canceller calls chorus_limiter_wake); or CHORUS_E_BUSY with *why (may be NULL) saying
 *  whether the queue was full (refused at once) or the wait reached the timeout. */
int chorus_limiter_acquire(struct chorus_limiter *l, const atomic_int *cancel, int *why);
void chorus_limiter_release(struct chorus_limiter *l);
/** Wake every waiter so it re-checks its cancel flag. */
void chorus_limiter_wake(struct chorus_limiter *l);
struct chorus_limiter_stats {
    int max, active, queued, max_queue, timeout_ms;
    uint64_t total, refused;
};
void chorus_limiter_stats(struct chorus_limiter *l, struct chorus_limiter_stats *out);

#endif
