/* Versioned option structs, version numbers and NULL-tolerant free functions (public API). */
#include <string.h>

#include "genesis/genesis.h"
#include "gt_assert.h"

/* A field documented as "0 = default (N)" may be filled in as 0 or as N by *_options_init;
 * anything else contradicts the header. */
#define assert_default(value, documented)                                                          \
    do {                                                                                           \
        unsigned long long v_ = (unsigned long long)(value);                                       \
        if (v_ != 0 && v_ != (unsigned long long)(documented))                                     \
            fail_msg("%s is %llu after init; the header documents 0 = %llu", #value, v_,           \
                     (unsigned long long)(documented));                                            \
    } while (0)

static void test_call_options(void **state)
{
    (void)state;
    genesis_call_options o;
    assert_status(genesis_call_options_init(NULL, GENESIS_CALL_OPTIONS_VERSION),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_call_options_init(&o, 0), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION + 1),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_call_options_init(&o, 0xffffffffu), GENESIS_INVALID_ARGUMENT);

    memset(&o, 0xa5, sizeof(o)); /* init must overwrite every field */
    assert_ok(genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION));
    assert_int_equal(o.version, GENESIS_CALL_OPTIONS_VERSION);
    assert_default(o.timeout_ms, 10000);
    assert_int_equal(o.criticality, GENESIS_CRITICALITY_DEFAULT);
    assert_int_equal(o.idempotent, 0);
    assert_null(o.source);
    assert_null(o.content_type);
}

static void test_coordinator_options(void **state)
{
    (void)state;
    genesis_coordinator_options o;
    assert_status(genesis_coordinator_options_init(NULL, GENESIS_COORDINATOR_OPTIONS_VERSION),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_options_init(&o, 0), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION + 1),
                  GENESIS_INVALID_ARGUMENT);

    memset(&o, 0xa5, sizeof(o));
    assert_ok(genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION));
    assert_int_equal(o.version, GENESIS_COORDINATOR_OPTIONS_VERSION);
    assert_default(o.worker_threads, 4);
    assert_default(o.max_worker_threads, 256);
    assert_default(o.front_door_contexts, 1024);
    assert_default(o.max_message_size, 1024 * 1024);
    assert_default(o.default_timeout_ms, 10000);
    assert_default(o.max_concurrency, 16);
    assert_default(o.max_queued_requests, 50);
    assert_default(o.event_queue_depth, 50);
    assert_default(o.heartbeat_interval_ms, 100);
    assert_default(o.heartbeat_misses, 3);
    assert_true(o.log_level >= GENESIS_LOG_ERROR && o.log_level <= GENESIS_LOG_DEBUG);
    assert_null(o.log);
    assert_null(o.log_arg);

    /* The defaults are accepted as they are. */
    genesis_coordinator *c = NULL;
    assert_ok(genesis_coordinator_new(&c, &o));
    assert_non_null(c);
    genesis_coordinator_free(c);

    /* A struct claiming an unknown version is refused, not misread. */
    o.version = GENESIS_COORDINATOR_OPTIONS_VERSION + 1;
    c = NULL;
    assert_status(genesis_coordinator_new(&c, &o), GENESIS_INVALID_ARGUMENT);
    o.version = 0;
    assert_status(genesis_coordinator_new(&c, &o), GENESIS_INVALID_ARGUMENT);
}

static void test_client_options(void **state)
{
    (void)state;
    genesis_client_options o;
    assert_status(genesis_client_options_init(NULL, GENESIS_CLIENT_OPTIONS_VERSION),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_client_options_init(&o, 0), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_client_options_init(&o, GENESIS_CLIENT_OPTIONS_VERSION + 1),
                  GENESIS_INVALID_ARGUMENT);

    memset(&o, 0xa5, sizeof(o));
    assert_ok(genesis_client_options_init(&o, GENESIS_CLIENT_OPTIONS_VERSION));
    assert_int_equal(o.version, GENESIS_CLIENT_OPTIONS_VERSION);
    if (o.name != NULL)
        assert_string_equal(o.name, "client");
    assert_default(o.max_message_size, 1024 * 1024);
    assert_default(o.default_timeout_ms, 10000);
    assert_default(o.worker_threads, 2);

    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, &o));
    assert_non_null(cl);
    genesis_client_free(cl);
    assert_ok(genesis_client_new(&cl, NULL));
    genesis_client_free(cl);

    o.version = GENESIS_CLIENT_OPTIONS_VERSION + 1;
    assert_status(genesis_client_new(&cl, &o), GENESIS_INVALID_ARGUMENT);
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)reply;
    (void)arg;
}

static void test_service_options(void **state)
{
    (void)state;
    genesis_service_options o;
    assert_status(genesis_service_options_init(NULL, GENESIS_SERVICE_OPTIONS_VERSION),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_service_options_init(&o, 0), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_service_options_init(&o, GENESIS_SERVICE_OPTIONS_VERSION + 1),
                  GENESIS_INVALID_ARGUMENT);

    memset(&o, 0xa5, sizeof(o));
    assert_ok(genesis_service_options_init(&o, GENESIS_SERVICE_OPTIONS_VERSION));
    assert_int_equal(o.version, GENESIS_SERVICE_OPTIONS_VERSION);
    assert_default(o.max_concurrency, 16);
    assert_default(o.max_message_size, 1024 * 1024);
    assert_default(o.heartbeat_interval_ms, 100);
    assert_default(o.event_queue_depth, 50);
    assert_true(o.log_level >= GENESIS_LOG_ERROR && o.log_level <= GENESIS_LOG_DEBUG);
    assert_null(o.log);
    assert_null(o.log_arg);

    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    genesis_service *svc = NULL;
    assert_ok(genesis_service_new(&svc, "svc", &comp, &o));
    assert_non_null(svc);
    genesis_service_free(svc);

    o.version = GENESIS_SERVICE_OPTIONS_VERSION + 1;
    assert_status(genesis_service_new(&svc, "svc", &comp, &o), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_service_new(&svc, "bad id", &comp, NULL), GENESIS_INVALID_ARGUMENT);
    genesis_component no_handler = {.version = GENESIS_COMPONENT_VERSION};
    assert_status(genesis_service_new(&svc, "svc", &no_handler, NULL), GENESIS_INVALID_ARGUMENT);
    genesis_component bad_version = {.version = GENESIS_COMPONENT_VERSION + 1,
                                     .on_request = on_request};
    assert_status(genesis_service_new(&svc, "svc", &bad_version, NULL), GENESIS_INVALID_ARGUMENT);
}

static void test_stats_version_is_checked(void **state)
{
    (void)state;
    genesis_coordinator *c = NULL;
    assert_ok(genesis_coordinator_new(&c, NULL));
    genesis_coordinator_stats st;
    memset(&st, 0, sizeof(st));
    assert_status(genesis_coordinator_get_stats(c, &st), GENESIS_INVALID_ARGUMENT); /* v0 */
    st.version = GENESIS_COORDINATOR_STATS_VERSION + 1;
    assert_status(genesis_coordinator_get_stats(c, &st), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_get_stats(c, NULL), GENESIS_INVALID_ARGUMENT);
    st.version = GENESIS_COORDINATOR_STATS_VERSION;
    assert_ok(genesis_coordinator_get_stats(c, &st));
    assert_int_equal(st.version, GENESIS_COORDINATOR_STATS_VERSION);
    assert_int_equal(st.requests, 0);
    assert_int_equal(st.components, 0);
    assert_int_equal(st.in_flight, 0);
    genesis_coordinator_free(c);
}

static void test_versions(void **state)
{
    (void)state;
    assert_int_equal(genesis_version_number(), GENESIS_VERSION_NUMBER);
    assert_string_equal(genesis_version_string(), GENESIS_VERSION_STRING);
    assert_int_equal(GENESIS_VERSION_NUMBER, GENESIS_VERSION_MAJOR * 10000 +
                                                 GENESIS_VERSION_MINOR * 100 +
                                                 GENESIS_VERSION_PATCH);
}

static void test_free_accepts_null(void **state)
{
    (void)state;
    genesis_result_free(NULL);
    genesis_coordinator_free(NULL);
    genesis_client_free(NULL);
    genesis_service_free(NULL);
}

static void test_new_rejects_null_out(void **state)
{
    (void)state;
    assert_status(genesis_coordinator_new(NULL, NULL), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_client_new(NULL, NULL), GENESIS_INVALID_ARGUMENT);
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    assert_status(genesis_service_new(NULL, "svc", &comp, NULL), GENESIS_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_options),
        cmocka_unit_test(test_coordinator_options),
        cmocka_unit_test(test_client_options),
        cmocka_unit_test(test_service_options),
        cmocka_unit_test(test_stats_version_is_checked),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_free_accepts_null),
        cmocka_unit_test(test_new_rejects_null_out),
    };
    return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
