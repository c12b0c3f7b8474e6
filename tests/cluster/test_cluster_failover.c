/* Callers failing over between cluster nodes: three genesisd nodes on a real 3-node NATS
 * JetStream cluster (all started by the test on free loopback ports), one remote component
 * registered with all of them (one genesis_service given every front door), and one client
 * given every front door and event bus. While two threads keep calling the component, one node
 * after another is killed -9 and started again on the same URLs:
 *   - every idempotent request is answered OK (the ones in flight on the lost node are sent
 *     again to another node within their deadline);
 *   - every non-idempotent request is answered OK, or fails UNAVAILABLE with reason
 *     UNREACHABLE and a message saying the node was lost and it may or may not have run;
 *   - events the component emits keep reaching the client's subscription from a live node;
 *   - the component registers again with the restarted node on its own;
 *   - genesisctl given every front door answers from a live node while one is down.
 * The counts and the OK ratios are printed.
 *
 * GENESIS_FAILOVER_KILLS sets the kill rounds (2 here; docs/cluster.md's long run uses 20). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_genesisd.h"
#include "gt_nats.h"
#include "gt_wait.h"

#define NODES        3
#define LEASE_TTL_MS 2000
#define RESTART_MS   (4 * GT_WAIT_MS) /* a restarted node first waits out its old lease */
#define CALL_MS      5000u
#define MARGIN       20u /* calls answered after each step before the next one */

static gt_nats_cluster nats;
static gt_genesisd nodes[NODES];
static char front_doors[NODES * 256];
static char event_buses[NODES * 256];

static int group_setup(void **state)
{
    (void)state;
    if (gt_nats_start(&nats, 3) != 0)
        return -1;
    for (int i = 0; i < NODES; i++) {
        char id[16];
        snprintf(id, sizeof(id), "f%d", i);
        if (gt_genesisd_start(&nodes[i], GENESISD_PATH, nats.urls, id, "tcp://127.0.0.1:0",
                              "tcp://127.0.0.1:0", LEASE_TTL_MS, RESTART_MS) != 0)
            return -1;
    }
    gt_genesisd_urls(nodes, NODES, false, front_doors, sizeof(front_doors));
    gt_genesisd_urls(nodes, NODES, true, event_buses, sizeof(event_buses));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    gt_process_kill_all();
    gt_nats_stop(&nats);
    return 0;
}

/* ---- the component: answers every request, counts what it ran --------------------------- */

static atomic_uint ran;

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    atomic_fetch_add(&ran, 1);
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

/* ---- the callers ---------------------------------------------------------------------------- */

typedef struct tally {
    atomic_uint ok;
    atomic_uint unavailable; /* lost node, may or may not have run: allowed when not idempotent */
    atomic_uint other;       /* anything else: a failure of the test */
    char first_other[300];
} tally;

typedef struct caller {
    genesis_client *cl;
    bool idempotent;
    tally t;
    atomic_bool stop;
    pthread_t thread;
} caller;

static void *call_loop(void *arg)
{
    caller *c = arg;
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = CALL_MS;
    o.idempotent = c->idempotent;
    while (!atomic_load(&c->stop)) {
        genesis_result *res = NULL;
        int rv = genesis_client_request(c->cl, "ledger", c->idempotent ? "get" : "put", NULL, 0, &o,
                                        &res);
        const char *msg = res != NULL ? genesis_result_message(res) : "";
        if (rv == GENESIS_OK) {
            atomic_fetch_add(&c->t.ok, 1);
        } else if (!c->idempotent && rv == GENESIS_UNAVAILABLE &&
                   genesis_result_reason(res) == GENESIS_REASON_UNREACHABLE &&
                   strstr(msg, "may or may not have run") != NULL) {
            atomic_fetch_add(&c->t.unavailable, 1);
        } else {
            if (atomic_fetch_add(&c->t.other, 1) == 0)
                snprintf(c->t.first_other, sizeof(c->t.first_other), "%s: %s",
                         genesis_status_name(rv), msg);
        }
        genesis_result_free(res);
    }
    return NULL;
}

static unsigned int answered(const caller *c)
{
    return atomic_load(&c->t.ok) + atomic_load(&c->t.unavailable) + atomic_load(&c->t.other);
}

typedef struct progress {
    const caller *c;
    unsigned int until;
} progress;

static bool made_progress(void *arg)
{
    const progress *p = arg;
    return atomic_load(&p->c->t.ok) >= p->until;
}

static void wait_progress(const caller *c)
{
    progress p = {c, atomic_load(&c->t.ok) + MARGIN};
    if (!gt_wait_until(made_progress, &p, GT_WAIT_MS))
        fail_msg("%s calls stopped succeeding (ok %u, unavailable %u, other %u: %s)",
                 c->idempotent ? "idempotent" : "non-idempotent", atomic_load(&c->t.ok),
                 atomic_load(&c->t.unavailable), atomic_load(&c->t.other), c->t.first_other);
}

/* ---- events ------------------------------------------------------------------------------- */

static atomic_uint events_seen;

static void on_event(const genesis_event *ev, void *arg)
{
    (void)arg;
    if (strcmp(genesis_event_type(ev), "tick") == 0)
        atomic_fetch_add(&events_seen, 1);
}

/* The component emits through some live node; true once the client saw one more event. */
static bool event_arrives(void *arg)
{
    genesis_service *svc = arg;
    unsigned int before = atomic_load(&events_seen);
    genesis_service_emit(svc, "tick", NULL, 0, NULL, NULL);
    gt_sleep_ms(20); /* a poll interval, not a threshold: gt_wait_until bounds the wait */
    return atomic_load(&events_seen) > before;
}

/* A client of node `at` alone reaches the component: it registered with that node. */
static bool registered_with(void *arg)
{
    const gt_genesisd *at = arg;
    genesis_client *cl = NULL;
    genesis_client_new(&cl, NULL);
    genesis_client_dial(cl, at->front_door, NULL);
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = 2000;
    int rv = genesis_client_request(cl, "ledger", "get", NULL, 0, &o, NULL);
    genesis_client_free(cl);
    return rv == GENESIS_OK;
}

/* genesisctl --url with every front door, one of them dead: the status comes from a live one. */
static void genesisctl_uses_a_live_node(void)
{
    const char *argv[] = {GENESISCTL_PATH, "--url",  front_doors, "--timeout",
                          "5000",          "status", NULL};
    int code = -1;
    char out[4096] = "", err[1024] = "";
    assert_int_equal(gt_run(argv, GT_WAIT_MS, &code, out, sizeof(out), err, sizeof(err)), 0);
    if (code != 0 || strstr(out, "ledger") == NULL)
        fail_msg("genesisctl --url %s status: exit %d: %s%s", front_doors, code, out, err);
}

static void test_callers_fail_over_while_nodes_die(void **state)
{
    (void)state;
    const char *env = getenv("GENESIS_FAILOVER_KILLS");
    int rounds = env != NULL && atoi(env) > 0 ? atoi(env) : 2;

    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    genesis_service *svc = NULL;
    assert_ok(genesis_service_new(&svc, "ledger", &comp, NULL));
    assert_ok(genesis_service_listen(svc, "tcp://127.0.0.1:0"));
    assert_ok(genesis_service_connect(svc, front_doors, event_buses, 0));
    for (int i = 0; i < NODES; i++)
        if (!gt_wait_until(registered_with, &nodes[i], GT_WAIT_MS))
            fail_msg("the component did not register with node %s", nodes[i].id);

    caller calls[2] = {{.idempotent = true}, {.idempotent = false}};
    for (int i = 0; i < 2; i++) {
        assert_ok(genesis_client_new(&calls[i].cl, NULL));
        assert_ok(genesis_client_dial(calls[i].cl, front_doors, i == 0 ? event_buses : NULL));
    }
    assert_ok(genesis_client_subscribe(calls[0].cl, "local:", on_event, NULL));
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&calls[i].thread, NULL, call_loop, &calls[i]), 0);
    for (int i = 0; i < 2; i++)
        wait_progress(&calls[i]);
    if (!gt_wait_until(event_arrives, svc, GT_WAIT_MS))
        fail_msg("no event reached the client before the kills");

    for (int round = 0; round < rounds; round++) {
        gt_genesisd *victim = &nodes[round % NODES];
        gt_genesisd_kill(victim);
        for (int i = 0; i < 2; i++)
            wait_progress(&calls[i]); /* the two other nodes carry the calls */
        if (!gt_wait_until(event_arrives, svc, GT_WAIT_MS))
            fail_msg("round %d: no event reached the client after %s died", round, victim->id);
        if (round == 0)
            genesisctl_uses_a_live_node();
        if (gt_genesisd_restart(victim, GENESISD_PATH, nats.urls, LEASE_TTL_MS, RESTART_MS) != 0)
            fail_msg("round %d: node %s did not start again", round, victim->id);
        if (!gt_wait_until(registered_with, victim, GT_WAIT_MS))
            fail_msg("round %d: the component did not register again with %s", round, victim->id);
        for (int i = 0; i < 2; i++)
            wait_progress(&calls[i]);
    }

    for (int i = 0; i < 2; i++) {
        atomic_store(&calls[i].stop, true);
        pthread_join(calls[i].thread, NULL);
    }
    for (int i = 0; i < 2; i++) {
        const tally *t = &calls[i].t;
        unsigned int n = answered(&calls[i]);
        printf("failover, %d kills: %s requests %u, OK %u (%.4f), UNAVAILABLE (may have run) %u, "
               "other %u\n",
               rounds, calls[i].idempotent ? "idempotent" : "non-idempotent", n,
               atomic_load(&t->ok), n > 0 ? (double)atomic_load(&t->ok) / n : 0.0,
               atomic_load(&t->unavailable), atomic_load(&t->other));
        if (atomic_load(&t->other) != 0)
            fail_msg("%s calls failed otherwise: %s",
                     calls[i].idempotent ? "idempotent" : "non-idempotent", t->first_other);
    }
    /* Every answered call ran at least once (idempotent ones may have run twice). */
    assert_true(atomic_load(&ran) >= atomic_load(&calls[0].t.ok) + atomic_load(&calls[1].t.ok));
    printf("events seen by the client: %u\n", atomic_load(&events_seen));
    for (int i = 0; i < 2; i++)
        genesis_client_free(calls[i].cl);
    genesis_service_free(svc);
}

int main(void)
{
    char server[256];
    if (!gt_nats_find_server(server, sizeof(server))) {
        fprintf(stderr, "skipped: nats-server is not installed (tools/setup installs it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callers_fail_over_while_nodes_die),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
