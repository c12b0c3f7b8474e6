/* An adaptive concurrency limit (the shape of Netflix's concurrency-limits library): how many
 * attempts a component may have in flight, found from their latency instead of configured.
 * Attempts beyond the limit are refused at once (the caller answers BULKHEAD_FULL), so under
 * an overload a queue never builds up in front of the component and the latency of what is
 * admitted stays near its no-load latency.
 *
 *   gradient (1): limit' = limit * clamp(noload * 1.5 / recent, 0.5, 1) + sqrt(limit),
 *                 smoothed (Gradient2): grows while the recent latency stays within 1.5 times
 *                 the no-load latency, shrinks in proportion when it does not.
 *   AIMD (2):     +1 when an attempt completes in time with the limit at least half used;
 *                 x0.9 when one took more than twice the no-load latency or was dropped.
 *
 * The no-load latency is the smallest latency of the last one or two windows of
 * GN_CLIMIT_WINDOW samples, so a component that got slower for good is re-learned within two
 * windows. The limit stays within [1, max] (max: the policy's
 * max_concurrency, the hard ceiling). Deterministic: latencies are arguments, so tests drive
 * exact sequences. Thread-safe: a short mutex per sample, an atomic for admission. */
#ifndef GN_CONCURRENCY_LIMIT_H
#define GN_CONCURRENCY_LIMIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define GN_CLIMIT_WINDOW 10000u

enum gn_climit_kind { GN_CLIMIT_OFF = 0, GN_CLIMIT_GRADIENT = 1, GN_CLIMIT_AIMD = 2 };

typedef struct gn_climit {
    pthread_mutex_t lock;
    atomic_uint in_flight;
    atomic_uint limit;              /* whole attempts; read without the lock on admission */
    double estimate;                /* the limit before rounding */
    double noload_us;               /* min(min_prev_us, min_cur_us); 0 = none yet */
    double min_prev_us, min_cur_us; /* the previous and the current window's smallest */
    double recent_us;               /* exponentially weighted recent latency */
    unsigned int samples;
} gn_climit;

void gn_climit_init(gn_climit *l, unsigned int initial);
void gn_climit_destroy(gn_climit *l);

/* Admission: true (and counted in flight) while in flight < the limit (at most max). */
bool gn_climit_acquire(gn_climit *l, unsigned int max);

/* An admitted attempt ended: latency_us as measured, dropped when it timed out or the
 * component refused it (a congestion signal). kind: gn_climit_kind; max: the ceiling. */
void gn_climit_release(gn_climit *l, int kind, unsigned int max, uint64_t latency_us, bool dropped);

/* The limit in force (<= max). */
unsigned int gn_climit_limit(gn_climit *l, unsigned int max);

#endif /* GN_CONCURRENCY_LIMIT_H */
