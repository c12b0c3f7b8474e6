/* Hedged requests (policy hedge_percentile; gRPC A6's hedging, one hedge): an idempotent
 * request whose first attempt has not answered after that percentile of the component's
 * latency gets a second, concurrent request, charged to the retry budget. The first success
 * is delivered (an error only once both have answered, the primary's preferred), and the
 * other is cancelled: its queued attempt and retries are skipped, a running handler finishes
 * unheard.
 *
 * A group joins the two: the primary's and the hedge's completions and the timer each hold a
 * reference. The pair is accounted as one request, with the outcome and latency delivered;
 * the hedge is counted in the component's hedges (and hedge_wins when it answered first). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator/coordinator_impl.h"

/* Latency samples a component needs before its percentile is trusted as a hedge delay. */
#define HEDGE_MIN_SAMPLES 20

typedef struct gn_hedge {
    atomic_uint refs;
    genesis_coordinator *co;
    gn_component *comp;
    gn_call_completion user;
    atomic_bool cancelled; /* delivered: the other request's pending work is skipped */
    pthread_mutex_t lock;  /* guards the fields below */
    bool delivered, started;
    unsigned int answered;
    genesis_result *held; /* an error kept while the other request may still succeed */
    bool held_primary;
    nng_aio *timer;
    uint64_t started_us;
    gn_call_params params; /* views into the copies that follow the struct */
} gn_hedge;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void hedge_release(gn_hedge *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    genesis_coordinator *co = h->co;
    genesis_result_free(h->held);
    if (h->timer != NULL)
        nng_aio_reap(h->timer); /* may be inside its own callback */
    pthread_mutex_destroy(&h->lock);
    gn_component_release(h->comp);
    free(h);
    gn_coordinator_leave(co);
}

/* One request answered. Runs inline on the thread that finished it. */
static void leg_done(genesis_result *res, void *arg, bool hedge)
{
    gn_hedge *h = arg;
    genesis_result *deliver = NULL, *drop = NULL;
    bool cancel_timer = false;
    pthread_mutex_lock(&h->lock);
    h->answered++;
    unsigned int expected = h->started ? 2 : 1;
    if (h->delivered) { // NOLINT(bugprone-branch-clone): distinct cases that happen to drop alike
        drop = res;
    } else if (genesis_result_status(res) == GENESIS_OK) {
        deliver = res;
        drop = h->held;
        h->held = NULL;
        if (hedge)
            atomic_fetch_add(&h->comp->n_hedge_wins, 1);
    } else if (h->answered >= expected) {
        /* Both failed (or no hedge was started): the primary's error. */
        if (h->held != NULL && h->held_primary) {
            deliver = h->held;
            drop = res;
        } else {
            deliver = res;
            drop = h->held;
        }
        h->held = NULL;
    } else if (h->held == NULL) {
        h->held = res;
        h->held_primary = !hedge;
    } else {
        drop = res;
    }
    if (deliver != NULL) {
        h->delivered = true;
        atomic_store(&h->cancelled, true);
        cancel_timer = !h->started;
    }
    pthread_mutex_unlock(&h->lock);
    genesis_result_free(drop);
    if (cancel_timer)
        nng_aio_cancel(h->timer);
    if (deliver != NULL) { /* the pair is one request: accounted once, as delivered */
        gn_latency_record(&h->comp->latency, now_us() - h->started_us);
        gn_call_account(h->co, h->comp, deliver);
        gn_deliver(h->co, h->user, deliver);
    }
    hedge_release(h);
}

static void primary_done(genesis_result *res, void *arg)
{
    leg_done(res, arg, false);
}

static void hedge_done(genesis_result *res, void *arg)
{
    leg_done(res, arg, true);
}

static void on_hedge_timer(void *arg)
{
    gn_hedge *h = arg;
    bool start = false;
    if (nng_aio_result(h->timer) == 0) {
        genesis_policy p;
        gn_component_policy(h->comp, &p);
        pthread_mutex_lock(&h->lock);
        /* Only while the primary has not answered, and within the retry budget. */
        start = !h->delivered && h->answered == 0 && gn_budget_allows_retry(&h->comp->budget, &p);
        if (start) {
            h->started = true;
            atomic_fetch_add(&h->refs, 1); /* the hedge's completion */
        }
        pthread_mutex_unlock(&h->lock);
    }
    if (start) {
        atomic_fetch_add(&h->comp->n_hedges, 1);
        gn_call_completion done = {.fn = hedge_done, .arg = h, .run_inline = true};
        if (gn_call_route(h->co, &h->params, done) != GENESIS_OK)
            leg_done(gn_result_errorf(GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                                      "hedged request not started: the coordinator is stopping"),
                     h, true);
    }
    /* The timer's reference (reference counted: the analyzer cannot see the count). */
    hedge_release(h); // NOLINT(clang-analyzer-unix.Malloc)
}

gn_call_completion gn_hedge_start(genesis_coordinator *co, gn_component *comp,
                                  const genesis_policy *pol, const gn_call_params *p,
                                  gn_call_completion user, atomic_bool **cancel)
{
    *cancel = NULL;
    if (pol->hedge_percentile == 0 || !p->idempotent || p->internal)
        return user;
    uint64_t count = 0;
    uint64_t at_us = gn_latency_quantile(&comp->latency, pol->hedge_percentile / 100.0, &count);
    if (count < HEDGE_MIN_SAMPLES)
        return user;
    const char *source = p->source != NULL ? p->source : "";
    const char *ct = p->content_type != NULL ? p->content_type : "";
    size_t tl = strlen(p->type) + 1, il = strlen(comp->id) + 1, sl = strlen(source) + 1,
           cl = strlen(ct) + 1;
    gn_hedge *h = calloc(1, sizeof(*h) + tl + il + sl + cl + p->len + 1);
    if (h == NULL)
        return user;
    if (!gn_coordinator_enter(co)) {
        free(h);
        return user;
    }
    if (nng_aio_alloc(&h->timer, on_hedge_timer, h) != 0) {
        free(h);
        gn_coordinator_leave(co);
        return user;
    }
    char *buf = (char *)(h + 1);
    h->params = *p;
    h->params.type = memcpy(buf, p->type, tl);
    buf += tl;
    h->params.target = memcpy(buf, comp->id, il);
    buf += il;
    h->params.source = memcpy(buf, source, sl);
    buf += sl;
    h->params.content_type = memcpy(buf, ct, cl);
    buf += cl;
    if (p->len > 0)
        memcpy(buf, p->data, p->len);
    h->params.data = buf;
    h->params.request_id = 0;
    h->params.internal = true;
    h->params.cancel = &h->cancelled;
    h->co = co;
    h->comp = comp;
    gn_component_retain(comp);
    h->user = user;
    h->started_us = now_us();
    pthread_mutex_init(&h->lock, NULL);
    atomic_init(&h->cancelled, false);
    atomic_init(&h->refs, 2); /* the primary's completion, the timer */
    uint64_t delay_ms = at_us / 1000;
    nng_sleep_aio((nng_duration)(delay_ms > 0 ? delay_ms : 1), h->timer);
    *cancel = &h->cancelled;
    return (gn_call_completion){.fn = primary_done, .arg = h, .run_inline = true};
}
