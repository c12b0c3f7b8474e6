/* A watchdog for NNG listeners. Debian bookworm's NNG 1.5.2 has a bug (nanomsg/nng#1518, fixed
 * in 1.6.0): a peer that hangs up during the SP handshake makes an ipc (or tcp) listener stop
 * accepting connections for good, while established connections keep working. Any client
 * killed or closed at the wrong moment could thus take a coordinator's front door down.
 *
 * The guard probes each watched listener from a dedicated thread: it dials it with a socket of
 * the peer protocol and waits for the watched socket to attach the new connection (a pipe
 * notification on the listener's side; a wedged listener still completes the handshake, it
 * just never hands the pipe over). When two probes in a row fail,
 * the listener is closed and created again on the same address (its established connections
 * drop and their peers reconnect), and the event is logged and counted. */
#ifndef GN_LISTENER_GUARD_H
#define GN_LISTENER_GUARD_H

#include <stdatomic.h>
#include <stdint.h>

#include <nng/nng.h>

#include "base/common.h"

typedef struct gn_guard gn_guard;

/* Opens a socket of the protocol that talks to the watched listener (REQ for a REP listener,
 * SUB for a PUB listener). */
typedef int (*gn_probe_open_fn)(nng_socket *probe);

/* Start the guard's thread; probes every interval_ms. Each re-created listener increments
 * *restarts (may be NULL). log and restarts must outlive the guard. */
gn_guard *gn_guard_new(const gn_logger *log, uint32_t interval_ms, atomic_uint_fast64_t *restarts);

/* Watch listener l of sock, bound at url (the URL actually bound: no port 0). what names it in
 * logs ("front door"). Only ipc:// and tcp:// listeners are watched; others are ignored. */
int gn_guard_watch(gn_guard *g, nng_socket sock, nng_listener l, const char *url,
                   gn_probe_open_fn open_probe, const char *what);

/* Stop probing and join the thread. Call before the watched sockets close (so no listener is
 * re-created on a closing socket). Idempotent; accepts NULL. */
void gn_guard_stop(gn_guard *g);

/* Free, after the watched sockets are closed (their pipe callbacks point at the guard).
 * Accepts NULL. */
void gn_guard_free(gn_guard *g);

#endif /* GN_LISTENER_GUARD_H */
