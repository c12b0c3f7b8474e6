/* The status report: built from the coordinator's counters and registry as a protobuf
 * StatusReport (the front door's reply) and rendered as JSON (genesis_*_status). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checkpoint.h"
#include "checkpoint_json.h"
#include "coordinator_impl.h"
#include "genesis/version.h"
#include "recovery_hooks.h"

#define MAX_URLS_SHOWN 64u

static int by_id(const void *a, const void *b)
{
    const gn_component *x = *(const gn_component *const *)a;
    const gn_component *y = *(const gn_component *const *)b;
    return strcmp(x->id, y->id);
}

int gn_status_report_build(genesis_coordinator *co, Genesis__V1__StatusReport *r)
{
    genesis__v1__status_report__init(r);
    r->mode = (char *)"NORMAL";
    r->version = (char *)GENESIS_VERSION_STRING;
    r->uptime_ms = (uint64_t)(gn_now_ms() - co->started_ms);
    r->requests = atomic_load(&co->n_requests);
    r->succeeded = atomic_load(&co->n_succeeded);
    r->failed = atomic_load(&co->n_failed);
    r->timed_out = atomic_load(&co->n_timed_out);
    r->rejected = atomic_load(&co->n_rejected);
    r->listener_restarts = atomic_load(&co->n_listener_restarts);
    r->events_emitted = atomic_load(&co->n_events_emitted);
    r->events_delivered = atomic_load(&co->n_events_delivered);
    r->events_dropped = atomic_load(&co->n_events_dropped);
    r->events_published = atomic_load(&co->n_events_published);
    r->malformed = atomic_load(&co->n_malformed);
    r->front_door_url = co->front_door_url;
    r->event_bus_url = co->event_bus_url;

    size_t cap = gn_registry_count(co->registry) + 16;
    gn_component **comps = malloc(cap * sizeof(*comps));
    if (comps == NULL)
        return GENESIS_RESOURCE_EXHAUSTED;
    size_t n = gn_registry_snapshot(co->registry, (void **)comps, cap);
    qsort(comps, n, sizeof(*comps), by_id);
    r->components = calloc(n > 0 ? n : 1, sizeof(*r->components));
    if (r->components == NULL) {
        for (size_t i = 0; i < n; i++)
            gn_component_release(comps[i]);
        free(comps);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    for (size_t i = 0; i < n; i++) {
        gn_component *comp = comps[i];
        Genesis__V1__ComponentStatus *cs = malloc(sizeof(*cs));
        if (cs == NULL) {
            gn_component_release(comp);
            continue;
        }
        genesis__v1__component_status__init(cs);
        cs->id = gn_strdup(comp->id);
        cs->remote = comp->kind == GN_REMOTE;
        cs->requests = atomic_load(&comp->n_requests);
        cs->failures = atomic_load(&comp->n_failures);
        cs->events_delivered = atomic_load(&comp->n_events_delivered);
        cs->events_dropped = atomic_load(&comp->n_events_dropped);
        if (comp->kind == GN_REMOTE) {
            cs->urls = calloc(MAX_URLS_SHOWN, sizeof(*cs->urls));
            if (cs->urls != NULL)
                cs->n_urls = gn_remote_describe(comp, cs->urls, MAX_URLS_SHOWN);
            cs->instances = (uint32_t)cs->n_urls;
            cs->in_flight = gn_remote_in_flight(comp);
            cs->health = (char *)(cs->instances > 0 ? "UP" : "DOWN");
        } else {
            unsigned int queued = 0, running = 0;
            gn_lane_counts(&comp->requests, &queued, &running);
            cs->in_flight = running;
            cs->queued = queued;
            cs->health = (char *)"UP";
        }
        gn_checkpoint_component_status(co, comp->id, cs);
        r->components[r->n_components++] = cs;
        gn_component_release(comp);
    }
    free(comps);
    gn_checkpoint_report_status(co, r);
    gn_children_status(co, r);
    return GENESIS_OK;
}

void gn_status_report_clear(Genesis__V1__StatusReport *r)
{
    gn_checkpoint_status_clear(r);
    gn_children_status_clear(r);
    for (size_t i = 0; i < r->n_components; i++) {
        Genesis__V1__ComponentStatus *cs = r->components[i];
        for (size_t u = 0; u < cs->n_urls; u++)
            free(cs->urls[u]);
        free(cs->urls);
        free(cs->id);
        free(cs);
    }
    free(r->components);
    r->components = NULL;
    r->n_components = 0;
}

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
    json_object_set_new(doc, "stats", stats);
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
        for (size_t u = 0; u < cs->n_urls; u++)
            json_array_append_new(urls, json_string(str(cs->urls[u])));
        json_object_set_new(c, "urls", urls);
        gn_checkpoint_json_component(cs, c);
        json_array_append_new(comps, c);
    }
#undef COUNTER
    json_object_set_new(doc, "components", comps);
    gn_checkpoint_json_report(r, doc);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (text == NULL)
        return NULL;
    genesis_result *res = gn_result_new(GENESIS_OK, GENESIS_REASON_NONE, NULL, text, strlen(text),
                                        "application/json");
    free(text);
    return res;
}
