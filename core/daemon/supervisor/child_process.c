/* Fork and exec of one supervised child (see child_process.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* execvpe, pipe2 */
#endif

#include "child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool env_overridden(const child_command *c, const char *entry)
{
    /* NOTIFY_SOCKET is genesisd's own line to its service manager: not the child's. */
    static const char *const ours[] = {
        "GENESIS_FRONT_DOOR=", "GENESIS_EVENT_BUS=", "GENESIS_COMPONENT_ID=", "NOTIFY_SOCKET="};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
        if (strncmp(entry, ours[i], strlen(ours[i])) == 0)
            return true;
    }
    for (size_t i = 0; i < c->n_env; i++) {
        size_t key = (size_t)(strchr(c->env[i], '=') - c->env[i]) + 1;
        if (strncmp(entry, c->env[i], key) == 0)
            return true;
    }
    return false;
}

/* The child's environment: ours minus what is overridden, plus the URLs and its extras.
 * Built before fork (nothing but async-signal-safe calls may run in the child). */
static char **build_env(const child_command *c, const char *front_door, const char *event_bus,
                        char *fd_var, char *bus_var, char *id_var, size_t var_size)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **envp = calloc(n + c->n_env + 4, sizeof(*envp));
    if (envp == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!env_overridden(c, environ[i]))
            envp[k++] = environ[i];
    }
    snprintf(fd_var, var_size, "GENESIS_FRONT_DOOR=%s", front_door);
    snprintf(bus_var, var_size, "GENESIS_EVENT_BUS=%s", event_bus);
    snprintf(id_var, var_size, "GENESIS_COMPONENT_ID=%s", c->id);
    envp[k++] = fd_var;
    envp[k++] = bus_var;
    envp[k++] = id_var;
    for (size_t i = 0; i < c->n_env; i++)
        envp[k++] = c->env[i];
    envp[k] = NULL;
    return envp;
}

pid_t child_process_spawn(const child_command *c, const char *front_door, const char *event_bus,
                          char *why, size_t size)
{
    char fd_var[600], bus_var[600], id_var[600];
    char **envp = build_env(c, front_door, event_bus, fd_var, bus_var, id_var, sizeof(id_var));
    int pipefd[2];
    if (envp == NULL) {
        snprintf(why, size, "out of memory");
        return -1;
    }
    int gofd[2] = {-1, -1}; /* before_exec: the parent's go-ahead to exec */
    if (pipe2(pipefd, O_CLOEXEC) != 0 || (c->before_exec != NULL && pipe2(gofd, O_CLOEXEC) != 0)) {
        snprintf(why, size, "pipe: %s", strerror(errno));
        free(envp);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* The child: async-signal-safe calls only, until exec. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the supervisor died before prctl */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGXFSZ, SIG_DFL);
        /* genesisd's stdout carries its one "ready" line for whoever started it: children
         * write to its log (stderr) instead. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        int err = 0;
        char go = 0;
        if (gofd[0] >= 0) {
            close(gofd[1]); /* else a refusal (no byte, closed) would never reach EOF here */
            ssize_t n;
            while ((n = read(gofd[0], &go, 1)) < 0 && errno == EINTR) {
            }
            if (n != 1)
                _exit(127); /* refused, or the supervisor died */
        }
        if (c->cwd != NULL && chdir(c->cwd) != 0)
            err = errno;
        if (err == 0) {
            execvpe(c->argv[0], c->argv, envp);
            err = errno;
        }
        ssize_t ignored = write(pipefd[1], &err, sizeof(err));
        (void)ignored;
        _exit(127);
    }
    int fork_errno = errno;
    close(pipefd[1]);
    if (gofd[0] >= 0)
        close(gofd[0]);
    free(envp);
    if (pid < 0) {
        close(pipefd[0]);
        if (gofd[1] >= 0)
            close(gofd[1]);
        snprintf(why, size, "fork: %s", strerror(fork_errno));
        return -1;
    }
    setpgid(pid, pid); /* also here: no race with a kill(-pid) right after fork */
    if (gofd[1] >= 0) {
        bool go = c->before_exec(pid, c->before_exec_arg);
        if (go) {
            ssize_t ignored = write(gofd[1], "x", 1);
            (void)ignored;
        }
        close(gofd[1]); /* without the byte: the child exits unstarted */
        if (!go) {
            close(pipefd[0]);
            int status;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            snprintf(why, size, "not started: the fence could not guard it");
            return -1;
        }
    }
    int err = 0;
    ssize_t got;
    do {
        got = read(pipefd[0], &err, sizeof(err));
    } while (got < 0 && errno == EINTR);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof(err)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        snprintf(why, size, "cannot execute '%s'%s%s: %s", c->argv[0], c->cwd ? " in " : "",
                 c->cwd ? c->cwd : "", strerror(err));
        return -1;
    }
    return pid;
}

void child_process_describe_exit(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "ended (wait status %d)", status);
}
