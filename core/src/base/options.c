/* Versioned options structs read by their version's prefix (see base/options.h). */
#include "base/options.h"

#include <string.h>

#include "base/common.h"

size_t gn_options_size(unsigned int version, const size_t *sizes, unsigned int n_versions)
{
    return version >= 1 && version <= n_versions ? sizes[version - 1] : 0;
}

int gn_options_init(void *opts, unsigned int version, const void *defaults, const size_t *sizes,
                    unsigned int n_versions, const char *what)
{
    size_t size = gn_options_size(version, sizes, n_versions);
    if (opts == NULL || size == 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "%s: NULL or unknown version %u (this library "
                       "knows 1..%u)",
                       what, version, n_versions);
    memcpy(opts, defaults, size); /* an older caller's struct is shorter */
    /* Every options struct starts with its version. */
    memcpy(opts, &version, sizeof(version));
    return GENESIS_OK;
}

int gn_options_merge(void *dst, const void *src, const size_t *sizes, unsigned int n_versions,
                     const char *what)
{
    if (src == NULL)
        return GENESIS_OK;
    unsigned int version;
    memcpy(&version, src, sizeof(version));
    size_t size = gn_options_size(version, sizes, n_versions);
    if (size == 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "%s version %u is unknown (this library knows 1..%u)", what, version,
                       n_versions);
    memcpy(dst, src, size); /* fields an older caller lacks keep their defaults */
    return GENESIS_OK;
}
