/* The resilience engine: per-component policies (per-try timeouts, retries with backoff and
 * full jitter, a retry budget, a circuit breaker, a bulkhead), degradation modes, operator
 * controls, per-component statistics, and fault injection for tests and chaos runs.
 *
 * The request path (docs/design.md): mode & criticality -> breaker -> bulkhead -> attempt with a
 * per-try timer inside the overall deadline -> outcome recorded by breaker, budget and stats
 * -> retry (retryable code, attempts left, budget left, deadline left) after a full-jitter
 * backoff waited on a timer -> the result, or an error that names its reason.
 *
 * Threading: every function here may be called from any thread, concurrently with requests;
 * changes apply to calls that start afterwards and never reset breaker windows, budgets or
 * in-flight work. */
#ifndef GENESIS_RESILIENCE_H
#define GENESIS_RESILIENCE_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/coordinator.h"
#include "genesis/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Policy: every knob of one component (or the default for components without their own).   */

/* Version 2 appended the fields after queue_warn. A version-1 caller's struct ends at
 * queue_warn: the library reads and writes only that much of it, and gives the version-2
 * fields their defaults. */
#define GENESIS_POLICY_VERSION 2
typedef struct genesis_policy {
    unsigned int version; /* GENESIS_POLICY_VERSION (1 for a caller built before version 2) */

    /* Deadlines. Each attempt gets min(per_try_timeout_ms, what is left of the deadline). */
    uint32_t per_try_timeout_ms; /* default 2000 */

    /* Retries: wait before retry n is uniform in [0, min(backoff_max_ms,
     * backoff_initial_ms * (backoff_multiplier_pct/100)^(n-1))] ("full jitter"). Only
     * UNAVAILABLE and a per-try timeout are retried; a request that may have reached a handler
     * only when the caller marked it idempotent (or the handler itself answered UNAVAILABLE). */
    unsigned int max_attempts;       /* default 5; 1 = never retry */
    uint32_t backoff_initial_ms;     /* default 100 */
    uint32_t backoff_multiplier_pct; /* default 200 (x2); at least 100 */
    uint32_t backoff_max_ms;         /* default 2000 */

    /* Retry budget (token bucket, gRPC retry-throttling shape): tokens start at max; a failed
     * attempt takes 1, a successful one gives back token_ratio_pct/100; retries are allowed
     * while tokens > max/2. The defaults let retries absorb up to ~50 % random attempt
     * failures (at 30 % the tokens never fall to half in practice: 20 would, within a minute
     * of load), and stop retrying a component that fails every call after max/2 retries. */
    unsigned int budget_max_tokens;  /* default 60; 0 = no budget (retries unbounded) */
    uint32_t budget_token_ratio_pct; /* default 100 */

    /* Circuit breaker. Two triggers, each off at 0: the failure rate of the last
     * breaker_window attempts (once breaker_min_calls were recorded), and
     * breaker_consecutive_failures requests in a row that failed after all their retries.
     * Failures are UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE and DATA_LOSS outcomes,
     * and successes slower than breaker_slow_call_ms (0 = off). OPEN fails fast for the open
     * time, which doubles on each re-trip up to breaker_open_max_ms; then HALF_OPEN admits
     * breaker_half_open_probes probes (each leased for one per-try timeout, so a lost probe
     * cannot strand it); all succeeding closes it, one failure re-opens it. The rate defaults
     * (60 % of 100, at least 50 calls) keep 30 % random failures, which retries absorb, from
     * ever tripping it (50 % of 20, a common choice, trips on them within seconds). */
    unsigned int breaker_failure_rate_pct;     /* default 60 */
    unsigned int breaker_window;               /* default 100 attempts (max 1024) */
    unsigned int breaker_min_calls;            /* default 50 */
    unsigned int breaker_consecutive_failures; /* default 3 */
    uint32_t breaker_slow_call_ms;             /* default 0 (off) */
    uint32_t breaker_open_ms;                  /* default 10000 */
    uint32_t breaker_open_max_ms;              /* default 60000 */
    unsigned int breaker_half_open_probes;     /* default 1 (max 16) */

    /* Bulkhead: handlers running at once (in-process) or requests in flight (remote), and
     * requests waiting beyond that; past both, RESOURCE_EXHAUSTED / BULKHEAD_FULL at once. */
    unsigned int max_concurrency; /* default: the coordinator's max_concurrency (16) */
    unsigned int max_queued;      /* default: the coordinator's max_queued_requests (50) */
    unsigned int queue_warn;      /* log a warning when the queue reaches it; default 40 */

    /* ---- version 2 ---- */

    /* Slow calls as their own trigger (resilience4j's slowCallRateThreshold): with a rate > 0,
     * attempts slower than breaker_slow_call_ms (success or failure) are counted apart, and
     * the breaker opens when their share of the window reaches it; successes are then not
     * failures for being slow. 0 keeps version 1's rule (slow successes count as failures). */
    uint32_t breaker_slow_call_rate_pct; /* default 0 */

    /* A time window instead of a count window: the outcomes of the last breaker_window_ms (in
     * 10 buckets), and breaker_min_calls is the minimum throughput in it. 0 = the count
     * window of breaker_window attempts. */
    uint32_t breaker_window_ms; /* default 0 */

    /* Half-open decision. 0: one failed probe re-opens, all breaker_half_open_probes
     * succeeding closes (the default). > 0: once all probes have answered, re-open when their
     * failure (or slow-call) rate reaches it, close otherwise (resilience4j). */
    uint32_t breaker_half_open_rate_pct; /* default 0 */
    /* Longest stay in HALF_OPEN before it re-opens (probes that never finish); 0 = none. */
    uint32_t breaker_half_open_max_wait_ms; /* default 0 */

    /* When an OPEN breaker's time is up the health tick moves it to HALF_OPEN; with this set,
     * a component that then gets no request for a whole tick is sent one "genesis.probe"
     * request (CRITICAL, one attempt), so an idle component recovers without traffic. */
    uint32_t breaker_active_probe; /* default 1 (on); 0 = off */

    /* Which outcomes count (bit n = status n, or reason n for the reason masks): a reason
     * listed as ignored, then a reason listed as failure, then a status listed as ignored,
     * then a status listed as failure decide; everything else is a success. Ignored outcomes
     * are not recorded by the breaker or the retry budget, and hand back a half-open permit. */
    uint32_t breaker_failure_statuses; /* default UNKNOWN, DEADLINE_EXCEEDED, INTERNAL,
                                          UNAVAILABLE, DATA_LOSS (0xE014) */
    uint32_t breaker_ignored_statuses; /* default 0 */
    uint32_t breaker_failure_reasons;  /* default 0 */
    uint32_t breaker_ignored_reasons;  /* default 0 */

    /* Open-time growth: each re-trip multiplies the open time by this (capped at
     * breaker_open_max_ms); a breaker that stayed closed for breaker_open_reset_ms starts
     * again at breaker_open_ms (0 = after breaker_open_max_ms). */
    uint32_t breaker_open_multiplier_pct; /* default 200 (x2); 100 = constant */
    uint32_t breaker_open_reset_ms;       /* default 0 */

    /* Adaptive concurrency (Netflix concurrency-limits): the in-flight limit follows the
     * latency, between 1 and max_concurrency (the bulkhead stays the hard ceiling); attempts
     * over it are refused at once with RESOURCE_EXHAUSTED / BULKHEAD_FULL instead of queueing.
     * 0 = off (fixed max_concurrency), 1 = gradient, 2 = AIMD. */
    uint32_t adaptive_concurrency; /* default 0 */

    /* Hedged requests (gRPC A6 hedging) for calls marked idempotent: when the request has not
     * answered after this percentile of the component's latency, a second one starts (only
     * while the retry budget allows a retry); the first success is delivered (an error only
     * once both failed) and the other's pending work is cancelled. 0 = off; 50..99, e.g. 95. */
    uint32_t hedge_percentile; /* default 0 */
} genesis_policy;

/* Every field of genesis_policy after version, by name, for code that reads or writes
 * policies as FIELD=VALUE text (the admin "policy" command, genesisd --policy): X(name) is
 * expanded once per field, in declaration order. All are 32-bit unsigned (at most 32). */
#define GENESIS_POLICY_FIELDS(X)                                                                   \
    X(per_try_timeout_ms)                                                                          \
    X(max_attempts)                                                                                \
    X(backoff_initial_ms)                                                                          \
    X(backoff_multiplier_pct)                                                                      \
    X(backoff_max_ms)                                                                              \
    X(budget_max_tokens)                                                                           \
    X(budget_token_ratio_pct)                                                                      \
    X(breaker_failure_rate_pct)                                                                    \
    X(breaker_window)                                                                              \
    X(breaker_min_calls)                                                                           \
    X(breaker_consecutive_failures)                                                                \
    X(breaker_slow_call_ms)                                                                        \
    X(breaker_open_ms)                                                                             \
    X(breaker_open_max_ms)                                                                         \
    X(breaker_half_open_probes)                                                                    \
    X(max_concurrency)                                                                             \
    X(max_queued)                                                                                  \
    X(queue_warn)                                                                                  \
    X(breaker_slow_call_rate_pct)                                                                  \
    X(breaker_window_ms)                                                                           \
    X(breaker_half_open_rate_pct)                                                                  \
    X(breaker_half_open_max_wait_ms)                                                               \
    X(breaker_active_probe)                                                                        \
    X(breaker_failure_statuses)                                                                    \
    X(breaker_ignored_statuses)                                                                    \
    X(breaker_failure_reasons)                                                                     \
    X(breaker_ignored_reasons)                                                                     \
    X(breaker_open_multiplier_pct)                                                                 \
    X(breaker_open_reset_ms)                                                                       \
    X(adaptive_concurrency)                                                                        \
    X(hedge_percentile)

/* Fill *policy with the built-in defaults above. GENESIS_INVALID_ARGUMENT when policy is NULL
 * or the version is unknown. */
GENESIS_API int genesis_policy_init(genesis_policy *policy, unsigned int version);

/* Check every field as genesis_coordinator_set_policy would, without applying anything (a
 * daemon validates a whole new configuration before it changes one component).
 * GENESIS_INVALID_ARGUMENT names the bad field in genesis_last_error(). */
GENESIS_API int genesis_policy_validate(const genesis_policy *policy);

/* Set the policy of component id (which need not be registered yet), or with id NULL the
 * default of every component without its own. policy NULL removes id's own policy (it falls
 * back to the default). Validates every field (GENESIS_INVALID_ARGUMENT names the bad one).
 * The policy is copied. Breaker state, windows, budgets and in-flight calls are kept. */
GENESIS_API int genesis_coordinator_set_policy(genesis_coordinator *c, const char *id,
                                               const genesis_policy *policy);

/* Copy the policy in force for id (its own or the default; id NULL = the default). Set
 * out->version first: GENESIS_POLICY_VERSION gets every field; any other value (a caller
 * built for version 1) gets the version-1 fields only, and version 1. */
GENESIS_API int genesis_coordinator_get_policy(genesis_coordinator *c, const char *id,
                                               genesis_policy *out);

/* ---------------------------------------------------------------------------------------- */
/* Degradation modes.                                                                       */

typedef enum genesis_mode {
    GENESIS_MODE_AUTO = -1, /* only for genesis_coordinator_set_mode: end an operator override */
    GENESIS_MODE_NORMAL = 0,
    GENESIS_MODE_SAFE = 1,     /* sheds SHEDDABLE requests, no retries of non-critical work */
    GENESIS_MODE_EMERGENCY = 2 /* admits only CRITICAL requests, drops non-critical events */
} genesis_mode;

/* The mode in force. The coordinator computes it from the fraction of unhealthy components
 * (above safe_mode_pct -> SAFE, above emergency_mode_pct -> EMERGENCY, immediately; back down
 * only after the fraction stayed lower for mode_hold_ms), unless an operator forced one. */
GENESIS_API int genesis_coordinator_get_mode(genesis_coordinator *c);

/* Force a mode (NORMAL, SAFE, EMERGENCY) or return to automatic (GENESIS_MODE_AUTO). Mode
 * changes are published as "genesis.mode" events. */
GENESIS_API int genesis_coordinator_set_mode(genesis_coordinator *c, int mode);

/* Name of a mode ("NORMAL", "SAFE", "EMERGENCY", "AUTO"); never NULL. */
GENESIS_API const char *genesis_mode_name(int mode);

/* ---------------------------------------------------------------------------------------- */
/* Circuit breakers.                                                                        */

typedef enum genesis_breaker_state {
    GENESIS_BREAKER_CLOSED = 0,
    GENESIS_BREAKER_OPEN = 1,
    GENESIS_BREAKER_HALF_OPEN = 2,
    GENESIS_BREAKER_FORCED_OPEN = 3, /* by an operator: rejects everything until reset */
    GENESIS_BREAKER_DISABLED = 4,    /* by an operator: admits everything, records nothing */
    GENESIS_BREAKER_METRICS_ONLY = 5 /* by an operator: admits everything, records outcomes,
                                        rates and their events, never opens */
} genesis_breaker_state;

/* Operator control of id's breaker: GENESIS_BREAKER_FORCED_OPEN, GENESIS_BREAKER_DISABLED,
 * GENESIS_BREAKER_METRICS_ONLY, or GENESIS_BREAKER_CLOSED to reset it (automatic again, empty
 * window, base open time).
 * GENESIS_NOT_FOUND if id is not registered. Transitions are published as "genesis.breaker"
 * events. */
GENESIS_API int genesis_coordinator_set_breaker(genesis_coordinator *c, const char *id, int state);

/* Force id's breaker open for duration_ms (0 = until reset, as genesis_coordinator_set_breaker
 * with FORCED_OPEN); when the time is up it moves to HALF_OPEN and probes decide, as after an
 * automatic open. GENESIS_NOT_FOUND if id is not registered. */
GENESIS_API int genesis_coordinator_force_breaker_open(genesis_coordinator *c, const char *id,
                                                       uint32_t duration_ms);

/* Name of a breaker state ("CLOSED", "OPEN", ...); never NULL. */
GENESIS_API const char *genesis_breaker_state_name(int state);

/* ---------------------------------------------------------------------------------------- */
/* Per-component statistics.                                                                */

#define GENESIS_COMPONENT_STATS_VERSION 2  /* 2 appended the fields after latency_max_us */
#define GENESIS_REASON_SLOTS            64 /* failures_by_reason[r] for reasons r < 64 */
typedef struct genesis_component_stats {
    unsigned int version; /* set by the caller: GENESIS_COMPONENT_STATS_VERSION */
    int remote;           /* non-zero for a remote component */
    int healthy;          /* live (remote: an instance heartbeats) and not failing */
    int ready;            /* healthy and its breaker admits calls */
    int breaker_state;    /* genesis_breaker_state */
    uint64_t requests;    /* requests routed to it */
    uint64_t succeeded;
    uint64_t failed;        /* ended with any other status (also rejections) */
    uint64_t attempts;      /* attempts that reached its bulkhead (a request makes >= 0) */
    uint64_t retries;       /* attempts after the first */
    uint64_t budget_denied; /* retries refused by the retry budget */
    uint64_t fail_fast;     /* rejections by an open breaker */
    uint64_t breaker_opens; /* transitions into OPEN */
    uint64_t breaker_transitions;
    uint64_t failures_by_reason[GENESIS_REASON_SLOTS]; /* failed requests by final reason */
    uint32_t in_flight;     /* gauge: attempts running (in-process) or forwarded (remote) */
    uint32_t queued;        /* gauge: attempts waiting in the bulkhead queue */
    uint64_t latency_count; /* requests measured (admission to outcome, all attempts) */
    uint32_t latency_p50_us, latency_p90_us, latency_p99_us, latency_max_us;

    /* ---- version 2 ---- */
    /* The breaker's window now: failure and slow-call rates in percent of window_calls, or
     * -1 while window_calls is below breaker_min_calls (no rate is decided on yet). */
    double failure_rate_pct;
    double slow_call_rate_pct;
    uint64_t window_calls;
    uint64_t slow_calls;        /* attempts slower than breaker_slow_call_ms, ever */
    uint64_t ignored_calls;     /* outcomes the classification ignores, ever */
    uint32_t concurrency_limit; /* in force: the adaptive limit, else max_concurrency */
    uint32_t reserved;
    uint64_t hedges;     /* hedged second attempts started */
    uint64_t hedge_wins; /* requests the hedged attempt answered first */
} genesis_component_stats;

/* Copy id's statistics into *stats (stats->version must be set: 1 fills the version-1 fields
 * only). GENESIS_NOT_FOUND if id is not registered. Percentiles come from a log-linear
 * histogram (about 19 % resolution). */
GENESIS_API int genesis_coordinator_get_component_stats(genesis_coordinator *c, const char *id,
                                                        genesis_component_stats *stats);

/* id's request latency histogram, the one behind the percentiles above, for exports that need
 * windows or their own buckets (Prometheus, a dashboard's last minutes): counts[b] for b < n
 * is the number of requests whose latency fell into bucket b, which holds latencies up to
 * genesis_latency_bucket_upper_us(b) microseconds (ascending; the last bucket also holds
 * everything longer). n may be less than GENESIS_LATENCY_BUCKETS (the first n are copied).
 * *sum_us (if not NULL) receives the sum of all recorded latencies. GENESIS_NOT_FOUND if id is not
 * registered. Thread-safe and lock-free: buckets are read one by one, so a copy taken under traffic
 * may miss requests completing meanwhile. */
#define GENESIS_LATENCY_BUCKETS 128
GENESIS_API int genesis_coordinator_get_latency_buckets(genesis_coordinator *c, const char *id,
                                                        uint64_t *counts, size_t n,
                                                        uint64_t *sum_us);

/* Upper bound in microseconds of latency bucket b (< GENESIS_LATENCY_BUCKETS); 0 past it. */
GENESIS_API uint64_t genesis_latency_bucket_upper_us(unsigned int bucket);

/* ---------------------------------------------------------------------------------------- */
/* Fault injection (tests and chaos runs; off unless set).                                  */

#define GENESIS_FAULT_VERSION 1
typedef struct genesis_fault {
    unsigned int version;      /* GENESIS_FAULT_VERSION */
    double error_rate;         /* 0..1: attempts that fail UNAVAILABLE without running */
    uint32_t added_latency_ms; /* before the handler runs (holds its worker, like slowness) */
    int hang;  /* handlers block until the fault is cleared or the component leaves */
    int crash; /* in-process: the component behaves as gone (UNAVAILABLE / COMPONENT_DOWN,
                  unhealthy) until cleared, then comes back restored from its last
                  checkpoint; a remote service kills its own process */
} genesis_fault;

/* Fill *fault with "no fault". */
GENESIS_API int genesis_fault_init(genesis_fault *fault, unsigned int version);

/* Inject a fault into in-process component id (NULL fault = clear it). The fault applies to
 * attempts that start afterwards; clearing it releases hung handlers. GENESIS_NOT_FOUND if id
 * is not registered, GENESIS_FAILED_PRECONDITION if it is remote (inject into the service). */
GENESIS_API int genesis_coordinator_inject_fault(genesis_coordinator *c, const char *id,
                                                 const genesis_fault *fault);

/* ---------------------------------------------------------------------------------------- */
/* Operator commands, the same ones the front door's Admin envelope and genesisctl carry:    */
/*   mode [NORMAL|SAFE|EMERGENCY|AUTO]           show or force the mode                      */
/*   breaker <id> open [ms]|close|reset|disable|metrics-only                                  */
/*                                               FORCED_OPEN (for ms), CLOSED (reset),       */
/*                                               DISABLED, METRICS_ONLY                      */
/*   policy <id|*> [<field>=<value> ...]         show or change a policy (* = the default)   */
/*   fault <id> clear | error_rate=R latency_ms=N hang=0|1 crash=0|1   (admin_faults only)   */
/*   checkpoint list [<id>] | show <id> [<gen>] | restore <id> [<gen>]   (stored generations;  */
/*                                               restore: in-process components only)        */
/* Commands an embedder registered with genesis_coordinator_set_admin_handler (genesisd:     */
/* "reload", "supervisor.restart <id>") are routed to it first, as on the front door.        */
/* On success *out (if not NULL) holds a JSON document of the resulting state; on failure a  */
/* result naming what was wrong. Free it with genesis_result_free. Returns its status.       */
GENESIS_API int genesis_coordinator_admin(genesis_coordinator *c, const char *command,
                                          const char *const *args, size_t nargs,
                                          genesis_result **out);

/* ---- Deprecated names ------------------------------------------------------------------- */
/* Old names of the functions above, still exported and behaving the same, so existing
 * binaries and sources keep working; new code uses the name in the message. */
GENESIS_API int genesis_coordinator_component_stats(genesis_coordinator *c, const char *id,
                                                    genesis_component_stats *stats)
    GENESIS_DEPRECATED("use genesis_coordinator_get_component_stats");
GENESIS_API int genesis_coordinator_breaker_set(genesis_coordinator *c, const char *id, int state)
    GENESIS_DEPRECATED("use genesis_coordinator_set_breaker");
GENESIS_API int genesis_coordinator_mode(genesis_coordinator *c)
    GENESIS_DEPRECATED("use genesis_coordinator_get_mode");

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_RESILIENCE_H */
