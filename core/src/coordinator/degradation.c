/* Degradation modes in the coordinator: re-evaluated from component health on every health
 * tick, forced by operators, published as "genesis.mode" events, and what EMERGENCY does to
 * events. */
#include <stdio.h>
#include <string.h>

#include "coordinator/coordinator_impl.h"

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

/* version: co->state_version taken under mode_lock right after the change, so mode events
 * are numbered in the order the changes happened. */
static void mode_changed(genesis_coordinator *co, int from, int to, const char *cause,
                         unsigned int unhealthy, unsigned int total, uint64_t version)
{
    atomic_store(&co->mode_now, to);
    atomic_fetch_add(&co->n_mode_changes, 1);
    gn_log(&co->log, to > from ? GENESIS_LOG_WARN : GENESIS_LOG_INFO,
           "mode %s -> %s: %s (%u of %u components unhealthy)", genesis_mode_name(from),
           genesis_mode_name(to), cause, unhealthy, total);
    char json[384];
    snprintf(json, sizeof(json),
             "{\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\",\"unhealthy\":%u,\"components\":%u,"
             "\"state_version\":%llu,\"state_epoch\":\"%s\"}",
             genesis_mode_name(from), genesis_mode_name(to), cause, unhealthy, total,
             (unsigned long long)version, co->instance_id);
    gn_publish_system(co, "genesis.mode", json);
}

void gn_mode_tick(genesis_coordinator *co)
{
    unsigned int unhealthy, total;
    gn_count_health(co, &unhealthy, &total);
    pthread_mutex_lock(&co->mode_lock);
    int from;
    bool changed = gn_mode_update(&co->mode, &co->mode_cfg, unhealthy, total, gn_clock(co), &from);
    int to = co->mode.current;
    uint64_t version = 0;
    if (changed) {
        atomic_store(&co->mode_now, to);
        version = atomic_fetch_add(&co->state_version, 1) + 1;
    }
    pthread_mutex_unlock(&co->mode_lock);
    if (changed)
        mode_changed(co, from, to, "component health", unhealthy, total, version);
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
    gn_count_health(co, &unhealthy, &total);
    pthread_mutex_lock(&co->mode_lock);
    int from;
    bool changed = gn_mode_force(&co->mode, mode, &from);
    int to = co->mode.current;
    uint64_t version = 0;
    if (changed) {
        atomic_store(&co->mode_now, to);
        version = atomic_fetch_add(&co->state_version, 1) + 1;
    }
    pthread_mutex_unlock(&co->mode_lock);
    gn_log(&co->log, GENESIS_LOG_WARN, "mode %s by an operator",
           mode == GENESIS_MODE_AUTO ? "back to automatic" : "forced");
    if (changed)
        mode_changed(co, from, to,
                     mode == GENESIS_MODE_AUTO ? "override ended by an operator"
                                               : "forced by an operator",
                     unhealthy, total, version);
    return GENESIS_OK;
}
