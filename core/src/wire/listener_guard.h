/* A watchdog for NNG listeners. Debian bookworm's NNG 1.5.2 has a bug (nanomsg/nng#1518, fixed
 * in 1.6.0): a peer that hangs up during the SP handshake makes an ipc (or tcp) listener stop
 * accepting connections for good, while established connections keep working. Any client
 * killed or closed at the wrong moment could thus take a coordinator's front door down.
 *
 * The guard probes each watched listener from a dedicated thread: it connects with a plain
 * tcp/ipc socket, writes the SP header of the peer protocol by hand (sp_probe.h: no NNG socket
 * is created or closed, so the guard never feeds NNG's reaper) and waits for the watched socket
 * to attach the new connection (a pipe notification on the listener's side; a wedged listener
 * still completes the handshake, it just never hands the pipe over). A probe that could not
 * connect (out of descriptors, EMFILE) says nothing about the listener; one that connected
 * while the process is out of descriptors neither. When two probes in a row fail,
 * the listener is closed and created again on the same address (its established connections
 * drop and their peers reconnect), and the event is logged and counted. */
#ifndef GN_LISTENER_GUARD_H
#define GN_LISTENER_GUARD_H

#include <stdatomic.h>
#include <stdint.h>

#include <nng/nng.h>

#include "base/common.h"
#include "wire/sp_probe.h"

typedef struct gn_guard gn_guard;

/* Start the guard's thread; probes every interval_ms. Each re-created listener increments
 * *restarts (may be NULL). log and restarts must outlive the guard. */
gn_guard *gn_guard_new(const gn_logger *log, uint32_t interval_ms, atomic_uint_fast64_t *restarts);

/* Watch listener l of sock, bound at url (the URL actually bound: no port 0). peer_proto is
 * the SP protocol id of its peers (GN_SP_PROTO_REQ for a REP listener, GN_SP_PROTO_SUB for a
 * PUB one). what names it in logs ("front door"). Only ipc:// and tcp:// listeners are
 * watched; others are ignored. */
int gn_guard_watch(gn_guard *g, nng_socket sock, nng_listener l, const char *url,
                   uint16_t peer_proto, const char *what);

/* Stop probing and join the thread. Call before the watched sockets close (so no listener is
 * re-created on a closing socket). Idempotent; accepts NULL. */
void gn_guard_stop(gn_guard *g);

/* Free, after the watched sockets are closed (their pipe callbacks point at the guard).
 * Accepts NULL. */
void gn_guard_free(gn_guard *g);

#endif /* GN_LISTENER_GUARD_H */
