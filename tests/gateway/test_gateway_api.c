/* The gateway's public API (genesis/gateway.h, genesis/gateway_cli.h): versioned options,
 * status returns with the reason in genesis_gateway_last_error(), and a whole lifecycle in
 * front of an in-process coordinator on loopback port 0. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/gateway.h>
#include <genesis/gateway_cli.h>

#include "gt_assert.h"

static void test_options_are_versioned(void **state)
{
    (void)state;
    genesis_gateway_options o;
    assert_status(genesis_gateway_options_init(&o, 0), GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_gateway_last_error(), "version 0"));
    assert_status(genesis_gateway_options_init(NULL, GENESIS_GATEWAY_OPTIONS_VERSION),
                  GENESIS_INVALID_ARGUMENT);
    assert_ok(genesis_gateway_options_init(&o, GENESIS_GATEWAY_OPTIONS_VERSION));
    assert_string_equal(genesis_gateway_last_error(), "");
    assert_int_equal(o.version, GENESIS_GATEWAY_OPTIONS_VERSION);
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 8080);
    assert_int_equal(o.max_body, 1024 * 1024);

    genesis_gateway *gw = (genesis_gateway *)&o; /* must be reset to NULL on failure */
    o.version = 99;
    assert_status(genesis_gateway_new(&gw, &o), GENESIS_INVALID_ARGUMENT);
    assert_null(gw);
    assert_non_null(strstr(genesis_gateway_last_error(), "99"));
    assert_status(genesis_gateway_new(NULL, &o), GENESIS_INVALID_ARGUMENT);
    genesis_gateway_free(NULL);
}

static void test_listen_address(void **state)
{
    (void)state;
    genesis_gateway_options o;
    assert_ok(genesis_gateway_options_init(&o, GENESIS_GATEWAY_OPTIONS_VERSION));
    assert_ok(genesis_gateway_options_set_listen(&o, ":0"));
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 0);
    assert_ok(genesis_gateway_options_set_listen(&o, "[::1]:9000"));
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 9000);
    assert_ok(genesis_gateway_options_set_listen(&o, "8081"));
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 8081);
    assert_status(genesis_gateway_options_set_listen(&o, "host:65536"), GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_gateway_last_error(), "host:65536"));
    assert_status(genesis_gateway_options_set_listen(&o, "h:-1"), GENESIS_INVALID_ARGUMENT);
    assert_string_equal(o.host, "::1"); /* unchanged by a failure */
    assert_int_equal(o.port, 8081);
}

static void test_cli(void **state)
{
    (void)state;
    static const struct option own[] = {{"listen", required_argument, NULL, 1},
                                        {"max-body", required_argument, NULL, 2}};
    struct option merged[64];
    assert_status(genesis_gateway_cli_merge_options(own, 2, merged, 3), GENESIS_OUT_OF_RANGE);
    assert_ok(genesis_gateway_cli_merge_options(own, 2, merged, 64));
    size_t n = 0, max_body = 0;
    for (; merged[n].name != NULL; n++)
        max_body += strcmp(merged[n].name, "max-body") == 0;
    assert_int_equal(max_body, 1); /* the program's own entry wins */
    assert_true(n > 2);
    assert_non_null(strstr(genesis_gateway_cli_help(), "--max-ws-clients"));

    int opt = 0;
    for (const struct option *o = genesis_gateway_cli_options(); o->name != NULL; o++)
        if (strcmp(o->name, "ws-queue") == 0)
            opt = o->val;
    assert_true(opt >= GENESIS_GATEWAY_CLI_FIRST);
    genesis_gateway_options o;
    assert_ok(genesis_gateway_options_init(&o, GENESIS_GATEWAY_OPTIONS_VERSION));
    int applied = -1;
    assert_ok(genesis_gateway_cli_apply(&o, opt, "17", &applied));
    assert_int_equal(applied, 1);
    assert_int_equal(o.ws_queue, 17);
    assert_status(genesis_gateway_cli_apply(&o, opt, "many", &applied), GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_gateway_last_error(), "many"));
    assert_ok(genesis_gateway_cli_apply(&o, 1, "x", &applied)); /* the program's flag */
    assert_int_equal(applied, 0);
}

static void test_lifecycle(void **state)
{
    (void)state;
    genesis_coordinator *co = NULL;
    assert_ok(genesis_coordinator_new(&co, NULL));
    assert_ok(genesis_coordinator_listen(co, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0"));
    char front_door[256], event_bus[256];
    assert_ok(genesis_coordinator_get_url(co, GENESIS_ENDPOINT_FRONT_DOOR, front_door,
                                          sizeof front_door));
    assert_ok(
        genesis_coordinator_get_url(co, GENESIS_ENDPOINT_EVENT_BUS, event_bus, sizeof event_bus));

    genesis_gateway_options o;
    assert_ok(genesis_gateway_options_init(&o, GENESIS_GATEWAY_OPTIONS_VERSION));
    assert_ok(genesis_gateway_options_set_listen(&o, "127.0.0.1:0"));
    o.front_door = front_door;
    o.event_bus = event_bus;
    o.coordinator = co;
    o.log_level = GENESIS_LOG_WARN;
    genesis_gateway *gw = NULL;
    assert_ok(genesis_gateway_new(&gw, &o));
    assert_ok(genesis_gateway_start(gw));
    int port = 0;
    assert_ok(genesis_gateway_get_port(gw, &port));
    assert_true(port > 0);
    char url[64], want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d", port);
    assert_ok(genesis_gateway_get_url(gw, url, sizeof url));
    assert_string_equal(url, want);
    char tiny[8];
    assert_status(genesis_gateway_get_url(gw, tiny, sizeof tiny), GENESIS_OUT_OF_RANGE);
    assert_non_null(strstr(genesis_gateway_last_error(), "bytes needed"));
    genesis_gateway_free(gw);

    o.auth_file = "/nonexistent/tokens";
    assert_status(genesis_gateway_new(&gw, &o), GENESIS_INVALID_ARGUMENT);
    assert_null(gw);
    assert_non_null(strstr(genesis_gateway_last_error(), "/nonexistent/tokens"));

    assert_ok(genesis_coordinator_stop(co));
    genesis_coordinator_free(co);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_are_versioned),
        cmocka_unit_test(test_listen_address),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
