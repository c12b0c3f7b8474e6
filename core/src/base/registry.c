/* Thread-safe id -> entry map (chained hash table, FNV-1a, doubles at load factor 1). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/common.h"
#include "base/registry.h"

typedef struct slot {
    struct slot *next;
    void *entry;
    uint32_t hash;
    char id[]; /* NUL-terminated */
} slot;

struct gn_registry {
    pthread_mutex_t lock;
    slot **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    void (*retain)(void *entry);
};

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

gn_registry *gn_registry_new(void (*retain)(void *entry))
{
    gn_registry *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->nbuckets = 16;
    r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
    if (r->buckets == NULL) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->retain = retain;
    return r;
}

void gn_registry_free(gn_registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        slot *s = r->buckets[i];
        while (s != NULL) {
            slot *next = s->next;
            free(s);
            s = next;
        }
    }
    free(r->buckets);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static slot **find(gn_registry *r, const char *id, uint32_t hash)
{
    slot **pp = &r->buckets[hash & (r->nbuckets - 1)];
    while (*pp != NULL && ((*pp)->hash != hash || strcmp((*pp)->id, id) != 0))
        pp = &(*pp)->next;
    return pp;
}

/* Doubling is best effort: on allocation failure the table stays valid, only slower. */
static void grow(gn_registry *r)
{
    size_t n = r->nbuckets * 2;
    slot **nb = calloc(n, sizeof(*nb));
    if (nb == NULL)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        slot *s = r->buckets[i];
        while (s != NULL) {
            slot *next = s->next;
            s->next = nb[s->hash & (n - 1)];
            nb[s->hash & (n - 1)] = s;
            s = next;
        }
    }
    free(r->buckets);
    r->buckets = nb;
    r->nbuckets = n;
}

int gn_registry_insert(gn_registry *r, const char *id, void *entry)
{
    if (!gn_valid_id(id))
        return GENESIS_INVALID_ARGUMENT;
    uint32_t hash = fnv1a(id);
    size_t len = strlen(id) + 1;
    slot *s = malloc(sizeof(*s) + len);
    if (s == NULL)
        return GENESIS_RESOURCE_EXHAUSTED;
    memcpy(s->id, id, len);
    s->hash = hash;
    s->entry = entry;
    pthread_mutex_lock(&r->lock);
    slot **pp = find(r, id, hash);
    if (*pp != NULL) {
        pthread_mutex_unlock(&r->lock);
        free(s);
        return GENESIS_ALREADY_EXISTS;
    }
    s->next = NULL;
    *pp = s;
    if (++r->count > r->nbuckets)
        grow(r);
    pthread_mutex_unlock(&r->lock);
    return GENESIS_OK;
}

void *gn_registry_lookup(gn_registry *r, const char *id)
{
    if (id == NULL)
        return NULL;
    uint32_t hash = fnv1a(id);
    void *entry = NULL;
    pthread_mutex_lock(&r->lock);
    slot *s = *find(r, id, hash);
    if (s != NULL) {
        entry = s->entry;
        if (r->retain != NULL)
            r->retain(entry);
    }
    pthread_mutex_unlock(&r->lock);
    return entry;
}

void *gn_registry_remove(gn_registry *r, const char *id, void *expected)
{
    if (id == NULL)
        return NULL;
    uint32_t hash = fnv1a(id);
    void *entry = NULL;
    pthread_mutex_lock(&r->lock);
    slot **pp = find(r, id, hash);
    slot *s = *pp;
    if (s != NULL && (expected == NULL || s->entry == expected)) {
        *pp = s->next;
        entry = s->entry;
        GN_ASSERT(r->count > 0);
        r->count--;
    } else {
        s = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    free(s);
    return entry;
}

size_t gn_registry_count(gn_registry *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

size_t gn_registry_snapshot(gn_registry *r, void **out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nbuckets && n < max; i++) {
        for (slot *s = r->buckets[i]; s != NULL && n < max; s = s->next) {
            if (r->retain != NULL)
                r->retain(s->entry);
            out[n++] = s->entry;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return n;
}
