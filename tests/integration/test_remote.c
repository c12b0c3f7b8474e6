/* Remote components in real processes (tests/helpers/test_service.c) behind a coordinator in
 * this process, reached by a genesis_client: the same tests run over ipc:// (in a temp dir)
 * and over tcp://127.0.0.1:0. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

#ifndef TEST_SERVICE_PATH
#error "TEST_SERVICE_PATH must name the test_service binary"
#endif

#define URL_SIZE 256

typedef struct tally {
    gt_counter done;
    pthread_mutex_t mu;
    int ok;
    int other;
    char first_failure[256];
    long pids[2];
    int n_pids;
} tally;

static void tally_init(tally *t)
{
    memset(t, 0, sizeof(*t));
    gt_counter_init(&t->done);
    pthread_mutex_init(&t->mu, NULL);
}

static void tally_free(tally *t)
{
    gt_counter_destroy(&t->done);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

#define MAX_TALLIES 64

typedef struct env {
    bool tcp;
    char dir[128];
    genesis_coordinator *c;
    genesis_client *cl;
    char front[URL_SIZE];
    char bus[URL_SIZE];
    unsigned next_service; /* distinct listen paths for ipc */
    /* events seen by the client's subscription */
    pthread_mutex_t mu;
    gt_counter sub_events;
    char sub_type[64];
    uint64_t sub_seq;
    int sub_external;
    /* Completion tallies of async calls, freed only after the client is: a failed test may
     * leave calls outstanding whose callbacks must still find valid memory. */
    tally *tallies[MAX_TALLIES];
    unsigned n_tallies;
    genesis_client *big; /* a client whose own size limit is above the coordinator's */
} env;

static tally *new_tally(env *e)
{
    if (e->n_tallies == MAX_TALLIES)
        fail_msg("more than %d tallies", MAX_TALLIES);
    tally *t = malloc(sizeof(*t));
    assert_non_null(t);
    tally_init(t);
    e->tallies[e->n_tallies++] = t;
    return t;
}

/* An in-process component "local" that answers ping, to show the coordinator keeps working
 * while remote components fail. */
static void local_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)arg;
    if (strcmp(genesis_request_type(req), "ping") == 0)
        genesis_reply_set(reply, "pong:local", 10, "text/plain");
    else
        genesis_reply_error(reply, GENESIS_UNIMPLEMENTED, "local knows ping only");
}

static int teardown_env(void **state);

static int setup_env(void **state, bool tcp)
{
    env *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -1;
    *state = e;
    e->tcp = tcp;
    pthread_mutex_init(&e->mu, NULL);
    gt_counter_init(&e->sub_events);
    const char *step = "mkdtemp";
    int rv = GENESIS_OK;
    if (gt_tempdir_make(e->dir, sizeof(e->dir)) != 0)
        goto fail;
    step = "genesis_coordinator_new";
    /* These tests are about transport, not degradation: components that the tests leave DOWN
     * must not push the shared coordinator into SAFE or EMERGENCY (tests/integration/
     * test_resilience.c covers modes). */
    genesis_coordinator_options copts;
    genesis_coordinator_options_init(&copts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    copts.safe_mode_pct = 100;
    copts.emergency_mode_pct = 100;
    if ((rv = genesis_coordinator_new(&e->c, &copts)) != GENESIS_OK)
        goto fail;
    char front[URL_SIZE], bus[URL_SIZE];
    if (tcp) {
        snprintf(front, sizeof(front), "tcp://127.0.0.1:0");
        snprintf(bus, sizeof(bus), "tcp://127.0.0.1:0");
    } else {
        gt_ipc_url(front, sizeof(front), e->dir, "front");
        gt_ipc_url(bus, sizeof(bus), e->dir, "bus");
    }
    step = "genesis_coordinator_listen";
    if ((rv = genesis_coordinator_listen(e->c, front, bus)) != GENESIS_OK)
        goto fail;
    step = "genesis_coordinator_get_url";
    if ((rv = genesis_coordinator_get_url(e->c, GENESIS_ENDPOINT_FRONT_DOOR, e->front, URL_SIZE)) !=
            GENESIS_OK ||
        (rv = genesis_coordinator_get_url(e->c, GENESIS_ENDPOINT_EVENT_BUS, e->bus, URL_SIZE)) !=
            GENESIS_OK)
        goto fail;
    genesis_component local = {.version = GENESIS_COMPONENT_VERSION, .on_request = local_request};
    step = "genesis_coordinator_register";
    if ((rv = genesis_coordinator_register(e->c, "local", &local)) != GENESIS_OK)
        goto fail;
    genesis_client_options co;
    genesis_client_options_init(&co, GENESIS_CLIENT_OPTIONS_VERSION);
    co.name = "tester";
    step = "genesis_client_new";
    if ((rv = genesis_client_new(&e->cl, &co)) != GENESIS_OK)
        goto fail;
    step = "genesis_client_dial";
    if ((rv = genesis_client_dial(e->cl, e->front, e->bus)) != GENESIS_OK)
        goto fail;
    return 0;
fail:
    print_error("setup (%s): %s failed: %s: %s\n", tcp ? "tcp" : "ipc", step,
                genesis_status_name(rv), genesis_last_error());
    teardown_env(state);
    return -1;
}

static int setup_ipc(void **state)
{
    return setup_env(state, false);
}

static int setup_tcp(void **state)
{
    return setup_env(state, true);
}

static int teardown_env(void **state)
{
    env *e = *state;
    if (e == NULL)
        return 0;
    *state = NULL;
    gt_process_kill_all();
    genesis_client_free(e->cl);
    genesis_client_free(e->big);
    genesis_coordinator_free(e->c);
    for (unsigned i = 0; i < e->n_tallies; i++)
        tally_free(e->tallies[i]);
    gt_tempdir_remove(e->dir);
    gt_counter_destroy(&e->sub_events);
    pthread_mutex_destroy(&e->mu);
    free(e);
    return 0;
}

/* After each test: no child survives it, pass or fail. */
static int teardown_test(void **state)
{
    (void)state;
    gt_process_kill_all();
    return 0;
}

/* Start a test_service for id and wait for its ready line. */
static void spawn_service(env *e, gt_process *p, const char *id)
{
    char listen[URL_SIZE];
    if (e->tcp) {
        snprintf(listen, sizeof(listen), "tcp://127.0.0.1:0");
    } else {
        char name[64];
        snprintf(name, sizeof(name), "svc-%u", e->next_service++);
        gt_ipc_url(listen, sizeof(listen), e->dir, name);
    }
    const char *argv[] = {TEST_SERVICE_PATH, "--id", id,         "--front-door", e->front,
                          "--events",        e->bus, "--listen", listen,         NULL};
    if (gt_process_spawn(p, argv, GT_CAPTURE_STDOUT) != 0)
        fail_msg("cannot start %s: %s", TEST_SERVICE_PATH, strerror(errno));
    char line[512];
    if (!gt_process_wait_line(p, "ready url=", line, sizeof(line), GT_WAIT_MS)) {
        gt_process_kill(p);
        fail_msg("test_service --id %s never became ready (stdout so far: \"%s\", wait status "
                 "0x%x)",
                 id, line, p->wait_status);
    }
    const char *url = line + strlen("ready url=");
    if (e->tcp) {
        const char *colon = strrchr(url, ':');
        if (strncmp(url, "tcp://127.0.0.1:", 16) != 0 || colon == NULL || atoi(colon + 1) <= 0)
            fail_msg("service reported an unbound tcp address: %s", url);
    } else if (strcmp(url, listen) != 0) {
        fail_msg("service listens on %s, asked for %s", url, listen);
    }
}

static genesis_call_options opts_ms(uint32_t timeout_ms)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = timeout_ms;
    return o;
}

static int request(env *e, const char *target, const char *type, const void *data, size_t len,
                   uint32_t timeout_ms, genesis_result **res)
{
    genesis_call_options o = opts_ms(timeout_ms);
    return genesis_client_request(e->cl, target, type, data, len, &o, res);
}

static void assert_text(const genesis_result *res, const char *text)
{
    size_t len = 0;
    const char *data = genesis_result_data(res, &len);
    if (len != strlen(text) || memcmp(data, text, len) != 0)
        fail_msg("reply is \"%.*s\", expected \"%s\"", (int)len, data, text);
}

static void assert_ping(env *e, const char *target, const char *want)
{
    genesis_result *res = NULL;
    assert_ok(request(e, target, "ping", NULL, 0, 10000, &res));
    assert_result_ok(res);
    assert_text(res, want);
    genesis_result_free(res);
}

struct ping_probe {
    env *e;
    const char *target;
};

static bool ping_succeeds(void *arg)
{
    struct ping_probe *p = arg;
    return request(p->e, p->target, "ping", NULL, 0, 2000, NULL) == GENESIS_OK;
}

/* Ping target until it answers, then require `streak` answers in a row. */
static void assert_answers_again(env *e, const char *target, int streak)
{
    struct ping_probe p = {e, target};
    if (!gt_wait_until(ping_succeeds, &p, GT_WAIT_MS))
        fail_msg("%s never answered again", target);
    for (int i = 0; i < streak; i++) {
        genesis_result *res = NULL;
        int rv = request(e, target, "ping", NULL, 0, 5000, &res);
        if (rv != GENESIS_OK)
            fail_msg("ping %d/%d of %s after recovery: %s / %s: %s", i + 1, streak, target,
                     genesis_status_name(rv), genesis_reason_name(genesis_result_reason(res)),
                     genesis_result_message(res));
        genesis_result_free(res);
    }
}

static json_t *client_status(env *e)
{
    genesis_result *res = NULL;
    assert_ok(genesis_client_status(e->cl, 10000, &res));
    assert_result_ok(res);
    size_t len = 0;
    const char *text = genesis_result_data(res, &len);
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (doc == NULL)
        fail_msg("status is not JSON (%s): %.*s", err.text, (int)len, text);
    genesis_result_free(res);
    return doc;
}

static json_t *find_component(json_t *doc, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "components"), i, c)
    {
        const char *cid = json_string_value(json_object_get(c, "id"));
        if (cid != NULL && strcmp(cid, id) == 0)
            return c;
    }
    return NULL;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_urls_are_bound(void **state)
{
    env *e = *state;
    if (e->tcp) {
        assert_true(strncmp(e->front, "tcp://127.0.0.1:", 16) == 0);
        assert_true(strncmp(e->bus, "tcp://127.0.0.1:", 16) == 0);
        assert_true(atoi(e->front + 16) > 0);
        assert_true(atoi(e->bus + 16) > 0);
        assert_string_not_equal(e->front, e->bus);
    } else {
        char want[URL_SIZE];
        assert_string_equal(e->front, gt_ipc_url(want, sizeof(want), e->dir, "front"));
        assert_string_equal(e->bus, gt_ipc_url(want, sizeof(want), e->dir, "bus"));
    }
    char tiny[8];
    assert_status(
        genesis_coordinator_get_url(e->c, GENESIS_ENDPOINT_FRONT_DOOR, tiny, sizeof(tiny)),
        GENESIS_OUT_OF_RANGE);
}

static void test_ping_through_coordinator(void **state)
{
    env *e = *state;
    gt_process svc;
    spawn_service(e, &svc, "svc-ping");
    assert_ping(e, "svc-ping", "pong:svc-ping");
    assert_ping(e, "local", "pong:local");

    /* The embedding program reaches the remote component too. */
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(e->c, "svc-ping", "ping", NULL, 0, NULL, &res));
    assert_text(res, "pong:svc-ping");
    assert_string_equal(genesis_result_content_type(res), "text/plain");
    genesis_result_free(res);

    json_t *doc = client_status(e);
    json_t *c = find_component(doc, "svc-ping");
    if (c == NULL)
        fail_msg("status does not list svc-ping");
    assert_true(json_is_true(json_object_get(c, "remote")));
    assert_string_equal(json_string_value(json_object_get(c, "health")), "UP");
    assert_int_equal(json_integer_value(json_object_get(c, "instances")), 1);
    assert_non_null(find_component(doc, "local"));
    json_decref(doc);

    /* Unknown targets and handler errors cross the wire with their reasons. */
    assert_status(request(e, "nosuch", "ping", NULL, 0, 5000, &res), GENESIS_NOT_FOUND);
    assert_result(res, GENESIS_NOT_FOUND, GENESIS_REASON_NOT_FOUND);
    genesis_result_free(res);
    assert_status(request(e, "svc-ping", "fail", NULL, 0, 5000, &res), GENESIS_INTERNAL);
    assert_result(res, GENESIS_INTERNAL, GENESIS_REASON_HANDLER_ERROR);
    if (strstr(genesis_result_message(res), "asked to fail") == NULL)
        fail_msg("handler message lost on the way: \"%s\"", genesis_result_message(res));
    genesis_result_free(res);
    assert_status(request(e, "svc-ping", "nosuchtype", NULL, 0, 5000, &res), GENESIS_UNIMPLEMENTED);
    assert_result(res, GENESIS_UNIMPLEMENTED, GENESIS_REASON_HANDLER_ERROR);
    genesis_result_free(res);
    gt_process_kill(&svc);
}

static void test_echo_100k(void **state)
{
    env *e = *state;
    gt_process svc;
    spawn_service(e, &svc, "svc-echo");
    enum { N = 100 * 1024 };
    unsigned char *data = malloc(N);
    assert_non_null(data);
    uint32_t seed = 7;
    for (size_t i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        data[i] = (unsigned char)(seed >> 24);
    }
    genesis_call_options o = opts_ms(10000);
    o.content_type = "application/octet-stream";
    genesis_result *res = NULL;
    assert_ok(genesis_client_request(e->cl, "svc-echo", "echo", data, N, &o, &res));
    assert_result_ok(res);
    size_t len = 0;
    const void *got = genesis_result_data(res, &len);
    assert_int_equal(len, N);
    assert_memory_equal(got, data, N);
    assert_string_equal(genesis_result_content_type(res), "application/octet-stream");
    genesis_result_free(res);
    free(data);
    gt_process_kill(&svc);
}

static void on_tally(genesis_result *res, void *arg)
{
    tally *t = arg;
    pthread_mutex_lock(&t->mu);
    if (genesis_result_status(res) == GENESIS_OK) {
        t->ok++;
        const char *text = genesis_result_data(res, NULL);
        const char *pid = strstr(text, "pid=");
        if (pid != NULL) {
            long v = atol(pid + 4);
            bool known = false;
            for (int i = 0; i < t->n_pids; i++)
                known |= t->pids[i] == v;
            if (!known && t->n_pids < 2)
                t->pids[t->n_pids++] = v;
        }
    } else {
        if (t->other++ == 0)
            snprintf(t->first_failure, sizeof(t->first_failure), "%s / %s: %s",
                     genesis_status_name(genesis_result_status(res)),
                     genesis_reason_name(genesis_result_reason(res)), genesis_result_message(res));
    }
    pthread_mutex_unlock(&t->mu);
    genesis_result_free(res);
    gt_counter_add(&t->done, 1);
}

/* Send n concurrent "sleep ms" requests to target and wait for all of them. */
static void sleep_burst(env *e, const char *target, int n, const char *ms, tally *t)
{
    genesis_call_options o = opts_ms(15000);
    for (int i = 0; i < n; i++)
        assert_ok(
            genesis_client_request_async(e->cl, target, "sleep", ms, strlen(ms), &o, on_tally, t));
    if (!gt_counter_wait(&t->done, n, GT_WAIT_MS))
        fail_msg("only %ld of %d concurrent requests completed", gt_counter_get(&t->done), n);
    if (t->ok != n)
        fail_msg("%d of %d concurrent requests failed; first: %s", t->other, n, t->first_failure);
}

static void test_concurrent_requests_are_served_concurrently(void **state)
{
    env *e = *state;
    gt_process svc;
    spawn_service(e, &svc, "svc-conc");
    tally *t = new_tally(e);
    sleep_burst(e, "svc-conc", 32, "100", t);

    genesis_result *res = NULL;
    assert_ok(request(e, "svc-conc", "info", NULL, 0, 5000, &res));
    const char *text = genesis_result_data(res, NULL);
    const char *mc = strstr(text, "max_concurrency=");
    assert_non_null(mc);
    int max = atoi(mc + strlen("max_concurrency="));
    if (max <= 1)
        fail_msg("the service never ran two requests at once (%s)", text);
    print_message("service saw up to %d requests at once\n", max);
    genesis_result_free(res);
    gt_process_kill(&svc);
}

/* The service's documented default max_concurrency is 16: 16 requests that each wait until
 * 16 run at once all succeed only if the service (and the coordinator path to it) really
 * serves 16 at once. No timing involved; the service gives up after 10 s on failure. */
static void test_service_serves_its_max_concurrency(void **state)
{
    env *e = *state;
    gt_process svc;
    spawn_service(e, &svc, "svc-barrier");
    tally *t = new_tally(e);
    genesis_call_options o = opts_ms(25000);
    for (int i = 0; i < 16; i++)
        assert_ok(genesis_client_request_async(e->cl, "svc-barrier", "barrier", "16", 2, &o,
                                               on_tally, t));
    if (!gt_counter_wait(&t->done, 16, 3 * GT_WAIT_MS))
        fail_msg("only %ld of 16 barrier requests completed", gt_counter_get(&t->done));
    if (t->ok != 16)
        fail_msg("%d of 16 barrier requests failed; first: %s", t->other, t->first_failure);
    gt_process_kill(&svc);
}

static void test_remote_deadline(void **state)
{
    env *e = *state;
    gt_process svc;
    spawn_service(e, &svc, "svc-slow");
    genesis_result *res = NULL;
    assert_status(request(e, "svc-slow", "sleep", "3000", 4, 300, &res), GENESIS_DEADLINE_EXCEEDED);
    assert_result(res, GENESIS_DEADLINE_EXCEEDED, GT_ANY_REASON);
    genesis_result_free(res);
    /* The service is busy with that one but serves others meanwhile. */
    assert_ping(e, "svc-slow", "pong:svc-slow");
    assert_ping(e, "local", "pong:local");
    gt_process_kill(&svc);
}

struct event_probe {
    env *e;
    const char *target;
    const char *type;
    bool from_coordinator; /* emit with genesis_coordinator_emit instead of the client */
    char last[512];
};

/* Emit the event (again: the service's subscription connects in the background and pub/sub
 * drops what is published before that), then ask the service what it has seen. */
static bool service_saw_event(void *arg)
{
    struct event_probe *p = arg;
    if (p->from_coordinator)
        genesis_coordinator_emit(p->e->c, p->type, "{}", 2, NULL, NULL, NULL);
    else
        genesis_client_emit(p->e->cl, p->type, "{}", 2, NULL, NULL);
    genesis_result *res = NULL;
    if (request(p->e, p->target, "events", NULL, 0, 5000, &res) != GENESIS_OK) {
        genesis_result_free(res);
        return false;
    }
    snprintf(p->last, sizeof(p->last), "%s", (const char *)genesis_result_data(res, NULL));
    genesis_result_free(res);
    return strstr(p->last, p->type) != NULL;
}

static void test_events_reach_remote_service(void **state)
{
    env *e = *state;
    gt_process svc;
    spawn_service(e, &svc, "svc-events");
    struct event_probe p = {.e = e, .target = "svc-events", .type = "client.evt"};
    if (!gt_wait_until(service_saw_event, &p, GT_WAIT_MS))
        fail_msg("the service never saw client.evt; it reports \"%s\"", p.last);
    assert_true(atol(p.last) >= 1);

    struct event_probe q = {
        .e = e, .target = "svc-events", .type = "embedded.evt", .from_coordinator = true};
    if (!gt_wait_until(service_saw_event, &q, GT_WAIT_MS))
        fail_msg("the service never saw embedded.evt; it reports \"%s\"", q.last);
    gt_process_kill(&svc);
}

static void on_sub_event(const genesis_event *ev, void *arg)
{
    env *e = arg;
    pthread_mutex_lock(&e->mu);
    if (strcmp(genesis_event_type(ev), "sub.evt") == 0) {
        snprintf(e->sub_type, sizeof(e->sub_type), "%s", genesis_event_type(ev));
        e->sub_seq = genesis_event_sequence(ev);
        e->sub_external = genesis_event_is_external(ev);
    }
    pthread_mutex_unlock(&e->mu);
    if (strcmp(genesis_event_type(ev), "sub.evt") == 0)
        gt_counter_add(&e->sub_events, 1);
}

static bool subscriber_saw_event(void *arg)
{
    env *e = arg;
    genesis_client_emit(e->cl, "sub.evt", "{\"n\":1}", 7, NULL, NULL);
    return gt_counter_wait(&e->sub_events, 1, 50);
}

static void test_client_subscription_sees_events(void **state)
{
    env *e = *state;
    assert_ok(genesis_client_subscribe(e->cl, "local:", on_sub_event, e));
    if (!gt_wait_until(subscriber_saw_event, e, GT_WAIT_MS))
        fail_msg("the subscriber never saw sub.evt");
    pthread_mutex_lock(&e->mu);
    assert_string_equal(e->sub_type, "sub.evt");
    assert_true(e->sub_seq >= 1);
    assert_int_equal(e->sub_external, 0);
    pthread_mutex_unlock(&e->mu);
}

static void test_kill_and_restart(void **state)
{
    env *e = *state;
    gt_process victim, other;
    spawn_service(e, &victim, "svc-victim");
    spawn_service(e, &other, "svc-other");
    assert_ping(e, "svc-victim", "pong:svc-victim");

    gt_process_kill(&victim); /* SIGKILL: no unregister, no goodbye */
    assert_true(WIFSIGNALED(victim.wait_status));

    genesis_result *res = NULL;
    request(e, "svc-victim", "ping", NULL, 0, 1000, &res);
    assert_result_status_in(res, GENESIS_UNAVAILABLE, GENESIS_DEADLINE_EXCEEDED);
    genesis_result_free(res);
    /* Everyone else keeps answering. */
    assert_ping(e, "svc-other", "pong:svc-other");
    assert_ping(e, "local", "pong:local");
    res = NULL;
    request(e, "svc-victim", "ping", NULL, 0, 1000, &res);
    assert_result_status_in(res, GENESIS_UNAVAILABLE, GENESIS_DEADLINE_EXCEEDED);
    genesis_result_free(res);

    spawn_service(e, &victim, "svc-victim");
    assert_answers_again(e, "svc-victim", 10);
    assert_ping(e, "svc-other", "pong:svc-other");
    gt_process_kill(&victim);
    gt_process_kill(&other);
}

static void test_two_replicas(void **state)
{
    env *e = *state;
    gt_process a, b;
    spawn_service(e, &a, "svc-replica");
    spawn_service(e, &b, "svc-replica");

    json_t *doc = client_status(e);
    json_t *c = find_component(doc, "svc-replica");
    assert_non_null(c);
    assert_int_equal(json_integer_value(json_object_get(c, "instances")), 2);
    json_decref(doc);

    /* Registration is acknowledged before the coordinator's dialer has connected to the new
     * replica, so the first burst may all go to the one already connected: repeat bursts
     * (every request must succeed) until both replicas have served, within the bound. */
    tally *t = new_tally(e);
    sleep_burst(e, "svc-replica", 32, "50", t);
    int64_t deadline = gt_now_ms() + GT_WAIT_MS;
    int bursts = 1;
    while (t->n_pids < 2 && gt_now_ms() < deadline) {
        tally *more = new_tally(e);
        sleep_burst(e, "svc-replica", 8, "20", more);
        for (int i = 0; i < more->n_pids; i++) {
            if (t->n_pids < 2 && more->pids[i] != t->pids[0])
                t->pids[t->n_pids++] = more->pids[i];
        }
        bursts++;
        if (e->n_tallies == MAX_TALLIES)
            break;
    }
    if (t->n_pids != 2)
        fail_msg("%d bursts of concurrent requests all went to one replica (pid %ld)", bursts,
                 t->pids[0]);
    print_message("both replicas served after %d burst(s)\n", bursts);

    /* One replica dies: the other carries on. */
    gt_process_kill(&a);
    assert_answers_again(e, "svc-replica", 10);
    gt_process_kill(&b);
}

struct health_probe {
    env *e;
    const char *id;
    const char *want; /* "UP" or "DOWN" */
};

static bool health_is(void *arg)
{
    struct health_probe *p = arg;
    json_t *doc = client_status(p->e);
    json_t *c = find_component(doc, p->id);
    const char *h = c != NULL ? json_string_value(json_object_get(c, "health")) : NULL;
    bool match = h != NULL && strcmp(h, p->want) == 0;
    json_decref(doc);
    return match;
}

/* A paused instance (SIGSTOP: a long garbage collection, CPU throttling, swap) is declared
 * DOWN for new requests, but its connection stays open: the request it holds completes once
 * it runs again, and its next heartbeat makes it routable without registering again. */
static void test_pause_is_not_a_failure(void **state)
{
    env *e = *state;
    /* Attempts may take a minute: the held request waits out the pause, however long this
     * loaded machine takes to observe it, instead of reaching its per-try timeout. */
    genesis_policy pol;
    assert_ok(genesis_policy_init(&pol, GENESIS_POLICY_VERSION));
    pol.per_try_timeout_ms = 60000;
    assert_ok(genesis_coordinator_set_policy(e->c, "svc-pause", &pol));
    gt_process svc;
    spawn_service(e, &svc, "svc-pause");
    assert_ping(e, "svc-pause", "pong:svc-pause");

    tally *t = new_tally(e);
    genesis_call_options o = opts_ms(60000);
    assert_ok(genesis_client_request_async(e->cl, "svc-pause", "sleep", "100", 3, &o, on_tally, t));
    assert_int_equal(gt_process_signal(&svc, SIGSTOP), 0);
    struct health_probe down = {e, "svc-pause", "DOWN"};
    if (!gt_wait_until(health_is, &down, GT_WAIT_MS))
        fail_msg("the paused instance was never declared DOWN");
    /* New requests are not routed to it: they fail fast instead of waiting. */
    genesis_result *res = NULL;
    request(e, "svc-pause", "ping", NULL, 0, 30000, &res);
    assert_result(res, GENESIS_UNAVAILABLE, GENESIS_REASON_COMPONENT_DOWN);
    genesis_result_free(res);
    assert_int_equal(gt_counter_get(&t->done), 0); /* still in flight, not failed */

    assert_int_equal(gt_process_signal(&svc, SIGCONT), 0);
    if (!gt_counter_wait(&t->done, 1, GT_WAIT_MS))
        fail_msg("the request held by the paused instance never completed");
    if (t->ok != 1)
        fail_msg("the request held by the paused instance failed: %s", t->first_failure);
    struct health_probe up = {e, "svc-pause", "UP"};
    if (!gt_wait_until(health_is, &up, GT_WAIT_MS))
        fail_msg("the resumed instance never became UP again");
    assert_ping(e, "svc-pause", "pong:svc-pause");
    gt_process_kill(&svc);
}

/* Admin commands run on the coordinator's workers, never on NNG's threads (named "nng:..."):
 * an embedder's handler (genesisd's "reload") and the checkpoint commands (store reads,
 * restore callbacks) may block briefly without stalling NNG. */
static void where_handler(const char *command, const char *const *args, size_t nargs,
                          genesis_reply *reply, void *arg)
{
    (void)command;
    (void)args;
    (void)nargs;
    (void)arg;
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof(name));
    genesis_reply_set(reply, name, strlen(name), "text/plain");
}

static void test_admin_runs_off_nng_threads(void **state)
{
    env *e = *state;
    assert_ok(genesis_coordinator_set_admin_handler(e->c, "where.", where_handler, NULL));
    for (int i = 0; i < 8; i++) {
        genesis_result *res = NULL;
        assert_ok(genesis_client_admin(e->cl, "where.am.i", NULL, 0, 10000, &res));
        assert_result_ok(res);
        size_t len = 0;
        const char *name = genesis_result_data(res, &len);
        if (len >= 3 && memcmp(name, "nng", 3) == 0)
            fail_msg("an admin handler ran on NNG's thread '%.*s'", (int)len, name);
        genesis_result_free(res);
    }
    assert_ok(genesis_coordinator_set_admin_handler(e->c, "where.", NULL, NULL));
}

static void test_graceful_stop_unregisters(void **state)
{
    env *e = *state;
    gt_process svc;
    spawn_service(e, &svc, "svc-term");
    assert_ping(e, "svc-term", "pong:svc-term");
    assert_int_equal(gt_process_signal(&svc, SIGTERM), 0);
    if (!gt_process_wait(&svc, GT_WAIT_MS)) {
        gt_process_kill(&svc);
        fail_msg("test_service ignored SIGTERM");
    }
    assert_true(WIFEXITED(svc.wait_status));
    assert_int_equal(WEXITSTATUS(svc.wait_status), 0);
    /* It unregistered on the way out: its id is gone, not merely down. */
    genesis_result *res = NULL;
    assert_status(request(e, "svc-term", "ping", NULL, 0, 2000, &res), GENESIS_NOT_FOUND);
    genesis_result_free(res);
}

static void test_service_cannot_take_in_process_id(void **state)
{
    env *e = *state;
    char listen[URL_SIZE];
    if (e->tcp)
        snprintf(listen, sizeof(listen), "tcp://127.0.0.1:0");
    else
        gt_ipc_url(listen, sizeof(listen), e->dir, "svc-conflict");
    const char *argv[] = {TEST_SERVICE_PATH, "--id", "local",    "--front-door", e->front,
                          "--events",        e->bus, "--listen", listen,         NULL};
    int code = -1;
    char out[256], err[2048];
    assert_int_equal(gt_run(argv, GT_WAIT_MS, &code, out, sizeof(out), err, sizeof(err)), 0);
    if (code != 3 || strstr(err, "ALREADY_EXISTS") == NULL)
        fail_msg("test_service --id local exited %d (stdout \"%s\", stderr \"%s\"); expected "
                 "exit 3 with ALREADY_EXISTS",
                 code, out, err);
    assert_ping(e, "local", "pong:local");
}

struct big_probe {
    genesis_client *cl;
    char last[256];
};

static bool big_client_pings(void *arg)
{
    struct big_probe *p = arg;
    genesis_call_options o = opts_ms(2000);
    genesis_result *res = NULL;
    int rv = genesis_client_request(p->cl, "local", "ping", NULL, 0, &o, &res);
    snprintf(p->last, sizeof(p->last), "%s / %s: %s", genesis_status_name(rv),
             genesis_reason_name(genesis_result_reason(res)), genesis_result_message(res));
    genesis_result_free(res);
    return rv == GENESIS_OK;
}

/* A client allowed to send more than the coordinator accepts: a request within the window
 * the front door still reads (up to twice its limit) is refused with MESSAGE_TOO_LARGE and the
 * same client keeps working afterwards.
 *
 * Not tested: a request beyond that window. NNG then drops the connection while the sender is
 * still writing, and NNG 1.5.2 can wedge the sender's socket for good (its nng_close hangs):
 * seen over ipc with plain NNG sockets, and in CI under TSan over tcp too.
 * docs/known-limits.md tells users to keep a client's max_message_size at or below the
 * coordinator's, which makes the client refuse such requests itself. Over tcp only: one CI run
 * under TSan also hung over ipc after the in-window request, which did not reproduce in 18 later
 * runs. */
static void test_oversized_request_does_not_wedge_client(void **state)
{
    env *e = *state;
    if (!e->tcp)
        skip();
    genesis_client_options co;
    assert_ok(genesis_client_options_init(&co, GENESIS_CLIENT_OPTIONS_VERSION));
    co.name = "big";
    co.max_message_size = 2u * 1024u * 1024u;
    assert_ok(genesis_client_new(&e->big, &co));
    assert_ok(genesis_client_dial(e->big, e->front, NULL));
    struct big_probe p = {.cl = e->big};
    assert_true(big_client_pings(&p));

    const size_t size = 1024u * 1024u + 1;
    char *payload = calloc(1, size);
    assert_non_null(payload);
    genesis_call_options o = opts_ms(3000);
    genesis_result *res = NULL;
    int rv = genesis_client_request(e->big, "local", "ping", payload, size, &o, &res);
    free(payload);
    if (rv == GENESIS_OK)
        fail_msg("a %zu-byte request to a 1 MiB coordinator succeeded", size);
    assert_result(res, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_MESSAGE_TOO_LARGE);
    genesis_result_free(res);
    if (!gt_wait_until(big_client_pings, &p, GT_WAIT_MS))
        fail_msg("after a %zu-byte request the client never worked again; last ping: %s", size,
                 p.last);
    genesis_client_free(e->big);
    e->big = NULL;
}

int main(void)
{
#define T(name) cmocka_unit_test_teardown(name, teardown_test)
    const struct CMUnitTest tests[] = {
        T(test_urls_are_bound),
        T(test_ping_through_coordinator),
        T(test_echo_100k),
        T(test_concurrent_requests_are_served_concurrently),
        T(test_service_serves_its_max_concurrency),
        T(test_remote_deadline),
        T(test_events_reach_remote_service),
        T(test_client_subscription_sees_events),
        T(test_kill_and_restart),
        T(test_two_replicas),
        T(test_pause_is_not_a_failure),
        T(test_admin_runs_off_nng_threads),
        T(test_graceful_stop_unregisters),
        T(test_service_cannot_take_in_process_id),
        T(test_oversized_request_does_not_wedge_client),
    };
#undef T
    signal(SIGPIPE, SIG_IGN);
    int failed = cmocka_run_group_tests_name("remote over ipc", tests, setup_ipc, teardown_env);
    failed += cmocka_run_group_tests_name("remote over tcp", tests, setup_tcp, teardown_env);
    return failed;
}
