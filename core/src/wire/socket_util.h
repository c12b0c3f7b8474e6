/* Small NNG socket helpers shared by the coordinator, the service and the client: every
 * listener and dialer of the library is made here, so tls+tcp:// URLs always get the mutual
 * TLS configuration and plain tcp:// listeners beyond loopback always warn. */
#ifndef GN_SOCKET_UTIL_H
#define GN_SOCKET_UTIL_H

#include <stddef.h>

#include <nng/nng.h>

#include "base/common.h"
#include "wire/tls.h"

/* Listen on url and write the URL actually bound into out (tcp port 0 gets the chosen port).
 * A tls+tcp URL uses tls (an error when tls is NULL); a plain tcp URL on an address other than
 * loopback logs a loud warning through log (may be NULL) naming what listens ("front door").
 * On failure records a message naming the URL (genesis_last_error) and returns the status. */
int gn_listen_url(nng_socket sock, const char *url, const gn_tls *tls, const gn_logger *log,
                  const char *what, nng_listener *l, char *out, size_t size);

/* Dial url in the background (NNG_FLAG_NONBLOCK: reconnects on its own). A tls+tcp URL uses
 * tls; without one it returns NNG_EPEERAUTH (callers say GN_TLS_MISSING). d may be NULL.
 * Returns an NNG error (0 = started). */
int gn_dial_url(nng_socket sock, const char *url, const gn_tls *tls, nng_dialer *d);

#endif /* GN_SOCKET_UTIL_H */
