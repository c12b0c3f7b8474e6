/* Thread-safe id -> entry map, read-mostly: every request looks a component up, components are
 * registered and removed rarely. Lookups take no lock: they probe an open-addressing table
 * (FNV-1a, linear probing, at most half its positions used) published through an atomic
 * pointer. Writers are serialised by a mutex. An insert fills an empty position in place (a
 * lookup sees the slot or not, never half of it); a removal marks its slot removed in place
 * (a tombstone). When the table is full of slots and tombstones, a writer builds a new one,
 * publishes it, and waits for a grace period (every lookup that may still read the old table
 * has finished) before freeing the old table and the tombstones: two reader counts, one per
 * epoch parity, as in userspace RCU. A removal also waits for a grace period, so it returns
 * only once no lookup can still hand the removed entry out unretained. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/common.h"
#include "base/registry.h"

typedef struct slot {
    _Atomic(void *) entry; /* NULL once removed: a tombstone until the next rebuild */
    uint32_t hash;
    char id[]; /* NUL-terminated */
} slot;

typedef struct table {
    size_t mask;         /* capacity - 1; capacity a power of two */
    size_t used;         /* positions holding a slot, live or removed (writers only) */
    atomic_size_t count; /* live slots */
    _Atomic(slot *) slots[];
} table;

struct gn_registry {
    pthread_mutex_t lock; /* writers */
    _Atomic(table *) current;
    atomic_uint epoch;
    atomic_uint readers[2]; /* lookups in progress, by the parity of the epoch they entered */
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

/* ---- readers ------------------------------------------------------------------------------ */

static table *read_begin(gn_registry *r, unsigned int *parity)
{
    for (;;) {
        unsigned int e = atomic_load(&r->epoch);
        atomic_fetch_add(&r->readers[e & 1], 1);
        if (atomic_load(&r->epoch) == e) {
            *parity = e & 1;
            return atomic_load(&r->current);
        }
        atomic_fetch_sub(&r->readers[e & 1], 1); /* a writer moved on: enter the new epoch */
    }
}

static void read_end(gn_registry *r, unsigned int parity)
{
    atomic_fetch_sub(&r->readers[parity], 1);
}

static slot *find_live(const table *t, const char *id, uint32_t hash)
{
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        slot *s = atomic_load(&t->slots[i]);
        if (s == NULL)
            return NULL;
        if (s->hash == hash && atomic_load(&s->entry) != NULL && strcmp(s->id, id) == 0)
            return s;
    }
}

/* ---- writers (under the lock) ------------------------------------------------------------- */

/* Room for twice live, so that inserts in place follow a rebuild. */
static table *table_new(size_t live)
{
    size_t cap = 16;
    while (cap < 4 * live)
        cap *= 2;
    table *t = calloc(1, sizeof(*t) + cap * sizeof(slot *));
    if (t != NULL)
        t->mask = cap - 1;
    return t;
}

static bool has_room(const table *t)
{
    return 2 * (t->used + 1) <= t->mask + 1;
}

/* Into an empty position; the slot is complete before a lookup can find it. */
static void table_put(table *t, slot *s)
{
    size_t i = s->hash & t->mask;
    while (atomic_load(&t->slots[i]) != NULL)
        i = (i + 1) & t->mask;
    atomic_store(&t->slots[i], s);
    t->used++;
    atomic_fetch_add(&t->count, 1);
}

/* The live slots of old (removed ones left out) plus add (may be NULL); NULL when out of
 * memory. */
static table *rebuild(const table *old, slot *add)
{
    table *t = table_new(atomic_load(&old->count) + (add != NULL));
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i <= old->mask; i++) {
        slot *s = atomic_load(&old->slots[i]);
        if (s != NULL && atomic_load(&s->entry) != NULL)
            table_put(t, s);
    }
    if (add != NULL)
        table_put(t, add);
    return t;
}

/* Publish t (may be the current table: then only the grace period) and wait until no lookup
 * can still read what was current before. */
static void publish(gn_registry *r, table *t)
{
    atomic_store(&r->current, t);
    unsigned int e = atomic_fetch_add(&r->epoch, 1);
    while (atomic_load(&r->readers[e & 1]) != 0)
        sched_yield(); /* lookups are a few hundred instructions */
}

/* After a rebuild was published: free the old table and the removed slots it still held. */
static void retire(table *old)
{
    for (size_t i = 0; i <= old->mask; i++) {
        slot *s = atomic_load(&old->slots[i]);
        if (s != NULL && atomic_load(&s->entry) == NULL)
            free(s);
    }
    free(old);
}

/* ---- API ----------------------------------------------------------------------------------- */

gn_registry *gn_registry_new(void (*retain)(void *entry))
{
    gn_registry *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    table *t = table_new(0);
    if (t == NULL) {
        free(r);
        return NULL;
    }
    atomic_init(&r->current, t);
    pthread_mutex_init(&r->lock, NULL);
    r->retain = retain;
    return r;
}

void gn_registry_free(gn_registry *r)
{
    if (r == NULL)
        return;
    table *t = atomic_load(&r->current);
    for (size_t i = 0; i <= t->mask; i++)
        free(atomic_load(&t->slots[i]));
    free(t);
    pthread_mutex_destroy(&r->lock);
    free(r);
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
    atomic_init(&s->entry, entry);
    pthread_mutex_lock(&r->lock);
    table *old = atomic_load(&r->current);
    if (find_live(old, id, hash) != NULL) {
        pthread_mutex_unlock(&r->lock);
        free(s);
        return GENESIS_ALREADY_EXISTS;
    }
    if (has_room(old)) {
        table_put(old, s); /* no grace period: nothing is freed */
        pthread_mutex_unlock(&r->lock);
        return GENESIS_OK;
    }
    table *t = rebuild(old, s);
    if (t == NULL) {
        pthread_mutex_unlock(&r->lock);
        free(s);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    publish(r, t);
    retire(old);
    pthread_mutex_unlock(&r->lock);
    return GENESIS_OK;
}

void *gn_registry_lookup(gn_registry *r, const char *id)
{
    if (id == NULL)
        return NULL;
    uint32_t hash = fnv1a(id);
    unsigned int parity;
    table *t = read_begin(r, &parity);
    slot *s = find_live(t, id, hash);
    void *entry = s != NULL ? atomic_load(&s->entry) : NULL;
    if (entry != NULL && r->retain != NULL)
        r->retain(entry);
    read_end(r, parity);
    return entry;
}

void *gn_registry_remove(gn_registry *r, const char *id, void *expected)
{
    if (id == NULL)
        return NULL;
    uint32_t hash = fnv1a(id);
    pthread_mutex_lock(&r->lock);
    table *old = atomic_load(&r->current);
    slot *s = find_live(old, id, hash);
    void *entry = s != NULL ? atomic_load(&s->entry) : NULL;
    if (entry == NULL || (expected != NULL && entry != expected)) {
        pthread_mutex_unlock(&r->lock);
        return NULL;
    }
    atomic_store(&s->entry, NULL); /* a tombstone: lookups from here on miss it */
    GN_ASSERT(atomic_load(&old->count) > 0);
    atomic_fetch_sub(&old->count, 1);
    /* The grace period: no lookup still holds entry unretained. The tombstone is freed with
     * the table at the next rebuild. */
    publish(r, old);
    pthread_mutex_unlock(&r->lock);
    return entry;
}

size_t gn_registry_count(gn_registry *r)
{
    unsigned int parity;
    table *t = read_begin(r, &parity);
    size_t n = atomic_load(&t->count);
    read_end(r, parity);
    return n;
}

size_t gn_registry_snapshot(gn_registry *r, void **out, size_t max)
{
    size_t n = 0;
    unsigned int parity;
    table *t = read_begin(r, &parity);
    for (size_t i = 0; i <= t->mask && n < max; i++) {
        slot *s = atomic_load(&t->slots[i]);
        void *entry = s != NULL ? atomic_load(&s->entry) : NULL;
        if (entry == NULL)
            continue;
        if (r->retain != NULL)
            r->retain(entry);
        out[n++] = entry;
    }
    read_end(r, parity);
    return n;
}
