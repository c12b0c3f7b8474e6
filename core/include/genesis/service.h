/* A remote component ("service"): a process that registers an id with a coordinator, listens
 * on its own REP address that the coordinator dials, serves requests concurrently, heartbeats,
 * and receives local events from the event bus.
 *
 * Lifecycle: genesis_service_new -> genesis_service_listen -> genesis_service_connect ->
 * (serving) -> genesis_service_free (unregisters, then stops).
 * Threading: every function may be called from any thread, concurrently, except
 * genesis_service_free, which must be the last call on the handle. */
#ifndef GENESIS_SERVICE_H
#define GENESIS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/component.h"
#include "genesis/export.h"
#include "genesis/message.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct genesis_service genesis_service;

/* Version 2 appended the TLS files; a version 1 struct (up to log_arg) keeps working. */
#define GENESIS_SERVICE_OPTIONS_VERSION 2

typedef struct genesis_service_options {
    unsigned int version;           /* GENESIS_SERVICE_OPTIONS_VERSION */
    unsigned int max_concurrency;   /* requests served at once; 0 = 16 */
    size_t max_message_size;        /* largest request accepted; 0 = 1 MiB */
    uint32_t heartbeat_interval_ms; /* 0 = what the coordinator asks for (default 100) */
    unsigned int event_queue_depth; /* waiting events before drops; 0 = 50 */
    int log_level;                  /* genesis_log_level; init: WARN */
    genesis_log_fn log;             /* NULL = stderr */
    void *log_arg;
    /* ---- version 2: mutual TLS for tls+tcp:// URLs ---- */
    /* PEM files, read by genesis_service_new (a missing, unreadable or invalid file fails it
     * with a message naming the file). Set all three or none. With them the service may listen
     * on tls+tcp:// (only peers with a certificate signed by the CA can send it requests) and
     * dial a tls+tcp:// front door and event bus, presenting its certificate. Strings copied. */
    const char *tls_ca_file;     /* CA certificate(s) the coordinator's certificate chains to */
    const char *tls_cert_file;   /* this service's certificate */
    const char *tls_key_file;    /* its private key, unencrypted */
    const char *tls_server_name; /* name (CN or DNS SAN) the coordinator's certificate must
                                    carry; NULL = any certificate signed by the CA */
} genesis_service_options;

/* Fill *opts with defaults for version 1 or 2 (only that version's fields are written). */
GENESIS_API int genesis_service_options_init(genesis_service_options *opts, unsigned int version);

/* Create a service for component id with its callbacks (copied; component->arg must outlive
 * the service). opts may be NULL. Free with genesis_service_free.
 * Checkpoints: with a version 2 component whose restore callback is set, the latest durable
 * checkpoint the coordinator holds for id is handed to restore during the first successful
 * genesis_service_connect, before the service serves its first request (requests that arrive
 * meanwhile wait); when connect failed because the coordinator was not up yet, on a library
 * worker thread once the background registration succeeds. Re-registrations later (coordinator
 * restarted) do not restore again: the running process's state is newer. The snapshot callback is
 * not used by services: they decide when to call genesis_service_checkpoint. */
GENESIS_API int genesis_service_new(genesis_service **out, const char *id,
                                    const genesis_component *component,
                                    const genesis_service_options *opts);

/* Listen for the coordinator's requests on url (ipc://, tcp:// with port 0 allowed, or
 * tls+tcp:// with the TLS options set). Must be called before genesis_service_connect. A plain
 * tcp:// address other than loopback logs a security warning. */
GENESIS_API int genesis_service_listen(genesis_service *svc, const char *url);

/* Copy the URL actually listened on (bound port filled in) into buf. */
GENESIS_API int genesis_service_get_url(genesis_service *svc, char *buf, size_t size);

/* Register with the coordinator at front_door_url, waiting up to timeout_ms (0 = 10 s) for
 * the acknowledgement, then heartbeat in the background. The coordinator acknowledges before
 * its connection to this service is up: requests routed in the first moments wait for it (or,
 * with replicas, go to the ones already connected). event_bus_url may be NULL (no
 * events). If the coordinator later forgets the service (it restarted), the service registers
 * again on its own. Returns ALREADY_EXISTS if an in-process component holds the id. With a
 * tls+tcp:// front door whose TLS handshake fails (the coordinator refused this service's
 * certificate, or its own is not signed by our CA), returns UNAUTHENTICATED with a
 * message naming the cause, instead of waiting in the background.
 *
 * Cluster nodes: either URL may be a comma-separated list (at most 16, as for
 * genesis_client_dial). The service then registers with every node at once (returning when
 * one accepted, or with the first failure once all failed), heartbeats each node, and
 * registers again on its own with a node that restarted or was down during connect. Emits and
 * checkpoints go to one connected node; events arrive from every listed bus. */
GENESIS_API int genesis_service_connect(genesis_service *svc, const char *front_door_url,
                                        const char *event_bus_url, uint32_t timeout_ms);

/* Emit a local event through the coordinator (source = this service's id). *out (if not NULL)
 * receives the result, as for genesis_client_emit. */
GENESIS_API int genesis_service_emit(genesis_service *svc, const char *type, const void *data,
                                     size_t len, const genesis_call_options *opts,
                                     genesis_result **out);

/* Hand state to the coordinator and wait until it is durable in the coordinator's checkpoint
 * store (its reply comes only after the commit was synced). data is copied; len at most the
 * service's max_message_size less 512 bytes of envelope (else RESOURCE_EXHAUSTED). *generation (may
 * be NULL) receives the stored generation. timeout_ms 0 = 10 s. Errors keep the previous
 * checkpoint: NOT_FOUND (the coordinator does not know this service yet: it re-registers by itself,
 * try again), RESOURCE_EXHAUSTED with reason STORAGE_FULL (disk full) or QUEUE_FULL,
 * FAILED_PRECONDITION with reason STORAGE_ERROR (the coordinator has no store), UNAVAILABLE (store
 * I/O error or the coordinator unreachable: the checkpoint may or may not be stored). */
GENESIS_API int genesis_service_checkpoint(genesis_service *svc, const void *data, size_t len,
                                           uint32_t timeout_ms, uint64_t *generation);

/* Requests served so far (monotonic). */
GENESIS_API uint64_t genesis_service_get_requests_served(genesis_service *svc);

/* Inject a fault into this service's request handling (NULL = clear), for tests and chaos
 * runs: an error rate (UNAVAILABLE without running the handler), added latency, a hang (until
 * cleared or freed), or a crash — which kills this whole process with SIGKILL on the next
 * request, as a real crash would. genesis_fault is defined in genesis/resilience.h. */
struct genesis_fault;
GENESIS_API int genesis_service_inject_fault(genesis_service *svc,
                                             const struct genesis_fault *fault);

/* Unregister (best effort, bounded wait), stop serving, wait for running handlers, close
 * sockets and free. Accepts NULL. No callback runs after it returns. */
GENESIS_API void genesis_service_free(genesis_service *svc);

/* ---- Deprecated names ------------------------------------------------------------------- */
/* Old names of the functions above, still exported and behaving the same, so existing
 * binaries and sources keep working; new code uses the name in the message. */
GENESIS_API uint64_t genesis_service_requests_served(genesis_service *svc)
    GENESIS_DEPRECATED("use genesis_service_get_requests_served");
GENESIS_API int genesis_service_url(genesis_service *svc, char *buf, size_t size)
    GENESIS_DEPRECATED("use genesis_service_get_url");

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_SERVICE_H */
