/* Fuzz target: the coordinator's front door, decode and dispatch, as deep as a real peer
 * reaches. One in-process coordinator (an echo component, no checkpoint store) listens on an
 * inproc:// front door; each input is sent as one message from a REQ socket, exactly as a
 * hostile peer would, and the reply must decode. When the input is not a valid envelope, the
 * reply must carry the status and reason that gn_envelope_decode names.
 *
 * Kept deterministic and fast: Register bodies are pointed at this harness's own component
 * socket (never dialing an address from the input), and faults, modes and breakers that an
 * input may set through Admin envelopes are reset after each input. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "fuzz_target.h"
#include "genesis/genesis.h"
#include "wire/wire.h"

#define MAX_MESSAGE   (64u * 1024u)
#define COMPONENT_URL "inproc://genesis-fuzz-front-door-component"

static genesis_coordinator *coordinator;
static nng_socket client, component;
static nng_aio *component_aio;

static void echo_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)arg;
    size_t len = 0;
    const void *data = genesis_request_data(req, &len);
    genesis_reply_set(reply, data, len, genesis_request_content_type(req));
}

/* A remote component registered by an input answers every forwarded request with OK. */
static void component_cb(void *arg)
{
    (void)arg;
    int err = nng_aio_result(component_aio);
    if (err == NNG_ECLOSED || err == NNG_ECANCELED)
        return;
    if (err == 0) {
        nng_msg *in = nng_aio_get_msg(component_aio);
        if (nng_aio_get_output(component_aio, 0) == NULL && in != NULL) {
            nng_msg_free(in);
            nng_msg *out = NULL;
            if (gn_reply_msg(&out, GENESIS_OK, GENESIS_REASON_NONE, "", "ok", 2, "text/plain") ==
                    GENESIS_OK &&
                nng_sendmsg(component, out, 0) != 0)
                nng_msg_free(out);
        }
    }
    nng_recv_aio(component, component_aio);
}

static void shut_down(void)
{
    nng_close(client);
    nng_close(component);
    nng_aio_free(component_aio);
    genesis_coordinator_free(coordinator);
}

static void start(void)
{
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.max_message_size = MAX_MESSAGE;
    o.log_level = GENESIS_LOG_ERROR;
    genesis_component echo = {.version = GENESIS_COMPONENT_VERSION, .on_request = echo_request};
    char url[128];
    snprintf(url, sizeof(url), "inproc://genesis-fuzz-front-door-%d", (int)getpid());
    FUZZ_CHECK(genesis_coordinator_new(&coordinator, &o) == GENESIS_OK);
    FUZZ_CHECK(genesis_coordinator_listen(coordinator, url, NULL) == GENESIS_OK);
    FUZZ_CHECK(genesis_coordinator_register(coordinator, "echo", &echo) == GENESIS_OK);
    FUZZ_CHECK(nng_rep0_open(&component) == 0);
    FUZZ_CHECK(nng_listen(component, COMPONENT_URL, NULL, 0) == 0);
    FUZZ_CHECK(nng_aio_alloc(&component_aio, component_cb, NULL) == 0);
    nng_recv_aio(component, component_aio);
    FUZZ_CHECK(nng_req0_open(&client) == 0);
    nng_socket_set_ms(client, NNG_OPT_RECVTIMEO, 10000);
    nng_socket_set_ms(client, NNG_OPT_SENDTIMEO, 10000);
    nng_socket_set_size(client, NNG_OPT_RECVMAXSZ, 0);
    FUZZ_CHECK(nng_dial(client, url, NULL, 0) == 0);
    atexit(shut_down);
}

/* The bytes to send: the input itself, or (a Register) the input re-encoded with the
 * harness's component URL. Returns a new message, or NULL to skip the input. */
static nng_msg *to_message(const uint8_t *data, size_t size, gn_envelope *env)
{
    nng_msg *msg = NULL;
    if (env != NULL && env->body_case == GENESIS__V1__ENVELOPE__BODY_REGISTER) {
        char *url = env->register_->url;
        env->register_->url = COMPONENT_URL;
        uint32_t version = env->version;
        FUZZ_CHECK(gn_envelope_encode(env, &msg) == GENESIS_OK);
        env->register_->url = url;
        env->version = version;
        return msg;
    }
    FUZZ_CHECK(nng_msg_alloc(&msg, size) == 0);
    if (size > 0)
        memcpy(nng_msg_body(msg), data, size);
    return msg;
}

static void reset_state(void)
{
    genesis_coordinator_inject_fault(coordinator, "echo", NULL);
    genesis_coordinator_set_policy(coordinator, "echo", NULL);
    genesis_coordinator_set_breaker(coordinator, "echo", GENESIS_BREAKER_CLOSED);
    genesis_coordinator_set_mode(coordinator, GENESIS_MODE_AUTO);
    genesis_policy p;
    genesis_policy_init(&p, GENESIS_POLICY_VERSION);
    genesis_coordinator_set_policy(coordinator, NULL, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (coordinator == NULL)
        start();
    gn_envelope *env = NULL;
    int want_reason = GENESIS_REASON_NONE;
    char why[256] = "";
    int want = gn_envelope_decode(data, size, MAX_MESSAGE, &env, &want_reason, why, sizeof(why));
    FUZZ_CHECK((want == GENESIS_OK) == (env != NULL));
    FUZZ_CHECK(want == GENESIS_OK || (want_reason != GENESIS_REASON_NONE && why[0] != '\0'));
    nng_msg *msg = to_message(data, size, env);
    FUZZ_CHECK(nng_sendmsg(client, msg, 0) == 0);
    int err = nng_recvmsg(client, &msg, 0);
    /* A request may wait on a slow component up to its own deadline; the front door answers
     * everything else at once. */
    FUZZ_CHECK(err == 0 || (err == NNG_ETIMEDOUT && env != NULL &&
                            env->body_case == GENESIS__V1__ENVELOPE__BODY_REQUEST));
    if (err == 0) {
        gn_wire_reply *reply = NULL;
        int reason = 0;
        FUZZ_CHECK(gn_reply_decode(nng_msg_body(msg), nng_msg_len(msg), 0, &reply, &reason, why,
                                   sizeof(why)) == GENESIS_OK);
        if (want != GENESIS_OK) {
            FUZZ_CHECK((int)reply->code == want);
            FUZZ_CHECK((int)reply->reason == want_reason);
            FUZZ_CHECK(reply->message != NULL && reply->message[0] != '\0');
        } else if (reply->code != GENESIS_OK) {
            FUZZ_CHECK(reply->code <= 16);
        }
        gn_reply_free(reply);
        nng_msg_free(msg);
    }
    gn_envelope_free(env);
    reset_state();
    return 0;
}
