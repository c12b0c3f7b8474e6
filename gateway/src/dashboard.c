/* The operator dashboard's static files (see dashboard.h). Runs on the service thread. */
#include "dashboard.h"

#include <stdio.h>
#include <string.h>

#include "gw_internal.h"

/* Only this origin's scripts, styles, images and connections (fetch and the WebSocket); no
 * inline code, no plugins, no framing, no form posts elsewhere. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self'; connect-src 'self'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'";

const gw_asset *gw_dashboard_find(const char *name)
{
    if (name[0] == '\0')
        name = "index.html";
    for (size_t i = 0; i < gw_dashboard_n_assets; i++)
        if (strcmp(gw_dashboard_assets[i].name, name) == 0)
            return &gw_dashboard_assets[i];
    return NULL;
}

const char *gw_dashboard_content_type(const char *name)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* True when an If-None-Match value (a list of ETags, or "*") names etag. */
static int etag_matches(const char *header, const char *etag)
{
    if (strcmp(header, "*") == 0)
        return 1;
    size_t n = strlen(etag);
    for (const char *p = strstr(header, etag); p != NULL; p = strstr(p + 1, etag)) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ')
            return 1;
    }
    return 0;
}

void gw_dashboard_serve(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    const gw_asset *a = gw_dashboard_find(conn->path_id);
    if (a == NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "the dashboard has no file /ui/%.128s", conn->path_id);
        gw_http_error(gw, wsi, conn, 404, GENESIS_NOT_FOUND, "NO_ROUTE", msg);
        return;
    }
    char inm[256];
    if (lws_hdr_copy(wsi, inm, sizeof(inm), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
        etag_matches(inm, a->etag)) {
        gw_http_respond(wsi, conn, 304, gw_dashboard_content_type(a->name), "", 0);
        return;
    }
    gw_http_respond(wsi, conn, 200, gw_dashboard_content_type(a->name), (const char *)a->data,
                    a->len);
}

static int add(struct lws *wsi, const char *name, const char *value, unsigned char **p,
               unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

int gw_dashboard_headers(struct lws *wsi, const gw_conn *conn, unsigned char **p,
                         unsigned char *end)
{
    const gw_asset *a = gw_dashboard_find(conn->path_id);
    /* no-cache: the browser keeps its copy but asks each time (a 304 while the ETag holds),
     * so a gateway upgrade never runs against a stale page. */
    if (a != NULL && (add(wsi, "etag:", a->etag, p, end) != 0 ||
                      add(wsi, "cache-control:", "no-cache", p, end) != 0))
        return -1;
    if (add(wsi, "content-security-policy:", csp, p, end) != 0 ||
        add(wsi, "x-content-type-options:", "nosniff", p, end) != 0 ||
        add(wsi, "referrer-policy:", "no-referrer", p, end) != 0 ||
        add(wsi, "x-frame-options:", "DENY", p, end) != 0 ||
        add(wsi, "cross-origin-opener-policy:", "same-origin", p, end) != 0)
        return -1;
    return 0;
}
