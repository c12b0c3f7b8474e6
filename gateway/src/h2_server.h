/* The HTTP/2 side of the gateway's port (libnghttp2): gRPC over h2c with prior knowledge, or
 * over TLS.
 *
 * The gateway's listening socket is owned here (h2_listener.c): each accepted connection is
 * sniffed without consuming its bytes, for the HTTP/2 client preface or, when the port serves
 * TLS, for the ClientHello's ALPN (tls_hello.h). HTTP/2 connections (h2c, or TLS offering h2
 * alone) get an nghttp2 server session (grpc_h2.c; TLS by OpenSSL, h2_tls.h), everything else
 * (HTTP/1.1, WebSocket upgrades, HTTPS and WSS) is handed to libwebsockets through the service
 * thread's queue, which does its own TLS handshake. One thread ("gw:h2") runs every HTTP/2
 * connection; coordinator calls complete on other threads and come back through a queue that
 * wakes it.
 *
 * Lifecycle: gw_h2_new (binds; loads the certificate and key with TLS) -> gw_h2_start ->
 * gw_h2_stop (joins the thread, closes every HTTP/2 connection, cancels its streams) ->
 * gw_h2_free once no coordinator call of the gateway is pending (gw_free waits for them in
 * between). */
#ifndef GW_H2_SERVER_H
#define GW_H2_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "rpc_service.h"

struct genesis_gateway;
struct gw_listen_addr;
typedef struct gw_h2 gw_h2;

/* Bind and listen on addr (listen_addr.h: resolved already, port as configured). */
int gw_h2_new(gw_h2 **out, struct genesis_gateway *gw, const struct gw_listen_addr *addr, char *why,
              size_t why_size);
int gw_h2_port(const gw_h2 *h);
int gw_h2_start(gw_h2 *h, char *why, size_t why_size);
void gw_h2_stop(gw_h2 *h);
void gw_h2_free(gw_h2 *h);

/* ---- one HTTP/2 connection (grpc_h2.c), driven by the listener's thread ---- */

typedef struct gw_h2_conn gw_h2_conn;

#define GW_PEER_NAME 64 /* "[address]:port" of a peer, NUL included */

/* A session on an accepted socket (non-blocking) whose first bytes are the client preface
 * (ssl NULL), or a TLS connection whose ClientHello offered h2 (ssl in accept state on fd:
 * the handshake comes first, bounded by --header-timeout). peer names it in logs (copied).
 * Takes fd and ssl (freed by
 * gw_h2_conn_free). NULL when out of memory (fd closed, ssl freed). */
gw_h2_conn *gw_h2_conn_new(struct genesis_gateway *gw, gw_rpc_engine *engine, int fd, SSL *ssl,
                           const char *peer, uint64_t id, gw_rpc_post_fn post, void *post_arg);
/* The peer's "address:port", as given to gw_h2_conn_new (for logs). */
const char *gw_h2_conn_peer(const gw_h2_conn *c);
int gw_h2_conn_fd(const gw_h2_conn *c);
uint64_t gw_h2_conn_id(const gw_h2_conn *c);
/* Why its TLS handshake failed or timed out, or NULL (for the listener's log). */
const char *gw_h2_conn_tls_error(const gw_h2_conn *c);
/* poll events it waits for; 0 = done, free it */
short gw_h2_conn_events(gw_h2_conn *c);
/* Socket ready: read and write what can be. -1 = the connection is over (free it). */
int gw_h2_conn_io(gw_h2_conn *c, short revents);
/* A call's outcome for one of its streams (taken; dropped if that stream is gone). */
void gw_h2_conn_deliver(gw_h2_conn *c, gw_rpc_out *o);
/* Once a second: cancel streams whose request body stalls; -1 when the connection idled out. */
int gw_h2_conn_tick(gw_h2_conn *c, uint64_t now_ns);
/* Cancel its streams (their Watch subscriptions), close the socket, free. */
void gw_h2_conn_free(gw_h2_conn *c);

#endif /* GW_H2_SERVER_H */
