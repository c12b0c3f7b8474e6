/* Components that declare themselves non-blocking (GENESIS_COMPONENT_NONBLOCKING): the handler
 * runs on the calling thread, async completions still run on a worker, the bulkhead still
 * bounds it, and the per-try timeout still decides the outcome of a handler that overran it.
 * No sockets. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_wait.h"

typedef struct comp {
    pthread_t handler_thread; /* the thread of the last handler call */
    atomic_int calls;
    gt_gate gate;        /* "block" waits on it */
    gt_counter in_block; /* "block" handlers entered */
} comp;

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    comp *k = arg;
    k->handler_thread = pthread_self();
    atomic_fetch_add(&k->calls, 1);
    const char *type = genesis_request_type(req);
    if (strcmp(type, "block") == 0) {
        gt_counter_add(&k->in_block, 1);
        gt_gate_wait(&k->gate, GT_WAIT_MS);
    } else if (strcmp(type, "overrun") == 0) {
        /* Returns only once its per-try deadline has passed: a handler that overran. */
        while (genesis_request_remaining_ms(req) > 0)
            gt_sleep_ms(1);
    }
    genesis_reply_set(reply, "pong", 4, "text/plain");
}

typedef struct fixture {
    genesis_coordinator *c;
    comp k;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    gt_gate_init(&f->k.gate);
    gt_counter_init(&f->k.in_block);
    genesis_coordinator_options o;
    assert_ok(genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION));
    o.log_level = GENESIS_LOG_ERROR;
    assert_ok(genesis_coordinator_new(&f->c, &o));
    genesis_component spec = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_request,
                              .arg = &f->k,
                              .flags = GENESIS_COMPONENT_NONBLOCKING};
    assert_ok(genesis_coordinator_register(f->c, "fast", &spec));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gt_gate_open(&f->k.gate);
    genesis_coordinator_free(f->c);
    gt_gate_destroy(&f->k.gate);
    gt_counter_destroy(&f->k.in_block);
    free(f);
    return 0;
}

static void test_sync_request_runs_on_the_caller(void **state)
{
    fixture *f = *state;
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(f->c, "fast", "ping", NULL, 0, NULL, &res));
    assert_result_ok(res);
    genesis_result_free(res);
    assert_true(pthread_equal(f->k.handler_thread, pthread_self()));
}

typedef struct recorder {
    gt_counter calls;
    pthread_t thread;
    int status;
} recorder;

static void on_result(genesis_result *res, void *arg)
{
    recorder *r = arg;
    r->thread = pthread_self();
    r->status = genesis_result_status(res);
    genesis_result_free(res);
    gt_counter_add(&r->calls, 1);
}

static void test_async_completion_still_runs_on_a_worker(void **state)
{
    fixture *f = *state;
    recorder r = {.status = -1};
    gt_counter_init(&r.calls);
    assert_ok(
        genesis_coordinator_request_async(f->c, "fast", "ping", NULL, 0, NULL, on_result, &r));
    assert_true(gt_counter_wait(&r.calls, 1, GT_WAIT_MS));
    assert_int_equal(r.status, GENESIS_OK);
    assert_true(pthread_equal(f->k.handler_thread, pthread_self())); /* the handler: inline */
    assert_false(pthread_equal(r.thread, pthread_self()));           /* the completion: not */
    assert_ok(genesis_coordinator_stop(f->c));
    assert_int_equal(gt_counter_get(&r.calls), 1);
    gt_counter_destroy(&r.calls);
}

static void *blocking_request(void *arg)
{
    fixture *f = arg;
    genesis_result *res = NULL;
    genesis_coordinator_request(f->c, "fast", "block", NULL, 0, NULL, &res);
    genesis_result_free(res);
    return NULL;
}

/* With its one running slot taken, the next request is not run inline: it waits in the
 * bulkhead's queue and runs on a worker once the slot is free. */
static void test_bulkhead_still_bounds_inline_handlers(void **state)
{
    fixture *f = *state;
    genesis_policy p;
    assert_ok(genesis_coordinator_get_policy(f->c, "fast", &p));
    p.max_concurrency = 1;
    assert_ok(genesis_coordinator_set_policy(f->c, "fast", &p));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocking_request, f), 0);
    assert_true(gt_counter_wait(&f->k.in_block, 1, GT_WAIT_MS));
    recorder r = {.status = -1};
    gt_counter_init(&r.calls);
    assert_ok(
        genesis_coordinator_request_async(f->c, "fast", "ping", NULL, 0, NULL, on_result, &r));
    assert_int_equal(atomic_load(&f->k.calls), 1); /* queued, not run */
    gt_gate_open(&f->k.gate);
    assert_true(gt_counter_wait(&r.calls, 1, GT_WAIT_MS));
    assert_int_equal(r.status, GENESIS_OK);
    assert_false(pthread_equal(f->k.handler_thread, pthread_self())); /* on a worker */
    pthread_join(t, NULL);
    gt_counter_destroy(&r.calls);
}

/* The timer cannot abandon an inline handler, but the outcome is the timeout's: the reply
 * that came too late is discarded and counted. */
static void test_handler_past_its_per_try_timeout_fails_the_attempt(void **state)
{
    fixture *f = *state;
    genesis_policy p;
    assert_ok(genesis_coordinator_get_policy(f->c, "fast", &p));
    p.per_try_timeout_ms = 20;
    p.max_attempts = 1;
    assert_ok(genesis_coordinator_set_policy(f->c, "fast", &p));
    genesis_result *res = NULL;
    genesis_coordinator_request(f->c, "fast", "overrun", NULL, 0, NULL, &res);
    assert_result(res, GENESIS_DEADLINE_EXCEEDED, GENESIS_REASON_TIMEOUT);
    assert_non_null(strstr(genesis_result_message(res), "per-try timeout"));
    genesis_result_free(res);
    genesis_coordinator_stats s = {.version = GENESIS_COORDINATOR_STATS_VERSION};
    assert_ok(genesis_coordinator_get_stats(f->c, &s));
    assert_int_equal(s.late_replies, 1);
}

/* A version 2 struct has no flags: the handler runs on a worker as before. */
static void test_version_2_component_runs_on_a_worker(void **state)
{
    fixture *f = *state;
    comp k2 = {0};
    gt_gate_init(&k2.gate);
    gt_counter_init(&k2.in_block);
    genesis_component spec = {.version = 2, .on_request = on_request, .arg = &k2};
    assert_ok(genesis_coordinator_register(f->c, "old", &spec));
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(f->c, "old", "ping", NULL, 0, NULL, &res));
    genesis_result_free(res);
    assert_false(pthread_equal(k2.handler_thread, pthread_self()));
    assert_ok(genesis_coordinator_unregister(f->c, "old"));
    gt_gate_destroy(&k2.gate);
    gt_counter_destroy(&k2.in_block);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_sync_request_runs_on_the_caller),
        T(test_async_completion_still_runs_on_a_worker),
        T(test_bulkhead_still_bounds_inline_handlers),
        T(test_handler_past_its_per_try_timeout_fails_the_attempt),
        T(test_version_2_component_runs_on_a_worker),
    };
#undef T
    return cmocka_run_group_tests_name("inline", tests, NULL, NULL);
}
