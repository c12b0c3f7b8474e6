/* Fault injection into in-process components (tests and chaos runs), and the restore from
 * the last checkpoint when an injected crash ends. */
#include "checkpoint/checkpoint.h"
#include "coordinator/coordinator_impl.h"

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
        /* Observed to be back, as a remote component that registers again: an open breaker
         * half-opens at once instead of waiting out its open time. */
        gn_breaker_transition t;
        gn_breaker_recovered(&comp->breaker, gn_clock(co), &t);
        gn_breaker_publish(comp, &t);
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
