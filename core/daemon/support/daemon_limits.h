/* Process limits of the programs around libgenesis: the descriptor limit raised to the hard
 * one at start, so thousands of connections fit; the listeners then cap their connections
 * below it (the front door at half, the gateway at a quarter), which keeps descriptors for
 * the dialers, files and the store. */
#ifndef GENESIS_DAEMON_LIMITS_H
#define GENESIS_DAEMON_LIMITS_H

#include <stddef.h>

/* Raise RLIMIT_NOFILE's soft limit to the hard one. Describes what it did (or why not) in
 * msg. Returns the soft limit now in force (0 when unknown). */
unsigned long daemon_raise_fd_limit(char *msg, size_t size);

#endif /* GENESIS_DAEMON_LIMITS_H */
