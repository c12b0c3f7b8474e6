/* The checkpoint writer: one thread owns the store's writes and the reads made for remote
 * peers, fed by a bounded FIFO of jobs, so store I/O never runs on NNG callback threads or in
 * the request path. Also the entry points that queue jobs: a remote component's Checkpoint
 * and a read of the newest checkpoint for a registering remote component. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpointer_impl.h"

static void job_free(gn_ckpt_job *job)
{
    free(job->id);
    free(job->data);
    free(job);
}

int gn_ckpt_read_latest(gn_checkpointer *cp, const char *id, uint64_t older_than,
                        gn_ckpt_record *rec, gn_ckpt_error *err)
{
    unsigned int corrupt = 0;
    int rv = gn_ckpt_latest(cp->store, id, older_than, rec, &corrupt, err);
    if (corrupt > 0) {
        pthread_mutex_lock(&cp->lock);
        cp->n_corrupt += corrupt;
        pthread_mutex_unlock(&cp->lock);
        gn_log(cp->host.log, GENESIS_LOG_ERROR,
               "%u corrupt checkpoint generation(s) of '%s' skipped (last: %s)%s", corrupt, id,
               err->message, rv == GENESIS_OK ? "; using an older good one" : "");
    }
    return rv;
}

static void run_job(gn_checkpointer *cp, gn_ckpt_job *job)
{
    gn_ckpt_error err = {0};
    uint64_t generation = 0;
    if (cp->store == NULL) {
        const char *why = "no checkpoint store is configured (checkpoint_store / --checkpoint-db)";
        if (job->kind == GN_CKPT_JOB_PUT) {
            gn_ckpt_record_outcome(cp, job->id, GENESIS_FAILED_PRECONDITION,
                                   GENESIS_REASON_STORAGE_ERROR, why, 0, 0);
            job->done(GENESIS_FAILED_PRECONDITION, GENESIS_REASON_STORAGE_ERROR, why, 0, NULL, 0,
                      job->arg);
        } else {
            job->done(GENESIS_OK, GENESIS_REASON_NONE, "", 0, NULL, 0, job->arg);
        }
        return;
    }
    if (job->kind == GN_CKPT_JOB_PUT) {
        pthread_mutex_lock(&cp->store_lock);
        int rv = gn_ckpt_put(cp->store, job->id, job->data, job->len, &generation, &err);
        pthread_mutex_unlock(&cp->store_lock);
        if (rv != GENESIS_OK)
            gn_log(cp->host.log, GENESIS_LOG_ERROR,
                   "checkpoint of '%s' (%zu bytes) failed: %s (%s); the previous generation is "
                   "kept",
                   job->id, job->len, err.message, genesis_reason_name(err.reason));
        gn_ckpt_record_outcome(cp, job->id, rv, err.reason, err.message, generation, job->len);
        if (job->done != NULL)
            job->done(rv, rv == GENESIS_OK ? GENESIS_REASON_NONE : err.reason,
                      rv == GENESIS_OK ? "" : err.message, generation, NULL, 0, job->arg);
        return;
    }
    gn_ckpt_record rec = {0};
    pthread_mutex_lock(&cp->store_lock);
    int rv = gn_ckpt_read_latest(cp, job->id, 0, &rec, &err);
    pthread_mutex_unlock(&cp->store_lock);
    if (rv == GENESIS_NOT_FOUND)
        job->done(GENESIS_OK, GENESIS_REASON_NONE, "", 0, NULL, 0, job->arg);
    else
        job->done(rv, rv == GENESIS_OK ? GENESIS_REASON_NONE : err.reason,
                  rv == GENESIS_OK ? "" : err.message, rec.generation, rec.data, rec.len, job->arg);
    gn_ckpt_record_clear(&rec);
}

void *gn_ckpt_writer_main(void *arg)
{
    gn_checkpointer *cp = arg;
    pthread_mutex_lock(&cp->lock);
    for (;;) {
        while (gn_fifo_empty(&cp->jobs) && !cp->closing)
            pthread_cond_wait(&cp->cv, &cp->lock);
        gn_fifo_link *link = gn_fifo_pop(&cp->jobs);
        if (link == NULL)
            break; /* closing and drained */
        pthread_mutex_unlock(&cp->lock);
        gn_ckpt_job *job = GN_FIFO_ENTRY(link, gn_ckpt_job, link);
        run_job(cp, job);
        job_free(job);
        pthread_mutex_lock(&cp->lock);
    }
    pthread_mutex_unlock(&cp->lock);
    return NULL;
}

void gn_ckpt_submit(gn_checkpointer *cp, gn_ckpt_job *job)
{
    pthread_mutex_lock(&cp->lock);
    int status = GENESIS_OK, reason = GENESIS_REASON_NONE;
    const char *why = "";
    if (cp->closing || !cp->writer_started) {
        status = GENESIS_UNAVAILABLE;
        reason = GENESIS_REASON_SHUTTING_DOWN;
        why = "the coordinator is shutting down";
    } else if (gn_fifo_count(&cp->jobs) >= GN_CKPT_MAX_QUEUED_JOBS) {
        status = GENESIS_RESOURCE_EXHAUSTED;
        reason = GENESIS_REASON_QUEUE_FULL;
        why = "the checkpoint writer is behind (256 writes queued): try again";
    } else {
        gn_fifo_push(&cp->jobs, &job->link);
        pthread_cond_signal(&cp->cv);
    }
    pthread_mutex_unlock(&cp->lock);
    if (status == GENESIS_OK)
        return;
    if (job->kind == GN_CKPT_JOB_PUT)
        gn_ckpt_record_outcome(cp, job->id, status, reason, why, 0, 0);
    if (job->done != NULL)
        job->done(status, reason, why, 0, NULL, 0, job->arg);
    job_free(job);
}

gn_ckpt_job *gn_ckpt_job_new(int kind, const char *id, uint8_t *data, size_t len,
                             gn_ckpt_done_fn done, void *arg)
{
    gn_ckpt_job *job = calloc(1, sizeof(*job));
    if (job == NULL)
        return NULL;
    job->id = gn_strdup(id);
    if (job->id == NULL) {
        free(job);
        return NULL;
    }
    job->kind = kind;
    job->data = data;
    job->len = len;
    job->done = done;
    job->arg = arg;
    return job;
}

void gn_checkpoint_remote(gn_checkpointer *cp, const Genesis__V1__Checkpoint *ck,
                          gn_ckpt_done_fn done, void *arg)
{
    char why[256];
    int status = GENESIS_OK, reason = GENESIS_REASON_NONE;
    bool valid = gn_valid_id(ck->component_id);
    gn_ckpt_subject *s = valid ? cp->host.lookup(cp->host.ctx, ck->component_id) : NULL;
    bool remote = s != NULL && gn_ckpt_describe(cp, s).remote;
    if (!valid) {
        status = GENESIS_INVALID_ARGUMENT;
        reason = GENESIS_REASON_INVALID_ARGUMENT;
        snprintf(why, sizeof(why), "checkpoint: invalid component id");
    } else if (!remote) {
        /* An in-process component's state is its own snapshot's business: a remote peer must
         * not overwrite it. */
        status = s == NULL ? GENESIS_NOT_FOUND : GENESIS_FAILED_PRECONDITION;
        reason = s == NULL ? GENESIS_REASON_NOT_FOUND : GENESIS_REASON_ALREADY_REGISTERED;
        snprintf(why, sizeof(why), "checkpoint: no remote component '%.128s' is registered%s",
                 ck->component_id, s == NULL ? ": register first" : " (it is in-process)");
    } else if (cp->store == NULL) {
        status = GENESIS_FAILED_PRECONDITION;
        reason = GENESIS_REASON_STORAGE_ERROR;
        snprintf(why, sizeof(why),
                 "checkpoint: this coordinator has no checkpoint store (--checkpoint-db)");
    }
    cp->host.release(s);
    if (status != GENESIS_OK) {
        done(status, reason, why, 0, NULL, 0, arg);
        return;
    }
    size_t len = ck->state.len;
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy != NULL && len > 0)
        memcpy(copy, ck->state.data, len);
    gn_ckpt_job *job =
        copy != NULL ? gn_ckpt_job_new(GN_CKPT_JOB_PUT, ck->component_id, copy, len, done, arg)
                     : NULL;
    if (job == NULL) {
        free(copy);
        done(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "checkpoint: out of memory", 0,
             NULL, 0, arg);
        return;
    }
    gn_ckpt_submit(cp, job);
}

void gn_checkpoint_read(gn_checkpointer *cp, const char *id, gn_ckpt_done_fn done, void *arg)
{
    gn_ckpt_job *job = gn_ckpt_job_new(GN_CKPT_JOB_READ, id, NULL, 0, done, arg);
    if (job == NULL) {
        done(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "checkpoint: out of memory", 0,
             NULL, 0, arg);
        return;
    }
    gn_ckpt_submit(cp, job);
}
