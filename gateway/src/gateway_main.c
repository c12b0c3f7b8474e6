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

#include "config_file.h"
#include "daemon_config_keys.h"
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

/* The argv built from a configuration file and the file's settings: freed at exit. */
static char **config_argv;
static size_t config_argv_owned; /* entries 1..owned are ours */
static conf_file config;

static void free_config(void)
{
    for (size_t i = 1; config_argv != NULL && i <= config_argv_owned; i++)
        free(config_argv[i]);
    free(config_argv);
    conf_free(&config);
}

/* --config FILE: argv with the file's flags (those this program has) in front of the command
 * line, so the command line wins. Returns 0 (new argv in *out, or argv itself without
 * --config), or -1 with the message printed. */
static int with_config_file(int argc, char **argv, const struct option *known, int *out_argc,
                            char ***out_argv, conf_file *file)
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
    if (conf_load(path, daemon_conf_keys, daemon_conf_keys_count, file, why, sizeof(why)) != 0) {
        fprintf(stderr, "genesis-gateway: %s\n", why);
        return -1;
    }
    char **v = calloc(file->n + (size_t)argc + 1, sizeof(char *));
    if (v == NULL)
        return -1;
    config_argv = v;
    atexit(free_config);
    int n = 0;
    v[n++] = argv[0];
    for (size_t i = 0; i < file->n; i++) {
        const conf_setting *st = &file->settings[i];
        /* listen.http is genesisd's --http, the gateway's --listen (an alias here). */
        int ours = 0;
        if (strncmp(st->key, "tls.", 4) != 0) /* the core's mutual TLS: genesisd's alone */
            for (size_t k = 0; known[k].name != NULL && !ours; k++)
                ours = strcmp(known[k].name, st->flag) == 0;
        if (!ours || (strcmp(st->flag, "http") == 0 && strcmp(st->arg, "off") == 0))
            continue; /* genesisd's alone (also "no embedded gateway"): checked, not used */
        size_t len = strlen(st->flag) + (st->arg ? strlen(st->arg) : 0) + 4;
        v[n] = malloc(len);
        if (v[n] == NULL)
            return -1;
        snprintf(v[n], len, "--%s%s%s", st->flag, st->arg ? "=" : "", st->arg ? st->arg : "");
        config_argv_owned = (size_t)n++;
    }
    for (int i = 1; i < argc; i++)
        v[n++] = argv[i];
    *out_argc = n;
    *out_argv = v;
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
    int check_only = 0;
    if (with_config_file(argc, argv, opts, &argc, &argv, &config) != 0)
        return EXIT_USAGE;
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
    cfg.log = log_sink;
    cfg.log_level = log_level;
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
