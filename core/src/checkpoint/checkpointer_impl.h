/* The checkpointer's internal state, shared by the files that implement it: checkpointer.c
 * (lifecycle), checkpoint_writer.c (the queue and the writer thread), checkpoint_sweep.c
 * (snapshots and the interval sweep), checkpoint_restore.c, checkpoint_status.c (per-component
 * bookkeeping, info and status) and checkpoint_admin.c (operator commands). */
#ifndef GN_CHECKPOINTER_IMPL_H
#define GN_CHECKPOINTER_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#include "base/fifo.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_store.h"

#define GN_CKPT_MAX_QUEUED_JOBS 256u

enum { GN_CKPT_JOB_PUT = 0, GN_CKPT_JOB_READ = 1 };

/* A write or read for the writer thread. */
typedef struct gn_ckpt_job {
    gn_fifo_link link;
    int kind;
    char *id;
    uint8_t *data;
    size_t len;
    gn_ckpt_done_fn done;
    void *arg;
} gn_ckpt_job;

/* What is known about one component id. */
typedef struct gn_ckpt_info {
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
} gn_ckpt_info;

struct gn_checkpointer {
    gn_ckpt_host host;
    gn_ckpt_store *store; /* NULL: no durable checkpoints */
    char *path;
    uint32_t interval_ms;

    pthread_mutex_t store_lock; /* one user of the store at a time */
    pthread_mutex_t snap_lock;  /* snapshot and restore callbacks never overlap */

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cv;    /* queue changed / sweep finished */
    gn_fifo jobs;         /* of gn_ckpt_job */
    bool closing;
    bool writer_started;
    pthread_t writer;
    gn_ckpt_info *infos;
    size_t n_infos, cap_infos;
    uint64_t n_written, n_failures, n_corrupt;

    nng_aio *timer;
    gn_task sweep_task;
    bool sweeping;
    bool stopped;
};

/* ---- bookkeeping (checkpoint_status.c) ---- */

/* The entry for id, created when create is set (NULL when out of memory). cp->lock held. */
gn_ckpt_info *gn_ckpt_info_find(gn_checkpointer *cp, const char *id, bool create);
/* Account the outcome of a snapshot or write of id, and clear its busy mark. */
void gn_ckpt_record_outcome(gn_checkpointer *cp, const char *id, int status, int reason,
                            const char *why, uint64_t generation, size_t len);
/* gn_ckpt_list_fn seeding the entries from the store at open (arg: the checkpointer). */
void gn_ckpt_seed_info(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                       void *arg);

/* ---- the writer (checkpoint_writer.c) ---- */

/* A job for id; data is taken over (PUT) or NULL (READ). NULL when out of memory. */
gn_ckpt_job *gn_ckpt_job_new(int kind, const char *id, uint8_t *data, size_t len,
                             gn_ckpt_done_fn done, void *arg);
/* Queue a job (taking ownership of it). When it cannot be queued, done runs now. */
void gn_ckpt_submit(gn_checkpointer *cp, gn_ckpt_job *job);
/* The writer thread's body (arg: the checkpointer). */
void *gn_ckpt_writer_main(void *arg);
/* Newest good generation of id older than older_than (0: any), skipping (and counting, and
 * logging) corrupt ones. Caller holds store_lock. */
int gn_ckpt_read_latest(gn_checkpointer *cp, const char *id, uint64_t older_than,
                        gn_ckpt_record *rec, gn_ckpt_error *err);

/* ---- snapshots (checkpoint_sweep.c) ---- */

/* Snapshot every in-process component that changed since its last snapshot. */
void gn_ckpt_sweep(gn_checkpointer *cp);
/* The interval timer's callback (arg: the checkpointer), and the sweep task's functions. */
void gn_ckpt_tick(void *arg);
void gn_ckpt_sweep_run(gn_task *task);
void gn_ckpt_sweep_finish(gn_task *task);

/* ---- helpers ---- */

static inline gn_ckpt_subject_info gn_ckpt_describe(const gn_checkpointer *cp, gn_ckpt_subject *s)
{
    gn_ckpt_subject_info info = {0};
    cp->host.describe(s, &info);
    return info;
}

/* An in-process subject with snapshot and restore callbacks (version 2). */
static inline bool gn_ckpt_can_snapshot(const gn_ckpt_subject_info *in)
{
    return !in->remote && in->callbacks != NULL && in->callbacks->version >= 2 &&
           in->callbacks->snapshot != NULL;
}
static inline bool gn_ckpt_can_restore(const gn_ckpt_subject_info *in)
{
    return !in->remote && in->callbacks != NULL && in->callbacks->version >= 2 &&
           in->callbacks->restore != NULL;
}

#endif /* GN_CHECKPOINTER_IMPL_H */
