/* HTTP routes: request parsing, limits, authentication, dispatch to the coordinator and the
 * response writer. Runs on the libwebsockets service thread. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cors.h"
#include "cross_site.h"
#include "dashboard.h"
#include "gw_internal.h"
#include "json_map.h"
#include "routes.h"
#include "rpc_http.h"
#include "rpc_service.h"
#include "status_section.h"

#define CHUNK 16384 /* body bytes written per writeable callback (<= GW_WS_BATCH) */

static int method_of(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
        return GW_METHOD_GET;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
        return GW_METHOD_POST;
#if defined(LWS_WITH_HTTP_UNCOMMON_HEADERS)
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0)
        return GW_METHOD_HEAD;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0)
        return GW_METHOD_OPTIONS;
#endif
#if defined(LWS_WITH_HTTP2)
    char m[16];
    if (lws_hdr_copy(wsi, m, sizeof(m), WSI_TOKEN_HTTP_COLON_METHOD) > 0) {
        if (strcmp(m, "GET") == 0)
            return GW_METHOD_GET;
        if (strcmp(m, "POST") == 0)
            return GW_METHOD_POST;
        if (strcmp(m, "HEAD") == 0)
            return GW_METHOD_HEAD;
        if (strcmp(m, "OPTIONS") == 0)
            return GW_METHOD_OPTIONS;
    }
#endif
    return GW_METHOD_OTHER;
}

static const char *method_name(int m)
{
    return m == GW_METHOD_GET    ? "GET"
           : m == GW_METHOD_POST ? "POST"
           : m == GW_METHOD_HEAD ? "HEAD"
                                 : "this method";
}

/* X-Request-Id: a decimal id is used as is; any other text is hashed (FNV-1a) into the
 * numeric id the coordinator and the component see, and echoed back as it came; a request
 * without one gets a fresh id. Either way the response carries X-Request-Id. */
static void conn_request_id(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    conn->request_id_hdr[0] = '\0';
    int n = lws_hdr_custom_copy(wsi, conn->request_id_hdr, sizeof(conn->request_id_hdr),
                                "x-request-id:", 13);
    if (n <= 0 || conn->request_id_hdr[0] == '\0') {
        /* splitmix64 of a counter: unique per gateway, not guessable from the previous one */
        uint64_t z = (gw->request_id_seed += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        conn->request_id = (z ^ (z >> 31)) >> 1; /* fits a JSON number exactly up to 2^63 */
        conn->request_id += conn->request_id == 0;
        snprintf(conn->request_id_hdr, sizeof(conn->request_id_hdr), "%llu",
                 (unsigned long long)conn->request_id);
        return;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(conn->request_id_hdr, &end, 10);
    if (errno == 0 && *end == '\0' && v != 0 && conn->request_id_hdr[0] != '-') {
        conn->request_id = v;
        return;
    }
    uint64_t h = 1469598103934665603ull;
    for (char *p = conn->request_id_hdr; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c >= 0x7f) /* never echo control bytes into a header */
            *p = '_';
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    conn->request_id = (h >> 1) + ((h >> 1) == 0);
}

static void conn_reset(gw_conn *conn)
{
    gw_rpc_http_detach(conn);
    if (conn->call != NULL) { /* the completion will find the connection gone */
        conn->call->wsi = NULL;
        conn->call = NULL;
    }
    free(conn->body);
    free(conn->resp_body);
    conn->body = NULL;
    conn->resp_body = NULL;
    conn->body_len = conn->body_cap = conn->resp_len = conn->resp_off = 0;
    conn->resp_ready = conn->resp_headers_sent = conn->resp_close = conn->refuse = 0;
    conn->resp_allow[0] = '\0';
    memset(conn->resp_hdr, 0, sizeof(conn->resp_hdr));
    conn->token = NULL;
}

int gw_http_add_header(gw_conn *conn, const char *name_colon, const char *value)
{
    for (size_t i = 0; i < sizeof(conn->resp_hdr) / sizeof(conn->resp_hdr[0]); i++)
        if (conn->resp_hdr[i].name[0] == '\0') {
            snprintf(conn->resp_hdr[i].name, sizeof(conn->resp_hdr[i].name), "%s", name_colon);
            snprintf(conn->resp_hdr[i].value, sizeof(conn->resp_hdr[i].value), "%s", value);
            return 0;
        }
    return -1;
}

int gw_http_extra_headers(struct lws *wsi, const gw_conn *conn, unsigned char **p,
                          unsigned char *end)
{
    for (size_t i = 0; i < sizeof(conn->resp_hdr) / sizeof(conn->resp_hdr[0]); i++)
        if (conn->resp_hdr[i].name[0] != '\0' &&
            lws_add_http_header_by_name(wsi, (const unsigned char *)conn->resp_hdr[i].name,
                                        (const unsigned char *)conn->resp_hdr[i].value,
                                        (int)strlen(conn->resp_hdr[i].value), p, end) != 0)
            return -1;
    return 0;
}

void gw_http_respond(struct lws *wsi, gw_conn *conn, int status, const char *content_type,
                     const char *body, size_t len)
{
    free(conn->resp_body);
    conn->resp_body = malloc(len > 0 ? len : 1);
    if (conn->resp_body == NULL) { /* out of memory: an empty 500 and close */
        len = 0;
        status = 500;
        conn->resp_close = 1;
    } else if (len > 0) {
        memcpy(conn->resp_body, body, len);
    }
    conn->resp_len = len;
    conn->resp_off = 0;
    conn->resp_status = status;
    snprintf(conn->resp_type, sizeof(conn->resp_type), "%s", content_type);
    conn->resp_ready = 1;
    lws_callback_on_writable(wsi);
}

/* gw_http_respond for a body already in its own malloc'd buffer: taken over, not copied. */
static void respond_owned(struct lws *wsi, gw_conn *conn, int status, const char *content_type,
                          char *body, size_t len)
{
    free(conn->resp_body);
    conn->resp_body = body;
    conn->resp_len = len;
    conn->resp_off = 0;
    conn->resp_status = status;
    snprintf(conn->resp_type, sizeof(conn->resp_type), "%s", content_type);
    conn->resp_ready = 1;
    lws_callback_on_writable(wsi);
}

void gw_http_error(gw_gateway *gw, struct lws *wsi, gw_conn *conn, int http_status, int grpc_code,
                   const char *reason, const char *message)
{
    if (conn->rpc != NULL) { /* in the protocol's own form */
        gw_rpc_http_fail(gw, wsi, conn, grpc_code, reason, message);
        return;
    }
    size_t len = 0;
    char *body = conn->route == GW_ROUTE_CONNECT_REQUEST
                     ? gw_connect_error_json(grpc_code, message, &len)
                     : gw_error_json(grpc_code, reason, message, &len);
    gw_http_respond(wsi, conn, http_status, "application/json", body != NULL ? body : "", len);
    free(body);
    if (http_status >= 500)
        gw_log(gw, GENESIS_LOG_DEBUG, "%s: %d %s", gw_route_name(conn->route), http_status,
               message);
}

/* Refuse a request before its body was read: answer, then close an HTTP/1 connection (the
 * unread body would otherwise be taken for the next request). An HTTP/2 stream ends on its
 * own: closing it instead of answering would leave the client with a stream error. */
static int refuse(gw_gateway *gw, struct lws *wsi, gw_conn *conn, int http_status, int code,
                  const char *reason, const char *message)
{
    conn->refuse = 1;
    conn->resp_close = lws_get_network_wsi(wsi) == wsi;
    gw_http_error(gw, wsi, conn, http_status, code, reason, message);
    return 0;
}

/* ---- starting coordinator calls ---------------------------------------------------------- */

static gw_item *new_call_item(struct lws *wsi, gw_conn *conn, const char *component, int job)
{
    gw_item *it = calloc(1, sizeof(*it));
    gw_call *call = calloc(1, sizeof(*call));
    if (it == NULL || call == NULL) {
        free(it);
        free(call);
        return NULL;
    }
    call->wsi = wsi;
    call->route = conn->route;
    call->proto = 0;
    call->start_ns = conn->start_ns;
    snprintf(call->component, sizeof(call->component), "%s", component);
    it->kind = GW_ITEM_HTTP_RESULT;
    it->call = call;
    it->job = job;
    conn->call = call;
    return it;
}

/* One started call fewer. While others remain, a lock-free decrement; what may be the last
 * one is taken under calls_lock, where gw_free waits for zero: gw_free cannot see zero and
 * free the gateway while this thread still has to touch it. */
static void call_finished(gw_gateway *gw)
{
    unsigned long n = atomic_load(&gw->calls_pending);
    while (n > 1)
        if (atomic_compare_exchange_weak(&gw->calls_pending, &n, n - 1))
            return;
    pthread_mutex_lock(&gw->calls_lock);
    if (atomic_fetch_sub(&gw->calls_pending, 1) == 1)
        pthread_cond_broadcast(&gw->calls_cv);
    pthread_mutex_unlock(&gw->calls_lock);
}

static void request_done(genesis_result *res, void *arg)
{
    gw_item *it = arg;
    it->res = res;
    gw_gateway *gw = it->call->gw;
    gw_xqueue_push(&gw->inbox, it);
    call_finished(gw);
}

static void start_status_job(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    gw_item *it = new_call_item(wsi, conn, "", GW_JOB_STATUS);
    if (it != NULL)
        it->call->gw = gw;
    if (it == NULL || !gw_job_pool_submit(gw->jobs, it, (uint64_t)(uintptr_t)wsi)) {
        if (it != NULL) {
            conn->call = NULL;
            free(it->call);
            free(it);
        }
        gw->metrics.jobs_refused++;
        gw_http_error(gw, wsi, conn, 503, GENESIS_UNAVAILABLE, "OVERLOADED",
                      "the gateway has too many status queries in flight");
    }
}

/* An operator command runs on a job thread (it is a blocking coordinator call). */
static void start_admin_job(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path_id)
{
    const char *command = gw_admin_command(conn->route);
    gw_item *it = new_call_item(wsi, conn, "", GW_JOB_ADMIN);
    char why[256] = "out of memory";
    if (it != NULL) {
        it->call->gw = gw;
        it->type = strdup(command);
        size_t max = sizeof(it->admin_args) / sizeof(it->admin_args[0]);
        if (it->type == NULL ||
            gw_parse_admin_args(command, path_id, conn->body, conn->body_len, it->admin_args, max,
                                &it->n_admin_args, why, sizeof(why)) != 0) {
            conn->call = NULL;
            free(it->call);
            it->call = NULL;
            gw_item_free(it);
            gw_http_error(gw, wsi, conn, 400, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT", why);
            return;
        }
    }
    if (it == NULL || !gw_job_pool_submit(gw->jobs, it, (uint64_t)(uintptr_t)wsi)) {
        if (it != NULL) {
            conn->call = NULL;
            free(it->call);
            it->call = NULL;
            gw_item_free(it);
        }
        gw->metrics.jobs_refused++;
        gw_http_error(gw, wsi, conn, 503, GENESIS_UNAVAILABLE, "OVERLOADED",
                      "the gateway has too many coordinator calls in flight");
    }
}

static uint32_t header_timeout(gw_conn *conn, int *bad)
{
    if (conn->timeout_hdr[0] == '\0')
        return 0;
    char *end = NULL;
    unsigned long v = strtoul(conn->timeout_hdr, &end, 10);
    if (end == conn->timeout_hdr || *end != '\0' || v < 1 || v > GW_MAX_TIMEOUT_MS) {
        *bad = 1;
        return 0;
    }
    return (uint32_t)v;
}

static void start_request(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *target,
                          gw_parsed_request *r)
{
    int bad = 0;
    uint32_t hdr_timeout = header_timeout(conn, &bad);
    if (bad) {
        gw_http_error(gw, wsi, conn, 400, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT",
                      "Connect-Timeout-Ms must be an integer from 1 to 3600000");
        return;
    }
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    /* The body's timeout_ms wins over the header; the gateway's default applies otherwise. */
    opts.timeout_ms = r->timeout_ms > 0 ? r->timeout_ms
                      : hdr_timeout > 0 ? hdr_timeout
                                        : gw->cfg.default_timeout_ms;
    opts.criticality = r->criticality;
    opts.source = r->source != NULL ? r->source : "gateway";
    opts.content_type = r->content_type;
    opts.request_id = conn->request_id;
    gw_item *it = new_call_item(wsi, conn, target, 0);
    if (it == NULL) {
        gw_http_error(gw, wsi, conn, 500, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", "out of memory");
        return;
    }
    it->call->gw = gw;
    it->call->proto = conn->route == GW_ROUTE_CONNECT_REQUEST &&
                      strncasecmp(conn->content_type, "application/proto", 17) == 0;
    atomic_fetch_add(&gw->calls_pending, 1);
    int rv = gw->cfg.coordinator != NULL
                 ? genesis_coordinator_request_async(gw->cfg.coordinator, target, r->type, r->data,
                                                     r->len, &opts, request_done, it)
                 : genesis_client_request_async(gw->client, target, r->type, r->data, r->len, &opts,
                                                request_done, it);
    if (rv != GENESIS_OK) { /* the callback will never run */
        call_finished(gw);
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", genesis_last_error());
        conn->call = NULL;
        free(it->call);
        free(it);
        gw_http_error(gw, wsi, conn, gw_http_status(rv, 0), rv, genesis_status_name(rv), msg);
    }
}

/* ---- dispatch once the request is complete ------------------------------------------------ */

static int allowed_component(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *id)
{
    if (gw->auth == NULL || gw_token_allows(conn->token, id))
        return 1;
    char msg[256];
    snprintf(msg, sizeof(msg), "this token may not call component '%s'", id);
    gw_http_error(gw, wsi, conn, 403, GENESIS_PERMISSION_DENIED, "PERMISSION_DENIED", msg);
    return 0;
}

static void dispatch_post(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path_id)
{
    char why[512];
    gw_parsed_request r;
    if (gw_route_is_admin(conn->route)) {
        start_admin_job(gw, wsi, conn, path_id);
        return;
    }
    int proto = conn->route == GW_ROUTE_CONNECT_REQUEST &&
                strncasecmp(conn->content_type, "application/proto", 17) == 0;
    int rc = proto ? gw_parse_request_proto(conn->body, conn->body_len, &r, why, sizeof(why))
                   : gw_parse_request_json(conn->body, conn->body_len,
                                           conn->route == GW_ROUTE_CONNECT_REQUEST, &r, why,
                                           sizeof(why));
    if (rc != 0) {
        gw_http_error(gw, wsi, conn, 400, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT", why);
        return;
    }
    const char *target = r.target != NULL ? r.target : path_id;
    if (allowed_component(gw, wsi, conn, target))
        start_request(gw, wsi, conn, target, &r);
    gw_parsed_request_clear(&r);
}

static void dispatch_get(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    switch (conn->route) {
    case GW_ROUTE_HEALTHZ: {
        static const char ok[] = "{\"status\":\"ok\"}";
        gw_http_respond(wsi, conn, 200, "application/json", ok, sizeof(ok) - 1);
        break;
    }
    case GW_ROUTE_STATUS:
    case GW_ROUTE_READYZ:
    case GW_ROUTE_METRICS:
        start_status_job(gw, wsi, conn);
        break;
    case GW_ROUTE_DASHBOARD:
        gw_dashboard_serve(gw, wsi, conn);
        break;
    case GW_ROUTE_HISTORY:
    case GW_ROUTE_POLICIES: {
        if (gw->history == NULL) {
            gw_http_error(gw, wsi, conn, 404, GENESIS_NOT_FOUND, "NO_ROUTE",
                          "this gateway keeps no history (history interval 0)");
            break;
        }
        size_t n = 0;
        char *doc = conn->route == GW_ROUTE_HISTORY ? gw_history_json(gw->history, &n)
                                                    : gw_history_policies_json(gw->history, &n);
        if (doc != NULL)
            respond_owned(wsi, conn, 200, "application/json", doc, n);
        else
            gw_http_error(gw, wsi, conn, 500, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY",
                          "out of memory");
        break;
    }
    default:
        gw_http_error(gw, wsi, conn, 400, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT",
                      "/ws takes a WebSocket upgrade (GET with Upgrade: websocket)");
    }
}

/* Content types a state-changing route accepts: application/json, and application/proto on
 * the Connect route. Never text/plain, forms or no type at all: browsers send those to any
 * site without a CORS preflight (cross_site.h). */
static int acceptable_type(const gw_conn *conn)
{
    const char *ct = conn->content_type;
    if (gw_is_json_type(ct))
        return 1;
    return conn->route == GW_ROUTE_CONNECT_REQUEST && strncasecmp(ct, "application/proto", 17) == 0;
}

/* A header's value into buf ("" when absent); false when it does not fit. */
static bool header_value(struct lws *wsi, enum lws_token_indexes t, char *buf, int size)
{
    buf[0] = '\0';
    int total = lws_hdr_total_length(wsi, t);
    if (total <= 0)
        return true;
    return total < size && lws_hdr_copy(wsi, buf, size, t) >= 0;
}

int gw_check_site(gw_gateway *gw, struct lws *wsi, int check_origin, const char **reason, char *msg,
                  size_t size)
{
    char host[300], origin[300];
    bool host_ok = header_value(wsi, WSI_TOKEN_HOST, host, sizeof(host));
#if defined(LWS_WITH_HTTP2)
    if (host_ok && host[0] == '\0')
        host_ok = header_value(wsi, WSI_TOKEN_HTTP_COLON_AUTHORITY, host, sizeof(host));
#endif
    if (!host_ok || !gw_host_allowed(host, gw->cfg.host, gw->cfg.allowed_hosts)) {
        gw->metrics.cross_site_refused++;
        *reason = "HOST_NOT_ALLOWED";
        snprintf(msg, size,
                 "Host '%.100s' does not name this gateway (allowed: IP addresses, localhost, "
                 "'%.60s'%s%.200s; add names with --allowed-host)",
                 host, gw->cfg.host, gw->cfg.allowed_hosts[0] != '\0' ? ", " : "",
                 gw->cfg.allowed_hosts);
        return 403;
    }
    if (!check_origin)
        return 0;
    bool origin_ok = header_value(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
    if (!origin_ok || !gw_origin_allowed(origin, host, gw->cfg.allowed_origins)) {
        gw->metrics.cross_site_refused++;
        *reason = "ORIGIN_NOT_ALLOWED";
        snprintf(msg, size,
                 "requests from pages of origin '%.100s' are refused: only the gateway's own "
                 "origin%s%.200s may change state or open a WebSocket (add origins with "
                 "--allowed-origin)",
                 origin, gw->cfg.allowed_origins[0] != '\0' ? " and " : "",
                 gw->cfg.allowed_origins);
        return 403;
    }
    return 0;
}

static int on_http(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path)
{
    conn_reset(conn);
    conn->kind = GW_CONN_HTTP;
    conn->start_ns = gw_now_ns();
    conn->method = method_of(wsi);
    char id[GENESIS_ID_MAX + 1];
    int allowed = GW_METHOD_OTHER;
    conn->route = gw_route_match(path, id, &allowed);
    snprintf(conn->path_id, sizeof(conn->path_id), "%s", id);
    conn->content_type[0] = conn->timeout_hdr[0] = '\0';
    lws_hdr_copy(wsi, conn->content_type, sizeof(conn->content_type), WSI_TOKEN_HTTP_CONTENT_TYPE);
    lws_hdr_custom_copy(wsi, conn->timeout_hdr, sizeof(conn->timeout_hdr),
                        "connect-timeout-ms:", 19);
    conn_request_id(gw, wsi, conn);
    int post = conn->method == GW_METHOD_POST;
    char msg[512];
    const char *site_reason = NULL;
    /* Other websites: a Host that is not ours (DNS rebinding) on anything, a foreign Origin
     * on anything that changes state. */
    int site = gw_check_site(gw, wsi, post, &site_reason, msg, sizeof(msg));
    if (site != 0)
        return refuse(gw, wsi, conn, site, GENESIS_PERMISSION_DENIED, site_reason, msg);
    /* Past that check: CORS preflights, and gRPC-Web / Connect on the RPC routes. */
    conn->origin[0] = '\0';
    lws_hdr_copy(wsi, conn->origin, sizeof(conn->origin), WSI_TOKEN_ORIGIN);
    if (conn->method == GW_METHOD_OPTIONS)
        return gw_cors_preflight(gw, wsi, conn, path);
    if (gw_rpc_http_claims(path))
        return gw_rpc_http_begin(gw, wsi, conn, path);

    if (conn->route == GW_ROUTE_UNKNOWN) {
        snprintf(msg, sizeof(msg), "no route for %s %.300s", method_name(conn->method), path);
        return post ? refuse(gw, wsi, conn, 404, GENESIS_NOT_FOUND, "NO_ROUTE", msg)
                    : (gw_http_error(gw, wsi, conn, 404, GENESIS_NOT_FOUND, "NO_ROUTE", msg), 0);
    }
    if (gw->cfg.metrics_only && conn->route != GW_ROUTE_METRICS &&
        conn->route != GW_ROUTE_HEALTHZ && conn->route != GW_ROUTE_READYZ) {
        snprintf(msg, sizeof(msg), "this address serves only /metrics, /healthz and /readyz");
        return post ? refuse(gw, wsi, conn, 404, GENESIS_NOT_FOUND, "NO_ROUTE", msg)
                    : (gw_http_error(gw, wsi, conn, 404, GENESIS_NOT_FOUND, "NO_ROUTE", msg), 0);
    }
    /* HEAD on every GET route: the GET's status and headers, no body. */
    conn->head = conn->method == GW_METHOD_HEAD && allowed == GW_METHOD_GET;
    if (conn->head)
        conn->method = GW_METHOD_GET;
    if (conn->method != allowed) {
        snprintf(msg, sizeof(msg), "%s takes %s, not %s", path, method_name(allowed),
                 method_name(conn->method));
        snprintf(conn->resp_allow, sizeof(conn->resp_allow), "%s", method_name(allowed));
        return refuse(gw, wsi, conn, 405, GENESIS_UNIMPLEMENTED, "METHOD_NOT_ALLOWED", msg);
    }
    if (gw->auth != NULL && conn->route != GW_ROUTE_HEALTHZ && conn->route != GW_ROUTE_READYZ &&
        conn->route != GW_ROUTE_DASHBOARD) { /* the page holds no data: it asks for a token */
        char cred[600];
        cred[0] = '\0';
        lws_hdr_copy(wsi, cred, sizeof(cred), WSI_TOKEN_HTTP_AUTHORIZATION);
        conn->token = gw_auth_check(gw->auth, cred);
        memset(cred, 0, sizeof(cred));
        if (conn->token == NULL)
            return refuse(gw, wsi, conn, 401, GENESIS_UNAUTHENTICATED, "UNAUTHENTICATED",
                          "a valid bearer token is required (Authorization: Bearer <token>)");
        if (gw_route_is_admin(conn->route) && !gw_token_is_admin(conn->token))
            return refuse(gw, wsi, conn, 403, GENESIS_PERMISSION_DENIED, "PERMISSION_DENIED",
                          "admin routes need a token with the admin scope");
        if (id[0] != '\0' && !gw_token_allows(conn->token, id)) {
            snprintf(msg, sizeof(msg), "this token may not call component '%s'", id);
            return refuse(gw, wsi, conn, 403, GENESIS_PERMISSION_DENIED, "PERMISSION_DENIED", msg);
        }
    }
    if (!post) {
        dispatch_get(gw, wsi, conn);
        return 0;
    }
    if (!acceptable_type(conn)) {
        snprintf(msg, sizeof(msg), "unsupported content type '%.100s': send application/json%s",
                 conn->content_type,
                 conn->route == GW_ROUTE_CONNECT_REQUEST ? " or application/proto" : "");
        return refuse(gw, wsi, conn, 415, GENESIS_INVALID_ARGUMENT, "UNSUPPORTED_MEDIA_TYPE", msg);
    }
    char cl[32];
    int has_length = lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    if (!has_length && lws_get_network_wsi(wsi) == wsi)
        /* HTTP/1.1 without Content-Length: libwebsockets 4.1 does not decode chunked request
         * bodies (it would hand us the chunk framing and wait for the connection to close). */
        return refuse(gw, wsi, conn, 411, GENESIS_INVALID_ARGUMENT, "LENGTH_REQUIRED",
                      "a request body needs Content-Length (chunked bodies are not supported)");
    if (has_length && strtoull(cl, NULL, 10) > gw->cfg.max_body) {
        snprintf(msg, sizeof(msg), "request body of %.20s bytes exceeds the limit of %zu bytes", cl,
                 gw->cfg.max_body);
        return refuse(gw, wsi, conn, 413, GENESIS_RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE", msg);
    }
    return 0; /* the body follows: LWS_CALLBACK_HTTP_BODY, then _COMPLETION */
}

static int on_body(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const void *in, size_t len)
{
    if (conn->refuse)
        return 0; /* answered already; the connection closes after the answer */
    if (gw_rpc_http_chunked_body(gw, wsi, conn, in, len) == 0)
        return 0;
    if (conn->body_len + len > gw_rpc_http_body_limit(gw, conn)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "request body exceeds the limit of %zu bytes", gw->cfg.max_body);
        return refuse(gw, wsi, conn, 413, GENESIS_RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE", msg);
    }
    if (conn->body_len + len > conn->body_cap) {
        size_t cap = conn->body_cap > 0 ? conn->body_cap : 1024;
        while (cap < conn->body_len + len)
            cap *= 2;
        unsigned char *b = realloc(conn->body, cap);
        if (b == NULL)
            return refuse(gw, wsi, conn, 500, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY",
                          "out of memory");
        conn->body = b;
        conn->body_cap = cap;
    }
    memcpy(conn->body + conn->body_len, in, len);
    conn->body_len += len;
    return 0;
}

/* ---- completions ---------------------------------------------------------------------------- */

static void complete_status(gw_gateway *gw, struct lws *wsi, gw_conn *conn, gw_item *it)
{
    int ok = it->res != NULL && genesis_result_status(it->res) == GENESIS_OK;
    size_t n = 0;
    const char *doc = ok ? genesis_result_data(it->res, &n) : NULL;
    const char *why = it->res != NULL ? genesis_result_message(it->res) : "out of memory";
    if (conn->route == GW_ROUTE_STATUS) {
        gw_status_section section = {.connections = gw->connections,
                                     .connection_cap = gw->connection_cap,
                                     .connections_refused = gw->metrics.connections_refused,
                                     .websocket_sessions = gw->n_sessions,
                                     .websocket_cap = gw->cfg.max_ws_clients};
        size_t len = 0;
        char *with = ok ? gw_status_with_section(doc, n, &section, &len) : NULL;
        if (with != NULL)
            respond_owned(wsi, conn, 200, "application/json", with, len);
        else if (ok)
            gw_http_respond(wsi, conn, 200, "application/json", doc, n);
        else
            gw_http_error(gw, wsi, conn, 503, GENESIS_UNAVAILABLE, "UNREACHABLE", why);
    } else if (conn->route == GW_ROUTE_READYZ) {
        if (ok) {
            static const char ready[] = "{\"status\":\"ready\"}";
            gw_http_respond(wsi, conn, 200, "application/json", ready, sizeof(ready) - 1);
        } else {
            gw_http_error(gw, wsi, conn, 503, GENESIS_UNAVAILABLE, "UNREACHABLE", why);
        }
    } else {
        gw_metrics_extra x = {.ws_sessions = gw->n_sessions,
                              .connections = gw->connections,
                              .connection_cap = gw->connection_cap,
                              .events_received = atomic_load(&gw->events_received),
                              .events_overflow = atomic_load(&gw->events_overflow),
                              .bus_events_lost = genesis_client_get_events_lost(gw->client),
                              .status_json = doc,
                              .status_len = n,
                              .coordinator = gw->cfg.coordinator,
                              .wire = &gw->wire,
                              .rpc_watches = gw_rpc_engine_watches(gw->rpc_engine)};
        char *text = NULL;
        size_t len = 0;
        if (gw_metrics_render(&gw->metrics, &x, &text, &len) == 0)
            gw_http_respond(wsi, conn, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
        else
            gw_http_error(gw, wsi, conn, 500, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY",
                          "out of memory");
        free(text);
    }
}

/* The coordinator answers an operator command with a JSON document of the new state. */
static void complete_admin(gw_gateway *gw, struct lws *wsi, gw_conn *conn, gw_item *it)
{
    const genesis_result *res = it->res;
    if (res == NULL) {
        gw_http_error(gw, wsi, conn, gw_http_status(it->status, 0), it->status,
                      genesis_status_name(it->status), it->error);
        return;
    }
    int code = genesis_result_status(res);
    if (code == GENESIS_OK) {
        size_t len = 0;
        const void *doc = genesis_result_data(res, &len);
        gw_http_respond(wsi, conn, 200, "application/json", doc, len);
        return;
    }
    int reason = genesis_result_reason(res);
    gw_http_error(gw, wsi, conn, gw_http_status(code, reason), code, genesis_reason_name(reason),
                  genesis_result_message(res));
}

static void complete_request(gw_gateway *gw, struct lws *wsi, gw_conn *conn, gw_item *it, int proto)
{
    const genesis_result *res = it->res;
    int code = genesis_result_status(res);
    if (code == GENESIS_OK) {
        size_t len = 0;
        if (proto) {
            unsigned char *body = gw_result_proto(res, &len);
            gw_http_respond(wsi, conn, body != NULL ? 200 : 500, "application/proto",
                            (const char *)body, body != NULL ? len : 0);
            free(body);
            return;
        }
        char *body = gw_result_json(res, &len);
        if (body != NULL)
            respond_owned(wsi, conn, 200, "application/json", body, len);
        else
            gw_http_error(gw, wsi, conn, 500, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY",
                          "out of memory");
        return;
    }
    int reason = genesis_result_reason(res);
    gw_http_error(gw, wsi, conn, gw_http_status(code, reason), code, genesis_reason_name(reason),
                  genesis_result_message(res));
}

void gw_http_complete(gw_gateway *gw, gw_item *it)
{
    gw_call *call = it->call;
    if (it->job == 0)
        gw_metrics_observe(&gw->metrics, call->component,
                           (double)(gw_now_ns() - call->start_ns) / 1e9);
    struct lws *wsi = call->wsi;
    if (wsi != NULL) {
        gw_conn *conn = lws_wsi_user(wsi);
        conn->call = NULL;
        if (it->job == GW_JOB_STATUS)
            complete_status(gw, wsi, conn, it);
        else if (it->job == GW_JOB_ADMIN)
            complete_admin(gw, wsi, conn, it);
        else
            complete_request(gw, wsi, conn, it, call->proto);
    }
    free(call);
    it->call = NULL;
}

/* ---- the response writer ------------------------------------------------------------------ */

static int write_response(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    if (!conn->resp_ready)
        return 0;
    size_t left = conn->resp_len - conn->resp_off;
    if (!conn->resp_headers_sent) {
        unsigned char hdr[LWS_PRE + 1024];
        unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
        if (lws_add_http_common_headers(wsi, (unsigned int)conn->resp_status, conn->resp_type,
                                        conn->resp_len, &p, end) != 0)
            return -1;
        if (conn->resp_allow[0] != '\0' &&
            lws_add_http_header_by_name(
                wsi, (const unsigned char *)"allow:", (const unsigned char *)conn->resp_allow,
                (int)strlen(conn->resp_allow), &p, end) != 0)
            return -1;
        if (conn->route == GW_ROUTE_DASHBOARD && gw_dashboard_headers(wsi, conn, &p, end) != 0)
            return -1;
        if (gw_cors_headers(gw, wsi, conn, &p, end) != 0)
            return -1;
        if (gw_http_extra_headers(wsi, conn, &p, end) != 0)
            return -1;
        if (conn->request_id_hdr[0] != '\0' &&
            lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
                                        (const unsigned char *)conn->request_id_hdr,
                                        (int)strlen(conn->request_id_hdr), &p, end) != 0)
            return -1;
        if (conn->resp_status == 401 &&
            lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                        (const unsigned char *)"Bearer", 6, &p, end) != 0)
            return -1;
        if (conn->resp_close &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
                                         5, &p, end) != 0)
            return -1;
        if (lws_finalize_write_http_header(wsi, start, &p, end) != 0)
            return -1;
        conn->resp_headers_sent = 1;
    }
    /* Small bodies go out in the same callback as the headers (one round trip less); a big
     * one in CHUNK pieces, one per writeable callback, so HTTP/2 streams interleave. HEAD
     * sends none (its Content-Length is the GET's). */
    if (conn->head)
        left = 0;
    size_t n = left < CHUNK ? left : CHUNK;
    int last = n == left;
    unsigned char *out = gw->ws_scratch + LWS_PRE; /* GW_WS_BATCH >= CHUNK */
    memcpy(out, conn->resp_body + conn->resp_off, n);
    if (lws_write(wsi, out, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    conn->resp_off += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    gw_metrics_count_http(&gw->metrics, conn->route, conn->resp_status);
    int close = conn->resp_close;
    conn_reset(conn);
    if (close)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int gw_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    gw_gateway *gw = lws_context_user(lws_get_context(wsi));
    gw_conn *conn = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(gw, wsi, conn, in != NULL ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(gw, wsi, conn, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!conn->refuse && conn->rpc != NULL)
            gw_rpc_http_dispatch(gw, wsi, conn);
        else if (!conn->refuse)
            dispatch_post(gw, wsi, conn, conn->path_id);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return gw_ws_confirm_upgrade(gw, wsi, in);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (gw_rpc_http_streaming(conn))
            return gw_rpc_http_write(gw, wsi, conn);
        return write_response(gw, wsi, conn);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (conn != NULL && conn->kind == GW_CONN_HTTP)
            conn_reset(conn);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
