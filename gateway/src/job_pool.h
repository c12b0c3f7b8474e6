/* A few threads (one queue each) for the coordinator calls that block (status, emit): the service
 * thread never waits on the coordinator. A bounded queue: when it is full the caller answers
 * "overloaded" at once instead of piling work up. */
#ifndef GW_JOB_POOL_H
#define GW_JOB_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xthread_queue.h"

enum gw_job_kind {
    GW_JOB_STATUS = 1,  /* genesis_client_status for /v1/status, /metrics, /readyz */
    GW_JOB_EMIT_TO = 2, /* genesis_client_emit_to for a WebSocket client's message */
    GW_JOB_ADMIN = 3    /* an operator command (genesis_*_admin) for /v1/admin/... */
};

typedef struct gw_job_pool gw_job_pool;

/* run(arg, item) executes item->job on a pool thread and then owns the item. */
typedef void (*gw_job_fn)(void *arg, gw_item *item);

int gw_job_pool_new(gw_job_pool **out, unsigned int threads, size_t max_queued, gw_job_fn run,
                    void *arg);
/* Queue a job; jobs with the same key run one at a time, in order. False when that queue is
 * full or the pool is stopping (item not taken). */
bool gw_job_pool_submit(gw_job_pool *p, gw_item *item, uint64_t key);
/* Run what is queued, join the threads and free. Accepts NULL. */
void gw_job_pool_free(gw_job_pool *p);

#endif /* GW_JOB_POOL_H */
