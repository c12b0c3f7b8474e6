/* Snapshots: a component's snapshot callback runs as a task on its own request lane, and its
 * state goes to the writer. The interval sweep snapshots every in-process component that
 * changed since its last snapshot; genesis_coordinator_checkpoint_now takes one at once and
 * waits for its commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpointer_impl.h"

struct genesis_snapshot {
    uint8_t *data;
    size_t len;
    size_t max;
};

int genesis_snapshot_set(genesis_snapshot *snap, const void *data, size_t len)
{
    gn_clear_error();
    if (snap == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "snapshot_set: NULL snapshot or data");
    if (len > snap->max)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED,
                       "snapshot_set: %zu bytes exceed the limit of %zu (max_message_size)", len,
                       snap->max);
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "snapshot_set: out of memory");
    if (len > 0)
        memcpy(copy, data, len);
    free(snap->data);
    snap->data = copy;
    snap->len = len;
    return GENESIS_OK;
}

/* A snapshot runs as a task on the component's requests lane, so unregistering waits for it
 * like for a handler, and a removed component's snapshot never runs. */
typedef struct snap_task {
    gn_task task;
    gn_checkpointer *cp;
    gn_ckpt_subject *subject; /* retained */
    /* Copied from cp->host: the outcome written in snap_run clears the busy mark that
     * gn_checkpoint_stop waits on, so cp may be freed before snap_finish runs. */
    void (*release)(gn_ckpt_subject *subject);
    gn_ckpt_done_fn done;
    void *arg;
} snap_task;

static void snap_run(gn_task *task)
{
    snap_task *st = (snap_task *)task;
    gn_checkpointer *cp = st->cp;
    gn_ckpt_subject_info in = gn_ckpt_describe(cp, st->subject);
    if (in.removed) {
        gn_ckpt_record_outcome(cp, in.id, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                               "component unregistered before its snapshot", 0, 0);
        if (st->done != NULL)
            st->done(GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                     "the component was unregistered", 0, NULL, 0, st->arg);
        return;
    }
    genesis_snapshot snap = {.max = cp->host.max_snapshot};
    pthread_mutex_lock(&cp->snap_lock);
    int rv = in.callbacks->snapshot(&snap, in.callbacks->arg);
    pthread_mutex_unlock(&cp->snap_lock);
    if (rv != GENESIS_OK) {
        char why[192];
        snprintf(why, sizeof(why), "the snapshot callback returned %s", genesis_status_name(rv));
        gn_log(cp->host.log, GENESIS_LOG_WARN, "component %s: %s; checkpoint skipped", in.id, why);
        free(snap.data);
        gn_ckpt_record_outcome(cp, in.id, rv, GENESIS_REASON_HANDLER_ERROR, why, 0, 0);
        if (st->done != NULL)
            st->done(rv, GENESIS_REASON_HANDLER_ERROR, why, 0, NULL, 0, st->arg);
        return;
    }
    gn_ckpt_job *job =
        gn_ckpt_job_new(GN_CKPT_JOB_PUT, in.id, snap.data, snap.len, st->done, st->arg);
    if (job == NULL) {
        free(snap.data);
        gn_ckpt_record_outcome(cp, in.id, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                               "out of memory", 0, 0);
        if (st->done != NULL)
            st->done(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "out of memory", 0, NULL,
                     0, st->arg);
        return;
    }
    gn_ckpt_submit(cp, job);
}

static void snap_finish(gn_task *task)
{
    snap_task *st = (snap_task *)task;
    st->release(st->subject);
    free(st);
}

/* Start a snapshot of a subject the caller holds (its info is already marked busy). When it
 * cannot start, done runs now. */
static void snapshot_start(gn_checkpointer *cp, gn_ckpt_subject *subject, gn_ckpt_done_fn done,
                           void *arg)
{
    snap_task *st = calloc(1, sizeof(*st));
    int rv = GENESIS_RESOURCE_EXHAUSTED;
    if (st != NULL) {
        st->task.run = snap_run;
        st->task.finish = snap_finish;
        st->cp = cp;
        st->subject = subject;
        st->release = cp->host.release;
        st->done = done;
        st->arg = arg;
        cp->host.retain(subject);
        rv = cp->host.run_on_lane(subject, &st->task);
        if (rv != GENESIS_OK) {
            cp->host.release(subject);
            free(st);
        }
    }
    if (rv == GENESIS_OK)
        return;
    const char *why = rv == GENESIS_UNAVAILABLE ? "the component is unregistering"
                                                : "the component's queue is full";
    int reason =
        rv == GENESIS_UNAVAILABLE ? GENESIS_REASON_SHUTTING_DOWN : GENESIS_REASON_BULKHEAD_FULL;
    gn_ckpt_record_outcome(cp, gn_ckpt_describe(cp, subject).id, rv, reason, why, 0, 0);
    if (done != NULL)
        done(rv, reason, why, 0, NULL, 0, arg);
}

void gn_ckpt_sweep(gn_checkpointer *cp)
{
    size_t cap = cp->host.count(cp->host.ctx) + 16;
    gn_ckpt_subject **subjects = malloc(cap * sizeof(*subjects));
    if (subjects == NULL)
        return;
    size_t n = cp->host.list(cp->host.ctx, subjects, cap);
    for (size_t i = 0; i < n; i++) {
        gn_ckpt_subject_info in = gn_ckpt_describe(cp, subjects[i]);
        if (gn_ckpt_can_snapshot(&in) && !in.removed) {
            pthread_mutex_lock(&cp->lock);
            gn_ckpt_info *info = gn_ckpt_info_find(cp, in.id, true);
            bool go =
                info != NULL && !info->busy && (info->dirty || info->requests_seen != in.requests);
            if (go) {
                info->busy = true;
                info->dirty = false;
                info->requests_seen = in.requests;
            }
            pthread_mutex_unlock(&cp->lock);
            if (go)
                snapshot_start(cp, subjects[i], NULL, NULL);
        }
        cp->host.release(subjects[i]);
    }
    free(subjects);
}

void gn_ckpt_sweep_run(gn_task *task)
{
    gn_checkpointer *cp = (gn_checkpointer *)((char *)task - offsetof(gn_checkpointer, sweep_task));
    gn_ckpt_sweep(cp);
}

void gn_ckpt_sweep_finish(gn_task *task)
{
    gn_checkpointer *cp = (gn_checkpointer *)((char *)task - offsetof(gn_checkpointer, sweep_task));
    pthread_mutex_lock(&cp->lock);
    cp->sweeping = false;
    pthread_cond_broadcast(&cp->cv);
    pthread_mutex_unlock(&cp->lock);
}

/* The interval timer (an NNG thread): hand the sweep to a worker, one at a time. */
void gn_ckpt_tick(void *arg)
{
    gn_checkpointer *cp = arg;
    if (nng_aio_result(cp->timer) != 0)
        return; /* stopped */
    pthread_mutex_lock(&cp->lock);
    bool start = !cp->sweeping && !cp->closing;
    if (start)
        cp->sweeping = true;
    pthread_mutex_unlock(&cp->lock);
    if (start && gn_pool_submit(cp->host.pool, &cp->sweep_task) != GENESIS_OK) {
        pthread_mutex_lock(&cp->lock);
        cp->sweeping = false;
        pthread_cond_broadcast(&cp->cv);
        pthread_mutex_unlock(&cp->lock);
    }
    nng_sleep_aio((nng_duration)cp->interval_ms, cp->timer);
}

/* ---- checkpoint now: one snapshot, waited for ---- */

typedef struct ckpt_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int status, reason;
    uint64_t generation;
    char why[256];
} ckpt_waiter;

static void wake_waiter(int status, int reason, const char *why, uint64_t generation,
                        const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    ckpt_waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->status = status;
    w->reason = reason;
    w->generation = generation;
    snprintf(w->why, sizeof(w->why), "%s", why != NULL ? why : "");
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int gn_checkpoint_now(gn_checkpointer *cp, const char *id, uint64_t *generation)
{
    gn_ckpt_subject *s = cp->host.lookup(cp->host.ctx, id);
    gn_ckpt_subject_info in = {0};
    if (s != NULL)
        in = gn_ckpt_describe(cp, s);
    if (s == NULL || in.remote) {
        cp->host.release(s);
        return gn_fail(GENESIS_NOT_FOUND, "checkpoint_now: no in-process component '%s'", id);
    }
    if (!gn_ckpt_can_snapshot(&in)) {
        cp->host.release(s);
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "checkpoint_now: component '%s' has no snapshot callback", id);
    }
    if (cp->store == NULL) {
        cp->host.release(s);
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "checkpoint_now: no checkpoint store is configured (STORAGE_ERROR)");
    }
    ckpt_waiter w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    pthread_mutex_lock(&cp->lock);
    gn_ckpt_info *info = gn_ckpt_info_find(cp, id, true);
    if (info != NULL) {
        info->busy = true;
        info->dirty = false;
        info->requests_seen = in.requests;
    }
    pthread_mutex_unlock(&cp->lock);
    snapshot_start(cp, s, wake_waiter, &w);
    cp->host.release(s);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    if (w.status != GENESIS_OK)
        return gn_fail(w.status, "checkpoint of '%s': %s (%s)", id, w.why,
                       genesis_reason_name(w.reason));
    if (generation != NULL)
        *generation = w.generation;
    return GENESIS_OK;
}
