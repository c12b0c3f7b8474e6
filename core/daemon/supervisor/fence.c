/* The fence process (fence.h). It is forked from a threaded genesisd and never execs, so it
 * calls only async-signal-safe functions and allocates nothing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "fence.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FENCE_SLOTS 64 /* SV_MAX_CHILDREN */

/* One message on the socket (a SOCK_SEQPACKET pair: each arrives whole, and a send to a dead
 * fence fails with EPIPE instead of raising SIGPIPE). */
typedef struct fence_msg {
    int32_t pgid;
    int32_t unused;
    int64_t until_ms;
} fence_msg;

int64_t fence_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_slot(fence_msg *slots, const fence_msg *m)
{
    int free_slot = -1;
    for (int i = 0; i < FENCE_SLOTS; i++) {
        if (slots[i].pgid == m->pgid) {
            slots[i].until_ms = m->until_ms;
            if (m->until_ms == 0)
                slots[i].pgid = 0;
            return;
        }
        if (slots[i].pgid == 0 && free_slot < 0)
            free_slot = i;
    }
    if (m->until_ms != 0 && free_slot >= 0)
        slots[free_slot] = *m;
}

static void kill_all(fence_msg *slots)
{
    for (int i = 0; i < FENCE_SLOTS; i++) {
        if (slots[i].pgid > 0)
            kill(-slots[i].pgid, SIGKILL);
        slots[i].pgid = 0;
    }
}

static void fence_main(int rfd)
{
    static fence_msg slots[FENCE_SLOTS];
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0); /* a signal to genesisd's group (a terminal's ^Z) does not stop the fence */
    for (int fd = 3; fd < 4096; fd++) {
        if (fd != rfd)
            close(fd); /* genesisd's sockets are not ours to keep open */
    }
    for (;;) {
        int64_t now = fence_now_ms();
        int64_t next = -1;
        for (int i = 0; i < FENCE_SLOTS; i++) {
            if (slots[i].pgid <= 0)
                continue;
            if (now >= slots[i].until_ms) {
                kill(-slots[i].pgid, SIGKILL);
                slots[i].pgid = 0;
            } else if (next < 0 || slots[i].until_ms - now < next) {
                next = slots[i].until_ms - now;
            }
        }
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        int ready = poll(&p, 1, next < 0 ? -1 : next > 60000 ? 60000 : (int)next);
        if (ready <= 0)
            continue;
        fence_msg m;
        ssize_t got = recv(rfd, &m, sizeof(m), 0);
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
            kill_all(slots); /* genesisd is gone */
            _exit(0);
        }
        if (got == (ssize_t)sizeof(m))
            set_slot(slots, &m);
    }
}

int fence_start(fence *f, char *why, size_t why_size)
{
    int fds[2];
    f->pid = 0;
    f->fd = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        snprintf(why, why_size, "fence socket: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_size, "fence fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[1]);
        fence_main(fds[0]);
        _exit(0);
    }
    close(fds[0]);
    f->pid = pid;
    f->fd = fds[1];
    return 0;
}

bool fence_arm(fence *f, pid_t pgid, int64_t until_ms)
{
    if (f->fd < 0 || pgid <= 0)
        return false;
    fence_msg m = {.pgid = (int32_t)pgid, .until_ms = until_ms};
    ssize_t put;
    do {
        put = send(f->fd, &m, sizeof(m), MSG_NOSIGNAL);
    } while (put < 0 && errno == EINTR);
    return put == (ssize_t)sizeof(m);
}

bool fence_died(fence *f)
{
    int status;
    if (f->pid <= 0 || waitpid(f->pid, &status, WNOHANG) != f->pid)
        return false;
    f->pid = 0;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    return true;
}

void fence_stop(fence *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->pid > 0) {
        int status;
        while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    f->pid = 0;
}
