/* A client of a coordinator in another process (or thread): sends requests and emits over
 * the front door (REQ) and subscribes to the event bus (SUB), over NNG.
 *
 * Lifecycle: genesis_client_new -> genesis_client_dial -> request / emit / subscribe ->
 * genesis_client_free. Threading: every function may be called from any thread,
 * concurrently, except genesis_client_free, which must be the last call on the handle. */
#ifndef GENESIS_CLIENT_H
#define GENESIS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/export.h"
#include "genesis/message.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct genesis_client genesis_client;

/* Version 2 appended the TLS files; a version 1 struct (up to worker_threads) keeps working. */
#define GENESIS_CLIENT_OPTIONS_VERSION 2

typedef struct genesis_client_options {
    unsigned int version;        /* GENESIS_CLIENT_OPTIONS_VERSION */
    const char *name;            /* default source of requests and emits; NULL = "client" */
    size_t max_message_size;     /* largest reply accepted; 0 = 1 MiB */
    uint32_t default_timeout_ms; /* deadline of calls that set none; 0 = 10000 */
    unsigned int worker_threads; /* threads running callbacks; 0 = 2 */
    /* ---- version 2: mutual TLS for tls+tcp:// URLs ---- */
    /* PEM files, read by genesis_client_new (a missing, unreadable or invalid file fails it
     * with a message naming the file). Set all three or none; needed to dial tls+tcp://. */
    const char *tls_ca_file;     /* CA certificate(s) the coordinator's certificate chains to */
    const char *tls_cert_file;   /* this client's certificate */
    const char *tls_key_file;    /* its private key, unencrypted */
    const char *tls_server_name; /* name (CN or DNS SAN) the coordinator's certificate must
                                    carry; NULL = any certificate signed by the CA */
} genesis_client_options;

/* Fill *opts with defaults for version 1 or 2 (only that version's fields are written). */
GENESIS_API int genesis_client_options_init(genesis_client_options *opts, unsigned int version);

/* Create a client. opts may be NULL; it is copied. Free with genesis_client_free. */
GENESIS_API int genesis_client_new(genesis_client **out, const genesis_client_options *opts);

/* Dial a coordinator: front_door_url for requests and emits; event_bus_url (may be NULL) for
 * subscriptions. Dialing happens in the background and reconnects after failures, so this
 * succeeds before the coordinator is up; requests wait for the connection within their
 * deadline. A tls+tcp:// front door is first tried once (at most 5 s): when its TLS handshake
 * fails (the coordinator refused this client's certificate or presented one not signed by our
 * CA), or the client has no TLS files, returns UNAUTHENTICATED with a message naming the
 * cause; a coordinator not up yet is not an error.
 *
 * Cluster nodes: either URL may be a comma-separated list ("tcp://a:7400,tcp://b:7400", at
 * most 16; a comma starts a new URL only before "<scheme>://"). The client then dials every
 * front door and each call goes to one connected node. When that node is lost with a call in
 * flight, an idempotent request (genesis_call_options.idempotent) and a status query are sent
 * again to another node within the same deadline; any other call (non-idempotent request,
 * emit, admin) fails with UNAVAILABLE, reason GENESIS_REASON_UNREACHABLE and a message saying
 * the node was lost and the call may or may not have run. A call a node refuses with
 * NOT_FOUND (a restarted node the component has not registered with again yet) did not run
 * and is sent to another node, up to 4 nodes in all. Subscriptions receive from every
 * listed event bus, so events keep coming from the live nodes. Strings are copied; the same
 * threading rules apply. An empty entry or more than 16 URLs is INVALID_ARGUMENT. */
GENESIS_API int genesis_client_dial(genesis_client *cl, const char *front_door_url,
                                    const char *event_bus_url);

/* Request target component through the coordinator; same contract as
 * genesis_coordinator_request. When the coordinator itself does not answer (connection
 * failed, or no reply within the deadline plus a short grace that lets the coordinator report
 * its own DEADLINE_EXCEEDED first), the reason is GENESIS_REASON_UNREACHABLE with status
 * UNAVAILABLE or DEADLINE_EXCEEDED. */
GENESIS_API int genesis_client_request(genesis_client *cl, const char *target, const char *type,
                                       const void *data, size_t len,
                                       const genesis_call_options *opts, genesis_result **out);

/* Asynchronous request; same contract as genesis_coordinator_request_async. */
GENESIS_API int genesis_client_request_async(genesis_client *cl, const char *target,
                                             const char *type, const void *data, size_t len,
                                             const genesis_call_options *opts, genesis_result_fn cb,
                                             void *arg);

/* Emit a local event through the coordinator and wait for its acknowledgement. Returns the
 * status; *out (if out is not NULL) receives the result as for genesis_client_request (its
 * reason and message explain a failure). */
GENESIS_API int genesis_client_emit(genesis_client *cl, const char *type, const void *data,
                                    size_t len, const genesis_call_options *opts,
                                    genesis_result **out);

/* Send an external event to one component, as the gateway does with a WebSocket client's
 * message: an in-process target receives it through its on_event callback with
 * genesis_event_is_external() non-zero, a remote target through its service's on_event. Other
 * components and bus subscribers do not see it. Waits for the coordinator's acknowledgement;
 * returns the status (NOT_FOUND when target is not registered, FAILED_PRECONDITION when it
 * takes no events) and fills *out (may be NULL) as genesis_client_emit does. opts->source
 * names the sender (the gateway uses the WebSocket connection's name). */
GENESIS_API int genesis_client_emit_to(genesis_client *cl, const char *target, const char *type,
                                       const void *data, size_t len,
                                       const genesis_call_options *opts, genesis_result **out);

/* Ask the coordinator for its status report; *out receives a result whose payload is the
 * JSON document described at genesis_coordinator_status. timeout_ms 0 = default. */
GENESIS_API int genesis_client_status(genesis_client *cl, uint32_t timeout_ms,
                                      genesis_result **out);

/* Deliver bus events whose topic starts with topic_prefix to cb, one at a time, in order, on
 * a worker thread. Topics are "local:<type>" and "external:<type>"; "" matches everything.
 * May be called several times (each prefix adds a subscription; an event matching several is
 * delivered once). cb/arg are shared by all subscriptions: the last non-NULL cb wins. NNG
 * pub/sub is best effort: lost events show up as gaps, see genesis_client_get_events_lost. */
GENESIS_API int genesis_client_subscribe(genesis_client *cl, const char *topic_prefix,
                                         genesis_event_fn cb, void *arg);

/* Events missed so far: the sum of gaps in the publishers' sequence numbers, plus events
 * dropped because the delivery queue was full. */
GENESIS_API uint64_t genesis_client_get_events_lost(genesis_client *cl);

/* Send an operator command to the coordinator (see genesis_coordinator_admin in
 * genesis/resilience.h for the commands) and wait up to timeout_ms (0 = the client's default).
 * *out receives the coordinator's JSON answer or the failure; returns its status. The front
 * door does not authenticate: expose it only to trusted networks. */
GENESIS_API int genesis_client_admin(genesis_client *cl, const char *command,
                                     const char *const *args, size_t nargs, uint32_t timeout_ms,
                                     genesis_result **out);

/* Close the sockets, cancel outstanding calls (their callbacks run with CANCELLED) and free.
 * Accepts NULL. No callback runs after it returns. Must not be called from a callback. */
GENESIS_API void genesis_client_free(genesis_client *cl);

/* ---- Deprecated names ------------------------------------------------------------------- */
/* Old names of the functions above, still exported and behaving the same, so existing
 * binaries and sources keep working; new code uses the name in the message. */
GENESIS_API uint64_t genesis_client_events_lost(genesis_client *cl)
    GENESIS_DEPRECATED("use genesis_client_get_events_lost");

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_CLIENT_H */
