/* genesisd: the Genesis coordinator daemon. Listens on a front door (REP) and an event bus
 * (PUB), optionally registers the demo components, announces itself with one "ready" line on
 * stdout and runs until SIGINT or SIGTERM, then drains and exits 0.
 *
 * SIGHUP (or the admin command "reload") re-reads the --config file.
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
#include <jansson.h>

#include "config_file.h"
#include "daemon_config_keys.h"
#include "daemon_log.h"
#include "daemon_policy.h"
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
    /* Cluster mode: --cluster-nats (repeatable, joined with commas) and --node-id. */
    char cluster_nats[URL_BUF_SIZE];
    genesis_cluster_options cluster;
    uint32_t checkpoint_interval_ms;
    unsigned int checkpoint_generations;
    struct supervise_flags supervise;
    int http; /* serve the embedded gateway */
    /* Mutual TLS for tls+tcp:// URLs: all three or none. */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    gw_config gateway;
    /* Configuration file, resilience settings and log format (issue 9). */
    const char *config_path; /* --config */
    int check_config;        /* --check-config */
    daemon_policies policies;
    int log_format;
    unsigned int log_rate; /* lines per second per message kind */
};

/* Where parse_args writes its complaints: stderr, or a buffer while a reload parses a new
 * configuration (the reload reports them to whoever asked for it). */
static _Thread_local FILE *diag_out;

static FILE *diag(void)
{
    return diag_out != NULL ? diag_out : stderr;
}

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
            "  --log-format FMT    text (default), logfmt or json lines\n"
            "  --log-rate-limit N  lines per second per kind of message (default 20; 0 = no\n"
            "                      limit); the rest are counted and reported\n"
            "  --config FILE       read settings from a YAML file (see README \"Operating\n"
            "                      Genesis\"); flags given too override it; SIGHUP or the\n"
            "                      admin command 'reload' re-reads it\n"
            "  --check-config      validate the configuration, print the effective settings\n"
            "                      and exit (0 valid, 2 invalid)\n"
            "  --policy FIELD=VALUE            default resilience policy field (repeatable)\n"
            "  --component-policy ID:FIELD=VALUE  one component's policy field (repeatable)\n"
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
            "SIGINT or SIGTERM stops the daemon cleanly (in-flight requests drain);\n"
            "SIGHUP reloads the --config file (resilience, supervised components and logs\n"
            "change live, breakers and counters keep their state).\n"
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
            "Cluster mode (docs/cluster.md; checkpoints in NATS JetStream, not SQLite):\n"
            "  --cluster-nats URL[,URL...]   NATS servers (repeatable); $GENESIS_CLUSTER_NATS\n"
            "  --node-id ID                  this node's id, unique in the cluster;\n"
            "                                $GENESIS_NODE_ID\n"
            "  --cluster-name NAME           bucket prefix (genesis)\n"
            "  --cluster-replicas N          copies of every bucket, 1..5 (3)\n"
            "  --cluster-lease-ttl MS        node lease time to live (5000)\n"
            "  --cluster-tls-ca FILE, --cluster-tls-cert FILE, --cluster-tls-key FILE\n"
            "                                TLS towards NATS\n"
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
        fprintf(diag(), "genesisd: --http: %s\n", why);
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
        fprintf(diag(), "genesisd: invalid %s '%s' (%s)\n",
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
        OPT_CONFIG,
        OPT_CHECK_CONFIG,
        OPT_POLICY,
        OPT_COMPONENT_POLICY,
        OPT_LOG_FORMAT,
        OPT_LOG_RATE_LIMIT,
        OPT_TLS_CA,
        OPT_TLS_CERT,
        OPT_TLS_KEY,
        OPT_CLUSTER_NATS,
        OPT_NODE_ID,
        OPT_CLUSTER_NAME,
        OPT_CLUSTER_REPLICAS,
        OPT_CLUSTER_LEASE_TTL,
        OPT_CLUSTER_TLS_CA,
        OPT_CLUSTER_TLS_CERT,
        OPT_CLUSTER_TLS_KEY
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
        {"cluster-nats", required_argument, NULL, OPT_CLUSTER_NATS},
        {"node-id", required_argument, NULL, OPT_NODE_ID},
        {"cluster-name", required_argument, NULL, OPT_CLUSTER_NAME},
        {"cluster-replicas", required_argument, NULL, OPT_CLUSTER_REPLICAS},
        {"cluster-lease-ttl", required_argument, NULL, OPT_CLUSTER_LEASE_TTL},
        {"cluster-tls-ca", required_argument, NULL, OPT_CLUSTER_TLS_CA},
        {"cluster-tls-cert", required_argument, NULL, OPT_CLUSTER_TLS_CERT},
        {"cluster-tls-key", required_argument, NULL, OPT_CLUSTER_TLS_KEY},
        {"help", no_argument, NULL, 'h'},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"component-policy", required_argument, NULL, OPT_COMPONENT_POLICY},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"log-rate-limit", required_argument, NULL, OPT_LOG_RATE_LIMIT},
    };
    struct option long_opts[64];
    if (gw_cli_merge_options(own_opts, sizeof(own_opts) / sizeof(own_opts[0]), long_opts, 64) !=
        0) {
        fprintf(diag(), "genesisd: too many command-line options for the table\n");
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
    genesis_cluster_options_init(&cfg->cluster, GENESIS_CLUSTER_OPTIONS_VERSION);
    env = getenv("GENESIS_CLUSTER_NATS");
    snprintf(cfg->cluster_nats, sizeof(cfg->cluster_nats), "%s", env != NULL ? env : "");
    env = getenv("GENESIS_NODE_ID");
    cfg->cluster.node_id = (env != NULL && env[0] != '\0') ? env : NULL;
    bool nats_from_flags = false, node_id_from_flag = false;
    cfg->checkpoint_generations = 0;
    cfg->supervise.n = 0;
    supervisor_options_init(&cfg->supervise.options);
    cfg->config_path = NULL;
    cfg->check_config = 0;
    daemon_policies_init(&cfg->policies);
    cfg->log_format = DAEMON_LOG_TEXT;
    cfg->log_rate = 20;
    cfg->tls_ca = getenv("GENESIS_TLS_CA");
    cfg->tls_cert = getenv("GENESIS_TLS_CERT");
    cfg->tls_key = getenv("GENESIS_TLS_KEY");

    int opt;
    char why[512];
    optind = 0; /* parse_args runs more than once (configuration file, reload) */
    while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        int gw_opt = gw_cli_apply(&cfg->gateway, opt, optarg, why, sizeof(why));
        if (gw_opt < 0) {
            fprintf(diag(), "genesisd: %s\n", why);
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
                fprintf(diag(),
                        "genesisd: invalid --log-level '%s' (use error, warn, info or debug)\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_WORKERS:
            if (parse_workers(optarg, &cfg->workers) != 0) {
                fprintf(diag(), "genesisd: invalid --workers '%s' (an integer from 1 to %d)\n",
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
                fprintf(diag(), "genesisd: invalid --%s '%s' (a positive integer)\n",
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
                fprintf(diag(), "genesisd: too many --supervise* flags (%d at most)\n", MAX_SPECS);
                return EXIT_USAGE;
            }
            cfg->supervise.spec[cfg->supervise.n] = optarg;
            cfg->supervise.kind[cfg->supervise.n++] = opt - OPT_SUPERVISE;
            break;
        case OPT_SUPERVISE_STARTUP:
        case OPT_SUPERVISE_HANG: {
            unsigned long v = 0;
            if (parse_count(optarg, 1, 86400000UL, &v) != 0) {
                fprintf(diag(), "genesisd: invalid --%s '%s' (milliseconds, at least 1)\n",
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
        case OPT_CONFIG:
            cfg->config_path = optarg;
            break;
        case OPT_CHECK_CONFIG:
            cfg->check_config = 1;
            break;
        case OPT_POLICY:
        case OPT_COMPONENT_POLICY:
            if ((opt == OPT_POLICY
                     ? daemon_policy_set_default(&cfg->policies, optarg, why, sizeof(why))
                     : daemon_policy_set_component(&cfg->policies, optarg, why, sizeof(why))) !=
                0) {
                fprintf(diag(), "genesisd: invalid --%s %s\n",
                        opt == OPT_POLICY ? "policy" : "component-policy", why);
                return EXIT_USAGE;
            }
            break;
        case OPT_LOG_FORMAT:
            if (daemon_log_format_parse(optarg, &cfg->log_format) != 0) {
                fprintf(diag(), "genesisd: invalid --log-format '%s' (text, logfmt or json)\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_LOG_RATE_LIMIT: {
            unsigned long v = 0;
            if (parse_count(optarg, 0, 1000000UL, &v) != 0) {
                fprintf(diag(), "genesisd: invalid --log-rate-limit '%s' (0 to 1000000)\n", optarg);
                return EXIT_USAGE;
            }
            cfg->log_rate = (unsigned int)v;
            break;
        }
        case OPT_TLS_CA:
            cfg->tls_ca = optarg;
            break;
        case OPT_TLS_CERT:
            cfg->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg->tls_key = optarg;
            break;
        case OPT_CLUSTER_NATS: {
            /* Flags replace the environment; repeated flags add servers. */
            size_t used = nats_from_flags ? strlen(cfg->cluster_nats) : 0;
            nats_from_flags = true;
            if (optarg[0] == '\0' || used + strlen(optarg) + 2 > sizeof(cfg->cluster_nats)) {
                fprintf(diag(),
                        "genesisd: invalid --cluster-nats '%s' (URL[,URL...], at most "
                        "%d bytes in all)\n",
                        optarg, URL_BUF_SIZE - 1);
                return EXIT_USAGE;
            }
            snprintf(cfg->cluster_nats + used, sizeof(cfg->cluster_nats) - used, "%s%s",
                     used > 0 ? "," : "", optarg);
            break;
        }
        case OPT_NODE_ID:
            cfg->cluster.node_id = optarg;
            node_id_from_flag = true;
            break;
        case OPT_CLUSTER_NAME:
            cfg->cluster.name = optarg;
            break;
        case OPT_CLUSTER_REPLICAS:
        case OPT_CLUSTER_LEASE_TTL: {
            unsigned long v = 0;
            bool replicas = opt == OPT_CLUSTER_REPLICAS;
            if (parse_count(optarg, replicas ? 1 : 1000, replicas ? 5 : 86400000UL, &v) != 0) {
                fprintf(diag(), "genesisd: invalid --%s '%s' (%s)\n",
                        replicas ? "cluster-replicas" : "cluster-lease-ttl", optarg,
                        replicas ? "1 to 5" : "1000 to 86400000 ms");
                return EXIT_USAGE;
            }
            if (replicas)
                cfg->cluster.replicas = (unsigned int)v;
            else
                cfg->cluster.lease_ttl_ms = (uint32_t)v;
            break;
        }
        case OPT_CLUSTER_TLS_CA:
            cfg->cluster.tls_ca_file = optarg;
            break;
        case OPT_CLUSTER_TLS_CERT:
            cfg->cluster.tls_cert_file = optarg;
            break;
        case OPT_CLUSTER_TLS_KEY:
            cfg->cluster.tls_key_file = optarg;
            break;
        case OPT_VERSION:
            printf("genesisd %s (libgenesis %s, protocol %d)\n", GENESIS_VERSION_STRING,
                   genesis_version_string(), GENESIS_PROTOCOL_VERSION);
            return EXIT_SUCCESS;
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        default: /* getopt_long already named the bad option */
            fprintf(diag(), "Try 'genesisd --help' for more information.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(diag(), "genesisd: unexpected argument '%s'\n", argv[optind]);
        fprintf(diag(), "Try 'genesisd --help' for more information.\n");
        return EXIT_USAGE;
    }
    if (cfg->cluster_nats[0] != '\0') {
        cfg->cluster.nats_urls = cfg->cluster_nats;
        if (cfg->cluster.node_id == NULL) {
            fprintf(diag(), "genesisd: cluster mode (--cluster-nats) needs --node-id\n");
            return EXIT_USAGE;
        }
        if (cfg->checkpoint_db != NULL) {
            fprintf(diag(), "genesisd: --checkpoint-db and --cluster-nats exclude each other (a "
                            "cluster node keeps its checkpoints in NATS JetStream)\n");
            return EXIT_USAGE;
        }
    } else if (node_id_from_flag) {
        fprintf(diag(), "genesisd: --node-id needs --cluster-nats\n");
        return EXIT_USAGE;
    }
    if (cfg->front_door[0] == '\0' || cfg->event_bus[0] == '\0') {
        fprintf(diag(), "genesisd: --front-door and --events need a non-empty URL\n");
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
    sigaddset(set, SIGHUP); /* reload the configuration (collected by the same sigwait) */
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
                            bool always, const char *front_door, const char *event_bus,
                            supervisor **out)
{
    *out = NULL;
    if (flags->n == 0 && !always) /* with a configuration file, a reload may add children */
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

/* ---- configuration file, --check-config and reload (README "Operating Genesis") ---------- */

/* The flags a configuration file produced, followed by the command line: what parse_args
 * reads. The strings stay alive as long as a daemon_config points into them. */
struct config_args {
    conf_file file;
    char **argv;
    int argc;
};

static void config_args_free(struct config_args *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->file.n && a->argv != NULL; i++)
        free(a->argv[1 + i]);
    free(a->argv);
    conf_free(&a->file);
    memset(a, 0, sizeof(*a));
}

static char *flag_arg(const conf_setting *s)
{
    size_t len = strlen(s->flag) + (s->arg != NULL ? strlen(s->arg) : 0) + 4;
    char *text = malloc(len);
    if (text != NULL)
        snprintf(text, len, "--%s%s%s", s->flag, s->arg != NULL ? "=" : "",
                 s->arg != NULL ? s->arg : "");
    return text;
}

/* Run parse_args with its complaints collected into msg (trailing newlines trimmed). */
static int parse_args_quietly(int argc, char **argv, struct daemon_config *cfg, char *msg,
                              size_t size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_out = mem;
    int saved_opterr = opterr;
    opterr = 0; /* the table only produces known flags; the command line was checked already */
    int rc = parse_args(argc, argv, cfg);
    opterr = saved_opterr;
    diag_out = NULL;
    if (mem != NULL)
        fclose(mem);
    snprintf(msg, size, "%s", buf != NULL ? buf : "");
    free(buf);
    for (size_t n = strlen(msg); n > 0 && msg[n - 1] == '\n'; n--)
        msg[n - 1] = '\0';
    return rc;
}

/* Validate what parse_args cannot see alone: the policies as the library checks them, and the
 * supervised components (staged on a supervisor that never starts, returned in *staged when
 * staged is not NULL). 0, or -1 with why. */
static int validate_config(struct daemon_config *cfg, supervisor **staged, char *why, size_t size)
{
    if (staged != NULL)
        *staged = NULL;
    if (daemon_policies_validate(&cfg->policies, why, size) != 0)
        return -1;
    supervisor *sup = supervisor_new(NULL, &cfg->supervise.options);
    if (sup == NULL) {
        snprintf(why, size, "out of memory");
        return -1;
    }
    char reason[512];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cfg->supervise.n; i++) {
            int kind = cfg->supervise.kind[i];
            if ((pass == 0) != (kind == 0))
                continue;
            const char *spec = cfg->supervise.spec[i];
            int bad = kind == 0   ? supervisor_add(sup, spec, reason, sizeof reason)
                      : kind == 1 ? supervisor_add_env(sup, spec, reason, sizeof reason)
                                  : supervisor_set_cwd(sup, spec, reason, sizeof reason);
            if (bad != 0) {
                snprintf(why, size, "supervised component: %s", reason);
                supervisor_free(sup);
                return -1;
            }
        }
    }
    if (staged != NULL)
        *staged = sup;
    else
        supervisor_free(sup);
    return 0;
}

/* Read cfg->config_path, check every setting on its own (so a bad value is reported with its
 * file and line), then parse the file's flags followed by the command line into *out.
 * Returns -1 on success, else an exit code; the complaint goes to why. */
static int load_config_file(const char *path, int argc, char **argv, struct config_args *args,
                            struct daemon_config *out, char *why, size_t size)
{
    memset(args, 0, sizeof(*args));
    if (conf_load(path, daemon_conf_keys, daemon_conf_keys_count, &args->file, why, size) != 0)
        return EXIT_USAGE;
    args->argc = (int)args->file.n + argc;
    args->argv = calloc((size_t)args->argc + 1, sizeof(char *));
    if (args->argv == NULL) {
        snprintf(why, size, "out of memory");
        return EXIT_FAILURE;
    }
    args->argv[0] = argv[0];
    for (size_t i = 0; i < args->file.n; i++) {
        args->argv[1 + i] = flag_arg(&args->file.settings[i]);
        if (args->argv[1 + i] == NULL) {
            snprintf(why, size, "out of memory");
            return EXIT_FAILURE;
        }
        struct daemon_config one;
        memset(&one, 0, sizeof one);
        char msg[512];
        char *single[3] = {argv[0], args->argv[1 + i], NULL};
        int rc = parse_args_quietly(2, single, &one, msg, sizeof msg);
        daemon_policies_free(&one.policies);
        if (rc >= 0) {
            const char *text = strncmp(msg, "genesisd: ", 10) == 0 ? msg + 10 : msg;
            snprintf(why, size, "%s:%u: %s: %s", path, args->file.settings[i].line,
                     args->file.settings[i].key, text);
            return rc == EXIT_SUCCESS ? EXIT_USAGE : rc;
        }
    }
    for (int i = 1; i < argc; i++)
        args->argv[args->file.n + (size_t)i] = argv[i];
    char msg[512];
    int rc = parse_args_quietly(args->argc, args->argv, out, msg, sizeof msg);
    if (rc >= 0) {
        snprintf(why, size, "%s", msg);
        return rc;
    }
    if (validate_config(out, NULL, msg, sizeof msg) != 0) {
        /* The message starts with the section it is about ("components.c1.resilience: ...");
         * point at the first line of that section the file has. */
        const char *colon = strchr(msg, ':');
        size_t plen = colon != NULL ? (size_t)(colon - msg) : 0;
        if (strncmp(msg, "resilience (", 12) == 0)
            plen = 10;
        unsigned int line = 0;
        for (size_t i = 0; i < args->file.n && line == 0 && plen > 0; i++)
            if (strncmp(args->file.settings[i].key, msg, plen) == 0)
                line = args->file.settings[i].line;
        if (line > 0)
            snprintf(why, size, "%s:%u: %s", path, line, msg);
        else
            snprintf(why, size, "%s: %s", path, msg);
        return EXIT_USAGE;
    }
    return -1;
}

/* YAML double-quoted string. */
static void yaml_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if ((unsigned char)*s < 0x20)
            fprintf(out, "\\x%02x", (unsigned char)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

/* The value after "ID=" of a --supervise* spec whose id is id, or NULL. */
static const char *spec_for(const char *spec, const char *id)
{
    size_t len = strlen(id);
    return strncmp(spec, id, len) == 0 && spec[len] == '=' ? spec + len + 1 : NULL;
}

/* Ids of the components the configuration names (supervised or with a policy), in order of
 * first mention, without duplicates. Returns how many (at most cap). */
static size_t component_ids(const struct daemon_config *cfg, char ids[][DAEMON_POLICY_ID_MAX + 1],
                            size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->supervise.n + cfg->policies.n && n < cap; i++) {
        char id[DAEMON_POLICY_ID_MAX + 1];
        if (i < cfg->supervise.n) {
            if (cfg->supervise.kind[i] != 0)
                continue;
            const char *eq = strchr(cfg->supervise.spec[i], '=');
            size_t len = eq != NULL ? (size_t)(eq - cfg->supervise.spec[i]) : 0;
            if (len == 0 || len > DAEMON_POLICY_ID_MAX)
                continue;
            memcpy(id, cfg->supervise.spec[i], len);
            id[len] = '\0';
        } else {
            snprintf(id, sizeof id, "%s", cfg->policies.comps[i - cfg->supervise.n].id);
        }
        size_t k;
        for (k = 0; k < n && strcmp(ids[k], id) != 0; k++) {
        }
        if (k == n)
            snprintf(ids[n++], DAEMON_POLICY_ID_MAX + 1, "%s", id);
    }
    return n;
}

/* One supervised component's settings as text ("" when not supervised), to compare two
 * configurations. */
static void supervised_text(const struct daemon_config *cfg, const char *id, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->supervise.n; i++) {
        const char *v = spec_for(cfg->supervise.spec[i], id);
        if (v != NULL && used < size)
            used += (size_t)snprintf(buf + used, size - used, "%d:%s\n", cfg->supervise.kind[i], v);
    }
}

#define MAX_CONFIG_IDS MAX_SPECS

/* The effective configuration, as a configuration file that --config accepts. */
static void print_config(FILE *out, const struct daemon_config *cfg)
{
    const gw_config *g = &cfg->gateway;
    fprintf(out, "# genesisd %s: effective configuration\nlisten:\n  front_door: ",
            GENESIS_VERSION_STRING);
    yaml_string(out, cfg->front_door);
    fputs("\n  event_bus: ", out);
    yaml_string(out, cfg->event_bus);
    fputs("\n  http: ", out);
    if (cfg->http)
        fprintf(out, "\"%s:%d\"\n", g->host, g->port);
    else
        fputs("\"off\"\n", out);
    fprintf(out, "workers: %u\ndemo: %s\nallow_faults: %s\n", cfg->workers ? cfg->workers : 4,
            cfg->demo ? "true" : "false", cfg->allow_faults ? "true" : "false");
    fprintf(out, "log:\n  level: %s\n  format: %s\n  rate_limit: %u\n",
            daemon_log_level_name(cfg->log_level), daemon_log_format_name(cfg->log_format),
            cfg->log_rate);
    fputs("checkpoint:\n", out);
    if (cfg->checkpoint_db != NULL) {
        fputs("  db: ", out);
        yaml_string(out, cfg->checkpoint_db);
        fputc('\n', out);
    } else {
        fputs("  # db: none (checkpoints are refused)\n", out);
    }
    fprintf(out, "  interval_ms: %u\n  generations: %u\n",
            cfg->checkpoint_interval_ms ? cfg->checkpoint_interval_ms : 150,
            cfg->checkpoint_generations ? cfg->checkpoint_generations : 3);
    if (cfg->cluster.nats_urls != NULL) {
        fputs("cluster:\n  nats: ", out);
        yaml_string(out, cfg->cluster.nats_urls);
        fputs("\n  node_id: ", out);
        yaml_string(out, cfg->cluster.node_id);
        fprintf(out, "\n  replicas: %u\n  lease_ttl_ms: %u\n",
                cfg->cluster.replicas ? cfg->cluster.replicas : 3,
                cfg->cluster.lease_ttl_ms ? cfg->cluster.lease_ttl_ms : 5000);
    } else {
        fputs("# cluster: none (a single node)\n", out);
    }
    fputs("resilience:\n", out);
    daemon_policy_print_yaml(out, &cfg->policies.def, 0, 2, 1);
    char(*ids)[DAEMON_POLICY_ID_MAX + 1] = calloc(MAX_CONFIG_IDS, sizeof(*ids));
    size_t n = ids != NULL ? component_ids(cfg, ids, MAX_CONFIG_IDS) : 0;
    fputs(n > 0 ? "components:\n" : "# components: none\n", out);
    for (size_t k = 0; k < n; k++) {
        fprintf(out, "  %s:\n", ids[k]);
        int envs = 0;
        for (int kind = 0; kind < 3; kind++) {
            for (size_t i = 0; i < cfg->supervise.n; i++) {
                const char *v = spec_for(cfg->supervise.spec[i], ids[k]);
                if (v == NULL || cfg->supervise.kind[i] != kind)
                    continue;
                if (kind == 1 && envs++ == 0)
                    fputs("    env:\n", out);
                fputs(kind == 0 ? "    command: " : kind == 1 ? "      - " : "    cwd: ", out);
                yaml_string(out, v);
                fputc('\n', out);
            }
        }
        const daemon_component_policy *cp = daemon_policy_find(&cfg->policies, ids[k]);
        if (cp != NULL) {
            fputs("    resilience:\n", out);
            daemon_policy_print_yaml(out, &cp->values, cp->mask, 6, 0);
        }
    }
    free(ids);
    const supervisor_options *so = &cfg->supervise.options;
    fprintf(out,
            "supervisor:\n  restart_intensity: \"%u/%g\"\n  restart_backoff: \"%u/%u\"\n"
            "  startup_ms: %u\n  hang_ms: %u\n",
            so->max_restarts, so->window_ms / 1000.0, so->backoff_initial_ms, so->backoff_max_ms,
            so->startup_ms, so->hang_ms);
    fputs("gateway:\n", out);
    if (g->tls_cert != NULL) {
        fputs("  tls_cert: ", out);
        yaml_string(out, g->tls_cert);
        fputc('\n', out);
    }
    if (g->tls_key != NULL) {
        fputs("  tls_key: ", out);
        yaml_string(out, g->tls_key);
        fputc('\n', out);
    }
    fprintf(out,
            "  max_body: %zu\n  max_header: %u\n  max_ws_message: %zu\n  max_ws_clients: %u\n"
            "  ws_queue: %u\n  ws_queue_bytes: %zu\n  ws_ping_s: %u\n  ws_idle_s: %u\n"
            "  keepalive_s: %u\n  header_timeout_s: %u\n  request_timeout_ms: %u\n",
            g->max_body, g->max_header, g->max_ws_message, g->max_ws_clients, g->ws_queue,
            g->ws_queue_bytes, g->ws_ping_s, g->ws_idle_s, g->http_keepalive_s, g->header_timeout_s,
            (unsigned int)g->default_timeout_ms);
    if (g->auth_file != NULL) {
        fputs("auth:\n  file: ", out);
        yaml_string(out, g->auth_file);
        fputc('\n', out);
    } else {
        fputs("# auth: none (the gateway does not authenticate)\n", out);
    }
}

/* ---- reload ------------------------------------------------------------------------------ */

struct daemon_state {
    pthread_mutex_t lock; /* one reload at a time (SIGHUP and admin requests) */
    genesis_coordinator *coord;
    supervisor *sup;             /* exists whenever a configuration file is used */
    struct daemon_config cfg;    /* in force */
    struct config_args args;     /* the strings cfg points into */
    struct config_args previous; /* kept one reload longer */
    struct config_args startup;  /* the first configuration's strings: never freed before exit */
    int argc;
    char **argv; /* the command line (its flags override the file at every reload) */
    uint64_t reloads, failures;
};

/* Split print_config's text into top-level sections; returns the section text that starts
 * with name ("" when absent) into buf. */
static void section_text(const char *doc, const char *name, char *buf, size_t size)
{
    size_t used = 0, nl = strlen(name);
    bool in = false;
    buf[0] = '\0';
    for (const char *line = doc; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line + 1) : strlen(line);
        if (line[0] != ' ') {
            const char *key = line[0] == '#' ? line + 2 : line;
            in = (size_t)(line + len - key) > nl && strncmp(key, name, nl) == 0 && key[nl] == ':';
        }
        if (in && used + len < size) {
            memcpy(buf + used, line, len);
            used += len;
            buf[used] = '\0';
        }
        line += len;
    }
}

static char *config_text(const struct daemon_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return NULL;
    print_config(mem, cfg);
    fclose(mem);
    return buf;
}

static void json_add(json_t *array, const char *fmt, const char *arg)
{
    char text[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(text, sizeof text, fmt, arg); /* fmt: a literal with one %s (see callers) */
#pragma GCC diagnostic pop
    json_array_append_new(array, json_string(text));
}

/* Re-read the configuration file and apply what can change live. Returns a genesis status;
 * *report receives a malloc'd JSON document (success) or message (failure). On failure
 * nothing changed. */
static int daemon_reload(struct daemon_state *st, char **report)
{
    static const char *const sections[] = {"listen",     "workers",    "demo",       "allow_faults",
                                           "log",        "checkpoint", "resilience", "components",
                                           "supervisor", "gateway",    "auth"};
    char why[1024];
    *report = NULL;
    pthread_mutex_lock(&st->lock);
    const char *path = st->cfg.config_path;
    if (path == NULL) {
        pthread_mutex_unlock(&st->lock);
        *report = strdup("genesisd runs without --config: there is no file to reload");
        return GENESIS_FAILED_PRECONDITION;
    }
    struct config_args args;
    struct daemon_config next;
    memset(&next, 0, sizeof next);
    int rc = load_config_file(path, st->argc, st->argv, &args, &next, why, sizeof why);
    supervisor *staged = NULL;
    if (rc < 0 && validate_config(&next, &staged, why, sizeof why) != 0)
        rc = EXIT_USAGE;
    if (rc >= 0) {
        daemon_policies_free(&next.policies);
        config_args_free(&args);
        supervisor_free(staged);
        st->failures++;
        pthread_mutex_unlock(&st->lock);
        daemon_logf(GENESIS_LOG_ERROR, "reload rejected, the configuration in force is kept: %s",
                    why);
        *report = strdup(why);
        return GENESIS_INVALID_ARGUMENT;
    }

    json_t *applied = json_array(), *not_applied = json_array();
    char *before = config_text(&st->cfg), *after = config_text(&next);
    char *a = malloc(65536), *b = malloc(65536);
    for (size_t i = 0; a != NULL && b != NULL && before != NULL && after != NULL &&
                       i < sizeof sections / sizeof sections[0];
         i++) {
        section_text(before, sections[i], a, 65536);
        section_text(after, sections[i], b, 65536);
        if (strcmp(a, b) != 0 && !daemon_conf_section_is_live(sections[i]))
            json_add(not_applied, "%s (restart genesisd to apply)", sections[i]);
    }
    free(a);
    free(b);
    free(before);
    free(after);

    /* Resilience first: validated above, so a failure here is exceptional; then the old
     * policies are put back. */
    char changes[2048];
    rc = daemon_policies_apply(&next.policies, &st->cfg.policies, st->coord, changes,
                               sizeof changes);
    if (rc != GENESIS_OK) {
        snprintf(why, sizeof why, "applying the policies failed: %s", genesis_last_error());
        daemon_policies_apply(&st->cfg.policies, &next.policies, st->coord, NULL, 0);
        daemon_policies_free(&next.policies);
        config_args_free(&args);
        supervisor_free(staged);
        json_decref(applied);
        json_decref(not_applied);
        st->failures++;
        pthread_mutex_unlock(&st->lock);
        daemon_logf(GENESIS_LOG_ERROR, "reload: %s", why);
        *report = strdup(why);
        return GENESIS_INTERNAL;
    }
    for (const char *c = changes; *c != '\0';) {
        const char *comma = strstr(c, ", ");
        size_t len = comma != NULL ? (size_t)(comma - c) : strlen(c);
        char item[256];
        snprintf(item, sizeof item, "%.*s", (int)len, c);
        json_add(applied, "%s policy", item);
        c += len + (comma != NULL ? 2 : 0);
    }

    /* Supervised components: the changed ones are replaced, the others keep running. */
    char(*ids)[DAEMON_POLICY_ID_MAX + 1] = calloc(2 * MAX_CONFIG_IDS, sizeof(*ids));
    size_t n = 0;
    if (ids != NULL) {
        n = component_ids(&st->cfg, ids, MAX_CONFIG_IDS);
        n += component_ids(&next, ids + n, MAX_CONFIG_IDS);
    }
    char was[4096], now[4096];
    for (size_t k = 0; k < n; k++) {
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(ids[j], ids[k]) == 0;
        if (dup)
            continue;
        supervised_text(&st->cfg, ids[k], was, sizeof was);
        supervised_text(&next, ids[k], now, sizeof now);
        if (strcmp(was, now) == 0)
            continue;
        if (was[0] != '\0' && st->sup != NULL)
            supervisor_retire(st->sup, ids[k]);
        char reason[256];
        if (now[0] != '\0' && (st->sup == NULL || supervisor_adopt(st->sup, staged, ids[k], reason,
                                                                   sizeof reason) != 0)) {
            json_add(not_applied, "supervised %s (restart genesisd to apply)", ids[k]);
            continue;
        }
        json_add(applied,
                 was[0] == '\0'   ? "supervised %s added"
                 : now[0] == '\0' ? "supervised %s removed"
                                  : "supervised %s replaced",
                 ids[k]);
    }
    free(ids);
    supervisor_free(staged);

    if (next.log_level != st->cfg.log_level || next.log_format != st->cfg.log_format ||
        next.log_rate != st->cfg.log_rate) {
        daemon_log_set_level(next.log_level);
        demo_components_set_debug(next.log_level >= GENESIS_LOG_DEBUG);
        daemon_log_set_format(next.log_format);
        daemon_log_set_rate_limit(next.log_rate);
        json_add(applied, "%s", "log");
    }

    /* Keep the new configuration; the strings of the one before stay alive one more reload
     * (settings not applied live may still point into them). */
    daemon_policies_free(&st->cfg.policies);
    config_args_free(&st->previous);
    st->previous = st->args;
    st->args = args;
    st->cfg = next;
    st->reloads++;
    json_t *doc =
        json_pack("{s:b, s:s, s:I, s:o, s:o}", "reloaded", 1, "file", path, "reloads",
                  (json_int_t)st->reloads, "applied", applied, "not_applied", not_applied);
    *report = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    pthread_mutex_unlock(&st->lock);
    daemon_logf(GENESIS_LOG_INFO, "configuration reloaded from %s: %s", path,
                *report != NULL ? *report : "");
    return GENESIS_OK;
}

/* The admin command "reload" (genesisctl reload, the gateway's POST /v1/admin/reload). */
static void on_admin_reload(const char *command, const char *const *args, size_t nargs,
                            genesis_reply *reply, void *arg)
{
    (void)args;
    if (strcmp(command, "reload") != 0 || nargs != 0) {
        genesis_reply_error(reply, GENESIS_INVALID_ARGUMENT, "usage: reload (no arguments)");
        return;
    }
    char *report = NULL;
    int rc = daemon_reload(arg, &report);
    if (rc == GENESIS_OK)
        genesis_reply_set(reply, report != NULL ? report : "{}",
                          report != NULL ? strlen(report) : 2, "application/json");
    else
        genesis_reply_error(reply, rc, report != NULL ? report : "reload failed");
    free(report);
}

/* After the command line: read --config (the file's flags, then the command line's, so flags
 * win), validate, and answer --check-config. Returns -1 to go on, or an exit code. */
static int finish_config(int argc, char **argv, struct daemon_config *cfg, struct config_args *args)
{
    char why[1024];
    memset(args, 0, sizeof(*args));
    if (cfg->config_path != NULL) {
        const char *path = cfg->config_path; /* points into argv */
        daemon_policies_free(&cfg->policies);
        int rc = load_config_file(path, argc, argv, args, cfg, why, sizeof why);
        if (rc >= 0) {
            fprintf(stderr, "genesisd: %s\n", why);
            daemon_policies_free(&cfg->policies);
            config_args_free(args);
            return rc;
        }
    } else if (validate_config(cfg, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "genesisd: %s\n", why);
        daemon_policies_free(&cfg->policies);
        return EXIT_USAGE;
    }
    if (cfg->check_config) {
        print_config(stdout, cfg);
        printf("# configuration is valid\n");
        daemon_policies_free(&cfg->policies);
        config_args_free(args);
        return EXIT_SUCCESS;
    }
    return -1;
}

int main(int argc, char **argv)
{
    /* Static: what they own stays reachable on every exit path (no leak reports). */
    static struct daemon_state st;
    static struct daemon_config cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc >= 0) {
        daemon_policies_free(&cfg.policies);
        return rc;
    }
    rc = finish_config(argc, argv, &cfg, &st.startup);
    if (rc >= 0)
        return rc;
    daemon_log_set_level(cfg.log_level);
    demo_components_set_debug(cfg.log_level >= GENESIS_LOG_DEBUG);
    daemon_log_set_format(cfg.log_format);
    daemon_log_set_rate_limit(cfg.log_rate);

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
    opts.log_arg = (void *)"coordinator";
    opts.default_policy = &cfg.policies.def;
    opts.checkpoint_store = cfg.checkpoint_db;
    opts.checkpoint_interval_ms = cfg.checkpoint_interval_ms;
    opts.checkpoint_generations = cfg.checkpoint_generations;
    opts.tls_ca_file = cfg.tls_ca;
    opts.tls_cert_file = cfg.tls_cert;
    opts.tls_key_file = cfg.tls_key;

    genesis_coordinator *coord = NULL;
    if (cfg.cluster.nats_urls != NULL)
        rc = genesis_coordinator_new_clustered(&coord, &opts, &cfg.cluster);
    else
        rc = genesis_coordinator_new(&coord, &opts);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot create the coordinator: %s (%s)\n", genesis_last_error(),
                genesis_status_name(rc));
        return EXIT_FAILURE;
    }
    rc = daemon_policies_apply(&cfg.policies, NULL, coord, NULL, 0);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisd: cannot apply the component policies: %s\n",
                genesis_last_error());
        genesis_coordinator_free(coord);
        return EXIT_USAGE;
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
        rc = demo_components_register(coord, daemon_log_sink, (void *)"demo");
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
        cfg.gateway.log_arg = (void *)"gateway";
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
    rc = start_supervisor(coord, &cfg.supervise, cfg.config_path != NULL, front_door, event_bus,
                          &sup);
    if (rc != EXIT_SUCCESS) {
        gw_free(gateway);
        genesis_coordinator_free(coord);
        return rc;
    }

    pthread_mutex_init(&st.lock, NULL);
    st.coord = coord;
    st.sup = sup;
    st.cfg = cfg;
    st.argc = argc;
    st.argv = argv;
    if (genesis_coordinator_set_admin_handler(coord, "reload", on_admin_reload, &st) != GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "cannot register the admin command 'reload': %s",
                    genesis_last_error());

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
        if (err == 0 && sig == SIGHUP) {
            char *report = NULL;
            daemon_logf(GENESIS_LOG_INFO, "SIGHUP: reloading the configuration");
            daemon_reload(&st, &report); /* logs its outcome */
            free(report);
            continue;
        }
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

    genesis_coordinator_set_admin_handler(coord, "reload", NULL, NULL);
    gw_free(gateway);     /* first: its requests drain through the coordinator */
    supervisor_free(sup); /* children stop (and unregister) before the coordinator drains */
    rc = genesis_coordinator_stop(coord);
    if (rc != GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "stop: %s (%s)", genesis_last_error(),
                    genesis_status_name(rc));
    log_final_stats(coord);
    genesis_coordinator_free(coord);
    daemon_log_flush();
    daemon_policies_free(&st.cfg.policies);
    config_args_free(&st.args);
    config_args_free(&st.previous);
    config_args_free(&st.startup);
    pthread_mutex_destroy(&st.lock);
    return EXIT_SUCCESS;
}
