/* genesisd cluster nodes as child processes (see gt_genesisd.h). */
#include <stdio.h>
#include <string.h>

#include "gt_genesisd.h"

int gt_genesisd_start(gt_genesisd *n, const char *path, const char *nats_urls, const char *id,
                      const char *front_door, const char *event_bus, int lease_ttl_ms,
                      int timeout_ms)
{
    return gt_genesisd_start_with(n, path, nats_urls, id, front_door, event_bus, lease_ttl_ms,
                                  timeout_ms, NULL);
}

int gt_genesisd_start_with(gt_genesisd *n, const char *path, const char *nats_urls, const char *id,
                           const char *front_door, const char *event_bus, int lease_ttl_ms,
                           int timeout_ms, const char *const *extra)
{
    char ttl[16], fd[256], bus[256];
    snprintf(ttl, sizeof(ttl), "%d", lease_ttl_ms);
    snprintf(n->id, sizeof(n->id), "%s", id);
    snprintf(fd, sizeof(fd), "%s", front_door); /* may alias n->front_door */
    snprintf(bus, sizeof(bus), "%s", event_bus);
    const char *argv[48] = {
        path,  "--cluster-nats", nats_urls, "--node-id", id,  "--cluster-lease-ttl",
        ttl,   "--front-door",   fd,        "--events",  bus, "--http",
        "off", "--log-level",    "error"};
    size_t argc = 15;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && argc < 47; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    if (gt_process_spawn(&n->proc, argv, GT_CAPTURE_STDOUT) != 0) {
        perror("genesisd");
        return -1;
    }
    char line[1024] = "";
    if (!gt_process_wait_line(&n->proc, "ready ", line, sizeof(line), timeout_ms) ||
        sscanf(line, "ready front_door=%255s event_bus=%255s", n->front_door, n->event_bus) != 2) {
        fprintf(stderr, "genesisd %s never printed its ready line (got \"%s\")\n", id, line);
        gt_process_kill(&n->proc);
        return -1;
    }
    return 0;
}

void gt_genesisd_kill(gt_genesisd *n)
{
    gt_process_kill(&n->proc);
}

int gt_genesisd_restart(gt_genesisd *n, const char *path, const char *nats_urls, int lease_ttl_ms,
                        int timeout_ms)
{
    char id[16];
    snprintf(id, sizeof(id), "%s", n->id);
    /* Once: a renewal the killed node had in flight when it died must not make the new
     * process take the id for a live node's (node_lease.c waits for a second renewal). */
    return gt_genesisd_start(n, path, nats_urls, id, n->front_door, n->event_bus, lease_ttl_ms,
                             timeout_ms);
}

void gt_genesisd_urls(const gt_genesisd *nodes, int n, bool event_bus, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i > 0 ? "," : "",
                         event_bus ? nodes[i].event_bus : nodes[i].front_door);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
