/* See raw_nng.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench_report.h"
#include "raw_nng.h"

typedef struct echo_ctx {
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
} echo_ctx;

struct raw_echo {
    nng_socket rep;
    echo_ctx c[RAW_MAX_WINDOW];
};

static void echo_cb(void *arg)
{
    echo_ctx *c = arg;
    if (nng_aio_result(c->aio) != 0) {
        if (c->sending)
            nng_msg_free(nng_aio_get_msg(c->aio));
        return; /* closed */
    }
    if (c->sending) {
        c->sending = false;
        nng_ctx_recv(c->ctx, c->aio);
    } else {
        c->sending = true;
        nng_ctx_send(c->ctx, c->aio);
    }
}

raw_echo *raw_echo_start(const char *url, char *bound, size_t size)
{
    raw_echo *e = calloc(1, sizeof(*e));
    nng_listener l;
    if (e == NULL || nng_rep0_open(&e->rep) != 0 || nng_listen(e->rep, url, &l, 0) != 0) {
        fprintf(stderr, "bench: raw REP on %s failed\n", url);
        exit(1);
    }
    snprintf(bound, size, "%s", url);
    nng_sockaddr sa;
    if (strncmp(url, "tcp://", 6) == 0 && nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) == 0)
        snprintf(bound, size, "tcp://127.0.0.1:%u",
                 (unsigned)((sa.s_in.sa_port >> 8) | ((sa.s_in.sa_port & 0xff) << 8)));
    for (int i = 0; i < RAW_MAX_WINDOW; i++) {
        if (nng_aio_alloc(&e->c[i].aio, echo_cb, &e->c[i]) != 0 ||
            nng_ctx_open(&e->c[i].ctx, e->rep) != 0)
            exit(1);
        nng_ctx_recv(e->c[i].ctx, e->c[i].aio);
    }
    return e;
}

void raw_echo_stop(raw_echo *e)
{
    nng_close(e->rep);
    for (int i = 0; i < RAW_MAX_WINDOW; i++)
        nng_aio_free(e->c[i].aio);
    free(e);
}

nng_socket raw_dial(const char *url)
{
    nng_socket req;
    if (nng_req0_open(&req) != 0 || nng_dial(req, url, NULL, 0) != 0) {
        fprintf(stderr, "bench: raw REQ to %s failed\n", url);
        exit(1);
    }
    nng_socket_set_ms(req, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    return req;
}

void raw_sync(nng_socket req, int n, double *lat)
{
    for (int i = 0; i < n; i++) {
        double t0 = bench_now_s();
        nng_msg *m;
        nng_msg_alloc(&m, 0);
        nng_msg_append(m, "ping", 4);
        if (nng_sendmsg(req, m, 0) != 0 || nng_recvmsg(req, &m, 0) != 0) {
            fprintf(stderr, "bench: raw round trip failed\n");
            exit(1);
        }
        nng_msg_free(m);
        lat[i] = (bench_now_s() - t0) * 1e6;
    }
}

void pipe_init(pipe_state *p, long total)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cv, NULL);
    atomic_init(&p->started, 0);
    p->total = total;
    p->done = 0;
}

void pipe_destroy(pipe_state *p)
{
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->lock);
}

bool pipe_take(pipe_state *p)
{
    return atomic_fetch_add(&p->started, 1) < p->total;
}

void pipe_done(pipe_state *p)
{
    pthread_mutex_lock(&p->lock);
    if (++p->done == p->total)
        pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->lock);
}

void pipe_wait(pipe_state *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->done < p->total)
        pthread_cond_wait(&p->cv, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

typedef struct raw_req {
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
    pipe_state *p;
} raw_req;

static void raw_send(raw_req *r)
{
    nng_msg *m;
    nng_msg_alloc(&m, 0);
    nng_msg_append(m, "ping", 4);
    r->sending = true;
    nng_aio_set_msg(r->aio, m);
    nng_ctx_send(r->ctx, r->aio);
}

static void raw_req_cb(void *arg)
{
    raw_req *r = arg;
    if (nng_aio_result(r->aio) != 0) {
        fprintf(stderr, "bench: raw pipelined request failed: %s\n",
                nng_strerror(nng_aio_result(r->aio)));
        exit(1);
    }
    if (r->sending) {
        r->sending = false;
        nng_ctx_recv(r->ctx, r->aio);
        return;
    }
    nng_msg_free(nng_aio_get_msg(r->aio));
    pipe_state *p = r->p;
    bool more = pipe_take(p);
    pipe_done(p);
    if (more)
        raw_send(r);
}

double raw_pipelined(nng_socket req, int window, long total)
{
    pipe_state p;
    pipe_init(&p, total);
    raw_req r[RAW_MAX_WINDOW];
    if (window > RAW_MAX_WINDOW)
        window = RAW_MAX_WINDOW;
    for (int i = 0; i < window; i++) {
        r[i].p = &p;
        if (nng_aio_alloc(&r[i].aio, raw_req_cb, &r[i]) != 0 || nng_ctx_open(&r[i].ctx, req) != 0)
            exit(1);
    }
    double t0 = bench_now_s();
    for (int i = 0; i < window; i++)
        if (pipe_take(&p))
            raw_send(&r[i]);
    pipe_wait(&p);
    double rate = (double)total / (bench_now_s() - t0);
    for (int i = 0; i < window; i++) {
        nng_aio_free(r[i].aio);
        nng_ctx_close(r[i].ctx);
    }
    pipe_destroy(&p);
    return rate;
}
