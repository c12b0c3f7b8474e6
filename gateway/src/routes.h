/* The gateway's routes (one port): names for metrics labels and the router's table. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

enum gw_route {
    GW_ROUTE_UNKNOWN = 0,
    GW_ROUTE_COMPONENT_REQUEST, /* POST /v1/components/{id}/request */
    GW_ROUTE_LEGACY_REQUEST,    /* POST /request/{id} (the legacy route) */
    GW_ROUTE_CONNECT_REQUEST,   /* POST /genesis.v1.Coordinator/Request (Connect unary) */
    GW_ROUTE_STATUS,            /* GET /v1/status */
    GW_ROUTE_HEALTHZ,           /* GET /healthz */
    GW_ROUTE_READYZ,            /* GET /readyz */
    GW_ROUTE_METRICS,           /* GET /metrics */
    GW_ROUTE_ADMIN,             /* POST /v1/admin/mode (show or force the degradation mode) */
    GW_ROUTE_WS,                /* GET /ws?id={component} (WebSocket upgrade) */
    GW_ROUTE_ADMIN_BREAKER,     /* POST /v1/admin/components/{id}/breaker */
    GW_ROUTE_ADMIN_POLICY,      /* POST /v1/admin/components/{id}/policy */
    GW_ROUTE_ADMIN_FAULT,       /* POST /v1/admin/components/{id}/fault */
    GW_ROUTE_DASHBOARD,         /* GET / and /ui/{name} (the operator dashboard, dashboard.c) */
    GW_ROUTE_ADMIN_RELOAD,      /* POST /v1/admin/reload (genesisd re-reads its --config) */
    GW_ROUTE_HISTORY,           /* GET /v1/status/history (the last minutes, history.h) */
    GW_ROUTE_POLICIES,          /* GET /v1/status/policies (effective policies) */
    GW_ROUTE_RPC,       /* POST /genesis.v1.Genesis/{method}, /genesis.v1.GenesisAdmin/{method}
                           (gRPC-Web and Connect, rpc_http.c) */
    GW_ROUTE_PREFLIGHT, /* OPTIONS on any route: a CORS preflight (cors.c) */
    GW_ROUTE_COUNT
};

enum gw_method {
    GW_METHOD_OTHER = 0,
    GW_METHOD_GET,
    GW_METHOD_POST,
    GW_METHOD_HEAD,
    GW_METHOD_OPTIONS
};

/* True for the operator routes (they need a token with the admin scope). */
int gw_route_is_admin(int route);

/* The coordinator's admin command of an admin route ("mode", "breaker", ...). */
const char *gw_admin_command(int route);

/* Label value of a route, e.g. "component_request". */
const char *gw_route_name(int route);

/* Match a path; copies {id} into id (size >= 129) when the route has one. Returns the route
 * (GW_ROUTE_UNKNOWN when no route has this path); *allowed receives the method it takes. */
int gw_route_match(const char *path, char *id, int *allowed);

#endif /* GW_ROUTES_H */
