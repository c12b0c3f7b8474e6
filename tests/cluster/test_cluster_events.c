/* Cluster-wide events against a real 3-node NATS JetStream cluster (started by the test on free
 * loopback ports): events emitted at every node reach the in-process components and the bus
 * subscribers of every node once each, in order per emitter, with one increasing cluster
 * sequence; an event id emitted twice is delivered once; kill -9 of the stream leader during
 * emits loses no acknowledged event; a node that fell behind the stream's limits counts the
 * events it missed; with NATS gone an emit fails UNAVAILABLE instead of staying local. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "cluster/cluster.h"
#include "cluster/event_stream.h"
#include "genesis/cluster.h"
#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_nats.h"
#include "gt_wait.h"

#define NATS_FAULT_MS (6 * GT_WAIT_MS) /* elections under load; only a failing test waits it */
#define MAX_SEEN      512
#define NODES         3

static gt_nats_cluster nats;
static const gn_logger quiet = {.level = GENESIS_LOG_ERROR};

static int group_setup(void **state)
{
    (void)state;
    return gt_nats_start(&nats, 3);
}

static int group_teardown(void **state)
{
    (void)state;
    gt_nats_stop(&nats);
    return 0;
}

static int fault_teardown(void **state)
{
    (void)state;
    return gt_nats_heal(&nats, 3, NATS_FAULT_MS) ? 0 : -1;
}

/* What one receiver (a component or a subscriber) saw, in arrival order. */
typedef struct seen {
    pthread_mutex_t mu;
    int n;
    char payload[MAX_SEEN][32];
    uint64_t seq[MAX_SEEN];
} seen;

static void seen_init(seen *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
}

static void on_event(const genesis_event *ev, void *arg)
{
    seen *s = arg;
    pthread_mutex_lock(&s->mu);
    size_t len = 0;
    const char *data = genesis_event_data(ev, &len);
    if (s->n < MAX_SEEN) {
        snprintf(s->payload[s->n], sizeof(s->payload[0]), "%.*s", (int)len, data);
        s->seq[s->n] = genesis_event_sequence(ev);
        s->n++;
    }
    pthread_mutex_unlock(&s->mu);
}

static int seen_count(seen *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static bool wait_count(seen *s, int n, int timeout_ms)
{
    int64_t until = gt_now_ms() + timeout_ms;
    while (seen_count(s) < n) {
        if (gt_now_ms() > until)
            return false;
        gt_sleep_ms(5);
    }
    return true;
}

/* How often payload arrived; -1 when it never did. *seq: its sequence. */
static int occurrences(seen *s, const char *payload, uint64_t *seq)
{
    int k = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->payload[i], payload) == 0) {
            k++;
            if (seq != NULL)
                *seq = s->seq[i];
        }
    pthread_mutex_unlock(&s->mu);
    return k;
}

/* Sequences strictly increase, and each emitter's events (payload "<emitter>:<i>") come in
 * the order of i. */
static void assert_ordered(seen *s)
{
    int last_i[16];
    memset(last_i, -1, sizeof(last_i));
    pthread_mutex_lock(&s->mu);
    for (int k = 0; k < s->n; k++) {
        if (k > 0 && s->seq[k] <= s->seq[k - 1])
            fail_msg("sequence %llu after %llu", (unsigned long long)s->seq[k],
                     (unsigned long long)s->seq[k - 1]);
        int e = 0, i = 0;
        if (sscanf(s->payload[k], "e%d:%d", &e, &i) == 2 && e >= 0 && e < 16) {
            if (i <= last_i[e])
                fail_msg("emitter %d: event %d after %d", e, i, last_i[e]);
            last_i[e] = i;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static genesis_cluster_options cluster_opts(const char *name, const char *node)
{
    genesis_cluster_options o;
    genesis_cluster_options_init(&o, GENESIS_CLUSTER_OPTIONS_VERSION);
    o.nats_urls = nats.urls;
    o.node_id = node;
    o.name = name;
    o.lease_ttl_ms = 2000;
    return o;
}

static genesis_coordinator *new_node(const char *name, const char *node, seen *sink)
{
    genesis_coordinator_options co;
    genesis_coordinator_options_init(&co, GENESIS_COORDINATOR_OPTIONS_VERSION);
    co.log_level = GENESIS_LOG_ERROR;
    genesis_cluster_options o = cluster_opts(name, node);
    genesis_coordinator *c = NULL;
    int rv = genesis_coordinator_new_clustered(&c, &co, &o);
    if (rv != GENESIS_OK)
        fail_msg("new_clustered %s: %s", node, genesis_last_error());
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_request,
                              .on_event = on_event,
                              .arg = sink};
    assert_ok(genesis_coordinator_register(c, "sink", &comp));
    return c;
}

static int emit(genesis_coordinator *c, int emitter, int i)
{
    char text[32];
    snprintf(text, sizeof(text), "e%d:%d", emitter, i);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.source = "emitter";
    return genesis_coordinator_emit(c, "test.tick", text, strlen(text), &opts, NULL, NULL);
}

/* Every node's events reach every node's component and a subscriber on one node, each once,
 * in order per emitter, under one increasing sequence; the same id emitted twice (from two
 * nodes) is delivered once. */
static void test_events_reach_every_node(void **state)
{
    (void)state;
    enum { PER_NODE = 20 };
    static seen sink[NODES], sub;
    genesis_coordinator *n[NODES];
    const char *ids[NODES] = {"n1", "n2", "n3"};
    for (int i = 0; i < NODES; i++) {
        seen_init(&sink[i]);
        n[i] = new_node("t_events", ids[i], &sink[i]);
    }
    seen_init(&sub);
    assert_ok(genesis_coordinator_listen(n[1], "tcp://127.0.0.1:0", "tcp://127.0.0.1:0"));
    char fd[128], bus[128];
    assert_ok(genesis_coordinator_get_url(n[1], GENESIS_ENDPOINT_FRONT_DOOR, fd, sizeof(fd)));
    assert_ok(genesis_coordinator_get_url(n[1], GENESIS_ENDPOINT_EVENT_BUS, bus, sizeof(bus)));
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_ok(genesis_client_dial(cl, fd, bus));
    assert_ok(genesis_client_subscribe(cl, "local:", on_event, &sub));
    /* The subscription is up once a probe event arrives (PUB/SUB joins in the background). */
    int64_t until = gt_now_ms() + GT_WAIT_MS;
    int probes = 0;
    while (seen_count(&sub) == 0 && gt_now_ms() < until) {
        assert_ok(emit(n[1], 9, probes++));
        gt_sleep_ms(20);
    }
    assert_true(seen_count(&sub) > 0);
    int base_sub = seen_count(&sub);
    assert_true(wait_count(&sink[0], probes, GT_WAIT_MS));

    for (int i = 0; i < PER_NODE; i++)
        for (int e = 0; e < NODES; e++)
            assert_ok(emit(n[e], e, i));
    uint64_t s1 = 0, s2 = 0, s3 = 0;
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.source = "emitter";
    assert_ok(genesis_coordinator_emit_id(n[0], "order-17", 0, "test.once", "once", 4, &opts, &s1));
    assert_ok(genesis_coordinator_emit_id(n[0], "order-17", 0, "test.once", "once", 4, &opts, &s2));
    assert_ok(genesis_coordinator_emit_id(n[2], "order-17", 0, "test.once", "once", 4, &opts, &s3));
    assert_int_equal(s1, s2);
    assert_int_equal(s1, s3);
    assert_ok(emit(n[0], 8, 0)); /* a marker after the repeated id */

    int total = probes + NODES * PER_NODE + 2;
    for (int k = 0; k < NODES; k++) {
        assert_true(wait_count(&sink[k], total, GT_WAIT_MS));
        assert_int_equal(occurrences(&sink[k], "e8:0", NULL), 1);
        assert_int_equal(occurrences(&sink[k], "once", NULL), 1);
        assert_int_equal(seen_count(&sink[k]), total);
        assert_ordered(&sink[k]);
        for (int e = 0; e < NODES; e++)
            for (int i = 0; i < PER_NODE; i++) {
                char text[32];
                uint64_t seq = 0, seq0 = 0;
                snprintf(text, sizeof(text), "e%d:%d", e, i);
                assert_int_equal(occurrences(&sink[k], text, &seq), 1);
                occurrences(&sink[0], text, &seq0);
                assert_int_equal(seq, seq0); /* one cluster-wide sequence */
            }
    }
    assert_true(wait_count(&sub, base_sub + NODES * PER_NODE + 2, GT_WAIT_MS));
    assert_ordered(&sub);
    assert_int_equal(occurrences(&sub, "once", NULL), 1);
    assert_int_equal(genesis_client_get_events_lost(cl), 0);

    /* The status shows the stream and this node's place in it. */
    genesis_result *st = NULL;
    assert_ok(genesis_coordinator_status(n[2], &st));
    size_t len = 0;
    const void *data = genesis_result_data(st, &len);
    json_t *doc = json_loadb(data, len, 0, NULL);
    json_t *local =
        json_object_get(json_object_get(json_object_get(doc, "cluster"), "events"), "local");
    assert_non_null(local);
    assert_string_equal(json_string_value(json_object_get(local, "stream")), "t_events_events");
    assert_int_equal(json_integer_value(json_object_get(local, "missed")), 0);
    assert_true(json_integer_value(json_object_get(local, "last_sequence")) >= (json_int_t)s1);
    json_decref(doc);
    genesis_result_free(st);

    genesis_client_free(cl);
    for (int i = 0; i < NODES; i++)
        genesis_coordinator_free(n[i]);
}

/* kill -9 of the events stream's leader while a node emits: every emit ends acknowledged (an
 * unacknowledged one is emitted again under its id), and both nodes deliver each event once,
 * in order. */
static void test_stream_leader_killed(void **state)
{
    (void)state;
    enum { EVENTS = 40 };
    static seen sink[2];
    seen_init(&sink[0]);
    seen_init(&sink[1]);
    genesis_coordinator *a = new_node("t_evkill", "a", &sink[0]);
    genesis_coordinator *b = new_node("t_evkill", "b", &sink[1]);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.source = "emitter";
    int retried = 0;
    for (int i = 0; i < EVENTS; i++) {
        if (i == EVENTS / 4) {
            int leader = gt_nats_stream_leader(&nats, "t_evkill_events");
            assert_true(leader >= 0);
            gt_nats_kill(&nats, leader);
        }
        char id[32], text[32];
        snprintf(id, sizeof(id), "kill-%d", i);
        snprintf(text, sizeof(text), "e0:%d", i);
        int64_t until = gt_now_ms() + NATS_FAULT_MS;
        int rv;
        while ((rv = genesis_coordinator_emit_id(a, id, 0, "test.tick", text, strlen(text), &opts,
                                                 NULL)) != GENESIS_OK) {
            assert_int_equal(rv, GENESIS_UNAVAILABLE);
            retried++;
            if (gt_now_ms() > until) {
                gt_nats_dump_logs(&nats, 40);
                fail_msg("event %d never acknowledged: %s", i, genesis_last_error());
            }
            gt_sleep_ms(100);
        }
    }
    for (int k = 0; k < 2; k++) {
        if (!wait_count(&sink[k], EVENTS, NATS_FAULT_MS)) {
            gt_nats_dump_logs(&nats, 40);
            fail_msg("node %d delivered %d of %d events", k, seen_count(&sink[k]), EVENTS);
        }
        assert_ordered(&sink[k]);
        for (int i = 0; i < EVENTS; i++) {
            char text[32];
            snprintf(text, sizeof(text), "e0:%d", i);
            assert_int_equal(occurrences(&sink[k], text, NULL), 1);
        }
    }
    print_message("emits repeated during the election: %d\n", retried);
    genesis_coordinator_free(b);
    genesis_coordinator_free(a);
}

/* A node whose buffer overflowed while the stream's byte limit removed the events it had not
 * read yet: it reads on from the oldest event left and counts the ones it missed, so that
 * what it delivered plus what it missed is everything published. */
typedef struct gate_reader {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    int delivered;
    uint64_t missed, last_seq;
} gate_reader;

static void gated_deliver(int scope, uint64_t seq, uint64_t missed, const void *data, size_t len,
                          void *arg)
{
    (void)scope;
    (void)data;
    (void)len;
    gate_reader *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->open) /* the first event holds the reader until the test opens the gate */
        pthread_cond_wait(&g->cv, &g->mu);
    g->delivered++;
    g->missed += missed;
    g->last_seq = seq;
    pthread_mutex_unlock(&g->mu);
}

static void test_gap_counted(void **state)
{
    (void)state;
    enum { EVENTS = 200 };
    genesis_cluster_options o = cluster_opts("t_evgap", "slow");
    o.events_max_bytes = 4096; /* a few dozen events */
    gn_cluster *slow = NULL, *fast = NULL;
    char why[512] = "";
    if (gn_cluster_open(&slow, &o, 3, 1 << 16, &quiet, why, sizeof(why)) != GENESIS_OK)
        fail_msg("open: %s", why);
    o.node_id = "fast";
    if (gn_cluster_open(&fast, &o, 3, 1 << 16, &quiet, why, sizeof(why)) != GENESIS_OK)
        fail_msg("open: %s", why);
    gate_reader g = {.open = false};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    gn_event_stream *es = gn_cluster_events(slow);
    gn_event_stream_set_buffer(es, 4);
    if (gn_event_stream_start(es, gated_deliver, &g, why, sizeof(why)) != GENESIS_OK)
        fail_msg("start: %s", why);
    gn_event_stream *pub = gn_cluster_events(fast);
    uint64_t seq = 0;
    bool dup = false;
    for (int i = 0; i < EVENTS; i++) {
        char id[32], text[64];
        snprintf(id, sizeof(id), "gap-%d", i);
        snprintf(text, sizeof(text), "event %d with a little padding ..........", i);
        if (gn_event_stream_publish(pub, 0, id, text, strlen(text), &seq, &dup, why, sizeof(why)) !=
            GENESIS_OK)
            fail_msg("publish %d: %s", i, why);
    }
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    /* Wait until the reader reached the end (the ordered consumer restarts after the
     * overflow by itself). */
    int64_t until = gt_now_ms() + GT_WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&g.mu);
        uint64_t last = g.last_seq;
        pthread_mutex_unlock(&g.mu);
        if (last >= seq)
            break;
        if (gt_now_ms() > until)
            fail_msg("reader at %llu of %llu", (unsigned long long)last, (unsigned long long)seq);
        gt_sleep_ms(10);
    }
    pthread_mutex_lock(&g.mu);
    assert_true(g.missed > 0);
    assert_int_equal((uint64_t)g.delivered + g.missed, EVENTS);
    pthread_mutex_unlock(&g.mu);
    assert_int_equal(gn_event_stream_missed(es, 0), g.missed);
    json_t *st = gn_cluster_status(slow);
    json_t *local = json_object_get(json_object_get(st, "events"), "local");
    assert_int_equal(json_integer_value(json_object_get(local, "missed")), (json_int_t)g.missed);
    json_decref(st);
    gn_cluster_close(fast);
    gn_cluster_close(slow);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
}

/* Every NATS server gone: an emit fails UNAVAILABLE saying it was not acknowledged, and the
 * emitting node does not deliver it by itself; with NATS back, emits are acknowledged and
 * delivered again without a restart. The failed one may arrive once (it may have been stored
 * after all), never twice. */
static void test_nats_lost_emit_unavailable(void **state)
{
    (void)state;
    static seen sink;
    seen_init(&sink);
    genesis_coordinator *a = new_node("t_evlost", "a", &sink);
    assert_ok(emit(a, 0, 0));
    assert_true(wait_count(&sink, 1, GT_WAIT_MS));
    for (int i = 0; i < nats.n; i++)
        gt_nats_kill(&nats, i);
    assert_status(emit(a, 0, 1), GENESIS_UNAVAILABLE);
    assert_non_null(strstr(genesis_last_error(), "did not acknowledge"));
    assert_int_equal(occurrences(&sink, "e0:1", NULL), 0);

    for (int i = 0; i < nats.n; i++)
        assert_int_equal(gt_nats_restart(&nats, i), 0);
    assert_true(gt_nats_wait_ready(&nats, 3, NATS_FAULT_MS));
    int64_t until = gt_now_ms() + NATS_FAULT_MS;
    while (emit(a, 0, 2) != GENESIS_OK) {
        if (gt_now_ms() > until) {
            gt_nats_dump_logs(&nats, 40);
            fail_msg("no emit acknowledged after NATS came back: %s", genesis_last_error());
        }
        gt_sleep_ms(100);
    }
    int64_t deadline = gt_now_ms() + NATS_FAULT_MS;
    while (occurrences(&sink, "e0:2", NULL) < 1 && gt_now_ms() < deadline)
        gt_sleep_ms(10);
    assert_true(occurrences(&sink, "e0:2", NULL) >= 1);
    assert_true(occurrences(&sink, "e0:1", NULL) <= 1);
    assert_ordered(&sink);
    genesis_coordinator_free(a);
}

int main(void)
{
    char server[256];
    if (!gt_nats_find_server(server, sizeof(server))) {
        fprintf(stderr, "skipped: nats-server is not installed (tools/setup installs it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_reach_every_node),
        cmocka_unit_test(test_gap_counted),
        cmocka_unit_test_teardown(test_stream_leader_killed, fault_teardown),
        cmocka_unit_test_teardown(test_nats_lost_emit_unavailable, fault_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
