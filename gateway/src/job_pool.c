/* Worker threads for blocking coordinator calls (see job_pool.h). */
#include "job_pool.h"

#include <pthread.h>
#include <stdlib.h>

struct gw_job_pool {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    gw_item *head, *tail;
    size_t queued, max_queued;
    bool stopping;
    gw_job_fn run;
    void *arg;
    unsigned int n_threads;
    pthread_t threads[];
};

static void *worker(void *p_)
{
    gw_job_pool *p = p_;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->lock);
        if (p->head == NULL)
            break; /* stopping and drained */
        gw_item *it = p->head;
        p->head = it->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        it->next = NULL;
        p->run(p->arg, it);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int gw_job_pool_new(gw_job_pool **out, unsigned int threads, size_t max_queued, gw_job_fn run,
                    void *arg)
{
    *out = NULL;
    gw_job_pool *p = calloc(1, sizeof(*p) + threads * sizeof(pthread_t));
    if (p == NULL)
        return GENESIS_RESOURCE_EXHAUSTED;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->max_queued = max_queued;
    p->run = run;
    p->arg = arg;
    for (unsigned int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            gw_job_pool_free(p);
            return GENESIS_RESOURCE_EXHAUSTED;
        }
        p->n_threads++;
    }
    *out = p;
    return GENESIS_OK;
}

bool gw_job_pool_submit(gw_job_pool *p, gw_item *item)
{
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->queued >= p->max_queued) {
        pthread_mutex_unlock(&p->lock);
        return false;
    }
    item->next = NULL;
    if (p->tail != NULL)
        p->tail->next = item;
    else
        p->head = item;
    p->tail = item;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->lock);
    return true;
}

void gw_job_pool_free(gw_job_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->lock);
    for (unsigned int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
