/* The component registry: a thread-safe map from component id to an entry owned by the
 * coordinator. Entries are reference counted by their owner; the registry retains an entry
 * (through the retain callback) before handing it out, and a removal returns only once no
 * lookup can still hand the removed entry out, so a lookup can never race a removal into a
 * use-after-free. Lookups, counts and snapshots take no lock (read-mostly, see registry.c);
 * inserts and removals are serialised and wait for lookups in progress to finish. */
#ifndef GN_REGISTRY_H
#define GN_REGISTRY_H

#include <stddef.h>

typedef struct gn_registry gn_registry;

/* retain is called for every entry returned by lookup / snapshot, before the registry can let
 * the entry's removal return; it must not block or call back into the registry. */
gn_registry *gn_registry_new(void (*retain)(void *entry));
/* Frees the map; entries still inside are not touched (remove them first). Accepts NULL. */
void gn_registry_free(gn_registry *r);

/* Insert entry under id (copied). Returns GENESIS_OK, GENESIS_ALREADY_EXISTS if the id is
 * taken, GENESIS_INVALID_ARGUMENT for an invalid id, GENESIS_RESOURCE_EXHAUSTED on OOM. */
int gn_registry_insert(gn_registry *r, const char *id, void *entry);

/* The entry under id, retained, or NULL. */
void *gn_registry_lookup(gn_registry *r, const char *id);

/* Remove id and return its entry (the registry's reference passes to the caller), or NULL.
 * If expected is not NULL, remove only when the current entry is expected. */
void *gn_registry_remove(gn_registry *r, const char *id, void *expected);

size_t gn_registry_count(gn_registry *r);

/* Copy up to max retained entries into out (in no particular order); returns how many. */
size_t gn_registry_snapshot(gn_registry *r, void **out, size_t max);

#endif /* GN_REGISTRY_H */
