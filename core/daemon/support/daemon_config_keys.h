/* genesisd's configuration keys: the one table that maps each key of the configuration file to
 * the command-line flag it sets (see config_file.h). */
#ifndef GENESIS_DAEMON_CONFIG_KEYS_H
#define GENESIS_DAEMON_CONFIG_KEYS_H

#include <stddef.h>

#include "config_file.h"

extern const conf_key daemon_conf_keys[];
extern const size_t daemon_conf_keys_count;

/* Top-level sections whose changes a reload applies live; every other change needs a
 * restart (the reload reports it as not applied). */
int daemon_conf_section_is_live(const char *section);

#endif /* GENESIS_DAEMON_CONFIG_KEYS_H */
