/* Lists of front doors without a cluster: two in-process coordinators on ipc stand for two
 * nodes. A service given both registers with the one that is up (connect does not wait for the
 * other) and with the other once it comes up; a client given both reaches the service through
 * either, and after one node is stopped, through the other. Malformed lists are refused with
 * the reason, and a service whose nodes are all down fails connect naming one of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static genesis_coordinator *node_at(const char *front)
{
    genesis_coordinator *co = NULL;
    assert_ok(genesis_coordinator_new(&co, NULL));
    assert_ok(genesis_coordinator_listen(co, front, NULL));
    return co;
}

static void stop_node(genesis_coordinator *co)
{
    genesis_coordinator_stop(co);
    genesis_coordinator_free(co);
}

static bool routes_to_svc(void *arg)
{
    genesis_result *res = NULL;
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = 2000;
    int rv = genesis_coordinator_request(arg, "svc", "get", NULL, 0, &o, &res);
    genesis_result_free(res);
    return rv == GENESIS_OK;
}

static int client_get(genesis_client *cl)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = 5000;
    o.idempotent = 1;
    return genesis_client_request(cl, "svc", "get", NULL, 0, &o, NULL);
}

static void test_a_node_that_comes_later_gets_the_registration(void **state)
{
    (void)state;
    char dir[256], a_url[300], b_url[300], svc_url[300], both[700];
    assert_int_equal(gt_tempdir_make(dir, sizeof(dir)), 0);
    gt_ipc_url(a_url, sizeof(a_url), dir, "a");
    gt_ipc_url(b_url, sizeof(b_url), dir, "b");
    gt_ipc_url(svc_url, sizeof(svc_url), dir, "svc");
    snprintf(both, sizeof(both), "%s,%s", a_url, b_url);

    genesis_coordinator *a = node_at(a_url); /* b is not up yet */
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    genesis_service *svc = NULL;
    assert_ok(genesis_service_new(&svc, "svc", &comp, NULL));
    assert_ok(genesis_service_listen(svc, svc_url));
    assert_ok(genesis_service_connect(svc, both, NULL, 0)); /* a accepted: b is not waited for */
    assert_true(routes_to_svc(a));

    genesis_coordinator *b = node_at(b_url);
    if (!gt_wait_until(routes_to_svc, b, GT_WAIT_MS))
        fail_msg("the service did not register with the node that came later");

    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_ok(genesis_client_dial(cl, both, NULL));
    for (int i = 0; i < 4; i++)
        assert_ok(client_get(cl));
    stop_node(a); /* the client and the service go on with b */
    for (int i = 0; i < 4; i++)
        assert_ok(client_get(cl));

    genesis_client_free(cl);
    genesis_service_free(svc);
    stop_node(b);
    gt_tempdir_remove(dir);
}

static void test_malformed_lists_and_all_nodes_down(void **state)
{
    (void)state;
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_int_equal(genesis_client_dial(cl, "tcp://127.0.0.1:1,,tcp://127.0.0.1:2", NULL),
                     GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_last_error(), "empty"));
    assert_ok(genesis_client_dial(cl, "tcp://127.0.0.1:1, tcp://127.0.0.1:2", NULL));
    genesis_client_free(cl);

    char dir[256], a_url[300], b_url[300], svc_url[300], both[700];
    assert_int_equal(gt_tempdir_make(dir, sizeof(dir)), 0);
    gt_ipc_url(a_url, sizeof(a_url), dir, "a");
    gt_ipc_url(b_url, sizeof(b_url), dir, "b");
    gt_ipc_url(svc_url, sizeof(svc_url), dir, "svc");
    snprintf(both, sizeof(both), "%s,%s", a_url, b_url);
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    genesis_service *svc = NULL;
    assert_ok(genesis_service_new(&svc, "svc", &comp, NULL));
    assert_ok(genesis_service_listen(svc, svc_url));
    assert_int_not_equal(genesis_service_connect(svc, both, NULL, 300), GENESIS_OK);
    const char *why = genesis_last_error();
    if (strstr(why, a_url) == NULL && strstr(why, b_url) == NULL)
        fail_msg("connect's error names no node: %s", why);
    genesis_service_free(svc);
    gt_tempdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_node_that_comes_later_gets_the_registration),
        cmocka_unit_test(test_malformed_lists_and_all_nodes_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
