/* genesis-gateway: the HTTP+JSON / WebSocket gateway as its own process, in front of a
 * coordinator (genesisd) reached over NNG. Prints one "ready url=<url>" line once serving,
 * runs until SIGINT or SIGTERM, then closes every connection and exits 0.
 *
 * Exit codes: 0 clean shutdown (or --help / --version), 1 runtime failure (port in use,
 * unreadable certificate), 2 usage error. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>

#include <genesis/gateway.h>
#include <genesis/gateway_cli.h>

#include "daemon_cli.h"
#include "daemon_config_keys.h"
#include "daemon_limits.h"
#include "daemon_log.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: genesis-gateway [OPTIONS]\n"
            "Serve HTTP+JSON and WebSocket in front of a Genesis coordinator.\n"
            "\n"
            "  --listen HOST:PORT     address to serve (default 127.0.0.1:8080; port 0 picks a\n"
            "                         free one)\n"
            "  --front-door URL       coordinator front door (default $GENESIS_URL or\n"
            "                         tcp://127.0.0.1:7400); a comma-separated list of cluster\n"
            "                         nodes fails over between them\n"
            "  --events URL           coordinator event bus, for WebSocket events (default\n"
            "                         $GENESIS_EVENTS or tcp://127.0.0.1:7401; 'none' = off); a\n"
            "                         list receives from every node\n"
            "%s"
            "  --log-level LEVEL      error, warn, info (default) or debug; logs go to stderr\n"
            "  --config FILE          read settings from genesisd's YAML configuration file\n"
            "                         (listen.http, listen.front_door, listen.event_bus,\n"
            "                         log.level, gateway.*, auth.file; genesisd's other keys are\n"
            "                         checked and ignored); flags given too override it\n"
            "  --check-config         validate the settings and exit (0 valid, 2 invalid)\n"
            "  --version              print the version and exit\n"
            "  --help                 print this help and exit\n"
            "\n"
            "Once serving, prints one line on stdout: ready url=<url>\n"
            "Exit status: 0 clean shutdown, 1 runtime failure, 2 usage error.\n",
            genesis_gateway_cli_help());
}

/* The flags of the file this program has: listen.http is genesisd's --http, the gateway's
 * --listen (an alias here); the core's mutual TLS (tls.*) and "http: off" (no embedded
 * gateway) are genesisd's alone: checked, not used. */
static bool takes_setting(const conf_setting *s, void *arg)
{
    const struct option *known = arg;
    if (strncmp(s->key, "tls.", 4) == 0 ||
        (strcmp(s->flag, "http") == 0 && s->arg != NULL && strcmp(s->arg, "off") == 0))
        return false;
    for (size_t k = 0; known[k].name != NULL; k++)
        if (strcmp(known[k].name, s->flag) == 0)
            return true;
    return false;
}

/* The argument vector built from a configuration file: freed at exit. */
static daemon_cli_args config_args;

static void free_config_args(void)
{
    daemon_cli_args_free(&config_args);
}

/* --config FILE: argv with the file's flags (those this program has) in front of the command
 * line, so the command line wins. Returns 0 (new argv in *out, or argv itself without
 * --config), or -1 with the message printed. */
static int with_config_file(int argc, char **argv, const struct option *known, int *out_argc,
                            char ***out_argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
    }
    *out_argc = argc;
    *out_argv = argv;
    if (path == NULL)
        return 0;
    char why[1024];
    atexit(free_config_args);
    if (daemon_cli_args_load(&config_args, path, daemon_conf_keys, daemon_conf_keys_count, argc,
                             argv, takes_setting, (void *)known, why, sizeof(why)) != 0) {
        fprintf(stderr, "genesis-gateway: %s\n", why);
        return -1;
    }
    *out_argc = config_args.argc;
    *out_argv = config_args.argv;
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        OPT_LISTEN = 1,
        OPT_FRONT_DOOR,
        OPT_EVENTS,
        OPT_LOG_LEVEL,
        OPT_VERSION,
        OPT_CONFIG,
        OPT_CHECK_CONFIG
    };
    static const struct option own[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"http", required_argument, NULL, OPT_LISTEN},
        {"front-door", required_argument, NULL, OPT_FRONT_DOOR},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
    };
    struct option opts[64];
    if (genesis_gateway_cli_merge_options(own, sizeof(own) / sizeof(own[0]), opts, 64) !=
        GENESIS_OK) {
        fprintf(stderr, "genesis-gateway: %s\n", genesis_gateway_last_error());
        return EXIT_FAILURE;
    }

    genesis_gateway_options cfg;
    if (genesis_gateway_options_init(&cfg, GENESIS_GATEWAY_OPTIONS_VERSION) != GENESIS_OK) {
        fprintf(stderr, "genesis-gateway: %s\n", genesis_gateway_last_error());
        return EXIT_FAILURE;
    }
    daemon_log_set_program("genesis-gateway");
    cfg.front_door = daemon_cli_env_or("GENESIS_URL", "tcp://127.0.0.1:7400");
    cfg.event_bus = daemon_cli_env_or("GENESIS_EVENTS", "tcp://127.0.0.1:7401");
    int opt;
    int check_only = 0;
    int log_level = GENESIS_LOG_INFO;
    if (with_config_file(argc, argv, opts, &argc, &argv) != 0)
        return EXIT_USAGE;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int applied = 0;
        if (genesis_gateway_cli_apply(&cfg, opt, optarg, &applied) != GENESIS_OK) {
            fprintf(stderr, "genesis-gateway: %s\n", genesis_gateway_last_error());
            return EXIT_USAGE;
        }
        if (applied)
            continue;
        switch (opt) {
        case OPT_LISTEN:
            if (genesis_gateway_options_set_listen(&cfg, optarg) != GENESIS_OK) {
                fprintf(stderr, "genesis-gateway: --listen: %s\n", genesis_gateway_last_error());
                return EXIT_USAGE;
            }
            break;
        case OPT_FRONT_DOOR:
            cfg.front_door = optarg;
            break;
        case OPT_EVENTS:
            cfg.event_bus = strcmp(optarg, "none") == 0 ? NULL : optarg;
            break;
        case OPT_LOG_LEVEL:
            if (daemon_log_level_parse(optarg, &log_level) != 0) {
                fprintf(stderr, "genesis-gateway: invalid --log-level '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_CONFIG: /* read by with_config_file */
            break;
        case OPT_CHECK_CONFIG:
            check_only = 1;
            break;
        case OPT_VERSION:
            printf("genesis-gateway %s (libgenesis %s)\n", GENESIS_VERSION_STRING,
                   genesis_version_string());
            return EXIT_SUCCESS;
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        default:
            fprintf(stderr, "Try 'genesis-gateway --help' for more information.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "genesis-gateway: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    daemon_log_set_level(log_level);
    cfg.log = daemon_log_sink;
    cfg.log_arg = (void *)"gateway";
    cfg.log_level = log_level;
    /* Before the gateway opens anything: it sizes its connection cap from this limit. */
    char limits[160];
    daemon_raise_fd_limit(limits, sizeof(limits));
    daemon_logf(GENESIS_LOG_INFO, "%s", limits);
    if (check_only) {
        printf("# configuration is valid: listen %s:%d, front door %s, events %s\n", cfg.host,
               cfg.port, cfg.front_door, cfg.event_bus != NULL ? cfg.event_bus : "none");
        return EXIT_SUCCESS;
    }

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    genesis_gateway *gw = NULL;
    char url[300];
    int rv = genesis_gateway_new(&gw, &cfg);
    if (rv == GENESIS_OK)
        rv = genesis_gateway_start(gw);
    if (rv == GENESIS_OK)
        rv = genesis_gateway_get_url(gw, url, sizeof(url));
    if (rv != GENESIS_OK) {
        fprintf(stderr, "genesis-gateway: %s\n", genesis_gateway_last_error());
        genesis_gateway_free(gw);
        return rv == GENESIS_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILURE;
    }
    printf("ready url=%s\n", url);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    daemon_logf(GENESIS_LOG_INFO, "received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    genesis_gateway_free(gw);
    daemon_log_flush();
    return EXIT_SUCCESS;
}
