/* Breakers in the coordinator: transition events and logs, the periodic tick that ends open
 * times without traffic, and operator control. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/coordinator_impl.h"

const char *genesis_breaker_state_name(int state)
{
    static const char *const names[] = {"CLOSED", "OPEN", "HALF_OPEN", "FORCED_OPEN", "DISABLED"};
    return state >= 0 && state < 5 ? names[state] : "UNKNOWN_STATE";
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
    gn_publish_system(co, "genesis.breaker", json);
}

/* Open times that ran out move their breakers to HALF_OPEN without waiting for a request. */
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
        gn_component_release(comp);
    }
    free(all);
}

int genesis_coordinator_breaker_set(genesis_coordinator *co, const char *id, int state)
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
