/* The one way into the libwebsockets service thread: a mutex-protected queue of items plus
 * lws_cancel_service(), the only libwebsockets call that is safe from another thread. NNG and
 * worker threads push completions and bus events; the service thread drains them when
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED fires. */
#ifndef GW_XTHREAD_QUEUE_H
#define GW_XTHREAD_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <genesis/genesis.h>

#include "base/fifo.h"

struct lws_context;
struct gw_call;

enum gw_item_kind {
    GW_ITEM_HTTP_RESULT = 0, /* a coordinator call for an HTTP transaction finished */
    GW_ITEM_EVENT = 1,       /* an external event from the bus, for WebSocket clients */
    GW_ITEM_WS_EMIT = 2,     /* a WebSocket client's message was handed to the coordinator */
    GW_ITEM_ADOPT = 3,       /* an accepted connection that is not HTTP/2, for libwebsockets */
    GW_ITEM_RPC_OUT = 4      /* an outcome of a gRPC-Web or Connect call (rpc_http.c) */
};

typedef struct gw_item {
    gn_fifo_link link; /* in a gw_xqueue or a job pool lane */
    int kind;
    struct gw_call *call; /* HTTP_RESULT */
    genesis_result *res;  /* HTTP_RESULT, WS_EMIT: the outcome (owned) */
    int job;              /* HTTP_RESULT: gw_job_kind that produced it */
    uint64_t session_id;  /* WS_EMIT: the client that sent it */
    char *text;           /* EVENT: the JSON frame; WS_EMIT: the payload */
    size_t text_len;
    char *source;          /* EVENT: excluded client; WS_EMIT: the client's name */
    char *type;            /* EVENT: event type (topic filters); WS_EMIT: event type */
    bool system;           /* EVENT: the coordinator's own (genesis.breaker, genesis.mode) */
    char *target;          /* WS_EMIT: component */
    char content_type[32]; /* WS_EMIT */
    int status;            /* WS_EMIT: the call's status when res is NULL */
    char error[256];       /* WS_EMIT: its message then */
    char *admin_args[8];   /* GW_JOB_ADMIN: the command's arguments (type is the command) */
    size_t n_admin_args;
    int adopt_fd; /* ADOPT: the socket (closed by gw_item_free unless adopted: then -1) */
    struct gw_rpc_out *rpc_out; /* RPC_OUT (owned) */
} gw_item;

void gw_item_free(gw_item *item);

typedef struct gw_xqueue {
    pthread_mutex_t lock;
    gn_fifo items;          /* of gw_item */
    size_t event_cap;       /* bus events beyond this many waiting are dropped (counted) */
    size_t event_bytes;     /* bytes of the bus events waiting */
    size_t event_bytes_cap; /* ... and beyond this many bytes */
    struct lws_context *ctx;
} gw_xqueue;

void gw_xqueue_init(gw_xqueue *q, size_t event_cap, size_t event_bytes_cap);
void gw_xqueue_destroy(gw_xqueue *q); /* frees the items left */
/* Set once the libwebsockets context exists; pushes before that only queue. */
void gw_xqueue_set_context(gw_xqueue *q, struct lws_context *ctx);
/* Push and wake the service thread. Returns false (item not taken) only for an EVENT item
 * when event_cap events or event_bytes_cap bytes are already waiting. Any thread. */
bool gw_xqueue_push(gw_xqueue *q, gw_item *item);
/* Take every waiting item, in order (service thread); take them out with gw_item_pop. */
gn_fifo gw_xqueue_take_all(gw_xqueue *q);

/* The next item of a list taken from a queue, or NULL when it is empty. */
static inline gw_item *gw_item_pop(gn_fifo *list)
{
    gn_fifo_link *link = gn_fifo_pop(list);
    return link != NULL ? GN_FIFO_ENTRY(link, gw_item, link) : NULL;
}

#endif /* GW_XTHREAD_QUEUE_H */
