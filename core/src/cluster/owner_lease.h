/* Ownership leases: at most one node of the cluster owns a named task (a supervised component)
 * at a time. Each name is a key in the owners bucket, a KV bucket whose values expire after the
 * lease time to live (the bucket's TTL, nats-server 2.9 has no per-key TTL). A node takes a free
 * name with a create (which fails while another node's entry exists), renews it every quarter
 * of the TTL with a compare-and-set on its own last revision, and releases it with a delete
 * that is itself a compare-and-set (a release never removes another node's newer lease).
 *
 * The fencing token of an ownership is the revision of the create that took it: revisions of a
 * stream only increase, so every later owner has a larger token.
 *
 * Safety: the time of validity is counted on this node's CLOCK_BOOTTIME (monotonic, and counting a
 * suspend) from before the request that wrote the entry was sent, so it ends before the server can
 * expire the entry: until = sent + TTL - margin (margin = max(TTL / 5, 200 ms)). A node that could
 * not renew by then stops treating the name as its own; a node never takes a name before the server
 * removed the previous owner's entry. docs/cluster.md explains the assumptions (server clocks).
 *
 * Threading: every function may be called from any thread; gn_owner_leases_free last. One
 * thread of its own does the NATS requests. */
#ifndef GN_OWNER_LEASE_H
#define GN_OWNER_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nats/nats.h>

#include "base/common.h"

typedef struct gn_owner_leases gn_owner_leases;

/* Start contending for names in bucket (which exists, with a TTL of ttl_ms) as node_id. nc and
 * js are borrowed and must outlive the leases. */
int gn_owner_leases_open(gn_owner_leases **out, natsConnection *nc, jsCtx *js, const char *bucket,
                         const char *node_id, uint32_t ttl_ms, const gn_logger *log, char *why,
                         size_t why_size);

/* The bucket's TTL the leases count with (ms). */
uint32_t gn_owner_leases_ttl(gn_owner_leases *o);

/* Contend for name (idempotent): take it whenever it is free. GENESIS_INVALID_ARGUMENT for a
 * name that is not 1..128 bytes of [A-Za-z0-9._-], GENESIS_RESOURCE_EXHAUSTED past 256 names. */
int gn_owner_leases_contend(gn_owner_leases *o, const char *name);

/* Stop contending for name and release it if held (call after whatever ran under it stopped).
 * Returns at once; the release is sent by the lease thread. */
void gn_owner_leases_withdraw(gn_owner_leases *o, const char *name);

/* Whether this node owns name now: true with its fencing token and the CLOCK_BOOTTIME time
 * (ms) until which it may act as the owner without a further renewal; false (token 0) when not
 * held or no longer known to be held. */
bool gn_owner_leases_get(gn_owner_leases *o, const char *name, uint64_t *token, int64_t *until_ms);

/* The status report's view: [{"component","owner" (node id, "" when free or unknown),"token",
 * "self","valid_ms" (self only)}], a new reference. */
json_t *gn_owner_leases_status(gn_owner_leases *o);

/* Stop the thread, release every held name. Accepts NULL. */
void gn_owner_leases_free(gn_owner_leases *o);

#endif /* GN_OWNER_LEASE_H */
