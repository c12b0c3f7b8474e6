/* The sampler thread behind GET /v1/status/history and /v1/status/policies: every
 * history_interval_ms it takes the coordinator's status report (and, embedded, each
 * component's latency buckets, for percentiles of that interval alone) into the history, and
 * the effective policies (the default and each component's) into their document. */
#define _POSIX_C_SOURCE 200809L
#include "history_sampler.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "gw_internal.h"

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int reason_index(const char *name)
{
    for (int r = 0; r < GW_HISTORY_REASONS; r++)
        if (strcmp(genesis_reason_name(r), name) == 0)
            return r;
    return -1;
}

/* The policy document of id ("*" = the default), or NULL. */
static json_t *policy_of(gw_gateway *gw, const char *id)
{
    const char *args[1] = {id};
    genesis_result *res = NULL;
    int rv = gw->cfg.coordinator != NULL
                 ? genesis_coordinator_admin(gw->cfg.coordinator, "policy", args, 1, &res)
                 : genesis_client_admin(gw->client, "policy", args, 1, 2000, &res);
    json_t *doc = NULL;
    if (rv == GENESIS_OK && res != NULL) {
        size_t n = 0;
        const char *text = genesis_result_data(res, &n);
        doc = json_loadb(text, n, 0, NULL);
    }
    genesis_result_free(res);
    return doc;
}

static void sample(gw_gateway *gw, uint64_t (*buckets)[GW_HISTORY_BUCKETS],
                   gw_history_point *points)
{
    genesis_result *res = NULL;
    if (genesis_client_status(gw->client, 2000, &res) != GENESIS_OK || res == NULL) {
        genesis_result_free(res);
        return; /* the coordinator did not answer: no sample (the chart shows the gap) */
    }
    size_t n = 0;
    const char *text = genesis_result_data(res, &n);
    json_t *doc = json_loadb(text, n, 0, NULL);
    genesis_result_free(res);
    json_t *comps = json_object_get(doc, "components");
    json_t *policies = json_object();
    json_t *def = policy_of(gw, "*");
    if (policies != NULL && def != NULL)
        json_object_set_new(policies, "*", def);
    else
        json_decref(def);
    size_t count = 0, i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (id == NULL || count >= GW_HISTORY_COMPONENTS)
            continue;
        gw_history_point *p = &points[count];
        memset(p, 0, sizeof(*p));
        p->id = id;
        json_int_t req = json_integer_value(json_object_get(c, "requests"));
        p->requests = req > 0 ? (uint64_t)req : 0;
        const char *reason;
        json_t *v;
        json_object_foreach(json_object_get(c, "failures_by_reason"), reason, v)
        {
            int r = reason_index(reason);
            if (r >= 0 && json_integer_value(v) > 0)
                p->failures_by_reason[r] = (uint64_t)json_integer_value(v);
        }
        if (gw->cfg.coordinator != NULL &&
            genesis_coordinator_get_latency_buckets(gw->cfg.coordinator, id, buckets[count],
                                                    GW_HISTORY_BUCKETS, NULL) == GENESIS_OK)
            p->latency_buckets = buckets[count];
        json_t *pol = policies != NULL ? policy_of(gw, id) : NULL;
        if (pol != NULL)
            json_object_set_new(policies, id, pol);
        count++;
    }
    gw_history_add(gw->history, wall_ms(), points, count);
    json_t *wrapped = json_pack("{s:o}", "policies", policies != NULL ? policies : json_object());
    char *ptext = wrapped != NULL ? json_dumps(wrapped, JSON_COMPACT) : NULL;
    if (ptext != NULL)
        gw_history_set_policies(gw->history, ptext);
    free(ptext);
    json_decref(wrapped);
    json_decref(doc);
}

static void *sampler_main(void *arg)
{
    gw_gateway *gw = arg;
    uint64_t(*buckets)[GW_HISTORY_BUCKETS] = calloc(GW_HISTORY_COMPONENTS, sizeof(*buckets));
    gw_history_point *points = calloc(GW_HISTORY_COMPONENTS, sizeof(*points));
    pthread_mutex_lock(&gw->sampler_lock);
    while (!gw->sampler_stop && buckets != NULL && points != NULL) {
        pthread_mutex_unlock(&gw->sampler_lock);
        sample(gw, buckets, points);
        pthread_mutex_lock(&gw->sampler_lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)gw->cfg.history_interval_ms * 1000000u;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        while (!gw->sampler_stop &&
               pthread_cond_timedwait(&gw->sampler_cv, &gw->sampler_lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&gw->sampler_lock);
    free(buckets);
    free(points);
    return NULL;
}

int gw_sampler_start(gw_gateway *gw)
{
    if (gw->history == NULL)
        return 0;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&gw->sampler_cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&gw->sampler_lock, NULL);
    gw->sampler_stop = false;
    if (gw_thread_start(&gw->sampler, sampler_main, gw, "gw:history") != 0) {
        pthread_cond_destroy(&gw->sampler_cv);
        pthread_mutex_destroy(&gw->sampler_lock);
        return -1;
    }
    gw->sampler_started = true;
    return 0;
}

void gw_sampler_stop(gw_gateway *gw)
{
    if (!gw->sampler_started)
        return;
    pthread_mutex_lock(&gw->sampler_lock);
    gw->sampler_stop = true;
    pthread_cond_signal(&gw->sampler_cv);
    pthread_mutex_unlock(&gw->sampler_lock);
    pthread_join(gw->sampler, NULL);
    pthread_cond_destroy(&gw->sampler_cv);
    pthread_mutex_destroy(&gw->sampler_lock);
    gw->sampler_started = false;
}
