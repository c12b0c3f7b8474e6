/* genesisd: the Genesis coordinator daemon. Listens on a front door (REP) and an event bus
 * (PUB), optionally registers the demo components, serves the embedded gateway and supervises
 * remote components, announces itself with one "ready" line on stdout and runs until SIGINT
 * or SIGTERM, then drains and exits 0. SIGHUP (or the admin command "reload") re-reads the
 * --config file.
 *
 * Exit codes: 0 clean shutdown (or --help / --version), 1 runtime failure (cannot create the
 * coordinator, cannot listen, cannot register the demo components), 2 usage error (bad flag,
 * malformed URL or unsupported transport).
 *
 * The flags are daemon_options.c's, the configuration file daemon_settings.c's, the reload
 * daemon_reload.c's, startup and shutdown daemon_lifecycle.c's; this file runs them. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <genesis/genesis.h>

#include "daemon_lifecycle.h"
#include "daemon_limits.h"
#include "daemon_log.h"
#include "daemon_notify.h"
#include "daemon_options.h"
#include "daemon_reload.h"
#include "daemon_settings.h"
#include "demo_components.h"

/* Wait for a stop signal; SIGHUP reloads the configuration meanwhile. Returns the signal. */
static int wait_for_stop(const sigset_t *signals, daemon_state *st)
{
    int sig = 0;
    for (;;) {
        int err = sigwait(signals, &sig);
        if (err == 0 && sig == SIGHUP) {
            char *report = NULL;
            daemon_logf(GENESIS_LOG_INFO, "SIGHUP: reloading the configuration");
            daemon_reload(st, &report); /* logs its outcome */
            free(report);
            continue;
        }
        if (err == 0)
            return sig;
        if (err != EINTR) {
            daemon_logf(GENESIS_LOG_ERROR, "sigwait failed (%s); stopping", strerror(err));
            return 0;
        }
    }
}

static void apply_log_settings(const daemon_config *cfg)
{
    daemon_log_set_level(cfg->log_level);
    demo_components_set_debug(cfg->log_level >= GENESIS_LOG_DEBUG);
    daemon_log_set_format(cfg->log_format);
    daemon_log_set_rate_limit(cfg->log_rate);
}

int main(int argc, char **argv)
{
    /* Static: what they own stays reachable on every exit path (no leak reports). */
    static daemon_state st;
    static daemon_config cfg;
    static daemon_runtime rt;
    int rc = daemon_options_parse(argc, argv, &cfg);
    if (rc >= 0) {
        daemon_policies_free(&cfg.policies);
        return rc;
    }
    rc = daemon_settings_finish(argc, argv, &cfg, &st.startup);
    if (rc >= 0)
        return rc;
    apply_log_settings(&cfg);
    /* Before anything opens: the listeners size their connection caps from this limit. */
    char limits[160];
    daemon_raise_fd_limit(limits, sizeof(limits));
    daemon_logf(GENESIS_LOG_INFO, "%s", limits);

    sigset_t stop_signals;
    if (daemon_block_signals(&stop_signals) != 0) {
        fprintf(stderr, "genesisd: cannot block SIGINT/SIGTERM/SIGCHLD\n");
        return EXIT_FAILURE;
    }
    rc = daemon_start(&cfg, &rt);
    if (rc >= 0)
        return rc;

    pthread_mutex_init(&st.lock, NULL);
    st.coord = rt.coord;
    st.sup = rt.sup;
    st.cfg = cfg;
    st.argc = argc;
    st.argv = argv;
    if (genesis_coordinator_set_admin_handler(rt.coord, "reload", daemon_reload_on_admin, &st) !=
        GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "cannot register the admin command 'reload': %s",
                    genesis_last_error());

    daemon_logf(GENESIS_LOG_INFO, "genesisd %s (pid %ld) ready", genesis_version_string(),
                (long)getpid());
    /* The one line a supervisor or a test waits for; it carries the bound tcp ports. */
    printf("ready front_door=%s event_bus=%s", rt.front_door, rt.event_bus);
    if (rt.gateway != NULL)
        printf(" http=%s", rt.http_url);
    if (rt.metrics != NULL)
        printf(" metrics=%s", rt.metrics_url);
    printf("\n");
    fflush(stdout);
    char status[700];
    snprintf(status, sizeof(status), "serving: front door %.300s%s%.300s", rt.front_door,
             rt.gateway != NULL ? ", http " : "", rt.gateway != NULL ? rt.http_url : "");
    daemon_notify_ready(status);

    int sig = wait_for_stop(&stop_signals, &st);
    daemon_notify_stopping();
    daemon_logf(GENESIS_LOG_INFO, "received %s, stopping",
                sig == SIGINT    ? "SIGINT"
                : sig == SIGTERM ? "SIGTERM"
                                 : "a stop request");
    genesis_coordinator_set_admin_handler(rt.coord, "reload", NULL, NULL);
    daemon_stop(&rt);
    daemon_policies_free(&st.cfg.policies);
    daemon_cli_args_free(&st.args);
    daemon_cli_args_free(&st.previous);
    daemon_cli_args_free(&st.startup);
    pthread_mutex_destroy(&st.lock);
    return EXIT_SUCCESS;
}
