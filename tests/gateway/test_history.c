/* The dashboard's history (gateway/src/history.c): per-interval figures from cumulative
 * counters, windowed percentiles from histogram differences, the ring wrapping after
 * GW_HISTORY_SLOTS samples, components that come and go, and the JSON the page reads. */
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>
#include <jansson.h>

#include "gt_assert.h"
#include "history.h"

static json_t *render(gw_history *h)
{
    size_t len = 0;
    char *text = gw_history_json(h, &len);
    assert_non_null(text);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    free(text);
    return doc;
}

static json_t *component(json_t *doc, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "components"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return c;
    }
    return NULL;
}

static void test_intervals_and_percentiles(void **state)
{
    (void)state;
    gw_history *h = gw_history_new(5000);
    assert_non_null(h);
    uint64_t buckets[GW_HISTORY_BUCKETS] = {0};
    gw_history_point p = {.id = "a", .requests = 10, .latency_buckets = buckets};
    gw_history_add(h, 1000, &p, 1); /* the baseline: no interval yet */
    json_t *doc = render(h);
    assert_int_equal(json_integer_value(json_object_get(doc, "samples")), 0);
    json_decref(doc);

    /* 5 requests in the interval, 4 fast (bucket 20) and 1 slow (bucket 60), 2 failures. */
    p.requests = 15;
    buckets[20] += 4;
    buckets[60] += 1;
    p.failures_by_reason[GENESIS_REASON_BREAKER_OPEN] = 2;
    gw_history_add(h, 6000, &p, 1);
    doc = render(h);
    assert_int_equal(json_integer_value(json_object_get(doc, "samples")), 1);
    assert_int_equal(json_integer_value(json_object_get(doc, "end_ms")), 6000);
    json_t *a = component(doc, "a");
    assert_non_null(a);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(a, "requests"), 0)), 5);
    json_t *errors = json_object_get(a, "errors");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(errors, "BREAKER_OPEN"), 0)),
                     2);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(a, "p50_us"), 0)),
                     (json_int_t)genesis_latency_bucket_upper_us(20));
    assert_int_equal(json_integer_value(json_array_get(json_object_get(a, "p99_us"), 0)),
                     (json_int_t)genesis_latency_bucket_upper_us(60));
    json_decref(doc);

    /* An idle interval: no requests, no percentiles (null, not 0). */
    gw_history_add(h, 11000, &p, 1);
    doc = render(h);
    a = component(doc, "a");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(a, "requests"), 1)), 0);
    assert_true(json_is_null(json_array_get(json_object_get(a, "p50_us"), 1)));
    json_decref(doc);
    gw_history_free(h);
}

static void test_ring_wraps_and_components_come_and_go(void **state)
{
    (void)state;
    gw_history *h = gw_history_new(1000);
    gw_history_point pts[2] = {{.id = "a"}, {.id = "b"}};
    for (int i = 0; i < GW_HISTORY_SLOTS + 20; i++) {
        pts[0].requests = (uint64_t)i * 3; /* 3 per interval */
        gw_history_add(h, (uint64_t)i, pts, 1);
    }
    json_t *doc = render(h);
    assert_int_equal(json_integer_value(json_object_get(doc, "samples")), GW_HISTORY_SLOTS);
    json_t *req = json_object_get(component(doc, "a"), "requests");
    assert_int_equal(json_array_size(req), GW_HISTORY_SLOTS);
    for (size_t i = 0; i < json_array_size(req); i++)
        assert_int_equal(json_integer_value(json_array_get(req, i)), 3);
    json_decref(doc);

    /* b appears: zeros before its first interval; its counter restarting counts from 0. */
    pts[1].requests = 100;
    gw_history_add(h, 1, pts, 2);
    pts[1].requests = 7; /* registered again: a smaller counter */
    gw_history_add(h, 2, pts, 2);
    doc = render(h);
    req = json_object_get(component(doc, "b"), "requests");
    assert_int_equal(json_array_size(req), GW_HISTORY_SLOTS);
    assert_int_equal(json_integer_value(json_array_get(req, GW_HISTORY_SLOTS - 2)), 0);
    assert_int_equal(json_integer_value(json_array_get(req, GW_HISTORY_SLOTS - 1)), 7);
    json_decref(doc);

    /* a leaves: forgotten. */
    gw_history_add(h, 3, &pts[1], 1);
    doc = render(h);
    assert_null(component(doc, "a"));
    assert_non_null(component(doc, "b"));
    json_decref(doc);
    gw_history_free(h);
}

static void test_component_cap(void **state)
{
    (void)state;
    gw_history *h = gw_history_new(1000);
    enum { N = GW_HISTORY_COMPONENTS + 10 };
    static gw_history_point pts[N];
    static char ids[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "c%d", i);
        pts[i].id = ids[i];
    }
    gw_history_add(h, 0, pts, N);
    gw_history_add(h, 1, pts, N);
    json_t *doc = render(h);
    assert_int_equal(json_array_size(json_object_get(doc, "components")), GW_HISTORY_COMPONENTS);
    json_decref(doc);
    gw_history_free(h);
}

static void test_quantile(void **state)
{
    (void)state;
    uint64_t counts[GW_HISTORY_BUCKETS] = {0};
    assert_int_equal(gw_history_quantile(counts, 0.5), 0);
    counts[3] = 50;
    counts[40] = 50;
    assert_int_equal(gw_history_quantile(counts, 0.5), genesis_latency_bucket_upper_us(3));
    assert_int_equal(gw_history_quantile(counts, 0.51), genesis_latency_bucket_upper_us(40));
    assert_int_equal(gw_history_quantile(counts, 0.99), genesis_latency_bucket_upper_us(40));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intervals_and_percentiles),
        cmocka_unit_test(test_ring_wraps_and_components_come_and_go),
        cmocka_unit_test(test_component_cap),
        cmocka_unit_test(test_quantile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
