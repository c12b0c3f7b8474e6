/* Names and descriptions of status codes and reasons; the thread-local last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "base/common.h"
#include "genesis/status.h"

static const char *const status_names[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

static const char *const status_texts[] = {
    "success",   "cancelled",      "unknown error",     "invalid argument",   "deadline exceeded",
    "not found", "already exists", "permission denied", "resource exhausted", "failed precondition",
    "aborted",   "out of range",   "unimplemented",     "internal error",     "unavailable",
    "data loss", "unauthenticated"};

static const char *const reason_names[] = {"NONE",
                                           "BREAKER_OPEN",
                                           "BULKHEAD_FULL",
                                           "SHED_BY_MODE",
                                           "RETRY_BUDGET_EXHAUSTED",
                                           "DEADLINE_EXCEEDED",
                                           "COMPONENT_DOWN",
                                           "NOT_FOUND",
                                           "ALREADY_REGISTERED",
                                           "MALFORMED_MESSAGE",
                                           "MESSAGE_TOO_LARGE",
                                           "HANDLER_ERROR",
                                           "TRANSPORT_ERROR",
                                           "SHUTTING_DOWN",
                                           "QUEUE_FULL",
                                           "INVALID_ARGUMENT",
                                           "NO_MEMORY",
                                           "UNSUPPORTED_VERSION",
                                           "UNKNOWN_MESSAGE",
                                           "NO_HANDLER",
                                           "TIMEOUT",
                                           "UNREACHABLE",
                                           "LIMIT_REACHED",
                                           "STORAGE_FULL",
                                           "STORAGE_ERROR",
                                           "CHECKPOINT_CORRUPT"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(COUNT(status_names) == GENESIS_UNAUTHENTICATED + 1, "a status lacks a name");
_Static_assert(COUNT(status_texts) == GENESIS_UNAUTHENTICATED + 1, "a status lacks a text");
_Static_assert(COUNT(reason_names) == GENESIS_REASON_CHECKPOINT_CORRUPT + 1,
               "a reason lacks a name");

const char *genesis_strerror(int status)
{
    if (status < 0 || (size_t)status >= COUNT(status_texts))
        return "unknown status code";
    return status_texts[status];
}

const char *genesis_status_name(int status)
{
    if (status < 0 || (size_t)status >= COUNT(status_names))
        return "UNKNOWN_STATUS";
    return status_names[status];
}

const char *genesis_reason_name(int reason)
{
    if (reason < 0 || (size_t)reason >= COUNT(reason_names))
        return "UNKNOWN_REASON";
    return reason_names[reason];
}

static _Thread_local char last_error[512];

const char *genesis_last_error(void)
{
    return last_error;
}

void gn_clear_error(void)
{
    last_error[0] = '\0';
}

int gn_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return status;
}
