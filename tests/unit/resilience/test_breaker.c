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
    gn_breaker_recovered(&b, 50, &t);
    assert_int_equal(t.to, GENESIS_BREAKER_HALF_OPEN);
    uint64_t lease;
    uint32_t retry_in;
    assert_true(gn_breaker_admit(&b, &p, 51, 2000, &lease, &retry_in, &t));
    gn_breaker_record(&b, &p, lease, false, 60, &t);
    assert_int_equal(gn_breaker_state(&b), GENESIS_BREAKER_CLOSED);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
