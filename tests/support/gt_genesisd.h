/* A genesisd cluster node as a child process, for the cluster tests and benchmarks: started on
 * given (or free, port 0) front door and event bus URLs with a NATS cluster's URLs, killed with
 * -9 and started again on the same URLs, so callers holding a fixed list of front doors find it
 * again. Spawn from the main thread only (gt_process.h). */
#ifndef GT_GENESISD_H
#define GT_GENESISD_H

#include <stdbool.h>
#include <stddef.h>

#include "gt_process.h"

typedef struct gt_genesisd {
    gt_process proc;
    char id[16];
    char front_door[256]; /* the bound URLs, from its ready line */
    char event_bus[256];
} gt_genesisd;

/* Start genesisd (path) as cluster node id on nats_urls with a lease TTL of lease_ttl_ms, on
 * front_door and event_bus ("tcp://127.0.0.1:0" picks free ports), and wait up to timeout_ms
 * for its ready line (a node restarted under its id first waits out its previous lease).
 * Returns 0, or -1 with a message on stderr (the process is killed). */
int gt_genesisd_start(gt_genesisd *n, const char *path, const char *nats_urls, const char *id,
                      const char *front_door, const char *event_bus, int lease_ttl_ms,
                      int timeout_ms);

/* The same with more arguments for genesisd (NULL-terminated, at most 32; NULL for none),
 * for example "--demo" or a "--supervise" spec. */
int gt_genesisd_start_with(gt_genesisd *n, const char *path, const char *nats_urls, const char *id,
                           const char *front_door, const char *event_bus, int lease_ttl_ms,
                           int timeout_ms, const char *const *extra);

/* kill -9, and start it again under the same id on the same URLs (once: see node_lease.c). */
void gt_genesisd_kill(gt_genesisd *n);
int gt_genesisd_restart(gt_genesisd *n, const char *path, const char *nats_urls, int lease_ttl_ms,
                        int timeout_ms);

/* Append the front doors (or event buses) of nodes[0..n) to buf, comma-separated. */
void gt_genesisd_urls(const gt_genesisd *nodes, int n, bool event_bus, char *buf, size_t size);

#endif /* GT_GENESISD_H */
