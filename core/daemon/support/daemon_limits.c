/* The descriptor limit raised at start (see daemon_limits.h). */
#include "daemon_limits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sys/resource.h>

unsigned long daemon_raise_fd_limit(char *msg, size_t size)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(msg, size, "file descriptors: cannot read the limit: %s", strerror(errno));
        return 0;
    }
    rlim_t was = rl.rlim_cur;
    if (rl.rlim_cur == rl.rlim_max) {
        snprintf(msg, size, "file descriptors: limit %llu (already the hard limit)",
                 (unsigned long long)rl.rlim_cur);
        return (unsigned long)rl.rlim_cur;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(msg, size, "file descriptors: cannot raise the limit from %llu to %llu: %s",
                 (unsigned long long)was, (unsigned long long)rl.rlim_max, strerror(errno));
        return (unsigned long)was;
    }
    snprintf(msg, size, "file descriptors: limit raised from %llu to %llu (the hard limit)",
             (unsigned long long)was, (unsigned long long)rl.rlim_cur);
    return (unsigned long)rl.rlim_cur;
}
