/* In-process requests through the whole resilience stack (default policy: breaker, bulkhead,
 * retry budget, per-try timers and statistics all on), next to a raw NNG inproc req/rep round
 * trip and a plain function call, measured in the same run, rounds interleaved, medians
 * reported.
 *
 *   bench_inproc [--quick] [--json FILE] [--repeats N] [--profile [inline-]sync|pipelined]
 *
 * --profile runs only that Genesis part once (--quick counts apply) after a warm-up, the
 * measured part marked for callgrind (bench/instructions counts instructions per request):
 *   valgrind --tool=callgrind build-bench/bin/bench_inproc --quick --profile pipelined
 *
 * sync: one caller, one request at a time (latency p50/p99 per request).
 * pipelined: WINDOW requests outstanding at once (genesis_coordinator_request_async; each
 * completion starts the next), throughput; the raw baseline keeps WINDOW NNG contexts busy.
 * Both again with the handler declared non-blocking (GENESIS_COMPONENT_NONBLOCKING: it runs on
 * the calling thread); --profile inline-sync / inline-pipelined profile those. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>
#include <nng/nng.h>

#include "bench_report.h"
#include "raw_nng.h"

/* Within the default bulkhead (16 running + 50 queued) with room to spare: a completion can
 * start the next request before its own attempt has left the bulkhead. */
#define WINDOW 32

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "pong", 4, "text/plain");
}

static void die(const char *what)
{
    fprintf(stderr, "bench_inproc: %s failed: %s\n", what, genesis_last_error());
    exit(1);
}

/* ---- plain function call --------------------------------------------------------------- */

static char sink[16];
static void plain_handler(const char *type, char *out)
{
    if (type[0] == 'p')
        memcpy(out, "pong", 4);
}
static void (*volatile plain_fn)(const char *, char *) = plain_handler;

static double plain_ns(long n)
{
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++)
        plain_fn("ping", sink);
    return (bench_now_s() - t0) / (double)n * 1e9;
}

/* ---- Genesis ------------------------------------------------------------------------------ */

/* The component the Genesis rows call: "bench" (handlers on workers) or "bench-inline" (the
 * same handler declared non-blocking, GENESIS_COMPONENT_NONBLOCKING: run on the caller). */
static const char *target = "bench";
/* NULL (defaults), or generous timeouts under --profile: valgrind on a loaded machine can
 * stall a thread for seconds, which must not fail the count. */
static const genesis_call_options *call_opts;

/* Deadlines and per-try timeouts out of the way of a slow profiler. */
static void profile_timeouts(genesis_coordinator *co)
{
    static genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = 600000;
    call_opts = &o;
    const char *const ids[] = {"bench", "bench-inline"};
    for (int i = 0; i < 2; i++) {
        genesis_policy p;
        if (genesis_coordinator_get_policy(co, ids[i], &p) != GENESIS_OK)
            die("get_policy");
        p.per_try_timeout_ms = 600000;
        if (genesis_coordinator_set_policy(co, ids[i], &p) != GENESIS_OK)
            die("set_policy");
    }
}

static void genesis_sync(genesis_coordinator *co, int n, double *lat)
{
    for (int i = 0; i < n; i++) {
        double t0 = bench_now_s();
        genesis_result *res = NULL;
        if (genesis_coordinator_request(co, target, "ping", "ping", 4, call_opts, &res) !=
            GENESIS_OK) {
            fprintf(stderr, "bench_inproc: request failed: %s\n", genesis_result_message(res));
            exit(1);
        }
        genesis_result_free(res);
        lat[i] = (bench_now_s() - t0) * 1e6;
    }
}

typedef struct g_pipe {
    genesis_coordinator *co;
    pipe_state p;
} g_pipe;

static void g_issue(g_pipe *g);

static void g_done(genesis_result *res, void *arg)
{
    g_pipe *g = arg;
    if (genesis_result_status(res) != GENESIS_OK) {
        fprintf(stderr, "bench_inproc: pipelined request failed: %s\n",
                genesis_result_message(res));
        exit(1);
    }
    genesis_result_free(res);
    bool more = pipe_take(&g->p);
    pipe_done(&g->p);
    if (more)
        g_issue(g);
}

static void g_issue(g_pipe *g)
{
    if (genesis_coordinator_request_async(g->co, target, "ping", "ping", 4, call_opts, g_done, g) !=
        GENESIS_OK)
        die("request_async");
}

static double genesis_pipelined(genesis_coordinator *co, long total)
{
    g_pipe g = {.co = co};
    pipe_init(&g.p, total);
    double t0 = bench_now_s();
    for (int i = 0; i < WINDOW; i++)
        if (pipe_take(&g.p))
            g_issue(&g);
    pipe_wait(&g.p);
    double rate = (double)total / (bench_now_s() - t0);
    pipe_destroy(&g.p);
    return rate;
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(
        argc, argv,
        "bench_inproc [--quick] [--json FILE] [--repeats N] [--profile [inline-]sync|pipelined]", 5,
        &a);
    int n_sync = a.quick ? 1000 : 20000;
    long n_pipe = a.quick ? 20000 : 400000;
    long n_plain = a.quick ? 1000000 : 20000000;

    genesis_coordinator *co = NULL;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    genesis_coordinator_options opts;
    genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    opts.log_level = GENESIS_LOG_ERROR; /* a deep queue is the point here, not a warning */
    if (genesis_coordinator_new(&co, &opts) != GENESIS_OK)
        die("coordinator_new");
    genesis_component inline_comp = comp;
    inline_comp.flags = GENESIS_COMPONENT_NONBLOCKING;
    if (genesis_coordinator_register(co, "bench", &comp) != GENESIS_OK ||
        genesis_coordinator_register(co, "bench-inline", &inline_comp) != GENESIS_OK)
        die("register");
    if (a.only != NULL && strncmp(a.only, "inline-", 7) == 0) {
        target = "bench-inline";
        a.only += 7;
    }
    if (a.only != NULL) {
        profile_timeouts(co);
        /* A warm-up (threads started, caches filled), then the measured part. */
        double *l = malloc(sizeof(double) * (size_t)n_sync);
        if (strcmp(a.only, "sync") == 0 && l != NULL) {
            genesis_sync(co, n_sync / 10, l);
            bench_measure_begin();
            genesis_sync(co, n_sync, l);
            bench_measure_end(n_sync);
        } else if (strcmp(a.only, "pipelined") == 0) {
            genesis_pipelined(co, n_pipe / 10);
            bench_measure_begin();
            double rate = genesis_pipelined(co, n_pipe);
            bench_measure_end(n_pipe);
            printf("%.0f req/s\n", rate);
        } else {
            fprintf(stderr, "bench_inproc: --profile [inline-]sync|[inline-]pipelined\n");
            return 2;
        }
        free(l);
        genesis_coordinator_free(co);
        return 0;
    }
    char url[64];
    raw_echo *echo = raw_echo_start("inproc://bench-raw", url, sizeof(url));
    nng_socket req = raw_dial(url);

    int R = a.repeats;
    double *lat = malloc(sizeof(double) * (size_t)n_sync);
    double *plain = calloc((size_t)R, sizeof(double));
    double *r50 = calloc((size_t)R, sizeof(double)), *r99 = calloc((size_t)R, sizeof(double));
    double *g50 = calloc((size_t)R, sizeof(double)), *g99 = calloc((size_t)R, sizeof(double));
    double *rp = calloc((size_t)R, sizeof(double)), *gp = calloc((size_t)R, sizeof(double));
    double *i50 = calloc((size_t)R, sizeof(double)), *i99 = calloc((size_t)R, sizeof(double));
    double *ip = calloc((size_t)R, sizeof(double));
    if (lat == NULL || plain == NULL || r50 == NULL || r99 == NULL || g50 == NULL || g99 == NULL ||
        rp == NULL || gp == NULL || i50 == NULL || i99 == NULL || ip == NULL)
        return 1;
    genesis_sync(co, n_sync / 10, lat); /* warm up: threads started, caches filled */
    raw_sync(req, n_sync / 10, lat);
    for (int r = 0; r < R; r++) { /* interleaved, so noise hits every row alike */
        plain[r] = plain_ns(n_plain);
        raw_sync(req, n_sync, lat);
        r50[r] = bench_percentile(lat, (size_t)n_sync, 0.50);
        r99[r] = bench_percentile(lat, (size_t)n_sync, 0.99);
        genesis_sync(co, n_sync, lat);
        g50[r] = bench_percentile(lat, (size_t)n_sync, 0.50);
        g99[r] = bench_percentile(lat, (size_t)n_sync, 0.99);
        rp[r] = raw_pipelined(req, WINDOW, n_pipe);
        gp[r] = genesis_pipelined(co, n_pipe);
        target = "bench-inline";
        genesis_sync(co, n_sync, lat);
        i50[r] = bench_percentile(lat, (size_t)n_sync, 0.50);
        i99[r] = bench_percentile(lat, (size_t)n_sync, 0.99);
        ip[r] = genesis_pipelined(co, n_pipe);
        target = "bench";
    }
    double raw50 = bench_median(r50, R), raw99 = bench_median(r99, R);
    double gen50 = bench_median(g50, R), gen99 = bench_median(g99, R);
    double rawp = bench_median(rp, R), genp = bench_median(gp, R);
    double inl50 = bench_median(i50, R), inl99 = bench_median(i99, R), inlp = bench_median(ip, R);

    bench_report rep = {.bench = "inproc"};
    bench_add(&rep, "plain function call (the handler's work, no Genesis)", bench_median(plain, R),
              "ns", NULL, 0, NULL, BENCH_MET_NONE);
    bench_add(&rep, "raw NNG inproc req/rep, sync p50", raw50, "us", NULL, 0, NULL, BENCH_MET_NONE);
    bench_add(&rep, "in-process request, sync p50", gen50, "us", "raw NNG inproc req/rep p50",
              raw50, "<= 1x raw NNG inproc", gen50 <= raw50 ? BENCH_MET_YES : BENCH_MET_NO);
    bench_add(&rep, "in-process request, sync p99", gen99, "us", "raw NNG inproc req/rep p99",
              raw99, "<= 1x raw NNG inproc", gen99 <= raw99 ? BENCH_MET_YES : BENCH_MET_NO);
    char name[96], base[96];
    snprintf(name, sizeof(name), "in-process request, pipelined (%d outstanding)", WINDOW);
    snprintf(base, sizeof(base), "raw NNG inproc req/rep, %d contexts", WINDOW);
    bench_add(&rep, name, genp, "req/s", base, rawp, NULL, BENCH_MET_NONE);
    bench_add(&rep, "in-process request, non-blocking handler run inline, sync p50", inl50, "us",
              "the same request on a worker, p50", gen50, NULL, BENCH_MET_NONE);
    bench_add(&rep, "in-process request, non-blocking handler run inline, sync p99", inl99, "us",
              "the same request on a worker, p99", gen99, NULL, BENCH_MET_NONE);
    snprintf(name, sizeof(name),
             "in-process request, non-blocking handler run inline, pipelined (%d outstanding)",
             WINDOW);
    bench_add(&rep, name, inlp, "req/s", "the same requests on workers", genp, ">= 1,000,000 req/s",
              inlp >= 1e6 ? BENCH_MET_YES : BENCH_MET_NO);
    printf("(%d sync and %ld pipelined requests per round, median of %d rounds)\n", n_sync, n_pipe,
           R);

    nng_close(req);
    raw_echo_stop(echo);
    genesis_coordinator_free(co);
    free(lat);
    free(plain);
    free(r50);
    free(r99);
    free(g50);
    free(g99);
    free(rp);
    free(gp);
    free(i50);
    free(i99);
    free(ip);
    return bench_write(&rep, a.json) == 0 ? 0 : 1;
}
