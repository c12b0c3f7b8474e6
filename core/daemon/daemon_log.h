/* genesisd's log sink: timestamped, levelled lines on stderr, shared by the daemon's own
 * messages and the library's (installed as the coordinator's genesis_log_fn). */
#ifndef GENESISD_DAEMON_LOG_H
#define GENESISD_DAEMON_LOG_H

#include <genesis/genesis.h>

/* Parse "error", "warn" (or "warning"), "info" or "debug" into a genesis_log_level.
 * Returns 0 on success, -1 for an unknown name. */
int daemon_log_level_parse(const char *name, int *level);

/* The lower-case name of a level ("info"); "?" for an unknown value. */
const char *daemon_log_level_name(int level);

/* Messages above this level are dropped. Set it before any thread that logs starts. */
void daemon_log_set_level(int level);

/* A genesis_log_fn: writes "<UTC timestamp> <LEVEL> <message>" as one line to stderr. Safe
 * to call from any thread; each line is written whole. arg is unused. */
void daemon_log_sink(int level, const char *message, void *arg);

/* printf-style convenience around daemon_log_sink for the daemon's own messages. */
void daemon_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* GENESISD_DAEMON_LOG_H */
