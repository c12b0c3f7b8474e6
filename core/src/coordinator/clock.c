/* The coordinator's clock and random numbers: injectable through the options (clock_ms,
 * random), so tests drive every timed transition and every jitter exactly. */
#include "coordinator/coordinator_impl.h"

int64_t gn_clock(genesis_coordinator *co)
{
    return co->opts.clock_ms != NULL ? co->opts.clock_ms(co->opts.clock_arg) : gn_now_ms();
}

uint64_t gn_random(genesis_coordinator *co)
{
    if (co->opts.random != NULL)
        return co->opts.random(co->opts.clock_arg);
    /* splitmix64 over an atomic counter: lock-free, good enough for jitter and fault rates. */
    uint64_t z = atomic_fetch_add(&co->rng_state, 0x9E3779B97F4A7C15ull) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
