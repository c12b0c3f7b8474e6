/* The services of genesis.proto (genesis.v1.Genesis, genesis.v1.GenesisAdmin), independent
 * of the protocol they arrive on: gRPC over HTTP/2 (h2_server.c) hands a method path and the
 * request message's bytes in, and receives response messages and one final status through a
 * post function.
 *
 * Threading: gw_rpc_start and gw_rpc_watch_cancel on the protocol's own thread; post is
 * called from any thread (coordinator callbacks, the blocking-call worker, bus subscribers),
 * never after gw_rpc_watch_cancel returned for that stream, and for unary calls exactly once.
 * Outcomes name their stream by (conn_id, stream_id), never by pointer: a stream that closed
 * meanwhile is simply not found. */
#ifndef GW_RPC_SERVICE_H
#define GW_RPC_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "auth.h"

struct genesis_gateway;

enum gw_rpc_kind {
    GW_RPC_REQUEST = 1,
    GW_RPC_EMIT,
    GW_RPC_WATCH,
    GW_RPC_STATUS,
    GW_RPC_ADMIN_MODE,
    GW_RPC_ADMIN_BREAKER,
    GW_RPC_ADMIN_POLICY,
    GW_RPC_ADMIN_CHECKPOINTS,
    GW_RPC_ADMIN_RELOAD,
    GW_RPC_ADMIN_SUPERVISOR
};

typedef struct gw_rpc_method {
    const char *path; /* "/genesis.v1.Genesis/Request" */
    int kind;         /* gw_rpc_kind */
    int streaming;    /* server streaming */
    int admin;        /* needs an admin token */
    const ProtobufCMessageDescriptor *input, *output;
    int no_side_effects; /* a read (idempotency_level NO_SIDE_EFFECTS): Connect GET serves it */
} gw_rpc_method;

/* The method at an HTTP path, or NULL (UNIMPLEMENTED). */
const gw_rpc_method *gw_rpc_find(const char *path);

/* One response message (end == 0) or the end of the call (end == 1: code, message and, for
 * errors, an encoded genesis.v1.RpcStatus with an ErrorInfo for grpc-status-details-bin). */
typedef struct gw_rpc_out {
    struct gw_rpc_out *next;
    uint64_t conn_id;
    int32_t stream_id;
    int end;
    int code;
    char message[512];
    uint8_t *details;
    size_t details_len;
    uint8_t *msg;
    size_t msg_len;
} gw_rpc_out;

void gw_rpc_out_free(gw_rpc_out *o);

typedef void (*gw_rpc_post_fn)(void *arg, gw_rpc_out *out); /* takes ownership */

typedef struct gw_rpc_call {
    const gw_rpc_method *method;
    uint64_t conn_id;
    int32_t stream_id;
    uint32_t timeout_ms;   /* from grpc-timeout; 0 = none */
    uint64_t request_id;   /* 0 = let the coordinator assign one */
    const gw_token *token; /* authenticated caller (checked already); NULL = no auth */
    const char *protocol;  /* "grpc": recorded in ErrorInfo.protocol */
    gw_rpc_post_fn post;
    void *post_arg;
} gw_rpc_call;

typedef struct gw_rpc_engine gw_rpc_engine;
typedef struct gw_rpc_watch gw_rpc_watch;

/* The engine: one worker thread for the blocking calls (Emit, Status, admin commands) with a
 * bounded queue. */
int gw_rpc_engine_new(gw_rpc_engine **out, struct genesis_gateway *gw);
/* Run what is queued and join the worker (before the gateway's client goes). Accepts NULL. */
void gw_rpc_engine_stop(gw_rpc_engine *e);
/* Stop, then free, once no Watch stream is left (they are cancelled when their connections
 * close). Accepts NULL. */
void gw_rpc_engine_free(gw_rpc_engine *e);

/* Watch streams open (each holds a bus subscription), in every protocol; any thread. */
unsigned int gw_rpc_engine_watches(gw_rpc_engine *e);

/* Start a call with the request message's bytes. Its outcome is posted; for a streaming
 * method *watch receives the subscription to cancel when the stream ends (NULL if the call
 * already failed). */
void gw_rpc_start(gw_rpc_engine *e, const gw_rpc_call *call, const uint8_t *in, size_t len,
                  gw_rpc_watch **watch);

/* Stop a Watch: no post for it after this returns. Blocks briefly (closes its bus socket). */
void gw_rpc_watch_cancel(gw_rpc_watch *w);

/* A final outcome for an error: code, reason (genesis_reason name or a gateway reason such as
 * "UNIMPLEMENTED"), component ("" = none) and message; details are encoded. NULL on OOM. */
gw_rpc_out *gw_rpc_error(const gw_rpc_call *call, int code, const char *reason,
                         const char *component, const char *message);
/* The same with the failure's retry advice in ErrorInfo.retry_delay_ms (0 = none). */
gw_rpc_out *gw_rpc_error_advised(const gw_rpc_call *call, int code, const char *reason,
                                 const char *component, const char *message,
                                 uint32_t retry_delay_ms);

#endif /* GW_RPC_SERVICE_H */
