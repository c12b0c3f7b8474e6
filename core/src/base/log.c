/* The logger shared by libgenesis and the programs around it (see log.h). */
#include "base/log.h"

#include <stdio.h>
#include <strings.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *gn_log_level_name(int level)
{
    if (level < GENESIS_LOG_ERROR)
        return "?";
    return level_names[level > GENESIS_LOG_DEBUG ? GENESIS_LOG_DEBUG : level];
}

int gn_log_level_parse(const char *name, int *level)
{
    if (name == NULL || level == NULL)
        return -1;
    for (int i = GENESIS_LOG_ERROR; i <= GENESIS_LOG_DEBUG; i++) {
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

void gn_log_stderr(int level, const char *message, void *arg)
{
    (void)arg;
    fprintf(stderr, "genesis %s: %s\n", gn_log_level_name(level), message);
}

void gn_logv(const gn_logger *lg, int level, const char *fmt, va_list ap)
{
    if (lg == NULL || level > lg->level)
        return;
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    (lg->fn != NULL ? lg->fn : gn_log_stderr)(level, buf, lg->arg);
}

void gn_log(const gn_logger *lg, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gn_logv(lg, level, fmt, ap);
    va_end(ap);
}
