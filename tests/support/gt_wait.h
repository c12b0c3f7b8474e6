/* Waiting for conditions without sleeping blindly: bounded polling, counters and gates that
 * tests and handlers block on with a timeout. Timeouts only bound a failure; a passing test
 * never waits for them to expire. */
#ifndef GT_WAIT_H
#define GT_WAIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Generous bound for anything that should happen "soon": only reached when a test fails, so it
 * can be large enough for sanitizer builds on a loaded machine. */
#define GT_WAIT_MS 10000

/* Monotonic milliseconds. */
int64_t gt_now_ms(void);

/* Sleep for ms milliseconds. Only for pacing polls and for simulated work in handlers; never
 * to wait for something to happen. */
void gt_sleep_ms(int ms);

/* Poll pred(arg) until it returns true (-> true) or timeout_ms passed (-> false). Polls often
 * at first, then backs off to 10 ms. */
bool gt_wait_until(bool (*pred)(void *arg), void *arg, int timeout_ms);

/* A counter that threads can wait on. */
typedef struct gt_counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long value;
} gt_counter;

void gt_counter_init(gt_counter *c);
void gt_counter_destroy(gt_counter *c);
/* Add n and wake waiters; returns the new value. */
long gt_counter_add(gt_counter *c, long n);
long gt_counter_get(gt_counter *c);
/* Wait until value >= at_least; false on timeout. */
bool gt_counter_wait(gt_counter *c, long at_least, int timeout_ms);

/* A gate handlers block on until the test opens it (or the bound passes). */
typedef struct gt_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
} gt_gate;

void gt_gate_init(gt_gate *g);
void gt_gate_destroy(gt_gate *g);
void gt_gate_open(gt_gate *g);
/* Block until the gate is open; false if timeout_ms passed first. */
bool gt_gate_wait(gt_gate *g, int timeout_ms);

#endif /* GT_WAIT_H */
