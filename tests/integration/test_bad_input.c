/* Hostile and malformed input on the coordinator's front door, sent over a raw NNG REQ socket:
 * every message gets a clear error reply (or, past NNG's receive limit, the connection is
 * dropped), and the front door keeps serving normal requests afterwards. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_tempdir.h"
#include "gt_wait.h"
#include "wire/wire.h"

#define MAX_MESSAGE (16u * 1024u)

typedef struct fixture {
    bool tcp;
    char dir[128];
    char url[256];
    genesis_coordinator *c;
    nng_socket sock;
    bool sock_open;
} fixture;

static void echo_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)arg;
    size_t len = 0;
    const void *data = genesis_request_data(req, &len);
    genesis_reply_set(reply, data, len, genesis_request_content_type(req));
}

static int teardown(void **state);

/* A REQ socket dialed to the front door. */
static int open_socket(fixture *f)
{
    int err = nng_req0_open(&f->sock);
    if (err != 0) {
        print_error("nng_req0_open: %s\n", nng_strerror(err));
        return -1;
    }
    f->sock_open = true;
    nng_socket_set_ms(f->sock, NNG_OPT_RECONNMINT, 10);
    nng_socket_set_ms(f->sock, NNG_OPT_RECONNMAXT, 100);
    nng_socket_set_size(f->sock, NNG_OPT_RECVMAXSZ, 0);
    if ((err = nng_dial(f->sock, f->url, NULL, 0)) != 0) {
        print_error("dial %s: %s\n", f->url, nng_strerror(err));
        return -1;
    }
    return 0;
}

/* Each test runs over ipc:// and over tcp://; the prestate says which. */
static const bool over_ipc = false;
static const bool over_tcp = true;

static int setup(void **state)
{
    bool tcp = *(const bool *)*state;
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    *state = f;
    f->tcp = tcp;
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.max_message_size = MAX_MESSAGE;
    o.log_level = GENESIS_LOG_ERROR;
    char want[256];
    int rv = GENESIS_OK;
    if (gt_tempdir_make(f->dir, sizeof(f->dir)) != 0 ||
        (rv = genesis_coordinator_new(&f->c, &o)) != GENESIS_OK ||
        (rv = genesis_coordinator_listen(
             f->c, tcp ? "tcp://127.0.0.1:0" : gt_ipc_url(want, sizeof(want), f->dir, "front"),
             NULL)) != GENESIS_OK ||
        (rv = genesis_coordinator_get_url(f->c, GENESIS_ENDPOINT_FRONT_DOOR, f->url,
                                          sizeof(f->url))) != GENESIS_OK)
        goto fail;
    genesis_component echo = {.version = GENESIS_COMPONENT_VERSION, .on_request = echo_request};
    if ((rv = genesis_coordinator_register(f->c, "echo", &echo)) != GENESIS_OK)
        goto fail;
    if (open_socket(f) != 0)
        goto fail;
    return 0;
fail:
    print_error("setup failed: %s: %s\n", genesis_status_name(rv), genesis_last_error());
    teardown(state);
    return -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f == NULL)
        return 0;
    *state = NULL;
    if (f->sock_open)
        nng_close(f->sock);
    genesis_coordinator_free(f->c);
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

/* Send raw bytes and wait up to timeout_ms for a reply. Returns 0 and *out (a decoded reply)
 * or an NNG error (NNG_ETIMEDOUT when nothing came back). */
static int raw_call(fixture *f, const void *buf, size_t len, int timeout_ms, gn_wire_reply **out)
{
    *out = NULL;
    nng_socket_set_ms(f->sock, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_socket_set_ms(f->sock, NNG_OPT_SENDTIMEO, timeout_ms);
    nng_msg *msg = NULL;
    int err = nng_msg_alloc(&msg, len);
    if (err != 0)
        return err;
    if (len > 0)
        memcpy(nng_msg_body(msg), buf, len);
    if ((err = nng_sendmsg(f->sock, msg, 0)) != 0) {
        nng_msg_free(msg);
        return err;
    }
    if ((err = nng_recvmsg(f->sock, &msg, 0)) != 0)
        return err;
    int reason = 0;
    char why[256] = "";
    int rv =
        gn_reply_decode(nng_msg_body(msg), nng_msg_len(msg), 0, out, &reason, why, sizeof(why));
    nng_msg_free(msg);
    if (rv != GENESIS_OK)
        fail_msg("the coordinator's reply does not decode: %s / %s: %s", genesis_status_name(rv),
                 genesis_reason_name(reason), why);
    return 0;
}

/* A reply is required: fail the test if none arrives. */
static gn_wire_reply *must_reply(fixture *f, const void *buf, size_t len, const char *what)
{
    gn_wire_reply *reply = NULL;
    int err = raw_call(f, buf, len, GT_WAIT_MS, &reply);
    if (err != 0)
        fail_msg("no reply to %s: %s", what, nng_strerror(err));
    return reply;
}

static void *pack(const gn_envelope *env, size_t *len)
{
    *len = genesis__v1__envelope__get_packed_size(env);
    void *buf = malloc(*len > 0 ? *len : 1);
    assert_non_null(buf);
    genesis__v1__envelope__pack(env, buf);
    return buf;
}

/* An encoded Request envelope for target/type with payload. */
static void *request_bytes(const char *target, const char *type, const char *payload, size_t *len)
{
    Genesis__V1__Payload p = GENESIS__V1__PAYLOAD__INIT;
    p.data.data = (uint8_t *)payload;
    p.data.len = payload != NULL ? strlen(payload) : 0;
    p.content_type = "text/plain";
    Genesis__V1__Request req = GENESIS__V1__REQUEST__INIT;
    req.target = (char *)target;
    req.type = (char *)type;
    req.payload = &p;
    req.source = "raw-test";
    req.timeout_ms = 5000;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.version = GENESIS_PROTOCOL_VERSION;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REQUEST;
    env.request = &req;
    return pack(&env, len);
}

/* A well-formed request to the echo component gets its answer. */
static void assert_front_door_works(fixture *f)
{
    size_t len = 0;
    void *buf = request_bytes("echo", "echo", "still alive", &len);
    gn_wire_reply *reply = must_reply(f, buf, len, "a normal request");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_OK, GENESIS_REASON_NONE);
    size_t n = 0;
    const uint8_t *data = gn_payload_data(reply->payload, &n);
    assert_int_equal(n, strlen("still alive"));
    assert_memory_equal(data, "still alive", n);
    gn_reply_free(reply);
    free(buf);
}

static uint64_t malformed_count(fixture *f)
{
    genesis_coordinator_stats st;
    memset(&st, 0, sizeof(st));
    st.version = GENESIS_COORDINATOR_STATS_VERSION;
    assert_ok(genesis_coordinator_get_stats(f->c, &st));
    return st.malformed;
}

static void assert_message_text(const gn_wire_reply *reply)
{
    if (reply->message == NULL || reply->message[0] == '\0')
        fail_msg("error reply %s / %s carries no message", genesis_status_name((int)reply->code),
                 genesis_reason_name((int)reply->reason));
}

static void test_normal_request(void **state)
{
    assert_front_door_works(*state);
}

static void test_garbage_bytes(void **state)
{
    fixture *f = *state;
    static const char garbage[] = "GARBAGE \xff\xfe\x00\x01 this is not protobuf";
    uint64_t before = malformed_count(f);
    gn_wire_reply *reply = must_reply(f, garbage, sizeof(garbage) - 1, "garbage bytes");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_INVALID_ARGUMENT,
                 GENESIS_REASON_MALFORMED_MESSAGE);
    assert_message_text(reply);
    gn_reply_free(reply);
    assert_int_equal(malformed_count(f), before + 1);
    assert_front_door_works(f);
}

static void test_truncated_envelope(void **state)
{
    fixture *f = *state;
    size_t len = 0;
    uint8_t *buf = request_bytes("echo", "echo", "a payload long enough to cut in half", &len);
    uint64_t before = malformed_count(f);
    gn_wire_reply *reply = must_reply(f, buf, len / 2, "a truncated envelope");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_INVALID_ARGUMENT,
                 GENESIS_REASON_MALFORMED_MESSAGE);
    assert_message_text(reply);
    gn_reply_free(reply);
    reply = must_reply(f, buf, len - 1, "an envelope missing its last byte");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_INVALID_ARGUMENT,
                 GENESIS_REASON_MALFORMED_MESSAGE);
    gn_reply_free(reply);
    assert_int_equal(malformed_count(f), before + 2);
    free(buf);
    assert_front_door_works(f);
}

static void test_empty_message(void **state)
{
    fixture *f = *state;
    uint64_t before = malformed_count(f);
    gn_wire_reply *reply = must_reply(f, NULL, 0, "an empty message");
    if (reply->code == GENESIS_OK || (reply->reason != GENESIS_REASON_MALFORMED_MESSAGE &&
                                      reply->reason != GENESIS_REASON_UNKNOWN_MESSAGE))
        fail_msg("empty message answered %s / %s (\"%s\"); expected MALFORMED_MESSAGE or "
                 "UNKNOWN_MESSAGE",
                 genesis_status_name((int)reply->code), genesis_reason_name((int)reply->reason),
                 reply->message);
    assert_message_text(reply);
    gn_reply_free(reply);
    assert_int_equal(malformed_count(f), before + 1);
    assert_front_door_works(f);
}

static void test_envelope_without_body(void **state)
{
    fixture *f = *state;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.version = GENESIS_PROTOCOL_VERSION;
    size_t len = 0;
    void *buf = pack(&env, &len);
    gn_wire_reply *reply = must_reply(f, buf, len, "an envelope without body");
    if (reply->code == GENESIS_OK || reply->reason != GENESIS_REASON_UNKNOWN_MESSAGE)
        fail_msg("envelope without body answered %s / %s (\"%s\"); expected UNKNOWN_MESSAGE",
                 genesis_status_name((int)reply->code), genesis_reason_name((int)reply->reason),
                 reply->message);
    assert_message_text(reply);
    gn_reply_free(reply);
    free(buf);
    assert_front_door_works(f);
}

static void test_newer_protocol_version(void **state)
{
    fixture *f = *state;
    Genesis__V1__StatusQuery q = GENESIS__V1__STATUS_QUERY__INIT;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.version = GENESIS_PROTOCOL_VERSION + 1;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_STATUS;
    env.status = &q;
    size_t len = 0;
    void *buf = pack(&env, &len);
    gn_wire_reply *reply = must_reply(f, buf, len, "a newer protocol version");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_FAILED_PRECONDITION,
                 GENESIS_REASON_UNSUPPORTED_VERSION);
    gn_reply_free(reply);
    free(buf);
    assert_front_door_works(f);
}

/* Over the limit: either an error reply that names the size, or (past NNG's receive limit)
 * the connection is dropped and no reply comes. Never a success, never a crash. */
static void check_oversized(fixture *f, size_t size)
{
    uint8_t *big = malloc(size);
    assert_non_null(big);
    memset(big, 'B', size);
    /* A valid-looking start: field 10 (request), so only the size is wrong. */
    big[0] = 0x52;
    gn_wire_reply *reply = NULL;
    int err = raw_call(f, big, size, 2000, &reply);
    if (err == 0) {
        if (reply->reason != GENESIS_REASON_MESSAGE_TOO_LARGE ||
            (reply->code != GENESIS_RESOURCE_EXHAUSTED && reply->code != GENESIS_INVALID_ARGUMENT))
            fail_msg("%zu-byte message answered %s / %s (\"%s\"); expected MESSAGE_TOO_LARGE", size,
                     genesis_status_name((int)reply->code), genesis_reason_name((int)reply->reason),
                     reply->message);
        assert_message_text(reply);
        print_message("%zu bytes: %s / %s: %s\n", size, genesis_status_name((int)reply->code),
                      genesis_reason_name((int)reply->reason), reply->message);
        gn_reply_free(reply);
    } else {
        if (err != NNG_ETIMEDOUT)
            fail_msg("%zu-byte message: unexpected error %s", size, nng_strerror(err));
        print_message("%zu bytes: dropped by NNG (no reply)\n", size);
    }
    free(big);
    /* NNG closes the connection of a peer that sends more than the receive limit; the
     * sender's REQ socket may keep resending the oversized request on reconnection. What
     * matters here is the coordinator: check the front door with a new connection. */
    nng_close(f->sock);
    f->sock_open = false;
    assert_int_equal(open_socket(f), 0);
    assert_front_door_works(f);
}

static void test_oversized_messages(void **state)
{
    fixture *f = *state;
    /* Just over the limit: read, and answered. */
    check_oversized(f, MAX_MESSAGE + 1);
    /* Past what the front door reads (2 x limit + 1 KiB): NNG drops the connection, and the
     * sender's REQ socket reconnects and resends. Over ipc this reconnect-and-drop cycle can
     * hit NNG 1.5.2's listener bug (nanomsg/nng#1518, see test_hang_up_during_handshake),
     * which the coordinator must heal. */
    check_oversized(f, 40000);
    /* Much larger: only over tcp. Over ipc, NNG 1.5.2 wedges the *sender's* pipe when a
     * message above the receiver's NNG_OPT_RECVMAXSZ is also above ~64 KiB: the sender never
     * learns the connection is gone and nng_close() on it hangs forever (reproduced with two
     * plain NNG sockets, no Genesis code involved), so this test could not clean up. */
    if (f->tcp)
        check_oversized(f, MAX_MESSAGE * 8);
    /* Under the limit is served: a request with half the limit as payload. */
    char *payload = malloc(MAX_MESSAGE / 2 + 1);
    assert_non_null(payload);
    memset(payload, 'x', MAX_MESSAGE / 2);
    payload[MAX_MESSAGE / 2] = '\0';
    size_t len = 0;
    void *buf = request_bytes("echo", "echo", payload, &len);
    assert_true(len < MAX_MESSAGE);
    gn_wire_reply *reply = must_reply(f, buf, len, "a message under the limit");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_OK, GENESIS_REASON_NONE);
    size_t n = 0;
    gn_payload_data(reply->payload, &n);
    assert_int_equal(n, MAX_MESSAGE / 2);
    gn_reply_free(reply);
    free(buf);
    free(payload);
}

static void test_unknown_target_and_bad_fields(void **state)
{
    fixture *f = *state;
    size_t len = 0;
    void *buf = request_bytes("nosuch", "ping", NULL, &len);
    gn_wire_reply *reply = must_reply(f, buf, len, "a request for an unknown target");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_NOT_FOUND,
                 GENESIS_REASON_NOT_FOUND);
    gn_reply_free(reply);
    free(buf);

    static const char *const bad[][2] = {
        {"../etc/passwd", "ping"}, {"", "ping"},       {"echo", ""},
        {"echo", "has space"},     {"echo\n", "ping"}, {"e\xff", "ping"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf = request_bytes(bad[i][0], bad[i][1], NULL, &len);
        reply = must_reply(f, buf, len, "a request with a hostile target or type");
        if (reply->code != GENESIS_INVALID_ARGUMENT)
            fail_msg("target \"%s\" type \"%s\": %s / %s (\"%s\"); expected INVALID_ARGUMENT",
                     bad[i][0], bad[i][1], genesis_status_name((int)reply->code),
                     genesis_reason_name((int)reply->reason), reply->message);
        gn_reply_free(reply);
        free(buf);
    }
    assert_front_door_works(f);
}

static void test_register_cannot_take_in_process_id(void **state)
{
    fixture *f = *state;
    char url[256];
    Genesis__V1__Register reg = GENESIS__V1__REGISTER__INIT;
    reg.component_id = "echo";
    reg.url = gt_ipc_url(url, sizeof(url), f->dir, "impostor");
    reg.instance_id = "impostor-1";
    reg.heartbeat_interval_ms = 100;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.version = GENESIS_PROTOCOL_VERSION;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REGISTER;
    env.register_ = &reg;
    size_t len = 0;
    void *buf = pack(&env, &len);
    gn_wire_reply *reply = must_reply(f, buf, len, "a Register for an in-process id");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_ALREADY_EXISTS,
                 GENESIS_REASON_ALREADY_REGISTERED);
    gn_reply_free(reply);
    free(buf);

    /* Register without url / instance id, or with an invalid id. */
    reg.component_id = "newcomer";
    reg.url = "";
    buf = pack(&env, &len);
    reply = must_reply(f, buf, len, "a Register without url");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_INVALID_ARGUMENT,
                 GT_ANY_REASON);
    gn_reply_free(reply);
    free(buf);
    reg.component_id = "bad id";
    reg.url = url;
    buf = pack(&env, &len);
    reply = must_reply(f, buf, len, "a Register with an invalid id");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_INVALID_ARGUMENT,
                 GT_ANY_REASON);
    gn_reply_free(reply);
    free(buf);

    /* Heartbeats and unregisters for strangers are refused, not crashes. */
    Genesis__V1__Heartbeat hb = GENESIS__V1__HEARTBEAT__INIT;
    hb.component_id = "stranger";
    hb.instance_id = "x";
    gn_envelope hb_env = GENESIS__V1__ENVELOPE__INIT;
    hb_env.version = GENESIS_PROTOCOL_VERSION;
    hb_env.body_case = GENESIS__V1__ENVELOPE__BODY_HEARTBEAT;
    hb_env.heartbeat = &hb;
    buf = pack(&hb_env, &len);
    reply = must_reply(f, buf, len, "a heartbeat from a stranger");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_NOT_FOUND, GT_ANY_REASON);
    gn_reply_free(reply);
    free(buf);
    hb.component_id = "echo"; /* in-process: has no instances to heartbeat */
    buf = pack(&hb_env, &len);
    reply = must_reply(f, buf, len, "a heartbeat for an in-process id");
    assert_int_not_equal(reply->code, GENESIS_OK);
    gn_reply_free(reply);
    free(buf);
    Genesis__V1__Unregister un = GENESIS__V1__UNREGISTER__INIT;
    un.component_id = "echo";
    un.instance_id = "x";
    gn_envelope un_env = GENESIS__V1__ENVELOPE__INIT;
    un_env.version = GENESIS_PROTOCOL_VERSION;
    un_env.body_case = GENESIS__V1__ENVELOPE__BODY_UNREGISTER;
    un_env.unregister = &un;
    buf = pack(&un_env, &len);
    reply = must_reply(f, buf, len, "a remote Unregister of an in-process id");
    assert_int_not_equal(reply->code, GENESIS_OK);
    gn_reply_free(reply);
    free(buf);

    /* The in-process component is untouched. */
    assert_front_door_works(f);
}

static void test_status_and_emit_envelopes(void **state)
{
    fixture *f = *state;
    Genesis__V1__StatusQuery q = GENESIS__V1__STATUS_QUERY__INIT;
    q.include_components = 1;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.version = GENESIS_PROTOCOL_VERSION;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_STATUS;
    env.status = &q;
    size_t len = 0;
    void *buf = pack(&env, &len);
    gn_wire_reply *reply = must_reply(f, buf, len, "a status query");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_OK, GENESIS_REASON_NONE);
    assert_int_equal(reply->detail_case, GENESIS__V1__REPLY__DETAIL_STATUS);
    bool listed = false;
    for (size_t i = 0; i < reply->status->n_components; i++)
        listed |= strcmp(reply->status->components[i]->id, "echo") == 0;
    assert_true(listed);
    gn_reply_free(reply);
    free(buf);

    Genesis__V1__Emit emit = GENESIS__V1__EMIT__INIT;
    emit.type = "raw.evt";
    emit.source = "raw-test";
    env.body_case = GENESIS__V1__ENVELOPE__BODY_EMIT;
    env.emit = &emit;
    buf = pack(&env, &len);
    reply = must_reply(f, buf, len, "an emit");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_OK, GENESIS_REASON_NONE);
    assert_int_equal(reply->detail_case, GENESIS__V1__REPLY__DETAIL_EMIT_ACK);
    gn_reply_free(reply);
    free(buf);
    emit.type = "bad type";
    buf = pack(&env, &len);
    reply = must_reply(f, buf, len, "an emit with an invalid type");
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_INVALID_ARGUMENT,
                 GT_ANY_REASON);
    gn_reply_free(reply);
    free(buf);
}

static void test_random_bytes_sweep(void **state)
{
    fixture *f = *state;
    uint32_t seed = 0x9e3779b9u;
    uint8_t buf[512];
    int rejected = 0;
    for (int round = 0; round < 300; round++) {
        size_t len = 1 + (size_t)(round * 37) % sizeof(buf);
        for (size_t i = 0; i < len; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            buf[i] = (uint8_t)seed;
        }
        gn_wire_reply *reply = must_reply(f, buf, len, "random bytes");
        if (reply->code != GENESIS_OK) {
            rejected++;
            assert_message_text(reply);
        }
        gn_reply_free(reply);
    }
    print_message("%d of 300 random messages rejected\n", rejected);
    assert_true(rejected > 250); /* random bytes are almost never a valid envelope */
    assert_front_door_works(f);
}

/* A plain stream connection to url (a front door), closed again after saying `say`. */
static void connect_and_hang_up(const char *url, const char *say, size_t len)
{
    int fd;
    if (strncmp(url, "tcp://", 6) == 0) {
        const char *colon = strrchr(url, ':');
        assert_non_null(colon);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)atoi(colon + 1))};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    } else {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        const char *path = url + strlen("ipc://");
        assert_true(strlen(path) < sizeof(a.sun_path));
        strcpy(a.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    }
    if (len > 0 && write(fd, say, len) < 0)
        print_message("write to the front door failed (it hung up first)\n");
    close(fd);
}

/* Port scanners, health probes and crashing clients connect and hang up before or during
 * the SP handshake. The front door must keep accepting everyone else.
 *
 * NNG 1.5.2 (Debian bookworm) has a bug here, nanomsg/nng#1518, fixed in NNG 1.6.0: when a
 * peer hangs up during negotiation, the transport may report NNG_ECLOSED to the socket's
 * accept loop, which then takes its listener for closed and never accepts again. Whether it
 * strikes depends on timing, so each round uses a fresh coordinator whose front door has
 * not served anyone yet (the likeliest case, as right after a daemon starts). */
static void test_hang_up_during_handshake(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *what;
        const char *say;
        size_t len;
    } peers[] = {
        {"peers connected and hung up without a word", NULL, 0},
        {"peers hung up in the middle of the SP header", "\0SP\0", 4},
        {"peers spoke HTTP and hung up", "GET / HTTP/1.0\r\n\r\n", 18},
    };
    for (size_t round = 0; round < 3; round++) {
        genesis_coordinator *c = NULL;
        assert_ok(genesis_coordinator_new(&c, NULL));
        char name[32], want[256], url[256];
        snprintf(name, sizeof(name), "fresh-%zu", round);
        int rv = genesis_coordinator_listen(
            c, f->tcp ? "tcp://127.0.0.1:0" : gt_ipc_url(want, sizeof(want), f->dir, name), NULL);
        if (rv == GENESIS_OK)
            rv = genesis_coordinator_get_url(c, GENESIS_ENDPOINT_FRONT_DOOR, url, sizeof(url));
        if (rv != GENESIS_OK) {
            genesis_coordinator_free(c);
            fail_msg("listen: %s: %s", genesis_status_name(rv), genesis_last_error());
        }
        for (int i = 0; i < 3; i++)
            connect_and_hang_up(url, peers[round].say, peers[round].len);

        /* A well-behaved client must get an answer (a status report), within the bound. A
         * call may fail with UNAVAILABLE on the way (a transport failure, e.g. while the
         * coordinator re-creates a wedged listener and drops the connection); the client
         * reconnects and asks again. */
        genesis_client *cl = NULL;
        assert_ok(genesis_client_new(&cl, NULL));
        assert_ok(genesis_client_dial(cl, url, NULL));
        int64_t deadline = gt_now_ms() + GT_WAIT_MS;
        int attempts = 0;
        do {
            genesis_result *res = NULL;
            int64_t left = deadline - gt_now_ms();
            rv = genesis_client_status(cl, (uint32_t)(left > 1 ? left : 1), &res);
            genesis_result_free(res);
            if (++attempts > 1 && rv == GENESIS_UNAVAILABLE)
                gt_sleep_ms(10); /* pace the retries */
        } while (rv == GENESIS_UNAVAILABLE && gt_now_ms() < deadline);
        genesis_client_free(cl);
        genesis_coordinator_free(c);
        if (rv != GENESIS_OK)
            fail_msg("after %s, the %s front door no longer serves new connections (a client "
                     "got %s after %d attempt(s)); NNG 1.5.2 bug nanomsg/nng#1518",
                     peers[round].what, f->tcp ? "tcp" : "ipc", genesis_status_name(rv), attempts);
        if (attempts > 1)
            print_message("%s: served after %d attempts\n", peers[round].what, attempts);
    }
}

/* The same test body over both transports (cmocka names each test after its function). */
#define BOTH(name)                                                                                 \
    static void name##_ipc(void **state)                                                           \
    {                                                                                              \
        name(state);                                                                               \
    }                                                                                              \
    static void name##_tcp(void **state)                                                           \
    {                                                                                              \
        name(state);                                                                               \
    }
BOTH(test_normal_request)
BOTH(test_garbage_bytes)
BOTH(test_truncated_envelope)
BOTH(test_empty_message)
BOTH(test_envelope_without_body)
BOTH(test_newer_protocol_version)
BOTH(test_oversized_messages)
BOTH(test_unknown_target_and_bad_fields)
BOTH(test_register_cannot_take_in_process_id)
BOTH(test_status_and_emit_envelopes)
BOTH(test_random_bytes_sweep)
BOTH(test_hang_up_during_handshake)

/* Without arguments: malformed and hostile messages. With --connection-faults: oversized
 * messages that make NNG drop connections and peers that hang up mid-handshake. Those
 * exercise NNG 1.5.2 bugs (nanomsg/nng#1518 and the ipc sender wedge) whose wedged listener
 * and pipe objects NNG never frees, so ctest runs them as a separate test, without
 * LeakSanitizer in sanitizer builds (the leaks are inside libnng, unsymbolized). */
int main(int argc, char **argv)
{
#define T(name)                                                                                    \
    cmocka_unit_test_prestate_setup_teardown(name##_ipc, setup, teardown, (void *)&over_ipc),      \
        cmocka_unit_test_prestate_setup_teardown(name##_tcp, setup, teardown, (void *)&over_tcp)
    const struct CMUnitTest messages[] = {
        T(test_normal_request),
        T(test_garbage_bytes),
        T(test_truncated_envelope),
        T(test_empty_message),
        T(test_envelope_without_body),
        T(test_newer_protocol_version),
        T(test_unknown_target_and_bad_fields),
        T(test_register_cannot_take_in_process_id),
        T(test_status_and_emit_envelopes),
        T(test_random_bytes_sweep),
    };
    const struct CMUnitTest connection_faults[] = {
        T(test_oversized_messages),
        T(test_hang_up_during_handshake),
    };
#undef T
    if (argc > 1 && strcmp(argv[1], "--connection-faults") == 0)
        return cmocka_run_group_tests_name("connection faults", connection_faults, NULL, NULL);
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--connection-faults]\n", argv[0]);
        return 2;
    }
    return cmocka_run_group_tests_name("bad input", messages, NULL, NULL);
}
