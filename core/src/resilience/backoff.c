/* Full-jitter exponential backoff (see backoff.h). */
#include "resilience/backoff.h"

uint32_t gn_backoff_ceiling_ms(const genesis_policy *p, unsigned int retry)
{
    uint64_t ceiling = p->backoff_initial_ms;
    for (unsigned int i = 1; i < retry && ceiling < p->backoff_max_ms; i++)
        ceiling = ceiling * p->backoff_multiplier_pct / 100;
    return ceiling < p->backoff_max_ms ? (uint32_t)ceiling : p->backoff_max_ms;
}

uint32_t gn_backoff_delay_ms(const genesis_policy *p, unsigned int retry, uint64_t random64)
{
    uint64_t span = (uint64_t)gn_backoff_ceiling_ms(p, retry) + 1;
    /* Multiply-shift maps 64 random bits onto [0, span) without modulo bias worth noting. */
    return (uint32_t)(((unsigned __int128)random64 * span) >> 64);
}
