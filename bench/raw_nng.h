/* Raw NNG req/rep baselines for the benchmarks: a REP echo served by many contexts, sync round
 * trips, and pipelined round trips with a window of contexts. Also the counter the pipelined
 * loops (raw and Genesis) share. */
#ifndef BENCH_RAW_NNG_H
#define BENCH_RAW_NNG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <nng/nng.h>

#define RAW_MAX_WINDOW 64

typedef struct raw_echo raw_echo;

/* Listen on url (tcp port 0 allowed) and echo every request; *bound receives the URL
 * actually listened on. Exits on failure. */
raw_echo *raw_echo_start(const char *url, char *bound, size_t size);
void raw_echo_stop(raw_echo *e);

/* A REQ socket dialed to url, no transport resends. Exits on failure. */
nng_socket raw_dial(const char *url);

/* n sync round trips of a 4-byte message; per-request latencies in µs into lat. */
void raw_sync(nng_socket req, int n, double *lat);

/* total round trips with window (<= RAW_MAX_WINDOW) outstanding; returns requests/s. */
double raw_pipelined(nng_socket req, int window, long total);

/* Requests started and completed by a pipelined loop: take before starting one, done after
 * one completed; wait until all total completed. */
typedef struct pipe_state {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    atomic_long started;
    long total;
    long done;
} pipe_state;

void pipe_init(pipe_state *p, long total);
void pipe_destroy(pipe_state *p);
bool pipe_take(pipe_state *p);
void pipe_done(pipe_state *p);
void pipe_wait(pipe_state *p);

#endif /* BENCH_RAW_NNG_H */
