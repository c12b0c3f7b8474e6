/* Fuzz target: the gateway's request line and credentials. The input is a path (up to the
 * first NUL; query strings are split off by libwebsockets before routing, but a hostile one
 * may still arrive in the path) and an Authorization header value after it. Invariants: a
 * route is in range; a route with a component id copied one of 1..GENESIS_ID_MAX bytes without
 * '/', found verbatim in the path; only a credential holding a loaded secret authenticates. */
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "fuzz_target.h"
#include "genesis/genesis.h"
#include "gw_internal.h"
#include "routes.h"

static gw_auth *auth;
static char token_file[256];

static void shut_down(void)
{
    gw_auth_free(auth);
    unlink(token_file);
}

static void load_tokens(void)
{
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(token_file, sizeof(token_file), "%s/genesis-fuzz-tokens-%d", dir, (int)getpid());
    FILE *f = fopen(token_file, "w");
    FUZZ_CHECK(f != NULL);
    fputs("s3cret-one comp1,comp2 # two components\n"
          "s3cret-admin admin,*\n"
          "tok c.d-e_f\n",
          f);
    FUZZ_CHECK(fclose(f) == 0);
    char why[256];
    FUZZ_CHECK(gw_auth_load(&auth, token_file, why, sizeof(why)) == 0);
    atexit(shut_down);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (auth == NULL)
        load_tokens();
    /* Both strings NUL-terminated, as libwebsockets hands them over. */
    char *text = malloc(size + 2);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *path = text;
    const char *cred = text + strlen(text) + 1;

    char id[GENESIS_ID_MAX + 1];
    memset(id, 0x5a, sizeof(id));
    int allowed = -1;
    int route = gw_route_match(path, id, &allowed);
    FUZZ_CHECK(route >= GW_ROUTE_UNKNOWN && route < GW_ROUTE_COUNT);
    FUZZ_CHECK(allowed >= GW_METHOD_OTHER && allowed <= GW_METHOD_HEAD);
    FUZZ_CHECK(strcmp(gw_route_name(route), "") != 0);
    size_t n = strnlen(id, sizeof(id));
    FUZZ_CHECK(n < sizeof(id));
    if (route == GW_ROUTE_COMPONENT_REQUEST || route == GW_ROUTE_LEGACY_REQUEST ||
        route == GW_ROUTE_ADMIN_BREAKER || route == GW_ROUTE_ADMIN_POLICY ||
        route == GW_ROUTE_ADMIN_FAULT) {
        FUZZ_CHECK(n > 0 && strchr(id, '/') == NULL && strstr(path, id) != NULL);
        FUZZ_CHECK((gw_admin_command(route) != NULL) == (gw_route_is_admin(route) != 0));
    } else if (route == GW_ROUTE_DASHBOARD) {
        FUZZ_CHECK(strchr(id, '/') == NULL); /* "/" has no file name, /ui/{name} has one */
    } else {
        FUZZ_CHECK(n == 0);
    }
    if (route == GW_ROUTE_UNKNOWN)
        FUZZ_CHECK(allowed == GW_METHOD_OTHER);

    const gw_token *t = gw_auth_check(auth, cred);
    if (t != NULL) {
        /* Only a loaded secret authenticates (after "Bearer " and blanks are stripped). */
        FUZZ_CHECK(strstr(cred, "s3cret-one") != NULL || strstr(cred, "s3cret-admin") != NULL ||
                   strstr(cred, "tok") != NULL);
        (void)gw_token_allows(t, n > 0 ? id : path);
        (void)gw_token_is_admin(t);
    }
    free(text);
    return 0;
}
