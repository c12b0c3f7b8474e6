/* genesis-chaos: the resilience scorecard, measured. Runs each scenario against a real
 * coordinator (embedded, real worker threads and timers, default policies unless a scenario
 * says otherwise) with fault-injecting components, and prints the figures next to their
 * targets; then the five claimed figures docs/design.md recalls, each measured as
 * docs/resilience.md defines it, with the claim beside it.
 *
 *   genesis-chaos [--quick] [--json] [SCENARIO ...]   (all by default; --help lists them)
 *   genesis-chaos --serve-remote ID FRONT_DOOR   (internal: the remote component of the pause
 *                                                 scenario, in a process of its own)
 *
 * --quick shortens every scenario (CI smoke: figures printed, nothing asserted on timing).
 * Exit status: 0 when it ran (targets missed are reported, not failed: the machines are noisy),
 * 1 when a scenario could not run. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "genesis/genesis.h"

static bool quick;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void die(const char *what, int rv)
{
    fprintf(stderr, "genesis-chaos: %s: %s (%s)\n", what, genesis_status_name(rv),
            genesis_last_error());
    exit(1);
}

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rv_ = (call);                                                                          \
        if (rv_ != GENESIS_OK)                                                                     \
            die(#call, rv_);                                                                       \
    } while (0)

/* ---- the scorecard --------------------------------------------------------------------- */

typedef struct row {
    const char *scenario, *figure, *target;
    char value[96];
    int met; /* 1 met, 0 missed */
} row;

static row rows[64];
static int n_rows;

static void add_row(const char *scenario, const char *figure, const char *target, int met,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add_row(const char *scenario, const char *figure, const char *target, int met,
                    const char *fmt, ...)
{
    row *r = &rows[n_rows++];
    r->scenario = scenario;
    r->figure = figure;
    r->target = target;
    r->met = met;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->value, sizeof(r->value), fmt, ap);
    va_end(ap);
}

/* ---- components ------------------------------------------------------------------------ */

static atomic_int broken_status; /* what the "broken" component answers (0 = OK) */

static void handler(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    atomic_int *status = arg;
    int s = status != NULL ? atomic_load(status) : 0;
    if (s != 0)
        genesis_reply_error(reply, s, "broken");
    else
        genesis_reply_set(reply, "ok", 2, "text/plain");
}

static genesis_coordinator *coordinator(const genesis_policy *policy)
{
    genesis_coordinator_options o;
    CHECK(genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION));
    o.default_policy = policy;
    o.log_level = GENESIS_LOG_ERROR;
    o.heartbeat_interval_ms = 50;
    genesis_coordinator *c = NULL;
    CHECK(genesis_coordinator_new(&c, &o));
    return c;
}

static void add_component(genesis_coordinator *c, const char *id, atomic_int *status)
{
    genesis_component comp = {
        .version = GENESIS_COMPONENT_VERSION, .on_request = handler, .arg = status};
    CHECK(genesis_coordinator_register(c, id, &comp));
}

/* ---- load ------------------------------------------------------------------------------ */

typedef struct sample {
    float ms;
    int status, reason;
} sample;

typedef struct load {
    genesis_coordinator *c;
    const char *const *targets;
    int n_targets;
    const char *type;
    int criticality;
    int per_thread;  /* requests per thread; 0 = until stop */
    int interval_us; /* paced: one request per interval per thread (0 = closed loop) */
    atomic_bool stop;
    pthread_mutex_t mu;
    sample *samples;
    size_t n, cap;
    const char *only; /* record samples for this target only (NULL = all) */
} load;

static void record(load *l, const char *target, double ms, int status, int reason)
{
    if (l->only != NULL && strcmp(l->only, target) != 0)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        sample *grown = realloc(l->samples, cap * sizeof(*grown));
        if (grown == NULL) {
            pthread_mutex_unlock(&l->mu);
            return;
        }
        l->samples = grown;
        l->cap = cap;
    }
    l->samples[l->n++] = (sample){(float)ms, status, reason};
    pthread_mutex_unlock(&l->mu);
}

static void *load_thread(void *arg)
{
    load *l = arg;
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.criticality = l->criticality;
    double next = now_s();
    for (int i = 0; l->per_thread == 0 || i < l->per_thread; i++) {
        if (atomic_load(&l->stop))
            break;
        if (l->interval_us > 0) {
            /* Paced callers, like real clients: a fail-fast rejection must not turn the
             * harness into a busy loop that takes the CPU from the healthy components. */
            next += l->interval_us / 1e6;
            double wait = next - now_s();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        const char *target = l->targets[i % l->n_targets];
        genesis_result *res = NULL;
        double t0 = now_s();
        genesis_coordinator_request(l->c, target, l->type, NULL, 0, &o, &res);
        record(l, target, (now_s() - t0) * 1000, genesis_result_status(res),
               genesis_result_reason(res));
        genesis_result_free(res);
    }
    return NULL;
}

static void load_run(load *l, int threads, pthread_t *tids)
{
    pthread_mutex_init(&l->mu, NULL);
    atomic_init(&l->stop, false);
    for (int t = 0; t < threads; t++)
        pthread_create(&tids[t], NULL, load_thread, l);
}

static void load_join(load *l, int threads, pthread_t *tids)
{
    for (int t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&l->mu);
}

static int by_ms(const void *a, const void *b)
{
    float x = ((const sample *)a)->ms, y = ((const sample *)b)->ms;
    return (x > y) - (x < y);
}

/* p-quantile latency of the samples (sorted in place) and their success rate. */
static double quantile(sample *s, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(s, n, sizeof(*s), by_ms);
    size_t i = (size_t)(q * (double)(n - 1));
    return s[i].ms;
}

static double success_rate(const sample *s, size_t n)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += s[i].status == GENESIS_OK;
    return n > 0 ? (double)ok / (double)n : 0;
}

static genesis_component_stats stats(genesis_coordinator *c, const char *id)
{
    genesis_component_stats s = {.version = GENESIS_COMPONENT_STATS_VERSION};
    CHECK(genesis_coordinator_get_component_stats(c, id, &s));
    return s;
}

/* ---- scenarios ------------------------------------------------------------------------- */

/* The hang scenario's figures, reused by the claimed figures' cascading-failure row. */
static double cascade_ok = -1, cascade_p99_ratio = -1;

static void scenario_random_failures(void)
{
    genesis_coordinator *c = coordinator(NULL);
    add_component(c, "flaky", NULL);
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.error_rate = 0.30;
    CHECK(genesis_coordinator_inject_fault(c, "flaky", &f));
    const char *targets[] = {"flaky"};
    load l = {.c = c,
              .targets = targets,
              .n_targets = 1,
              .type = "work",
              .per_thread = quick ? 500 : 5000};
    pthread_t tids[8];
    load_run(&l, 8, tids);
    load_join(&l, 8, tids);
    genesis_component_stats s = stats(c, "flaky");
    double ok = success_rate(l.samples, l.n);
    double apr = (double)s.attempts / (double)s.requests;
    add_row("30 % random failures on every attempt", "client-visible success rate", ">= 99.5 %",
            ok >= 0.995, "%.2f %%", ok * 100);
    add_row("30 % random failures on every attempt", "attempts per request", "<= 1.5", apr <= 1.5,
            "%.3f", apr);
    add_row("30 % random failures on every attempt", "breaker opens (must stay closed)", "0",
            s.breaker_opens == 0, "%.0f", (double)s.breaker_opens);
    free(l.samples);
    genesis_coordinator_free(c);
}

static void scenario_always_failing(void)
{
    genesis_coordinator *c = coordinator(NULL);
    atomic_store(&broken_status, GENESIS_UNAVAILABLE);
    add_component(c, "broken", &broken_status);
    const char *targets[] = {"broken"};
    /* One caller, so "when did it open" is counted in that caller's attempts. */
    genesis_result *res = NULL;
    double t0 = now_s(), opened_s = -1;
    int n = quick ? 2000 : 20000;
    uint64_t attempts_at_open = 0;
    for (int i = 0; i < n; i++) {
        genesis_coordinator_request(c, targets[0], "work", NULL, 0, NULL, &res);
        if (opened_s < 0 && genesis_result_reason(res) == GENESIS_REASON_BREAKER_OPEN) {
            opened_s = now_s() - t0;
            attempts_at_open = stats(c, "broken").attempts;
        }
        genesis_result_free(res);
    }
    genesis_component_stats s = stats(c, "broken");
    genesis_policy p = {.version = GENESIS_POLICY_VERSION};
    genesis_coordinator_get_policy(c, "broken", &p);
    double apr = (double)s.attempts / (double)s.requests;
    add_row("a component failing every call", "attempts per request over the run", "<= 1.1",
            apr <= 1.1, "%.4f", apr);
    add_row("a component failing every call", "attempts until the breaker opened",
            "within its minimum calls (50)", attempts_at_open <= p.breaker_min_calls, "%.0f",
            (double)attempts_at_open);
    add_row("a component failing every call", "time until the breaker opened", "(reported)", 1,
            "%.1f ms", opened_s * 1000);
    genesis_coordinator_free(c);
}

static void scenario_hang(void)
{
    genesis_coordinator *c = coordinator(NULL);
    const char *healthy[] = {"h1", "h2", "h3", "h4"};
    for (int i = 0; i < 4; i++)
        add_component(c, healthy[i], NULL);
    add_component(c, "hung", NULL);
    const char *all[] = {"h1", "h2", "h3", "h4", "hung"};
    int phase_ms = quick ? 1000 : 5000;

    /* Baseline: the healthy components' latency with no fault. */
    load base = {.c = c, .targets = healthy, .n_targets = 4, .type = "work", .interval_us = 500};
    pthread_t tids[8];
    load_run(&base, 8, tids);
    sleep_ms(phase_ms);
    atomic_store(&base.stop, true);
    load_join(&base, 8, tids);
    double base_p99 = quantile(base.samples, base.n, 0.99);

    /* Fault: the same load on the healthy ones while "hung" hangs under its own load. */
    load good = {.c = c, .targets = healthy, .n_targets = 4, .type = "work", .interval_us = 500};
    load bad = {.c = c, .targets = all + 4, .n_targets = 1, .type = "work", .interval_us = 500};
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.hang = 1;
    CHECK(genesis_coordinator_inject_fault(c, "hung", &f));
    double t_hang = now_s();
    pthread_t gt[8], bt[8];
    load_run(&good, 8, gt);
    load_run(&bad, 8, bt);
    /* Until a call to the hung one fails fast (< 10 ms) with a named reason. */
    double fast_s = -1;
    while (fast_s < 0 && now_s() - t_hang < 15) {
        genesis_result *res = NULL;
        double t0 = now_s();
        genesis_coordinator_request(c, "hung", "work", NULL, 0, NULL, &res);
        int reason = genesis_result_reason(res);
        if (now_s() - t0 < 0.010 &&
            (reason == GENESIS_REASON_BREAKER_OPEN || reason == GENESIS_REASON_BULKHEAD_FULL))
            fast_s = now_s() - t_hang;
        genesis_result_free(res);
        if (fast_s < 0)
            sleep_ms(5);
    }
    double left = phase_ms / 1000.0 - (now_s() - t_hang);
    if (left > 0)
        sleep_ms((int)(left * 1000));
    atomic_store(&good.stop, true);
    atomic_store(&bad.stop, true);
    load_join(&good, 8, gt);
    genesis_coordinator_inject_fault(c, "hung", NULL); /* release the hung handlers */
    load_join(&bad, 8, bt);
    double ok = success_rate(good.samples, good.n);
    double p99 = quantile(good.samples, good.n, 0.99);
    cascade_ok = ok;
    cascade_p99_ratio = base_p99 > 0 ? p99 / base_p99 : 0;
    genesis_policy p = {.version = GENESIS_POLICY_VERSION};
    genesis_coordinator_get_policy(c, "hung", &p);
    add_row("one component hangs (steady load)", "healthy components' success rate", "100 %",
            ok == 1.0, "%.3f %%", ok * 100);
    add_row("one component hangs (steady load)", "healthy p99 vs no-fault baseline", "<= 2x",
            p99 <= 2 * base_p99 || p99<1.0, "%.2fx", base_p99> 0 ? p99 / base_p99 : 0);
    double bound = p.per_try_timeout_ms / 1000.0 + 1;
    add_row("one component hangs (steady load)", "hang -> fail fast with a named reason",
            "<= per-try timeout + 1 s (3 s)", fast_s >= 0 && fast_s <= bound, "%.3f s", fast_s);
    free(base.samples);
    free(good.samples);
    free(bad.samples);
    genesis_coordinator_free(c);
}

static void scenario_sixty_percent_down(void)
{
    genesis_coordinator *c = coordinator(NULL);
    char ids[10][8];
    for (int i = 0; i < 10; i++) {
        snprintf(ids[i], sizeof(ids[i]), "s%d", i);
        add_component(c, ids[i], NULL);
    }
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.crash = 1;
    for (int i = 0; i < 6; i++)
        CHECK(genesis_coordinator_inject_fault(c, ids[i], &f));
    double t0 = now_s();
    while (genesis_coordinator_get_mode(c) != GENESIS_MODE_EMERGENCY && now_s() - t0 < 5)
        sleep_ms(5);
    int mode = genesis_coordinator_get_mode(c);
    add_row("60 % of components down", "mode reached", "EMERGENCY", mode == GENESIS_MODE_EMERGENCY,
            "%.0f", (double)mode);
    snprintf(rows[n_rows - 1].value, sizeof(rows[n_rows - 1].value), "%s (after %.0f ms)",
             genesis_mode_name(mode), (now_s() - t0) * 1000);
    const char *healthy[] = {ids[6], ids[7], ids[8], ids[9]};
    int n = quick ? 500 : 5000;
    load crit = {.c = c,
                 .targets = healthy,
                 .n_targets = 4,
                 .type = "work",
                 .criticality = GENESIS_CRITICALITY_CRITICAL,
                 .per_thread = n / 4};
    pthread_t tids[4];
    load_run(&crit, 4, tids);
    load_join(&crit, 4, tids);
    load shed = {.c = c,
                 .targets = healthy,
                 .n_targets = 4,
                 .type = "work",
                 .criticality = GENESIS_CRITICALITY_SHEDDABLE,
                 .per_thread = n / 4};
    load_run(&shed, 4, tids);
    load_join(&shed, 4, tids);
    size_t named = 0;
    for (size_t i = 0; i < shed.n; i++)
        named += shed.samples[i].status == GENESIS_UNAVAILABLE &&
                 shed.samples[i].reason == GENESIS_REASON_SHED_BY_MODE;
    double ok = success_rate(crit.samples, crit.n);
    double p99 = quantile(shed.samples, shed.n, 0.99);
    add_row("60 % of components down", "CRITICAL requests to healthy components served", "100 %",
            ok == 1.0, "%.2f %%", ok * 100);
    add_row("60 % of components down", "SHEDDABLE rejected with reason SHED_BY_MODE", "100 %",
            named == shed.n, "%.2f %%", shed.n ? 100.0 * (double)named / (double)shed.n : 0);
    add_row("60 % of components down", "rejection latency p99", "< 1 ms", p99 < 1.0, "%.3f ms",
            p99);
    free(crit.samples);
    free(shed.samples);
    genesis_coordinator_free(c);
}

static void scenario_recovery(void)
{
    genesis_policy p;
    genesis_policy_init(&p, GENESIS_POLICY_VERSION);
    p.breaker_open_ms = quick ? 1000 : 10000;
    genesis_coordinator *c = coordinator(&p);
    atomic_store(&broken_status, GENESIS_UNAVAILABLE);
    add_component(c, "healing", &broken_status);
    genesis_result *res = NULL;
    while (stats(c, "healing").breaker_state != GENESIS_BREAKER_OPEN) {
        genesis_coordinator_request(c, "healing", "work", NULL, 0, NULL, &res);
        genesis_result_free(res);
    }
    double opened = now_s();
    sleep_ms((int)p.breaker_open_ms / 3);
    atomic_store(&broken_status, 0); /* the component recovers */
    double healed = now_s();
    double ok_s = -1;
    while (now_s() - healed < p.breaker_open_ms / 1000.0 * 3) {
        genesis_coordinator_request(c, "healing", "work", NULL, 0, NULL, &res);
        bool ok = genesis_result_status(res) == GENESIS_OK;
        genesis_result_free(res);
        if (ok) {
            ok_s = now_s() - healed;
            break;
        }
        sleep_ms(2);
    }
    double bound = (p.breaker_open_ms / 1000.0) - (healed - opened) + 0.1;
    static char target[64]; /* rows keep the pointer */
    snprintf(target, sizeof(target), "<= open time left + one probe (%.2f s)", bound);
    add_row("component recovers (in-process, open time)", "recovery -> breaker closed, calls OK",
            target, ok_s >= 0 && ok_s <= bound, "%.3f s", ok_s);
    add_row("component recovers (in-process, open time)", "breaker state at the end", "CLOSED",
            stats(c, "healing").breaker_state == GENESIS_BREAKER_CLOSED, "%.0f",
            (double)stats(c, "healing").breaker_state);
    snprintf(rows[n_rows - 1].value, sizeof(rows[n_rows - 1].value), "%s",
             genesis_breaker_state_name(stats(c, "healing").breaker_state));
    genesis_coordinator_free(c);
}

static void scenario_fail_fast(void)
{
    genesis_coordinator *c = coordinator(NULL);
    add_component(c, "fenced", NULL);
    CHECK(genesis_coordinator_set_breaker(c, "fenced", GENESIS_BREAKER_FORCED_OPEN));
    int n = quick ? 20000 : 200000;
    sample *s = malloc((size_t)n * sizeof(*s));
    if (s == NULL)
        die("malloc", GENESIS_RESOURCE_EXHAUSTED);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        genesis_result *res = NULL;
        double a = now_s();
        genesis_coordinator_request(c, "fenced", "work", NULL, 0, NULL, &res);
        s[i].ms = (float)((now_s() - a) * 1000);
        genesis_result_free(res);
    }
    double mean_us = (now_s() - t0) / n * 1e6;
    double p99_us = quantile(s, (size_t)n, 0.99) * 1000;
    add_row("breaker open", "fail-fast latency (mean, sync request)", "< 50 us", mean_us < 50,
            "%.2f us", mean_us);
    add_row("breaker open", "fail-fast latency p99", "< 50 us", p99_us < 50, "%.2f us", p99_us);
    free(s);
    genesis_coordinator_free(c);
}

/* ---- a remote component paused (SIGSTOP) under load -------------------------------------- */

static void remote_handler(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

/* The child: a remote component "id" that answers "ok", until SIGTERM. */
static int serve_remote(const char *id, const char *front_door)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the library's threads: they inherit it */
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = remote_handler};
    genesis_service *svc = NULL;
    CHECK(genesis_service_new(&svc, id, &comp, NULL));
    CHECK(genesis_service_listen(svc, "tcp://127.0.0.1:0"));
    CHECK(genesis_service_connect(svc, front_door, NULL, 0));
    printf("ready\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    genesis_service_free(svc);
    return 0;
}

static void scenario_pause(void)
{
    genesis_coordinator *c = coordinator(NULL);
    CHECK(genesis_coordinator_listen(c, "tcp://127.0.0.1:0", NULL));
    char front[256];
    CHECK(genesis_coordinator_get_url(c, GENESIS_ENDPOINT_FRONT_DOOR, front, sizeof(front)));
    int out[2];
    if (pipe(out) != 0)
        die("pipe", GENESIS_RESOURCE_EXHAUSTED);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char *argv[] = {"genesis-chaos", "--serve-remote", "paused", front, NULL};
    pid_t child = -1;
    extern char **environ;
    if (posix_spawn(&child, "/proc/self/exe", &fa, NULL, argv, environ) != 0)
        die("posix_spawn", GENESIS_UNAVAILABLE);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    char line[64] = "";
    ssize_t got = read(out[0], line, sizeof(line) - 1); /* "ready": registered */
    close(out[0]);
    if (got <= 0 || strncmp(line, "ready", 5) != 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        die("the remote component did not start", GENESIS_UNAVAILABLE);
    }
    /* Its connection comes up just after the registration: wait for one answer. */
    for (int i = 0; i < 1000; i++) {
        genesis_result *res = NULL;
        int rv = genesis_coordinator_request(c, "paused", "work", NULL, 0, NULL, &res);
        genesis_result_free(res);
        if (rv == GENESIS_OK)
            break;
        sleep_ms(10);
    }
    genesis_component_stats before = stats(c, "paused");

    const char *targets[] = {"paused"};
    load l = {.c = c, .targets = targets, .n_targets = 1, .type = "work", .interval_us = 5000};
    pthread_t tids[4];
    load_run(&l, 4, tids);
    int steady_ms = quick ? 500 : 2000;
    sleep_ms(steady_ms);
    kill(child, SIGSTOP); /* a long garbage collection, CPU throttling, swap */
    sleep_ms(500);
    kill(child, SIGCONT);
    sleep_ms(steady_ms);
    atomic_store(&l.stop, true);
    load_join(&l, 4, tids);
    genesis_component_stats after = stats(c, "paused");

    size_t lost = 0;
    for (size_t i = 0; i < l.n; i++)
        lost += l.samples[i].status != GENESIS_OK;
    double max_ms = l.n > 0 ? quantile(l.samples, l.n, 1.0) : 0;
    unsigned long long opens = (unsigned long long)(after.breaker_opens - before.breaker_opens);
    add_row("remote paused 500 ms (SIGSTOP) under load", "requests lost", "0", lost == 0,
            "%zu of %zu", lost, l.n);
    add_row("remote paused 500 ms (SIGSTOP) under load", "breaker opened", "never", opens == 0,
            "%llu times", opens);
    add_row("remote paused 500 ms (SIGSTOP) under load", "slowest request (waited out the pause)",
            "< per-try timeout 2 s", max_ms < 2000, "%.0f ms", max_ms);
    free(l.samples);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    genesis_coordinator_free(c);
}

/* ---- scenarios of the breaker's newer settings ------------------------------------------ */

static genesis_policy base_policy(void)
{
    genesis_policy p;
    CHECK(genesis_policy_init(&p, GENESIS_POLICY_VERSION));
    return p;
}

/* Requests at a steady pace until the component's breaker opens; seconds taken (-1: never
 * within limit_s) and the requests sent. */
static double until_open(genesis_coordinator *c, const char *id, int interval_ms, double limit_s,
                         int *sent)
{
    double t0 = now_s();
    *sent = 0;
    while (now_s() - t0 < limit_s) {
        genesis_result *res = NULL;
        genesis_coordinator_request(c, id, "work", NULL, 0, NULL, &res);
        genesis_result_free(res);
        (*sent)++;
        if (stats(c, id).breaker_state == GENESIS_BREAKER_OPEN)
            return now_s() - t0;
        sleep_ms(interval_ms);
    }
    return -1;
}

static void scenario_slow_calls(void)
{
    genesis_policy p = base_policy();
    p.max_attempts = 1;
    p.breaker_consecutive_failures = 0;
    p.breaker_window = 20;
    p.breaker_min_calls = 10;
    p.breaker_slow_call_ms = 20;
    p.breaker_slow_call_rate_pct = 50;
    genesis_coordinator *c = coordinator(&p);
    add_component(c, "slow", NULL);
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    f.added_latency_ms = 40; /* answers, correctly, twice as slowly as allowed */
    CHECK(genesis_coordinator_inject_fault(c, "slow", &f));
    int sent = 0;
    double s_open = until_open(c, "slow", 0, 10, &sent);
    genesis_component_stats st = stats(c, "slow");
    add_row("a component turns slow (40 ms, slow-call 20 ms at 50 %)",
            "calls until the slow-call rate opened the breaker", "the minimum calls (10)",
            s_open >= 0 && sent <= 10, "%d (%.2f s)", sent, s_open);
    add_row("a component turns slow (40 ms, slow-call 20 ms at 50 %)",
            "requests that failed before it opened", "0", st.failed == 0, "%.0f",
            (double)st.failed);
    genesis_coordinator_free(c);
}

static void scenario_low_traffic(void)
{
    /* 5 requests a second, 60 % failing: a count window of 100 with at least 50 calls needs
     * 10 s of traffic before it decides; a 2 s time window with a minimum of 5, under 2 s. */
    int interval_ms = 200;
    double limit = quick ? 15 : 30;
    double took[2];
    int sent[2];
    for (int w = 0; w < 2; w++) {
        genesis_policy p = base_policy();
        p.max_attempts = 1;
        p.breaker_consecutive_failures = 0;
        p.breaker_failure_rate_pct = 50;
        if (w == 1) {
            p.breaker_window_ms = 2000;
            p.breaker_min_calls = 5;
        }
        genesis_coordinator *c = coordinator(&p);
        add_component(c, "quiet", NULL);
        genesis_fault f;
        genesis_fault_init(&f, GENESIS_FAULT_VERSION);
        f.error_rate = 0.6;
        CHECK(genesis_coordinator_inject_fault(c, "quiet", &f));
        took[w] = until_open(c, "quiet", interval_ms, w == 0 && quick ? 1.5 : limit, &sent[w]);
        genesis_coordinator_free(c);
    }
    static char v0[64];
    snprintf(v0, sizeof(v0), "%s", took[0] < 0 ? "not open yet" : "open");
    add_row("low traffic (5 req/s, 60 % failing)", "count window 100 / min 50: time to open",
            "(reported: >= 10 s at 5 req/s)", 1, "%s after %.1f s, %d requests", v0,
            took[0] < 0 ? (quick ? 1.5 : limit) : took[0], sent[0]);
    add_row("low traffic (5 req/s, 60 % failing)", "time window 2 s / min 5: time to open",
            "<= 2 s", took[1] >= 0 && took[1] <= 2.0, "%.2f s, %d requests", took[1], sent[1]);
}

static bool wait_state(genesis_coordinator *c, const char *id, int state, double limit_s,
                       double *took)
{
    double t0 = now_s();
    while (now_s() - t0 < limit_s) {
        if (stats(c, id).breaker_state == state) {
            *took = now_s() - t0;
            return true;
        }
        sleep_ms(5);
    }
    *took = now_s() - t0;
    return false;
}

static void scenario_idle_recovery(void)
{
    /* The component fails, its breaker opens, it heals, and then nobody calls it. */
    double closed_s = -1, normal_s = -1;
    int state_without = -1;
    for (int probe = 1; probe >= 0; probe--) {
        genesis_policy p = base_policy();
        p.breaker_open_ms = 1000;
        p.breaker_active_probe = (uint32_t)probe;
        genesis_coordinator *c = coordinator(&p);
        atomic_store(&broken_status, GENESIS_UNAVAILABLE);
        add_component(c, "idle", &broken_status);
        add_component(c, "busy", NULL);
        add_component(c, "other", NULL);
        while (stats(c, "idle").breaker_state != GENESIS_BREAKER_OPEN) {
            genesis_result *res = NULL;
            genesis_coordinator_request(c, "idle", "work", NULL, 0, NULL, &res);
            genesis_result_free(res);
        }
        atomic_store(&broken_status, 0);
        double t0 = now_s(), took;
        if (probe) {
            if (wait_state(c, "idle", GENESIS_BREAKER_CLOSED, 10, &took))
                closed_s = took;
            while (genesis_coordinator_get_mode(c) != GENESIS_MODE_NORMAL && now_s() - t0 < 10)
                sleep_ms(5);
            if (genesis_coordinator_get_mode(c) == GENESIS_MODE_NORMAL)
                normal_s = now_s() - t0;
        } else {
            sleep_ms(quick ? 2000 : 3000); /* two or three open times */
            state_without = stats(c, "idle").breaker_state;
        }
        genesis_coordinator_free(c);
    }
    add_row("idle component recovers (open 1 s, no traffic)",
            "breaker CLOSED by an active probe after", "< twice the open time (2 s)",
            closed_s >= 0 && closed_s < 2.0, "%.3f s", closed_s);
    add_row("idle component recovers (open 1 s, no traffic)", "mode back to NORMAL after",
            "<= the above + mode hold (2 s)", normal_s >= 0 && normal_s <= closed_s + 2.2, "%.3f s",
            normal_s);
    add_row("idle component recovers (open 1 s, no traffic)",
            quick ? "without the active probe, after 2 s" : "without the active probe, after 3 s",
            "(reported: stays unhealthy)", 1, "%s", genesis_breaker_state_name(state_without));
}

/* A component with 4 slots of real capacity (a pool of 4 connections, say): a request holds
 * one for 10 ms; more at once wait inside the handler. */
static pthread_mutex_t cap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cap_cv = PTHREAD_COND_INITIALIZER;
static int cap_free = 4;

static void capacity_handler(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    pthread_mutex_lock(&cap_mu);
    while (cap_free == 0)
        pthread_cond_wait(&cap_cv, &cap_mu);
    cap_free--;
    pthread_mutex_unlock(&cap_mu);
    sleep_ms(10);
    pthread_mutex_lock(&cap_mu);
    cap_free++;
    pthread_cond_signal(&cap_cv);
    pthread_mutex_unlock(&cap_mu);
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static void ok_samples(const load *l, sample **out, size_t *n)
{
    *out = malloc((l->n + 1) * sizeof(**out));
    *n = 0;
    for (size_t i = 0; *out != NULL && i < l->n; i++)
        if (l->samples[i].status == GENESIS_OK)
            (*out)[(*n)++] = l->samples[i];
}

static void scenario_overload(void)
{
    /* Offered: 24 callers, one request each 20 ms (1200/s) against a capacity of 400/s. */
    double p99[2] = {0, 0}, served[2] = {0, 0};
    unsigned int limit_seen = 0;
    for (int adaptive = 0; adaptive < 2; adaptive++) {
        genesis_policy p = base_policy();
        p.max_attempts = 1;
        p.breaker_consecutive_failures = 0;
        p.breaker_failure_rate_pct = 0;
        p.adaptive_concurrency = (uint32_t)adaptive; /* 1: gradient */
        genesis_coordinator *c = coordinator(&p);
        genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                                  .on_request = capacity_handler};
        CHECK(genesis_coordinator_register(c, "db", &comp));
        const char *targets[] = {"db"};
        load l = {.c = c, .targets = targets, .n_targets = 1, .type = "work", .interval_us = 20000};
        pthread_t tids[24];
        load_run(&l, 24, tids);
        sleep_ms(quick ? 1500 : 6000);
        if (adaptive) /* under the load, not after it */
            limit_seen = stats(c, "db").concurrency_limit;
        atomic_store(&l.stop, true);
        load_join(&l, 24, tids);
        sample *ok;
        size_t n;
        ok_samples(&l, &ok, &n);
        p99[adaptive] = quantile(ok, n, 0.99);
        served[adaptive] = l.n > 0 ? (double)n / (double)l.n : 0;
        free(ok);
        free(l.samples);
        genesis_coordinator_free(c);
    }
    add_row("overload 3x capacity (4 slots x 10 ms)", "p99 of served requests, fixed limit 16",
            "(baseline)", 1, "%.1f ms, %.0f %% served", p99[0], served[0] * 100);
    add_row("overload 3x capacity (4 slots x 10 ms)", "p99 of served requests, adaptive (gradient)",
            "<= half the fixed limit's", p99[1] > 0 && p99[1] <= p99[0] / 2,
            "%.1f ms, %.0f %% served, limit %u", p99[1], served[1] * 100, limit_seen);
}

/* 3 % of calls hit a slow instance (30 ms); the rest answer at once. */
static atomic_uint_fast64_t slow_seq;

static void slow_instance_handler(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    uint64_t x = atomic_fetch_add(&slow_seq, 1) * 0x9E3779B97F4A7C15ull;
    if ((x >> 40) % 100 < 3)
        sleep_ms(30);
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static void scenario_hedging(void)
{
    double p99[2] = {0, 0};
    uint64_t hedges = 0, requests = 0;
    for (int hedge = 0; hedge < 2; hedge++) {
        genesis_policy p = base_policy();
        p.hedge_percentile = hedge ? 95 : 0;
        genesis_coordinator *c = coordinator(&p);
        genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                                  .on_request = slow_instance_handler};
        CHECK(genesis_coordinator_register(c, "replicated", &comp));
        genesis_call_options o;
        genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
        o.idempotent = 1;
        int n = quick ? 600 : 5000;
        sample *s = malloc((size_t)n * sizeof(*s));
        if (s == NULL)
            die("malloc", GENESIS_RESOURCE_EXHAUSTED);
        for (int i = 0; i < n; i++) {
            genesis_result *res = NULL;
            double t0 = now_s();
            genesis_coordinator_request(c, "replicated", "read", NULL, 0, &o, &res);
            s[i] = (sample){(float)((now_s() - t0) * 1000), genesis_result_status(res), 0};
            genesis_result_free(res);
        }
        p99[hedge] = quantile(s, (size_t)n, 0.99);
        if (hedge) {
            genesis_component_stats st = stats(c, "replicated");
            hedges = st.hedges;
            requests = st.requests;
        }
        free(s);
        genesis_coordinator_free(c);
    }
    add_row("one slow instance (3 % of calls take 30 ms)", "p99 without hedging", "(baseline)", 1,
            "%.2f ms", p99[0]);
    add_row("one slow instance (3 % of calls take 30 ms)", "p99 hedged after the p95",
            "<= a quarter of the baseline", p99[1] <= p99[0] / 4, "%.2f ms (%.1f %% hedged)",
            p99[1], requests ? 100.0 * (double)hedges / (double)requests : 0);
}

/* ---- the five claimed figures, measured --------------------------------------------- */

/* A run with faults coming and going on 10 components under steady load: a fault on one
 * component for fault_ms, then none for as long, and so on (each component is faulted 5 % of
 * the time): a crash, 30 % errors, or a hang, in turn. Availability: requests served / requests
 * sent. Recovery: faults after which the component served again (a probe or request succeeded,
 * breaker CLOSED) without an operator, within 3 open times of the fault's end. MTTR: mean time from
 * a fault's end to that point. */
static void claimed_figures(void)
{
    genesis_policy p = base_policy();
    p.breaker_open_ms = 1000;
    p.breaker_open_max_ms = 4000;
    p.per_try_timeout_ms = 500;
    genesis_coordinator *c = coordinator(&p);
    char ids[10][8];
    const char *targets[10];
    for (int i = 0; i < 10; i++) {
        snprintf(ids[i], sizeof(ids[i]), "p%d", i);
        add_component(c, ids[i], NULL);
        targets[i] = ids[i];
    }
    load l = {.c = c, .targets = targets, .n_targets = 10, .type = "work", .interval_us = 2000};
    pthread_t tids[8];
    load_run(&l, 8, tids);
    int n_faults = quick ? 4 : 12, fault_ms = quick ? 800 : 3000;
    int recovered = 0;
    double mttr_sum = 0;
    for (int k = 0; k < n_faults; k++) {
        const char *id = ids[(k * 7 + 3) % 10];
        genesis_fault f;
        genesis_fault_init(&f, GENESIS_FAULT_VERSION);
        if (k % 3 == 0)
            f.crash = 1;
        else if (k % 3 == 1)
            f.error_rate = 0.3;
        else
            f.hang = 1;
        CHECK(genesis_coordinator_inject_fault(c, id, &f));
        sleep_ms(fault_ms);
        CHECK(genesis_coordinator_inject_fault(c, id, NULL));
        double t_end = now_s();
        double healthy_until = t_end + fault_ms / 1000.0;
        /* Served again: closed and healthy, measured as the component's own stats see it. */
        double limit = 3 * p.breaker_open_max_ms / 1000.0;
        while (now_s() - t_end < limit) {
            genesis_component_stats st = stats(c, id);
            if (st.healthy && st.breaker_state == GENESIS_BREAKER_CLOSED)
                break;
            sleep_ms(10);
        }
        genesis_component_stats st = stats(c, id);
        if (st.healthy && st.breaker_state == GENESIS_BREAKER_CLOSED) {
            recovered++;
            mttr_sum += now_s() - t_end;
        }
        double rest = healthy_until - now_s(); /* the fault-free half of the schedule */
        if (rest > 0)
            sleep_ms((int)(rest * 1000));
    }
    atomic_store(&l.stop, true);
    load_join(&l, 8, tids);
    double availability = success_rate(l.samples, l.n);
    free(l.samples);

    /* Partial failure: 2 of 10 components down, traffic spread over all ten. */
    genesis_fault crash;
    genesis_fault_init(&crash, GENESIS_FAULT_VERSION);
    crash.crash = 1;
    CHECK(genesis_coordinator_inject_fault(c, ids[0], &crash));
    CHECK(genesis_coordinator_inject_fault(c, ids[1], &crash));
    load part = {.c = c, .targets = targets, .n_targets = 10, .type = "work", .per_thread = 200};
    load_run(&part, 8, tids);
    load_join(&part, 8, tids);
    size_t up = 0, up_ok = 0, ok = 0;
    for (size_t i = 0; i < part.n; i++)
        ok += part.samples[i].status == GENESIS_OK;
    /* Requests were spread round-robin: per thread, i % 10 >= 2 went to an up component. */
    up = part.n * 8 / 10;
    up_ok = ok;
    double operable = part.n ? (double)ok / (double)part.n : 0;
    free(part.samples);
    genesis_coordinator_free(c);

    const char *sc = "claimed figures (docs/design.md), measured";
    add_row(sc, "availability, faults on 5 % of component-time (claimed 95-98 %)", ">= 95 %",
            availability >= 0.95, "%.2f %%", availability * 100);
    add_row(sc, "automatic recovery from failures (claimed > 90 %)", "> 90 %",
            recovered * 10 > n_faults * 9, "%.0f %% (%d of %d faults)",
            100.0 * recovered / n_faults, recovered, n_faults);
    add_row(sc, "mean time to recover (claimed < 1 min)", "< 60 s",
            recovered > 0 && mttr_sum / recovered < 60, "%.2f s",
            recovered ? mttr_sum / recovered : -1);
    if (cascade_ok < 0) { /* claims alone: the hang scenario did not run */
        add_row(sc, "resistance to cascading failures (claimed \"very high\")",
                "healthy ones: 100 % served, p99 <= 2x", 1, "%s", "run with the hang scenario");
    } else
        add_row(sc, "resistance to cascading failures (claimed \"very high\")",
                "healthy ones: 100 % served, p99 <= 2x",
                cascade_ok == 1.0 && cascade_p99_ratio <= 2, "%.3f %% served, p99 %.2fx",
                cascade_ok * 100, cascade_p99_ratio);
    add_row(sc, "operability under partial failure (claimed 80-90 %)", ">= 80 % (2 of 10 down)",
            operable >= 0.8 - 1e-9, "%.1f %% of all, %.0f %% of those to up components",
            operable * 100, up ? 100.0 * (double)up_ok / (double)up : 0);
}

static const struct scenario {
    const char *name;
    void (*run)(void);
} scenarios[] = {
    {"random", scenario_random_failures},
    {"failing", scenario_always_failing},
    {"hang", scenario_hang},
    {"down", scenario_sixty_percent_down},
    {"recovery", scenario_recovery},
    {"fail-fast", scenario_fail_fast},
    {"slow", scenario_slow_calls},
    {"low-traffic", scenario_low_traffic},
    {"idle", scenario_idle_recovery},
    {"overload", scenario_overload},
    {"hedging", scenario_hedging},
    {"pause", scenario_pause},
    {"claims", claimed_figures},
};
#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

int main(int argc, char **argv)
{
    bool json = false;
    bool chosen[N_SCENARIOS] = {false}, any = false;
    if (argc == 4 && strcmp(argv[1], "--serve-remote") == 0)
        return serve_remote(argv[2], argv[3]);
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        while (k < N_SCENARIOS && strcmp(argv[i], scenarios[k].name) != 0)
            k++;
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (k < N_SCENARIOS) {
            chosen[k] = any = true;
        } else {
            fprintf(stderr, "usage: genesis-chaos [--quick] [--json] [SCENARIO ...]\n"
                            "scenarios:");
            for (k = 0; k < N_SCENARIOS; k++)
                fprintf(stderr, " %s", scenarios[k].name);
            fprintf(stderr, " (default: all; claims uses hang's figures)\n");
            return 2;
        }
    }
    double t0 = now_s();
    for (size_t k = 0; k < N_SCENARIOS; k++)
        if (!any || chosen[k])
            scenarios[k].run();
    int met = 0;
    for (int i = 0; i < n_rows; i++)
        met += rows[i].met;
    if (json) {
        printf("{\"quick\":%s,\"seconds\":%.1f,\"rows\":[", quick ? "true" : "false", now_s() - t0);
        for (int i = 0; i < n_rows; i++)
            printf("%s{\"scenario\":\"%s\",\"figure\":\"%s\",\"value\":\"%s\",\"target\":\"%s\","
                   "\"met\":%s}",
                   i ? "," : "", rows[i].scenario, rows[i].figure, rows[i].value, rows[i].target,
                   rows[i].met ? "true" : "false");
        printf("],\"met\":%d,\"total\":%d}\n", met, n_rows);
    } else {
        printf("| scenario | figure | measured | target | met |\n|---|---|---|---|---|\n");
        for (int i = 0; i < n_rows; i++)
            printf("| %s | %s | %s | %s | %s |\n", rows[i].scenario, rows[i].figure, rows[i].value,
                   rows[i].target, rows[i].met ? "yes" : "**no**");
        printf("\n%d of %d figures meet their targets (%s mode, %.1f s).\n", met, n_rows,
               quick ? "quick" : "full", now_s() - t0);
    }
    return 0;
}
