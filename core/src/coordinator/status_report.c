/* The status report: built from the coordinator's counters and registry as a protobuf
 * StatusReport (the front door's reply; wire/status_json.c renders it as JSON). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "checkpoint/checkpoint.h"
#include "cluster/cluster.h"
#include "coordinator/coordinator_impl.h"
#include "genesis/version.h"
#include "coordinator/recovery_hooks.h"

#define MAX_URLS_SHOWN 64u

static int by_id(const void *a, const void *b)
{
    const gn_component *x = *(const gn_component *const *)a;
    const gn_component *y = *(const gn_component *const *)b;
    return strcmp(x->id, y->id);
}

/* The reasons with a non-zero count, as ReasonCount entries (names are static strings). */
static void fill_reasons(gn_component *comp, Genesis__V1__ComponentStatus *cs)
{
    size_t n = 0;
    for (unsigned int r = 0; r < GENESIS_REASON_SLOTS; r++)
        n += atomic_load(&comp->n_by_reason[r]) > 0;
    if (n == 0)
        return;
    cs->failures_by_reason = calloc(n, sizeof(*cs->failures_by_reason));
    Genesis__V1__ReasonCount *items = calloc(n, sizeof(*items));
    if (cs->failures_by_reason == NULL || items == NULL) {
        free(cs->failures_by_reason);
        free(items);
        cs->failures_by_reason = NULL;
        return;
    }
    for (unsigned int r = 0; r < GENESIS_REASON_SLOTS && cs->n_failures_by_reason < n; r++) {
        uint64_t count = atomic_load(&comp->n_by_reason[r]);
        if (count == 0)
            continue;
        Genesis__V1__ReasonCount *rc = &items[cs->n_failures_by_reason];
        genesis__v1__reason_count__init(rc);
        rc->reason = (char *)genesis_reason_name((int)r);
        rc->count = count;
        cs->failures_by_reason[cs->n_failures_by_reason++] = rc;
    }
}

static void fill_resilience(gn_component *comp, Genesis__V1__ComponentStatus *cs)
{
    genesis_component_stats s = {.version = GENESIS_COMPONENT_STATS_VERSION};
    gn_component_stats_fill(comp, &s);
    cs->health = (char *)(s.healthy ? "UP" : "DOWN");
    cs->ready = s.ready != 0;
    cs->breaker = (char *)genesis_breaker_state_name(s.breaker_state);
    cs->in_flight = s.in_flight;
    cs->queued = s.queued;
    cs->succeeded = s.succeeded;
    cs->attempts = s.attempts;
    cs->retries = s.retries;
    cs->fail_fast = s.fail_fast;
    cs->breaker_opens = s.breaker_opens;
    cs->breaker_transitions = s.breaker_transitions;
    cs->budget_denied = s.budget_denied;
    cs->latency_p50_us = s.latency_p50_us;
    cs->latency_p90_us = s.latency_p90_us;
    cs->latency_p99_us = s.latency_p99_us;
    cs->latency_max_us = s.latency_max_us;
    cs->latency_count = s.latency_count;
    cs->failure_rate_pct = s.failure_rate_pct;
    cs->slow_call_rate_pct = s.slow_call_rate_pct;
    cs->slow_calls = s.slow_calls;
    cs->concurrency_limit = s.concurrency_limit;
    cs->hedges = s.hedges;
    fill_reasons(comp, cs);
}

int gn_status_report_build(genesis_coordinator *co, Genesis__V1__StatusReport *r)
{
    genesis__v1__status_report__init(r);
    /* First: every transition counted here already took effect in what is read below. */
    r->state_version = atomic_load(&co->state_version);
    r->state_epoch = co->instance_id;
    pthread_mutex_lock(&co->mode_lock);
    r->mode = (char *)genesis_mode_name(co->mode.current);
    r->mode_forced = co->mode.forced != GENESIS_MODE_AUTO;
    pthread_mutex_unlock(&co->mode_lock);
    r->mode_changes = atomic_load(&co->n_mode_changes);
    r->retries = atomic_load(&co->n_retries);
    r->version = (char *)GENESIS_VERSION_STRING;
    r->uptime_ms = (uint64_t)(gn_now_ms() - co->started_ms);
    r->requests = atomic_load(&co->n_requests);
    r->succeeded = atomic_load(&co->n_succeeded);
    r->failed = atomic_load(&co->n_failed);
    r->timed_out = atomic_load(&co->n_timed_out);
    r->rejected = atomic_load(&co->n_rejected);
    r->listener_restarts = atomic_load(&co->n_listener_restarts);
    gn_front_door_connections(co->front_door, &r->front_door_connections,
                              &r->front_door_connection_cap);
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
        }
        fill_resilience(comp, cs);
        if (strcmp(cs->health, "UP") != 0)
            r->unhealthy++;
        gn_checkpoint_component_status(co->checkpointer, comp->id, cs);
        r->components[r->n_components++] = cs;
        gn_component_release(comp);
    }
    free(comps);
    gn_checkpoint_report_status(co->checkpointer, r);
    gn_children_status(co, r);
    if (co->cluster != NULL) {
        json_t *cluster = gn_cluster_status(co->cluster);
        r->cluster_json = cluster != NULL ? json_dumps(cluster, JSON_COMPACT) : NULL;
        json_decref(cluster);
    }
    return GENESIS_OK;
}

void gn_status_report_clear(Genesis__V1__StatusReport *r)
{
    gn_checkpoint_status_clear(r);
    gn_children_status_clear(r);
    if (r->cluster_json != NULL && r->cluster_json != protobuf_c_empty_string)
        free(r->cluster_json);
    r->cluster_json = NULL;
    for (size_t i = 0; i < r->n_components; i++) {
        Genesis__V1__ComponentStatus *cs = r->components[i];
        for (size_t u = 0; u < cs->n_urls; u++)
            free(cs->urls[u]);
        free(cs->urls);
        if (cs->n_failures_by_reason > 0)
            free(cs->failures_by_reason[0]); /* one array of items */
        free(cs->failures_by_reason);
        free(cs->id);
        free(cs);
    }
    free(r->components);
    r->components = NULL;
    r->n_components = 0;
}
