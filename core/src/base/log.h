/* The logger: a level filter and printf-style formatting in front of a genesis_log_fn, and the
 * default sink that writes "genesis <level>: <message>" lines on stderr when the user gave
 * none.
 *
 * One implementation for everything Genesis builds: the library logs through it (each
 * coordinator, client and service holds a gn_logger made from its options), and the programs
 * around the library link this same object through the daemon-support library, whose line
 * formats (text, logfmt, JSON with rate limit) are a genesis_log_fn installed here. It
 * depends on the public headers only, so it links outside libgenesis too.
 *
 * Threading: every function may be called from any thread; a gn_logger is read only. */
#ifndef GN_LOG_H
#define GN_LOG_H

#include <stdarg.h>

#include "genesis/message.h"

/* A level filter plus a sink. */
typedef struct gn_logger {
    int level;         /* genesis_log_level: messages above it are dropped */
    genesis_log_fn fn; /* NULL = gn_log_stderr */
    void *arg;
} gn_logger;

/* Format and deliver one message (at most 1023 bytes; longer ones are cut) when level passes
 * lg's filter. lg may be NULL (nothing is logged). */
void gn_log(const gn_logger *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gn_logv(const gn_logger *lg, int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The default sink: "genesis <level>: <message>\n" on stderr, one write per line. */
void gn_log_stderr(int level, const char *message, void *arg);

/* "error", "warn", "info" or "debug" ("debug" for values past it, "?" below error). */
const char *gn_log_level_name(int level);

/* The level named name ("warning" is accepted for warn; case does not matter). 0 with *level
 * set, or -1 for an unknown name. */
int gn_log_level_parse(const char *name, int *level);

#endif /* GN_LOG_H */
