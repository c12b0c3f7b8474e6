/* See deadline.h. The thread starts with the first timer, so a coordinator that never routes
 * an in-process request has none. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/deadline.h"

struct gn_deadlines {
    pthread_mutex_t lock;
    pthread_cond_t cv; /* CLOCK_MONOTONIC: a new earliest timer, or stopping */
    gn_deadline **heap;
    size_t n, cap;
    pthread_t thread;
    bool started, stopping;
};

int64_t gn_deadline_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void place(gn_deadlines *ds, size_t i, gn_deadline *d)
{
    ds->heap[i] = d;
    d->slot = i;
}

static void sift_up(gn_deadlines *ds, size_t i)
{
    gn_deadline *d = ds->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (ds->heap[parent]->at_ns <= d->at_ns)
            break;
        place(ds, i, ds->heap[parent]);
        i = parent;
    }
    place(ds, i, d);
}

static void sift_down(gn_deadlines *ds, size_t i)
{
    gn_deadline *d = ds->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= ds->n)
            break;
        if (child + 1 < ds->n && ds->heap[child + 1]->at_ns < ds->heap[child]->at_ns)
            child++;
        if (ds->heap[child]->at_ns >= d->at_ns)
            break;
        place(ds, i, ds->heap[child]);
        i = child;
    }
    place(ds, i, d);
}

/* Under the lock: take d out of the heap. */
static void heap_remove(gn_deadlines *ds, gn_deadline *d)
{
    size_t i = d->slot;
    d->slot = GN_DEADLINE_IDLE;
    gn_deadline *last = ds->heap[--ds->n];
    if (i == ds->n)
        return;
    place(ds, i, last);
    if (i > 0 && ds->heap[(i - 1) / 2]->at_ns > last->at_ns)
        sift_up(ds, i);
    else
        sift_down(ds, i);
}

static void *timer_main(void *arg)
{
    gn_deadlines *ds = arg;
    pthread_mutex_lock(&ds->lock);
    while (!ds->stopping) {
        if (ds->n == 0) {
            pthread_cond_wait(&ds->cv, &ds->lock);
            continue;
        }
        gn_deadline *d = ds->heap[0];
        int64_t now = gn_deadline_now_ns();
        if (d->at_ns > now) {
            struct timespec until = {.tv_sec = (time_t)(d->at_ns / 1000000000),
                                     .tv_nsec = (long)(d->at_ns % 1000000000)};
            pthread_cond_timedwait(&ds->cv, &ds->lock, &until);
            continue;
        }
        heap_remove(ds, d);
        pthread_mutex_unlock(&ds->lock);
        d->fire(d); /* may arm or cancel other timers */
        pthread_mutex_lock(&ds->lock);
    }
    pthread_mutex_unlock(&ds->lock);
    return NULL;
}

gn_deadlines *gn_deadlines_new(void)
{
    gn_deadlines *ds = calloc(1, sizeof(*ds));
    if (ds == NULL)
        return NULL;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ds->cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&ds->lock, NULL);
    return ds;
}

void gn_deadlines_free(gn_deadlines *ds)
{
    if (ds == NULL)
        return;
    pthread_mutex_lock(&ds->lock);
    ds->stopping = true;
    bool started = ds->started;
    pthread_cond_signal(&ds->cv);
    pthread_mutex_unlock(&ds->lock);
    if (started)
        pthread_join(ds->thread, NULL);
    for (size_t i = 0; i < ds->n; i++)
        ds->heap[i]->slot = GN_DEADLINE_IDLE;
    free(ds->heap);
    pthread_cond_destroy(&ds->cv);
    pthread_mutex_destroy(&ds->lock);
    free(ds);
}

/* Under the lock. The default stack: timer callbacks can reach a user's log callback (Python,
 * Go) as NNG's threads did. */
static bool start_thread(gn_deadlines *ds)
{
    ds->started = pthread_create(&ds->thread, NULL, timer_main, ds) == 0;
    return ds->started;
}

bool gn_deadline_arm(gn_deadlines *ds, gn_deadline *d, uint32_t ms, void (*fire)(gn_deadline *))
{
    return gn_deadline_arm_at(ds, d, gn_deadline_now_ns() + (int64_t)ms * 1000000, fire);
}

bool gn_deadline_arm_at(gn_deadlines *ds, gn_deadline *d, int64_t at_ns,
                        void (*fire)(gn_deadline *))
{
    d->at_ns = at_ns;
    d->fire = fire;
    pthread_mutex_lock(&ds->lock);
    if ((!ds->started && !start_thread(ds)) || ds->stopping) {
        pthread_mutex_unlock(&ds->lock);
        d->slot = GN_DEADLINE_IDLE;
        return false;
    }
    if (ds->n == ds->cap) {
        size_t cap = ds->cap > 0 ? ds->cap * 2 : 64;
        gn_deadline **heap = realloc(ds->heap, cap * sizeof(*heap));
        if (heap == NULL) {
            pthread_mutex_unlock(&ds->lock);
            d->slot = GN_DEADLINE_IDLE;
            return false;
        }
        ds->heap = heap;
        ds->cap = cap;
    }
    place(ds, ds->n++, d);
    sift_up(ds, ds->n - 1);
    if (d->slot == 0)
        pthread_cond_signal(&ds->cv); /* the thread sleeps until a later time */
    pthread_mutex_unlock(&ds->lock);
    return true;
}

bool gn_deadline_cancel(gn_deadlines *ds, gn_deadline *d)
{
    pthread_mutex_lock(&ds->lock);
    bool armed = d->slot != GN_DEADLINE_IDLE;
    if (armed)
        heap_remove(ds, d);
    pthread_mutex_unlock(&ds->lock);
    return armed;
}
