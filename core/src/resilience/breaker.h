/* A per-component circuit breaker (semantics in genesis/resilience.h and docs/resilience.md): a
 * count or time window of attempt outcomes with failure-rate and slow-call-rate triggers, the
 * consecutive-failure trigger, OPEN with a growing open time, HALF_OPEN decided by its first
 * failure or by the failure rate of its probes, and the operator states.
 *
 * Deterministic: every function takes the time as an argument, so tests drive every
 * transition without sleeping. The fail-fast path (OPEN or FORCED_OPEN) reads two atomics and
 * takes no lock; recording an outcome takes the breaker's mutex for a few instructions.
 * Functions that can change the state report it in a gn_breaker_transition, which the caller
 * publishes (event, log) after the call, outside the lock. */
#ifndef GN_BREAKER_H
#define GN_BREAKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "genesis/resilience.h"

#define GN_BREAKER_MAX_WINDOW   1024u
#define GN_BREAKER_MAX_PROBES   16u
#define GN_BREAKER_TIME_BUCKETS 10u

/* How an attempt's outcome counts (gn_outcome_classify). */
enum gn_outcome { GN_OUTCOME_SUCCESS = 0, GN_OUTCOME_FAILURE = 1, GN_OUTCOME_IGNORED = 2 };

/* The policy's classification of a status and reason (see genesis_policy). */
int gn_outcome_classify(const genesis_policy *p, int status, int reason);

enum gn_rate_event { GN_RATE_FAILURE = 1u, GN_RATE_SLOW = 2u };

typedef struct gn_breaker_transition {
    int from, to;      /* genesis_breaker_state; from == to: nothing happened */
    const char *cause; /* static text: why */
    uint32_t open_ms;  /* when to == OPEN: how long it stays open */
    /* Rates that crossed their threshold (either way) with this outcome: GN_RATE_* bits, the
     * side they are on now, and the rates (percent of the window). */
    unsigned int rate_events;
    bool failure_above, slow_above;
    double failure_pct, slow_pct;
    unsigned int failure_threshold, slow_threshold;
} gn_breaker_transition;

typedef struct gn_breaker_bucket {
    int64_t epoch; /* now / width when it was last reset */
    uint32_t calls, failures, slow;
} gn_breaker_bucket;

typedef struct gn_breaker {
    pthread_mutex_t lock;
    atomic_int state; /* genesis_breaker_state; read without the lock */
    atomic_int_fast64_t open_until_ms;
    atomic_int_fast64_t forced_until_ms; /* FORCED_OPEN for a duration; 0 = until reset */

    /* count window of attempt outcomes, rings of bits (failed; slow) */
    uint64_t ring[GN_BREAKER_MAX_WINDOW / 64];
    uint64_t slow_ring[GN_BREAKER_MAX_WINDOW / 64];
    unsigned int window_size; /* the size the ring is laid out for (policy changes move it) */
    unsigned int window_pos, window_n, window_failures, window_slow;
    /* time window: buckets of width bucket_ms */
    gn_breaker_bucket buckets[GN_BREAKER_TIME_BUCKETS];
    int64_t bucket_ms;
    bool failure_above, slow_above; /* which side of its threshold each rate was last seen on */

    /* requests in a row that failed after their retries; written under the lock, read without
     * it by a success that finds nothing to reset */
    atomic_uint consecutive;
    unsigned int level; /* re-trips since it last stayed closed: open time growth */
    int64_t closed_since_ms;

    /* half-open probe leases, and the probes that answered in this half-open period */
    struct {
        uint64_t id;
        int64_t expires_ms;
    } leases[GN_BREAKER_MAX_PROBES];
    unsigned int n_leases, probes_done, probe_failures, probe_slow;
    int64_t half_open_since_ms;
    uint64_t next_lease;

    atomic_uint_fast64_t n_transitions, n_opens, n_fail_fast, n_slow, n_ignored;
    /* gn_breaker_recovered calls so far: a failure of an attempt that started before the
     * latest one is about the component as it was, not as it is (gn_breaker_recoveries). */
    atomic_uint_fast64_t recoveries;
} gn_breaker;

void gn_breaker_init(gn_breaker *b, int64_t now_ms);
void gn_breaker_destroy(gn_breaker *b);

/* Admission of one attempt. Returns true when admitted; *lease is non-zero for a half-open
 * probe and must be passed back to gn_breaker_record or gn_breaker_cancel. lease_ms is how
 * long a probe may take before its lease lapses. On rejection *retry_in_ms tells how long the
 * breaker stays open (0 when forced without a duration). */
bool gn_breaker_admit(gn_breaker *b, const genesis_policy *p, int64_t now_ms, uint32_t lease_ms,
                      uint64_t *lease, uint32_t *retry_in_ms, gn_breaker_transition *t);

/* True when the breaker would reject an attempt now without admitting a probe: FORCED_OPEN
 * within its time, or OPEN within its open time (*retry_in_ms: how long it stays so; 0 when
 * forced without a duration). Counts a fail-fast when it rejects. Lock-free; changes nothing
 * else, so a request can fail fast before anything is allocated for it. */
bool gn_breaker_rejects(gn_breaker *b, int64_t now_ms, uint32_t *retry_in_ms);

/* Record the outcome of an admitted attempt: outcome is a gn_outcome, slow whether it took
 * breaker_slow_call_ms or longer. */
void gn_breaker_record_outcome(gn_breaker *b, const genesis_policy *p, uint64_t lease, int outcome,
                               bool slow, int64_t now_ms, gn_breaker_transition *t);

/* gn_breaker_record_outcome for a failure or a success that was not slow. */
void gn_breaker_record(gn_breaker *b, const genesis_policy *p, uint64_t lease, bool failed,
                       int64_t now_ms, gn_breaker_transition *t);

/* An admitted attempt that never ran (bulkhead full): give its probe lease back. */
void gn_breaker_cancel(gn_breaker *b, uint64_t lease);

/* Record a request's final outcome (after its retries): the consecutive-failure trigger. */
void gn_breaker_request_done(gn_breaker *b, const genesis_policy *p, bool failed, int64_t now_ms,
                             gn_breaker_transition *t);

/* The component was observed to recover (re-registered, passed a probe): OPEN -> HALF_OPEN at
 * once, so recovery is not bounded below by the open time. In any state it counts a recovery:
 * failures of attempts started before it must not count against the component afterwards
 * (the caller compares gn_breaker_recoveries at the attempt's start and at its outcome). */
void gn_breaker_recovered(gn_breaker *b, int64_t now_ms, gn_breaker_transition *t);

/* The number of gn_breaker_recovered calls so far (lock-free). */
uint64_t gn_breaker_recoveries(gn_breaker *b);

/* Operator control: FORCED_OPEN (until reset), DISABLED, METRICS_ONLY, or CLOSED (reset to
 * automatic). */
int gn_breaker_force(gn_breaker *b, int state, int64_t now_ms, gn_breaker_transition *t);

/* FORCED_OPEN for duration_ms (0 = until reset); then HALF_OPEN. */
void gn_breaker_force_open(gn_breaker *b, uint32_t duration_ms, int64_t now_ms,
                           gn_breaker_transition *t);

int gn_breaker_state(gn_breaker *b);

/* Periodic (the coordinator's health tick): the timed transitions that must not wait for a
 * request: OPEN or a timed FORCED_OPEN whose time ran out -> HALF_OPEN, so an idle
 * component's breaker does not stay open for ever; HALF_OPEN past breaker_half_open_max_wait_ms
 * -> OPEN. */
void gn_breaker_tick(gn_breaker *b, const genesis_policy *p, int64_t now_ms,
                     gn_breaker_transition *t);

/* The window now: calls in it, and the failure and slow-call rates in percent (-1 while calls
 * are below breaker_min_calls). */
void gn_breaker_rates(gn_breaker *b, const genesis_policy *p, int64_t now_ms, uint64_t *calls,
                      double *failure_pct, double *slow_pct);

/* True when the breaker waits for a probe (OPEN past its open time, or HALF_OPEN with a free
 * probe slot): a degradation mode lets such a request through, or a breaker whose component
 * is the reason for the mode could never recover. Lock-free, approximate. */
bool gn_breaker_wants_probe(gn_breaker *b, const genesis_policy *p, int64_t now_ms);

/* now + ms, saturating at INT64_MAX (an injected clock may run near it). */
int64_t gn_time_after(int64_t now_ms, uint64_t ms);

#endif /* GN_BREAKER_H */
