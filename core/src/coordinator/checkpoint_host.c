/* The coordinator's side of checkpointing: the gn_ckpt_host through which the checkpointer
 * reaches registered components, the log and the worker pool, and the public
 * genesis_coordinator_checkpoint_* calls. A gn_ckpt_subject is a gn_component. */
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint/checkpoint.h"
#include "cluster/cluster.h"
#include "coordinator/coordinator_impl.h"
#include "genesis/recovery.h"

static gn_component *component_of(gn_ckpt_subject *s)
{
    return (gn_component *)(void *)s;
}

static gn_ckpt_subject *subject_of(gn_component *comp)
{
    return (gn_ckpt_subject *)(void *)comp;
}

static gn_ckpt_subject *host_lookup(void *ctx, const char *id)
{
    genesis_coordinator *co = ctx;
    return subject_of(gn_registry_lookup(co->registry, id));
}

static size_t host_count(void *ctx)
{
    genesis_coordinator *co = ctx;
    return gn_registry_count(co->registry);
}

static size_t host_list(void *ctx, gn_ckpt_subject **out, size_t max)
{
    genesis_coordinator *co = ctx;
    return gn_registry_snapshot(co->registry, (void **)out, max);
}

static void host_retain(gn_ckpt_subject *s)
{
    gn_component_retain(component_of(s));
}

static void host_release(gn_ckpt_subject *s)
{
    gn_component_release(component_of(s));
}

static void host_describe(gn_ckpt_subject *s, gn_ckpt_subject_info *out)
{
    gn_component *comp = component_of(s);
    out->id = comp->id;
    out->remote = comp->kind == GN_REMOTE;
    out->removed = atomic_load(&comp->removed);
    out->requests = atomic_load(&comp->n_requests);
    out->callbacks = comp->kind == GN_INPROC ? &comp->callbacks : NULL;
}

static int host_run_on_lane(gn_ckpt_subject *s, gn_task *task)
{
    return gn_lane_submit(&component_of(s)->requests, task);
}

int gn_coordinator_checkpoint_open(genesis_coordinator *co, char *why, size_t why_size)
{
    gn_ckpt_host host = {
        .ctx = co,
        .log = &co->log,
        .pool = co->pool,
        .store_path = co->opts.checkpoint_store,
        .interval_ms = co->opts.checkpoint_interval_ms,
        .generations = co->opts.checkpoint_generations,
        .max_snapshot = co->opts.max_message_size,
        .lookup = host_lookup,
        .count = host_count,
        .list = host_list,
        .retain = host_retain,
        .release = host_release,
        .describe = host_describe,
        .run_on_lane = host_run_on_lane,
    };
    if (co->cluster != NULL) {
        /* Cluster mode: the JetStream bucket, never a local file. */
        gn_ckpt_error err = {0};
        int rv = gn_cluster_checkpoint_store(co->cluster, &host.store, &err);
        if (rv != GENESIS_OK) {
            snprintf(why, why_size, "checkpoints: %s", err.message);
            return rv;
        }
        host.store_path = gn_cluster_describe(co->cluster);
    }
    return gn_checkpoint_open(&host, &co->checkpointer, why, why_size);
}

int gn_component_restore(gn_component *comp)
{
    return gn_checkpoint_restore(comp->co->checkpointer, subject_of(comp));
}

/* ---- public API ---- */

int genesis_coordinator_checkpoint_mark_dirty(genesis_coordinator *co, const char *id)
{
    gn_clear_error();
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "mark_dirty: NULL argument");
    return gn_checkpoint_mark_dirty(co->checkpointer, id);
}

int genesis_coordinator_checkpoint_now(genesis_coordinator *co, const char *id,
                                       uint64_t *generation)
{
    gn_clear_error();
    if (generation != NULL)
        *generation = 0;
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "checkpoint_now: NULL argument");
    return gn_checkpoint_now(co->checkpointer, id, generation);
}

int genesis_coordinator_get_checkpoint_info(genesis_coordinator *co, const char *id,
                                            genesis_checkpoint_info *info)
{
    gn_clear_error();
    if (co == NULL || id == NULL || info == NULL ||
        info->version != GENESIS_CHECKPOINT_INFO_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "checkpoint_info: NULL argument or unknown version");
    return gn_checkpoint_info(co->checkpointer, id, info);
}
