/* Round-trip latency of a request through Genesis next to raw NNG req/rep baselines, measured
 * in the same run (the machines are shared and noisy: read the ratios, not the absolutes).
 *
 *   bench_roundtrip [--quick] [--rounds N]
 *
 * Rows: an in-process request through the coordinator vs a raw NNG inproc req/rep round trip;
 * a client -> coordinator -> in-process component request over ipc vs a raw NNG ipc round
 * trip (one hop). Each figure is the median of 5 rounds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <genesis/genesis.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#define ROUNDS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "pong", 4, NULL);
}

/* ---- raw NNG baseline: a REP echo server on its own thread --------------------------------- */

typedef struct echo_server {
    nng_socket rep;
    pthread_t thread;
} echo_server;

static void *echo_main(void *arg)
{
    echo_server *e = arg;
    for (;;) {
        nng_msg *m;
        if (nng_recvmsg(e->rep, &m, 0) != 0)
            return NULL;
        if (nng_sendmsg(e->rep, m, 0) != 0)
            nng_msg_free(m);
    }
}

static double raw_nng_us(const char *url, int n)
{
    echo_server e;
    nng_socket req;
    if (nng_rep0_open(&e.rep) != 0 || nng_listen(e.rep, url, NULL, 0) != 0 ||
        nng_req0_open(&req) != 0 || nng_dial(req, url, NULL, 0) != 0) {
        fprintf(stderr, "raw nng setup failed on %s\n", url);
        exit(1);
    }
    pthread_create(&e.thread, NULL, echo_main, &e);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        nng_msg *m;
        nng_msg_alloc(&m, 4);
        if (nng_sendmsg(req, m, 0) != 0 || nng_recvmsg(req, &m, 0) != 0) {
            fprintf(stderr, "raw nng round trip failed\n");
            exit(1);
        }
        nng_msg_free(m);
    }
    double us = (now_s() - t0) / n * 1e6;
    nng_close(req);
    nng_close(e.rep);
    pthread_join(e.thread, NULL);
    return us;
}

static double inproc_us(genesis_coordinator *co, int n)
{
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        genesis_result *res = NULL;
        if (genesis_coordinator_request(co, "bench", "ping", NULL, 0, NULL, &res) != GENESIS_OK) {
            fprintf(stderr, "request failed: %s\n", genesis_result_message(res));
            exit(1);
        }
        genesis_result_free(res);
    }
    return (now_s() - t0) / n * 1e6;
}

static double client_us(genesis_client *cl, int n)
{
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        genesis_result *res = NULL;
        if (genesis_client_request(cl, "bench", "ping", NULL, 0, NULL, &res) != GENESIS_OK) {
            fprintf(stderr, "request failed: %s\n", genesis_result_message(res));
            exit(1);
        }
        genesis_result_free(res);
    }
    return (now_s() - t0) / n * 1e6;
}

int main(int argc, char **argv)
{
    int n = 20000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            n = 500;
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
    }
    char dir[] = "/tmp/genesis-bench-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char fd_url[128], raw_url[128];
    snprintf(fd_url, sizeof(fd_url), "ipc://%s/fd.sock", dir);
    snprintf(raw_url, sizeof(raw_url), "ipc://%s/raw.sock", dir);

    genesis_coordinator *co = NULL;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    if (genesis_coordinator_new(&co, NULL) != GENESIS_OK ||
        genesis_coordinator_listen(co, fd_url, NULL) != GENESIS_OK ||
        genesis_coordinator_register(co, "bench", &comp) != GENESIS_OK) {
        fprintf(stderr, "coordinator setup failed: %s\n", genesis_last_error());
        return 1;
    }
    genesis_client *cl = NULL;
    if (genesis_client_new(&cl, NULL) != GENESIS_OK ||
        genesis_client_dial(cl, fd_url, NULL) != GENESIS_OK)
        return 1;

    double g_in[ROUNDS], r_in[ROUNDS], g_ipc[ROUNDS], r_ipc[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) { /* interleaved, so noise hits every row alike */
        g_in[r] = inproc_us(co, n);
        r_in[r] = raw_nng_us("inproc://genesis-bench", n);
        g_ipc[r] = client_us(cl, n / 4);
        r_ipc[r] = raw_nng_us(raw_url, n / 4);
    }
    double gi = median(g_in, ROUNDS), ri = median(r_in, ROUNDS);
    double gc = median(g_ipc, ROUNDS), rc = median(r_ipc, ROUNDS);
    printf("| path | Genesis us/req | baseline | baseline us/req | Genesis/baseline |\n");
    printf("|---|---|---|---|---|\n");
    printf("| in-process request (sync) | %.1f | raw NNG inproc req/rep | %.1f | %.2f |\n", gi, ri,
           gi / ri);
    printf("| client -> coordinator -> in-process component, ipc (sync) | %.1f | raw NNG ipc "
           "req/rep | %.1f | %.2f |\n",
           gc, rc, gc / rc);
    printf("(%d requests per round, median of %d rounds, %ld CPUs online)\n", n, ROUNDS,
           sysconf(_SC_NPROCESSORS_ONLN));
    genesis_client_free(cl);
    genesis_coordinator_free(co);
    char path[160];
    snprintf(path, sizeof(path), "%s/fd.sock", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/raw.sock", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
