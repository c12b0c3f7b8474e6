/* Cluster mode: durable checkpoint commits through a clustered coordinator (NATS JetStream KV,
 * 3 replicas, and 1 replica) next to the local SQLite store (WAL, synchronous=FULL), same API
 * (a remote component's genesis_service_checkpoint over ipc), same record size, same run,
 * stepped in alternating blocks. The 3-node NATS cluster runs on loopback on this machine
 * (started here, stopped at the end). Figures are printed and written, never asserted.
 *
 *   bench_cluster [--quick] [--json FILE] [--repeats N] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_report.h"
#include "genesis/genesis.h"
#include "gt_nats.h"
#include "gt_tempdir.h"

#define SIZE  256
#define BLOCK 50

typedef struct side {
    const char *name;
    genesis_coordinator *co;
    genesis_service *svc;
    double *lat_us;
    size_t n;
} side;

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static int open_side(side *s, const char *dir, const char *tag, const char *nats_urls,
                     unsigned int replicas)
{
    char db[512], front[512], listen[512];
    snprintf(db, sizeof(db), "%s/%s.db", dir, tag);
    snprintf(front, sizeof(front), "ipc://%s/%s-front", dir, tag);
    snprintf(listen, sizeof(listen), "ipc://%s/%s-svc", dir, tag);
    genesis_coordinator_options opts;
    genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    int rv;
    if (nats_urls != NULL) {
        genesis_cluster_options c;
        genesis_cluster_options_init(&c, GENESIS_CLUSTER_OPTIONS_VERSION);
        c.nats_urls = nats_urls;
        c.node_id = tag;
        c.name = tag;
        c.replicas = replicas;
        rv = genesis_coordinator_new_clustered(&s->co, &opts, &c);
    } else {
        opts.checkpoint_store = db;
        rv = genesis_coordinator_new(&s->co, &opts);
    }
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    if (rv != GENESIS_OK || genesis_coordinator_listen(s->co, front, NULL) != GENESIS_OK ||
        genesis_service_new(&s->svc, "bench", &comp, NULL) != GENESIS_OK ||
        genesis_service_listen(s->svc, listen) != GENESIS_OK ||
        genesis_service_connect(s->svc, front, NULL, 10000) != GENESIS_OK) {
        fprintf(stderr, "bench_cluster: %s: %s\n", s->name, genesis_last_error());
        return 1;
    }
    return 0;
}

static void close_side(side *s)
{
    genesis_service_free(s->svc);
    if (s->co != NULL)
        genesis_coordinator_stop(s->co);
    genesis_coordinator_free(s->co);
    free(s->lat_us);
}

static int commit(side *s, const unsigned char *blob)
{
    uint64_t gen = 0;
    double t = bench_now_s();
    int rv = genesis_service_checkpoint(s->svc, blob, SIZE, 10000, &gen);
    if (rv != GENESIS_OK) {
        fprintf(stderr, "bench_cluster: %s checkpoint: %s (%s)\n", s->name, genesis_last_error(),
                genesis_status_name(rv));
        return 1;
    }
    s->lat_us[s->n++] = (bench_now_s() - t) * 1e6;
    return 0;
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, "bench_cluster [--quick] [--json FILE] [--repeats N]", 1, &a);
    size_t count = a.quick ? 200 : 2000;
    gt_nats_cluster nats;
    if (gt_nats_start(&nats, 3) != 0) {
        fprintf(stderr, "bench_cluster: cannot start 3 nats-servers (tools/setup installs "
                        "nats-server)\n");
        return 1;
    }
    char dir[256];
    if (gt_tempdir_make(dir, sizeof(dir)) != 0) {
        gt_nats_stop(&nats);
        return 1;
    }
    side sides[3] = {{.name = "sqlite"}, {.name = "cluster-r3"}, {.name = "cluster-r1"}};
    int failed = open_side(&sides[0], dir, "sqlite", NULL, 0) ||
                 open_side(&sides[1], dir, "r3", nats.urls, 3) ||
                 open_side(&sides[2], dir, "r1", nats.urls, 1);
    unsigned char blob[SIZE];
    memset(blob, 'x', sizeof(blob));
    double elapsed[3] = {0, 0, 0};
    for (int i = 0; i < 3 && !failed; i++) {
        sides[i].lat_us = calloc(count, sizeof(double));
        failed = sides[i].lat_us == NULL;
    }
    for (size_t done = 0; done < count && !failed; done += BLOCK) {
        for (int i = 0; i < 3 && !failed; i++) {
            double t = bench_now_s();
            for (size_t k = 0; k < BLOCK && done + k < count && !failed; k++)
                failed = commit(&sides[i], blob);
            elapsed[i] += bench_now_s() - t;
        }
    }
    bench_report rep = {.bench = "cluster"};
    if (!failed) {
        double rate[3], p50[3], p99[3];
        for (int i = 0; i < 3; i++) {
            rate[i] = (double)sides[i].n / elapsed[i];
            p50[i] = bench_percentile(sides[i].lat_us, sides[i].n, 0.50) / 1000.0;
            p99[i] = bench_percentile(sides[i].lat_us, sides[i].n, 0.99) / 1000.0;
        }
        const char *base = "local SQLite store (WAL, synchronous=FULL), same API";
        bench_add(&rep, "cluster checkpoint, 3 replicas, 256 B: commits/s", rate[1], "per s", base,
                  rate[0], NULL, BENCH_MET_NONE);
        bench_add(&rep, "cluster checkpoint, 3 replicas: p50", p50[1], "ms", base, p50[0], NULL,
                  BENCH_MET_NONE);
        bench_add(&rep, "cluster checkpoint, 3 replicas: p99", p99[1], "ms", base, p99[0],
                  "< 5 ms on loopback", p99[1] < 5.0 ? BENCH_MET_YES : BENCH_MET_NO);
        bench_add(&rep, "cluster checkpoint, 1 replica, 256 B: commits/s", rate[2], "per s", base,
                  rate[0], NULL, BENCH_MET_NONE);
        bench_add(&rep, "cluster checkpoint, 1 replica: p99", p99[2], "ms", base, p99[0], NULL,
                  BENCH_MET_NONE);
    }
    for (int i = 2; i >= 0; i--)
        close_side(&sides[i]);
    gt_tempdir_remove(dir);
    gt_nats_stop(&nats);
    if (failed)
        return 1;
    return bench_write(&rep, a.json) == 0 ? 0 : 1;
}
