/* Cluster mode of the supervisor: every node has the same children, and each child runs only
 * on the node that owns it (genesis_cluster_own: a lease in the cluster's owners bucket). A
 * child this node does not own is STANDBY; when the owning node stops renewing its lease
 * (killed, paused, cut off from NATS) the lease expires and another node takes it and starts
 * the child. The child sees the ownership's fencing token in GENESIS_FENCING_TOKEN.
 *
 * Two rules keep two nodes from running a child at once: a child starts only while the
 * ownership is valid (genesis_cluster_owner's deadline, which ends a margin before the lease
 * can expire on the servers), and it is killed by that deadline: by this thread when it sees
 * the ownership end, and by the fence process (fence.h) when this thread cannot (genesisd
 * paused or too slow). All on the supervisor thread. */
#include <stdio.h>
#include <string.h>

#include <genesis/cluster.h>

#include "daemon_log.h"
#include "supervisor_internal.h"

static void contend(supervisor *s, child *c)
{
    if (c->contending || c->state == ST_FAILED || c->retire)
        return;
    int rv = genesis_cluster_own(s->co, c->id, s->o.owner_ttl_ms);
    c->contending = rv == GENESIS_OK;
    if (rv != GENESIS_OK)
        daemon_logf(GENESIS_LOG_ERROR, "supervisor: cannot contend for %s: %s (%s); retrying",
                    c->id, genesis_last_error(), genesis_status_name(rv));
}

int sv_ownership_start(supervisor *s, char *why, size_t why_size)
{
    if (fence_start(&s->fence, why, why_size) != 0)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        contend(s, &s->children[i]);
    return 0;
}

bool sv_may_start(supervisor *s, child *c)
{
    uint64_t token = 0;
    int64_t until = 0;
    contend(s, c);
    if (c->contending)
        genesis_cluster_owner(s->co, c->id, &token, &until);
    /* The fence counts on the same clock; a start needs some validity left. */
    if (token != 0 && until > fence_now_ms() && s->fence.fd >= 0) {
        c->token = token;
        c->owned_until = until;
        return true;
    }
    if (c->state != ST_STANDBY) {
        c->state = ST_STANDBY;
        c->pid = 0;
        sv_report(s, c);
    }
    return false;
}

bool sv_ownership_reaped(supervisor *s, child *c)
{
    fence_arm(&s->fence, c->pid, 0);
    uint64_t token = 0;
    int64_t until = 0;
    genesis_cluster_owner(s->co, c->id, &token, &until);
    /* Also when the fence killed it (this thread was paused past the deadline). */
    bool lost = c->owner_lost || token == 0 || token != c->token;
    c->owner_lost = false;
    return lost;
}

/* The fence died (killed by someone): nothing would stop a paused genesisd's children in time,
 * so stop them now and start a new fence. */
static void replace_fence(supervisor *s)
{
    daemon_logf(GENESIS_LOG_ERROR,
                "supervisor: the fence process died; stopping the children it guarded");
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        if (c->state == ST_RUNNING && c->kill_reason[0] == '\0') {
            c->owner_lost = !c->retire;
            sv_kill_child(c, "the fence process died");
        }
    }
    char why[256];
    if (fence_start(&s->fence, why, sizeof(why)) != 0)
        daemon_logf(GENESIS_LOG_ERROR, "supervisor: %s; children stay STANDBY", why);
}

void sv_ownership_check(supervisor *s)
{
    if (fence_died(&s->fence))
        replace_fence(s);
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        if (c->retire)
            continue;
        contend(s, c);
        uint64_t token = 0;
        int64_t until = 0;
        if (c->contending)
            genesis_cluster_owner(s->co, c->id, &token, &until);
        switch (c->state) {
        case ST_RUNNING:
            if (c->kill_reason[0] != '\0')
                break; /* being killed already */
            if (token == 0 || token != c->token) {
                daemon_logf(GENESIS_LOG_WARN,
                            "supervisor: %s (pid %ld): ownership (fencing token %llu) ended: "
                            "killing it",
                            c->id, (long)c->pid, (unsigned long long)c->token);
                c->owner_lost = true;
                sv_kill_child(c, "ownership lost");
            } else if (until != c->owned_until && fence_arm(&s->fence, c->pid, until)) {
                c->owned_until = until;
            }
            break;
        case ST_BACKOFF:
            if (token == 0) {
                c->state = ST_STANDBY;
                sv_report(s, c);
            }
            break;
        case ST_STANDBY:
            if (token != 0) {
                restart_window_reset(&c->window); /* a new ownership: a fresh start */
                c->failed_starts = 0;
                sv_start_child(s, c);
            }
            break;
        default:
            break;
        }
    }
}

void sv_ownership_stop(supervisor *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->children[i].contending)
            genesis_cluster_disown(s->co, s->children[i].id);
        s->children[i].contending = false;
    }
    fence_stop(&s->fence);
}
