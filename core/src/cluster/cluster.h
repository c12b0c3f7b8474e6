/* A coordinator's membership in a cluster (genesis/cluster.h): the NATS connection, the
 * buckets, the node lease, and the checkpoint store on them.
 *
 * Lifecycle: gn_cluster_open (connects, makes the buckets, claims the node id) ->
 * gn_cluster_checkpoint_store -> gn_cluster_set_endpoints (after listen) -> gn_cluster_close.
 * Threading: every function may be called from any thread; close last. */
#ifndef GN_CLUSTER_H
#define GN_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/common.h"
#include "checkpoint/checkpoint_store.h"
#include "cluster/event_stream.h"
#include "genesis/cluster.h"

typedef struct gn_cluster gn_cluster;

/* keep: checkpoint generations kept per component (the bucket's history, at most 64);
 * max_value: the largest checkpoint (bucket value limit, plus its header). why receives the
 * reason on failure (it names the URLs when NATS cannot be reached). */
int gn_cluster_open(gn_cluster **out, const genesis_cluster_options *opts, unsigned int keep,
                    size_t max_value, const gn_logger *log, char *why, size_t why_size);

/* A new checkpoint store on the cluster's bucket (the caller closes it before the cluster). */
int gn_cluster_checkpoint_store(gn_cluster *c, gn_ckpt_store **out, gn_ckpt_error *err);

/* Publish this node's URLs in its lease entry. */
void gn_cluster_set_endpoints(gn_cluster *c, const char *front_door, const char *event_bus);

/* One line for the log: "node n1, NATS nats://..., 3 replicas, bucket genesis_checkpoints". */
const char *gn_cluster_describe(gn_cluster *c);

/* The status report's cluster section: {"node_id","state" ("ok"|"degraded"),"reason",
 * "nats_urls","connected_url","replicas","lease_ttl_ms","lease","nodes":[...],"events":{...}}.
 * New reference. */
json_t *gn_cluster_status(gn_cluster *c);

/* The cluster's event streams (event_stream.h), made by gn_cluster_open; start them once the
 * coordinator can deliver, stop them before it retires its components. */
gn_event_stream *gn_cluster_events(gn_cluster *c);
/* This node's id, and the publisher name of cluster-wide sequences ("cluster:<name>"). */
const char *gn_cluster_node_id(gn_cluster *c);
const char *gn_cluster_publisher(gn_cluster *c);

void gn_cluster_close(gn_cluster *c);

#endif /* GN_CLUSTER_H */
