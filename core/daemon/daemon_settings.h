/* genesisd's configuration as a whole: the --config file read into flags and checked line by
 * line, what the flag parser cannot check alone (policies as the library checks them,
 * supervised commands), the effective configuration printed as a file (--check-config, and
 * the reload's comparison), and the ids of the components it names. */
#ifndef GENESISD_DAEMON_SETTINGS_H
#define GENESISD_DAEMON_SETTINGS_H

#include <stddef.h>
#include <stdio.h>

#include "daemon_cli.h"
#include "daemon_options.h"
#include "supervisor.h"

#define DAEMON_SETTINGS_MAX_IDS DAEMON_MAX_SPECS

/* Configure sup with the supervised components of flags (commands first, so env and cwd
 * flags may come in any order). 0, or -1 with the reason in why and the flag it concerns in
 * *bad_flag (may be NULL), e.g. "--supervise-env". */
int daemon_settings_supervise(supervisor *sup, const daemon_supervise_flags *flags,
                              const char **bad_flag, char *why, size_t size);

/* Check what the flag parser cannot see alone: the policies as the library checks them, and
 * the supervised components (staged on a supervisor that never starts, returned in *staged
 * when staged is not NULL). 0, or -1 with why. */
int daemon_settings_validate(daemon_config *cfg, supervisor **staged, char *why, size_t size);

/* Read the file at path, check every setting on its own (so a bad value is reported with its
 * file and line), then parse the file's flags followed by the command line into *out; args
 * keeps the strings *out points into (daemon_cli_args_free after *out). Returns -1 on
 * success, else an exit code with the complaint in why. */
int daemon_settings_load(const char *path, int argc, char **argv, daemon_cli_args *args,
                         daemon_config *out, char *why, size_t size);

/* After the command line: read --config (the file's flags, then the command line's, so flags
 * win), validate, and answer --check-config on stdout. Returns -1 to go on, or an exit code
 * (complaints on stderr). */
int daemon_settings_finish(int argc, char **argv, daemon_config *cfg, daemon_cli_args *args);

/* The effective configuration, as a configuration file that --config accepts. */
void daemon_settings_print(FILE *out, const daemon_config *cfg);

/* The same into a malloc'd string (NULL when out of memory). */
char *daemon_settings_text(const daemon_config *cfg);

/* Ids of the components the configuration names (supervised or with a policy), in order of
 * first mention, without duplicates. Returns how many (at most cap). */
size_t daemon_settings_component_ids(const daemon_config *cfg, char ids[][DAEMON_POLICY_ID_MAX + 1],
                                     size_t cap);

/* One supervised component's settings as text ("" when not supervised), to compare two
 * configurations. */
void daemon_settings_supervised_text(const daemon_config *cfg, const char *id, char *buf,
                                     size_t size);

#endif /* GENESISD_DAEMON_SETTINGS_H */
