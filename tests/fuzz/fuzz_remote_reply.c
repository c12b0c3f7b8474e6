/* Fuzz target: what a hostile or broken remote component replies. A real coordinator forwards a
 * request to remote component "fz", whose only instance is this harness's REP socket; it
 * answers with the input bytes. The caller must get a result whose status and reason follow
 * from those bytes: the component's own code (within the gRPC range) and message when they
 * decode as a genesis.v1.Reply, else INTERNAL with the reason gn_reply_decode names. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "coordinator/coordinator_impl.h"
#include "fuzz_target.h"
#include "wire/wire.h"

#define MAX_MESSAGE   (64u * 1024u)
#define COMPONENT_URL "inproc://genesis-fuzz-remote-reply"

static genesis_coordinator *coordinator;
static nng_socket component;
static nng_aio *component_aio;
/* The reply of the current input (written before the request starts, read by the callback). */
static pthread_mutex_t reply_lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *reply_bytes;
static size_t reply_len;

static void component_cb(void *arg)
{
    (void)arg;
    int err = nng_aio_result(component_aio);
    if (err == NNG_ECLOSED || err == NNG_ECANCELED)
        return;
    if (err == 0) {
        nng_msg *in = nng_aio_get_msg(component_aio);
        nng_msg *out = NULL;
        pthread_mutex_lock(&reply_lock);
        if (in != NULL && nng_msg_alloc(&out, reply_len) == 0 && reply_len > 0)
            memcpy(nng_msg_body(out), reply_bytes, reply_len);
        pthread_mutex_unlock(&reply_lock);
        if (out != NULL && nng_sendmsg(component, out, 0) != 0)
            nng_msg_free(out);
        nng_msg_free(in);
    }
    nng_recv_aio(component, component_aio);
}

static void shut_down(void)
{
    genesis_coordinator_free(coordinator);
    nng_close(component);
    nng_aio_free(component_aio);
}

static void start(void)
{
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.max_message_size = MAX_MESSAGE;
    o.log_level = GENESIS_LOG_ERROR;
    FUZZ_CHECK(genesis_coordinator_new(&coordinator, &o) == GENESIS_OK);
    FUZZ_CHECK(nng_rep0_open(&component) == 0);
    FUZZ_CHECK(nng_listen(component, COMPONENT_URL, NULL, 0) == 0);
    FUZZ_CHECK(nng_aio_alloc(&component_aio, component_cb, NULL) == 0);
    nng_recv_aio(component, component_aio);
    Genesis__V1__Register reg = GENESIS__V1__REGISTER__INIT;
    reg.component_id = "fz";
    reg.instance_id = "fz-1";
    reg.url = COMPONENT_URL;
    reg.heartbeat_interval_ms = 3600000; /* never declared DOWN while fuzzing */
    int reason = 0;
    char why[256];
    FUZZ_CHECK(gn_remote_register(coordinator, &reg, &reason, why, sizeof(why)) == GENESIS_OK);
    /* Every reply is judged on its own: no breaker opening on a run of bad ones. */
    FUZZ_CHECK(genesis_coordinator_set_breaker(coordinator, "fz", GENESIS_BREAKER_DISABLED) ==
               GENESIS_OK);
    atexit(shut_down);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (coordinator == NULL)
        start();
    pthread_mutex_lock(&reply_lock);
    reply_bytes = data;
    reply_len = size;
    pthread_mutex_unlock(&reply_lock);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.timeout_ms = 10000;
    genesis_result *res = NULL;
    int status = genesis_coordinator_request(coordinator, "fz", "fuzz", "q", 1, &opts, &res);
    FUZZ_CHECK(res != NULL && status == genesis_result_status(res));
    FUZZ_CHECK(status >= 0 && status <= 16);
    if (status != GENESIS_OK) /* a failure always names something */
        FUZZ_CHECK(genesis_result_message(res)[0] != '\0');

    gn_wire_reply *reply = NULL;
    int reason = 0;
    char why[256];
    int decoded = gn_reply_decode(data, size, MAX_MESSAGE, &reply, &reason, why, sizeof(why));
    if (decoded == GENESIS_OK) {
        /* A reply that decodes reached the caller as the component said (an out-of-range
         * code becomes UNKNOWN, a failure always has a reason, a success none). */
        int code = reply->code <= 16 ? (int)reply->code : GENESIS_UNKNOWN;
        FUZZ_CHECK(status == code);
        FUZZ_CHECK((status == GENESIS_OK) == (genesis_result_reason(res) == GENESIS_REASON_NONE));
        size_t n = 0, want_n = 0;
        const void *got = genesis_result_data(res, &n);
        const uint8_t *want_data = gn_payload_data(reply->payload, &want_n);
        /* A success carries the component's payload; a failure may be the call layer's own
         * (e.g. after retrying an UNAVAILABLE), with its own message and no payload. */
        if (status == GENESIS_OK)
            FUZZ_CHECK(n == want_n && (n == 0 || memcmp(got, want_data, n) == 0));
        gn_reply_free(reply);
    } else if (size <= MAX_MESSAGE + 4096) {
        FUZZ_CHECK(status == decoded);
        FUZZ_CHECK(genesis_result_reason(res) == reason);
    }
    genesis_result_free(res);
    return 0;
}
