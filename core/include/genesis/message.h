/* Requests, replies, results and events as seen through the Genesis API.
 *
 * Every object here is opaque and reached through accessors so it can grow without breaking
 * binaries or FFI bindings. Objects passed to callbacks are borrowed: they and every pointer
 * read from them are valid only until the callback returns. */
#ifndef GENESIS_MESSAGE_H
#define GENESIS_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Google SRE criticality of a request or event; degradation modes shed from the bottom. */
typedef enum genesis_criticality {
    GENESIS_CRITICALITY_DEFAULT = 0,
    GENESIS_CRITICALITY_CRITICAL = 1,
    GENESIS_CRITICALITY_SHEDDABLE = 2
} genesis_criticality;

/* ---------------------------------------------------------------------------------------- */
/* Call options: how one request or emit is made. Versioned so fields can be appended.      */

/* Version 2 appended request_id; a struct filled for version 1 keeps working. */
#define GENESIS_CALL_OPTIONS_VERSION 2

typedef struct genesis_call_options {
    unsigned int version;     /* GENESIS_CALL_OPTIONS_VERSION */
    uint32_t timeout_ms;      /* overall deadline; 0 = the coordinator's default (10 s) */
    int criticality;          /* genesis_criticality */
    int idempotent;           /* non-zero: safe to retry after it reached a handler */
    const char *source;       /* caller identity (component id or client name); may be NULL */
    const char *content_type; /* media type of the payload; NULL = "application/octet-stream" */
    /* ---- version 2 ---- */
    /* End-to-end correlation id (an HTTP X-Request-Id): handlers read it with
     * genesis_request_id, remote components receive it, logs name it. 0 = the coordinator
     * assigns one. */
    uint64_t request_id;
} genesis_call_options;

/* Fill *opts with defaults for the given version (1 or GENESIS_CALL_OPTIONS_VERSION: only the
 * fields that version has are written). Returns GENESIS_INVALID_ARGUMENT when opts is NULL or
 * the version is not one this library knows. */
GENESIS_API int genesis_call_options_init(genesis_call_options *opts, unsigned int version);

/* ---------------------------------------------------------------------------------------- */
/* Results: the outcome of a request, owned by the caller that received it.                 */

typedef struct genesis_result genesis_result;

/* gRPC status code of the outcome (GENESIS_OK on success). */
GENESIS_API int genesis_result_status(const genesis_result *res);
/* genesis_reason of a failure (GENESIS_REASON_NONE on success). */
GENESIS_API int genesis_result_reason(const genesis_result *res);
/* Human-readable explanation of a failure; "" on success. Never NULL. */
GENESIS_API const char *genesis_result_message(const genesis_result *res);
/* The reply payload; *len receives its size (len may be NULL). Never NULL (a zero-length
 * payload is a pointer to an empty, NUL-terminated buffer, so text replies can be printed). */
GENESIS_API const void *genesis_result_data(const genesis_result *res, size_t *len);
/* The reply payload's media type; "" if none was given. Never NULL. */
GENESIS_API const char *genesis_result_content_type(const genesis_result *res);
/* When retrying this failure may succeed, in milliseconds from when it was decided: an open
 * breaker's time until its next probe. 0 = no advice (also on success and for NULL). Since
 * GENESIS_1.4. */
GENESIS_API uint32_t genesis_result_retry_delay_ms(const genesis_result *res);
/* Free a result. Accepts NULL. */
GENESIS_API void genesis_result_free(genesis_result *res);

/* Completion callback of an asynchronous request. Runs exactly once, on a library worker
 * thread (never on the thread that started the call), after the reply arrived or the call
 * failed. Ownership of res passes to the callback: free it with genesis_result_free (it may
 * be kept and freed later). res is NULL only when memory ran out; every genesis_result_*
 * accessor accepts NULL and then reports RESOURCE_EXHAUSTED / NO_MEMORY. When the function
 * that takes the callback returns an error, the callback is never called. */
typedef void (*genesis_result_fn)(genesis_result *res, void *arg);

/* ---------------------------------------------------------------------------------------- */
/* Requests as seen by a component's handler (borrowed, valid during the handler).          */

typedef struct genesis_request genesis_request;

GENESIS_API const char *genesis_request_type(const genesis_request *req);   /* never NULL */
GENESIS_API const char *genesis_request_source(const genesis_request *req); /* "" if none */
GENESIS_API const char *genesis_request_target(const genesis_request *req); /* never NULL */
/* Request payload; *len receives its size (len may be NULL). Never NULL; NUL-terminated. */
GENESIS_API const void *genesis_request_data(const genesis_request *req, size_t *len);
GENESIS_API const char *genesis_request_content_type(const genesis_request *req);
GENESIS_API int genesis_request_criticality(const genesis_request *req);
/* Milliseconds left before the caller's deadline when the handler started (0 = expired).
 * Handlers that run long should check it and give up early. */
GENESIS_API uint32_t genesis_request_remaining_ms(const genesis_request *req);
/* End-to-end correlation id of the request (for logs). */
GENESIS_API uint64_t genesis_request_id(const genesis_request *req);

/* The reply a handler fills in (borrowed, valid during the handler). A handler that sets
 * nothing replies OK with an empty payload. The last call wins. */
typedef struct genesis_reply genesis_reply;

/* Reply with a payload; the bytes are copied. content_type may be NULL. Returns
 * GENESIS_RESOURCE_EXHAUSTED if len exceeds the coordinator's message size limit. */
GENESIS_API int genesis_reply_set(genesis_reply *reply, const void *data, size_t len,
                                  const char *content_type);
/* Reply with an error: status must not be GENESIS_OK; message may be NULL. The caller sees
 * the status with reason GENESIS_REASON_HANDLER_ERROR and this message. */
GENESIS_API int genesis_reply_error(genesis_reply *reply, int status, const char *message);

/* A component's request handler. Runs on a library worker thread (never on an NNG callback
 * thread), possibly concurrently with other calls of the same handler up to the component's
 * max_concurrency; it may block, but it holds a worker while it does. */
typedef void (*genesis_request_fn)(const genesis_request *req, genesis_reply *reply, void *arg);

/* ---------------------------------------------------------------------------------------- */
/* Events (borrowed, valid during the callback).                                            */

typedef struct genesis_event genesis_event;

GENESIS_API const char *genesis_event_type(const genesis_event *ev);   /* never NULL */
GENESIS_API const char *genesis_event_source(const genesis_event *ev); /* "" if none */
/* Event payload; *len receives its size (len may be NULL). Never NULL; NUL-terminated. */
GENESIS_API const void *genesis_event_data(const genesis_event *ev, size_t *len);
GENESIS_API const char *genesis_event_content_type(const genesis_event *ev);
/* Per-publisher sequence number (bus events) or per-coordinator emit number (in-process). */
GENESIS_API uint64_t genesis_event_sequence(const genesis_event *ev);
/* Non-zero for an event meant for external clients (gateway), zero for a local event. */
GENESIS_API int genesis_event_is_external(const genesis_event *ev);

/* An event callback. Events for one receiver are delivered one at a time, in order, on a
 * library worker thread. */
typedef void (*genesis_event_fn)(const genesis_event *ev, void *arg);

/* ---------------------------------------------------------------------------------------- */
/* Logging.                                                                                 */

typedef enum genesis_log_level {
    GENESIS_LOG_ERROR = 0,
    GENESIS_LOG_WARN = 1,
    GENESIS_LOG_INFO = 2,
    GENESIS_LOG_DEBUG = 3
} genesis_log_level;

/* A log sink. Called from any library thread, possibly concurrently; must not call back into
 * the object that logs. message is valid during the call. */
typedef void (*genesis_log_fn)(int level, const char *message, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_MESSAGE_H */
