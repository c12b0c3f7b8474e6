/* Per-try timers of in-process attempts: one thread and a min-heap of intrusive entries per
 * coordinator. Arming and cancelling take one short mutex and allocate nothing; a cancelled
 * timer never runs its callback, so completing an attempt costs no thread hand-off (an NNG
 * sleep aio per attempt cost an allocation, a callback on an NNG thread when cancelled and a
 * deferred free). Callbacks run on the timer thread, one at a time, and must not block. */
#ifndef GN_DEADLINE_H
#define GN_DEADLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gn_deadlines gn_deadlines;

typedef struct gn_deadline {
    int64_t at_ns; /* CLOCK_MONOTONIC */
    size_t slot;   /* position in the heap; GN_DEADLINE_IDLE when not armed */
    void (*fire)(struct gn_deadline *d);
} gn_deadline;

#define GN_DEADLINE_IDLE ((size_t)-1)

gn_deadlines *gn_deadlines_new(void);
/* Stop the thread and free. Armed timers are dropped without firing: call it only once
 * nothing can be armed any more and nothing armed is still waited for. Accepts NULL. */
void gn_deadlines_free(gn_deadlines *ds);

/* Arm d to call fire(d) on the timer thread after ms milliseconds. d must not be armed.
 * Returns false when the timer thread cannot be started (out of resources). */
bool gn_deadline_arm(gn_deadlines *ds, gn_deadline *d, uint32_t ms, void (*fire)(gn_deadline *));

/* The same at an absolute time of gn_deadline_now_ns()'s clock. */
bool gn_deadline_arm_at(gn_deadlines *ds, gn_deadline *d, int64_t at_ns,
                        void (*fire)(gn_deadline *));
int64_t gn_deadline_now_ns(void);

/* Disarm d. True when it was still armed (fire will never run); false when it has fired or
 * is firing now (fire runs or ran exactly once). */
bool gn_deadline_cancel(gn_deadlines *ds, gn_deadline *d);

#endif /* GN_DEADLINE_H */
