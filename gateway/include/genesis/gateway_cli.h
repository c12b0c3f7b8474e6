/* The gateway's command-line flags, shared by genesis-gateway and genesisd (which embeds the
 * gateway): one getopt_long table, one help text, one parser.
 *
 * Conventions as in genesis/gateway.h: status returns, failures explained by
 * genesis_gateway_last_error(). The functions keep no state and may be called from any
 * thread. */
#ifndef GENESIS_GATEWAY_CLI_H
#define GENESIS_GATEWAY_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "genesis/gateway.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The gateway's getopt_long entries return values from GENESIS_GATEWAY_CLI_FIRST up; a
 * program's own entries use values below it. */
#define GENESIS_GATEWAY_CLI_FIRST 1000

/* getopt_long entries of the gateway's flags, terminated by a zero entry (static storage). */
const struct option *genesis_gateway_cli_options(void);

/* Help lines for those flags, in the layout of the programs' --help (static storage). */
const char *genesis_gateway_cli_help(void);

/* Build a program's getopt_long table into out (cap entries): its own n_own entries, then the
 * gateway's (a name the program has already is left to the program), then the zero
 * terminator. GENESIS_OUT_OF_RANGE when cap is too small. */
int genesis_gateway_cli_merge_options(const struct option *own, size_t n_own, struct option *out,
                                      size_t cap);

/* Apply one option getopt_long returned to opts: *applied = 1 when it was a gateway flag, 0
 * when it is the program's. GENESIS_INVALID_ARGUMENT for a gateway flag with an invalid value
 * (genesis_gateway_last_error() names the flag and what is valid). */
int genesis_gateway_cli_apply(genesis_gateway_options *opts, int opt, const char *arg,
                              int *applied);

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_GATEWAY_CLI_H */
