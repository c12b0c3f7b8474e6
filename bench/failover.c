/* Requests through a cluster: the throughput of one client given every front door next to one
 * given a single node, and the failover time: how long after a genesisd node is killed (-9)
 * the requests that were in flight on it are answered by another node, next to the healthy
 * request latency measured in the same run. Three genesisd nodes on a 3-node NATS cluster
 * (loopback, started here, stopped at the end), one remote component registered with all of them,
 * one client given every front door.
 *
 * Each kill: the component holds its handlers at a gate while the client has IN_FLIGHT
 * idempotent requests out, spread over the three nodes; the node is killed, the gate opens,
 * and the time from the kill to the last of those requests answered OK is the failover time
 * (the ones on the killed node are sent again to another node by the client; the others only
 * wait for the gate). The node is then started again and the component registers with it
 * again before the next kill. The throughput rounds run after the kills, gate open: WINDOW
 * requests kept in flight, through node b0 alone and then spread over all three, alternately.
 * Figures are printed and written, never asserted.
 *
 *   bench_failover [--quick] [--json FILE] [--repeats N]     (--quick: 3 kills, else 20) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_report.h"
#include "genesis/genesis.h"
#include "gt_genesisd.h"
#include "gt_nats.h"

#define NODES        3
#define IN_FLIGHT    6 /* two per node */
#define LEASE_TTL_MS 2000
#define START_MS     40000
#define CALL_MS      5000u
#define WINDOW       64 /* requests in flight in the throughput rounds */

/* ---- the component: a gate its handlers wait at ----------------------------------------- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed;
static int waiting; /* handlers at the closed gate */

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    pthread_mutex_lock(&gate_lock);
    waiting++;
    pthread_cond_broadcast(&gate_cv);
    while (gate_closed)
        pthread_cond_wait(&gate_cv, &gate_lock);
    waiting--;
    pthread_mutex_unlock(&gate_lock);
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static void set_gate(bool closed)
{
    pthread_mutex_lock(&gate_lock);
    gate_closed = closed;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_lock);
}

/* Wait until n handlers are at the gate (the requests reached the component), at most ~10 s. */
static bool wait_at_gate(int n)
{
    double until = bench_now_s() + 10.0;
    pthread_mutex_lock(&gate_lock);
    while (waiting < n && bench_now_s() < until) {
        pthread_mutex_unlock(&gate_lock);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&gate_lock);
    }
    bool all = waiting >= n;
    pthread_mutex_unlock(&gate_lock);
    return all;
}

/* ---- asynchronous requests and when they completed ---------------------------------------- */

typedef struct batch {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int done, ok;
    double last_s; /* when the last one completed */
    char failure[256];
} batch;

static void request_done(genesis_result *res, void *arg)
{
    batch *b = arg;
    double now = bench_now_s();
    pthread_mutex_lock(&b->lock);
    if (genesis_result_status(res) == GENESIS_OK)
        b->ok++;
    else if (b->failure[0] == '\0')
        snprintf(b->failure, sizeof(b->failure), "%s", genesis_result_message(res));
    b->done++;
    b->last_s = now;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->lock);
    genesis_result_free(res);
}

static genesis_call_options idempotent_call(void)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = CALL_MS;
    o.idempotent = 1;
    return o;
}

/* ---- throughput: WINDOW requests kept in flight ------------------------------------------ */

typedef struct window {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int in_flight;
    size_t done, failed;
} window;

static void window_done(genesis_result *res, void *arg)
{
    window *w = arg;
    pthread_mutex_lock(&w->lock);
    if (genesis_result_status(res) != GENESIS_OK)
        w->failed++;
    w->done++;
    w->in_flight--;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->lock);
    genesis_result_free(res);
}

/* Requests per second answered through cl for total requests; 0 when any failed. */
static double throughput(genesis_client *cl, size_t total)
{
    window w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    double t0 = bench_now_s();
    for (size_t sent = 0; sent < total; sent++) {
        pthread_mutex_lock(&w.lock);
        while (w.in_flight >= WINDOW)
            pthread_cond_wait(&w.cv, &w.lock);
        w.in_flight++;
        pthread_mutex_unlock(&w.lock);
        genesis_call_options o = idempotent_call();
        if (genesis_client_request_async(cl, "bench", "get", NULL, 0, &o, window_done, &w) !=
            GENESIS_OK) {
            pthread_mutex_lock(&w.lock);
            w.in_flight--;
            w.failed++;
            w.done++;
            pthread_mutex_unlock(&w.lock);
        }
    }
    pthread_mutex_lock(&w.lock);
    while (w.done < total)
        pthread_cond_wait(&w.cv, &w.lock);
    pthread_mutex_unlock(&w.lock);
    double s = bench_now_s() - t0;
    if (w.failed > 0) {
        fprintf(stderr, "bench_failover: %zu of %zu throughput requests failed\n", w.failed, total);
        return 0;
    }
    return (double)total / s;
}

/* ---- the cluster ------------------------------------------------------------------------- */

/* A client of `front` alone reaches the component (it registered with that node). */
static bool registered_with(const char *front)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        genesis_client *cl = NULL;
        genesis_client_new(&cl, NULL);
        genesis_client_dial(cl, front, NULL);
        genesis_call_options o = idempotent_call();
        o.timeout_ms = 1000;
        int rv = genesis_client_request(cl, "bench", "get", NULL, 0, &o, NULL);
        genesis_client_free(cl);
        if (rv == GENESIS_OK)
            return true;
    }
    return false;
}

/* The failover client is connected to every node: its status queries come back from each. */
static bool reaches_all_nodes(genesis_client *cl, gt_genesisd *nodes)
{
    bool seen[NODES] = {false};
    double until = bench_now_s() + 20.0; /* reconnects back off up to 0.5 s */
    while (bench_now_s() < until) {
        genesis_result *res = NULL;
        if (genesis_client_status(cl, 2000, &res) == GENESIS_OK) {
            const char *doc = genesis_result_data(res, NULL);
            for (int i = 0; i < NODES; i++) {
                char key[64];
                snprintf(key, sizeof(key), "\"node_id\":\"%s\"", nodes[i].id);
                seen[i] = seen[i] || (doc != NULL && strstr(doc, key) != NULL);
            }
        }
        genesis_result_free(res);
        if (seen[0] && seen[1] && seen[2])
            return true;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < NODES; i++)
        if (!seen[i])
            fprintf(stderr, "bench_failover: no status from node %s\n", nodes[i].id);
    return false;
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, "bench_failover [--quick] [--json FILE] [--repeats N]", 3, &a);
    int kills = a.quick ? 3 : 20;
    size_t healthy_count = a.quick ? 300 : 3000;
    size_t throughput_count = a.quick ? 2000 : 20000;
    gt_nats_cluster nats;
    if (gt_nats_start(&nats, 3) != 0) {
        fprintf(stderr, "bench_failover: cannot start 3 nats-servers (tools/setup installs "
                        "nats-server)\n");
        return 1;
    }
    gt_genesisd nodes[NODES];
    memset(nodes, 0, sizeof(nodes));
    int failed = 0;
    for (int i = 0; i < NODES && !failed; i++) {
        char id[16];
        snprintf(id, sizeof(id), "b%d", i);
        failed = gt_genesisd_start(&nodes[i], GENESISD_PATH, nats.urls, id, "tcp://127.0.0.1:0",
                                   "tcp://127.0.0.1:0", LEASE_TTL_MS, START_MS) != 0;
    }
    char fronts[NODES * 256];
    gt_genesisd_urls(nodes, NODES, false, fronts, sizeof(fronts));
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    genesis_service *svc = NULL;
    genesis_client *cl = NULL;
    if (!failed && (genesis_service_new(&svc, "bench", &comp, NULL) != GENESIS_OK ||
                    genesis_service_listen(svc, "tcp://127.0.0.1:0") != GENESIS_OK ||
                    genesis_service_connect(svc, fronts, NULL, 10000) != GENESIS_OK ||
                    genesis_client_new(&cl, NULL) != GENESIS_OK ||
                    genesis_client_dial(cl, fronts, NULL) != GENESIS_OK)) {
        fprintf(stderr, "bench_failover: %s\n", genesis_last_error());
        failed = 1;
    }
    for (int i = 0; i < NODES && !failed; i++)
        failed = !registered_with(nodes[i].front_door);

    /* Healthy latency: one request at a time through the same client, gate open. */
    double *healthy = calloc(healthy_count, sizeof(double));
    size_t nh = 0;
    failed = failed || healthy == NULL || !reaches_all_nodes(cl, nodes);
    for (size_t i = 0; i < healthy_count && !failed; i++) {
        genesis_call_options o = idempotent_call();
        double t = bench_now_s();
        if (genesis_client_request(cl, "bench", "get", NULL, 0, &o, NULL) != GENESIS_OK) {
            fprintf(stderr, "bench_failover: healthy request: %s\n", genesis_last_error());
            failed = 1;
        }
        healthy[nh++] = (bench_now_s() - t) * 1e3;
    }

    double *failover = calloc((size_t)kills, sizeof(double));
    int nf = 0, in_flight_ok = 0, in_flight = 0;
    for (int k = 0; k < kills && !failed && failover != NULL; k++) {
        gt_genesisd *victim = &nodes[k % NODES];
        if (!reaches_all_nodes(cl, nodes)) {
            fprintf(stderr, "bench_failover: the client does not reach every node\n");
            failed = 1;
            break;
        }
        batch b = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
        set_gate(true);
        for (int i = 0; i < IN_FLIGHT; i++) {
            genesis_call_options o = idempotent_call();
            if (genesis_client_request_async(cl, "bench", "get", NULL, 0, &o, request_done, &b) !=
                GENESIS_OK)
                failed = 1;
        }
        if (failed || !wait_at_gate(IN_FLIGHT)) {
            fprintf(stderr, "bench_failover: the requests did not reach the component\n");
            set_gate(false);
            failed = 1;
            break;
        }
        double killed_s = bench_now_s();
        gt_genesisd_kill(victim);
        set_gate(false);
        pthread_mutex_lock(&b.lock);
        while (b.done < IN_FLIGHT)
            pthread_cond_wait(&b.cv, &b.lock);
        pthread_mutex_unlock(&b.lock);
        in_flight += IN_FLIGHT;
        in_flight_ok += b.ok;
        if (b.ok == IN_FLIGHT)
            failover[nf++] = (b.last_s - killed_s) * 1e3;
        else
            fprintf(stderr, "bench_failover: kill %d: %d of %d in-flight requests failed: %s\n", k,
                    IN_FLIGHT - b.ok, IN_FLIGHT, b.failure);
        if (gt_genesisd_restart(victim, GENESISD_PATH, nats.urls, LEASE_TTL_MS, START_MS) != 0 ||
            !registered_with(victim->front_door)) {
            fprintf(stderr, "bench_failover: node %s did not come back\n", victim->id);
            failed = 1;
        }
    }

    /* Throughput through node b0 alone, then through all three, alternately (medians); after
     * the kills, whose timing the load of these rounds would disturb. */
    double one_rps[9], all_rps[9];
    int rounds = a.repeats > 9 ? 9 : a.repeats, nr = 0;
    genesis_client *single = NULL;
    if (!failed && (genesis_client_new(&single, NULL) != GENESIS_OK ||
                    genesis_client_dial(single, nodes[0].front_door, NULL) != GENESIS_OK)) {
        fprintf(stderr, "bench_failover: %s\n", genesis_last_error());
        failed = 1;
    }
    for (int r = 0; r < rounds && !failed; r++, nr++) {
        one_rps[r] = throughput(single, throughput_count);
        all_rps[r] = throughput(cl, throughput_count);
        failed = one_rps[r] <= 0 || all_rps[r] <= 0;
    }
    genesis_client_free(single);

    bench_report rep = {.bench = "failover"};
    if (!failed && nr > 0) {
        char base[160];
        snprintf(base, sizeof(base), "one client through node b0 alone, same run (%d in flight)",
                 WINDOW);
        bench_add(&rep, "requests through 3 nodes, one client given every front door",
                  bench_median(all_rps, nr), "req/s", base, bench_median(one_rps, nr), NULL,
                  BENCH_MET_NONE);
    }
    if (!failed && nf > 0 && nh > 0) {
        double h50 = bench_percentile(healthy, nh, 0.50);
        double h99 = bench_percentile(healthy, nh, 0.99);
        double f50 = bench_percentile(failover, (size_t)nf, 0.50);
        double f99 = bench_percentile(failover, (size_t)nf, 0.99);
        char base50[160], base99[160], what[160];
        snprintf(base50, sizeof(base50), "healthy request p50, same client and run (%zu requests)",
                 nh);
        snprintf(base99, sizeof(base99), "healthy request p99, same client and run (%zu requests)",
                 nh);
        snprintf(what, sizeof(what),
                 "failover, kill -9 to in-flight requests answered: p50 (%d kills)", nf);
        bench_add(&rep, what, f50, "ms", base50, h50, NULL, BENCH_MET_NONE);
        snprintf(what, sizeof(what),
                 "failover, kill -9 to in-flight requests answered: p99 (%d kills)", nf);
        bench_add(&rep, what, f99, "ms", base99, h99, NULL, BENCH_MET_NONE);
        bench_add(&rep, "failover: in-flight idempotent requests answered OK", in_flight_ok,
                  "requests", "requests in flight at the kills", in_flight, "all",
                  in_flight_ok == in_flight ? BENCH_MET_YES : BENCH_MET_NO);
    }
    genesis_client_free(cl);
    genesis_service_free(svc);
    gt_process_kill_all();
    gt_nats_stop(&nats);
    free(healthy);
    free(failover);
    if (failed || nf == 0)
        return 1;
    return bench_write(&rep, a.json) == 0 ? 0 : 1;
}
