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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <genesis/genesis.h>

#include "gateway.h"
#include "gateway_cli.h"

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
            "                         tcp://127.0.0.1:7400)\n"
            "  --events URL           coordinator event bus, for WebSocket events (default\n"
            "                         $GENESIS_EVENTS or tcp://127.0.0.1:7401; 'none' = off)\n"
            "%s"
            "  --log-level LEVEL      error, warn, info (default) or debug; logs go to stderr\n"
            "  --version              print the version and exit\n"
            "  --help                 print this help and exit\n"
            "\n"
            "Once serving, prints one line on stdout: ready url=<url>\n"
            "Exit status: 0 clean shutdown, 1 runtime failure, 2 usage error.\n",
            gw_cli_help);
}

static int parse_level(const char *s, int *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

static int log_level = GENESIS_LOG_INFO;

static void log_sink(int level, const char *message, void *arg)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level <= log_level)
        fprintf(stderr, "genesis-gateway: %s: %s\n", names[level & 3], message);
}

int main(int argc, char **argv)
{
    enum { OPT_LISTEN = 1, OPT_FRONT_DOOR, OPT_EVENTS, OPT_LOG_LEVEL, OPT_VERSION };
    static const struct option own[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"http", required_argument, NULL, OPT_LISTEN},
        {"front-door", required_argument, NULL, OPT_FRONT_DOOR},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
    };
    struct option opts[64];
    if (gw_cli_merge_options(own, sizeof(own) / sizeof(own[0]), opts, 64) != 0) {
        fprintf(stderr, "genesis-gateway: too many command-line options for the table\n");
        return EXIT_FAILURE;
    }

    gw_config cfg;
    gw_config_init(&cfg);
    const char *env = getenv("GENESIS_URL");
    cfg.front_door = env != NULL && env[0] != '\0' ? env : "tcp://127.0.0.1:7400";
    env = getenv("GENESIS_EVENTS");
    cfg.event_bus = env != NULL && env[0] != '\0' ? env : "tcp://127.0.0.1:7401";
    char why[512];
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = gw_cli_apply(&cfg, opt, optarg, why, sizeof(why));
        if (r == 1)
            continue;
        if (r < 0) {
            fprintf(stderr, "genesis-gateway: %s\n", why);
            return EXIT_USAGE;
        }
        switch (opt) {
        case OPT_LISTEN:
            if (gw_config_set_listen(&cfg, optarg, why, sizeof(why)) != 0) {
                fprintf(stderr, "genesis-gateway: --listen: %s\n", why);
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
            if (parse_level(optarg, &log_level) != 0) {
                fprintf(stderr, "genesis-gateway: invalid --log-level '%s'\n", optarg);
                return EXIT_USAGE;
            }
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
    cfg.log = log_sink;
    cfg.log_level = log_level;

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    gw_gateway *gw = NULL;
    int rv = gw_new(&gw, &cfg, why, sizeof(why));
    if (rv == GENESIS_OK)
        rv = gw_start(gw, why, sizeof(why));
    if (rv != GENESIS_OK) {
        fprintf(stderr, "genesis-gateway: %s\n", why);
        gw_free(gw);
        return rv == GENESIS_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILURE;
    }
    char url[300];
    gw_url(gw, url, sizeof(url));
    printf("ready url=%s\n", url);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    log_sink(GENESIS_LOG_INFO,
             sig == SIGINT ? "received SIGINT, stopping" : "received SIGTERM, stopping", NULL);
    gw_free(gw);
    return EXIT_SUCCESS;
}
