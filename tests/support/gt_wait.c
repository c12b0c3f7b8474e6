/* Bounded waits: polling, counters and gates on a monotonic clock. */
#include "gt_wait.h"

#include <errno.h>
#include <time.h>

int64_t gt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gt_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

bool gt_wait_until(bool (*pred)(void *arg), void *arg, int timeout_ms)
{
    int64_t deadline = gt_now_ms() + timeout_ms;
    int pause = 1;
    for (;;) {
        if (pred(arg))
            return true;
        if (gt_now_ms() >= deadline)
            return pred(arg);
        gt_sleep_ms(pause);
        if (pause < 10)
            pause *= 2;
    }
}

/* Absolute CLOCK_MONOTONIC time timeout_ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

void gt_counter_init(gt_counter *c)
{
    pthread_mutex_init(&c->mu, NULL);
    cond_init_monotonic(&c->cv);
    c->value = 0;
}

void gt_counter_destroy(gt_counter *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

long gt_counter_add(gt_counter *c, long n)
{
    pthread_mutex_lock(&c->mu);
    c->value += n;
    long v = c->value;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return v;
}

long gt_counter_get(gt_counter *c)
{
    pthread_mutex_lock(&c->mu);
    long v = c->value;
    pthread_mutex_unlock(&c->mu);
    return v;
}

bool gt_counter_wait(gt_counter *c, long at_least, int timeout_ms)
{
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&c->mu);
    int rv = 0;
    while (c->value < at_least && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&c->cv, &c->mu, &until);
    bool ok = c->value >= at_least;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void gt_gate_init(gt_gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    cond_init_monotonic(&g->cv);
    g->open = false;
}

void gt_gate_destroy(gt_gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

void gt_gate_open(gt_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

bool gt_gate_wait(gt_gate *g, int timeout_ms)
{
    struct timespec until = deadline_in(timeout_ms);
    pthread_mutex_lock(&g->mu);
    int rv = 0;
    while (!g->open && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&g->cv, &g->mu, &until);
    bool open = g->open;
    pthread_mutex_unlock(&g->mu);
    return open;
}
