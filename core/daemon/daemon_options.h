/* genesisd's settings and their command line: the defaults (some from the environment), the
 * flags, their help text and their parser. A configuration file becomes flags too (see
 * daemon_settings.h), so this parser is the one place a setting is checked. */
#ifndef GENESISD_DAEMON_OPTIONS_H
#define GENESISD_DAEMON_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon_policy.h"
#include <genesis/cluster.h>
#include <genesis/gateway.h>
#include "supervisor.h"

#define DAEMON_EXIT_USAGE  2   /* bad flag, malformed URL or unsupported transport */
#define DAEMON_MAX_SPECS   256 /* --supervise* flags at most */
#define DAEMON_MAX_WORKERS 1024

/* What a --supervise* flag sets. */
enum daemon_supervise_kind {
    DAEMON_SUPERVISE_COMMAND = 0, /* --supervise ID=COMMAND */
    DAEMON_SUPERVISE_ENV = 1,     /* --supervise-env ID=KEY=VALUE */
    DAEMON_SUPERVISE_CWD = 2      /* --supervise-cwd ID=DIR */
};

/* Supervision flags, kept as given until the coordinator exists. */
typedef struct daemon_supervise_flags {
    const char *spec[DAEMON_MAX_SPECS];
    int kind[DAEMON_MAX_SPECS]; /* enum daemon_supervise_kind */
    size_t n;
    supervisor_options options;
} daemon_supervise_flags;

/* Every setting of genesisd. The strings point into the argument vector parsed (the command
 * line, or the vector a configuration file produced): it must outlive the settings. */
typedef struct daemon_config {
    const char *front_door;
    const char *event_bus;
    int demo;
    int allow_faults;
    int log_level;
    unsigned int workers; /* 0 = library default */
    const char *checkpoint_db;
    /* Cluster mode (docs/cluster.md): cluster_nats holds the NATS URLs ("" = a single node),
     * joined from repeated --cluster-nats flags; cluster.nats_urls is set when it is used. */
    char cluster_nats[1024];
    genesis_cluster_options cluster;
    uint32_t cluster_owner_ttl_ms; /* supervised components' ownership leases; 0 = lease TTL */
    uint32_t checkpoint_interval_ms;
    unsigned int checkpoint_generations;
    daemon_supervise_flags supervise;
    int http; /* serve the embedded gateway */
    /* --metrics HOST:PORT: /metrics, /healthz and /readyz on an address of their own (also
     * with --http off); NULL = none. */
    const char *metrics;
    /* Mutual TLS for tls+tcp:// URLs: all three or none. */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
    genesis_gateway_options gateway;
    const char *config_path;  /* --config */
    int check_config;         /* --check-config */
    daemon_policies policies; /* owned: daemon_policies_free */
    int log_format;
    unsigned int log_rate; /* lines per second per message kind */
} daemon_config;

/* Fill cfg with the defaults and the environment, then with the flags of argv (flags win).
 * Complaints go to stderr. Returns -1 to go on, or an exit code to exit with at once (0 after
 * --help or --version, DAEMON_EXIT_USAGE for a bad flag). cfg->policies is initialized
 * either way (free it). Not reentrant: getopt_long's state is global. */
int daemon_options_parse(int argc, char **argv, daemon_config *cfg);

/* The same with the complaints collected into msg (trailing newlines trimmed) instead of
 * printed, and unknown flags not reported by getopt_long: for a configuration (re)load. */
int daemon_options_parse_quietly(int argc, char **argv, daemon_config *cfg, char *msg, size_t size);

/* The --help text. */
void daemon_options_usage(FILE *out);

#endif /* GENESISD_DAEMON_OPTIONS_H */
