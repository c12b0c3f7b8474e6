/* Three genesisd nodes on a real 3-node NATS JetStream cluster (all started by the test on
 * free loopback ports): the nodes see each other in their status; a second node with a live
 * node's id, NATS unreachable and more replicas than servers are refused at start with a
 * message naming the cause; a remote component's acknowledged checkpoints survive kill -9 of
 * the node it was registered with and come back when it registers with another node
 * (generations only increase); with NATS lost, requests to live components keep working,
 * checkpoints fail UNAVAILABLE and the status says degraded, and everything heals once NATS
 * is back.
 *
 * GENESIS_CLUSTER_KILLS sets the kill -9 rounds (3 here; docs/cluster.md's long run uses 20). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_genesisd.h"
#include "gt_nats.h"
#include "gt_process.h"
#include "gt_wait.h"

#define NODES      3
#define LEASE_TTL  "2000"
#define RESTART_MS (4 * GT_WAIT_MS)

typedef gt_genesisd node;

static gt_nats_cluster nats;
static node nodes[NODES];

/* Node id on the shared NATS cluster, with the demo components; a restarted node waits out
 * its own previous lease first (TTL), hence RESTART_MS. */
static void start_node(node *n, const char *id, const char *front_door)
{
    static const char *const demo[] = {"--demo", NULL};
    if (gt_genesisd_start_with(n, GENESISD_PATH, nats.urls, id, front_door, "tcp://127.0.0.1:0",
                               atoi(LEASE_TTL), RESTART_MS, demo) != 0)
        fail_msg("genesisd %s did not start", id);
}

static int group_setup(void **state)
{
    (void)state;
    if (gt_nats_start(&nats, 3) != 0)
        return -1;
    for (int i = 0; i < NODES; i++) {
        char id[16];
        snprintf(id, sizeof(id), "n%d", i);
        start_node(&nodes[i], id, "tcp://127.0.0.1:0");
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    gt_process_kill_all();
    gt_nats_stop(&nats);
    return 0;
}

static genesis_client *client_for(const char *front)
{
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_ok(genesis_client_dial(cl, front, NULL));
    return cl;
}

static int request(const char *front, const char *target, const char *type, char *out, size_t size)
{
    genesis_client *cl = client_for(front);
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = 5000;
    genesis_result *res = NULL;
    int rv = genesis_client_request(cl, target, type, NULL, 0, &o, &res);
    if (out != NULL)
        snprintf(out, size, "%s",
                 rv == GENESIS_OK ? (const char *)genesis_result_data(res, NULL)
                                  : genesis_result_message(res));
    genesis_result_free(res);
    genesis_client_free(cl);
    return rv;
}

/* The status report's "cluster" section of the node at front (new reference) or NULL. */
static json_t *cluster_status(const char *front)
{
    genesis_client *cl = client_for(front);
    genesis_result *res = NULL;
    json_t *cluster = NULL;
    if (genesis_client_status(cl, 3000, &res) == GENESIS_OK) {
        json_t *doc = json_loads(genesis_result_data(res, NULL), 0, NULL);
        cluster = json_incref(json_object_get(doc, "cluster"));
        json_decref(doc);
    }
    genesis_result_free(res);
    genesis_client_free(cl);
    return cluster;
}

static bool sees_all_nodes(void *arg)
{
    json_t *c = cluster_status(arg);
    bool all = c != NULL && json_array_size(json_object_get(c, "nodes")) == NODES &&
               strcmp(json_string_value(json_object_get(c, "state")), "ok") == 0;
    json_decref(c);
    return all;
}

static void test_nodes_see_each_other(void **state)
{
    (void)state;
    for (int i = 0; i < NODES; i++) {
        if (!gt_wait_until(sees_all_nodes, nodes[i].front_door, GT_WAIT_MS))
            fail_msg("node %s does not see %d nodes", nodes[i].id, NODES);
    }
    json_t *c = cluster_status(nodes[0].front_door);
    json_t *item;
    size_t i;
    int with_urls = 0;
    json_array_foreach(json_object_get(c, "nodes"), i, item)
    {
        const char *fd = json_string_value(json_object_get(item, "front_door"));
        for (int k = 0; k < NODES; k++)
            with_urls += fd != NULL && strcmp(fd, nodes[k].front_door) == 0;
        assert_true(json_integer_value(json_object_get(item, "last_seen_ms")) >= 0);
    }
    assert_int_equal(with_urls, NODES);
    json_decref(c);
}

/* Runs genesisd with extra flags to completion; its exit code and stderr. */
static int run_genesisd(const char *const *flags, char *err, size_t size)
{
    const char *argv[32] = {GENESISD_PATH, "--front-door",      "tcp://127.0.0.1:0",
                            "--events",    "tcp://127.0.0.1:0", "--http",
                            "off"};
    size_t n = 7;
    for (size_t i = 0; flags[i] != NULL && n < 31; i++)
        argv[n++] = flags[i];
    argv[n] = NULL;
    int code = -1;
    assert_int_equal(gt_run(argv, RESTART_MS, &code, NULL, 0, err, size), 0);
    return code;
}

static void test_start_refusals(void **state)
{
    (void)state;
    static char err[8192];
    /* The id of a live node: refused, naming the holder (its front door). */
    const char *dup[] = {"--cluster-nats",      nats.urls, "--node-id", "n1",
                         "--cluster-lease-ttl", LEASE_TTL, NULL};
    assert_int_equal(run_genesisd(dup, err, sizeof(err)), 1);
    assert_non_null(strstr(err, "node id 'n1' is already in use"));
    assert_non_null(strstr(err, nodes[1].front_door));

    const char *down[] = {"--cluster-nats", "nats://127.0.0.1:1,nats://127.0.0.1:2", "--node-id",
                          "x", NULL};
    assert_int_equal(run_genesisd(down, err, sizeof(err)), 1);
    assert_non_null(strstr(err, "cannot reach NATS at nats://127.0.0.1:1,nats://127.0.0.1:2"));

    const char *too_many[] = {
        "--cluster-nats", nats.urls, "--node-id", "x", "--cluster-replicas", "5",
        "--cluster-name", "other",   NULL};
    assert_int_equal(run_genesisd(too_many, err, sizeof(err)), 1);
    assert_non_null(strstr(err, "cannot keep 5 replicas"));

    const char *no_id[] = {"--cluster-nats", nats.urls, NULL};
    assert_int_equal(run_genesisd(no_id, err, sizeof(err)), 2);
    assert_non_null(strstr(err, "--node-id"));
}

/* A checkpoint_service registered with node `at`; waits for its ready line. */
static void start_service(gt_process *p, const node *at)
{
    const char *argv[] = {CHECKPOINT_SERVICE_PATH, "--id",         "ledger",
                          "--front-door",          at->front_door, NULL};
    assert_int_equal(gt_process_spawn(p, argv, GT_CAPTURE_STDOUT), 0);
    char line[512];
    if (!gt_process_wait_line(p, "ready ", line, sizeof(line), GT_WAIT_MS))
        fail_msg("checkpoint_service did not register with %s", at->id);
}

static unsigned long field(const char *text, const char *name)
{
    const char *at = strstr(text, name);
    return at != NULL ? strtoul(at + strlen(name), NULL, 10) : 0;
}

/* kill -9 of the node a component checkpoints through, round after round: the component,
 * registered with the next node, gets its newest acknowledged state back; generations only
 * increase; the killed node comes back under its own id once its lease expired. */
static void test_checkpoints_survive_node_kills(void **state)
{
    (void)state;
    const char *env = getenv("GENESIS_CLUSTER_KILLS");
    int rounds = env != NULL ? atoi(env) : 3;
    unsigned long acked_count = 0, acked_gen = 0;
    char out[512];
    for (int round = 0; round < rounds; round++) {
        node *at = &nodes[round % NODES];
        gt_process svc;
        start_service(&svc, at);
        assert_int_equal(request(at->front_door, "ledger", "count", out, sizeof(out)), GENESIS_OK);
        /* The newest acknowledged state, whichever node acknowledged it. */
        assert_int_equal(field(out, "count="), acked_count);
        assert_int_equal(field(out, "restored="), acked_gen);
        for (int i = 0; i < 3; i++) {
            int rv = request(at->front_door, "ledger", "incr", out, sizeof(out));
            if (rv != GENESIS_OK)
                fail_msg("incr through %s: %s", at->id, out);
            unsigned long gen = field(out, "gen=");
            assert_true(gen > acked_gen); /* only increases */
            acked_gen = gen;
            acked_count = field(out, "count=");
        }
        gt_process_kill(&svc);
        /* kill -9 the node and start it again under the same id. */
        gt_process_kill(&at->proc);
        char id[16];
        snprintf(id, sizeof(id), "%s", at->id);
        start_node(at, id, "tcp://127.0.0.1:0");
    }
    for (int i = 0; i < NODES; i++) {
        if (!gt_wait_until(sees_all_nodes, nodes[i].front_door, GT_WAIT_MS))
            fail_msg("node %s does not see %d nodes after the kills", nodes[i].id, NODES);
    }
}

static bool degraded(void *arg)
{
    json_t *c = cluster_status(arg);
    bool d = c != NULL && strcmp(json_string_value(json_object_get(c, "state")), "degraded") == 0;
    json_decref(c);
    return d;
}

/* NATS gone while the nodes run: live components keep answering, checkpoints fail
 * UNAVAILABLE (not acknowledged), status degraded; NATS back: healed without restarts. */
static void test_nats_lost_while_running(void **state)
{
    (void)state;
    node *at = &nodes[2];
    gt_process svc;
    start_service(&svc, at);
    char out[512];
    assert_int_equal(request(at->front_door, "ledger", "incr", out, sizeof(out)), GENESIS_OK);
    for (int i = 0; i < nats.n; i++)
        gt_nats_kill(&nats, i);
    assert_true(gt_wait_until(degraded, at->front_door, GT_WAIT_MS));
    assert_int_equal(request(at->front_door, "comp1", "ping", out, sizeof(out)), GENESIS_OK);
    assert_int_equal(request(at->front_door, "ledger", "count", out, sizeof(out)), GENESIS_OK);
    int rv = request(at->front_door, "ledger", "incr", out, sizeof(out));
    if (rv != GENESIS_UNAVAILABLE || strstr(out, "not acknowledged") == NULL)
        fail_msg("incr with NATS down: %s: %s", genesis_status_name(rv), out);

    for (int i = 0; i < nats.n; i++)
        assert_int_equal(gt_nats_restart(&nats, i), 0);
    assert_true(gt_nats_wait_ready(&nats, 3, 6 * GT_WAIT_MS));
    for (int i = 0; i < NODES; i++) {
        if (!gt_wait_until(sees_all_nodes, nodes[i].front_door, 6 * GT_WAIT_MS))
            fail_msg("node %s did not heal after NATS came back", nodes[i].id);
    }
    int64_t until = gt_now_ms() + 6 * GT_WAIT_MS;
    while ((rv = request(at->front_door, "ledger", "incr", out, sizeof(out))) != GENESIS_OK) {
        if (gt_now_ms() > until)
            fail_msg("checkpoints did not come back: %s", out);
        gt_sleep_ms(100);
    }
    gt_process_kill(&svc);
}

int main(void)
{
    char server[256];
    if (!gt_nats_find_server(server, sizeof(server))) {
        fprintf(stderr, "skipped: nats-server is not installed (tools/setup installs it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_see_each_other),
        cmocka_unit_test(test_start_refusals),
        cmocka_unit_test(test_checkpoints_survive_node_kills),
        cmocka_unit_test(test_nats_lost_while_running),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
