/* GN_ASSERT: an invariant that must hold, checked in every build (release included). When it
 * fails the process prints the file, line, function and expression to stderr and aborts: a
 * broken reference count, state machine or lane count means memory is already wrong, and
 * carrying on would turn it into silent corruption. The check is one predictable branch
 * (__builtin_expect marks the failure cold), so it costs nothing measurable on hot paths.
 *
 * For conditions a caller can recover from, use GN_CHECK (base/common.h): it logs and lets
 * the caller degrade instead. */
#ifndef GN_ASSERT_H
#define GN_ASSERT_H

/* Print "<file>:<line>: <function>: assertion failed: <expr>" to stderr and abort. */
void gn_assert_failed(const char *expr, const char *file, int line, const char *func)
    __attribute__((noreturn, cold));

#define GN_ASSERT(expr)                                                                            \
    (__builtin_expect(!!(expr), 1) ? (void)0                                                       \
                                   : gn_assert_failed(#expr, __FILE__, __LINE__, __func__))

#endif /* GN_ASSERT_H */
