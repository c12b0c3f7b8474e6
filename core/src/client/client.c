/* The client role: requests, emits and status queries over a REQ socket to a coordinator's
 * front door, and event subscriptions over a SUB socket to its event bus. Given the front
 * doors of several cluster nodes, the REQ socket dials them all (NNG sends each request to a
 * connected one); a request whose node is lost while it waits is sent again to another node
 * when it is idempotent, and fails saying it may or may not have run otherwise. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/assert.h"
#include "base/common.h"
#include "base/completion.h"
#include "base/options.h"
#include "wire/status_json.h"
#include "wire/subscriber.h"
#include "genesis/client.h"
#include "base/objects.h"
#include "wire/rpc.h"
#include "wire/socket_util.h"
#include "wire/url_list.h"
#include "wire/wire.h"
#include "base/worker_pool.h"

#define CLIENT_EVENT_QUEUE 1024u
#define VERDICT_GRACE_MS   250u
#define TLS_PROBE_MS       5000u /* genesis_client_dial's one handshake attempt, at most */
#define PUBLISHERS         16u   /* coordinators whose event sequences are tracked at once */
#define NOT_FOUND_SENDS    4u    /* nodes asked for a target before NOT_FOUND is the answer */

/* The last sequence seen from one publisher (a coordinator's bus), per scope. */
typedef struct publisher_seq {
    char id[64];
    uint64_t last_seq[2];
} publisher_seq;

struct genesis_client {
    genesis_client_options opts;
    char *name;
    gn_pool *pool;

    pthread_mutex_t lock;
    pthread_cond_t idle_cv;
    unsigned int outstanding; /* rpcs started and not yet completed */
    bool dialed;
    bool closing;
    nng_socket req;
    unsigned int nodes; /* front doors dialed: more than one enables failover */
    char *event_bus_url;
    gn_tls *tls; /* for tls+tcp:// URLs; NULL = none */

    /* subscriptions */
    gn_subscriber *sub; /* opened by the first subscribe */
    genesis_event_fn on_event;
    void *on_event_arg;
    bool whole_scope[2]; /* a subscription covers all of local: / external: */
    publisher_seq publishers[PUBLISHERS];
    unsigned int next_publisher; /* the slot a new publisher takes (oldest first) */
    atomic_uint_fast64_t gaps;   /* events missing from publishers' sequences */
};

#define DEFAULT_WORKERS 2u

/* The bytes of each options version, oldest first. */
static const size_t OPTIONS_SIZES[GENESIS_CLIENT_OPTIONS_VERSION] = {
    offsetof(genesis_client_options, tls_ca_file), /* 1 */
    sizeof(genesis_client_options),                /* 2 */
};

int genesis_client_options_init(genesis_client_options *opts, unsigned int version)
{
    gn_clear_error();
    genesis_client_options o;
    memset(&o, 0, sizeof(o));
    o.max_message_size = GN_DEFAULT_MAX_MESSAGE;
    o.default_timeout_ms = GN_DEFAULT_TIMEOUT_MS;
    o.worker_threads = DEFAULT_WORKERS;
    return gn_options_init(opts, version, &o, OPTIONS_SIZES, GENESIS_CLIENT_OPTIONS_VERSION,
                           "client options");
}

int genesis_client_new(genesis_client **out, const genesis_client_options *opts)
{
    gn_clear_error();
    if (out == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "client_new: out is NULL");
    *out = NULL;
    genesis_client_options o;
    genesis_client_options_init(&o, GENESIS_CLIENT_OPTIONS_VERSION);
    int rv =
        gn_options_merge(&o, opts, OPTIONS_SIZES, GENESIS_CLIENT_OPTIONS_VERSION, "client options");
    if (rv != GENESIS_OK)
        return rv;
    o.version = GENESIS_CLIENT_OPTIONS_VERSION;
    gn_tls *tls = NULL;
    int tls_rv = GN_TLS_FROM_OPTIONS(&tls, &o, "client");
    if (tls_rv != GENESIS_OK)
        return tls_rv; /* the message names the file and the reason */
    if (o.max_message_size == 0)
        o.max_message_size = GN_DEFAULT_MAX_MESSAGE;
    if (o.default_timeout_ms == 0)
        o.default_timeout_ms = GN_DEFAULT_TIMEOUT_MS;
    if (o.worker_threads == 0)
        o.worker_threads = DEFAULT_WORKERS;
    genesis_client *cl = calloc(1, sizeof(*cl));
    if (cl == NULL) {
        gn_tls_free(tls);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "client_new: out of memory");
    }
    cl->opts = o;
    cl->tls = tls;
    cl->name = gn_strdup(o.name != NULL ? o.name : "client");
    cl->opts.name = NULL;
    cl->pool = gn_pool_new(o.worker_threads, o.worker_threads);
    int err = cl->name != NULL && cl->pool != NULL ? nng_req0_open(&cl->req) : NNG_ENOMEM;
    if (err != 0) {
        gn_pool_free(cl->pool);
        gn_tls_free(cl->tls);
        free(cl->name);
        free(cl);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "client_new: %s", nng_strerror(err));
    }
    gn_rpc_configure(cl->req, o.max_message_size);
    nng_socket_set_ms(cl->req, NNG_OPT_RECONNMINT, 10);
    nng_socket_set_ms(cl->req, NNG_OPT_RECONNMAXT, 500);
    pthread_mutex_init(&cl->lock, NULL);
    pthread_cond_init(&cl->idle_cv, NULL);
    *out = cl;
    return GENESIS_OK;
}

int genesis_client_dial(genesis_client *cl, const char *front_door_url, const char *event_bus_url)
{
    gn_clear_error();
    if (cl == NULL || front_door_url == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "dial: NULL client or URL");
    gn_url_list urls;
    char why[400] = "";
    if (gn_url_list_parse(&urls, front_door_url, why, sizeof(why)) != 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "dial %s: %s", front_door_url, why);
    pthread_mutex_lock(&cl->lock);
    bool again = cl->dialed;
    cl->dialed = true;
    pthread_mutex_unlock(&cl->lock);
    if (again) {
        gn_url_list_clear(&urls);
        return gn_fail(GENESIS_FAILED_PRECONDITION, "dial: the client already dialed");
    }
    int err = 0;
    const char *failed = front_door_url;
    nng_dialer dialers[GN_MAX_URLS];
    unsigned int ndialers = 0;
    for (unsigned int i = 0; i < urls.n && err == 0; i++) {
        failed = urls.urls[i];
        if (gn_url_is_tls(failed)) {
            /* One attempt first, so a refused certificate is an error now, not a timeout
             * later; a coordinator that is not up yet is not an error. */
            int probe =
                gn_tls_probe(failed, cl->tls, nng_req0_open, TLS_PROBE_MS, why, sizeof(why));
            if (cl->tls == NULL || gn_tls_refused(probe))
                err = NNG_EPEERAUTH;
            else
                why[0] = '\0';
        }
        if (err == 0)
            err = gn_dial_url(cl->req, failed, cl->tls, &dialers[ndialers]);
        if (err == 0)
            ndialers++;
    }
    if (err != 0) {
        /* All or nothing: the front doors dialed before the failing one are closed again. */
        for (unsigned int i = 0; i < ndialers; i++)
            nng_dialer_close(dialers[i]);
        pthread_mutex_lock(&cl->lock);
        cl->dialed = false;
        pthread_mutex_unlock(&cl->lock);
        int rv = why[0] != '\0' ? gn_fail(GENESIS_UNAUTHENTICATED, "dial: %s", why)
                                : gn_fail(gn_status_from_nng(err, NULL), "dial %s: %s", failed,
                                          nng_strerror(err));
        gn_url_list_clear(&urls);
        return rv;
    }
    pthread_mutex_lock(&cl->lock);
    cl->nodes = urls.n;
    pthread_mutex_unlock(&cl->lock);
    gn_url_list_clear(&urls);
    if (event_bus_url != NULL) {
        cl->event_bus_url = gn_strdup(event_bus_url);
        if (cl->event_bus_url == NULL)
            return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "dial: out of memory");
    }
    return GENESIS_OK;
}

/* ---- request / emit / status: one rpc each ---------------------------------------------- */

typedef enum { EXPECT_RESULT, EXPECT_EMIT, EXPECT_STATUS } expect_kind;

typedef struct client_call {
    genesis_client *cl;
    expect_kind kind;
    genesis_result_fn fn;
    void *arg;
    bool run_inline;
    nng_msg *resend;     /* a copy to send to another node; NULL = one node only */
    bool idempotent;     /* may run twice: sent again also after a node was lost */
    int64_t deadline_ms; /* when the caller's deadline (plus the verdict grace) ends */
    unsigned int sends;  /* nodes tried */
} client_call;

static void client_call_done(int status, int reason, const char *why, gn_wire_reply *reply,
                             void *arg);

/* Send the call again (NNG picks a connected node, the ready ones in turn) within what is left
 * of its deadline. True when the call continues. */
static bool resend_elsewhere(client_call *cc)
{
    int64_t left = cc->deadline_ms - gn_now_ms();
    if (cc->resend == NULL || left <= 0)
        return false;
    nng_msg *copy = NULL;
    if (nng_msg_dup(&copy, cc->resend) != 0)
        return false;
    cc->sends++;
    return gn_rpc_start(cc->cl->req, copy, (uint32_t)left, cc->cl->opts.max_message_size,
                        client_call_done, cc) == GENESIS_OK;
}

static void client_call_done(int status, int reason, const char *why, gn_wire_reply *reply,
                             void *arg)
{
    client_call *cc = arg;
    genesis_client *cl = cc->cl;
    genesis_result *res;
    pthread_mutex_lock(&cl->lock);
    bool closing = cl->closing;
    bool failover = cl->nodes > 1;
    pthread_mutex_unlock(&cl->lock);
    bool node_lost = status != GENESIS_OK && reason == GENESIS_REASON_TRANSPORT_ERROR;
    /* A node that does not know the target (it just restarted and the component has not
     * registered again yet) refused the call without running it: another node may know it. */
    bool not_here = status == GENESIS_OK && reply->code == GENESIS_NOT_FOUND &&
                    reply->reason == GENESIS_REASON_NOT_FOUND;
    if (!closing && failover &&
        ((node_lost && cc->idempotent) || (not_here && cc->sends < NOT_FOUND_SENDS)) &&
        resend_elsewhere(cc))
        return;
    if (status != GENESIS_OK && closing) {
        /* genesis_client_free closed the socket under the call; NNG may report the reset
         * connection before the close itself: either way the call was cancelled. */
        res = gn_result_errorf(GENESIS_CANCELLED, GENESIS_REASON_SHUTTING_DOWN, "client closed: %s",
                               why);
    } else if (node_lost) {
        res = gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_UNREACHABLE,
                               "coordinator node lost with the request in flight (%s); it may or "
                               "may not have run%s",
                               why,
                               cc->idempotent && cc->resend != NULL
                                   ? "; no other node answered before the deadline"
                                   : "");
    } else if (status != GENESIS_OK) {
        /* The coordinator itself did not answer (a closing client is not its fault). */
        if (reason != GENESIS_REASON_SHUTTING_DOWN)
            reason = GENESIS_REASON_UNREACHABLE;
        res = gn_result_errorf(status, reason, "coordinator: %s", why);
    } else if (reply->code != GENESIS_OK) {
        res = gn_result_new((int)reply->code, (int)reply->reason, reply->message, NULL, 0, NULL);
        if (res != NULL)
            res->retry_delay_ms = reply->retry_delay_ms;
    } else if (cc->kind == EXPECT_STATUS) {
        res = reply->detail_case == GENESIS__V1__REPLY__DETAIL_STATUS
                  ? gn_status_report_json(reply->status)
                  : gn_result_errorf(GENESIS_INTERNAL, GENESIS_REASON_MALFORMED_MESSAGE,
                                     "coordinator replied without a status report");
    } else {
        size_t len = 0;
        const uint8_t *data = gn_payload_data(reply->payload, &len);
        res = gn_result_new(GENESIS_OK, GENESIS_REASON_NONE, reply->message, data, len,
                            gn_payload_content_type(reply->payload));
    }
    gn_deliver_result(cl->pool, cc->fn, cc->arg, cc->run_inline, res);
    nng_msg_free(cc->resend);
    free(cc);
    pthread_mutex_lock(&cl->lock);
    GN_ASSERT(cl->outstanding > 0);
    if (--cl->outstanding == 0)
        pthread_cond_broadcast(&cl->idle_cv);
    pthread_mutex_unlock(&cl->lock);
}

/* Start an rpc carrying env; the completion runs exactly once when GENESIS_OK is returned. */
static int client_start(genesis_client *cl, gn_envelope *env, uint32_t timeout_ms, expect_kind kind,
                        bool idempotent, genesis_result_fn fn, void *arg, bool run_inline)
{
    pthread_mutex_lock(&cl->lock);
    bool ok = cl->dialed && !cl->closing;
    if (ok)
        cl->outstanding++;
    pthread_mutex_unlock(&cl->lock);
    if (!ok)
        return gn_fail(GENESIS_FAILED_PRECONDITION, "client: not dialed, or being freed");
    int rv = GENESIS_RESOURCE_EXHAUSTED;
    client_call *cc = malloc(sizeof(*cc));
    nng_msg *msg = NULL;
    if (cc != NULL && gn_envelope_encode(env, &msg) == GENESIS_OK) {
        /* Wait a little past the deadline so the coordinator's own verdict (DEADLINE_EXCEEDED
         * from a slow component) arrives before this side gives up on the coordinator. */
        uint32_t deadline = timeout_ms > 0 ? timeout_ms : cl->opts.default_timeout_ms;
        *cc = (client_call){cl,         kind, fn,         arg,
                            run_inline, NULL, idempotent, gn_now_ms() + deadline + VERDICT_GRACE_MS,
                            1};
        /* With several nodes, keep the bytes to send to another node. */
        pthread_mutex_lock(&cl->lock);
        bool failover = cl->nodes > 1;
        pthread_mutex_unlock(&cl->lock);
        if (failover && nng_msg_dup(&cc->resend, msg) != 0)
            cc->resend = NULL;
        rv = gn_rpc_start(cl->req, msg, deadline + VERDICT_GRACE_MS, cl->opts.max_message_size,
                          client_call_done, cc);
        if (rv == GENESIS_OK)
            return GENESIS_OK;
        nng_msg_free(cc->resend);
    }
    free(cc);
    pthread_mutex_lock(&cl->lock);
    GN_ASSERT(cl->outstanding > 0);
    if (--cl->outstanding == 0)
        pthread_cond_broadcast(&cl->idle_cv);
    pthread_mutex_unlock(&cl->lock);
    return gn_fail(rv, "client: cannot start the call (%s)", genesis_strerror(rv));
}

static int wait_result(genesis_client *cl, gn_envelope *env, uint32_t timeout_ms, expect_kind kind,
                       bool idempotent, genesis_result **out)
{
    if (out != NULL)
        *out = NULL;
    gn_waiter *w = gn_waiter_new();
    if (w == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "client: out of memory");
    int rv = client_start(cl, env, timeout_ms, kind, idempotent, gn_waiter_wake, w, true);
    if (rv != GENESIS_OK) {
        gn_waiter_free(w);
        return rv;
    }
    genesis_result *res = gn_waiter_wait(w);
    rv = genesis_result_status(res);
    if (rv != GENESIS_OK)
        gn_fail(rv, "%s (%s)", genesis_result_message(res),
                genesis_reason_name(genesis_result_reason(res)));
    if (out != NULL)
        *out = res;
    else
        genesis_result_free(res);
    return rv;
}

typedef struct request_parts {
    gn_envelope env;
    Genesis__V1__Request req;
    Genesis__V1__Payload payload;
} request_parts;

static int build_request(genesis_client *cl, request_parts *rp, const char *target,
                         const char *type, const void *data, size_t len,
                         const genesis_call_options *opts, uint32_t *timeout)
{
    if (cl == NULL || target == NULL || type == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "request: NULL client, target, type or data");
    if (opts != NULL && !gn_call_options_version_ok(opts->version))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "call options version %u is unknown",
                       opts->version);
    if (len > cl->opts.max_message_size)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED,
                       "request: payload of %zu bytes exceeds the limit of %zu", len,
                       cl->opts.max_message_size);
    genesis__v1__envelope__init(&rp->env);
    genesis__v1__request__init(&rp->req);
    genesis__v1__payload__init(&rp->payload);
    rp->payload.data.data = (uint8_t *)data;
    rp->payload.data.len = len;
    rp->payload.content_type =
        (char *)(opts != NULL && opts->content_type != NULL ? opts->content_type : "");
    rp->req.target = (char *)target;
    rp->req.type = (char *)type;
    rp->req.payload = &rp->payload;
    rp->req.source = (char *)(opts != NULL && opts->source != NULL ? opts->source : cl->name);
    rp->req.criticality = (Genesis__V1__Criticality)(opts != NULL ? opts->criticality : 0);
    *timeout =
        opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : cl->opts.default_timeout_ms;
    rp->req.timeout_ms = *timeout;
    rp->req.idempotent = opts != NULL && opts->idempotent;
    rp->req.request_id = opts != NULL && opts->version >= 2 ? opts->request_id : 0;
    rp->env.body_case = GENESIS__V1__ENVELOPE__BODY_REQUEST;
    rp->env.request = &rp->req;
    return GENESIS_OK;
}

int genesis_client_request(genesis_client *cl, const char *target, const char *type,
                           const void *data, size_t len, const genesis_call_options *opts,
                           genesis_result **out)
{
    gn_clear_error();
    if (out != NULL)
        *out = NULL;
    request_parts rp = {0};
    uint32_t timeout = 0;
    int rv = build_request(cl, &rp, target, type, data, len, opts, &timeout);
    if (rv != GENESIS_OK)
        return rv;
    return wait_result(cl, &rp.env, timeout, EXPECT_RESULT, rp.req.idempotent, out);
}

int genesis_client_request_async(genesis_client *cl, const char *target, const char *type,
                                 const void *data, size_t len, const genesis_call_options *opts,
                                 genesis_result_fn cb, void *arg)
{
    gn_clear_error();
    if (cb == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "request_async: cb is NULL");
    request_parts rp = {0};
    uint32_t timeout = 0;
    int rv = build_request(cl, &rp, target, type, data, len, opts, &timeout);
    if (rv != GENESIS_OK)
        return rv;
    return client_start(cl, &rp.env, timeout, EXPECT_RESULT, rp.req.idempotent, cb, arg, false);
}

/* An Emit envelope: a local broadcast (target NULL) or an external event for one component. */
static int client_emit(genesis_client *cl, const char *target, const char *type, const void *data,
                       size_t len, const genesis_call_options *opts, genesis_result **out)
{
    gn_clear_error();
    if (out != NULL)
        *out = NULL;
    if (cl == NULL || type == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "emit: NULL client, type or data");
    if (opts != NULL && !gn_call_options_version_ok(opts->version))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "call options version %u is unknown",
                       opts->version);
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__Emit emit = GENESIS__V1__EMIT__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = (uint8_t *)data;
    payload.data.len = len;
    payload.content_type =
        (char *)(opts != NULL && opts->content_type != NULL ? opts->content_type : "");
    emit.type = (char *)type;
    emit.payload = &payload;
    emit.source = (char *)(opts != NULL && opts->source != NULL ? opts->source : cl->name);
    emit.criticality = (Genesis__V1__Criticality)(opts != NULL ? opts->criticality : 0);
    if (target != NULL) {
        emit.target = (char *)target;
        emit.scope = GENESIS__V1__SCOPE__SCOPE_EXTERNAL;
    }
    env.body_case = GENESIS__V1__ENVELOPE__BODY_EMIT;
    env.emit = &emit;
    return wait_result(cl, &env, opts != NULL ? opts->timeout_ms : 0, EXPECT_EMIT, false, out);
}

int genesis_client_emit(genesis_client *cl, const char *type, const void *data, size_t len,
                        const genesis_call_options *opts, genesis_result **out)
{
    return client_emit(cl, NULL, type, data, len, opts, out);
}

int genesis_client_emit_to(genesis_client *cl, const char *target, const char *type,
                           const void *data, size_t len, const genesis_call_options *opts,
                           genesis_result **out)
{
    if (target == NULL || target[0] == '\0') {
        gn_clear_error();
        if (out != NULL)
            *out = NULL;
        return gn_fail(GENESIS_INVALID_ARGUMENT, "emit_to: NULL or empty target");
    }
    return client_emit(cl, target, type, data, len, opts, out);
}

int genesis_client_status(genesis_client *cl, uint32_t timeout_ms, genesis_result **out)
{
    gn_clear_error();
    if (cl == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "status: NULL client");
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__StatusQuery q = GENESIS__V1__STATUS_QUERY__INIT;
    q.include_components = 1;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_STATUS;
    env.status = &q;
    return wait_result(cl, &env, timeout_ms, EXPECT_STATUS, true, out);
}

int genesis_client_admin(genesis_client *cl, const char *command, const char *const *args,
                         size_t nargs, uint32_t timeout_ms, genesis_result **out)
{
    gn_clear_error();
    if (cl == NULL || command == NULL || (args == NULL && nargs > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "admin: NULL client, command or args");
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__Admin a = GENESIS__V1__ADMIN__INIT;
    a.command = (char *)command;
    a.args = (char **)args;
    a.n_args = nargs;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_ADMIN;
    env.admin = &a;
    return wait_result(cl, &env, timeout_ms, EXPECT_RESULT, false, out);
}

/* ---- subscriptions ------------------------------------------------------------------------ */

/* The sequence slot of publisher pub (a coordinator's bus); a publisher not seen yet takes the
 * oldest slot, its history starting now. Called with cl->lock held. */
static publisher_seq *publisher_slot(genesis_client *cl, const char *pub)
{
    for (unsigned int i = 0; i < PUBLISHERS; i++)
        if (strncmp(cl->publishers[i].id, pub, sizeof(cl->publishers[i].id) - 1) == 0 &&
            cl->publishers[i].id[0] != '\0')
            return &cl->publishers[i];
    publisher_seq *p = &cl->publishers[cl->next_publisher];
    cl->next_publisher = (cl->next_publisher + 1) % PUBLISHERS;
    snprintf(p->id, sizeof(p->id), "%s", pub);
    p->last_seq[0] = p->last_seq[1] = 0;
    return p;
}

/* Count sequence gaps per publisher and scope (several cluster nodes publish at once), only
 * where a subscription covers the whole scope (otherwise a gap may just be an event the prefix
 * filtered out). Runs on an NNG thread. */
static bool track_sequence(const gn_wire_event *ev, void *arg)
{
    genesis_client *cl = arg;
    int s = ev->scope == GENESIS__V1__SCOPE__SCOPE_EXTERNAL ? 1 : 0;
    const char *pub = ev->publisher != NULL && ev->publisher[0] != '\0' ? ev->publisher : "-";
    pthread_mutex_lock(&cl->lock);
    publisher_seq *p = publisher_slot(cl, pub);
    /* A sequence this publisher sent before is the same event again: cluster nodes all
     * publish the cluster's events under one publisher and sequence (docs/cluster.md), and a
     * client on several nodes' buses receives each from every node. Delivered once. */
    bool directed = ev->target != NULL && ev->target[0] != '\0'; /* a sequence of its own */
    bool fresh = directed || p->last_seq[s] == 0 || ev->sequence > p->last_seq[s];
    if (!directed && cl->whole_scope[s] && p->last_seq[s] != 0 && ev->sequence > p->last_seq[s] + 1)
        atomic_fetch_add(&cl->gaps, ev->sequence - p->last_seq[s] - 1);
    if (!directed && ev->sequence > p->last_seq[s])
        p->last_seq[s] = ev->sequence;
    pthread_mutex_unlock(&cl->lock);
    return fresh;
}

static void deliver_event(const genesis_event *ev, void *arg)
{
    genesis_client *cl = arg;
    pthread_mutex_lock(&cl->lock);
    genesis_event_fn fn = cl->on_event;
    void *fn_arg = cl->on_event_arg;
    pthread_mutex_unlock(&cl->lock);
    if (fn != NULL)
        fn(ev, fn_arg);
}

int genesis_client_subscribe(genesis_client *cl, const char *prefix, genesis_event_fn cb, void *arg)
{
    gn_clear_error();
    if (cl == NULL || prefix == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "subscribe: NULL client or prefix");
    pthread_mutex_lock(&cl->lock);
    int rv = GENESIS_OK;
    if (cl->event_bus_url == NULL || cl->closing) {
        rv = gn_fail(GENESIS_FAILED_PRECONDITION, "subscribe: dial with an event bus URL first");
    } else if (cl->sub == NULL) {
        gn_subscriber_hooks hooks = {.accept = track_sequence, .deliver = deliver_event, .arg = cl};
        rv = gn_subscriber_open(&cl->sub, cl->event_bus_url, cl->tls, cl->pool, CLIENT_EVENT_QUEUE,
                                cl->opts.max_message_size, &hooks);
    }
    if (rv == GENESIS_OK) {
        size_t pl = strlen(prefix);
        if (pl <= strlen(GN_TOPIC_LOCAL) && strncmp(prefix, GN_TOPIC_LOCAL, pl) == 0)
            cl->whole_scope[0] = true;
        if (pl <= strlen(GN_TOPIC_EXTERNAL) && strncmp(prefix, GN_TOPIC_EXTERNAL, pl) == 0)
            cl->whole_scope[1] = true;
        if (cb != NULL) {
            cl->on_event = cb;
            cl->on_event_arg = arg;
        }
    }
    gn_subscriber *sub = cl->sub;
    pthread_mutex_unlock(&cl->lock);
    if (rv == GENESIS_OK)
        rv = gn_subscriber_subscribe(sub, prefix);
    return rv;
}

uint64_t genesis_client_get_events_lost(genesis_client *cl)
{
    if (cl == NULL)
        return 0;
    pthread_mutex_lock(&cl->lock);
    gn_subscriber *sub = cl->sub;
    pthread_mutex_unlock(&cl->lock);
    return atomic_load(&cl->gaps) + gn_subscriber_dropped(sub);
}

void genesis_client_free(genesis_client *cl)
{
    if (cl == NULL)
        return;
    pthread_mutex_lock(&cl->lock);
    cl->closing = true;
    pthread_mutex_unlock(&cl->lock);
    nng_close(cl->req); /* outstanding rpcs complete with CANCELLED */
    pthread_mutex_lock(&cl->lock);
    while (cl->outstanding > 0)
        pthread_cond_wait(&cl->idle_cv, &cl->lock);
    pthread_mutex_unlock(&cl->lock);
    gn_subscriber_free(cl->sub); /* before the pool its deliveries run on */
    gn_pool_free(cl->pool);      /* runs the remaining completions and events */
    pthread_cond_destroy(&cl->idle_cv);
    pthread_mutex_destroy(&cl->lock);
    free(cl->event_bus_url);
    free(cl->name);
    gn_tls_free(cl->tls);
    free(cl);
}
