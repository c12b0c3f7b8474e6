/* Local events: bounded, in-order delivery to every in-process component but the source, and
 * publication on the PUB socket (topic "<scope>:<type>\0" + Event) for remote components and
 * subscribers. A full queue drops the event for that component only, and the drop is
 * counted: the loss is visible, never silent and never a stall. */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>

#include "coordinator/coordinator_impl.h"
#include "wire/listener_guard.h"
#include "wire/socket_util.h"

typedef struct event_task {
    gn_task task;
    gn_component *comp;
    gn_owned_event *ev;
} event_task;

static void event_run(gn_task *t)
{
    event_task *et = (event_task *)t;
    gn_component *comp = et->comp;
    if (!atomic_load(&comp->removed) && comp->callbacks.on_event != NULL) {
        comp->callbacks.on_event(&et->ev->view, comp->callbacks.arg);
        atomic_fetch_add(&comp->n_events_delivered, 1);
    }
}

static void event_finish(gn_task *t)
{
    event_task *et = (event_task *)t;
    gn_owned_event_free(et->ev);
    gn_component_release(et->comp);
    free(et);
}

void gn_events_discard(gn_fifo *list)
{
    for (gn_task *t; (t = gn_task_pop(list)) != NULL;)
        event_finish(t);
}

int gn_bus_listen(genesis_coordinator *co, const char *url)
{
    int err = nng_pub0_open(&co->bus);
    if (err != 0)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "event bus: %s", nng_strerror(err));
    int rv = gn_listen_url(co->bus, url, co->tls, &co->log, "the coordinator's event bus",
                           &co->bus_listener, co->event_bus_url, sizeof(co->event_bus_url));
    if (rv != GENESIS_OK) {
        nng_close(co->bus);
        co->event_bus_url[0] = '\0';
        return rv;
    }
    co->bus_open = true;
    return GENESIS_OK;
}

int gn_bus_guard(genesis_coordinator *co, gn_guard *guard)
{
    return gn_guard_watch(guard, co->bus, co->bus_listener, co->event_bus_url, GN_SP_PROTO_SUB,
                          "event bus");
}

void gn_bus_close(genesis_coordinator *co)
{
    if (co->bus_open) {
        co->bus_open = false;
        nng_close(co->bus);
    }
}

static bool deliver_local(gn_component *comp, const char *type, const void *data, size_t len,
                          const char *ct, const char *source, uint64_t seq, int external)
{
    event_task *et = malloc(sizeof(*et));
    gn_owned_event *ev = gn_owned_event_new(type, source, data, len, ct, seq, external);
    if (et == NULL || ev == NULL) {
        free(et);
        gn_owned_event_free(ev);
        return false;
    }
    gn_component_retain(comp);
    *et = (event_task){.task = {.run = event_run, .finish = event_finish}, .comp = comp, .ev = ev};
    if (gn_lane_submit(&comp->events, &et->task) != GENESIS_OK) {
        event_finish(&et->task);
        return false;
    }
    return true;
}

/* Publish on the bus. PUB never blocks: slow subscribers lose messages and count the gap
 * themselves. target non-NULL makes it a directed event ("to:<target>:<type>"). */
static bool publish(genesis_coordinator *co, const char *type, const void *data, size_t len,
                    const char *content_type, const char *source, int scope, const char *target,
                    uint64_t seq)
{
    if (!co->bus_open)
        return false;
    gn_wire_event ev = GENESIS__V1__EVENT__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = (uint8_t *)data;
    payload.data.len = len;
    payload.content_type = (char *)content_type;
    ev.sequence = seq;
    ev.type = (char *)type;
    ev.source = (char *)source;
    ev.payload = &payload;
    ev.scope = (Genesis__V1__Scope)scope;
    ev.publisher = co->instance_id;
    ev.timestamp_ms = gn_wall_ms();
    ev.target = (char *)(target != NULL ? target : "");
    nng_msg *msg = NULL;
    if (gn_event_frame_encode(&ev, &msg) != GENESIS_OK)
        return false;
    if (nng_sendmsg(co->bus, msg, NNG_FLAG_NONBLOCK) != 0) {
        nng_msg_free(msg);
        return false;
    }
    atomic_fetch_add(&co->n_events_published, 1);
    return true;
}

int gn_emit(genesis_coordinator *co, const char *type, const void *data, size_t len,
            const char *content_type, const char *source, int scope, unsigned int *delivered,
            unsigned int *dropped, uint64_t *sequence, int *reason)
{
    *reason = GENESIS_REASON_INVALID_ARGUMENT;
    if (!gn_valid_type(type))
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "emit: invalid event type (1..%u printable bytes, no spaces)",
                       GN_MAX_TYPE_LEN);
    *reason = GENESIS_REASON_MESSAGE_TOO_LARGE;
    if (len > co->opts.max_message_size)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED,
                       "emit: payload of %zu bytes exceeds the limit of %zu bytes", len,
                       co->opts.max_message_size);
    *reason = GENESIS_REASON_NO_MEMORY;
    source = source != NULL ? source : "";
    content_type = content_type != NULL ? content_type : "";
    /* One sequence per scope, so a subscriber to a whole scope can tell loss from filtering. */
    bool external = scope == GENESIS__V1__SCOPE__SCOPE_EXTERNAL;
    uint64_t seq = atomic_fetch_add(&co->bus_sequence[external ? 1 : 0], 1) + 1;
    atomic_fetch_add(&co->n_events_emitted, 1);
    unsigned int ok = 0, lost = 0;

    if (scope == GENESIS__V1__SCOPE__SCOPE_LOCAL) {
        size_t cap = gn_registry_count(co->registry) + 16;
        void **comps = malloc(cap * sizeof(*comps));
        if (comps == NULL)
            return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "emit: out of memory");
        size_t n = gn_registry_snapshot(co->registry, comps, cap);
        for (size_t i = 0; i < n; i++) {
            gn_component *comp = comps[i];
            if (comp->kind == GN_INPROC && comp->callbacks.on_event != NULL &&
                strcmp(comp->id, source) != 0) {
                if (deliver_local(comp, type, data, len, content_type, source, seq, 0)) {
                    ok++;
                } else {
                    lost++;
                    atomic_fetch_add(&comp->n_events_dropped, 1);
                }
            }
            gn_component_release(comp);
        }
        free(comps);
        atomic_fetch_add(&co->n_events_delivered, ok);
        atomic_fetch_add(&co->n_events_dropped, lost);
        if (lost > 0)
            gn_log(&co->log, GENESIS_LOG_DEBUG, "event %s from %s dropped by %u full queue(s)",
                   type, source, lost);
    }

    publish(co, type, data, len, content_type, source, scope, NULL, seq);
    if (delivered != NULL)
        *delivered = ok;
    if (dropped != NULL)
        *dropped = lost;
    if (sequence != NULL)
        *sequence = seq;
    *reason = GENESIS_REASON_NONE;
    return GENESIS_OK;
}

int gn_emit_to(genesis_coordinator *co, const char *target, const char *type, const void *data,
               size_t len, const char *content_type, const char *source, unsigned int *delivered,
               unsigned int *dropped, uint64_t *sequence, int *reason)
{
    *reason = GENESIS_REASON_INVALID_ARGUMENT;
    if (!gn_valid_type(type))
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "emit: invalid event type (1..%u printable bytes, no spaces)",
                       GN_MAX_TYPE_LEN);
    if (!gn_valid_id(target))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "emit: invalid target component id");
    *reason = GENESIS_REASON_MESSAGE_TOO_LARGE;
    if (len > co->opts.max_message_size)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED,
                       "emit: payload of %zu bytes exceeds the limit of %zu bytes", len,
                       co->opts.max_message_size);
    gn_component *comp = gn_registry_lookup(co->registry, target);
    *reason = GENESIS_REASON_NOT_FOUND;
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "emit: no component '%s' is registered", target);
    source = source != NULL ? source : "";
    content_type = content_type != NULL ? content_type : "";
    uint64_t seq = atomic_fetch_add(&co->directed_sequence, 1) + 1;
    atomic_fetch_add(&co->n_events_emitted, 1);
    unsigned int ok = 0, lost = 0;
    int rv = GENESIS_OK;
    if (comp->kind == GN_INPROC) {
        if (comp->callbacks.on_event == NULL) {
            *reason = GENESIS_REASON_NO_HANDLER;
            rv = gn_fail(GENESIS_FAILED_PRECONDITION,
                         "emit: component '%s' takes no events (no on_event)", target);
        } else if (deliver_local(comp, type, data, len, content_type, source, seq, 1)) {
            ok = 1;
            atomic_fetch_add(&co->n_events_delivered, 1);
        } else {
            lost = 1;
            atomic_fetch_add(&comp->n_events_dropped, 1);
            atomic_fetch_add(&co->n_events_dropped, 1);
        }
    } else if (!publish(co, type, data, len, content_type, source,
                        GENESIS__V1__SCOPE__SCOPE_EXTERNAL, target, seq)) {
        *reason = GENESIS_REASON_TRANSPORT_ERROR;
        rv = gn_fail(GENESIS_UNAVAILABLE, "emit: cannot publish to remote component '%s' (%s)",
                     target, co->bus_open ? "bus send failed" : "no event bus");
    }
    gn_component_release(comp);
    if (rv != GENESIS_OK)
        return rv;
    if (delivered != NULL)
        *delivered = ok;
    if (dropped != NULL)
        *dropped = lost;
    if (sequence != NULL)
        *sequence = seq;
    *reason = GENESIS_REASON_NONE;
    return GENESIS_OK;
}

/* System events are CRITICAL: published in every mode. */
void gn_publish_system(genesis_coordinator *co, const char *type, const char *json)
{
    int reason;
    gn_emit(co, type, json, strlen(json), "application/json", "genesis",
            GENESIS__V1__SCOPE__SCOPE_LOCAL, NULL, NULL, NULL, &reason);
}
