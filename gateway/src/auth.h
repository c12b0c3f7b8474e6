/* Bearer-token authentication. A token file has one token per line:
 *
 *     <token> <scope>[,<scope>...]      # comment
 *
 * A scope is a component id (requests to it and WebSocket sessions with it), "*" (every
 * component) or "admin" (the admin routes). Any valid token may read /v1/status and /metrics;
 * /healthz and /readyz stay open for probes. Tokens are compared in constant time and never
 * logged. */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_auth gw_auth;
typedef struct gw_token gw_token;

/* Load a token file. Returns 0, or -1 with the reason (file, line) in why. */
int gw_auth_load(gw_auth **out, const char *path, char *why, size_t why_size);
void gw_auth_free(gw_auth *a);

/* The token named by a header value "Bearer <token>" (or a bare token from a query string);
 * NULL when absent or unknown. */
const gw_token *gw_auth_check(const gw_auth *a, const char *credential);

bool gw_token_allows(const gw_token *t, const char *component);
bool gw_token_is_admin(const gw_token *t);

#endif /* GW_AUTH_H */
