/* Status codes, rejection reasons and error messages shared by every Genesis call. */
#ifndef GENESIS_STATUS_H
#define GENESIS_STATUS_H

#include "genesis/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: gRPC's set with gRPC's numbering, so they map 1:1 onto the wire and onto HTTP.
 * Every function that can fail returns one of these as an int; 0 is success.
 * Append-only: values are never renumbered or removed. */
typedef enum genesis_status {
    GENESIS_OK = 0,
    GENESIS_CANCELLED = 1,
    GENESIS_UNKNOWN = 2,
    GENESIS_INVALID_ARGUMENT = 3,
    GENESIS_DEADLINE_EXCEEDED = 4,
    GENESIS_NOT_FOUND = 5,
    GENESIS_ALREADY_EXISTS = 6,
    GENESIS_PERMISSION_DENIED = 7,
    GENESIS_RESOURCE_EXHAUSTED = 8,
    GENESIS_FAILED_PRECONDITION = 9,
    GENESIS_ABORTED = 10,
    GENESIS_OUT_OF_RANGE = 11,
    GENESIS_UNIMPLEMENTED = 12,
    GENESIS_INTERNAL = 13,
    GENESIS_UNAVAILABLE = 14,
    GENESIS_DATA_LOSS = 15,
    GENESIS_UNAUTHENTICATED = 16
} genesis_status;

/* Why a call was rejected or failed, in more detail than the status code. Carried on the wire
 * next to the code. Append-only: values are never renumbered or removed. */
typedef enum genesis_reason {
    GENESIS_REASON_NONE = 0,
    GENESIS_REASON_BREAKER_OPEN = 1,           /* the component's circuit breaker is open */
    GENESIS_REASON_BULKHEAD_FULL = 2,          /* in-flight limit and queue are both full */
    GENESIS_REASON_SHED_BY_MODE = 3,           /* the degradation mode sheds this criticality */
    GENESIS_REASON_RETRY_BUDGET_EXHAUSTED = 4, /* retries would exceed the component's budget */
    GENESIS_REASON_DEADLINE_EXCEEDED = 5,      /* the overall deadline passed */
    GENESIS_REASON_COMPONENT_DOWN = 6,         /* the component is registered but not healthy */
    GENESIS_REASON_NOT_FOUND = 7,              /* no component with that id */
    GENESIS_REASON_ALREADY_REGISTERED = 8,     /* the id is taken */
    GENESIS_REASON_MALFORMED_MESSAGE = 9,      /* bytes that do not decode as the protocol */
    GENESIS_REASON_MESSAGE_TOO_LARGE = 10,     /* over the configured size limit */
    GENESIS_REASON_HANDLER_ERROR = 11,         /* the component's handler reported an error */
    GENESIS_REASON_TRANSPORT_ERROR = 12,       /* the NNG connection failed */
    GENESIS_REASON_SHUTTING_DOWN = 13,         /* the coordinator or service is stopping */
    GENESIS_REASON_QUEUE_FULL = 14,            /* an event queue was full; the event dropped */
    GENESIS_REASON_INVALID_ARGUMENT = 15,      /* a caller-supplied value is out of range */
    GENESIS_REASON_NO_MEMORY = 16,             /* an allocation failed */
    GENESIS_REASON_UNSUPPORTED_VERSION = 17,   /* the peer speaks a newer protocol revision */
    GENESIS_REASON_UNKNOWN_MESSAGE = 18,       /* an envelope kind this coordinator lacks */
    GENESIS_REASON_NO_HANDLER = 19,            /* the component has no handler for this */
    GENESIS_REASON_TIMEOUT = 20,               /* one attempt's timer expired */
    GENESIS_REASON_UNREACHABLE = 21,   /* no answer from the coordinator itself (connection failed
                                          or no reply in time): the call may or may not have run */
    GENESIS_REASON_LIMIT_REACHED = 22, /* a configured capacity (components, instances) is full */
    GENESIS_REASON_STORAGE_FULL = 23,  /* the checkpoint store's disk is full; nothing was lost */
    GENESIS_REASON_STORAGE_ERROR =
        24, /* the checkpoint store failed (I/O error, none configured) */
    GENESIS_REASON_CHECKPOINT_CORRUPT = 25 /* a stored checkpoint failed its checksum */
} genesis_reason;

/* A short English description of a status code, e.g. "deadline exceeded".
 * Never NULL, also for values this version does not know. Static storage; thread-safe. */
GENESIS_API const char *genesis_strerror(int status);

/* The canonical name of a status code, e.g. "DEADLINE_EXCEEDED" (gRPC spelling).
 * Never NULL ("UNKNOWN_STATUS" for values this version does not know). */
GENESIS_API const char *genesis_status_name(int status);

/* The canonical name of a reason, e.g. "BREAKER_OPEN". Never NULL ("UNKNOWN_REASON"). */
GENESIS_API const char *genesis_reason_name(int reason);

/* The message of the last error returned by a Genesis call on the calling thread, e.g.
 * "listen on tcp://127.0.0.1:80: permission denied". The return code stays the truth; this
 * only explains it. Thread-local storage valid until the next Genesis call on this thread.
 * Never NULL (an empty string when there is nothing to say). */
GENESIS_API const char *genesis_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_STATUS_H */
