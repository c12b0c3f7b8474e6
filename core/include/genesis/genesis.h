/* Genesis: a resilient component coordinator. The whole public API in one include.
 *
 * Conventions (the stable C ABI):
 *   - every public symbol starts with genesis_ / GENESIS_; handles are opaque;
 *   - functions that can fail return an int genesis_status, 0 = GENESIS_OK, and explain
 *     failures through genesis_last_error(); out parameters come first;
 *   - option structs carry a version first and are filled by *_options_init;
 *   - *_free functions accept NULL; callbacks take their void *arg last;
 *   - when a function that takes a callback returns an error, the callback is never called;
 *   - no variadic functions and no structs passed by value, so FFI (ctypes, cgo) works;
 *   - a handle's settings and counters are read and changed with genesis_<object>_get_<thing>
 *     and genesis_<object>_set_<thing> (genesis_coordinator_get_stats,
 *     genesis_coordinator_set_mode); the fields of the borrowed message objects (request,
 *     event, result) are read as genesis_<object>_<field> (genesis_request_data);
 *   - a renamed function keeps its old name as a deprecated, still-exported alias. */
#ifndef GENESIS_GENESIS_H
#define GENESIS_GENESIS_H

#include "genesis/export.h"
#include "genesis/version.h"
#include "genesis/status.h"
#include "genesis/message.h"
#include "genesis/component.h"
#include "genesis/coordinator.h"
#include "genesis/resilience.h"
#include "genesis/client.h"
#include "genesis/service.h"
#include "genesis/recovery.h"
#include "genesis/cluster.h"

#endif /* GENESIS_GENESIS_H */
