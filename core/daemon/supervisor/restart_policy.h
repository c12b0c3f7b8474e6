/* When the supervisor restarts a child: jittered exponential backoff between failed starts,
 * and the restart intensity (Erlang/OTP's: more than R restarts within T marks the child
 * FAILED). Pure bookkeeping over times the caller passes in, so it is tested without clocks. */
#ifndef GENESIS_RESTART_POLICY_H
#define GENESIS_RESTART_POLICY_H

#include <stdint.h>

/* The times of the last restarts of one child: a ring of R entries (only the last R matter
 * for "more than R within T"). */
typedef struct restart_window {
    int64_t *times;
    unsigned int size;
    unsigned int count; /* restarts recorded since the last reset */
} restart_window;

/* A window for max_restarts (at least one slot). Returns 0, or -1 when out of memory. */
int restart_window_init(restart_window *w, unsigned int max_restarts);
void restart_window_free(restart_window *w);

/* Restarts recorded within window_ms before now_ms. */
unsigned int restart_window_recent(const restart_window *w, int64_t now_ms, uint32_t window_ms);

/* Record a restart at now_ms. */
void restart_window_record(restart_window *w, int64_t now_ms);

/* Forget every restart (an operator's restart opens a fresh window). */
void restart_window_reset(restart_window *w);

/* The next value of a xorshift32 generator whose state is *state (never 0): jitter only,
 * not security. */
uint32_t restart_jitter_next(uint32_t *state);

#endif /* GENESIS_RESTART_POLICY_H */
