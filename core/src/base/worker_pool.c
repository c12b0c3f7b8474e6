/* Lanes over a growable pool of worker threads (see worker_pool.h). One mutex guards the
 * pool and every lane: tasks here are handler calls, orders of magnitude longer than the
 * critical sections. */
#include <pthread.h>
#include <stdlib.h>

#include "base/assert.h"
#include "base/common.h"
#include "base/worker_pool.h"

struct gn_pool {
    pthread_mutex_t lock;
    pthread_cond_t work_cv; /* ready list became non-empty, or stopping */
    pthread_cond_t idle_cv; /* some lane's running count reached zero */
    gn_fifo ready;          /* of gn_lane (ready_link): lanes with a task that may start */
    gn_lane shared;
    pthread_t *threads;
    unsigned int nthreads, max_threads, idle;
    bool stopping;
};

static _Thread_local gn_pool *tls_pool;
static _Thread_local gn_lane *tls_lane;

static void make_ready(gn_pool *p, gn_lane *lane)
{
    GN_ASSERT(!lane->listed);
    lane->listed = true;
    gn_fifo_push(&p->ready, &lane->ready_link);
}

static gn_lane *take_ready(gn_pool *p)
{
    gn_fifo_link *link = gn_fifo_pop(&p->ready);
    if (link == NULL)
        return NULL;
    gn_lane *lane = GN_FIFO_ENTRY(link, gn_lane, ready_link);
    GN_ASSERT(lane->listed);
    lane->listed = false;
    return lane;
}

static void *worker_main(void *arg);

/* Called with the lock held. Best effort: if a thread cannot be created, existing workers
 * still drain the queue. */
static void maybe_grow(gn_pool *p)
{
    if (p->idle > 0 || p->nthreads >= p->max_threads || p->stopping)
        return;
    if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) == 0)
        p->nthreads++;
}

/* Called with the lock held whenever work may be waiting: wake an idle worker, or, when every
 * worker is busy (possibly blocked in a handler), start another one. */
static void wake_or_grow(gn_pool *p)
{
    if (gn_fifo_empty(&p->ready))
        return;
    if (p->idle > 0)
        pthread_cond_signal(&p->work_cv);
    else
        maybe_grow(p);
}

static void *worker_main(void *arg)
{
    gn_pool *p = arg;
    tls_pool = p;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        gn_lane *lane = take_ready(p);
        if (lane == NULL) {
            if (p->stopping)
                break;
            p->idle++;
            pthread_cond_wait(&p->work_cv, &p->lock);
            p->idle--;
            continue;
        }
        if (gn_fifo_empty(&lane->tasks) || lane->running >= lane->limit) {
            /* Emptied by gn_lane_close, or relisted when a running task ends. */
            if (lane->running == 0)
                pthread_cond_broadcast(&p->idle_cv);
            continue;
        }
        gn_task *t = gn_task_pop(&lane->tasks);
        lane->running++;
        if (!gn_fifo_empty(&lane->tasks) && lane->running < lane->limit)
            make_ready(p, lane); /* round robin: back of the line */
        wake_or_grow(p);
        pthread_mutex_unlock(&p->lock);

        tls_lane = lane;
        t->run(t);
        tls_lane = NULL;

        pthread_mutex_lock(&p->lock);
        GN_ASSERT(lane->running > 0);
        lane->running--;
        if (!gn_fifo_empty(&lane->tasks) && !lane->listed && lane->running < lane->limit)
            make_ready(p, lane);
        if (lane->running == 0)
            pthread_cond_broadcast(&p->idle_cv);
        pthread_mutex_unlock(&p->lock);
        if (t->finish != NULL)
            t->finish(t);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

gn_pool *gn_pool_new(unsigned int initial_threads, unsigned int max_threads)
{
    if (initial_threads == 0)
        initial_threads = 1;
    if (max_threads < initial_threads)
        max_threads = initial_threads;
    gn_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->threads = calloc(max_threads, sizeof(*p->threads));
    if (p->threads == NULL) {
        free(p);
        return NULL;
    }
    p->max_threads = max_threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->idle_cv, NULL);
    gn_fifo_init(&p->ready);
    gn_lane_init(&p->shared, p, ~0u, GN_LANE_UNBOUNDED);
    pthread_mutex_lock(&p->lock);
    for (unsigned int i = 0; i < initial_threads; i++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) == 0)
            p->nthreads++;
    }
    unsigned int started = p->nthreads;
    pthread_mutex_unlock(&p->lock);
    if (started == 0) {
        gn_pool_free(p);
        return NULL;
    }
    return p;
}

void gn_pool_free(gn_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work_cv);
    unsigned int n = p->nthreads;
    pthread_mutex_unlock(&p->lock);
    for (unsigned int i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->idle_cv);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}

void gn_lane_init(gn_lane *lane, gn_pool *pool, unsigned int limit, unsigned int max_queued)
{
    lane->pool = pool;
    gn_fifo_init(&lane->tasks);
    lane->ready_link.next = NULL;
    lane->running = 0;
    lane->limit = limit > 0 ? limit : 1;
    lane->max_queued = max_queued;
    lane->listed = false;
    lane->closed = false;
}

void gn_lane_set_limits(gn_lane *lane, unsigned int limit, unsigned int max_queued)
{
    gn_pool *p = lane->pool;
    pthread_mutex_lock(&p->lock);
    lane->limit = limit > 0 ? limit : 1;
    lane->max_queued = max_queued;
    /* A higher limit may let queued tasks start now. */
    if (!lane->listed && !gn_fifo_empty(&lane->tasks) && lane->running < lane->limit) {
        make_ready(p, lane);
        wake_or_grow(p);
    }
    pthread_mutex_unlock(&p->lock);
}

int gn_lane_submit(gn_lane *lane, gn_task *task)
{
    unsigned int queued;
    return gn_lane_submit_counted(lane, task, &queued);
}

int gn_lane_submit_counted(gn_lane *lane, gn_task *task, unsigned int *queued)
{
    gn_pool *p = lane->pool;
    pthread_mutex_lock(&p->lock);
    if (lane->closed || p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return GENESIS_UNAVAILABLE;
    }
    /* The bound is limit running plus max_queued waiting. Counting queued + running (not only
     * queued once all slots run) keeps it when workers have not yet picked up queued tasks. */
    if (lane->max_queued != GN_LANE_UNBOUNDED &&
        (uint64_t)gn_fifo_count(&lane->tasks) + lane->running >=
            (uint64_t)lane->limit + lane->max_queued) {
        pthread_mutex_unlock(&p->lock);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    gn_fifo_push(&lane->tasks, &task->link);
    *queued = (unsigned int)gn_fifo_count(&lane->tasks);
    if (!lane->listed && lane->running < lane->limit)
        make_ready(p, lane);
    wake_or_grow(p);
    pthread_mutex_unlock(&p->lock);
    return GENESIS_OK;
}

bool gn_lane_enter(gn_lane *lane, gn_lane **prev)
{
    gn_pool *p = lane->pool;
    pthread_mutex_lock(&p->lock);
    bool ok =
        !lane->closed && !p->stopping && lane->running < lane->limit && gn_fifo_empty(&lane->tasks);
    if (ok)
        lane->running++;
    pthread_mutex_unlock(&p->lock);
    if (ok) {
        *prev = tls_lane;
        tls_lane = lane;
    }
    return ok;
}

void gn_lane_leave(gn_lane *lane, gn_lane *prev)
{
    gn_pool *p = lane->pool;
    tls_lane = prev;
    pthread_mutex_lock(&p->lock);
    GN_ASSERT(lane->running > 0);
    lane->running--;
    /* Work queued meanwhile may start now. */
    if (!gn_fifo_empty(&lane->tasks) && !lane->listed && lane->running < lane->limit) {
        make_ready(p, lane);
        wake_or_grow(p);
    }
    if (lane->running == 0)
        pthread_cond_broadcast(&p->idle_cv);
    pthread_mutex_unlock(&p->lock);
}

gn_fifo gn_lane_close(gn_lane *lane)
{
    gn_pool *p = lane->pool;
    pthread_mutex_lock(&p->lock);
    lane->closed = true;
    gn_fifo list = gn_fifo_take_all(&lane->tasks);
    pthread_mutex_unlock(&p->lock);
    return list;
}

void gn_lane_wait_idle(gn_lane *lane)
{
    if (tls_lane == lane)
        return;
    gn_pool *p = lane->pool;
    pthread_mutex_lock(&p->lock);
    while (lane->running > 0 || lane->listed)
        pthread_cond_wait(&p->idle_cv, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void gn_lane_counts(gn_lane *lane, unsigned int *queued, unsigned int *running)
{
    gn_pool *p = lane->pool;
    pthread_mutex_lock(&p->lock);
    if (queued != NULL)
        *queued = (unsigned int)gn_fifo_count(&lane->tasks);
    if (running != NULL)
        *running = lane->running;
    pthread_mutex_unlock(&p->lock);
}

int gn_pool_submit(gn_pool *pool, gn_task *task)
{
    return gn_lane_submit(&pool->shared, task);
}

bool gn_pool_is_worker(gn_pool *pool)
{
    return tls_pool == pool;
}
