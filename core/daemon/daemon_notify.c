/* sd_notify for genesisd (see daemon_notify.h): libsystemd's, which speaks the protocol
 * (a datagram of KEY=VALUE lines to the unix socket in NOTIFY_SOCKET, abstract or not). */
#define _POSIX_C_SOURCE 200809L
#include "daemon_notify.h"

#include <stdio.h>
#include <time.h>

#ifdef GENESIS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static void notify(const char *text)
{
    /* 0: keep NOTIFY_SOCKET for the next notification (the supervisor leaves it out of its
     * children's environment). */
    sd_notify(0, text);
}
#else
static void notify(const char *text)
{
    (void)text;
}
#endif

void daemon_notify_ready(const char *status)
{
    char text[512];
    snprintf(text, sizeof(text), "READY=1\nSTATUS=%s", status != NULL ? status : "serving");
    notify(text);
}

void daemon_notify_reloading(void)
{
    /* MONOTONIC_USEC lets Type=notify-reload (systemd 253+) match this reload to its signal. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char text[160];
    snprintf(text, sizeof(text),
             "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
             (unsigned long long)now.tv_sec * 1000000ull + (unsigned long long)now.tv_nsec / 1000u);
    notify(text);
}

void daemon_notify_stopping(void)
{
    notify("STOPPING=1\nSTATUS=stopping: draining requests");
}
