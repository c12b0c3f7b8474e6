/* A lock-free log-linear latency histogram in microseconds: exact below 16 µs, then 4
 * sub-buckets per power of two (at most ~19 % relative error), up to ~2^31 µs (35 min).
 * 128 relaxed atomic counters (1 KiB): recording is one atomic add. */
#ifndef GN_LATENCY_H
#define GN_LATENCY_H

#include <stdatomic.h>
#include <stdint.h>

#define GN_LATENCY_BUCKETS 128u

typedef struct gn_latency {
    atomic_uint_fast64_t bucket[GN_LATENCY_BUCKETS];
    atomic_uint_fast64_t max_us;
    atomic_uint_fast64_t sum_us; /* of every recorded latency (Prometheus _sum) */
} gn_latency;

void gn_latency_init(gn_latency *h);
void gn_latency_record(gn_latency *h, uint64_t us);
/* The q-quantile (0 < q <= 1) as the upper bound of its bucket; 0 when empty. */
uint64_t gn_latency_quantile(const gn_latency *h, double q, uint64_t *count);
/* Several quantiles (qs ascending) from one snapshot of the buckets. */
void gn_latency_quantiles(const gn_latency *h, const double *qs, unsigned int n, uint64_t *out,
                          uint64_t *count);
/* Bucket helpers (exposed for tests and Prometheus-style exports). */
unsigned int gn_latency_bucket_of(uint64_t us);
uint64_t gn_latency_bucket_upper(unsigned int bucket);

#endif /* GN_LATENCY_H */
