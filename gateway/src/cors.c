/* CORS (see cors.h). */
#define _POSIX_C_SOURCE 200809L
#include "cors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cross_site.h"
#include "routes.h"
#include "rpc_http.h"

/* What a browser may send: the headers of the REST routes, gRPC-Web and Connect. */
static const char rest_headers[] = "authorization, content-type, x-request-id, connect-timeout-ms";
static const char rpc_headers[] = "authorization, content-type, x-request-id, x-grpc-web, "
                                  "x-user-agent, grpc-timeout, connect-protocol-version, "
                                  "connect-timeout-ms, connect-accept-encoding, "
                                  "connect-content-encoding, grpc-encoding, "
                                  "grpc-accept-encoding";
/* What a page may read: gRPC-Web's status when it comes as headers, the request id, and the
 * message encodings (a client decompresses by them). */
static const char exposed[] = "grpc-status, grpc-message, grpc-status-details-bin, x-request-id, "
                              "grpc-encoding, grpc-accept-encoding, connect-content-encoding, "
                              "connect-accept-encoding";

int gw_cors_allowed(const gw_gateway *gw, const char *origin)
{
    /* Listed origins only ("*" = any): a same-origin page needs no CORS headers. */
    return origin != NULL && origin[0] != '\0' && gw->cfg.allowed_origins[0] != '\0' &&
           gw_origin_allowed(origin, "", gw->cfg.allowed_origins);
}

int gw_cors_preflight(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path)
{
    conn->route = GW_ROUTE_PREFLIGHT;
    char want[32] = "";
    lws_hdr_custom_copy(wsi, want, sizeof(want), "access-control-request-method:", 30);
    if (conn->origin[0] == '\0' || want[0] == '\0') {
        snprintf(conn->resp_allow, sizeof(conn->resp_allow), "GET, POST, OPTIONS");
        gw_http_error(gw, wsi, conn, 405, GENESIS_UNIMPLEMENTED, "METHOD_NOT_ALLOWED",
                      "OPTIONS answers CORS preflights only (with Origin and "
                      "Access-Control-Request-Method)");
        return 0;
    }
    if (!gw_cors_allowed(gw, conn->origin)) {
        char msg[400];
        snprintf(msg, sizeof(msg),
                 "origin '%.200s' is not allowed to call this gateway (--allowed-origin)",
                 conn->origin);
        gw_http_error(gw, wsi, conn, 403, GENESIS_PERMISSION_DENIED, "ORIGIN_NOT_ALLOWED", msg);
        return 0;
    }
    char id[GENESIS_ID_MAX + 1];
    int allowed = GW_METHOD_OTHER;
    int route = gw_route_match(path, id, &allowed);
    conn->cors_rpc = gw_rpc_http_claims(path);
    if (!conn->cors_rpc && route == GW_ROUTE_UNKNOWN) {
        char msg[400];
        snprintf(msg, sizeof(msg), "no route for %.300s", path);
        gw_http_error(gw, wsi, conn, 404, GENESIS_NOT_FOUND, "NO_ROUTE", msg);
        return 0;
    }
    snprintf(conn->resp_allow, sizeof(conn->resp_allow), "%s",
             conn->cors_rpc || allowed == GW_METHOD_POST ? "POST" : "GET");
    gw_http_respond(wsi, conn, 204, "text/plain", "", 0);
    return 0;
}

static int add(struct lws *wsi, const char *name, const char *value, unsigned char **p,
               unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

int gw_cors_headers(gw_gateway *gw, struct lws *wsi, const gw_conn *conn, unsigned char **p,
                    unsigned char *end)
{
    if (gw->cfg.allowed_origins[0] == '\0')
        return 0;
    /* The answer depends on the Origin: caches must keep one per origin. */
    if (add(wsi, "vary:", "Origin", p, end) != 0)
        return -1;
    if (!gw_cors_allowed(gw, conn->origin))
        return 0;
    if (add(wsi, "access-control-allow-origin:", conn->origin, p, end) != 0)
        return -1;
    if (conn->route != GW_ROUTE_PREFLIGHT)
        return add(wsi, "access-control-expose-headers:", exposed, p, end);
    return add(wsi, "access-control-allow-methods:", conn->resp_allow, p, end) != 0 ||
                   add(wsi,
                       "access-control-allow-headers:", conn->cors_rpc ? rpc_headers : rest_headers,
                       p, end) != 0 ||
                   add(wsi, "access-control-max-age:", "600", p, end) != 0
               ? -1
               : 0;
}
