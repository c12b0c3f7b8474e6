/* Backoff sequences, retry-budget arithmetic, adaptive concurrency limits, degradation-mode
 * hysteresis and the latency histogram: the deterministic parts of the resilience engine, checked
 * exactly. */
#include <stdint.h>
#include <stdio.h>

#include "resilience/backoff.h"
#include "genesis/resilience.h"
#include "genesis/status.h"
#include "gt_assert.h"
#include "base/latency.h"
#include "resilience/mode.h"
#include "resilience/concurrency_limit.h"
#include "resilience/retry_budget.h"

static genesis_policy policy(void)
{
    genesis_policy p;
    assert_int_equal(genesis_policy_init(&p, GENESIS_POLICY_VERSION), GENESIS_OK);
    return p;
}

static void test_backoff_ceilings_double_up_to_the_cap(void **state)
{
    (void)state;
    genesis_policy p = policy(); /* 100 ms, x2, 2 s */
    uint32_t expected[] = {100, 200, 400, 800, 1600, 2000, 2000};
    for (unsigned int n = 1; n <= 7; n++)
        assert_int_equal(gn_backoff_ceiling_ms(&p, n), expected[n - 1]);
    p.backoff_multiplier_pct = 150;
    p.backoff_initial_ms = 10;
    p.backoff_max_ms = 30;
    assert_int_equal(gn_backoff_ceiling_ms(&p, 1), 10);
    assert_int_equal(gn_backoff_ceiling_ms(&p, 2), 15);
    assert_int_equal(gn_backoff_ceiling_ms(&p, 3), 22);
    assert_int_equal(gn_backoff_ceiling_ms(&p, 4), 30);
}

static void test_backoff_full_jitter_spans_zero_to_ceiling(void **state)
{
    (void)state;
    genesis_policy p = policy();
    /* The random word maps linearly onto [0, ceiling]. */
    assert_int_equal(gn_backoff_delay_ms(&p, 1, 0), 0);
    assert_int_equal(gn_backoff_delay_ms(&p, 1, UINT64_MAX), 100);
    assert_int_equal(gn_backoff_delay_ms(&p, 1, UINT64_MAX / 2), 50);
    assert_int_equal(gn_backoff_delay_ms(&p, 3, UINT64_MAX / 4), 100);
    assert_int_equal(gn_backoff_delay_ms(&p, 9, UINT64_MAX), 2000);
    /* An exact sequence from a fixed generator (xorshift64 from 1), as a test that injects
     * its RNG into a coordinator sees it. */
    uint64_t x = 1;
    uint32_t expected[5] = {0, 12, 242, 767, 838};
    for (unsigned int n = 1; n <= 5; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        assert_int_equal(gn_backoff_delay_ms(&p, n, x), expected[n - 1]);
    }
}

static void test_budget_arithmetic(void **state)
{
    (void)state;
    genesis_policy p = policy();
    p.budget_max_tokens = 20; /* +1 per success, retries while > 10 */
    gn_retry_budget b;
    gn_budget_init(&b, &p);
    assert_int_equal(gn_budget_milli_tokens(&b), 20000);
    for (int i = 0; i < 9; i++)
        gn_budget_record(&b, &p, true);
    assert_int_equal(gn_budget_milli_tokens(&b), 11000);
    assert_true(gn_budget_allows_retry(&b, &p));
    gn_budget_record(&b, &p, true);
    assert_int_equal(gn_budget_milli_tokens(&b), 10000);
    assert_false(gn_budget_allows_retry(&b, &p)); /* must be strictly above half */
    gn_budget_record(&b, &p, false);
    assert_true(gn_budget_allows_retry(&b, &p));
    /* Clamped at 0 and at max. */
    for (int i = 0; i < 100; i++)
        gn_budget_record(&b, &p, true);
    assert_int_equal(gn_budget_milli_tokens(&b), 0);
    for (int i = 0; i < 100; i++)
        gn_budget_record(&b, &p, false);
    assert_int_equal(gn_budget_milli_tokens(&b), 20000);
    /* Fractional ratios (gRPC's 0.1). */
    p.budget_token_ratio_pct = 10;
    gn_budget_record(&b, &p, true);
    gn_budget_record(&b, &p, false);
    assert_int_equal(gn_budget_milli_tokens(&b), 19100);
    /* No budget: always allowed. */
    p.budget_max_tokens = 0;
    assert_true(gn_budget_allows_retry(&b, &p));
}

static void test_budget_max_change_keeps_the_fill_fraction(void **state)
{
    (void)state;
    genesis_policy p = policy(); /* 60 tokens */
    gn_retry_budget b;
    gn_budget_init(&b, &p);
    for (int i = 0; i < 6; i++)
        gn_budget_record(&b, &p, true);
    assert_int_equal(gn_budget_milli_tokens(&b), 54000); /* 90 % full */
    /* A healthy component whose max grows keeps retrying: still 90 % full, not 54 of 200. */
    p.budget_max_tokens = 200;
    assert_true(gn_budget_allows_retry(&b, &p));
    assert_int_equal(gn_budget_milli_tokens(&b), 180000);
    gn_budget_record(&b, &p, true);
    assert_int_equal(gn_budget_milli_tokens(&b), 179000);
    /* Shrinking scales down the same way. */
    p.budget_max_tokens = 20;
    gn_budget_record(&b, &p, false);
    assert_int_equal(gn_budget_milli_tokens(&b), 18900);
    /* From no budget to one: it starts full. */
    p.budget_max_tokens = 0;
    gn_budget_record(&b, &p, true);
    p.budget_max_tokens = 10;
    assert_true(gn_budget_allows_retry(&b, &p));
    assert_int_equal(gn_budget_milli_tokens(&b), 10000);
}

/* Acquire n slots and release them all with the same latency. */
static void load(gn_climit *l, int kind, unsigned int max, unsigned int n, uint64_t us,
                 bool dropped)
{
    unsigned int got = 0;
    while (got < n && gn_climit_acquire(l, max))
        got++;
    for (unsigned int i = 0; i < got; i++)
        gn_climit_release(l, kind, max, us, dropped);
}

static void test_gradient_limit_follows_latency(void **state)
{
    (void)state;
    gn_climit l;
    gn_climit_init(&l, 16);
    for (int i = 0; i < 50; i++)
        load(&l, GN_CLIMIT_GRADIENT, 16, 16, 1000, false);
    assert_int_equal(gn_climit_limit(&l, 16), 16); /* at the no-load latency: the ceiling */
    /* Latency five times the no-load one (a queue inside the component): the limit falls to
     * where limit/2 + sqrt(limit) = limit, about 4. */
    for (int i = 0; i < 200; i++)
        load(&l, GN_CLIMIT_GRADIENT, 16, 16, 5000, false);
    unsigned int low = gn_climit_limit(&l, 16);
    assert_true(low >= 3 && low <= 6);
    /* Admission refuses beyond it. */
    unsigned int admitted = 0;
    while (gn_climit_acquire(&l, 16))
        admitted++;
    assert_int_equal(admitted, low);
    for (unsigned int i = 0; i < admitted; i++)
        gn_climit_release(&l, GN_CLIMIT_GRADIENT, 16, 1000, false);
    /* Fast again: back up to the ceiling (the bulkhead's max stays the hard limit). */
    for (int i = 0; i < 400; i++)
        load(&l, GN_CLIMIT_GRADIENT, 16, 16, 1000, false);
    assert_int_equal(gn_climit_limit(&l, 16), 16);
    assert_int_equal(gn_climit_limit(&l, 8), 8);
    gn_climit_destroy(&l);
}

static void test_aimd_limit_adds_and_multiplies(void **state)
{
    (void)state;
    gn_climit l;
    gn_climit_init(&l, 10);
    load(&l, GN_CLIMIT_AIMD, 100, 1, 1000, false); /* in flight 1 of 10: not used enough */
    assert_int_equal(gn_climit_limit(&l, 100), 10);
    load(&l, GN_CLIMIT_AIMD, 100, 10, 1000, false); /* half used or more: +1 each */
    assert_true(gn_climit_limit(&l, 100) >= 14);
    unsigned int before = gn_climit_limit(&l, 100);
    assert_true(gn_climit_acquire(&l, 100));
    gn_climit_release(&l, GN_CLIMIT_AIMD, 100, 1000, true); /* a drop: x0.9 */
    assert_true(gn_climit_limit(&l, 100) < before);
    before = gn_climit_limit(&l, 100);
    assert_true(gn_climit_acquire(&l, 100));
    gn_climit_release(&l, GN_CLIMIT_AIMD, 100, 2500, false); /* > 2x no-load: x0.9 */
    assert_true(gn_climit_limit(&l, 100) < before);
    for (int i = 0; i < 200; i++)
        load(&l, GN_CLIMIT_AIMD, 100, 1, 1000, true);
    assert_int_equal(gn_climit_limit(&l, 100), 1); /* never below 1 */
    gn_climit_destroy(&l);
}

static void test_default_budget_survives_a_long_run_of_thirty_percent_failures(void **state)
{
    (void)state;
    /* The failure mode the default guards against: with 20 tokens the random walk of 30 %
     * failures reaches half within tens of thousands of attempts, retries stop, and three
     * failed requests in a row then open the breaker on faults retries should absorb. */
    genesis_policy p = policy();
    gn_retry_budget b;
    gn_budget_init(&b, &p);
    int64_t lowest = gn_budget_milli_tokens(&b);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        gn_budget_record(&b, &p, (x >> 11) % 1000 < 300);
        if (gn_budget_milli_tokens(&b) < lowest)
            lowest = gn_budget_milli_tokens(&b);
    }
    printf("lowest tokens over 1,000,000 attempts at 30 %%: %.1f of %u\n", (double)lowest / 1000,
           p.budget_max_tokens);
    assert_true(gn_budget_allows_retry(&b, &p));
    assert_true(lowest > (int64_t)p.budget_max_tokens * 500);
}

/* The retry loop's arithmetic over a run: attempts per request with p failing attempts. */
static double attempts_per_request(double fail_rate, unsigned int requests, double *success)
{
    genesis_policy p = policy();
    gn_retry_budget b;
    gn_budget_init(&b, &p);
    uint64_t x = 0x9E3779B97F4A7C15ull, attempts = 0, ok = 0;
    for (unsigned int r = 0; r < requests; r++) {
        for (unsigned int a = 1;; a++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            attempts++;
            bool failed = (double)(x >> 11) * 0x1.0p-53 < fail_rate;
            gn_budget_record(&b, &p, failed);
            if (!failed) {
                ok++;
                break;
            }
            if (a >= p.max_attempts || !gn_budget_allows_retry(&b, &p))
                break;
        }
    }
    *success = (double)ok / requests;
    return (double)attempts / requests;
}

static void test_budget_defaults_meet_both_scorecard_rows(void **state)
{
    (void)state;
    double success;
    double apr = attempts_per_request(0.30, 100000, &success);
    printf("30 %% failures: %.4f attempts/request, %.4f %% success\n", apr, success * 100);
    assert_true(success >= 0.995);
    assert_true(apr <= 1.5);
    apr = attempts_per_request(1.0, 10000, &success);
    printf("100 %% failures: %.4f attempts/request\n", apr);
    assert_true(apr <= 1.1);
}

static void test_mode_thresholds_and_hysteresis(void **state)
{
    (void)state;
    gn_mode_config cfg = {.safe_pct = 20, .emergency_pct = 50, .hold_ms = 2000};
    assert_int_equal(gn_mode_target(&cfg, 0, 0), GENESIS_MODE_NORMAL);
    assert_int_equal(gn_mode_target(&cfg, 2, 10), GENESIS_MODE_NORMAL); /* 20 % is not > 20 % */
    assert_int_equal(gn_mode_target(&cfg, 3, 10), GENESIS_MODE_SAFE);
    assert_int_equal(gn_mode_target(&cfg, 5, 10), GENESIS_MODE_SAFE);
    assert_int_equal(gn_mode_target(&cfg, 6, 10), GENESIS_MODE_EMERGENCY);
    gn_mode_state m;
    gn_mode_init(&m);
    int from;
    assert_true(gn_mode_update(&m, &cfg, 6, 10, 0, &from)); /* worse: at once */
    assert_int_equal(m.current, GENESIS_MODE_EMERGENCY);
    assert_int_equal(from, GENESIS_MODE_NORMAL);
    assert_false(gn_mode_update(&m, &cfg, 0, 10, 100, &from)); /* better: must hold 2 s */
    assert_false(gn_mode_update(&m, &cfg, 0, 10, 2099, &from));
    assert_false(gn_mode_update(&m, &cfg, 6, 10, 2100, &from)); /* flaps back: clock resets */
    assert_false(gn_mode_update(&m, &cfg, 3, 10, 2200, &from));
    assert_false(gn_mode_update(&m, &cfg, 3, 10, 4199, &from));
    assert_true(gn_mode_update(&m, &cfg, 3, 10, 4200, &from));
    assert_int_equal(m.current, GENESIS_MODE_SAFE);
    /* An operator override wins until it ends. */
    assert_true(gn_mode_force(&m, GENESIS_MODE_NORMAL, &from));
    assert_false(gn_mode_update(&m, &cfg, 9, 10, 5000, &from));
    assert_int_equal(m.current, GENESIS_MODE_NORMAL);
    assert_true(gn_mode_force(&m, GENESIS_MODE_AUTO, &from));
    assert_int_equal(m.current, GENESIS_MODE_EMERGENCY);
}

static void test_mode_admission_by_criticality(void **state)
{
    (void)state;
    assert_true(gn_mode_admits(GENESIS_MODE_NORMAL, GENESIS_CRITICALITY_SHEDDABLE));
    assert_false(gn_mode_admits(GENESIS_MODE_SAFE, GENESIS_CRITICALITY_SHEDDABLE));
    assert_true(gn_mode_admits(GENESIS_MODE_SAFE, GENESIS_CRITICALITY_DEFAULT));
    assert_false(gn_mode_admits(GENESIS_MODE_EMERGENCY, GENESIS_CRITICALITY_DEFAULT));
    assert_true(gn_mode_admits(GENESIS_MODE_EMERGENCY, GENESIS_CRITICALITY_CRITICAL));
    assert_true(gn_mode_allows_retry(GENESIS_MODE_NORMAL, GENESIS_CRITICALITY_DEFAULT));
    assert_false(gn_mode_allows_retry(GENESIS_MODE_SAFE, GENESIS_CRITICALITY_DEFAULT));
    assert_true(gn_mode_allows_retry(GENESIS_MODE_SAFE, GENESIS_CRITICALITY_CRITICAL));
}

static void test_latency_histogram(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 100000; v += 7) {
        unsigned int b = gn_latency_bucket_of(v);
        assert_true(v <= gn_latency_bucket_upper(b));
        if (b > 0)
            assert_true(v > gn_latency_bucket_upper(b - 1));
        /* Relative error of the bucket bound stays under 25 %. */
        assert_true(gn_latency_bucket_upper(b) <= v + v / 4 + 1);
    }
    gn_latency h;
    gn_latency_init(&h);
    uint64_t count;
    assert_int_equal(gn_latency_quantile(&h, 0.5, &count), 0);
    assert_int_equal(count, 0);
    for (uint64_t v = 1; v <= 1000; v++)
        gn_latency_record(&h, v);
    uint64_t p50 = gn_latency_quantile(&h, 0.5, &count);
    uint64_t p99 = gn_latency_quantile(&h, 0.99, NULL);
    assert_int_equal(count, 1000);
    assert_true(p50 >= 500 && p50 <= 625);
    assert_true(p99 >= 990 && p99 <= 1000); /* capped by the exact max */
    assert_int_equal(gn_latency_quantile(&h, 1.0, NULL), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_ceilings_double_up_to_the_cap),
        cmocka_unit_test(test_backoff_full_jitter_spans_zero_to_ceiling),
        cmocka_unit_test(test_budget_arithmetic),
        cmocka_unit_test(test_budget_max_change_keeps_the_fill_fraction),
        cmocka_unit_test(test_gradient_limit_follows_latency),
        cmocka_unit_test(test_aimd_limit_adds_and_multiplies),
        cmocka_unit_test(test_default_budget_survives_a_long_run_of_thirty_percent_failures),
        cmocka_unit_test(test_budget_defaults_meet_both_scorecard_rows),
        cmocka_unit_test(test_mode_thresholds_and_hysteresis),
        cmocka_unit_test(test_mode_admission_by_criticality),
        cmocka_unit_test(test_latency_histogram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
