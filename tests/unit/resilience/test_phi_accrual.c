/* The phi accrual failure detector driven by an injected clock: exact timestamps, no sleeps.
 * A 500 ms pause of an instance heartbeating every 100 ms is absorbed; a silence well past it
 * is a verdict; irregular heartbeats make the detector more patient; a heartbeat after a
 * verdict clears it. */
#include <math.h>
#include <stdint.h>

#include "gt_assert.h"
#include "resilience/phi_accrual.h"

/* A clock the test moves by hand. */
typedef struct fake_clock {
    int64_t now_ms;
} fake_clock;

static void beat_every(gn_phi *d, fake_clock *c, int64_t interval_ms, int n)
{
    for (int i = 0; i < n; i++) {
        c->now_ms += interval_ms;
        gn_phi_heartbeat(d, c->now_ms);
    }
}

/* The first silence (in ms after the last heartbeat) at which the detector suspects. */
static int64_t first_suspect_after(const gn_phi *d, const gn_phi_params *p, int64_t from_ms)
{
    for (int64_t t = 0; t < 600000; t++)
        if (gn_phi_suspect(d, p, from_ms + t))
            return t;
    return -1;
}

static void test_params_floor_is_a_500_ms_pause(void **state)
{
    (void)state;
    gn_phi_params p;
    gn_phi_params_for(&p, 100, 3); /* the coordinator's defaults */
    assert_true(p.acceptable_pause_ms >= 500.0);
    assert_true(p.threshold == GN_PHI_THRESHOLD);
    gn_phi_params_for(&p, 1000, 3); /* slower heartbeats: more patience, never less */
    assert_true(p.acceptable_pause_ms >= 3000.0);
    gn_phi_params_for(&p, 1, 0);
    assert_true(p.min_std_ms >= GN_PHI_MIN_STD_FLOOR_MS);
}

static void test_a_500_ms_pause_is_absorbed(void **state)
{
    (void)state;
    fake_clock c = {.now_ms = 1000000};
    gn_phi d;
    gn_phi_params p;
    gn_phi_params_for(&p, 100, 3);
    gn_phi_start(&d, c.now_ms, 100);
    beat_every(&d, &c, 100, 50);
    /* Silent for the pause plus one interval (the heartbeat that was due during it). */
    for (int64_t t = 0; t <= 600; t += 10)
        assert_false(gn_phi_suspect(&d, &p, c.now_ms + t));
    assert_true(gn_phi_value(&d, &p, c.now_ms + 600) < 1.0);
    /* ... the heartbeats resume and all is as before. */
    c.now_ms += 600;
    gn_phi_heartbeat(&d, c.now_ms);
    beat_every(&d, &c, 100, 5);
    assert_false(gn_phi_suspect(&d, &p, c.now_ms + 100));
}

static void test_a_long_silence_is_a_verdict_and_a_heartbeat_clears_it(void **state)
{
    (void)state;
    fake_clock c = {.now_ms = 0};
    gn_phi d;
    gn_phi_params p;
    gn_phi_params_for(&p, 100, 3);
    gn_phi_start(&d, c.now_ms, 100);
    beat_every(&d, &c, 100, 100);
    int64_t at = first_suspect_after(&d, &p, c.now_ms);
    print_message("regular 100 ms heartbeats: suspected after %lld ms of silence\n", (long long)at);
    assert_true(at > 600);  /* never within the acceptable pause */
    assert_true(at < 2000); /* but a dead instance is found within seconds */
    /* phi grows with the silence. */
    double prev = -1.0;
    for (int64_t t = 0; t <= 3000; t += 100) {
        double phi = gn_phi_value(&d, &p, c.now_ms + t);
        assert_false(isnan(phi));
        assert_true(phi >= prev);
        prev = phi;
    }
    assert_true(gn_phi_suspect(&d, &p, c.now_ms + 5000));
    c.now_ms += 5000;
    gn_phi_heartbeat(&d, c.now_ms);
    assert_false(gn_phi_suspect(&d, &p, c.now_ms + 100));
}

static void test_irregular_heartbeats_make_it_more_patient(void **state)
{
    (void)state;
    gn_phi_params p;
    gn_phi_params_for(&p, 100, 3);
    fake_clock a = {.now_ms = 0}, b = {.now_ms = 0};
    gn_phi regular, jittery;
    gn_phi_start(&regular, 0, 100);
    gn_phi_start(&jittery, 0, 100);
    beat_every(&regular, &a, 100, 100);
    for (int i = 0; i < 100; i++) /* 20 .. 380 ms apart: a loaded machine */
        beat_every(&jittery, &b, i % 2 == 0 ? 20 : 380, 1);
    int64_t at_regular = first_suspect_after(&regular, &p, a.now_ms);
    int64_t at_jittery = first_suspect_after(&jittery, &p, b.now_ms);
    print_message("suspected after %lld ms (regular) and %lld ms (jittery)\n",
                  (long long)at_regular, (long long)at_jittery);
    assert_true(at_jittery > at_regular);
}

static void test_clock_going_backwards_is_harmless(void **state)
{
    (void)state;
    gn_phi_params p;
    gn_phi_params_for(&p, 100, 3);
    gn_phi d;
    gn_phi_start(&d, 1000, 100);
    gn_phi_heartbeat(&d, 900); /* an earlier time than the start */
    assert_false(gn_phi_suspect(&d, &p, 800));
    assert_true(gn_phi_value(&d, &p, 800) >= 0.0);
    assert_false(isnan(d.mean_ms));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_floor_is_a_500_ms_pause),
        cmocka_unit_test(test_a_500_ms_pause_is_absorbed),
        cmocka_unit_test(test_a_long_silence_is_a_verdict_and_a_heartbeat_clears_it),
        cmocka_unit_test(test_irregular_heartbeats_make_it_more_patient),
        cmocka_unit_test(test_clock_going_backwards_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
