/* The public face of component ownership in a cluster (genesis/cluster.h): argument checks
 * and the coordinator's cluster; the leases are cluster/owner_lease.c's. */
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "cluster/cluster.h"
#include "coordinator/coordinator_impl.h"
#include "genesis/cluster.h"

static int check(genesis_coordinator *co, const char *name, const char *what)
{
    gn_clear_error();
    if (co == NULL || name == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "%s: NULL argument", what);
    if (co->cluster == NULL)
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "%s: this coordinator is not a node of a cluster (ownership needs one)",
                       what);
    return GENESIS_OK;
}

int genesis_cluster_own(genesis_coordinator *co, const char *name, uint32_t ttl_ms)
{
    int rv = check(co, name, "cluster_own");
    if (rv == GENESIS_OK && ttl_ms != 0 && ttl_ms < 1000)
        rv = gn_fail(GENESIS_INVALID_ARGUMENT, "cluster_own: lease TTL %u ms is below 1000 ms",
                     ttl_ms);
    return rv == GENESIS_OK ? gn_cluster_own(co->cluster, name, ttl_ms) : rv;
}

int genesis_cluster_owner(genesis_coordinator *co, const char *name, uint64_t *token,
                          int64_t *until_ms)
{
    if (token == NULL || until_ms == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "cluster_owner: NULL argument");
    *token = 0;
    *until_ms = 0;
    int rv = check(co, name, "cluster_owner");
    if (rv == GENESIS_OK)
        gn_cluster_owner(co->cluster, name, token, until_ms);
    return rv;
}

int genesis_cluster_disown(genesis_coordinator *co, const char *name)
{
    int rv = check(co, name, "cluster_disown");
    if (rv == GENESIS_OK)
        gn_cluster_disown(co->cluster, name);
    return rv;
}
