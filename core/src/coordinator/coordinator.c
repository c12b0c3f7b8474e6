/* The coordinator's public API: lifecycle, registration of in-process components, requests,
 * emits, stats and status. Routing lives in call.c, sockets in front_door.c / event_bus.c /
 * remote.c. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/component.h"
#include "base/options.h"
#include "checkpoint/checkpoint.h"
#include "cluster/cluster.h"
#include "base/completion.h"
#include "coordinator/coordinator_impl.h"
#include "wire/status_json.h"
#include "base/deadline.h"
#include "wire/listener_guard.h"
#include "coordinator/recovery_hooks.h"
#include "wire/tls.h"

#define DEFAULT_WORKERS             4u
#define DEFAULT_MAX_WORKERS         256u
#define DEFAULT_FRONT_DOOR_CONTEXTS 1024u
#define DEFAULT_MAX_QUEUED          50u
#define DEFAULT_HEARTBEAT_MISSES    3u
#define DEFAULT_MAX_COMPONENTS      4096u
#define LISTENER_PROBE_INTERVAL_MS  3000u

/* The bytes of each options version, oldest first. */
static const size_t OPTIONS_SIZES[GENESIS_COORDINATOR_OPTIONS_VERSION] = {
    offsetof(genesis_coordinator_options, checkpoint_store), /* 1 */
    offsetof(genesis_coordinator_options, tls_ca_file),      /* 2 */
    sizeof(genesis_coordinator_options),                     /* 3 */
};

int genesis_coordinator_options_init(genesis_coordinator_options *opts, unsigned int version)
{
    gn_clear_error();
    genesis_coordinator_options o;
    memset(&o, 0, sizeof(o));
    o.worker_threads = DEFAULT_WORKERS;
    o.max_worker_threads = DEFAULT_MAX_WORKERS;
    o.front_door_contexts = DEFAULT_FRONT_DOOR_CONTEXTS;
    o.max_message_size = GN_DEFAULT_MAX_MESSAGE;
    o.default_timeout_ms = GN_DEFAULT_TIMEOUT_MS;
    o.max_concurrency = GN_DEFAULT_MAX_CONCURRENCY;
    o.max_queued_requests = DEFAULT_MAX_QUEUED;
    o.event_queue_depth = GN_DEFAULT_EVENT_QUEUE;
    o.max_components = DEFAULT_MAX_COMPONENTS;
    o.heartbeat_interval_ms = GN_DEFAULT_HEARTBEAT_MS;
    o.heartbeat_misses = DEFAULT_HEARTBEAT_MISSES;
    o.log_level = GENESIS_LOG_WARN; /* a library is quiet unless asked */
    o.checkpoint_interval_ms = GN_DEFAULT_CHECKPOINT_INTERVAL_MS;
    o.checkpoint_generations = GN_DEFAULT_CHECKPOINT_GENERATIONS;
    return gn_options_init(opts, version, &o, OPTIONS_SIZES, GENESIS_COORDINATOR_OPTIONS_VERSION,
                           "coordinator options");
}

/* Zero means "default" for every numeric option, so a caller that only sets one field still
 * gets sane values for the rest. */
static void apply_defaults(genesis_coordinator_options *o)
{
#define DEFAULT(field, value)                                                                      \
    if (o->field == 0)                                                                             \
    o->field = (value)
    DEFAULT(worker_threads, DEFAULT_WORKERS);
    DEFAULT(max_worker_threads, DEFAULT_MAX_WORKERS);
    DEFAULT(front_door_contexts, DEFAULT_FRONT_DOOR_CONTEXTS);
    DEFAULT(max_message_size, GN_DEFAULT_MAX_MESSAGE);
    DEFAULT(default_timeout_ms, GN_DEFAULT_TIMEOUT_MS);
    DEFAULT(max_concurrency, GN_DEFAULT_MAX_CONCURRENCY);
    DEFAULT(max_queued_requests, DEFAULT_MAX_QUEUED);
    DEFAULT(event_queue_depth, GN_DEFAULT_EVENT_QUEUE);
    DEFAULT(max_components, DEFAULT_MAX_COMPONENTS);
    DEFAULT(heartbeat_interval_ms, GN_DEFAULT_HEARTBEAT_MS);
    DEFAULT(heartbeat_misses, DEFAULT_HEARTBEAT_MISSES);
    DEFAULT(checkpoint_interval_ms, GN_DEFAULT_CHECKPOINT_INTERVAL_MS);
    DEFAULT(checkpoint_generations, GN_DEFAULT_CHECKPOINT_GENERATIONS);
#undef DEFAULT
    if (o->max_worker_threads < o->worker_threads)
        o->max_worker_threads = o->worker_threads;
}

/* ---- components -------------------------------------------------------------------------- */

void gn_component_retain(void *comp)
{
    atomic_fetch_add(&((gn_component *)comp)->refs, 1);
}

static void component_destroy(gn_task *task)
{
    gn_component *comp = (gn_component *)((char *)task - offsetof(gn_component, free_task));
    gn_remote_free(comp->remote);
    gn_component_resilience_destroy(comp);
    free(comp->id);
    free(comp);
}

static void component_no_op(gn_task *task)
{
    (void)task;
}

void gn_component_release(gn_component *comp)
{
    if (comp == NULL)
        return;
    unsigned int refs = atomic_fetch_sub(&comp->refs, 1);
    GN_ASSERT(refs > 0); /* an underflow would free the component while it is in use */
    if (refs != 1)
        return;
    /* The last reference to a remote component may drop inside an NNG callback of its own
     * socket, where closing that socket could wait for itself: close it on a worker. */
    comp->free_task.run = component_no_op; /* a task must outlive run(): free in finish() */
    comp->free_task.finish = component_destroy;
    if (comp->remote == NULL || gn_pool_submit(comp->co->pool, &comp->free_task) != GENESIS_OK)
        component_destroy(&comp->free_task);
}

gn_component *gn_component_new(genesis_coordinator *co, const char *id, int kind)
{
    gn_component *comp = calloc(1, sizeof(*comp));
    if (comp == NULL)
        return NULL;
    comp->id = gn_strdup(id);
    if (comp->id == NULL) {
        free(comp);
        return NULL;
    }
    atomic_init(&comp->refs, 1);
    comp->kind = kind;
    comp->co = co;
    gn_component_resilience_init(comp);
    gn_lane_init(&comp->requests, co->pool, comp->policy.max_concurrency, comp->policy.max_queued);
    gn_lane_init(&comp->events, co->pool, 1, co->opts.event_queue_depth);
    return comp;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void health_tick(void *arg)
{
    genesis_coordinator *co = arg;
    if (nng_aio_result(co->health_timer) != 0)
        return; /* cancelled: stopping */
    gn_remote_sweep(co);
    gn_breakers_tick(co);
    gn_mode_tick(co);
    nng_sleep_aio((nng_duration)co->opts.heartbeat_interval_ms, co->health_timer);
}

static int coordinator_new(genesis_coordinator **out, const genesis_coordinator_options *opts,
                           const genesis_cluster_options *cluster)
{
    gn_clear_error();
    if (out == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "coordinator_new: out is NULL");
    *out = NULL;
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    int rv = gn_options_merge(&o, opts, OPTIONS_SIZES, GENESIS_COORDINATOR_OPTIONS_VERSION,
                              "coordinator options");
    if (rv != GENESIS_OK)
        return rv;
    o.version = GENESIS_COORDINATOR_OPTIONS_VERSION;
    apply_defaults(&o);
    gn_tls *tls = NULL;
    int tls_rv = GN_TLS_FROM_OPTIONS(&tls, &o, "coordinator");
    if (tls_rv != GENESIS_OK)
        return tls_rv; /* the message names the file and the reason */

    genesis_coordinator *co = calloc(1, sizeof(*co));
    if (co == NULL) {
        gn_tls_free(tls);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "coordinator_new: out of memory");
    }
    co->opts = o;
    co->tls = tls;
    co->log = (gn_logger){.level = o.log_level, .fn = o.log, .arg = o.log_arg};
    co->started_ms = gn_now_ms();
    snprintf(co->instance_id, sizeof(co->instance_id), "%ld-%" PRId64, (long)getpid(),
             gn_wall_ms());
    pthread_mutex_init(&co->lock, NULL);
    pthread_cond_init(&co->drained_cv, NULL);
    rv = gn_resilience_init(co, &o);
    if (rv != GENESIS_OK) {
        char why[256];
        snprintf(why, sizeof(why), "%s", genesis_last_error());
        gn_resilience_free(co);
        gn_tls_free(co->tls);
        pthread_cond_destroy(&co->drained_cv);
        pthread_mutex_destroy(&co->lock);
        free(co);
        return gn_fail(rv, "%s", why);
    }
    co->registry = gn_registry_new(gn_component_retain);
    co->pool = gn_pool_new(o.worker_threads, o.max_worker_threads);
    co->deadlines = gn_deadlines_new();
    co->hooks = gn_recovery_hooks_new();
    int err = co->registry != NULL && co->pool != NULL && co->deadlines != NULL && co->hooks != NULL
                  ? 0
                  : NNG_ENOMEM;
    if (err == 0)
        err = nng_aio_alloc(&co->health_timer, health_tick, co);
    char why[320] = "";
    if (err == 0 && cluster != NULL)
        rv = gn_cluster_open(&co->cluster, cluster, o.checkpoint_generations, o.max_message_size,
                             &co->log, why, sizeof(why));
    if (err == 0 && rv == GENESIS_OK)
        rv = gn_coordinator_checkpoint_open(co, why, sizeof(why));
    if (err == 0 && rv == GENESIS_OK)
        rv = gn_bus_cluster_start(co, why, sizeof(why));
    if (err != 0 || rv != GENESIS_OK) {
        gn_bus_cluster_stop(co);
        gn_checkpoint_free(co->checkpointer);
        gn_cluster_close(co->cluster);
        nng_aio_free(co->health_timer);
        gn_recovery_hooks_free(co->hooks);
        gn_resilience_free(co);
        gn_pool_free(co->pool);
        gn_deadlines_free(co->deadlines);
        gn_registry_free(co->registry);
        gn_tls_free(co->tls);
        pthread_cond_destroy(&co->drained_cv);
        pthread_mutex_destroy(&co->lock);
        free(co);
        if (rv != GENESIS_OK)
            return gn_fail(rv, "coordinator_new: %s", why);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "coordinator_new: cannot allocate (%s)",
                       nng_strerror(err));
    }
    /* Health and modes are watched from the start, also without sockets. */
    nng_sleep_aio((nng_duration)co->opts.heartbeat_interval_ms, co->health_timer);
    if (co->cluster != NULL)
        gn_log(&co->log, GENESIS_LOG_INFO, "cluster: %s", gn_cluster_describe(co->cluster));
    *out = co;
    return GENESIS_OK;
}

int genesis_coordinator_new(genesis_coordinator **out, const genesis_coordinator_options *opts)
{
    return coordinator_new(out, opts, NULL);
}

int genesis_coordinator_new_clustered(genesis_coordinator **out,
                                      const genesis_coordinator_options *opts,
                                      const genesis_cluster_options *cluster)
{
    gn_clear_error();
    if (out == NULL || cluster == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "coordinator_new_clustered: NULL argument");
    *out = NULL;
    if (opts != NULL && opts->version >= 2 && opts->checkpoint_store != NULL &&
        opts->checkpoint_store[0] != '\0')
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "coordinator_new_clustered: checkpoint_store '%s' and a cluster exclude "
                       "each other (a node keeps its checkpoints in the cluster)",
                       opts->checkpoint_store);
    return coordinator_new(out, opts, cluster);
}

int genesis_coordinator_listen(genesis_coordinator *co, const char *front_door_url,
                               const char *event_bus_url)
{
    gn_clear_error();
    if (co == NULL || front_door_url == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "listen: NULL coordinator or URL");
    pthread_mutex_lock(&co->lock);
    bool busy = co->listening || co->stopping;
    co->listening = true;
    pthread_mutex_unlock(&co->lock);
    if (busy)
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "listen: the coordinator is already listening or stopping");
    int rv = gn_front_door_listen(co, front_door_url, &co->front_door);
    if (rv == GENESIS_OK && event_bus_url != NULL) {
        rv = gn_bus_listen(co, event_bus_url);
        if (rv != GENESIS_OK) {
            gn_front_door_close(co->front_door);
            gn_front_door_free(co->front_door);
            co->front_door = NULL;
        }
    }
    if (rv != GENESIS_OK) {
        pthread_mutex_lock(&co->lock);
        co->listening = false;
        pthread_mutex_unlock(&co->lock);
        return rv;
    }
    co->guard = gn_guard_new(&co->log, LISTENER_PROBE_INTERVAL_MS, &co->n_listener_restarts);
    if (co->guard != NULL) {
        gn_front_door_guard(co->front_door, co->guard);
        if (co->bus_open)
            gn_bus_guard(co, co->guard);
    } else {
        gn_log(&co->log, GENESIS_LOG_WARN, "listener guard not started: out of resources");
    }
    gn_log(&co->log, GENESIS_LOG_INFO, "listening: front door %s, event bus %s", co->front_door_url,
           co->bus_open ? co->event_bus_url : "(none)");
    gn_cluster_set_endpoints(co->cluster, co->front_door_url, co->event_bus_url);
    return GENESIS_OK;
}

int genesis_coordinator_get_url(genesis_coordinator *co, int endpoint, char *buf, size_t size)
{
    gn_clear_error();
    if (co == NULL || buf == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "url: NULL argument");
    const char *url = endpoint == GENESIS_ENDPOINT_FRONT_DOOR  ? co->front_door_url
                      : endpoint == GENESIS_ENDPOINT_EVENT_BUS ? co->event_bus_url
                                                               : NULL;
    if (url == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "url: unknown endpoint %d", endpoint);
    if (url[0] == '\0')
        return gn_fail(GENESIS_NOT_FOUND, "url: endpoint %d is not listening", endpoint);
    if (strlen(url) >= size)
        return gn_fail(GENESIS_OUT_OF_RANGE, "url: buffer of %zu bytes is too small", size);
    memcpy(buf, url, strlen(url) + 1);
    return GENESIS_OK;
}

/* Lock-free on the request path: count first, then check draining (both sequentially
 * consistent), so either stop sees the count or the caller sees draining and backs out. The
 * last one out while draining wakes stop under the lock, which stop holds while it checks. */
bool gn_coordinator_enter(genesis_coordinator *co)
{
    atomic_fetch_add(&co->in_flight, 1);
    if (!atomic_load(&co->draining))
        return true;
    gn_coordinator_leave(co);
    return false;
}

void gn_coordinator_leave(genesis_coordinator *co)
{
    unsigned int before = atomic_fetch_sub(&co->in_flight, 1);
    if (!GN_CHECK(before > 0)) {
        atomic_fetch_add(&co->in_flight, 1);
        return;
    }
    if (before == 1 && atomic_load(&co->draining)) {
        pthread_mutex_lock(&co->lock);
        pthread_cond_broadcast(&co->drained_cv);
        pthread_mutex_unlock(&co->lock);
    }
}

/* Close a component's lanes, fail what was still queued, and wait for running callbacks.
 * noinline: inlined into genesis_coordinator_stop, GCC 12 with sanitizers reports a false
 * -Wstringop-overflow on the atomic store. */
__attribute__((noinline)) static void retire_component(gn_component *comp)
{
    atomic_store(&comp->removed, true);
    gn_fault_release(&comp->fault); /* handlers hung by an injected fault return */
    if (comp->kind == GN_INPROC) {
        gn_fifo queued = gn_lane_close(&comp->requests);
        for (gn_task *t; (t = gn_task_pop(&queued)) != NULL;) {
            t->run(t); /* sees comp->removed: completes UNAVAILABLE */
            if (t->finish != NULL)
                t->finish(t);
        }
        gn_fifo events = gn_lane_close(&comp->events);
        gn_events_discard(&events);
        gn_lane_wait_idle(&comp->requests);
        gn_lane_wait_idle(&comp->events);
    }
}

int genesis_coordinator_register(genesis_coordinator *co, const char *id,
                                 const genesis_component *component)
{
    gn_clear_error();
    if (co == NULL || component == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "register: NULL coordinator or component");
    if (component->version < 1 || component->version > GENESIS_COMPONENT_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "register: component version %u is unknown",
                       component->version);
    if (component->on_request == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "register: on_request is required");
    if (!gn_valid_id(id))
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "register: invalid component id (1..%u bytes of [A-Za-z0-9._-])",
                       GN_MAX_ID_LEN);
    pthread_mutex_lock(&co->lock);
    bool stopping = co->stopping;
    pthread_mutex_unlock(&co->lock);
    if (stopping)
        return gn_fail(GENESIS_UNAVAILABLE, "register: the coordinator is stopping");
    if (gn_registry_count(co->registry) >= co->opts.max_components)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "register: %u components are registered (max)",
                       co->opts.max_components);
    gn_component *comp = gn_component_new(co, id, GN_INPROC);
    if (comp == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "register: out of memory");
    gn_component_copy(&comp->callbacks, component);
    gn_component *taken = gn_registry_lookup(co->registry, id);
    gn_component_release(taken);
    /* Restore before the component is visible: its first request sees the restored state. */
    int rv = taken == NULL ? gn_component_restore(comp) : GENESIS_OK;
    if (rv != GENESIS_OK) {
        gn_component_release(comp);
        return rv;
    }
    rv = gn_registry_insert(co->registry, id, comp);
    if (rv != GENESIS_OK) {
        gn_component_release(comp);
        if (rv == GENESIS_ALREADY_EXISTS)
            return gn_fail(rv, "register: component '%s' is already registered", id);
        return gn_fail(rv, "register: cannot insert '%s'", id);
    }
    gn_log(&co->log, GENESIS_LOG_INFO, "component %s registered (in-process)", id);
    return GENESIS_OK;
}

int genesis_coordinator_unregister(genesis_coordinator *co, const char *id)
{
    gn_clear_error();
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "unregister: NULL argument");
    gn_component *comp = gn_registry_remove(co->registry, id, NULL);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "unregister: no component '%s'", id);
    retire_component(comp);
    gn_log(&co->log, GENESIS_LOG_INFO, "component %s unregistered", id);
    gn_component_release(comp);
    return GENESIS_OK;
}

/* ---- requests ---------------------------------------------------------------------------- */

static int fill_params(gn_call_params *p, const char *target, const char *type, const void *data,
                       size_t len, const genesis_call_options *opts)
{
    if (opts != NULL && !gn_call_options_version_ok(opts->version))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "call options version %u is unknown",
                       opts->version);
    if (target == NULL || type == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "request: NULL target, type or data");
    *p = (gn_call_params){.target = target, .type = type, .data = data, .len = len};
    if (opts != NULL) {
        p->content_type = opts->content_type;
        p->source = opts->source;
        p->criticality = opts->criticality;
        p->timeout_ms = opts->timeout_ms;
        p->idempotent = opts->idempotent != 0;
        p->request_id = opts->version >= 2 ? opts->request_id : 0;
    }
    return GENESIS_OK;
}

int genesis_coordinator_request(genesis_coordinator *co, const char *target, const char *type,
                                const void *data, size_t len, const genesis_call_options *opts,
                                genesis_result **out)
{
    gn_clear_error();
    if (out != NULL)
        *out = NULL;
    gn_call_params p;
    int rv = co == NULL ? gn_fail(GENESIS_INVALID_ARGUMENT, "request: NULL coordinator")
                        : fill_params(&p, target, type, data, len, opts);
    if (rv != GENESIS_OK)
        return rv;
    gn_waiter w; /* this frame outlives the call: no allocation */
    gn_waiter_init(&w);
    genesis_result *res = NULL;
    rv = gn_call_route(co, &p, (gn_call_completion){gn_waiter_wake, &w, true});
    if (rv == GENESIS_OK) {
        res = gn_waiter_wait_on(&w);
        rv = genesis_result_status(res);
        if (rv != GENESIS_OK)
            gn_fail(rv, "%s", genesis_result_message(res));
    } else {
        gn_waiter_destroy(&w);
        res = gn_result_new(rv, GENESIS_REASON_SHUTTING_DOWN, genesis_last_error(), NULL, 0, NULL);
    }
    if (out != NULL)
        *out = res;
    else
        genesis_result_free(res);
    return rv;
}

int genesis_coordinator_request_async(genesis_coordinator *co, const char *target, const char *type,
                                      const void *data, size_t len,
                                      const genesis_call_options *opts, genesis_result_fn cb,
                                      void *arg)
{
    gn_clear_error();
    gn_call_params p;
    int rv = co == NULL || cb == NULL
                 ? gn_fail(GENESIS_INVALID_ARGUMENT, "request_async: NULL coordinator or cb")
                 : fill_params(&p, target, type, data, len, opts);
    if (rv != GENESIS_OK)
        return rv;
    return gn_call_route(co, &p, (gn_call_completion){cb, arg, false});
}

static int coordinator_emit(genesis_coordinator *co, int scope, const char *type, const void *data,
                            size_t len, const genesis_call_options *opts, unsigned int *delivered,
                            unsigned int *dropped)
{
    gn_clear_error();
    if (co == NULL || type == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "emit: NULL coordinator, type or data");
    if (opts != NULL && !gn_call_options_version_ok(opts->version))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "call options version %u is unknown",
                       opts->version);
    int crit = opts != NULL ? opts->criticality : GENESIS_CRITICALITY_DEFAULT;
    if (!gn_mode_admits_event(co, crit))
        return gn_fail(GENESIS_UNAVAILABLE, "emit: mode EMERGENCY drops non-critical events");
    if (!gn_coordinator_enter(co))
        return gn_fail(GENESIS_UNAVAILABLE, "emit: the coordinator is stopping");
    int reason; /* the public emit reports the reason through genesis_last_error() */
    int rv = gn_emit(co, type, data, len, opts != NULL ? opts->content_type : NULL,
                     opts != NULL ? opts->source : NULL, scope, delivered, dropped, NULL, &reason);
    gn_coordinator_leave(co);
    return rv;
}

int genesis_coordinator_emit(genesis_coordinator *co, const char *type, const void *data,
                             size_t len, const genesis_call_options *opts, unsigned int *delivered,
                             unsigned int *dropped)
{
    return coordinator_emit(co, GENESIS__V1__SCOPE__SCOPE_LOCAL, type, data, len, opts, delivered,
                            dropped);
}

int genesis_coordinator_emit_external(genesis_coordinator *co, const char *type, const void *data,
                                      size_t len, const genesis_call_options *opts)
{
    return coordinator_emit(co, GENESIS__V1__SCOPE__SCOPE_EXTERNAL, type, data, len, opts, NULL,
                            NULL);
}

int genesis_coordinator_emit_id(genesis_coordinator *co, const char *event_id, int external,
                                const char *type, const void *data, size_t len,
                                const genesis_call_options *opts, uint64_t *sequence)
{
    gn_clear_error();
    if (co == NULL || event_id == NULL || type == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "emit: NULL coordinator, id, type or data");
    if (opts != NULL && !gn_call_options_version_ok(opts->version))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "call options version %u is unknown",
                       opts->version);
    int crit = opts != NULL ? opts->criticality : GENESIS_CRITICALITY_DEFAULT;
    if (!gn_mode_admits_event(co, crit))
        return gn_fail(GENESIS_UNAVAILABLE, "emit: mode EMERGENCY drops non-critical events");
    if (!gn_coordinator_enter(co))
        return gn_fail(GENESIS_UNAVAILABLE, "emit: the coordinator is stopping");
    int reason;
    int rv =
        gn_emit_id(co, event_id, type, data, len, opts != NULL ? opts->content_type : NULL,
                   opts != NULL ? opts->source : NULL,
                   external ? GENESIS__V1__SCOPE__SCOPE_EXTERNAL : GENESIS__V1__SCOPE__SCOPE_LOCAL,
                   NULL, NULL, sequence, &reason);
    gn_coordinator_leave(co);
    return rv;
}

/* ---- observation ------------------------------------------------------------------------- */

int genesis_coordinator_get_stats(genesis_coordinator *co, genesis_coordinator_stats *s)
{
    gn_clear_error();
    if (co == NULL || s == NULL || s->version != GENESIS_COORDINATOR_STATS_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "stats: NULL argument or unknown version");
    s->requests = atomic_load(&co->n_requests);
    s->succeeded = atomic_load(&co->n_succeeded);
    s->failed = atomic_load(&co->n_failed);
    s->timed_out = atomic_load(&co->n_timed_out);
    s->rejected = atomic_load(&co->n_rejected);
    s->late_replies = atomic_load(&co->n_late_replies);
    s->events_emitted = atomic_load(&co->n_events_emitted);
    s->events_delivered = atomic_load(&co->n_events_delivered);
    s->events_dropped = atomic_load(&co->n_events_dropped);
    s->events_published = atomic_load(&co->n_events_published);
    s->front_door_messages = atomic_load(&co->n_front_door_messages);
    s->malformed = atomic_load(&co->n_malformed);
    s->listener_restarts = atomic_load(&co->n_listener_restarts);
    s->components = gn_registry_count(co->registry);
    pthread_mutex_lock(&co->lock);
    s->in_flight = atomic_load(&co->in_flight);
    pthread_mutex_unlock(&co->lock);
    return GENESIS_OK;
}

int genesis_coordinator_status(genesis_coordinator *co, genesis_result **out)
{
    gn_clear_error();
    if (co == NULL || out == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "status: NULL argument");
    Genesis__V1__StatusReport report;
    int rv = gn_status_report_build(co, &report);
    if (rv != GENESIS_OK)
        return gn_fail(rv, "status: out of memory");
    *out = gn_status_report_json(&report);
    gn_status_report_clear(&report);
    return *out != NULL ? GENESIS_OK : gn_fail(GENESIS_RESOURCE_EXHAUSTED, "status: out of memory");
}

/* ---- stop and free ----------------------------------------------------------------------- */

/* Injected hangs would hold their requests, and so stop, forever. */
static void release_injected_hangs(genesis_coordinator *co)
{
    size_t n = gn_registry_count(co->registry) + 16;
    void **all = calloc(n, sizeof(*all));
    size_t got = all != NULL ? gn_registry_snapshot(co->registry, all, n) : 0;
    for (size_t i = 0; i < got; i++) {
        gn_fault_release(&((gn_component *)all[i])->fault);
        gn_component_release(all[i]);
    }
    free(all);
}

int genesis_coordinator_stop(genesis_coordinator *co)
{
    gn_clear_error();
    if (co == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "stop: NULL coordinator");
    if (gn_pool_is_worker(co->pool))
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "stop: called from a coordinator callback (it would wait for itself)");
    pthread_mutex_lock(&co->lock);
    if (co->stopped) {
        pthread_mutex_unlock(&co->lock);
        return GENESIS_OK;
    }
    co->stopping = true;
    atomic_store(&co->draining, true);
    pthread_mutex_unlock(&co->lock);
    release_injected_hangs(co);
    pthread_mutex_lock(&co->lock);
    /* In-flight calls end by themselves, at the latest at their deadlines; the front door
     * keeps answering meanwhile (new work gets UNAVAILABLE / SHUTTING_DOWN). */
    while (atomic_load(&co->in_flight) > 0)
        pthread_cond_wait(&co->drained_cv, &co->lock);
    co->stopped = true;
    pthread_mutex_unlock(&co->lock);

    /* Last checkpoints and pending acknowledgements go out before the front door closes. */
    gn_checkpoint_stop(co->checkpointer);
    nng_aio_stop(co->health_timer);
    gn_guard_stop(co->guard); /* before the sockets it watches close */
    if (co->front_door != NULL)
        gn_front_door_close(co->front_door);
    gn_bus_cluster_stop(co); /* no cluster event is delivered after this */
    gn_bus_close(co);

    /* Retire every component: closes lanes and waits for running callbacks. */
    size_t n = gn_registry_count(co->registry) + 16;
    void **all = calloc(n, sizeof(*all));
    size_t got = all != NULL ? gn_registry_snapshot(co->registry, all, n) : 0;
    for (size_t i = 0; i < got; i++) {
        gn_component *comp = all[i];
        bool removed = gn_registry_remove(co->registry, comp->id, comp) == comp;
        retire_component(comp);
        /* Both references after retiring (GCC 12 at -O3 cannot see that the snapshot's keeps
         * comp alive across the registry's release and warns of a use after free). */
        if (removed)
            gn_component_release(comp); /* the registry's reference */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): reference counted, the snapshot's left */
        gn_component_release(comp); /* the snapshot's reference */
    }
    free(all);
    gn_log(&co->log, GENESIS_LOG_INFO, "coordinator stopped");
    return GENESIS_OK;
}

void genesis_coordinator_free(genesis_coordinator *co)
{
    if (co == NULL)
        return;
    genesis_coordinator_stop(co);
    gn_pool_free(co->pool);               /* runs pending completion callbacks, joins the workers */
    gn_deadlines_free(co->deadlines);     /* drained: no attempt holds a timer any more */
    gn_checkpoint_free(co->checkpointer); /* after the pool: queued snapshot tasks use it */
    gn_cluster_close(co->cluster);        /* after the store on its connection */
    gn_recovery_hooks_free(co->hooks);
    gn_front_door_free(co->front_door);
    gn_guard_free(co->guard); /* the sockets are closed: no pipe callback can reach it */
    nng_aio_free(co->health_timer);
    gn_registry_free(co->registry);
    gn_resilience_free(co);
    gn_tls_free(co->tls); /* after the sockets: NNG held its own references meanwhile */
    pthread_cond_destroy(&co->drained_cv);
    pthread_mutex_destroy(&co->lock);
    free(co);
}
