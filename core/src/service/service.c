/* The remote component role: a REP socket the coordinator dials (one context per concurrent
 * request, handlers on worker threads), registration and heartbeats over a REQ socket to the
 * front door (re-registering on its own when the coordinator forgot it), and local events
 * from the event bus. Given the front doors of several cluster nodes, the service registers
 * with each over its own REQ socket, heartbeats each, and registers again with a node that
 * comes back; emits and checkpoints go to whichever node is connected. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/assert.h"
#include "base/component.h"
#include "base/common.h"
#include "base/completion.h"
#include "base/options.h"
#include "genesis/resilience.h"
#include "genesis/service.h"
#include "resilience/fault.h"
#include "wire/listener_guard.h"
#include "base/objects.h"
#include "wire/rpc.h"
#include "wire/socket_util.h"
#include "wire/subscriber.h"
#include "wire/url_list.h"
#include "wire/wire.h"
#include "base/worker_pool.h"

#define UNREGISTER_WAIT_MS         1000u
#define LISTENER_PROBE_INTERVAL_MS 3000u
#define CHECKPOINT_OVERHEAD        512u   /* envelope bytes around a checkpoint's state */
#define TLS_PROBE_MS               10000u /* connect's one handshake attempt, at most */

/* One coordinator node the service registers with: its own REQ socket, so heartbeats and
 * registrations reach exactly that node. Flags guarded by the service's lock. */
typedef struct svc_node {
    struct genesis_service *svc;
    nng_socket req;
    nng_dialer dialer; /* to its front door */
    bool opened;
    char url[256];       /* for dialing again */
    unsigned int unsent; /* heartbeats in a row that no pipe took (see redial_if_wedged) */
    bool registering;    /* a Register to this node is in flight */
    bool heartbeat_pending;
} svc_node;

typedef struct svc_ctx {
    gn_task task; /* the handler, on the requests lane */
    struct genesis_service *svc;
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
    gn_envelope *env; /* the request being served */
} svc_ctx;

struct genesis_service {
    char *id;
    genesis_component callbacks;
    genesis_service_options opts;
    gn_logger log;
    char instance_id[64];
    char url[256];
    gn_pool *pool;
    gn_lane requests;

    nng_socket rep;
    nng_listener listener;
    gn_tls *tls;     /* for tls+tcp:// URLs; NULL = none */
    gn_guard *guard; /* re-creates the listener if NNG 1.5.2 wedges it */
    atomic_uint_fast64_t listener_restarts;
    bool listening;
    svc_ctx *ctxs;
    unsigned int nctx;

    pthread_mutex_t lock;
    pthread_cond_t idle_cv;
    unsigned int outstanding; /* rpcs to the coordinator in flight */
    bool connected;
    bool stopping;
    svc_node nodes[GN_MAX_URLS];
    unsigned int nnodes;
    nng_socket any;              /* emits and checkpoints: every front door (nodes[0].req if one) */
    bool any_own;                /* any is a socket of its own */
    pthread_cond_t reg_cv;       /* connect's and free's waits for their exchanges with all nodes */
    unsigned int node_exchanges; /* connect's registrations pending */
    unsigned int unregisters;    /* free's unregistrations pending */
    bool connect_ok;             /* a node accepted connect's registration */
    int connect_status;          /* else the first failure, for connect's error */
    char connect_error[300];
    nng_aio *hb_timer;
    uint32_t hb_interval_ms;
    uint64_t hb_sequence;

    gn_subscriber *sub; /* local events from the bus, when on_event is set */

    /* Restore from the coordinator's checkpoint before serving (guarded by lock). */
    pthread_cond_t ready_cv;
    bool ready;             /* requests may be served */
    bool restore_pending;   /* the RegisterAck carried a checkpoint not yet handed over */
    bool restore_scheduled; /* restore_task is queued (registration completed late) */
    gn_task restore_task;
    uint8_t *restore_data;
    size_t restore_len;
    uint64_t restore_generation;
    atomic_uint_fast64_t checkpoint_sequence;

    atomic_uint_fast64_t served;
    gn_fault_state fault;           /* injected faults (chaos runs) */
    atomic_uint_fast64_t fault_rng; /* draws for the injected error rate */
};

/* The bytes of each options version, oldest first. */
static const size_t OPTIONS_SIZES[GENESIS_SERVICE_OPTIONS_VERSION] = {
    offsetof(genesis_service_options, tls_ca_file), /* 1 */
    sizeof(genesis_service_options),                /* 2 */
};

int genesis_service_options_init(genesis_service_options *opts, unsigned int version)
{
    gn_clear_error();
    genesis_service_options o;
    memset(&o, 0, sizeof(o));
    o.max_concurrency = GN_DEFAULT_MAX_CONCURRENCY;
    o.max_message_size = GN_DEFAULT_MAX_MESSAGE;
    o.event_queue_depth = GN_DEFAULT_EVENT_QUEUE;
    o.log_level = GENESIS_LOG_WARN; /* a library is quiet unless asked */
    return gn_options_init(opts, version, &o, OPTIONS_SIZES, GENESIS_SERVICE_OPTIONS_VERSION,
                           "service options");
}

/* ---- serving requests ---------------------------------------------------------------------- */

static void ctx_send(svc_ctx *c, nng_msg *msg)
{
    if (msg == NULL) {
        c->sending = false;
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    c->sending = true;
    nng_aio_set_msg(c->aio, msg);
    nng_ctx_send(c->ctx, c->aio);
}

static void ctx_error(svc_ctx *c, int code, int reason, const char *message)
{
    nng_msg *msg = NULL;
    gn_reply_msg(&msg, code, reason, message, NULL, 0, NULL);
    ctx_send(c, msg);
}

/* Requests that arrive between the registration and the restore wait for the restore. */
static void wait_ready(genesis_service *svc)
{
    pthread_mutex_lock(&svc->lock);
    while (!svc->ready && !svc->stopping)
        pthread_cond_wait(&svc->ready_cv, &svc->lock);
    pthread_mutex_unlock(&svc->lock);
}

static void set_ready(genesis_service *svc)
{
    pthread_mutex_lock(&svc->lock);
    svc->ready = true;
    pthread_cond_broadcast(&svc->ready_cv);
    pthread_mutex_unlock(&svc->lock);
}

static void serve(gn_task *task)
{
    svc_ctx *c = (svc_ctx *)task;
    genesis_service *svc = c->svc;
    wait_ready(svc);
    const Genesis__V1__Request *r = c->env->request;
    size_t len = 0;
    const uint8_t *data = gn_payload_data(r->payload, &len);
    /* Handlers get a NUL-terminated copy, as the API promises. */
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL) {
        gn_envelope_free(c->env);
        c->env = NULL;
        ctx_error(c, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "out of memory");
        return;
    }
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    uint32_t timeout = r->timeout_ms > 0 ? r->timeout_ms : GN_DEFAULT_TIMEOUT_MS;
    struct genesis_request req = {.type = r->type,
                                  .source = r->source,
                                  .target = svc->id,
                                  .content_type = gn_payload_content_type(r->payload),
                                  .data = copy,
                                  .len = len,
                                  .criticality = (int)r->criticality,
                                  .deadline_ms = gn_now_ms() + timeout,
                                  .id = r->request_id};
    genesis_reply reply;
    gn_reply_init(&reply, svc->opts.max_message_size);
    genesis_result *injected = NULL;
    if (gn_fault_on(&svc->fault)) {
        uint64_t draw =
            atomic_fetch_add(&svc->fault_rng, 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
        injected = gn_fault_apply(&svc->fault, svc->id, draw ^ (draw >> 31), true);
    }
    if (injected != NULL) {
        genesis_reply_error(&reply, genesis_result_status(injected),
                            genesis_result_message(injected));
        genesis_result_free(injected);
    } else {
        svc->callbacks.on_request(&req, &reply, svc->callbacks.arg);
    }
    atomic_fetch_add(&svc->served, 1);
    free(copy);
    gn_envelope_free(c->env);
    c->env = NULL;
    nng_msg *msg = NULL;
    gn_reply_msg(&msg, reply.status, reply.reason, reply.message, reply.data, reply.len,
                 reply.content_type);
    gn_reply_clear(&reply);
    ctx_send(c, msg);
}

static void ctx_cb(void *arg)
{
    svc_ctx *c = arg;
    genesis_service *svc = c->svc;
    int err = nng_aio_result(c->aio);
    if (c->sending) {
        c->sending = false;
        if (err != 0)
            nng_msg_free(nng_aio_get_msg(c->aio));
        if (err == NNG_ECLOSED || err == NNG_ECANCELED)
            return;
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    if (err == NNG_ECLOSED || err == NNG_ECANCELED)
        return;
    if (err != 0) {
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    nng_msg *msg = nng_aio_get_msg(c->aio);
    int reason = GENESIS_REASON_NONE;
    char why[256] = "";
    int rv = gn_envelope_decode(nng_msg_body(msg), nng_msg_len(msg), svc->opts.max_message_size,
                                &c->env, &reason, why, sizeof(why));
    nng_msg_free(msg);
    if (rv != GENESIS_OK) {
        gn_log(&svc->log, GENESIS_LOG_WARN, "service %s rejected a message: %s", svc->id, why);
        ctx_error(c, rv, reason, why);
        return;
    }
    if (c->env->body_case != GENESIS__V1__ENVELOPE__BODY_REQUEST) {
        gn_envelope_free(c->env);
        c->env = NULL;
        ctx_error(c, GENESIS_UNIMPLEMENTED, GENESIS_REASON_UNKNOWN_MESSAGE,
                  "a component serves requests only");
        return;
    }
    if (gn_lane_submit(&svc->requests, &c->task) != GENESIS_OK) {
        gn_envelope_free(c->env);
        c->env = NULL;
        ctx_error(c, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                  "the component is shutting down");
    }
}

/* ---- events from the bus ------------------------------------------------------------------- */

/* A component never gets its own events. Runs on an NNG thread. */
static bool not_own_event(const gn_wire_event *ev, void *arg)
{
    const genesis_service *svc = arg;
    return strcmp(ev->source, svc->id) != 0;
}

static void deliver_event(const genesis_event *ev, void *arg)
{
    genesis_service *svc = arg;
    svc->callbacks.on_event(ev, svc->callbacks.arg);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

int genesis_service_new(genesis_service **out, const char *id, const genesis_component *component,
                        const genesis_service_options *opts)
{
    gn_clear_error();
    if (out == NULL || component == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "service_new: NULL out or component");
    *out = NULL;
    if (component->version < 1 || component->version > GENESIS_COMPONENT_VERSION ||
        component->on_request == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "service_new: unknown component version or no on_request");
    if (!gn_valid_id(id))
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "service_new: invalid id (1..%u bytes of [A-Za-z0-9._-])", GN_MAX_ID_LEN);
    genesis_service_options o;
    genesis_service_options_init(&o, GENESIS_SERVICE_OPTIONS_VERSION);
    int rv = gn_options_merge(&o, opts, OPTIONS_SIZES, GENESIS_SERVICE_OPTIONS_VERSION,
                              "service options");
    if (rv != GENESIS_OK)
        return rv;
    o.version = GENESIS_SERVICE_OPTIONS_VERSION;
    gn_tls *tls = NULL;
    int tls_rv = GN_TLS_FROM_OPTIONS(&tls, &o, "service");
    if (tls_rv != GENESIS_OK)
        return tls_rv; /* the message names the file and the reason */
    if (o.max_concurrency == 0)
        o.max_concurrency = GN_DEFAULT_MAX_CONCURRENCY;
    if (o.max_message_size == 0)
        o.max_message_size = GN_DEFAULT_MAX_MESSAGE;
    if (o.event_queue_depth == 0)
        o.event_queue_depth = GN_DEFAULT_EVENT_QUEUE;

    genesis_service *svc = calloc(1, sizeof(*svc));
    if (svc == NULL) {
        gn_tls_free(tls);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "service_new: out of memory");
    }
    svc->tls = tls;
    svc->id = gn_strdup(id);
    gn_component_copy(&svc->callbacks, component);
    svc->opts = o;
    svc->log = (gn_logger){.level = o.log_level, .fn = o.log, .arg = o.log_arg};
    snprintf(svc->instance_id, sizeof(svc->instance_id), "%s-%ld-%" PRId64, id, (long)getpid(),
             gn_wall_ms());
    /* Handlers may block: one worker per concurrent request, one for events, and one for a
     * late restore while requests wait for it. */
    svc->pool = gn_pool_new(2, o.max_concurrency + 2);
    pthread_mutex_init(&svc->lock, NULL);
    pthread_cond_init(&svc->idle_cv, NULL);
    gn_fault_state_init(&svc->fault);
    atomic_init(&svc->fault_rng, (uint64_t)gn_wall_ms() ^ (uint64_t)getpid() << 32);
    pthread_cond_init(&svc->ready_cv, NULL);
    pthread_cond_init(&svc->reg_cv, NULL);
    if (svc->id == NULL || svc->pool == NULL) {
        genesis_service_free(svc);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "service_new: out of memory");
    }
    gn_lane_init(&svc->requests, svc->pool, o.max_concurrency, GN_LANE_UNBOUNDED);
    *out = svc;
    return GENESIS_OK;
}

int genesis_service_listen(genesis_service *svc, const char *url)
{
    gn_clear_error();
    if (svc == NULL || url == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "service_listen: NULL argument");
    if (svc->listening)
        return gn_fail(GENESIS_FAILED_PRECONDITION, "service_listen: already listening");
    int err = nng_rep0_open(&svc->rep);
    if (err != 0)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "service_listen: %s", nng_strerror(err));
    nng_socket_set_size(svc->rep, NNG_OPT_RECVMAXSZ, svc->opts.max_message_size + 4096);
    svc->ctxs = calloc(svc->opts.max_concurrency, sizeof(*svc->ctxs));
    if (svc->ctxs == NULL) {
        nng_close(svc->rep);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "service_listen: out of memory");
    }
    for (svc->nctx = 0; svc->nctx < svc->opts.max_concurrency; svc->nctx++) {
        svc_ctx *c = &svc->ctxs[svc->nctx];
        c->svc = svc;
        c->task.run = serve;
        if (nng_aio_alloc(&c->aio, ctx_cb, c) != 0)
            break;
        if (nng_ctx_open(&c->ctx, svc->rep) != 0) {
            nng_aio_free(c->aio);
            break;
        }
    }
    int rv = svc->nctx > 0
                 ? gn_listen_url(svc->rep, url, svc->tls, &svc->log, "a service's request listener",
                                 &svc->listener, svc->url, sizeof(svc->url))
                 : gn_fail(GENESIS_RESOURCE_EXHAUSTED, "service_listen: no contexts");
    if (rv != GENESIS_OK) {
        nng_close(svc->rep);
        for (unsigned int i = 0; i < svc->nctx; i++)
            nng_aio_free(svc->ctxs[i].aio);
        free(svc->ctxs);
        svc->ctxs = NULL;
        svc->nctx = 0;
        return rv;
    }
    svc->listening = true;
    for (unsigned int i = 0; i < svc->nctx; i++)
        nng_ctx_recv(svc->ctxs[i].ctx, svc->ctxs[i].aio);
    svc->guard = gn_guard_new(&svc->log, LISTENER_PROBE_INTERVAL_MS, &svc->listener_restarts);
    if (svc->guard != NULL)
        gn_guard_watch(svc->guard, svc->rep, svc->listener, svc->url, GN_SP_PROTO_REQ, "component");
    return GENESIS_OK;
}

int genesis_service_get_url(genesis_service *svc, char *buf, size_t size)
{
    gn_clear_error();
    if (svc == NULL || buf == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "service_url: NULL argument");
    if (!svc->listening)
        return gn_fail(GENESIS_NOT_FOUND, "service_url: not listening");
    if (strlen(svc->url) >= size)
        return gn_fail(GENESIS_OUT_OF_RANGE, "service_url: buffer too small");
    memcpy(buf, svc->url, strlen(svc->url) + 1);
    return GENESIS_OK;
}

/* ---- talking to the coordinator ------------------------------------------------------------ */

typedef void (*svc_rpc_fn)(genesis_service *svc, int status, int reason, const char *why,
                           gn_wire_reply *reply, void *arg);

typedef struct svc_rpc {
    genesis_service *svc;
    svc_rpc_fn fn;
    void *arg;
} svc_rpc;

/* Register, heartbeat and unregister go to one node; emits and checkpoints to any node. */
static nng_socket node_socket(genesis_service *svc, svc_node *node)
{
    return node != NULL ? node->req : svc->any;
}

static void svc_rpc_done(int status, int reason, const char *why, gn_wire_reply *reply, void *arg)
{
    svc_rpc *sr = arg;
    genesis_service *svc = sr->svc;
    sr->fn(svc, status, reason, why, reply, sr->arg);
    free(sr);
    pthread_mutex_lock(&svc->lock);
    GN_ASSERT(svc->outstanding > 0);
    if (--svc->outstanding == 0)
        pthread_cond_broadcast(&svc->idle_cv);
    pthread_mutex_unlock(&svc->lock);
}

/* Send env to node's front door (NULL: any node's); fn runs exactly once (on an NNG thread)
 * when GENESIS_OK. */
static int svc_rpc_start(genesis_service *svc, svc_node *node, gn_envelope *env,
                         uint32_t timeout_ms, svc_rpc_fn fn, void *arg)
{
    pthread_mutex_lock(&svc->lock);
    svc->outstanding++;
    pthread_mutex_unlock(&svc->lock);
    svc_rpc *sr = malloc(sizeof(*sr));
    nng_msg *msg = NULL;
    int rv = GENESIS_RESOURCE_EXHAUSTED;
    if (sr != NULL && gn_envelope_encode(env, &msg) == GENESIS_OK) {
        *sr = (svc_rpc){svc, fn, arg};
        rv = gn_rpc_start(node_socket(svc, node), msg, timeout_ms, svc->opts.max_message_size,
                          svc_rpc_done, sr);
        if (rv == GENESIS_OK)
            return GENESIS_OK;
    }
    free(sr);
    pthread_mutex_lock(&svc->lock);
    GN_ASSERT(svc->outstanding > 0);
    if (--svc->outstanding == 0)
        pthread_cond_broadcast(&svc->idle_cv);
    pthread_mutex_unlock(&svc->lock);
    return rv;
}

/* Keep the checkpoint of the first RegisterAck for genesis_service_connect to restore (the
 * reply is freed when the exchange ends; restore may block, so not here on an NNG thread). */
static void stash_checkpoint(genesis_service *svc, const Genesis__V1__RegisterAck *ack)
{
    if (svc->callbacks.restore == NULL)
        return;
    size_t len = ack->checkpoint_state.len;
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL) {
        gn_log(&svc->log, GENESIS_LOG_ERROR,
               "service %s: out of memory keeping its checkpoint (generation %llu)", svc->id,
               (unsigned long long)ack->checkpoint_generation);
        return;
    }
    if (len > 0)
        memcpy(copy, ack->checkpoint_state.data, len);
    copy[len] = '\0';
    pthread_mutex_lock(&svc->lock);
    if (!svc->ready && !svc->restore_pending) {
        svc->restore_pending = true;
        svc->restore_data = copy;
        svc->restore_len = len;
        svc->restore_generation = ack->checkpoint_generation;
        copy = NULL;
    }
    pthread_mutex_unlock(&svc->lock);
    free(copy);
}

/* Hand the stashed checkpoint to restore, then let requests in. */
static void restore_and_serve(genesis_service *svc)
{
    pthread_mutex_lock(&svc->lock);
    bool pending = svc->restore_pending;
    uint8_t *data = svc->restore_data;
    size_t len = svc->restore_len;
    uint64_t gen = svc->restore_generation;
    svc->restore_pending = false;
    svc->restore_data = NULL;
    pthread_mutex_unlock(&svc->lock);
    if (pending) {
        int rv = svc->callbacks.restore(data, len, gen, svc->callbacks.arg);
        if (rv == GENESIS_OK)
            gn_log(&svc->log, GENESIS_LOG_INFO, "service %s restored from generation %llu", svc->id,
                   (unsigned long long)gen);
        else
            gn_log(&svc->log, GENESIS_LOG_ERROR,
                   "service %s: restore rejected checkpoint generation %llu (%s); serving "
                   "without it",
                   svc->id, (unsigned long long)gen, genesis_status_name(rv));
    }
    free(data);
    set_ready(svc);
}

static void restore_task_run(gn_task *task)
{
    genesis_service *svc =
        (genesis_service *)((char *)task - offsetof(genesis_service, restore_task));
    restore_and_serve(svc);
}

/* The first registration completed after genesis_service_connect gave up (the coordinator
 * was not up yet): restore (it may block) on a worker, then serve. ack may be NULL (the
 * registration reply was lost but the heartbeats are accepted: serve without a restore). */
static void restore_later(genesis_service *svc, const Genesis__V1__RegisterAck *ack)
{
    pthread_mutex_lock(&svc->lock);
    bool go = !svc->ready && !svc->restore_scheduled && !svc->stopping;
    if (go)
        svc->restore_scheduled = true;
    pthread_mutex_unlock(&svc->lock);
    if (!go)
        return;
    if (ack != NULL && ack->has_checkpoint)
        stash_checkpoint(svc, ack);
    else if (ack == NULL)
        gn_log(&svc->log, GENESIS_LOG_WARN,
               "service %s is registered but its registration reply was lost: serving without "
               "a restore",
               svc->id);
    svc->restore_task.run = restore_task_run;
    if (gn_pool_submit(svc->pool, &svc->restore_task) != GENESIS_OK)
        restore_and_serve(svc);
}

/* Note what a RegisterAck brings: the heartbeat interval the coordinator asks for, and the
 * checkpoint to restore. */
static void note_register_ack(genesis_service *svc, int status, const gn_wire_reply *reply)
{
    if (status != GENESIS_OK || reply->code != GENESIS_OK ||
        reply->detail_case != GENESIS__V1__REPLY__DETAIL_REGISTER_ACK)
        return;
    if (svc->opts.heartbeat_interval_ms == 0 && reply->register_ack->heartbeat_interval_ms > 0) {
        pthread_mutex_lock(&svc->lock);
        svc->hb_interval_ms = reply->register_ack->heartbeat_interval_ms;
        pthread_mutex_unlock(&svc->lock);
    }
    if (reply->register_ack->has_checkpoint)
        stash_checkpoint(svc, reply->register_ack);
}

/* Hand a finished exchange to a synchronous waiter as a result. */
static void to_waiter(genesis_service *svc, int status, int reason, const char *why,
                      gn_wire_reply *reply, void *arg)
{
    genesis_result *res;
    if (status != GENESIS_OK)
        res = gn_result_errorf(
            status, reason == GENESIS_REASON_SHUTTING_DOWN ? reason : GENESIS_REASON_UNREACHABLE,
            "coordinator: %s", why);
    else
        res = gn_result_new((int)reply->code, (int)reply->reason, reply->message, NULL, 0, NULL);
    note_register_ack(svc, status, reply);
    gn_waiter_wake(res, arg);
}

/* Send env to any node and wait for the answer: a result always comes back (NULL only when
 * out of memory), also when the exchange could not start. */
static genesis_result *svc_call(genesis_service *svc, gn_envelope *env, uint32_t timeout_ms)
{
    gn_waiter *w = gn_waiter_new();
    if (w == NULL)
        return NULL;
    int rv = svc_rpc_start(svc, NULL, env, timeout_ms, to_waiter, w);
    if (rv != GENESIS_OK) {
        gn_waiter_free(w);
        return gn_result_errorf(rv,
                                rv == GENESIS_RESOURCE_EXHAUSTED ? GENESIS_REASON_NO_MEMORY
                                                                 : GENESIS_REASON_TRANSPORT_ERROR,
                                "cannot send to the coordinator: %s", genesis_strerror(rv));
    }
    return gn_waiter_wait(w);
}

static void build_register(genesis_service *svc, gn_envelope *env, Genesis__V1__Register *reg)
{
    genesis__v1__envelope__init(env);
    genesis__v1__register__init(reg);
    reg->component_id = svc->id;
    reg->url = svc->url;
    reg->instance_id = svc->instance_id;
    reg->heartbeat_interval_ms =
        svc->opts.heartbeat_interval_ms > 0 ? svc->opts.heartbeat_interval_ms : 0;
    reg->max_concurrency = svc->opts.max_concurrency;
    env->body_case = GENESIS__V1__ENVELOPE__BODY_REGISTER;
    env->register_ = reg;
}

static void reregistered(genesis_service *svc, int status, int reason, const char *why,
                         gn_wire_reply *reply, void *arg)
{
    (void)reason;
    svc_node *node = arg;
    pthread_mutex_lock(&svc->lock);
    node->registering = false;
    pthread_mutex_unlock(&svc->lock);
    if (status == GENESIS_OK && reply->code == GENESIS_OK) {
        gn_log(&svc->log, GENESIS_LOG_INFO,
               "service %s registered again with the coordinator at %s", svc->id, node->url);
        restore_later(svc, reply->detail_case == GENESIS__V1__REPLY__DETAIL_REGISTER_ACK
                               ? reply->register_ack
                               : NULL);
    } else
        gn_log(&svc->log, GENESIS_LOG_WARN, "service %s: registering again at %s failed: %s",
               svc->id, node->url, status != GENESIS_OK ? why : reply->message);
}

static void heartbeat_done(genesis_service *svc, int status, int reason, const char *why,
                           gn_wire_reply *reply, void *arg)
{
    (void)why;
    svc_node *node = arg;
    bool forgotten = status == GENESIS_OK && reply->code == GENESIS_NOT_FOUND;
    pthread_mutex_lock(&svc->lock);
    node->unsent =
        status != GENESIS_OK && reason == GENESIS_REASON_UNREACHABLE ? node->unsent + 1 : 0;
    bool registering = node->registering;
    pthread_mutex_unlock(&svc->lock);
    /* Accepted while connect's own registration failed (its reply was lost): serve. Not while
     * a registration is in flight: its reply carries the checkpoint. No-op once serving. */
    if (status == GENESIS_OK && reply->code == GENESIS_OK && !registering)
        restore_later(svc, NULL);
    pthread_mutex_lock(&svc->lock);
    node->heartbeat_pending = false;
    bool start = forgotten && !node->registering && !svc->stopping;
    if (start)
        node->registering = true;
    uint32_t timeout = svc->hb_interval_ms * 5 > 1000 ? svc->hb_interval_ms * 5 : 1000;
    pthread_mutex_unlock(&svc->lock);
    if (!start)
        return;
    /* The node restarted (or came back) or declared us down: announce ourselves again. */
    gn_envelope env;
    Genesis__V1__Register reg;
    build_register(svc, &env, &reg);
    if (svc_rpc_start(svc, node, &env, timeout, reregistered, node) != GENESIS_OK) {
        pthread_mutex_lock(&svc->lock);
        node->registering = false;
        pthread_mutex_unlock(&svc->lock);
    }
}

/* NNG 1.5.2's REQ socket can stop sending after its peer restarted: requests wait for a pipe
 * that is connected but never marked ready again (the same race mangos fixed in its #201),
 * until another pipe attaches. When several heartbeats in a row found no pipe to take them,
 * dial again: the new pipe unwedges the socket, and an honest outage costs one redial. */
#define REDIAL_AFTER_UNSENT 5u

static void redial_if_wedged(genesis_service *svc, svc_node *node)
{
    pthread_mutex_lock(&svc->lock);
    bool redial = node->unsent >= REDIAL_AFTER_UNSENT && !svc->stopping;
    if (redial)
        node->unsent = 0;
    pthread_mutex_unlock(&svc->lock);
    if (!redial)
        return;
    gn_log(&svc->log, GENESIS_LOG_WARN,
           "service %s: %u heartbeats in a row found no connection to %s: dialing again", svc->id,
           REDIAL_AFTER_UNSENT, node->url);
    nng_dialer_close(node->dialer);
    if (gn_dial_url(node->req, node->url, svc->tls, &node->dialer) != 0)
        gn_log(&svc->log, GENESIS_LOG_WARN, "service %s: dialing %s again failed", svc->id,
               node->url);
}

static void heartbeat_tick(void *arg)
{
    genesis_service *svc = arg;
    if (nng_aio_result(svc->hb_timer) != 0)
        return; /* stopped */
    pthread_mutex_lock(&svc->lock);
    uint64_t seq = ++svc->hb_sequence;
    uint32_t interval = svc->hb_interval_ms;
    pthread_mutex_unlock(&svc->lock);
    for (unsigned int i = 0; i < svc->nnodes; i++) {
        svc_node *node = &svc->nodes[i];
        redial_if_wedged(svc, node);
        pthread_mutex_lock(&svc->lock);
        bool send = !node->heartbeat_pending && !svc->stopping;
        if (send)
            node->heartbeat_pending = true;
        pthread_mutex_unlock(&svc->lock);
        if (!send)
            continue;
        gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
        Genesis__V1__Heartbeat hb = GENESIS__V1__HEARTBEAT__INIT;
        hb.component_id = svc->id;
        hb.instance_id = svc->instance_id;
        hb.sequence = seq;
        env.body_case = GENESIS__V1__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        /* A heartbeat that outlives a few intervals is abandoned; the next one retries. */
        if (svc_rpc_start(svc, node, &env, interval * 3, heartbeat_done, node) != GENESIS_OK) {
            pthread_mutex_lock(&svc->lock);
            node->heartbeat_pending = false;
            pthread_mutex_unlock(&svc->lock);
        }
    }
    nng_sleep_aio((nng_duration)interval, svc->hb_timer);
}

/* A REQ socket for talking to the coordinator, dialed to url (or to every URL of urls). */
static int open_req(genesis_service *svc, nng_socket *sock, const gn_url_list *urls,
                    const char *url, nng_dialer *dialer)
{
    int err = nng_req0_open(sock);
    if (err != 0)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "connect: %s", nng_strerror(err));
    gn_rpc_configure(*sock, svc->opts.max_message_size);
    nng_socket_set_ms(*sock, NNG_OPT_RECONNMINT, 10);
    nng_socket_set_ms(*sock, NNG_OPT_RECONNMAXT, 200);
    for (unsigned int i = 0; err == 0 && i < (urls != NULL ? urls->n : 1); i++) {
        if (urls != NULL)
            url = urls->urls[i];
        err = strlen(url) < sizeof(svc->nodes[0].url) ? gn_dial_url(*sock, url, svc->tls, dialer)
                                                      : NNG_EINVAL;
    }
    if (err != 0) {
        nng_close(*sock);
        return gn_fail(gn_status_from_nng(err, NULL), "connect: dial %s: %s", url,
                       gn_url_is_tls(url) && svc->tls == NULL ? GN_TLS_MISSING : nng_strerror(err));
    }
    return GENESIS_OK;
}

static void close_sockets(genesis_service *svc)
{
    for (unsigned int i = 0; i < svc->nnodes; i++)
        if (svc->nodes[i].opened)
            nng_close(svc->nodes[i].req);
    if (svc->any_own)
        nng_close(svc->any);
}

static int open_sockets(genesis_service *svc, const gn_url_list *urls, const char *event_bus_url)
{
    int rv = GENESIS_OK;
    for (unsigned int i = 0; i < urls->n && rv == GENESIS_OK; i++) {
        svc_node *node = &svc->nodes[i];
        *node = (svc_node){.svc = svc};
        snprintf(node->url, sizeof(node->url), "%s", urls->urls[i]);
        rv = open_req(svc, &node->req, NULL, urls->urls[i], &node->dialer);
        node->opened = rv == GENESIS_OK;
        svc->nnodes = i + 1;
    }
    svc->any = svc->nodes[0].req;
    if (rv == GENESIS_OK && urls->n > 1) {
        rv = open_req(svc, &svc->any, urls, NULL, NULL);
        svc->any_own = rv == GENESIS_OK;
    }
    if (rv == GENESIS_OK && nng_aio_alloc(&svc->hb_timer, heartbeat_tick, svc) != 0)
        rv = gn_fail(GENESIS_RESOURCE_EXHAUSTED, "connect: out of memory");
    if (rv != GENESIS_OK || event_bus_url == NULL || svc->callbacks.on_event == NULL) {
        if (rv != GENESIS_OK)
            close_sockets(svc);
        return rv;
    }
    gn_subscriber_hooks hooks = {.accept = not_own_event, .deliver = deliver_event, .arg = svc};
    rv = gn_subscriber_open(&svc->sub, event_bus_url, svc->tls, svc->pool,
                            svc->opts.event_queue_depth, svc->opts.max_message_size, &hooks);
    if (rv == GENESIS_OK)
        rv = gn_subscriber_subscribe(svc->sub, GN_TOPIC_LOCAL);
    if (rv == GENESIS_OK) { /* external events directed at this component (WebSocket clients) */
        char directed[GN_MAX_ID_LEN + 8];
        snprintf(directed, sizeof(directed), GN_TOPIC_DIRECTED "%s:", svc->id);
        rv = gn_subscriber_subscribe(svc->sub, directed);
    }
    if (rv != GENESIS_OK) {
        gn_subscriber_free(svc->sub);
        svc->sub = NULL;
        nng_aio_free(svc->hb_timer);
        close_sockets(svc);
    }
    return rv;
}

/* connect's registration at one node finished. */
static void registered_at_node(genesis_service *svc, int status, int reason, const char *why,
                               gn_wire_reply *reply, void *arg)
{
    svc_node *node = arg;
    note_register_ack(svc, status, reply);
    bool ok = status == GENESIS_OK && reply->code == GENESIS_OK;
    pthread_mutex_lock(&svc->lock);
    node->registering = false;
    if (ok) {
        svc->connect_ok = true;
    } else if (svc->connect_status == GENESIS_OK) {
        svc->connect_status = status != GENESIS_OK ? status : (int)reply->code;
        int r = status != GENESIS_OK
                    ? (reason == GENESIS_REASON_SHUTTING_DOWN ? reason : GENESIS_REASON_UNREACHABLE)
                    : (int)reply->reason;
        snprintf(svc->connect_error, sizeof(svc->connect_error), "%s at %s (%s)",
                 status != GENESIS_OK ? why : reply->message, node->url, genesis_reason_name(r));
    }
    GN_ASSERT(svc->node_exchanges > 0);
    svc->node_exchanges--;
    pthread_cond_broadcast(&svc->reg_cv);
    pthread_mutex_unlock(&svc->lock);
}

/* Register with every node at once; wait until one accepted or all answered. */
static int register_everywhere(genesis_service *svc, uint32_t timeout_ms)
{
    pthread_mutex_lock(&svc->lock);
    svc->connect_ok = false;
    svc->connect_status = GENESIS_OK;
    svc->connect_error[0] = '\0';
    pthread_mutex_unlock(&svc->lock);
    for (unsigned int i = 0; i < svc->nnodes; i++) {
        svc_node *node = &svc->nodes[i];
        gn_envelope env;
        Genesis__V1__Register reg;
        build_register(svc, &env, &reg);
        pthread_mutex_lock(&svc->lock);
        node->registering = true;
        svc->node_exchanges++;
        pthread_mutex_unlock(&svc->lock);
        int rv = svc_rpc_start(svc, node, &env, timeout_ms, registered_at_node, node);
        if (rv != GENESIS_OK) {
            pthread_mutex_lock(&svc->lock);
            node->registering = false;
            svc->node_exchanges--;
            if (svc->connect_status == GENESIS_OK) {
                svc->connect_status = rv;
                snprintf(svc->connect_error, sizeof(svc->connect_error),
                         "cannot send to the coordinator at %s: %s", node->url,
                         genesis_strerror(rv));
            }
            pthread_mutex_unlock(&svc->lock);
        }
    }
    pthread_mutex_lock(&svc->lock);
    while (!svc->connect_ok && svc->node_exchanges > 0)
        pthread_cond_wait(&svc->reg_cv, &svc->lock);
    int rv = svc->connect_ok ? GENESIS_OK : svc->connect_status;
    if (rv != GENESIS_OK)
        gn_fail(rv, "register '%s': %s", svc->id, svc->connect_error);
    pthread_mutex_unlock(&svc->lock);
    return rv;
}

int genesis_service_connect(genesis_service *svc, const char *front_door_url,
                            const char *event_bus_url, uint32_t timeout_ms)
{
    gn_clear_error();
    if (svc == NULL || front_door_url == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "connect: NULL service or URL");
    if (!svc->listening)
        return gn_fail(GENESIS_FAILED_PRECONDITION, "connect: call genesis_service_listen first");
    gn_url_list urls;
    char why[400];
    if (gn_url_list_parse(&urls, front_door_url, why, sizeof(why)) != 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "connect %s: %s", front_door_url, why);
    pthread_mutex_lock(&svc->lock);
    bool again = svc->connected;
    svc->connected = true;
    svc->hb_interval_ms = svc->opts.heartbeat_interval_ms > 0 ? svc->opts.heartbeat_interval_ms
                                                              : GN_DEFAULT_HEARTBEAT_MS;
    pthread_mutex_unlock(&svc->lock);
    if (again) {
        gn_url_list_clear(&urls);
        return gn_fail(GENESIS_FAILED_PRECONDITION, "connect: already connected");
    }
    int rv = GENESIS_OK;
    uint32_t budget_ms = timeout_ms > 0 ? timeout_ms : GN_DEFAULT_TIMEOUT_MS;
    int64_t started_ms = gn_now_ms();
    for (unsigned int i = 0; i < urls.n && rv == GENESIS_OK; i++) {
        if (!gn_url_is_tls(urls.urls[i]))
            continue;
        /* One handshake first: a refused certificate is an error now, not a silent retry loop
         * in the background; a coordinator that is not up yet is not an error. */
        uint32_t probe_ms = budget_ms < TLS_PROBE_MS ? budget_ms : TLS_PROBE_MS;
        int probe = gn_tls_probe(urls.urls[i], svc->tls, nng_req0_open, probe_ms, why, sizeof(why));
        if (svc->tls == NULL || gn_tls_refused(probe)) {
            gn_log(&svc->log, GENESIS_LOG_ERROR, "service %s: %s", svc->id, why);
            rv = gn_fail(GENESIS_UNAUTHENTICATED, "connect: %s", why);
        }
    }
    if (rv == GENESIS_OK)
        rv = open_sockets(svc, &urls, event_bus_url);
    gn_url_list_clear(&urls);
    if (rv != GENESIS_OK) {
        pthread_mutex_lock(&svc->lock);
        svc->connected = false;
        svc->nnodes = 0;
        svc->any_own = false;
        pthread_mutex_unlock(&svc->lock);
        return rv;
    }
    /* The probe's time comes out of the same budget (at least a second is left to register). */
    int64_t spent_ms = gn_now_ms() - started_ms;
    uint32_t left_ms = spent_ms + 1000 < (int64_t)budget_ms ? budget_ms - (uint32_t)spent_ms : 1000;
    rv = register_everywhere(svc, left_ms);
    /* Serve once registered (and restored). A failed registration is retried by the heartbeats;
     * the first one that succeeds restores and opens the gate (restore_later). */
    if (rv == GENESIS_OK)
        restore_and_serve(svc);
    /* Heartbeats start either way: after a failed registration (coordinator not up yet) the
     * first NOT_FOUND heartbeat reply registers again on its own; so does a node that was down
     * during connect once it is up. */
    nng_sleep_aio((nng_duration)svc->hb_interval_ms, svc->hb_timer);
    if (rv == GENESIS_OK)
        gn_log(&svc->log, GENESIS_LOG_INFO, "service %s registered at %s, serving %s", svc->id,
               front_door_url, svc->url);
    return rv;
}

int genesis_service_emit(genesis_service *svc, const char *type, const void *data, size_t len,
                         const genesis_call_options *opts, genesis_result **out)
{
    gn_clear_error();
    if (out != NULL)
        *out = NULL;
    if (svc == NULL || type == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "emit: NULL service, type or data");
    if (opts != NULL && !gn_call_options_version_ok(opts->version))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "call options version %u is unknown",
                       opts->version);
    pthread_mutex_lock(&svc->lock);
    bool ok = svc->connected && !svc->stopping;
    pthread_mutex_unlock(&svc->lock);
    if (!ok)
        return gn_fail(GENESIS_FAILED_PRECONDITION, "emit: the service is not connected");
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__Emit emit = GENESIS__V1__EMIT__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = (uint8_t *)data;
    payload.data.len = len;
    payload.content_type =
        (char *)(opts != NULL && opts->content_type != NULL ? opts->content_type : "");
    emit.type = (char *)type;
    emit.payload = &payload;
    emit.source = svc->id;
    emit.criticality = (Genesis__V1__Criticality)(opts != NULL ? opts->criticality : 0);
    env.body_case = GENESIS__V1__ENVELOPE__BODY_EMIT;
    env.emit = &emit;
    uint32_t timeout =
        opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : GN_DEFAULT_TIMEOUT_MS;
    genesis_result *res = svc_call(svc, &env, timeout);
    int rv = genesis_result_status(res);
    if (rv != GENESIS_OK)
        gn_fail(rv, "emit: %s", genesis_result_message(res));
    if (out != NULL)
        *out = res;
    else
        genesis_result_free(res);
    return rv;
}

typedef struct checkpoint_call {
    gn_waiter *waiter;
    uint64_t generation;
} checkpoint_call;

static void checkpoint_done(genesis_service *svc, int status, int reason, const char *why,
                            gn_wire_reply *reply, void *arg)
{
    checkpoint_call *cc = arg;
    if (status == GENESIS_OK && reply->code == GENESIS_OK &&
        reply->detail_case == GENESIS__V1__REPLY__DETAIL_CHECKPOINT_ACK)
        cc->generation = reply->checkpoint_ack->generation;
    to_waiter(svc, status, reason, why, reply, cc->waiter);
}

int genesis_service_checkpoint(genesis_service *svc, const void *data, size_t len,
                               uint32_t timeout_ms, uint64_t *generation)
{
    gn_clear_error();
    if (generation != NULL)
        *generation = 0;
    if (svc == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "checkpoint: NULL service or data");
    /* Room for the envelope around it, so the state also fits the RegisterAck that brings it
     * back (both bounded by max_message_size). */
    if (len + CHECKPOINT_OVERHEAD > svc->opts.max_message_size)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED,
                       "checkpoint: %zu bytes exceed the limit of %zu (max_message_size less %u "
                       "bytes of envelope) (MESSAGE_TOO_LARGE)",
                       len, svc->opts.max_message_size - CHECKPOINT_OVERHEAD, CHECKPOINT_OVERHEAD);
    pthread_mutex_lock(&svc->lock);
    bool ok = svc->connected && !svc->stopping;
    pthread_mutex_unlock(&svc->lock);
    if (!ok)
        return gn_fail(GENESIS_FAILED_PRECONDITION, "checkpoint: the service is not connected");
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__Checkpoint ck = GENESIS__V1__CHECKPOINT__INIT;
    ck.component_id = svc->id;
    ck.instance_id = svc->instance_id;
    ck.state.data = (uint8_t *)data;
    ck.state.len = len;
    ck.client_sequence = atomic_fetch_add(&svc->checkpoint_sequence, 1) + 1;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_CHECKPOINT;
    env.checkpoint = &ck;
    checkpoint_call cc = {.waiter = gn_waiter_new()};
    if (cc.waiter == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "checkpoint: out of memory");
    int rv = svc_rpc_start(svc, NULL, &env, timeout_ms > 0 ? timeout_ms : GN_DEFAULT_TIMEOUT_MS,
                           checkpoint_done, &cc);
    if (rv != GENESIS_OK) {
        gn_waiter_free(cc.waiter);
        return gn_fail(rv, "checkpoint: cannot send to the coordinator: %s", genesis_strerror(rv));
    }
    genesis_result *res = gn_waiter_wait(cc.waiter);
    rv = genesis_result_status(res);
    if (rv != GENESIS_OK)
        gn_fail(rv, "checkpoint of '%s' (%zu bytes): %s (%s)", svc->id, len,
                genesis_result_message(res), genesis_reason_name(genesis_result_reason(res)));
    else if (generation != NULL)
        *generation = cc.generation;
    genesis_result_free(res);
    return rv;
}

uint64_t genesis_service_get_requests_served(genesis_service *svc)
{
    return svc != NULL ? atomic_load(&svc->served) : 0;
}

static void discard_requests(gn_fifo list)
{
    for (gn_task *t; (t = gn_task_pop(&list)) != NULL;) {
        svc_ctx *c = (svc_ctx *)t;
        gn_envelope_free(c->env);
        c->env = NULL;
    }
}

int genesis_service_inject_fault(genesis_service *svc, const genesis_fault *fault)
{
    gn_clear_error();
    if (svc == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "inject_fault: NULL service");
    if (fault != NULL && gn_fault_validate(fault) != GENESIS_OK)
        return GENESIS_INVALID_ARGUMENT;
    gn_fault_set(&svc->fault, fault);
    gn_log(&svc->log, GENESIS_LOG_WARN, "service %s fault %s", svc->id,
           fault != NULL ? "injected" : "cleared");
    return GENESIS_OK;
}

static void unregistered(genesis_service *svc, int status, int reason, const char *why,
                         gn_wire_reply *reply, void *arg)
{
    (void)status, (void)reason, (void)why, (void)reply, (void)arg;
    pthread_mutex_lock(&svc->lock);
    GN_ASSERT(svc->unregisters > 0);
    svc->unregisters--;
    pthread_cond_broadcast(&svc->reg_cv);
    pthread_mutex_unlock(&svc->lock);
}

/* Say goodbye to every node at once so they stop routing here (best effort, bounded). */
static void unregister_everywhere(genesis_service *svc)
{
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__Unregister un = GENESIS__V1__UNREGISTER__INIT;
    un.component_id = svc->id;
    un.instance_id = svc->instance_id;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_UNREGISTER;
    env.unregister = &un;
    for (unsigned int i = 0; i < svc->nnodes; i++) {
        pthread_mutex_lock(&svc->lock);
        svc->unregisters++;
        pthread_mutex_unlock(&svc->lock);
        if (svc_rpc_start(svc, &svc->nodes[i], &env, UNREGISTER_WAIT_MS, unregistered, NULL) !=
            GENESIS_OK) {
            pthread_mutex_lock(&svc->lock);
            svc->unregisters--;
            pthread_mutex_unlock(&svc->lock);
        }
    }
    pthread_mutex_lock(&svc->lock);
    while (svc->unregisters > 0)
        pthread_cond_wait(&svc->reg_cv, &svc->lock);
    pthread_mutex_unlock(&svc->lock);
}

void genesis_service_free(genesis_service *svc)
{
    if (svc == NULL)
        return;
    pthread_mutex_lock(&svc->lock);
    bool connected = svc->connected;
    svc->stopping = true; /* before Unregister: a heartbeat must not register us again */
    pthread_cond_broadcast(&svc->ready_cv);
    pthread_mutex_unlock(&svc->lock);
    if (connected)
        nng_aio_stop(svc->hb_timer);
    if (connected)
        unregister_everywhere(svc);
    gn_guard_stop(svc->guard);     /* before the socket it watches closes */
    gn_fault_release(&svc->fault); /* injected hangs end */
    gn_subscriber_close(svc->sub);
    if (svc->pool != NULL) {
        discard_requests(gn_lane_close(&svc->requests));
        gn_lane_wait_idle(&svc->requests);
    }
    if (svc->listening) {
        nng_close(svc->rep);
        for (unsigned int i = 0; i < svc->nctx; i++)
            nng_aio_stop(svc->ctxs[i].aio);
    }
    if (connected) {
        close_sockets(svc); /* outstanding heartbeats complete with CANCELLED */
        pthread_mutex_lock(&svc->lock);
        while (svc->outstanding > 0)
            pthread_cond_wait(&svc->idle_cv, &svc->lock);
        pthread_mutex_unlock(&svc->lock);
        nng_aio_free(svc->hb_timer);
    }
    gn_subscriber_free(svc->sub);
    gn_pool_free(svc->pool);
    gn_guard_free(svc->guard); /* the socket is closed: no pipe callback can reach it */
    for (unsigned int i = 0; i < svc->nctx; i++) {
        gn_envelope_free(svc->ctxs[i].env);
        nng_aio_free(svc->ctxs[i].aio);
    }
    free(svc->ctxs);
    free(svc->restore_data);
    pthread_cond_destroy(&svc->ready_cv);
    pthread_cond_destroy(&svc->reg_cv);
    pthread_cond_destroy(&svc->idle_cv);
    pthread_mutex_destroy(&svc->lock);
    gn_fault_state_destroy(&svc->fault);
    gn_tls_free(svc->tls);
    free(svc->id);
    free(svc);
}
