/* The supervisor's state, shared by its files: supervisor.c (the thread: start, reap, health,
 * restart, stop), supervisor_config.c (children from flags), supervisor_reload.c (children
 * added and removed live) and supervisor_admin.c (the "supervisor." Admin commands). */
#ifndef GENESIS_SUPERVISOR_INTERNAL_H
#define GENESIS_SUPERVISOR_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "restart_policy.h"
#include "supervisor.h"

#define SV_MAX_CHILDREN 64
#define SV_MAX_ARGS     64
#define SV_MAX_ENV      64
#define SV_MAX_ID_LEN   128
#define SV_ADMIN_PREFIX "supervisor."

enum child_state { ST_STOPPED = 0, ST_RUNNING, ST_BACKOFF, ST_FAILED };

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

/* On the supervisor thread: apply what supervisor_adopt / supervisor_retire queued. */
void sv_apply_reload_changes(supervisor *s);

/* The "supervisor." Admin handler (arg is the supervisor). */
void sv_on_admin(const char *command, const char *const *args, size_t nargs, genesis_reply *reply,
                 void *arg);

#endif /* GENESIS_SUPERVISOR_INTERNAL_H */
