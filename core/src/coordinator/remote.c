/* Remote components: registration of instances (each a REP address the coordinator dials on
 * a REQ socket of its own, so routing picks the instance), heartbeats, the health sweep, and
 * forwarding requests.
 *
 * Pauses are not failures. The sweep asks a phi accrual failure detector (phi_accrual.h) about
 * each instance: a verdict only stops routing new requests to it; its connection stays open,
 * so requests in flight finish or reach their own deadline, and its next heartbeat makes it
 * routable again. The connection closes only when the instance unregisters, registers again
 * elsewhere, or stays silent past a grace time of at least the per-try timeout. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/assert.h"
#include "coordinator/coordinator_impl.h"
#include "resilience/phi_accrual.h"
#include "wire/rpc.h"
#include "wire/socket_util.h"

#define MAX_INSTANCES 64u
#define MAX_URL_LEN   255u
#define GRACE_MIN_MS  3000 /* silent this long at least before the connection closes */

typedef struct instance {
    char *instance_id;
    char *url;
    nng_socket req; /* this instance's own: routing picks the instance, not NNG */
    nng_dialer dialer;
    atomic_int pipes; /* connections up (nng_pipe_notify) */
    atomic_bool lost; /* had a connection and lost it (a dead process, until it redials) */
    gn_phi phi;       /* heartbeat arrivals, on the coordinator's clock */
    uint32_t heartbeat_ms;
    bool suspect; /* missed heartbeats: not routed to until it heartbeats again */
} instance;

struct gn_remote {
    pthread_mutex_t lock;
    atomic_uint in_flight; /* forwarded requests awaiting a reply (the bulkhead) */
    atomic_uint next;      /* round-robin position */
    instance *inst[MAX_INSTANCES];
    unsigned int n;
    uint64_t last_registration; /* co->registration_seq of the latest accepted one (lock) */
};

/* Pipe events run on NNG's threads until nng_close(req) returns: the instance outlives them. */
static void pipe_event(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    (void)pipe;
    instance *in = arg;
    if (ev == NNG_PIPE_EV_ADD_POST) {
        atomic_fetch_add(&in->pipes, 1);
        atomic_store(&in->lost, false);
    } else if (ev == NNG_PIPE_EV_REM_POST && atomic_fetch_sub(&in->pipes, 1) == 1) {
        atomic_store(&in->lost, true);
    }
}

/* A new instance with its socket dialing url; NULL with *err set on failure. */
static instance *instance_open(genesis_coordinator *co, const char *instance_id, const char *url,
                               int *err)
{
    instance *in = calloc(1, sizeof(*in));
    if (in == NULL) {
        *err = NNG_ENOMEM;
        return NULL;
    }
    in->instance_id = gn_strdup(instance_id);
    in->url = gn_strdup(url);
    *err = in->instance_id != NULL && in->url != NULL ? nng_req0_open(&in->req) : NNG_ENOMEM;
    if (*err != 0) {
        free(in->instance_id);
        free(in->url);
        free(in);
        return NULL;
    }
    gn_rpc_configure(in->req, co->opts.max_message_size);
    /* A restarted instance registers again and is dialed at once, so redials only serve a
     * connection lost to a live instance. Fast redials of dead ones are what hurt: NNG 1.5.2
     * closes each refused socket through its one poller and reaper, and at 10-200 ms, 300
     * components dying together piled up 13,000 sockets, 50 % CPU and a 52 s stop (1,000:
     * minutes). At 100-2000 ms: 300 leave no pile-up and stop in 0.06 s (docs/known-limits.md). */
    nng_socket_set_ms(in->req, NNG_OPT_RECONNMINT, 100);
    nng_socket_set_ms(in->req, NNG_OPT_RECONNMAXT, 2000);
    nng_pipe_notify(in->req, NNG_PIPE_EV_ADD_POST, pipe_event, in);
    nng_pipe_notify(in->req, NNG_PIPE_EV_REM_POST, pipe_event, in);
    *err = gn_dial_url(in->req, url, co->tls, &in->dialer);
    if (*err != 0) {
        nng_close(in->req);
        free(in->instance_id);
        free(in->url);
        free(in);
        return NULL;
    }
    return in;
}

/* Close the connection and free. Never under r->lock: closing completes the requests in
 * flight, whose callbacks may start retries that take it. */
static void instance_close(instance *in)
{
    if (in == NULL)
        return;
    nng_close(in->req); /* no pipe event runs after this returns */
    free(in->instance_id);
    free(in->url);
    free(in);
}

/* Take instance i out of r (under r->lock); the caller closes it after unlocking. */
static instance *instance_detach(gn_remote *r, unsigned int i)
{
    instance *in = r->inst[i];
    r->inst[i] = r->inst[--r->n];
    r->inst[r->n] = NULL;
    return in;
}

static gn_remote *remote_new(void)
{
    gn_remote *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void gn_remote_free(gn_remote *r)
{
    if (r == NULL)
        return;
    for (unsigned int i = 0; i < r->n; i++)
        instance_close(r->inst[i]);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Heartbeats expected from an instance: its own interval, at least the coordinator's. */
static uint32_t heartbeat_every(genesis_coordinator *co, const instance *in)
{
    return in->heartbeat_ms > co->opts.heartbeat_interval_ms ? in->heartbeat_ms
                                                             : co->opts.heartbeat_interval_ms;
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
            comp->remote = remote_new();
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
    int64_t now = gn_clock(co);
    const char *what = "registered";
    instance *old = NULL; /* closed after unlocking */
    pthread_mutex_lock(&r->lock);
    unsigned int i;
    for (i = 0; i < r->n; i++) {
        if (strcmp(r->inst[i]->instance_id, reg->instance_id) == 0) {
            if (strcmp(r->inst[i]->url, reg->url) == 0)
                break; /* the same incarnation again: idempotent */
            /* The same incarnation elsewhere: its old connection closes. */
            old = instance_detach(r, i);
            what = "registered again at a new address";
            i = r->n;
            break;
        }
        if (strcmp(r->inst[i]->url, reg->url) == 0) {
            /* A new incarnation at the same address (a restart): the dialer reconnects. */
            char *id = gn_strdup(reg->instance_id);
            if (id != NULL) {
                free(r->inst[i]->instance_id);
                r->inst[i]->instance_id = id;
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
            int err = 0;
            instance *in = instance_open(co, reg->instance_id, reg->url, &err);
            if (in == NULL) {
                char text[320];
                snprintf(text, sizeof(text), "register: cannot dial '%s': %s", reg->url,
                         gn_url_is_tls(reg->url) && co->tls == NULL
                             ? "this coordinator " GN_TLS_MISSING
                             : nng_strerror(err));
                status = refuse(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT, reason,
                                why, size, text);
            } else {
                r->inst[r->n++] = in;
            }
        }
    }
    if (status == GENESIS_OK) {
        instance *in = r->inst[i];
        in->heartbeat_ms = reg->heartbeat_interval_ms;
        in->suspect = false;
        gn_phi_start(&in->phi, now, heartbeat_every(co, in));
        r->last_registration = atomic_fetch_add(&co->registration_seq, 1) + 1;
    }
    unsigned int live = r->n;
    pthread_mutex_unlock(&r->lock);
    instance_close(old);
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
        if (strcmp(r->inst[i]->instance_id, instance_id) == 0) {
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
    instance *in = comp->remote->inst[i];
    int64_t now = gn_clock(co);
    int64_t silent = now - in->phi.last_ms;
    gn_phi_heartbeat(&in->phi, now);
    bool back = in->suspect;
    in->suspect = false;
    pthread_mutex_unlock(&comp->remote->lock);
    if (back)
        gn_log(&co->log, GENESIS_LOG_INFO,
               "component %s instance %s heartbeats again after %lld ms: routed to again",
               hb->component_id, hb->instance_id, (long long)silent);
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
    instance *gone = instance_detach(r, i);
    bool last = r->n == 0;
    pthread_mutex_unlock(&r->lock);
    instance_close(gone);
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
    int64_t now = gn_clock(co);
    for (size_t k = 0; k < n; k++) {
        gn_component *comp = comps[k];
        if (comp->kind != GN_REMOTE) {
            gn_component_release(comp);
            continue;
        }
        genesis_policy pol;
        gn_component_policy(comp, &pol);
        int64_t grace =
            pol.per_try_timeout_ms > GRACE_MIN_MS ? pol.per_try_timeout_ms : GRACE_MIN_MS;
        instance *gone[MAX_INSTANCES];
        unsigned int n_gone = 0;
        gn_remote *r = comp->remote;
        pthread_mutex_lock(&r->lock);
        for (unsigned int i = 0; i < r->n;) {
            instance *in = r->inst[i];
            gn_phi_params p;
            gn_phi_params_for(&p, heartbeat_every(co, in), co->opts.heartbeat_misses);
            int64_t silent = now - in->phi.last_ms;
            /* ... and never shorter than twice the pause its heartbeat interval is allowed. */
            int64_t own_grace = (int64_t)(2 * p.acceptable_pause_ms) > grace
                                    ? (int64_t)(2 * p.acceptable_pause_ms)
                                    : grace;
            if (silent > own_grace) {
                gn_log(&co->log, GENESIS_LOG_WARN,
                       "component %s instance %s at %s silent %lld ms (grace %lld ms): "
                       "connection closed; it must register again",
                       comp->id, in->instance_id, in->url, (long long)silent, (long long)own_grace);
                gone[n_gone++] = instance_detach(r, i);
                continue;
            }
            double phi = gn_phi_value(&in->phi, &p, now);
            /* A process that died also lost its connection: silent for a few heartbeats
             * without one is a verdict at once (a paused one keeps its connection and gets
             * the detector's patience). */
            int64_t lost_after = 3 * (int64_t)heartbeat_every(co, in);
            if (!in->suspect && atomic_load(&in->lost) && silent > lost_after) {
                in->suspect = true;
                gn_log(&co->log, GENESIS_LOG_WARN,
                       "component %s instance %s at %s lost its connection and is silent %lld "
                       "ms: DOWN, not routed to until it heartbeats again",
                       comp->id, in->instance_id, in->url, (long long)silent);
            }
            if (!in->suspect && phi > p.threshold) {
                in->suspect = true;
                gn_log(&co->log, GENESIS_LOG_WARN,
                       "component %s instance %s at %s missed heartbeats (%lld ms silent, phi "
                       "%.1f): DOWN, not routed to until it heartbeats again (its requests in "
                       "flight continue)",
                       comp->id, in->instance_id, in->url, (long long)silent, phi);
            }
            i++;
        }
        pthread_mutex_unlock(&r->lock);
        for (unsigned int g = 0; g < n_gone; g++)
            instance_close(gone[g]);
        gn_component_release(comp);
    }
    free(comps);
}

bool gn_remote_is_up(gn_component *comp)
{
    gn_remote *r = comp->remote;
    pthread_mutex_lock(&r->lock);
    bool up = false;
    for (unsigned int i = 0; i < r->n && !up; i++)
        up = !r->inst[i]->suspect;
    pthread_mutex_unlock(&r->lock);
    return up;
}

uint64_t gn_remote_last_registration(gn_component *comp)
{
    gn_remote *r = comp->remote;
    pthread_mutex_lock(&r->lock);
    uint64_t seq = r->last_registration;
    pthread_mutex_unlock(&r->lock);
    return seq;
}

unsigned int gn_remote_describe(gn_component *comp, char **urls, unsigned int max)
{
    gn_remote *r = comp->remote;
    pthread_mutex_lock(&r->lock);
    unsigned int n = r->n < max ? r->n : max;
    for (unsigned int i = 0; i < n; i++)
        urls[i] = gn_strdup(r->inst[i]->url);
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
        if (res != NULL && code != GENESIS_OK)
            res->retry_delay_ms = reply->retry_delay_ms;
    }
    unsigned int held = atomic_fetch_sub(&f->comp->remote->in_flight, 1);
    GN_ASSERT(held > 0);
    gn_attempt_fn done = f->done;
    void *done_arg = f->arg;
    free(f);
    done(done_arg, res, stage);
}

/* The socket of the next routable instance, round robin among those not suspected: first
 * the connected ones, then those not connected yet (a fresh registration), then those that
 * lost their connection (most likely a process that died and is not suspected yet: a request
 * there waits for a redial). False when every instance is suspected. */
static bool pick_instance(gn_remote *r, nng_socket *out)
{
    pthread_mutex_lock(&r->lock);
    unsigned int start = atomic_fetch_add(&r->next, 1);
    int found = -1;
    for (int pass = 0; pass < 3 && found < 0; pass++)
        for (unsigned int k = 0; k < r->n && found < 0; k++) {
            instance *in = r->inst[(start + k) % r->n];
            bool connected = atomic_load(&in->pipes) > 0;
            bool ok = pass == 0   ? connected
                      : pass == 1 ? !connected && !atomic_load(&in->lost)
                                  : true;
            if (!in->suspect && ok)
                found = (int)((start + k) % r->n);
        }
    if (found >= 0)
        *out = r->inst[found]->req;
    pthread_mutex_unlock(&r->lock);
    return found >= 0;
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
    nng_socket sock = NNG_SOCKET_INITIALIZER;
    if (!pick_instance(comp->remote, &sock))
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
        if (gn_rpc_start(sock, msg, timeout_ms, co->opts.max_message_size, forward_done, f) ==
            GENESIS_OK)
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
