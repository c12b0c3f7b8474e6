/* Copying a caller's genesis_component, shared by the coordinator (in-process components) and
 * the service role. */
#ifndef GN_COMPONENT_H
#define GN_COMPONENT_H

#include "genesis/component.h"

/* Copy *src by its version: a version 1 struct is shorter, and the fields it lacks are
 * zeroed. */
void gn_component_copy(genesis_component *dst, const genesis_component *src);

#endif /* GN_COMPONENT_H */
