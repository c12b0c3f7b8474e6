/* Restoring an in-process component from its newest good checkpoint: on registration and when
 * it recovers. A generation the component's restore callback rejects makes way for the next
 * older one. */
#include "checkpoint/checkpointer_impl.h"

#define MAX_RESTORE_TRIES 16u

int gn_checkpoint_restore(gn_checkpointer *cp, gn_ckpt_subject *subject)
{
    if (cp == NULL || cp->store == NULL)
        return GENESIS_OK;
    gn_ckpt_subject_info in = gn_ckpt_describe(cp, subject);
    if (!gn_ckpt_can_restore(&in))
        return GENESIS_OK;
    uint64_t older_than = 0;
    for (unsigned int tries = 0; tries < MAX_RESTORE_TRIES; tries++) {
        gn_ckpt_record rec = {0};
        gn_ckpt_error err = {0};
        pthread_mutex_lock(&cp->store_lock);
        int rv = gn_ckpt_read_latest(cp, in.id, older_than, &rec, &err);
        pthread_mutex_unlock(&cp->store_lock);
        if (rv == GENESIS_NOT_FOUND) {
            if (older_than > 0)
                gn_log(cp->host.log, GENESIS_LOG_ERROR,
                       "component %s: no stored generation was accepted by restore; it starts "
                       "without its state",
                       in.id);
            return GENESIS_OK;
        }
        if (rv != GENESIS_OK) {
            gn_log(cp->host.log, GENESIS_LOG_ERROR, "component %s: cannot read its checkpoint: %s",
                   in.id, err.message);
            return gn_fail(rv, "restore '%s': %s", in.id, err.message);
        }
        int accepted = in.callbacks->restore(rec.data != NULL ? rec.data : (const uint8_t *)"",
                                             rec.len, rec.generation, in.callbacks->arg);
        uint64_t gen = rec.generation;
        gn_ckpt_record_clear(&rec);
        if (accepted == GENESIS_OK) {
            gn_log(cp->host.log, GENESIS_LOG_INFO, "component %s restored from generation %llu",
                   in.id, (unsigned long long)gen);
            return GENESIS_OK;
        }
        gn_log(cp->host.log, GENESIS_LOG_ERROR,
               "component %s rejected checkpoint generation %llu (%s); trying an older one", in.id,
               (unsigned long long)gen, genesis_status_name(accepted));
        older_than = gen;
    }
    return GENESIS_OK;
}
