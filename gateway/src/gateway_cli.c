/* Gateway flags shared by genesis-gateway and genesisd (see gateway_cli.h). */
#define _POSIX_C_SOURCE 200809L
#include "gateway_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_values.h"
#include "cross_site.h"
#include "daemon_cli.h"

enum {
    OPT_TLS_CERT = GW_CLI_FIRST,
    OPT_TLS_KEY,
    OPT_AUTH_FILE,
    OPT_MAX_BODY,
    OPT_MAX_HEADER,
    OPT_MAX_WS_MESSAGE,
    OPT_MAX_WS_CLIENTS,
    OPT_WS_QUEUE,
    OPT_WS_QUEUE_BYTES,
    OPT_WS_PING,
    OPT_WS_IDLE,
    OPT_KEEPALIVE,
    OPT_HEADER_TIMEOUT,
    OPT_REQUEST_TIMEOUT,
    OPT_HISTORY_INTERVAL,
    OPT_ALLOWED_ORIGIN,
    OPT_ALLOWED_HOST,
};

const struct option gw_cli_options[] = {
    {"http-tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"http-tls-key", required_argument, NULL, OPT_TLS_KEY},
    /* Older names of the two above. In genesisd they name the core's mutual TLS instead
     * (its own options win in gw_cli_merge_options). */
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"auth-file", required_argument, NULL, OPT_AUTH_FILE},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-header", required_argument, NULL, OPT_MAX_HEADER},
    {"max-ws-message", required_argument, NULL, OPT_MAX_WS_MESSAGE},
    {"max-ws-clients", required_argument, NULL, OPT_MAX_WS_CLIENTS},
    {"ws-queue", required_argument, NULL, OPT_WS_QUEUE},
    {"ws-queue-bytes", required_argument, NULL, OPT_WS_QUEUE_BYTES},
    {"ws-ping", required_argument, NULL, OPT_WS_PING},
    {"ws-idle", required_argument, NULL, OPT_WS_IDLE},
    {"http-keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
    {"history-interval", required_argument, NULL, OPT_HISTORY_INTERVAL},
    {"allowed-origin", required_argument, NULL, OPT_ALLOWED_ORIGIN},
    {"allowed-host", required_argument, NULL, OPT_ALLOWED_HOST},
    {NULL, 0, NULL, 0},
};

const char gw_cli_help[] =
    "  --http-tls-cert PATH   serve HTTPS/WSS with this PEM certificate (needs the key)\n"
    "  --http-tls-key PATH    PEM private key of --http-tls-cert (genesis-gateway also\n"
    "                         takes both as --tls-cert/--tls-key)\n"
    "  --auth-file PATH       require bearer tokens: lines '<token> <scope>[,<scope>]',\n"
    "                         scope = component id, '*' (all) or 'admin'\n"
    "  --max-body BYTES       largest request body (default 1048576; more: 413)\n"
    "  --max-header BYTES     largest request header block (default 8192)\n"
    "  --max-ws-message BYTES largest WebSocket message (default 65536; more: close 1009)\n"
    "  --max-ws-clients N     WebSocket connections at most (default 100; more: 503)\n"
    "  --ws-queue N           messages queued per WebSocket client (default 256); a client\n"
    "                         whose queue is full loses messages (counted), one that loses\n"
    "                         4 queues' worth in a row is closed (1008)\n"
    "  --ws-queue-bytes BYTES bytes queued per WebSocket client (default 4194304)\n"
    "  --ws-ping S            ping a quiet WebSocket after S seconds (default 20)\n"
    "  --ws-idle S            close a WebSocket without traffic or pong for S s (default 60)\n"
    "  --http-keepalive S     close idle keep-alive HTTP connections after S s (default 5)\n"
    "  --header-timeout S     a request's headers and body must arrive within S s (10)\n"
    "  --request-timeout MS   deadline of requests that set none (default 10000)\n"
    "  --history-interval MS  sample GET /v1/status/history (the dashboard's charts) this\n"
    "                         often; 180 samples are kept (default 5000: 15 min; 0 = off)\n"
    "  --allowed-origin URL   also accept POSTs and WebSocket upgrades from pages of this\n"
    "                         origin (scheme://host[:port]; 'null' = file:// pages; '*' =\n"
    "                         any); repeatable or comma-separated. The gateway's own origin\n"
    "                         is always accepted, other websites are refused (403)\n"
    "  --allowed-host NAME    also accept this name in the Host header (besides IP\n"
    "                         addresses, localhost and the listen host; '*' = any);\n"
    "                         repeatable or comma-separated. Defeats DNS rebinding\n";

/* Append the comma-separated items of arg to list. Returns 1, or -1 with the reason. */
static int add_list(char *list, size_t size, const char *name, const char *arg, char *why,
                    size_t why_size)
{
    char item[512];
    const char *p = arg;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n >= sizeof(item) || (snprintf(item, sizeof(item), "%.*s", (int)n, p),
                                  gw_list_append(list, size, item) != 0)) {
            snprintf(why, why_size,
                     "invalid %s '%.200s' (non-empty items without spaces, %zu bytes in all)", name,
                     arg, size - 1);
            return -1;
        }
        if (comma == NULL)
            return 1;
        p = comma + 1;
    }
}

int gw_cli_apply(gw_config *cfg, int opt, const char *arg, char *why, size_t why_size)
{
    static const struct {
        int opt;
        const char *name;
        unsigned long long lo, hi;
        conf_unit unit; /* a duration: units accepted, a bare number in this unit */
    } ranges[] = {
        {OPT_MAX_BODY, "--max-body", 1, 64ull << 20, 0},
        {OPT_MAX_HEADER, "--max-header", 256, 65535, 0},
        {OPT_MAX_WS_MESSAGE, "--max-ws-message", 1, 16ull << 20, 0},
        {OPT_MAX_WS_CLIENTS, "--max-ws-clients", 1, 100000, 0},
        {OPT_WS_QUEUE, "--ws-queue", 1, 1000000, 0},
        {OPT_WS_QUEUE_BYTES, "--ws-queue-bytes", 1024, 1ull << 30, 0},
        {OPT_WS_PING, "--ws-ping", 1, 65535, CONF_UNIT_S},
        {OPT_WS_IDLE, "--ws-idle", 1, 65535, CONF_UNIT_S},
        {OPT_KEEPALIVE, "--http-keepalive", 1, 3600, CONF_UNIT_S},
        {OPT_HEADER_TIMEOUT, "--header-timeout", 1, 3600, CONF_UNIT_S},
        {OPT_REQUEST_TIMEOUT, "--request-timeout", 1, 3600000, CONF_UNIT_MS},
        {OPT_HISTORY_INTERVAL, "--history-interval", 0, 3600000, CONF_UNIT_MS},
    };
    switch (opt) {
    case OPT_TLS_CERT:
        cfg->tls_cert = arg;
        return 1;
    case OPT_TLS_KEY:
        cfg->tls_key = arg;
        return 1;
    case OPT_AUTH_FILE:
        cfg->auth_file = arg;
        return 1;
    case OPT_ALLOWED_ORIGIN:
    case OPT_ALLOWED_HOST:
        return add_list(
            opt == OPT_ALLOWED_ORIGIN ? cfg->allowed_origins : cfg->allowed_hosts,
            opt == OPT_ALLOWED_ORIGIN ? sizeof(cfg->allowed_origins) : sizeof(cfg->allowed_hosts),
            opt == OPT_ALLOWED_ORIGIN ? "--allowed-origin" : "--allowed-host", arg, why, why_size);
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (ranges[i].opt != opt)
            continue;
        unsigned long long v = 0;
        if (ranges[i].unit != 0) {
            if (conf_parse_duration(arg, ranges[i].unit, ranges[i].lo, ranges[i].hi, &v) != 0) {
                char range[160];
                conf_duration_range(ranges[i].unit, ranges[i].lo, ranges[i].hi, range,
                                    sizeof(range));
                snprintf(why, why_size, "invalid %s '%s' (%s)", ranges[i].name, arg, range);
                return -1;
            }
        } else if (daemon_cli_parse_uint(arg, ranges[i].lo, ranges[i].hi, &v) != 0) {
            snprintf(why, why_size, "invalid %s '%s' (an integer from %llu to %llu)",
                     ranges[i].name, arg, ranges[i].lo, ranges[i].hi);
            return -1;
        }
        switch (opt) {
        case OPT_MAX_BODY:
            cfg->max_body = (size_t)v;
            break;
        case OPT_MAX_HEADER:
            cfg->max_header = (unsigned int)v;
            break;
        case OPT_MAX_WS_MESSAGE:
            cfg->max_ws_message = (size_t)v;
            break;
        case OPT_MAX_WS_CLIENTS:
            cfg->max_ws_clients = (unsigned int)v;
            break;
        case OPT_WS_QUEUE:
            cfg->ws_queue = (unsigned int)v;
            break;
        case OPT_WS_QUEUE_BYTES:
            cfg->ws_queue_bytes = (size_t)v;
            break;
        case OPT_WS_PING:
            cfg->ws_ping_s = (unsigned int)v;
            break;
        case OPT_WS_IDLE:
            cfg->ws_idle_s = (unsigned int)v;
            break;
        case OPT_KEEPALIVE:
            cfg->http_keepalive_s = (unsigned int)v;
            break;
        case OPT_HEADER_TIMEOUT:
            cfg->header_timeout_s = (unsigned int)v;
            break;
        case OPT_HISTORY_INTERVAL:
            cfg->history_interval_ms = (uint32_t)v;
            break;
        default:
            cfg->default_timeout_ms = (uint32_t)v;
            break;
        }
        return 1;
    }
    return 0;
}

int gw_cli_merge_options(const struct option *own, size_t n_own, struct option *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < n_own; i++) {
        if (n + 1 >= cap)
            return -1;
        out[n++] = own[i];
    }
    for (size_t i = 0; gw_cli_options[i].name != NULL; i++) {
        int taken = 0; /* a program's own option of the same name wins */
        for (size_t k = 0; k < n_own && !taken; k++)
            taken = strcmp(own[k].name, gw_cli_options[i].name) == 0;
        if (taken)
            continue;
        if (n + 1 >= cap)
            return -1;
        out[n++] = gw_cli_options[i];
    }
    memset(&out[n], 0, sizeof(out[n]));
    return 0;
}
