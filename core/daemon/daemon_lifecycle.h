/* genesisd's startup and shutdown: the coordinator (policies, listeners, demo components),
 * the embedded gateway and the supervisor are started in that order and stopped in the
 * reverse one, so requests drain through the coordinator and children unregister before it
 * stops. */
#ifndef GENESISD_DAEMON_LIFECYCLE_H
#define GENESISD_DAEMON_LIFECYCLE_H

#include <signal.h>

#include <genesis/genesis.h>

#include "daemon_options.h"
#include <genesis/gateway.h>
#include "supervisor.h"

#define DAEMON_URL_SIZE 1024

/* What runs. */
typedef struct daemon_runtime {
    genesis_coordinator *coord;
    genesis_gateway *gateway;         /* NULL with --http off */
    supervisor *sup;                  /* NULL without supervised components or configuration file */
    char front_door[DAEMON_URL_SIZE]; /* bound URLs (port 0 resolved) */
    char event_bus[DAEMON_URL_SIZE];
    char http_url[300];       /* "" without the gateway */
    genesis_gateway *metrics; /* --metrics: a metrics-only gateway; NULL without */
    char metrics_url[300];
} daemon_runtime;

/* Block SIGINT, SIGTERM, SIGHUP (collected by sigwait on *stop) and SIGCHLD (the supervisor's
 * signalfd) in the calling thread before any thread starts, so every thread inherits the
 * mask and no code runs in signal-handler context; ignore SIGPIPE and SIGXFSZ (a full disk
 * fails the write instead of killing the daemon). 0, or -1. */
int daemon_block_signals(sigset_t *stop);

/* Start everything cfg asks for into *rt (zeroed first). Returns -1 when running, else an
 * exit code with the reason on stderr and nothing left running. cfg must outlive rt (the
 * coordinator keeps its default policy, the gateway its settings). */
int daemon_start(daemon_config *cfg, daemon_runtime *rt);

/* Stop in reverse order, log the final counters and flush the logs. */
void daemon_stop(daemon_runtime *rt);

#endif /* GENESISD_DAEMON_LIFECYCLE_H */
