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

#endif /* GENESIS_EXPORT_H */
