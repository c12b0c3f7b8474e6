/* The supervisor's state, shared by its files: supervisor.c (the thread: start, reap, health,
 * restart, stop), supervisor_config.c (children from flags), supervisor_reload.c (children
 * added and removed live) and supervisor_admin.c (the "supervisor." Admin commands). */
#ifndef GENESIS_SUPERVISOR_INTERNAL_H
#define GENESIS_SUPERVISOR_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fence.h"
#include "restart_policy.h"
#include "supervisor.h"

#define SV_MAX_CHILDREN 64
#define SV_MAX_ARGS     64
#define SV_MAX_ENV      64
#define SV_MAX_ID_LEN   128
#define SV_ADMIN_PREFIX "supervisor."

/* ST_STANDBY: cluster mode only, another node owns the child (or nobody yet). */
enum child_state { ST_STOPPED = 0, ST_RUNNING, ST_BACKOFF, ST_FAILED, ST_STANDBY };

typedef struct child {
    char id[SV_MAX_ID_LEN + 1];
    char *argv[SV_MAX_ARGS + 1];
    char *env[SV_MAX_ENV];
    size_t n_env;
    char *cwd;

    int state;
    pid_t pid;
    int64_t started_ms;
    bool seen_up;                  /* this incarnation registered (was healthy once) */
    uint64_t registrations_before; /* the coordinator's registration number at its start */
    int64_t down_since_ms;         /* 0 = healthy (or not yet seen) */
    char kill_reason[128];      /* set when the supervisor killed it: overrides the wait status */
    int64_t next_start_ms;      /* BACKOFF: when to start */
    unsigned int failed_starts; /* consecutive incarnations that never became healthy */
    restart_window window;      /* recent restarts (intensity) */
    uint64_t restarts;
    char last_exit[300];
    bool operator_restart; /* Admin asked for a restart */
    bool retire;           /* a reload removed it: stop it and drop it, never restart */
    int64_t retire_ms;     /* when it was sent SIGTERM for that (SIGKILL after grace_ms) */
    /* cluster mode */
    uint64_t token;      /* fencing token of the ownership it runs (or last ran) under */
    int64_t owned_until; /* that ownership's deadline (fence_now_ms), as armed in the fence */
    bool owner_lost;     /* killed because the ownership ended: STANDBY once reaped */
    bool contending;     /* genesis_cluster_own succeeded for it */
} child;

struct supervisor {
    genesis_coordinator *co;
    supervisor_options o;
    child children[SV_MAX_CHILDREN];
    size_t n;
    char front_door[512];
    char event_bus[512];

    pthread_mutex_t lock; /* guards operator_restart and retire flags, pending, stopping, and
                             changes to children/n (the thread still reads them unlocked: it is
                             the only writer) */
    child *pending[SV_MAX_CHILDREN]; /* added by a reload, started by the thread */
    size_t n_pending;
    bool stopping;
    bool started;
    bool joined;
    pthread_t thread;
    int sigfd;
    int wakefd;
    uint32_t rng;
    fence fence;   /* cluster mode: kills children whose ownership ended (fence.h) */
    child *arming; /* the child being started (its deadline goes to the fence) */
};

/* Monotonic milliseconds. */
int64_t sv_now_ms(void);

/* Format a one-%s message into why and return -1. */
int sv_fail(char *why, size_t size, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));

child *sv_find_child(supervisor *s, const char *id);

/* "RUNNING", "BACKOFF", ... */
const char *sv_state_name(int state);

/* Tell the coordinator (the status report) about c's state. */
void sv_report(supervisor *s, child *c);

/* Start an incarnation of c now (on the supervisor thread). */
void sv_start_child(supervisor *s, child *c);

/* Free what c owns (argv, env, cwd, restart window). */
void sv_child_free(child *c);

/* Wake the supervisor thread. */
void sv_wake(supervisor *s);

/* Kill a running child's process group; the reap reports it with this reason. */
void sv_kill_child(child *c, const char *reason);

/* Cluster mode (supervisor_ownership.c), all on the supervisor thread. sv_ownership_start:
 * the fence, and contending for every child. sv_may_start: whether c may start now (this node
 * owns it; c->token and c->owned_until are set), else c becomes STANDBY. sv_ownership_check:
 * each loop: kill children whose ownership ended, start STANDBY ones this node now owns, move
 * the fence's deadlines. sv_ownership_reaped: c's process ended (disarm the fence); true when
 * it ended because the ownership did (c is STANDBY). sv_ownership_stop: release everything. */
int sv_ownership_start(supervisor *s, char *why, size_t why_size);
bool sv_may_start(supervisor *s, child *c);
void sv_ownership_check(supervisor *s);
bool sv_ownership_reaped(supervisor *s, child *c);
void sv_ownership_stop(supervisor *s);

/* On the supervisor thread: apply what supervisor_adopt / supervisor_retire queued. */
void sv_apply_reload_changes(supervisor *s);

/* The "supervisor." Admin handler (arg is the supervisor). */
void sv_on_admin(const char *command, const char *const *args, size_t nargs, genesis_reply *reply,
                 void *arg);

#endif /* GENESIS_SUPERVISOR_INTERNAL_H */
