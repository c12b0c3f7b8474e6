/* genesisd's flags: defaults, help text and parser (see daemon_options.h). */
#define _POSIX_C_SOURCE 200809L

#include "daemon_options.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/gateway_cli.h>
#include <genesis/genesis.h>

#include "config_values.h"
#include "daemon_cli.h"
#include "daemon_log.h"

#define DEFAULT_FRONT_DOOR "tcp://127.0.0.1:7400"
#define DEFAULT_EVENT_BUS  "tcp://127.0.0.1:7401"
#define DEFAULT_HTTP       "127.0.0.1:8080"
#define MS_MAX             86400000ull /* a day: the bound of every millisecond flag */

/* parse_option's answer: go on, or exit with a code (0 after --help / --version). */
#define GO_ON (-1)

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
    OPT_SUPERVISE, /* OPT_SUPERVISE + enum daemon_supervise_kind */
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
    OPT_METRICS,
    OPT_CLUSTER_NATS,
    OPT_NODE_ID,
    OPT_CLUSTER_NAME,
    OPT_CLUSTER_REPLICAS,
    OPT_CLUSTER_LEASE_TTL,
    OPT_CLUSTER_TLS_CA,
    OPT_CLUSTER_TLS_CERT,
    OPT_CLUSTER_TLS_KEY,
    OPT_CLUSTER_EVENTS_MAX_AGE,
    OPT_CLUSTER_EVENTS_MAX_BYTES
};

static const struct option own_options[] = {
    {"http", required_argument, NULL, OPT_HTTP},
    {"metrics", required_argument, NULL, OPT_METRICS},
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
    {"cluster-events-max-age", required_argument, NULL, OPT_CLUSTER_EVENTS_MAX_AGE},
    {"cluster-events-max-bytes", required_argument, NULL, OPT_CLUSTER_EVENTS_MAX_BYTES},
    {"help", no_argument, NULL, 'h'},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"component-policy", required_argument, NULL, OPT_COMPONENT_POLICY},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"log-rate-limit", required_argument, NULL, OPT_LOG_RATE_LIMIT},
};

/* Where the parser writes its complaints: stderr, or a buffer while a configuration (re)load
 * parses (the reload reports them to whoever asked for it). */
static _Thread_local FILE *diag_out;

static FILE *diag(void)
{
    return diag_out != NULL ? diag_out : stderr;
}

void daemon_options_usage(FILE *out)
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
            "  --config FILE       read settings from a YAML file (see docs/operating.md);\n"
            "                      flags given too override it; SIGHUP or the\n"
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
            "  --metrics HOST:PORT|off  serve GET /metrics, /healthz and /readyz (Prometheus\n"
            "                      text format, no authentication) on an address of their\n"
            "                      own, also with --http off; default off\n"
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
            "  ready front_door=<url> event_bus=<url> [http=<url>] [metrics=<url>]\n"
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
            "  --cluster-events-max-age MS   events kept in the cluster's stream (a day)\n"
            "  --cluster-events-max-bytes N  bytes kept per event stream (1 GiB)\n"
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
            genesis_gateway_cli_help());
}

/* "off" disables the gateway; anything else is HOST:PORT. */
static int parse_http(daemon_config *cfg, const char *spec)
{
    if (strcmp(spec, "off") == 0) {
        cfg->http = 0;
        return GO_ON;
    }
    cfg->http = 1;
    if (genesis_gateway_options_set_listen(&cfg->gateway, spec) != GENESIS_OK) {
        fprintf(diag(), "genesisd: --http: %s\n", genesis_gateway_last_error());
        return DAEMON_EXIT_USAGE;
    }
    return GO_ON;
}

/* An unsigned flag value in [lo, hi] into *out, or the complaint (hint says what is valid). */
static int parse_bounded(const char *flag, const char *text, unsigned long long lo,
                         unsigned long long hi, const char *hint, unsigned long long *out)
{
    if (daemon_cli_parse_uint(text, lo, hi, out) == 0)
        return GO_ON;
    fprintf(diag(), "genesisd: invalid --%s '%s' (%s)\n", flag, text, hint);
    return DAEMON_EXIT_USAGE;
}

/* A duration flag in milliseconds: "150ms", "10s", "2m", or a bare number of ms. */
static int parse_ms(const char *flag, const char *text, unsigned long long lo,
                    unsigned long long hi, unsigned long long *out)
{
    if (conf_parse_duration(text, CONF_UNIT_MS, lo, hi, out) == 0)
        return GO_ON;
    char range[160];
    conf_duration_range(CONF_UNIT_MS, lo, hi, range, sizeof(range));
    fprintf(diag(), "genesisd: invalid --%s '%s' (%s)\n", flag, text, range);
    return DAEMON_EXIT_USAGE;
}

/* --restart-intensity R/T (T in seconds, decimals allowed) or --restart-backoff MIN/MAX (ms). */
static int parse_pair(bool intensity, const char *text, supervisor_options *o)
{
    const char *slash = strchr(text, '/');
    char first[32];
    size_t len = slash != NULL ? (size_t)(slash - text) : 0;
    unsigned long long a = 0, b = 0;
    uint32_t window_ms = 0;
    bool ok = len > 0 && len < sizeof(first);
    if (ok) {
        memcpy(first, text, len);
        first[len] = '\0';
        ok = daemon_cli_parse_uint(first, 0, intensity ? 10000 : 1000000, &a) == 0;
    }
    if (ok && intensity) {
        ok = daemon_cli_parse_seconds(slash + 1, 86400000.0, &window_ms) == 0;
        if (ok) {
            o->max_restarts = (unsigned int)a;
            o->window_ms = window_ms;
        }
    } else if (ok) {
        ok = daemon_cli_parse_uint(slash + 1, 1, MS_MAX, &b) == 0 && b >= a;
        if (ok) {
            o->backoff_initial_ms = (uint32_t)a;
            o->backoff_max_ms = (uint32_t)b;
        }
    }
    if (ok)
        return GO_ON;
    fprintf(diag(), "genesisd: invalid %s '%s' (%s)\n",
            intensity ? "--restart-intensity" : "--restart-backoff", text,
            intensity ? "R/SECONDS, R at most 10000, e.g. 5/10" : "MIN_MS/MAX_MS, e.g. 100/5000");
    return DAEMON_EXIT_USAGE;
}

/* The defaults, some from the environment. */
static int set_defaults(daemon_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    genesis_gateway_options_init(&cfg->gateway, GENESIS_GATEWAY_OPTIONS_VERSION);
    daemon_policies_init(&cfg->policies);
    supervisor_options_init(&cfg->supervise.options);
    cfg->front_door = daemon_cli_env_or("GENESIS_FRONT_DOOR", DEFAULT_FRONT_DOOR);
    cfg->event_bus = daemon_cli_env_or("GENESIS_EVENT_BUS", DEFAULT_EVENT_BUS);
    cfg->log_level = GENESIS_LOG_INFO;
    cfg->checkpoint_db = daemon_cli_env_or("GENESIS_CHECKPOINT_DB", NULL);
    cfg->log_format = DAEMON_LOG_TEXT;
    cfg->log_rate = 20;
    cfg->tls_ca = getenv("GENESIS_TLS_CA");
    cfg->tls_cert = getenv("GENESIS_TLS_CERT");
    cfg->tls_key = getenv("GENESIS_TLS_KEY");
    genesis_cluster_options_init(&cfg->cluster, GENESIS_CLUSTER_OPTIONS_VERSION);
    snprintf(cfg->cluster_nats, sizeof(cfg->cluster_nats), "%s",
             daemon_cli_env_or("GENESIS_CLUSTER_NATS", ""));
    cfg->cluster.node_id = daemon_cli_env_or("GENESIS_NODE_ID", NULL);
    return parse_http(cfg, daemon_cli_env_or("GENESIS_HTTP", DEFAULT_HTTP));
}

/* Listening, logs and the switches. */
static int parse_general(daemon_config *cfg, int opt, const char *arg)
{
    unsigned long long v = 0;
    int rc = GO_ON;
    switch (opt) {
    case OPT_HTTP:
        return parse_http(cfg, arg);
    case OPT_METRICS: {
        genesis_gateway_options probe;
        genesis_gateway_options_init(&probe, GENESIS_GATEWAY_OPTIONS_VERSION);
        if (strcmp(arg, "off") == 0) {
            cfg->metrics = NULL;
            return GO_ON;
        }
        if (genesis_gateway_options_set_listen(&probe, arg) != GENESIS_OK) {
            fprintf(diag(), "genesisd: --metrics: %s\n", genesis_gateway_last_error());
            return DAEMON_EXIT_USAGE;
        }
        cfg->metrics = arg;
        return GO_ON;
    }
    case OPT_FRONT_DOOR:
        cfg->front_door = arg;
        break;
    case OPT_EVENTS:
        cfg->event_bus = arg;
        break;
    case OPT_DEMO:
        cfg->demo = 1;
        break;
    case OPT_ALLOW_FAULTS:
        cfg->allow_faults = 1;
        break;
    case OPT_WORKERS:
        rc = parse_bounded("workers", arg, 1, DAEMON_MAX_WORKERS, "an integer from 1 to 1024", &v);
        cfg->workers = (unsigned int)v;
        break;
    case OPT_LOG_LEVEL:
        if (daemon_log_level_parse(arg, &cfg->log_level) != 0) {
            fprintf(diag(), "genesisd: invalid --log-level '%s' (use error, warn, info or debug)\n",
                    arg);
            rc = DAEMON_EXIT_USAGE;
        }
        break;
    case OPT_LOG_FORMAT:
        if (daemon_log_format_parse(arg, &cfg->log_format) != 0) {
            fprintf(diag(), "genesisd: invalid --log-format '%s' (text, logfmt or json)\n", arg);
            rc = DAEMON_EXIT_USAGE;
        }
        break;
    case OPT_LOG_RATE_LIMIT:
        rc = parse_bounded("log-rate-limit", arg, 0, 1000000, "0 to 1000000", &v);
        cfg->log_rate = (unsigned int)v;
        break;
    case OPT_CONFIG:
        cfg->config_path = arg;
        break;
    case OPT_CHECK_CONFIG:
        cfg->check_config = 1;
        break;
    case OPT_TLS_CA:
        cfg->tls_ca = arg;
        break;
    case OPT_TLS_CERT:
        cfg->tls_cert = arg;
        break;
    case OPT_TLS_KEY:
        cfg->tls_key = arg;
        break;
    default:
        return DAEMON_EXIT_USAGE;
    }
    return rc;
}

/* Checkpoints and resilience policies. */
static int parse_state(daemon_config *cfg, int opt, const char *arg)
{
    unsigned long long v = 0;
    char why[1024];
    int rc = GO_ON;
    switch (opt) {
    case OPT_CHECKPOINT_DB:
        cfg->checkpoint_db = arg;
        break;
    case OPT_CHECKPOINT_INTERVAL:
        rc = parse_ms("checkpoint-interval", arg, 1, MS_MAX, &v);
        cfg->checkpoint_interval_ms = (uint32_t)v;
        break;
    case OPT_CHECKPOINT_GENERATIONS:
        rc = parse_bounded("checkpoint-generations", arg, 1, MS_MAX, "a positive integer", &v);
        cfg->checkpoint_generations = (unsigned int)v;
        break;
    case OPT_POLICY:
        if (daemon_policy_set_default(&cfg->policies, arg, why, sizeof(why)) != 0) {
            fprintf(diag(), "genesisd: invalid --policy %s\n", why);
            rc = DAEMON_EXIT_USAGE;
        }
        break;
    case OPT_COMPONENT_POLICY:
        if (daemon_policy_set_component(&cfg->policies, arg, why, sizeof(why)) != 0) {
            fprintf(diag(), "genesisd: invalid --component-policy %s\n", why);
            rc = DAEMON_EXIT_USAGE;
        }
        break;
    default:
        return DAEMON_EXIT_USAGE;
    }
    return rc;
}

/* Cluster mode. Repeated --cluster-nats flags add servers; the first replaces the
 * environment's. */
static int parse_cluster(daemon_config *cfg, int opt, const char *arg, bool *nats_flag,
                         bool *id_flag)
{
    unsigned long long v = 0;
    int rc = GO_ON;
    switch (opt) {
    case OPT_CLUSTER_NATS: {
        size_t used = *nats_flag ? strlen(cfg->cluster_nats) : 0;
        *nats_flag = true;
        if (arg[0] == '\0' || used + strlen(arg) + 2 > sizeof(cfg->cluster_nats)) {
            fprintf(diag(),
                    "genesisd: invalid --cluster-nats '%s' (URL[,URL...], %zu bytes in all at "
                    "most)\n",
                    arg, sizeof(cfg->cluster_nats) - 1);
            return DAEMON_EXIT_USAGE;
        }
        snprintf(cfg->cluster_nats + used, sizeof(cfg->cluster_nats) - used, "%s%s",
                 used > 0 ? "," : "", arg);
        break;
    }
    case OPT_NODE_ID:
        cfg->cluster.node_id = arg;
        *id_flag = true;
        break;
    case OPT_CLUSTER_NAME:
        cfg->cluster.name = arg;
        break;
    case OPT_CLUSTER_REPLICAS:
        rc = parse_bounded("cluster-replicas", arg, 1, 5, "1 to 5", &v);
        cfg->cluster.replicas = (unsigned int)v;
        break;
    case OPT_CLUSTER_LEASE_TTL:
        rc = parse_bounded("cluster-lease-ttl", arg, 1000, MS_MAX, "1000 to 86400000 ms", &v);
        cfg->cluster.lease_ttl_ms = (uint32_t)v;
        break;
    case OPT_CLUSTER_TLS_CA:
        cfg->cluster.tls_ca_file = arg;
        break;
    case OPT_CLUSTER_TLS_CERT:
        cfg->cluster.tls_cert_file = arg;
        break;
    case OPT_CLUSTER_TLS_KEY:
        cfg->cluster.tls_key_file = arg;
        break;
    case OPT_CLUSTER_EVENTS_MAX_AGE:
        rc = parse_ms("cluster-events-max-age", arg, 1000, 365 * MS_MAX, &v);
        cfg->cluster.events_max_age_ms = v;
        break;
    case OPT_CLUSTER_EVENTS_MAX_BYTES:
        rc = parse_bounded("cluster-events-max-bytes", arg, 65536, 1ull << 40, "64 KiB to 1 TiB",
                           &v);
        cfg->cluster.events_max_bytes = v;
        break;
    default:
        return DAEMON_EXIT_USAGE;
    }
    return rc;
}

/* Cluster settings that only make sense together. */
static int check_cluster(const daemon_config *cfg, bool id_flag)
{
    if (cfg->cluster_nats[0] == '\0') {
        if (id_flag) {
            fprintf(diag(), "genesisd: --node-id needs --cluster-nats\n");
            return DAEMON_EXIT_USAGE;
        }
        return GO_ON;
    }
    if (cfg->cluster.node_id == NULL) {
        fprintf(diag(), "genesisd: cluster mode (--cluster-nats) needs --node-id\n");
        return DAEMON_EXIT_USAGE;
    }
    if (cfg->checkpoint_db != NULL) {
        fprintf(diag(), "genesisd: --checkpoint-db and --cluster-nats exclude each other (a "
                        "cluster node keeps its checkpoints in NATS JetStream)\n");
        return DAEMON_EXIT_USAGE;
    }
    return GO_ON;
}

/* Supervised components and the supervisor's settings. */
static int parse_supervision(daemon_config *cfg, int opt, const char *arg)
{
    daemon_supervise_flags *sf = &cfg->supervise;
    unsigned long long v = 0;
    int rc = GO_ON;
    switch (opt) {
    case OPT_SUPERVISE:
    case OPT_SUPERVISE_ENV:
    case OPT_SUPERVISE_CWD:
        if (sf->n == DAEMON_MAX_SPECS) {
            fprintf(diag(), "genesisd: too many --supervise* flags (%d at most)\n",
                    DAEMON_MAX_SPECS);
            return DAEMON_EXIT_USAGE;
        }
        sf->spec[sf->n] = arg;
        sf->kind[sf->n++] = opt - OPT_SUPERVISE;
        break;
    case OPT_SUPERVISE_STARTUP:
        rc = parse_ms("supervise-startup-ms", arg, 1, MS_MAX, &v);
        sf->options.startup_ms = (uint32_t)v;
        break;
    case OPT_SUPERVISE_HANG:
        rc = parse_ms("supervise-hang-ms", arg, 1, MS_MAX, &v);
        sf->options.hang_ms = (uint32_t)v;
        break;
    case OPT_RESTART_INTENSITY:
    case OPT_RESTART_BACKOFF:
        return parse_pair(opt == OPT_RESTART_INTENSITY, arg, &sf->options);
    default:
        return DAEMON_EXIT_USAGE;
    }
    return rc;
}

/* One flag getopt_long returned. */
static int parse_option(daemon_config *cfg, int opt, const char *arg)
{
    int applied = 0;
    if (genesis_gateway_cli_apply(&cfg->gateway, opt, arg, &applied) != GENESIS_OK) {
        fprintf(diag(), "genesisd: %s\n", genesis_gateway_last_error());
        return DAEMON_EXIT_USAGE;
    }
    if (applied)
        return GO_ON;
    switch (opt) {
    case OPT_CHECKPOINT_DB:
    case OPT_CHECKPOINT_INTERVAL:
    case OPT_CHECKPOINT_GENERATIONS:
    case OPT_POLICY:
    case OPT_COMPONENT_POLICY:
        return parse_state(cfg, opt, arg);
    case OPT_SUPERVISE:
    case OPT_SUPERVISE_ENV:
    case OPT_SUPERVISE_CWD:
    case OPT_SUPERVISE_STARTUP:
    case OPT_SUPERVISE_HANG:
    case OPT_RESTART_INTENSITY:
    case OPT_RESTART_BACKOFF:
        return parse_supervision(cfg, opt, arg);
    case OPT_VERSION:
        printf("genesisd %s (libgenesis %s, protocol %d)\n", GENESIS_VERSION_STRING,
               genesis_version_string(), GENESIS_PROTOCOL_VERSION);
        return EXIT_SUCCESS;
    case 'h':
        daemon_options_usage(stdout);
        return EXIT_SUCCESS;
    case '?': /* getopt_long already named the bad option */
    case ':':
        fprintf(diag(), "Try 'genesisd --help' for more information.\n");
        return DAEMON_EXIT_USAGE;
    default:
        return parse_general(cfg, opt, arg);
    }
}

/* After getopt_long's "unrecognized option '--htp'": the flag that was probably meant. */
static void suggest_flag(const char *arg, const struct option *options)
{
    if (strncmp(arg, "--", 2) != 0)
        return;
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
    const char *names[64];
    size_t n = 0;
    for (; n < 64 && options[n].name != NULL; n++)
        names[n] = options[n].name;
    const char *best = conf_closest(name, names, n);
    if (best != NULL)
        fprintf(diag(), "genesisd: did you mean '--%s'?\n", best);
}

int daemon_options_parse(int argc, char **argv, daemon_config *cfg)
{
    struct option options[64];
    size_t n_own = sizeof(own_options) / sizeof(own_options[0]);
    int rc = set_defaults(cfg);
    if (rc != GO_ON)
        return rc;
    if (genesis_gateway_cli_merge_options(own_options, n_own, options, 64) != GENESIS_OK) {
        fprintf(diag(), "genesisd: %s\n", genesis_gateway_last_error());
        return EXIT_FAILURE;
    }
    int opt;
    bool nats_flag = false, id_flag = false;
    optind = 0; /* parsing runs more than once (configuration file, reload) */
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == '?' && optopt == 0 && optind > 0 && optind <= argc && opterr)
            suggest_flag(argv[optind - 1], options);
        if (opt >= OPT_CLUSTER_NATS && opt <= OPT_CLUSTER_EVENTS_MAX_BYTES)
            rc = parse_cluster(cfg, opt, optarg, &nats_flag, &id_flag);
        else
            rc = parse_option(cfg, opt, optarg);
        if (rc != GO_ON)
            return rc;
    }
    if (optind < argc) {
        fprintf(diag(), "genesisd: unexpected argument '%s'\n", argv[optind]);
        fprintf(diag(), "Try 'genesisd --help' for more information.\n");
        return DAEMON_EXIT_USAGE;
    }
    if (cfg->front_door[0] == '\0' || cfg->event_bus[0] == '\0') {
        fprintf(diag(), "genesisd: --front-door and --events need a non-empty URL\n");
        return DAEMON_EXIT_USAGE;
    }
    return check_cluster(cfg, id_flag);
}

int daemon_options_parse_quietly(int argc, char **argv, daemon_config *cfg, char *msg, size_t size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_out = mem;
    int saved_opterr = opterr;
    opterr = 0; /* the table only produces known flags; the command line was checked already */
    int rc = daemon_options_parse(argc, argv, cfg);
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
