/* genesisd: the Genesis coordinator daemon. Listens on a front door (REP) and an event bus
 * (PUB), optionally registers the demo components, announces itself with one "ready" line on
 * stdout and runs until SIGINT or SIGTERM, then drains and exits 0.
 *
 * Exit codes: 0 clean shutdown (or --help / --version), 1 runtime failure (cannot create the
 * coordinator, cannot listen, cannot register the demo components), 2 usage error (bad flag,
 * malformed URL or unsupported transport). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <genesis/genesis.h>

#include "daemon_log.h"
#include "demo_components.h"
#include "supervisor.h"
#include "gateway.h"
#include "gateway_cli.h"

#define DEFAULT_FRONT_DOOR "tcp://127.0.0.1:7400"
#define DEFAULT_EVENT_BUS  "tcp://127.0.0.1:7401"
#define DEFAULT_HTTP       "127.0.0.1:8080"
#define MAX_WORKERS        1024
#define URL_BUF_SIZE       1024

#define EXIT_USAGE 2
#define MAX_SPECS  256

/* Supervision flags, kept as given until the coordinator exists. */
struct supervise_flags {
    const char *spec[MAX_SPECS];
    int kind[MAX_SPECS]; /* 0 = --supervise, 1 = --supervise-env, 2 = --supervise-cwd */
    size_t n;
    supervisor_options options;
};

struct daemon_config {
    const char *front_door;
    const char *event_bus;
    int demo;
    int allow_faults;
    int log_level;
    unsigned int workers; /* 0 = library default */
    const char *checkpoint_db;
    uint32_t checkpoint_interval_ms;
    unsigned int checkpoint_generations;
    struct supervise_flags supervise;
    int http; /* serve the embedded gateway */
    /* Mutual TLS for tls+tcp:// URLs: all three or none. */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    gw_config gateway;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: genesisd [OPTIONS]\n"
            "Run a Genesis coordinator: a front door for requests and an event bus.\n"
            "\n"
            "  --front-door URL    front door to listen on (REP); default $GENESIS_FRONT_DOOR\n"
            "                      or " DEFAULT_FRONT_DOOR "\n"
            "  --events URL        event bus to listen on (PUB); default $GENESIS_EVENT_BUS\n"
            "                      or " DEFAULT_EVENT_BUS "\n"
            "  --demo              register the in-process demo components comp1 and comp2\n"
            "  --allow-faults      accept the admin 'fault' command (chaos runs; never in\n"
            "                      production: anyone on the front door could use it)\n"
            "  --log-level LEVEL   error, warn, info (default) or debug; logs go to stderr\n"
            "  --workers N         worker threads started up front (default 4; the pool\n"
            "                      grows while handlers block)\n"
            "  --http HOST:PORT|off  serve the HTTP+JSON / WebSocket gateway in-process on this\n"
            "                      address; default $GENESIS_HTTP or " DEFAULT_HTTP "\n"
            "                      (port 0 picks a free port; 'off' disables it)\n"
            "Gateway flags (with --http):\n"
            "%s"
            "  --version           print the version and exit\n"
            "  --help              print this help and exit\n"
            "\n"
            "Mutual TLS (for tls+tcp://host:port front door and event bus URLs):\n"
            "  --tls-ca FILE       PEM CA: only peers (components, clients, subscribers)\n"
            "                      holding a certificate it signed can connect\n"
            "  --tls-cert FILE     PEM certificate of this daemon, signed by that CA\n"
            "  --tls-key FILE      its PEM private key (unencrypted)\n"
            "                      defaults: $GENESIS_TLS_CA, $GENESIS_TLS_CERT, ..._KEY\n"
            "\n"
            "URLs are NNG's: tcp://host:port (port 0 picks a free port), ipc:///path,\n"
            "tls+tcp://host:port (needs the --tls-* files). A plain tcp:// address that is\n"
            "not loopback is logged as a security warning at start.\n"
            "Once listening, prints one line on stdout:\n"
            "  ready front_door=<url> event_bus=<url> [http=<url>]\n"
            "SIGINT or SIGTERM stops the daemon cleanly (in-flight requests drain).\n"
            "\n"
            "Exit status: 0 clean shutdown, 1 runtime failure (e.g. address in use),\n"
            "2 usage error (bad flag, malformed URL, unsupported transport).\n"
            "\n"
            "Checkpoints (durable component state):\n"
            "  --checkpoint-db PATH          SQLite store (WAL, synchronous=FULL), created if\n"
            "                                missing; default $GENESIS_CHECKPOINT_DB, else none\n"
            "                                (Checkpoint messages are refused)\n"
            "  --checkpoint-interval MS      snapshot changed in-process components (150)\n"
            "  --checkpoint-generations N    generations kept per component (3)\n"
            "\n"
            "Supervision (restart remote components when they exit or stop heartbeating):\n"
            "  --supervise 'ID=COMMAND ARGS' launch and supervise a component registering as ID\n"
            "                                (repeatable); words split on blanks, '...' \"...\"\n"
            "                                quote, \\ escapes; no other shell syntax\n"
            "  --supervise-env ID=KEY=VALUE  environment for that child (repeatable)\n"
            "  --supervise-cwd ID=DIR        working directory for that child\n"
            "  --restart-intensity R/T       more than R restarts in T seconds: FAILED (5/10)\n"
            "  --restart-backoff MIN/MAX     jittered backoff bounds in ms (100/5000)\n"
            "  --supervise-startup-ms MS     a child must register within MS (10000)\n"
            "  --supervise-hang-ms MS        a registered child DOWN (no heartbeats) this long is\n"
            "                                killed and restarted (1000)\n"
            "Children get GENESIS_FRONT_DOOR, GENESIS_EVENT_BUS and GENESIS_COMPONENT_ID; their\n"
            "output goes to genesisd's stderr. A FAILED child restarts only on the Admin command\n"
            "'supervisor.restart ID'. SIGTERM stops the children (SIGKILL after 3 s).\n",
            gw_cli_help);
}

/* "off" disables the gateway; anything else is HOST:PORT. Returns 0 or -1 (message printed). */
static int parse_http(struct daemon_config *cfg, const char *spec)
{
    char why[256];
    if (strcmp(spec, "off") == 0) {
        cfg->http = 0;
        return 0;
    }
    cfg->http = 1;
    if (gw_config_set_listen(&cfg->gateway, spec, why, sizeof(why)) != 0) {
        fprintf(stderr, "genesisd: --http: %s\n", why);
        return -1;
    }
    return 0;
}

/* Parse a worker count in [1, MAX_WORKERS]. Returns 0 on success. */
static int parse_workers(const char *text, unsigned int *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < 1 || v > MAX_WORKERS)
        return -1;
    *out = (unsigned int)v;
    return 0;
}

/* Parse an unsigned integer in [min, max]. Returns 0 on success. */
static int parse_count(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* --restart-intensity R/T (T in seconds, decimals allowed) or --restart-backoff MIN/MAX (ms). */
static int parse_pair(bool intensity, const char *text, supervisor_options *o)
{
    const char *slash = strchr(text, '/');
    char first[32];
    size_t len = slash != NULL ? (size_t)(slash - text) : 0;
    unsigned long a = 0;
    double b = 0;
    char *end = NULL;
    bool ok = len > 0 && len < sizeof(first);
    if (ok) {
        memcpy(first, text, len);
        first[len] = '\0';
        b = strtod(slash + 1, &end);
        ok = parse_count(first, 0, intensity ? 10000UL : 1000000UL, &a) == 0 && end != slash + 1 &&
             *end == '\0' && b > 0 && b <= 86400000.0;
    }
    if (ok && intensity) {
        o->max_restarts = (unsigned int)a;
        o->window_ms = (uint32_t)(b * 1000.0);
        ok = o->window_ms > 0;
    } else if (ok) {
        o->backoff_initial_ms = (uint32_t)a;
        o->backoff_max_ms = (uint32_t)b;
        ok = b >= (double)a;
    }
    if (!ok)
        fprintf(stderr, "genesisd: invalid %s '%s' (%s)\n",
                intensity ? "--restart-intensity" : "--restart-backoff", text,
                intensity ? "R/SECONDS, R at most 10000, e.g. 5/10"
                          : "MIN_MS/MAX_MS, e.g. 100/5000");
    return ok ? 0 : -1;
}

/* Fill cfg from the environment and the command line (flags win over the environment).
 * Returns -1 to continue, or an exit code to exit with at once. */
static int parse_args(int argc, char **argv, struct daemon_config *cfg)
{
    enum {
        OPT_FRONT_DOOR = 256,
        OPT_EVENTS,
        OPT_DEMO,
        OPT_LOG_LEVEL,
        OPT_WORKERS,
        OPT_VERSION,
        OPT_ALLOW_FAULTS,
        OPT_CHECKPOINT_DB,
        OPT_CHECKPOINT_INTERVAL,
        OPT_CHECKPOINT_GENERATIONS,
        OPT_SUPERVISE,
        OPT_SUPERVISE_ENV,
        OPT_SUPERVISE_CWD,
        OPT_RESTART_INTENSITY,
        OPT_RESTART_BACKOFF,
        OPT_SUPERVISE_STARTUP,
        OPT_SUPERVISE_HANG,
        OPT_HTTP,
        OPT_TLS_CA,
        OPT_TLS_CERT,
        OPT_TLS_KEY
    };
    static const struct option own_opts[] = {
        {"http", required_argument, NULL, OPT_HTTP},
        {"front-door", required_argument, NULL, OPT_FRONT_DOOR},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"demo", no_argument, NULL, OPT_DEMO},
        {"allow-faults", no_argument, NULL, OPT_ALLOW_FAULTS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"version", no_argument, NULL, OPT_VERSION},
        {"checkpoint-db", required_argument, NULL, OPT_CHECKPOINT_DB},
        {"checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT_INTERVAL},
        {"checkpoint-generations", required_argument, NULL, OPT_CHECKPOINT_GENERATIONS},
        {"supervise", required_argument, NULL, OPT_SUPERVISE},
        {"supervise-env", required_argument, NULL, OPT_SUPERVISE_ENV},
        {"supervise-cwd", required_argument, NULL, OPT_SUPERVISE_CWD},
        {"restart-intensity", required_argument, NULL, OPT_RESTART_INTENSITY},
        {"restart-backoff", required_argument, NULL, OPT_RESTART_BACKOFF},
        {"supervise-startup-ms", required_argument, NULL, OPT_SUPERVISE_STARTUP},
        {"supervise-hang-ms", required_argument, NULL, OPT_SUPERVISE_HANG},
        {"tls-ca", required_argument, NULL, OPT_TLS_CA},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"help", no_argument, NULL, 'h'},
    };
    struct option long_opts[64];
    if (gw_cli_merge_options(own_opts, sizeof(own_opts) / sizeof(own_opts[0]), long_opts, 64) !=
        0) {
        fprintf(stderr, "genesisd: too many command-line options for the table\n");
        return EXIT_FAILURE;
    }

    gw_config_init(&cfg->gateway);
    cfg->http = 0;
    const char *http_env = getenv("GENESIS_HTTP");
    if (parse_http(cfg, http_env != NULL && http_env[0] != '\0' ? http_env : DEFAULT_HTTP) != 0)
        return EXIT_USAGE;

    const char *env = getenv("GENESIS_FRONT_DOOR");
    cfg->front_door = (env != NULL && env[0] != '\0') ? env : DEFAULT_FRONT_DOOR;
    env = getenv("GENESIS_EVENT_BUS");
    cfg->event_bus = (env != NULL && env[0] != '\0') ? env : DEFAULT_EVENT_BUS;
    cfg->demo = 0;
    cfg->allow_faults = 0;
    cfg->log_level = GENESIS_LOG_INFO;
    cfg->workers = 0;
    env = getenv("GENESIS_CHECKPOINT_DB");
    cfg->checkpoint_db = (env != NULL && env[0] != '\0') ? env : NULL;
    cfg->checkpoint_interval_ms = 0;
    cfg->checkpoint_generations = 0;
    cfg->supervise.n = 0;
    supervisor_options_init(&cfg->supervise.options);
    cfg->tls_ca = getenv("GENESIS_TLS_CA");
    cfg->tls_cert = getenv("GENESIS_TLS_CERT");
    cfg->tls_key = getenv("GENESIS_TLS_KEY");

    int opt;
    char why[512];
    while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        int gw_opt = gw_cli_apply(&cfg->gateway, opt, optarg, why, sizeof(why));
        if (gw_opt < 0) {
            fprintf(stderr, "genesisd: %s\n", why);
            return EXIT_USAGE;
        }
        if (gw_opt > 0)
            continue;
        switch (opt) {
        case OPT_HTTP:
            if (parse_http(cfg, optarg) != 0)
                return EXIT_USAGE;
            break;
        case OPT_FRONT_DOOR:
            cfg->front_door = optarg;
            break;
        case OPT_EVENTS:
            cfg->event_bus = optarg;
            break;
        case OPT_DEMO:
            cfg->demo = 1;
            break;
        case OPT_ALLOW_FAULTS:
            cfg->allow_faults = 1;
            break;
        case OPT_LOG_LEVEL:
            if (daemon_log_level_parse(optarg, &cfg->log_level) != 0) {
                fprintf(stderr,
                        "genesisd: invalid --log-level '%s' (use error, warn, info or debug)\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_WORKERS:
            if (parse_workers(optarg, &cfg->workers) != 0) {
                fprintf(stderr, "genesisd: invalid --workers '%s' (an integer from 1 to %d)\n",
                        optarg, MAX_WORKERS);
                return EXIT_USAGE;
            }
            break;
        case OPT_CHECKPOINT_DB:
            cfg->checkpoint_db = optarg;
            break;
        case OPT_CHECKPOINT_INTERVAL:
        case OPT_CHECKPOINT_GENERATIONS: {
            unsigned long v = 0;
            if (parse_count(optarg, 1, 86400000UL, &v) != 0) {
                fprintf(stderr, "genesisd: invalid --%s '%s' (a positive integer)\n",
                        opt == OPT_CHECKPOINT_INTERVAL ? "checkpoint-interval"
                                                       : "checkpoint-generations",
                        optarg);
                return EXIT_USAGE;
            }
            if (opt == OPT_CHECKPOINT_INTERVAL)
                cfg->checkpoint_interval_ms = (uint32_t)v;
            else
                cfg->checkpoint_generations = (unsigned int)v;
            break;
        }
        case OPT_SUPERVISE:
        case OPT_SUPERVISE_ENV:
        case OPT_SUPERVISE_CWD:
            if (cfg->supervise.n == MAX_SPECS) {
                fprintf(stderr, "genesisd: too many --supervise* flags (%d at most)\n", MAX_SPECS);
                return EXIT_USAGE;
            }
            cfg->supervise.spec[cfg->supervise.n] = optarg;
            cfg->supervise.kind[cfg->supervise.n++] = opt - OPT_SUPERVISE;
            break;
        case OPT_SUPERVISE_STARTUP:
        case OPT_SUPERVISE_HANG: {
            unsigned long v = 0;
            if (parse_count(optarg, 1, 86400000UL, &v) != 0) {
                fprintf(stderr, "genesisd: invalid --%s '%s' (milliseconds, at least 1)\n",
                        opt == OPT_SUPERVISE_STARTUP ? "supervise-startup-ms" : "supervise-hang-ms",
                        optarg);
                return EXIT_USAGE;
            }
            if (opt == OPT_SUPERVISE_STARTUP)
                cfg->supervise.options.startup_ms = (uint32_t)v;
            else
                cfg->supervise.options.hang_ms = (uint32_t)v;
            break;
        }
        case OPT_RESTART_INTENSITY:
        case OPT_RESTART_BACKOFF:
            if (parse_pair(opt == OPT_RESTART_INTENSITY, optarg, &cfg->supervise.options) != 0)
                return EXIT_USAGE;
            break;
        case OPT_TLS_CA:
            cfg->tls_ca = optarg;
            break;
        case OPT_TLS_CERT:
            cfg->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg->tls_key = optarg;
            break;
        case OPT_VERSION:
            printf("genesisd %s (libgenesis %s, protocol %d)\n", GENESIS_VERSION_STRING,
                   genesis_version_string(), GENESIS_PROTOCOL_VERSION);
            return EXIT_SUCCESS;
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        default: /* getopt_long already named the bad option */
            fprintf(stderr, "Try 'genesisd --help' for more information.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "genesisd: unexpected argument '%s'\n", argv[optind]);
        fprintf(stderr, "Try 'genesisd --help' for more information.\n");
        return EXIT_USAGE;
    }
    if (cfg->front_door[0] == '\0' || cfg->event_bus[0] == '\0') {
        fprintf(stderr, "genesisd: --front-door and --events need a non-empty URL\n");
        return EXIT_USAGE;
    }
    return -1;
}

/* Block the stop signals in every thread: the library's threads, created later, inherit the
 * mask, and the main thread collects the signals synchronously with sigwait, so no code runs
 * in signal-handler context. */
static int block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    /* A reader of our stdout that goes away must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    return pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void log_final_stats(genesis_coordinator *c)
{
    genesis_coordinator_stats st;
    memset(&st, 0, sizeof st);
    st.version = GENESIS_COORDINATOR_STATS_VERSION;
    if (genesis_coordinator_stats_get(c, &st) != GENESIS_OK) {
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

/* Configure and start the supervisor when --supervise was given. Returns EXIT_SUCCESS, or an
 * exit code (usage for a bad spec). */
static int start_supervisor(genesis_coordinator *coord, const struct supervise_flags *flags,
                            const char *front_door, const char *event_bus, supervisor **out)
{
    *out = NULL;
    if (flags->n == 0)
        return EXIT_SUCCESS;
    supervisor *sup = supervisor_new(coord, &flags->options);
    if (sup == NULL) {
        fprintf(stderr, "genesisd: cannot create the supervisor: out of memory\n");
        return EXIT_FAILURE;
    }
    char why[512];
    /* Children first, so --supervise-env / --supervise-cwd may come in any order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < flags->n; i++) {
            int kind = flags->kind[i];
            if ((pass == 0) != (kind == 0))
                continue;
            int bad = kind == 0   ? supervisor_add(sup, flags->spec[i], why, sizeof why)
                      : kind == 1 ? supervisor_add_env(sup, flags->spec[i], why, sizeof why)
                                  : supervisor_set_cwd(sup, flags->spec[i], why, sizeof why);
            if (bad != 0) {
                fprintf(stderr, "genesisd: invalid --supervise%s: %s\n",
                        kind == 0   ? ""
                        : kind == 1 ? "-env"
                                    : "-cwd",
                        why);
                supervisor_free(sup);
                return EXIT_USAGE;
            }
        }
    }
    if (supervisor_start(sup, front_door, event_bus, why, sizeof why) != 0) {
        fprintf(stderr, "genesisd: cannot start the supervisor: %s\n", why);
        supervisor_free(sup);
        return EXIT_FAILURE;
    }
    daemon_logf(GENESIS_LOG_INFO, "supervising %zu component(s)", supervisor_count(sup));
    *out = sup;
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    struct daemon_config cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    daemon_log_set_level(cfg.log_level);

    sigset_t stop_signals;
    if (block_stop_signals(&stop_signals) != 0 || supervisor_block_signals() != 0) {
        fprintf(stderr, "genesisd: cannot block SIGINT/SIGTERM/SIGCHLD\n");
        return EXIT_FAILURE;
    }
    /* A file size limit must fail the write (EFBIG: the checkpoint store reports it as full)
     * rather than kill the daemon. */
    signal(SIGXFSZ, SIG_IGN);

    genesis_coordinator_options opts;
    rc = genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: library rejected options version %d: %s\n",
                GENESIS_COORDINATOR_OPTIONS_VERSION, genesis_last_error());
        return EXIT_FAILURE;
    }
    opts.worker_threads = cfg.workers;
    opts.admin_faults = cfg.allow_faults;
    opts.log_level = cfg.log_level;
    opts.log = daemon_log_sink;
    opts.log_arg = NULL;
    opts.checkpoint_store = cfg.checkpoint_db;
    opts.checkpoint_interval_ms = cfg.checkpoint_interval_ms;
    opts.checkpoint_generations = cfg.checkpoint_generations;
    opts.tls_ca_file = cfg.tls_ca;
    opts.tls_cert_file = cfg.tls_cert;
    opts.tls_key_file = cfg.tls_key;

    genesis_coordinator *coord = NULL;
    rc = genesis_coordinator_new(&coord, &opts);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot create the coordinator: %s (%s)\n", genesis_last_error(),
                genesis_status_name(rc));
        return EXIT_FAILURE;
    }

    rc = genesis_coordinator_listen(coord, cfg.front_door, cfg.event_bus);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot listen on front door %s and event bus %s: %s (%s)\n",
                cfg.front_door, cfg.event_bus, genesis_last_error(), genesis_status_name(rc));
        genesis_coordinator_free(coord);
        /* A URL the library cannot parse or whose transport it lacks is the operator's
         * mistake (usage); anything else (address in use, no such directory) is runtime. */
        return (rc == GENESIS_INVALID_ARGUMENT || rc == GENESIS_UNIMPLEMENTED) ? EXIT_USAGE
                                                                               : EXIT_FAILURE;
    }

    if (cfg.demo) {
        rc = demo_components_register(coord, daemon_log_sink, NULL);
        if (rc != GENESIS_OK) {
            fprintf(stderr, "genesisd: cannot register the demo components: %s (%s)\n",
                    genesis_last_error(), genesis_status_name(rc));
            genesis_coordinator_free(coord);
            return EXIT_FAILURE;
        }
        daemon_logf(GENESIS_LOG_INFO, "registered demo components comp1 and comp2");
    }

    char front_door[URL_BUF_SIZE];
    char event_bus[URL_BUF_SIZE];
    rc = genesis_coordinator_url(coord, GENESIS_ENDPOINT_FRONT_DOOR, front_door, sizeof front_door);
    if (rc == GENESIS_OK)
        rc =
            genesis_coordinator_url(coord, GENESIS_ENDPOINT_EVENT_BUS, event_bus, sizeof event_bus);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot read back the listening URLs: %s (%s)\n",
                genesis_last_error(), genesis_status_name(rc));
        genesis_coordinator_free(coord);
        return EXIT_FAILURE;
    }

    /* The embedded gateway is a client of this coordinator like any other (it dials the front
     * door and the event bus we just opened, so it behaves as genesis-gateway does), except
     * that requests, the hot path, go to the coordinator directly. */
    gw_gateway *gateway = NULL;
    char http_url[300] = "";
    if (cfg.http) {
        char why[512];
        cfg.gateway.front_door = front_door;
        cfg.gateway.event_bus = event_bus;
        cfg.gateway.coordinator = coord; /* requests skip the socket hop */
        cfg.gateway.log = daemon_log_sink;
        cfg.gateway.log_arg = NULL;
        cfg.gateway.log_level = cfg.log_level;
        cfg.gateway.core_tls_ca = cfg.tls_ca;
        cfg.gateway.core_tls_cert = cfg.tls_cert;
        cfg.gateway.core_tls_key = cfg.tls_key;
        rc = gw_new(&gateway, &cfg.gateway, why, sizeof(why));
        if (rc == GENESIS_OK)
            rc = gw_start(gateway, why, sizeof(why));
        if (rc != GENESIS_OK) {
            fprintf(stderr, "genesisd: cannot start the HTTP gateway: %s\n", why);
            gw_free(gateway);
            genesis_coordinator_free(coord);
            return rc == GENESIS_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILURE;
        }
        gw_url(gateway, http_url, sizeof(http_url));
    }

    supervisor *sup = NULL;
    rc = start_supervisor(coord, &cfg.supervise, front_door, event_bus, &sup);
    if (rc != EXIT_SUCCESS) {
        gw_free(gateway);
        genesis_coordinator_free(coord);
        return rc;
    }

    daemon_logf(GENESIS_LOG_INFO, "genesisd %s (pid %ld) ready", genesis_version_string(),
                (long)getpid());
    /* The one line a supervisor or a test waits for; it carries the bound tcp ports. */
    if (gateway != NULL)
        printf("ready front_door=%s event_bus=%s http=%s\n", front_door, event_bus, http_url);
    else
        printf("ready front_door=%s event_bus=%s\n", front_door, event_bus);
    fflush(stdout);

    int sig = 0;
    for (;;) {
        int err = sigwait(&stop_signals, &sig);
        if (err == 0)
            break;
        if (err != EINTR) {
            daemon_logf(GENESIS_LOG_ERROR, "sigwait failed (%s); stopping", strerror(err));
            break;
        }
    }
    daemon_logf(GENESIS_LOG_INFO, "received %s, stopping",
                sig == SIGINT    ? "SIGINT"
                : sig == SIGTERM ? "SIGTERM"
                                 : "a stop request");

    gw_free(gateway);     /* first: its requests drain through the coordinator */
    supervisor_free(sup); /* children stop (and unregister) before the coordinator drains */
    rc = genesis_coordinator_stop(coord);
    if (rc != GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "stop: %s (%s)", genesis_last_error(),
                    genesis_status_name(rc));
    log_final_stats(coord);
    genesis_coordinator_free(coord);
    return EXIT_SUCCESS;
}
