/* One request/reply exchange on a REQ socket, fully asynchronous: a context and an aio per
 * exchange, the deadline as the aio timeout, the reply decoded before the callback runs. Used
 * by clients, services (register, heartbeat, emit) and the coordinator (forwarding to remote
 * components). */
#ifndef GN_RPC_H
#define GN_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "wire/wire.h"

/* Outcome of an exchange. status/reason describe transport or decode failures (reason
 * GENESIS_REASON_UNREACHABLE when the request was never handed to a peer, so it provably did
 * not run; UNAVAILABLE with GENESIS_REASON_TRANSPORT_ERROR when the peer's connection was lost
 * after it took the request, so it may or may not have run); when they are
 * GENESIS_OK, reply holds the peer's decoded Reply (whose own code may be an error). reply is
 * freed by the rpc after the callback returns. The callback runs on an NNG thread: it must not
 * block. */
typedef void (*gn_rpc_fn)(int status, int reason, const char *why, gn_wire_reply *reply, void *arg);

/* Send msg (ownership passes to the rpc, also on failure) on a new context of sock and wait
 * up to timeout_ms for the reply. Returns GENESIS_OK when started (cb will run exactly once),
 * or an error when it could not start (cb never runs). */
int gn_rpc_start(nng_socket sock, nng_msg *msg, uint32_t timeout_ms, size_t max_reply, gn_rpc_fn cb,
                 void *arg);

/* Configure a REQ socket for rpc use: no transport-level resends (retries are the caller's
 * decision) and a receive size limit. */
int gn_rpc_configure(nng_socket sock, size_t max_reply);

#endif /* GN_RPC_H */
