/* Ownership leases on names in a KV bucket with a TTL (owner_lease.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cluster/owner_lease.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/nats_util.h"

#define KEY_PREFIX "o."
#define MAX_NAMES  256
#define MAX_NAME   128
#define MIN_MARGIN 200

typedef struct owned {
    char name[MAX_NAME + 1];
    char key[MAX_NAME + 8];
    bool withdrawn; /* stop contending: release, then drop */
    /* held by this node */
    uint64_t token;    /* revision of the create that took it; 0 = not held */
    uint64_t last_rev; /* revision of our last write */
    int64_t renewed_ms;
    int64_t until_ms;
    /* someone else's, as last read */
    char holder[72];
    uint64_t holder_token;
    int64_t next_try_ms;
} owned;

struct gn_owner_leases {
    natsConnection *nc; /* borrowed */
    jsCtx *js;          /* borrowed */
    kvStore *kv;
    gn_logger log;
    char bucket[96];
    char node_id[72];
    char host[128];
    uint32_t ttl_ms, margin_ms, renew_ms, poll_ms;

    pthread_mutex_t lock; /* guards the table and stopping */
    pthread_cond_t cv;
    owned *names[MAX_NAMES];
    size_t n;
    bool stopping;
    bool thread_started;
    pthread_t thread;
};

/* CLOCK_BOOTTIME milliseconds: unlike CLOCK_MONOTONIC it counts a suspend of the machine,
 * which the NATS servers' clocks (and so the entries' expiry) count too. */
static int64_t boot_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME)
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static owned *find_locked(gn_owner_leases *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(o->names[i]->name, name) == 0)
            return o->names[i];
    }
    return NULL;
}

static char *lease_value(gn_owner_leases *o, uint64_t token)
{
    json_t *v = json_pack("{s:s, s:I, s:s, s:i}", "node", o->node_id, "token", (json_int_t)token,
                          "host", o->host, "pid", (int)getpid());
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    return text;
}

/* Who holds an entry: its node id and token, or "" for a deleted entry. */
static void read_holder(kvEntry *e, char *node, size_t size, uint64_t *token)
{
    node[0] = '\0';
    *token = 0;
    if (kvEntry_Operation(e) != kvOp_Put)
        return;
    json_t *v = json_loadb(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), 0, NULL);
    const char *id = json_string_value(json_object_get(v, "node"));
    snprintf(node, size, "%s", id != NULL ? id : "?");
    *token = (uint64_t)json_integer_value(json_object_get(v, "token"));
    json_decref(v);
}

/* Delete our entry only while our revision is its newest: a delete marker published with the
 * expected last revision (cnats's kvStore_Delete has no compare-and-set). */
static natsStatus release(gn_owner_leases *o, const char *key, uint64_t last_rev)
{
    char subject[256];
    snprintf(subject, sizeof(subject), "$KV.%s.%s", o->bucket, key);
    natsMsg *msg = NULL;
    natsStatus ns = natsMsg_Create(&msg, subject, NULL, NULL, 0);
    if (ns == NATS_OK)
        ns = natsMsgHeader_Set(msg, "KV-Operation", "DEL");
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.ExpectLastSubjectSeq = last_rev;
    jsErrCode jerr = 0;
    jsPubAck *ack = NULL;
    if (ns == NATS_OK)
        ns = js_PublishMsg(&ack, o->js, msg, &po, &jerr);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(msg);
    return ns;
}

/* The outcome of one request on an entry, applied under the lock. */
static void lost(gn_owner_leases *o, owned *w, const char *why)
{
    gn_log(&o->log, GENESIS_LOG_WARN, "cluster: ownership of %s (token %llu) lost: %s", w->name,
           (unsigned long long)w->token, why);
    w->token = 0;
    w->last_rev = 0;
    w->until_ms = 0;
}

/* Try to take a free name; else note who holds it. */
static void try_take(gn_owner_leases *o, owned *w, const char *key)
{
    /* The token is the create's revision, which is not known before the create: the value
     * carries token 0 and the first renewal writes the token. */
    char *value = lease_value(o, 0);
    if (value == NULL)
        return;
    int64_t sent = boot_ms();
    uint64_t rev = 0;
    natsStatus ns = kvStore_Create(&rev, o->kv, key, value, (int)strlen(value));
    free(value);
    if (ns == NATS_OK) {
        char *with_token = lease_value(o, rev);
        uint64_t rev2 = 0;
        natsStatus ns2 = with_token != NULL ? kvStore_Update(&rev2, o->kv, key, with_token,
                                                             (int)strlen(with_token), rev)
                                            : NATS_NO_MEMORY;
        free(with_token);
        pthread_mutex_lock(&o->lock);
        w->token = rev;
        w->last_rev = ns2 == NATS_OK ? rev2 : rev;
        w->renewed_ms = sent;
        w->until_ms = sent + (int64_t)o->ttl_ms - (int64_t)o->margin_ms;
        snprintf(w->holder, sizeof(w->holder), "%s", o->node_id);
        w->holder_token = rev;
        pthread_mutex_unlock(&o->lock);
        gn_log(&o->log, GENESIS_LOG_INFO, "cluster: took ownership of %s (fencing token %llu)",
               w->name, (unsigned long long)rev);
        return;
    }
    kvEntry *e = NULL;
    natsStatus got = gn_nats_unreachable(ns, o->nc) ? ns : kvStore_Get(&e, o->kv, key);
    char node[72] = "";
    uint64_t token = 0;
    if (got == NATS_OK)
        read_holder(e, node, sizeof(node), &token);
    kvEntry_Destroy(e);
    pthread_mutex_lock(&o->lock);
    if (got == NATS_OK || got == NATS_NOT_FOUND) {
        snprintf(w->holder, sizeof(w->holder), "%s", node);
        w->holder_token = token;
    }
    pthread_mutex_unlock(&o->lock);
}

/* Renew a held name: compare-and-set on our last revision. */
static void renew(gn_owner_leases *o, owned *w, const char *key, uint64_t token, uint64_t last)
{
    char *value = lease_value(o, token);
    if (value == NULL)
        return;
    int64_t sent = boot_ms();
    uint64_t rev = 0;
    natsStatus ns = kvStore_Update(&rev, o->kv, key, value, (int)strlen(value), last);
    uint64_t seen_rev = 0;
    bool ours = false;
    if (ns != NATS_OK && !gn_nats_unreachable(ns, o->nc)) {
        /* Not our revision: a renewal whose answer was lost may have been applied after all
         * (then the entry is ours, with our token), or the entry expired. */
        kvEntry *e = NULL;
        if (kvStore_Get(&e, o->kv, key) == NATS_OK) {
            char node[72];
            uint64_t t = 0;
            read_holder(e, node, sizeof(node), &t);
            ours = strcmp(node, o->node_id) == 0 && t == token;
            seen_rev = kvEntry_Revision(e);
        }
        kvEntry_Destroy(e);
    }
    free(value);
    pthread_mutex_lock(&o->lock);
    if (w->token == token) {
        if (ns == NATS_OK) {
            w->last_rev = rev;
            w->renewed_ms = sent;
            w->until_ms = sent + (int64_t)o->ttl_ms - (int64_t)o->margin_ms;
        } else if (ours) {
            w->last_rev = seen_rev; /* validity not extended: when it was written is unknown */
        } else if (!gn_nats_unreachable(ns, o->nc)) {
            lost(o, w, "another node holds it or it expired");
        }
        if (w->token != 0 && boot_ms() >= w->until_ms)
            lost(o, w, "not renewed within the lease TTL (NATS unreachable)");
    }
    pthread_mutex_unlock(&o->lock);
}

/* One pass over the names: release withdrawn ones, renew held ones, try free ones. */
static void pass(gn_owner_leases *o)
{
    pthread_mutex_lock(&o->lock);
    size_t n = o->n;
    pthread_mutex_unlock(&o->lock);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&o->lock);
        if (o->stopping || i >= o->n) {
            pthread_mutex_unlock(&o->lock);
            return;
        }
        owned *w = o->names[i];
        char key[sizeof(w->key)];
        snprintf(key, sizeof(key), "%s", w->key);
        bool withdrawn = w->withdrawn;
        uint64_t token = w->token, last = w->last_rev;
        int64_t now = boot_ms();
        bool due = token != 0 ? now - w->renewed_ms >= (int64_t)o->renew_ms : now >= w->next_try_ms;
        if (token != 0 && now >= w->until_ms) {
            lost(o, w, "not renewed within the lease TTL");
            token = 0;
        }
        if (withdrawn) {
            /* Dropped from the table now; released below (it is ours alone). */
            o->names[i] = o->names[--o->n];
            n--;
            i--;
        }
        if (token == 0 && !withdrawn)
            w->next_try_ms = now + (int64_t)o->poll_ms;
        pthread_mutex_unlock(&o->lock);
        if (withdrawn) {
            if (token != 0 && release(o, key, last) == NATS_OK)
                gn_log(&o->log, GENESIS_LOG_INFO, "cluster: released ownership of %s", w->name);
            free(w);
        } else if (due && token != 0) {
            renew(o, w, key, token, last);
        } else if (due) {
            try_take(o, w, key);
        }
    }
}

static void *lease_main(void *arg)
{
    gn_owner_leases *o = arg;
    pthread_mutex_lock(&o->lock);
    while (!o->stopping) {
        pthread_mutex_unlock(&o->lock);
        pass(o);
        pthread_mutex_lock(&o->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        uint32_t tick = o->poll_ms;
        until.tv_sec += tick / 1000;
        until.tv_nsec += (long)(tick % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (!o->stopping)
            pthread_cond_timedwait(&o->cv, &o->lock, &until);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

int gn_owner_leases_open(gn_owner_leases **out, natsConnection *nc, jsCtx *js, const char *bucket,
                         const char *node_id, uint32_t ttl_ms, const gn_logger *log, char *why,
                         size_t why_size)
{
    *out = NULL;
    gn_owner_leases *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        snprintf(why, why_size, "cluster: out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    o->nc = nc;
    o->js = js;
    o->log = *log;
    snprintf(o->bucket, sizeof(o->bucket), "%s", bucket);
    snprintf(o->node_id, sizeof(o->node_id), "%s", node_id);
    if (gethostname(o->host, sizeof(o->host)) != 0)
        snprintf(o->host, sizeof(o->host), "?");
    o->host[sizeof(o->host) - 1] = '\0';
    o->ttl_ms = ttl_ms;
    o->margin_ms = ttl_ms / 5 > MIN_MARGIN ? ttl_ms / 5 : MIN_MARGIN;
    o->renew_ms = ttl_ms / 4;
    o->poll_ms = ttl_ms / 10 < 50 ? 50 : ttl_ms / 10 > 250 ? 250 : ttl_ms / 10;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cv, NULL);
    natsStatus ns = js_KeyValue(&o->kv, js, bucket);
    if (ns != NATS_OK) {
        char msg[200];
        int rv = gn_nats_fail(ns, nc, "opening the owners bucket", msg, sizeof(msg));
        snprintf(why, why_size, "cluster: %s", msg);
        gn_owner_leases_free(o);
        return rv;
    }
    if (pthread_create(&o->thread, NULL, lease_main, o) != 0) {
        snprintf(why, why_size, "cluster: cannot start the ownership lease thread");
        gn_owner_leases_free(o);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    o->thread_started = true;
    *out = o;
    return GENESIS_OK;
}

uint32_t gn_owner_leases_ttl(gn_owner_leases *o)
{
    return o->ttl_ms;
}

int gn_owner_leases_contend(gn_owner_leases *o, const char *name)
{
    if (name == NULL || !valid_name(name))
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "ownership: name '%s' is not 1..128 bytes of [A-Za-z0-9._-]",
                       name != NULL ? name : "(null)");
    pthread_mutex_lock(&o->lock);
    owned *w = find_locked(o, name);
    int rv = GENESIS_OK;
    if (w != NULL) {
        w->withdrawn = false;
    } else if (o->n >= MAX_NAMES || (w = calloc(1, sizeof(*w))) == NULL) {
        rv = gn_fail(GENESIS_RESOURCE_EXHAUSTED, "ownership: more than %d names", MAX_NAMES);
    } else {
        snprintf(w->name, sizeof(w->name), "%s", name);
        gn_kv_key(w->key, sizeof(w->key), KEY_PREFIX, name);
        o->names[o->n++] = w;
        pthread_cond_broadcast(&o->cv); /* try it now */
    }
    pthread_mutex_unlock(&o->lock);
    return rv;
}

void gn_owner_leases_withdraw(gn_owner_leases *o, const char *name)
{
    pthread_mutex_lock(&o->lock);
    owned *w = name != NULL ? find_locked(o, name) : NULL;
    if (w != NULL) {
        w->withdrawn = true;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->lock);
}

bool gn_owner_leases_get(gn_owner_leases *o, const char *name, uint64_t *token, int64_t *until_ms)
{
    *token = 0;
    *until_ms = 0;
    pthread_mutex_lock(&o->lock);
    owned *w = find_locked(o, name);
    bool held = w != NULL && !w->withdrawn && w->token != 0 && boot_ms() < w->until_ms;
    if (held) {
        *token = w->token;
        *until_ms = w->until_ms;
    }
    pthread_mutex_unlock(&o->lock);
    return held;
}

json_t *gn_owner_leases_status(gn_owner_leases *o)
{
    json_t *list = json_array();
    int64_t now = boot_ms();
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->n && list != NULL; i++) {
        const owned *w = o->names[i];
        bool self = w->token != 0 && now < w->until_ms;
        json_t *item = json_pack("{s:s, s:s, s:I, s:b}", "component", w->name, "owner",
                                 self ? o->node_id : w->holder, "token",
                                 (json_int_t)(self ? w->token : w->holder_token), "self", self);
        if (item != NULL && self)
            json_object_set_new(item, "valid_ms", json_integer((json_int_t)(w->until_ms - now)));
        json_array_append_new(list, item);
    }
    pthread_mutex_unlock(&o->lock);
    return list;
}

void gn_owner_leases_free(gn_owner_leases *o)
{
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->lock);
    if (o->thread_started)
        pthread_join(o->thread, NULL);
    for (size_t i = 0; i < o->n; i++) {
        owned *w = o->names[i];
        if (w->token != 0 && boot_ms() < w->until_ms && o->kv != NULL)
            release(o, w->key, w->last_rev);
        free(w);
    }
    kvStore_Destroy(o->kv);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->lock);
    free(o);
}
