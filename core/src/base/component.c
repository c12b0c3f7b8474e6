/* Copying a caller's genesis_component by its version (see base/component.h). */
#include "base/component.h"

#include <stddef.h>
#include <string.h>

void gn_component_copy(genesis_component *dst, const genesis_component *src)
{
    memset(dst, 0, sizeof(*dst));
    size_t size = src->version >= 3   ? sizeof(*dst)
                  : src->version == 2 ? offsetof(genesis_component, flags)
                                      : offsetof(genesis_component, snapshot);
    memcpy(dst, src, size);
}
