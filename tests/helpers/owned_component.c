/* A supervised component for the ownership tests: it proves it runs alone. It takes an
 * exclusive flock on LOCKFILE (held until it dies, even by SIGKILL) and appends to LOGFILE
 *   "<node> <token> <pid> start <CLOCK_MONOTONIC ms>"   when it got the lock, or
 *   "<node> <token> <pid> DOUBLE <CLOCK_MONOTONIC ms>"  when another instance holds it,
 * where node is $GT_NODE and token $GENESIS_FENCING_TOKEN; then it sleeps until killed.
 * It does not register with the coordinator (run it with a long --supervise-startup-ms).
 *
 * Usage: owned_component LOCKFILE LOGFILE */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: owned_component LOCKFILE LOGFILE\n");
        return 2;
    }
    const char *node = getenv("GT_NODE");
    const char *token = getenv("GENESIS_FENCING_TOKEN");
    int lock = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0) {
        perror(argv[1]);
        return 1;
    }
    int alone = flock(lock, LOCK_EX | LOCK_NB) == 0;
    char line[256];
    int n = snprintf(line, sizeof(line), "%s %s %ld %s %lld\n", node ? node : "?",
                     token ? token : "0", (long)getpid(), alone ? "start" : "DOUBLE", now_ms());
    int log = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log < 0 || write(log, line, (size_t)n) != n) {
        perror(argv[2]);
        return 1;
    }
    close(log);
    if (!alone)
        return 3;
    for (;;)
        pause();
}
