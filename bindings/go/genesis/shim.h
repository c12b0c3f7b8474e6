/* Declarations of shim.c for the cgo preamble (see shim.c). */
#ifndef GENESIS_GO_SHIM_H
#define GENESIS_GO_SHIM_H

#include <stdint.h>

#include <genesis/genesis.h>

/* Component callbacks present besides on_request (bit flags of gg_coordinator_register and
 * gg_service_new). */
#define GG_WITH_EVENTS   1
#define GG_WITH_SNAPSHOT 2
#define GG_WITH_RESTORE  4

int gg_coordinator_register(genesis_coordinator *c, const char *id, uintptr_t handle, int with);
int gg_service_new(genesis_service **out, const char *id, uintptr_t handle, int with,
                   const genesis_service_options *opts);
int gg_coordinator_set_admin_handler(genesis_coordinator *c, const char *prefix, uintptr_t handle);
int gg_coordinator_request_async(genesis_coordinator *c, const char *target, const char *type,
                                 const void *data, size_t len, const genesis_call_options *opts,
                                 uintptr_t handle);
int gg_client_request_async(genesis_client *cl, const char *target, const char *type,
                            const void *data, size_t len, const genesis_call_options *opts,
                            uintptr_t handle);
void gg_coordinator_options_set_log(genesis_coordinator_options *opts, uintptr_t handle);
void gg_service_options_set_log(genesis_service_options *opts, uintptr_t handle);
int gg_client_subscribe(genesis_client *cl, const char *prefix, uintptr_t handle);

#endif /* GENESIS_GO_SHIM_H */
