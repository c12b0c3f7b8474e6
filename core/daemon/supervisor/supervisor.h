/* genesisd's supervisor: launches the remote components it is configured with, restarts them
 * when they exit or stop heartbeating (jittered exponential backoff, OTP-style restart
 * intensity: more than R restarts in T seconds marks the child FAILED, publishes
 * "supervisor.failed" and stops restarting it until an operator sends the Admin command
 * "supervisor.restart <id>"), and terminates them on stop (SIGTERM, then SIGKILL after a
 * grace period).
 *
 * One supervisor thread owns every child: it forks, reaps (SIGCHLD through a signalfd) and
 * restarts, so restarts never pile up threads or processes. Each child runs in its own process
 * group (signals reach its own children too) and dies with the supervisor (PR_SET_PDEATHSIG),
 * so a restarted genesisd never finds the previous one's children still serving.
 *
 * Children get GENESIS_FRONT_DOOR, GENESIS_EVENT_BUS and GENESIS_COMPONENT_ID in their
 * environment (in cluster mode also GENESIS_FENCING_TOKEN: the token of the ownership they run
 * under, see supervisor_ownership.c); their stdout and stderr go to genesisd's stderr (its log), so
 * genesisd's stdout keeps carrying nothing but its "ready" line. */
#ifndef GENESISD_SUPERVISOR_H
#define GENESISD_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <genesis/genesis.h>

typedef struct supervisor supervisor;

typedef struct supervisor_options {
    unsigned int max_restarts;   /* R: restarts allowed within the window; default 5 */
    uint32_t window_ms;          /* T; default 10000 */
    uint32_t backoff_initial_ms; /* first delay bound of a crash loop; default 100 */
    uint32_t backoff_max_ms;     /* cap; default 5000 */
    uint32_t grace_ms;           /* SIGTERM -> SIGKILL on stop; default 3000 */
    uint32_t startup_ms;         /* a child must register within this; default 10000 */
    uint32_t hang_ms;            /* a registered child DOWN this long is killed; default 1000 */
    /* Cluster mode (docs/cluster.md): run each child only while this node owns it
     * (genesis_cluster_own on the coordinator, which must be clustered); a child this node
     * does not own is STANDBY. owner_ttl_ms: the ownership lease TTL, 0 = the node lease TTL.
     * false: no ownership, no NATS (the default). */
    bool cluster;
    uint32_t owner_ttl_ms;
} supervisor_options;

void supervisor_options_init(supervisor_options *o);

/* Block SIGCHLD in the calling thread (call in main before any thread starts, so every thread
 * inherits the mask and the supervisor's signalfd receives it). */
int supervisor_block_signals(void);

supervisor *supervisor_new(genesis_coordinator *co, const supervisor_options *o);

/* Configuration, before supervisor_start. Each returns 0, or -1 with a message in why.
 *   spec "ID=COMMAND ARGS..."  command line split on blanks; '...' and "..." quote, \ escapes;
 *                              no other shell syntax. COMMAND without '/' is looked up in PATH.
 *   env  "ID=KEY=VALUE"        extra environment for that child (repeatable)
 *   cwd  "ID=DIR"              working directory of that child */
int supervisor_add(supervisor *s, const char *spec, char *why, size_t why_size);
int supervisor_add_env(supervisor *s, const char *spec, char *why, size_t why_size);
int supervisor_set_cwd(supervisor *s, const char *spec, char *why, size_t why_size);

/* Number of configured children. */
size_t supervisor_count(const supervisor *s);

/* Launch every child and start supervising. The URLs are passed to the children. Also
 * registers the "supervisor." Admin handler with the coordinator. */
int supervisor_start(supervisor *s, const char *front_door_url, const char *event_bus_url,
                     char *why, size_t why_size);

/* Live changes by a configuration reload, after supervisor_start, from any thread (one
 * reloader at a time). supervisor_adopt moves child id, configured and validated on staged
 * (a supervisor that was never started), into s: the supervisor thread starts it. Fails when s
 * supervises id already (retire it first) or is full. supervisor_retire stops child id for
 * good (SIGTERM; it is not restarted) and drops it; -1 when s has no such child. */
int supervisor_adopt(supervisor *s, supervisor *staged, const char *id, char *why, size_t why_size);
int supervisor_retire(supervisor *s, const char *id);

/* Terminate every child (SIGTERM, SIGKILL after the grace period), reap them and join the
 * thread. Idempotent. */
void supervisor_stop(supervisor *s);

/* Stop (if needed) and free. Accepts NULL. */
void supervisor_free(supervisor *s);

/* The delay before restart number `attempt` (0-based count of consecutive failed starts):
 * full jitter, random(0, min(max, initial * 2^attempt)), from a 32-bit random value. Pure, for
 * tests. */
uint32_t supervisor_backoff_ms(unsigned int attempt, uint32_t initial_ms, uint32_t max_ms,
                               uint32_t random);

#endif /* GENESISD_SUPERVISOR_H */
