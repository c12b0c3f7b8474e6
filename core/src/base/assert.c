/* The failure path of GN_ASSERT (base/assert.h): report and abort. */
#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

void gn_assert_failed(const char *expr, const char *file, int line, const char *func)
{
    /* One write with everything on it: the last line an operator sees before the core. */
    fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, expr);
    fflush(stderr);
    abort();
}
