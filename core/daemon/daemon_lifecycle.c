/* genesisd's startup and shutdown (see daemon_lifecycle.h). */
#define _POSIX_C_SOURCE 200809L

#include "daemon_lifecycle.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_log.h"
#include "daemon_settings.h"
#include "demo_components.h"

int daemon_block_signals(sigset_t *stop)
{
    sigemptyset(stop);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGTERM);
    sigaddset(stop, SIGHUP); /* reload the configuration (collected by the same sigwait) */
    /* A reader of our stdout that goes away must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit must fail the write (EFBIG: the checkpoint store reports it as full)
     * rather than kill the daemon. */
    signal(SIGXFSZ, SIG_IGN);
    if (pthread_sigmask(SIG_BLOCK, stop, NULL) != 0 || supervisor_block_signals() != 0)
        return -1;
    return 0;
}

static void log_final_stats(genesis_coordinator *c)
{
    genesis_coordinator_stats st;
    memset(&st, 0, sizeof st);
    st.version = GENESIS_COORDINATOR_STATS_VERSION;
    if (genesis_coordinator_get_stats(c, &st) != GENESIS_OK) {
        daemon_logf(GENESIS_LOG_WARN, "cannot read final counters: %s", genesis_last_error());
        return;
    }
    daemon_logf(GENESIS_LOG_INFO,
                "stopped: requests=%llu succeeded=%llu failed=%llu timed_out=%llu "
                "rejected=%llu events_emitted=%llu events_delivered=%llu "
                "events_dropped=%llu events_published=%llu malformed=%llu",
                (unsigned long long)st.requests, (unsigned long long)st.succeeded,
                (unsigned long long)st.failed, (unsigned long long)st.timed_out,
                (unsigned long long)st.rejected, (unsigned long long)st.events_emitted,
                (unsigned long long)st.events_delivered, (unsigned long long)st.events_dropped,
                (unsigned long long)st.events_published, (unsigned long long)st.malformed);
}

/* The coordinator with cfg's settings and policies. -1, or an exit code. */
static int start_coordinator(daemon_config *cfg, daemon_runtime *rt)
{
    genesis_coordinator_options opts;
    int rc = genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: library rejected options version %d: %s\n",
                GENESIS_COORDINATOR_OPTIONS_VERSION, genesis_last_error());
        return EXIT_FAILURE;
    }
    opts.worker_threads = cfg->workers;
    opts.admin_faults = cfg->allow_faults;
    opts.log_level = cfg->log_level;
    opts.log = daemon_log_sink;
    opts.log_arg = (void *)"coordinator";
    opts.default_policy = &cfg->policies.def;
    opts.checkpoint_store = cfg->checkpoint_db;
    opts.checkpoint_interval_ms = cfg->checkpoint_interval_ms;
    opts.checkpoint_generations = cfg->checkpoint_generations;
    opts.tls_ca_file = cfg->tls_ca;
    opts.tls_cert_file = cfg->tls_cert;
    opts.tls_key_file = cfg->tls_key;
    if (cfg->cluster_nats[0] != '\0') {
        genesis_cluster_options cluster = cfg->cluster;
        cluster.nats_urls = cfg->cluster_nats;
        rc = genesis_coordinator_new_clustered(&rt->coord, &opts, &cluster);
    } else {
        rc = genesis_coordinator_new(&rt->coord, &opts);
    }
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot create the coordinator: %s (%s)\n", genesis_last_error(),
                genesis_status_name(rc));
        return EXIT_FAILURE;
    }
    rc = daemon_policies_apply(&cfg->policies, NULL, rt->coord, NULL, 0);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot apply the component policies: %s\n",
                genesis_last_error());
        return DAEMON_EXIT_USAGE;
    }
    return -1;
}

/* Listen on the front door and the event bus, and read back the bound URLs. */
static int start_listening(const daemon_config *cfg, daemon_runtime *rt)
{
    int rc = genesis_coordinator_listen(rt->coord, cfg->front_door, cfg->event_bus);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot listen on front door %s and event bus %s: %s (%s)\n",
                cfg->front_door, cfg->event_bus, genesis_last_error(), genesis_status_name(rc));
        /* A URL the library cannot parse or whose transport it lacks is the operator's
         * mistake (usage); anything else (address in use, no such directory) is runtime. */
        return (rc == GENESIS_INVALID_ARGUMENT || rc == GENESIS_UNIMPLEMENTED) ? DAEMON_EXIT_USAGE
                                                                               : EXIT_FAILURE;
    }
    rc = genesis_coordinator_get_url(rt->coord, GENESIS_ENDPOINT_FRONT_DOOR, rt->front_door,
                                     sizeof rt->front_door);
    if (rc == GENESIS_OK)
        rc = genesis_coordinator_get_url(rt->coord, GENESIS_ENDPOINT_EVENT_BUS, rt->event_bus,
                                         sizeof rt->event_bus);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot read back the listening URLs: %s (%s)\n",
                genesis_last_error(), genesis_status_name(rc));
        return EXIT_FAILURE;
    }
    return -1;
}

static int start_demo(daemon_runtime *rt)
{
    int rc = demo_components_register(rt->coord, daemon_log_sink, (void *)"demo");
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot register the demo components: %s (%s)\n",
                genesis_last_error(), genesis_status_name(rc));
        return EXIT_FAILURE;
    }
    daemon_logf(GENESIS_LOG_INFO, "registered demo components comp1 and comp2");
    return -1;
}

/* The embedded gateway is a client of this coordinator like any other (it dials the front
 * door and the event bus just opened, so it behaves as genesis-gateway does), except that
 * requests, the hot path, go to the coordinator directly. */
static int start_gateway(daemon_config *cfg, daemon_runtime *rt)
{
    cfg->gateway.front_door = rt->front_door;
    cfg->gateway.event_bus = rt->event_bus;
    cfg->gateway.coordinator = rt->coord; /* requests skip the socket hop */
    cfg->gateway.log = daemon_log_sink;
    cfg->gateway.log_arg = (void *)"gateway";
    cfg->gateway.log_level = cfg->log_level;
    cfg->gateway.core_tls_ca = cfg->tls_ca;
    cfg->gateway.core_tls_cert = cfg->tls_cert;
    cfg->gateway.core_tls_key = cfg->tls_key;
    int rc = genesis_gateway_new(&rt->gateway, &cfg->gateway);
    if (rc == GENESIS_OK)
        rc = genesis_gateway_start(rt->gateway);
    if (rc == GENESIS_OK)
        rc = genesis_gateway_get_url(rt->gateway, rt->http_url, sizeof(rt->http_url));
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot start the HTTP gateway: %s\n",
                genesis_gateway_last_error());
        return rc == GENESIS_INVALID_ARGUMENT ? DAEMON_EXIT_USAGE : EXIT_FAILURE;
    }
    return -1;
}

/* --metrics: a second gateway that serves only /metrics, /healthz and /readyz, without
 * authentication, history or WebSocket, so Prometheus can scrape a genesisd whose gateway is
 * off or behind tokens. */
static int start_metrics(daemon_config *cfg, daemon_runtime *rt)
{
    genesis_gateway_options o;
    genesis_gateway_options_init(&o, GENESIS_GATEWAY_OPTIONS_VERSION);
    genesis_gateway_options_set_listen(&o, cfg->metrics); /* checked by the option parser */
    o.front_door = rt->front_door;
    o.event_bus = NULL;
    o.coordinator = rt->coord;
    o.log = daemon_log_sink;
    o.log_arg = (void *)"metrics";
    o.log_level = cfg->log_level;
    o.core_tls_ca = cfg->tls_ca;
    o.core_tls_cert = cfg->tls_cert;
    o.core_tls_key = cfg->tls_key;
    o.job_threads = 1;
    o.max_ws_clients = 1;
    o.metrics_only = 1;
    o.history_interval_ms = 0;
    int rc = genesis_gateway_new(&rt->metrics, &o);
    if (rc == GENESIS_OK)
        rc = genesis_gateway_start(rt->metrics);
    if (rc == GENESIS_OK)
        rc = genesis_gateway_get_url(rt->metrics, rt->metrics_url, sizeof(rt->metrics_url));
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot serve metrics on %s: %s\n", cfg->metrics,
                genesis_gateway_last_error());
        return rc == GENESIS_INVALID_ARGUMENT ? DAEMON_EXIT_USAGE : EXIT_FAILURE;
    }
    return -1;
}

/* The supervisor, when there is something to supervise or a configuration file (a reload
 * may add children). */
static int start_supervisor(const daemon_config *cfg, daemon_runtime *rt)
{
    const daemon_supervise_flags *flags = &cfg->supervise;
    if (flags->n == 0 && cfg->config_path == NULL)
        return -1;
    supervisor_options o = flags->options;
    o.cluster = cfg->cluster_nats[0] != '\0'; /* one node at a time runs each child */
    o.owner_ttl_ms = cfg->cluster_owner_ttl_ms;
    rt->sup = supervisor_new(rt->coord, &o);
    if (rt->sup == NULL) {
        fprintf(stderr, "genesisd: cannot create the supervisor: out of memory\n");
        return EXIT_FAILURE;
    }
    char why[512];
    const char *flag = "--supervise";
    if (daemon_settings_supervise(rt->sup, flags, &flag, why, sizeof why) != 0) {
        fprintf(stderr, "genesisd: invalid %s: %s\n", flag, why);
        return DAEMON_EXIT_USAGE;
    }
    if (supervisor_start(rt->sup, rt->front_door, rt->event_bus, why, sizeof why) != 0) {
        fprintf(stderr, "genesisd: cannot start the supervisor: %s\n", why);
        return EXIT_FAILURE;
    }
    daemon_logf(GENESIS_LOG_INFO, "supervising %zu component(s)", supervisor_count(rt->sup));
    return -1;
}

/* Stop and free what started, in reverse order. */
static void stop_started(daemon_runtime *rt)
{
    genesis_gateway_free(rt->gateway); /* first: its requests drain through the coordinator */
    genesis_gateway_free(rt->metrics);
    supervisor_free(rt->sup); /* children stop (and unregister) before the coordinator drains */
    rt->gateway = NULL;
    rt->metrics = NULL;
    rt->sup = NULL;
    if (rt->coord != NULL) {
        int rc = genesis_coordinator_stop(rt->coord);
        if (rc != GENESIS_OK)
            daemon_logf(GENESIS_LOG_WARN, "stop: %s (%s)", genesis_last_error(),
                        genesis_status_name(rc));
    }
}

int daemon_start(daemon_config *cfg, daemon_runtime *rt)
{
    memset(rt, 0, sizeof(*rt));
    int rc = start_coordinator(cfg, rt);
    if (rc < 0)
        rc = start_listening(cfg, rt);
    if (rc < 0 && cfg->demo)
        rc = start_demo(rt);
    if (rc < 0 && cfg->http)
        rc = start_gateway(cfg, rt);
    if (rc < 0 && cfg->metrics != NULL)
        rc = start_metrics(cfg, rt);
    if (rc < 0)
        rc = start_supervisor(cfg, rt);
    if (rc >= 0) {
        genesis_gateway_free(rt->gateway);
        genesis_gateway_free(rt->metrics);
        supervisor_free(rt->sup);
        genesis_coordinator_free(rt->coord);
        memset(rt, 0, sizeof(*rt));
    }
    return rc;
}

void daemon_stop(daemon_runtime *rt)
{
    stop_started(rt);
    if (rt->coord != NULL) {
        log_final_stats(rt->coord);
        genesis_coordinator_free(rt->coord);
        rt->coord = NULL;
    }
    daemon_log_flush();
}
