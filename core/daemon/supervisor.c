/* genesisd's supervisor (see supervisor.h): one thread that forks, reaps and restarts the
 * configured children, checks their health through the coordinator, and answers the
 * "supervisor.restart" Admin command. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_log.h"

extern char **environ;

#define MAX_CHILDREN     64
#define MAX_ARGS         64
#define MAX_ENV          64
#define MAX_ID_LEN       128
#define HEALTH_PERIOD_MS 50
#define STABLE_RESET_MS  10000 /* a child that ran this long starts a fresh backoff */
#define ADMIN_PREFIX     "supervisor."
#define EVENT_SOURCE     "genesisd"

enum child_state { ST_STOPPED = 0, ST_RUNNING, ST_BACKOFF, ST_FAILED };

static const char *const state_names[] = {"STOPPED", "RUNNING", "BACKOFF", "FAILED"};

typedef struct child {
    char id[MAX_ID_LEN + 1];
    char *argv[MAX_ARGS + 1];
    char *env[MAX_ENV];
    size_t n_env;
    char *cwd;

    int state;
    pid_t pid;
    int64_t started_ms;
    bool seen_up;               /* this incarnation registered (was healthy once) */
    int64_t down_since_ms;      /* 0 = healthy (or not yet seen) */
    char kill_reason[128];      /* set when the supervisor killed it: overrides the wait status */
    int64_t next_start_ms;      /* BACKOFF: when to start */
    unsigned int failed_starts; /* consecutive incarnations that never became healthy */
    int64_t *restart_times;     /* ring of the last max_restarts restart times (intensity) */
    unsigned int ring_size;
    unsigned int n_restart_times;
    uint64_t restarts;
    char last_exit[300];
    bool operator_restart; /* Admin asked for a restart */
    bool retire;           /* a reload removed it: stop it and drop it, never restart */
    int64_t retire_ms;     /* when it was sent SIGTERM for that (SIGKILL after grace_ms) */
} child;

struct supervisor {
    genesis_coordinator *co;
    supervisor_options o;
    child children[MAX_CHILDREN];
    size_t n;
    char front_door[512];
    char event_bus[512];

    pthread_mutex_t lock; /* guards operator_restart and retire flags, pending, stopping, and
                             changes to children/n (the thread still reads them unlocked: it is
                             the only writer) */
    child *pending[MAX_CHILDREN]; /* added by a reload, started by the thread */
    size_t n_pending;
    bool stopping;
    bool started;
    bool joined;
    pthread_t thread;
    int sigfd;
    int wakefd;
    uint32_t rng;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift32: jitter only, not security. */
static uint32_t next_random(supervisor *s)
{
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rng = x != 0 ? x : 0x9e3779b9u;
    return s->rng;
}

uint32_t supervisor_backoff_ms(unsigned int attempt, uint32_t initial_ms, uint32_t max_ms,
                               uint32_t random)
{
    uint64_t bound = initial_ms;
    for (unsigned int i = 0; i < attempt && bound < max_ms; i++)
        bound *= 2;
    if (bound > max_ms)
        bound = max_ms;
    return bound == 0 ? 0 : (uint32_t)(random % (bound + 1));
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
    s->rng = (uint32_t)now_ms() ^ ((uint32_t)getpid() << 16) ^ 0x2545f491u;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

size_t supervisor_count(const supervisor *s)
{
    return s != NULL ? s->n : 0;
}

/* ---- configuration ---------------------------------------------------------------------- */

static int fail(char *why, size_t size, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));

static int fail(char *why, size_t size, const char *fmt, const char *arg)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(why, size, fmt, arg); /* fmt is always a literal with one %s (see callers) */
#pragma GCC diagnostic pop
    return -1;
}

/* Split "ID=REST" into the id (validated) and REST. */
static int split_id(const char *spec, char *id, const char **rest, char *why, size_t size)
{
    const char *eq = strchr(spec, '=');
    size_t len = eq != NULL ? (size_t)(eq - spec) : 0;
    if (eq == NULL || len == 0 || len > MAX_ID_LEN)
        return fail(why, size, "'%s': expected ID=VALUE", spec);
    for (size_t i = 0; i < len; i++) {
        char c = spec[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return fail(why, size, "'%s': the id allows [A-Za-z0-9._-] only", spec);
    }
    memcpy(id, spec, len);
    id[len] = '\0';
    *rest = eq + 1;
    return 0;
}

static child *find_child(supervisor *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->children[i].id, id) == 0)
            return &s->children[i];
    }
    return NULL;
}

/* Split a command line into words: blanks separate, '...' and "..." quote, \ escapes. */
static int split_words(const char *line, char **argv, size_t max, char *why, size_t size)
{
    size_t n = 0, len = strlen(line);
    char *word = malloc(len + 1);
    if (word == NULL)
        return fail(why, size, "%s", "out of memory");
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        size_t w = 0;
        char quote = 0;
        for (; *p != '\0'; p++) {
            if (quote != 0) {
                if (*p == quote)
                    quote = 0;
                else if (*p == '\\' && quote == '"' && p[1] != '\0')
                    word[w++] = *++p;
                else
                    word[w++] = *p;
            } else if (*p == '\'' || *p == '"') {
                quote = *p;
            } else if (*p == '\\' && p[1] != '\0') {
                word[w++] = *++p;
            } else if (*p == ' ' || *p == '\t') {
                break;
            } else {
                word[w++] = *p;
            }
        }
        if (quote != 0) {
            free(word);
            for (size_t i = 0; i < n; i++)
                free(argv[i]);
            return fail(why, size, "'%s': unterminated quote", line);
        }
        if (n == max) {
            free(word);
            for (size_t i = 0; i < n; i++)
                free(argv[i]);
            return fail(why, size, "'%s': too many arguments (64 at most)", line);
        }
        word[w] = '\0';
        argv[n] = strdup(word);
        if (argv[n] == NULL) {
            free(word);
            for (size_t i = 0; i < n; i++)
                free(argv[i]);
            return fail(why, size, "%s", "out of memory");
        }
        n++;
    }
    free(word);
    argv[n] = NULL;
    if (n == 0)
        return fail(why, size, "'%s': empty command", line);
    return 0;
}

int supervisor_add(supervisor *s, const char *spec, char *why, size_t size)
{
    char id[MAX_ID_LEN + 1];
    const char *command;
    if (split_id(spec, id, &command, why, size) != 0)
        return -1;
    if (find_child(s, id) != NULL)
        return fail(why, size, "'%s' is supervised twice", id);
    if (s->n == MAX_CHILDREN)
        return fail(why, size, "%s", "too many supervised children (64 at most)");
    child *c = &s->children[s->n];
    memset(c, 0, sizeof(*c));
    /* Only the last R restarts matter for "more than R within T". */
    c->ring_size = s->o.max_restarts > 0 ? s->o.max_restarts : 1;
    c->restart_times = calloc(c->ring_size, sizeof(*c->restart_times));
    if (c->restart_times == NULL)
        return fail(why, size, "%s", "out of memory");
    if (split_words(command, c->argv, MAX_ARGS, why, size) != 0) {
        free(c->restart_times);
        c->restart_times = NULL;
        return -1;
    }
    snprintf(c->id, sizeof(c->id), "%s", id);
    s->n++;
    return 0;
}

int supervisor_add_env(supervisor *s, const char *spec, char *why, size_t size)
{
    char id[MAX_ID_LEN + 1];
    const char *kv;
    if (split_id(spec, id, &kv, why, size) != 0)
        return -1;
    child *c = find_child(s, id);
    if (c == NULL)
        return fail(why, size, "'%s': no --supervise for this id (give --supervise first)", spec);
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        return fail(why, size, "'%s': expected ID=KEY=VALUE", spec);
    if (c->n_env == MAX_ENV)
        return fail(why, size, "'%s': too many variables (64 at most)", spec);
    c->env[c->n_env] = strdup(kv);
    if (c->env[c->n_env] == NULL)
        return fail(why, size, "%s", "out of memory");
    c->n_env++;
    return 0;
}

int supervisor_set_cwd(supervisor *s, const char *spec, char *why, size_t size)
{
    char id[MAX_ID_LEN + 1];
    const char *dir;
    if (split_id(spec, id, &dir, why, size) != 0)
        return -1;
    child *c = find_child(s, id);
    if (c == NULL)
        return fail(why, size, "'%s': no --supervise for this id (give --supervise first)", spec);
    if (dir[0] == '\0')
        return fail(why, size, "'%s': empty directory", spec);
    free(c->cwd);
    c->cwd = strdup(dir);
    return c->cwd != NULL ? 0 : fail(why, size, "%s", "out of memory");
}

/* ---- reporting -------------------------------------------------------------------------- */

static void report(supervisor *s, child *c)
{
    genesis_child_report r = {.version = GENESIS_CHILD_REPORT_VERSION,
                              .id = c->id,
                              .state = state_names[c->state],
                              .pid = c->state == ST_RUNNING ? (int)c->pid : 0,
                              .restarts = c->restarts,
                              .last_exit = c->last_exit,
                              .started_ms = c->state == ST_RUNNING ? c->started_ms : 0};
    if (genesis_coordinator_report_child(s->co, &r) != GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "supervisor: cannot report %s: %s", c->id,
                    genesis_last_error());
}

static void publish(supervisor *s, const char *type, child *c)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"id\":\"%s\",\"state\":\"%s\",\"restarts\":%llu,\"last_exit\":\"%s\"}", c->id,
             state_names[c->state], (unsigned long long)c->restarts, c->last_exit);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.source = EVENT_SOURCE;
    opts.content_type = "application/json";
    opts.criticality = GENESIS_CRITICALITY_CRITICAL;
    if (genesis_coordinator_emit(s->co, type, json, strlen(json), &opts, NULL, NULL) != GENESIS_OK)
        daemon_logf(GENESIS_LOG_WARN, "supervisor: cannot publish %s: %s", type,
                    genesis_last_error());
}

/* ---- launching -------------------------------------------------------------------------- */

static bool env_overridden(const child *c, const char *entry)
{
    static const char *const ours[] = {
        "GENESIS_FRONT_DOOR=", "GENESIS_EVENT_BUS=", "GENESIS_COMPONENT_ID="};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
        if (strncmp(entry, ours[i], strlen(ours[i])) == 0)
            return true;
    }
    for (size_t i = 0; i < c->n_env; i++) {
        size_t key = (size_t)(strchr(c->env[i], '=') - c->env[i]) + 1;
        if (strncmp(entry, c->env[i], key) == 0)
            return true;
    }
    return false;
}

/* The child's environment: ours minus what is overridden, plus the URLs and its extras.
 * Built before fork (nothing but async-signal-safe calls may run in the child). */
static char **build_env(supervisor *s, const child *c, char *fd_var, char *bus_var, char *id_var,
                        size_t var_size)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **envp = calloc(n + c->n_env + 4, sizeof(*envp));
    if (envp == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!env_overridden(c, environ[i]))
            envp[k++] = environ[i];
    }
    snprintf(fd_var, var_size, "GENESIS_FRONT_DOOR=%s", s->front_door);
    snprintf(bus_var, var_size, "GENESIS_EVENT_BUS=%s", s->event_bus);
    snprintf(id_var, var_size, "GENESIS_COMPONENT_ID=%s", c->id);
    envp[k++] = fd_var;
    envp[k++] = bus_var;
    envp[k++] = id_var;
    for (size_t i = 0; i < c->n_env; i++)
        envp[k++] = c->env[i];
    envp[k] = NULL;
    return envp;
}

/* Fork and exec. Returns the pid, or -1 with a reason in why (nothing left running). */
static pid_t launch(supervisor *s, child *c, char *why, size_t size)
{
    char fd_var[600], bus_var[600], id_var[600];
    char **envp = build_env(s, c, fd_var, bus_var, id_var, sizeof(id_var));
    int pipefd[2];
    if (envp == NULL) {
        snprintf(why, size, "out of memory");
        return -1;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(why, size, "pipe: %s", strerror(errno));
        free(envp);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* The child: async-signal-safe calls only, until exec. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the supervisor died before prctl */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGXFSZ, SIG_DFL);
        /* genesisd's stdout carries its one "ready" line for whoever started it: children
         * write to its log (stderr) instead. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        int err = 0;
        if (c->cwd != NULL && chdir(c->cwd) != 0)
            err = errno;
        if (err == 0) {
            execvpe(c->argv[0], c->argv, envp);
            err = errno;
        }
        ssize_t ignored = write(pipefd[1], &err, sizeof(err));
        (void)ignored;
        _exit(127);
    }
    int fork_errno = errno;
    close(pipefd[1]);
    free(envp);
    if (pid < 0) {
        close(pipefd[0]);
        snprintf(why, size, "fork: %s", strerror(fork_errno));
        return -1;
    }
    setpgid(pid, pid); /* also here: no race with a kill(-pid) right after fork */
    int err = 0;
    ssize_t got;
    do {
        got = read(pipefd[0], &err, sizeof(err));
    } while (got < 0 && errno == EINTR);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof(err)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        snprintf(why, size, "cannot execute '%s'%s%s: %s", c->argv[0], c->cwd ? " in " : "",
                 c->cwd ? c->cwd : "", strerror(err));
        return -1;
    }
    return pid;
}

static void describe_exit(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "ended (wait status %d)", status);
}

static void start_child(supervisor *s, child *c);

/* The incarnation ended (reason in c->last_exit): restart it with backoff, or give up. */
static void schedule_restart(supervisor *s, child *c)
{
    int64_t now = now_ms();
    bool was_healthy = c->seen_up || (c->started_ms > 0 && now - c->started_ms >= STABLE_RESET_MS);
    c->pid = 0;
    c->failed_starts = was_healthy ? 0 : c->failed_starts + 1;
    /* Restart intensity: restarts within the window so far. */
    unsigned int recent = 0;
    unsigned int kept = c->n_restart_times < c->ring_size ? c->n_restart_times : c->ring_size;
    for (unsigned int i = 0; i < kept; i++) {
        if (now - c->restart_times[i] < (int64_t)s->o.window_ms)
            recent++;
    }
    if (recent >= s->o.max_restarts) {
        c->state = ST_FAILED;
        daemon_logf(GENESIS_LOG_ERROR,
                    "supervisor: %s %s; %u restarts within %u ms reached the limit: FAILED, not "
                    "restarted until an operator sends 'supervisor.restart %s'",
                    c->id, c->last_exit, recent, s->o.window_ms, c->id);
        report(s, c);
        publish(s, "supervisor.failed", c);
        return;
    }
    uint32_t delay = supervisor_backoff_ms(c->failed_starts, s->o.backoff_initial_ms,
                                           s->o.backoff_max_ms, next_random(s));
    /* NOLINTNEXTLINE(clang-analyzer-core.DivideZero): ring_size >= 1 from child creation */
    c->restart_times[c->n_restart_times % c->ring_size] = now;
    c->n_restart_times++;
    c->restarts++;
    c->state = ST_BACKOFF;
    c->next_start_ms = now + delay;
    daemon_logf(GENESIS_LOG_WARN, "supervisor: %s %s; restart %llu in %u ms", c->id, c->last_exit,
                (unsigned long long)c->restarts, delay);
    report(s, c);
    publish(s, "supervisor.restarting", c);
    if (delay == 0)
        start_child(s, c);
}

static void start_child(supervisor *s, child *c)
{
    char why[256];
    c->seen_up = false;
    c->down_since_ms = 0;
    c->kill_reason[0] = '\0';
    c->started_ms = now_ms();
    pid_t pid = launch(s, c, why, sizeof(why));
    if (pid < 0) {
        snprintf(c->last_exit, sizeof(c->last_exit), "%s", why);
        c->started_ms = 0;
        schedule_restart(s, c);
        return;
    }
    c->pid = pid;
    c->state = ST_RUNNING;
    daemon_logf(GENESIS_LOG_INFO, "supervisor: started %s (pid %ld): %s", c->id, (long)pid,
                c->argv[0]);
    report(s, c);
}

/* Kill a running child's process group; the reap reports it with this reason. */
static void kill_child(child *c, const char *reason)
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
        char how[96];
        describe_exit(status, how, sizeof(how));
        if (c->kill_reason[0] != '\0')
            snprintf(c->last_exit, sizeof(c->last_exit), "%s (%s)", c->kill_reason, how);
        else
            snprintf(c->last_exit, sizeof(c->last_exit), "%s", how);
        c->state = ST_STOPPED;
        if (c->retire) {
            daemon_logf(GENESIS_LOG_INFO, "supervisor: %s stopped (%s)", c->id, c->last_exit);
            report(s, c);
            continue;
        }
        schedule_restart(s, c);
    }
}

static void check_health(supervisor *s)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < s->n; i++) {
        child *c = &s->children[i];
        if (c->state != ST_RUNNING || c->kill_reason[0] != '\0')
            continue;
        int up = 0;
        int rv = genesis_coordinator_get_component_health(s->co, c->id, &up);
        if (rv == GENESIS_OK && up) {
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
            kill_child(c, reason);
        } else if (!c->seen_up && now - c->started_ms >= (int64_t)s->o.startup_ms) {
            char reason[96];
            snprintf(reason, sizeof(reason), "did not register within %u ms", s->o.startup_ms);
            daemon_logf(GENESIS_LOG_WARN, "supervisor: %s (pid %ld) %s: killing it", c->id,
                        (long)c->pid, reason);
            kill_child(c, reason);
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
                    state_names[c->state]);
        c->n_restart_times = 0; /* a fresh intensity window */
        c->failed_starts = 0;
        if (c->state == ST_RUNNING) {
            kill_child(c, "restarted by the operator");
        } else {
            c->restarts++;
            start_child(s, c);
        }
    }
}

static void child_free_strings(child *c)
{
    for (size_t k = 0; c->argv[k] != NULL; k++)
        free(c->argv[k]);
    for (size_t k = 0; k < c->n_env; k++)
        free(c->env[k]);
    free(c->cwd);
    free(c->restart_times);
}

/* Children a reload removed: kill the running ones (reap reports them), drop the stopped ones.
 * Children it added: start them. Runs on the supervisor thread. */
static void apply_reload_changes(supervisor *s)
{
    /* Reports go out after the lock is released: report() takes the coordinator's admin-hook
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
            if (c->retire_ms > 0 && now_ms() - c->retire_ms >= (int64_t)s->o.grace_ms) {
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
                c->retire_ms = now_ms();
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
            child_free_strings(c); /* out of memory: dropped without a last report */
        s->children[i] = s->children[--s->n];
    }
    size_t first_new = s->n;
    for (size_t k = 0; k < s->n_pending && s->n < MAX_CHILDREN; k++) {
        s->children[s->n++] = *s->pending[k];
        free(s->pending[k]);
    }
    s->n_pending = 0;
    pthread_mutex_unlock(&s->lock);
    for (size_t k = 0; k < n_dropped; k++) {
        report(s, &dropped[k]);
        child_free_strings(&dropped[k]);
    }
    free(dropped);
    for (size_t i = first_new; i < s->n; i++) {
        report(s, &s->children[i]);
        start_child(s, &s->children[i]);
    }
}

int supervisor_adopt(supervisor *s, supervisor *staged, const char *id, char *why, size_t size)
{
    child *c = find_child(staged, id);
    if (c == NULL)
        return fail(why, size, "'%s' is not in the new configuration", id);
    child *copy = malloc(sizeof(*copy));
    if (copy == NULL)
        return fail(why, size, "%s", "out of memory");
    pthread_mutex_lock(&s->lock);
    bool taken = find_child(s, id) != NULL && !find_child(s, id)->retire;
    for (size_t k = 0; k < s->n_pending; k++)
        taken = taken || strcmp(s->pending[k]->id, id) == 0;
    bool full = s->n + s->n_pending >= MAX_CHILDREN;
    if (!taken && !full) {
        *copy = *c;
        s->pending[s->n_pending++] = copy;
        /* The staged supervisor no longer owns the strings. */
        *c = staged->children[--staged->n];
    }
    pthread_mutex_unlock(&s->lock);
    if (taken || full) {
        free(copy);
        return fail(why, size, taken ? "'%s' is supervised already" : "too many children for '%s'",
                    id);
    }
    uint64_t one = 1;
    ssize_t ignored = write(s->wakefd, &one, sizeof(one));
    (void)ignored;
    return 0;
}

int supervisor_retire(supervisor *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    child *c = find_child(s, id);
    if (c != NULL)
        c->retire = true;
    pthread_mutex_unlock(&s->lock);
    if (c == NULL)
        return -1;
    uint64_t one = 1;
    ssize_t ignored = write(s->wakefd, &one, sizeof(one));
    (void)ignored;
    return 0;
}

static int next_timeout(supervisor *s)
{
    int64_t now = now_ms();
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
    int64_t deadline = now_ms() + s->o.grace_ms;
    bool killed = false;
    while (any_running(s)) {
        for (size_t i = 0; i < s->n; i++) {
            child *c = &s->children[i];
            int status;
            if (c->pid > 0 && waitpid(c->pid, &status, WNOHANG) == c->pid) {
                kill(-c->pid, SIGKILL);
                describe_exit(status, c->last_exit, sizeof(c->last_exit));
                c->pid = 0;
                c->state = ST_STOPPED;
                report(s, c);
            }
        }
        if (!killed && now_ms() >= deadline) {
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
            report(s, c);
        }
    }
}

static void *supervisor_main(void *arg)
{
    supervisor *s = arg;
    for (size_t i = 0; i < s->n; i++)
        start_child(s, &s->children[i]);
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
        apply_reload_changes(s);
        handle_operator_requests(s);
        int64_t now = now_ms();
        for (size_t i = 0; i < s->n; i++) {
            child *c = &s->children[i];
            if (c->state == ST_BACKOFF && now >= c->next_start_ms)
                start_child(s, c);
        }
        check_health(s);
    }
    terminate_all(s);
    return NULL;
}

/* ---- Admin ------------------------------------------------------------------------------ */

static void on_admin(const char *command, const char *const *args, size_t nargs,
                     genesis_reply *reply, void *arg)
{
    supervisor *s = arg;
    if (strcmp(command, ADMIN_PREFIX "restart") != 0) {
        genesis_reply_error(reply, GENESIS_UNIMPLEMENTED,
                            "unknown supervisor command (known: supervisor.restart <id>)");
        return;
    }
    if (nargs != 1) {
        genesis_reply_error(reply, GENESIS_INVALID_ARGUMENT,
                            "supervisor.restart takes one argument: the component id");
        return;
    }
    pthread_mutex_lock(&s->lock); /* a reload may add or drop children meanwhile */
    child *c = NULL;              /* a child a reload removed (still stopping) no longer counts */
    for (size_t i = 0; i < s->n && c == NULL; i++)
        if (strcmp(s->children[i].id, args[0]) == 0 && !s->children[i].retire)
            c = &s->children[i];
    if (c != NULL)
        c->operator_restart = true;
    char text[256];
    snprintf(text, sizeof(text), "restarting %.128s", args[0]);
    pthread_mutex_unlock(&s->lock);
    if (c == NULL) {
        snprintf(text, sizeof(text), "no supervised component '%.128s'", args[0]);
        genesis_reply_error(reply, GENESIS_NOT_FOUND, text);
        return;
    }
    uint64_t one = 1;
    ssize_t ignored = write(s->wakefd, &one, sizeof(one));
    (void)ignored;
    genesis_reply_set(reply, text, strlen(text), "text/plain");
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
        return fail(why, size, "signalfd/eventfd: %s", strerror(errno));
    for (size_t i = 0; i < s->n; i++)
        report(s, &s->children[i]);
    if (genesis_coordinator_set_admin_handler(s->co, ADMIN_PREFIX, on_admin, s) != GENESIS_OK)
        return fail(why, size, "admin handler: %s", genesis_last_error());
    if (pthread_create(&s->thread, NULL, supervisor_main, s) != 0) {
        genesis_coordinator_set_admin_handler(s->co, ADMIN_PREFIX, NULL, NULL);
        return fail(why, size, "%s", "cannot start the supervisor thread");
    }
    s->started = true;
    return 0;
}

void supervisor_stop(supervisor *s)
{
    if (s == NULL || !s->started || s->joined)
        return;
    genesis_coordinator_set_admin_handler(s->co, ADMIN_PREFIX, NULL, NULL);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_mutex_unlock(&s->lock);
    uint64_t one = 1;
    ssize_t ignored = write(s->wakefd, &one, sizeof(one));
    (void)ignored;
    pthread_join(s->thread, NULL);
    s->joined = true;
}

void supervisor_free(supervisor *s)
{
    if (s == NULL)
        return;
    supervisor_stop(s);
    for (size_t i = 0; i < s->n; i++)
        child_free_strings(&s->children[i]);
    for (size_t k = 0; k < s->n_pending; k++) {
        child_free_strings(s->pending[k]);
        free(s->pending[k]);
    }
    if (s->sigfd >= 0)
        close(s->sigfd);
    if (s->wakefd >= 0)
        close(s->wakefd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
