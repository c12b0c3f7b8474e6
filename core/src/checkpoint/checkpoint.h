/* Coordinator-side checkpointing: the interval sweep that snapshots changed in-process
 * components, on-demand checkpoints, remote Checkpoint messages, restores, and the one writer
 * thread that owns the store.
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

#include "genesis/coordinator.h"
#include "genesis/proto/genesis.pb-c.h"

struct genesis_coordinator;
struct gn_component;
typedef struct gn_checkpointer gn_checkpointer;

/* Copy a caller's genesis_component by its version: a version 1 struct is shorter, and the
 * fields it lacks are zeroed. */
void gn_component_copy(genesis_component *dst, const genesis_component *src);

/* Open the store named in the coordinator's options (none: checkpoints are refused with
 * STORAGE_ERROR but the object exists, so info and status work) and start the writer thread
 * and the interval timer. On failure returns a status and writes a message into why. */
int gn_checkpoint_open(struct genesis_coordinator *co, gn_checkpointer **out, char *why,
                       size_t why_size);

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
void gn_checkpoint_remote(struct genesis_coordinator *co, const Genesis__V1__Checkpoint *ck,
                          gn_ckpt_done_fn done, void *arg);

/* Read the newest good checkpoint of id on the writer thread; done receives it (generation 0
 * when there is none or no store). */
void gn_checkpoint_read(struct genesis_coordinator *co, const char *id, gn_ckpt_done_fn done,
                        void *arg);

/* Restore an in-process component from its newest good checkpoint (falling back to older
 * generations when restore rejects one). Runs restore on the calling thread. GENESIS_OK also
 * when there is nothing to restore. Called on registration; the resilience engine calls it
 * when a component recovers (its breaker closes). */
int gn_checkpoint_restore_component(struct genesis_coordinator *co, struct gn_component *comp);

/* Status report fields (checkpoint_* of a component, and the report's totals). Strings set
 * here are freed by gn_checkpoint_status_clear. */
void gn_checkpoint_component_status(struct genesis_coordinator *co, const char *id,
                                    Genesis__V1__ComponentStatus *cs);
void gn_checkpoint_report_status(struct genesis_coordinator *co, Genesis__V1__StatusReport *r);
void gn_checkpoint_status_clear(Genesis__V1__StatusReport *r);

/* The admin command "checkpoint list [ID] | show ID [GEN] | restore ID [GEN]": a JSON result
 * or an error naming what was wrong. Reads the store on the calling thread (an operator
 * command, rare); restore runs the component's restore callback there too. */
struct genesis_result *gn_checkpoint_admin(struct genesis_coordinator *co, char **args, size_t n);

#endif /* GN_CHECKPOINT_H */
