/* The deprecated names of the coordinator's renamed functions: exported aliases that call the
 * new names, so binaries and sources built against the old names keep working. */
#include "genesis/coordinator.h"
#include "genesis/recovery.h"
#include "genesis/resilience.h"

int genesis_coordinator_stats_get(genesis_coordinator *c, genesis_coordinator_stats *stats)
{
    return genesis_coordinator_get_stats(c, stats);
}

int genesis_coordinator_component_stats(genesis_coordinator *c, const char *id,
                                        genesis_component_stats *stats)
{
    return genesis_coordinator_get_component_stats(c, id, stats);
}

int genesis_coordinator_checkpoint_info(genesis_coordinator *c, const char *id,
                                        genesis_checkpoint_info *info)
{
    return genesis_coordinator_get_checkpoint_info(c, id, info);
}

int genesis_coordinator_component_health(genesis_coordinator *c, const char *id, int *up)
{
    return genesis_coordinator_get_component_health(c, id, up);
}

int genesis_coordinator_breaker_set(genesis_coordinator *c, const char *id, int state)
{
    return genesis_coordinator_set_breaker(c, id, state);
}

int genesis_coordinator_mode(genesis_coordinator *c)
{
    return genesis_coordinator_get_mode(c);
}

int genesis_coordinator_url(genesis_coordinator *c, int endpoint, char *buf, size_t size)
{
    return genesis_coordinator_get_url(c, endpoint, buf, size);
}
