/* One routed request through the resilience engine (docs/design.md): mode admission, then
 * attempts — each admitted by the breaker, bounded by the bulkhead and its own per-try timer
 * inside the overall deadline — whose outcomes feed the breaker, the retry budget and the
 * stats, retried after a full-jitter backoff waited on an NNG timer (no thread parked), and
 * the outcome delivered exactly once. In-process attempts run the handler on a worker, or
 * on the caller's thread for a component that declared itself non-blocking; remote ones are
 * remote.c's. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "resilience/backoff.h"
#include "base/completion.h"
#include "coordinator/coordinator_impl.h"
#include "base/deadline.h"

/* One in-process attempt: the handler on the component's lane racing the per-try timer. */
typedef struct gn_attempt {
    gn_task task;
    atomic_uint refs; /* starter, timer, handler task */
    atomic_bool completed;
    atomic_bool running;   /* the handler was entered */
    atomic_bool timed_out; /* the timer won while the handler ran: it is stuck */
    bool inline_run;       /* on the caller's thread, no timer armed (see inline_attempt) */
    struct gn_rcall *rc;
    gn_deadline timer;
    /* The request's completion when the handler's own outcome finished it: delivered from the
     * task's finish hook on the same worker (see gn_deliver). */
    gn_call_completion pending;
    genesis_result *pending_res;
    struct genesis_request req; /* rc->req with this attempt's deadline */
} gn_attempt;

/* A request across its attempts. Reference counted: the control flow (route, then whichever
 * attempt or backoff timer is current) holds one, every in-process attempt object another
 * (its handler may outlive its timer). */
typedef struct gn_rcall {
    atomic_uint refs;
    genesis_coordinator *co;
    gn_component *comp;
    gn_call_completion completion;
    genesis_policy pol; /* the component's policy when the call started */
    uint64_t started_us;
    int64_t deadline_ms; /* gn_now_ms clock */
    unsigned int attempts;
    bool idempotent;
    bool attempted;              /* some attempt produced an outcome (not only rejections) */
    uint64_t lease;              /* the current attempt's breaker probe lease */
    uint64_t recoveries;         /* gn_breaker_recoveries when the current attempt started */
    int64_t attempt_started_ms;  /* gn_clock: slow calls are timed on the injectable clock */
    uint64_t attempt_started_us; /* real time: the adaptive concurrency limit's samples */
    bool climit_held;            /* the current attempt holds an adaptive-limit slot */
    bool internal;               /* a hedge or an active probe: not accounted as a request */
    atomic_bool *cancel;         /* hedge.c: answered elsewhere, skip what is pending */
    genesis_result *last_failure;
    nng_aio *backoff;
    bool first_used;            /* first is taken: later in-process attempts are allocated */
    gn_attempt first;           /* the first in-process attempt: no allocation of its own */
    struct genesis_request req; /* views into the copies that follow the struct */
} gn_rcall;

/* The attempt whose handler outcome this worker thread is recording (see gn_deliver). */
static _Thread_local gn_attempt *tls_finishing;

static void rcall_next(gn_rcall *rc);

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A completion for a worker thread, reached while that worker records its own handler's
 * outcome, stays on this worker: it runs from the handler task's finish hook, after the
 * component's slot is free, instead of being handed to another worker (one thread hand-off
 * and one allocation less per request). */
void gn_deliver(genesis_coordinator *co, gn_call_completion c, genesis_result *res)
{
    gn_attempt *a = tls_finishing;
    if (!c.run_inline && a != NULL && a->rc->co == co && a->pending.fn == NULL) {
        a->pending = c;
        a->pending_res = res;
        return;
    }
    gn_deliver_result(co->pool, c.fn, c.arg, c.run_inline, res);
}

void gn_call_account(genesis_coordinator *co, gn_component *comp, const genesis_result *res)
{
    int status = genesis_result_status(res);
    int reason = genesis_result_reason(res);
    if (status == GENESIS_OK) {
        atomic_fetch_add(&co->n_succeeded, 1);
        if (comp != NULL)
            atomic_fetch_add(&comp->n_succeeded, 1);
        return;
    }
    atomic_fetch_add(&co->n_failed, 1);
    if (status == GENESIS_DEADLINE_EXCEEDED)
        atomic_fetch_add(&co->n_timed_out, 1);
    if (reason != GENESIS_REASON_HANDLER_ERROR && reason != GENESIS_REASON_TIMEOUT &&
        reason != GENESIS_REASON_DEADLINE_EXCEEDED && reason != GENESIS_REASON_TRANSPORT_ERROR)
        atomic_fetch_add(&co->n_rejected, 1);
    if (comp != NULL) {
        atomic_fetch_add(&comp->n_failures, 1);
        if (reason >= 0 && reason < GENESIS_REASON_SLOTS)
            atomic_fetch_add(&comp->n_by_reason[reason], 1);
    }
}

void gn_complete_now(genesis_coordinator *co, gn_call_completion completion, genesis_result *res)
{
    gn_call_account(co, NULL, res);
    gn_deliver(co, completion, res);
    gn_coordinator_leave(co);
}

/* ---- classification ------------------------------------------------------------------- */

/* UNAVAILABLE and a per-try timeout are retryable (docs/resilience.md); a request that may have
 * reached a handler only when idempotent — except an explicit UNAVAILABLE from the handler
 * itself, which by gRPC convention means it did not act. */
static bool is_retryable(const genesis_result *res, int stage, bool idempotent)
{
    int status = genesis_result_status(res), reason = genesis_result_reason(res);
    if (status == GENESIS_UNAVAILABLE) {
        if (reason == GENESIS_REASON_BREAKER_OPEN || reason == GENESIS_REASON_SHED_BY_MODE)
            return false;
        return stage == GN_ATTEMPT_UNSENT || reason == GENESIS_REASON_HANDLER_ERROR ||
               reason == GENESIS_REASON_COMPONENT_DOWN || idempotent;
    }
    if (status == GENESIS_DEADLINE_EXCEEDED && reason == GENESIS_REASON_TIMEOUT)
        return stage == GN_ATTEMPT_UNSENT || idempotent;
    return false;
}

/* ---- the request ---------------------------------------------------------------------- */

static void rcall_release(gn_rcall *rc)
{
    unsigned int refs = atomic_fetch_sub(&rc->refs, 1);
    GN_ASSERT(refs > 0); /* an underflow would free the call twice */
    if (refs != 1)
        return;
    genesis_coordinator *co = rc->co;
    if (rc->backoff != NULL)
        nng_aio_reap(rc->backoff); /* may be inside its own callback */
    genesis_result_free(rc->last_failure);
    gn_component_release(rc->comp);
    free(rc);
    gn_coordinator_leave(co);
}

/* A failure of an attempt that started before the component was last seen to recover (a new
 * instance registered, an injected crash ended): it says how the component was, so it must
 * not trip the breaker afterwards. (A request still waiting on a killed instance when the
 * restarted one registered failed after the registration: counted, it opened the breaker for
 * its whole open time, which the registration could no longer cut short.) */
static bool stale_failure(gn_rcall *rc, int outcome)
{
    return outcome == GN_OUTCOME_FAILURE &&
           rc->recoveries != gn_breaker_recoveries(&rc->comp->breaker);
}

static void rcall_finish(gn_rcall *rc, genesis_result *res)
{
    genesis_coordinator *co = rc->co;
    gn_component *comp = rc->comp;
    int status = genesis_result_status(res);
    if (status == GENESIS_DEADLINE_EXCEEDED &&
        genesis_result_reason(res) == GENESIS_REASON_TIMEOUT && gn_now_ms() >= rc->deadline_ms) {
        /* The last per-try timer ran into the overall deadline: report the deadline. */
        genesis_result *whole = gn_result_errorf(
            GENESIS_DEADLINE_EXCEEDED, GENESIS_REASON_DEADLINE_EXCEEDED,
            "component '%s' did not answer '%s' within the deadline (%u attempt%s)", comp->id,
            rc->req.type, rc->attempts, rc->attempts == 1 ? "" : "s");
        if (whole != NULL) {
            genesis_result_free(res);
            res = whole;
        }
    }
    int outcome = gn_outcome_classify(&rc->pol, status, genesis_result_reason(res));
    if (stale_failure(rc, outcome))
        outcome = GN_OUTCOME_IGNORED;
    if (rc->attempted && outcome != GN_OUTCOME_IGNORED) {
        gn_breaker_transition t;
        gn_breaker_request_done(&comp->breaker, &rc->pol, outcome == GN_OUTCOME_FAILURE,
                                gn_clock(co), &t);
        gn_breaker_publish(comp, &t);
    }
    if (rc->cancel == NULL && !rc->internal) { /* a hedged pair: once, by hedge.c */
        gn_latency_record(&comp->latency, now_us() - rc->started_us);
        gn_call_account(co, comp, res);
    }
    gn_deliver(co, rc->completion, res);
    rcall_release(rc);
}

/* A failure that ends the request, keeping what the last attempt said. */
static void rcall_fail(gn_rcall *rc, int status, int reason, const char *why)
{
    genesis_result *res;
    if (rc->last_failure != NULL)
        res = gn_result_errorf(status, reason, "%s; last attempt: %s", why,
                               genesis_result_message(rc->last_failure));
    else
        res = gn_result_errorf(status, reason, "%s", why);
    rcall_finish(rc, res);
}

static void on_backoff(void *arg)
{
    gn_rcall *rc = arg;
    if (nng_aio_result(rc->backoff) != 0 && nng_aio_result(rc->backoff) != NNG_ETIMEDOUT) {
        rcall_fail(rc, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                   "retry cancelled: the coordinator is stopping");
        return;
    }
    rcall_next(rc);
}

/* Decide after a failed attempt: retry on a timer, or finish with res. */
static void rcall_after_failure(gn_rcall *rc, genesis_result *res, int stage)
{
    genesis_coordinator *co = rc->co;
    gn_component *comp = rc->comp;
    const char *no_retry = NULL;
    int reason = genesis_result_reason(res);
    if (!is_retryable(res, stage, rc->idempotent))
        no_retry = "not retryable";
    else if (rc->cancel != NULL && atomic_load(rc->cancel))
        no_retry = "answered by its hedged copy";
    else if (rc->attempts >= rc->pol.max_attempts)
        no_retry = "attempts exhausted";
    else if (atomic_load(&comp->removed))
        no_retry = "component removed";
    else if (!gn_mode_allows_retry(atomic_load(&co->mode_now), rc->req.criticality))
        no_retry = "the degradation mode allows no retries of non-critical work";
    else if (!gn_budget_allows_retry(&comp->budget, &rc->pol)) {
        atomic_fetch_add(&comp->n_budget_denied, 1);
        reason = GENESIS_REASON_RETRY_BUDGET_EXHAUSTED;
        no_retry = "retry budget exhausted";
    }
    uint32_t delay = 0;
    if (no_retry == NULL) {
        delay = gn_backoff_delay_ms(&rc->pol, rc->attempts, gn_random(co));
        /* Never retry when what is left after the wait cannot fit another attempt: at least
         * the component's typical latency. */
        uint64_t p50_us = gn_latency_quantile(&comp->latency, 0.5, NULL);
        int64_t need = 1 + (int64_t)(p50_us / 1000);
        if (rc->deadline_ms - gn_now_ms() - (int64_t)delay < need)
            no_retry = "no time left for another attempt";
    }
    if (no_retry == NULL && rc->backoff == NULL && nng_aio_alloc(&rc->backoff, on_backoff, rc) != 0)
        no_retry = "out of memory for the retry timer";
    if (no_retry != NULL) {
        if (reason != genesis_result_reason(res)) {
            genesis_result *r2 =
                gn_result_errorf(genesis_result_status(res), reason, "%s (%s after %u attempts)",
                                 genesis_result_message(res), no_retry, rc->attempts);
            if (r2 != NULL) {
                genesis_result_free(res);
                res = r2;
            }
        }
        rcall_finish(rc, res);
        return;
    }
    genesis_result_free(rc->last_failure);
    rc->last_failure = res;
    nng_sleep_aio((nng_duration)delay, rc->backoff);
}

/* Every attempt ends here, exactly once. */
static void attempt_done(void *arg, genesis_result *res, int stage)
{
    gn_rcall *rc = arg;
    genesis_coordinator *co = rc->co;
    gn_component *comp = rc->comp;
    if (stage == GN_ATTEMPT_REJECTED) {
        if (rc->climit_held) { /* refused behind the limit: the bulkhead is full, congestion */
            rc->climit_held = false;
            gn_climit_release(&comp->climit, (int)rc->pol.adaptive_concurrency,
                              rc->pol.max_concurrency, now_us() - rc->attempt_started_us, true);
        }
        gn_breaker_cancel(&comp->breaker, rc->lease);
        rcall_finish(rc, res);
        return;
    }
    rc->attempted = true;
    int status = genesis_result_status(res);
    if (rc->climit_held) {
        rc->climit_held = false;
        bool dropped = status == GENESIS_DEADLINE_EXCEEDED || status == GENESIS_RESOURCE_EXHAUSTED;
        gn_climit_release(&comp->climit, (int)rc->pol.adaptive_concurrency, rc->pol.max_concurrency,
                          now_us() - rc->attempt_started_us, dropped);
    }
    int outcome = gn_outcome_classify(&rc->pol, status, genesis_result_reason(res));
    if (stale_failure(rc, outcome))
        outcome = GN_OUTCOME_IGNORED;
    uint32_t slow = rc->pol.breaker_slow_call_ms;
    int64_t now = gn_clock(co);
    bool slow_call = slow > 0 && now - rc->attempt_started_ms >= (int64_t)slow;
    gn_breaker_transition t;
    gn_breaker_record_outcome(&comp->breaker, &rc->pol, rc->lease, outcome, slow_call, now, &t);
    gn_breaker_publish(comp, &t);
    if (outcome != GN_OUTCOME_IGNORED)
        gn_budget_record(&comp->budget, &rc->pol, outcome == GN_OUTCOME_FAILURE);
    if (status == GENESIS_OK)
        rcall_finish(rc, res);
    else
        rcall_after_failure(rc, res, stage);
}

/* ---- in-process attempts -------------------------------------------------------------- */

static void attempt_release(gn_attempt *a)
{
    unsigned int refs = atomic_fetch_sub(&a->refs, 1);
    GN_ASSERT(refs > 0);
    if (refs != 1)
        return;
    gn_rcall *rc = a->rc; /* NOLINT(clang-analyzer-unix.Malloc): the last reference was ours */
    if (a != &rc->first)
        free(a); /* NOLINT(clang-analyzer-unix.Malloc): the last reference; a retry's attempt */
    /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): the embedded first attempt goes with rc */
    rcall_release(rc);
}

/* The first of handler, timer and retirement to get here wins; the others are late. */
static bool attempt_finish(gn_attempt *a, genesis_result *res, int stage, bool from_timer)
{
    bool expected = false;
    if (!atomic_compare_exchange_strong(&a->completed, &expected, true)) {
        genesis_result_free(res);
        return false;
    }
    /* A cancelled timer never fires: its reference is ours to drop (the caller holds another). */
    if (!from_timer && !a->inline_run && gn_deadline_cancel(a->rc->co->deadlines, &a->timer))
        attempt_release(a);          /* the timer's reference: the caller still holds one */
    attempt_done(a->rc, res, stage); /* NOLINT(clang-analyzer-unix.Malloc): reference counted */
    return true;
}

static void on_attempt_timer(gn_deadline *d)
{
    gn_attempt *a = (gn_attempt *)((char *)d - offsetof(gn_attempt, timer));
    gn_rcall *rc = a->rc;
    bool whole = gn_now_ms() >= rc->deadline_ms;
    bool running = atomic_load(&a->running);
    if (running) {
        atomic_store(&a->timed_out, true);
        atomic_fetch_add(&rc->comp->stuck, 1);
    }
    attempt_finish(
        a,
        gn_result_errorf(GENESIS_DEADLINE_EXCEEDED,
                         whole ? GENESIS_REASON_DEADLINE_EXCEEDED : GENESIS_REASON_TIMEOUT,
                         "component '%s' did not answer '%s' within %s", rc->comp->id, rc->req.type,
                         whole ? "the deadline" : "the per-try timeout"),
        running ? GN_ATTEMPT_REACHED : GN_ATTEMPT_UNSENT, true);
    attempt_release(a); /* the timer's reference */
}

/* An inline handler that returned after its per-try timeout: the reply is discarded and the
 * attempt fails as a timed-out one would. */
static genesis_result *inline_overran(gn_attempt *a, genesis_result *reply)
{
    gn_rcall *rc = a->rc;
    genesis_result_free(reply);
    atomic_fetch_add(&rc->co->n_late_replies, 1);
    bool whole = gn_now_ms() >= rc->deadline_ms;
    return gn_result_errorf(
        GENESIS_DEADLINE_EXCEEDED,
        whole ? GENESIS_REASON_DEADLINE_EXCEEDED : GENESIS_REASON_TIMEOUT,
        "component '%s' answered '%s' after %s (its non-blocking handler ran inline)", rc->comp->id,
        rc->req.type, whole ? "the deadline" : "the per-try timeout");
}

static void run_handler(gn_task *task)
{
    gn_attempt *a = (gn_attempt *)task;
    gn_component *comp = a->rc->comp;
    if (atomic_load(&a->completed))
        return; /* its timer fired while it waited in the queue */
    if (a->rc->cancel != NULL && atomic_load(a->rc->cancel)) {
        attempt_finish(a,
                       gn_result_errorf(GENESIS_CANCELLED, GENESIS_REASON_NONE,
                                        "'%s' to '%s' was answered by its hedged copy", a->req.type,
                                        comp->id),
                       GN_ATTEMPT_REJECTED, false);
        return;
    }
    if (atomic_load(&comp->removed)) {
        attempt_finish(a,
                       gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN,
                                        "component '%s' was unregistered before it ran '%s'",
                                        comp->id, a->req.type),
                       GN_ATTEMPT_UNSENT, false);
        return;
    }
    atomic_store(&a->running, true);
    genesis_result *res = gn_fault_on(&comp->fault)
                              ? gn_fault_apply(&comp->fault, comp->id, gn_random(comp->co), false)
                              : NULL;
    if (res != NULL) {
        atomic_store(&a->running, false);
        attempt_finish(a, res, GN_ATTEMPT_UNSENT, false);
        return;
    }
    genesis_reply reply;
    gn_reply_init(&reply, a->rc->co->opts.max_message_size);
    comp->callbacks.on_request(&a->req, &reply, comp->callbacks.arg);
    genesis_coordinator *co = a->rc->co;
    res = gn_reply_to_result(&reply);
    if (a->inline_run && gn_now_ms() >= a->req.deadline_ms) /* what its timer would have done */
        res = inline_overran(a, res);
    gn_attempt *outer = tls_finishing;
    tls_finishing = a;
    bool won = attempt_finish(a, res, GN_ATTEMPT_REACHED, false);
    tls_finishing = outer;
    if (!won)
        atomic_fetch_add(&co->n_late_replies, 1);
    if (atomic_load(&a->timed_out))
        atomic_fetch_sub(&comp->stuck, 1);
}

static void handler_done(gn_task *task)
{
    gn_attempt *a = (gn_attempt *)task;
    if (a->pending.fn != NULL) /* before the release: the request stays in flight meanwhile */
        a->pending.fn(a->pending_res, a->pending.arg);
    attempt_release(a);
}

/* A completion the inline handler's outcome left pending goes to a worker as the attempt's own
 * task (no allocation): async completions never run on the thread that started the call. */
static void run_pending(gn_task *task)
{
    gn_attempt *a = (gn_attempt *)task;
    a->pending.fn(a->pending_res, a->pending.arg);
}

static void pending_done(gn_task *task)
{
    attempt_release((gn_attempt *)task);
}

/* A non-blocking component's handler on the calling thread (GENESIS_COMPONENT_NONBLOCKING),
 * holding one of its bulkhead's running slots; no per-try timer is armed (run_handler checks
 * the time when the handler returns). a holds one reference, the starter's. */
static void inline_attempt(gn_attempt *a, gn_lane *prev)
{
    gn_rcall *rc = a->rc;
    run_handler(&a->task);
    gn_lane_leave(&rc->comp->requests, prev);
    if (a->pending.fn != NULL) {
        a->task.run = run_pending;
        a->task.finish = pending_done;
        if (gn_pool_submit(rc->co->pool, &a->task) == GENESIS_OK)
            return;
        a->pending.fn(a->pending_res, a->pending.arg); /* the pool is stopping */
    }
    attempt_release(a);
}

static bool runs_inline(const gn_rcall *rc)
{
    const genesis_component *cb = &rc->comp->callbacks;
    return rc->attempts == 1 && cb->version >= 3 && (cb->flags & GENESIS_COMPONENT_NONBLOCKING);
}

static void inproc_attempt(gn_rcall *rc, uint32_t try_ms)
{
    gn_component *comp = rc->comp;
    gn_attempt *a = rc->first_used ? calloc(1, sizeof(*a)) : &rc->first;
    rc->first_used = true;
    if (a == NULL) {
        attempt_done(rc,
                     gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                                      "out of memory routing '%s' to '%s'", rc->req.type, comp->id),
                     GN_ATTEMPT_REJECTED);
        return;
    }
    a->req = rc->req;
    a->req.deadline_ms = gn_now_ms() + try_ms;
    a->rc = rc;
    a->task.run = run_handler;
    a->task.finish = handler_done;
    gn_lane *prev = NULL;
    if (runs_inline(rc) && gn_lane_enter(&comp->requests, &prev)) {
        a->inline_run = true;
        a->timer.slot = GN_DEADLINE_IDLE; /* never armed: attempt_finish finds nothing to cancel */
        atomic_init(&a->refs, 1);
        atomic_fetch_add(&rc->refs, 1);
        inline_attempt(a, prev);
        return;
    }
    atomic_init(&a->refs, 3); /* starter, timer, handler task */
    atomic_fetch_add(&rc->refs, 1);
    /* Arm the timer before queueing so it always exists when the handler ends. */
    if (!gn_deadline_arm(rc->co->deadlines, &a->timer, try_ms, on_attempt_timer)) {
        atomic_init(&a->refs, 1);
        attempt_release(a);
        /* rc holds its own reference: the attempt's release cannot free it. */
        /* NOLINTBEGIN(clang-analyzer-unix.Malloc) */
        attempt_done(rc,
                     gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                                      "cannot start the per-try timer of '%s' to '%s'",
                                      rc->req.type, comp->id),
                     GN_ATTEMPT_REJECTED);
        /* NOLINTEND(clang-analyzer-unix.Malloc) */
        return;
    }
    unsigned int queued = 0;
    int rv = gn_lane_submit_counted(&comp->requests, &a->task, &queued);
    if (rv != GENESIS_OK) {
        unsigned int running = 0;
        gn_lane_counts(&comp->requests, &queued, &running);
        bool full = rv == GENESIS_RESOURCE_EXHAUSTED;
        genesis_result *res =
            full ? gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_BULKHEAD_FULL,
                                    "component '%s' is full: %u running, %u queued", comp->id,
                                    running, queued)
                 : gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN,
                                    "component '%s' is being unregistered", comp->id);
        attempt_finish(a, res, full ? GN_ATTEMPT_REJECTED : GN_ATTEMPT_UNSENT, false);
        attempt_release(a); /* the handler task's reference: it will never run */
    } else if (rc->pol.queue_warn > 0) {
        if (queued == rc->pol.queue_warn)
            gn_log(&rc->co->log, GENESIS_LOG_WARN,
                   "component %s: %u requests queued (warning level; the queue holds %u)", comp->id,
                   queued, rc->pol.max_queued);
    }
    /* A reference count: the handler task's release above left the starter's. */
    attempt_release(a); /* NOLINT(clang-analyzer-unix.Malloc): the starter's reference */
}

/* ---- attempts ------------------------------------------------------------------------- */

static void fail_fast_reason(gn_component *comp, uint32_t retry_in, char *why, size_t size)
{
    if (retry_in > 0)
        snprintf(why, size, "component '%s' fails fast: breaker OPEN, next probe in %u ms",
                 comp->id, retry_in);
    else
        snprintf(why, size, "component '%s' fails fast: breaker %s", comp->id,
                 genesis_breaker_state_name(gn_breaker_state(&comp->breaker)));
}

static void rcall_next(gn_rcall *rc)
{
    genesis_coordinator *co = rc->co;
    gn_component *comp = rc->comp;
    int64_t left = rc->deadline_ms - gn_now_ms();
    if (left <= 0) {
        genesis_result *last = rc->last_failure;
        rc->last_failure = NULL;
        if (last != NULL) {
            rcall_finish(rc, last);
            return;
        }
        char why[400];
        snprintf(why, sizeof(why), "deadline passed before component '%s' could run '%s'", comp->id,
                 rc->req.type);
        rcall_fail(rc, GENESIS_DEADLINE_EXCEEDED, GENESIS_REASON_DEADLINE_EXCEEDED, why);
        return;
    }
    uint32_t try_ms =
        rc->pol.per_try_timeout_ms < left ? rc->pol.per_try_timeout_ms : (uint32_t)left;
    uint32_t retry_in = 0;
    gn_breaker_transition t;
    rc->recoveries = gn_breaker_recoveries(&comp->breaker);
    bool admitted = gn_breaker_admit(&comp->breaker, &rc->pol, gn_clock(co), try_ms + 100,
                                     &rc->lease, &retry_in, &t);
    gn_breaker_publish(comp, &t);
    if (!admitted) {
        char why[256];
        fail_fast_reason(comp, retry_in, why, sizeof(why));
        genesis_result *res;
        if (rc->last_failure != NULL)
            res = gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_BREAKER_OPEN,
                                   "%s; last attempt: %s", why,
                                   genesis_result_message(rc->last_failure));
        else
            res = gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_BREAKER_OPEN, "%s", why);
        if (res != NULL)
            res->retry_delay_ms = retry_in; /* the same advice, as a number */
        rcall_finish(rc, res);
        return;
    }
    if (rc->pol.adaptive_concurrency != GN_CLIMIT_OFF) {
        if (!gn_climit_acquire(&comp->climit, rc->pol.max_concurrency)) {
            attempt_done(rc,
                         gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_BULKHEAD_FULL,
                                          "component '%s' is at its adaptive concurrency limit "
                                          "(%u in flight)",
                                          comp->id,
                                          gn_climit_limit(&comp->climit, rc->pol.max_concurrency)),
                         GN_ATTEMPT_REJECTED);
            return;
        }
        rc->climit_held = true;
    }
    rc->attempts++;
    atomic_fetch_add(&comp->n_attempts, 1);
    if (rc->attempts > 1) {
        atomic_fetch_add(&comp->n_retries, 1);
        atomic_fetch_add(&co->n_retries, 1);
    }
    rc->attempt_started_ms = gn_clock(rc->co);
    rc->attempt_started_us = now_us();
    if (comp->kind == GN_REMOTE)
        gn_remote_attempt(co, comp, &rc->req, try_ms, rc->attempts, rc->idempotent,
                          rc->pol.max_concurrency + rc->pol.max_queued, attempt_done, rc);
    else
        inproc_attempt(rc, try_ms);
}

static gn_rcall *rcall_new(genesis_coordinator *co, gn_component *comp, const gn_call_params *p,
                           int criticality, int64_t deadline_ms, uint64_t request_id,
                           gn_call_completion completion)
{
    const char *source = p->source != NULL ? p->source : "";
    const char *ct = p->content_type != NULL ? p->content_type : "";
    size_t tl = strlen(p->type) + 1, sl = strlen(source) + 1, cl = strlen(ct) + 1;
    gn_rcall *rc = malloc(sizeof(*rc) + tl + sl + cl + p->len + 1);
    if (rc == NULL)
        return NULL;
    memset(rc, 0, sizeof(*rc));
    char *buf = (char *)(rc + 1);
    rc->req.type = memcpy(buf, p->type, tl);
    buf += tl;
    rc->req.source = memcpy(buf, source, sl);
    buf += sl;
    rc->req.content_type = memcpy(buf, ct, cl);
    buf += cl;
    if (p->len > 0)
        memcpy(buf, p->data, p->len);
    buf[p->len] = '\0';
    rc->req.data = (const uint8_t *)buf;
    rc->req.len = p->len;
    rc->req.target = comp->id;
    rc->req.criticality = criticality;
    rc->req.deadline_ms = deadline_ms;
    rc->req.id = request_id;
    rc->co = co;
    rc->comp = comp;
    rc->completion = completion;
    rc->deadline_ms = deadline_ms;
    rc->idempotent = p->idempotent;
    rc->started_us = now_us();
    gn_component_policy(comp, &rc->pol);
    atomic_init(&rc->refs, 1);
    return rc;
}

/* A request the mode would shed still goes through when the component's breaker waits for a
 * probe: otherwise a component whose open breaker caused the mode could never recover. */
static bool probe_wanted(gn_component *comp)
{
    genesis_policy p;
    gn_component_policy(comp, &p);
    return gn_breaker_wants_probe(&comp->breaker, &p, gn_clock(comp->co));
}

static atomic_uint_fast64_t next_request_id = 1;

int gn_call_route(genesis_coordinator *co, const gn_call_params *p, gn_call_completion completion)
{
    if (!gn_coordinator_enter(co))
        return gn_fail(GENESIS_UNAVAILABLE, "the coordinator is stopping");
    if (!p->internal)
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
    if (!p->internal)
        atomic_fetch_add(&comp->n_requests, 1);
    int crit = gn_effective_criticality(co, p->type, p->criticality);
    int mode = atomic_load(&co->mode_now);
    if (!gn_mode_admits(mode, crit) && !probe_wanted(comp)) {
        genesis_result *res =
            gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_SHED_BY_MODE,
                             "mode %s sheds %s requests ('%s' to '%s')", genesis_mode_name(mode),
                             crit == GENESIS_CRITICALITY_SHEDDABLE ? "SHEDDABLE" : "non-critical",
                             p->type, comp->id);
        if (!p->internal)
            gn_call_account(co, comp, res);
        gn_component_release(comp);
        gn_deliver(co, completion, res);
        gn_coordinator_leave(co);
        return GENESIS_OK;
    }
    /* An open breaker fails the request before anything is allocated for it: the same outcome
     * and accounting as a rejection at its first attempt (rcall_next), only cheaper. */
    uint32_t retry_in = 0;
    if (gn_breaker_rejects(&comp->breaker, gn_clock(co), &retry_in)) {
        uint64_t started_us = now_us();
        char why[256];
        fail_fast_reason(comp, retry_in, why, sizeof(why));
        genesis_result *res =
            gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_BREAKER_OPEN, "%s", why);
        if (res != NULL)
            res->retry_delay_ms = retry_in; /* the same advice, as a number */
        if (!p->internal) {
            gn_latency_record(&comp->latency, now_us() - started_us);
            gn_call_account(co, comp, res);
        }
        gn_component_release(comp);
        gn_deliver(co, completion, res);
        gn_coordinator_leave(co);
        return GENESIS_OK;
    }
    uint32_t timeout = p->timeout_ms > 0 ? p->timeout_ms : co->opts.default_timeout_ms;
    uint64_t id = p->request_id != 0 ? p->request_id : atomic_fetch_add(&next_request_id, 1);
    gn_rcall *rc = rcall_new(co, comp, p, crit, gn_now_ms() + timeout, id, completion);
    if (rc == NULL) {
        genesis_result *res =
            gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                             "out of memory routing '%s' to '%s'", p->type, p->target);
        if (!p->internal)
            gn_call_account(co, comp, res);
        gn_component_release(comp);
        gn_deliver(co, completion, res);
        gn_coordinator_leave(co);
        return GENESIS_OK;
    }
    rc->internal = p->internal;
    rc->cancel = p->cancel;
    if (!p->internal)
        rc->completion = gn_hedge_start(co, comp, &rc->pol, p, completion, &rc->cancel);
    rcall_next(rc); /* rc owns the component reference and the in-flight slot from here */
    return GENESIS_OK;
}
