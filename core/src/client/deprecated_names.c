/* The deprecated names of the client's renamed functions: exported aliases that call the
 * new names, so binaries and sources built against the old names keep working. */
#include "genesis/client.h"

uint64_t genesis_client_events_lost(genesis_client *cl)
{
    return genesis_client_get_events_lost(cl);
}
