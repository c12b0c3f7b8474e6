/* The cost of resilience on the hot path, in a tight loop: breaker admission (CLOSED), recording
 * an outcome, the breaker's own fail-fast (OPEN), and a whole request failing fast through the
 * public API (sync genesis_coordinator_request to a component whose breaker an operator forced
 * open) next to the same request with the breaker closed. Allocations are counted by
 * interposing malloc/calloc/realloc in this program (the library is linked statically, NNG
 * dynamically: every allocation on the calling thread goes through the counter); sanitizer
 * builds own malloc, so there the count is reported as unavailable (-1).
 *
 *   bench_overhead [--quick] [--json FILE] [--repeats N] */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>

#include "bench_report.h"
#include "resilience/breaker.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNT_MALLOC 0
#else
#define COUNT_MALLOC 1
#endif

/* Allocations made by this thread (initial-exec TLS: reading it allocates nothing). */
static _Thread_local unsigned long thread_allocs;

#if COUNT_MALLOC
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

void *malloc(size_t size)
{
    thread_allocs++;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    thread_allocs++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    thread_allocs++;
    return __libc_realloc(p, size);
}
#endif

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "pong", 4, "text/plain");
}

typedef struct loop_result {
    double ns;            /* mean per operation */
    double allocs_per_op; /* -1: not counted */
} loop_result;

static loop_result finish(double t0, unsigned long a0, long n)
{
    double ns = (bench_now_s() - t0) / (double)n * 1e9;
    double allocs = COUNT_MALLOC ? (double)(thread_allocs - a0) / (double)n : -1;
    return (loop_result){ns, allocs};
}

static loop_result breaker_admit_closed(long n)
{
    gn_breaker b;
    genesis_policy p;
    genesis_policy_init(&p, GENESIS_POLICY_VERSION);
    gn_breaker_init(&b, 0);
    uint64_t lease;
    uint32_t retry_in;
    gn_breaker_transition t;
    unsigned long a0 = thread_allocs;
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++)
        if (!gn_breaker_admit(&b, &p, i, 100, &lease, &retry_in, &t))
            abort();
    loop_result r = finish(t0, a0, n);
    gn_breaker_destroy(&b);
    return r;
}

static loop_result breaker_record_success(long n)
{
    gn_breaker b;
    genesis_policy p;
    genesis_policy_init(&p, GENESIS_POLICY_VERSION);
    gn_breaker_init(&b, 0);
    gn_breaker_transition t;
    unsigned long a0 = thread_allocs;
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++)
        gn_breaker_record(&b, &p, 0, false, i, &t);
    loop_result r = finish(t0, a0, n);
    gn_breaker_destroy(&b);
    return r;
}

static loop_result breaker_fail_fast(long n)
{
    gn_breaker b;
    genesis_policy p;
    genesis_policy_init(&p, GENESIS_POLICY_VERSION);
    gn_breaker_init(&b, 0);
    gn_breaker_transition t;
    /* Trip it the way traffic does: consecutive failed requests. */
    for (int i = 0; i < 10 && gn_breaker_state(&b) != GENESIS_BREAKER_OPEN; i++)
        gn_breaker_request_done(&b, &p, true, 0, &t);
    if (gn_breaker_state(&b) != GENESIS_BREAKER_OPEN) {
        fprintf(stderr, "bench_overhead: the breaker did not open\n");
        exit(1);
    }
    uint64_t lease;
    uint32_t retry_in;
    unsigned long a0 = thread_allocs;
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++) /* within its open time (10 s of the injected clock) */
        if (gn_breaker_admit(&b, &p, 1, 100, &lease, &retry_in, &t))
            abort();
    loop_result r = finish(t0, a0, n);
    gn_breaker_destroy(&b);
    return r;
}

/* n sync requests; per-request latencies in µs into lat (may be NULL). */
static loop_result requests(genesis_coordinator *co, long n, int expect, double *lat)
{
    unsigned long a0 = thread_allocs;
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        double s = lat != NULL ? bench_now_s() : 0;
        genesis_result *res = NULL;
        int rv = genesis_coordinator_request(co, "bench", "ping", "ping", 4, NULL, &res);
        if (rv != expect) {
            fprintf(stderr, "bench_overhead: request returned %d: %s\n", rv,
                    genesis_result_message(res));
            exit(1);
        }
        genesis_result_free(res);
        if (lat != NULL)
            lat[i] = (bench_now_s() - s) * 1e6;
    }
    return finish(t0, a0, n);
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, "bench_overhead [--quick] [--json FILE] [--repeats N]", 5, &a);
    long n_tight = a.quick ? 1000000 : 20000000;
    long n_req = a.quick ? 2000 : 50000;
    int R = a.repeats;

    genesis_coordinator_options opts;
    genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    opts.log_level = GENESIS_LOG_ERROR;
    genesis_coordinator *co = NULL;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    if (genesis_coordinator_new(&co, &opts) != GENESIS_OK ||
        genesis_coordinator_register(co, "bench", &comp) != GENESIS_OK) {
        fprintf(stderr, "bench_overhead: setup failed: %s\n", genesis_last_error());
        return 1;
    }
    double *lat = malloc(sizeof(double) * (size_t)n_req);
    double v[6][16];
    double allocs[6] = {0};
    if (lat == NULL || R > 16)
        return 1;
    requests(co, n_req / 10, GENESIS_OK, NULL); /* warm up */
    for (int r = 0; r < R; r++) {
        loop_result x[5];
        x[0] = breaker_admit_closed(n_tight);
        x[1] = breaker_record_success(n_tight);
        x[2] = breaker_fail_fast(n_tight);
        genesis_coordinator_set_breaker(co, "bench", GENESIS_BREAKER_CLOSED);
        x[3] = requests(co, n_req, GENESIS_OK, NULL);
        genesis_coordinator_set_breaker(co, "bench", GENESIS_BREAKER_FORCED_OPEN);
        x[4] = requests(co, n_req, GENESIS_UNAVAILABLE, lat);
        v[5][r] = bench_percentile(lat, (size_t)n_req, 0.99) * 1000;
        for (int i = 0; i < 5; i++) {
            v[i][r] = x[i].ns;
            allocs[i] = x[i].allocs_per_op; /* deterministic: the last round's */
        }
    }
    genesis_coordinator_free(co);
    free(lat);

    bench_report rep = {.bench = "overhead"};
    const char *alloc_target = "allocation-free";
    bench_add(&rep, "breaker admission, CLOSED (gn_breaker_admit)", bench_median(v[0], R), "ns",
              NULL, 0, NULL, BENCH_MET_NONE);
    bench_add(&rep, "breaker record of an outcome (gn_breaker_record)", bench_median(v[1], R), "ns",
              NULL, 0, NULL, BENCH_MET_NONE);
    bench_add(&rep, "breaker fail-fast, OPEN (gn_breaker_admit refusing)", bench_median(v[2], R),
              "ns", NULL, 0, NULL, BENCH_MET_NONE);
    double breaker_allocs = allocs[0] + allocs[1] + allocs[2];
    bench_add(&rep, "allocations per breaker admission + record + fail-fast", breaker_allocs,
              "allocs", NULL, 0, alloc_target,
              !COUNT_MALLOC         ? BENCH_MET_NONE
              : breaker_allocs == 0 ? BENCH_MET_YES
                                    : BENCH_MET_NO);
    double ff = bench_median(v[4], R), ok = bench_median(v[3], R);
    bench_add(&rep, "request failing fast, breaker open (sync, mean)", ff / 1000, "us",
              "the same request, breaker closed", ok / 1000, "< 50 us",
              ff < 50000 ? BENCH_MET_YES : BENCH_MET_NO);
    double p99 = bench_median(v[5], R);
    bench_add(&rep, "request failing fast, breaker open (sync, p99)", p99 / 1000, "us", NULL, 0,
              "< 50 us", p99 < 50000 ? BENCH_MET_YES : BENCH_MET_NO);
    bench_add(&rep, "allocations per request failing fast, calling thread (incl. its result)",
              allocs[4], "allocs", "per request served, calling thread", allocs[3], NULL,
              BENCH_MET_NONE);
    printf("(%ld breaker operations and %ld requests per round, median of %d rounds%s)\n", n_tight,
           n_req, R, COUNT_MALLOC ? "" : "; allocations not counted under sanitizers");
    return bench_write(&rep, a.json) == 0 ? 0 : 1;
}
