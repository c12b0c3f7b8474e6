/* The resilience engine through a real coordinator: retries, the retry budget, breakers with
 * an injected clock (no sleeping through open times), bulkheads against a hung component,
 * degradation modes, deadline propagation, admin commands over a real front door, and a remote
 * component whose breaker recovers when it registers again. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

/* ---- injected clock and RNG ------------------------------------------------------------ */

static atomic_llong fake_now = 1000000;
static atomic_ullong rng = 0x9E3779B97F4A7C15ull;

static int64_t test_clock(void *arg)
{
    (void)arg;
    return atomic_load(&fake_now);
}

static uint64_t test_random(void *arg)
{
    (void)arg;
    /* xorshift64 under a CAS: deterministic for sequential callers. */
    unsigned long long x = atomic_load(&rng), y;
    do {
        y = x;
        y ^= y << 13;
        y ^= y >> 7;
        y ^= y << 17;
    } while (!atomic_compare_exchange_weak(&rng, &x, y));
    return y;
}

/* ---- a component whose behaviour the test sets ------------------------------------------ */

typedef struct behaviour {
    atomic_int calls;
    atomic_int returned;    /* handler calls that returned */
    atomic_int fail_status; /* 0: succeed */
    atomic_uint last_remaining_ms;
    atomic_int advance_ms;         /* the handler takes this long on the injected clock */
    atomic_int probes;             /* "genesis.probe" requests seen */
    _Atomic(gt_gate *) block_once; /* non-NULL: the next call (only) waits on it */
    gt_gate *block;                /* non-NULL: wait on it */
} behaviour;

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    behaviour *b = arg;
    atomic_fetch_add(&b->calls, 1);
    if (strcmp(genesis_request_type(req), "genesis.probe") == 0)
        atomic_fetch_add(&b->probes, 1);
    atomic_store(&b->last_remaining_ms, genesis_request_remaining_ms(req));
    if (b->block != NULL)
        gt_gate_wait(b->block, 5000);
    gt_gate *once = atomic_exchange(&b->block_once, NULL);
    if (once != NULL)
        gt_gate_wait(once, GT_WAIT_MS);
    atomic_fetch_add(&fake_now, atomic_load(&b->advance_ms));
    int status = atomic_load(&b->fail_status);
    if (status != 0)
        genesis_reply_error(reply, status, "told to fail");
    else
        genesis_reply_set(reply, "ok", 2, "text/plain");
    atomic_fetch_add(&b->returned, 1);
}

static bool all_returned(void *arg)
{
    behaviour *b = arg;
    return atomic_load(&b->returned) == atomic_load(&b->calls);
}

typedef struct env {
    genesis_coordinator *c;
    behaviour a, b, c3;
} env;

static genesis_policy fast_policy(void)
{
    genesis_policy p;
    genesis_policy_init(&p, GENESIS_POLICY_VERSION);
    p.backoff_initial_ms = 1; /* retries in milliseconds, not seconds */
    p.backoff_max_ms = 4;
    p.per_try_timeout_ms = 1000;
    return p;
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof(*e));
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    genesis_policy p = fast_policy();
    o.default_policy = &p;
    o.clock_ms = test_clock;
    o.random = test_random;
    o.heartbeat_interval_ms = 20; /* mode evaluation tick */
    o.mode_hold_ms = 1000;        /* on the injected clock */
    o.admin_faults = 1;
    if (genesis_coordinator_new(&e->c, &o) != GENESIS_OK)
        return -1;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    comp.arg = &e->a;
    genesis_coordinator_register(e->c, "a", &comp);
    comp.arg = &e->b;
    genesis_coordinator_register(e->c, "b", &comp);
    comp.arg = &e->c3;
    genesis_coordinator_register(e->c, "c", &comp);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    genesis_coordinator_free(e->c);
    free(e);
    return 0;
}

static genesis_result *call(env *e, const char *target, const char *type, int crit, int idem,
                            uint32_t timeout_ms)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.criticality = crit;
    o.idempotent = idem;
    o.timeout_ms = timeout_ms;
    genesis_result *res = NULL;
    genesis_coordinator_request(e->c, target, type, NULL, 0, &o, &res);
    return res;
}

static genesis_component_stats stats_of(env *e, const char *id)
{
    genesis_component_stats s = {.version = GENESIS_COMPONENT_STATS_VERSION};
    assert_ok(genesis_coordinator_get_component_stats(e->c, id, &s));
    return s;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_retries_absorb_thirty_percent_random_failures(void **state)
{
    env *e = *state;
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.error_rate = 0.3;
    assert_ok(genesis_coordinator_inject_fault(e->c, "a", &f));
    int ok = 0;
    for (int i = 0; i < 400; i++) {
        genesis_result *res = call(e, "a", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
        ok += genesis_result_status(res) == GENESIS_OK;
        genesis_result_free(res);
    }
    genesis_component_stats s = stats_of(e, "a");
    printf("30%% faults: %d/400 ok, %.3f attempts/request, breaker opens %llu\n", ok,
           (double)s.attempts / 400, (unsigned long long)s.breaker_opens);
    assert_true(ok >= 396);
    assert_true(s.retries > 0);
    assert_true((double)s.attempts / 400 <= 1.5);
    assert_int_equal(s.breaker_opens, 0); /* retries absorbed it: the breaker stays closed */
    assert_ok(genesis_coordinator_inject_fault(e->c, "a", NULL));
}

static void test_always_failing_opens_breaker_then_probe_closes_it(void **state)
{
    env *e = *state;
    atomic_store(&e->b.fail_status, GENESIS_UNAVAILABLE);
    /* Three requests fail after their retries: the consecutive trigger opens the breaker. */
    for (int i = 0; i < 3; i++) {
        genesis_result *res = call(e, "b", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
        assert_int_equal(genesis_result_status(res), GENESIS_UNAVAILABLE);
        genesis_result_free(res);
    }
    genesis_component_stats s = stats_of(e, "b");
    assert_int_equal(s.breaker_state, GENESIS_BREAKER_OPEN);
    int calls = atomic_load(&e->b.calls);
    /* Open: fail fast with the reason, without touching the handler. */
    for (int i = 0; i < 50; i++) {
        genesis_result *res = call(e, "b", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
        assert_result(res, GENESIS_UNAVAILABLE, GENESIS_REASON_BREAKER_OPEN);
        genesis_result_free(res);
    }
    assert_int_equal(atomic_load(&e->b.calls), calls);
    /* The attempts stayed bounded: the budget stopped retrying before the breaker opened. */
    s = stats_of(e, "b");
    assert_true(s.attempts <= 15);
    assert_int_equal(s.fail_fast, 50);
    /* The component heals; the open time passes on the injected clock: one probe closes it. */
    atomic_store(&e->b.fail_status, 0);
    atomic_fetch_add(&fake_now, 10000);
    genesis_result *res = call(e, "b", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
    assert_result_ok(res);
    genesis_result_free(res);
    s = stats_of(e, "b");
    assert_int_equal(s.breaker_state, GENESIS_BREAKER_CLOSED);
    assert_int_equal(s.breaker_opens, 1);
    assert_int_equal(s.breaker_transitions, 3); /* CLOSED->OPEN->HALF_OPEN->CLOSED */
}

static bool mode_is_normal(void *arg)
{
    return genesis_coordinator_get_mode(arg) == GENESIS_MODE_NORMAL;
}

/* Back to NORMAL before a test that needs retries. When a health tick (every 20 ms) happened
 * to see the previous test's breaker open, the coordinator went SAFE, which allows no retries
 * of non-critical work, and it steps down only after the hold time passes on the injected
 * clock, which nothing advances by itself. */
static void settle_mode(env *e)
{
    int64_t until = gt_now_ms() + GT_WAIT_MS;
    while (!mode_is_normal(e->c) && gt_now_ms() < until) {
        atomic_fetch_add(&fake_now, 1000);
        gt_sleep_ms(25);
    }
    assert_int_equal(genesis_coordinator_get_mode(e->c), GENESIS_MODE_NORMAL);
}

static void test_timeout_after_reaching_handler_is_retried_only_when_idempotent(void **state)
{
    env *e = *state;
    settle_mode(e);
    genesis_policy p = fast_policy();
    p.per_try_timeout_ms = 50;
    assert_ok(genesis_coordinator_set_policy(e->c, "c", &p));
    gt_gate gate;
    gt_gate_init(&gate);
    e->c3.block = &gate;
    genesis_result *res = call(e, "c", "write", GENESIS_CRITICALITY_DEFAULT, 0, 2000);
    assert_result(res, GENESIS_DEADLINE_EXCEEDED, GENESIS_REASON_TIMEOUT);
    genesis_result_free(res);
    assert_int_equal(atomic_load(&e->c3.calls), 1); /* it may have acted: never twice */
    /* The handler saw its per-try budget, not the whole deadline. */
    assert_true(atomic_load(&e->c3.last_remaining_ms) <= 50);
    /* One stuck handler of 16 slots leaves "c" healthy (the mode stays NORMAL). */
    res = call(e, "c", "read", GENESIS_CRITICALITY_DEFAULT, 1, 2000);
    assert_int_equal(genesis_result_status(res), GENESIS_DEADLINE_EXCEEDED);
    genesis_result_free(res);
    assert_true(atomic_load(&e->c3.calls) >= 3); /* idempotent: retried */
    gt_gate_open(&gate);
    assert_true(gt_wait_until(all_returned, &e->c3, 10000)); /* nobody waits on the gate */
    assert_ok(genesis_coordinator_set_breaker(e->c, "c", GENESIS_BREAKER_CLOSED));
    genesis_component_stats s = stats_of(e, "c");
    assert_true(s.failures_by_reason[GENESIS_REASON_TIMEOUT] >= 1);
    assert_true(s.latency_count >= 2);
    e->c3.block = NULL;
    gt_gate_destroy(&gate);
    assert_ok(genesis_coordinator_set_policy(e->c, "c", NULL));
}

typedef struct async_count {
    gt_counter done;
    atomic_int ok, full;
} async_count;

static void on_async(genesis_result *res, void *arg)
{
    async_count *ac = arg;
    if (genesis_result_status(res) == GENESIS_OK)
        atomic_fetch_add(&ac->ok, 1);
    if (genesis_result_reason(res) == GENESIS_REASON_BULKHEAD_FULL)
        atomic_fetch_add(&ac->full, 1);
    genesis_result_free(res);
    gt_counter_add(&ac->done, 1);
}

/* A failure of a request that started before the component was seen to recover (here an
 * injected crash that ends; for a remote component, a new instance that registers) does not
 * count against it. Two requests fail, a third waits in the handler while the component
 * crashes and comes back, then fails too. Counted, it made three in a row and opened the
 * breaker for its whole open time, after the recovery that should have ended it. */
static void test_a_failure_from_before_a_recovery_does_not_open_the_breaker(void **state)
{
    env *e = *state;
    settle_mode(e);
    genesis_policy p = fast_policy();
    p.max_attempts = 1; /* each request is one attempt: the third is the one that waited */
    assert_ok(genesis_coordinator_set_policy(e->c, "c", &p));
    atomic_store(&e->c3.fail_status, GENESIS_UNAVAILABLE);
    for (int i = 0; i < 2; i++) {
        genesis_result *res = call(e, "c", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
        assert_int_equal(genesis_result_status(res), GENESIS_UNAVAILABLE);
        genesis_result_free(res);
    }
    assert_int_equal(stats_of(e, "c").breaker_state, GENESIS_BREAKER_CLOSED);

    gt_gate gate;
    gt_gate_init(&gate);
    atomic_store(&e->c3.block_once, &gate);
    int calls = atomic_load(&e->c3.calls);
    async_count ac = {0};
    gt_counter_init(&ac.done);
    assert_ok(genesis_coordinator_request_async(e->c, "c", "work", NULL, 0, NULL, on_async, &ac));
    int64_t give_up = gt_now_ms() + GT_WAIT_MS;
    while (atomic_load(&e->c3.calls) == calls && gt_now_ms() < give_up)
        gt_sleep_ms(1);
    assert_int_equal(atomic_load(&e->c3.calls), calls + 1); /* in the handler, at the gate */
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.crash = 1;
    assert_ok(genesis_coordinator_inject_fault(e->c, "c", &f));
    assert_ok(genesis_coordinator_inject_fault(e->c, "c", NULL)); /* back: a recovery */
    gt_gate_open(&gate);
    assert_true(gt_counter_wait(&ac.done, 1, GT_WAIT_MS));
    assert_int_equal(atomic_load(&ac.ok), 0); /* it failed, after the recovery */
    assert_int_equal(stats_of(e, "c").breaker_state, GENESIS_BREAKER_CLOSED);

    /* Failures that start after the recovery count as ever: three in a row open it. */
    for (int i = 0; i < 3; i++) {
        genesis_result *res = call(e, "c", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
        assert_int_equal(genesis_result_status(res), GENESIS_UNAVAILABLE);
        genesis_result_free(res);
    }
    assert_int_equal(stats_of(e, "c").breaker_state, GENESIS_BREAKER_OPEN);
    atomic_store(&e->c3.fail_status, 0);
    assert_ok(genesis_coordinator_set_breaker(e->c, "c", GENESIS_BREAKER_CLOSED));
    assert_ok(genesis_coordinator_set_policy(e->c, "c", NULL));
    gt_counter_destroy(&ac.done);
    gt_gate_destroy(&gate);
}

static void test_hung_component_is_bounded_by_its_bulkhead(void **state)
{
    env *e = *state;
    genesis_policy p = fast_policy();
    p.max_concurrency = 2;
    p.max_queued = 3;
    p.per_try_timeout_ms = 300;
    assert_ok(genesis_coordinator_set_policy(e->c, "a", &p));
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.hang = 1;
    assert_ok(genesis_coordinator_inject_fault(e->c, "a", &f));
    async_count ac = {0};
    gt_counter_init(&ac.done);
    for (int i = 0; i < 20; i++)
        assert_ok(
            genesis_coordinator_request_async(e->c, "a", "work", NULL, 0, NULL, on_async, &ac));
    /* 2 running + 3 queued; the other 15 are refused at once with the reason. */
    assert_true(gt_counter_wait(&ac.done, 15, 2000));
    assert_true(atomic_load(&ac.full) >= 15);
    /* Another component is untouched while "a" hangs. */
    genesis_result *res = call(e, "b", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
    assert_result_ok(res);
    genesis_result_free(res);
    assert_true(gt_counter_wait(&ac.done, 20, 5000));
    assert_ok(genesis_coordinator_inject_fault(e->c, "a", NULL));
    gt_counter_destroy(&ac.done);
    assert_ok(genesis_coordinator_set_policy(e->c, "a", NULL));
    assert_ok(genesis_coordinator_set_breaker(e->c, "a", GENESIS_BREAKER_CLOSED));
    settle_mode(e);
}

static bool mode_is_emergency(void *arg)
{
    return genesis_coordinator_get_mode(arg) == GENESIS_MODE_EMERGENCY;
}

static void test_modes_follow_health_and_shed_by_criticality(void **state)
{
    env *e = *state;
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.crash = 1;
    assert_ok(genesis_coordinator_inject_fault(e->c, "a", &f));
    assert_ok(genesis_coordinator_inject_fault(e->c, "b", &f));
    /* 2 of 3 unhealthy (67 % > 50 %): EMERGENCY on the next evaluation. */
    assert_true(gt_wait_until(mode_is_emergency, e->c, 2000));
    int64_t t0 = gt_now_ms();
    genesis_result *res = call(e, "c", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
    assert_result(res, GENESIS_UNAVAILABLE, GENESIS_REASON_SHED_BY_MODE);
    genesis_result_free(res);
    res = call(e, "c", "work", GENESIS_CRITICALITY_SHEDDABLE, 0, 0);
    assert_result(res, GENESIS_UNAVAILABLE, GENESIS_REASON_SHED_BY_MODE);
    genesis_result_free(res);
    printf("shedding took %lld ms for two requests\n", (long long)(gt_now_ms() - t0));
    res = call(e, "c", "work", GENESIS_CRITICALITY_CRITICAL, 0, 0);
    assert_result_ok(res);
    genesis_result_free(res);
    res = call(e, "c", "ping", GENESIS_CRITICALITY_DEFAULT, 0, 0); /* ping is critical */
    assert_result_ok(res);
    genesis_result_free(res);
    /* Non-critical events are dropped in EMERGENCY. */
    assert_status(genesis_coordinator_emit(e->c, "noise", NULL, 0, NULL, NULL, NULL),
                  GENESIS_UNAVAILABLE);
    /* An operator override wins; AUTO returns to the computed mode. */
    assert_ok(genesis_coordinator_set_mode(e->c, GENESIS_MODE_NORMAL));
    res = call(e, "c", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
    assert_result_ok(res);
    genesis_result_free(res);
    assert_ok(genesis_coordinator_set_mode(e->c, GENESIS_MODE_AUTO));
    assert_int_equal(genesis_coordinator_get_mode(e->c), GENESIS_MODE_EMERGENCY);
    /* Recovery: healthy again, and after the hold time on the injected clock, NORMAL. */
    assert_ok(genesis_coordinator_inject_fault(e->c, "a", NULL));
    assert_ok(genesis_coordinator_inject_fault(e->c, "b", NULL));
    assert_ok(genesis_coordinator_set_breaker(e->c, "a", GENESIS_BREAKER_CLOSED));
    assert_ok(genesis_coordinator_set_breaker(e->c, "b", GENESIS_BREAKER_CLOSED));
    gt_sleep_ms(100);
    assert_int_equal(genesis_coordinator_get_mode(e->c), GENESIS_MODE_EMERGENCY); /* holding */
    atomic_fetch_add(&fake_now, 1000);
    assert_true(gt_wait_until(mode_is_normal, e->c, 2000));
}

static bool breaker_not_open(void *arg)
{
    env *e = arg;
    return stats_of(e, "a").breaker_state != GENESIS_BREAKER_OPEN;
}

static void test_open_time_ends_for_an_idle_component(void **state)
{
    env *e = *state;
    atomic_store(&e->a.fail_status, GENESIS_INTERNAL);
    for (int i = 0; i < 3; i++) {
        genesis_result *res = call(e, "a", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
        genesis_result_free(res);
    }
    assert_int_equal(stats_of(e, "a").breaker_state, GENESIS_BREAKER_OPEN);
    atomic_store(&e->a.fail_status, 0);
    /* No request comes; the open time passes on the injected clock; the health tick ends it. */
    atomic_fetch_add(&fake_now, 10000);
    assert_true(gt_wait_until(breaker_not_open, e, GT_WAIT_MS));
    assert_ok(genesis_coordinator_set_breaker(e->c, "a", GENESIS_BREAKER_CLOSED));
    settle_mode(e);
}

static void test_slow_calls_are_timed_on_the_injected_clock(void **state)
{
    env *e = *state;
    genesis_policy p = fast_policy();
    p.breaker_consecutive_failures = 0;
    p.breaker_window = 2;
    p.breaker_min_calls = 2;
    p.breaker_failure_rate_pct = 100;
    p.breaker_slow_call_ms = 100;
    assert_ok(genesis_coordinator_set_policy(e->c, "c", &p));
    atomic_store(&e->c3.advance_ms, 250); /* each call takes 250 ms of injected time */
    for (int i = 0; i < 2; i++) {
        genesis_result *res = call(e, "c", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0);
        assert_result_ok(res);
        genesis_result_free(res);
    }
    assert_int_equal(stats_of(e, "c").breaker_state, GENESIS_BREAKER_OPEN);
    atomic_store(&e->c3.advance_ms, 0);
    assert_ok(genesis_coordinator_set_policy(e->c, "c", NULL));
    assert_ok(genesis_coordinator_set_breaker(e->c, "c", GENESIS_BREAKER_CLOSED));
    settle_mode(e);
}

static bool mode_is_not_normal(void *arg)
{
    return genesis_coordinator_get_mode(arg) != GENESIS_MODE_NORMAL;
}

static bool breaker_a_closed(void *arg)
{
    env *e = arg;
    return stats_of(e, "a").breaker_state == GENESIS_BREAKER_CLOSED;
}

static void test_active_probe_recovers_an_idle_component(void **state)
{
    env *e = *state;
    atomic_store(&e->a.fail_status, GENESIS_INTERNAL);
    for (int i = 0; i < 3; i++)
        genesis_result_free(call(e, "a", "work", GENESIS_CRITICALITY_DEFAULT, 0, 0));
    assert_int_equal(stats_of(e, "a").breaker_state, GENESIS_BREAKER_OPEN);
    assert_true(gt_wait_until(mode_is_not_normal, e->c, GT_WAIT_MS)); /* 1 of 3: SAFE */
    atomic_store(&e->a.fail_status, 0);
    int probes = atomic_load(&e->a.probes);
    /* No request comes: the open time passes, the tick half-opens it, and one tick later the
     * coordinator probes the idle component itself; the probe's success closes it. */
    atomic_fetch_add(&fake_now, 10000);
    assert_true(gt_wait_until(breaker_a_closed, e, GT_WAIT_MS));
    assert_true(atomic_load(&e->a.probes) > probes);
    /* Healthy again: after the hold time the mode steps down by itself. */
    settle_mode(e);
}

static void test_version_1_callers_keep_their_struct_sizes(void **state)
{
    env *e = *state;
    size_t v1 = offsetof(genesis_policy, breaker_slow_call_rate_pct);
    unsigned char buf[sizeof(genesis_policy) + 8];
    memset(buf, 0xAB, sizeof(buf));
    genesis_policy *p = (genesis_policy *)(void *)buf;
    assert_ok(genesis_policy_init(p, 1));
    for (size_t i = v1; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xAB); /* nothing written past a version-1 struct */
    p->max_attempts = 2;
    assert_ok(genesis_coordinator_set_policy(e->c, "c", p)); /* its tail is not read */
    genesis_policy full = {.version = GENESIS_POLICY_VERSION};
    assert_ok(genesis_coordinator_get_policy(e->c, "c", &full));
    assert_int_equal(full.max_attempts, 2);
    assert_int_equal(full.breaker_open_multiplier_pct, 200); /* version-2 defaults */
    assert_int_equal(full.breaker_failure_statuses, 0xE014);
    memset(buf, 0xAB, sizeof(buf));
    p->version = 1;
    assert_ok(genesis_coordinator_get_policy(e->c, "c", p));
    assert_int_equal(p->version, 1);
    assert_int_equal(p->max_attempts, 2);
    for (size_t i = v1; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xAB);
    assert_ok(genesis_coordinator_set_policy(e->c, "c", NULL));

    size_t s1 = offsetof(genesis_component_stats, failure_rate_pct);
    unsigned char sbuf[sizeof(genesis_component_stats) + 8];
    memset(sbuf, 0xAB, sizeof(sbuf));
    genesis_component_stats *st = (genesis_component_stats *)(void *)sbuf;
    st->version = 1;
    assert_ok(genesis_coordinator_get_component_stats(e->c, "c", st));
    for (size_t i = s1; i < sizeof(sbuf); i++)
        assert_int_equal(sbuf[i], 0xAB);
}

static void test_operator_breaker_states_through_admin(void **state)
{
    env *e = *state;
    const char *open_for[] = {"c", "open", "5000"};
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_admin(e->c, "breaker", open_for, 3, &res));
    genesis_result_free(res);
    assert_int_equal(stats_of(e, "c").breaker_state, GENESIS_BREAKER_FORCED_OPEN);
    res = call(e, "c", "work", GENESIS_CRITICALITY_CRITICAL, 0, 0);
    assert_result(res, GENESIS_UNAVAILABLE, GENESIS_REASON_BREAKER_OPEN);
    genesis_result_free(res);
    atomic_fetch_add(&fake_now, 5000); /* forced time over: half-open, a probe closes it */
    res = call(e, "c", "work", GENESIS_CRITICALITY_CRITICAL, 0, 0);
    assert_result_ok(res);
    genesis_result_free(res);
    assert_int_equal(stats_of(e, "c").breaker_state, GENESIS_BREAKER_CLOSED);
    /* METRICS_ONLY: failures are measured, nothing opens. */
    const char *metrics[] = {"c", "metrics-only"};
    assert_ok(genesis_coordinator_admin(e->c, "breaker", metrics, 2, &res));
    genesis_result_free(res);
    const char *set[] = {"c",
                         "breaker_window=4",
                         "breaker_min_calls=4",
                         "max_attempts=1",
                         "breaker_slow_call_rate_pct=50",
                         "breaker_active_probe=0"};
    assert_ok(genesis_coordinator_admin(e->c, "policy", set, 6, &res));
    size_t len = 0;
    const char *json = genesis_result_data(res, &len);
    char text[4096];
    snprintf(text, sizeof(text), "%.*s", (int)len, json);
    assert_non_null(strstr(text, "breaker_slow_call_rate_pct")); /* listed with the others */
    genesis_result_free(res);
    genesis_policy got = {.version = GENESIS_POLICY_VERSION};
    assert_ok(genesis_coordinator_get_policy(e->c, "c", &got));
    assert_int_equal(got.breaker_slow_call_rate_pct, 50);
    atomic_store(&e->c3.fail_status, GENESIS_INTERNAL);
    for (int i = 0; i < 8; i++)
        genesis_result_free(call(e, "c", "work", GENESIS_CRITICALITY_CRITICAL, 0, 0));
    genesis_component_stats s = stats_of(e, "c");
    assert_int_equal(s.breaker_state, GENESIS_BREAKER_METRICS_ONLY);
    assert_true(s.failure_rate_pct == 100.0);
    assert_int_equal(s.window_calls, 4);
    atomic_store(&e->c3.fail_status, 0);
    assert_ok(genesis_coordinator_set_policy(e->c, "c", NULL));
    assert_ok(genesis_coordinator_set_breaker(e->c, "c", GENESIS_BREAKER_CLOSED));
    settle_mode(e);
}

static void test_hedged_request_answers_while_the_first_attempt_hangs(void **state)
{
    env *e = *state;
    genesis_policy p = fast_policy();
    p.hedge_percentile = 95;
    assert_ok(genesis_coordinator_set_policy(e->c, "c", &p));
    for (int i = 0; i < 30; i++) /* a latency history to take the p95 from */
        genesis_result_free(call(e, "c", "work", GENESIS_CRITICALITY_DEFAULT, 1, 0));
    genesis_component_stats before = stats_of(e, "c");
    gt_gate gate;
    gt_gate_init(&gate);
    atomic_store(&e->c3.block_once, &gate);
    /* The first attempt hangs; after the p95 the hedged copy answers for it. */
    genesis_result *res = call(e, "c", "work", GENESIS_CRITICALITY_DEFAULT, 1, 0);
    assert_result_ok(res);
    genesis_result_free(res);
    genesis_component_stats s = stats_of(e, "c");
    assert_int_equal(s.hedges, before.hedges + 1);
    assert_int_equal(s.hedge_wins, before.hedge_wins + 1);
    assert_int_equal(s.requests, before.requests + 1); /* the pair is one request */
    assert_int_equal(s.succeeded, before.succeeded + 1);
    atomic_store(&e->c3.block_once, NULL);
    gt_gate_open(&gate);
    assert_true(gt_wait_until(all_returned, &e->c3, GT_WAIT_MS));
    gt_gate_destroy(&gate);
    assert_ok(genesis_coordinator_set_policy(e->c, "c", NULL));
}

static void test_policy_change_keeps_breaker_state(void **state)
{
    env *e = *state;
    assert_ok(genesis_coordinator_set_breaker(e->c, "b", GENESIS_BREAKER_FORCED_OPEN));
    genesis_policy p = fast_policy();
    p.max_attempts = 2;
    assert_ok(genesis_coordinator_set_policy(e->c, "b", &p));
    assert_int_equal(stats_of(e, "b").breaker_state, GENESIS_BREAKER_FORCED_OPEN);
    genesis_policy got = {.version = GENESIS_POLICY_VERSION};
    assert_ok(genesis_coordinator_get_policy(e->c, "b", &got));
    assert_int_equal(got.max_attempts, 2);
    p.breaker_window = 5000; /* invalid: the error names the field */
    assert_status(genesis_coordinator_set_policy(e->c, "b", &p), GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_last_error(), "breaker_window"));
    assert_ok(genesis_coordinator_set_policy(e->c, "b", NULL));
    assert_ok(genesis_coordinator_set_breaker(e->c, "b", GENESIS_BREAKER_CLOSED));
}

/* An in-process component with durable state: a counter it snapshots and restores. */
typedef struct counter {
    atomic_int value;
    atomic_int restores;
} counter;

static void on_count(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    counter *k = arg;
    char text[32];
    int n = snprintf(text, sizeof(text), "%d", atomic_fetch_add(&k->value, 1) + 1);
    genesis_reply_set(reply, text, (size_t)n, "text/plain");
}

static int snapshot_count(genesis_snapshot *snap, void *arg)
{
    counter *k = arg;
    int v = atomic_load(&k->value);
    return genesis_snapshot_set(snap, &v, sizeof(v));
}

static int restore_count(const void *data, size_t len, uint64_t generation, void *arg)
{
    (void)generation;
    counter *k = arg;
    if (len != sizeof(int))
        return GENESIS_DATA_LOSS;
    int v;
    memcpy(&v, data, sizeof(v));
    atomic_store(&k->value, v);
    atomic_fetch_add(&k->restores, 1);
    return GENESIS_OK;
}

static void test_crashed_in_process_component_comes_back_from_its_checkpoint(void **state)
{
    (void)state;
    char dir[256], db[512];
    assert_int_equal(gt_tempdir_make(dir, sizeof(dir)), 0);
    snprintf(db, sizeof(db), "%s/checkpoints.db", dir);
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.checkpoint_store = db;
    o.checkpoint_interval_ms = 60000; /* only the explicit checkpoint below */
    genesis_coordinator *c = NULL;
    assert_ok(genesis_coordinator_new(&c, &o));
    counter k = {0};
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_count,
                              .snapshot = snapshot_count,
                              .restore = restore_count,
                              .arg = &k};
    assert_ok(genesis_coordinator_register(c, "counter", &comp));
    for (int i = 0; i < 5; i++)
        assert_ok(genesis_coordinator_request(c, "counter", "add", NULL, 0, NULL, NULL));
    assert_ok(genesis_coordinator_checkpoint_now(c, "counter", NULL)); /* durable: 5 */
    for (int i = 0; i < 3; i++)
        assert_ok(genesis_coordinator_request(c, "counter", "add", NULL, 0, NULL, NULL));
    assert_int_equal(atomic_load(&k.value), 8); /* 3 changes after the checkpoint */
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.crash = 1;
    assert_ok(genesis_coordinator_inject_fault(c, "counter", &f));
    genesis_result *res = NULL;
    assert_status(genesis_coordinator_request(c, "counter", "add", NULL, 0, NULL, &res),
                  GENESIS_UNAVAILABLE);
    genesis_result_free(res);
    /* Back from the crash: what was durable comes back, what was not is lost (as in a real
     * crash of a process). */
    assert_ok(genesis_coordinator_inject_fault(c, "counter", NULL));
    assert_int_equal(atomic_load(&k.restores), 1);
    assert_int_equal(atomic_load(&k.value), 5);
    genesis_coordinator_free(c);
    gt_tempdir_remove(dir);
}

/* ---- over real sockets and processes ---------------------------------------------------- */

static void spawn_service(gt_process *p, const char *front, const char *listen)
{
    const char *argv[] = {TEST_SERVICE_PATH, "--id", "remote1", "--front-door", front,
                          "--listen",        listen, NULL};
    assert_int_equal(gt_process_spawn(p, argv, GT_CAPTURE_STDOUT), 0);
    char line[512];
    assert_true(gt_process_wait_line(p, "ready url=", line, sizeof(line), 10000));
}

static void test_remote_breaker_half_opens_when_a_crashed_component_comes_back(void **state)
{
    env *e = *state;
    char dir[256], front[512], listen[512];
    assert_int_equal(gt_tempdir_make(dir, sizeof(dir)), 0);
    assert_ok(
        genesis_coordinator_listen(e->c, gt_ipc_url(front, sizeof(front), dir, "front"), NULL));
    gt_process svc;
    spawn_service(&svc, front, gt_ipc_url(listen, sizeof(listen), dir, "svc1"));
    for (int i = 0; i < 3; i++) { /* INTERNAL: a component failure, not retried */
        genesis_result *res = call(e, "remote1", "fail", GENESIS_CRITICALITY_DEFAULT, 0, 2000);
        assert_int_equal(genesis_result_status(res), GENESIS_INTERNAL);
        genesis_result_free(res);
    }
    assert_int_equal(stats_of(e, "remote1").breaker_state, GENESIS_BREAKER_OPEN);
    /* kill -9 and a restart: the new instance registers and the breaker probes at once —
     * recovery is observed, not waited for (no 10 s open time). */
    gt_process_kill(&svc);
    spawn_service(&svc, front, gt_ipc_url(listen, sizeof(listen), dir, "svc2"));
    assert_int_equal(stats_of(e, "remote1").breaker_state, GENESIS_BREAKER_HALF_OPEN);
    genesis_result *res = call(e, "remote1", "ping", GENESIS_CRITICALITY_DEFAULT, 0, 5000);
    assert_result_ok(res);
    genesis_result_free(res);
    assert_int_equal(stats_of(e, "remote1").breaker_state, GENESIS_BREAKER_CLOSED);

    /* Admin over the real front door. */
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_ok(genesis_client_dial(cl, front, NULL));
    const char *args[] = {"remote1", "open"};
    assert_ok(genesis_client_admin(cl, "breaker", args, 2, 2000, &res));
    genesis_result_free(res);
    assert_int_equal(stats_of(e, "remote1").breaker_state, GENESIS_BREAKER_FORCED_OPEN);
    const char *bad[] = {"remote1", "sideways"};
    assert_status(genesis_client_admin(cl, "breaker", bad, 2, 2000, &res),
                  GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_result_message(res), "sideways"));
    genesis_result_free(res);
    assert_status(genesis_client_admin(cl, "reboot", NULL, 0, 2000, &res), GENESIS_UNIMPLEMENTED);
    genesis_result_free(res);
    const char *mode[] = {"SAFE"};
    assert_ok(genesis_client_admin(cl, "mode", mode, 1, 2000, &res));
    assert_non_null(strstr(genesis_result_data(res, NULL), "\"SAFE\""));
    genesis_result_free(res);
    mode[0] = "AUTO";
    assert_ok(genesis_client_admin(cl, "mode", mode, 1, 2000, NULL));
    assert_ok(genesis_client_status(cl, 2000, &res));
    assert_non_null(strstr(genesis_result_data(res, NULL), "\"breaker\":\"FORCED_OPEN\""));
    genesis_result_free(res);
    genesis_client_free(cl);
    gt_process_kill(&svc);

    /* Faults injected into a service (in this process, over real sockets). remote1 is down,
     * so the computed mode sheds retries of non-critical work: pin NORMAL for this part. */
    assert_ok(genesis_coordinator_set_mode(e->c, GENESIS_MODE_NORMAL));
    genesis_component comp = {
        .version = GENESIS_COMPONENT_VERSION, .on_request = on_request, .arg = &e->a};
    genesis_service *s2 = NULL;
    assert_ok(genesis_service_new(&s2, "remote2", &comp, NULL));
    assert_ok(genesis_service_listen(s2, gt_ipc_url(listen, sizeof(listen), dir, "svc3")));
    assert_ok(genesis_service_connect(s2, front, NULL, 5000));
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.error_rate = 1.0;
    assert_ok(genesis_service_inject_fault(s2, &f));
    int before = atomic_load(&e->a.calls);
    res = call(e, "remote2", "work", GENESIS_CRITICALITY_DEFAULT, 0, 5000);
    assert_result(res, GENESIS_UNAVAILABLE, GT_ANY_REASON);
    assert_non_null(strstr(genesis_result_message(res), "injected error"));
    genesis_result_free(res);
    assert_int_equal(atomic_load(&e->a.calls), before); /* the handler never ran */
    assert_true(stats_of(e, "remote2").attempts >= 2);  /* and it was retried */
    f.error_rate = 2.0;
    assert_status(genesis_service_inject_fault(s2, &f), GENESIS_INVALID_ARGUMENT);
    assert_ok(genesis_service_inject_fault(s2, NULL));
    res = call(e, "remote2", "work", GENESIS_CRITICALITY_DEFAULT, 0, 5000);
    assert_result_ok(res);
    genesis_result_free(res);
    genesis_service_free(s2);
    assert_ok(genesis_coordinator_set_mode(e->c, GENESIS_MODE_AUTO));
    genesis_coordinator_stop(e->c);
    gt_tempdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retries_absorb_thirty_percent_random_failures),
        cmocka_unit_test(test_always_failing_opens_breaker_then_probe_closes_it),
        cmocka_unit_test(test_timeout_after_reaching_handler_is_retried_only_when_idempotent),
        cmocka_unit_test(test_a_failure_from_before_a_recovery_does_not_open_the_breaker),
        cmocka_unit_test(test_hung_component_is_bounded_by_its_bulkhead),
        cmocka_unit_test(test_modes_follow_health_and_shed_by_criticality),
        cmocka_unit_test(test_policy_change_keeps_breaker_state),
        cmocka_unit_test(test_open_time_ends_for_an_idle_component),
        cmocka_unit_test(test_slow_calls_are_timed_on_the_injected_clock),
        cmocka_unit_test(test_active_probe_recovers_an_idle_component),
        cmocka_unit_test(test_version_1_callers_keep_their_struct_sizes),
        cmocka_unit_test(test_operator_breaker_states_through_admin),
        cmocka_unit_test(test_hedged_request_answers_while_the_first_attempt_hangs),
        cmocka_unit_test(test_crashed_in_process_component_comes_back_from_its_checkpoint),
        cmocka_unit_test(test_remote_breaker_half_opens_when_a_crashed_component_comes_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
