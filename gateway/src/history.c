/* Per-component ring buffers of the last minutes (see history.h). */
#define _POSIX_C_SOURCE 200809L
#include "history.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>
#include <jansson.h>

#define NO_LATENCY UINT32_MAX /* no request finished in that interval */

typedef struct hist_comp {
    char id[129];
    uint64_t since_tick; /* first interval it has figures for */
    uint64_t prev_requests;
    uint64_t prev_fail[GW_HISTORY_REASONS];
    uint64_t prev_buckets[GW_HISTORY_BUCKETS];
    int have_buckets;
    uint32_t reasons_seen; /* bit r: reason r failed at least once in the window */
    uint32_t requests[GW_HISTORY_SLOTS];
    uint32_t fail[GW_HISTORY_SLOTS][GW_HISTORY_REASONS];
    uint32_t p50_us[GW_HISTORY_SLOTS], p99_us[GW_HISTORY_SLOTS];
} hist_comp;

struct gw_history {
    pthread_mutex_t lock;
    uint32_t interval_ms;
    uint64_t ticks; /* samples taken; sample t's interval lives in slot t % GW_HISTORY_SLOTS */
    uint64_t end_wall_ms;
    hist_comp *comps[GW_HISTORY_COMPONENTS];
    char *policies;
};

gw_history *gw_history_new(uint32_t interval_ms)
{
    gw_history *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->interval_ms = interval_ms;
    return h;
}

void gw_history_free(gw_history *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < GW_HISTORY_COMPONENTS; i++)
        free(h->comps[i]);
    free(h->policies);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

uint64_t gw_history_quantile(const uint64_t *counts, double q)
{
    uint64_t total = 0;
    for (unsigned int b = 0; b < GW_HISTORY_BUCKETS; b++)
        total += counts[b];
    if (total == 0)
        return 0;
    double rank = q * (double)total;
    uint64_t seen = 0;
    for (unsigned int b = 0; b < GW_HISTORY_BUCKETS; b++) {
        seen += counts[b];
        if ((double)seen >= rank && counts[b] > 0)
            return genesis_latency_bucket_upper_us(b);
    }
    return genesis_latency_bucket_upper_us(GW_HISTORY_BUCKETS - 1);
}

static uint32_t clamp32(uint64_t v)
{
    return v >= NO_LATENCY ? NO_LATENCY - 1 : (uint32_t)v;
}

/* A counter's increase; a smaller value means the component was registered again. */
static uint64_t delta(uint64_t now, uint64_t before)
{
    return now >= before ? now - before : now;
}

static void record(hist_comp *c, size_t slot, const gw_history_point *p)
{
    c->requests[slot] = clamp32(delta(p->requests, c->prev_requests));
    c->prev_requests = p->requests;
    for (unsigned int r = 0; r < GW_HISTORY_REASONS; r++) {
        uint64_t d = delta(p->failures_by_reason[r], c->prev_fail[r]);
        c->fail[slot][r] = clamp32(d);
        if (d > 0)
            c->reasons_seen |= 1u << r;
        c->prev_fail[r] = p->failures_by_reason[r];
    }
    c->p50_us[slot] = c->p99_us[slot] = NO_LATENCY;
    if (p->latency_buckets == NULL) {
        c->have_buckets = 0;
        return;
    }
    if (c->have_buckets) {
        uint64_t d[GW_HISTORY_BUCKETS];
        uint64_t total = 0;
        for (unsigned int b = 0; b < GW_HISTORY_BUCKETS; b++)
            total += d[b] = delta(p->latency_buckets[b], c->prev_buckets[b]);
        if (total > 0) {
            c->p50_us[slot] = clamp32(gw_history_quantile(d, 0.50));
            c->p99_us[slot] = clamp32(gw_history_quantile(d, 0.99));
        }
    }
    memcpy(c->prev_buckets, p->latency_buckets, sizeof(c->prev_buckets));
    c->have_buckets = 1;
}

static void baseline(hist_comp *c, const gw_history_point *p)
{
    c->prev_requests = p->requests;
    memcpy(c->prev_fail, p->failures_by_reason, sizeof(c->prev_fail));
    if (p->latency_buckets != NULL)
        memcpy(c->prev_buckets, p->latency_buckets, sizeof(c->prev_buckets));
    c->have_buckets = p->latency_buckets != NULL;
}

void gw_history_add(gw_history *h, uint64_t wall_ms, const gw_history_point *points, size_t n)
{
    pthread_mutex_lock(&h->lock);
    uint64_t tick = h->ticks;
    size_t slot = (size_t)(tick % GW_HISTORY_SLOTS);
    char present[GW_HISTORY_COMPONENTS] = {0};
    for (size_t i = 0; i < n; i++) {
        const gw_history_point *p = &points[i];
        if (strlen(p->id) >= sizeof(((hist_comp *)0)->id))
            continue;
        size_t k, free_k = GW_HISTORY_COMPONENTS;
        for (k = 0; k < GW_HISTORY_COMPONENTS; k++) {
            if (h->comps[k] != NULL && strcmp(h->comps[k]->id, p->id) == 0)
                break;
            if (h->comps[k] == NULL && free_k == GW_HISTORY_COMPONENTS)
                free_k = k;
        }
        if (k < GW_HISTORY_COMPONENTS) {
            record(h->comps[k], slot, p);
        } else if (free_k < GW_HISTORY_COMPONENTS &&
                   (h->comps[free_k] = calloc(1, sizeof(hist_comp))) != NULL) {
            k = free_k;
            hist_comp *c = h->comps[k];
            strcpy(c->id, p->id);
            c->since_tick = tick + 1; /* this sample is its baseline */
            baseline(c, p);
        } else {
            continue; /* over the cap */
        }
        present[k] = 1;
    }
    for (size_t k = 0; k < GW_HISTORY_COMPONENTS; k++)
        if (h->comps[k] != NULL && !present[k]) {
            free(h->comps[k]);
            h->comps[k] = NULL;
        }
    h->ticks = tick + 1;
    h->end_wall_ms = wall_ms;
    pthread_mutex_unlock(&h->lock);
}

void gw_history_set_policies(gw_history *h, const char *json)
{
    char *copy = json != NULL ? strdup(json) : NULL;
    pthread_mutex_lock(&h->lock);
    free(h->policies);
    h->policies = copy;
    pthread_mutex_unlock(&h->lock);
}

static json_t *series(const hist_comp *c, uint64_t first, uint64_t end, const uint32_t *values,
                      size_t stride, int latency)
{
    json_t *a = json_array();
    for (uint64_t t = first; a != NULL && t < end; t++) {
        /* Interval t sits in slot t % SLOTS; before the component's first it had none. */
        uint32_t v = t >= c->since_tick ? values[(t % GW_HISTORY_SLOTS) * stride] : 0;
        if (latency && (t < c->since_tick || v == NO_LATENCY))
            json_array_append_new(a, json_null());
        else
            json_array_append_new(a, json_integer((json_int_t)v));
    }
    return a;
}

char *gw_history_json(gw_history *h, size_t *len)
{
    pthread_mutex_lock(&h->lock);
    /* Tick t (stored in slot t % SLOTS) holds the interval that ended with sample t; tick 0
     * is only a baseline. */
    uint64_t end = h->ticks;
    uint64_t first = end > GW_HISTORY_SLOTS ? end - GW_HISTORY_SLOTS : 1;
    if (end < first)
        end = first;
    json_t *doc = json_pack("{s:I, s:I, s:I, s:I}", "interval_ms", (json_int_t)h->interval_ms,
                            "slots", (json_int_t)GW_HISTORY_SLOTS, "samples",
                            (json_int_t)(end - first), "end_ms", (json_int_t)h->end_wall_ms);
    json_t *comps = json_array();
    for (size_t k = 0; doc != NULL && comps != NULL && k < GW_HISTORY_COMPONENTS; k++) {
        const hist_comp *c = h->comps[k];
        if (c == NULL)
            continue;
        json_t *errors = json_object();
        for (unsigned int r = 0; errors != NULL && r < GW_HISTORY_REASONS; r++)
            if (c->reasons_seen & (1u << r))
                json_object_set_new(errors, genesis_reason_name((int)r),
                                    series(c, first, end, &c->fail[0][r], GW_HISTORY_REASONS, 0));
        json_array_append_new(comps,
                              json_pack("{s:s, s:o, s:o, s:o, s:o}", "id", c->id, "requests",
                                        series(c, first, end, c->requests, 1, 0), "errors", errors,
                                        "p50_us", series(c, first, end, c->p50_us, 1, 1), "p99_us",
                                        series(c, first, end, c->p99_us, 1, 1)));
    }
    pthread_mutex_unlock(&h->lock);
    char *text = NULL;
    if (doc != NULL && comps != NULL) {
        json_object_set_new(doc, "components", comps);
        text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    } else {
        json_decref(comps);
    }
    json_decref(doc);
    *len = text != NULL ? strlen(text) : 0;
    return text;
}

char *gw_history_policies_json(gw_history *h, size_t *len)
{
    pthread_mutex_lock(&h->lock);
    char *text = strdup(h->policies != NULL ? h->policies : "{\"policies\":{}}");
    pthread_mutex_unlock(&h->lock);
    *len = text != NULL ? strlen(text) : 0;
    return text;
}
