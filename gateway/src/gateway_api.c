/* The gateway's public API (genesis/gateway.h, genesis/gateway_cli.h): argument and version
 * checks, and failures explained through a thread-local message (genesis_gateway_last_error)
 * instead of the internal functions' why buffers. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon_cli.h"
#include "gateway.h"
#include "gateway_cli.h"
#include "genesis/gateway_cli.h"

#define ERROR_SIZE 512

static _Thread_local char last_error[ERROR_SIZE];

/* Record why and return status. */
static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *genesis_gateway_last_error(void)
{
    return last_error;
}

int genesis_gateway_options_init(genesis_gateway_options *opts, unsigned int version)
{
    last_error[0] = '\0';
    if (opts == NULL || version != GENESIS_GATEWAY_OPTIONS_VERSION)
        return fail(GENESIS_INVALID_ARGUMENT, "gateway options: NULL or unknown version %u",
                    version);
    gw_config_init(opts);
    opts->version = version;
    return GENESIS_OK;
}

int genesis_gateway_options_set_listen(genesis_gateway_options *opts, const char *spec)
{
    last_error[0] = '\0';
    if (opts == NULL || spec == NULL)
        return fail(GENESIS_INVALID_ARGUMENT, "listen address: NULL argument");
    char host[sizeof opts->host];
    snprintf(host, sizeof host, "%s", opts->host);
    int port = 0;
    if (daemon_cli_parse_host_port(spec, host, sizeof host, &port, last_error, sizeof last_error) !=
        0)
        return GENESIS_INVALID_ARGUMENT;
    memcpy(opts->host, host, sizeof host);
    opts->port = port;
    return GENESIS_OK;
}

int genesis_gateway_new(genesis_gateway **out, const genesis_gateway_options *opts)
{
    last_error[0] = '\0';
    if (out == NULL || opts == NULL)
        return fail(GENESIS_INVALID_ARGUMENT, "gateway_new: NULL argument");
    *out = NULL;
    if (opts->version != GENESIS_GATEWAY_OPTIONS_VERSION)
        return fail(GENESIS_INVALID_ARGUMENT, "gateway options version %u is unknown",
                    opts->version);
    return gw_new(out, opts, last_error, sizeof last_error);
}

int genesis_gateway_start(genesis_gateway *gw)
{
    last_error[0] = '\0';
    if (gw == NULL)
        return fail(GENESIS_INVALID_ARGUMENT, "gateway_start: NULL gateway");
    return gw_start(gw, last_error, sizeof last_error);
}

int genesis_gateway_get_port(const genesis_gateway *gw, int *port)
{
    last_error[0] = '\0';
    if (gw == NULL || port == NULL)
        return fail(GENESIS_INVALID_ARGUMENT, "gateway_get_port: NULL argument");
    *port = gw_port(gw);
    return GENESIS_OK;
}

int genesis_gateway_get_url(const genesis_gateway *gw, char *buf, size_t size)
{
    last_error[0] = '\0';
    if (gw == NULL || buf == NULL || size == 0)
        return fail(GENESIS_INVALID_ARGUMENT, "gateway_get_url: NULL argument or empty buffer");
    char url[300]; /* scheme, a numeric address of at most 45 bytes, brackets and a port */
    gw_url(gw, url, sizeof url);
    if (strlen(url) >= size)
        return fail(GENESIS_OUT_OF_RANGE, "gateway_get_url: %zu bytes needed, %zu given",
                    strlen(url) + 1, size);
    memcpy(buf, url, strlen(url) + 1);
    return GENESIS_OK;
}

void genesis_gateway_free(genesis_gateway *gw)
{
    gw_free(gw);
}

const struct option *genesis_gateway_cli_options(void)
{
    return gw_cli_options;
}

const char *genesis_gateway_cli_help(void)
{
    return gw_cli_help;
}

int genesis_gateway_cli_merge_options(const struct option *own, size_t n_own, struct option *out,
                                      size_t cap)
{
    last_error[0] = '\0';
    if ((own == NULL && n_own > 0) || out == NULL)
        return fail(GENESIS_INVALID_ARGUMENT, "cli_merge_options: NULL argument");
    if (gw_cli_merge_options(own, n_own, out, cap) != 0)
        return fail(GENESIS_OUT_OF_RANGE, "cli_merge_options: %zu entries are too few", cap);
    return GENESIS_OK;
}

int genesis_gateway_cli_apply(genesis_gateway_options *opts, int opt, const char *arg, int *applied)
{
    last_error[0] = '\0';
    if (opts == NULL || applied == NULL)
        return fail(GENESIS_INVALID_ARGUMENT, "cli_apply: NULL argument");
    int rc = gw_cli_apply(opts, opt, arg, last_error, sizeof last_error);
    *applied = rc > 0;
    return rc < 0 ? GENESIS_INVALID_ARGUMENT : GENESIS_OK;
}
