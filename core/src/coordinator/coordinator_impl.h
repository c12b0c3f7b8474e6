/* The coordinator's internal state, shared by the files that implement it: coordinator.c
 * (public API and lifecycle), call.c (one routed request), front_door.c (REP contexts),
 * event_bus.c (local delivery and PUB), remote.c (remote components), status_report.c. */
#ifndef GN_COORDINATOR_IMPL_H
#define GN_COORDINATOR_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#include "resilience/breaker.h"
#include "resilience/concurrency_limit.h"
#include "base/common.h"
#include "resilience/fault.h"
#include "genesis/coordinator.h"
#include "genesis/resilience.h"
#include "base/latency.h"
#include "resilience/mode.h"
#include "resilience/retry_budget.h"
#include "base/objects.h"
#include "base/registry.h"
#include "wire/wire.h"
#include "base/worker_pool.h"

typedef struct gn_front_door gn_front_door;
typedef struct gn_remote gn_remote;

enum gn_component_kind { GN_INPROC = 0, GN_REMOTE = 1 };

/* A registered component. Reference counted: the registry holds one reference, every call
 * or event routed to it holds one. */
typedef struct gn_component {
    atomic_uint refs;
    int kind;
    char *id;
    struct genesis_coordinator *co;
    atomic_bool removed;

    /* in-process */
    genesis_component callbacks;
    gn_lane requests; /* limit max_concurrency, bounded queue */
    gn_lane events;   /* limit 1: in order, bounded queue */

    /* remote */
    gn_remote *remote;

    gn_task free_task; /* deferred destruction (see gn_component_release) */

    atomic_uint_fast64_t n_requests;
    atomic_uint_fast64_t n_failures;
    atomic_uint_fast64_t n_events_delivered;
    atomic_uint_fast64_t n_events_dropped;

    /* resilience (policy.c, call.c, breaker_control.c, component_stats.c, ...) */
    pthread_mutex_t policy_lock; /* guards policy, own_policy */
    genesis_policy policy;       /* in force; copied by each call at its start */
    bool own_policy;             /* set for this id, not inherited from the default */
    gn_fault_state fault;        /* injected faults (in-process components) */
    gn_breaker breaker;
    gn_retry_budget budget;
    gn_latency latency;
    atomic_uint stuck; /* handlers still running past their per-try timer */
    /* active probes (breaker_control.c; tick_* only on the health tick's thread) */
    atomic_bool probing;    /* a probe is in flight */
    bool tick_half_open;    /* HALF_OPEN at the previous tick */
    uint64_t tick_requests; /* n_requests at the previous tick */
    atomic_uint_fast64_t n_active_probes;
    atomic_uint_fast64_t n_hedges, n_hedge_wins;
    gn_climit climit; /* adaptive concurrency limit (policy adaptive_concurrency) */
    atomic_uint_fast64_t n_succeeded, n_attempts, n_retries, n_budget_denied;
    atomic_uint_fast64_t n_by_reason[GENESIS_REASON_SLOTS];
} gn_component;

gn_component *gn_component_new(struct genesis_coordinator *co, const char *id, int kind);
void gn_component_retain(void *comp);
void gn_component_release(gn_component *comp);

struct genesis_coordinator {
    genesis_coordinator_options opts;
    gn_logger log;
    gn_registry *registry;
    gn_pool *pool;
    struct gn_deadlines *deadlines; /* per-try timers of in-process attempts (deadline.h) */
    int64_t started_ms;
    char instance_id[40]; /* publisher id for bus sequence numbers */

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t drained_cv;
    bool listening;
    bool stopping;
    bool stopped;
    atomic_uint in_flight; /* routed calls not yet completed (atomic: the request path) */
    atomic_bool draining;  /* stopping, readable without the lock */
    char front_door_url[256];
    char event_bus_url[256];

    gn_front_door *front_door;
    struct gn_guard *guard; /* re-creates wedged listeners (listener_guard.h) */
    nng_socket bus;
    nng_listener bus_listener;
    bool bus_open;
    atomic_uint_fast64_t bus_sequence[2];   /* per scope: local, external */
    atomic_uint_fast64_t directed_sequence; /* targeted external events (gn_emit_to) */
    nng_aio *health_timer;

    atomic_uint_fast64_t n_requests, n_succeeded, n_failed, n_timed_out, n_rejected;
    atomic_uint_fast64_t n_late_replies;
    atomic_uint_fast64_t n_events_emitted, n_events_delivered, n_events_dropped;
    atomic_uint_fast64_t n_events_published;
    atomic_uint_fast64_t n_front_door_messages, n_malformed;
    atomic_uint_fast64_t n_listener_restarts;
    atomic_uint_fast64_t n_retries, n_mode_changes;
    /* Accepted registrations of remote instances, numbered 1, 2, ... (remote.c): lets a
     * supervisor tell a new incarnation's registration from a predecessor's. */
    atomic_uint_fast64_t registration_seq;
    /* Bumped after every breaker or mode transition took effect; the status report reads it
     * before any state and each transition event carries its own, so a reader can tell which
     * of the two is newer (with instance_id as the epoch: it starts at 0 again). */
    atomic_uint_fast64_t state_version;

    /* resilience (policy.c, degradation.c) */
    pthread_mutex_t policy_lock; /* guards default_policy and the table of own policies */
    genesis_policy default_policy;
    struct gn_policy_entry *policies; /* own policies by id, registered or not */
    size_t n_policies, cap_policies;
    char **critical_types;
    size_t n_critical_types;
    pthread_mutex_t mode_lock; /* serialises mode evaluation and overrides */
    gn_mode_state mode;
    gn_mode_config mode_cfg;
    atomic_int mode_now; /* gn_mode_state.current, read lock-free on the request path */
    atomic_uint_fast64_t rng_state;

    struct gn_checkpointer *checkpointer; /* checkpoint.h: store, writer thread, interval */
    struct gn_cluster *cluster;           /* cluster/cluster.h; NULL = a single node */
    struct gn_recovery_hooks *hooks;      /* recovery_hooks.h: admin prefixes, child reports */
    struct gn_tls *tls; /* tls.h: mutual TLS for tls+tcp:// listeners and dialers; NULL = none */
};

/* ---- resilience (policy.c, clock.c, component_health.c, degradation.c, breaker_control.c,
 * component_stats.c, fault_injection.c) ----------------------------------------------- */

/* The coordinator's clock (injectable) in ms, and a 64-bit random number. */
int64_t gn_clock(genesis_coordinator *co);
uint64_t gn_random(genesis_coordinator *co);

/* Set up the defaults and tables from the options; free them. */
int gn_resilience_init(genesis_coordinator *co, const genesis_coordinator_options *o);
void gn_resilience_free(genesis_coordinator *co);
/* Initialise / destroy a component's resilience state (policy from the table or default). */
void gn_component_resilience_init(gn_component *comp);
void gn_component_resilience_destroy(gn_component *comp);
/* A caller's policy of any known version as a full current one (later fields defaulted).
 * GENESIS_INVALID_ARGUMENT (named) for an unknown version. */
int gn_policy_upgrade(const genesis_policy *in, genesis_policy *out);

/* Copy the component's policy (short lock). */
void gn_component_policy(gn_component *comp, genesis_policy *out);
/* Effective criticality of a request: CRITICAL for the configured critical types. */
int gn_effective_criticality(genesis_coordinator *co, const char *type, int criticality);
/* Publish a breaker transition (event + log + health) if one happened. */
void gn_breaker_publish(gn_component *comp, const gn_breaker_transition *t);
/* Health of one component: remote instance alive, breaker not open, fewer than half its slots
 * held by handlers stuck past their per-try timer, no injected crash. */
bool gn_component_healthy(gn_component *comp);
/* Run an operator command (admin.c); never NULL except when out of memory. */
genesis_result *gn_admin_execute(genesis_coordinator *co, const char *command, char **args,
                                 size_t nargs);
/* EMERGENCY drops non-critical events (counted as dropped). */
bool gn_mode_admits_event(genesis_coordinator *co, int criticality);
/* The in-flight limit in force: the adaptive limit when the policy enables one, else
 * max_concurrency. */
unsigned int gn_component_concurrency_limit(gn_component *comp, const genesis_policy *p);

/* Fill *s (every field of the current version) from a component the caller holds. */
void gn_component_stats_fill(gn_component *comp, genesis_component_stats *s);
/* The request type of active probes: a component's handler sees it when its breaker is
 * half-open and no traffic came; any answer its policy does not count as a failure is a
 * success. */
#define GN_PROBE_TYPE "genesis.probe"

/* Periodic: re-evaluate the mode from component health (called by the health tick). */
void gn_mode_tick(genesis_coordinator *co);

/* Count the registered components and the unhealthy ones among them (component_health.c). */
void gn_count_health(genesis_coordinator *co, unsigned int *unhealthy, unsigned int *total);

/* Periodic (the health tick, before the mode): end open times without traffic, probe idle
 * half-open components (breaker_control.c). */
void gn_breakers_tick(genesis_coordinator *co);

/* ---- checkpoints (checkpoint_host.c) ---------------------------------------------------- */

/* Open co->checkpointer with the coordinator as its host (checkpoint/checkpoint.h). */
int gn_coordinator_checkpoint_open(genesis_coordinator *co, char *why, size_t why_size);
/* Restore an in-process component from its newest good checkpoint (see
 * gn_checkpoint_restore). */
int gn_component_restore(gn_component *comp);

/* ---- calls (call.c) -------------------------------------------------------------------- */

/* How a routed call reports its outcome. inline_cb runs on whatever thread completes the call
 * (a worker or an NNG thread) and must not block; otherwise the callback is dispatched to a
 * worker thread. */
typedef struct gn_call_completion {
    genesis_result_fn fn;
    void *arg;
    bool run_inline;
} gn_call_completion;

/* Parameters of a call being routed (borrowed; copied as needed). */
typedef struct gn_call_params {
    const char *target;
    const char *type;
    const void *data;
    size_t len;
    const char *content_type;
    const char *source;
    int criticality;
    uint32_t timeout_ms; /* 0 = default */
    uint64_t request_id; /* 0 = assign */
    bool idempotent;     /* safe to retry after it may have reached a handler */
    bool internal;       /* the coordinator's own (a hedge, an active probe): not counted
                            or accounted as a request; never hedged */
    atomic_bool *cancel; /* set: the request was answered elsewhere; skip what is pending */
} gn_call_params;

/* Route a request. Returns GENESIS_OK when started (the completion will run exactly once,
 * possibly before this returns), or an error when it could not start (no completion). Every
 * routing failure after a successful start (unknown target, full bulkhead, ...) is reported
 * through the completion, so front-door callers get a reply with its reason. */
int gn_call_route(genesis_coordinator *co, const gn_call_params *params,
                  gn_call_completion completion);

/* Hedging (hedge.c): when the policy hedges this idempotent request, a completion that joins
 * it with a later hedged copy (and *cancel, the flag the primary request must watch);
 * otherwise user unchanged and *cancel NULL. */
gn_call_completion gn_hedge_start(genesis_coordinator *co, gn_component *comp,
                                  const genesis_policy *pol, const gn_call_params *p,
                                  gn_call_completion user, atomic_bool **cancel);

/* Run a completion: inline, or on a worker (see gn_call_completion). No accounting. */
void gn_deliver(genesis_coordinator *co, gn_call_completion completion, genesis_result *res);

/* Account, deliver and leave: completes with a failure before a call object exists. */
void gn_complete_now(genesis_coordinator *co, gn_call_completion completion, genesis_result *res);

/* Account a finished call in the coordinator's counters and the drain count. */
void gn_call_account(genesis_coordinator *co, gn_component *comp, const genesis_result *res);

/* Admission to the in-flight count; false when the coordinator is stopping. */
bool gn_coordinator_enter(genesis_coordinator *co);
void gn_coordinator_leave(genesis_coordinator *co);

/* ---- event bus (event_bus.c) ----------------------------------------------------------- */

int gn_bus_listen(genesis_coordinator *co, const char *url);
void gn_bus_close(genesis_coordinator *co);
int gn_bus_guard(genesis_coordinator *co, struct gn_guard *guard);
/* Deliver to in-process components except source, and publish on the bus. */
int gn_emit(genesis_coordinator *co, const char *type, const void *data, size_t len,
            const char *content_type, const char *source, int scope, unsigned int *delivered,
            unsigned int *dropped, uint64_t *sequence, int *reason);
/* gn_emit with the caller's event id (NULL = one of its own): in cluster mode the id
 * de-duplicates across the cluster. */
int gn_emit_id(genesis_coordinator *co, const char *id, const char *type, const void *data,
               size_t len, const char *content_type, const char *source, int scope,
               unsigned int *delivered, unsigned int *dropped, uint64_t *sequence, int *reason);
/* Cluster mode: start reading the cluster's events (after the coordinator is made) and stop
 * (before components retire; no delivery follows). No-ops without a cluster. */
int gn_bus_cluster_start(genesis_coordinator *co, char *why, size_t why_size);
/* True in cluster mode: an emit then waits for JetStream (the front door runs it on workers). */
bool gn_bus_clustered(genesis_coordinator *co);
void gn_bus_cluster_stop(genesis_coordinator *co);
/* Deliver an external event to the one component target: in-process through on_event
 * (is_external 1), remote on the bus under "to:<target>:<type>". NOT_FOUND when no such id. */
int gn_emit_to(genesis_coordinator *co, const char *target, const char *type, const void *data,
               size_t len, const char *content_type, const char *source, unsigned int *delivered,
               unsigned int *dropped, uint64_t *sequence, int *reason);
/* Publish a coordinator event (JSON; CRITICAL: published in every mode). */
void gn_publish_system(genesis_coordinator *co, const char *type, const char *json);
/* Fail and free the queued (never delivered) events of a closed events lane. */
void gn_events_discard(gn_fifo *list);

/* ---- front door (front_door.c) --------------------------------------------------------- */

int gn_front_door_listen(genesis_coordinator *co, const char *url, gn_front_door **out);
/* Hand the front door's listener to the listener guard. */
int gn_front_door_guard(gn_front_door *fd, struct gn_guard *guard);
/* Close the socket: in-flight replies are abandoned by NNG, receives stop. */
void gn_front_door_close(gn_front_door *fd);
/* Connections open now and the cap (both 0 for NULL). Any thread. */
void gn_front_door_connections(gn_front_door *fd, unsigned int *open, unsigned int *cap);
void gn_front_door_free(gn_front_door *fd);

/* ---- remote components (remote.c) ------------------------------------------------------ */

/* Handle a Register / Heartbeat / Unregister envelope; fills the reply fields. */
int gn_remote_register(genesis_coordinator *co, const Genesis__V1__Register *reg, int *reason,
                       char *why, size_t why_size);
int gn_remote_heartbeat(genesis_coordinator *co, const Genesis__V1__Heartbeat *hb, int *reason,
                        char *why, size_t why_size);
int gn_remote_unregister(genesis_coordinator *co, const Genesis__V1__Unregister *un, int *reason,
                         char *why, size_t why_size);
/* How far an attempt got, which decides whether it may be retried. */
enum gn_attempt_stage {
    GN_ATTEMPT_REJECTED = 0, /* refused by the bulkhead: never ran, not a component failure */
    GN_ATTEMPT_UNSENT = 1,   /* failed before any handler could see it (retry is safe) */
    GN_ATTEMPT_REACHED = 2   /* a handler may have run it */
};
/* Outcome of one attempt; res is owned by the callee. */
typedef void (*gn_attempt_fn)(void *arg, genesis_result *res, int stage);

/* One attempt at a remote component: its bulkhead, a live instance, then the request with
 * timeout_ms as its budget (which travels to the handler). done runs exactly once, possibly
 * before this returns, on the calling or an NNG thread; it must not block. */
void gn_remote_attempt(genesis_coordinator *co, gn_component *comp,
                       const struct genesis_request *req, uint32_t timeout_ms, unsigned int attempt,
                       bool idempotent, unsigned int bulkhead_limit, gn_attempt_fn done, void *arg);
/* Periodic health sweep: instances that missed their heartbeats are dropped. */
void gn_remote_sweep(genesis_coordinator *co);
bool gn_remote_is_up(gn_component *comp);
/* The coordinator's registration number of the component's latest accepted registration. */
uint64_t gn_remote_last_registration(gn_component *comp);
unsigned int gn_remote_in_flight(gn_component *comp);
/* Instances and their URLs, for status. urls receives up to max borrowed-then-copied
 * strings which the caller frees. */
unsigned int gn_remote_describe(gn_component *comp, char **urls, unsigned int max);
void gn_remote_free(gn_remote *remote);

/* ---- status (status_report.c) ------------------------------------------------------------ */

/* Fill a StatusReport (free with gn_status_report_clear). */
int gn_status_report_build(genesis_coordinator *co, Genesis__V1__StatusReport *report);
void gn_status_report_clear(Genesis__V1__StatusReport *report);

#endif /* GN_COORDINATOR_IMPL_H */
