/* The gateway's command-line flags inside the library, behind the public genesis/gateway_cli.h
 * (gateway_api.c wraps them): one table, one help text, one parser. */
#ifndef GW_GATEWAY_CLI_H
#define GW_GATEWAY_CLI_H

#include <getopt.h>
#include <stddef.h>

#include <genesis/gateway_cli.h>

#include "gateway.h"

/* getopt_long entries (values from GW_CLI_FIRST up), terminated by a zero entry. */
#define GW_CLI_FIRST GENESIS_GATEWAY_CLI_FIRST
extern const struct option gw_cli_options[];

/* Build a program's getopt_long table: its own n_own entries, then the gateway's, then the
 * zero terminator, into out (cap entries). Returns 0, or -1 when cap is too small. */
int gw_cli_merge_options(const struct option *own, size_t n_own, struct option *out, size_t cap);

/* Help lines for those flags. */
extern const char gw_cli_help[];

/* Apply one parsed option. Returns 1 when it was a gateway flag, 0 when not, -1 when its
 * value is invalid (why says which and why). */
int gw_cli_apply(gw_config *cfg, int opt, const char *arg, char *why, size_t why_size);

#endif /* GW_GATEWAY_CLI_H */
