/* Result delivery and sync-over-async waiting (see completion.h). */
#include <pthread.h>
#include <stdlib.h>

#include "base/completion.h"

typedef struct deferred {
    gn_task task;
    genesis_result_fn fn;
    void *arg;
    genesis_result *res;
} deferred;

static void deferred_run(gn_task *t)
{
    deferred *d = (deferred *)t;
    d->fn(d->res, d->arg);
}

static void deferred_free(gn_task *t)
{
    free(t);
}

void gn_deliver_result(gn_pool *pool, genesis_result_fn fn, void *arg, bool run_inline,
                       genesis_result *res)
{
    if (!run_inline) {
        deferred *d = malloc(sizeof(*d));
        if (d != NULL) {
            *d = (deferred){.task = {.run = deferred_run, .finish = deferred_free},
                            .fn = fn,
                            .arg = arg,
                            .res = res};
            if (gn_pool_submit(pool, &d->task) == 0)
                return;
            free(d);
        }
    }
    fn(res, arg);
}

void gn_waiter_init(gn_waiter *w)
{
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->done = false;
    w->res = NULL;
}

gn_waiter *gn_waiter_new(void)
{
    gn_waiter *w = malloc(sizeof(*w));
    if (w != NULL)
        gn_waiter_init(w);
    return w;
}

void gn_waiter_wake(genesis_result *res, void *arg)
{
    gn_waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->res = res;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->lock);
}

genesis_result *gn_waiter_wait_on(gn_waiter *w)
{
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->lock);
    /* The waker unlocks after signalling: taking the lock once more means it is done with w. */
    pthread_mutex_unlock(&w->lock);
    genesis_result *res = w->res;
    gn_waiter_destroy(w);
    return res;
}

genesis_result *gn_waiter_wait(gn_waiter *w)
{
    genesis_result *res = gn_waiter_wait_on(w);
    free(w);
    return res;
}

void gn_waiter_destroy(gn_waiter *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->lock);
}

void gn_waiter_free(gn_waiter *w)
{
    if (w == NULL)
        return;
    gn_waiter_destroy(w);
    free(w);
}
