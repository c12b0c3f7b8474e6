/* Breakers in the coordinator: transition and rate events and logs, the periodic tick that
 * ends open times without traffic and sends active probes to idle half-open components, and
 * operator control. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/coordinator_impl.h"

const char *genesis_breaker_state_name(int state)
{
    static const char *const names[] = {"CLOSED",      "OPEN",     "HALF_OPEN",
                                        "FORCED_OPEN", "DISABLED", "METRICS_ONLY"};
    return state >= 0 && state < 6 ? names[state] : "UNKNOWN_STATE";
}

/* "genesis.breaker.rate": a window rate crossed its threshold, either way. */
static void publish_rate(gn_component *comp, const char *rate, bool above, double pct,
                         unsigned int threshold)
{
    genesis_coordinator *co = comp->co;
    gn_log(&co->log, above ? GENESIS_LOG_WARN : GENESIS_LOG_INFO,
           "component %s %s rate %.1f %% is %s its threshold of %u %%", comp->id, rate, pct,
           above ? "at or above" : "back under", threshold);
    char json[384];
    snprintf(json, sizeof(json),
             "{\"component\":\"%s\",\"rate\":\"%s\",\"pct\":%.2f,\"threshold_pct\":%u,"
             "\"above\":%s}",
             comp->id, rate, pct, threshold, above ? "true" : "false");
    gn_publish_system(co, "genesis.breaker.rate", json);
}

void gn_breaker_publish(gn_component *comp, const gn_breaker_transition *t)
{
    if (t->rate_events & GN_RATE_FAILURE)
        publish_rate(comp, "failure", t->failure_above, t->failure_pct, t->failure_threshold);
    if (t->rate_events & GN_RATE_SLOW)
        publish_rate(comp, "slow_call", t->slow_above, t->slow_pct, t->slow_threshold);
    if (t->from == t->to)
        return;
    genesis_coordinator *co = comp->co;
    gn_log(&co->log, t->to == GENESIS_BREAKER_OPEN ? GENESIS_LOG_WARN : GENESIS_LOG_INFO,
           "component %s breaker %s -> %s: %s%s", comp->id, genesis_breaker_state_name(t->from),
           genesis_breaker_state_name(t->to), t->cause,
           t->to == GENESIS_BREAKER_OPEN ? " (failing fast)" : "");
    /* After the transition took effect: a status report that reads this version or a later
     * one shows the new state. */
    unsigned long long version = atomic_fetch_add(&co->state_version, 1) + 1;
    char json[640];
    snprintf(json, sizeof(json),
             "{\"component\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\",\"open_ms\":%u,"
             "\"state_version\":%llu,\"state_epoch\":\"%s\"}",
             comp->id, genesis_breaker_state_name(t->from), genesis_breaker_state_name(t->to),
             t->cause, t->open_ms, version, co->instance_id);
    gn_publish_system(co, "genesis.breaker", json);
}

static void probe_done(genesis_result *res, void *arg)
{
    gn_component *comp = arg;
    genesis_result_free(res);
    atomic_store(&comp->probing, false);
    gn_component_release(comp);
}

/* An idle half-open component gets a probe of its own: a HALF_OPEN breaker that was already
 * HALF_OPEN at the previous tick, with no request since, and a free probe slot. Waiting one
 * tick leaves the slot to a request that was about to come anyway. */
static void maybe_probe(genesis_coordinator *co, gn_component *comp, const genesis_policy *p,
                        int64_t now)
{
    int state = gn_breaker_state(&comp->breaker);
    uint64_t requests = atomic_load(&comp->n_requests);
    bool due = state == GENESIS_BREAKER_HALF_OPEN && p->breaker_active_probe &&
               comp->tick_half_open && requests == comp->tick_requests &&
               !atomic_load(&comp->probing) && gn_breaker_wants_probe(&comp->breaker, p, now);
    comp->tick_half_open = state == GENESIS_BREAKER_HALF_OPEN;
    comp->tick_requests = requests;
    if (!due)
        return;
    atomic_store(&comp->probing, true);
    gn_component_retain(comp);
    gn_call_params params = {
        .target = comp->id,
        .type = GN_PROBE_TYPE,
        .source = "genesis",
        .criticality = GENESIS_CRITICALITY_CRITICAL,
        .timeout_ms = p->per_try_timeout_ms,
        .internal = true, /* not a caller's request: not in the request counters */
    };
    gn_call_completion done = {.fn = probe_done, .arg = comp, .run_inline = true};
    if (gn_call_route(co, &params, done) != GENESIS_OK) {
        atomic_store(&comp->probing, false);
        gn_component_release(comp);
        return;
    }
    atomic_fetch_add(&comp->n_active_probes, 1);
}

/* Open times that ran out move their breakers to HALF_OPEN without waiting for a request; idle
 * half-open components get an active probe. */
void gn_breakers_tick(genesis_coordinator *co)
{
    size_t cap = gn_registry_count(co->registry) + 16;
    void **all = malloc(cap * sizeof(*all));
    if (all == NULL)
        return;
    size_t n = gn_registry_snapshot(co->registry, all, cap);
    int64_t now = gn_clock(co);
    for (size_t i = 0; i < n; i++) {
        gn_component *comp = all[i];
        genesis_policy p;
        gn_component_policy(comp, &p);
        gn_breaker_transition t;
        gn_breaker_tick(&comp->breaker, &p, now, &t);
        gn_breaker_publish(comp, &t);
        maybe_probe(co, comp, &p, now);
        gn_component_release(comp);
    }
    free(all);
}

int genesis_coordinator_set_breaker(genesis_coordinator *co, const char *id, int state)
{
    gn_clear_error();
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "breaker_set: NULL argument");
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "breaker_set: no component '%s'", id);
    gn_breaker_transition t;
    int rv = gn_breaker_force(&comp->breaker, state, gn_clock(co), &t);
    if (rv == GENESIS_OK)
        gn_breaker_publish(comp, &t);
    gn_component_release(comp);
    if (rv != GENESIS_OK)
        return gn_fail(rv,
                       "breaker_set: state %d is not FORCED_OPEN, DISABLED, METRICS_ONLY or CLOSED",
                       state);
    return GENESIS_OK;
}

int genesis_coordinator_force_breaker_open(genesis_coordinator *co, const char *id,
                                           uint32_t duration_ms)
{
    gn_clear_error();
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "force_breaker_open: NULL argument");
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "force_breaker_open: no component '%s'", id);
    gn_breaker_transition t;
    gn_breaker_force_open(&comp->breaker, duration_ms, gn_clock(co), &t);
    gn_breaker_publish(comp, &t);
    gn_component_release(comp);
    return GENESIS_OK;
}
