/* A real NATS cluster for tests: N nats-server processes with JetStream on free loopback
 * ports, each with its own store_dir under a private temp dir, routed to each other. Nodes can
 * be killed (-9), paused (SIGSTOP), resumed and restarted on the same ports and store.
 *
 * gt_nats_stop always kills every node and removes the directory: call it from the group
 * teardown. The servers are children of the test (PDEATHSIG), so even a test killed by ctest's
 * timeout leaves none behind. Spawn from the main thread only. */
#ifndef GT_NATS_H
#define GT_NATS_H

#include <stdbool.h>

#include "gt_process.h"

#define GT_NATS_MAX_NODES 5

typedef struct gt_nats_node {
    gt_process proc;
    int client_port;
    int cluster_port;
    bool paused;
    char conf[320];
    char url[64]; /* nats://127.0.0.1:<client_port> */
} gt_nats_node;

typedef struct gt_nats_cluster {
    int n;
    char dir[256];
    char server[256]; /* the nats-server executable */
    gt_nats_node node[GT_NATS_MAX_NODES];
    char urls[GT_NATS_MAX_NODES * 64]; /* every client URL, comma-separated */
} gt_nats_cluster;

/* The nats-server executable into buf; false when it is not installed (tools/setup installs
 * it), so a test can skip with that reason. */
bool gt_nats_find_server(char *buf, size_t size);

/* Start n (1..GT_NATS_MAX_NODES) routed nodes and wait until JetStream has a meta leader
 * (streams with n replicas can be made). Returns 0, or -1 with a message on stderr (every
 * node started so far is stopped again). */
int gt_nats_start(gt_nats_cluster *c, int n);

/* Kill every node, reap it and remove the directory (idempotent; accepts a zeroed struct). */
void gt_nats_stop(gt_nats_cluster *c);

/* kill -9 node i (its store stays for gt_nats_restart). */
void gt_nats_kill(gt_nats_cluster *c, int i);
/* SIGSTOP / SIGCONT node i: it stays connected but stops answering. */
void gt_nats_pause(gt_nats_cluster *c, int i);
void gt_nats_resume(gt_nats_cluster *c, int i);
/* Start node i again on its ports and store (after gt_nats_kill). Returns 0 or -1. */
int gt_nats_restart(gt_nats_cluster *c, int i);

/* Undo every fault: resume paused nodes, restart killed ones, then wait until streams with
 * `replicas` replicas work again. A fault test's teardown calls it so that a failed test
 * does not leave the next one with a cluster that has lost its quorum. Returns true when
 * the cluster is ready within timeout_ms. */
bool gt_nats_heal(gt_nats_cluster *c, int replicas, int timeout_ms);

/* The last `lines` lines of every node's log on stderr: what a failed test shows so that a
 * JetStream election that never finished can be told from a client fault. */
void gt_nats_dump_logs(const gt_nats_cluster *c, int lines);

/* The node that leads JetStream stream `stream` now (its index), or -1 when none answers. */
int gt_nats_stream_leader(gt_nats_cluster *c, const char *stream);

/* Wait until a client can make and use a stream with `replicas` replicas (the cluster has a
 * meta leader and enough peers); false after timeout_ms. */
bool gt_nats_wait_ready(gt_nats_cluster *c, int replicas, int timeout_ms);

#endif /* GT_NATS_H */
