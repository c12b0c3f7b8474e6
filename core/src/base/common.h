/* Internal helpers shared by every libgenesis source file: errors, time, allocation. */
#ifndef GN_COMMON_H
#define GN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genesis/status.h"
#include "genesis/message.h"

#include "base/log.h" /* gn_logger, gn_log */

/* Internal, non-static functions are gn_*; public ones are genesis_* (see genesis.h). */

/* Defaults shared by the roles (a zero option means the default). */
#define GN_DEFAULT_MAX_MESSAGE            (1024u * 1024u)
#define GN_DEFAULT_TIMEOUT_MS             10000u
#define GN_DEFAULT_MAX_CONCURRENCY        16u  /* handlers at once per component / service */
#define GN_DEFAULT_EVENT_QUEUE            50u  /* waiting events per component / service */
#define GN_DEFAULT_HEARTBEAT_MS           100u /* remote components' heartbeat interval */
#define GN_DEFAULT_CHECKPOINT_INTERVAL_MS 150u /* sweep for changed components this often */
#define GN_DEFAULT_CHECKPOINT_GENERATIONS 3u   /* generations kept per component */
#define GN_MAX_ID_LEN                     128u
#define GN_MAX_TYPE_LEN                   256u

/* genesis_call_options versions this library reads (version 1 has no request_id). */
#define gn_call_options_version_ok(v) ((v) == 1 || (v) == GENESIS_CALL_OPTIONS_VERSION)

/* Record a thread-local explanation for genesis_last_error() and return status, so error
 * paths read `return gn_fail(GENESIS_NOT_FOUND, "no component '%s'", id);`. */
int gn_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the thread-local message (start of each public call that can fail). */
void gn_clear_error(void);

/* Monotonic milliseconds, for deadlines. */
int64_t gn_now_ms(void);
/* Wall-clock Unix milliseconds, for event timestamps. */
int64_t gn_wall_ms(void);

/* strdup that returns NULL on NULL input; callers check for allocation failure. */
char *gn_strdup(const char *s);

/* Component ids: 1..GN_MAX_ID_LEN bytes of [A-Za-z0-9._-]. */
bool gn_valid_id(const char *id);
/* Request and event types: 1..GN_MAX_TYPE_LEN printable ASCII bytes without spaces. */
bool gn_valid_type(const char *type);

/* Map an NNG error (nng_err) onto a Genesis status and reason. */
int gn_status_from_nng(int nng_err, int *reason);

/* Defensive checks that stay in release builds: log loudly with file and line, then let the
 * caller degrade gracefully (SQLite's ALWAYS/NEVER idea). */
bool gn_check_failed(const char *expr, const char *file, int line);
#define GN_CHECK(expr) ((expr) ? true : gn_check_failed(#expr, __FILE__, __LINE__))

#endif /* GN_COMMON_H */
