/* genesisd's configuration reload (SIGHUP, or the admin command "reload"): the --config file
 * is read and checked again; the resilience policies, the supervised components and the log
 * settings change live (breakers, counters and unchanged children keep their state); any
 * other change is reported as needing a restart. A rejected file changes nothing. */
#ifndef GENESISD_DAEMON_RELOAD_H
#define GENESISD_DAEMON_RELOAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <genesis/genesis.h>

#include "daemon_cli.h"
#include "daemon_options.h"
#include "supervisor.h"

/* What a running genesisd reloads into. One reload at a time (lock); the strings of the
 * configuration in force live in args (and those of the one before in previous, one reload
 * longer: settings not applied live may still point into them). */
typedef struct daemon_state {
    pthread_mutex_t lock;
    genesis_coordinator *coord;
    supervisor *sup;          /* exists whenever a configuration file is used */
    daemon_config cfg;        /* in force */
    daemon_cli_args args;     /* the strings cfg points into */
    daemon_cli_args previous; /* kept one reload longer */
    daemon_cli_args startup;  /* the first configuration's strings: never freed before exit */
    int argc;
    char **argv; /* the command line (its flags override the file at every reload) */
    uint64_t reloads, failures;
} daemon_state;

/* Re-read the configuration file and apply what can change live. Returns a genesis status;
 * *report receives a malloc'd JSON document (success) or message (failure). On failure
 * nothing changed. Any thread. */
int daemon_reload(daemon_state *st, char **report);

/* The admin command "reload" (genesisctl reload, the gateway's POST /v1/admin/reload), a
 * genesis_admin_fn whose arg is the daemon_state. */
void daemon_reload_on_admin(const char *command, const char *const *args, size_t nargs,
                            genesis_reply *reply, void *arg);

#endif /* GENESISD_DAEMON_RELOAD_H */
