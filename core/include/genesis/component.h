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
 * struct). Versioned so callbacks can be appended: a version 1 struct has no snapshot/restore
 * and keeps working. */
#define GENESIS_COMPONENT_VERSION 2

typedef struct genesis_component {
    unsigned int version;          /* GENESIS_COMPONENT_VERSION (1 or 2) */
    genesis_request_fn on_request; /* required */
    genesis_event_fn on_event;     /* local events from other components, and external events
                                      sent to this component (genesis_event_is_external);
                                      may be NULL */
    void *arg;                     /* passed last to every callback; owned by the caller */
    /* ---- version 2 ---- */
    genesis_snapshot_fn snapshot; /* may be NULL: the component keeps no durable state */
    genesis_restore_fn restore;   /* may be NULL */
} genesis_component;

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_COMPONENT_H */
