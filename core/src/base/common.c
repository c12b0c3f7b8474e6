/* Time, ids and NNG error mapping shared by the library. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>

#include "base/common.h"

int64_t gn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gn_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *gn_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

bool gn_valid_id(const char *id)
{
    if (id == NULL || id[0] == '\0')
        return false;
    size_t n = 0;
    for (const char *p = id; *p != '\0'; p++, n++) {
        unsigned char ch = (unsigned char)*p;
        if (n >= GN_MAX_ID_LEN)
            return false;
        if (!(isalnum(ch) || ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

bool gn_valid_type(const char *type)
{
    if (type == NULL || type[0] == '\0')
        return false;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)type; *p != '\0'; p++, n++) {
        if (n >= GN_MAX_TYPE_LEN || *p <= 0x20 || *p >= 0x7f)
            return false;
    }
    return true;
}

int gn_status_from_nng(int err, int *reason)
{
    int r = GENESIS_REASON_TRANSPORT_ERROR;
    int status;
    switch (err) {
    case 0:
        r = GENESIS_REASON_NONE;
        status = GENESIS_OK;
        break;
    case NNG_ETIMEDOUT:
        r = GENESIS_REASON_TIMEOUT;
        status = GENESIS_DEADLINE_EXCEEDED;
        break;
    case NNG_ECANCELED:
        r = GENESIS_REASON_SHUTTING_DOWN;
        status = GENESIS_CANCELLED;
        break;
    case NNG_ENOMEM:
        r = GENESIS_REASON_NO_MEMORY;
        status = GENESIS_RESOURCE_EXHAUSTED;
        break;
    case NNG_EINVAL:
    case NNG_EADDRINVAL:
        r = GENESIS_REASON_INVALID_ARGUMENT;
        status = GENESIS_INVALID_ARGUMENT;
        break;
    case NNG_EMSGSIZE:
        r = GENESIS_REASON_MESSAGE_TOO_LARGE;
        status = GENESIS_RESOURCE_EXHAUSTED;
        break;
    case NNG_ENOTSUP:
        r = GENESIS_REASON_INVALID_ARGUMENT;
        status = GENESIS_UNIMPLEMENTED;
        break;
    case NNG_EPERM:
        r = GENESIS_REASON_TRANSPORT_ERROR;
        status = GENESIS_PERMISSION_DENIED;
        break;
    case NNG_EADDRINUSE:
        status = GENESIS_ALREADY_EXISTS;
        break;
    case NNG_ECLOSED:
        r = GENESIS_REASON_SHUTTING_DOWN;
        status = GENESIS_UNAVAILABLE;
        break;
    default:
        status = GENESIS_UNAVAILABLE;
        break;
    }
    if (reason != NULL)
        *reason = r;
    return status;
}

bool gn_check_failed(const char *expr, const char *file, int line)
{
    fprintf(stderr, "genesis: internal check failed: %s (%s:%d)\n", expr, file, line);
    return false;
}
