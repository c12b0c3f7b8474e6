/* Small helpers around cnats shared by the cluster files: turning a natsStatus into a Genesis
 * status with a message, and the key encoding of component ids. */
#ifndef GN_NATS_UTIL_H
#define GN_NATS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <nats/nats.h>

/* Map a failed cnats call onto a Genesis status: GENESIS_UNAVAILABLE when NATS could not be
 * reached or did not answer in time (the outcome of a write is then unknown), else
 * GENESIS_INTERNAL. msg receives "<what>: <cnats text>". */
int gn_nats_fail(natsStatus s, natsConnection *nc, const char *what, char *msg, size_t size);

/* True when s says the server could not be reached or did not answer. */
bool gn_nats_unreachable(natsStatus s, natsConnection *nc);

/* "<prefix><id>" with '.' written as '=' (ids are [A-Za-z0-9._-]; KV keys are tokens separated
 * by dots and may hold '='). False if it does not fit. */
bool gn_kv_key(char *buf, size_t size, const char *prefix, const char *id);
/* The inverse: the id of a key that starts with prefix; false for other keys. */
bool gn_kv_key_id(char *buf, size_t size, const char *prefix, const char *key);

/* Watch options for kvStore_Keys and kvStore_History bounded by timeout_ms: without a
 * Timeout cnats waits for ever for the watcher's initial batch, and that batch never comes
 * when the consumer behind it was on a NATS node that died. NATS_TIMEOUT then says so. */
kvWatchOptions gn_kv_watch_bounded(int64_t timeout_ms);

/* Sort a kvStore_Keys list and drop repeated keys (a key updated while the list is read can
 * be delivered twice). */
void gn_kv_keys_unique(kvKeysList *keys);

#endif /* GN_NATS_UTIL_H */
