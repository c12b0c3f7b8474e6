/* Node leases in a KV bucket with a TTL (node_lease.h). */
#include "cluster/node_lease.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/nats_util.h"

#define KEY_PREFIX    "n."
#define CLAIM_POLL_MS 100

enum { LEASE_HELD, LEASE_UNREACHABLE, LEASE_LOST };

struct gn_node_lease {
    natsConnection *nc; /* borrowed */
    kvStore *kv;
    gn_logger log;
    char key[80];
    char id[72];
    char host[128];
    uint32_t ttl_ms;
    int64_t started_ms;

    pthread_mutex_t renew_lock; /* one renewal at a time (thread and set_endpoints) */
    pthread_mutex_t lock;       /* guards everything below */
    pthread_cond_t cv;
    bool stopping;
    bool thread_started;
    pthread_t thread;
    uint64_t revision; /* of our last write */
    int state;
    char front_door[256];
    char event_bus[256];
    json_t *nodes; /* last view of every node */
    int64_t nodes_at_ms;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The value other nodes read: who holds the id and where it listens. */
static char *lease_value(gn_node_lease *l)
{
    pthread_mutex_lock(&l->lock);
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "id", l->id, "front_door",
                          l->front_door, "event_bus", l->event_bus, "host", l->host, "pid",
                          (int)getpid(), "started_ms", (json_int_t)l->started_ms);
    pthread_mutex_unlock(&l->lock);
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    return text;
}

/* Whether a lease entry was written by this very process (pid, host and start time). */
static bool is_own(gn_node_lease *l, kvEntry *e)
{
    json_t *v = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
    const char *host = json_string_value(json_object_get(v, "host"));
    bool own = json_integer_value(json_object_get(v, "pid")) == (json_int_t)getpid() &&
               json_integer_value(json_object_get(v, "started_ms")) == l->started_ms &&
               host != NULL && strcmp(host, l->host) == 0;
    json_decref(v);
    return own;
}

/* "pid 123 on host h, front door tcp://..., renewed 40 ms ago" from a lease value. */
static void describe_holder(kvEntry *e, char *buf, size_t size)
{
    json_t *v = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
    int64_t age = gn_wall_ms() - kvEntry_Created(e) / 1000000;
    const char *host = json_string_value(json_object_get(v, "host"));
    const char *fd = json_string_value(json_object_get(v, "front_door"));
    snprintf(buf, size, "pid %lld on host %s, front door %s, lease renewed %lld ms ago",
             (long long)json_integer_value(json_object_get(v, "pid")), host ? host : "?",
             fd != NULL && fd[0] != '\0' ? fd : "(not listening yet)", (long long)age);
    json_decref(v);
}

/* Read every node's entry into l->nodes. */
static void refresh_nodes(gn_node_lease *l)
{
    kvKeysList keys = {0};
    /* Bounded by a renewal period: a view that could not be read now is read next time. */
    kvWatchOptions wo = gn_kv_watch_bounded(l->ttl_ms / 3);
    natsStatus ns = kvStore_Keys(&keys, l->kv, &wo);
    if (ns != NATS_OK && ns != NATS_NOT_FOUND)
        return;
    gn_kv_keys_unique(&keys);
    json_t *nodes = json_array();
    int64_t now = gn_wall_ms();
    for (int k = 0; k < keys.Count && nodes != NULL; k++) {
        char id[72];
        kvEntry *e = NULL;
        if (!gn_kv_key_id(id, sizeof(id), KEY_PREFIX, keys.Keys[k]) ||
            kvStore_Get(&e, l->kv, keys.Keys[k]) != NATS_OK)
            continue;
        json_t *v = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
        if (json_is_object(v)) {
            json_object_set_new(v, "id", json_string(id));
            json_object_set_new(v, "last_seen_ms",
                                json_integer((json_int_t)(now - kvEntry_Created(e) / 1000000)));
            json_object_set_new(v, "self", json_boolean(strcmp(id, l->id) == 0));
            json_object_del(v, "started_ms");
            json_array_append(nodes, v);
        }
        json_decref(v);
        kvEntry_Destroy(e);
    }
    if (ns == NATS_OK)
        kvKeysList_Destroy(&keys);
    pthread_mutex_lock(&l->lock);
    json_decref(l->nodes);
    l->nodes = nodes;
    l->nodes_at_ms = gn_now_ms();
    pthread_mutex_unlock(&l->lock);
}

static void set_state(gn_node_lease *l, int state, const char *why)
{
    pthread_mutex_lock(&l->lock);
    int was = l->state;
    l->state = state;
    pthread_mutex_unlock(&l->lock);
    if (was == state)
        return;
    if (state == LEASE_HELD)
        gn_log(&l->log, GENESIS_LOG_INFO, "cluster: lease on node id '%s' held again", l->id);
    else
        gn_log(&l->log, state == LEASE_LOST ? GENESIS_LOG_ERROR : GENESIS_LOG_WARN,
               "cluster: %s (cluster degraded)", why);
}

/* One renewal: compare-and-set on our revision; after an expiry, claim the id again. */
static void renew_locked(gn_node_lease *l)
{
    char *value = lease_value(l);
    if (value == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    uint64_t last = l->revision;
    pthread_mutex_unlock(&l->lock);
    uint64_t rev = 0;
    natsStatus ns = kvStore_Update(&rev, l->kv, l->key, value, (int)strlen(value), last);
    if (ns != NATS_OK && !gn_nats_unreachable(ns, l->nc)) {
        /* Our revision is not the newest: a renewal whose answer was lost (NATS down) may have
         * been applied after all, or the lease expired meanwhile. */
        kvEntry *e = NULL;
        natsStatus got = kvStore_Get(&e, l->kv, l->key);
        if (got == NATS_OK && is_own(l, e))
            ns =
                kvStore_Update(&rev, l->kv, l->key, value, (int)strlen(value), kvEntry_Revision(e));
        else if (got == NATS_NOT_FOUND)
            ns = kvStore_Create(&rev, l->kv, l->key, value, (int)strlen(value));
        else if (gn_nats_unreachable(got, l->nc))
            ns = got; /* no answer: not known to be lost */
        kvEntry_Destroy(e);
    }
    free(value);
    char why[200];
    if (ns == NATS_OK) {
        pthread_mutex_lock(&l->lock);
        l->revision = rev;
        pthread_mutex_unlock(&l->lock);
        set_state(l, LEASE_HELD, "");
    } else if (gn_nats_unreachable(ns, l->nc)) {
        snprintf(why, sizeof(why), "cannot renew the lease on node id '%s': NATS unreachable (%s)",
                 l->id, natsStatus_GetText(ns));
        set_state(l, LEASE_UNREACHABLE, why);
    } else {
        snprintf(why, sizeof(why),
                 "lease on node id '%s' lost: another node holds it now (this one was cut off "
                 "longer than the lease TTL)",
                 l->id);
        set_state(l, LEASE_LOST, why);
    }
}

static void renew(gn_node_lease *l)
{
    pthread_mutex_lock(&l->renew_lock);
    renew_locked(l);
    pthread_mutex_unlock(&l->renew_lock);
}

static void *renew_main(void *arg)
{
    gn_node_lease *l = arg;
    uint32_t every = l->ttl_ms / 3;
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += every / 1000;
        until.tv_nsec += (long)(every % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!l->stopping && pthread_cond_timedwait(&l->cv, &l->lock, &until) != ETIMEDOUT) {
        }
        if (l->stopping)
            break;
        pthread_mutex_unlock(&l->lock);
        renew(l);
        refresh_nodes(l);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* Take the id, waiting out the lease of a dead holder; refuse a live one. */
static int claim(gn_node_lease *l, char *why, size_t why_size)
{
    int64_t give_up = gn_now_ms() + (int64_t)l->ttl_ms + (int64_t)l->ttl_ms / 2;
    uint64_t first_seen = 0, last_seen = 0;
    unsigned int renewals_seen = 0;
    char holder[256] = "";
    for (;;) {
        char *value = lease_value(l);
        if (value == NULL) {
            snprintf(why, why_size, "cluster: out of memory");
            return GENESIS_RESOURCE_EXHAUSTED;
        }
        uint64_t rev = 0;
        natsStatus ns = kvStore_Create(&rev, l->kv, l->key, value, (int)strlen(value));
        free(value);
        if (ns == NATS_OK) {
            l->revision = rev;
            if (first_seen != 0)
                gn_log(&l->log, GENESIS_LOG_INFO,
                       "cluster: node id '%s' taken over after its previous holder's lease "
                       "expired (%s)",
                       l->id, holder);
            return GENESIS_OK;
        }
        if (gn_nats_unreachable(ns, l->nc) && gn_now_ms() < give_up) {
            /* A bucket just made may still be electing its leader. */
            sleep_ms(CLAIM_POLL_MS);
            continue;
        }
        if (gn_nats_unreachable(ns, l->nc)) {
            char msg[200];
            int rv = gn_nats_fail(ns, l->nc, "claiming the node id", msg, sizeof(msg));
            snprintf(why, why_size, "cluster: %s", msg);
            return rv;
        }
        kvEntry *e = NULL;
        if (kvStore_Get(&e, l->kv, l->key) == NATS_OK) {
            uint64_t seen = kvEntry_Revision(e);
            describe_holder(e, holder, sizeof(holder));
            kvEntry_Destroy(e);
            if (first_seen == 0) {
                first_seen = last_seen = seen;
                gn_log(&l->log, GENESIS_LOG_WARN,
                       "cluster: node id '%s' is held (%s); waiting up to %u ms for that lease "
                       "to expire",
                       l->id, holder, l->ttl_ms);
            } else if (seen != last_seen) {
                /* A holder killed with a renewal in flight can still land that one renewal
                 * after our first look; only a second one proves it alive. */
                renewals_seen++;
                last_seen = seen;
            }
            if (renewals_seen >= 2 || gn_now_ms() > give_up) {
                snprintf(why, why_size,
                         "cluster: node id '%s' is already in use by a live node (%s); give "
                         "this node another --node-id",
                         l->id, holder);
                return GENESIS_ALREADY_EXISTS;
            }
        }
        sleep_ms(CLAIM_POLL_MS);
    }
}

int gn_node_lease_claim(gn_node_lease **out, natsConnection *nc, jsCtx *js, const char *bucket,
                        const char *node_id, uint32_t ttl_ms, const gn_logger *log, char *why,
                        size_t why_size)
{
    *out = NULL;
    gn_node_lease *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(why, why_size, "cluster: out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    l->nc = nc;
    l->log = *log;
    l->ttl_ms = ttl_ms;
    l->started_ms = gn_wall_ms();
    snprintf(l->id, sizeof(l->id), "%s", node_id);
    gn_kv_key(l->key, sizeof(l->key), KEY_PREFIX, node_id);
    if (gethostname(l->host, sizeof(l->host)) != 0)
        snprintf(l->host, sizeof(l->host), "?");
    l->host[sizeof(l->host) - 1] = '\0';
    pthread_mutex_init(&l->lock, NULL);
    pthread_mutex_init(&l->renew_lock, NULL);
    pthread_cond_init(&l->cv, NULL);
    natsStatus ns = js_KeyValue(&l->kv, js, bucket);
    int rv = GENESIS_OK;
    if (ns != NATS_OK) {
        char msg[200];
        rv = gn_nats_fail(ns, nc, "opening the nodes bucket", msg, sizeof(msg));
        snprintf(why, why_size, "cluster: %s", msg);
    }
    if (rv == GENESIS_OK)
        rv = claim(l, why, why_size);
    if (rv == GENESIS_OK) {
        refresh_nodes(l);
        if (pthread_create(&l->thread, NULL, renew_main, l) != 0) {
            snprintf(why, why_size, "cluster: cannot start the lease thread");
            rv = GENESIS_RESOURCE_EXHAUSTED;
        } else {
            l->thread_started = true;
        }
    }
    if (rv != GENESIS_OK) {
        if (l->revision != 0)
            kvStore_Delete(l->kv, l->key);
        l->revision = 0;
        gn_node_lease_free(l);
        return rv;
    }
    *out = l;
    return GENESIS_OK;
}

void gn_node_lease_set_endpoints(gn_node_lease *l, const char *front_door, const char *event_bus)
{
    pthread_mutex_lock(&l->lock);
    snprintf(l->front_door, sizeof(l->front_door), "%s", front_door ? front_door : "");
    snprintf(l->event_bus, sizeof(l->event_bus), "%s", event_bus ? event_bus : "");
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->lock);
    renew(l); /* publish them now, not a third of a TTL later */
    refresh_nodes(l);
}

const char *gn_node_lease_state(gn_node_lease *l)
{
    pthread_mutex_lock(&l->lock);
    int s = l->state;
    pthread_mutex_unlock(&l->lock);
    return s == LEASE_HELD ? "held" : s == LEASE_UNREACHABLE ? "unreachable" : "lost";
}

json_t *gn_node_lease_nodes(gn_node_lease *l, int64_t *age_ms)
{
    pthread_mutex_lock(&l->lock);
    json_t *nodes = l->nodes != NULL ? json_deep_copy(l->nodes) : json_array();
    *age_ms = gn_now_ms() - l->nodes_at_ms;
    pthread_mutex_unlock(&l->lock);
    return nodes;
}

void gn_node_lease_free(gn_node_lease *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->lock);
    if (l->thread_started)
        pthread_join(l->thread, NULL);
    if (l->kv != NULL && l->revision != 0 && l->state == LEASE_HELD) {
        /* Release only our own revision: after a lost lease the entry is another node's. */
        kvEntry *e = NULL;
        if (kvStore_Get(&e, l->kv, l->key) == NATS_OK) {
            if (kvEntry_Revision(e) == l->revision)
                kvStore_Delete(l->kv, l->key);
            kvEntry_Destroy(e);
        }
    }
    kvStore_Destroy(l->kv);
    json_decref(l->nodes);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->lock);
    pthread_mutex_destroy(&l->renew_lock);
    free(l);
}
