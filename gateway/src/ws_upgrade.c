/* A WebSocket upgrade that asks only for subprotocols this gateway does not speak gets a
 * clear 400 (libwebsockets alone would drop the connection without a word). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_internal.h"
#include "json_map.h"
#include "routes.h"

#define SUBPROTOCOL "genesis" /* the one the gateway speaks (or none asked for) */

/* Is name in the comma-separated list? */
static int lists(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncasecmp(p, name, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

int gw_ws_confirm_upgrade(gw_gateway *gw, struct lws *wsi, const char *to)
{
    if (to == NULL || strcmp(to, "websocket") != 0)
        return 0;
    char asked[256] = "";
    if (lws_hdr_copy(wsi, asked, sizeof(asked), WSI_TOKEN_PROTOCOL) <= 0 || asked[0] == '\0' ||
        lists(asked, SUBPROTOCOL))
        return 0;
    char msg[400];
    for (char *c = asked; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f || *c == '"' || *c == '\\')
            *c = '?';
    snprintf(msg, sizeof(msg),
             "unknown WebSocket subprotocol '%.200s': this gateway speaks '" SUBPROTOCOL
             "' (or ask for none)",
             asked);
    size_t len = 0;
    char *body = gw_error_json(GENESIS_INVALID_ARGUMENT, "UNKNOWN_SUBPROTOCOL", msg, &len);
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
    int rc = -1;
    if (body != NULL && len < 1024 &&
        lws_add_http_common_headers(wsi, 400, "application/json", len, &p, end) == 0 &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end) == 0 &&
        lws_finalize_http_header(wsi, &p, end) == 0) {
        memcpy(p, body, len);
        p += len;
        if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) == (int)(p - start))
            rc = 1; /* answered: libwebsockets completes the transaction */
    }
    gw_metrics_count_http(&gw->metrics, GW_ROUTE_WS, 400);
    free(body);
    return rc;
}
