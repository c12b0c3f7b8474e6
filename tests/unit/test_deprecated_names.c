/* The old names of renamed public functions are still exported and behave as the new ones:
 * each is called next to its replacement on the same handle. */
#define GENESIS_NO_DEPRECATION_WARNINGS /* this file calls the old names on purpose */
#include <string.h>

#include "genesis/genesis.h"
#include "gt_assert.h"

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, NULL);
}

static void test_coordinator_names(void **state)
{
    (void)state;
    genesis_coordinator *co = NULL;
    assert_ok(genesis_coordinator_new(&co, NULL));
    assert_ok(genesis_coordinator_listen(co, "inproc://deprecated-names", NULL));
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    assert_ok(genesis_coordinator_register(co, "svc", &comp));
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(co, "svc", "ping", NULL, 0, NULL, &res));
    genesis_result_free(res);

    char a[256], b[256];
    assert_ok(genesis_coordinator_get_url(co, GENESIS_ENDPOINT_FRONT_DOOR, a, sizeof(a)));
    assert_ok(genesis_coordinator_url(co, GENESIS_ENDPOINT_FRONT_DOOR, b, sizeof(b)));
    assert_string_equal(a, b);

    genesis_coordinator_stats s1 = {.version = GENESIS_COORDINATOR_STATS_VERSION};
    genesis_coordinator_stats s2 = {.version = GENESIS_COORDINATOR_STATS_VERSION};
    assert_ok(genesis_coordinator_get_stats(co, &s1));
    assert_ok(genesis_coordinator_stats_get(co, &s2));
    assert_int_equal(s1.requests, 1);
    assert_int_equal(s2.requests, s1.requests);

    genesis_component_stats c1 = {.version = GENESIS_COMPONENT_STATS_VERSION};
    genesis_component_stats c2 = {.version = GENESIS_COMPONENT_STATS_VERSION};
    assert_ok(genesis_coordinator_get_component_stats(co, "svc", &c1));
    assert_ok(genesis_coordinator_component_stats(co, "svc", &c2));
    assert_int_equal(c2.requests, c1.requests);

    int up1 = -1, up2 = -1;
    assert_ok(genesis_coordinator_get_component_health(co, "svc", &up1));
    assert_ok(genesis_coordinator_component_health(co, "svc", &up2));
    assert_int_equal(up1, 1);
    assert_int_equal(up2, up1);

    genesis_checkpoint_info i1 = {.version = GENESIS_CHECKPOINT_INFO_VERSION};
    genesis_checkpoint_info i2 = {.version = GENESIS_CHECKPOINT_INFO_VERSION};
    assert_status(genesis_coordinator_get_checkpoint_info(co, "nothing", &i1), GENESIS_NOT_FOUND);
    assert_status(genesis_coordinator_checkpoint_info(co, "nothing", &i2), GENESIS_NOT_FOUND);

    assert_int_equal(genesis_coordinator_mode(co), genesis_coordinator_get_mode(co));
    assert_ok(genesis_coordinator_breaker_set(co, "svc", GENESIS_BREAKER_FORCED_OPEN));
    assert_ok(genesis_coordinator_get_component_stats(co, "svc", &c1));
    assert_int_equal(c1.breaker_state, GENESIS_BREAKER_FORCED_OPEN);
    assert_ok(genesis_coordinator_set_breaker(co, "svc", GENESIS_BREAKER_CLOSED));
    assert_ok(genesis_coordinator_get_component_stats(co, "svc", &c1));
    assert_int_equal(c1.breaker_state, GENESIS_BREAKER_CLOSED);
    genesis_coordinator_free(co);
}

static void test_client_and_service_names(void **state)
{
    (void)state;
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_int_equal(genesis_client_events_lost(cl), genesis_client_get_events_lost(cl));
    genesis_client_free(cl);

    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    genesis_service *svc = NULL;
    assert_ok(genesis_service_new(&svc, "svc", &comp, NULL));
    assert_ok(genesis_service_listen(svc, "inproc://deprecated-names-svc"));
    char a[256], b[256];
    assert_ok(genesis_service_get_url(svc, a, sizeof(a)));
    assert_ok(genesis_service_url(svc, b, sizeof(b)));
    assert_string_equal(a, b);
    assert_int_equal(genesis_service_requests_served(svc),
                     genesis_service_get_requests_served(svc));
    genesis_service_free(svc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coordinator_names),
        cmocka_unit_test(test_client_and_service_names),
    };
    return cmocka_run_group_tests_name("deprecated_names", tests, NULL, NULL);
}
