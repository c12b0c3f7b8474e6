/* Copying a caller's genesis_component by its version (see base/component.h). */
#include "base/component.h"

#include <stddef.h>
#include <string.h>

void gn_component_copy(genesis_component *dst, const genesis_component *src)
{
    memset(dst, 0, sizeof(*dst));
    size_t size = src->version >= 2 ? sizeof(*dst) : offsetof(genesis_component, snapshot);
    memcpy(dst, src, size);
}
