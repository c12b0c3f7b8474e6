/* Cross-site protection of the gateway, with or without --auth-file:
 *
 *   Host    every request's Host (or :authority) must name the gateway: an IP literal (a
 *           browser sends one only when the page itself was loaded from that address),
 *           "localhost", the --http/--listen host, or a name given with --allowed-host. A
 *           DNS-rebinding page sends its own name and is refused.
 *   Origin  a POST or a WebSocket upgrade that carries an Origin must come from the gateway's
 *           own origin (the Origin names the Host the request was sent to) or one given with
 *           --allowed-origin. "null" (file:// pages, sandboxed frames) is foreign unless
 *           allowed by name. Requests without Origin (curl, programs) are not browsers' and
 *           pass.
 *   Type    state-changing routes take application/json only (and the Connect route
 *           application/proto): a browser sends text/plain, form and typeless bodies to any
 *           site without asking first (no CORS preflight).
 *
 * Pure functions over header values: no I/O, any thread. Lists are comma-separated,
 * case-insensitive; "*" in a list allows everything. */
#ifndef GW_CROSS_SITE_H
#define GW_CROSS_SITE_H

#include <stdbool.h>
#include <stddef.h>

/* "application/json", optionally with parameters ("; charset=utf-8"). */
bool gw_is_json_type(const char *content_type);

/* Host header value (NULL or "" = absent: allowed, only programs omit it). listen_host is the
 * configured host, allowed the --allowed-host list. */
bool gw_host_allowed(const char *host, const char *listen_host, const char *allowed);

/* Origin header value (NULL or "" = absent: allowed). host is the request's Host. */
bool gw_origin_allowed(const char *origin, const char *host, const char *allowed);

/* Append item to a comma-separated list held in list[size]. Returns 0, or -1 when it does not
 * fit or item is empty or holds a comma or whitespace. */
int gw_list_append(char *list, size_t size, const char *item);

#endif /* GW_CROSS_SITE_H */
