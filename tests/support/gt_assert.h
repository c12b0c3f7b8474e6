/* cmocka assertions about Genesis statuses that print status and reason names and messages. */
#ifndef GT_ASSERT_H
#define GT_ASSERT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "genesis/message.h"

/* Matches any reason in assert_result_reason and friends. */
#define GT_ANY_REASON (-1)

/* Fail the test unless `actual` (a genesis_status) equals `expected`. On failure prints both
 * names and genesis_last_error() of the calling thread. */
#define assert_status(actual, expected)                                                            \
    gt_check_status((actual), (expected), #actual, __FILE__, __LINE__)
#define assert_ok(actual) assert_status((actual), GENESIS_OK)

/* Fail unless res is not NULL and has the given status and reason (GT_ANY_REASON: any). On
 * failure prints the status and reason names and genesis_result_message(res). */
#define assert_result(res, status, reason)                                                         \
    gt_check_result((res), (status), (reason), #res, __FILE__, __LINE__)
#define assert_result_ok(res) assert_result((res), GENESIS_OK, GENESIS_REASON_NONE)

/* Fail unless res is not NULL and its status is one of the listed ones. Used where the
 * contract allows several outcomes (e.g. UNAVAILABLE or DEADLINE_EXCEEDED after a crash). */
#define assert_result_status_in(res, ...)                                                          \
    gt_check_result_in((res), (const int[]){__VA_ARGS__},                                          \
                       sizeof((const int[]){__VA_ARGS__}) / sizeof(int), #res, __FILE__, __LINE__)

/* The same check on raw (code, reason, message) triples, e.g. from a decoded wire Reply. */
#define assert_codes(code, reason, message, want_code, want_reason)                                \
    gt_check_codes((int)(code), (int)(reason), (message), (want_code), (want_reason), #code,       \
                   __FILE__, __LINE__)

void gt_check_status(int actual, int expected, const char *expr, const char *file, int line);
void gt_check_result(const genesis_result *res, int status, int reason, const char *expr,
                     const char *file, int line);
void gt_check_result_in(const genesis_result *res, const int *statuses, size_t n, const char *expr,
                        const char *file, int line);
void gt_check_codes(int code, int reason, const char *message, int want_code, int want_reason,
                    const char *expr, const char *file, int line);

#endif /* GT_ASSERT_H */
