/* genesisd's supervisor (see supervisor.h): one thread that starts, reaps and restarts the
 * configured children and checks their health through the coordinator. The child processes
 * themselves are child_process.c's, the restart arithmetic restart_policy.c's, configuration
 * supervisor_config.c's, live changes supervisor_reload.c's and the Admin command
 * supervisor_admin.c's. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "supervisor.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <genesis/cluster.h>

#include "child_process.h"
#include "daemon_log.h"
#include "supervisor_internal.h"

#define HEALTH_PERIOD_MS 50
#define STABLE_RESET_MS  10000 /* a child that ran this long starts a fresh backoff */
#define EVENT_SOURCE     "genesisd"

int64_t sv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void supervisor_options_init(supervisor_options *o)
{
    *o = (supervisor_options){.max_restarts = 5,
                              .window_ms = 10000,
                              .backoff_initial_ms = 100,
                              .backoff_max_ms = 5000,
                              .grace_ms = 3000,
                              .startup_ms = 10000,
                              .hang_ms = 1000};
}

int supervisor_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

supervisor *supervisor_new(genesis_coordinator *co, const supervisor_options *o)
{
    supervisor *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->co = co;
    if (o != NULL)
        s->o = *o;
    else
        supervisor_options_init(&s->o);
    s->sigfd = -1;
    s->wakefd = -1;
    s->fence = (fence){.pid = 0, .fd = -1};
    s->rng = (uint32_t)sv_now_ms() ^ ((uint32_t)getpid() << 16) ^ 0x2545f491u;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

size_t supervisor_count(const supervisor *s)
{
    return s != NULL ? s->n : 0;
}

int sv_fail(char *why, size_t size, const char *fmt, const char *arg)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(why, size, fmt, arg); /* fmt is always a literal with one %s (see callers) */
#pragma GCC diagnostic pop
    return -1;
}

child *sv_find_child(supervisor *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->children[i].id, id) == 0)
            return &s->children[i];
    }
    return NULL;
}

void sv_wake(supervisor *s)
{
    uint64_t one = 1;
    ssize_t ignored = write(s->wakefd, &one, sizeof(one));
    (void)ignored;
}

/* ---- reporting -------------------------------------------------------------------------- */

const char *sv_state_name(int state)
{
    static const char *const names[] = {"STOPPED", "RUNNING", "BACKOFF", "FAILED", "STANDBY"};
    return state >= 0 && state < 5 ? names[state] : "?";
}

void sv_report(supervisor *s, child *c)
{
    genesis_child_report r = {.version = GENESIS_CHILD_REPORT_VERSION,
                              .id = c->id,
                              .state = sv_state_name(c->state),
                              .pid = c->state == ST_RUNNING ? (int)c->pid : 0,
                              .restarts = c->restarts,
                              .last_exit = c->last_exit,
                              .started_ms = c->state == ST_RUNNING ? c->started_ms : 0};
    if (genesis_coordinator_report_child(s->co, &r) != GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "supervisor: cannot report %s: %s", c->id,
                    genesis_last_error());
}

/* backoff_ms: the wait before the restart (supervisor.restarting), or -1. */
static void publish(supervisor *s, const char *type, child *c, long backoff_ms)
{
    char json[560], backoff[40] = "";
    if (backoff_ms >= 0)
        snprintf(backoff, sizeof(backoff), ",\"backoff_ms\":%ld", backoff_ms);
    snprintf(json, sizeof(json),
             "{\"id\":\"%s\",\"state\":\"%s\",\"restarts\":%llu,\"last_exit\":\"%s\"%s}", c->id,
             sv_state_name(c->state), (unsigned long long)c->restarts, c->last_exit, backoff);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.source = EVENT_SOURCE;
    opts.content_type = "application/json";
    opts.criticality = GENESIS_CRITICALITY_CRITICAL;
    if (genesis_coordinator_emit(s->co, type, json, strlen(json), &opts, NULL, NULL) != GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "supervisor: cannot publish %s: %s", type,
                    genesis_last_error());
}

static void schedule_restart(supervisor *s, child *c);

/* The incarnation ended (reason in c->last_exit): restart it with backoff, or give up. */
static void schedule_restart(supervisor *s, child *c)
{
    int64_t now = sv_now_ms();
    bool was_healthy = c->seen_up || (c->started_ms > 0 && now - c->started_ms >= STABLE_RESET_MS);
    c->pid = 0;
    c->failed_starts = was_healthy ? 0 : c->failed_starts + 1;
    /* Restart intensity: restarts within the window so far. */
    unsigned int recent = restart_window_recent(&c->window, now, s->o.window_ms);
    if (recent >= s->o.max_restarts) {
        c->state = ST_FAILED;
        daemon_logf(GENESIS_LOG_ERROR,
                    "supervisor: %s %s; %u restarts within %u ms reached the limit: FAILED, not "
                    "restarted until an operator sends 'supervisor.restart %s'",
                    c->id, c->last_exit, recent, s->o.window_ms, c->id);
        sv_report(s, c);
        publish(s, "supervisor.failed", c, -1);
        if (s->o.cluster) {
            /* Another node may run it: this one gave up on it. */
            genesis_cluster_disown(s->co, c->id);
            c->contending = false;
        }
        return;
    }
    uint32_t delay = supervisor_backoff_ms(c->failed_starts, s->o.backoff_initial_ms,
                                           s->o.backoff_max_ms, restart_jitter_next(&s->rng));
    restart_window_record(&c->window, now);
    c->restarts++;
    c->state = ST_BACKOFF;
    c->next_start_ms = now + delay;
    daemon_logf(GENESIS_LOG_WARN, "supervisor: %s %s; restart %llu in %u ms", c->id, c->last_exit,
                (unsigned long long)c->restarts, delay);
    sv_report(s, c);
    publish(s, "supervisor.restarting", c, (long)delay);
    if (delay == 0)
        sv_start_child(s, c);
}

/* Before the child may exec: the fence guards it from its first instruction on. */
static bool arm_fence(pid_t pid, void *arg)
{
    supervisor *s = arg;
    return fence_arm(&s->fence, pid, s->arming->owned_until);
}

void sv_start_child(supervisor *s, child *c)
{
    char why[256];
    if (s->o.cluster && !sv_may_start(s, c))
        return; /* STANDBY: another node owns it */
    c->seen_up = false;
    c->down_since_ms = 0;
    c->kill_reason[0] = '\0';
    c->started_ms = sv_now_ms();
    /* Before the spawn: every registration numbered above this one is the new process's. */
    c->registrations_before = 0;
    genesis_coordinator_get_registration_seq(s->co, NULL, &c->registrations_before);
    child_command cmd = {
        .id = c->id, .argv = c->argv, .env = c->env, .n_env = c->n_env, .cwd = c->cwd};
    char token_var[64];
    char *env[SV_MAX_ENV + 1];
    if (s->o.cluster) {
        /* The token first: it overrides a GENESIS_FENCING_TOKEN of the configuration. */
        snprintf(token_var, sizeof(token_var), "GENESIS_FENCING_TOKEN=%llu",
                 (unsigned long long)c->token);
        env[0] = token_var;
        for (size_t k = 0; k < c->n_env; k++)
            env[k + 1] = c->env[k];
        cmd.env = env;
        cmd.n_env = c->n_env + 1;
        cmd.before_exec = arm_fence;
        cmd.before_exec_arg = s;
        s->arming = c;
    }
    pid_t pid = child_process_spawn(&cmd, s->front_door, s->event_bus, why, sizeof(why));
    if (pid < 0) {
        snprintf(c->last_exit, sizeof(c->last_exit), "%s", why);
        c->started_ms = 0;
        schedule_restart(s, c);
        return;
    }
    c->pid = pid;
    c->state = ST_RUNNING;
    if (s->o.cluster)
        daemon_logf(GENESIS_LOG_INFO, "supervisor: started %s (pid %ld, fencing token %llu): %s",
                    c->id, (long)pid, (unsigned long long)c->token, c->argv[0]);
    else
        daemon_logf(GENESIS_LOG_INFO, "supervisor: started %s (pid %ld): %s", c->id, (long)pid,
                    c->argv[0]);
    sv_report(s, c);
}

void sv_kill_child(child *c, const char *reason)
{
    if (c->state != ST_RUNNING || c->pid <= 0)
        return;
    snprintf(c->kill_reason, sizeof(c->kill_reason), "%s", reason);
    kill(-c->pid, SIGKILL);
}

/* ---- the supervisor thread -------------------------------------------------------------- */

static void reap(supervisor *s)
{
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        if (c->pid <= 0)
            continue;
        int status;
        pid_t got = waitpid(c->pid, &status, WNOHANG);
        if (got != c->pid)
            continue;
        /* The group may hold grandchildren: they go with it. */
        kill(-c->pid, SIGKILL);
        bool standby = s->o.cluster && sv_ownership_reaped(s, c);
        char how[96];
        child_process_describe_exit(status, how, sizeof(how));
        if (c->kill_reason[0] != '\0')
            snprintf(c->last_exit, sizeof(c->last_exit), "%s (%s)", c->kill_reason, how);
        else
            snprintf(c->last_exit, sizeof(c->last_exit), "%s", how);
        c->state = ST_STOPPED;
        if (standby) {
            c->pid = 0;
            c->state = ST_STANDBY;
            daemon_logf(GENESIS_LOG_WARN, "supervisor: %s %s; STANDBY (another node may own it)",
                        c->id, c->last_exit);
            sv_report(s, c);
            continue;
        }
        if (c->retire) {
            daemon_logf(GENESIS_LOG_INFO, "supervisor: %s stopped (%s)", c->id, c->last_exit);
            sv_report(s, c);
            continue;
        }
        schedule_restart(s, c);
    }
}

/* Whether this incarnation registered itself. The component's health alone cannot say: the
 * instance of a predecessor killed a moment ago counts as up until the coordinator declares
 * it down, and taking that for the new process would start its hang timer before it
 * registered (a slow start, on a loaded machine, was then killed as "stopped heartbeating"). */
static bool registered_itself(supervisor *s, const child *c)
{
    uint64_t latest = 0;
    return genesis_coordinator_get_registration_seq(s->co, c->id, &latest) == GENESIS_OK &&
           latest > c->registrations_before;
}

static void check_health(supervisor *s)
{
    int64_t now = sv_now_ms();
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        if (c->state != ST_RUNNING || c->kill_reason[0] != '\0')
            continue;
        int up = 0;
        int rv = genesis_coordinator_get_component_health(s->co, c->id, &up);
        if (rv == GENESIS_OK && up && (c->seen_up || registered_itself(s, c))) {
            c->seen_up = true;
            c->down_since_ms = 0;
            continue;
        }
        if (c->down_since_ms == 0)
            c->down_since_ms = now;
        if (c->seen_up && now - c->down_since_ms >= (int64_t)s->o.hang_ms) {
            char reason[96];
            snprintf(reason, sizeof(reason), "stopped heartbeating for %lld ms",
                     (long long)(now - c->down_since_ms));
            daemon_logf(GENESIS_LOG_WARN, "supervisor: %s (pid %ld) %s: killing it", c->id,
                        (long)c->pid, reason);
            sv_kill_child(c, reason);
        } else if (!c->seen_up && now - c->started_ms >= (int64_t)s->o.startup_ms) {
            char reason[96];
            snprintf(reason, sizeof(reason), "did not register within %u ms", s->o.startup_ms);
            daemon_logf(GENESIS_LOG_WARN, "supervisor: %s (pid %ld) %s: killing it", c->id,
                        (long)c->pid, reason);
            sv_kill_child(c, reason);
        }
    }
}

static void handle_operator_requests(supervisor *s)
{
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        pthread_mutex_lock(&s->lock);
        bool asked = c->operator_restart;
        c->operator_restart = false;
        pthread_mutex_unlock(&s->lock);
        if (!asked)
            continue;
        daemon_logf(GENESIS_LOG_WARN, "supervisor: operator restart of %s (was %s)", c->id,
                    sv_state_name(c->state));
        restart_window_reset(&c->window); /* a fresh intensity window */
        c->failed_starts = 0;
        if (s->o.cluster && !c->contending)
            c->contending = genesis_cluster_own(s->co, c->id, s->o.owner_ttl_ms) == GENESIS_OK;
        if (c->state == ST_RUNNING) {
            sv_kill_child(c, "restarted by the operator");
        } else {
            c->restarts++;
            sv_start_child(s, c);
        }
    }
}

void sv_child_free(child *c)
{
    for (size_t k = 0; c->argv[k] != NULL; k++)
        free(c->argv[k]);
    for (size_t k = 0; k < c->n_env; k++)
        free(c->env[k]);
    free(c->cwd);
    restart_window_free(&c->window);
}
static int next_timeout(supervisor *s)
{
    int64_t now = sv_now_ms();
    int64_t wait = HEALTH_PERIOD_MS;
    for (size_t i = 0; i < s->n; i++) {
        const child *c = &s->children[i];
        if (c->state == ST_BACKOFF && c->next_start_ms - now < wait)
            wait = c->next_start_ms - now;
    }
    return wait < 0 ? 0 : (int)wait;
}

static void drain_fd(int fd)
{
    char buf[sizeof(struct signalfd_siginfo) * 8];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

static bool any_running(const supervisor *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->children[i].pid > 0)
            return true;
    }
    return false;
}

/* Stop: SIGTERM every group, SIGKILL what is left after the grace period, reap all. */
static void terminate_all(supervisor *s)
{
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        if (c->pid > 0)
            kill(-c->pid, SIGTERM);
    }
    int64_t deadline = sv_now_ms() + s->o.grace_ms;
    bool killed = false;
    while (any_running(s)) {
        for (size_t i = 0; i < s->n; i++) {
            child *c = &s->children[i];
            int status;
            if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == c->pid) {
                kill(-c->pid, SIGKILL);
                if (s->o.cluster)
                    sv_ownership_reaped(s, c);
                child_process_describe_exit(status, c->last_exit, sizeof(c->last_exit));
                c->pid = 0;
                c->state = ST_STOPPED;
                sv_report(s, c);
            }
        }
        if (!killed && sv_now_ms() >= deadline) {
            for (size_t i = 0; i < s->n; i++) {
                if (s->children[i].pid > 0) {
                    daemon_logf(GENESIS_LOG_WARN,
                                "supervisor: %s did not stop within %u ms: SIGKILL",
                                s->children[i].id, s->o.grace_ms);
                    kill(-s->children[i].pid, SIGKILL);
                }
            }
            killed = true;
        }
        struct pollfd p = {.fd = s->sigfd, .events = POLLIN};
        poll(&p, 1, 10);
        drain_fd(s->sigfd);
    }
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        if (c->state != ST_STOPPED) {
            c->state = ST_STOPPED;
            sv_report(s, c);
        }
    }
}

static void *supervisor_main(void *arg)
{
    supervisor *s = arg;
    for (size_t i = 0; i < s->n; i++)
        sv_start_child(s, &s->children[i]);
    for (;;) {
        struct pollfd fds[2] = {{.fd = s->sigfd, .events = POLLIN},
                                {.fd = s->wakefd, .events = POLLIN}};
        poll(fds, 2, next_timeout(s));
        drain_fd(s->sigfd);
        drain_fd(s->wakefd);
        pthread_mutex_lock(&s->lock);
        bool stopping = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stopping)
            break;
        reap(s);
        sv_apply_reload_changes(s);
        handle_operator_requests(s);
        int64_t now = sv_now_ms();
        for (size_t i = 0; i < s->n; i++) {
            child *c = &s->children[i];
            if (c->state == ST_BACKOFF && now >= c->next_start_ms)
                sv_start_child(s, c);
        }
        if (s->o.cluster)
            sv_ownership_check(s);
        check_health(s);
    }
    terminate_all(s);
    if (s->o.cluster)
        sv_ownership_stop(s); /* after the children stopped: others may run them at once */
    return NULL;
}
/* ---- lifecycle -------------------------------------------------------------------------- */

int supervisor_start(supervisor *s, const char *front_door_url, const char *event_bus_url,
                     char *why, size_t size)
{
    snprintf(s->front_door, sizeof(s->front_door), "%s", front_door_url);
    snprintf(s->event_bus, sizeof(s->event_bus), "%s", event_bus_url ? event_bus_url : "");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->sigfd < 0 || s->wakefd < 0)
        return sv_fail(why, size, "signalfd/eventfd: %s", strerror(errno));
    for (size_t i = 0; i < s->n; i++)
        sv_report(s, &s->children[i]);
    if (s->o.cluster && sv_ownership_start(s, why, size) != 0)
        return -1;
    if (genesis_coordinator_set_admin_handler(s->co, SV_ADMIN_PREFIX, sv_on_admin, s) != GENESIS_OK)
        return sv_fail(why, size, "admin handler: %s", genesis_last_error());
    if (pthread_create(&s->thread, NULL, supervisor_main, s) != 0) {
        genesis_coordinator_set_admin_handler(s->co, SV_ADMIN_PREFIX, NULL, NULL);
        return sv_fail(why, size, "%s", "cannot start the supervisor thread");
    }
    s->started = true;
    return 0;
}

void supervisor_stop(supervisor *s)
{
    if (s == NULL || !s->started || s->joined)
        return;
    genesis_coordinator_set_admin_handler(s->co, SV_ADMIN_PREFIX, NULL, NULL);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_mutex_unlock(&s->lock);
    sv_wake(s);
    pthread_join(s->thread, NULL);
    s->joined = true;
}

void supervisor_free(supervisor *s)
{
    if (s == NULL)
        return;
    supervisor_stop(s);
    for (size_t i = 0; i < s->n; i++)
        sv_child_free(&s->children[i]);
    for (size_t k = 0; k < s->n_pending; k++) {
        sv_child_free(s->pending[k]);
        free(s->pending[k]);
    }
    if (s->sigfd >= 0)
        close(s->sigfd);
    if (s->wakefd >= 0)
        close(s->wakefd);
    fence_stop(&s->fence); /* a start that failed after forking it */
    pthread_mutex_destroy(&s->lock);
    free(s);
}
