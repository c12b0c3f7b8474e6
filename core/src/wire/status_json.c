/* Rendering of a protobuf StatusReport as the JSON document of genesis_coordinator_status and
 * genesis_client_status: shared by the coordinator, which builds the report, and the client,
 * which receives it from the front door. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/common.h"
#include "base/objects.h"
#include "wire/checkpoint_json.h"
#include "wire/status_json.h"

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

genesis_result *gn_status_report_json(const Genesis__V1__StatusReport *r)
{
    json_t *doc = json_object();
    json_t *stats = json_object();
    json_t *comps = json_array();
    if (doc == NULL || stats == NULL || comps == NULL) {
        json_decref(doc);
        json_decref(stats);
        json_decref(comps);
        return NULL;
    }
    json_object_set_new(doc, "mode", json_string(str(r->mode)));
    json_object_set_new(doc, "version", json_string(str(r->version)));
    json_object_set_new(doc, "uptime_ms", json_integer((json_int_t)r->uptime_ms));
    json_object_set_new(doc, "front_door_url", json_string(str(r->front_door_url)));
    json_object_set_new(doc, "event_bus_url", json_string(str(r->event_bus_url)));
#define COUNTER(obj, name, value) json_object_set_new(obj, name, json_integer((json_int_t)(value)))
    COUNTER(stats, "requests", r->requests);
    COUNTER(stats, "succeeded", r->succeeded);
    COUNTER(stats, "failed", r->failed);
    COUNTER(stats, "timed_out", r->timed_out);
    COUNTER(stats, "rejected", r->rejected);
    COUNTER(stats, "events_emitted", r->events_emitted);
    COUNTER(stats, "events_delivered", r->events_delivered);
    COUNTER(stats, "events_dropped", r->events_dropped);
    COUNTER(stats, "events_published", r->events_published);
    COUNTER(stats, "malformed", r->malformed);
    COUNTER(stats, "listener_restarts", r->listener_restarts);
    COUNTER(stats, "front_door_connections", r->front_door_connections);
    COUNTER(stats, "front_door_connection_cap", r->front_door_connection_cap);
    COUNTER(stats, "retries", r->retries);
    COUNTER(stats, "mode_changes", r->mode_changes);
    json_object_set_new(doc, "stats", stats);
    json_object_set_new(doc, "mode_forced", json_boolean(r->mode_forced));
    COUNTER(doc, "state_version", r->state_version);
    json_object_set_new(doc, "state_epoch", json_string(str(r->state_epoch)));
    COUNTER(doc, "unhealthy", r->unhealthy);
    for (size_t i = 0; i < r->n_components; i++) {
        const Genesis__V1__ComponentStatus *cs = r->components[i];
        json_t *c = json_object();
        json_t *urls = json_array();
        if (c == NULL || urls == NULL) {
            json_decref(c);
            json_decref(urls);
            continue;
        }
        json_object_set_new(c, "id", json_string(str(cs->id)));
        json_object_set_new(c, "remote", json_boolean(cs->remote));
        json_object_set_new(c, "health", json_string(str(cs->health)));
        COUNTER(c, "in_flight", cs->in_flight);
        COUNTER(c, "queued", cs->queued);
        COUNTER(c, "requests", cs->requests);
        COUNTER(c, "failures", cs->failures);
        COUNTER(c, "events_delivered", cs->events_delivered);
        COUNTER(c, "events_dropped", cs->events_dropped);
        COUNTER(c, "instances", cs->instances);
        json_object_set_new(c, "ready", json_boolean(cs->ready));
        json_object_set_new(c, "breaker", json_string(str(cs->breaker)));
        COUNTER(c, "succeeded", cs->succeeded);
        COUNTER(c, "attempts", cs->attempts);
        COUNTER(c, "retries", cs->retries);
        COUNTER(c, "fail_fast", cs->fail_fast);
        COUNTER(c, "breaker_opens", cs->breaker_opens);
        COUNTER(c, "breaker_transitions", cs->breaker_transitions);
        COUNTER(c, "budget_denied", cs->budget_denied);
        json_object_set_new(c, "failure_rate_pct", json_real(cs->failure_rate_pct));
        json_object_set_new(c, "slow_call_rate_pct", json_real(cs->slow_call_rate_pct));
        COUNTER(c, "slow_calls", cs->slow_calls);
        COUNTER(c, "concurrency_limit", cs->concurrency_limit);
        COUNTER(c, "hedges", cs->hedges);
        json_t *lat = json_object(), *reasons = json_object();
        if (lat != NULL) {
            COUNTER(lat, "count", cs->latency_count);
            COUNTER(lat, "p50", cs->latency_p50_us);
            COUNTER(lat, "p90", cs->latency_p90_us);
            COUNTER(lat, "p99", cs->latency_p99_us);
            COUNTER(lat, "max", cs->latency_max_us);
            json_object_set_new(c, "latency_us", lat);
        }
        if (reasons != NULL) {
            for (size_t k = 0; k < cs->n_failures_by_reason; k++)
                COUNTER(reasons, str(cs->failures_by_reason[k]->reason),
                        cs->failures_by_reason[k]->count);
            json_object_set_new(c, "failures_by_reason", reasons);
        }
        for (size_t u = 0; u < cs->n_urls; u++)
            json_array_append_new(urls, json_string(str(cs->urls[u])));
        json_object_set_new(c, "urls", urls);
        gn_checkpoint_json_component(cs, c);
        json_array_append_new(comps, c);
    }
#undef COUNTER
    json_object_set_new(doc, "components", comps);
    gn_checkpoint_json_report(r, doc);
    /* Cluster mode: the node's view, already JSON (docs/cluster.md). */
    if (r->cluster_json != NULL && r->cluster_json[0] != '\0') {
        json_t *cluster = json_loads(r->cluster_json, 0, NULL);
        if (cluster != NULL)
            json_object_set_new(doc, "cluster", cluster);
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (text == NULL)
        return NULL;
    genesis_result *res = gn_result_new(GENESIS_OK, GENESIS_REASON_NONE, NULL, text, strlen(text),
                                        "application/json");
    free(text);
    return res;
}
