/* Asynchronous REQ exchanges (see rpc.h). */
#include <stdio.h>
#include <stdlib.h>

#include "base/common.h"
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "wire/rpc.h"

typedef struct rpc {
    nng_ctx ctx;
    nng_aio *aio;
    int64_t deadline_ms;
    size_t max_reply;
    gn_rpc_fn cb;
    void *arg;
    int sending;
} rpc;

static void rpc_done(rpc *r, int status, int reason, const char *why, gn_wire_reply *reply)
{
    r->cb(status, reason, why, reply, r->arg);
    gn_reply_free(reply);
    nng_ctx_close(r->ctx);
    nng_aio_reap(r->aio); /* we are inside this aio's callback: free it later */
    free(r);
}

static void rpc_fail_nng(rpc *r, int err, const char *stage)
{
    int reason;
    int status = gn_status_from_nng(err, &reason);
    char why[160];
    if (err == NNG_ETIMEDOUT)
        snprintf(why, sizeof(why), "no reply before the deadline (%s)", stage);
    else
        snprintf(why, sizeof(why), "%s failed: %s", stage, nng_strerror(err));
    if (err == NNG_ECLOSED) {
        status = GENESIS_CANCELLED;
        reason = GENESIS_REASON_SHUTTING_DOWN;
    } else if (r->sending) {
        reason = GENESIS_REASON_UNREACHABLE; /* no peer took the request: it never ran */
    } else if (err == NNG_ECONNRESET || err == NNG_ECONNSHUT || err == NNG_ECONNABORTED) {
        /* The peer took the request, then its connection went away: it may have run. */
        status = GENESIS_UNAVAILABLE;
        reason = GENESIS_REASON_TRANSPORT_ERROR;
        snprintf(why, sizeof(why), "connection lost after the request was sent: %s",
                 nng_strerror(err));
    }
    rpc_done(r, status, reason, why, NULL);
}

static void rpc_cb(void *arg)
{
    rpc *r = arg;
    int err = nng_aio_result(r->aio);
    if (r->sending) {
        if (err != 0) {
            nng_msg_free(nng_aio_get_msg(r->aio));
            rpc_fail_nng(r, err, "send");
            return;
        }
        r->sending = 0;
        int64_t left = r->deadline_ms - gn_now_ms();
        nng_aio_set_timeout(r->aio, left > 0 ? (nng_duration)left : 1);
        nng_ctx_recv(r->ctx, r->aio);
        return;
    }
    if (err != 0) {
        rpc_fail_nng(r, err, "receive");
        return;
    }
    nng_msg *msg = nng_aio_get_msg(r->aio);
    gn_wire_reply *reply = NULL;
    int reason = GENESIS_REASON_NONE;
    char why[160] = "";
    int status = gn_reply_decode(nng_msg_body(msg), nng_msg_len(msg), r->max_reply, &reply, &reason,
                                 why, sizeof(why));
    nng_msg_free(msg);
    rpc_done(r, status, reason, why, reply);
}

int gn_rpc_start(nng_socket sock, nng_msg *msg, uint32_t timeout_ms, size_t max_reply, gn_rpc_fn cb,
                 void *arg)
{
    rpc *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        nng_msg_free(msg);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    int err = nng_aio_alloc(&r->aio, rpc_cb, r);
    if (err == 0) {
        err = nng_ctx_open(&r->ctx, sock);
        if (err != 0)
            nng_aio_free(r->aio);
    }
    if (err != 0) {
        free(r);
        nng_msg_free(msg);
        int reason;
        return gn_status_from_nng(err, &reason);
    }
    r->deadline_ms = gn_now_ms() + timeout_ms;
    r->max_reply = max_reply;
    r->cb = cb;
    r->arg = arg;
    r->sending = 1;
    nng_aio_set_msg(r->aio, msg);
    nng_aio_set_timeout(r->aio, timeout_ms > 0 ? (nng_duration)timeout_ms : 1);
    nng_ctx_send(r->ctx, r->aio);
    return GENESIS_OK;
}

int gn_rpc_configure(nng_socket sock, size_t max_reply)
{
    int err = nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    if (err == 0)
        err = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, max_reply + 4096);
    return err == 0 ? GENESIS_OK : gn_status_from_nng(err, NULL);
}
