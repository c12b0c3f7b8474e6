/* NNG socket helpers (see socket_util.h). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "socket_util.h"

/* For tcp port 0, rebuild the URL with the port the kernel chose. */
static void bound_url(nng_listener l, const char *url, char *out, size_t size)
{
    int port = 0;
    const char *colon = strrchr(url, ':');
    if (strncmp(url, "tcp", 3) == 0 && colon != NULL && strcmp(colon, ":0") == 0 &&
        nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
        snprintf(out, size, "%.*s:%d", (int)(colon - url), url, port);
        return;
    }
    snprintf(out, size, "%s", url);
}

int gn_listen_url(nng_socket sock, const char *url, nng_listener *l, char *out, size_t size)
{
    if (strlen(url) >= size)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "listen: URL longer than %zu bytes", size - 1);
    int err = nng_listen(sock, url, l, 0);
    if (err != 0) {
        int reason;
        int status = gn_status_from_nng(err, &reason);
        return gn_fail(status, "listen on %s: %s", url, nng_strerror(err));
    }
    bound_url(*l, url, out, size);
    return GENESIS_OK;
}
