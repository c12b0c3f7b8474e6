/* Recovery: durable checkpoints of component state, and the hooks a supervisor (genesisd)
 * uses to report the processes it restarts and to take operator commands.
 *
 * Checkpoints need a store: genesis_coordinator_options.checkpoint_store (a SQLite file in WAL
 * mode with synchronous=FULL). Every checkpoint is a new generation of the component's state;
 * the newest `checkpoint_generations` are kept, each with a CRC-32 that is verified on read
 * (a corrupt generation is skipped loudly and the previous good one used).
 *
 * In-process components hand over state through their snapshot callback: the coordinator calls
 * it every checkpoint_interval_ms for each component that changed since its last checkpoint
 * (it served a request, or genesis_coordinator_checkpoint_mark_dirty was called), and on demand
 * (genesis_coordinator_checkpoint_now). They get it back through restore when they register
 * (also after a coordinator restart with the same store). Remote components use
 * genesis_service_checkpoint (genesis/service.h) and get the latest state back when they
 * register.
 *
 * Threading: every function may be called from any thread except where noted. */
#ifndef GENESIS_RECOVERY_H
#define GENESIS_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/coordinator.h"
#include "genesis/export.h"
#include "genesis/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tell the coordinator that component id's state changed outside a request (a timer, an
 * event), so the next interval checkpoints it. Cheap; never blocks. GENESIS_NOT_FOUND when no
 * in-process component has that id. */
GENESIS_API int genesis_coordinator_checkpoint_mark_dirty(genesis_coordinator *c, const char *id);

/* Snapshot component id now and wait until the state is durable (committed and synced).
 * *generation (may be NULL) receives the stored generation. Must not be called from any of
 * the component's own callbacks (the snapshot runs on the component's request lane, behind
 * them). Errors: NOT_FOUND (no such in-process component),
 * FAILED_PRECONDITION (no snapshot callback, or no store: reason STORAGE_ERROR),
 * RESOURCE_EXHAUSTED with reason STORAGE_FULL (disk full: the previous generation is kept),
 * UNAVAILABLE with reason STORAGE_ERROR (I/O error), or the snapshot callback's own status. */
GENESIS_API int genesis_coordinator_checkpoint_now(genesis_coordinator *c, const char *id,
                                                   uint64_t *generation);

#define GENESIS_CHECKPOINT_INFO_VERSION 1

/* What the coordinator knows about a component's checkpoints. */
typedef struct genesis_checkpoint_info {
    unsigned int version; /* set by the caller: GENESIS_CHECKPOINT_INFO_VERSION */
    uint64_t generation;  /* newest durable generation, 0 = none */
    uint64_t size;        /* its size in bytes */
    int64_t age_ms;       /* since it was written; -1 when there is none */
    uint64_t written;     /* checkpoints written by this coordinator */
    uint64_t failures;    /* writes that failed */
    int last_reason;      /* genesis_reason of the last failure, NONE if none */
} genesis_checkpoint_info;

/* Fill *info for component id (in-process or remote; also for ids with stored generations
 * that are not registered now). GENESIS_NOT_FOUND when nothing is known about id. */
GENESIS_API int genesis_coordinator_get_checkpoint_info(genesis_coordinator *c, const char *id,
                                                        genesis_checkpoint_info *info);

/* Whether component id can serve: *up receives 1 when it is registered and healthy (remote:
 * at least one live, heartbeating instance), else 0. GENESIS_NOT_FOUND when id is not
 * registered. A supervisor uses it to detect a process that runs but stopped heartbeating. */
GENESIS_API int genesis_coordinator_get_component_health(genesis_coordinator *c, const char *id,
                                                         int *up);

/* Registrations of remote instances are numbered 1, 2, ... by the coordinator. With id NULL,
 * *seq receives the number of the latest registration of any component (0: none yet); with an
 * id, that of the latest accepted registration of one of its instances (0: an in-process
 * component). GENESIS_NOT_FOUND when id is not registered. Thread-safe. A supervisor reads
 * the first before it starts a process and compares the second with it: only a larger number
 * is the new process's own registration, so a predecessor's instance that is not declared
 * down yet cannot pass for the new process being up. */
GENESIS_API int genesis_coordinator_get_registration_seq(genesis_coordinator *c, const char *id,
                                                         uint64_t *seq);

/* ---- operator commands and supervised processes ---------------------------------------- */

/* An Admin command handler. command and args are borrowed for the call. Fill reply with
 * genesis_reply_set (OK) or genesis_reply_error; the caller of the Admin envelope receives it.
 * Runs on one of the coordinator's worker threads, never on NNG's (two admin commands at a
 * time; more wait, 64 at most): it may block briefly (read a file, reload a configuration). */
typedef void (*genesis_admin_fn)(const char *command, const char *const *args, size_t nargs,
                                 genesis_reply *reply, void *arg);

/* Route Admin envelopes whose command starts with prefix (e.g. "supervisor.") to fn. One
 * handler per prefix (at most 8 prefixes); fn NULL removes it. prefix is copied; arg must stay
 * valid until the handler is removed or the coordinator is freed. Commands the coordinator
 * handles itself are never routed here. */
GENESIS_API int genesis_coordinator_set_admin_handler(genesis_coordinator *c, const char *prefix,
                                                      genesis_admin_fn fn, void *arg);

#define GENESIS_CHILD_REPORT_VERSION 1

/* A supervised process as a supervisor reports it, for the status report. */
typedef struct genesis_child_report {
    unsigned int version;  /* GENESIS_CHILD_REPORT_VERSION */
    const char *id;        /* the component id it serves */
    const char *state;     /* "STARTING", "RUNNING", "BACKOFF", "FAILED", "STOPPED",
                              "STANDBY" (genesisd in a cluster: another node owns it) */
    int pid;               /* 0 when not running */
    uint64_t restarts;     /* since the supervisor started */
    const char *last_exit; /* why the previous incarnation ended; may be NULL */
    int64_t started_ms;    /* gn clock of the current incarnation's start (monotonic ms,
                              CLOCK_MONOTONIC); 0 when not running */
} genesis_child_report;

/* Record (or replace) the report for report->id; strings are copied. Shown in the status
 * report under "supervised". */
GENESIS_API int genesis_coordinator_report_child(genesis_coordinator *c,
                                                 const genesis_child_report *report);

/* ---- Deprecated names ------------------------------------------------------------------- */
/* Old names of the functions above, still exported and behaving the same, so existing
 * binaries and sources keep working; new code uses the name in the message. */
GENESIS_API int genesis_coordinator_checkpoint_info(genesis_coordinator *c, const char *id,
                                                    genesis_checkpoint_info *info)
    GENESIS_DEPRECATED("use genesis_coordinator_get_checkpoint_info");
GENESIS_API int genesis_coordinator_component_health(genesis_coordinator *c, const char *id,
                                                     int *up)
    GENESIS_DEPRECATED("use genesis_coordinator_get_component_health");

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_RECOVERY_H */
