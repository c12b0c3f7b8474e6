/* The gateway's own section of GET /v1/status: the coordinator's status document with a
 * "gateway" object added (its connections and their caps, which are otherwise only in
 * /metrics). */
#ifndef GW_STATUS_SECTION_H
#define GW_STATUS_SECTION_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw_status_section {
    unsigned int connections;        /* network connections open, HTTP and WebSocket */
    unsigned int connection_cap;     /* more are closed at once */
    uint64_t connections_refused;    /* closed at once because the cap was reached */
    unsigned int websocket_sessions; /* WebSocket sessions open */
    unsigned int websocket_cap;      /* --max-ws-clients: more upgrades get 503 */
} gw_status_section;

/* doc (n bytes, the coordinator's status JSON object) with "gateway": {...} added, as a new
 * malloc'd text (*out_len its length). NULL when doc is not a JSON object or out of memory:
 * the caller serves doc unchanged. */
char *gw_status_with_section(const char *doc, size_t n, const gw_status_section *s,
                             size_t *out_len);

#endif /* GW_STATUS_SECTION_H */
