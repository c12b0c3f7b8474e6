/* Symbol export and compiler portability macros for the Genesis public API. */
#ifndef GENESIS_EXPORT_H
#define GENESIS_EXPORT_H

/* GENESIS_API marks every public function. libgenesis is built with hidden visibility and a
 * version script, so only symbols carrying this macro (and named genesis_*) are exported.
 * Define GENESIS_STATIC when linking the static library on platforms where it matters. */
#if defined(_WIN32) && !defined(GENESIS_STATIC)
#if defined(GENESIS_BUILDING)
#define GENESIS_API __declspec(dllexport)
#else
#define GENESIS_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define GENESIS_API __attribute__((visibility("default")))
#else
#define GENESIS_API
#endif

/* GENESIS_DEPRECATED(msg) marks an old name kept as an exported alias of its replacement:
 * existing binaries and sources keep working, and compilers point new code at the new name.
 * Define GENESIS_NO_DEPRECATION_WARNINGS to silence it. */
#if defined(GENESIS_NO_DEPRECATION_WARNINGS)
#define GENESIS_DEPRECATED(msg)
#elif defined(__GNUC__) || defined(__clang__)
#define GENESIS_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#define GENESIS_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#define GENESIS_DEPRECATED(msg)
#endif

#endif /* GENESIS_EXPORT_H */
