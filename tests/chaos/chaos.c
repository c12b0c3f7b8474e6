/* genesis-chaos: the resilience scorecard, measured. Runs each scenario of the scorecard
 * against a real coordinator (embedded, real worker threads and timers, default policies
 * unless a scenario says otherwise) with fault-injecting components, and prints the figures
 * next to their targets (docs/resilience.md).
 *
 *   genesis-chaos [--quick] [--json]
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

static row rows[32];
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
    genesis_policy p;
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
    genesis_policy p;
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

int main(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else {
            fprintf(stderr, "usage: genesis-chaos [--quick] [--json]\n");
            return 2;
        }
    }
    double t0 = now_s();
    scenario_random_failures();
    scenario_always_failing();
    scenario_hang();
    scenario_sixty_percent_down();
    scenario_recovery();
    scenario_fail_fast();
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
