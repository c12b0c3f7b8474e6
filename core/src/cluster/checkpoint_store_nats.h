/* The checkpoint store on a JetStream key-value bucket (cluster mode): one key per component,
 * every generation one revision of it (the bucket keeps `keep` revisions as history). A write
 * is a compare-and-set on the revision this store last saw for the component, so generations
 * only increase across nodes and a writer with a stale view is refused (GENESIS_ABORTED); the
 * view is then read again for the next write. A write returns only after JetStream
 * acknowledged it (replicated to a majority of the bucket's replicas).
 *
 * Threading: as every gn_ckpt_store (one user at a time). */
#ifndef GN_CHECKPOINT_STORE_NATS_H
#define GN_CHECKPOINT_STORE_NATS_H

#include <stdint.h>

#include <nats/nats.h>

#include "checkpoint/checkpoint_store.h"

/* Open the store on an existing bucket (made by cluster.c with History = keep). nc and js are
 * borrowed: they must outlive the store. timeout_ms bounds the reads of key lists and
 * histories, which cnats would otherwise wait on for ever. */
int gn_ckpt_store_open_nats(gn_ckpt_store **out, natsConnection *nc, jsCtx *js, const char *bucket,
                            unsigned int keep, uint32_t timeout_ms, gn_ckpt_error *err);

/* The value layout: "GNC1", generation (u64 LE), created_ms (i64 LE), CRC-32
 * (gn_ckpt_checksum, u32 LE), then the data. */
#define GN_NATS_CKPT_HEADER 24u

/* A stored value taken apart (data points into the value). */
typedef struct gn_nats_ckpt_value {
    uint64_t generation;
    int64_t created_ms;
    const uint8_t *data;
    size_t len;
} gn_nats_ckpt_value;

/* Decode a value read from the bucket (hostile bytes: fuzz_cluster_value). Returns 1 when it
 * is a generation whose checksum verifies, 0 when it is not one of ours (too short, another
 * magic, generation 0), -1 when the header is ours but the checksum fails (out->generation is
 * then set). */
int gn_nats_ckpt_decode(const uint8_t *v, size_t len, gn_nats_ckpt_value *out);

#endif /* GN_CHECKPOINT_STORE_NATS_H */
