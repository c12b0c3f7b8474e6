/* Restart backoff and intensity of supervised children (see restart_policy.h). */
#include "restart_policy.h"

#include <stdlib.h>

#include "supervisor.h"

uint32_t supervisor_backoff_ms(unsigned int attempt, uint32_t initial_ms, uint32_t max_ms,
                               uint32_t random)
{
    uint64_t bound = initial_ms;
    for (unsigned int i = 0; i < attempt && bound < max_ms; i++)
        bound *= 2;
    if (bound > max_ms)
        bound = max_ms;
    return bound == 0 ? 0 : (uint32_t)(random % (bound + 1));
}

int restart_window_init(restart_window *w, unsigned int max_restarts)
{
    w->size = max_restarts > 0 ? max_restarts : 1;
    w->count = 0;
    w->times = calloc(w->size, sizeof(*w->times));
    return w->times != NULL ? 0 : -1;
}

void restart_window_free(restart_window *w)
{
    free(w->times);
    w->times = NULL;
}

unsigned int restart_window_recent(const restart_window *w, int64_t now_ms, uint32_t window_ms)
{
    unsigned int recent = 0;
    unsigned int kept = w->count < w->size ? w->count : w->size;
    for (unsigned int i = 0; i < kept; i++) {
        if (now_ms - w->times[i] < (int64_t)window_ms)
            recent++;
    }
    return recent;
}

void restart_window_record(restart_window *w, int64_t now_ms)
{
    /* NOLINTNEXTLINE(clang-analyzer-core.DivideZero): size >= 1 from restart_window_init */
    w->times[w->count % w->size] = now_ms;
    w->count++;
}

void restart_window_reset(restart_window *w)
{
    w->count = 0;
}

uint32_t restart_jitter_next(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x != 0 ? x : 0x9e3779b9u;
    return *state;
}
