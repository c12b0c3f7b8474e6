/* What genesisctl prints for people: the status report as a table that fits 100 columns (or
 * every column with -o wide), one sentence per operator command instead of its JSON answer,
 * and, after an error, what to do about it. --json / -o json print the coordinator's JSON. */
#ifndef GENESISCTL_RENDER_H
#define GENESISCTL_RENDER_H

#include <stddef.h>

#include <genesis/genesis.h>
#include <jansson.h>

#define CTL_COLUMNS 100 /* the narrow table's width */

/* The status summary and components table; wide: every column. 0, or -1 out of memory. */
int ctl_print_status(const json_t *root, int wide);

/* The answer of an operator command (command and args as typed; doc its JSON, or NULL when
 * the answer is text) as sentences on stdout. */
void ctl_print_admin(const char *command, char *const *args, size_t nargs, const json_t *doc,
                     const char *text, size_t text_len);

/* What to do after command failed with res (one line into buf, no newline), or NULL when
 * there is nothing to add to the coordinator's message. url: the front door dialled;
 * timeout_ms: the call's deadline. */
const char *ctl_error_hint(const char *command, char *const *args, size_t nargs,
                           const genesis_result *res, const char *url, unsigned int timeout_ms,
                           char *buf, size_t size);

#endif /* GENESISCTL_RENDER_H */
