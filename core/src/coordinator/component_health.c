/* Whether a component counts as healthy (for degradation modes and status), and the count of
 * unhealthy components the modes are computed from. */
#include <stdlib.h>

#include "coordinator/coordinator_impl.h"

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

void gn_count_health(genesis_coordinator *co, unsigned int *unhealthy, unsigned int *total)
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
