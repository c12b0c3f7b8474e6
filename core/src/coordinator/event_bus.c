/* Local events: bounded, in-order delivery to every in-process component but the source, and
 * publication on the PUB socket (topic "<scope>:<type>\0" + Event) for remote components and
 * subscribers. A full queue drops the event for that component only, and the drop is
 * counted: the loss is visible, never silent and never a stall.
 *
 * In cluster mode an emit goes to the cluster's event stream instead (cluster/event_stream.h)
 * and every node, this one included, delivers it when the stream hands it back: the same
 * delivery as above, with the stream sequence and the cluster as publisher, so subscribers
 * count gaps in one cluster-wide sequence per scope. */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>

#include "cluster/cluster.h"
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
static bool publish_as(genesis_coordinator *co, const char *type, const void *data, size_t len,
                       const char *content_type, const char *source, int scope, const char *target,
                       uint64_t seq, const char *publisher, int64_t timestamp_ms)
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
    ev.publisher = (char *)publisher;
    ev.timestamp_ms = timestamp_ms;
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

static bool publish(genesis_coordinator *co, const char *type, const void *data, size_t len,
                    const char *content_type, const char *source, int scope, const char *target,
                    uint64_t seq)
{
    return publish_as(co, type, data, len, content_type, source, scope, target, seq,
                      co->instance_id, gn_wall_ms());
}

/* Queue for every in-process component but source; counts what was queued and dropped. */
static int deliver_all(genesis_coordinator *co, const char *type, const void *data, size_t len,
                       const char *content_type, const char *source, uint64_t seq, uint64_t missed,
                       unsigned int *delivered, unsigned int *dropped)
{
    size_t cap = gn_registry_count(co->registry) + 16;
    void **comps = malloc(cap * sizeof(*comps));
    if (comps == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "emit: out of memory");
    unsigned int ok = 0, lost = 0;
    size_t n = gn_registry_snapshot(co->registry, comps, cap);
    for (size_t i = 0; i < n; i++) {
        gn_component *comp = comps[i];
        if (comp->kind == GN_INPROC && comp->callbacks.on_event != NULL) {
            /* Events this node never got from the cluster count as this component's drops. */
            if (missed > 0)
                atomic_fetch_add(&comp->n_events_dropped, missed);
            if (strcmp(comp->id, source) == 0) {
                /* the source does not receive its own event */
            } else if (deliver_local(comp, type, data, len, content_type, source, seq, 0)) {
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
    atomic_fetch_add(&co->n_events_dropped, lost + missed);
    if (lost > 0)
        gn_log(&co->log, GENESIS_LOG_DEBUG, "event %s from %s dropped by %u full queue(s)", type,
               source, lost);
    *delivered = ok;
    *dropped = lost;
    return GENESIS_OK;
}

/* ---- cluster mode ------------------------------------------------------------------------ */

/* The event as stored in the cluster's stream: the bus's Event message without its topic. */
static uint8_t *encode_for_cluster(genesis_coordinator *co, const char *type, const void *data,
                                   size_t len, const char *content_type, const char *source,
                                   int scope, uint64_t local_seq, size_t *out_len)
{
    gn_wire_event ev = GENESIS__V1__EVENT__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = (uint8_t *)data;
    payload.data.len = len;
    payload.content_type = (char *)content_type;
    ev.sequence = local_seq;
    ev.type = (char *)type;
    ev.source = (char *)source;
    ev.payload = &payload;
    ev.scope = (Genesis__V1__Scope)scope;
    ev.publisher = co->instance_id;
    ev.timestamp_ms = gn_wall_ms();
    size_t n = genesis__v1__event__get_packed_size(&ev);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf != NULL)
        genesis__v1__event__pack(&ev, buf);
    *out_len = n;
    return buf;
}

/* One event from the cluster's stream (on a cnats thread, one at a time per scope, in stream
 * order): to this node's in-process components and bus, under the stream sequence. */
static void cluster_deliver(int scope, uint64_t seq, uint64_t missed, const void *data, size_t len,
                            void *arg)
{
    genesis_coordinator *co = arg;
    gn_wire_event *ev = NULL;
    char why[160];
    if (gn_event_decode(data, len, co->opts.max_message_size + 4096, &ev, why, sizeof(why)) !=
        GENESIS_OK) {
        /* Not an event of ours (something else published on the subject): skipped, and
         * counted as dropped; the bus's subscribers see the gap in the sequence. */
        gn_log(&co->log, GENESIS_LOG_WARN, "cluster: stream event %llu (%zu bytes) skipped: %s",
               (unsigned long long)seq, len, why);
        atomic_fetch_add(&co->n_events_dropped, missed + 1);
        return;
    }
    if (missed > 0)
        gn_log(&co->log, GENESIS_LOG_WARN,
               "cluster: %llu %s event(s) before sequence %llu were removed from the stream "
               "before this node read them (counted as dropped)",
               (unsigned long long)missed, scope == 0 ? "local" : "external",
               (unsigned long long)seq);
    size_t plen = 0;
    const uint8_t *payload = gn_payload_data(ev->payload, &plen);
    const char *ct = gn_payload_content_type(ev->payload);
    const char *source = ev->source != NULL ? ev->source : "";
    unsigned int ok = 0, lost = 0;
    if (scope == 0)
        deliver_all(co, ev->type, payload, plen, ct, source, seq, missed, &ok, &lost);
    else if (missed > 0)
        atomic_fetch_add(&co->n_events_dropped, missed);
    publish_as(co, ev->type, payload, plen, ct, source,
               scope == 0 ? GENESIS__V1__SCOPE__SCOPE_LOCAL : GENESIS__V1__SCOPE__SCOPE_EXTERNAL,
               NULL, seq, gn_cluster_publisher(co->cluster), ev->timestamp_ms);
    gn_event_free(ev);
}

bool gn_bus_clustered(genesis_coordinator *co)
{
    return gn_cluster_events(co->cluster) != NULL;
}

int gn_bus_cluster_start(genesis_coordinator *co, char *why, size_t why_size)
{
    gn_event_stream *es = gn_cluster_events(co->cluster);
    return es != NULL ? gn_event_stream_start(es, cluster_deliver, co, why, why_size) : GENESIS_OK;
}

void gn_bus_cluster_stop(genesis_coordinator *co)
{
    gn_event_stream_stop(gn_cluster_events(co->cluster));
}

/* Emit through the cluster: acknowledged once JetStream stored it (or had it already). */
static int cluster_emit(genesis_coordinator *co, gn_event_stream *es, const char *id,
                        const char *type, const void *data, size_t len, const char *content_type,
                        const char *source, int scope, uint64_t *sequence, int *reason)
{
    bool external = scope == GENESIS__V1__SCOPE__SCOPE_EXTERNAL;
    uint64_t local_seq = atomic_fetch_add(&co->bus_sequence[external ? 1 : 0], 1) + 1;
    char own_id[160];
    if (id == NULL) {
        snprintf(own_id, sizeof(own_id), "%s.%s.%c%llu", gn_cluster_node_id(co->cluster),
                 co->instance_id, external ? 'x' : 'l', (unsigned long long)local_seq);
        id = own_id;
    }
    size_t n = 0;
    uint8_t *buf =
        encode_for_cluster(co, type, data, len, content_type, source, scope, local_seq, &n);
    *reason = GENESIS_REASON_NO_MEMORY;
    if (buf == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "emit: out of memory");
    uint64_t seq = 0;
    bool duplicate = false;
    char why[400] = "";
    int rv = gn_event_stream_publish(es, external ? 1 : 0, id, buf, n, &seq, &duplicate, why,
                                     sizeof(why));
    free(buf);
    if (rv != GENESIS_OK) {
        *reason = GENESIS_REASON_TRANSPORT_ERROR;
        return gn_fail(rv,
                       "emit: the cluster did not acknowledge event %s (%s); it may still be "
                       "delivered once: emit it again with the same id to be sure",
                       id, why);
    }
    if (!duplicate)
        atomic_fetch_add(&co->n_events_emitted, 1);
    if (sequence != NULL)
        *sequence = seq;
    *reason = GENESIS_REASON_NONE;
    return GENESIS_OK;
}

int gn_emit_id(genesis_coordinator *co, const char *id, const char *type, const void *data,
               size_t len, const char *content_type, const char *source, int scope,
               unsigned int *delivered, unsigned int *dropped, uint64_t *sequence, int *reason)
{
    *reason = GENESIS_REASON_INVALID_ARGUMENT;
    if (!gn_valid_type(type))
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "emit: invalid event type (1..%u printable bytes, no spaces)",
                       GN_MAX_TYPE_LEN);
    if (id != NULL && (strlen(id) > 128 || !gn_valid_type(id)))
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "emit: invalid event id (1..128 printable bytes, no spaces)");
    *reason = GENESIS_REASON_MESSAGE_TOO_LARGE;
    if (len > co->opts.max_message_size)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED,
                       "emit: payload of %zu bytes exceeds the limit of %zu bytes", len,
                       co->opts.max_message_size);
    *reason = GENESIS_REASON_NO_MEMORY;
    source = source != NULL ? source : "";
    content_type = content_type != NULL ? content_type : "";
    if (delivered != NULL)
        *delivered = 0;
    if (dropped != NULL)
        *dropped = 0;
    gn_event_stream *es = gn_cluster_events(co->cluster);
    if (es != NULL)
        return cluster_emit(co, es, id, type, data, len, content_type, source, scope, sequence,
                            reason);
    /* One sequence per scope, so a subscriber to a whole scope can tell loss from filtering. */
    bool external = scope == GENESIS__V1__SCOPE__SCOPE_EXTERNAL;
    uint64_t seq = atomic_fetch_add(&co->bus_sequence[external ? 1 : 0], 1) + 1;
    atomic_fetch_add(&co->n_events_emitted, 1);
    unsigned int ok = 0, lost = 0;
    if (scope == GENESIS__V1__SCOPE__SCOPE_LOCAL) {
        int rv = deliver_all(co, type, data, len, content_type, source, seq, 0, &ok, &lost);
        if (rv != GENESIS_OK)
            return rv;
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

int gn_emit(genesis_coordinator *co, const char *type, const void *data, size_t len,
            const char *content_type, const char *source, int scope, unsigned int *delivered,
            unsigned int *dropped, uint64_t *sequence, int *reason)
{
    return gn_emit_id(co, NULL, type, data, len, content_type, source, scope, delivered, dropped,
                      sequence, reason);
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

/* System events are CRITICAL: published in every mode. In cluster mode they go to the stream
 * without waiting (they are published from threads that must not block on NATS). */
void gn_publish_system(genesis_coordinator *co, const char *type, const char *json)
{
    gn_event_stream *es = gn_cluster_events(co->cluster);
    if (es != NULL) {
        uint64_t local_seq = atomic_fetch_add(&co->bus_sequence[0], 1) + 1;
        size_t n = 0;
        uint8_t *buf =
            encode_for_cluster(co, type, json, strlen(json), "application/json", "genesis",
                               GENESIS__V1__SCOPE__SCOPE_LOCAL, local_seq, &n);
        char id[160];
        snprintf(id, sizeof(id), "%s.%s.l%llu", gn_cluster_node_id(co->cluster), co->instance_id,
                 (unsigned long long)local_seq);
        if (buf != NULL) {
            atomic_fetch_add(&co->n_events_emitted, 1);
            gn_event_stream_publish_async(es, 0, id, buf, n);
        }
        free(buf);
        return;
    }
    int reason;
    gn_emit(co, type, json, strlen(json), "application/json", "genesis",
            GENESIS__V1__SCOPE__SCOPE_LOCAL, NULL, NULL, NULL, &reason);
}
