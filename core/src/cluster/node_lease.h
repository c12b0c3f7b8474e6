/* A node's lease on its id in the nodes bucket (a KV bucket whose values expire after the
 * lease time to live): claimed at start, renewed by a thread every third of the TTL with a
 * compare-and-set on its own revision, released on a clean stop. The same thread reads every
 * node's entry, so the status report shows the cluster without a NATS round trip.
 *
 * Threading: every function may be called from any thread; gn_node_lease_free last. */
#ifndef GN_NODE_LEASE_H
#define GN_NODE_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nats/nats.h>

#include "base/common.h"

typedef struct gn_node_lease gn_node_lease;

/* Claim node_id in bucket and start renewing. An id held by a live node (its lease is renewed
 * twice while this waits, or is not released within one and a half TTLs) is refused with
 * GENESIS_ALREADY_EXISTS and a message naming the holder; an id whose holder died is taken over
 * once its lease expires. nc and js are borrowed and must outlive the lease. */
int gn_node_lease_claim(gn_node_lease **out, natsConnection *nc, jsCtx *js, const char *bucket,
                        const char *node_id, uint32_t ttl_ms, const gn_logger *log, char *why,
                        size_t why_size);

/* The URLs other nodes and operators see for this node (after listen). */
void gn_node_lease_set_endpoints(gn_node_lease *l, const char *front_door, const char *event_bus);

/* "held", "unreachable" (NATS did not answer the last renewal) or "lost" (another node holds
 * the id: this one was cut off longer than the TTL). */
const char *gn_node_lease_state(gn_node_lease *l);

/* Every live node as of the last renewal: [{"id","front_door","event_bus","host","pid",
 * "last_seen_ms","self"}], a new reference; and how old that view is (ms). */
json_t *gn_node_lease_nodes(gn_node_lease *l, int64_t *age_ms);

/* Stop renewing; release the id when still held (a restart need not wait for the TTL). */
void gn_node_lease_free(gn_node_lease *l);

#endif /* GN_NODE_LEASE_H */
