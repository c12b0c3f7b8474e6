/* An event-bus subscriber: a SUB socket dialed to a coordinator's bus, a receive loop that
 * decodes frames, and in-order delivery on a worker lane with a bounded queue whose drops are
 * counted. Shared by the client (subscriptions) and the service (local events). */
#ifndef GN_SUBSCRIBER_H
#define GN_SUBSCRIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genesis/message.h"
#include "wire/tls.h"
#include "wire/wire.h"
#include "base/worker_pool.h"

typedef struct gn_subscriber gn_subscriber;

typedef struct gn_subscriber_hooks {
    /* Sees every decoded event on an NNG thread (must not block); false skips it. NULL
     * accepts all. */
    bool (*accept)(const gn_wire_event *ev, void *arg);
    /* Receives accepted events one at a time, in order, on a worker of the pool. */
    void (*deliver)(const genesis_event *ev, void *arg);
    void *arg;
} gn_subscriber_hooks;

/* Open a SUB socket dialed (in the background, reconnecting) to url, or to every URL of a
 * comma-separated list (wire/url_list.h: the buses of several cluster nodes). Nothing is received
 * until the first gn_subscriber_subscribe. hooks is copied; pool must outlive the subscriber. A
 * tls+tcp url uses tls (NULL: refused with a message saying so). */
int gn_subscriber_open(gn_subscriber **out, const char *url, const gn_tls *tls, gn_pool *pool,
                       unsigned int queue_depth, size_t max_message,
                       const gn_subscriber_hooks *hooks);

/* Add a topic prefix ("" = everything) and start receiving. */
int gn_subscriber_subscribe(gn_subscriber *s, const char *prefix);

/* Events lost locally: the delivery queue was full or memory ran out. */
uint64_t gn_subscriber_dropped(gn_subscriber *s);

/* Close the socket, stop receiving, discard queued events and wait for a running delivery.
 * After it returns no hook runs. Then free. Both accept NULL. */
void gn_subscriber_close(gn_subscriber *s);
void gn_subscriber_free(gn_subscriber *s);

#endif /* GN_SUBSCRIBER_H */
