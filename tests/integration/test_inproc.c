/* In-process components through the public API: requests, events, deadlines, bulkheads,
 * unregister and stop semantics, stats and the status report. No sockets. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_wait.h"

/* Requests that block use this deadline so only the test decides when they end. */
#define LONG_TIMEOUT_MS 30000u

/* ---- a test component ----------------------------------------------------------------------
 * Request types: ping -> "Pong from <id>"; echo -> payload back; block -> waits for the gate;
 * fail -> PERMISSION_DENIED "nope"; deadline -> "<remaining ms>"; big -> tries to reply with
 * more than the coordinator's message limit; unregister-self -> unregisters its own id. */

#define MAX_LOGGED_EVENTS 64

typedef struct comp {
    const char *id;
    genesis_coordinator *c;
    gt_counter started;      /* handlers entered */
    gt_counter finished;     /* handlers about to return */
    gt_gate gate;            /* "block" waits on it */
    atomic_int flag_at_exit; /* value of *watch when the last "block" handler ended, or -1 */
    atomic_bool *watch;      /* sampled at the end of "block" handlers; may be NULL */
    atomic_int reply_rv;     /* genesis_reply_set's return in "big" */
    atomic_int self_unregister_rv;
    atomic_uint remaining_ms; /* what "deadline" saw */

    gt_counter events_entered; /* on_event calls started */
    gt_counter events;         /* on_event calls finished */
    atomic_bool block_events;  /* on_event waits on event_gate */
    gt_gate event_gate;
    pthread_mutex_t mu; /* guards the event log and last_source */
    char event_types[MAX_LOGGED_EVENTS][32];
    char event_sources[MAX_LOGGED_EVENTS][32];
    char event_data[MAX_LOGGED_EVENTS][32];
    uint64_t event_seqs[MAX_LOGGED_EVENTS];
    int event_external[MAX_LOGGED_EVENTS];
    size_t n_logged;
    char last_source[64];
} comp;

static void reply_text(genesis_reply *reply, const char *text)
{
    int rv = genesis_reply_set(reply, text, strlen(text), "text/plain");
    if (rv != GENESIS_OK)
        genesis_reply_error(reply, GENESIS_INTERNAL, "genesis_reply_set failed");
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    comp *k = arg;
    gt_counter_add(&k->started, 1);
    const char *type = genesis_request_type(req);
    char text[128];
    pthread_mutex_lock(&k->mu);
    snprintf(k->last_source, sizeof(k->last_source), "%s", genesis_request_source(req));
    pthread_mutex_unlock(&k->mu);

    if (strcmp(type, "ping") == 0) {
        snprintf(text, sizeof(text), "Pong from %s", k->id);
        reply_text(reply, text);
    } else if (strcmp(type, "echo") == 0) {
        size_t len = 0;
        const void *data = genesis_request_data(req, &len);
        genesis_reply_set(reply, data, len, genesis_request_content_type(req));
    } else if (strcmp(type, "block") == 0) {
        bool opened = gt_gate_wait(&k->gate, GT_WAIT_MS);
        if (k->watch != NULL)
            atomic_store(&k->flag_at_exit, atomic_load(k->watch) ? 1 : 0);
        reply_text(reply, opened ? "unblocked" : "gate never opened");
    } else if (strcmp(type, "fail") == 0) {
        genesis_reply_error(reply, GENESIS_PERMISSION_DENIED, "nope: the test says no");
    } else if (strcmp(type, "deadline") == 0) {
        atomic_store(&k->remaining_ms, genesis_request_remaining_ms(req));
        reply_text(reply, "ok");
    } else if (strcmp(type, "big") == 0) {
        static char big[8192];
        atomic_store(&k->reply_rv, genesis_reply_set(reply, big, sizeof(big), NULL));
    } else if (strcmp(type, "unregister-self") == 0) {
        atomic_store(&k->self_unregister_rv, genesis_coordinator_unregister(k->c, k->id));
        reply_text(reply, "gone");
    } else {
        genesis_reply_error(reply, GENESIS_UNIMPLEMENTED, "unknown request type");
    }
    gt_counter_add(&k->finished, 1);
}

static void on_event(const genesis_event *ev, void *arg)
{
    comp *k = arg;
    gt_counter_add(&k->events_entered, 1);
    if (atomic_load(&k->block_events))
        gt_gate_wait(&k->event_gate, GT_WAIT_MS);
    pthread_mutex_lock(&k->mu);
    if (k->n_logged < MAX_LOGGED_EVENTS) {
        size_t i = k->n_logged++;
        size_t len = 0;
        const char *data = genesis_event_data(ev, &len);
        snprintf(k->event_types[i], sizeof(k->event_types[i]), "%s", genesis_event_type(ev));
        snprintf(k->event_sources[i], sizeof(k->event_sources[i]), "%s", genesis_event_source(ev));
        snprintf(k->event_data[i], sizeof(k->event_data[i]), "%.*s", (int)len, data);
        k->event_seqs[i] = genesis_event_sequence(ev);
        k->event_external[i] = genesis_event_is_external(ev);
    }
    pthread_mutex_unlock(&k->mu);
    gt_counter_add(&k->events, 1);
}

static void comp_init(comp *k, const char *id)
{
    memset(k, 0, sizeof(*k));
    k->id = id;
    gt_counter_init(&k->started);
    gt_counter_init(&k->finished);
    gt_counter_init(&k->events_entered);
    gt_counter_init(&k->events);
    gt_gate_init(&k->gate);
    gt_gate_init(&k->event_gate);
    pthread_mutex_init(&k->mu, NULL);
    atomic_init(&k->flag_at_exit, -1);
    atomic_init(&k->reply_rv, -1);
    atomic_init(&k->self_unregister_rv, -1);
}

static void comp_destroy(comp *k)
{
    gt_counter_destroy(&k->started);
    gt_counter_destroy(&k->finished);
    gt_counter_destroy(&k->events_entered);
    gt_counter_destroy(&k->events);
    gt_gate_destroy(&k->gate);
    gt_gate_destroy(&k->event_gate);
    pthread_mutex_destroy(&k->mu);
}

/* ---- completion recorder for async requests ------------------------------------------------ */

typedef struct recorder {
    gt_counter calls;
    pthread_mutex_t mu;
    pthread_t starter; /* the thread that started the calls */
    int on_starter;    /* callbacks that ran on the starter thread (must stay 0) */
    int by_status[GENESIS_UNAUTHENTICATED + 1];
    int by_reason[GENESIS_REASON_TIMEOUT + 1];
    atomic_bool *watch; /* sampled in the callback; may be NULL */
    int flag_at_call;   /* last sample of *watch: -1 none, 0, 1 */
} recorder;

static void recorder_init(recorder *r)
{
    memset(r, 0, sizeof(*r));
    gt_counter_init(&r->calls);
    pthread_mutex_init(&r->mu, NULL);
    r->starter = pthread_self();
    r->flag_at_call = -1;
}

static void recorder_destroy(recorder *r)
{
    gt_counter_destroy(&r->calls);
    pthread_mutex_destroy(&r->mu);
}

static void on_result(genesis_result *res, void *arg)
{
    recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    if (pthread_equal(pthread_self(), r->starter))
        r->on_starter++;
    int st = genesis_result_status(res), rs = genesis_result_reason(res);
    if (st >= 0 && st <= GENESIS_UNAUTHENTICATED)
        r->by_status[st]++;
    if (rs >= 0 && rs <= GENESIS_REASON_TIMEOUT)
        r->by_reason[rs]++;
    if (r->watch != NULL)
        r->flag_at_call = atomic_load(r->watch) ? 1 : 0;
    pthread_mutex_unlock(&r->mu);
    genesis_result_free(res);
    gt_counter_add(&r->calls, 1);
}

static int recorded(recorder *r, int status)
{
    pthread_mutex_lock(&r->mu);
    int n = r->by_status[status];
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- fixture -------------------------------------------------------------------------------- */

#define MAX_RECORDERS 4

typedef struct fixture {
    genesis_coordinator *c;
    comp comp1, comp2;
    /* Recorders live in the fixture, not on a test's stack: if an assertion fails while
     * calls are outstanding, their callbacks still land on valid memory until teardown has
     * freed the coordinator. */
    recorder rec[MAX_RECORDERS];
    unsigned n_rec;
    /* A background unregister/stop call (owned here so a failed test cannot leave a thread
     * writing into its dead stack frame; teardown joins it). */
    pthread_t bg;
    bool bg_started;
    const char *bg_id;
    int bg_rv;
    atomic_bool returned; /* set when the background call returned */
} fixture;

static recorder *new_recorder(fixture *f)
{
    if (f->n_rec == MAX_RECORDERS)
        fail_msg("test uses more than %d recorders", MAX_RECORDERS);
    recorder *r = &f->rec[f->n_rec++];
    recorder_init(r);
    return r;
}

static void start_coordinator(fixture *f, const genesis_coordinator_options *opts)
{
    genesis_coordinator_free(f->c);
    f->c = NULL;
    assert_ok(genesis_coordinator_new(&f->c, opts));
    f->comp1.c = f->c;
    f->comp2.c = f->c;
    genesis_component c1 = {.version = GENESIS_COMPONENT_VERSION,
                            .on_request = on_request,
                            .on_event = on_event,
                            .arg = &f->comp1};
    genesis_component c2 = c1;
    c2.arg = &f->comp2;
    assert_ok(genesis_coordinator_register(f->c, "comp1", &c1));
    assert_ok(genesis_coordinator_register(f->c, "comp2", &c2));
}

static genesis_coordinator_options small_options(void)
{
    genesis_coordinator_options o;
    if (genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION) != GENESIS_OK)
        fail_msg("genesis_coordinator_options_init failed");
    return o;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    comp_init(&f->comp1, "comp1");
    comp_init(&f->comp2, "comp2");
    *state = f;
    start_coordinator(f, NULL);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    /* Release anything a failed test left blocked, so stop/free cannot hang on it. */
    gt_gate_open(&f->comp1.gate);
    gt_gate_open(&f->comp2.gate);
    gt_gate_open(&f->comp1.event_gate);
    gt_gate_open(&f->comp2.event_gate);
    if (f->bg_started)
        pthread_join(f->bg, NULL);
    genesis_coordinator_free(f->c);
    for (unsigned i = 0; i < f->n_rec; i++)
        recorder_destroy(&f->rec[i]);
    comp_destroy(&f->comp1);
    comp_destroy(&f->comp2);
    free(f);
    return 0;
}

static genesis_call_options call_opts(uint32_t timeout_ms, const char *source)
{
    genesis_call_options o;
    if (genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION) != GENESIS_OK)
        fail_msg("genesis_call_options_init failed");
    o.timeout_ms = timeout_ms;
    o.source = source;
    return o;
}

static genesis_coordinator_stats get_stats(genesis_coordinator *c)
{
    genesis_coordinator_stats st;
    memset(&st, 0, sizeof(st));
    st.version = GENESIS_COORDINATOR_STATS_VERSION;
    assert_ok(genesis_coordinator_get_stats(c, &st));
    return st;
}

static void assert_payload(const genesis_result *res, const char *text)
{
    size_t len = 0;
    const char *data = genesis_result_data(res, &len);
    assert_non_null(data);
    if (len != strlen(text) || memcmp(data, text, len) != 0)
        fail_msg("payload is \"%.*s\" (%zu bytes), expected \"%s\"", (int)len, data, len, text);
    assert_int_equal(data[len], '\0'); /* documented: NUL-terminated */
}

/* The status report of c, parsed. */
static json_t *status_json(genesis_coordinator *c)
{
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_status(c, &res));
    assert_result_ok(res);
    assert_string_equal(genesis_result_content_type(res), "application/json");
    size_t len = 0;
    const char *text = genesis_result_data(res, &len);
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (doc == NULL)
        fail_msg("status is not JSON (%s at %d): %.*s", err.text, err.position, (int)len, text);
    genesis_result_free(res);
    return doc;
}

static json_t *find_component(json_t *doc, const char *id)
{
    json_t *comps = json_object_get(doc, "components");
    if (!json_is_array(comps))
        fail_msg("status report has no \"components\" array");
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *cid = json_string_value(json_object_get(c, "id"));
        if (cid != NULL && strcmp(cid, id) == 0)
            return c;
    }
    return NULL;
}

static long long json_int_field(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v))
        fail_msg("status field \"%s\" is missing or not an integer", name);
    return (long long)json_integer_value(v);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_ping_and_echo(void **state)
{
    fixture *f = *state;
    genesis_call_options o = call_opts(5000, "comp1");
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, &o, &res));
    assert_result_ok(res);
    assert_payload(res, "Pong from comp2");
    assert_string_equal(genesis_result_content_type(res), "text/plain");
    assert_string_equal(genesis_result_message(res), "");
    genesis_result_free(res);
    pthread_mutex_lock(&f->comp2.mu);
    assert_string_equal(f->comp2.last_source, "comp1");
    pthread_mutex_unlock(&f->comp2.mu);

    /* Binary payload with NULs, and a content type, come back byte for byte. */
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i % 7 == 0 ? 0 : i);
    o.content_type = "application/x-bytes";
    assert_ok(genesis_coordinator_request(f->c, "comp1", "echo", data, sizeof(data), &o, &res));
    assert_result_ok(res);
    size_t len = 0;
    const void *got = genesis_result_data(res, &len);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(got, data, sizeof(data));
    assert_string_equal(genesis_result_content_type(res), "application/x-bytes");
    genesis_result_free(res);

    /* NULL options and an empty payload. */
    assert_ok(genesis_coordinator_request(f->c, "comp1", "echo", NULL, 0, NULL, &res));
    assert_result_ok(res);
    assert_payload(res, "");
    genesis_result_free(res);

    /* out may be NULL: the status alone. */
    assert_ok(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, NULL, NULL));

    genesis_coordinator_stats st = get_stats(f->c);
    assert_int_equal(st.requests, 4);
    assert_int_equal(st.succeeded, 4);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.components, 2);
}

static void test_deadline_propagates_to_handler(void **state)
{
    fixture *f = *state;
    genesis_call_options o = call_opts(5000, NULL);
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(f->c, "comp1", "deadline", NULL, 0, &o, &res));
    assert_result_ok(res);
    genesis_result_free(res);
    unsigned remaining = atomic_load(&f->comp1.remaining_ms);
    if (remaining == 0 || remaining > 5000)
        fail_msg("handler saw %u ms remaining of a 5000 ms deadline", remaining);
}

static void test_event_reaches_others_not_source(void **state)
{
    fixture *f = *state;
    genesis_call_options o = call_opts(0, "comp1");
    o.content_type = "application/json";
    unsigned delivered = 99, dropped = 99;
    assert_ok(genesis_coordinator_emit(f->c, "test.evt", "{\"x\":1}", 7, &o, &delivered, &dropped));
    assert_int_equal(delivered, 1); /* comp2 only: comp1 is the source */
    assert_int_equal(dropped, 0);
    assert_true(gt_counter_wait(&f->comp2.events, 1, GT_WAIT_MS));

    /* Now comp2 emits: comp1 receives it. Events for one receiver arrive in order, so if
     * comp1 had been sent its own event, that would be its first one. */
    o.source = "comp2";
    assert_ok(genesis_coordinator_emit(f->c, "second.evt", "{}", 2, &o, &delivered, NULL));
    assert_int_equal(delivered, 1);
    assert_true(gt_counter_wait(&f->comp1.events, 1, GT_WAIT_MS));

    pthread_mutex_lock(&f->comp2.mu);
    assert_int_equal(f->comp2.n_logged, 1);
    assert_string_equal(f->comp2.event_types[0], "test.evt");
    assert_string_equal(f->comp2.event_sources[0], "comp1");
    assert_string_equal(f->comp2.event_data[0], "{\"x\":1}");
    assert_int_equal(f->comp2.event_external[0], 0);
    uint64_t first_seq = f->comp2.event_seqs[0];
    pthread_mutex_unlock(&f->comp2.mu);

    pthread_mutex_lock(&f->comp1.mu);
    assert_string_equal(f->comp1.event_types[0], "second.evt");
    assert_string_equal(f->comp1.event_sources[0], "comp2");
    assert_true(f->comp1.event_seqs[0] > first_seq); /* per-coordinator emit number */
    pthread_mutex_unlock(&f->comp1.mu);

    /* No source: everyone gets it. */
    assert_ok(genesis_coordinator_emit(f->c, "all.evt", NULL, 0, NULL, &delivered, &dropped));
    assert_int_equal(delivered, 2);
    assert_int_equal(dropped, 0);
    assert_true(gt_counter_wait(&f->comp1.events, 2, GT_WAIT_MS));
    assert_true(gt_counter_wait(&f->comp2.events, 2, GT_WAIT_MS));

    genesis_coordinator_stats st = get_stats(f->c);
    assert_int_equal(st.events_emitted, 3);
    assert_int_equal(st.events_delivered, 4);
    assert_int_equal(st.events_dropped, 0);

    /* Invalid event types are refused. */
    assert_status(genesis_coordinator_emit(f->c, "bad type", NULL, 0, NULL, NULL, NULL),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_emit(f->c, NULL, NULL, 0, NULL, NULL, NULL),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_emit(f->c, "", NULL, 0, NULL, NULL, NULL),
                  GENESIS_INVALID_ARGUMENT);
}

static void test_async_callback_runs_once_on_another_thread(void **state)
{
    fixture *f = *state;
    recorder *r = new_recorder(f);
    genesis_call_options o = call_opts(5000, NULL);
    assert_ok(genesis_coordinator_request_async(f->c, "comp2", "ping", NULL, 0, &o, on_result, r));
    assert_true(gt_counter_wait(&r->calls, 1, GT_WAIT_MS));
    /* Failures are delivered through the callback too, also when immediate. */
    assert_ok(genesis_coordinator_request_async(f->c, "nosuch", "ping", NULL, 0, &o, on_result, r));
    assert_true(gt_counter_wait(&r->calls, 2, GT_WAIT_MS));

    /* Bad parameters: an error return and no callback. */
    assert_status(genesis_coordinator_request_async(f->c, "comp2", "ping", NULL, 0, &o, NULL, r),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_request_async(f->c, NULL, "ping", NULL, 0, &o, on_result, r),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_request_async(f->c, "comp2", NULL, NULL, 0, &o, on_result, r),
                  GENESIS_INVALID_ARGUMENT);
    assert_status(
        genesis_coordinator_request_async(f->c, "comp2", "echo", NULL, 5, &o, on_result, r),
        GENESIS_INVALID_ARGUMENT);

    /* After stop no callback can be outstanding: exactly the two calls happened. */
    assert_ok(genesis_coordinator_stop(f->c));
    assert_int_equal(gt_counter_get(&r->calls), 2);
    assert_int_equal(recorded(r, GENESIS_OK), 1);
    assert_int_equal(recorded(r, GENESIS_NOT_FOUND), 1);
    assert_int_equal(r->on_starter, 0);
}

static void test_unknown_target_and_bad_parameters(void **state)
{
    fixture *f = *state;
    genesis_result *res = NULL;
    assert_status(genesis_coordinator_request(f->c, "nosuch", "ping", NULL, 0, NULL, &res),
                  GENESIS_NOT_FOUND);
    assert_result(res, GENESIS_NOT_FOUND, GENESIS_REASON_NOT_FOUND);
    if (strstr(genesis_result_message(res), "nosuch") == NULL)
        fail_msg("NOT_FOUND message should name the target: \"%s\"", genesis_result_message(res));
    genesis_result_free(res);

    /* Bad parameters: INVALID_ARGUMENT, and *out is either NULL or says the same. */
    static const char *const bad_targets[] = {"", "has space", "a/b", NULL};
    for (size_t i = 0; i < 4; i++) {
        res = NULL;
        assert_status(
            genesis_coordinator_request(f->c, bad_targets[i], "ping", NULL, 0, NULL, &res),
            GENESIS_INVALID_ARGUMENT);
        if (res != NULL)
            assert_result(res, GENESIS_INVALID_ARGUMENT, GT_ANY_REASON);
        genesis_result_free(res);
    }
    res = NULL;
    assert_status(genesis_coordinator_request(f->c, "comp1", "bad type", NULL, 0, NULL, &res),
                  GENESIS_INVALID_ARGUMENT);
    genesis_result_free(res);
    res = NULL;
    assert_status(genesis_coordinator_request(NULL, "comp1", "ping", NULL, 0, NULL, &res),
                  GENESIS_INVALID_ARGUMENT);
    genesis_result_free(res);

    /* Nothing reached a handler. */
    assert_int_equal(gt_counter_get(&f->comp1.started), 0);
}

static void test_register_rules(void **state)
{
    fixture *f = *state;
    comp extra;
    comp_init(&extra, "comp1");
    genesis_component cb = {
        .version = GENESIS_COMPONENT_VERSION, .on_request = on_request, .arg = &extra};
    assert_status(genesis_coordinator_register(f->c, "comp1", &cb), GENESIS_ALREADY_EXISTS);
    assert_true(genesis_last_error()[0] != '\0');
    assert_status(genesis_coordinator_register(f->c, "bad id", &cb), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_register(f->c, "", &cb), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_register(f->c, NULL, &cb), GENESIS_INVALID_ARGUMENT);
    assert_status(genesis_coordinator_register(f->c, "comp3", NULL), GENESIS_INVALID_ARGUMENT);
    genesis_component no_handler = {.version = GENESIS_COMPONENT_VERSION, .arg = &extra};
    assert_status(genesis_coordinator_register(f->c, "comp3", &no_handler),
                  GENESIS_INVALID_ARGUMENT);
    genesis_component bad_version = cb;
    bad_version.version = GENESIS_COMPONENT_VERSION + 1;
    assert_status(genesis_coordinator_register(f->c, "comp3", &bad_version),
                  GENESIS_INVALID_ARGUMENT);

    /* The original comp1 still answers, not the rejected duplicate. */
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(f->c, "comp1", "ping", NULL, 0, NULL, &res));
    assert_payload(res, "Pong from comp1");
    genesis_result_free(res);
    assert_int_equal(gt_counter_get(&extra.started), 0);

    /* Unregister, then the id can be taken again. */
    assert_ok(genesis_coordinator_unregister(f->c, "comp1"));
    assert_status(genesis_coordinator_unregister(f->c, "comp1"), GENESIS_NOT_FOUND);
    assert_ok(genesis_coordinator_register(f->c, "comp1", &cb));
    extra.id = "comp1-again";
    assert_ok(genesis_coordinator_request(f->c, "comp1", "ping", NULL, 0, NULL, &res));
    assert_payload(res, "Pong from comp1-again");
    genesis_result_free(res);
    assert_ok(genesis_coordinator_unregister(f->c, "comp1"));
    comp_destroy(&extra);
}

static void test_handler_error_passes_through(void **state)
{
    fixture *f = *state;
    genesis_result *res = NULL;
    genesis_call_options o = call_opts(5000, NULL);
    assert_status(genesis_coordinator_request(f->c, "comp2", "fail", NULL, 0, &o, &res),
                  GENESIS_PERMISSION_DENIED);
    assert_result(res, GENESIS_PERMISSION_DENIED, GENESIS_REASON_HANDLER_ERROR);
    if (strstr(genesis_result_message(res), "nope: the test says no") == NULL)
        fail_msg("handler's message lost: \"%s\"", genesis_result_message(res));
    genesis_result_free(res);
    /* A non-retryable handler error reaches the handler once. */
    assert_int_equal(gt_counter_get(&f->comp2.started), 1);

    /* The handler's own type rejection is passed on too. */
    assert_status(genesis_coordinator_request(f->c, "comp2", "no-such-type", NULL, 0, &o, &res),
                  GENESIS_UNIMPLEMENTED);
    assert_result(res, GENESIS_UNIMPLEMENTED, GENESIS_REASON_HANDLER_ERROR);
    genesis_result_free(res);

    genesis_coordinator_stats st = get_stats(f->c);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.rejected, 0); /* both reached the handler */
}

static void test_reply_larger_than_limit_is_refused(void **state)
{
    fixture *f = *state;
    genesis_coordinator_options opts = small_options();
    opts.max_message_size = 4096;
    start_coordinator(f, &opts);
    genesis_result *res = NULL;
    int rv = genesis_coordinator_request(f->c, "comp1", "big", NULL, 0, NULL, &res);
    assert_status(atomic_load(&f->comp1.reply_rv), GENESIS_RESOURCE_EXHAUSTED);
    /* Whatever the caller sees (the handler's failed set leaves the reply empty), it never
     * receives more than the limit. */
    assert_non_null(res);
    size_t len = 0;
    genesis_result_data(res, &len);
    if (len > 4096)
        fail_msg("caller received %zu bytes (%s) past the 4096-byte limit", len,
                 genesis_status_name(rv));
    genesis_result_free(res);

    /* A request payload over the limit is refused before any handler. */
    static char big[8192];
    res = NULL;
    assert_status(genesis_coordinator_request(f->c, "comp1", "echo", big, sizeof(big), NULL, &res),
                  GENESIS_RESOURCE_EXHAUSTED);
    assert_result(res, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_MESSAGE_TOO_LARGE);
    genesis_result_free(res);
    assert_int_equal(gt_counter_get(&f->comp1.started), 1); /* only "big" ran */
}

static bool late_reply_counted(void *arg)
{
    return get_stats(arg).late_replies >= 1;
}

static void test_slow_handler_times_out_without_blocking_others(void **state)
{
    fixture *f = *state;
    genesis_call_options o = call_opts(200, "test");
    genesis_result *res = NULL;
    assert_status(genesis_coordinator_request(f->c, "comp1", "block", NULL, 0, &o, &res),
                  GENESIS_DEADLINE_EXCEEDED);
    assert_non_null(res);
    int reason = genesis_result_reason(res);
    if (reason != GENESIS_REASON_DEADLINE_EXCEEDED && reason != GENESIS_REASON_TIMEOUT)
        fail_msg("deadline failure has reason %s: %s", genesis_reason_name(reason),
                 genesis_result_message(res));
    genesis_result_free(res);
    /* The caller got its answer while the handler is still stuck. */
    assert_int_equal(gt_counter_get(&f->comp1.started), 1);
    assert_int_equal(gt_counter_get(&f->comp1.finished), 0);

    /* Fill comp1 up to its concurrency limit (default 16) with stuck handlers: comp2 must
     * still be served, so blocked handlers do not starve the worker pool. */
    recorder *r = new_recorder(f);
    genesis_call_options slow = call_opts(LONG_TIMEOUT_MS, "test");
    for (int i = 0; i < 15; i++)
        assert_ok(genesis_coordinator_request_async(f->c, "comp1", "block", NULL, 0, &slow,
                                                    on_result, r));
    if (!gt_counter_wait(&f->comp1.started, 16, GT_WAIT_MS))
        fail_msg("only %ld of 16 comp1 handlers started", gt_counter_get(&f->comp1.started));
    o.timeout_ms = 5000;
    for (int i = 0; i < 5; i++) {
        assert_ok(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, &o, &res));
        assert_payload(res, "Pong from comp2");
        genesis_result_free(res);
    }
    assert_int_equal(gt_counter_get(&f->comp1.finished), 0);

    gt_gate_open(&f->comp1.gate);
    assert_true(gt_counter_wait(&r->calls, 15, GT_WAIT_MS));
    assert_int_equal(recorded(r, GENESIS_OK), 15);
    assert_true(gt_counter_wait(&f->comp1.finished, 16, GT_WAIT_MS));

    /* The first handler's reply came after its deadline: counted as late, once. */
    assert_true(gt_wait_until(late_reply_counted, f->c, GT_WAIT_MS));
    genesis_coordinator_stats st = get_stats(f->c);
    assert_int_equal(st.late_replies, 1);
    assert_int_equal(st.timed_out, 1);
}

static void test_bulkhead_full(void **state)
{
    fixture *f = *state;
    genesis_coordinator_options opts = small_options();
    opts.max_concurrency = 2;
    opts.max_queued_requests = 2;
    start_coordinator(f, &opts);

    recorder *r = new_recorder(f);
    genesis_call_options slow = call_opts(LONG_TIMEOUT_MS, "test");
    for (int i = 0; i < 2; i++)
        assert_ok(genesis_coordinator_request_async(f->c, "comp1", "block", NULL, 0, &slow,
                                                    on_result, r));
    assert_true(gt_counter_wait(&f->comp1.started, 2, GT_WAIT_MS));
    for (int i = 0; i < 2; i++)
        assert_ok(genesis_coordinator_request_async(f->c, "comp1", "block", NULL, 0, &slow,
                                                    on_result, r));

    /* Two running, two queued: the status report says so. */
    json_t *doc = status_json(f->c);
    json_t *c1 = find_component(doc, "comp1");
    assert_non_null(c1);
    assert_int_equal(json_int_field(c1, "in_flight"), 2);
    assert_int_equal(json_int_field(c1, "queued"), 2);
    json_decref(doc);

    /* The fifth is refused at once, naming the bulkhead. */
    genesis_result *res = NULL;
    assert_status(genesis_coordinator_request(f->c, "comp1", "block", NULL, 0, &slow, &res),
                  GENESIS_RESOURCE_EXHAUSTED);
    assert_result(res, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_BULKHEAD_FULL);
    genesis_result_free(res);
    recorder *rejected = new_recorder(f);
    assert_ok(genesis_coordinator_request_async(f->c, "comp1", "ping", NULL, 0, &slow, on_result,
                                                rejected));
    assert_true(gt_counter_wait(&rejected->calls, 1, GT_WAIT_MS));
    assert_int_equal(recorded(rejected, GENESIS_RESOURCE_EXHAUSTED), 1);
    assert_int_equal(rejected->by_reason[GENESIS_REASON_BULKHEAD_FULL], 1);

    /* Another component's bulkhead is its own. */
    assert_ok(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, NULL, &res));
    genesis_result_free(res);

    gt_gate_open(&f->comp1.gate);
    assert_true(gt_counter_wait(&r->calls, 4, GT_WAIT_MS));
    assert_int_equal(recorded(r, GENESIS_OK), 4);
    assert_int_equal(gt_counter_get(&f->comp1.started), 4);

    genesis_coordinator_stats st = get_stats(f->c);
    assert_int_equal(st.rejected, 2);
}

static void test_event_queue_overflow_is_counted(void **state)
{
    fixture *f = *state;
    genesis_coordinator_options opts = small_options();
    opts.event_queue_depth = 2;
    start_coordinator(f, &opts);
    atomic_store(&f->comp2.block_events, true);
    genesis_call_options o = call_opts(0, "comp1");

    unsigned delivered = 0, dropped = 0;
    assert_ok(genesis_coordinator_emit(f->c, "first", NULL, 0, &o, &delivered, &dropped));
    assert_int_equal(delivered, 1);
    assert_true(gt_counter_wait(&f->comp2.events_entered, 1, GT_WAIT_MS));

    /* comp2 is stuck in its first event: two more wait in its queue, the rest drop. */
    unsigned total_delivered = 0, total_dropped = 0;
    for (int i = 0; i < 10; i++) {
        assert_ok(genesis_coordinator_emit(f->c, "flood", NULL, 0, &o, &delivered, &dropped));
        assert_int_equal(delivered + dropped, 1);
        total_delivered += delivered;
        total_dropped += dropped;
    }
    assert_int_equal(total_delivered, 2);
    assert_int_equal(total_dropped, 8);
    genesis_coordinator_stats st = get_stats(f->c);
    assert_int_equal(st.events_dropped, 8);
    assert_int_equal(st.events_emitted, 11);

    json_t *doc = status_json(f->c);
    assert_int_equal(json_int_field(find_component(doc, "comp2"), "events_dropped"), 8);
    json_decref(doc);

    gt_gate_open(&f->comp2.event_gate);
    assert_true(gt_counter_wait(&f->comp2.events, 3, GT_WAIT_MS));
    assert_int_equal(gt_counter_get(&f->comp1.events), 0); /* the source never got any */
}

static void *unregister_thread(void *arg)
{
    fixture *f = arg;
    f->bg_rv = genesis_coordinator_unregister(f->c, f->bg_id);
    atomic_store(&f->returned, true);
    return NULL;
}

static void start_background(fixture *f, void *(*fn)(void *))
{
    atomic_store(&f->returned, false);
    f->bg_rv = -1;
    assert_int_equal(pthread_create(&f->bg, NULL, fn, f), 0);
    f->bg_started = true;
}

static int join_background(fixture *f)
{
    assert_true(f->bg_started);
    assert_int_equal(pthread_join(f->bg, NULL), 0);
    f->bg_started = false;
    return f->bg_rv;
}

struct probe {
    genesis_coordinator *c;
    const char *target;
    int want;
};

/* True once a request to target fails with the wanted status. */
static bool request_gets(void *arg)
{
    struct probe *p = arg;
    genesis_call_options o = call_opts(5000, "probe");
    return genesis_coordinator_request(p->c, p->target, "ping", NULL, 0, &o, NULL) == p->want;
}

static void test_unregister_waits_for_running_handlers(void **state)
{
    fixture *f = *state;
    genesis_coordinator_options opts = small_options();
    opts.max_concurrency = 1; /* so a second request waits in the queue */
    start_coordinator(f, &opts);

    recorder *running = new_recorder(f);
    recorder *queued = new_recorder(f);
    genesis_call_options slow = call_opts(LONG_TIMEOUT_MS, "test");
    assert_ok(genesis_coordinator_request_async(f->c, "comp1", "block", NULL, 0, &slow, on_result,
                                                running));
    assert_true(gt_counter_wait(&f->comp1.started, 1, GT_WAIT_MS));
    assert_ok(genesis_coordinator_request_async(f->c, "comp1", "block", NULL, 0, &slow, on_result,
                                                queued));

    f->comp1.watch = &f->returned;
    f->bg_id = "comp1";
    start_background(f, unregister_thread);

    /* Unregister has begun once new requests get NOT_FOUND. */
    struct probe p = {.c = f->c, .target = "comp1", .want = GENESIS_NOT_FOUND};
    if (!gt_wait_until(request_gets, &p, GT_WAIT_MS))
        fail_msg("requests to comp1 never got NOT_FOUND after unregister started");
    assert_int_equal(gt_counter_get(&running->calls), 0);

    gt_gate_open(&f->comp1.gate);
    assert_ok(join_background(f));
    /* The handler finished before unregister returned. */
    assert_int_equal(atomic_load(&f->comp1.flag_at_exit), 0);

    assert_true(gt_counter_wait(&running->calls, 1, GT_WAIT_MS));
    assert_int_equal(recorded(running, GENESIS_OK), 1);
    assert_true(gt_counter_wait(&queued->calls, 1, GT_WAIT_MS));
    assert_int_equal(recorded(queued, GENESIS_UNAVAILABLE), 1);
    assert_int_equal(gt_counter_get(&f->comp1.started), 1); /* the queued one never ran */

    /* comp2 was never affected. */
    assert_ok(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, NULL, NULL));
    assert_int_equal(get_stats(f->c).components, 1);
}

static void test_unregister_from_own_handler_does_not_wait(void **state)
{
    fixture *f = *state;
    genesis_call_options o = call_opts(5000, NULL);
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(f->c, "comp2", "unregister-self", NULL, 0, &o, &res));
    assert_result_ok(res);
    genesis_result_free(res);
    assert_ok(atomic_load(&f->comp2.self_unregister_rv));
    assert_status(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, &o, NULL),
                  GENESIS_NOT_FOUND);
}

static void *stop_thread(void *arg)
{
    fixture *f = arg;
    f->bg_rv = genesis_coordinator_stop(f->c);
    atomic_store(&f->returned, true);
    return NULL;
}

static void test_stop_drains_in_flight_requests(void **state)
{
    fixture *f = *state;
    recorder *r = new_recorder(f);
    genesis_call_options slow = call_opts(LONG_TIMEOUT_MS, "test");
    assert_ok(
        genesis_coordinator_request_async(f->c, "comp1", "block", NULL, 0, &slow, on_result, r));
    assert_true(gt_counter_wait(&f->comp1.started, 1, GT_WAIT_MS));

    r->watch = &f->returned;
    start_background(f, stop_thread);

    /* Stopping has begun once new requests are refused. */
    struct probe p = {.c = f->c, .target = "comp2", .want = GENESIS_UNAVAILABLE};
    if (!gt_wait_until(request_gets, &p, GT_WAIT_MS))
        fail_msg("requests were never refused after stop started");
    genesis_result *res = NULL;
    assert_status(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, NULL, &res),
                  GENESIS_UNAVAILABLE);
    assert_result(res, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN);
    genesis_result_free(res);
    assert_int_equal(gt_counter_get(&r->calls), 0); /* still in flight */

    gt_gate_open(&f->comp1.gate);
    assert_ok(join_background(f));
    /* The in-flight request completed, and its callback ran before stop returned. */
    assert_int_equal(gt_counter_get(&r->calls), 1);
    assert_int_equal(recorded(r, GENESIS_OK), 1);
    assert_int_equal(r->flag_at_call, 0);

    /* After stop: refused with a reason; async refused without a callback; stop again is
     * fine. */
    res = NULL;
    assert_status(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, NULL, &res),
                  GENESIS_UNAVAILABLE);
    if (res != NULL)
        assert_result(res, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN);
    genesis_result_free(res);
    recorder *late = new_recorder(f);
    assert_status(
        genesis_coordinator_request_async(f->c, "comp2", "ping", NULL, 0, NULL, on_result, late),
        GENESIS_UNAVAILABLE);
    assert_ok(genesis_coordinator_stop(f->c));
    assert_int_equal(gt_counter_get(&late->calls), 0);
    genesis_component late_comp = {
        .version = GENESIS_COMPONENT_VERSION, .on_request = on_request, .arg = &f->comp2};
    int rv = genesis_coordinator_register(f->c, "comp9", &late_comp);
    if (rv != GENESIS_UNAVAILABLE && rv != GENESIS_FAILED_PRECONDITION)
        fail_msg("register after stop returned %s, expected a refusal (UNAVAILABLE)",
                 genesis_status_name(rv));
}

static void test_status_report_is_json(void **state)
{
    fixture *f = *state;
    assert_ok(genesis_coordinator_request(f->c, "comp2", "ping", NULL, 0, NULL, NULL));
    json_t *doc = status_json(f->c);
    assert_true(json_is_object(doc));
    assert_true(json_is_string(json_object_get(doc, "mode")));
    json_t *c1 = find_component(doc, "comp1");
    json_t *c2 = find_component(doc, "comp2");
    if (c1 == NULL || c2 == NULL) {
        char *text = json_dumps(doc, 0);
        fail_msg("status does not list comp1 and comp2: %s", text);
    }
    assert_int_equal(json_array_size(json_object_get(doc, "components")), 2);
    assert_string_equal(json_string_value(json_object_get(c1, "health")), "UP");
    assert_true(json_is_false(json_object_get(c1, "remote")));
    assert_int_equal(json_int_field(c2, "requests"), 1);
    assert_int_equal(json_int_field(c1, "requests"), 0);
    json_decref(doc);

    assert_status(genesis_coordinator_status(f->c, NULL), GENESIS_INVALID_ARGUMENT);
}

static void test_url_when_not_listening(void **state)
{
    fixture *f = *state;
    char buf[256];
    assert_status(genesis_coordinator_get_url(f->c, GENESIS_ENDPOINT_FRONT_DOOR, buf, sizeof(buf)),
                  GENESIS_NOT_FOUND);
    assert_status(genesis_coordinator_get_url(f->c, GENESIS_ENDPOINT_EVENT_BUS, buf, sizeof(buf)),
                  GENESIS_NOT_FOUND);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ping_and_echo),
        T(test_deadline_propagates_to_handler),
        T(test_event_reaches_others_not_source),
        T(test_async_callback_runs_once_on_another_thread),
        T(test_unknown_target_and_bad_parameters),
        T(test_register_rules),
        T(test_handler_error_passes_through),
        T(test_reply_larger_than_limit_is_refused),
        T(test_slow_handler_times_out_without_blocking_others),
        T(test_bulkhead_full),
        T(test_event_queue_overflow_is_counted),
        T(test_unregister_waits_for_running_handlers),
        T(test_unregister_from_own_handler_does_not_wait),
        T(test_stop_drains_in_flight_requests),
        T(test_status_report_is_json),
        T(test_url_when_not_listening),
    };
#undef T
    return cmocka_run_group_tests_name("inproc", tests, NULL, NULL);
}
