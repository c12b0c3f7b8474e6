/* Cross-origin access from browsers (CORS): the origins allowed by --cors-origins (none by
 * default), the preflight answers of every route and protocol, and the headers that let an
 * allowed page read a response. A page from any other origin gets no CORS header at all, so
 * its browser keeps the response from it. Service thread. */
#ifndef GW_CORS_H
#define GW_CORS_H

#include <stddef.h>

#include "gw_internal.h"

/* Parse the comma-separated origins ("https://app.example.com,http://localhost:5173"; each
 * scheme://host[:port], no path). Returns 0, or -1 with the bad entry named in why. */
int gw_cors_load(gw_gateway *gw, const char *list, char *why, size_t why_size);
void gw_cors_free(gw_gateway *gw);

/* True when origin (an Origin header's value) is one of the allowed origins. */
int gw_cors_allowed(const gw_gateway *gw, const char *origin);

/* An OPTIONS request: answer the preflight of the route at path (204 with the methods and
 * headers the route's protocols use, or 403 for an origin not allowed). */
int gw_cors_preflight(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path);

/* Add the CORS response headers for conn's origin when it is allowed (nothing otherwise). */
int gw_cors_headers(gw_gateway *gw, struct lws *wsi, const gw_conn *conn, unsigned char **p,
                    unsigned char *end);

#endif /* GW_CORS_H */
