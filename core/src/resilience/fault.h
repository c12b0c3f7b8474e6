/* Injected faults (genesis_fault) for one component or service: error rate, added latency,
 * hang, crash. Shared by the coordinator (in-process components) and services (remote ones).
 * Off by default; the request path pays one relaxed atomic load while it stays off. */
#ifndef GN_FAULT_H
#define GN_FAULT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "genesis/resilience.h"

typedef struct gn_fault_state {
    pthread_mutex_t lock;
    pthread_cond_t cv; /* hung handlers wait here */
    genesis_fault fault;
    bool released;  /* the owner is going away: hangs end for good */
    atomic_bool on; /* any fault set: the fast check */
} gn_fault_state;

void gn_fault_state_init(gn_fault_state *f);
void gn_fault_state_destroy(gn_fault_state *f);

/* GENESIS_OK, or GENESIS_INVALID_ARGUMENT (with genesis_last_error) for a bad fault. */
int gn_fault_validate(const genesis_fault *fault);

/* Set (NULL = clear) the fault; clearing a hang releases its handlers. Returns whether a fault
 * is now on. */
bool gn_fault_set(gn_fault_state *f, const genesis_fault *fault);

/* End every hang for good (the owner is being removed or stopped). */
void gn_fault_release(gn_fault_state *f);

/* True while an injected crash is set. */
bool gn_fault_crashed(gn_fault_state *f);

static inline bool gn_fault_on(gn_fault_state *f)
{
    return atomic_load_explicit(&f->on, memory_order_relaxed);
}

/* Apply the fault before a handler runs: may sleep (latency) or block (hang). Returns a
 * failure result when the fault fails the attempt, NULL to run the handler. random64 decides
 * the error rate. With crash_kills (a service), a crash kills the whole process (SIGKILL), as a
 * real crash would. */
struct genesis_result *gn_fault_apply(gn_fault_state *f, const char *who, uint64_t random64,
                                      bool crash_kills);

#endif /* GN_FAULT_H */
