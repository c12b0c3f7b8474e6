/* Command-line helpers shared by genesisd and genesis-gateway: bounded numbers, HOST:PORT
 * addresses, environment defaults, and the argument vector a configuration file produces
 * (the file's flags first, then the command line, so flags given on the command line win).
 *
 * Every function is pure or touches only what it is given; safe from any thread. */
#ifndef GENESIS_DAEMON_CLI_H
#define GENESIS_DAEMON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_file.h"

/* A decimal unsigned integer in [lo, hi], nothing else (no sign, no blanks, no suffix).
 * Returns 0 with *out set, or -1. */
int daemon_cli_parse_uint(const char *text, unsigned long long lo, unsigned long long hi,
                          unsigned long long *out);

/* A duration in seconds, decimals allowed ("10", "0.5"), in (0, max_s]: *out_ms in
 * milliseconds, at least 1. Returns 0, or -1. */
int daemon_cli_parse_seconds(const char *text, double max_s, uint32_t *out_ms);

/* "HOST:PORT", "[IPv6]:PORT", ":PORT" or "PORT" (port 0..65535). host (host_size bytes) is
 * left as it is when the spec names none. Returns 0, or -1 with a message in why. */
int daemon_cli_parse_host_port(const char *spec, char *host, size_t host_size, int *port, char *why,
                               size_t why_size);

/* getenv(name) when set and not empty, else fallback. */
const char *daemon_cli_env_or(const char *name, const char *fallback);

/* Whether a program takes one setting of the file (NULL filter: every setting). */
typedef bool (*daemon_cli_setting_filter)(const conf_setting *s, void *arg);

/* The argument vector of a program run with a configuration file. argv[0] is the command
 * line's; argv[1 .. n_file] are the file's flags ("--flag=value"), owned here; the command
 * line's arguments follow (borrowed: the command line must outlive this). */
typedef struct daemon_cli_args {
    conf_file file;
    char **argv; /* argc entries and a NULL */
    int argc;
    size_t n_file;
} daemon_cli_args;

/* Read path against the key table and build *out (zeroed first). Returns 0, or -1 with a
 * "PATH:LINE: ..." message in why; daemon_cli_args_free *out either way. */
int daemon_cli_args_load(daemon_cli_args *out, const char *path, const conf_key *table,
                         size_t n_keys, int argc, char **argv, daemon_cli_setting_filter filter,
                         void *filter_arg, char *why, size_t why_size);

/* Free what daemon_cli_args_load made and zero *a. Accepts NULL and a zeroed struct. */
void daemon_cli_args_free(daemon_cli_args *a);

#endif /* GENESIS_DAEMON_CLI_H */
