/* genesisd's log sink: timestamped, levelled lines on stderr. */
#define _POSIX_C_SOURCE 200809L

#include "daemon_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Written once by main before the coordinator's threads exist, only read afterwards. */
static int g_level = GENESIS_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};

int daemon_log_level_parse(const char *name, int *level)
{
    if (name == NULL || level == NULL)
        return -1;
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *level = i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *level = GENESIS_LOG_WARN;
        return 0;
    }
    return -1;
}

const char *daemon_log_level_name(int level)
{
    if (level < GENESIS_LOG_ERROR || level > GENESIS_LOG_DEBUG)
        return "?";
    return level_names[level];
}

void daemon_log_set_level(int level)
{
    g_level = level;
}

void daemon_log_sink(int level, const char *message, void *arg)
{
    (void)arg;
    if (level > g_level)
        return;
    const char *tag =
        (level >= GENESIS_LOG_ERROR && level <= GENESIS_LOG_DEBUG) ? level_tags[level] : "?    ";

    struct timespec now;
    struct tm tm;
    char stamp[64] = "";
    if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm) != NULL) {
        char base[24];
        if (strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) > 0)
            snprintf(stamp, sizeof stamp, "%s.%03dZ", base, (int)(now.tv_nsec / 1000000L));
    }

    /* Build the whole line first so concurrent writers never interleave inside a line. */
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %s %s\n", stamp, tag, message ? message : "");
    if (n < 0)
        return;
    size_t len = (size_t)n;
    if (len >= sizeof line) {
        /* Truncated: keep the line terminated. */
        len = sizeof line - 1;
        line[len - 1] = '\n';
    }
    flockfile(stderr);
    fwrite(line, 1, len, stderr);
    funlockfile(stderr);
}

void daemon_logf(int level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    daemon_log_sink(level, message, NULL);
}
