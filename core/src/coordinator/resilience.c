/* The resilience engine's coordinator-wide parts: the injectable clock and RNG, component
 * health, degradation modes, breaker operator control and transition events, per-component
 * statistics, and fault injection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint/checkpoint.h"
#include "coordinator/coordinator_impl.h"

int64_t gn_clock(genesis_coordinator *co)
{
    return co->opts.clock_ms != NULL ? co->opts.clock_ms(co->opts.clock_arg) : gn_now_ms();
}

uint64_t gn_random(genesis_coordinator *co)
{
    if (co->opts.random != NULL)
        return co->opts.random(co->opts.clock_arg);
    /* splitmix64 over an atomic counter: lock-free, good enough for jitter and fault rates. */
    uint64_t z = atomic_fetch_add(&co->rng_state, 0x9E3779B97F4A7C15ull) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

const char *genesis_mode_name(int mode)
{
    switch (mode) {
    case GENESIS_MODE_AUTO:
        return "AUTO";
    case GENESIS_MODE_NORMAL:
        return "NORMAL";
    case GENESIS_MODE_SAFE:
        return "SAFE";
    case GENESIS_MODE_EMERGENCY:
        return "EMERGENCY";
    default:
        return "UNKNOWN_MODE";
    }
}

const char *genesis_breaker_state_name(int state)
{
    static const char *const names[] = {"CLOSED", "OPEN", "HALF_OPEN", "FORCED_OPEN", "DISABLED"};
    return state >= 0 && state < 5 ? names[state] : "UNKNOWN_STATE";
}

/* System events are CRITICAL: published in every mode. */
static void publish(genesis_coordinator *co, const char *type, const char *json)
{
    int reason;
    gn_emit(co, type, json, strlen(json), "application/json", "genesis",
            GENESIS__V1__SCOPE__SCOPE_LOCAL, NULL, NULL, NULL, &reason);
}

void gn_breaker_publish(gn_component *comp, const gn_breaker_transition *t)
{
    if (t->from == t->to)
        return;
    genesis_coordinator *co = comp->co;
    gn_log(&co->log, t->to == GENESIS_BREAKER_OPEN ? GENESIS_LOG_WARN : GENESIS_LOG_INFO,
           "component %s breaker %s -> %s: %s%s", comp->id, genesis_breaker_state_name(t->from),
           genesis_breaker_state_name(t->to), t->cause,
           t->to == GENESIS_BREAKER_OPEN ? " (failing fast)" : "");
    char json[512];
    snprintf(json, sizeof(json),
             "{\"component\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\",\"open_ms\":%u}",
             comp->id, genesis_breaker_state_name(t->from), genesis_breaker_state_name(t->to),
             t->cause, t->open_ms);
    publish(co, "genesis.breaker", json);
}

/* ---- health and modes ----------------------------------------------------------------- */

bool gn_component_healthy(gn_component *comp)
{
    if (gn_fault_crashed(&comp->fault))
        return false;
    if (comp->kind == GN_REMOTE && !gn_remote_is_up(comp))
        return false;
    int state = gn_breaker_state(&comp->breaker);
    if (state == GENESIS_BREAKER_OPEN || state == GENESIS_BREAKER_FORCED_OPEN ||
        state == GENESIS_BREAKER_HALF_OPEN)
        return false;
    /* Idle is never failure. Stuck handlers are when they hold half its slots or more: one
     * request stuck past its timer does not make a component that still serves unhealthy. */
    unsigned int stuck = atomic_load(&comp->stuck);
    if (stuck == 0)
        return true;
    pthread_mutex_lock(&comp->policy_lock);
    unsigned int slots = comp->policy.max_concurrency;
    pthread_mutex_unlock(&comp->policy_lock);
    return stuck * 2 < slots;
}

static void mode_changed(genesis_coordinator *co, int from, int to, const char *cause,
                         unsigned int unhealthy, unsigned int total)
{
    atomic_store(&co->mode_now, to);
    atomic_fetch_add(&co->n_mode_changes, 1);
    gn_log(&co->log, to > from ? GENESIS_LOG_WARN : GENESIS_LOG_INFO,
           "mode %s -> %s: %s (%u of %u components unhealthy)", genesis_mode_name(from),
           genesis_mode_name(to), cause, unhealthy, total);
    char json[256];
    snprintf(json, sizeof(json),
             "{\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\",\"unhealthy\":%u,\"components\":%u}",
             genesis_mode_name(from), genesis_mode_name(to), cause, unhealthy, total);
    publish(co, "genesis.mode", json);
}

static void count_health(genesis_coordinator *co, unsigned int *unhealthy, unsigned int *total)
{
    *unhealthy = *total = 0;
    size_t cap = gn_registry_count(co->registry) + 16;
    void **all = malloc(cap * sizeof(*all));
    if (all == NULL)
        return;
    size_t n = gn_registry_snapshot(co->registry, all, cap);
    for (size_t i = 0; i < n; i++) {
        gn_component *comp = all[i];
        (*total)++;
        if (!gn_component_healthy(comp))
            (*unhealthy)++;
        gn_component_release(comp);
    }
    free(all);
}

void gn_mode_tick(genesis_coordinator *co)
{
    unsigned int unhealthy, total;
    count_health(co, &unhealthy, &total);
    pthread_mutex_lock(&co->mode_lock);
    int from;
    bool changed = gn_mode_update(&co->mode, &co->mode_cfg, unhealthy, total, gn_clock(co), &from);
    int to = co->mode.current;
    if (changed)
        atomic_store(&co->mode_now, to);
    pthread_mutex_unlock(&co->mode_lock);
    if (changed)
        mode_changed(co, from, to, "component health", unhealthy, total);
}

bool gn_mode_admits_event(genesis_coordinator *co, int criticality)
{
    if (atomic_load(&co->mode_now) != GENESIS_MODE_EMERGENCY ||
        criticality == GENESIS_CRITICALITY_CRITICAL)
        return true;
    atomic_fetch_add(&co->n_events_dropped, 1);
    return false;
}

int genesis_coordinator_get_mode(genesis_coordinator *co)
{
    return co != NULL ? atomic_load(&co->mode_now) : GENESIS_MODE_NORMAL;
}

int genesis_coordinator_set_mode(genesis_coordinator *co, int mode)
{
    gn_clear_error();
    if (co == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "set_mode: NULL coordinator");
    if (mode != GENESIS_MODE_AUTO && mode != GENESIS_MODE_NORMAL && mode != GENESIS_MODE_SAFE &&
        mode != GENESIS_MODE_EMERGENCY)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "set_mode: unknown mode %d", mode);
    unsigned int unhealthy, total;
    count_health(co, &unhealthy, &total);
    pthread_mutex_lock(&co->mode_lock);
    int from;
    bool changed = gn_mode_force(&co->mode, mode, &from);
    int to = co->mode.current;
    if (changed)
        atomic_store(&co->mode_now, to);
    pthread_mutex_unlock(&co->mode_lock);
    gn_log(&co->log, GENESIS_LOG_WARN, "mode %s by an operator",
           mode == GENESIS_MODE_AUTO ? "back to automatic" : "forced");
    if (changed)
        mode_changed(co, from, to,
                     mode == GENESIS_MODE_AUTO ? "override ended by an operator"
                                               : "forced by an operator",
                     unhealthy, total);
    return GENESIS_OK;
}

/* ---- breakers ------------------------------------------------------------------------- */

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
        return gn_fail(rv, "breaker_set: state %d is not FORCED_OPEN, DISABLED or CLOSED", state);
    return GENESIS_OK;
}

/* ---- statistics ----------------------------------------------------------------------- */

void gn_component_stats_fill(gn_component *comp, genesis_component_stats *s)
{
    unsigned int version = s->version;
    memset(s, 0, sizeof(*s));
    s->version = version;
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
}

int genesis_coordinator_get_component_stats(genesis_coordinator *co, const char *id,
                                            genesis_component_stats *s)
{
    gn_clear_error();
    if (co == NULL || id == NULL || s == NULL || s->version != GENESIS_COMPONENT_STATS_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "component_stats: NULL argument or version");
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "component_stats: no component '%s'", id);
    gn_component_stats_fill(comp, s);
    gn_component_release(comp);
    return GENESIS_OK;
}

/* ---- fault injection ------------------------------------------------------------------ */

int genesis_fault_init(genesis_fault *f, unsigned int version)
{
    gn_clear_error();
    if (f == NULL || version != GENESIS_FAULT_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "fault: NULL or unknown version %u", version);
    *f = (genesis_fault){.version = version};
    return GENESIS_OK;
}

int genesis_coordinator_inject_fault(genesis_coordinator *co, const char *id,
                                     const genesis_fault *fault)
{
    gn_clear_error();
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "inject_fault: NULL argument");
    if (fault != NULL && gn_fault_validate(fault) != GENESIS_OK)
        return GENESIS_INVALID_ARGUMENT;
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "inject_fault: no component '%s'", id);
    if (comp->kind == GN_REMOTE) {
        gn_component_release(comp);
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "inject_fault: '%s' is remote: inject faults into its service", id);
    }
    bool was_crashed = gn_fault_crashed(&comp->fault);
    gn_fault_set(&comp->fault, fault);
    if (was_crashed && !gn_fault_crashed(&comp->fault)) {
        /* The component "restarts": it comes back with its last durable state. */
        int rv = gn_component_restore(comp);
        gn_log(&co->log, rv == GENESIS_OK ? GENESIS_LOG_INFO : GENESIS_LOG_WARN,
               "component %s back from an injected crash: restore from checkpoint %s", id,
               rv == GENESIS_OK ? "done (or none to restore)" : "failed");
    }
    if (fault != NULL)
        gn_log(&co->log, GENESIS_LOG_WARN,
               "component %s fault injected: error_rate %.3f, latency %u ms, hang %d, crash %d", id,
               fault->error_rate, fault->added_latency_ms, fault->hang, fault->crash);
    else
        gn_log(&co->log, GENESIS_LOG_WARN, "component %s fault cleared", id);
    gn_component_release(comp);
    return GENESIS_OK;
}
