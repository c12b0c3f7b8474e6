/* Worker threads that run blocking work (handlers, event callbacks, completion callbacks)
 * off NNG's callback threads.
 *
 * Work is queued on lanes. A lane is a FIFO with its own concurrency limit and queue bound;
 * lanes take turns on the workers (round robin), so one busy component cannot starve another,
 * and a lane with limit 1 delivers in order (events). The pool grows from its initial size up
 * to its maximum when every worker is busy, so handlers that block only hold their own lane's
 * share of threads. */
#ifndef GN_WORKER_POOL_H
#define GN_WORKER_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/fifo.h"

typedef struct gn_pool gn_pool;

/* An intrusive unit of work. run does the work; finish (optional) runs after the lane's
 * bookkeeping, so it may release whatever owns the lane. */
typedef struct gn_task {
    gn_fifo_link link; /* in its lane's queue */
    void (*run)(struct gn_task *task);
    void (*finish)(struct gn_task *task);
} gn_task;

/* Take the next task out of a list returned by gn_lane_close; NULL when it is empty. */
static inline gn_task *gn_task_pop(gn_fifo *list)
{
    gn_fifo_link *link = gn_fifo_pop(list);
    return link != NULL ? GN_FIFO_ENTRY(link, gn_task, link) : NULL;
}

#define GN_LANE_UNBOUNDED (~0u)

typedef struct gn_lane {
    gn_pool *pool;
    gn_fifo tasks;           /* waiting, of gn_task */
    gn_fifo_link ready_link; /* on the pool's ready list */
    unsigned int running;
    unsigned int limit;      /* max tasks running at once (>= 1) */
    unsigned int max_queued; /* waiting tasks at most (0: none wait); GN_LANE_UNBOUNDED */
    bool listed;             /* on the pool's ready list */
    bool closed;             /* submissions refused */
} gn_lane;

gn_pool *gn_pool_new(unsigned int initial_threads, unsigned int max_threads);
/* Run every queued task, then join the threads and free. Accepts NULL. Lanes must not be
 * submitted to concurrently with or after this call. */
void gn_pool_free(gn_pool *pool);

void gn_lane_init(gn_lane *lane, gn_pool *pool, unsigned int limit, unsigned int max_queued);

/* Change a lane's limits at run time (queued and running tasks are kept). */
void gn_lane_set_limits(gn_lane *lane, unsigned int limit, unsigned int max_queued);

/* Queue a task. GENESIS_OK, or GENESIS_RESOURCE_EXHAUSTED when the lane's queue is full, or
 * GENESIS_UNAVAILABLE when the lane is closed. On error the task is not queued. */
int gn_lane_submit(gn_lane *lane, gn_task *task);
/* gn_lane_submit that also reports the tasks waiting in the lane once this one is queued
 * (for queue warnings, without taking the lock again). */
int gn_lane_submit_counted(gn_lane *lane, gn_task *task, unsigned int *queued);

/* Run one task's worth of work on the calling thread instead of a worker: takes one of the
 * lane's running slots when one is free, nothing is queued ahead and the lane is open (the
 * lane's limits hold as for queued work). On true, *prev receives what gn_lane_leave needs
 * back; the caller runs its work and then calls gn_lane_leave. gn_lane_wait_idle waits for
 * such work too, except from inside it. */
bool gn_lane_enter(gn_lane *lane, gn_lane **prev);
void gn_lane_leave(gn_lane *lane, gn_lane *prev);

/* Close the lane to new tasks and return the tasks still queued (take them out with
 * gn_task_pop), which the caller now owns. Running tasks are unaffected. */
gn_fifo gn_lane_close(gn_lane *lane);

/* Wait until no task of this lane is running. Returns at once when called from one of the
 * lane's own tasks (it would wait for itself). */
void gn_lane_wait_idle(gn_lane *lane);

/* Snapshot of the lane's counters. */
void gn_lane_counts(gn_lane *lane, unsigned int *queued, unsigned int *running);

/* The pool's shared lane: unbounded queue, unlimited concurrency (completion callbacks). */
int gn_pool_submit(gn_pool *pool, gn_task *task);

/* True when the calling thread is one of this pool's workers. */
bool gn_pool_is_worker(gn_pool *pool);

#endif /* GN_WORKER_POOL_H */
