/* process_* metrics from /proc/self (see process_metrics.h). /proc/self/stat is read with
 * sscanf after the command name's closing parenthesis: the kernel's fixed format, not a
 * parser of outside input. */
#define _GNU_SOURCE /* CLOCK_BOOTTIME */
#include "process_metrics.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void family(FILE *f, const char *name, const char *type, const char *help, double v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

/* Seconds since the epoch at boot: the wall clock less the time since boot (CLOCK_BOOTTIME,
 * the clock /proc/self/stat's start time counts on), without reading /proc/stat (which a
 * sandbox with ProcSubset=pid hides). */
static double boot_time(void)
{
    struct timespec wall, boot;
    if (clock_gettime(CLOCK_REALTIME, &wall) != 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
        return 0;
    return ((double)wall.tv_sec + (double)wall.tv_nsec / 1e9) -
           ((double)boot.tv_sec + (double)boot.tv_nsec / 1e9);
}

static void stat_metrics(FILE *out)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (f == NULL)
        return;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long utime, stime, vsize;
    unsigned long long starttime;
    long rss;
    /* fields 3.. after "pid (comm)": state, then utime is 14, stime 15, starttime 22,
     * vsize 23, rss 24 */
    if (p == NULL ||
        sscanf(p + 2, // NOLINT(cert-err34-c): kernel-written numbers; a mismatch fails the count
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d "
               "%*d %*d %*d %llu %lu %ld",
               &utime, &stime, &starttime, &vsize, &rss) != 5)
        return;
    double ticks = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
    if (ticks <= 0)
        return;
    family(out, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.", (double)(utime + stime) / ticks);
    family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           (double)rss * page);
    family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
           (double)vsize);
    double btime = boot_time();
    if (btime > 0)
        family(out, "process_start_time_seconds", "gauge",
               "Start time of the process since unix epoch in seconds.",
               btime + (double)starttime / ticks);
}

static void fd_metrics(FILE *out)
{
    DIR *d = opendir("/proc/self/fd");
    if (d != NULL) {
        long open_fds = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;)
            open_fds += e->d_name[0] != '.';
        closedir(d);
        family(out, "process_open_fds", "gauge", "Number of open file descriptors.",
               (double)(open_fds - 1)); /* less the directory's own */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        family(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
               (double)rl.rlim_cur);
}

void gw_process_metrics_render(FILE *f)
{
    stat_metrics(f);
    fd_metrics(f);
}
