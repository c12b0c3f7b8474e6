/* A component's callbacks: the struct an in-process component registers with
 * (genesis_coordinator_register) and a service is made with (genesis_service_new), and the
 * snapshot / restore pair that makes its state durable (see genesis/recovery.h).
 *
 * Ownership: the library copies the struct; arg stays the caller's. Threading: each callback
 * documents the threads it runs on. */
#ifndef GENESIS_COMPONENT_H
#define GENESIS_COMPONENT_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/export.h"
#include "genesis/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The state a snapshot callback hands over (borrowed, valid during the callback). */
typedef struct genesis_snapshot genesis_snapshot;

/* Set the snapshot's bytes; they are copied. The last call wins; a snapshot callback that sets
 * nothing hands over an empty state. Returns GENESIS_RESOURCE_EXHAUSTED when len exceeds the
 * coordinator's max_message_size. */
GENESIS_API int genesis_snapshot_set(genesis_snapshot *snap, const void *data, size_t len);

/* Hand over the component's state: call genesis_snapshot_set and return GENESIS_OK, or return
 * an error status to skip this checkpoint (logged, retried at the next interval). Runs on a
 * library worker thread, possibly while the component's handlers run: the component protects
 * its own state. Never runs twice at once for one component. */
typedef int (*genesis_snapshot_fn)(genesis_snapshot *snap, void *arg);

/* Take back a state handed over earlier (data borrowed, valid during the call; len may be 0).
 * generation is the store's number for it. Runs before the component serves its first request
 * (in genesis_coordinator_register, on the registering thread), and again when the coordinator
 * recovers the component. Return GENESIS_OK, or an error to have the next older generation
 * offered instead (after the last one, the component starts without a restore, loudly). */
typedef int (*genesis_restore_fn)(const void *data, size_t len, uint64_t generation, void *arg);

/* Callbacks of an in-process component (and of a service: genesis_service_new takes the same
 * struct). Versioned so members can be appended: a version 1 struct has no snapshot/restore,
 * a version 2 struct no flags, and both keep working. */
#define GENESIS_COMPONENT_VERSION 3

/* genesis_component.flags (version 3). */
enum {
    /* The component's on_request never blocks (no I/O, no waiting on locks held for long, no
     * sync request to a component that is not itself non-blocking): the coordinator may run
     * it on the thread that calls genesis_coordinator_request or _request_async instead of
     * handing it to a worker (one thread hand-off and the per-try timer's arming saved per
     * request). For in-process components; a service ignores the flag.
     *
     * It runs inline only for a first attempt, when the component's bulkhead has a free
     * running slot and nothing queued ahead of it; otherwise (retries, a full or queued
     * bulkhead) it is queued to a worker as without the flag. The breaker, the bulkhead's
     * limits, the mode, the retry budget and the statistics apply as always. Completions keep
     * their contract: a sync request returns on its caller's thread as usual, and an async
     * completion still runs on a worker, never on the thread that started the call.
     *
     * The per-try timer cannot abandon an inline handler: the calling thread is inside it
     * until it returns, whatever the timeout. What it still does: a handler that returns after
     * its per-try timeout has its reply discarded (counted as a late reply) and the attempt
     * fails with DEADLINE_EXCEEDED (reason TIMEOUT, or DEADLINE_EXCEEDED past the overall
     * deadline), which the breaker and retry policy see as for any timed-out attempt. An
     * inline handler is never counted as stuck. on_event is unaffected. */
    GENESIS_COMPONENT_NONBLOCKING = 1u << 0
};

typedef struct genesis_component {
    unsigned int version;          /* GENESIS_COMPONENT_VERSION (1, 2 or 3) */
    genesis_request_fn on_request; /* required */
    genesis_event_fn on_event;     /* local events from other components, and external events
                                      sent to this component (genesis_event_is_external);
                                      may be NULL */
    void *arg;                     /* passed last to every callback; owned by the caller */
    /* ---- version 2 ---- */
    genesis_snapshot_fn snapshot; /* may be NULL: the component keeps no durable state */
    genesis_restore_fn restore;   /* may be NULL */
    /* ---- version 3 ---- */
    unsigned int flags; /* GENESIS_COMPONENT_* flags or'ed; 0 = none */
} genesis_component;

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_COMPONENT_H */
