/* Remote requests: client -> coordinator -> remote component (a genesis_service in this
 * process, reached by the coordinator over the same transport), over ipc and tcp, with 1 and
 * 16 requests in flight, next to a raw single-hop NNG req/rep at the same concurrency in the
 * same run (rounds interleaved, medians reported). The two-hop path's ceiling is about half
 * the single hop's throughput (target, docs/design.md: >= 0.5x). One more row per transport: client
 * -> coordinator -> in-process component (the path of the gateway and genesisctl), 16 in flight.
 *
 *   bench_remote [--quick] [--json FILE] [--repeats N] [--profile ipc|tcp]
 *
 * --profile runs only the remote component at 16 in flight on that transport once, after a
 * warm-up, the measured part marked for callgrind (bench/instructions). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <genesis/genesis.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "bench_report.h"
#include "raw_nng.h"

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "pong", 4, "text/plain");
}

static void die(const char *what)
{
    fprintf(stderr, "bench_remote: %s failed: %s\n", what, genesis_last_error());
    exit(1);
}

typedef struct c_pipe {
    genesis_client *cl;
    const char *target;
    genesis_call_options opts; /* the ping is idempotent: a retry after a lost reply is safe */
    pipe_state p;
} c_pipe;

/* Requests that failed (reported, not fatal: under load a heartbeat can starve and the
 * coordinator drop a connection with requests in flight). */
static atomic_long failed_requests;

static void c_issue(c_pipe *c);

static void c_done(genesis_result *res, void *arg)
{
    c_pipe *c = arg;
    if (genesis_result_status(res) != GENESIS_OK &&
        atomic_fetch_add(&failed_requests, 1) < 5) /* the first few, not a flood */
        fprintf(stderr, "bench_remote: request failed: %s\n", genesis_result_message(res));
    genesis_result_free(res);
    bool more = pipe_take(&c->p);
    pipe_done(&c->p);
    if (more)
        c_issue(c);
}

static void c_issue(c_pipe *c)
{
    if (genesis_client_request_async(c->cl, c->target, "ping", "ping", 4, &c->opts, c_done, c) !=
        GENESIS_OK)
        die("client_request_async");
}

/* The overall deadline of the benchmark's requests; 0 = the default. --profile raises it:
 * valgrind on a loaded machine can stall a thread for seconds, which must not fail the count. */
static uint32_t timeout_ms;

/* total requests with window in flight; requests/s. */
static double genesis_rate(genesis_client *cl, const char *target, int window, long total)
{
    c_pipe c = {.cl = cl, .target = target};
    genesis_call_options_init(&c.opts, GENESIS_CALL_OPTIONS_VERSION);
    c.opts.idempotent = 1;
    c.opts.timeout_ms = timeout_ms;
    pipe_init(&c.p, total);
    double t0 = bench_now_s();
    for (int i = 0; i < window; i++)
        if (pipe_take(&c.p))
            c_issue(&c);
    pipe_wait(&c.p);
    double rate = (double)total / (bench_now_s() - t0);
    pipe_destroy(&c.p);
    return rate;
}

typedef struct setup {
    genesis_coordinator *co;
    genesis_service *svc;
    genesis_client *cl;
    raw_echo *echo;
    nng_socket raw;
} setup;

/* Coordinator, service and raw echo on one transport: "ipc" (files in dir) or "tcp". */
static void setup_start(setup *s, const char *transport, const char *dir)
{
    char fd_url[256], svc_url[256], raw_url[256], bound[256];
    if (strcmp(transport, "ipc") == 0) {
        snprintf(fd_url, sizeof(fd_url), "ipc://%s/fd.sock", dir);
        snprintf(svc_url, sizeof(svc_url), "ipc://%s/svc.sock", dir);
        snprintf(raw_url, sizeof(raw_url), "ipc://%s/raw.sock", dir);
    } else {
        snprintf(fd_url, sizeof(fd_url), "tcp://127.0.0.1:0");
        snprintf(svc_url, sizeof(svc_url), "tcp://127.0.0.1:0");
        snprintf(raw_url, sizeof(raw_url), "tcp://127.0.0.1:0");
    }
    genesis_coordinator_options co_opts;
    genesis_coordinator_options_init(&co_opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    co_opts.log_level = GENESIS_LOG_ERROR;
    if (genesis_coordinator_new(&s->co, &co_opts) != GENESIS_OK ||
        genesis_coordinator_listen(s->co, fd_url, NULL) != GENESIS_OK ||
        genesis_coordinator_get_url(s->co, GENESIS_ENDPOINT_FRONT_DOOR, fd_url, sizeof(fd_url)) !=
            GENESIS_OK)
        die("coordinator");
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    if (genesis_coordinator_register(s->co, "local", &comp) != GENESIS_OK)
        die("register");
    genesis_service_options svc_opts;
    genesis_service_options_init(&svc_opts, GENESIS_SERVICE_OPTIONS_VERSION);
    svc_opts.log_level = GENESIS_LOG_ERROR;
    if (genesis_service_new(&s->svc, "remote", &comp, &svc_opts) != GENESIS_OK ||
        genesis_service_listen(s->svc, svc_url) != GENESIS_OK ||
        genesis_service_connect(s->svc, fd_url, NULL, 0) != GENESIS_OK)
        die("service");
    if (genesis_client_new(&s->cl, NULL) != GENESIS_OK ||
        genesis_client_dial(s->cl, fd_url, NULL) != GENESIS_OK)
        die("client");
    /* The coordinator dials the service in the background: wait for a first answer. */
    for (int i = 0;; i++) {
        genesis_result *res = NULL;
        int rv = genesis_client_request(s->cl, "remote", "ping", NULL, 0, NULL, &res);
        genesis_result_free(res);
        if (rv == GENESIS_OK)
            break;
        if (i == 100)
            die("first request");
        nng_msleep(20);
    }
    s->echo = raw_echo_start(raw_url, bound, sizeof(bound));
    s->raw = raw_dial(bound);
}

static void setup_stop(setup *s)
{
    nng_close(s->raw);
    raw_echo_stop(s->echo);
    genesis_client_free(s->cl);
    genesis_service_free(s->svc);
    genesis_coordinator_free(s->co);
}

static void remove_files(const char *dir)
{
    char path[300];
    const char *const files[] = {"fd.sock", "svc.sock", "raw.sock"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv,
                     "bench_remote [--quick] [--json FILE] [--repeats N] [--profile ipc|tcp]", 5,
                     &a);
    static const char *const transports[] = {"ipc", "tcp"};
    static const int windows[] = {1, 16};
    long total[2] = {a.quick ? 500 : 10000, a.quick ? 2000 : 40000};
    char dir[] = "/tmp/genesis-bench-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    if (a.only != NULL) { /* --profile ipc|tcp: 16 in flight to the remote component */
        if (strcmp(a.only, "ipc") != 0 && strcmp(a.only, "tcp") != 0) {
            fprintf(stderr, "bench_remote: --profile ipc|tcp\n");
            return 2;
        }
        setup s;
        setup_start(&s, a.only, dir);
        genesis_policy p;
        if (genesis_coordinator_get_policy(s.co, "remote", &p) != GENESIS_OK)
            die("get_policy");
        p.per_try_timeout_ms = 600000;
        if (genesis_coordinator_set_policy(s.co, "remote", &p) != GENESIS_OK)
            die("set_policy");
        timeout_ms = 600000;
        genesis_rate(s.cl, "remote", 16, total[1] / 10); /* warm up */
        bench_measure_begin();
        double rate = genesis_rate(s.cl, "remote", 16, total[1]);
        bench_measure_end(total[1]);
        printf("%.0f req/s\n", rate);
        setup_stop(&s);
        remove_files(dir);
        return 0;
    }
    int R = a.repeats;
    bench_report rep = {.bench = "remote"};
    for (int t = 0; t < 2; t++) {
        setup s;
        setup_start(&s, transports[t], dir);
        double *g = calloc((size_t)R * 3, sizeof(double));
        double *raw = calloc((size_t)R * 2, sizeof(double));
        if (g == NULL || raw == NULL)
            return 1;
        genesis_rate(s.cl, "remote", 16, total[0] / 5); /* warm up */
        for (int r = 0; r < R; r++) {
            for (int w = 0; w < 2; w++) {
                g[w * R + r] = genesis_rate(s.cl, "remote", windows[w], total[w]);
                raw[w * R + r] = raw_pipelined(s.raw, windows[w], total[w]);
            }
            g[2 * R + r] = genesis_rate(s.cl, "local", 16, total[1]);
        }
        for (int w = 0; w < 2; w++) {
            double gv = bench_median(g + w * R, R), rv = bench_median(raw + w * R, R);
            char name[128], base[128];
            snprintf(name, sizeof(name),
                     "client -> coordinator -> remote component, %s, %d in flight", transports[t],
                     windows[w]);
            snprintf(base, sizeof(base), "raw NNG %s req/rep, one hop, %d in flight", transports[t],
                     windows[w]);
            bench_add(&rep, name, gv, "req/s", base, rv, ">= 0.5x raw one hop",
                      gv >= 0.5 * rv ? BENCH_MET_YES : BENCH_MET_NO);
        }
        char name[128], base[128];
        snprintf(name, sizeof(name),
                 "client -> coordinator -> in-process component, %s, 16 in flight", transports[t]);
        snprintf(base, sizeof(base), "raw NNG %s req/rep, one hop, 16 in flight", transports[t]);
        bench_add(&rep, name, bench_median(g + 2 * R, R), "req/s", base, bench_median(raw + R, R),
                  NULL, BENCH_MET_NONE);
        free(g);
        free(raw);
        setup_stop(&s);
    }
    printf("(%ld / %ld requests per round at 1 / 16 in flight, median of %d rounds)\n", total[0],
           total[1], R);
    long failed = atomic_load(&failed_requests);
    bench_add(&rep, "remote requests failed (all rounds)", (double)failed, "requests", NULL, 0,
              "none", failed == 0 ? BENCH_MET_YES : BENCH_MET_NO);
    remove_files(dir);
    return bench_write(&rep, a.json) == 0 ? 0 : 1;
}
