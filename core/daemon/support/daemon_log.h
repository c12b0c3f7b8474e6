/* The log sink of genesisd and genesis-gateway, shared by the program's own messages and the
 * library's (installed as the coordinator's and the gateway's genesis_log_fn): one line per message
 * on stderr, in one of three formats, rate-limited per kind of message.
 *
 *   text    2026-11-28T09:00:00.123Z INFO  [gateway] message
 *   logfmt  ts=2026-... level=info subsystem=coordinator component=comp1 msg="..."
 *   json    {"ts":"2026-...","level":"info","subsystem":"coordinator","component":"comp1",...}
 *
 * subsystem is the part of the program that logs (coordinator, gateway, supervisor, demo, or
 * the program's name); component is the component id the message is about, when it names one
 * ("component comp1 ...", "component=comp1"). logfmt and json lines also carry request_id and
 * reason when the message names them ("request_id=42", "reason=BREAKER_OPEN"), so a request
 * can be followed from the gateway to the component that served it.
 *
 * Rate limit: at most N lines per second for each (level, message kind), where the kind is the
 * message with its digits removed: a failure storm logs N lines a second of each kind and
 * counts the rest, reported as one "suppressed" line per kind when the storm calms down (and
 * by daemon_log_flush). */
#ifndef GENESIS_DAEMON_LOG_H
#define GENESIS_DAEMON_LOG_H

#include <stdint.h>

#include <genesis/genesis.h>

typedef enum daemon_log_format {
    DAEMON_LOG_TEXT = 0,
    DAEMON_LOG_LOGFMT = 1,
    DAEMON_LOG_JSON = 2
} daemon_log_format;

/* Parse "error", "warn" (or "warning"), "info" or "debug" into a genesis_log_level.
 * Returns 0 on success, -1 for an unknown name. */
int daemon_log_level_parse(const char *name, int *level);

/* The lower-case name of a level ("info"); "?" for an unknown value. */
const char *daemon_log_level_name(int level);

/* "text", "logfmt" or "json". Returns 0, or -1 for an unknown name. */
int daemon_log_format_parse(const char *name, int *format);
const char *daemon_log_format_name(int format);

/* Settings; each may change at any time (a configuration reload), from any thread. */
void daemon_log_set_level(int level);
void daemon_log_set_format(int format);
/* Lines per second per message kind; 0 = unlimited. Default 20. */
void daemon_log_set_rate_limit(unsigned int per_second);

/* The program's own name, used as the component of its own messages (a string with static
 * lifetime; default "genesisd"). Call once at start, before any thread logs. */
void daemon_log_set_program(const char *name);

/* A genesis_log_fn. arg names the component that logs (a string with static lifetime, e.g.
 * "coordinator", "gateway"); NULL means the program itself. Safe from any thread; each line is
 * written whole. */
void daemon_log_sink(int level, const char *message, void *arg);

/* printf-style convenience for the daemon's own messages; a "supervisor: " prefix becomes the
 * component. */
void daemon_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Report the suppressed counts now (one line per kind), e.g. before exiting. */
void daemon_log_flush(void);

/* Lines suppressed by the rate limit so far. */
uint64_t daemon_log_suppressed_total(void);

#endif /* GENESIS_DAEMON_LOG_H */
