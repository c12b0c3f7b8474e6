/* The route table (see routes.h). */
#include "routes.h"

#include <string.h>

#include "gw_internal.h"

static const char *const route_names[GW_ROUTE_COUNT] = {
    [GW_ROUTE_UNKNOWN] = "unknown",
    [GW_ROUTE_COMPONENT_REQUEST] = "component_request",
    [GW_ROUTE_LEGACY_REQUEST] = "legacy_request",
    [GW_ROUTE_CONNECT_REQUEST] = "connect_request",
    [GW_ROUTE_STATUS] = "status",
    [GW_ROUTE_HEALTHZ] = "healthz",
    [GW_ROUTE_READYZ] = "readyz",
    [GW_ROUTE_METRICS] = "metrics",
    [GW_ROUTE_ADMIN] = "admin",
    [GW_ROUTE_WS] = "ws",
    [GW_ROUTE_ADMIN_BREAKER] = "admin_breaker",
    [GW_ROUTE_ADMIN_POLICY] = "admin_policy",
    [GW_ROUTE_ADMIN_FAULT] = "admin_fault",
    [GW_ROUTE_DASHBOARD] = "dashboard",
    [GW_ROUTE_ADMIN_RELOAD] = "admin_reload",
    [GW_ROUTE_HISTORY] = "history",
    [GW_ROUTE_POLICIES] = "policies",
    [GW_ROUTE_RPC] = "rpc",
    [GW_ROUTE_PREFLIGHT] = "preflight",
};

int gw_route_is_admin(int route)
{
    return route == GW_ROUTE_ADMIN || route == GW_ROUTE_ADMIN_BREAKER ||
           route == GW_ROUTE_ADMIN_POLICY || route == GW_ROUTE_ADMIN_FAULT ||
           route == GW_ROUTE_ADMIN_RELOAD;
}

const char *gw_admin_command(int route)
{
    switch (route) {
    case GW_ROUTE_ADMIN:
        return "mode";
    case GW_ROUTE_ADMIN_BREAKER:
        return "breaker";
    case GW_ROUTE_ADMIN_POLICY:
        return "policy";
    case GW_ROUTE_ADMIN_FAULT:
        return "fault";
    case GW_ROUTE_ADMIN_RELOAD:
        return "reload";
    default:
        return NULL;
    }
}

const char *gw_route_name(int route)
{
    return route >= 0 && route < GW_ROUTE_COUNT ? route_names[route] : "unknown";
}

/* Copy a path segment [start, end) as a component id; false when empty or too long (the
 * coordinator validates the characters and answers INVALID_ARGUMENT / NOT_FOUND). */
static int copy_id(const char *start, size_t len, char *id)
{
    if (len == 0 || len > GENESIS_ID_MAX || memchr(start, '/', len) != NULL)
        return 0;
    memcpy(id, start, len);
    id[len] = '\0';
    return 1;
}

int gw_route_match(const char *path, char *id, int *allowed)
{
    static const struct {
        const char *path;
        int route;
        int method;
    } fixed[] = {
        {"/v1/status", GW_ROUTE_STATUS, GW_METHOD_GET},
        {"/v1/status/history", GW_ROUTE_HISTORY, GW_METHOD_GET},
        {"/v1/status/policies", GW_ROUTE_POLICIES, GW_METHOD_GET},
        {"/healthz", GW_ROUTE_HEALTHZ, GW_METHOD_GET},
        {"/readyz", GW_ROUTE_READYZ, GW_METHOD_GET},
        {"/metrics", GW_ROUTE_METRICS, GW_METHOD_GET},
        {"/ws", GW_ROUTE_WS, GW_METHOD_GET},
        {"/genesis.v1.Coordinator/Request", GW_ROUTE_CONNECT_REQUEST, GW_METHOD_POST},
        {"/v1/admin/reload", GW_ROUTE_ADMIN_RELOAD, GW_METHOD_POST},
    };
    id[0] = '\0';
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(path, fixed[i].path) == 0) {
            *allowed = fixed[i].method;
            return fixed[i].route;
        }
    static const char v1[] = "/v1/components/", suffix[] = "/request";
    size_t n = strlen(path);
    if (strncmp(path, v1, sizeof(v1) - 1) == 0 && n > sizeof(v1) - 1 + sizeof(suffix) - 1 &&
        strcmp(path + n - (sizeof(suffix) - 1), suffix) == 0) {
        const char *s = path + sizeof(v1) - 1;
        if (copy_id(s, (size_t)(path + n - (sizeof(suffix) - 1) - s), id)) {
            *allowed = GW_METHOD_POST;
            return GW_ROUTE_COMPONENT_REQUEST;
        }
    }
    static const char legacy[] = "/request/";
    if (strncmp(path, legacy, sizeof(legacy) - 1) == 0 &&
        copy_id(path + sizeof(legacy) - 1, n - (sizeof(legacy) - 1), id)) {
        *allowed = GW_METHOD_POST;
        return GW_ROUTE_LEGACY_REQUEST;
    }
    /* Operator routes: /v1/admin/mode and /v1/admin/components/{id}/<verb>. */
    if (strcmp(path, "/v1/admin/mode") == 0) {
        *allowed = GW_METHOD_POST;
        return GW_ROUTE_ADMIN;
    }
    static const char admin[] = "/v1/admin/components/";
    static const struct {
        const char *suffix;
        int route;
    } verbs[] = {{"/breaker", GW_ROUTE_ADMIN_BREAKER},
                 {"/policy", GW_ROUTE_ADMIN_POLICY},
                 {"/fault", GW_ROUTE_ADMIN_FAULT}};
    for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
        size_t sl = strlen(verbs[v].suffix);
        if (strncmp(path, admin, sizeof(admin) - 1) == 0 && n > sizeof(admin) - 1 + sl &&
            strcmp(path + n - sl, verbs[v].suffix) == 0 &&
            copy_id(path + sizeof(admin) - 1, n - sl - (sizeof(admin) - 1), id)) {
            *allowed = GW_METHOD_POST;
            return verbs[v].route;
        }
    }
    /* The dashboard: / is its page, /ui/{name} its files ({name} is the file name). */
    static const char ui[] = "/ui/";
    if (strcmp(path, "/") == 0 || (strncmp(path, ui, sizeof(ui) - 1) == 0 &&
                                   copy_id(path + sizeof(ui) - 1, n - (sizeof(ui) - 1), id))) {
        *allowed = GW_METHOD_GET;
        return GW_ROUTE_DASHBOARD;
    }
    *allowed = GW_METHOD_OTHER;
    return GW_ROUTE_UNKNOWN;
}
