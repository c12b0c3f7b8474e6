/* Internals shared by the gateway's files: the gateway object, the per-connection state, the
 * cross-thread items. Everything touching a struct lws runs on the service thread (or on the
 * thread that tears the gateway down, once the service thread has been joined). */
#ifndef GW_INTERNAL_H
#define GW_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "auth.h"
#include "gateway.h"
#include "job_pool.h"
#include "listen_addr.h"
#include "history.h"
#include "metrics.h"
#include "xthread_queue.h"

#define GENESIS_ID_MAX 128         /* longest component id (core/src/base/common.h) */
#define GW_WS_BATCH    (64 * 1024) /* bytes of queued frames written to a session at once */

/* An HTTP transaction waiting for the coordinator. The completion item refers to it; the
 * connection refers to it through its pss. Whichever goes first detaches from the other;
 * the call is freed when its completion is consumed. */
typedef struct gw_call {
    struct genesis_gateway *gw;
    struct lws *wsi; /* NULL once the connection closed */
    int route;       /* gw_route */
    int proto;       /* Connect route answering application/proto */
    char component[GENESIS_ID_MAX + 1];
    uint64_t start_ns; /* for the latency histogram */
} gw_call;

/* One queued outgoing WebSocket message, shared by every session it fans out to: encoded
 * once as a complete server frame (header + JSON), so a session's queued frames go out in one
 * write instead of one write (and one poll round) per message. */
typedef struct gw_frame {
    unsigned int refs;
    size_t len;          /* JSON bytes */
    size_t wire_len;     /* header + JSON bytes */
    unsigned char *wire; /* the whole frame, inside buf */
    unsigned char *text; /* the JSON, inside buf */
    unsigned char buf[]; /* LWS_PRE headroom, header, JSON */
} gw_frame;

gw_frame *gw_frame_new(const char *text, size_t len);
void gw_frame_release(gw_frame *f);

enum gw_conn_kind { GW_CONN_HTTP = 0, GW_CONN_WS = 1 };

/* Per-connection state (libwebsockets "per session data"): an HTTP transaction or, after the
 * upgrade, a WebSocket session. Zeroed by libwebsockets. */
typedef struct gw_conn {
    int kind;
    /* ---- HTTP ---- */
    int route;
    int method;
    int head;                         /* HEAD: answered as GET, without the body */
    char path_id[GENESIS_ID_MAX + 1]; /* {id} of the path */
    gw_call *call;                    /* waiting for the coordinator */
    unsigned char *body;              /* request body received so far */
    size_t body_len, body_cap;
    int refuse; /* a response was chosen before the body arrived: ignore the body */
    /* the response, once known */
    int resp_ready;
    int resp_status;
    int resp_close; /* close the connection after the response */
    int resp_headers_sent;
    char resp_type[64];
    char resp_allow[32];
    struct {
        char name[40], value[40];
    } resp_hdr[2]; /* an RPC protocol's encoding headers ("" = none): gw_http_add_header */
    char *resp_body;
    size_t resp_len, resp_off;
    uint64_t start_ns;
    char timeout_hdr[32];    /* Connect-Timeout-Ms */
    char request_id_hdr[64]; /* X-Request-Id as received (echoed back), or the one we made */
    uint64_t request_id;     /* what the coordinator and the component see (never 0) */
    char content_type[128];
    const gw_token *token;   /* authenticated caller, or NULL */
    struct gw_rpc_http *rpc; /* a gRPC-Web or Connect call (rpc_http.c), or NULL */
    char origin[256];        /* the Origin header ("" = none) */
    int cors_rpc;            /* a preflight for an RPC route */
    /* ---- WebSocket ---- */
    struct gw_conn *ws_prev, *ws_next; /* in gw->sessions */
    struct lws *wsi;
    uint64_t id;
    char name[32];                      /* source name of this client's events */
    char component[GENESIS_ID_MAX + 1]; /* where its messages go */
    char topics[256];                   /* comma-separated type prefixes; "" = all */
    gw_frame **ring;
    unsigned int ring_head, ring_count, ring_cap; /* ring_cap grows up to cfg.ws_queue */
    size_t ring_bytes;
    unsigned int overflow; /* consecutive drops */
    uint64_t dropped;
    unsigned char *rx; /* message being reassembled */
    size_t rx_len;
    int closing;
} gw_conn;

struct genesis_gateway {
    gw_config cfg;
    gw_listen_addr listen;       /* the numeric address it listens on */
    unsigned int connections;    /* network connections open (service thread) */
    unsigned int connection_cap; /* more are closed at once */
    int port;
    int tls;
    genesis_client *client;
    gw_auth *auth;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    pthread_t thread;
    bool thread_started;
    atomic_bool stopping;
    gw_xqueue inbox; /* completions and events for the service thread */
    gw_job_pool *jobs;
    gw_metrics metrics; /* touched on the service thread only, except the atomics */
    gw_conn *sessions;  /* WebSocket sessions (service thread) */
    unsigned int n_sessions;
    uint64_t next_session_id;
    uint64_t request_id_seed;  /* X-Request-Id for requests that bring none */
    unsigned char *ws_scratch; /* LWS_PRE + GW_WS_BATCH bytes (service thread) */
    /* Requests started and not yet completed: gw_free waits for them, since an embedded
     * gateway's calls to its coordinator complete on their own schedule (by their deadline). */
    pthread_mutex_t calls_lock;
    pthread_cond_t calls_cv;
    atomic_ulong calls_pending;           /* lock-free but the last decrement, under calls_lock */
    atomic_uint_fast64_t events_received; /* from the bus (client worker thread) */
    atomic_uint_fast64_t events_overflow; /* inbox full: events dropped before fan-out */
    gw_wire_stats wire;                   /* HTTP/2 and compression counters (metrics.h) */
    lws_retry_bo_t retry;
    /* The last minutes per component (history_sampler.c), NULL without history. */
    gw_history *history;
    pthread_t sampler;
    bool sampler_started;
    bool sampler_stop; /* under sampler_lock */
    pthread_mutex_t sampler_lock;
    pthread_cond_t sampler_cv;
    struct gw_h2 *h2;                 /* the listening socket and HTTP/2 (h2_server.h) */
    struct gw_rpc_engine *rpc_engine; /* the genesis.proto services (rpc_service.h) */
    struct gw_rpc_http *rpc_http;     /* gRPC-Web and Connect calls open (service thread) */
    uint64_t rpc_http_next;           /* their ids */
};

/* ---- logging (gateway.c) ---- */
void gw_log(gw_gateway *gw, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- HTTP (http_server.c) ---- */
int gw_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
/* Consume a finished coordinator call for an HTTP transaction. */
void gw_http_complete(gw_gateway *gw, gw_item *item);
/* Set the response of conn and ask for a writeable callback. body is copied. */
void gw_http_respond(struct lws *wsi, gw_conn *conn, int status, const char *content_type,
                     const char *body, size_t len);
/* Host (always) and Origin (when check_origin) against other websites (cross_site.h).
 * Returns 0, or the HTTP status to refuse with (403), the reason and a message. */
int gw_check_site(gw_gateway *gw, struct lws *wsi, int check_origin, const char **reason, char *msg,
                  size_t size);
/* A header for conn's response (at most two; copied). Returns 0, or -1 when full. */
int gw_http_add_header(gw_conn *conn, const char *name_colon, const char *value);
/* Write the headers gw_http_add_header kept. Returns 0 or -1 like lws_add_http_header_*. */
int gw_http_extra_headers(struct lws *wsi, const gw_conn *conn, unsigned char **p,
                          unsigned char *end);
/* Respond with a JSON error {"code","message","reason","details"}. */
void gw_http_error(gw_gateway *gw, struct lws *wsi, gw_conn *conn, int http_status, int grpc_code,
                   const char *reason, const char *message);

/* ---- WebSocket (ws_session.c, ws_upgrade.c) ---- */
/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 to go on, 1 when refused with a 400 (an unknown
 * subprotocol), -1 to hang up. */
int gw_ws_confirm_upgrade(gw_gateway *gw, struct lws *wsi, const char *to);
int gw_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
/* Fan an external event out to every session but its source. */
void gw_ws_broadcast(gw_gateway *gw, gw_item *item);
/* A client's message could not be delivered: tell that client. */
void gw_ws_emit_failed(gw_gateway *gw, gw_item *item);
/* Close every session (shutdown). */
void gw_ws_close_all(gw_gateway *gw);

/* Stack of the gateway's own threads (service, jobs). Untouched stack pages cost address
 * space, not RSS, so this is sized for the deepest frame chain they run: jansson parsing a
 * body nested to its 2048-level limit (256 KiB overflowed under TSan, killing genesisd). */
#define GW_THREAD_STACK (4 * 1024 * 1024)
/* pthread_create with GW_THREAD_STACK and a name (for top -H, perf, gdb). */
int gw_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, const char *name);

/* Nanoseconds on a monotonic clock. */
uint64_t gw_now_ns(void);

#endif /* GW_INTERNAL_H */
