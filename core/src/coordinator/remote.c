/* Remote components: registration of instances (each a REP address the coordinator dials on
 * one REQ socket per component id, so NNG spreads requests across replicas), heartbeats, the
 * health sweep, and forwarding requests. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/assert.h"
#include "coordinator/coordinator_impl.h"
#include "wire/rpc.h"
#include "wire/socket_util.h"

#define MAX_INSTANCES 64u
#define MAX_URL_LEN   255u

typedef struct instance {
    char *instance_id;
    char *url;
    nng_dialer dialer;
    int64_t last_seen_ms;
    uint32_t heartbeat_ms;
} instance;

struct gn_remote {
    pthread_mutex_t lock;
    nng_socket req;
    atomic_uint in_flight; /* forwarded requests awaiting a reply (the bulkhead) */
    instance inst[MAX_INSTANCES];
    unsigned int n;
};

static void instance_drop(gn_remote *r, unsigned int i)
{
    nng_dialer_close(r->inst[i].dialer);
    free(r->inst[i].instance_id);
    free(r->inst[i].url);
    r->inst[i] = r->inst[--r->n];
}

static gn_remote *remote_new(genesis_coordinator *co)
{
    gn_remote *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    if (nng_req0_open(&r->req) != 0) {
        free(r);
        return NULL;
    }
    gn_rpc_configure(r->req, co->opts.max_message_size);
    /* A restarted instance registers again and is dialed at once, so redials only serve a
     * connection lost to a live instance. Fast redials of dead ones are what hurt: NNG 1.5.2
     * closes each refused socket through its one poller and reaper, and at 10-200 ms, 300
     * components dying together piled up 13,000 sockets, 50 % CPU and a 52 s stop (1,000:
     * minutes). At 100-2000 ms: 300 leave no pile-up and stop in 0.06 s; 1,000 still pile
     * up ~8,000 sockets until their instances are dropped (docs/known-limits.md). */
    nng_socket_set_ms(r->req, NNG_OPT_RECONNMINT, 100);
    nng_socket_set_ms(r->req, NNG_OPT_RECONNMAXT, 2000);
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void gn_remote_free(gn_remote *r)
{
    if (r == NULL)
        return;
    nng_close(r->req);
    for (unsigned int i = 0; i < r->n; i++) {
        free(r->inst[i].instance_id);
        free(r->inst[i].url);
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static int refuse(int status, int reason, int *out_reason, char *why, size_t size, const char *text)
{
    *out_reason = reason;
    snprintf(why, size, "%s", text);
    return status;
}

/* The remote component entry for id, created on first registration. Retained. */
static gn_component *remote_component(genesis_coordinator *co, const char *id, int *status,
                                      int *reason, char *why, size_t size)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        gn_component *comp = gn_registry_lookup(co->registry, id);
        if (comp != NULL) {
            if (comp->kind == GN_REMOTE)
                return comp;
            gn_component_release(comp);
            *status = GENESIS_ALREADY_EXISTS;
            *reason = GENESIS_REASON_ALREADY_REGISTERED;
            snprintf(why, size, "component '%s' is already registered in-process", id);
            return NULL;
        }
        if (gn_registry_count(co->registry) >= co->opts.max_components) {
            *status = GENESIS_RESOURCE_EXHAUSTED;
            *reason = GENESIS_REASON_LIMIT_REACHED;
            snprintf(why, size, "%u components are registered (the configured maximum)",
                     co->opts.max_components);
            return NULL;
        }
        comp = gn_component_new(co, id, GN_REMOTE);
        if (comp != NULL)
            comp->remote = remote_new(co);
        if (comp == NULL || comp->remote == NULL) {
            gn_component_release(comp);
            *status = GENESIS_RESOURCE_EXHAUSTED;
            *reason = GENESIS_REASON_NO_MEMORY;
            snprintf(why, size, "out of memory registering '%s'", id);
            return NULL;
        }
        if (gn_registry_insert(co->registry, id, comp) == GENESIS_OK) {
            gn_component_retain(comp); /* the registry's and the caller's references */
            return comp;
        }
        gn_component_release(comp); /* lost a race with another registration: look again */
    }
    *status = GENESIS_ABORTED;
    *reason = GENESIS_REASON_ALREADY_REGISTERED;
    snprintf(why, size, "concurrent registrations of '%s' conflicted; retry", id);
    return NULL;
}

int gn_remote_register(genesis_coordinator *co, const Genesis__V1__Register *reg, int *reason,
                       char *why, size_t size)
{
    if (!gn_valid_id(reg->component_id))
        return refuse(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT, reason, why, size,
                      "register: invalid component id (1..128 bytes of [A-Za-z0-9._-])");
    if (reg->url[0] == '\0' || strlen(reg->url) > MAX_URL_LEN || reg->instance_id[0] == '\0' ||
        strlen(reg->instance_id) > GN_MAX_ID_LEN)
        return refuse(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT, reason, why, size,
                      "register: url (1..255 bytes) and instance_id (1..128 bytes) are required");
    if (!gn_coordinator_enter(co))
        return refuse(GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN, reason, why, size,
                      "register: the coordinator is shutting down");
    int status = GENESIS_OK;
    gn_component *comp = remote_component(co, reg->component_id, &status, reason, why, size);
    if (comp == NULL) {
        gn_coordinator_leave(co);
        return status;
    }
    gn_remote *r = comp->remote;
    int64_t now = gn_now_ms();
    const char *what = "registered";
    pthread_mutex_lock(&r->lock);
    unsigned int i;
    for (i = 0; i < r->n; i++) {
        if (strcmp(r->inst[i].instance_id, reg->instance_id) == 0)
            break; /* the same incarnation again: idempotent */
        if (strcmp(r->inst[i].url, reg->url) == 0) {
            /* A new incarnation at the same address (a restart): the dialer reconnects. */
            char *id = gn_strdup(reg->instance_id);
            if (id != NULL) {
                free(r->inst[i].instance_id);
                r->inst[i].instance_id = id;
            }
            what = "re-registered (restarted)";
            break;
        }
    }
    if (i == r->n) {
        if (r->n == MAX_INSTANCES) {
            status = refuse(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_LIMIT_REACHED, reason, why,
                            size, "register: too many instances for this component id");
        } else {
            instance *in = &r->inst[i];
            in->instance_id = gn_strdup(reg->instance_id);
            in->url = gn_strdup(reg->url);
            int err = in->instance_id != NULL && in->url != NULL
                          ? gn_dial_url(r->req, reg->url, co->tls, &in->dialer)
                          : NNG_ENOMEM;
            if (err != 0) {
                free(in->instance_id);
                free(in->url);
                char text[320];
                snprintf(text, sizeof(text), "register: cannot dial '%s': %s", reg->url,
                         gn_url_is_tls(reg->url) && co->tls == NULL
                             ? "this coordinator " GN_TLS_MISSING
                             : nng_strerror(err));
                status = refuse(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT, reason,
                                why, size, text);
            } else {
                r->n++;
            }
        }
    }
    if (status == GENESIS_OK) {
        r->inst[i].last_seen_ms = now;
        r->inst[i].heartbeat_ms = reg->heartbeat_interval_ms;
    }
    unsigned int live = r->n;
    pthread_mutex_unlock(&r->lock);
    if (status == GENESIS_OK) {
        gn_log(&co->log, GENESIS_LOG_INFO, "component %s %s: instance %s at %s (%u live)",
               reg->component_id, what, reg->instance_id, reg->url, live);
        /* Recovery is observed, not waited for: an open breaker probes at once. */
        gn_breaker_transition t;
        gn_breaker_recovered(&comp->breaker, gn_clock(co), &t);
        gn_breaker_publish(comp, &t);
    }
    gn_component_release(comp);
    gn_coordinator_leave(co);
    return status;
}

/* Find an instance; on success returns GENESIS_OK with *out retained, r->lock held and *index
 * set. */
static int find_instance(genesis_coordinator *co, const char *component_id, const char *instance_id,
                         gn_component **out, unsigned int *index, int *reason, char *why,
                         size_t size)
{
    gn_component *comp = gn_registry_lookup(co->registry, component_id);
    if (comp == NULL || comp->kind != GN_REMOTE) {
        gn_component_release(comp);
        char text[256];
        snprintf(text, sizeof(text), "no remote component '%.128s' is registered: register again",
                 component_id);
        return refuse(GENESIS_NOT_FOUND, GENESIS_REASON_NOT_FOUND, reason, why, size, text);
    }
    gn_remote *r = comp->remote;
    pthread_mutex_lock(&r->lock);
    for (unsigned int i = 0; i < r->n; i++) {
        if (strcmp(r->inst[i].instance_id, instance_id) == 0) {
            *out = comp;
            *index = i;
            return GENESIS_OK;
        }
    }
    pthread_mutex_unlock(&r->lock);
    gn_component_release(comp);
    return refuse(GENESIS_NOT_FOUND, GENESIS_REASON_NOT_FOUND, reason, why, size,
                  "unknown instance (declared down or never registered): register again");
}

int gn_remote_heartbeat(genesis_coordinator *co, const Genesis__V1__Heartbeat *hb, int *reason,
                        char *why, size_t size)
{
    gn_component *comp = NULL;
    unsigned int i = 0;
    int rv = find_instance(co, hb->component_id, hb->instance_id, &comp, &i, reason, why, size);
    if (rv != GENESIS_OK)
        return rv;
    comp->remote->inst[i].last_seen_ms = gn_now_ms();
    pthread_mutex_unlock(&comp->remote->lock);
    gn_component_release(comp);
    *reason = GENESIS_REASON_NONE;
    return GENESIS_OK;
}

int gn_remote_unregister(genesis_coordinator *co, const Genesis__V1__Unregister *un, int *reason,
                         char *why, size_t size)
{
    gn_component *comp = NULL;
    unsigned int i = 0;
    int rv = find_instance(co, un->component_id, un->instance_id, &comp, &i, reason, why, size);
    if (rv != GENESIS_OK)
        return rv;
    gn_remote *r = comp->remote;
    instance_drop(r, i);
    bool last = r->n == 0;
    pthread_mutex_unlock(&r->lock);
    gn_log(&co->log, GENESIS_LOG_INFO, "component %s instance %s unregistered%s", un->component_id,
           un->instance_id, last ? " (last instance: removed)" : "");
    if (last && gn_registry_remove(co->registry, comp->id, comp) == comp) {
        atomic_store(&comp->removed, true);
        gn_component_release(comp); /* the registry's reference */
    }
    gn_component_release(comp);
    *reason = GENESIS_REASON_NONE;
    return GENESIS_OK;
}

void gn_remote_sweep(genesis_coordinator *co)
{
    /* Every remote component, every tick: a bounded batch would leave some never checked. */
    size_t cap = gn_registry_count(co->registry) + 16;
    void **comps = malloc(cap * sizeof(*comps));
    if (comps == NULL)
        return; /* checked again next tick */
    size_t n = gn_registry_snapshot(co->registry, comps, cap);
    int64_t now = gn_now_ms();
    for (size_t k = 0; k < n; k++) {
        gn_component *comp = comps[k];
        if (comp->kind == GN_REMOTE) {
            gn_remote *r = comp->remote;
            pthread_mutex_lock(&r->lock);
            for (unsigned int i = 0; i < r->n;) {
                uint32_t every = r->inst[i].heartbeat_ms > co->opts.heartbeat_interval_ms
                                     ? r->inst[i].heartbeat_ms
                                     : co->opts.heartbeat_interval_ms;
                int64_t silent = now - r->inst[i].last_seen_ms;
                if (silent > (int64_t)every * co->opts.heartbeat_misses) {
                    gn_log(&co->log, GENESIS_LOG_WARN,
                           "component %s instance %s at %s missed %u heartbeats (%lld ms "
                           "silent): DOWN",
                           comp->id, r->inst[i].instance_id, r->inst[i].url,
                           co->opts.heartbeat_misses, (long long)silent);
                    instance_drop(r, i);
                } else {
                    i++;
                }
            }
            pthread_mutex_unlock(&r->lock);
        }
        gn_component_release(comp);
    }
    free(comps);
}

bool gn_remote_is_up(gn_component *comp)
{
    gn_remote *r = comp->remote;
    pthread_mutex_lock(&r->lock);
    bool up = r->n > 0;
    pthread_mutex_unlock(&r->lock);
    return up;
}

unsigned int gn_remote_describe(gn_component *comp, char **urls, unsigned int max)
{
    gn_remote *r = comp->remote;
    pthread_mutex_lock(&r->lock);
    unsigned int n = r->n < max ? r->n : max;
    for (unsigned int i = 0; i < n; i++)
        urls[i] = gn_strdup(r->inst[i].url);
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* ---- forwarding -------------------------------------------------------------------------- */

typedef struct forward {
    gn_component *comp;
    uint32_t timeout_ms;
    gn_attempt_fn done;
    void *arg;
} forward;

static void forward_done(int status, int reason, const char *why, gn_wire_reply *reply, void *arg)
{
    forward *f = arg;
    genesis_result *res;
    int stage = GN_ATTEMPT_REACHED;
    if (status != GENESIS_OK && reason == GENESIS_REASON_UNREACHABLE) {
        /* No instance took the request within its time: it provably never ran. */
        stage = GN_ATTEMPT_UNSENT;
        res = gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN,
                               "component '%s' did not accept the request: %s", f->comp->id, why);
    } else if (status == GENESIS_DEADLINE_EXCEEDED) {
        res = gn_result_errorf(GENESIS_DEADLINE_EXCEEDED, GENESIS_REASON_TIMEOUT,
                               "component '%s' did not answer within %u ms", f->comp->id,
                               f->timeout_ms);
    } else if (status != GENESIS_OK) {
        res = gn_result_errorf(status, reason, "component '%s': %s", f->comp->id, why);
    } else {
        size_t len = 0;
        const uint8_t *data = gn_payload_data(reply->payload, &len);
        int code = 0, why_reason = 0;
        gn_reply_outcome(reply, &code, &why_reason);
        /* A failure always says something: the component's words, or what it sent. */
        char said[GN_MAX_ID_LEN + 96];
        const char *message = reply->message;
        if (code != GENESIS_OK && (message == NULL || message[0] == '\0')) {
            snprintf(said, sizeof(said), "component '%s' replied %s without a message", f->comp->id,
                     genesis_status_name(code));
            message = said;
        }
        res = gn_result_new(code, why_reason, message, data, len,
                            gn_payload_content_type(reply->payload));
    }
    unsigned int held = atomic_fetch_sub(&f->comp->remote->in_flight, 1);
    GN_ASSERT(held > 0);
    gn_attempt_fn done = f->done;
    void *done_arg = f->arg;
    free(f);
    done(done_arg, res, stage);
}

void gn_remote_attempt(genesis_coordinator *co, gn_component *comp,
                       const struct genesis_request *rq, uint32_t timeout_ms, unsigned int attempt,
                       bool idempotent, unsigned int limit, gn_attempt_fn done, void *arg)
{
    genesis_result *res = NULL;
    int stage = GN_ATTEMPT_UNSENT;
    /* The bulkhead: what one remote component can hold (front-door contexts, memory) is
     * bounded by max_concurrency + max_queued of its policy. */
    unsigned int held = atomic_fetch_add(&comp->remote->in_flight, 1);
    if (held >= limit) {
        atomic_fetch_sub(&comp->remote->in_flight, 1);
        done(arg,
             gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_BULKHEAD_FULL,
                              "component '%s' is full: %u requests in flight", comp->id, held),
             GN_ATTEMPT_REJECTED);
        return;
    }
    if (!gn_remote_is_up(comp))
        res = gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN,
                               "component '%s' has no live instance (missed heartbeats)", comp->id);
    forward *f = res == NULL ? malloc(sizeof(*f)) : NULL;
    nng_msg *msg = NULL;
    if (res == NULL && f != NULL) {
        gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
        Genesis__V1__Request req = GENESIS__V1__REQUEST__INIT;
        Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
        payload.data.data = (uint8_t *)rq->data;
        payload.data.len = rq->len;
        payload.content_type = (char *)rq->content_type;
        req.target = (char *)rq->target;
        req.type = (char *)rq->type;
        req.payload = &payload;
        req.source = (char *)rq->source;
        req.criticality = (Genesis__V1__Criticality)rq->criticality;
        req.timeout_ms = timeout_ms; /* this attempt's budget travels with the request */
        req.request_id = rq->id;
        req.idempotent = idempotent;
        req.attempt = attempt;
        env.body_case = GENESIS__V1__ENVELOPE__BODY_REQUEST;
        env.request = &req;
        if (gn_envelope_encode(&env, &msg) != GENESIS_OK)
            msg = NULL;
    }
    if (res == NULL && msg != NULL) {
        *f = (forward){.comp = comp, .timeout_ms = timeout_ms, .done = done, .arg = arg};
        if (gn_rpc_start(comp->remote->req, msg, timeout_ms, co->opts.max_message_size,
                         forward_done, f) == GENESIS_OK)
            return;
        res = gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_TRANSPORT_ERROR,
                               "cannot start a request to component '%s'", comp->id);
    } else if (res == NULL) {
        nng_msg_free(msg);
        stage = GN_ATTEMPT_REJECTED;
        res = gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                               "out of memory forwarding to '%s'", comp->id);
    }
    free(f);
    unsigned int was_held = atomic_fetch_sub(&comp->remote->in_flight, 1);
    GN_ASSERT(was_held > 0);
    done(arg, res, stage);
}

unsigned int gn_remote_in_flight(gn_component *comp)
{
    return atomic_load(&comp->remote->in_flight);
}
