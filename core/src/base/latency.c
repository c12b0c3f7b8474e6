/* Log-linear latency histogram (see latency.h). */
#include <stddef.h>

#include "base/latency.h"

void gn_latency_init(gn_latency *h)
{
    for (unsigned int i = 0; i < GN_LATENCY_BUCKETS; i++)
        atomic_init(&h->bucket[i], 0);
    atomic_init(&h->max_us, 0);
    atomic_init(&h->sum_us, 0);
}

unsigned int gn_latency_bucket_of(uint64_t us)
{
    if (us < 16)
        return (unsigned int)us;
    unsigned int e = 63u - (unsigned int)__builtin_clzll(us); /* us in [2^e, 2^(e+1)) */
    unsigned int sub = (unsigned int)(us >> (e - 2)) & 3u;
    unsigned int b = 16u + (e - 4u) * 4u + sub;
    return b < GN_LATENCY_BUCKETS ? b : GN_LATENCY_BUCKETS - 1;
}

uint64_t gn_latency_bucket_upper(unsigned int b)
{
    if (b < 16)
        return b;
    unsigned int e = 4u + (b - 16u) / 4u, sub = (b - 16u) % 4u;
    return (1ull << e) + ((uint64_t)(sub + 1) << (e - 2)) - 1;
}

void gn_latency_record(gn_latency *h, uint64_t us)
{
    atomic_fetch_add_explicit(&h->bucket[gn_latency_bucket_of(us)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
    uint64_t cur = atomic_load_explicit(&h->max_us, memory_order_relaxed);
    while (us > cur && !atomic_compare_exchange_weak_explicit(
                           &h->max_us, &cur, us, memory_order_relaxed, memory_order_relaxed)) {
    }
}

void gn_latency_quantiles(const gn_latency *h, const double *qs, unsigned int n, uint64_t *out,
                          uint64_t *count)
{
    uint64_t counts[GN_LATENCY_BUCKETS], total = 0;
    for (unsigned int i = 0; i < GN_LATENCY_BUCKETS; i++) {
        counts[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        total += counts[i];
    }
    if (count != NULL)
        *count = total;
    uint64_t max = atomic_load_explicit(&h->max_us, memory_order_relaxed);
    uint64_t seen = 0;
    unsigned int b = 0;
    for (unsigned int k = 0; k < n; k++) {
        if (total == 0) {
            out[k] = 0;
            continue;
        }
        uint64_t rank = (uint64_t)(qs[k] * (double)total + 0.999999);
        if (rank == 0)
            rank = 1;
        while (b < GN_LATENCY_BUCKETS && seen + counts[b] < rank)
            seen += counts[b++];
        uint64_t upper = b < GN_LATENCY_BUCKETS ? gn_latency_bucket_upper(b) : max;
        out[k] = upper < max ? upper : max;
    }
}

uint64_t gn_latency_quantile(const gn_latency *h, double q, uint64_t *count)
{
    uint64_t v;
    gn_latency_quantiles(h, &q, 1, &v, count);
    return v;
}
