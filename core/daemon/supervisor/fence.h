/* The fence: a small process, forked by the supervisor of a cluster node, that SIGKILLs a
 * child's process group when the ownership it runs under is no longer known to be valid. It
 * runs apart from genesisd so that a genesisd that is paused (SIGSTOP, a debugger, swapped out)
 * or too slow still stops its children in time: the supervisor arms the fence with each
 * child's deadline (CLOCK_BOOTTIME ms, as genesis_cluster_owner gives it) and moves it forward
 * on every renewal; a deadline the fence reaches kills the group. When genesisd dies (its end
 * of the socket closes) the fence kills every armed group and exits.
 *
 * Threading: the supervisor thread only. */
#ifndef GENESIS_FENCE_H
#define GENESIS_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct fence {
    pid_t pid; /* the fence process; 0 = none */
    int fd;    /* our end of its socket; -1 = none */
} fence;

/* Fork the fence. 0, or -1 with a reason in why. Call with SIGCHLD blocked. */
int fence_start(fence *f, char *why, size_t why_size);

/* Kill group pgid at until_ms (CLOCK_BOOTTIME ms) unless moved again; until_ms 0 disarms.
 * False when the fence cannot be told (it died). */
bool fence_arm(fence *f, pid_t pgid, int64_t until_ms);

/* True once the fence process exited (reaped here; f is then empty). */
bool fence_died(fence *f);

/* Close the socket (the fence kills what is still armed and exits) and reap it. */
void fence_stop(fence *f);

/* CLOCK_BOOTTIME milliseconds: counts time the machine was suspended, as the NATS servers'
 * clocks do. */
int64_t fence_now_ms(void);

#endif /* GENESIS_FENCE_H */
