/* One routed request: validation, lookup, the in-process handler on a worker with a deadline
 * timer racing it, accounting, and delivery of the outcome exactly once. Remote targets are
 * handed to remote.c. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "completion.h"
#include "coordinator_impl.h"

typedef struct gn_call {
    gn_task task; /* the handler, on the component's request lane */
    atomic_uint refs;
    atomic_bool completed;
    genesis_coordinator *co;
    gn_component *comp;
    gn_call_completion completion;
    nng_aio *timer;
    struct genesis_request req; /* views into the copies that follow the struct */
} gn_call;

void gn_deliver(genesis_coordinator *co, gn_call_completion c, genesis_result *res)
{
    gn_deliver_result(co->pool, c.fn, c.arg, c.run_inline, res);
}

void gn_call_account(genesis_coordinator *co, gn_component *comp, const genesis_result *res)
{
    int status = genesis_result_status(res);
    int reason = genesis_result_reason(res);
    if (status == GENESIS_OK) {
        atomic_fetch_add(&co->n_succeeded, 1);
    } else {
        atomic_fetch_add(&co->n_failed, 1);
        if (status == GENESIS_DEADLINE_EXCEEDED)
            atomic_fetch_add(&co->n_timed_out, 1);
        if (reason != GENESIS_REASON_HANDLER_ERROR && reason != GENESIS_REASON_TIMEOUT &&
            reason != GENESIS_REASON_DEADLINE_EXCEEDED && reason != GENESIS_REASON_TRANSPORT_ERROR)
            atomic_fetch_add(&co->n_rejected, 1);
        if (comp != NULL)
            atomic_fetch_add(&comp->n_failures, 1);
    }
}

void gn_complete_now(genesis_coordinator *co, gn_call_completion completion, genesis_result *res)
{
    gn_call_account(co, NULL, res);
    gn_deliver(co, completion, res);
    gn_coordinator_leave(co);
}

static void call_release(gn_call *call)
{
    if (atomic_fetch_sub(&call->refs, 1) != 1)
        return;
    genesis_coordinator *co = call->co;
    nng_aio_reap(call->timer); /* may run inside the timer's own callback */
    gn_component_release(call->comp);
    free(call);
    gn_coordinator_leave(co);
}

/* The first of handler, deadline and retirement to get here wins; the others are late. */
static bool call_finish(gn_call *call, genesis_result *res, bool from_timer)
{
    bool expected = false;
    if (!atomic_compare_exchange_strong(&call->completed, &expected, true)) {
        genesis_result_free(res);
        return false;
    }
    if (!from_timer)
        nng_aio_cancel(call->timer);
    gn_call_account(call->co, call->comp, res);
    gn_deliver(call->co, call->completion, res);
    return true;
}

static void on_deadline(void *arg)
{
    gn_call *call = arg;
    int err = nng_aio_result(call->timer);
    if (err == 0 || err == NNG_ETIMEDOUT) {
        call_finish(call,
                    gn_result_errorf(GENESIS_DEADLINE_EXCEEDED, GENESIS_REASON_DEADLINE_EXCEEDED,
                                     "component '%s' did not answer '%s' within the deadline",
                                     call->comp->id, call->req.type),
                    true);
    }
    call_release(call);
}

static void run_handler(gn_task *task)
{
    gn_call *call = (gn_call *)task;
    gn_component *comp = call->comp;
    if (atomic_load(&call->completed))
        return; /* the deadline passed while it waited in the queue */
    if (atomic_load(&comp->removed)) {
        call_finish(call,
                    gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN,
                                     "component '%s' was unregistered before it ran '%s'", comp->id,
                                     call->req.type),
                    false);
        return;
    }
    genesis_reply reply;
    gn_reply_init(&reply, call->co->opts.max_message_size);
    comp->callbacks.on_request(&call->req, &reply, comp->callbacks.arg);
    genesis_result *res = gn_reply_to_result(&reply);
    if (!call_finish(call, res, false))
        atomic_fetch_add(&call->co->n_late_replies, 1);
}

static void handler_done(gn_task *task)
{
    call_release((gn_call *)task);
}

static gn_call *call_new(genesis_coordinator *co, gn_component *comp, const gn_call_params *p,
                         int64_t deadline_ms, uint64_t request_id, gn_call_completion completion)
{
    const char *source = p->source != NULL ? p->source : "";
    const char *ct = p->content_type != NULL ? p->content_type : "";
    size_t tl = strlen(p->type) + 1, sl = strlen(source) + 1, cl = strlen(ct) + 1;
    gn_call *call = malloc(sizeof(*call) + tl + sl + cl + p->len + 1);
    if (call == NULL)
        return NULL;
    memset(call, 0, sizeof(*call));
    if (nng_aio_alloc(&call->timer, on_deadline, call) != 0) {
        free(call);
        return NULL;
    }
    char *buf = (char *)(call + 1);
    call->req.type = memcpy(buf, p->type, tl);
    buf += tl;
    call->req.source = memcpy(buf, source, sl);
    buf += sl;
    call->req.content_type = memcpy(buf, ct, cl);
    buf += cl;
    if (p->len > 0)
        memcpy(buf, p->data, p->len);
    buf[p->len] = '\0';
    call->req.data = (const uint8_t *)buf;
    call->req.len = p->len;
    call->req.target = comp->id;
    call->req.criticality = p->criticality;
    call->req.deadline_ms = deadline_ms;
    call->req.id = request_id;
    call->task.run = run_handler;
    call->task.finish = handler_done;
    call->co = co;
    call->comp = comp;
    call->completion = completion;
    atomic_init(&call->refs, 3); /* route, timer, handler task */
    atomic_init(&call->completed, false);
    return call;
}

static atomic_uint_fast64_t next_request_id = 1;

int gn_call_route(genesis_coordinator *co, const gn_call_params *p, gn_call_completion completion)
{
    if (!gn_coordinator_enter(co))
        return gn_fail(GENESIS_UNAVAILABLE, "the coordinator is stopping");
    atomic_fetch_add(&co->n_requests, 1);

    if (!gn_valid_id(p->target)) {
        gn_complete_now(co, completion,
                        gn_result_errorf(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT,
                                         "invalid target id (1..%u bytes of [A-Za-z0-9._-])",
                                         GN_MAX_ID_LEN));
        return GENESIS_OK;
    }
    if (!gn_valid_type(p->type)) {
        gn_complete_now(co, completion,
                        gn_result_errorf(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT,
                                         "invalid request type (1..%u printable bytes, no spaces)",
                                         GN_MAX_TYPE_LEN));
        return GENESIS_OK;
    }
    if (p->len > co->opts.max_message_size) {
        gn_complete_now(co, completion,
                        gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED,
                                         GENESIS_REASON_MESSAGE_TOO_LARGE,
                                         "payload of %zu bytes exceeds the limit of %zu bytes",
                                         p->len, co->opts.max_message_size));
        return GENESIS_OK;
    }
    gn_component *comp = gn_registry_lookup(co->registry, p->target);
    if (comp == NULL) {
        gn_complete_now(co, completion,
                        gn_result_errorf(GENESIS_NOT_FOUND, GENESIS_REASON_NOT_FOUND,
                                         "no component '%s' is registered", p->target));
        return GENESIS_OK;
    }
    atomic_fetch_add(&comp->n_requests, 1);
    uint32_t timeout = p->timeout_ms > 0 ? p->timeout_ms : co->opts.default_timeout_ms;
    int64_t deadline = gn_now_ms() + timeout;
    uint64_t id = p->request_id != 0 ? p->request_id : atomic_fetch_add(&next_request_id, 1);

    if (comp->kind == GN_REMOTE) {
        /* remote.c owns the component reference and the in-flight slot from here. */
        gn_remote_forward(co, comp, p, deadline, id, completion);
        return GENESIS_OK;
    }

    gn_call *call = call_new(co, comp, p, deadline, id, completion);
    if (call == NULL) {
        atomic_fetch_add(&comp->n_failures, 1);
        gn_component_release(comp);
        gn_complete_now(co, completion,
                        gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                                         "out of memory routing '%s' to '%s'", p->type, p->target));
        return GENESIS_OK;
    }
    /* Arm the deadline before queueing so the timer always exists when the handler ends. */
    nng_sleep_aio((nng_duration)timeout, call->timer);
    int rv = gn_lane_submit(&comp->requests, &call->task);
    if (rv != GENESIS_OK) {
        unsigned int queued = 0, running = 0;
        gn_lane_counts(&comp->requests, &queued, &running);
        genesis_result *res =
            rv == GENESIS_RESOURCE_EXHAUSTED
                ? gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_BULKHEAD_FULL,
                                   "component '%s' is full: %u running, %u queued", comp->id,
                                   running, queued)
                : gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN,
                                   "component '%s' is being unregistered", comp->id);
        call_finish(call, res, false);
        call_release(call); /* the handler task's reference: it will never run */
    }
    call_release(call); /* the route's reference */
    return GENESIS_OK;
}
