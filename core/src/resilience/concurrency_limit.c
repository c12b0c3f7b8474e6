/* The adaptive concurrency limit (see concurrency_limit.h). */
#include "resilience/concurrency_limit.h"

void gn_climit_init(gn_climit *l, unsigned int initial)
{
    pthread_mutex_init(&l->lock, NULL);
    atomic_init(&l->in_flight, 0);
    atomic_init(&l->limit, initial > 0 ? initial : 1);
    l->estimate = initial > 0 ? initial : 1;
    l->noload_us = l->recent_us = l->min_prev_us = l->min_cur_us = 0;
    l->samples = 0;
}

void gn_climit_destroy(gn_climit *l)
{
    pthread_mutex_destroy(&l->lock);
}

unsigned int gn_climit_limit(gn_climit *l, unsigned int max)
{
    unsigned int limit = atomic_load(&l->limit);
    return limit < max ? limit : max;
}

bool gn_climit_acquire(gn_climit *l, unsigned int max)
{
    unsigned int limit = gn_climit_limit(l, max);
    unsigned int cur = atomic_load(&l->in_flight);
    do {
        if (cur >= limit)
            return false;
    } while (!atomic_compare_exchange_weak(&l->in_flight, &cur, cur + 1));
    return true;
}

/* Under the lock: the latency trackers. The no-load latency is a windowed minimum: the
 * smallest of this window and the previous one. */
static void track(gn_climit *l, double us)
{
    if (l->samples % GN_CLIMIT_WINDOW == 0) {
        l->min_prev_us = l->min_cur_us;
        l->min_cur_us = 0;
    }
    if (l->min_cur_us <= 0 || us < l->min_cur_us)
        l->min_cur_us = us;
    l->noload_us =
        l->min_prev_us > 0 && l->min_prev_us < l->min_cur_us ? l->min_prev_us : l->min_cur_us;
    l->recent_us = l->recent_us <= 0 ? us : l->recent_us * 0.9 + us * 0.1;
}

/* Square root by Newton's method (limits are 1..65536): keeps libm out of the library. */
static double square_root(double x)
{
    double r = x > 1 ? x / 2 : 1;
    for (int i = 0; i < 24; i++)
        r = 0.5 * (r + x / r);
    return r;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void gn_climit_release(gn_climit *l, int kind, unsigned int max, uint64_t latency_us, bool dropped)
{
    unsigned int in_flight = atomic_fetch_sub(&l->in_flight, 1);
    if (kind == GN_CLIMIT_OFF || max == 0)
        return;
    double us = latency_us > 0 ? (double)latency_us : 1;
    pthread_mutex_lock(&l->lock);
    track(l, us);
    l->samples++;
    double limit = l->estimate;
    if (kind == GN_CLIMIT_AIMD) {
        if (dropped || us > 2 * l->noload_us)
            limit = limit * 0.9;
        else if ((double)in_flight * 2 >= limit)
            limit = limit + 1;
    } else if (dropped) {
        limit = limit * 0.9;
    } else {
        /* Gradient2, with its default tolerance of 1.5 times the no-load latency. */
        double gradient = clamp(l->noload_us * 1.5 / l->recent_us, 0.5, 1.0);
        double next = limit * gradient + square_root(limit);
        limit = limit * 0.8 + next * 0.2; /* smoothing */
    }
    l->estimate = clamp(limit, 1, max);
    atomic_store(&l->limit, (unsigned int)l->estimate);
    pthread_mutex_unlock(&l->lock);
}
