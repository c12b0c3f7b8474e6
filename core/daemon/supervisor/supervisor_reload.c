/* Live changes to the supervised children by a configuration reload: a child staged on a
 * supervisor that never started is adopted, a removed child is retired (stopped for good and
 * dropped). The supervisor thread applies both (see supervisor.h). */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/cluster.h>

#include "daemon_log.h"
#include "supervisor_internal.h"

/* Children a reload removed: kill the running ones (reap reports them), drop the stopped ones.
 * Children it added: start them. Runs on the supervisor thread. */
void sv_apply_reload_changes(supervisor *s)
{
    /* Reports go out after the lock is released: sv_report() takes the coordinator's admin-hook
     * lock, which on_admin holds while it takes ours. */
    child *dropped = NULL;
    size_t n_dropped = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n;) {
        child *c = &s->children[i];
        if (!c->retire) {
            i++;
            continue;
        }
        if (c->pid > 0) {
            if (c->retire_ms > 0 && sv_now_ms() - c->retire_ms >= (int64_t)s->o.grace_ms) {
                daemon_logf(GENESIS_LOG_WARN, "supervisor: %s did not stop within %u ms: SIGKILL",
                            c->id, s->o.grace_ms);
                kill(-c->pid, SIGKILL);
                c->retire_ms = -1; /* once */
            } else if (c->kill_reason[0] == '\0') {
                daemon_logf(GENESIS_LOG_INFO,
                            "supervisor: stopping %s (pid %ld): removed from "
                            "the configuration",
                            c->id, (long)c->pid);
                snprintf(c->kill_reason, sizeof(c->kill_reason), "removed from the configuration");
                kill(-c->pid, SIGTERM);
                c->retire_ms = sv_now_ms();
            }
            i++;
            continue;
        }
        c->state = ST_STOPPED;
        if (dropped == NULL)
            dropped = malloc(s->n * sizeof(*dropped));
        if (dropped != NULL)
            dropped[n_dropped++] = *c;
        else
            sv_child_free(c); /* out of memory: dropped without a last report */
        s->children[i] = s->children[--s->n];
    }
    size_t first_new = s->n;
    for (size_t k = 0; k < s->n_pending && s->n < SV_MAX_CHILDREN; k++) {
        s->children[s->n++] = *s->pending[k];
        free(s->pending[k]);
    }
    s->n_pending = 0;
    pthread_mutex_unlock(&s->lock);
    for (size_t k = 0; k < n_dropped; k++) {
        if (s->o.cluster && dropped[k].contending)
            genesis_cluster_disown(s->co, dropped[k].id); /* stopped: nobody runs it now */
        sv_report(s, &dropped[k]);
        sv_child_free(&dropped[k]);
    }
    free(dropped);
    for (size_t i = first_new; i < s->n; i++) {
        sv_report(s, &s->children[i]);
        sv_start_child(s, &s->children[i]);
    }
}

int supervisor_adopt(supervisor *s, supervisor *staged, const char *id, char *why, size_t size)
{
    child *c = sv_find_child(staged, id);
    if (c == NULL)
        return sv_fail(why, size, "'%s' is not in the new configuration", id);
    child *copy = malloc(sizeof(*copy));
    if (copy == NULL)
        return sv_fail(why, size, "%s", "out of memory");
    pthread_mutex_lock(&s->lock);
    bool taken = sv_find_child(s, id) != NULL && !sv_find_child(s, id)->retire;
    for (size_t k = 0; k < s->n_pending; k++)
        taken = taken || strcmp(s->pending[k]->id, id) == 0;
    bool full = s->n + s->n_pending >= SV_MAX_CHILDREN;
    if (!taken && !full) {
        *copy = *c;
        s->pending[s->n_pending++] = copy;
        /* The staged supervisor no longer owns the strings. */
        *c = staged->children[--staged->n];
    }
    pthread_mutex_unlock(&s->lock);
    if (taken || full) {
        free(copy);
        return sv_fail(why, size,
                       taken ? "'%s' is supervised already" : "too many children for '%s'", id);
    }
    sv_wake(s);
    return 0;
}

int supervisor_retire(supervisor *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    child *c = sv_find_child(s, id);
    if (c != NULL)
        c->retire = true;
    pthread_mutex_unlock(&s->lock);
    if (c == NULL)
        return -1;
    sv_wake(s);
    return 0;
}
