/* Hooks an embedding program (genesisd's supervisor) plugs into the coordinator: Admin
 * commands routed by prefix, and reports of supervised child processes for the status report.
 * Kept apart from the front door's own Admin commands. */
#ifndef GN_RECOVERY_HOOKS_H
#define GN_RECOVERY_HOOKS_H

#include <stdbool.h>

#include <nng/nng.h>

#include "genesis/proto/genesis.pb-c.h"

struct genesis_coordinator;
typedef struct gn_recovery_hooks gn_recovery_hooks;

gn_recovery_hooks *gn_recovery_hooks_new(void);
void gn_recovery_hooks_free(gn_recovery_hooks *h);

/* If a handler is registered for the command's prefix, run it and put its reply into a new
 * message (*reply; NULL if even that failed) and return true; false when no handler claims
 * the command (the caller answers it). Runs on an NNG thread. */
bool gn_admin_hook_dispatch(struct genesis_coordinator *co, const Genesis__V1__Admin *admin,
                            size_t max_message_size, nng_msg **reply);

/* The same for genesis_coordinator_admin (an embedder's own call, e.g. the gateway in
 * genesisd): the handler's reply as a new result, or NULL when no handler claims command. */
struct genesis_result *gn_admin_hook_result(struct genesis_coordinator *co, const char *command,
                                            const char *const *args, size_t nargs);

/* Fill r->supervised from the reports (freed by gn_children_status_clear). */
void gn_children_status(struct genesis_coordinator *co, Genesis__V1__StatusReport *r);
void gn_children_status_clear(Genesis__V1__StatusReport *r);

#endif /* GN_RECOVERY_HOOKS_H */
