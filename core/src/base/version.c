/* Run-time version of the loaded library. */
#include "genesis/version.h"

unsigned int genesis_version_number(void)
{
    return GENESIS_VERSION_NUMBER;
}

const char *genesis_version_string(void)
{
    return GENESIS_VERSION_STRING;
}
