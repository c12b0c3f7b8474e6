/* Gateway metrics and their Prometheus text rendering, together with the coordinator's
 * figures taken from its status report (mode, per-component health, breakers, counters).
 * Updated on the service thread only. */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <genesis/genesis.h>

#include "routes.h"

#define GW_LATENCY_BUCKETS 16
#define GW_MAX_HISTOGRAMS  256 /* components with their own histogram; the rest: "_other" */
#define GW_STATUS_CODES    600

typedef struct gw_histogram {
    char component[129];
    uint64_t buckets[GW_LATENCY_BUCKETS]; /* cumulative at render time, per bucket here */
    uint64_t count;
    double sum_s;
} gw_histogram;

typedef struct gw_metrics {
    uint64_t http[GW_ROUTE_COUNT][GW_STATUS_CODES]; /* responses by route and status */
    unsigned int n_histograms;
    gw_histogram *histograms; /* GW_MAX_HISTOGRAMS + 1 ("_other") */
    uint64_t ws_accepted, ws_rejected_cap, ws_rejected_other;
    uint64_t ws_messages_in, ws_messages_out, ws_dropped, ws_slow_closed, ws_oversized;
    uint64_t ws_emit_failed, ws_overloaded;
    uint64_t jobs_refused;
    uint64_t cross_site_refused;  /* foreign Host or Origin (cross_site.h) */
    uint64_t connections_refused; /* closed at once: the connection cap was reached */
} gw_metrics;

/* The RPC wire's counters: HTTP/2 (its own thread) and message compression (both threads).
 * Atomics, updated lock-free and read at render time. */
typedef struct gw_wire_stats {
    atomic_uint_fast64_t h2_streams_open;     /* gauge: HTTP/2 streams not yet closed */
    atomic_uint_fast64_t h2_streams_total;    /* HTTP/2 streams opened */
    atomic_uint_fast64_t h2_rst_received;     /* RST_STREAM frames from clients */
    atomic_uint_fast64_t h2_bytes_in;         /* bytes read on HTTP/2 connections */
    atomic_uint_fast64_t h2_bytes_out;        /* bytes written on HTTP/2 connections */
    atomic_uint_fast64_t compressed_in;       /* request messages that arrived compressed */
    atomic_uint_fast64_t compressed_out;      /* response messages sent compressed */
    atomic_uint_fast64_t compression_refused; /* bombs, bad gzip, unknown encodings */
} gw_wire_stats;

/* Figures the renderer reads from elsewhere. */
typedef struct gw_metrics_extra {
    unsigned int ws_sessions;
    unsigned int connections, connection_cap;
    uint64_t events_received, events_overflow, bus_events_lost;
    const char *status_json; /* the coordinator's status report, or NULL if it did not answer */
    size_t status_len;
    /* Embedded: the coordinator, for each component's latency histogram; NULL = remote. */
    genesis_coordinator *coordinator;
    const gw_wire_stats *wire; /* NULL = none */
    unsigned int rpc_watches;  /* Watch streams open (their bus subscriptions) */
} gw_metrics_extra;

int gw_metrics_init(gw_metrics *m);
void gw_metrics_destroy(gw_metrics *m);
void gw_metrics_count_http(gw_metrics *m, int route, int status);
void gw_metrics_observe(gw_metrics *m, const char *component, double seconds);

/* Render everything in Prometheus text format 0.0.4 into a new buffer (free it). */
int gw_metrics_render(const gw_metrics *m, const gw_metrics_extra *x, char **out, size_t *len);

#endif /* GW_METRICS_H */
