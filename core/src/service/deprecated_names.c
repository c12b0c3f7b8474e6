/* The deprecated names of the service's renamed functions: exported aliases that call the
 * new names, so binaries and sources built against the old names keep working. */
#include "genesis/service.h"

uint64_t genesis_service_requests_served(genesis_service *svc)
{
    return genesis_service_get_requests_served(svc);
}

int genesis_service_url(genesis_service *svc, char *buf, size_t size)
{
    return genesis_service_get_url(svc, buf, size);
}
