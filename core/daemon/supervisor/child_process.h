/* Starting one supervised child process: fork and exec with its own environment, working
 * directory and process group, tied to the supervisor's life (PR_SET_PDEATHSIG), and the
 * description of how it ended. No state: the supervisor decides when. */
#ifndef GENESIS_CHILD_PROCESS_H
#define GENESIS_CHILD_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What to run. The strings are the caller's and only read. */
typedef struct child_command {
    const char *id;    /* becomes GENESIS_COMPONENT_ID */
    char *const *argv; /* NULL-terminated; argv[0] without '/' is looked up in PATH */
    char *const *env;  /* n_env "KEY=VALUE" entries that override the inherited ones */
    size_t n_env;
    const char *cwd; /* NULL = the supervisor's */
    /* When set: called in the parent after fork, before the child may exec (it waits for
     * that). false kills the child unstarted and fails the spawn. The fence arms itself here,
     * so that no child runs unguarded even if the supervisor stops right after the fork. */
    bool (*before_exec)(pid_t pid, void *arg);
    void *before_exec_arg;
} child_command;

/* Fork and exec cmd with GENESIS_FRONT_DOOR / GENESIS_EVENT_BUS set to the URLs, in a new
 * process group, stdout redirected to stderr. Returns the pid once exec succeeded, or -1
 * with a reason in why (nothing is left running). Call with SIGCHLD blocked. */
pid_t child_process_spawn(const child_command *cmd, const char *front_door, const char *event_bus,
                          char *why, size_t why_size);

/* "exited with status 1", "killed by signal 9 (Killed)" from a wait status. */
void child_process_describe_exit(int status, char *buf, size_t size);

#endif /* GENESIS_CHILD_PROCESS_H */
