/* The Genesis gateway: HTTP+JSON and WebSocket on one port (libwebsockets), in front of a
 * coordinator reached through the public client API (front door + event bus).
 *
 * Used by the genesis-gateway program and embedded in genesisd. Not part of libgenesis's
 * ABI: a static library with its own gw_ prefix.
 *
 * Lifecycle: gw_config_init -> gw_new (binds the port, dials the coordinator) -> gw_start
 * (starts the one libwebsockets service thread) -> gw_free (stops, closes every connection,
 * joins). Threading: gw_new/gw_start/gw_free from one thread; gw_port and gw_url from any. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <genesis/genesis.h>

typedef struct gw_gateway gw_gateway;

typedef struct gw_config {
    char host[256];         /* interface address to bind, e.g. "127.0.0.1" */
    int port;               /* 0 = pick a free port (read it back with gw_port) */
    const char *front_door; /* coordinator front door URL (NNG) */
    const char *event_bus;  /* coordinator event bus URL; NULL = no WebSocket events */
    /* Embedded mode: the coordinator in this process. Requests then go to it directly
     * (genesis_coordinator_request_async: no socket hop); status, client messages and events
     * still travel through front_door / event_bus like any client's. NULL = remote. It must
     * outlive the gateway (gw_free before genesis_coordinator_stop). */
    genesis_coordinator *coordinator;
    const char *tls_cert;          /* PEM certificate path; NULL = plain HTTP */
    const char *tls_key;           /* PEM private key path (with tls_cert) */
    const char *auth_file;         /* bearer tokens (see auth.h); NULL = no authentication */
    size_t max_body;               /* largest request body, bytes; default 1 MiB */
    unsigned int max_header;       /* largest request header block, bytes; default 8192 */
    size_t max_ws_message;         /* largest WebSocket message from a client; default 64 KiB */
    unsigned int max_ws_clients;   /* WebSocket connections at most (more get 503); 100 */
    unsigned int ws_queue;         /* messages queued per WebSocket client; default 256 */
    size_t ws_queue_bytes;         /* ... and bytes of them; default 4 MiB */
    unsigned int ws_ping_s;        /* ping an idle WebSocket after this; default 20 s */
    unsigned int ws_idle_s;        /* close a WebSocket silent (no pong) this long; 60 s */
    unsigned int http_keepalive_s; /* close an idle keep-alive HTTP connection; default 5 s */
    unsigned int header_timeout_s; /* headers/body must arrive within this; default 10 s */
    uint32_t default_timeout_ms;   /* deadline of requests that set none; default 10000 */
    unsigned int job_threads;      /* threads for blocking coordinator calls; default 2 */
    int log_level;                 /* genesis_log_level */
    genesis_log_fn log;            /* NULL = stderr */
    void *log_arg;
    /* Mutual TLS toward a tls+tcp:// front door and event bus (the coordinator's NNG
     * transport, not HTTPS): PEM CA, certificate and key paths; all NULL = none. */
    const char *core_tls_ca;
    const char *core_tls_cert;
    const char *core_tls_key;
    /* Cross-site protection (cross_site.h): comma-separated origins ("https://ops.example",
     * "null" for file:// pages, "*" for any) allowed besides the gateway's own on POSTs and
     * WebSocket upgrades, and names ("*" for any) allowed in Host besides IP literals,
     * localhost and host. Empty by default. */
    char allowed_origins[2048];
    char allowed_hosts[1024];
} gw_config;

/* Defaults (as documented above); host 127.0.0.1, port 8080. */
void gw_config_init(gw_config *cfg);

/* Parse "host:port", ":port" or "port" into cfg->host / cfg->port. Returns 0, or -1 with a
 * message in why. */
int gw_config_set_listen(gw_config *cfg, const char *spec, char *why, size_t why_size);

/* Create the gateway: load the tokens, dial the coordinator, bind the port. Returns a
 * genesis status; on failure why holds the reason and *out is NULL. */
int gw_new(gw_gateway **out, const gw_config *cfg, char *why, size_t why_size);

/* Start serving on the libwebsockets service thread. */
int gw_start(gw_gateway *gw, char *why, size_t why_size);

/* The bound port. */
int gw_port(const gw_gateway *gw);

/* "http://host:port" or "https://host:port" into buf. */
void gw_url(const gw_gateway *gw, char *buf, size_t size);

/* Stop serving, close every connection, join the threads and free. Accepts NULL. */
void gw_free(gw_gateway *gw);

#endif /* GW_GATEWAY_H */
