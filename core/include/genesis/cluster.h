/* Cluster mode: several coordinators (nodes) sharing state through a NATS JetStream cluster
 * (docs/cluster.md). Genesis replicates nothing itself: JetStream's Raft-replicated key-value
 * buckets hold the checkpoints and the node leases.
 *
 * A clustered coordinator differs from a plain one in three ways:
 *   - checkpoints go to the JetStream bucket "<name>_checkpoints" (file storage, `replicas`
 *     copies) instead of a SQLite file. A checkpoint is acknowledged only after the JetStream
 *     cluster acknowledged the write; each write is a compare-and-set on the component's last
 *     revision, so generations only increase across nodes and a writer with a stale view is
 *     refused (GENESIS_ABORTED) instead of overwriting newer state. With NATS unreachable a
 *     checkpoint fails with GENESIS_UNAVAILABLE and is not acknowledged;
 *   - the node holds a lease on its node id in the bucket "<name>_nodes" (time to live
 *     lease_ttl_ms, renewed every third of it): a second node with the same id is refused;
 *   - its status report has a "cluster" section: every live node, its URLs and when it was last
 *     seen, and whether this node's link to NATS is healthy ("ok" or "degraded");
 *   - events (genesis_coordinator_emit, emit_external, the front door's Emit; not directed
 *     events) go through the JetStream streams "<name>_events" (local scope) and
 *     "<name>_events_external": an emit returns once JetStream acknowledged the event (else it
 *     fails GENESIS_UNAVAILABLE and is delivered by no node through this emit), every node
 *     delivers each event once, in stream order, to its in-process components and its bus
 *     subscribers, with the stream sequence as a cluster-wide sequence per scope. The emit's
 *     delivered/dropped counts are then 0: delivery happens on every node after the
 *     acknowledgement. Events a node could not read before the stream's limits removed them
 *     count as dropped there, and as sequence gaps at its bus subscribers.
 *
 * Without a cluster (genesis_coordinator_new), nothing here is used and nothing is needed.
 *
 * Threading and lifecycle: as genesis/coordinator.h; the strings are copied. */
#ifndef GENESIS_CLUSTER_H
#define GENESIS_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/coordinator.h"
#include "genesis/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GENESIS_CLUSTER_OPTIONS_VERSION 2

typedef struct genesis_cluster_options {
    unsigned int version;  /* GENESIS_CLUSTER_OPTIONS_VERSION */
    const char *nats_urls; /* comma-separated nats:// (or tls://) URLs of the NATS servers;
                              required. Servers of the same cluster not listed are found
                              through NATS's own discovery. */
    const char *node_id;   /* this node's id, unique in the cluster: 1..64 bytes of
                              [A-Za-z0-9_-]; required */
    const char *name;      /* prefix of the buckets, so several clusters can share one NATS
                              ([A-Za-z0-9_-]); NULL = "genesis" */
    unsigned int replicas; /* copies of every bucket (JetStream replicas, 1..5); 0 = 3. More
                              than the NATS cluster has servers is refused at start */
    uint32_t lease_ttl_ms; /* node lease time to live; 0 = 5000 (at least 1000) */
    uint32_t timeout_ms;   /* connecting and each JetStream request; 0 = 2000 */
    /* TLS towards NATS (PEM files): ca_file alone verifies the servers; cert and key add a
     * client certificate. NULL = plain TCP unless the URLs say tls://. */
    const char *tls_ca_file;
    const char *tls_cert_file;
    const char *tls_key_file;
    /* version 2: the cluster's event streams "<name>_events" and "<name>_events_external"
     * (file storage, `replicas` copies). Older events are removed first when a bound is
     * reached; a node that had not read them yet counts them as missed. */
    uint64_t events_max_age_ms;          /* 0 = 86400000 (a day) */
    uint64_t events_max_bytes;           /* per stream; 0 = 1 GiB */
    uint32_t events_duplicate_window_ms; /* an event id seen within it is delivered once;
                                            0 = 120000 (at most the maximum age) */
} genesis_cluster_options;

/* Fill *opts with defaults for the given version (1..GENESIS_CLUSTER_OPTIONS_VERSION). */
GENESIS_API int genesis_cluster_options_init(genesis_cluster_options *opts, unsigned int version);

/* Like genesis_coordinator_new, as a node of a cluster. opts->checkpoint_store must be NULL
 * (checkpoints go to the cluster). Fails, and starts nothing, when NATS cannot be reached
 * (GENESIS_UNAVAILABLE, the message names the URLs), when the buckets cannot have `replicas`
 * copies (GENESIS_FAILED_PRECONDITION), or when another live node holds node_id
 * (GENESIS_ALREADY_EXISTS, the message names that node). It never falls back to local
 * storage. */
GENESIS_API int genesis_coordinator_new_clustered(genesis_coordinator **out,
                                                  const genesis_coordinator_options *opts,
                                                  const genesis_cluster_options *cluster);

/* Emit an event under the caller's id (1..128 printable bytes, no spaces): a local event, or
 * an external one when external is non-zero, otherwise as genesis_coordinator_emit. In cluster
 * mode the id de-duplicates: emitting an id again within the duplicate window (on any node)
 * is acknowledged with the first one's sequence and delivered nowhere again, so an emit that
 * failed GENESIS_UNAVAILABLE (its outcome unknown) can be repeated safely. *sequence (may be
 * NULL) receives the event's sequence: cluster-wide per scope in cluster mode, else this
 * coordinator's. Without a cluster the id is not kept and nothing is de-duplicated. */
GENESIS_API int genesis_coordinator_emit_id(genesis_coordinator *c, const char *event_id,
                                            int external, const char *type, const void *data,
                                            size_t len, const genesis_call_options *opts,
                                            uint64_t *sequence);

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_CLUSTER_H */
