/* What the checkpointer knows about each component id (newest generation, size, age, counts,
 * last error), and the views of it: genesis_coordinator_get_checkpoint_info, the status report's
 * checkpoint fields, and the dirty mark that asks the next sweep for a snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpointer_impl.h"

gn_ckpt_info *gn_ckpt_info_find(gn_checkpointer *cp, const char *id, bool create)
{
    for (size_t i = 0; i < cp->n_infos; i++) {
        if (strcmp(cp->infos[i].id, id) == 0)
            return &cp->infos[i];
    }
    if (!create)
        return NULL;
    if (cp->n_infos == cp->cap_infos) {
        size_t cap = cp->cap_infos > 0 ? cp->cap_infos * 2 : 16;
        gn_ckpt_info *grown = realloc(cp->infos, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        cp->infos = grown;
        cp->cap_infos = cap;
    }
    gn_ckpt_info *in = &cp->infos[cp->n_infos];
    memset(in, 0, sizeof(*in));
    in->id = gn_strdup(id);
    if (in->id == NULL)
        return NULL;
    cp->n_infos++;
    return in;
}

void gn_ckpt_record_outcome(gn_checkpointer *cp, const char *id, int status, int reason,
                            const char *why, uint64_t generation, size_t len)
{
    pthread_mutex_lock(&cp->lock);
    gn_ckpt_info *in = gn_ckpt_info_find(cp, id, true);
    if (status == GENESIS_OK) {
        cp->n_written++;
        if (in != NULL) {
            in->generation = generation;
            in->size = len;
            in->created_ms = gn_wall_ms();
            in->written++;
        }
    } else {
        cp->n_failures++;
        if (in != NULL) {
            in->failures++;
            in->last_reason = reason;
            /* The reason's name first: what an operator greps for (STORAGE_FULL, ...). */
            snprintf(in->last_error, sizeof(in->last_error), "%s: %s", genesis_reason_name(reason),
                     why);
        }
    }
    if (in != NULL)
        in->busy = false;
    pthread_mutex_unlock(&cp->lock);
}

void gn_ckpt_seed_info(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                       void *arg)
{
    gn_checkpointer *cp = arg;
    gn_ckpt_info *in = gn_ckpt_info_find(cp, component, true);
    if (in != NULL && generation > in->generation) {
        in->generation = generation;
        in->size = len;
        in->created_ms = created_ms;
    }
}

int gn_checkpoint_mark_dirty(gn_checkpointer *cp, const char *id)
{
    gn_ckpt_subject *s = cp->host.lookup(cp->host.ctx, id);
    bool inproc = s != NULL && !gn_ckpt_describe(cp, s).remote;
    cp->host.release(s);
    if (!inproc)
        return gn_fail(GENESIS_NOT_FOUND, "mark_dirty: no in-process component '%s'", id);
    pthread_mutex_lock(&cp->lock);
    gn_ckpt_info *in = gn_ckpt_info_find(cp, id, true);
    if (in != NULL)
        in->dirty = true;
    pthread_mutex_unlock(&cp->lock);
    return in != NULL ? GENESIS_OK : gn_fail(GENESIS_RESOURCE_EXHAUSTED, "mark_dirty: no memory");
}

int gn_checkpoint_info(gn_checkpointer *cp, const char *id, genesis_checkpoint_info *info)
{
    pthread_mutex_lock(&cp->lock);
    gn_ckpt_info *in = gn_ckpt_info_find(cp, id, false);
    if (in != NULL) {
        info->generation = in->generation;
        info->size = in->size;
        info->age_ms = in->generation > 0 ? gn_wall_ms() - in->created_ms : -1;
        info->written = in->written;
        info->failures = in->failures;
        info->last_reason = in->last_reason;
    }
    pthread_mutex_unlock(&cp->lock);
    return in != NULL ? GENESIS_OK
                      : gn_fail(GENESIS_NOT_FOUND, "checkpoint_info: nothing known about '%s'", id);
}

void gn_checkpoint_component_status(gn_checkpointer *cp, const char *id,
                                    Genesis__V1__ComponentStatus *cs)
{
    cs->checkpoint_age_ms = -1;
    cs->checkpoint_error = (char *)"";
    if (cp == NULL)
        return;
    pthread_mutex_lock(&cp->lock);
    gn_ckpt_info *in = gn_ckpt_info_find(cp, id, false);
    if (in != NULL) {
        cs->checkpoint_generation = in->generation;
        cs->checkpoint_size = in->size;
        cs->checkpoint_age_ms = in->generation > 0 ? gn_wall_ms() - in->created_ms : -1;
        cs->checkpoints_written = in->written;
        cs->checkpoint_failures = in->failures;
        if (in->failures > 0 && in->last_error[0] != '\0') {
            char *copy = gn_strdup(in->last_error);
            if (copy != NULL)
                cs->checkpoint_error = copy; /* freed by gn_checkpoint_status_clear */
        }
    }
    pthread_mutex_unlock(&cp->lock);
}

void gn_checkpoint_report_status(gn_checkpointer *cp, Genesis__V1__StatusReport *r)
{
    r->checkpoint_store = (char *)"";
    if (cp == NULL)
        return;
    if (cp->path != NULL && cp->store != NULL)
        r->checkpoint_store = cp->path;
    pthread_mutex_lock(&cp->lock);
    r->checkpoints_written = cp->n_written;
    r->checkpoint_failures = cp->n_failures;
    r->checkpoints_corrupt = cp->n_corrupt;
    pthread_mutex_unlock(&cp->lock);
}

void gn_checkpoint_status_clear(Genesis__V1__StatusReport *r)
{
    for (size_t i = 0; i < r->n_components; i++) {
        Genesis__V1__ComponentStatus *cs = r->components[i];
        if (cs->checkpoint_error != NULL && cs->checkpoint_error[0] != '\0')
            free(cs->checkpoint_error);
        cs->checkpoint_error = NULL;
    }
}
