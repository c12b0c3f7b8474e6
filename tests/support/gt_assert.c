/* Status assertions for cmocka that name what they saw. */
#include "gt_assert.h"

#include <stdio.h>

#include "genesis/status.h"

static void report_codes(const char *what, int code, int reason, const char *message,
                         const char *file, int line)
{
    print_error("%s:%d: %s: got %s (%d) reason %s (%d), message \"%s\"\n", file, line, what,
                genesis_status_name(code), code, genesis_reason_name(reason), reason,
                message != NULL ? message : "(null)");
}

void gt_check_status(int actual, int expected, const char *expr, const char *file, int line)
{
    if (actual == expected)
        return;
    print_error("%s:%d: %s returned %s (%d), expected %s (%d); genesis_last_error: \"%s\"\n", file,
                line, expr, genesis_status_name(actual), actual, genesis_status_name(expected),
                expected, genesis_last_error());
    _fail(file, line);
}

void gt_check_codes(int code, int reason, const char *message, int want_code, int want_reason,
                    const char *expr, const char *file, int line)
{
    if (code == want_code && (want_reason == GT_ANY_REASON || reason == want_reason))
        return;
    report_codes(expr, code, reason, message, file, line);
    if (want_reason == GT_ANY_REASON)
        print_error("%s:%d: expected %s (%d) with any reason\n", file, line,
                    genesis_status_name(want_code), want_code);
    else
        print_error("%s:%d: expected %s (%d) reason %s (%d)\n", file, line,
                    genesis_status_name(want_code), want_code, genesis_reason_name(want_reason),
                    want_reason);
    _fail(file, line);
}

void gt_check_result(const genesis_result *res, int status, int reason, const char *expr,
                     const char *file, int line)
{
    if (res == NULL) {
        print_error("%s:%d: %s is NULL (expected a result with %s); genesis_last_error: \"%s\"\n",
                    file, line, expr, genesis_status_name(status), genesis_last_error());
        _fail(file, line);
    }
    gt_check_codes(genesis_result_status(res), genesis_result_reason(res),
                   genesis_result_message(res), status, reason, expr, file, line);
}

void gt_check_result_in(const genesis_result *res, const int *statuses, size_t n, const char *expr,
                        const char *file, int line)
{
    if (res == NULL) {
        print_error("%s:%d: %s is NULL; genesis_last_error: \"%s\"\n", file, line, expr,
                    genesis_last_error());
        _fail(file, line);
    }
    int got = genesis_result_status(res);
    for (size_t i = 0; i < n; i++) {
        if (got == statuses[i])
            return;
    }
    report_codes(expr, got, genesis_result_reason(res), genesis_result_message(res), file, line);
    print_error("%s:%d: expected one of:", file, line);
    for (size_t i = 0; i < n; i++)
        print_error(" %s", genesis_status_name(statuses[i]));
    print_error("\n");
    _fail(file, line);
}
