/* Delivery of a result to a genesis_result_fn: inline, or on a pool worker so user callbacks
 * never run on NNG's threads. */
#ifndef GN_COMPLETION_H
#define GN_COMPLETION_H

#include <pthread.h>
#include <stdbool.h>

#include "genesis/message.h"
#include "base/worker_pool.h"

/* Runs fn(res, arg) exactly once: on a worker of pool unless run_inline (or when the pool
 * refuses the task, e.g. out of memory, in which case it runs on the calling thread). */
void gn_deliver_result(gn_pool *pool, genesis_result_fn fn, void *arg, bool run_inline,
                       genesis_result *res);

/* A one-shot rendezvous for the synchronous variants of asynchronous calls. */
typedef struct gn_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool done;
    genesis_result *res;
} gn_waiter;
gn_waiter *gn_waiter_new(void);
/* A waiter in the caller's storage (a sync call's stack frame): init, then wait_on, which
 * returns the result and destroys the waiter. */
void gn_waiter_init(gn_waiter *w);
genesis_result *gn_waiter_wait_on(gn_waiter *w);
/* Destroy an initialised waiter nobody will wake (the call never started). */
void gn_waiter_destroy(gn_waiter *w);
/* genesis_result_fn that hands res to the waiter (arg = the waiter). */
void gn_waiter_wake(genesis_result *res, void *arg);
/* Wait for the result, free the waiter, return the result. */
genesis_result *gn_waiter_wait(gn_waiter *w);
void gn_waiter_free(gn_waiter *w);

#endif /* GN_COMPLETION_H */
