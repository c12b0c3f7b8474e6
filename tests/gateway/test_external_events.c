/* External events, the core side of the gateway's WebSocket flow, through the public API:
 * genesis_client_emit_to delivers to one component only (in-process through on_event, remote
 * through its service's bus subscription) marked external; genesis_coordinator_emit_external
 * reaches "external:" subscribers with its source, and no in-process component. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

typedef struct sink {
    pthread_mutex_t mu;
    gt_counter n;
    char type[64], source[64], data[64];
    int external;
} sink;

static void sink_init(sink *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    gt_counter_init(&s->n);
}

static void sink_destroy(sink *s)
{
    gt_counter_destroy(&s->n);
    pthread_mutex_destroy(&s->mu);
}

static void on_event(const genesis_event *ev, void *arg)
{
    sink *s = arg;
    size_t len = 0;
    const char *data = genesis_event_data(ev, &len);
    pthread_mutex_lock(&s->mu);
    snprintf(s->type, sizeof(s->type), "%s", genesis_event_type(ev));
    snprintf(s->source, sizeof(s->source), "%s", genesis_event_source(ev));
    snprintf(s->data, sizeof(s->data), "%.*s", (int)len, data);
    s->external = genesis_event_is_external(ev);
    pthread_mutex_unlock(&s->mu);
    gt_counter_add(&s->n, 1);
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

typedef struct fixture {
    char dir[256];
    genesis_coordinator *co;
    genesis_client *cl;
    char front[256], bus[256];
    sink a, b, svc_sink, sub;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(gt_tempdir_make(f->dir, sizeof(f->dir)), 0);
    sink_init(&f->a);
    sink_init(&f->b);
    sink_init(&f->svc_sink);
    sink_init(&f->sub);
    assert_ok(genesis_coordinator_new(&f->co, NULL));
    assert_ok(genesis_coordinator_listen(f->co, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0"));
    assert_ok(genesis_coordinator_get_url(f->co, GENESIS_ENDPOINT_FRONT_DOOR, f->front,
                                          sizeof(f->front)));
    assert_ok(
        genesis_coordinator_get_url(f->co, GENESIS_ENDPOINT_EVENT_BUS, f->bus, sizeof(f->bus)));
    genesis_component ca = {.version = GENESIS_COMPONENT_VERSION,
                            .on_request = on_request,
                            .on_event = on_event,
                            .arg = &f->a};
    genesis_component cb = {.version = GENESIS_COMPONENT_VERSION,
                            .on_request = on_request,
                            .on_event = on_event,
                            .arg = &f->b};
    genesis_component mute = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_request,
                              .on_event = NULL,
                              .arg = NULL};
    assert_ok(genesis_coordinator_register(f->co, "a", &ca));
    assert_ok(genesis_coordinator_register(f->co, "b", &cb));
    assert_ok(genesis_coordinator_register(f->co, "mute", &mute));
    assert_ok(genesis_client_new(&f->cl, NULL));
    assert_ok(genesis_client_dial(f->cl, f->front, f->bus));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    genesis_client_free(f->cl);
    genesis_coordinator_free(f->co);
    sink_destroy(&f->a);
    sink_destroy(&f->b);
    sink_destroy(&f->svc_sink);
    sink_destroy(&f->sub);
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

static void test_emit_to_in_process_component(void **state)
{
    fixture *f = *state;
    genesis_call_options opts;
    assert_ok(genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION));
    opts.source = "ws-7";
    opts.content_type = "text/plain";
    genesis_result *res = NULL;
    assert_ok(genesis_client_emit_to(f->cl, "a", "chat", "hello", 5, &opts, &res));
    assert_result_ok(res);
    genesis_result_free(res);
    assert_true(gt_counter_wait(&f->a.n, 1, GT_WAIT_MS));
    pthread_mutex_lock(&f->a.mu);
    assert_string_equal(f->a.type, "chat");
    assert_string_equal(f->a.source, "ws-7");
    assert_string_equal(f->a.data, "hello");
    assert_int_equal(f->a.external, 1);
    pthread_mutex_unlock(&f->a.mu);
    gt_sleep_ms(100);
    assert_int_equal(gt_counter_get(&f->b.n), 0); /* only the target */
}

static void test_emit_to_errors(void **state)
{
    fixture *f = *state;
    genesis_result *res = NULL;
    assert_status(genesis_client_emit_to(f->cl, "nobody", "chat", "x", 1, NULL, &res),
                  GENESIS_NOT_FOUND);
    assert_result(res, GENESIS_NOT_FOUND, GENESIS_REASON_NOT_FOUND);
    genesis_result_free(res);
    assert_status(genesis_client_emit_to(f->cl, "mute", "chat", "x", 1, NULL, &res),
                  GENESIS_FAILED_PRECONDITION);
    assert_result(res, GENESIS_FAILED_PRECONDITION, GENESIS_REASON_NO_HANDLER);
    genesis_result_free(res);
    assert_status(genesis_client_emit_to(f->cl, "bad id", "chat", "x", 1, NULL, &res),
                  GENESIS_INVALID_ARGUMENT);
    genesis_result_free(res);
    assert_status(genesis_client_emit_to(f->cl, NULL, "chat", "x", 1, NULL, &res),
                  GENESIS_INVALID_ARGUMENT);
    assert_null(res);
    assert_status(genesis_client_emit_to(f->cl, "", "chat", "x", 1, NULL, NULL),
                  GENESIS_INVALID_ARGUMENT);
}

static void test_emit_to_remote_component(void **state)
{
    fixture *f = *state;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_request,
                              .on_event = on_event,
                              .arg = &f->svc_sink};
    genesis_service *svc = NULL;
    char url[512];
    gt_ipc_url(url, sizeof(url), f->dir, "svc");
    assert_ok(genesis_service_new(&svc, "remote1", &comp, NULL));
    assert_ok(genesis_service_listen(svc, url));
    assert_ok(genesis_service_connect(svc, f->front, f->bus, 5000));
    /* The bus subscription is asynchronous (NNG pub/sub): retry until one arrives. */
    genesis_call_options opts;
    assert_ok(genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION));
    opts.source = "ws-9";
    bool got = false;
    for (int i = 0; i < 100 && !got; i++) {
        assert_ok(genesis_client_emit_to(f->cl, "remote1", "hello-remote", "r", 1, &opts, NULL));
        got = gt_counter_wait(&f->svc_sink.n, 1, 50);
    }
    assert_true(got);
    pthread_mutex_lock(&f->svc_sink.mu);
    assert_string_equal(f->svc_sink.type, "hello-remote");
    assert_string_equal(f->svc_sink.source, "ws-9");
    assert_int_equal(f->svc_sink.external, 1);
    pthread_mutex_unlock(&f->svc_sink.mu);
    assert_int_equal(gt_counter_get(&f->a.n), 0);
    genesis_service_free(svc);
}

static void test_emit_external_reaches_subscribers_only(void **state)
{
    fixture *f = *state;
    assert_ok(genesis_client_subscribe(f->cl, "external:", on_event, &f->sub));
    genesis_call_options opts;
    assert_ok(genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION));
    opts.source = "ws-3";
    bool got = false;
    for (int i = 0; i < 100 && !got; i++) {
        assert_ok(genesis_coordinator_emit_external(f->co, "news", "n", 1, &opts));
        got = gt_counter_wait(&f->sub.n, 1, 50);
    }
    assert_true(got);
    pthread_mutex_lock(&f->sub.mu);
    assert_string_equal(f->sub.type, "news");
    assert_string_equal(f->sub.source, "ws-3");
    assert_int_equal(f->sub.external, 1);
    pthread_mutex_unlock(&f->sub.mu);
    assert_int_equal(gt_counter_get(&f->a.n), 0);
    assert_int_equal(gt_counter_get(&f->b.n), 0);
    assert_status(genesis_coordinator_emit_external(NULL, "news", "n", 1, NULL),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_emit_external(f->co, "bad type", "n", 1, NULL),
                  GENESIS_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_emit_to_in_process_component, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emit_to_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emit_to_remote_component, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emit_external_reaches_subscribers_only, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
