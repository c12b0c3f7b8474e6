/* Cluster-wide events: emit -> delivery through the cluster's JetStream event stream (3
 * replicas, 3-node NATS on loopback, started here) against a single coordinator's in-process
 * event bus, same API (genesis_coordinator_emit to an in-process component), same payload,
 * same run. One emitter emits one event at a time, at most 32 on their way (an emit returns once
 * JetStream acknowledged it in cluster mode); the receiving component sits on another node (across
 * nodes) or on the emitting one. Latency is measured from before the emit to the receiving
 * on_event. Figures are printed and written, never asserted.
 *
 *   bench_cluster_events [--quick] [--json FILE] [--repeats N] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_report.h"
#include "genesis/genesis.h"
#include "gt_nats.h"

#define WINDOW 32 /* events emitted but not yet received, at most (the queues hold 50) */

typedef struct sink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    double *lat_us; /* by event index */
    size_t count, got;
} sink;

typedef struct stamp {
    uint64_t index;
    double sent_s;
} stamp;

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static void on_event(const genesis_event *ev, void *arg)
{
    sink *s = arg;
    size_t len = 0;
    const void *data = genesis_event_data(ev, &len);
    stamp st;
    if (len != sizeof(st))
        return;
    memcpy(&st, data, sizeof(st));
    double now = bench_now_s();
    pthread_mutex_lock(&s->mu);
    if (st.index < s->count) {
        s->lat_us[st.index] = (now - st.sent_s) * 1e6;
        s->got++;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

static int add_sink(genesis_coordinator *co, sink *s, size_t count)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->count = count;
    s->lat_us = calloc(count, sizeof(double));
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_request,
                              .on_event = on_event,
                              .arg = s};
    return s->lat_us != NULL && genesis_coordinator_register(co, "sink", &comp) == GENESIS_OK ? 0
                                                                                              : 1;
}

static void reset_sink(sink *s)
{
    pthread_mutex_lock(&s->mu);
    s->got = 0;
    pthread_mutex_unlock(&s->mu);
}

static void wait_sink(sink *s, size_t n)
{
    pthread_mutex_lock(&s->mu);
    while (s->got < n)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* Emit count events at co; events/s until every sink got them all. */
static int run(genesis_coordinator *co, sink **sinks, int n_sinks, size_t count, double *rate)
{
    for (int k = 0; k < n_sinks; k++)
        reset_sink(sinks[k]);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.source = "bench";
    double t0 = bench_now_s();
    for (size_t i = 0; i < count; i++) {
        /* At most WINDOW events on their way, so that no component's queue overflows. */
        for (int k = 0; k < n_sinks && i >= WINDOW; k++)
            wait_sink(sinks[k], i - WINDOW);
        stamp st = {.index = i, .sent_s = bench_now_s()};
        int rv = genesis_coordinator_emit(co, "bench.tick", &st, sizeof(st), &opts, NULL, NULL);
        if (rv != GENESIS_OK) {
            fprintf(stderr, "bench_cluster_events: emit: %s\n", genesis_last_error());
            return 1;
        }
    }
    for (int k = 0; k < n_sinks; k++)
        wait_sink(sinks[k], count);
    *rate = (double)count / (bench_now_s() - t0);
    return 0;
}

static genesis_coordinator *clustered(const char *urls, const char *node)
{
    genesis_coordinator_options opts;
    genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    opts.log_level = GENESIS_LOG_ERROR;
    genesis_cluster_options c;
    genesis_cluster_options_init(&c, GENESIS_CLUSTER_OPTIONS_VERSION);
    c.nats_urls = urls;
    c.node_id = node;
    c.name = "bench_events";
    genesis_coordinator *co = NULL;
    if (genesis_coordinator_new_clustered(&co, &opts, &c) != GENESIS_OK) {
        fprintf(stderr, "bench_cluster_events: node %s: %s\n", node, genesis_last_error());
        return NULL;
    }
    return co;
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, "bench_cluster_events [--quick] [--json FILE] [--repeats N]", 1,
                     &a);
    size_t count = a.quick ? 300 : 3000;
    gt_nats_cluster nats;
    if (gt_nats_start(&nats, 3) != 0) {
        fprintf(stderr, "bench_cluster_events: cannot start 3 nats-servers (tools/setup installs "
                        "nats-server)\n");
        return 1;
    }
    genesis_coordinator_options opts;
    genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    genesis_coordinator *single = NULL;
    genesis_coordinator *na = clustered(nats.urls, "a");
    genesis_coordinator *nb = na != NULL ? clustered(nats.urls, "b") : NULL;
    static sink s_single, s_a, s_b;
    int failed = na == NULL || nb == NULL ||
                 genesis_coordinator_new(&single, &opts) != GENESIS_OK ||
                 add_sink(single, &s_single, count) || add_sink(na, &s_a, count) ||
                 add_sink(nb, &s_b, count);
    double rate_single = 0, rate_cluster = 0;
    double p50[3] = {0}, p99[3] = {0};
    if (!failed) {
        sink *one[1] = {&s_single}, *both[2] = {&s_a, &s_b};
        /* a short warm-up of each, then the measured runs in the same order */
        double ignored;
        failed = run(single, one, 1, count / 10, &ignored) ||
                 run(na, both, 2, count / 10, &ignored) ||
                 run(single, one, 1, count, &rate_single) || run(na, both, 2, count, &rate_cluster);
    }
    bench_report rep = {.bench = "cluster_events"};
    if (!failed) {
        sink *order[3] = {&s_single, &s_b, &s_a};
        for (int i = 0; i < 3; i++) {
            p50[i] = bench_percentile(order[i]->lat_us, count, 0.50);
            p99[i] = bench_percentile(order[i]->lat_us, count, 0.99);
        }
        const char *base = "one coordinator's in-process event bus, same API and payload";
        bench_add(&rep, "cluster events, 3 replicas, one emitter: events/s", rate_cluster, "per s",
                  base, rate_single, NULL, BENCH_MET_NONE);
        bench_add(&rep, "cluster event emit -> delivery on another node: p50", p50[1], "us", base,
                  p50[0], NULL, BENCH_MET_NONE);
        bench_add(&rep, "cluster event emit -> delivery on another node: p99", p99[1], "us", base,
                  p99[0], NULL, BENCH_MET_NONE);
        bench_add(&rep, "cluster event emit -> delivery on the emitting node: p50", p50[2], "us",
                  base, p50[0], NULL, BENCH_MET_NONE);
        bench_add(&rep, "cluster event emit -> delivery on the emitting node: p99", p99[2], "us",
                  base, p99[0], NULL, BENCH_MET_NONE);
    }
    genesis_coordinator_free(nb);
    genesis_coordinator_free(na);
    genesis_coordinator_free(single);
    gt_nats_stop(&nats);
    if (failed)
        return 1;
    return bench_write(&rep, a.json) == 0 ? 0 : 1;
}
