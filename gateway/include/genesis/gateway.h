/* The Genesis gateway: HTTP+JSON and WebSocket on one port (libwebsockets), in front of a
 * coordinator reached through the public client API (front door + event bus). Used by the
 * genesis-gateway program and embedded in genesisd.
 *
 * A static library (genesis_gateway) beside libgenesis, not part of libgenesis's ABI; it
 * follows the same conventions (genesis/genesis.h): functions that can fail return a
 * genesis_status and explain failures through genesis_gateway_last_error(); the options
 * struct carries its version first and is filled by genesis_gateway_options_init; *_free
 * accepts NULL.
 *
 * Lifecycle: genesis_gateway_options_init -> genesis_gateway_new (loads the tokens, dials the
 * coordinator, binds the port) -> genesis_gateway_start (starts the one libwebsockets service
 * thread) -> genesis_gateway_free (stops, closes every connection, joins every thread).
 *
 * Ownership: the options are copied by genesis_gateway_new except the strings and the
 * coordinator they point to, which must outlive the gateway.
 *
 * Threading: new, start and free from one thread; get_port and get_url from any thread; the log
 * callback is called from the gateway's threads, possibly concurrently. */
#ifndef GENESIS_GATEWAY_H
#define GENESIS_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/coordinator.h"
#include "genesis/message.h"
#include "genesis/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct genesis_gateway genesis_gateway;

#define GENESIS_GATEWAY_OPTIONS_VERSION 1

typedef struct genesis_gateway_options {
    unsigned int version;   /* GENESIS_GATEWAY_OPTIONS_VERSION */
    char host[256];         /* interface address to bind; init: "127.0.0.1" */
    int port;               /* 0 = pick a free port (genesis_gateway_get_port); init: 8080 */
    const char *front_door; /* coordinator front door URL (NNG), or a comma-separated list of
                               cluster nodes' front doors (see genesis_client_dial) */
    const char *event_bus;  /* coordinator event bus URL; NULL = no WebSocket events */
    /* Embedded mode: the coordinator in this process. Requests then go to it directly
     * (genesis_coordinator_request_async: no socket hop); status, client messages and events
     * still travel through front_door / event_bus like any client's. NULL = remote. It must
     * outlive the gateway (genesis_gateway_free before genesis_coordinator_stop). */
    genesis_coordinator *coordinator;
    const char *tls_cert;          /* PEM certificate path; NULL = plain HTTP */
    const char *tls_key;           /* PEM private key path (with tls_cert) */
    const char *auth_file;         /* bearer tokens, '<token> <scope>[,<scope>]'; NULL = none */
    size_t max_body;               /* largest request body, bytes; init: 1 MiB */
    unsigned int max_header;       /* largest request header block, bytes; init: 8192 */
    size_t max_ws_message;         /* largest WebSocket message from a client; init: 64 KiB */
    unsigned int max_ws_clients;   /* WebSocket connections at most (more get 503); init: 100 */
    unsigned int ws_queue;         /* messages queued per WebSocket client; init: 256 */
    size_t ws_queue_bytes;         /* ... and bytes of them; init: 4 MiB */
    unsigned int ws_ping_s;        /* ping an idle WebSocket after this; init: 20 s */
    unsigned int ws_idle_s;        /* close a WebSocket silent (no pong) this long; init: 60 s */
    unsigned int http_keepalive_s; /* close an idle keep-alive HTTP connection; init: 5 s */
    unsigned int header_timeout_s; /* headers/body must arrive within this; init: 10 s */
    uint32_t default_timeout_ms;   /* deadline of requests that set none; init: 10000 */
    unsigned int job_threads;      /* threads for blocking coordinator calls; init: 2 */
    int log_level;                 /* genesis_log_level; init: INFO */
    genesis_log_fn log;            /* NULL = stderr */
    void *log_arg;
    /* Mutual TLS toward a tls+tcp:// front door and event bus (the coordinator's NNG
     * transport, not HTTPS): PEM CA, certificate and key paths; all NULL = none. */
    const char *core_tls_ca;
    const char *core_tls_cert;
    const char *core_tls_key;
    /* The history behind GET /v1/status/history (the dashboard's charts): sampled every
     * history_interval_ms, 15 minutes at the default; 0 = none. init: 5000. */
    uint32_t history_interval_ms;
    /* Serve only GET/HEAD /metrics, /healthz and /readyz (genesisd --metrics): no requests,
     * no dashboard, no WebSocket, no operator routes. init: 0. */
    int metrics_only;
    /* Cross-site protection (docs/gateway.md, "Other websites"): comma-separated origins
     * ("https://ops.example", "null" for file:// pages, "*" for any) allowed besides the
     * gateway's own on POSTs and WebSocket upgrades, and names ("*" for any) allowed in the
     * Host header besides IP addresses, localhost and host. init: empty. */
    char allowed_origins[2048];
    char allowed_hosts[1024];
} genesis_gateway_options;

/* Fill *opts with the defaults above for version (GENESIS_GATEWAY_OPTIONS_VERSION).
 * GENESIS_INVALID_ARGUMENT for NULL or an unknown version. */
int genesis_gateway_options_init(genesis_gateway_options *opts, unsigned int version);

/* Set opts->host and opts->port from "HOST:PORT", "[IPv6]:PORT", ":PORT" or "PORT" (port
 * 0..65535; the host is kept when the spec names none). GENESIS_INVALID_ARGUMENT otherwise,
 * opts unchanged. */
int genesis_gateway_options_set_listen(genesis_gateway_options *opts, const char *spec);

/* Create the gateway: load the tokens, dial the coordinator, bind the port. On success *out
 * owns a gateway to release with genesis_gateway_free; on failure *out is NULL.
 * GENESIS_INVALID_ARGUMENT for bad options (unreadable token file or certificate, unknown
 * options version), GENESIS_UNAVAILABLE when the port cannot be bound. */
int genesis_gateway_new(genesis_gateway **out, const genesis_gateway_options *opts);

/* Start serving on the libwebsockets service thread. */
int genesis_gateway_start(genesis_gateway *gw);

/* The bound port (the one picked for port 0) into *port. */
int genesis_gateway_get_port(const genesis_gateway *gw, int *port);

/* "http://host:port" or "https://host:port", with the numeric address it listens on, into
 * buf (NUL-terminated). GENESIS_OUT_OF_RANGE when buf is too small. */
int genesis_gateway_get_url(const genesis_gateway *gw, char *buf, size_t size);

/* Stop serving, close every connection, join the threads and free. Accepts NULL. */
void genesis_gateway_free(genesis_gateway *gw);

/* Why the last genesis_gateway_* call on the calling thread failed, e.g. "cannot serve HTTP
 * on 127.0.0.1:80: permission denied". Thread-local, valid until the next genesis_gateway_*
 * call on this thread; never NULL (empty when there is nothing to say). The gateway's own
 * counterpart of genesis_last_error(): the gateway lives outside libgenesis. */
const char *genesis_gateway_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_GATEWAY_H */
