/* fork/exec with pipes, line reading with poll timeouts, and a table of live children so
 * teardown can always kill and reap them. */
#include "gt_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gt_wait.h"

/* Children not yet reaped, so gt_process_kill_all can clean up after a failed test whose
 * gt_process structs are gone with its stack frame. */
#define MAX_CHILDREN 64
static struct child {
    pid_t pid;
    int out_fd;
    int err_fd;
} children[MAX_CHILDREN];

static void track(pid_t pid, int out_fd, int err_fd)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid == 0) {
            children[i] = (struct child){pid, out_fd, err_fd};
            return;
        }
    }
    /* Table full: the child is still killed by PDEATHSIG when the test binary exits. */
}

static void untrack(pid_t pid)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid == pid)
            children[i] = (struct child){0, -1, -1};
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

int gt_process_spawn(gt_process *p, const char *const argv[], unsigned flags)
{
    memset(p, 0, sizeof(*p));
    p->out_fd = -1;
    p->err_fd = -1;
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    if ((flags & GT_CAPTURE_STDOUT) && pipe2(out, O_CLOEXEC) != 0)
        return -1;
    if ((flags & GT_CAPTURE_STDERR) && pipe2(err, O_CLOEXEC) != 0) {
        int saved = errno;
        close_fd(&out[0]);
        close_fd(&out[1]);
        errno = saved;
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close_fd(&out[0]);
        close_fd(&out[1]);
        close_fd(&err[0]);
        close_fd(&err[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        /* Child of a multi-threaded parent: async-signal-safe calls only until exec. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        if (out[1] >= 0)
            dup2(out[1], STDOUT_FILENO);
        if (err[1] >= 0)
            dup2(err[1], STDERR_FILENO);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close_fd(&out[1]);
    close_fd(&err[1]);
    p->pid = pid;
    p->out_fd = out[0];
    p->err_fd = err[0];
    track(pid, p->out_fd, p->err_fd);
    return 0;
}

static bool take_line(gt_process *p, char *line, size_t size)
{
    char *nl = memchr(p->out_buf, '\n', p->out_len);
    if (nl == NULL)
        return false;
    size_t n = (size_t)(nl - p->out_buf);
    size_t copy = n < size - 1 ? n : size - 1;
    memcpy(line, p->out_buf, copy);
    line[copy] = '\0';
    memmove(p->out_buf, nl + 1, p->out_len - n - 1);
    p->out_len -= n + 1;
    return true;
}

bool gt_process_read_line(gt_process *p, char *line, size_t size, int timeout_ms)
{
    int64_t deadline = gt_now_ms() + timeout_ms;
    line[0] = '\0';
    if (p->out_fd < 0)
        return false;
    for (;;) {
        if (take_line(p, line, size))
            return true;
        if (p->out_len == sizeof(p->out_buf)) { /* a line longer than the buffer: return it */
            size_t copy = p->out_len < size - 1 ? p->out_len : size - 1;
            memcpy(line, p->out_buf, copy);
            line[copy] = '\0';
            p->out_len = 0;
            return true;
        }
        int64_t left = deadline - gt_now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        int rv = poll(&pfd, 1, (int)left);
        if (rv < 0 && errno == EINTR)
            continue;
        if (rv <= 0)
            break;
        ssize_t got = read(p->out_fd, p->out_buf + p->out_len, sizeof(p->out_buf) - p->out_len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break; /* EOF: the child closed stdout or died */
        p->out_len += (size_t)got;
    }
    size_t copy = p->out_len < size - 1 ? p->out_len : size - 1;
    memcpy(line, p->out_buf, copy);
    line[copy] = '\0';
    return false;
}

bool gt_process_wait_line(gt_process *p, const char *prefix, char *line, size_t size,
                          int timeout_ms)
{
    int64_t deadline = gt_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - gt_now_ms();
        if (left < 0)
            left = 0;
        if (!gt_process_read_line(p, line, size, (int)left))
            return false;
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            return true;
    }
}

int gt_process_signal(gt_process *p, int sig)
{
    if (p->pid <= 0)
        return 0;
    return kill(p->pid, sig);
}

bool gt_process_wait(gt_process *p, int timeout_ms)
{
    if (p->pid <= 0)
        return true;
    int64_t deadline = gt_now_ms() + timeout_ms;
    int pause = 1;
    for (;;) {
        int status = 0;
        pid_t rv = waitpid(p->pid, &status, WNOHANG);
        if (rv == p->pid || (rv < 0 && errno == ECHILD)) {
            p->wait_status = status;
            untrack(p->pid);
            p->pid = 0;
            return true;
        }
        if (gt_now_ms() >= deadline)
            return false;
        gt_sleep_ms(pause);
        if (pause < 10)
            pause *= 2;
    }
}

void gt_process_kill(gt_process *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        int status = 0;
        while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
        }
        p->wait_status = status;
        untrack(p->pid);
        p->pid = 0;
    }
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
}

void gt_process_kill_all(void)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        struct child *c = &children[i];
        if (c->pid <= 0)
            continue;
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        close_fd(&c->out_fd);
        close_fd(&c->err_fd);
        c->pid = 0;
    }
}

/* Append what is readable on *fd into buf (up to size-1 bytes kept); closes *fd on EOF. */
static void drain(int *fd, char *buf, size_t size, size_t *len)
{
    char scratch[4096];
    ssize_t got = read(*fd, scratch, sizeof(scratch));
    if (got < 0 && errno == EINTR)
        return;
    if (got <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    if (buf != NULL && size > 0) {
        size_t room = size - 1 - *len;
        size_t copy = (size_t)got < room ? (size_t)got : room;
        memcpy(buf + *len, scratch, copy);
        *len += copy;
        buf[*len] = '\0';
    }
}

int gt_run(const char *const argv[], int timeout_ms, int *exit_code, char *out, size_t out_size,
           char *err, size_t err_size)
{
    size_t out_len = 0, err_len = 0;
    if (out != NULL && out_size > 0)
        out[0] = '\0';
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    gt_process p;
    if (gt_process_spawn(&p, argv, GT_CAPTURE_STDOUT | GT_CAPTURE_STDERR) != 0)
        return -1;
    int64_t deadline = gt_now_ms() + timeout_ms;
    while (p.out_fd >= 0 || p.err_fd >= 0) {
        int64_t left = deadline - gt_now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd[2] = {{.fd = p.out_fd, .events = POLLIN},
                                {.fd = p.err_fd, .events = POLLIN}};
        int rv = poll(pfd, 2, (int)left);
        if (rv < 0 && errno == EINTR)
            continue;
        if (rv <= 0)
            break;
        if (pfd[0].revents != 0)
            drain(&p.out_fd, out, out_size, &out_len);
        if (pfd[1].revents != 0)
            drain(&p.err_fd, err, err_size, &err_len);
    }
    int64_t left = deadline - gt_now_ms();
    bool exited = gt_process_wait(&p, left > 0 ? (int)left : 0);
    if (!exited) {
        gt_process_kill(&p);
        return -1;
    }
    gt_process_kill(&p); /* closes any pipe still open */
    if (exit_code != NULL) {
        if (WIFEXITED(p.wait_status))
            *exit_code = WEXITSTATUS(p.wait_status);
        else if (WIFSIGNALED(p.wait_status))
            *exit_code = 128 + WTERMSIG(p.wait_status);
        else
            *exit_code = -1;
    }
    return 0;
}

bool gt_executable(const char *path)
{
    struct stat st;
    return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

bool gt_find_in_path(const char *name, char *buf, size_t size)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path != '\0') {
        const char *colon = strchr(path, ':');
        size_t n = colon != NULL ? (size_t)(colon - path) : strlen(path);
        int w = snprintf(buf, size, "%.*s/%s", (int)n, path, name);
        if (w > 0 && (size_t)w < size && gt_executable(buf))
            return true;
        if (colon == NULL)
            break;
        path = colon + 1;
    }
    return false;
}
