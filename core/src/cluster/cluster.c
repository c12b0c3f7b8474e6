/* Cluster membership (cluster.h): options checked, NATS connected with reconnects, the
 * checkpoint and nodes buckets made with the wanted replicas, the node id claimed. */
#include "cluster/cluster.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "cluster/checkpoint_store_nats.h"
#include "cluster/nats_util.h"
#include "cluster/node_lease.h"

#define DEFAULT_NAME                 "genesis"
#define DEFAULT_REPLICAS             3u
#define DEFAULT_TTL_MS               5000u
#define MIN_TTL_MS                   1000u
#define DEFAULT_TIMEOUT_MS           2000u
#define MAX_URLS                     32
#define MAX_HISTORY                  64u /* JetStream's limit on a KV bucket's history */
#define STARTUP_TRIES                10  /* bucket creation retried this many timeouts at start */
#define DEFAULT_EVENTS_MAX_AGE_MS    86400000ull
#define DEFAULT_EVENTS_MAX_BYTES     (1ull << 30)
#define DEFAULT_EVENTS_DUP_WINDOW_MS 120000u

struct gn_cluster {
    gn_logger log;
    char *urls;
    char node_id[72];
    char name[64];
    unsigned int replicas;
    uint32_t ttl_ms, timeout_ms;
    char ckpt_bucket[96];
    char nodes_bucket[96];
    char line[512];
    natsOptions *nopts;
    natsConnection *nc;
    jsCtx *js;
    gn_node_lease *lease;
    gn_event_stream *events;
    char publisher[80];
    atomic_bool connected;
    atomic_bool closing; /* our own close: no "connection lost" warning */
    atomic_uint_fast64_t disconnects;
    /* cnats runs the connection's callbacks on a thread of its own, the closed one last:
     * close waits for it before freeing what the callbacks use. */
    pthread_mutex_t closed_lock;
    pthread_cond_t closed_cv;
    bool closed;
};

int genesis_cluster_options_init(genesis_cluster_options *opts, unsigned int version)
{
    gn_clear_error();
    if (opts == NULL || version < 1 || version > GENESIS_CLUSTER_OPTIONS_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "cluster_options_init: NULL or version %u "
                       "unknown (1..%u)",
                       version, GENESIS_CLUSTER_OPTIONS_VERSION);
    /* A version-1 caller's struct ends before the events' limits. */
    memset(opts, 0,
           version < 2 ? offsetof(genesis_cluster_options, events_max_age_ms) : sizeof(*opts));
    opts->version = version;
    return GENESIS_OK;
}

static bool valid_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static void on_disconnected(natsConnection *nc, void *arg)
{
    (void)nc;
    gn_cluster *c = arg;
    atomic_store(&c->connected, false);
    if (atomic_load(&c->closing))
        return;
    atomic_fetch_add(&c->disconnects, 1);
    gn_log(&c->log, GENESIS_LOG_WARN,
           "cluster: connection to NATS lost; reconnecting (cluster degraded: checkpoints fail "
           "UNAVAILABLE meanwhile)");
}

static void on_reconnected(natsConnection *nc, void *arg)
{
    gn_cluster *c = arg;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    atomic_store(&c->connected, true);
    gn_log(&c->log, GENESIS_LOG_INFO, "cluster: reconnected to NATS at %s", url);
}

static void on_closed(natsConnection *nc, void *arg)
{
    (void)nc;
    gn_cluster *c = arg;
    pthread_mutex_lock(&c->closed_lock);
    c->closed = true;
    pthread_cond_broadcast(&c->closed_cv);
    pthread_mutex_unlock(&c->closed_lock);
}

static int fail_open(char *why, size_t why_size, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_open(char *why, size_t why_size, int status, const char *fmt, ...)
{
    int n = snprintf(why, why_size, "cluster: ");
    if (n > 0 && (size_t)n < why_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why + n, why_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* The servers the connection knows (configured and discovered), as a list for messages. */
static int known_servers(gn_cluster *c, char *known, size_t size)
{
    char **servers = NULL;
    int count = 0;
    known[0] = '\0';
    if (natsConnection_GetServers(c->nc, &servers, &count) != NATS_OK)
        return 0;
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        if (used < size)
            used +=
                (size_t)snprintf(known + used, size - used, "%s%s", i > 0 ? ", " : "", servers[i]);
        free(servers[i]);
    }
    free(servers);
    return count;
}

/* JetStream 2.9 makes KV buckets with direct get, which any replica answers, a lagging one
 * included (for example a server just resumed after a stop): a restore could then get an
 * older generation than the newest acknowledged one. Reads go through the stream leader
 * instead. */
static int leader_reads_only(gn_cluster *c, const char *bucket, char *why, size_t why_size)
{
    char stream[128];
    snprintf(stream, sizeof(stream), "KV_%s", bucket);
    /* Retried for as long as bucket creation is: a node started while NATS elects answers
     * late or not at all. */
    int64_t give_up = gn_now_ms() + (int64_t)c->timeout_ms * STARTUP_TRIES;
    natsStatus ns;
    for (;;) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        ns = js_GetStreamInfo(&si, c->js, stream, NULL, &jerr);
        if (ns == NATS_OK && si->Config->AllowDirect) {
            jsStreamInfo *updated = NULL;
            si->Config->AllowDirect = false;
            ns = js_UpdateStream(&updated, c->js, si->Config, NULL, &jerr);
            jsStreamInfo_Destroy(updated);
        }
        jsStreamInfo_Destroy(si);
        if (ns == NATS_OK)
            return GENESIS_OK;
        bool electing = jerr == JSClusterNotAvailErr || jerr == JSClusterNotLeaderErr;
        if (!(gn_nats_unreachable(ns, c->nc) || electing) || gn_now_ms() > give_up)
            break;
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
    }
    natsStatus ignored;
    const char *last = nats_GetLastError(&ignored);
    return fail_open(why, why_size, GENESIS_UNAVAILABLE,
                     "bucket %s: cannot turn off direct reads: %s", bucket,
                     last != NULL && last[0] != '\0' ? last : natsStatus_GetText(ns));
}

/* Make a bucket (or bind an existing one and warn when its settings differ). */
static int make_bucket(gn_cluster *c, kvConfig *cfg, char *why, size_t why_size)
{
    kvStore *kv = NULL;
    char known[300];
    int servers = known_servers(c, known, sizeof(known));
    if (cfg->Replicas > 1 && servers > 0 && cfg->Replicas > servers) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "cannot keep %d replicas of bucket %s: the NATS cluster has %d server(s) (%s); "
                 "replicas must not exceed the servers (--cluster-replicas)",
                 cfg->Replicas, cfg->Bucket, servers, known);
        return fail_open(why, why_size, GENESIS_FAILED_PRECONDITION, "%s", msg);
    }
    /* A NATS cluster that just started may still be electing its JetStream leaders, or not
     * know all its peers yet ("no suitable peers"): retry for a bounded time. */
    int64_t give_up = gn_now_ms() + (int64_t)c->timeout_ms * STARTUP_TRIES;
    natsStatus ns;
    char err[256];
    for (;;) {
        ns = js_CreateKeyValue(&kv, c->js, cfg);
        if (ns == NATS_OK) {
            /* Made, but its stream may still be electing a leader: wait until it answers. */
            kvEntry *e = NULL;
            while ((ns = kvStore_Get(&e, kv, "probe")) != NATS_OK && ns != NATS_NOT_FOUND &&
                   gn_now_ms() < give_up) {
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
            }
            kvEntry_Destroy(e);
            kvStore_Destroy(kv);
            return GENESIS_OK;
        }
        natsStatus ignored;
        const char *last = nats_GetLastError(&ignored);
        snprintf(err, sizeof(err), "%s",
                 last != NULL && last[0] != '\0' ? last : natsStatus_GetText(ns));
        bool settling = gn_nats_unreachable(ns, c->nc) || strstr(err, "no suitable peers") ||
                        strstr(err, "insufficient resources") || strstr(err, "leader") ||
                        strstr(err, "temporarily unavailable");
        if (!settling || gn_now_ms() >= give_up)
            break;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (gn_nats_unreachable(ns, c->nc) || strstr(err, "temporarily unavailable") != NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "creating bucket %s at %s: %s", cfg->Bucket, c->urls, err);
        return fail_open(why, why_size, GENESIS_UNAVAILABLE, "%s", msg);
    }
    /* An existing bucket whose settings differ: use it as it is. */
    kvStatus *st = NULL;
    if (js_KeyValue(&kv, c->js, cfg->Bucket) == NATS_OK && kvStore_Status(&st, kv) == NATS_OK) {
        if (kvStatus_Replicas(st) != cfg->Replicas || kvStatus_History(st) != cfg->History)
            gn_log(&c->log, GENESIS_LOG_WARN,
                   "cluster: bucket %s exists with %lld replicas and history %lld (asked: %d and "
                   "%u); using it as it is (%s)",
                   cfg->Bucket, (long long)kvStatus_Replicas(st), (long long)kvStatus_History(st),
                   cfg->Replicas, (unsigned)cfg->History, err);
        kvStatus_Destroy(st);
        kvStore_Destroy(kv);
        return GENESIS_OK;
    }
    kvStore_Destroy(kv);
    /* Most often: fewer JetStream servers than replicas ("insufficient resources", "no
     * suitable peers", "replicas > 1 not supported in non-clustered mode"). */
    servers = known_servers(c, known, sizeof(known));
    char msg[700];
    snprintf(msg, sizeof(msg),
             "cannot create bucket %s with %d replicas: %s. The NATS cluster knows %d server(s) "
             "(%s): replicas must not exceed the servers with JetStream enabled",
             cfg->Bucket, cfg->Replicas, err, servers, known);
    return fail_open(why, why_size, GENESIS_FAILED_PRECONDITION, "%s", msg);
}

static int connect_nats(gn_cluster *c, const genesis_cluster_options *o, char *why, size_t why_size)
{
    char *copy = gn_strdup(c->urls);
    const char *list[MAX_URLS];
    int n = 0;
    if (copy == NULL)
        return fail_open(why, why_size, GENESIS_RESOURCE_EXHAUSTED, "out of memory");
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok != NULL && n < MAX_URLS;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (*tok != '\0')
            list[n++] = tok;
    }
    natsStatus ns = n > 0 ? natsOptions_Create(&c->nopts) : NATS_INVALID_ARG;
    if (ns == NATS_OK)
        ns = natsOptions_SetServers(c->nopts, list, n);
    if (ns == NATS_OK)
        ns = natsOptions_SetTimeout(c->nopts, c->timeout_ms);
    if (ns == NATS_OK)
        ns = natsOptions_SetMaxReconnect(c->nopts, -1); /* for as long as the node runs */
    if (ns == NATS_OK)
        ns = natsOptions_SetReconnectWait(c->nopts, 250);
    if (ns == NATS_OK) /* a stopped (SIGSTOP) server is noticed within about two pings */
        ns = natsOptions_SetPingInterval(c->nopts, c->ttl_ms / 5 > 0 ? c->ttl_ms / 5 : 1000);
    if (ns == NATS_OK)
        ns = natsOptions_SetMaxPingsOut(c->nopts, 2);
    if (ns == NATS_OK) /* requests fail at once while disconnected instead of timing out */
        ns = natsOptions_SetFailRequestsOnDisconnect(c->nopts, true);
    if (ns == NATS_OK) {
        char name[128];
        snprintf(name, sizeof(name), "genesisd %s", c->node_id);
        ns = natsOptions_SetName(c->nopts, name);
    }
    if (ns == NATS_OK)
        ns = natsOptions_SetDisconnectedCB(c->nopts, on_disconnected, c);
    if (ns == NATS_OK)
        ns = natsOptions_SetReconnectedCB(c->nopts, on_reconnected, c);
    if (ns == NATS_OK)
        ns = natsOptions_SetClosedCB(c->nopts, on_closed, c);
    const char *tls_file = NULL;
    if (ns == NATS_OK && o->tls_ca_file != NULL) {
        tls_file = o->tls_ca_file;
        ns = natsOptions_SetSecure(c->nopts, true);
        if (ns == NATS_OK)
            ns = natsOptions_LoadCATrustedCertificates(c->nopts, o->tls_ca_file);
    }
    if (ns == NATS_OK && o->tls_cert_file != NULL && o->tls_key_file != NULL) {
        tls_file = o->tls_cert_file;
        ns = natsOptions_LoadCertificatesChain(c->nopts, o->tls_cert_file, o->tls_key_file);
    }
    free(copy);
    if (ns != NATS_OK) {
        natsStatus ignored;
        const char *text = nats_GetLastError(&ignored);
        return fail_open(why, why_size, GENESIS_INVALID_ARGUMENT, "NATS options: %s%s",
                         text != NULL ? text : natsStatus_GetText(ns),
                         tls_file != NULL ? " (TLS files)" : "");
    }
    ns = natsConnection_Connect(&c->nc, c->nopts);
    if (ns != NATS_OK) {
        natsStatus ignored;
        const char *text = nats_GetLastError(&ignored);
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", text != NULL && text[0] ? text : natsStatus_GetText(ns));
        return fail_open(why, why_size, GENESIS_UNAVAILABLE,
                         "cannot reach NATS at %s: %s; not starting in cluster mode (there is no "
                         "fallback to local storage)",
                         c->urls, msg);
    }
    atomic_store(&c->connected, true);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = c->timeout_ms;
    ns = natsConnection_JetStream(&c->js, c->nc, &jo);
    if (ns != NATS_OK)
        return fail_open(why, why_size, GENESIS_UNAVAILABLE, "JetStream context: %s",
                         natsStatus_GetText(ns));
    return GENESIS_OK;
}

int gn_cluster_open(gn_cluster **out, const genesis_cluster_options *o, unsigned int keep,
                    size_t max_value, const gn_logger *log, char *why, size_t why_size)
{
    *out = NULL;
    if (o == NULL || o->version < 1 || o->version > GENESIS_CLUSTER_OPTIONS_VERSION)
        return fail_open(why, why_size, GENESIS_INVALID_ARGUMENT,
                         "options missing or of an unknown version");
    if (o->nats_urls == NULL || o->nats_urls[0] == '\0')
        return fail_open(why, why_size, GENESIS_INVALID_ARGUMENT,
                         "no NATS URLs (--cluster-nats URL[,URL...])");
    if (o->node_id == NULL || !valid_name(o->node_id, 64))
        return fail_open(why, why_size, GENESIS_INVALID_ARGUMENT,
                         "node id '%s' is not 1..64 bytes of [A-Za-z0-9_-] (--node-id)",
                         o->node_id != NULL ? o->node_id : "");
    const char *name = o->name != NULL ? o->name : DEFAULT_NAME;
    if (!valid_name(name, 48))
        return fail_open(why, why_size, GENESIS_INVALID_ARGUMENT,
                         "cluster name '%s' is not 1..48 bytes of [A-Za-z0-9_-]", name);
    unsigned int replicas = o->replicas > 0 ? o->replicas : DEFAULT_REPLICAS;
    if (replicas > 5) {
        return fail_open(why, why_size, GENESIS_INVALID_ARGUMENT,
                         "%u replicas: JetStream keeps 1 to 5", replicas);
    }
    uint32_t ttl = o->lease_ttl_ms > 0 ? o->lease_ttl_ms : DEFAULT_TTL_MS;
    if (ttl < MIN_TTL_MS)
        return fail_open(why, why_size, GENESIS_INVALID_ARGUMENT,
                         "lease TTL %u ms is below 1000 ms", ttl);
    gn_cluster *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return fail_open(why, why_size, GENESIS_RESOURCE_EXHAUSTED, "out of memory");
    c->log = *log;
    pthread_mutex_init(&c->closed_lock, NULL);
    pthread_cond_init(&c->closed_cv, NULL);
    c->urls = gn_strdup(o->nats_urls);
    snprintf(c->node_id, sizeof(c->node_id), "%s", o->node_id);
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->replicas = replicas;
    c->ttl_ms = ttl;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    snprintf(c->ckpt_bucket, sizeof(c->ckpt_bucket), "%s_checkpoints", name);
    snprintf(c->publisher, sizeof(c->publisher), "cluster:%s", name);
    snprintf(c->nodes_bucket, sizeof(c->nodes_bucket), "%s_nodes", name);
    int rv = c->urls != NULL ? connect_nats(c, o, why, why_size) : GENESIS_RESOURCE_EXHAUSTED;
    if (rv == GENESIS_OK) {
        kvConfig kc;
        kvConfig_Init(&kc);
        kc.Bucket = c->ckpt_bucket;
        kc.Description = "Genesis checkpoints: one key per component, a revision per generation";
        kc.History = (uint8_t)(keep == 0 ? 3 : keep > MAX_HISTORY ? MAX_HISTORY : keep);
        kc.StorageType = js_FileStorage;
        kc.Replicas = (int)replicas;
        kc.MaxValueSize = (int32_t)(max_value + GN_NATS_CKPT_HEADER);
        rv = make_bucket(c, &kc, why, why_size);
        if (rv == GENESIS_OK)
            rv = leader_reads_only(c, c->ckpt_bucket, why, why_size);
    }
    if (rv == GENESIS_OK) {
        kvConfig kc;
        kvConfig_Init(&kc);
        kc.Bucket = c->nodes_bucket;
        kc.Description = "Genesis node leases: an entry per live node, expiring after the TTL";
        kc.History = 1;
        kc.TTL = (int64_t)ttl * 1000000; /* cnats takes the TTL in nanoseconds */
        kc.StorageType = js_FileStorage;
        kc.Replicas = (int)replicas;
        rv = make_bucket(c, &kc, why, why_size);
    }
    if (rv == GENESIS_OK) {
        bool v2 = o->version >= 2;
        uint64_t age =
            v2 && o->events_max_age_ms > 0 ? o->events_max_age_ms : DEFAULT_EVENTS_MAX_AGE_MS;
        uint64_t bytes =
            v2 && o->events_max_bytes > 0 ? o->events_max_bytes : DEFAULT_EVENTS_MAX_BYTES;
        uint64_t dup = v2 && o->events_duplicate_window_ms > 0 ? o->events_duplicate_window_ms
                                                               : DEFAULT_EVENTS_DUP_WINDOW_MS;
        if (dup > age)
            dup = age; /* JetStream refuses a window longer than the age */
        gn_event_stream_config ec = {.name = c->name,
                                     .replicas = replicas,
                                     .max_age_ms = (int64_t)age,
                                     .max_bytes = (int64_t)bytes,
                                     .dup_window_ms = (int64_t)dup,
                                     .timeout_ms = c->timeout_ms};
        rv = gn_event_stream_open(&c->events, c->nc, c->js, &ec, log, why, why_size);
    }
    if (rv == GENESIS_OK)
        rv = gn_node_lease_claim(&c->lease, c->nc, c->js, c->nodes_bucket, c->node_id, ttl, log,
                                 why, why_size);
    if (rv != GENESIS_OK) {
        gn_cluster_close(c);
        return rv;
    }
    snprintf(c->line, sizeof(c->line),
             "node %s, NATS %s, %u replicas, buckets %s and %s, streams %s_events and "
             "%s_events_external, lease TTL %u ms",
             c->node_id, c->urls, c->replicas, c->ckpt_bucket, c->nodes_bucket, c->name, c->name,
             c->ttl_ms);
    *out = c;
    return GENESIS_OK;
}

int gn_cluster_checkpoint_store(gn_cluster *c, gn_ckpt_store **out, gn_ckpt_error *err)
{
    kvStore *kv = NULL;
    kvStatus *st = NULL;
    unsigned int keep = 3;
    if (js_KeyValue(&kv, c->js, c->ckpt_bucket) == NATS_OK && kvStore_Status(&st, kv) == NATS_OK)
        keep = (unsigned int)kvStatus_History(st);
    kvStatus_Destroy(st);
    kvStore_Destroy(kv);
    return gn_ckpt_store_open_nats(out, c->nc, c->js, c->ckpt_bucket, keep, c->timeout_ms, err);
}

void gn_cluster_set_endpoints(gn_cluster *c, const char *front_door, const char *event_bus)
{
    if (c != NULL && c->lease != NULL)
        gn_node_lease_set_endpoints(c->lease, front_door, event_bus);
}

gn_event_stream *gn_cluster_events(gn_cluster *c)
{
    return c != NULL ? c->events : NULL;
}

const char *gn_cluster_node_id(gn_cluster *c)
{
    return c->node_id;
}

const char *gn_cluster_publisher(gn_cluster *c)
{
    return c->publisher;
}

const char *gn_cluster_describe(gn_cluster *c)
{
    return c->line;
}

json_t *gn_cluster_status(gn_cluster *c)
{
    bool connected =
        atomic_load(&c->connected) && natsConnection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
    const char *lease = gn_node_lease_state(c->lease);
    char url[256] = "";
    if (connected)
        natsConnection_GetConnectedUrl(c->nc, url, sizeof(url));
    const char *reason = !connected                   ? "NATS unreachable: reconnecting"
                         : strcmp(lease, "held") != 0 ? "node lease not renewed"
                                                      : "";
    int64_t age = 0;
    json_t *nodes = gn_node_lease_nodes(c->lease, &age);
    json_t *events = c->events != NULL ? gn_event_stream_status(c->events) : json_object();
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:I, s:I, s:o, s:o}", "node_id",
                     c->node_id, "state", reason[0] == '\0' ? "ok" : "degraded", "reason", reason,
                     "nats_urls", c->urls, "connected_url", url, "replicas", (int)c->replicas,
                     "lease_ttl_ms", (int)c->ttl_ms, "lease", lease, "nodes_age_ms",
                     (json_int_t)age, "nats_disconnects", (json_int_t)atomic_load(&c->disconnects),
                     "nodes", nodes, "events", events);
}

void gn_cluster_close(gn_cluster *c)
{
    if (c == NULL)
        return;
    gn_event_stream_free(c->events);
    gn_node_lease_free(c->lease);
    jsCtx_Destroy(c->js);
    if (c->nc != NULL) {
        atomic_store(&c->closing, true);
        natsConnection_Close(c->nc);
        /* Bounded: the closed callback follows the others on cnats's callback thread. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        pthread_mutex_lock(&c->closed_lock);
        while (!c->closed && pthread_cond_timedwait(&c->closed_cv, &c->closed_lock, &until) == 0) {
        }
        bool closed = c->closed;
        pthread_mutex_unlock(&c->closed_lock);
        natsConnection_Destroy(c->nc);
        if (!closed) {
            /* Its callbacks may still run: leave them a valid object (a bounded leak). */
            gn_log(&c->log, GENESIS_LOG_WARN, "cluster: NATS connection close not confirmed");
            natsOptions_Destroy(c->nopts);
            return;
        }
    }
    natsOptions_Destroy(c->nopts);
    pthread_cond_destroy(&c->closed_cv);
    pthread_mutex_destroy(&c->closed_lock);
    free(c->urls);
    free(c);
}
