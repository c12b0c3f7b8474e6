/* The per-try timer heap (core/src/base/deadline.c): timers fire in deadline order, exactly once;
 * a cancelled timer never fires; cancel tells whether it won; freeing drops armed timers. No
 * timing is asserted: only order and counts. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include "base/deadline.h"
#include "gt_assert.h"
#include "gt_wait.h"

typedef struct probe {
    gn_deadline d;
    int id;
    atomic_int fired;
} probe;

static gt_counter fired_total;
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int order[16];
static int n_order;

static void on_fire(gn_deadline *d)
{
    probe *p = (probe *)((char *)d - offsetof(probe, d));
    atomic_fetch_add(&p->fired, 1);
    pthread_mutex_lock(&order_lock);
    if (n_order < 16)
        order[n_order++] = p->id;
    pthread_mutex_unlock(&order_lock);
    gt_counter_add(&fired_total, 1);
}

static int setup(void **state)
{
    (void)state;
    gt_counter_init(&fired_total);
    n_order = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gt_counter_destroy(&fired_total);
    return 0;
}

static void test_fires_in_deadline_order(void **state)
{
    (void)state;
    gn_deadlines *ds = gn_deadlines_new();
    assert_non_null(ds);
    probe p[4] = {{.id = 40}, {.id = 10}, {.id = 30}, {.id = 20}};
    /* Absolute times from one base well ahead, so slow arming cannot reorder them. */
    int64_t base = gn_deadline_now_ns() + 300 * 1000000ll;
    for (int i = 0; i < 4; i++)
        assert_true(gn_deadline_arm_at(ds, &p[i].d, base + p[i].id * 1000000ll, on_fire));
    assert_true(gt_counter_wait(&fired_total, 4, GT_WAIT_MS));
    int want[4] = {10, 20, 30, 40};
    assert_int_equal(n_order, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(order[i], want[i]);
        assert_int_equal(atomic_load(&p[i].fired), 1);
        assert_false(gn_deadline_cancel(ds, &p[i].d)); /* fired: too late to cancel */
    }
    gn_deadlines_free(ds);
}

static void test_cancelled_timer_never_fires(void **state)
{
    (void)state;
    gn_deadlines *ds = gn_deadlines_new();
    probe cancelled = {.id = 1}, kept = {.id = 2};
    assert_true(gn_deadline_arm(ds, &cancelled.d, 5, on_fire));
    assert_true(gn_deadline_arm(ds, &kept.d, 10, on_fire));
    assert_true(gn_deadline_cancel(ds, &cancelled.d));
    assert_false(gn_deadline_cancel(ds, &cancelled.d)); /* once */
    /* The later timer firing proves the earlier deadline passed without its callback. */
    assert_true(gt_counter_wait(&fired_total, 1, GT_WAIT_MS));
    assert_int_equal(atomic_load(&cancelled.fired), 0);
    assert_int_equal(atomic_load(&kept.fired), 1);
    gn_deadlines_free(ds);
}

static void test_many_timers_half_cancelled(void **state)
{
    (void)state;
    enum { N = 2000 };
    gn_deadlines *ds = gn_deadlines_new();
    probe *p = calloc(N, sizeof(*p));
    assert_non_null(p);
    uint64_t x = 7;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i].id = i;
        assert_true(gn_deadline_arm(ds, &p[i].d, (uint32_t)(x >> 33) % 50, on_fire));
    }
    int cancelled = 0;
    for (int i = 0; i < N; i += 2)
        cancelled += gn_deadline_cancel(ds, &p[i].d) ? 1 : 0;
    /* Every timer fires or was cancelled, never both and never twice. */
    assert_true(gt_counter_wait(&fired_total, N - cancelled, GT_WAIT_MS));
    gt_sleep_ms(60); /* past every deadline: anything still to fire would have */
    assert_int_equal(gt_counter_get(&fired_total), N - cancelled);
    for (int i = 0; i < N; i++)
        assert_true(atomic_load(&p[i].fired) <= 1);
    for (int i = 1; i < N; i += 2)
        assert_int_equal(atomic_load(&p[i].fired), 1);
    gn_deadlines_free(ds);
    free(p);
}

static void test_free_drops_armed_timers(void **state)
{
    (void)state;
    gn_deadlines *ds = gn_deadlines_new();
    probe p = {.id = 1};
    assert_true(gn_deadline_arm(ds, &p.d, 60000, on_fire));
    gn_deadlines_free(ds);
    assert_int_equal(atomic_load(&p.fired), 0);
    assert_true(p.d.slot == GN_DEADLINE_IDLE);
    gn_deadlines_free(gn_deadlines_new()); /* never started a thread */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fires_in_deadline_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_timer_never_fires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_timers_half_cancelled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_drops_armed_timers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
