/* Child processes for integration tests: spawn with captured stdout/stderr, read lines with a
 * timeout, signal, and always kill and reap (also when a test fails half-way: call
 * gt_process_kill_all from the group or test teardown).
 *
 * Children get PR_SET_PDEATHSIG(SIGKILL), so even a test binary killed by ctest's timeout does
 * not leave them behind. Spawn from the main thread only (the death signal follows the thread
 * that forked). */
#ifndef GT_PROCESS_H
#define GT_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
    GT_CAPTURE_STDOUT = 1 << 0, /* pipe the child's stdout to out_fd (else inherited) */
    GT_CAPTURE_STDERR = 1 << 1, /* pipe the child's stderr to err_fd (else inherited) */
};

typedef struct gt_process {
    pid_t pid; /* 0 when not running / reaped */
    int out_fd;
    int err_fd;
    char out_buf[8192]; /* stdout read so far and not yet returned as a line */
    size_t out_len;
    int wait_status; /* waitpid status once reaped */
} gt_process;

/* Start argv[0] (a path) with argv. Returns 0, or -1 with errno set. */
int gt_process_spawn(gt_process *p, const char *const argv[], unsigned flags);

/* Read one line of the child's stdout (without the newline) into line. False on timeout, EOF
 * or error (then line holds whatever partial text arrived). */
bool gt_process_read_line(gt_process *p, char *line, size_t size, int timeout_ms);

/* Read stdout lines until one starts with prefix; false on timeout / EOF. */
bool gt_process_wait_line(gt_process *p, const char *prefix, char *line, size_t size,
                          int timeout_ms);

/* Send a signal (no-op if already reaped). Returns 0 or -1. */
int gt_process_signal(gt_process *p, int sig);

/* Wait up to timeout_ms for the child to exit and reap it. True if it exited on its own;
 * p->wait_status holds its status. False on timeout: the child is still running. */
bool gt_process_wait(gt_process *p, int timeout_ms);

/* SIGKILL and reap (idempotent), close the pipes. */
void gt_process_kill(gt_process *p);

/* SIGKILL and reap every child spawned by this process that is still unreaped. */
void gt_process_kill_all(void);

/* Run a command to completion, capturing stdout and stderr (NUL-terminated, truncated to the
 * buffer sizes; either buffer may be NULL). *exit_code receives the exit code, or 128+signal.
 * Returns 0, or -1 if it could not be started or ran past timeout_ms (then it is killed). */
int gt_run(const char *const argv[], int timeout_ms, int *exit_code, char *out, size_t out_size,
           char *err, size_t err_size);

/* True if path names an executable file. */
bool gt_executable(const char *path);

/* Find an executable in $PATH; copies its full path into buf. */
bool gt_find_in_path(const char *name, char *buf, size_t size);

#endif /* GT_PROCESS_H */
