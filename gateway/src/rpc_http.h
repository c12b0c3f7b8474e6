/* gRPC-Web (application/grpc-web[+proto], application/grpc-web-text[+proto]) and Connect
 * (unary: application/proto, application/json; streaming: application/connect+proto,
 * application/connect+json) over the libwebsockets HTTP side, for the services of
 * rpc_service.h at /genesis.v1.Genesis/<Method> and /genesis.v1.GenesisAdmin/<Method>.
 *
 * http_server.c hands a request to these functions when its path names one of those
 * services; everything runs on the service thread. A call's outcomes come back through the
 * gateway's inbox (GW_ITEM_RPC_OUT) and find their transaction by id: a connection that closed
 * meanwhile is not found and the outcome is dropped. */
#ifndef GW_RPC_HTTP_H
#define GW_RPC_HTTP_H

#include <stddef.h>

#include "gw_internal.h"

/* The path belongs to an RPC service (served here, also when the method is unknown). */
int gw_rpc_http_claims(const char *path);

/* Request headers are in: pick the protocol, check method, content type, token and size.
 * Returns like an LWS_CALLBACK_HTTP handler. */
int gw_rpc_http_begin(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path);

/* The largest request body this transaction accepts (its framing and encoding included). */
size_t gw_rpc_http_body_limit(const gw_gateway *gw, const gw_conn *conn);

/* A piece of a chunked request body (Transfer-Encoding: chunked, which libwebsockets 4.1 does
 * not decode): decoded here, and the call starts at its end. Returns 1 when the transaction
 * is not chunked (the caller collects the body as usual), else 0. */
int gw_rpc_http_chunked_body(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const void *in,
                             size_t len);

/* The body is complete: decode the request message and start the call. */
void gw_rpc_http_dispatch(gw_gateway *gw, struct lws *wsi, gw_conn *conn);

/* An error in the protocol's own form (gRPC-Web trailers, Connect error JSON). */
void gw_rpc_http_fail(gw_gateway *gw, struct lws *wsi, gw_conn *conn, int code, const char *reason,
                      const char *message);

/* A call's outcome from the inbox (takes item->rpc_out). */
void gw_rpc_http_deliver(gw_gateway *gw, gw_item *item);

/* The response is a stream (Watch) written by gw_rpc_http_write, not the ordinary writer. */
int gw_rpc_http_streaming(const gw_conn *conn);

/* LWS_CALLBACK_HTTP_WRITEABLE of a streaming response; returns the callback's value. */
int gw_rpc_http_write(gw_gateway *gw, struct lws *wsi, gw_conn *conn);

/* The transaction ends (response written, connection closed): cancel a Watch, forget it. */
void gw_rpc_http_detach(gw_conn *conn);

#endif /* GW_RPC_HTTP_H */
