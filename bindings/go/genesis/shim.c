/* C side of the cgo binding: trampolines that turn a callback's void *arg back into the
 * runtime/cgo.Handle (an integer) the Go side registered, and wrappers that build the
 * callback structs, so that Go never stores a Go pointer in C memory. */
#include <stdint.h>

#include <genesis/genesis.h>

#include "_cgo_export.h"
#include "shim.h"

static void gg_on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    goGenesisOnRequest((genesis_request *)req, reply, (uintptr_t)arg);
}

static void gg_on_event(const genesis_event *ev, void *arg)
{
    goGenesisOnEvent((genesis_event *)ev, (uintptr_t)arg);
}

static void gg_on_result(genesis_result *res, void *arg)
{
    goGenesisOnResult(res, (uintptr_t)arg);
}

static int gg_on_snapshot(genesis_snapshot *snap, void *arg)
{
    return goGenesisOnSnapshot(snap, (uintptr_t)arg);
}

static int gg_on_restore(const void *data, size_t len, uint64_t generation, void *arg)
{
    return goGenesisOnRestore((void *)data, len, generation, (uintptr_t)arg);
}

static void gg_on_admin(const char *command, const char *const *args, size_t nargs,
                        genesis_reply *reply, void *arg)
{
    goGenesisOnAdmin((char *)command, (char **)args, nargs, reply, (uintptr_t)arg);
}

static void gg_on_log(int level, const char *message, void *arg)
{
    goGenesisOnLog(level, (char *)message, (uintptr_t)arg);
}

void gg_coordinator_options_set_log(genesis_coordinator_options *opts, uintptr_t handle)
{
    opts->log = gg_on_log;
    opts->log_arg = (void *)handle;
}

void gg_service_options_set_log(genesis_service_options *opts, uintptr_t handle)
{
    opts->log = gg_on_log;
    opts->log_arg = (void *)handle;
}

static void gg_component(genesis_component *comp, uintptr_t handle, int with)
{
    comp->version = GENESIS_COMPONENT_VERSION;
    comp->on_request = gg_on_request;
    comp->on_event = (with & GG_WITH_EVENTS) ? gg_on_event : NULL;
    comp->arg = (void *)handle;
    comp->snapshot = (with & GG_WITH_SNAPSHOT) ? gg_on_snapshot : NULL;
    comp->restore = (with & GG_WITH_RESTORE) ? gg_on_restore : NULL;
}

int gg_coordinator_register(genesis_coordinator *c, const char *id, uintptr_t handle, int with)
{
    genesis_component comp;
    gg_component(&comp, handle, with);
    return genesis_coordinator_register(c, id, &comp);
}

int gg_service_new(genesis_service **out, const char *id, uintptr_t handle, int with,
                   const genesis_service_options *opts)
{
    genesis_component comp;
    gg_component(&comp, handle, with);
    return genesis_service_new(out, id, &comp, opts);
}

int gg_coordinator_set_admin_handler(genesis_coordinator *c, const char *prefix, uintptr_t handle)
{
    return genesis_coordinator_set_admin_handler(c, prefix, handle ? gg_on_admin : NULL,
                                                 (void *)handle);
}

int gg_coordinator_request_async(genesis_coordinator *c, const char *target, const char *type,
                                 const void *data, size_t len, const genesis_call_options *opts,
                                 uintptr_t handle)
{
    return genesis_coordinator_request_async(c, target, type, data, len, opts, gg_on_result,
                                             (void *)handle);
}

int gg_client_request_async(genesis_client *cl, const char *target, const char *type,
                            const void *data, size_t len, const genesis_call_options *opts,
                            uintptr_t handle)
{
    return genesis_client_request_async(cl, target, type, data, len, opts, gg_on_result,
                                        (void *)handle);
}

int gg_client_subscribe(genesis_client *cl, const char *prefix, uintptr_t handle)
{
    return genesis_client_subscribe(cl, prefix, gg_on_event, (void *)handle);
}
