/* Retry backoff with full jitter (AWS architecture blog, gRPC A6): the wait before retry n
 * (n >= 1) is uniform in [0, min(max, initial * multiplier^(n-1))]. Pure functions: the
 * random number is an argument, so tests check exact sequences. */
#ifndef GN_BACKOFF_H
#define GN_BACKOFF_H

#include <stdint.h>

#include "genesis/resilience.h"

/* The upper bound of the wait before retry n (1-based), in ms. */
uint32_t gn_backoff_ceiling_ms(const genesis_policy *p, unsigned int retry);

/* The wait before retry n: random64 mapped uniformly onto [0, ceiling]. */
uint32_t gn_backoff_delay_ms(const genesis_policy *p, unsigned int retry, uint64_t random64);

#endif /* GN_BACKOFF_H */
