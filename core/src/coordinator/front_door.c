/* The front door: a REP socket served by many contexts at once, each an aio state machine
 * (receive -> decode -> dispatch -> reply -> receive). Nothing here blocks: requests are routed
 * with an inline completion that only encodes and sends the reply.
 *
 * A REP context is busy until its reply is sent, so requests waiting on a slow component hold
 * contexts. The set of contexts is elastic: whenever fewer than MIN_IDLE_RECEIVERS are left
 * waiting for a message, another one opens (up to front_door_contexts), so a slow component
 * cannot starve the front door; per-component bulkheads bound what one component can hold. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/assert.h"
#include "checkpoint/checkpoint.h"
#include "coordinator/coordinator_impl.h"
#include "wire/listener_guard.h"
#include "coordinator/recovery_hooks.h"
#include "wire/socket_util.h"

typedef struct fd_ctx {
    gn_front_door *fd;
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
    uint64_t ckpt_sequence; /* of the Checkpoint being acknowledged */
} fd_ctx;

#define INITIAL_RECEIVERS  16u
#define MIN_IDLE_RECEIVERS 4u
#define ADMIN_WORKERS      2u   /* admin commands run at once (on the coordinator's workers) */
#define EMIT_WORKERS       4u   /* cluster emits waiting for JetStream at once (on workers) */
#define EMIT_QUEUED        256u /* ... and waiting; more are refused (RESOURCE_EXHAUSTED) */
#define ADMIN_QUEUED       64u  /* ... and waiting; more are refused (RESOURCE_EXHAUSTED) */

struct gn_front_door {
    genesis_coordinator *co;
    nng_socket sock;
    nng_listener listener;
    pthread_mutex_t lock; /* guards the fields below */
    fd_ctx **ctxs;
    unsigned int n;    /* contexts opened */
    unsigned int max;  /* front_door_contexts */
    unsigned int idle; /* contexts waiting for a message */
    bool open;         /* serving: contexts may be added */
    bool closed;       /* the socket is closed */
    /* Connections: at most `cap`, half the descriptors this process may open (the rest stay
     * for the dialers, the bus, the gateway, files): beyond it a new one is closed at once,
     * and those established keep working. */
    atomic_uint connections;
    unsigned int cap;
    atomic_uint_fast64_t refused;
    /* Admin commands (checkpoint list/show/restore read the store and run restore callbacks;
     * an embedder's "reload" re-reads its configuration): on workers, never on NNG's threads. */
    gn_lane admin;
    /* Cluster mode: an emit waits for JetStream's acknowledgement (up to twice the cluster
     * timeout while NATS is away), so it runs on workers too. */
    gn_lane emits;
};

typedef struct admin_job {
    gn_task task; /* first: the lane hands it back */
    fd_ctx *c;
    gn_envelope *env;
} admin_job;

static void receive(fd_ctx *c)
{
    pthread_mutex_lock(&c->fd->lock);
    c->fd->idle++;
    pthread_mutex_unlock(&c->fd->lock);
    c->sending = false;
    nng_ctx_recv(c->ctx, c->aio);
}

static void fd_cb(void *arg);

/* Open one more context and start it receiving; false when out of resources. */
static bool add_context(gn_front_door *fd)
{
    pthread_mutex_lock(&fd->lock);
    bool room = fd->open && fd->n < fd->max;
    unsigned int slot = fd->n;
    if (room)
        fd->n++; /* reserve the slot */
    pthread_mutex_unlock(&fd->lock);
    if (!room)
        return false;
    fd_ctx *c = calloc(1, sizeof(*c));
    bool ok = c != NULL && nng_aio_alloc(&c->aio, fd_cb, c) == 0;
    if (ok && nng_ctx_open(&c->ctx, fd->sock) != 0) {
        nng_aio_free(c->aio);
        ok = false;
    }
    pthread_mutex_lock(&fd->lock);
    if (ok) {
        c->fd = fd;
        fd->ctxs[slot] = c;
    } else {
        free(c);
        fd->ctxs[slot] = NULL; /* a hole: skipped by close and free */
    }
    pthread_mutex_unlock(&fd->lock);
    if (ok)
        receive(c);
    return ok;
}

/* A context took a message: keep enough others listening. */
static void took_message(gn_front_door *fd)
{
    pthread_mutex_lock(&fd->lock);
    GN_ASSERT(fd->idle > 0);
    fd->idle--;
    bool grow = fd->open && fd->idle < MIN_IDLE_RECEIVERS && fd->n < fd->max;
    pthread_mutex_unlock(&fd->lock);
    if (grow && !add_context(fd))
        gn_log(&fd->co->log, GENESIS_LOG_WARN, "front door: cannot open another context");
}

static void send_reply(fd_ctx *c, nng_msg *msg)
{
    if (msg == NULL) {
        /* Could not even encode an error: receive the next request; the peer times out. */
        receive(c);
        return;
    }
    c->sending = true;
    nng_aio_set_msg(c->aio, msg);
    nng_ctx_send(c->ctx, c->aio);
}

static void send_error(fd_ctx *c, int code, int reason, const char *message)
{
    nng_msg *msg = NULL;
    gn_reply_msg(&msg, code, reason, message, NULL, 0, NULL);
    send_reply(c, msg);
}

static void request_done(genesis_result *res, void *arg)
{
    fd_ctx *c = arg;
    nng_msg *msg = NULL;
    size_t len = 0;
    const void *data = genesis_result_data(res, &len);
    gn_reply_msg_advised(&msg, genesis_result_status(res), genesis_result_reason(res),
                         genesis_result_message(res), data, len, genesis_result_content_type(res),
                         genesis_result_retry_delay_ms(res));
    genesis_result_free(res);
    send_reply(c, msg);
}

static void handle_request(fd_ctx *c, const Genesis__V1__Request *r)
{
    genesis_coordinator *co = c->fd->co;
    size_t len = 0;
    const uint8_t *data = gn_payload_data(r->payload, &len);
    gn_call_params p = {.target = r->target,
                        .type = r->type,
                        .data = data,
                        .len = len,
                        .content_type = gn_payload_content_type(r->payload),
                        .source = r->source,
                        .criticality = (int)r->criticality,
                        .timeout_ms = r->timeout_ms,
                        .request_id = r->request_id,
                        .idempotent = r->idempotent};
    if (gn_call_route(co, &p, (gn_call_completion){request_done, c, true}) != GENESIS_OK)
        send_error(c, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                   "the coordinator is shutting down");
}

static void handle_emit(fd_ctx *c, const Genesis__V1__Emit *e)
{
    genesis_coordinator *co = c->fd->co;
    if (!gn_mode_admits_event(co, (int)e->criticality)) {
        send_error(c, GENESIS_UNAVAILABLE, GENESIS_REASON_SHED_BY_MODE,
                   "mode EMERGENCY drops non-critical events");
        return;
    }
    if (!gn_coordinator_enter(co)) {
        send_error(c, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                   "the coordinator is shutting down");
        return;
    }
    size_t len = 0;
    const uint8_t *data = gn_payload_data(e->payload, &len);
    unsigned int delivered = 0, dropped = 0;
    uint64_t seq = 0;
    int reason = GENESIS_REASON_NONE;
    int rv =
        e->target != NULL && e->target[0] != '\0'
            ? gn_emit_to(co, e->target, e->type, data, len, gn_payload_content_type(e->payload),
                         e->source, &delivered, &dropped, &seq, &reason)
            : gn_emit(co, e->type, data, len, gn_payload_content_type(e->payload), e->source,
                      (int)e->scope, &delivered, &dropped, &seq, &reason);
    gn_coordinator_leave(co);
    if (rv != GENESIS_OK) {
        send_error(c, rv, reason, genesis_last_error());
        return;
    }
    gn_wire_reply reply = GENESIS__V1__REPLY__INIT;
    Genesis__V1__EmitAck ack = GENESIS__V1__EMIT_ACK__INIT;
    ack.delivered = delivered;
    ack.dropped = dropped;
    ack.sequence = seq;
    reply.detail_case = GENESIS__V1__REPLY__DETAIL_EMIT_ACK;
    reply.emit_ack = &ack;
    nng_msg *msg = NULL;
    gn_reply_encode(&reply, &msg);
    send_reply(c, msg);
}

static void handle_status(fd_ctx *c)
{
    Genesis__V1__StatusReport report;
    if (gn_status_report_build(c->fd->co, &report) != GENESIS_OK) {
        send_error(c, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                   "out of memory building the status report");
        return;
    }
    gn_wire_reply reply = GENESIS__V1__REPLY__INIT;
    reply.detail_case = GENESIS__V1__REPLY__DETAIL_STATUS;
    reply.status = &report;
    nng_msg *msg = NULL;
    gn_reply_encode(&reply, &msg);
    gn_status_report_clear(&report);
    send_reply(c, msg);
}

static void handle_admin(fd_ctx *c, const Genesis__V1__Admin *a)
{
    gn_log(&c->fd->co->log, GENESIS_LOG_INFO, "admin command '%.64s' (%zu args)", a->command,
           a->n_args);
    genesis_result *res = gn_admin_execute(c->fd->co, a->command, a->args, a->n_args);
    if (res == NULL) {
        send_error(c, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "admin: out of memory");
        return;
    }
    if (genesis_result_status(res) != GENESIS_OK) {
        send_error(c, genesis_result_status(res), genesis_result_reason(res),
                   genesis_result_message(res));
        genesis_result_free(res);
        return;
    }
    gn_wire_reply reply = GENESIS__V1__REPLY__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    size_t len = 0;
    payload.data.data = (uint8_t *)genesis_result_data(res, &len);
    payload.data.len = len;
    payload.content_type = (char *)genesis_result_content_type(res);
    reply.payload = &payload;
    nng_msg *msg = NULL;
    gn_reply_encode(&reply, &msg);
    genesis_result_free(res);
    send_reply(c, msg);
}

/* The RegisterAck carries the component's latest checkpoint, read on the checkpoint writer
 * thread (store I/O stays off NNG threads); this completion sends it from there. */
static void register_ack(int status, int reason, const char *why, uint64_t generation,
                         const void *data, size_t len, void *arg)
{
    fd_ctx *c = arg;
    genesis_coordinator *co = c->fd->co;
    if (status != GENESIS_OK) {
        /* The instance is registered, but its state cannot be handed back: say so rather
         * than let it start empty without knowing. */
        send_error(c, status, reason, why);
        return;
    }
    gn_wire_reply reply = GENESIS__V1__REPLY__INIT;
    Genesis__V1__RegisterAck ack = GENESIS__V1__REGISTER_ACK__INIT;
    ack.heartbeat_interval_ms = co->opts.heartbeat_interval_ms;
    ack.heartbeat_misses = co->opts.heartbeat_misses;
    if (generation > 0) {
        ack.has_checkpoint = true;
        ack.checkpoint_generation = generation;
        ack.checkpoint_state.data = (uint8_t *)data;
        ack.checkpoint_state.len = len;
    }
    reply.detail_case = GENESIS__V1__REPLY__DETAIL_REGISTER_ACK;
    reply.register_ack = &ack;
    nng_msg *msg = NULL;
    gn_reply_encode(&reply, &msg);
    send_reply(c, msg);
}

static void handle_register(fd_ctx *c, const Genesis__V1__Register *reg)
{
    genesis_coordinator *co = c->fd->co;
    int reason = GENESIS_REASON_NONE;
    char why[256] = "";
    int rv = gn_remote_register(co, reg, &reason, why, sizeof(why));
    if (rv != GENESIS_OK) {
        send_error(c, rv, reason, why);
        return;
    }
    gn_checkpoint_read(co->checkpointer, reg->component_id, register_ack, c);
}

static void checkpoint_acked(int status, int reason, const char *why, uint64_t generation,
                             const void *data, size_t len, void *arg)
{
    fd_ctx *c = arg;
    if (status != GENESIS_OK) {
        send_error(c, status, reason, why);
        return;
    }
    gn_wire_reply reply = GENESIS__V1__REPLY__INIT;
    Genesis__V1__CheckpointAck ack = GENESIS__V1__CHECKPOINT_ACK__INIT;
    ack.generation = generation;
    ack.client_sequence = c->ckpt_sequence;
    reply.detail_case = GENESIS__V1__REPLY__DETAIL_CHECKPOINT_ACK;
    reply.checkpoint_ack = &ack;
    nng_msg *msg = NULL;
    gn_reply_encode(&reply, &msg);
    send_reply(c, msg);
}

/* On a worker: an admin command, then its reply. */
static void admin_run(gn_task *task)
{
    admin_job *j = (admin_job *)task;
    genesis_coordinator *co = j->c->fd->co;
    /* Commands claimed by an embedder's handler (genesisd's "reload", "supervisor.*") first. */
    nng_msg *msg = NULL;
    if (gn_admin_hook_dispatch(co, j->env->admin, co->opts.max_message_size, &msg))
        send_reply(j->c, msg);
    else
        handle_admin(j->c, j->env->admin);
}

static void admin_free(gn_task *task)
{
    admin_job *j = (admin_job *)task;
    gn_envelope_free(j->env);
    free(j);
}

static void handle_emit(fd_ctx *c, const Genesis__V1__Emit *e);

/* On a worker: a cluster emit, then its reply. */
static void emit_run(gn_task *task)
{
    admin_job *j = (admin_job *)task;
    handle_emit(j->c, j->env->emit);
}

/* Hand an admin command or a cluster emit (what: "admin command", "emit") to a worker of
 * lane; the envelope is the job's from here on. */
static void start_job(fd_ctx *c, gn_envelope *env, gn_lane *lane, void (*run)(gn_task *),
                      const char *what)
{
    admin_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        gn_envelope_free(env);
        send_error(c, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                   run == admin_run ? "admin: out of memory" : "emit: out of memory");
        return;
    }
    *j = (admin_job){.task = {.run = run, .finish = admin_free}, .c = c, .env = env};
    int rv = gn_lane_submit(lane, &j->task);
    if (rv != GENESIS_OK) {
        free(j);
        gn_envelope_free(env);
        char text[96];
        if (rv == GENESIS_UNAVAILABLE)
            snprintf(text, sizeof(text), "%s: the coordinator is shutting down",
                     run == admin_run ? "admin" : "emit");
        else
            snprintf(text, sizeof(text), "%s: too many %ss waiting; retry",
                     run == admin_run ? "admin" : "emit", what);
        send_error(c, rv == GENESIS_UNAVAILABLE ? GENESIS_UNAVAILABLE : GENESIS_RESOURCE_EXHAUSTED,
                   rv == GENESIS_UNAVAILABLE ? GENESIS_REASON_SHUTTING_DOWN
                                             : GENESIS_REASON_LIMIT_REACHED,
                   text);
    }
}

static void dispatch(fd_ctx *c, gn_envelope *env)
{
    genesis_coordinator *co = c->fd->co;
    int reason = GENESIS_REASON_NONE;
    char why[256] = "";
    int rv;
    switch (env->body_case) {
    case GENESIS__V1__ENVELOPE__BODY_REQUEST:
        handle_request(c, env->request);
        return;
    case GENESIS__V1__ENVELOPE__BODY_EMIT:
        if (gn_bus_clustered(co))
            start_job(c, env, &c->fd->emits, emit_run, "emit");
        else
            handle_emit(c, env->emit);
        return;
    case GENESIS__V1__ENVELOPE__BODY_STATUS:
        handle_status(c);
        return;
    case GENESIS__V1__ENVELOPE__BODY_REGISTER:
        handle_register(c, env->register_);
        return;
    case GENESIS__V1__ENVELOPE__BODY_HEARTBEAT:
        rv = gn_remote_heartbeat(co, env->heartbeat, &reason, why, sizeof(why));
        send_error(c, rv, reason, why);
        return;
    case GENESIS__V1__ENVELOPE__BODY_UNREGISTER:
        rv = gn_remote_unregister(co, env->unregister, &reason, why, sizeof(why));
        send_error(c, rv, reason, why);
        return;
    case GENESIS__V1__ENVELOPE__BODY_CHECKPOINT:
        c->ckpt_sequence = env->checkpoint->client_sequence;
        gn_checkpoint_remote(co->checkpointer, env->checkpoint, checkpoint_acked, c);
        return;
    case GENESIS__V1__ENVELOPE__BODY_ADMIN:
        start_job(c, env, &c->fd->admin, admin_run, "admin command");
        return;
    default:
        send_error(c, GENESIS_UNIMPLEMENTED, GENESIS_REASON_UNKNOWN_MESSAGE,
                   "unknown envelope body");
        return;
    }
}

static void fd_cb(void *arg)
{
    fd_ctx *c = arg;
    genesis_coordinator *co = c->fd->co;
    int err = nng_aio_result(c->aio);
    if (c->sending) {
        c->sending = false;
        if (err != 0) {
            nng_msg_free(nng_aio_get_msg(c->aio)); /* the peer went away: drop its reply */
            if (err == NNG_ECLOSED || err == NNG_ECANCELED)
                return;
        }
        receive(c);
        return;
    }
    if (err != 0) {
        if (err == NNG_ECLOSED || err == NNG_ECANCELED)
            return;
        gn_log(&co->log, GENESIS_LOG_WARN, "front door receive failed: %s", nng_strerror(err));
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    nng_msg *msg = nng_aio_get_msg(c->aio);
    took_message(c->fd);
    atomic_fetch_add(&co->n_front_door_messages, 1);
    gn_envelope *env = NULL;
    int reason = GENESIS_REASON_NONE;
    char why[256] = "";
    int rv = gn_envelope_decode(nng_msg_body(msg), nng_msg_len(msg), co->opts.max_message_size,
                                &env, &reason, why, sizeof(why));
    nng_msg_free(msg);
    if (rv != GENESIS_OK) {
        atomic_fetch_add(&co->n_malformed, 1);
        gn_log(&co->log, GENESIS_LOG_DEBUG, "front door rejected a message: %s (%s)", why,
               genesis_reason_name(reason));
        send_error(c, rv, reason, why);
        return;
    }
    bool handed_over = env->body_case == GENESIS__V1__ENVELOPE__BODY_ADMIN ||
                       (env->body_case == GENESIS__V1__ENVELOPE__BODY_EMIT && gn_bus_clustered(co));
    dispatch(c, env);
    if (!handed_over) /* an admin command's or a cluster emit's envelope belongs to its job */
        gn_envelope_free(env);
}

/* The connection cap: half of RLIMIT_NOFILE, less a reserve; 65,536 when unlimited. */
static unsigned int connection_cap(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 65536;
    rlim_t half = rl.rlim_cur > 128 ? (rl.rlim_cur - 64) / 2 : 16;
    return half > 65536 ? 65536 : (unsigned int)half;
}

/* NNG threads: a new connection is counted before the socket takes it; over the cap it is
 * closed (and still counted until NNG reports it removed). */
static void connection_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    gn_front_door *fd = arg;
    unsigned int n = atomic_fetch_add(&fd->connections, 1) + 1;
    if (n > fd->cap) {
        nng_pipe_close(p);
        if (atomic_fetch_add(&fd->refused, 1) % 1000 == 0)
            gn_log(&fd->co->log, GENESIS_LOG_WARN,
                   "front door: %u connections (the cap, half the file descriptor limit): new "
                   "ones are closed; established ones keep working",
                   fd->cap);
    }
}

static void connection_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    gn_front_door *fd = arg;
    atomic_fetch_sub(&fd->connections, 1);
}

void gn_front_door_connections(gn_front_door *fd, unsigned int *open, unsigned int *cap)
{
    unsigned int n = fd != NULL ? atomic_load(&fd->connections) : 0;
    *cap = fd != NULL ? fd->cap : 0;
    *open = n < *cap ? n : *cap; /* refused ones are counted until NNG drops them */
}

int gn_front_door_listen(genesis_coordinator *co, const char *url, gn_front_door **out)
{
    gn_front_door *fd = calloc(1, sizeof(*fd));
    if (fd == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "front door: out of memory");
    fd->co = co;
    fd->max = co->opts.front_door_contexts;
    fd->ctxs = calloc(fd->max, sizeof(*fd->ctxs));
    int err = fd->ctxs != NULL ? nng_rep0_open(&fd->sock) : NNG_ENOMEM;
    if (err != 0) {
        free(fd->ctxs);
        free(fd);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "front door: %s", nng_strerror(err));
    }
    pthread_mutex_init(&fd->lock, NULL);
    gn_lane_init(&fd->admin, co->pool, ADMIN_WORKERS, ADMIN_QUEUED);
    gn_lane_init(&fd->emits, co->pool, EMIT_WORKERS, EMIT_QUEUED);
    fd->cap = connection_cap();
    nng_pipe_notify(fd->sock, NNG_PIPE_EV_ADD_PRE, connection_added, fd);
    nng_pipe_notify(fd->sock, NNG_PIPE_EV_REM_POST, connection_removed, fd);
    /* Up to twice the limit is read so the sender gets a MESSAGE_TOO_LARGE reply; beyond that
     * NNG drops the connection, which bounds memory per peer. */
    nng_socket_set_size(fd->sock, NNG_OPT_RECVMAXSZ, co->opts.max_message_size * 2 + 1024);
    int rv = gn_listen_url(fd->sock, url, co->tls, &co->log, "the coordinator's front door",
                           &fd->listener, co->front_door_url, sizeof(co->front_door_url));
    if (rv == GENESIS_OK) {
        fd->open = true;
        unsigned int want = fd->max < INITIAL_RECEIVERS ? fd->max : INITIAL_RECEIVERS;
        for (unsigned int i = 0; i < want; i++)
            add_context(fd);
        if (fd->idle == 0)
            rv = gn_fail(GENESIS_RESOURCE_EXHAUSTED, "front door: cannot open contexts");
    }
    if (rv != GENESIS_OK) {
        gn_front_door_free(fd);
        return rv;
    }
    *out = fd;
    return GENESIS_OK;
}

int gn_front_door_guard(gn_front_door *fd, gn_guard *guard)
{
    return gn_guard_watch(guard, fd->sock, fd->listener, fd->co->front_door_url, GN_SP_PROTO_REQ,
                          "front door");
}

void gn_front_door_close(gn_front_door *fd)
{
    if (fd == NULL)
        return;
    pthread_mutex_lock(&fd->lock);
    bool was_closed = fd->closed;
    fd->open = false; /* no more contexts are added */
    fd->closed = true;
    unsigned int n = fd->n;
    pthread_mutex_unlock(&fd->lock);
    if (was_closed)
        return;
    /* Admin commands waiting are dropped (their peers see the socket close); running ones
     * finish and reply first. */
    gn_fifo queued = gn_lane_close(&fd->admin);
    for (gn_task *t = gn_task_pop(&queued); t != NULL; t = gn_task_pop(&queued))
        admin_free(t);
    gn_lane_wait_idle(&fd->admin);
    queued = gn_lane_close(&fd->emits);
    for (gn_task *t = gn_task_pop(&queued); t != NULL; t = gn_task_pop(&queued))
        admin_free(t);
    gn_lane_wait_idle(&fd->emits);
    nng_close(fd->sock);
    for (unsigned int i = 0; i < n; i++) {
        if (fd->ctxs[i] != NULL)
            nng_aio_stop(fd->ctxs[i]->aio);
    }
}

void gn_front_door_free(gn_front_door *fd)
{
    if (fd == NULL)
        return;
    gn_front_door_close(fd);
    for (unsigned int i = 0; i < fd->n; i++) {
        if (fd->ctxs[i] != NULL) {
            nng_aio_free(fd->ctxs[i]->aio);
            free(fd->ctxs[i]);
        }
    }
    pthread_mutex_destroy(&fd->lock);
    free(fd->ctxs);
    free(fd);
}
