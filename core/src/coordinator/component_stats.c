/* Per-component statistics (genesis_coordinator_get_component_stats, the latency buckets, and
 * status). */
#include <stddef.h>
#include <string.h>

#include "coordinator/coordinator_impl.h"

/* Bytes of the struct as a caller built for that version knows it; 0 = unknown. */
static size_t stats_size(unsigned int version)
{
    if (version == 1)
        return offsetof(genesis_component_stats, failure_rate_pct);
    return version == GENESIS_COMPONENT_STATS_VERSION ? sizeof(genesis_component_stats) : 0;
}

void gn_component_stats_fill(gn_component *comp, genesis_component_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->version = GENESIS_COMPONENT_STATS_VERSION;
    s->remote = comp->kind == GN_REMOTE;
    s->healthy = gn_component_healthy(comp);
    s->breaker_state = gn_breaker_state(&comp->breaker);
    s->ready = s->healthy || s->breaker_state == GENESIS_BREAKER_HALF_OPEN;
    s->requests = atomic_load(&comp->n_requests);
    s->succeeded = atomic_load(&comp->n_succeeded);
    s->failed = atomic_load(&comp->n_failures);
    s->attempts = atomic_load(&comp->n_attempts);
    s->retries = atomic_load(&comp->n_retries);
    s->budget_denied = atomic_load(&comp->n_budget_denied);
    s->fail_fast = atomic_load(&comp->breaker.n_fail_fast);
    s->breaker_opens = atomic_load(&comp->breaker.n_opens);
    s->breaker_transitions = atomic_load(&comp->breaker.n_transitions);
    for (unsigned int r = 0; r < GENESIS_REASON_SLOTS; r++)
        s->failures_by_reason[r] = atomic_load(&comp->n_by_reason[r]);
    if (comp->kind == GN_REMOTE) {
        s->in_flight = gn_remote_in_flight(comp);
    } else {
        unsigned int queued = 0, running = 0;
        gn_lane_counts(&comp->requests, &queued, &running);
        s->in_flight = running;
        s->queued = queued;
    }
    static const double qs[3] = {0.50, 0.90, 0.99};
    uint64_t at[3];
    gn_latency_quantiles(&comp->latency, qs, 3, at, &s->latency_count);
    s->latency_p50_us = (uint32_t)at[0];
    s->latency_p90_us = (uint32_t)at[1];
    s->latency_p99_us = (uint32_t)at[2];
    s->latency_max_us = (uint32_t)atomic_load(&comp->latency.max_us);

    genesis_policy p;
    gn_component_policy(comp, &p);
    gn_breaker_rates(&comp->breaker, &p, gn_clock(comp->co), &s->window_calls, &s->failure_rate_pct,
                     &s->slow_call_rate_pct);
    s->slow_calls = atomic_load(&comp->breaker.n_slow);
    s->ignored_calls = atomic_load(&comp->breaker.n_ignored);
    s->concurrency_limit = gn_component_concurrency_limit(comp, &p);
    s->hedges = atomic_load(&comp->n_hedges);
    s->hedge_wins = atomic_load(&comp->n_hedge_wins);
}

int genesis_coordinator_get_component_stats(genesis_coordinator *co, const char *id,
                                            genesis_component_stats *s)
{
    gn_clear_error();
    size_t size = s != NULL ? stats_size(s->version) : 0;
    if (co == NULL || id == NULL || size == 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "component_stats: NULL argument or version");
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "component_stats: no component '%s'", id);
    genesis_component_stats full;
    gn_component_stats_fill(comp, &full);
    gn_component_release(comp);
    full.version = s->version;
    memcpy(s, &full, size); /* a version 1 caller's struct is shorter */
    return GENESIS_OK;
}

int genesis_coordinator_get_latency_buckets(genesis_coordinator *co, const char *id,
                                            uint64_t *counts, size_t n, uint64_t *sum_us)
{
    gn_clear_error();
    if (co == NULL || id == NULL || (counts == NULL && n > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "latency_buckets: NULL argument");
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "latency_buckets: no component '%s'", id);
    for (size_t b = 0; b < n && b < GN_LATENCY_BUCKETS; b++)
        counts[b] = atomic_load_explicit(&comp->latency.bucket[b], memory_order_relaxed);
    for (size_t b = GN_LATENCY_BUCKETS; b < n; b++)
        counts[b] = 0;
    if (sum_us != NULL)
        *sum_us = atomic_load_explicit(&comp->latency.sum_us, memory_order_relaxed);
    gn_component_release(comp);
    return GENESIS_OK;
}

uint64_t genesis_latency_bucket_upper_us(unsigned int bucket)
{
    return bucket < GN_LATENCY_BUCKETS ? gn_latency_bucket_upper(bucket) : 0;
}
