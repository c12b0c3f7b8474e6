/* The last minutes of every component, for the dashboard's charts: per sampling interval the
 * requests, the failures by reason and the p50/p99 latency of that interval alone, in ring
 * buffers of fixed size (GW_HISTORY_SLOTS intervals, GW_HISTORY_COMPONENTS components), fed
 * by the sampler thread (history_sampler.c) and read by GET /v1/status/history. Thread-safe:
 * one mutex, held for a sample or a render. */
#ifndef GW_HISTORY_H
#define GW_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define GW_HISTORY_SLOTS      180 /* 15 minutes of 5 s intervals */
#define GW_HISTORY_COMPONENTS 64  /* components with a history; more are left out */
#define GW_HISTORY_REASONS    32  /* failure reasons kept apart (genesis_reason < 32) */
#define GW_HISTORY_BUCKETS    128 /* GENESIS_LATENCY_BUCKETS */

typedef struct gw_history gw_history;

/* One component's cumulative figures at a sampling instant. */
typedef struct gw_history_point {
    const char *id;
    uint64_t requests;
    uint64_t failures_by_reason[GW_HISTORY_REASONS];
    const uint64_t *latency_buckets; /* GW_HISTORY_BUCKETS cumulative counts, or NULL */
} gw_history_point;

gw_history *gw_history_new(uint32_t interval_ms);
void gw_history_free(gw_history *h);

/* Record one sampling instant: wall_ms (Unix milliseconds) and every component's cumulative
 * figures. The first sample of a component only sets its baseline; components absent from
 * points are forgotten. */
void gw_history_add(gw_history *h, uint64_t wall_ms, const gw_history_point *points, size_t n);

/* Keep the effective policies document (JSON text, copied) for GET /v1/status/policies. */
void gw_history_set_policies(gw_history *h, const char *json);

/* The history as JSON (see docs/gateway.md), or the policies document; a new buffer to free,
 * NULL when out of memory. */
char *gw_history_json(gw_history *h, size_t *len);
char *gw_history_policies_json(gw_history *h, size_t *len);

/* The q-quantile (0 < q <= 1) of a histogram given as per-bucket counts: the upper bound of
 * its bucket in microseconds; 0 when the histogram is empty. */
uint64_t gw_history_quantile(const uint64_t *counts, double q);

#endif /* GW_HISTORY_H */
