/* Coordinator-side checkpointing: the interval sweep that snapshots changed in-process
 * components, on-demand checkpoints, remote Checkpoint messages, restores, and the one writer
 * thread that owns the store.
 *
 * The checkpointer does not know the coordinator: it reaches the components it checkpoints,
 * the log and the worker pool through a gn_ckpt_host that its owner fills in at open.
 *
 * Store I/O never runs on NNG callback threads or in the request path: every write and every
 * read made for a remote peer goes through a bounded queue to the writer thread, whose
 * completion callbacks send the replies. Synchronous reads (restoring an in-process component)
 * run on the caller's thread under the store lock. */
#ifndef GN_CHECKPOINT_H
#define GN_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "base/worker_pool.h"
#include "genesis/component.h"
#include "genesis/proto/genesis.pb-c.h"
#include "genesis/recovery.h"

typedef struct gn_checkpointer gn_checkpointer;

/* A component of the host, opaque to the checkpointer. lookup and list hand out retained
 * handles; release gives them back. */
typedef struct gn_ckpt_subject gn_ckpt_subject;

/* What the checkpointer reads of a subject (describe fills it; id stays valid while the
 * handle is held). */
typedef struct gn_ckpt_subject_info {
    const char *id;
    bool remote;                        /* a remote peer sends this component's checkpoints */
    bool removed;                       /* unregistered: no snapshot may run any more */
    uint64_t requests;                  /* requests routed so far: a change since a snapshot */
    const genesis_component *callbacks; /* in-process snapshot / restore; NULL when remote */
} gn_ckpt_subject_info;

/* Everything the checkpointer needs from its owner. Copied at open; ctx, log, pool and the
 * strings must outlive the checkpointer. The callbacks are called from any thread. */
typedef struct gn_ckpt_host {
    void *ctx;
    const gn_logger *log;
    gn_pool *pool;          /* runs the interval sweep */
    const char *store_path; /* NULL or "": no durable checkpoints */
    /* A store the host opened itself (cluster mode: a JetStream bucket), taken over by the
     * checkpointer (closed by it, also when gn_checkpoint_open fails); store_path is then only
     * its description. NULL: the SQLite file at store_path. */
    struct gn_ckpt_store *store;
    uint32_t interval_ms; /* 0: GN_DEFAULT_CHECKPOINT_INTERVAL_MS */
    uint32_t generations; /* generations kept per component; 0: GN_DEFAULT_CHECKPOINT_GENERATIONS */
    size_t max_snapshot;  /* largest snapshot accepted (the message size limit) */

    gn_ckpt_subject *(*lookup)(void *ctx, const char *id); /* retained, or NULL */
    size_t (*count)(void *ctx);
    size_t (*list)(void *ctx, gn_ckpt_subject **out, size_t max); /* retained */
    void (*retain)(gn_ckpt_subject *s);
    void (*release)(gn_ckpt_subject *s); /* accepts NULL */
    void (*describe)(gn_ckpt_subject *s, gn_ckpt_subject_info *out);
    /* Queue task on the subject's request lane (so unregistering waits for it like for a
     * handler). GENESIS_UNAVAILABLE when the lane is closed, RESOURCE_EXHAUSTED when full. */
    int (*run_on_lane)(gn_ckpt_subject *s, gn_task *task);
} gn_ckpt_host;
/* Open the store named by the host (none: checkpoints are refused with STORAGE_ERROR but the
 * object exists, so info and status work) and start the writer thread and the interval timer.
 * On failure returns a status and writes a message into why. */
int gn_checkpoint_open(const gn_ckpt_host *host, gn_checkpointer **out, char *why, size_t why_size);

/* Stop the timer, take a last checkpoint of changed components, drain the queue (every
 * pending completion runs) and join the writer. Later submissions are refused at once.
 * Idempotent. Call before the sockets whose replies the completions send are closed. */
void gn_checkpoint_stop(gn_checkpointer *cp);

/* Close the store and free. Accepts NULL. After gn_checkpoint_stop. */
void gn_checkpoint_free(gn_checkpointer *cp);

/* Outcome of a queued write or read; runs exactly once on the writer thread (or inline, before
 * the submit returns, when the job could not be queued). Must not block for long. For a read,
 * data/len/generation describe the newest good checkpoint (generation 0: none). */
typedef void (*gn_ckpt_done_fn)(int status, int reason, const char *why, uint64_t generation,
                                const void *data, size_t len, void *arg);

/* A remote component's Checkpoint: validated (the id must be registered as a remote
 * component), copied and queued; done runs after the commit (or the failure). */
void gn_checkpoint_remote(gn_checkpointer *cp, const Genesis__V1__Checkpoint *ck,
                          gn_ckpt_done_fn done, void *arg);

/* Read the newest good checkpoint of id on the writer thread; done receives it (generation 0
 * when there is none or no store). */
void gn_checkpoint_read(gn_checkpointer *cp, const char *id, gn_ckpt_done_fn done, void *arg);

/* Restore an in-process component from its newest good checkpoint (falling back to older
 * generations when restore rejects one). Runs restore on the calling thread. GENESIS_OK also
 * when there is nothing to restore. Called on registration, and when a component recovers
 * (its breaker closes). Accepts a NULL checkpointer. */
int gn_checkpoint_restore(gn_checkpointer *cp, gn_ckpt_subject *subject);

/* The public calls behind genesis_coordinator_checkpoint_*: status and a message through
 * gn_fail. */
int gn_checkpoint_mark_dirty(gn_checkpointer *cp, const char *id);
int gn_checkpoint_now(gn_checkpointer *cp, const char *id, uint64_t *generation);
int gn_checkpoint_info(gn_checkpointer *cp, const char *id, genesis_checkpoint_info *info);

/* Status report fields (checkpoint_* of a component, and the report's totals). Strings set
 * here are freed by gn_checkpoint_status_clear. Accept a NULL checkpointer. */
void gn_checkpoint_component_status(gn_checkpointer *cp, const char *id,
                                    Genesis__V1__ComponentStatus *cs);
void gn_checkpoint_report_status(gn_checkpointer *cp, Genesis__V1__StatusReport *r);
void gn_checkpoint_status_clear(Genesis__V1__StatusReport *r);

/* The admin command "checkpoint list [ID] | show ID [GEN] | restore ID [GEN]": a JSON result
 * or an error naming what was wrong. Reads the store on the calling thread (an operator
 * command, rare); restore runs the component's restore callback there too. */
struct genesis_result *gn_checkpoint_admin(gn_checkpointer *cp, char **args, size_t n);

#endif /* GN_CHECKPOINT_H */
