/* Prometheus text rendering of the gateway's and the coordinator's figures (see metrics.h). */
#define _POSIX_C_SOURCE 200809L
#include "metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "process_metrics.h"

static const double bucket_bounds[GW_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

static const char *const breaker_states[] = {"CLOSED",      "OPEN",     "HALF_OPEN",
                                             "FORCED_OPEN", "DISABLED", "METRICS_ONLY"};
static const char *const modes[] = {"NORMAL", "SAFE", "EMERGENCY"};

int gw_metrics_init(gw_metrics *m)
{
    memset(m, 0, sizeof(*m));
    m->histograms = calloc(GW_MAX_HISTOGRAMS + 1, sizeof(gw_histogram));
    if (m->histograms == NULL)
        return -1;
    strcpy(m->histograms[GW_MAX_HISTOGRAMS].component, "_other");
    return 0;
}

void gw_metrics_destroy(gw_metrics *m)
{
    free(m->histograms);
    m->histograms = NULL;
}

void gw_metrics_count_http(gw_metrics *m, int route, int status)
{
    if (route < 0 || route >= GW_ROUTE_COUNT || status < 0 || status >= GW_STATUS_CODES)
        return;
    m->http[route][status]++;
}

void gw_metrics_observe(gw_metrics *m, const char *component, double seconds)
{
    gw_histogram *h = NULL;
    for (unsigned int i = 0; i < m->n_histograms; i++)
        if (strcmp(m->histograms[i].component, component) == 0) {
            h = &m->histograms[i];
            break;
        }
    if (h == NULL) {
        /* Bounded label cardinality: ids past the cap share one series. */
        if (m->n_histograms < GW_MAX_HISTOGRAMS && strlen(component) < sizeof(h->component)) {
            h = &m->histograms[m->n_histograms++];
            strcpy(h->component, component);
        } else {
            h = &m->histograms[GW_MAX_HISTOGRAMS];
        }
    }
    for (int b = 0; b < GW_LATENCY_BUCKETS; b++)
        if (seconds <= bucket_bounds[b]) {
            h->buckets[b]++;
            break;
        }
    h->count++;
    h->sum_s += seconds;
}

/* Label values are component ids ([A-Za-z0-9._-]) or our own names, but escape anyway. */
static void put_label(FILE *f, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*v, f);
    }
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_histogram(FILE *f, const gw_histogram *h)
{
    if (h->count == 0)
        return;
    uint64_t cumulative = 0;
    for (int b = 0; b < GW_LATENCY_BUCKETS; b++) {
        cumulative += h->buckets[b];
        fputs("genesis_gateway_request_duration_seconds_bucket{component=\"", f);
        put_label(f, h->component);
        fprintf(f, "\",le=\"%g\"} %llu\n", bucket_bounds[b], (unsigned long long)cumulative);
    }
    fputs("genesis_gateway_request_duration_seconds_bucket{component=\"", f);
    put_label(f, h->component);
    fprintf(f, "\",le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
    fputs("genesis_gateway_request_duration_seconds_sum{component=\"", f);
    put_label(f, h->component);
    fprintf(f, "\"} %.9f\n", h->sum_s);
    fputs("genesis_gateway_request_duration_seconds_count{component=\"", f);
    put_label(f, h->component);
    fprintf(f, "\"} %llu\n", (unsigned long long)h->count);
}

/* gRPC's HTTP/2 side and message compression (gw_wire_stats). */
static void render_wire(FILE *f, const gw_wire_stats *w)
{
    struct {
        const char *name, *type, *help;
        uint64_t v;
    } wire[] = {
        {"genesis_gateway_h2_streams_open", "gauge",
         "HTTP/2 streams (gRPC calls) open on the gateway's port.",
         atomic_load(&w->h2_streams_open)},
        {"genesis_gateway_h2_streams_total", "counter", "HTTP/2 streams opened by clients.",
         atomic_load(&w->h2_streams_total)},
        {"genesis_gateway_h2_rst_stream_received_total", "counter",
         "RST_STREAM frames received from clients (cancelled calls).",
         atomic_load(&w->h2_rst_received)},
        {"genesis_gateway_h2_received_bytes_total", "counter",
         "Bytes read on HTTP/2 connections (frames of every kind).", atomic_load(&w->h2_bytes_in)},
        {"genesis_gateway_h2_sent_bytes_total", "counter",
         "Bytes written on HTTP/2 connections (frames of every kind).",
         atomic_load(&w->h2_bytes_out)},
    };
    for (size_t i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
        header(f, wire[i].name, wire[i].type, wire[i].help);
        fprintf(f, "%s %llu\n", wire[i].name, (unsigned long long)wire[i].v);
    }
    header(f, "genesis_gateway_rpc_compressed_messages_total", "counter",
           "RPC messages compressed with gzip (gRPC, gRPC-Web, Connect), by direction.");
    fprintf(f, "genesis_gateway_rpc_compressed_messages_total{direction=\"in\"} %llu\n",
            (unsigned long long)atomic_load(&w->compressed_in));
    fprintf(f, "genesis_gateway_rpc_compressed_messages_total{direction=\"out\"} %llu\n",
            (unsigned long long)atomic_load(&w->compressed_out));
    header(f, "genesis_gateway_rpc_compression_refused_total", "counter",
           "RPC requests refused for their compression: unknown encoding, bad gzip, or "
           "decompressing past the message size limit.");
    fprintf(f, "genesis_gateway_rpc_compression_refused_total %llu\n",
            (unsigned long long)atomic_load(&w->compression_refused));
}

static void render_gateway(FILE *f, const gw_metrics *m, const gw_metrics_extra *x)
{
    header(f, "genesis_gateway_http_responses_total", "counter",
           "HTTP responses sent by the gateway, by route and status code.");
    for (int r = 0; r < GW_ROUTE_COUNT; r++)
        for (int s = 0; s < GW_STATUS_CODES; s++)
            if (m->http[r][s] > 0)
                fprintf(f, "genesis_gateway_http_responses_total{route=\"%s\",code=\"%d\"} %llu\n",
                        gw_route_name(r), s, (unsigned long long)m->http[r][s]);

    header(f, "genesis_gateway_request_duration_seconds", "histogram",
           "Latency of component requests measured at the gateway, by component.");
    for (unsigned int i = 0; i < m->n_histograms; i++)
        render_histogram(f, &m->histograms[i]);
    render_histogram(f, &m->histograms[GW_MAX_HISTOGRAMS]);

    struct {
        const char *name, *type, *help;
        uint64_t v;
    } simple[] = {
        {"genesis_gateway_websocket_connections", "gauge", "Open WebSocket sessions.",
         x->ws_sessions},
        {"genesis_gateway_connections", "gauge", "Open network connections (HTTP and WebSocket).",
         x->connections},
        {"genesis_gateway_connection_cap", "gauge",
         "Connections at most (a quarter of the file descriptor limit); more are closed.",
         x->connection_cap},
        {"genesis_gateway_connections_refused_total", "counter",
         "Connections closed at once because the connection cap was reached.",
         m->connections_refused},
        {"genesis_gateway_websocket_accepted_total", "counter", "WebSocket sessions accepted.",
         m->ws_accepted},
        {"genesis_gateway_websocket_rejected_cap_total", "counter",
         "WebSocket upgrades refused with 503 because the connection cap was reached.",
         m->ws_rejected_cap},
        {"genesis_gateway_websocket_rejected_total", "counter",
         "WebSocket upgrades refused for another reason (route, id, authentication).",
         m->ws_rejected_other},
        {"genesis_gateway_websocket_messages_in_total", "counter",
         "Messages received from WebSocket clients.", m->ws_messages_in},
        {"genesis_gateway_websocket_messages_out_total", "counter",
         "Messages written to WebSocket clients.", m->ws_messages_out},
        {"genesis_gateway_websocket_dropped_total", "counter",
         "Messages a slow WebSocket client lost because its send queue was full.", m->ws_dropped},
        {"genesis_gateway_websocket_slow_closed_total", "counter",
         "WebSocket clients disconnected for staying too slow (close code 1008).",
         m->ws_slow_closed},
        {"genesis_gateway_websocket_oversized_total", "counter",
         "WebSocket messages over the size limit (close code 1009).", m->ws_oversized},
        {"genesis_gateway_websocket_emit_failed_total", "counter",
         "Client messages the coordinator did not accept (an error frame was sent).",
         m->ws_emit_failed},
        {"genesis_gateway_jobs_refused_total", "counter",
         "Status or emit calls refused because the gateway's job queue was full.", m->jobs_refused},
        {"genesis_gateway_cross_site_refused_total", "counter",
         "Requests and WebSocket upgrades refused for a foreign Host or Origin.",
         m->cross_site_refused},
        {"genesis_gateway_events_received_total", "counter",
         "External events received from the coordinator's event bus.", x->events_received},
        {"genesis_gateway_events_overflow_total", "counter",
         "External events dropped before fan-out because the gateway fell behind.",
         x->events_overflow},
        {"genesis_gateway_bus_events_lost_total", "counter",
         "External events lost on the event bus (sequence gaps seen by the gateway).",
         x->bus_events_lost},
    };
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        header(f, simple[i].name, simple[i].type, simple[i].help);
        fprintf(f, "%s %llu\n", simple[i].name, (unsigned long long)simple[i].v);
    }
    if (x->wire != NULL)
        render_wire(f, x->wire);
    header(f, "genesis_gateway_rpc_watches_open", "gauge",
           "Watch calls open (gRPC, gRPC-Web, Connect), each with its own bus subscription.");
    fprintf(f, "genesis_gateway_rpc_watches_open %u\n", x->rpc_watches);
}

static uint64_t json_u64(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static void component_series(FILE *f, json_t *comps, const char *name, const char *type,
                             const char *help, const char *key)
{
    header(f, name, type, help);
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (id == NULL || !json_is_integer(json_object_get(c, key)))
            continue;
        fprintf(f, "%s{component=\"", name);
        put_label(f, id);
        fprintf(f, "\"} %llu\n", (unsigned long long)json_u64(c, key));
    }
}

/* The outcome label of a request that ended with reason (genesis_reason_name). */
static const char *outcome_of(const char *reason)
{
    static const char *const rejected[] = {
        "BREAKER_OPEN",  "BULKHEAD_FULL",  "SHED_BY_MODE", "RETRY_BUDGET_EXHAUSTED",
        "LIMIT_REACHED", "COMPONENT_DOWN", "NOT_FOUND",    "SHUTTING_DOWN"};
    if (strcmp(reason, "DEADLINE_EXCEEDED") == 0 || strcmp(reason, "TIMEOUT") == 0)
        return "timeout";
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
        if (strcmp(reason, rejected[i]) == 0)
            return "rejected";
    return "error";
}

/* genesis_requests_total{component,outcome,reason}: one counter, every way a request ends. */
static void render_requests(FILE *f, json_t *comps)
{
    header(f, "genesis_requests_total", "counter",
           "Requests routed to a component, by outcome (success, error, timeout, rejected) and "
           "reason (NONE for a success).");
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (id == NULL)
            continue;
        fputs("genesis_requests_total{component=\"", f);
        put_label(f, id);
        fprintf(f, "\",outcome=\"success\",reason=\"NONE\"} %llu\n",
                (unsigned long long)json_u64(c, "succeeded"));
        const char *reason;
        json_t *v;
        json_object_foreach(json_object_get(c, "failures_by_reason"), reason, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) <= 0)
                continue;
            fputs("genesis_requests_total{component=\"", f);
            put_label(f, id);
            fprintf(f, "\",outcome=\"%s\",reason=\"", outcome_of(reason));
            put_label(f, reason);
            fprintf(f, "\"} %llu\n", (unsigned long long)json_integer_value(v));
        }
    }
}

/* genesis_request_duration_seconds{component}: the coordinator's own histogram (admission to
 * outcome, all attempts), its log-linear buckets summed into the gateway's bounds. Only an
 * embedded gateway can read it. */
static void render_durations(FILE *f, json_t *comps, genesis_coordinator *co)
{
    header(f, "genesis_request_duration_seconds", "histogram",
           "Latency of requests measured by the coordinator (admission to outcome, all "
           "attempts), by component.");
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        uint64_t counts[GENESIS_LATENCY_BUCKETS], sum_us = 0;
        if (co == NULL || id == NULL ||
            genesis_coordinator_get_latency_buckets(co, id, counts, GENESIS_LATENCY_BUCKETS,
                                                    &sum_us) != GENESIS_OK)
            continue;
        uint64_t le[GW_LATENCY_BUCKETS] = {0}, total = 0;
        for (unsigned int b = 0; b < GENESIS_LATENCY_BUCKETS; b++) {
            total += counts[b];
            double upper_s = (double)genesis_latency_bucket_upper_us(b) / 1e6;
            for (int k = 0; k < GW_LATENCY_BUCKETS; k++)
                if (upper_s <= bucket_bounds[k] && b + 1 < GENESIS_LATENCY_BUCKETS) {
                    le[k] += counts[b]; /* per bound; made cumulative below */
                    break;
                }
        }
        uint64_t cumulative = 0;
        for (int k = 0; k < GW_LATENCY_BUCKETS; k++) {
            cumulative += le[k];
            fputs("genesis_request_duration_seconds_bucket{component=\"", f);
            put_label(f, id);
            fprintf(f, "\",le=\"%g\"} %llu\n", bucket_bounds[k], (unsigned long long)cumulative);
        }
        fputs("genesis_request_duration_seconds_bucket{component=\"", f);
        put_label(f, id);
        fprintf(f, "\",le=\"+Inf\"} %llu\n", (unsigned long long)total);
        fputs("genesis_request_duration_seconds_sum{component=\"", f);
        put_label(f, id);
        fprintf(f, "\"} %.6f\n", (double)sum_us / 1e6);
        fputs("genesis_request_duration_seconds_count{component=\"", f);
        put_label(f, id);
        fprintf(f, "\"} %llu\n", (unsigned long long)total);
    }
}

/* A real-valued gauge per component; negative values (not measured yet) are left out. */
static void component_gauge(FILE *f, json_t *comps, const char *name, const char *help,
                            const char *key)
{
    header(f, name, "gauge", help);
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        json_t *v = json_object_get(c, key);
        if (id == NULL || !json_is_number(v) || json_number_value(v) < 0)
            continue;
        fprintf(f, "%s{component=\"", name);
        put_label(f, id);
        fprintf(f, "\"} %g\n", json_number_value(v));
    }
}

static void render_coordinator(FILE *f, const gw_metrics_extra *x)
{
    json_t *root = NULL;
    if (x->status_json != NULL)
        root = json_loadb(x->status_json, x->status_len, 0, NULL);
    header(f, "genesis_up", "gauge", "1 when the coordinator answered the gateway's status query.");
    fprintf(f, "genesis_up %d\n", json_is_object(root) ? 1 : 0);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    const char *mode = json_string_value(json_object_get(root, "mode"));
    if (mode != NULL) {
        header(f, "genesis_mode", "gauge", "Degradation mode: 1 for the current one.");
        int known = 0;
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
            known |= strcmp(mode, modes[i]) == 0;
            fprintf(f, "genesis_mode{mode=\"%s\"} %d\n", modes[i], strcmp(mode, modes[i]) == 0);
        }
        if (!known) {
            fputs("genesis_mode{mode=\"", f);
            put_label(f, mode);
            fputs("\"} 1\n", f);
        }
    }
    json_t *uptime = json_object_get(root, "uptime_ms");
    if (json_is_integer(uptime)) {
        header(f, "genesis_uptime_seconds", "gauge", "Seconds since the coordinator started.");
        fprintf(f, "genesis_uptime_seconds %.3f\n", (double)json_integer_value(uptime) / 1000.0);
    }
    json_t *stats = json_object_get(root, "stats");
    const char *key;
    json_t *v;
    json_object_foreach(stats, key, v)
    {
        if (!json_is_integer(v))
            continue;
        char name[160];
        /* Gauges among the counters: the front door's connections and their cap. */
        bool gauge = strncmp(key, "front_door_connection", 21) == 0;
        snprintf(name, sizeof(name), "genesis_coordinator_%s%s", key, gauge ? "" : "_total");
        if (gauge)
            header(f, name, "gauge", "Front door connections now, and their cap.");
        else
            header(f, name, "counter", "Coordinator counter (status report stats).");
        fprintf(f, "%s %llu\n", name, (unsigned long long)json_u64(stats, key));
    }
    json_t *comps = json_object_get(root, "components");
    if (json_is_array(comps)) {
        render_requests(f, comps);
        render_durations(f, comps, x->coordinator);
        header(f, "genesis_component_up", "gauge", "1 when the component is healthy (UP).");
        size_t i;
        json_t *c;
        json_array_foreach(comps, i, c)
        {
            const char *id = json_string_value(json_object_get(c, "id"));
            const char *health = json_string_value(json_object_get(c, "health"));
            if (id == NULL)
                continue;
            fputs("genesis_component_up{component=\"", f);
            put_label(f, id);
            fprintf(f, "\"} %d\n", health != NULL && strcmp(health, "UP") == 0);
        }
        component_series(f, comps, "genesis_component_in_flight", "gauge",
                         "Requests being served by the component.", "in_flight");
        component_series(f, comps, "genesis_component_queued", "gauge",
                         "Requests waiting in the component's bulkhead queue.", "queued");
        component_series(f, comps, "genesis_component_instances", "gauge",
                         "Registered instances of the component.", "instances");
        component_series(f, comps, "genesis_component_requests_total", "counter",
                         "Requests routed to the component.", "requests");
        component_series(f, comps, "genesis_component_failures_total", "counter",
                         "Requests to the component that failed.", "failures");
        component_series(f, comps, "genesis_component_events_delivered_total", "counter",
                         "Events delivered to the in-process component.", "events_delivered");
        component_series(f, comps, "genesis_component_events_dropped_total", "counter",
                         "Events the in-process component lost to a full queue.", "events_dropped");
        component_gauge(f, comps, "genesis_component_failure_rate_percent",
                        "Failure rate (percent) over the component's outcome window, once it holds "
                        "its minimum calls.",
                        "failure_rate_pct");
        component_gauge(f, comps, "genesis_component_slow_call_rate_percent",
                        "Slow-call rate (percent) over the component's outcome window, once it "
                        "holds its minimum calls.",
                        "slow_call_rate_pct");
        component_series(f, comps, "genesis_component_slow_calls_total", "counter",
                         "Attempts slower than the component's slow-call duration.", "slow_calls");
        component_series(f, comps, "genesis_component_concurrency_limit", "gauge",
                         "In-flight limit in force (adaptive, or the fixed one).",
                         "concurrency_limit");
        component_series(f, comps, "genesis_component_hedges_total", "counter",
                         "Hedged second attempts started.", "hedges");
        int have_breaker = 0;
        json_array_foreach(comps, i, c)
        {
            const char *id = json_string_value(json_object_get(c, "id"));
            const char *state = json_string_value(json_object_get(c, "breaker"));
            if (id == NULL || state == NULL)
                continue;
            if (!have_breaker)
                header(f, "genesis_component_breaker_state", "gauge",
                       "Circuit breaker state of the component: 1 for the current one.");
            have_breaker = 1;
            for (size_t s = 0; s < sizeof(breaker_states) / sizeof(breaker_states[0]); s++) {
                fputs("genesis_component_breaker_state{component=\"", f);
                put_label(f, id);
                fprintf(f, "\",state=\"%s\"} %d\n", breaker_states[s],
                        strcmp(state, breaker_states[s]) == 0);
            }
        }
    }
    json_decref(root);
}

int gw_metrics_render(const gw_metrics *m, const gw_metrics_extra *x, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = open_memstream(out, len);
    if (f == NULL)
        return -1;
    header(f, "genesis_build_info", "gauge",
           "Always 1; the labels name the Genesis library this process runs.");
    fputs("genesis_build_info{version=\"", f);
    put_label(f, genesis_version_string());
    fputs("\"} 1\n", f);
    gw_process_metrics_render(f);
    render_gateway(f, m, x);
    render_coordinator(f, x);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
