/* Log-linear latency histogram (see latency.h). */
#include <stddef.h>

#include "latency.h"

void gn_latency_init(gn_latency *h)
{
    for (unsigned int i = 0; i < GN_LATENCY_BUCKETS; i++)
        atomic_init(&h->bucket[i], 0);
    atomic_init(&h->max_us, 0);
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
    uint64_t cur = atomic_load_explicit(&h->max_us, memory_order_relaxed);
    while (us > cur && !atomic_compare_exchange_weak_explicit(
                           &h->max_us, &cur, us, memory_order_relaxed, memory_order_relaxed)) {
    }
}

uint64_t gn_latency_quantile(const gn_latency *h, double q, uint64_t *count)
{
    uint64_t counts[GN_LATENCY_BUCKETS], total = 0;
    for (unsigned int i = 0; i < GN_LATENCY_BUCKETS; i++) {
        counts[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        total += counts[i];
    }
    if (count != NULL)
        *count = total;
    if (total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    uint64_t max = atomic_load_explicit(&h->max_us, memory_order_relaxed);
    for (unsigned int i = 0; i < GN_LATENCY_BUCKETS; i++) {
        seen += counts[i];
        if (seen >= rank) {
            uint64_t upper = gn_latency_bucket_upper(i);
            return upper < max ? upper : max;
        }
    }
    return max;
}
