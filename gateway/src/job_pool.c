/* Worker threads for blocking coordinator calls (see job_pool.h). One queue per thread, so
 * jobs with the same key (one WebSocket client's messages) run in submission order. */
#include "job_pool.h"
#include "gw_internal.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct lane {
    struct gw_job_pool *pool;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    gn_fifo items; /* of gw_item */
    bool stopping;
    bool started;
    pthread_t thread;
} lane;

struct gw_job_pool {
    size_t max_queued; /* per lane */
    gw_job_fn run;
    void *arg;
    unsigned int n_lanes;
    lane lanes[];
};

static void *worker(void *p_)
{
    lane *l = p_;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (gn_fifo_empty(&l->items) && !l->stopping)
            pthread_cond_wait(&l->cv, &l->lock);
        gw_item *it = gw_item_pop(&l->items);
        if (it == NULL)
            break; /* stopping and drained */
        pthread_mutex_unlock(&l->lock);
        l->pool->run(l->pool->arg, it);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

int gw_job_pool_new(gw_job_pool **out, unsigned int threads, size_t max_queued, gw_job_fn run,
                    void *arg)
{
    *out = NULL;
    if (threads == 0)
        threads = 1;
    gw_job_pool *p = calloc(1, sizeof(*p) + threads * sizeof(lane));
    if (p == NULL)
        return GENESIS_RESOURCE_EXHAUSTED;
    p->max_queued = max_queued / threads + 1;
    p->run = run;
    p->arg = arg;
    for (unsigned int i = 0; i < threads; i++) {
        lane *l = &p->lanes[i];
        l->pool = p;
        pthread_mutex_init(&l->lock, NULL);
        pthread_cond_init(&l->cv, NULL);
        gn_fifo_init(&l->items);
        p->n_lanes++;
        if (gw_thread_start(&l->thread, worker, l, "gw:job") != 0) {
            gw_job_pool_free(p);
            return GENESIS_RESOURCE_EXHAUSTED;
        }
        l->started = true;
    }
    *out = p;
    return GENESIS_OK;
}

bool gw_job_pool_submit(gw_job_pool *p, gw_item *item, uint64_t key)
{
    lane *l = &p->lanes[key % p->n_lanes];
    pthread_mutex_lock(&l->lock);
    if (l->stopping || gn_fifo_count(&l->items) >= p->max_queued) {
        pthread_mutex_unlock(&l->lock);
        return false;
    }
    gn_fifo_push(&l->items, &item->link);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->lock);
    return true;
}

void gw_job_pool_free(gw_job_pool *p)
{
    if (p == NULL)
        return;
    for (unsigned int i = 0; i < p->n_lanes; i++) {
        lane *l = &p->lanes[i];
        pthread_mutex_lock(&l->lock);
        l->stopping = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->lock);
    }
    for (unsigned int i = 0; i < p->n_lanes; i++) {
        lane *l = &p->lanes[i];
        if (l->started)
            pthread_join(l->thread, NULL);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->lock);
    }
    free(p);
}
