/* Cross-origin access from browsers (CORS) for the origins of --allowed-origin (none by
 * default; cross_site.h lets the same origins POST and open WebSockets): the preflight answers
 * of every route and protocol, and the headers that let an allowed page read a response. A page
 * from any other origin gets no CORS header at all, so its browser keeps the response from it
 * (and cross_site.h refuses its POSTs). Service thread. */
#ifndef GW_CORS_H
#define GW_CORS_H

#include <stddef.h>

#include "gw_internal.h"

/* True when origin (an Origin header's value, non-empty) is one of --allowed-origin's. */
int gw_cors_allowed(const gw_gateway *gw, const char *origin);

/* An OPTIONS request: answer the preflight of the route at path (204 with the methods and
 * headers the route's protocols use, or 403 for an origin not allowed). */
int gw_cors_preflight(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path);

/* Add the CORS response headers for conn's origin when it is allowed (nothing otherwise). */
int gw_cors_headers(gw_gateway *gw, struct lws *wsi, const gw_conn *conn, unsigned char **p,
                    unsigned char *end);

#endif /* GW_CORS_H */
