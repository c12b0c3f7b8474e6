/* The coordinator: owns the component registry, routes requests and events, and serves the
 * front door (REP) and event bus (PUB) over NNG. genesisd is a thin program around it.
 *
 * Lifecycle: genesis_coordinator_new -> [listen] -> register components -> requests/emits ->
 * genesis_coordinator_stop (drains) -> genesis_coordinator_free.
 * Threading: every function may be called from any thread, concurrently, except
 * genesis_coordinator_free, which must be the last call on the handle. */
#ifndef GENESIS_COORDINATOR_H
#define GENESIS_COORDINATOR_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/component.h"
#include "genesis/export.h"
#include "genesis/message.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct genesis_coordinator genesis_coordinator;

/* Version 2 appended the checkpoint and resilience fields, version 3 the TLS files; a struct
 * filled for an older version (the prefix up to log_arg, or up to admin_faults) keeps working. */
#define GENESIS_COORDINATOR_OPTIONS_VERSION 3
struct genesis_policy;

typedef struct genesis_coordinator_options {
    unsigned int version;             /* GENESIS_COORDINATOR_OPTIONS_VERSION */
    unsigned int worker_threads;      /* threads started up front; 0 = 4 */
    unsigned int max_worker_threads;  /* the pool grows to this while handlers block; 0 = 256 */
    unsigned int front_door_contexts; /* front-door requests in flight at most; 0 = 1024 */
    size_t max_message_size;          /* largest message accepted or sent; 0 = 1 MiB */
    uint32_t default_timeout_ms;      /* deadline of calls that set none; 0 = 10000 */
    unsigned int max_concurrency;     /* per in-process component handlers at once; 0 = 16 */
    unsigned int max_queued_requests; /* per component waiting requests; 0 = 50 */
    unsigned int event_queue_depth;   /* per component waiting events; 0 = 50 */
    unsigned int max_components;      /* registered ids at most (memory bound); 0 = 4096 */
    uint32_t heartbeat_interval_ms;   /* expected from remote components; 0 = 100 */
    unsigned int heartbeat_misses;    /* pause tolerated, in heartbeats (at least 500 ms); 0 = 3 */
    int log_level;      /* genesis_log_level; messages above it are dropped; init: WARN */
    genesis_log_fn log; /* NULL = write to stderr */
    void *log_arg;
    /* ---- version 2: durable checkpoints (see genesis/recovery.h) ---- */
    const char *checkpoint_store;        /* SQLite file (created if missing), copied; NULL = no
                                            durable checkpoints (snapshot/restore unused, remote
                                            Checkpoint messages refused) */
    uint32_t checkpoint_interval_ms;     /* snapshot changed components this often; 0 = 150 */
    unsigned int checkpoint_generations; /* generations kept per component; 0 = 3 */

    /* ---- version 2: the resilience engine (genesis/resilience.h) ---- */
    /* Policy of components without their own; copied. NULL = genesis_policy_init's defaults
     * with max_concurrency and max_queued_requests from above. */
    const struct genesis_policy *default_policy;
    /* Comma-separated request types that are always CRITICAL, whatever the caller says.
     * NULL = "ping,status"; "" = none. Copied. */
    const char *critical_types;
    unsigned int safe_mode_pct;      /* unhealthy components above this % -> SAFE; 0 = 20 */
    unsigned int emergency_mode_pct; /* ... above this % -> EMERGENCY; 0 = 50 */
    uint32_t mode_hold_ms; /* a better mode must hold this long before stepping down; 0 = 2000 */
    /* Injectable time and randomness for deterministic tests: breaker open times, mode
     * hysteresis and backoff jitter use them (timers still run on the real clock). Called
     * from any thread, concurrently; must not call into the coordinator. NULL = the
     * monotonic clock in ms / an internal generator. */
    int64_t (*clock_ms)(void *arg);
    uint64_t (*random)(void *arg);
    void *clock_arg; /* passed to clock_ms and random */
    /* Non-zero: the admin "fault" command (front door, genesis_coordinator_admin) may inject
     * faults, for chaos runs. Off by default: production coordinators refuse it. */
    int admin_faults;

    /* ---- version 3: mutual TLS for tls+tcp:// URLs ---- */
    /* PEM files, read when the coordinator is made (a missing, unreadable or invalid file fails
     * genesis_coordinator_new with a message naming it). Set all three or none. With them, the
     * front door and event bus may listen on tls+tcp://host:port and remote components may
     * announce tls+tcp:// addresses: every connection requires the peer to present a
     * certificate signed by tls_ca_file (TLS auth mode REQUIRED, both directions), so only
     * holders of such a certificate can register, serve, call or subscribe. Without them a
     * tls+tcp:// URL is refused. Strings are copied. */
    const char *tls_ca_file;     /* CA certificate(s) peers' certificates must chain to */
    const char *tls_cert_file;   /* this coordinator's certificate (and intermediates) */
    const char *tls_key_file;    /* its private key, unencrypted */
    const char *tls_server_name; /* name (CN or DNS SAN) the certificates of remote components
                                    this coordinator dials must carry; NULL = any name: a
                                    certificate signed by the CA is enough */
} genesis_coordinator_options;

/* Fill *opts with defaults for the given version (1..GENESIS_COORDINATOR_OPTIONS_VERSION):
 * only the fields that version has are written. */
GENESIS_API int genesis_coordinator_options_init(genesis_coordinator_options *opts,
                                                 unsigned int version);

/* Create a coordinator. opts may be NULL for defaults; it is copied. On success *out owns a
 * new coordinator that must be released with genesis_coordinator_free. */
GENESIS_API int genesis_coordinator_new(genesis_coordinator **out,
                                        const genesis_coordinator_options *opts);

/* Listen on a front-door URL (REP: clients, the gateway and remote components send envelopes
 * here) and an event-bus URL (PUB: events for remote components and subscribers).
 * event_bus_url may be NULL to run without a bus. URLs are NNG's: ipc:///path,
 * tcp://host:port (port 0 picks a free port; read it back with genesis_coordinator_get_url),
 * inproc://name. May be called once per coordinator. */
GENESIS_API int genesis_coordinator_listen(genesis_coordinator *c, const char *front_door_url,
                                           const char *event_bus_url);

typedef enum genesis_endpoint {
    GENESIS_ENDPOINT_FRONT_DOOR = 0,
    GENESIS_ENDPOINT_EVENT_BUS = 1
} genesis_endpoint;

/* Copy the URL an endpoint actually listens on (with the bound port for tcp port 0) into buf,
 * NUL-terminated. Returns GENESIS_NOT_FOUND if not listening, GENESIS_OUT_OF_RANGE if buf is
 * too small. */
GENESIS_API int genesis_coordinator_get_url(genesis_coordinator *c, int endpoint, char *buf,
                                            size_t size);

/* Register an in-process component under id (1..128 bytes of [A-Za-z0-9._-]). The struct is
 * copied; arg must stay valid until genesis_coordinator_unregister returns for this id or the
 * coordinator is freed. Returns GENESIS_ALREADY_EXISTS if the id is taken. */
GENESIS_API int genesis_coordinator_register(genesis_coordinator *c, const char *id,
                                             const genesis_component *component);

/* Remove a component (in-process or remote). New requests get NOT_FOUND at once; queued
 * ones fail with UNAVAILABLE. For an in-process component it returns after every running
 * callback of that component has returned, so arg can be freed afterwards; called from one of
 * that component's own callbacks it does not wait. */
GENESIS_API int genesis_coordinator_unregister(genesis_coordinator *c, const char *id);

/* Send a request to a component and wait for the outcome. data may be NULL when len is 0;
 * it is copied. opts may be NULL. On return *out (if out is not NULL) holds the result, also
 * for failures (read its message), unless the return is GENESIS_INVALID_ARGUMENT from bad
 * parameters; free it with genesis_result_free. Returns the result's status. */
GENESIS_API int genesis_coordinator_request(genesis_coordinator *c, const char *target,
                                            const char *type, const void *data, size_t len,
                                            const genesis_call_options *opts, genesis_result **out);

/* Start a request and return at once; cb runs exactly once with the outcome (see
 * genesis_result_fn). Returns GENESIS_OK when the call was started. When it returns an error
 * (bad parameters, stopping, out of memory), cb is never called. */
GENESIS_API int genesis_coordinator_request_async(genesis_coordinator *c, const char *target,
                                                  const char *type, const void *data, size_t len,
                                                  const genesis_call_options *opts,
                                                  genesis_result_fn cb, void *arg);

/* Emit a local event: queued for every in-process component but opts->source, and published
 * on the event bus for remote components and subscribers. Never blocks: a component whose
 * event queue is full loses the event and the drop is counted. Returns GENESIS_OK once the
 * event is queued/published; *delivered and *dropped (each may be NULL) receive how many
 * in-process components queued and dropped it. */
GENESIS_API int genesis_coordinator_emit(genesis_coordinator *c, const char *type, const void *data,
                                         size_t len, const genesis_call_options *opts,
                                         unsigned int *delivered, unsigned int *dropped);

/* Emit an external event: published on the event bus under "external:<type>" for external
 * clients (the gateway pushes it to every WebSocket client but opts->source, so a component
 * relaying a client's message names that client as the source). In-process components do not
 * receive it. Never blocks. Returns GENESIS_OK once published (or when no bus is listening:
 * there is then nobody to lose it). */
GENESIS_API int genesis_coordinator_emit_external(genesis_coordinator *c, const char *type,
                                                  const void *data, size_t len,
                                                  const genesis_call_options *opts);

#define GENESIS_COORDINATOR_STATS_VERSION 1

/* Counters since creation. Monotonic, except components and in_flight (gauges). */
typedef struct genesis_coordinator_stats {
    unsigned int version;         /* set by the caller: GENESIS_COORDINATOR_STATS_VERSION */
    uint64_t requests;            /* requests accepted for routing */
    uint64_t succeeded;           /* ... that ended OK */
    uint64_t failed;              /* ... that ended with any other status */
    uint64_t timed_out;           /* ... of which DEADLINE_EXCEEDED */
    uint64_t rejected;            /* ... of which rejected before reaching a handler */
    uint64_t late_replies;        /* handler replies that arrived after the deadline */
    uint64_t events_emitted;      /* emit calls and Emit envelopes */
    uint64_t events_delivered;    /* events handed to in-process components */
    uint64_t events_dropped;      /* events lost to full component queues */
    uint64_t events_published;    /* events sent on the event bus */
    uint64_t front_door_messages; /* envelopes received on the front door */
    uint64_t malformed;           /* front-door messages that did not decode */
    uint64_t components;          /* currently registered components (gauge) */
    uint64_t in_flight;           /* requests currently being served (gauge) */
    uint64_t listener_restarts;   /* listeners re-created after they stopped accepting */
} genesis_coordinator_stats;

/* Copy the counters into *stats; stats->version must be set by the caller. */
GENESIS_API int genesis_coordinator_get_stats(genesis_coordinator *c,
                                              genesis_coordinator_stats *stats);

/* A status report as JSON (content type "application/json") in a new result. Free it with
 * genesis_result_free. The same document genesis_client_status returns. Fields (new ones may
 * be added; none is removed or renamed):
 *   mode ("NORMAL" | "SAFE" | "EMERGENCY"), mode_forced, unhealthy, version, uptime_ms,
 *   front_door_url, event_bus_url,
 *   stats: {requests, succeeded, failed, timed_out, rejected, events_emitted,
 *           events_delivered, events_dropped, events_published, malformed,
 *           listener_restarts, retries, mode_changes},
 *   components: [{id, remote, health ("UP" | "DOWN"), in_flight, queued, requests, failures,
 *                 events_delivered, events_dropped, instances, urls: [...], ready,
 *                 breaker ("CLOSED" | "OPEN" | "HALF_OPEN" | "FORCED_OPEN" | "DISABLED" |
 *                 "METRICS_ONLY"), succeeded, attempts, retries, fail_fast, breaker_opens,
 *                 breaker_transitions, budget_denied, failure_rate_pct, slow_call_rate_pct
 *                 (-1 below the breaker's minimum calls), slow_calls, concurrency_limit, hedges,
 *                 latency_us: {count, p50, p90, p99, max},
 *                 failures_by_reason: {"<REASON>": n, ...}}] sorted by id.
 * events_delivered/dropped per component count in-process deliveries only: remote components
 * receive events from the bus, where loss shows up as sequence gaps at the subscriber. */
GENESIS_API int genesis_coordinator_status(genesis_coordinator *c, genesis_result **out);

/* Stop: refuse new work (UNAVAILABLE / SHUTTING_DOWN), let in-flight requests finish or reach
 * their deadlines, deliver completion callbacks, close the sockets and join the threads.
 * Returns when all of that is done. Idempotent. Must not be called from a library callback
 * (returns GENESIS_FAILED_PRECONDITION). */
GENESIS_API int genesis_coordinator_stop(genesis_coordinator *c);

/* Stop (if needed) and free. Accepts NULL. No callback runs after it returns. */
GENESIS_API void genesis_coordinator_free(genesis_coordinator *c);

/* ---- Deprecated names ------------------------------------------------------------------- */
/* Old names of the functions above, still exported and behaving the same, so existing
 * binaries and sources keep working; new code uses the name in the message. */
GENESIS_API int genesis_coordinator_stats_get(genesis_coordinator *c,
                                              genesis_coordinator_stats *stats)
    GENESIS_DEPRECATED("use genesis_coordinator_get_stats");
GENESIS_API int genesis_coordinator_url(genesis_coordinator *c, int endpoint, char *buf,
                                        size_t size)
    GENESIS_DEPRECATED("use genesis_coordinator_get_url");

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_COORDINATOR_H */
