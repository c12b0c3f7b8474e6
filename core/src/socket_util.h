/* Small NNG socket helpers shared by the coordinator and the service. */
#ifndef GN_SOCKET_UTIL_H
#define GN_SOCKET_UTIL_H

#include <stddef.h>

#include <nng/nng.h>

/* Listen on url and write the URL actually bound into out (tcp port 0 gets the chosen port).
 * On failure records a message naming the URL (genesis_last_error) and returns the status. */
int gn_listen_url(nng_socket sock, const char *url, nng_listener *l, char *out, size_t size);

#endif /* GN_SOCKET_UTIL_H */
