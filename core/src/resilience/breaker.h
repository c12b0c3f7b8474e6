/* A per-component circuit breaker (semantics in genesis/resilience.h and docs/resilience.md).
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

#define GN_BREAKER_MAX_WINDOW 1024u
#define GN_BREAKER_MAX_PROBES 16u

typedef struct gn_breaker_transition {
    int from, to;      /* genesis_breaker_state; from == to: nothing happened */
    const char *cause; /* static text: why */
    uint32_t open_ms;  /* when to == OPEN: how long it stays open */
} gn_breaker_transition;

typedef struct gn_breaker {
    pthread_mutex_t lock;
    atomic_int state; /* genesis_breaker_state; read without the lock */
    atomic_int_fast64_t open_until_ms;

    /* count window of attempt outcomes (1 = failure), a ring of bits */
    uint64_t ring[GN_BREAKER_MAX_WINDOW / 64];
    unsigned int window_pos, window_n, window_failures;
    /* requests in a row that failed after their retries; written under the lock, read without
     * it by a success that finds nothing to reset */
    atomic_uint consecutive;
    unsigned int level; /* re-trips since it last stayed closed: open time doubling */
    int64_t closed_since_ms;

    /* half-open probe leases */
    struct {
        uint64_t id;
        int64_t expires_ms;
    } leases[GN_BREAKER_MAX_PROBES];
    unsigned int n_leases, probe_successes;
    uint64_t next_lease;

    atomic_uint_fast64_t n_transitions, n_opens, n_fail_fast;
} gn_breaker;

void gn_breaker_init(gn_breaker *b, int64_t now_ms);
void gn_breaker_destroy(gn_breaker *b);

/* Admission of one attempt. Returns true when admitted; *lease is non-zero for a half-open
 * probe and must be passed back to gn_breaker_record or gn_breaker_cancel. lease_ms is how
 * long a probe may take before its lease lapses. On rejection *retry_in_ms tells how long the
 * breaker stays open (0 when forced). */
bool gn_breaker_admit(gn_breaker *b, const genesis_policy *p, int64_t now_ms, uint32_t lease_ms,
                      uint64_t *lease, uint32_t *retry_in_ms, gn_breaker_transition *t);

/* True when the breaker would reject an attempt now without admitting a probe: FORCED_OPEN,
 * or OPEN within its open time (*retry_in_ms: how long it stays open; 0 when forced). Counts
 * a fail-fast when it rejects. Lock-free; changes nothing else, so a request can fail fast
 * before anything is allocated for it. */
bool gn_breaker_rejects(gn_breaker *b, int64_t now_ms, uint32_t *retry_in_ms);

/* Record the outcome of an admitted attempt. */
void gn_breaker_record(gn_breaker *b, const genesis_policy *p, uint64_t lease, bool failed,
                       int64_t now_ms, gn_breaker_transition *t);

/* An admitted attempt that never ran (bulkhead full): give its probe lease back. */
void gn_breaker_cancel(gn_breaker *b, uint64_t lease);

/* Record a request's final outcome (after its retries): the consecutive-failure trigger. */
void gn_breaker_request_done(gn_breaker *b, const genesis_policy *p, bool failed, int64_t now_ms,
                             gn_breaker_transition *t);

/* The component was observed to recover (re-registered, passed a probe): OPEN -> HALF_OPEN at
 * once, so recovery is not bounded below by the open time. */
void gn_breaker_recovered(gn_breaker *b, int64_t now_ms, gn_breaker_transition *t);

/* Operator control: FORCED_OPEN, DISABLED, or CLOSED (reset to automatic). */
int gn_breaker_force(gn_breaker *b, int state, int64_t now_ms, gn_breaker_transition *t);

int gn_breaker_state(gn_breaker *b);

/* True when the breaker waits for a probe (OPEN past its open time, or HALF_OPEN with a free
 * probe slot): a degradation mode lets such a request through, or a breaker whose component
 * is the reason for the mode could never recover. Lock-free, approximate. */
bool gn_breaker_wants_probe(gn_breaker *b, const genesis_policy *p, int64_t now_ms);

#endif /* GN_BREAKER_H */
