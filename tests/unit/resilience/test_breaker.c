/* The circuit breaker, driven by an explicit clock: every transition of docs/resilience.md checked
 * exactly, without sleeping. */
#include <stdio.h>
#include <string.h>

#include "resilience/breaker.h"
#include "genesis/resilience.h"
#include "genesis/status.h"
#include "gt_assert.h"

static genesis_policy policy(void)
{
    genesis_policy p;
    assert_int_equal(genesis_policy_init(&p, GENESIS_POLICY_VERSION), GENESIS_OK);
    return p;
}

/* Admit one attempt at now and record its outcome; returns false if rejected. */
static bool attempt(gn_breaker *b, const genesis_policy *p, int64_t now, bool failed,
                    gn_breaker_transition *last)
{
    uint64_t lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    if (!gn_breaker_admit(b, p, now, 2000, &lease, &retry_in, &t))
        return false;
    gn_breaker_record(b, p, lease, failed, now, &t);
    if (last != NULL && t.from != t.to)
        *last = t;
    return true;
}

static void test_rate_trigger_waits_for_min_calls(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_consecutive_failures = 0; /* rate trigger alone */
    p.breaker_window = 20;
    p.breaker_min_calls = 10;
    p.breaker_failure_rate_pct = 50;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    for (int i = 0; i < 9; i++)
        assert_true(attempt(&b, &p, 1, true, NULL));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED); /* 9 < min calls */
    gn_breaker_transition t = {0};
    assert_true(attempt(&b, &p, 1, true, &t));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_int_equal(t.from, GENESIS_BREAKER_CLOSED);
    assert_int_equal(t.to, GENESIS_BREAKER_OPEN);
    assert_int_equal(t.open_ms, 10000);
    assert_int_equal(atomic_load(&b.n_opens), 1);
    gn_breaker_destroy(&b);
}

static void test_rate_trigger_counts_a_sliding_window(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_consecutive_failures = 0;
    p.breaker_window = 10;
    p.breaker_min_calls = 10;
    p.breaker_failure_rate_pct = 50;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    /* 4 failures then 6 successes: 40 %. */
    for (int i = 0; i < 4; i++)
        attempt(&b, &p, 1, true, NULL);
    for (int i = 0; i < 6; i++)
        attempt(&b, &p, 1, false, NULL);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    /* A failure pushes out the oldest failure: still 4 of 10. */
    attempt(&b, &p, 1, true, NULL);
    assert_int_equal(b.window_failures, 4);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    /* Failures replacing successes: 5 of 10 = 50 % trips. */
    attempt(&b, &p, 1, true, NULL);
    attempt(&b, &p, 1, true, NULL);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    attempt(&b, &p, 1, true, NULL);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    attempt(&b, &p, 1, true, NULL);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    gn_breaker_destroy(&b);
}

static void test_consecutive_request_failures_trip(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_failure_rate_pct = 0; /* the consecutive-failure trigger alone */
    gn_breaker b;
    gn_breaker_init(&b, 0);
    gn_breaker_transition t;
    gn_breaker_request_done(&b, &p, true, 5, &t);
    gn_breaker_request_done(&b, &p, true, 5, &t);
    gn_breaker_request_done(&b, &p, false, 5, &t); /* a success resets the run */
    gn_breaker_request_done(&b, &p, true, 5, &t);
    gn_breaker_request_done(&b, &p, true, 5, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    gn_breaker_request_done(&b, &p, true, 5, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_int_equal(t.to, GENESIS_BREAKER_OPEN);
    gn_breaker_destroy(&b);
}

static void test_both_triggers_off_never_trip(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_failure_rate_pct = 0;
    p.breaker_consecutive_failures = 0;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    gn_breaker_transition t;
    for (int i = 0; i < 1000; i++) {
        attempt(&b, &p, i, true, NULL);
        gn_breaker_request_done(&b, &p, true, i, &t);
    }
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    gn_breaker_destroy(&b);
}

static void open_it(gn_breaker *b, const genesis_policy *p, int64_t now)
{
    gn_breaker_transition t;
    for (unsigned int i = 0; i < p->breaker_consecutive_failures; i++)
        gn_breaker_request_done(b, p, true, now, &t);
    assert_int_equal(gn_breaker_state(b), GENESIS_BREAKER_OPEN);
}

static void test_open_fails_fast_then_half_open_probe_closes(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 1000);
    uint64_t lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    assert_false(gn_breaker_admit(&b, &p, 1000, 2000, &lease, &retry_in, &t));
    assert_int_equal(retry_in, 10000);
    assert_false(gn_breaker_admit(&b, &p, 10999, 2000, &lease, &retry_in, &t));
    assert_int_equal(retry_in, 1);
    assert_int_equal(atomic_load(&b.n_fail_fast), 2);
    assert_false(gn_breaker_wants_probe(&b, &p, 10999));
    assert_true(gn_breaker_wants_probe(&b, &p, 11000)); /* a shedding mode lets it through */
    /* Open time over: one probe (P = 1) with a lease, the next caller still rejected. */
    assert_true(gn_breaker_admit(&b, &p, 11000, 2000, &lease, &retry_in, &t));
    assert_int_equal(t.to, GENESIS_BREAKER_HALF_OPEN);
    assert_true(lease != 0);
    uint64_t other;
    assert_false(gn_breaker_admit(&b, &p, 11001, 2000, &other, &retry_in, &t));
    assert_false(gn_breaker_wants_probe(&b, &p, 11001)); /* its one probe is out */
    gn_breaker_record(&b, &p, lease, false, 11050, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    assert_int_equal(t.from, GENESIS_BREAKER_HALF_OPEN);
    assert_int_equal(t.to, GENESIS_BREAKER_CLOSED);
    gn_breaker_destroy(&b);
}

static void test_failed_probe_reopens_with_doubled_time_up_to_cap(void **state)
{
    (void)state;
    genesis_policy p = policy(); /* open 10 s, cap 60 s */
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    int64_t now = 0;
    uint32_t expected[] = {20000, 40000, 60000, 60000};
    for (unsigned int i = 0; i < 4; i++) {
        uint64_t lease;
        uint32_t retry_in;
        gn_breaker_transition t;
        now = atomic_load(&b.open_until_ms);
        assert_true(gn_breaker_admit(&b, &p, now, 2000, &lease, &retry_in, &t));
        gn_breaker_record(&b, &p, lease, true, now, &t);
        assert_int_equal(t.to, GENESIS_BREAKER_OPEN);
        assert_int_equal(t.open_ms, expected[i]);
    }
    assert_int_equal(atomic_load(&b.n_opens), 5);
    gn_breaker_destroy(&b);
}

static void test_lost_probe_lease_lapses(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    uint64_t lost, lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    assert_true(gn_breaker_admit(&b, &p, 10000, 2000, &lost, &retry_in, &t));
    /* Its outcome never comes back: others are rejected until the lease lapses ... */
    assert_false(gn_breaker_admit(&b, &p, 11999, 2000, &lease, &retry_in, &t));
    /* ... then a new probe is admitted, so the breaker cannot stay half-open forever. */
    assert_true(gn_breaker_admit(&b, &p, 12000, 2000, &lease, &retry_in, &t));
    assert_true(lease != lost);
    /* The lapsed probe's late outcome is ignored; the live one decides. */
    gn_breaker_record(&b, &p, lost, true, 12001, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_record(&b, &p, lease, false, 12002, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    gn_breaker_destroy(&b);
}

static void test_cancelled_probe_frees_its_slot(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    uint64_t lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    assert_true(gn_breaker_admit(&b, &p, 10000, 2000, &lease, &retry_in, &t));
    gn_breaker_cancel(&b, lease); /* the bulkhead refused it: it never ran */
    assert_true(gn_breaker_admit(&b, &p, 10001, 2000, &lease, &retry_in, &t));
    gn_breaker_destroy(&b);
}

static void test_several_probes_must_all_succeed(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_half_open_probes = 3;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    uint64_t l[4];
    uint32_t retry_in;
    gn_breaker_transition t;
    for (int i = 0; i < 3; i++)
        assert_true(gn_breaker_admit(&b, &p, 10000, 2000, &l[i], &retry_in, &t));
    assert_false(gn_breaker_admit(&b, &p, 10000, 2000, &l[3], &retry_in, &t));
    gn_breaker_record(&b, &p, l[0], false, 10001, &t);
    gn_breaker_record(&b, &p, l[1], false, 10001, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    /* A probe finished: its slot is not reused while the others are out (P in total). */
    assert_false(gn_breaker_admit(&b, &p, 10002, 2000, &l[3], &retry_in, &t));
    gn_breaker_record(&b, &p, l[2], false, 10003, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    gn_breaker_destroy(&b);
}

static void test_recovery_moves_open_to_half_open_at_once(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    gn_breaker_transition t;
    assert_int_equal(gn_breaker_recoveries(&b), 0);
    gn_breaker_recovered(&b, 50, &t);
    assert_int_equal(t.to, GENESIS_BREAKER_HALF_OPEN);
    assert_int_equal(gn_breaker_recoveries(&b), 1);
    uint64_t lease;
    uint32_t retry_in;
    assert_true(gn_breaker_admit(&b, &p, 51, 2000, &lease, &retry_in, &t));
    gn_breaker_record(&b, &p, lease, false, 60, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    /* Closed, a recovery changes nothing but is counted (callers drop older failures). */
    gn_breaker_recovered(&b, 70, &t);
    assert_int_equal(t.from, t.to);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    assert_int_equal(gn_breaker_recoveries(&b), 2);
    gn_breaker_destroy(&b);
}

static void test_operator_states(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    gn_breaker_transition t;
    uint64_t lease;
    uint32_t retry_in;
    assert_int_equal(gn_breaker_force(&b, GENESIS_BREAKER_FORCED_OPEN, 0, &t), GENESIS_OK);
    assert_int_equal(t.to, GENESIS_BREAKER_FORCED_OPEN);
    /* Forced open does not lapse with time. */
    assert_false(gn_breaker_admit(&b, &p, 1000000, 2000, &lease, &retry_in, &t));
    assert_int_equal(retry_in, 0);
    assert_int_equal(gn_breaker_force(&b, GENESIS_BREAKER_DISABLED, 0, &t), GENESIS_OK);
    for (int i = 0; i < 100; i++) {
        assert_true(attempt(&b, &p, i, true, NULL));
        gn_breaker_request_done(&b, &p, true, i, &t);
    }
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_DISABLED);
    assert_int_equal(gn_breaker_force(&b, GENESIS_BREAKER_CLOSED, 0, &t), GENESIS_OK);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    assert_int_equal(gn_breaker_force(&b, GENESIS_BREAKER_HALF_OPEN, 0, &t),
                     GENESIS_INVALID_ARGUMENT);
    gn_breaker_destroy(&b);
}

static void test_thirty_percent_random_failures_never_trip_the_defaults(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    /* A fixed LCG stream: 30 % attempt failures over 20,000 attempts, as retries see them. */
    uint64_t x = 42;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        bool failed = (x >> 33) % 1000 < 300;
        attempt(&b, &p, i, failed, NULL);
    }
    assert_int_equal(atomic_load(&b.n_opens), 0);
    gn_breaker_destroy(&b);
}

/* Records n outcomes (failed or not) through a closed breaker. */
static void record_n(gn_breaker *b, const genesis_policy *p, int n, bool failed)
{
    for (int i = 0; i < n; i++)
        assert_true(attempt(b, p, 1, failed, NULL));
}

static void test_growing_the_window_keeps_exact_counts(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_consecutive_failures = 0;
    p.breaker_window = 10;
    p.breaker_min_calls = 10;
    p.breaker_failure_rate_pct = 50;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    record_n(&b, &p, 6, false);
    record_n(&b, &p, 4, true); /* 4 of 10 */
    p.breaker_window = 30;
    p.breaker_min_calls = 30;
    record_n(&b, &p, 20, false); /* 4 of 30: the ring now holds 30 outcomes */
    assert_int_equal(b.window_n, 30);
    assert_int_equal(b.window_failures, 4);
    /* 6 more failures push the 6 oldest (successes) out: 10 of 30 = 33 %, under 50 %. */
    record_n(&b, &p, 6, true);
    assert_int_equal(b.window_failures, 10);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    gn_breaker_destroy(&b);
}

static void test_shrinking_the_window_keeps_the_newest_outcomes(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_consecutive_failures = 0;
    p.breaker_window = 20;
    p.breaker_min_calls = 20;
    p.breaker_failure_rate_pct = 50;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    record_n(&b, &p, 12, false);
    record_n(&b, &p, 4, true);
    record_n(&b, &p, 3, false); /* 19 outcomes, the newest 7: 4 failures then 3 successes */
    p.breaker_window = 8;
    p.breaker_min_calls = 8;
    /* The window keeps its newest 7 (4 failures); one more failure makes 5 of 8. */
    gn_breaker_transition t = {0};
    assert_true(attempt(&b, &p, 1, true, &t));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_int_equal(t.to, GENESIS_BREAKER_OPEN);
    gn_breaker_destroy(&b);
}

static void test_open_until_saturates_near_the_end_of_time(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    int64_t now = INT64_MAX - 5;
    gn_breaker_init(&b, now);
    open_it(&b, &p, now);
    assert_int_equal(atomic_load(&b.open_until_ms), INT64_MAX);
    uint64_t lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    assert_false(gn_breaker_admit(&b, &p, now + 1, 2000, &lease, &retry_in, &t));
    assert_int_equal(retry_in, 4);
    assert_true(gn_breaker_rejects(&b, now + 2, &retry_in));
    gn_breaker_destroy(&b);
}

static void test_open_time_ends_on_the_tick_without_traffic(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 1000);
    gn_breaker_transition t;
    gn_breaker_tick(&b, &p, 10999, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_int_equal(t.from, t.to);
    gn_breaker_tick(&b, &p, 11000, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    assert_int_equal(t.from, GENESIS_BREAKER_OPEN);
    assert_int_equal(t.to, GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_destroy(&b);
}

/* Admit one attempt and record it with an explicit outcome and slowness. */
static bool attempt_outcome(gn_breaker *b, const genesis_policy *p, int64_t now, int outcome,
                            bool slow, gn_breaker_transition *last)
{
    uint64_t lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    if (!gn_breaker_admit(b, p, now, 2000, &lease, &retry_in, &t))
        return false;
    gn_breaker_record_outcome(b, p, lease, outcome, slow, now, &t);
    if (last != NULL && (t.from != t.to || t.rate_events != 0))
        *last = t;
    return true;
}

static genesis_policy rate_only(void)
{
    genesis_policy p = policy();
    p.breaker_consecutive_failures = 0;
    p.breaker_window = 10;
    p.breaker_min_calls = 10;
    p.breaker_failure_rate_pct = 50;
    return p;
}

static void test_slow_call_rate_trips_on_its_own(void **state)
{
    (void)state;
    genesis_policy p = rate_only();
    p.breaker_slow_call_ms = 100;
    p.breaker_slow_call_rate_pct = 60;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    /* Slow successes are not failures with a slow-call rate: 5 slow of 10 stays closed. */
    for (int i = 0; i < 5; i++)
        assert_true(attempt_outcome(&b, &p, 1, GN_OUTCOME_SUCCESS, false, NULL));
    for (int i = 0; i < 5; i++)
        assert_true(attempt_outcome(&b, &p, 1, GN_OUTCOME_SUCCESS, true, NULL));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    uint64_t calls;
    double fr, sr;
    gn_breaker_rates(&b, &p, 1, &calls, &fr, &sr);
    assert_int_equal(calls, 10);
    assert_true(fr == 0.0 && sr == 50.0);
    /* One more slow call pushes a fast one out: 6 of 10 slow reaches 60 %. */
    gn_breaker_transition t = {0};
    assert_true(attempt_outcome(&b, &p, 1, GN_OUTCOME_SUCCESS, true, &t));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_string_equal(t.cause, "slow-call rate over the window reached the threshold");
    assert_true(t.rate_events & GN_RATE_SLOW);
    assert_true(t.slow_above);
    assert_int_equal(atomic_load(&b.n_slow), 6);
    gn_breaker_destroy(&b);
}

static void test_time_window_forgets_old_outcomes_and_waits_for_throughput(void **state)
{
    (void)state;
    genesis_policy p = rate_only();
    p.breaker_window_ms = 10000; /* 10 buckets of 1 s */
    p.breaker_min_calls = 4;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    /* A low-traffic component: 3 failures in 10 s are below the minimum throughput. */
    for (int i = 0; i < 3; i++)
        assert_true(attempt(&b, &p, 1000 + i * 3000, true, NULL));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    /* 12 s later the first failure (at 1 s) has left the window: 2 failures + 2 successes. */
    assert_true(attempt(&b, &p, 12500, false, NULL));
    uint64_t calls;
    double fr, sr;
    gn_breaker_rates(&b, &p, 12500, &calls, &fr, &sr);
    assert_int_equal(calls, 3);
    assert_true(fr < 0); /* below the minimum throughput: no rate yet */
    /* The fourth call reaches the minimum throughput: 2 of 4 failed, 50 %, the threshold. */
    gn_breaker_transition t = {0};
    assert_true(attempt_outcome(&b, &p, 12600, GN_OUTCOME_SUCCESS, false, &t));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_true(t.rate_events & GN_RATE_FAILURE);
    assert_true(t.failure_pct == 50.0);
    /* Idle for a whole window: nothing counted. */
    gn_breaker_destroy(&b);
    gn_breaker_init(&b, 0);
    assert_true(attempt(&b, &p, 0, true, NULL));
    gn_breaker_rates(&b, &p, 20000, &calls, &fr, &sr);
    assert_int_equal(calls, 0);
    gn_breaker_destroy(&b);
}

static void test_half_open_decided_by_the_probes_failure_rate(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_half_open_probes = 4;
    p.breaker_half_open_rate_pct = 50;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    uint64_t lease[5];
    uint32_t retry_in;
    gn_breaker_transition t;
    for (int i = 0; i < 4; i++)
        assert_true(gn_breaker_admit(&b, &p, 10000, 2000, &lease[i], &retry_in, &t));
    assert_false(gn_breaker_admit(&b, &p, 10000, 2000, &lease[4], &retry_in, &t));
    /* One failure does not re-open it: the rate over all 4 decides. */
    gn_breaker_record(&b, &p, lease[0], true, 10001, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_record(&b, &p, lease[1], false, 10002, &t);
    gn_breaker_record(&b, &p, lease[2], false, 10003, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_record(&b, &p, lease[3], false, 10004, &t); /* 1 of 4 = 25 % < 50 % */
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    /* Again, with 2 of 4 failing: re-opens. */
    open_it(&b, &p, 20000);
    int64_t now = atomic_load(&b.open_until_ms);
    for (int i = 0; i < 4; i++)
        assert_true(gn_breaker_admit(&b, &p, now, 2000, &lease[i], &retry_in, &t));
    for (int i = 0; i < 4; i++)
        gn_breaker_record(&b, &p, lease[i], i < 2, now, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_int_equal(t.from, GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_destroy(&b);
}

static void test_half_open_maximum_wait_reopens(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_half_open_max_wait_ms = 5000;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    gn_breaker_transition t;
    gn_breaker_tick(&b, &p, 10000, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_tick(&b, &p, 14999, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_tick(&b, &p, 15000, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_OPEN);
    assert_int_equal(t.open_ms, 20000); /* a re-trip: the open time grew */
    gn_breaker_destroy(&b);
}

static void test_ignored_outcomes_count_nowhere_and_hand_back_the_permit(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_ignored_statuses = 1u << GENESIS_DEADLINE_EXCEEDED;
    p.breaker_failure_reasons = 1u << GENESIS_REASON_HANDLER_ERROR;
    assert_int_equal(gn_outcome_classify(&p, GENESIS_DEADLINE_EXCEEDED, GENESIS_REASON_TIMEOUT),
                     GN_OUTCOME_IGNORED);
    assert_int_equal(gn_outcome_classify(&p, GENESIS_UNAVAILABLE, GENESIS_REASON_NONE),
                     GN_OUTCOME_FAILURE);
    assert_int_equal(gn_outcome_classify(&p, GENESIS_INVALID_ARGUMENT, GENESIS_REASON_NONE),
                     GN_OUTCOME_SUCCESS);
    assert_int_equal(
        gn_outcome_classify(&p, GENESIS_INVALID_ARGUMENT, GENESIS_REASON_HANDLER_ERROR),
        GN_OUTCOME_FAILURE); /* a failure reason wins over a success status */
    p.breaker_ignored_reasons = 1u << GENESIS_REASON_HANDLER_ERROR;
    assert_int_equal(gn_outcome_classify(&p, GENESIS_INTERNAL, GENESIS_REASON_HANDLER_ERROR),
                     GN_OUTCOME_IGNORED); /* an ignored reason wins over everything */
    /* Half-open: an ignored probe outcome frees the slot for the next probe. */
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    uint64_t lease, other;
    uint32_t retry_in;
    gn_breaker_transition t;
    assert_true(gn_breaker_admit(&b, &p, 10000, 2000, &lease, &retry_in, &t));
    assert_false(gn_breaker_admit(&b, &p, 10001, 2000, &other, &retry_in, &t));
    gn_breaker_record_outcome(&b, &p, lease, GN_OUTCOME_IGNORED, false, 10002, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_HALF_OPEN);
    assert_true(gn_breaker_admit(&b, &p, 10003, 2000, &other, &retry_in, &t));
    assert_int_equal(atomic_load(&b.n_ignored), 1);
    gn_breaker_destroy(&b);
}

static void test_metrics_only_records_rates_and_never_opens(void **state)
{
    (void)state;
    genesis_policy p = rate_only();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    gn_breaker_transition t = {0};
    assert_int_equal(gn_breaker_force(&b, GENESIS_BREAKER_METRICS_ONLY, 0, &t), GENESIS_OK);
    assert_int_equal(t.to, GENESIS_BREAKER_METRICS_ONLY);
    for (int i = 0; i < 9; i++)
        assert_true(attempt(&b, &p, 1, true, NULL));
    gn_breaker_transition up = {0};
    assert_true(attempt_outcome(&b, &p, 1, GN_OUTCOME_FAILURE, false, &up));
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_METRICS_ONLY);
    assert_int_equal(up.rate_events, GN_RATE_FAILURE); /* the crossing is still reported */
    assert_true(up.failure_above);
    assert_true(up.failure_pct == 100.0);
    for (int i = 0; i < 9; i++) /* back under 50 % after 6 successes: one event down */
        attempt(&b, &p, 1, false, NULL);
    gn_breaker_request_done(&b, &p, true, 1, &t);
    gn_breaker_request_done(&b, &p, true, 1, &t);
    gn_breaker_request_done(&b, &p, true, 1, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_METRICS_ONLY);
    uint64_t calls;
    double fr, sr;
    gn_breaker_rates(&b, &p, 1, &calls, &fr, &sr);
    assert_true(fr == 10.0);
    gn_breaker_destroy(&b);
}

static void test_forced_open_for_a_duration_then_half_open(void **state)
{
    (void)state;
    genesis_policy p = policy();
    gn_breaker b;
    gn_breaker_init(&b, 0);
    gn_breaker_transition t;
    gn_breaker_force_open(&b, 30000, 1000, &t);
    assert_int_equal(t.to, GENESIS_BREAKER_FORCED_OPEN);
    assert_int_equal(t.open_ms, 30000);
    uint32_t retry_in;
    assert_true(gn_breaker_rejects(&b, 30999, &retry_in));
    assert_int_equal(retry_in, 1);
    uint64_t lease;
    assert_true(gn_breaker_admit(&b, &p, 31000, 2000, &lease, &retry_in, &t));
    assert_int_equal(t.from, GENESIS_BREAKER_FORCED_OPEN);
    assert_int_equal(t.to, GENESIS_BREAKER_HALF_OPEN);
    gn_breaker_record(&b, &p, lease, false, 31001, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    /* Without a duration it stays forced (until reset), also on the tick. */
    gn_breaker_force_open(&b, 0, 40000, &t);
    gn_breaker_tick(&b, &p, INT64_MAX, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_FORCED_OPEN);
    gn_breaker_destroy(&b);
}

static void test_open_time_growth_settings(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.breaker_open_ms = 1000;
    p.breaker_open_multiplier_pct = 300;
    p.breaker_open_max_ms = 20000;
    p.breaker_open_reset_ms = 5000;
    gn_breaker b;
    gn_breaker_init(&b, 0);
    open_it(&b, &p, 0);
    uint32_t expected[] = {3000, 9000, 20000, 20000};
    int64_t now = 0;
    for (unsigned int i = 0; i < 4; i++) {
        uint64_t lease;
        uint32_t retry_in;
        gn_breaker_transition t;
        now = atomic_load(&b.open_until_ms);
        assert_true(gn_breaker_admit(&b, &p, now, 2000, &lease, &retry_in, &t));
        gn_breaker_record(&b, &p, lease, true, now, &t);
        assert_int_equal(t.open_ms, expected[i]);
    }
    /* Recovered, then closed for the reset time: the next trip starts at the base again. */
    uint64_t lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    now = atomic_load(&b.open_until_ms);
    assert_true(gn_breaker_admit(&b, &p, now, 2000, &lease, &retry_in, &t));
    gn_breaker_record(&b, &p, lease, false, now, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
    gn_breaker_request_done(&b, &p, true, now + 4999, &t);
    gn_breaker_request_done(&b, &p, true, now + 4999, &t);
    gn_breaker_request_done(&b, &p, true, now + 4999, &t);
    assert_int_equal(t.open_ms, 20000); /* closed for less than the reset time: still grown */
    now = atomic_load(&b.open_until_ms);
    assert_true(gn_breaker_admit(&b, &p, now, 2000, &lease, &retry_in, &t));
    gn_breaker_record(&b, &p, lease, false, now, &t);
    for (int i = 0; i < 3; i++)
        gn_breaker_request_done(&b, &p, true, now + 5000, &t);
    assert_int_equal(t.open_ms, 1000);
    gn_breaker_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_trigger_waits_for_min_calls),
        cmocka_unit_test(test_rate_trigger_counts_a_sliding_window),
        cmocka_unit_test(test_consecutive_request_failures_trip),
        cmocka_unit_test(test_both_triggers_off_never_trip),
        cmocka_unit_test(test_open_fails_fast_then_half_open_probe_closes),
        cmocka_unit_test(test_failed_probe_reopens_with_doubled_time_up_to_cap),
        cmocka_unit_test(test_lost_probe_lease_lapses),
        cmocka_unit_test(test_cancelled_probe_frees_its_slot),
        cmocka_unit_test(test_several_probes_must_all_succeed),
        cmocka_unit_test(test_recovery_moves_open_to_half_open_at_once),
        cmocka_unit_test(test_operator_states),
        cmocka_unit_test(test_thirty_percent_random_failures_never_trip_the_defaults),
        cmocka_unit_test(test_growing_the_window_keeps_exact_counts),
        cmocka_unit_test(test_shrinking_the_window_keeps_the_newest_outcomes),
        cmocka_unit_test(test_open_until_saturates_near_the_end_of_time),
        cmocka_unit_test(test_open_time_ends_on_the_tick_without_traffic),
        cmocka_unit_test(test_slow_call_rate_trips_on_its_own),
        cmocka_unit_test(test_time_window_forgets_old_outcomes_and_waits_for_throughput),
        cmocka_unit_test(test_half_open_decided_by_the_probes_failure_rate),
        cmocka_unit_test(test_half_open_maximum_wait_reopens),
        cmocka_unit_test(test_ignored_outcomes_count_nowhere_and_hand_back_the_permit),
        cmocka_unit_test(test_metrics_only_records_rates_and_never_opens),
        cmocka_unit_test(test_forced_open_for_a_duration_then_half_open),
        cmocka_unit_test(test_open_time_growth_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
