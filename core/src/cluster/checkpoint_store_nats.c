/* gn_ckpt_store on a JetStream KV bucket (checkpoint_store_nats.h). */
#include "cluster/checkpoint_store_nats.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "cluster/nats_util.h"

#define KEY_PREFIX "c."
#define MAX_KEY    (GN_MAX_ID_LEN + 8u)

static const uint8_t MAGIC[4] = {'G', 'N', 'C', '1'}; /* opens every stored value */

/* The revision and generation this store last saw for a component. */
typedef struct head {
    char *id;
    uint64_t revision; /* 0: the key does not exist (yet) */
    uint64_t generation;
} head;

typedef struct nats_store {
    gn_ckpt_store base;
    natsConnection *nc; /* borrowed */
    kvStore *kv;
    int64_t timeout_ms; /* bound of every history and key listing */
    head *heads;
    size_t n_heads, cap_heads;
} nats_store;

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* A stored value's header; false when it is not one of ours (too short, wrong magic). */
static bool parse(const uint8_t *v, size_t len, uint64_t *gen, int64_t *created, uint32_t *crc)
{
    if (v == NULL || len < GN_NATS_CKPT_HEADER || memcmp(v, MAGIC, sizeof(MAGIC)) != 0)
        return false;
    *gen = get_u64(v + 4);
    *created = (int64_t)get_u64(v + 12);
    *crc = (uint32_t)v[20] | (uint32_t)v[21] << 8 | (uint32_t)v[22] << 16 | (uint32_t)v[23] << 24;
    return *gen > 0;
}

int gn_nats_ckpt_decode(const uint8_t *v, size_t len, gn_nats_ckpt_value *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t crc = 0;
    if (!parse(v, len, &out->generation, &out->created_ms, &crc))
        return 0;
    out->data = v + GN_NATS_CKPT_HEADER;
    out->len = len - GN_NATS_CKPT_HEADER;
    return gn_ckpt_checksum(out->generation, out->data, out->len) == crc ? 1 : -1;
}

static head *head_find(nats_store *s, const char *id)
{
    for (size_t i = 0; i < s->n_heads; i++) {
        if (strcmp(s->heads[i].id, id) == 0)
            return &s->heads[i];
    }
    return NULL;
}

static head *head_add(nats_store *s, const char *id)
{
    if (s->n_heads == s->cap_heads) {
        size_t cap = s->cap_heads > 0 ? s->cap_heads * 2 : 16;
        head *grown = realloc(s->heads, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        s->heads = grown;
        s->cap_heads = cap;
    }
    head *h = &s->heads[s->n_heads];
    h->id = gn_strdup(id);
    if (h->id == NULL)
        return NULL;
    h->revision = h->generation = 0;
    s->n_heads++;
    return h;
}

/* Forget what was seen of id: its next write reads the newest revision first. */
static void head_forget(nats_store *s, const char *id)
{
    head *h = head_find(s, id);
    if (h == NULL)
        return;
    free(h->id);
    *h = s->heads[--s->n_heads];
}

static int fail(gn_ckpt_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(gn_ckpt_error *err, int status, const char *fmt, ...)
{
    err->reason = GENESIS_REASON_STORAGE_ERROR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}

static int nats_fail(nats_store *s, natsStatus ns, const char *what, gn_ckpt_error *err)
{
    err->reason = GENESIS_REASON_STORAGE_ERROR;
    return gn_nats_fail(ns, s->nc, what, err->message, sizeof(err->message));
}

/* The newest generation number among the key's history into *best (used when the newest
 * value is not readable as ours). Not being able to read the history is an error, never
 * generation 0: a write built on 0 would go below generations already acknowledged. */
static natsStatus history_max_generation(nats_store *s, const char *key, uint64_t *best)
{
    kvEntryList list = {0};
    kvWatchOptions wo = gn_kv_watch_bounded(s->timeout_ms);
    *best = 0;
    natsStatus ns = kvStore_History(&list, s->kv, key, &wo);
    if (ns == NATS_NOT_FOUND)
        return NATS_OK;
    if (ns != NATS_OK)
        return ns;
    for (int i = 0; i < list.Count; i++) {
        uint64_t gen = 0;
        int64_t created = 0;
        uint32_t crc = 0;
        if (kvEntry_Operation(list.Entries[i]) == kvOp_Put &&
            parse(kvEntry_Value(list.Entries[i]), (size_t)kvEntry_ValueLen(list.Entries[i]), &gen,
                  &created, &crc) &&
            gen > *best)
            *best = gen;
    }
    kvEntryList_Destroy(&list);
    return NATS_OK;
}

/* Read the key's newest revision and generation into h. */
static int load_head(nats_store *s, const char *key, head *h, gn_ckpt_error *err)
{
    kvEntry *e = NULL;
    natsStatus ns = kvStore_Get(&e, s->kv, key);
    if (ns == NATS_NOT_FOUND) {
        /* Never written, or its newest revision is a delete marker: history still counts. */
        h->revision = 0;
        ns = history_max_generation(s, key, &h->generation);
        return ns == NATS_OK ? GENESIS_OK : nats_fail(s, ns, "reading the checkpoint history", err);
    }
    if (ns != NATS_OK)
        return nats_fail(s, ns, "reading the newest checkpoint", err);
    uint64_t gen = 0;
    int64_t created = 0;
    uint32_t crc = 0;
    h->revision = kvEntry_Revision(e);
    bool ours = parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &gen, &created, &crc);
    kvEntry_Destroy(e);
    if (ours) {
        h->generation = gen;
        return GENESIS_OK;
    }
    ns = history_max_generation(s, key, &h->generation);
    return ns == NATS_OK ? GENESIS_OK : nats_fail(s, ns, "reading the checkpoint history", err);
}

static int nats_put(gn_ckpt_store *base, const char *component, const void *data, size_t len,
                    uint64_t *generation, gn_ckpt_error *err)
{
    nats_store *s = (nats_store *)base;
    char key[MAX_KEY];
    if (!gn_kv_key(key, sizeof(key), KEY_PREFIX, component))
        return fail(err, GENESIS_INVALID_ARGUMENT, "component id '%.64s' is too long", component);
    if (len > (size_t)INT32_MAX - GN_NATS_CKPT_HEADER)
        return fail(err, GENESIS_RESOURCE_EXHAUSTED, "checkpoint of '%.64s' too large", component);
    if (natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED)
        return fail(err, GENESIS_UNAVAILABLE,
                    "NATS unavailable (reconnecting): checkpoint of '%.64s' not acknowledged by "
                    "the cluster",
                    component);
    head *h = head_find(s, component);
    if (h == NULL) {
        h = head_add(s, component);
        if (h == NULL)
            return fail(err, GENESIS_RESOURCE_EXHAUSTED, "out of memory");
        int rv = load_head(s, key, h, err);
        if (rv != GENESIS_OK) {
            head_forget(s, component);
            return rv;
        }
    }
    uint64_t gen = h->generation + 1;
    size_t total = GN_NATS_CKPT_HEADER + len;
    uint8_t *v = malloc(total);
    if (v == NULL)
        return fail(err, GENESIS_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(v, MAGIC, sizeof(MAGIC));
    put_u64(v + 4, gen);
    put_u64(v + 12, (uint64_t)gn_wall_ms());
    uint32_t crc = gn_ckpt_checksum(gen, data, len);
    for (int i = 0; i < 4; i++)
        v[20 + i] = (uint8_t)(crc >> (8 * i));
    if (len > 0)
        memcpy(v + GN_NATS_CKPT_HEADER, data, len);
    uint64_t expected = h->revision, rev = 0;
    /* The compare-and-set: against the revision seen last (0: the key must not exist). */
    natsStatus ns = expected == 0 ? kvStore_Create(&rev, s->kv, key, v, (int)total)
                                  : kvStore_Update(&rev, s->kv, key, v, (int)total, expected);
    free(v);
    if (ns == NATS_OK) {
        h->revision = rev;
        h->generation = gen;
        *generation = gen;
        return GENESIS_OK;
    }
    /* Either way the view is read again before the next write. */
    head_forget(s, component);
    if (gn_nats_unreachable(ns, s->nc))
        return nats_fail(s, ns, "writing the checkpoint", err);
    /* Refused: someone else wrote since (or the key is there although we saw none). */
    head now = {0};
    gn_ckpt_error ignored = {0};
    if (load_head(s, key, &now, &ignored) == GENESIS_OK && now.revision != expected) {
        err->reason = GENESIS_REASON_STORAGE_ERROR;
        snprintf(err->message, sizeof(err->message),
                 "compare-and-set refused: generation %llu (revision %llu) was written by another "
                 "node after the revision %llu this write was based on; nothing overwritten",
                 (unsigned long long)now.generation, (unsigned long long)now.revision,
                 (unsigned long long)expected);
        return GENESIS_ABORTED;
    }
    return nats_fail(s, ns, "writing the checkpoint", err);
}

/* Fill out from an entry whose generation is below older_than (0 = any) and whose checksum
 * verifies. Returns 1 when used, 0 when skipped (not ours / too new), -1 when corrupt. */
static int take_entry(kvEntry *e, uint64_t older_than, gn_ckpt_record *out)
{
    if (kvEntry_Operation(e) != kvOp_Put)
        return 0;
    const uint8_t *v = kvEntry_Value(e);
    size_t len = (size_t)kvEntry_ValueLen(e);
    uint64_t gen = 0;
    int64_t created = 0;
    uint32_t crc = 0;
    if (!parse(v, len, &gen, &created, &crc))
        return -1;
    if (older_than > 0 && gen >= older_than)
        return 0;
    size_t n = len - GN_NATS_CKPT_HEADER;
    if (gn_ckpt_checksum(gen, v + GN_NATS_CKPT_HEADER, n) != crc)
        return -1;
    out->data = n > 0 ? malloc(n) : NULL;
    if (n > 0 && out->data == NULL)
        return 0;
    if (n > 0)
        memcpy(out->data, v + GN_NATS_CKPT_HEADER, n);
    out->len = n;
    out->generation = gen;
    out->created_ms = created;
    return 1;
}

static int nats_latest(gn_ckpt_store *base, const char *component, uint64_t older_than,
                       gn_ckpt_record *out, unsigned int *corrupt, gn_ckpt_error *err)
{
    nats_store *s = (nats_store *)base;
    memset(out, 0, sizeof(*out));
    char key[MAX_KEY];
    if (!gn_kv_key(key, sizeof(key), KEY_PREFIX, component))
        return fail(err, GENESIS_NOT_FOUND, "no checkpoint of '%.64s'", component);
    if (natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED)
        return fail(err, GENESIS_UNAVAILABLE,
                    "NATS unavailable (reconnecting): cannot read the checkpoint of '%.64s'",
                    component);
    if (older_than == 0) {
        kvEntry *e = NULL;
        natsStatus ns = kvStore_Get(&e, s->kv, key);
        if (ns == NATS_NOT_FOUND)
            return fail(err, GENESIS_NOT_FOUND, "no checkpoint of '%s'", component);
        if (ns != NATS_OK)
            return nats_fail(s, ns, "reading the newest checkpoint", err);
        int used = take_entry(e, 0, out);
        if (used == 1) {
            /* A reader has the newest view too: its next write builds on it. */
            head *h = head_find(s, component);
            if (h == NULL)
                h = head_add(s, component);
            if (h != NULL) {
                h->revision = kvEntry_Revision(e);
                h->generation = out->generation;
            }
        }
        kvEntry_Destroy(e);
        if (used == 1)
            return GENESIS_OK;
        /* The newest one is unreadable: look further back through the history. */
    }
    kvEntryList list = {0};
    kvWatchOptions wo = gn_kv_watch_bounded(s->timeout_ms);
    natsStatus ns = kvStore_History(&list, s->kv, key, &wo);
    if (ns == NATS_NOT_FOUND)
        return fail(err, GENESIS_NOT_FOUND, "no checkpoint of '%s'", component);
    if (ns != NATS_OK)
        return nats_fail(s, ns, "reading the checkpoint history", err);
    int rv = GENESIS_NOT_FOUND;
    for (int i = list.Count - 1; i >= 0; i--) {
        int used = take_entry(list.Entries[i], older_than, out);
        if (used == 1) {
            rv = GENESIS_OK;
            break;
        }
        if (used < 0) {
            (*corrupt)++;
            err->reason = GENESIS_REASON_CHECKPOINT_CORRUPT;
            snprintf(err->message, sizeof(err->message), "revision %llu of '%s' fails its checksum",
                     (unsigned long long)kvEntry_Revision(list.Entries[i]), component);
        }
    }
    kvEntryList_Destroy(&list);
    if (rv == GENESIS_NOT_FOUND && *corrupt == 0)
        fail(err, GENESIS_NOT_FOUND, "no checkpoint of '%s' older than the one given", component);
    return rv;
}

static int nats_list(gn_ckpt_store *base, gn_ckpt_list_fn fn, void *arg, gn_ckpt_error *err)
{
    nats_store *s = (nats_store *)base;
    kvKeysList keys = {0};
    kvWatchOptions wo = gn_kv_watch_bounded(s->timeout_ms);
    natsStatus ns = kvStore_Keys(&keys, s->kv, &wo);
    if (ns == NATS_NOT_FOUND)
        return GENESIS_OK;
    if (ns != NATS_OK)
        return nats_fail(s, ns, "listing the checkpoints", err);
    gn_kv_keys_unique(&keys);
    int rv = GENESIS_OK;
    for (int k = 0; k < keys.Count && rv == GENESIS_OK; k++) {
        char id[GN_MAX_ID_LEN + 1];
        if (!gn_kv_key_id(id, sizeof(id), KEY_PREFIX, keys.Keys[k]))
            continue;
        kvEntryList list = {0};
        ns = kvStore_History(&list, s->kv, keys.Keys[k], &wo);
        if (ns == NATS_NOT_FOUND)
            continue;
        if (ns != NATS_OK) {
            rv = nats_fail(s, ns, "listing the checkpoints", err);
            break;
        }
        for (int i = list.Count - 1; i >= 0; i--) {
            kvEntry *e = list.Entries[i];
            uint64_t gen = 0;
            int64_t created = 0;
            uint32_t crc = 0;
            if (kvEntry_Operation(e) == kvOp_Put &&
                parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &gen, &created, &crc))
                fn(id, gen, created, (size_t)kvEntry_ValueLen(e) - GN_NATS_CKPT_HEADER, arg);
        }
        kvEntryList_Destroy(&list);
    }
    kvKeysList_Destroy(&keys);
    return rv;
}

static void nats_close(gn_ckpt_store *base)
{
    nats_store *s = (nats_store *)base;
    for (size_t i = 0; i < s->n_heads; i++)
        free(s->heads[i].id);
    free(s->heads);
    kvStore_Destroy(s->kv);
    free(s);
}

static const gn_ckpt_store_ops nats_ops = {
    .name = "nats",
    .put = nats_put,
    .latest = nats_latest,
    .list = nats_list,
    .close = nats_close,
};

int gn_ckpt_store_open_nats(gn_ckpt_store **out, natsConnection *nc, jsCtx *js, const char *bucket,
                            unsigned int keep, uint32_t timeout_ms, gn_ckpt_error *err)
{
    *out = NULL;
    nats_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return fail(err, GENESIS_RESOURCE_EXHAUSTED, "out of memory");
    natsStatus ns = js_KeyValue(&s->kv, js, bucket);
    if (ns != NATS_OK) {
        free(s);
        err->reason = GENESIS_REASON_STORAGE_ERROR;
        return gn_nats_fail(ns, nc, "opening the checkpoint bucket", err->message,
                            sizeof(err->message));
    }
    s->base.ops = &nats_ops;
    s->base.keep = keep > 0 ? keep : 1;
    s->nc = nc;
    s->timeout_ms = timeout_ms;
    *out = &s->base;
    return GENESIS_OK;
}
