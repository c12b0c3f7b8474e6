/* Coordinator-side checkpointing (see checkpoint.h): the writer thread and its bounded queue,
 * the interval sweep, snapshots on the component's own lane, restores, and the per-component
 * bookkeeping shown in the status report. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_store.h"
#include "cluster/cluster.h"
#include "coordinator/coordinator_impl.h"
#include "genesis/recovery.h"

#define DEFAULT_INTERVAL_MS 150u
#define DEFAULT_GENERATIONS 3u
#define MAX_QUEUED_JOBS     256u
#define MAX_RESTORE_TRIES   16u
#define FINAL_SWEEP_WAIT_MS 5000u

enum { JOB_PUT = 0, JOB_READ = 1 };

typedef struct ckpt_job {
    struct ckpt_job *next;
    int kind;
    char *id;
    uint8_t *data;
    size_t len;
    gn_ckpt_done_fn done;
    void *arg;
} ckpt_job;

/* What is known about one component id. */
typedef struct ckpt_info {
    char *id;
    uint64_t generation; /* newest durable, 0 = none */
    uint64_t size;
    int64_t created_ms; /* wall clock */
    uint64_t written;
    uint64_t failures;
    int last_reason;
    char last_error[192];
    uint64_t requests_seen; /* the component's request count at its last snapshot */
    bool dirty;             /* mark_dirty since the last snapshot */
    bool busy;              /* a snapshot or its write is under way */
} ckpt_info;

struct gn_checkpointer {
    genesis_coordinator *co;
    gn_ckpt_store *store; /* NULL: no durable checkpoints */
    char *path;
    uint32_t interval_ms;

    pthread_mutex_t store_lock; /* one user of the store at a time */
    pthread_mutex_t snap_lock;  /* snapshot callbacks never overlap */

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cv;    /* queue changed / sweep finished */
    ckpt_job *head, *tail;
    unsigned int queued;
    bool closing;
    bool writer_started;
    pthread_t writer;
    ckpt_info *infos;
    size_t n_infos, cap_infos;
    uint64_t n_written, n_failures, n_corrupt;

    nng_aio *timer;
    gn_task sweep_task;
    bool sweeping;
    bool stopped;
};

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

void gn_component_copy(genesis_component *dst, const genesis_component *src)
{
    memset(dst, 0, sizeof(*dst));
    size_t size = src->version >= 2 ? sizeof(*dst) : offsetof(genesis_component, snapshot);
    memcpy(dst, src, size);
}

/* ---- bookkeeping ------------------------------------------------------------------------ */

/* The entry for id, created when create is set. cp->lock held. */
static ckpt_info *info_find(gn_checkpointer *cp, const char *id, bool create)
{
    for (size_t i = 0; i < cp->n_infos; i++) {
        if (strcmp(cp->infos[i].id, id) == 0)
            return &cp->infos[i];
    }
    if (!create)
        return NULL;
    if (cp->n_infos == cp->cap_infos) {
        size_t cap = cp->cap_infos > 0 ? cp->cap_infos * 2 : 16;
        ckpt_info *grown = realloc(cp->infos, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        cp->infos = grown;
        cp->cap_infos = cap;
    }
    ckpt_info *in = &cp->infos[cp->n_infos];
    memset(in, 0, sizeof(*in));
    in->id = gn_strdup(id);
    if (in->id == NULL)
        return NULL;
    cp->n_infos++;
    return in;
}

static void record_outcome(gn_checkpointer *cp, const char *id, int status, int reason,
                           const char *why, uint64_t generation, size_t len)
{
    pthread_mutex_lock(&cp->lock);
    ckpt_info *in = info_find(cp, id, true);
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

static void seed_info(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                      void *arg)
{
    gn_checkpointer *cp = arg;
    ckpt_info *in = info_find(cp, component, true);
    if (in != NULL && generation > in->generation) {
        in->generation = generation;
        in->size = len;
        in->created_ms = created_ms;
    }
}

/* ---- the writer thread ------------------------------------------------------------------ */

static void job_free(ckpt_job *job)
{
    free(job->id);
    free(job->data);
    free(job);
}

/* Newest good generation of id, skipping (and counting, and logging) corrupt ones. Caller
 * holds store_lock. */
static int read_latest(gn_checkpointer *cp, const char *id, uint64_t older_than,
                       gn_ckpt_record *rec, gn_ckpt_error *err)
{
    unsigned int corrupt = 0;
    int rv = gn_ckpt_latest(cp->store, id, older_than, rec, &corrupt, err);
    if (corrupt > 0) {
        pthread_mutex_lock(&cp->lock);
        cp->n_corrupt += corrupt;
        pthread_mutex_unlock(&cp->lock);
        gn_log(&cp->co->log, GENESIS_LOG_ERROR,
               "%u corrupt checkpoint generation(s) of '%s' skipped (last: %s)%s", corrupt, id,
               err->message, rv == GENESIS_OK ? "; using an older good one" : "");
    }
    return rv;
}

static void run_job(gn_checkpointer *cp, ckpt_job *job)
{
    gn_ckpt_error err = {0};
    uint64_t generation = 0;
    if (cp->store == NULL) {
        const char *why = "no checkpoint store is configured (checkpoint_store / --checkpoint-db)";
        if (job->kind == JOB_PUT) {
            record_outcome(cp, job->id, GENESIS_FAILED_PRECONDITION, GENESIS_REASON_STORAGE_ERROR,
                           why, 0, 0);
            job->done(GENESIS_FAILED_PRECONDITION, GENESIS_REASON_STORAGE_ERROR, why, 0, NULL, 0,
                      job->arg);
        } else {
            job->done(GENESIS_OK, GENESIS_REASON_NONE, "", 0, NULL, 0, job->arg);
        }
        return;
    }
    if (job->kind == JOB_PUT) {
        pthread_mutex_lock(&cp->store_lock);
        int rv = gn_ckpt_put(cp->store, job->id, job->data, job->len, &generation, &err);
        pthread_mutex_unlock(&cp->store_lock);
        if (rv != GENESIS_OK)
            gn_log(&cp->co->log, GENESIS_LOG_ERROR,
                   "checkpoint of '%s' (%zu bytes) failed: %s (%s); the previous generation is "
                   "kept",
                   job->id, job->len, err.message, genesis_reason_name(err.reason));
        record_outcome(cp, job->id, rv, err.reason, err.message, generation, job->len);
        if (job->done != NULL)
            job->done(rv, rv == GENESIS_OK ? GENESIS_REASON_NONE : err.reason,
                      rv == GENESIS_OK ? "" : err.message, generation, NULL, 0, job->arg);
        return;
    }
    gn_ckpt_record rec = {0};
    pthread_mutex_lock(&cp->store_lock);
    int rv = read_latest(cp, job->id, 0, &rec, &err);
    pthread_mutex_unlock(&cp->store_lock);
    if (rv == GENESIS_NOT_FOUND)
        job->done(GENESIS_OK, GENESIS_REASON_NONE, "", 0, NULL, 0, job->arg);
    else
        job->done(rv, rv == GENESIS_OK ? GENESIS_REASON_NONE : err.reason,
                  rv == GENESIS_OK ? "" : err.message, rec.generation, rec.data, rec.len, job->arg);
    gn_ckpt_record_clear(&rec);
}

static void *writer_main(void *arg)
{
    gn_checkpointer *cp = arg;
    pthread_mutex_lock(&cp->lock);
    for (;;) {
        while (cp->head == NULL && !cp->closing)
            pthread_cond_wait(&cp->cv, &cp->lock);
        ckpt_job *job = cp->head;
        if (job == NULL)
            break; /* closing and drained */
        cp->head = job->next;
        if (cp->head == NULL)
            cp->tail = NULL;
        cp->queued--;
        pthread_mutex_unlock(&cp->lock);
        run_job(cp, job);
        job_free(job);
        pthread_mutex_lock(&cp->lock);
    }
    pthread_mutex_unlock(&cp->lock);
    return NULL;
}

/* Queue a job (taking ownership of it). When it cannot be queued, done runs now. */
static void submit(gn_checkpointer *cp, ckpt_job *job)
{
    pthread_mutex_lock(&cp->lock);
    int status = GENESIS_OK, reason = GENESIS_REASON_NONE;
    const char *why = "";
    if (cp->closing || !cp->writer_started) {
        status = GENESIS_UNAVAILABLE;
        reason = GENESIS_REASON_SHUTTING_DOWN;
        why = "the coordinator is shutting down";
    } else if (cp->queued >= MAX_QUEUED_JOBS) {
        status = GENESIS_RESOURCE_EXHAUSTED;
        reason = GENESIS_REASON_QUEUE_FULL;
        why = "the checkpoint writer is behind (256 writes queued): try again";
    } else {
        job->next = NULL;
        if (cp->tail != NULL)
            cp->tail->next = job;
        else
            cp->head = job;
        cp->tail = job;
        cp->queued++;
        pthread_cond_signal(&cp->cv);
    }
    pthread_mutex_unlock(&cp->lock);
    if (status == GENESIS_OK)
        return;
    if (job->kind == JOB_PUT)
        record_outcome(cp, job->id, status, reason, why, 0, 0);
    if (job->done != NULL)
        job->done(status, reason, why, 0, NULL, 0, job->arg);
    job_free(job);
}

/* A job for id; data is taken over (PUT) or NULL (READ). NULL when out of memory. */
static ckpt_job *job_new(int kind, const char *id, uint8_t *data, size_t len, gn_ckpt_done_fn done,
                         void *arg)
{
    ckpt_job *job = calloc(1, sizeof(*job));
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

void gn_checkpoint_remote(genesis_coordinator *co, const Genesis__V1__Checkpoint *ck,
                          gn_ckpt_done_fn done, void *arg)
{
    gn_checkpointer *cp = co->checkpointer;
    char why[256];
    int status = GENESIS_OK, reason = GENESIS_REASON_NONE;
    gn_component *comp =
        gn_valid_id(ck->component_id) ? gn_registry_lookup(co->registry, ck->component_id) : NULL;
    if (!gn_valid_id(ck->component_id)) {
        status = GENESIS_INVALID_ARGUMENT;
        reason = GENESIS_REASON_INVALID_ARGUMENT;
        snprintf(why, sizeof(why), "checkpoint: invalid component id");
    } else if (comp == NULL || comp->kind != GN_REMOTE) {
        /* An in-process component's state is its own snapshot's business: a remote peer must
         * not overwrite it. */
        status = comp == NULL ? GENESIS_NOT_FOUND : GENESIS_FAILED_PRECONDITION;
        reason = comp == NULL ? GENESIS_REASON_NOT_FOUND : GENESIS_REASON_ALREADY_REGISTERED;
        snprintf(why, sizeof(why), "checkpoint: no remote component '%.128s' is registered%s",
                 ck->component_id, comp == NULL ? ": register first" : " (it is in-process)");
    } else if (cp->store == NULL) {
        status = GENESIS_FAILED_PRECONDITION;
        reason = GENESIS_REASON_STORAGE_ERROR;
        snprintf(why, sizeof(why),
                 "checkpoint: this coordinator has no checkpoint store (--checkpoint-db)");
    }
    gn_component_release(comp);
    if (status != GENESIS_OK) {
        done(status, reason, why, 0, NULL, 0, arg);
        return;
    }
    size_t len = ck->state.len;
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy != NULL && len > 0)
        memcpy(copy, ck->state.data, len);
    ckpt_job *job = copy != NULL ? job_new(JOB_PUT, ck->component_id, copy, len, done, arg) : NULL;
    if (job == NULL) {
        free(copy);
        done(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "checkpoint: out of memory", 0,
             NULL, 0, arg);
        return;
    }
    submit(cp, job);
}

void gn_checkpoint_read(genesis_coordinator *co, const char *id, gn_ckpt_done_fn done, void *arg)
{
    ckpt_job *job = job_new(JOB_READ, id, NULL, 0, done, arg);
    if (job == NULL) {
        done(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "checkpoint: out of memory", 0,
             NULL, 0, arg);
        return;
    }
    submit(co->checkpointer, job);
}

/* ---- snapshots -------------------------------------------------------------------------- */

/* A snapshot runs as a task on the component's requests lane, so unregistering waits for it
 * like for a handler, and a removed component's snapshot never runs. */
typedef struct snap_task {
    gn_task task;
    gn_checkpointer *cp;
    gn_component *comp; /* retained */
    gn_ckpt_done_fn done;
    void *arg;
} snap_task;

static bool has_snapshot(const gn_component *comp)
{
    return comp->kind == GN_INPROC && comp->callbacks.version >= 2 &&
           comp->callbacks.snapshot != NULL;
}

static void snap_run(gn_task *task)
{
    snap_task *st = (snap_task *)task;
    gn_checkpointer *cp = st->cp;
    gn_component *comp = st->comp;
    if (atomic_load(&comp->removed)) {
        record_outcome(cp, comp->id, GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                       "component unregistered before its snapshot", 0, 0);
        if (st->done != NULL)
            st->done(GENESIS_UNAVAILABLE, GENESIS_REASON_SHUTTING_DOWN,
                     "the component was unregistered", 0, NULL, 0, st->arg);
        return;
    }
    genesis_snapshot snap = {.max = cp->co->opts.max_message_size};
    pthread_mutex_lock(&cp->snap_lock);
    int rv = comp->callbacks.snapshot(&snap, comp->callbacks.arg);
    pthread_mutex_unlock(&cp->snap_lock);
    if (rv != GENESIS_OK) {
        char why[192];
        snprintf(why, sizeof(why), "the snapshot callback returned %s", genesis_status_name(rv));
        gn_log(&cp->co->log, GENESIS_LOG_WARN, "component %s: %s; checkpoint skipped", comp->id,
               why);
        free(snap.data);
        record_outcome(cp, comp->id, rv, GENESIS_REASON_HANDLER_ERROR, why, 0, 0);
        if (st->done != NULL)
            st->done(rv, GENESIS_REASON_HANDLER_ERROR, why, 0, NULL, 0, st->arg);
        return;
    }
    ckpt_job *job = job_new(JOB_PUT, comp->id, snap.data, snap.len, st->done, st->arg);
    if (job == NULL) {
        free(snap.data);
        record_outcome(cp, comp->id, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                       "out of memory", 0, 0);
        if (st->done != NULL)
            st->done(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY, "out of memory", 0, NULL,
                     0, st->arg);
        return;
    }
    submit(cp, job);
}

static void snap_finish(gn_task *task)
{
    snap_task *st = (snap_task *)task;
    gn_component_release(st->comp);
    free(st);
}

/* Start a snapshot of comp (marks its info busy). When it cannot start, done runs now. */
static void snapshot_start(gn_checkpointer *cp, gn_component *comp, gn_ckpt_done_fn done, void *arg)
{
    snap_task *st = calloc(1, sizeof(*st));
    int rv = GENESIS_RESOURCE_EXHAUSTED;
    if (st != NULL) {
        st->task.run = snap_run;
        st->task.finish = snap_finish;
        st->cp = cp;
        st->comp = comp;
        st->done = done;
        st->arg = arg;
        gn_component_retain(comp);
        rv = gn_lane_submit(&comp->requests, &st->task);
        if (rv != GENESIS_OK) {
            gn_component_release(comp);
            free(st);
        }
    }
    if (rv == GENESIS_OK)
        return;
    const char *why = rv == GENESIS_UNAVAILABLE ? "the component is unregistering"
                                                : "the component's queue is full";
    int reason =
        rv == GENESIS_UNAVAILABLE ? GENESIS_REASON_SHUTTING_DOWN : GENESIS_REASON_BULKHEAD_FULL;
    record_outcome(cp, comp->id, rv, reason, why, 0, 0);
    if (done != NULL)
        done(rv, reason, why, 0, NULL, 0, arg);
}

/* Snapshot every in-process component that changed since its last snapshot. */
static void sweep(gn_checkpointer *cp)
{
    genesis_coordinator *co = cp->co;
    size_t cap = gn_registry_count(co->registry) + 16;
    gn_component **comps = malloc(cap * sizeof(*comps));
    if (comps == NULL)
        return;
    size_t n = gn_registry_snapshot(co->registry, (void **)comps, cap);
    for (size_t i = 0; i < n; i++) {
        gn_component *comp = comps[i];
        if (has_snapshot(comp) && !atomic_load(&comp->removed)) {
            uint64_t requests = atomic_load(&comp->n_requests);
            pthread_mutex_lock(&cp->lock);
            ckpt_info *in = info_find(cp, comp->id, true);
            bool go = in != NULL && !in->busy && (in->dirty || in->requests_seen != requests);
            if (go) {
                in->busy = true;
                in->dirty = false;
                in->requests_seen = requests;
            }
            pthread_mutex_unlock(&cp->lock);
            if (go)
                snapshot_start(cp, comp, NULL, NULL);
        }
        gn_component_release(comp);
    }
    free(comps);
}

static void sweep_run(gn_task *task)
{
    gn_checkpointer *cp = (gn_checkpointer *)((char *)task - offsetof(gn_checkpointer, sweep_task));
    sweep(cp);
}

static void sweep_finish(gn_task *task)
{
    gn_checkpointer *cp = (gn_checkpointer *)((char *)task - offsetof(gn_checkpointer, sweep_task));
    pthread_mutex_lock(&cp->lock);
    cp->sweeping = false;
    pthread_cond_broadcast(&cp->cv);
    pthread_mutex_unlock(&cp->lock);
}

/* The interval timer (an NNG thread): hand the sweep to a worker, one at a time. */
static void tick(void *arg)
{
    gn_checkpointer *cp = arg;
    if (nng_aio_result(cp->timer) != 0)
        return; /* stopped */
    pthread_mutex_lock(&cp->lock);
    bool start = !cp->sweeping && !cp->closing;
    if (start)
        cp->sweeping = true;
    pthread_mutex_unlock(&cp->lock);
    if (start && gn_pool_submit(cp->co->pool, &cp->sweep_task) != GENESIS_OK) {
        pthread_mutex_lock(&cp->lock);
        cp->sweeping = false;
        pthread_cond_broadcast(&cp->cv);
        pthread_mutex_unlock(&cp->lock);
    }
    nng_sleep_aio((nng_duration)cp->interval_ms, cp->timer);
}

/* ---- restore ---------------------------------------------------------------------------- */

int gn_checkpoint_restore_component(genesis_coordinator *co, gn_component *comp)
{
    gn_checkpointer *cp = co->checkpointer;
    if (cp == NULL || cp->store == NULL || comp->kind != GN_INPROC || comp->callbacks.version < 2 ||
        comp->callbacks.restore == NULL)
        return GENESIS_OK;
    uint64_t older_than = 0;
    for (unsigned int tries = 0; tries < MAX_RESTORE_TRIES; tries++) {
        gn_ckpt_record rec = {0};
        gn_ckpt_error err = {0};
        pthread_mutex_lock(&cp->store_lock);
        int rv = read_latest(cp, comp->id, older_than, &rec, &err);
        pthread_mutex_unlock(&cp->store_lock);
        if (rv == GENESIS_NOT_FOUND) {
            if (older_than > 0)
                gn_log(&co->log, GENESIS_LOG_ERROR,
                       "component %s: no stored generation was accepted by restore; it starts "
                       "without its state",
                       comp->id);
            return GENESIS_OK;
        }
        if (rv != GENESIS_OK) {
            gn_log(&co->log, GENESIS_LOG_ERROR, "component %s: cannot read its checkpoint: %s",
                   comp->id, err.message);
            return gn_fail(rv, "restore '%s': %s", comp->id, err.message);
        }
        int accepted = comp->callbacks.restore(rec.data != NULL ? rec.data : (const uint8_t *)"",
                                               rec.len, rec.generation, comp->callbacks.arg);
        uint64_t gen = rec.generation;
        gn_ckpt_record_clear(&rec);
        if (accepted == GENESIS_OK) {
            gn_log(&co->log, GENESIS_LOG_INFO, "component %s restored from generation %llu",
                   comp->id, (unsigned long long)gen);
            return GENESIS_OK;
        }
        gn_log(&co->log, GENESIS_LOG_ERROR,
               "component %s rejected checkpoint generation %llu (%s); trying an older one",
               comp->id, (unsigned long long)gen, genesis_status_name(accepted));
        older_than = gen;
    }
    return GENESIS_OK;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

int gn_checkpoint_open(genesis_coordinator *co, gn_checkpointer **out, char *why, size_t why_size)
{
    *out = NULL;
    gn_checkpointer *cp = calloc(1, sizeof(*cp));
    if (cp == NULL) {
        snprintf(why, why_size, "checkpoints: out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    cp->co = co;
    cp->interval_ms =
        co->opts.checkpoint_interval_ms > 0 ? co->opts.checkpoint_interval_ms : DEFAULT_INTERVAL_MS;
    pthread_mutex_init(&cp->store_lock, NULL);
    pthread_mutex_init(&cp->snap_lock, NULL);
    pthread_mutex_init(&cp->lock, NULL);
    pthread_cond_init(&cp->cv, NULL);
    cp->sweep_task.run = sweep_run;
    cp->sweep_task.finish = sweep_finish;
    int rv = GENESIS_OK;
    if (co->cluster != NULL) {
        /* Cluster mode: the JetStream bucket, never a local file. */
        gn_ckpt_error err = {0};
        cp->path = gn_strdup(gn_cluster_describe(co->cluster));
        rv = cp->path != NULL ? gn_cluster_checkpoint_store(co->cluster, &cp->store, &err)
                              : GENESIS_RESOURCE_EXHAUSTED;
        if (rv == GENESIS_OK && gn_ckpt_list(cp->store, seed_info, cp, &err) != GENESIS_OK)
            gn_log(&co->log, GENESIS_LOG_WARN, "checkpoints: cannot list the cluster's: %s",
                   err.message);
        if (rv != GENESIS_OK)
            snprintf(why, why_size, "checkpoints: %s", cp->path != NULL ? err.message : "out of memory");
    } else if (co->opts.checkpoint_store != NULL && co->opts.checkpoint_store[0] != '\0') {
        gn_ckpt_sqlite_options so = {.keep = co->opts.checkpoint_generations > 0
                                                 ? co->opts.checkpoint_generations
                                                 : DEFAULT_GENERATIONS};
        gn_ckpt_error err = {0};
        cp->path = gn_strdup(co->opts.checkpoint_store);
        rv = cp->path != NULL
                 ? gn_ckpt_store_open_sqlite(&cp->store, co->opts.checkpoint_store, &so, &err)
                 : GENESIS_RESOURCE_EXHAUSTED;
        if (rv == GENESIS_OK) {
            if (gn_ckpt_list(cp->store, seed_info, cp, &err) != GENESIS_OK)
                gn_log(&co->log, GENESIS_LOG_WARN, "checkpoints: cannot list the store: %s",
                       err.message);
        } else {
            snprintf(why, why_size, "%s", cp->path != NULL ? err.message : "out of memory");
        }
    }
    if (rv == GENESIS_OK && nng_aio_alloc(&cp->timer, tick, cp) != 0) {
        snprintf(why, why_size, "checkpoints: cannot allocate the timer");
        rv = GENESIS_RESOURCE_EXHAUSTED;
    }
    if (rv == GENESIS_OK) {
        if (pthread_create(&cp->writer, NULL, writer_main, cp) != 0) {
            snprintf(why, why_size, "checkpoints: cannot start the writer thread");
            rv = GENESIS_RESOURCE_EXHAUSTED;
        } else {
            cp->writer_started = true;
        }
    }
    if (rv != GENESIS_OK) {
        cp->stopped = true;
        gn_checkpoint_free(cp);
        return rv;
    }
    if (cp->store != NULL && co->cluster != NULL) {
        nng_sleep_aio((nng_duration)cp->interval_ms, cp->timer);
        gn_log(&co->log, GENESIS_LOG_INFO,
               "checkpoints: JetStream key-value (%s), every %u ms when changed, %u generations "
               "kept",
               cp->path, cp->interval_ms, cp->store->keep);
    } else if (cp->store != NULL) {
        nng_sleep_aio((nng_duration)cp->interval_ms, cp->timer);
        gn_log(&co->log, GENESIS_LOG_INFO,
               "checkpoints: store %s (sqlite, WAL, synchronous=FULL), every %u ms when changed, "
               "%u generations kept",
               cp->path, cp->interval_ms, cp->store->keep);
    }
    *out = cp;
    return GENESIS_OK;
}

void gn_checkpoint_stop(gn_checkpointer *cp)
{
    if (cp == NULL)
        return;
    pthread_mutex_lock(&cp->lock);
    bool already = cp->stopped;
    cp->stopped = true;
    pthread_mutex_unlock(&cp->lock);
    if (already)
        return;
    nng_aio_stop(cp->timer);
    pthread_mutex_lock(&cp->lock);
    while (cp->sweeping)
        pthread_cond_wait(&cp->cv, &cp->lock);
    cp->sweeping = true; /* no timer sweep from now on */
    pthread_mutex_unlock(&cp->lock);
    /* A clean stop loses nothing: changed state is checkpointed once more. The snapshots run
     * on the components' lanes; their writes are queued before closing below, as long as
     * the lanes still run (the caller retires components afterwards). */
    if (cp->store != NULL) {
        sweep(cp);
        int64_t give_up = gn_now_ms() + FINAL_SWEEP_WAIT_MS; /* a hung snapshot must not
                                                                 hold the stop forever */
        pthread_mutex_lock(&cp->lock);
        for (;;) {
            bool busy = false;
            for (size_t i = 0; i < cp->n_infos && !busy; i++)
                busy = cp->infos[i].busy;
            if (!busy)
                break;
            if (gn_now_ms() > give_up) {
                gn_log(&cp->co->log, GENESIS_LOG_WARN,
                       "checkpoints: the last snapshots did not finish in %u ms; stopping anyway",
                       FINAL_SWEEP_WAIT_MS);
                break;
            }
            pthread_mutex_unlock(&cp->lock);
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&cp->lock);
        }
        pthread_mutex_unlock(&cp->lock);
    }
    pthread_mutex_lock(&cp->lock);
    cp->closing = true;
    pthread_cond_broadcast(&cp->cv);
    pthread_mutex_unlock(&cp->lock);
    if (cp->writer_started)
        pthread_join(cp->writer, NULL);
}

void gn_checkpoint_free(gn_checkpointer *cp)
{
    if (cp == NULL)
        return;
    gn_checkpoint_stop(cp);
    nng_aio_free(cp->timer);
    gn_ckpt_store_close(cp->store);
    for (size_t i = 0; i < cp->n_infos; i++)
        free(cp->infos[i].id);
    free(cp->infos);
    free(cp->path);
    pthread_cond_destroy(&cp->cv);
    pthread_mutex_destroy(&cp->lock);
    pthread_mutex_destroy(&cp->snap_lock);
    pthread_mutex_destroy(&cp->store_lock);
    free(cp);
}

/* ---- public API ------------------------------------------------------------------------- */

int genesis_coordinator_checkpoint_mark_dirty(genesis_coordinator *co, const char *id)
{
    gn_clear_error();
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "mark_dirty: NULL argument");
    gn_component *comp = gn_registry_lookup(co->registry, id);
    bool inproc = comp != NULL && comp->kind == GN_INPROC;
    gn_component_release(comp);
    if (!inproc)
        return gn_fail(GENESIS_NOT_FOUND, "mark_dirty: no in-process component '%s'", id);
    gn_checkpointer *cp = co->checkpointer;
    pthread_mutex_lock(&cp->lock);
    ckpt_info *in = info_find(cp, id, true);
    if (in != NULL)
        in->dirty = true;
    pthread_mutex_unlock(&cp->lock);
    return in != NULL ? GENESIS_OK : gn_fail(GENESIS_RESOURCE_EXHAUSTED, "mark_dirty: no memory");
}

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

int genesis_coordinator_checkpoint_now(genesis_coordinator *co, const char *id,
                                       uint64_t *generation)
{
    gn_clear_error();
    if (generation != NULL)
        *generation = 0;
    if (co == NULL || id == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "checkpoint_now: NULL argument");
    gn_checkpointer *cp = co->checkpointer;
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL || comp->kind != GN_INPROC) {
        gn_component_release(comp);
        return gn_fail(GENESIS_NOT_FOUND, "checkpoint_now: no in-process component '%s'", id);
    }
    if (!has_snapshot(comp)) {
        gn_component_release(comp);
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "checkpoint_now: component '%s' has no snapshot callback", id);
    }
    if (cp->store == NULL) {
        gn_component_release(comp);
        return gn_fail(GENESIS_FAILED_PRECONDITION,
                       "checkpoint_now: no checkpoint store is configured (STORAGE_ERROR)");
    }
    ckpt_waiter w = {.done = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    pthread_mutex_lock(&cp->lock);
    ckpt_info *in = info_find(cp, id, true);
    if (in != NULL) {
        in->busy = true;
        in->dirty = false;
        in->requests_seen = atomic_load(&comp->n_requests);
    }
    pthread_mutex_unlock(&cp->lock);
    snapshot_start(cp, comp, wake_waiter, &w);
    gn_component_release(comp);
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

int genesis_coordinator_checkpoint_info(genesis_coordinator *co, const char *id,
                                        genesis_checkpoint_info *info)
{
    gn_clear_error();
    if (co == NULL || id == NULL || info == NULL ||
        info->version != GENESIS_CHECKPOINT_INFO_VERSION)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "checkpoint_info: NULL argument or unknown version");
    gn_checkpointer *cp = co->checkpointer;
    pthread_mutex_lock(&cp->lock);
    ckpt_info *in = info_find(cp, id, false);
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

/* ---- status ----------------------------------------------------------------------------- */

void gn_checkpoint_component_status(genesis_coordinator *co, const char *id,
                                    Genesis__V1__ComponentStatus *cs)
{
    gn_checkpointer *cp = co->checkpointer;
    cs->checkpoint_age_ms = -1;
    cs->checkpoint_error = (char *)"";
    if (cp == NULL)
        return;
    pthread_mutex_lock(&cp->lock);
    ckpt_info *in = info_find(cp, id, false);
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

void gn_checkpoint_report_status(genesis_coordinator *co, Genesis__V1__StatusReport *r)
{
    gn_checkpointer *cp = co->checkpointer;
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

/* ---- operator commands: checkpoint list | show | restore ---------------------------------- */

static genesis_result *admin_json(json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL)
        return gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                                "admin checkpoint: out of memory");
    genesis_result *res = gn_result_new(GENESIS_OK, GENESIS_REASON_NONE, NULL, text, strlen(text),
                                        "application/json");
    free(text);
    return res;
}

struct list_ctx {
    const char *only; /* NULL = every component */
    json_t *rows;
};

static void list_row(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                     void *arg)
{
    struct list_ctx *ctx = arg;
    if (ctx->only != NULL && strcmp(ctx->only, component) != 0)
        return;
    json_array_append_new(ctx->rows, json_pack("{s:s, s:I, s:I, s:I}", "component", component,
                                               "generation", (json_int_t)generation, "created_ms",
                                               (json_int_t)created_ms, "size", (json_int_t)len));
}

/* The newest good generation of id at or below gen (0 = the newest), under store_lock. */
static int read_generation(gn_checkpointer *cp, const char *id, uint64_t gen, gn_ckpt_record *rec,
                           gn_ckpt_error *err)
{
    pthread_mutex_lock(&cp->store_lock);
    int rv = read_latest(cp, id, gen > 0 ? gen + 1 : 0, rec, err);
    pthread_mutex_unlock(&cp->store_lock);
    if (rv == GENESIS_OK && gen > 0 && rec->generation != gen) {
        gn_ckpt_record_clear(rec);
        rv = GENESIS_NOT_FOUND;
    }
    if (rv == GENESIS_NOT_FOUND)
        snprintf(err->message, sizeof(err->message), "%s", "no such (good) generation stored");
    return rv;
}

/* Payload as a JSON string when it is printable text, else as hex. */
static void put_data(json_t *doc, const uint8_t *data, size_t len)
{
    bool text = true;
    for (size_t i = 0; i < len && text; i++)
        text = (data[i] >= 0x20 && data[i] < 0x7f) || data[i] == '\n' || data[i] == '\t';
    if (text) {
        json_object_set_new(doc, "data", json_stringn(len > 0 ? (const char *)data : "", len));
        return;
    }
    char *hex = malloc(len * 2 + 1);
    if (hex == NULL)
        return;
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", data[i]);
    hex[len * 2] = '\0';
    json_object_set_new(doc, "data_hex", json_string(hex));
    free(hex);
}

genesis_result *gn_checkpoint_admin(genesis_coordinator *co, char **args, size_t n)
{
    gn_checkpointer *cp = co->checkpointer;
    const char *sub = n > 0 ? args[0] : "";
    bool list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0,
         restore = strcmp(sub, "restore") == 0;
    if ((!list && !show && !restore) || (list && n > 2) || (!list && (n < 2 || n > 3)))
        return gn_result_errorf(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT,
                                "admin checkpoint: expected list [<component>] | show "
                                "<component> [<generation>] | restore <component> "
                                "[<generation>]");
    if (cp == NULL || cp->store == NULL)
        return gn_result_errorf(GENESIS_FAILED_PRECONDITION, GENESIS_REASON_STORAGE_ERROR,
                                "admin checkpoint: no checkpoint store is configured "
                                "(checkpoint_store / --checkpoint-db)");
    gn_ckpt_error err = {0};
    if (list) {
        struct list_ctx ctx = {n == 2 ? args[1] : NULL, json_array()};
        pthread_mutex_lock(&cp->store_lock);
        int rv = gn_ckpt_list(cp->store, list_row, &ctx, &err);
        pthread_mutex_unlock(&cp->store_lock);
        if (rv != GENESIS_OK) {
            json_decref(ctx.rows);
            return gn_result_errorf(rv, err.reason, "admin checkpoint list: %s", err.message);
        }
        return admin_json(json_pack("{s:o}", "checkpoints", ctx.rows));
    }
    const char *id = args[1];
    uint64_t gen = 0;
    if (n == 3) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(args[2], &end, 10);
        if (args[2][0] == '-' || *end != '\0' || end == args[2] || errno != 0 || v == 0)
            return gn_result_errorf(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT,
                                    "admin checkpoint: generation '%.32s' is not a positive "
                                    "integer",
                                    args[2]);
        gen = v;
    }
    gn_component *comp = NULL;
    if (restore) {
        comp = gn_registry_lookup(co->registry, id);
        bool can = comp != NULL && comp->kind == GN_INPROC && comp->callbacks.version >= 2 &&
                   comp->callbacks.restore != NULL;
        if (!can) {
            bool remote = comp != NULL && comp->kind == GN_REMOTE;
            if (comp != NULL)
                gn_component_release(comp);
            if (remote)
                return gn_result_errorf(
                    GENESIS_FAILED_PRECONDITION, GENESIS_REASON_INVALID_ARGUMENT,
                    "admin checkpoint restore: '%.128s' is remote; it gets its newest "
                    "checkpoint when it registers again (genesisctl supervisor restart)",
                    id);
            return gn_result_errorf(comp == NULL ? GENESIS_NOT_FOUND : GENESIS_FAILED_PRECONDITION,
                                    comp == NULL ? GENESIS_REASON_NOT_FOUND
                                                 : GENESIS_REASON_INVALID_ARGUMENT,
                                    comp == NULL ? "admin checkpoint restore: no in-process "
                                                   "component '%.128s'"
                                                 : "admin checkpoint restore: '%.128s' has no "
                                                   "restore callback",
                                    id);
        }
    }
    gn_ckpt_record rec = {0};
    int rv = read_generation(cp, id, gen, &rec, &err);
    if (rv != GENESIS_OK) {
        if (comp != NULL)
            gn_component_release(comp);
        return gn_result_errorf(rv, rv == GENESIS_NOT_FOUND ? GENESIS_REASON_NOT_FOUND : err.reason,
                                "admin checkpoint %s '%.128s'%s: %s", sub, id,
                                gen > 0 ? " (that generation)" : "", err.message);
    }
    json_t *doc =
        json_pack("{s:s, s:I, s:I, s:I}", "component", id, "generation", (json_int_t)rec.generation,
                  "created_ms", (json_int_t)rec.created_ms, "size", (json_int_t)rec.len);
    if (show) {
        if (doc != NULL)
            put_data(doc, rec.data, rec.len);
        gn_ckpt_record_clear(&rec);
        return admin_json(doc);
    }
    /* Restore: no snapshot of this component runs meanwhile; the restored state is marked
     * changed so the next interval stores it as the newest generation. */
    pthread_mutex_lock(&cp->snap_lock);
    int accepted = comp->callbacks.restore(rec.data != NULL ? rec.data : (const uint8_t *)"",
                                           rec.len, rec.generation, comp->callbacks.arg);
    pthread_mutex_unlock(&cp->snap_lock);
    uint64_t restored = rec.generation;
    gn_ckpt_record_clear(&rec);
    gn_component_release(comp);
    if (accepted != GENESIS_OK) {
        json_decref(doc);
        return gn_result_errorf(accepted, GENESIS_REASON_HANDLER_ERROR,
                                "admin checkpoint restore: '%.128s' rejected generation %llu", id,
                                (unsigned long long)restored);
    }
    gn_log(&co->log, GENESIS_LOG_WARN, "component %s restored from generation %llu by an operator",
           id, (unsigned long long)restored);
    genesis_coordinator_checkpoint_mark_dirty(co, id);
    if (doc != NULL)
        json_object_set_new(doc, "restored", json_true());
    return admin_json(doc);
}
