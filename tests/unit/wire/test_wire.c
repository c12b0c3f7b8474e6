/* The protobuf wire layer (internal API): envelope, reply and event-frame round trips, and
 * every rejection path of the decoders; the split of URL lists (several cluster nodes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "genesis/status.h"
#include "genesis/version.h"
#include "gt_assert.h"
#include "wire/url_list.h"
#include "wire/wire.h"

#define MAX_SIZE (1024u * 1024u)
#define WHY_SIZE 256

/* Encoded bytes of an envelope (owned copy, so tests can cut and corrupt them). */
typedef struct bytes {
    uint8_t *data;
    size_t len;
} bytes;

static bytes encode_envelope(gn_envelope *env)
{
    nng_msg *msg = NULL;
    assert_ok(gn_envelope_encode(env, &msg));
    assert_non_null(msg);
    assert_int_equal(env->version, GENESIS_PROTOCOL_VERSION);
    bytes b = {.len = nng_msg_len(msg)};
    b.data = malloc(b.len > 0 ? b.len : 1);
    assert_non_null(b.data);
    memcpy(b.data, nng_msg_body(msg), b.len);
    nng_msg_free(msg);
    return b;
}

/* Pack without gn_envelope_encode, which would overwrite version. */
static bytes pack_envelope_raw(const gn_envelope *env)
{
    bytes b = {.len = genesis__v1__envelope__get_packed_size(env)};
    b.data = malloc(b.len > 0 ? b.len : 1);
    assert_non_null(b.data);
    genesis__v1__envelope__pack(env, b.data);
    return b;
}

static gn_envelope *decode_ok(bytes b)
{
    gn_envelope *out = NULL;
    int reason = -1;
    char why[WHY_SIZE] = "";
    int rv = gn_envelope_decode(b.data, b.len, MAX_SIZE, &out, &reason, why, sizeof(why));
    if (rv != GENESIS_OK)
        fail_msg("decode of a valid envelope: %s / %s: %s", genesis_status_name(rv),
                 genesis_reason_name(reason), why);
    assert_non_null(out);
    return out;
}

/* Decode must fail with want_status (or any failure when -1) and want_reason, set *out to
 * NULL and explain itself. */
#define assert_envelope_rejected(buf, len, max, want_status, want_reason)                          \
    check_envelope_rejected((buf), (len), (max), (want_status), (want_reason), __FILE__, __LINE__)

static void check_envelope_rejected(const void *buf, size_t len, size_t max, int want_status,
                                    int want_reason, const char *file, int line)
{
    gn_envelope *out = (gn_envelope *)&out; /* poison: must come back NULL */
    int reason = -1;
    char why[WHY_SIZE];
    memset(why, 0, sizeof(why));
    int rv = gn_envelope_decode(buf, len, max, &out, &reason, why, sizeof(why));
    if (rv == GENESIS_OK)
        gn_envelope_free(out);
    gt_check_codes(rv, reason, why, want_status, want_reason, "gn_envelope_decode", file, line);
    if (out != NULL) {
        print_error("%s:%d: rejected decode left *out non-NULL\n", file, line);
        _fail(file, line);
    }
    if (why[0] == '\0') {
        print_error("%s:%d: rejection %s gave no reason text\n", file, line,
                    genesis_reason_name(reason));
        _fail(file, line);
    }
}

static void test_request_round_trip(void **state)
{
    (void)state;
    static const uint8_t data[] = {0, 1, 2, 0xff, 'x', 0};
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = (uint8_t *)data;
    payload.data.len = sizeof(data);
    payload.content_type = "application/x-test";
    Genesis__V1__Request req = GENESIS__V1__REQUEST__INIT;
    req.target = "comp2";
    req.type = "ping";
    req.payload = &payload;
    req.source = "comp1";
    req.criticality = GENESIS__V1__CRITICALITY__CRITICALITY_CRITICAL;
    req.timeout_ms = 1234;
    req.request_id = 0xfeedfacecafebeefull;
    req.idempotent = 1;
    req.attempt = 3;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REQUEST;
    env.request = &req;

    bytes b = encode_envelope(&env);
    gn_envelope *out = decode_ok(b);
    assert_int_equal(out->version, GENESIS_PROTOCOL_VERSION);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_REQUEST);
    Genesis__V1__Request *r = out->request;
    assert_string_equal(r->target, "comp2");
    assert_string_equal(r->type, "ping");
    assert_string_equal(r->source, "comp1");
    assert_int_equal(r->criticality, GENESIS__V1__CRITICALITY__CRITICALITY_CRITICAL);
    assert_int_equal(r->timeout_ms, 1234);
    assert_true(r->request_id == 0xfeedfacecafebeefull);
    assert_true(r->idempotent);
    assert_int_equal(r->attempt, 3);
    size_t len = 0;
    const uint8_t *got = gn_payload_data(r->payload, &len);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(got, data, sizeof(data));
    assert_string_equal(gn_payload_content_type(r->payload), "application/x-test");
    gn_envelope_free(out);
    free(b.data);
}

static void test_emit_round_trip(void **state)
{
    (void)state;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = (uint8_t *)"{\"x\":1}";
    payload.data.len = 7;
    payload.content_type = "application/json";
    Genesis__V1__Emit emit = GENESIS__V1__EMIT__INIT;
    emit.type = "test.evt";
    emit.payload = &payload;
    emit.source = "comp1";
    emit.scope = GENESIS__V1__SCOPE__SCOPE_EXTERNAL;
    emit.criticality = GENESIS__V1__CRITICALITY__CRITICALITY_SHEDDABLE;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_EMIT;
    env.emit = &emit;

    bytes b = encode_envelope(&env);
    gn_envelope *out = decode_ok(b);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_EMIT);
    assert_string_equal(out->emit->type, "test.evt");
    assert_string_equal(out->emit->source, "comp1");
    assert_int_equal(out->emit->scope, GENESIS__V1__SCOPE__SCOPE_EXTERNAL);
    assert_int_equal(out->emit->criticality, GENESIS__V1__CRITICALITY__CRITICALITY_SHEDDABLE);
    size_t len = 0;
    const uint8_t *got = gn_payload_data(out->emit->payload, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(got, "{\"x\":1}", 7);
    assert_string_equal(gn_payload_content_type(out->emit->payload), "application/json");
    gn_envelope_free(out);
    free(b.data);
}

static void test_register_heartbeat_unregister_round_trip(void **state)
{
    (void)state;
    Genesis__V1__Register reg = GENESIS__V1__REGISTER__INIT;
    reg.component_id = "svc-1";
    reg.url = "tcp://127.0.0.1:5555";
    reg.instance_id = "inst-abc";
    reg.heartbeat_interval_ms = 250;
    reg.max_concurrency = 7;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REGISTER;
    env.register_ = &reg;
    bytes b = encode_envelope(&env);
    gn_envelope *out = decode_ok(b);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_REGISTER);
    assert_string_equal(out->register_->component_id, "svc-1");
    assert_string_equal(out->register_->url, "tcp://127.0.0.1:5555");
    assert_string_equal(out->register_->instance_id, "inst-abc");
    assert_int_equal(out->register_->heartbeat_interval_ms, 250);
    assert_int_equal(out->register_->max_concurrency, 7);
    gn_envelope_free(out);
    free(b.data);

    Genesis__V1__Heartbeat hb = GENESIS__V1__HEARTBEAT__INIT;
    hb.component_id = "svc-1";
    hb.instance_id = "inst-abc";
    hb.sequence = 1ull << 40;
    env = (gn_envelope)GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    b = encode_envelope(&env);
    out = decode_ok(b);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_HEARTBEAT);
    assert_string_equal(out->heartbeat->component_id, "svc-1");
    assert_string_equal(out->heartbeat->instance_id, "inst-abc");
    assert_true(out->heartbeat->sequence == 1ull << 40);
    gn_envelope_free(out);
    free(b.data);

    Genesis__V1__Unregister unreg = GENESIS__V1__UNREGISTER__INIT;
    unreg.component_id = "svc-1";
    unreg.instance_id = "inst-abc";
    env = (gn_envelope)GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_UNREGISTER;
    env.unregister = &unreg;
    b = encode_envelope(&env);
    out = decode_ok(b);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_UNREGISTER);
    assert_string_equal(out->unregister->component_id, "svc-1");
    assert_string_equal(out->unregister->instance_id, "inst-abc");
    gn_envelope_free(out);
    free(b.data);
}

static void test_status_and_admin_round_trip(void **state)
{
    (void)state;
    Genesis__V1__StatusQuery q = GENESIS__V1__STATUS_QUERY__INIT;
    q.include_components = 1;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_STATUS;
    env.status = &q;
    bytes b = encode_envelope(&env);
    gn_envelope *out = decode_ok(b);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_STATUS);
    assert_true(out->status->include_components);
    gn_envelope_free(out);
    free(b.data);

    /* A status query with every field at its default encodes to an empty sub-message; the
     * oneof case must still survive the trip. */
    q.include_components = 0;
    b = encode_envelope(&env);
    out = decode_ok(b);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_STATUS);
    assert_false(out->status->include_components);
    gn_envelope_free(out);
    free(b.data);

    char *args[] = {"breaker", "comp2", "open"};
    Genesis__V1__Admin admin = GENESIS__V1__ADMIN__INIT;
    admin.command = "force";
    admin.n_args = 3;
    admin.args = args;
    env = (gn_envelope)GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_ADMIN;
    env.admin = &admin;
    b = encode_envelope(&env);
    out = decode_ok(b);
    assert_int_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY_ADMIN);
    assert_string_equal(out->admin->command, "force");
    assert_int_equal(out->admin->n_args, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(out->admin->args[i], args[i]);
    gn_envelope_free(out);
    free(b.data);
}

static void test_garbage_is_malformed(void **state)
{
    (void)state;
    /* Invalid wire types, runaway varints, a length running past the end. */
    static const char text[] = "GARBAGE, not protobuf";
    static const uint8_t ff[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t long_len[] = {0x52, 0x7f, 0x01}; /* field 10, len 127, 1 byte */
    static const uint8_t bad_wire_type[] = {0x0f, 0x00};
    assert_envelope_rejected(text, sizeof(text) - 1, MAX_SIZE, GENESIS_INVALID_ARGUMENT,
                             GENESIS_REASON_MALFORMED_MESSAGE);
    assert_envelope_rejected(ff, sizeof(ff), MAX_SIZE, GENESIS_INVALID_ARGUMENT,
                             GENESIS_REASON_MALFORMED_MESSAGE);
    assert_envelope_rejected(long_len, sizeof(long_len), MAX_SIZE, GENESIS_INVALID_ARGUMENT,
                             GENESIS_REASON_MALFORMED_MESSAGE);
    assert_envelope_rejected(bad_wire_type, sizeof(bad_wire_type), MAX_SIZE,
                             GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE);

    /* A deterministic pseudo-random sweep: whatever the bytes, the decoder either accepts
     * them or rejects them with a named reason and a text; it never crashes. */
    uint32_t seed = 12345;
    uint8_t buf[64];
    for (int round = 0; round < 2000; round++) {
        size_t len = 1 + (size_t)round % sizeof(buf);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t)(seed >> 16);
        }
        gn_envelope *out = NULL;
        int reason = -1;
        char why[WHY_SIZE] = "";
        int rv = gn_envelope_decode(buf, len, MAX_SIZE, &out, &reason, why, sizeof(why));
        if (rv == GENESIS_OK) {
            assert_non_null(out);
            assert_int_not_equal(out->body_case, GENESIS__V1__ENVELOPE__BODY__NOT_SET);
            gn_envelope_free(out);
            continue;
        }
        assert_null(out);
        if (reason != GENESIS_REASON_MALFORMED_MESSAGE &&
            reason != GENESIS_REASON_UNKNOWN_MESSAGE &&
            reason != GENESIS_REASON_UNSUPPORTED_VERSION)
            fail_msg("random bytes #%d rejected with %s / %s", round, genesis_status_name(rv),
                     genesis_reason_name(reason));
        assert_true(why[0] != '\0');
    }
}

static void test_truncated_and_empty(void **state)
{
    (void)state;
    uint8_t data[64];
    memset(data, 'p', sizeof(data));
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = data;
    payload.data.len = sizeof(data);
    Genesis__V1__Request req = GENESIS__V1__REQUEST__INIT;
    req.target = "comp2";
    req.type = "echo";
    req.payload = &payload;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REQUEST;
    env.request = &req;
    bytes b = encode_envelope(&env);
    /* Every cut inside the request sub-message (which starts after the version field and the
     * request's tag and length) leaves a length running past the end. */
    for (size_t cut = 4; cut < b.len; cut++)
        assert_envelope_rejected(b.data, cut, MAX_SIZE, GENESIS_INVALID_ARGUMENT,
                                 GENESIS_REASON_MALFORMED_MESSAGE);
    free(b.data);

    /* Empty input: nothing to decode (either malformed or an envelope without body). */
    gn_envelope *out = (gn_envelope *)&out;
    int reason = -1;
    char why[WHY_SIZE] = "";
    int rv = gn_envelope_decode("", 0, MAX_SIZE, &out, &reason, why, sizeof(why));
    assert_int_not_equal(rv, GENESIS_OK);
    assert_null(out);
    assert_true(reason == GENESIS_REASON_MALFORMED_MESSAGE ||
                reason == GENESIS_REASON_UNKNOWN_MESSAGE);
    assert_true(why[0] != '\0');
    rv = gn_envelope_decode(NULL, 0, MAX_SIZE, &out, &reason, why, sizeof(why));
    assert_int_not_equal(rv, GENESIS_OK);
    assert_null(out);
}

static void test_no_body_is_unknown_message(void **state)
{
    (void)state;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    bytes b = encode_envelope(&env); /* version only */
    assert_true(b.len > 0);
    gn_envelope *out = NULL;
    int reason = -1;
    char why[WHY_SIZE] = "";
    int rv = gn_envelope_decode(b.data, b.len, MAX_SIZE, &out, &reason, why, sizeof(why));
    if (rv == GENESIS_OK || reason != GENESIS_REASON_UNKNOWN_MESSAGE)
        fail_msg("envelope without body: got %s / %s (\"%s\"), expected a failure with "
                 "UNKNOWN_MESSAGE",
                 genesis_status_name(rv), genesis_reason_name(reason), why);
    assert_null(out);
    assert_true(why[0] != '\0');
    free(b.data);

    /* A newer sender's body kind: field 20 (unknown to this reader) is skipped, so the
     * envelope has no known body. */
    static const uint8_t newer_kind[] = {0x08, 0x01, 0xa2, 0x01, 0x02, 0x08, 0x01};
    reason = -1;
    rv = gn_envelope_decode(newer_kind, sizeof(newer_kind), MAX_SIZE, &out, &reason, why,
                            sizeof(why));
    assert_int_not_equal(rv, GENESIS_OK);
    assert_int_equal(reason, GENESIS_REASON_UNKNOWN_MESSAGE);
    assert_null(out);
}

static void test_size_limit(void **state)
{
    (void)state;
    enum { PAYLOAD = 2000 };
    uint8_t *data = calloc(1, PAYLOAD);
    assert_non_null(data);
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = data;
    payload.data.len = PAYLOAD;
    Genesis__V1__Request req = GENESIS__V1__REQUEST__INIT;
    req.target = "comp2";
    req.type = "echo";
    req.payload = &payload;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REQUEST;
    env.request = &req;
    bytes b = encode_envelope(&env);
    assert_true(b.len > PAYLOAD);

    /* Exactly at the limit is fine; one byte less of limit is too large. */
    gn_envelope *out = NULL;
    int reason = -1;
    char why[WHY_SIZE] = "";
    assert_ok(gn_envelope_decode(b.data, b.len, b.len, &out, &reason, why, sizeof(why)));
    gn_envelope_free(out);
    assert_envelope_rejected(b.data, b.len, b.len - 1, GENESIS_RESOURCE_EXHAUSTED,
                             GENESIS_REASON_MESSAGE_TOO_LARGE);
    assert_envelope_rejected(b.data, b.len, 1000, GENESIS_RESOURCE_EXHAUSTED,
                             GENESIS_REASON_MESSAGE_TOO_LARGE);
    free(b.data);
    free(data);
}

static void test_newer_version_is_unsupported(void **state)
{
    (void)state;
    Genesis__V1__StatusQuery q = GENESIS__V1__STATUS_QUERY__INIT;
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.version = GENESIS_PROTOCOL_VERSION + 1;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_STATUS;
    env.status = &q;
    bytes b = pack_envelope_raw(&env);
    /* genesis.proto: "a coordinator rejects envelopes from a newer major revision with
     * FAILED_PRECONDITION". */
    assert_envelope_rejected(b.data, b.len, MAX_SIZE, GENESIS_FAILED_PRECONDITION,
                             GENESIS_REASON_UNSUPPORTED_VERSION);
    free(b.data);

    /* The current revision and an unset one (version 0, a pre-versioning sender) decode. */
    env.version = GENESIS_PROTOCOL_VERSION;
    b = pack_envelope_raw(&env);
    gn_envelope *out = decode_ok(b);
    gn_envelope_free(out);
    free(b.data);
    env.version = 0;
    b = pack_envelope_raw(&env);
    out = decode_ok(b);
    assert_int_equal(out->version, 0);
    gn_envelope_free(out);
    free(b.data);
}

static bytes msg_bytes(nng_msg *msg)
{
    bytes b = {.len = nng_msg_len(msg)};
    b.data = malloc(b.len > 0 ? b.len : 1);
    assert_non_null(b.data);
    memcpy(b.data, nng_msg_body(msg), b.len);
    nng_msg_free(msg);
    return b;
}

static void test_reply_round_trip(void **state)
{
    (void)state;
    nng_msg *msg = NULL;
    assert_ok(gn_reply_msg(&msg, GENESIS_OK, GENESIS_REASON_NONE, NULL, "Pong", 4, "text/plain"));
    bytes b = msg_bytes(msg);
    gn_wire_reply *reply = NULL;
    int reason = -1;
    char why[WHY_SIZE] = "";
    assert_ok(gn_reply_decode(b.data, b.len, MAX_SIZE, &reply, &reason, why, sizeof(why)));
    assert_non_null(reply);
    assert_int_equal(reply->version, GENESIS_PROTOCOL_VERSION);
    assert_int_equal(reply->code, GENESIS_OK);
    assert_int_equal(reply->reason, GENESIS_REASON_NONE);
    assert_string_equal(reply->message, "");
    size_t len = 0;
    const uint8_t *data = gn_payload_data(reply->payload, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(data, "Pong", 4);
    assert_string_equal(gn_payload_content_type(reply->payload), "text/plain");
    gn_reply_free(reply);
    free(b.data);

    /* An error reply: code, reason and message survive; no payload reads as empty. */
    assert_ok(gn_reply_msg(&msg, GENESIS_NOT_FOUND, GENESIS_REASON_NOT_FOUND,
                           "no component 'nosuch'", NULL, 0, NULL));
    b = msg_bytes(msg);
    assert_ok(gn_reply_decode(b.data, b.len, MAX_SIZE, &reply, &reason, why, sizeof(why)));
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_NOT_FOUND,
                 GENESIS_REASON_NOT_FOUND);
    assert_string_equal(reply->message, "no component 'nosuch'");
    data = gn_payload_data(reply->payload, &len);
    assert_non_null(data);
    assert_int_equal(len, 0);
    assert_string_equal(gn_payload_content_type(reply->payload), "");
    gn_reply_free(reply);

    /* Size limit and garbage. */
    reply = (gn_wire_reply *)&reply;
    int rv = gn_reply_decode(b.data, b.len, b.len - 1, &reply, &reason, why, sizeof(why));
    assert_codes(rv, reason, why, GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_MESSAGE_TOO_LARGE);
    assert_null(reply);
    free(b.data);
    static const char garbage[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
    reply = (gn_wire_reply *)&reply;
    why[0] = '\0';
    rv = gn_reply_decode(garbage, sizeof(garbage) - 1, MAX_SIZE, &reply, &reason, why, sizeof(why));
    assert_int_not_equal(rv, GENESIS_OK);
    assert_int_equal(reason, GENESIS_REASON_MALFORMED_MESSAGE);
    assert_true(why[0] != '\0');
    assert_null(reply);
}

/* wire.h: gn_reply_decode follows "the same rules as gn_envelope_decode, minus the body
 * check", and gn_envelope_decode rejects an empty message. An empty reply must not read as a
 * successful one (code 0 is OK in proto3's defaults). */
static void test_empty_reply_is_malformed(void **state)
{
    (void)state;
    gn_wire_reply *reply = (gn_wire_reply *)&reply;
    int reason = -1;
    char why[WHY_SIZE] = "";
    int rv = gn_reply_decode("", 0, MAX_SIZE, &reply, &reason, why, sizeof(why));
    if (rv == GENESIS_OK) {
        int code = reply != NULL ? (int)reply->code : -1;
        gn_reply_free(reply);
        fail_msg("an empty buffer decodes as a reply with code %s", genesis_status_name(code));
    }
    assert_int_equal(reason, GENESIS_REASON_MALFORMED_MESSAGE);
    assert_null(reply);
    assert_true(why[0] != '\0');
}

static void test_reply_details_and_version(void **state)
{
    (void)state;
    Genesis__V1__EmitAck ack = GENESIS__V1__EMIT_ACK__INIT;
    ack.delivered = 2;
    ack.dropped = 1;
    ack.sequence = 99;
    gn_wire_reply r = GENESIS__V1__REPLY__INIT;
    r.detail_case = GENESIS__V1__REPLY__DETAIL_EMIT_ACK;
    r.emit_ack = &ack;
    nng_msg *msg = NULL;
    assert_ok(gn_reply_encode(&r, &msg));
    bytes b = msg_bytes(msg);
    gn_wire_reply *out = NULL;
    int reason = -1;
    char why[WHY_SIZE] = "";
    assert_ok(gn_reply_decode(b.data, b.len, MAX_SIZE, &out, &reason, why, sizeof(why)));
    assert_int_equal(out->detail_case, GENESIS__V1__REPLY__DETAIL_EMIT_ACK);
    assert_int_equal(out->emit_ack->delivered, 2);
    assert_int_equal(out->emit_ack->dropped, 1);
    assert_int_equal(out->emit_ack->sequence, 99);
    gn_reply_free(out);
    free(b.data);

    r.version = GENESIS_PROTOCOL_VERSION + 1;
    b.len = genesis__v1__reply__get_packed_size(&r);
    b.data = malloc(b.len);
    assert_non_null(b.data);
    genesis__v1__reply__pack(&r, b.data);
    out = (gn_wire_reply *)&out;
    int rv = gn_reply_decode(b.data, b.len, MAX_SIZE, &out, &reason, why, sizeof(why));
    assert_codes(rv, reason, why, GENESIS_FAILED_PRECONDITION, GENESIS_REASON_UNSUPPORTED_VERSION);
    assert_null(out);
    free(b.data);
}

static bytes encode_event(const char *type, int scope, uint64_t seq)
{
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    payload.data.data = (uint8_t *)"{\"x\":1}";
    payload.data.len = 7;
    payload.content_type = "application/json";
    gn_wire_event ev = GENESIS__V1__EVENT__INIT;
    ev.sequence = seq;
    ev.type = (char *)type;
    ev.source = "comp1";
    ev.payload = &payload;
    ev.scope = scope;
    ev.publisher = "coord-1";
    ev.timestamp_ms = 1700000000000;
    nng_msg *msg = NULL;
    assert_ok(gn_event_frame_encode(&ev, &msg));
    return msg_bytes(msg);
}

static void test_event_frames(void **state)
{
    (void)state;
    static const struct {
        int scope;
        const char *topic;
    } cases[] = {{GENESIS__V1__SCOPE__SCOPE_LOCAL, "local:test.evt"},
                 {GENESIS__V1__SCOPE__SCOPE_EXTERNAL, "external:test.evt"}};
    for (size_t i = 0; i < 2; i++) {
        bytes b = encode_event("test.evt", cases[i].scope, 41 + i);
        size_t tl = strlen(cases[i].topic);
        assert_true(b.len > tl + 1);
        assert_memory_equal(b.data, cases[i].topic, tl + 1); /* topic and its NUL */
        gn_wire_event *ev = NULL;
        char why[WHY_SIZE] = "";
        int rv = gn_event_frame_decode(b.data, b.len, MAX_SIZE, &ev, why, sizeof(why));
        if (rv != GENESIS_OK)
            fail_msg("decode of %s frame: %s: %s", cases[i].topic, genesis_status_name(rv), why);
        assert_string_equal(ev->type, "test.evt");
        assert_string_equal(ev->source, "comp1");
        assert_string_equal(ev->publisher, "coord-1");
        assert_int_equal(ev->scope, cases[i].scope);
        assert_int_equal(ev->sequence, 41 + i);
        assert_true(ev->timestamp_ms == 1700000000000);
        size_t len = 0;
        const uint8_t *data = gn_payload_data(ev->payload, &len);
        assert_int_equal(len, 7);
        assert_memory_equal(data, "{\"x\":1}", 7);
        gn_event_free(ev);

        /* Too large for the limit. */
        ev = (gn_wire_event *)&ev;
        rv = gn_event_frame_decode(b.data, b.len, b.len - 1, &ev, why, sizeof(why));
        assert_status(rv, GENESIS_RESOURCE_EXHAUSTED);
        assert_null(ev);
        free(b.data);
    }
}

/* Build "<topic>\0<event bytes>" by hand. */
static bytes forge_frame(const char *topic, const char *type, int scope)
{
    bytes ev = encode_event(type, scope, 1);
    const uint8_t *nul = memchr(ev.data, '\0', ev.len);
    assert_non_null(nul);
    size_t body = ev.len - (size_t)(nul + 1 - ev.data);
    size_t tl = strlen(topic);
    bytes out = {.len = tl + 1 + body};
    out.data = malloc(out.len);
    assert_non_null(out.data);
    memcpy(out.data, topic, tl + 1);
    memcpy(out.data + tl + 1, nul + 1, body);
    free(ev.data);
    return out;
}

static void assert_frame_rejected(bytes b)
{
    gn_wire_event *ev = (gn_wire_event *)&ev;
    char why[WHY_SIZE] = "";
    int rv = gn_event_frame_decode(b.data, b.len, MAX_SIZE, &ev, why, sizeof(why));
    if (rv == GENESIS_OK) {
        gn_event_free(ev);
        fail_msg("frame with topic \"%s\" was accepted", (const char *)b.data);
    }
    assert_null(ev);
    assert_true(why[0] != '\0');
}

static void test_event_frame_topic_must_match(void **state)
{
    (void)state;
    bytes b;
    /* Scope disagrees. */
    b = forge_frame("external:test.evt", "test.evt", GENESIS__V1__SCOPE__SCOPE_LOCAL);
    assert_frame_rejected(b);
    free(b.data);
    b = forge_frame("local:test.evt", "test.evt", GENESIS__V1__SCOPE__SCOPE_EXTERNAL);
    assert_frame_rejected(b);
    free(b.data);
    /* Type disagrees, including a prefix of the real type and an extension of it. */
    b = forge_frame("local:other", "test.evt", GENESIS__V1__SCOPE__SCOPE_LOCAL);
    assert_frame_rejected(b);
    free(b.data);
    b = forge_frame("local:test", "test.evt", GENESIS__V1__SCOPE__SCOPE_LOCAL);
    assert_frame_rejected(b);
    free(b.data);
    b = forge_frame("local:test.evt.more", "test.evt", GENESIS__V1__SCOPE__SCOPE_LOCAL);
    assert_frame_rejected(b);
    free(b.data);
    b = forge_frame("", "test.evt", GENESIS__V1__SCOPE__SCOPE_LOCAL);
    assert_frame_rejected(b);
    free(b.data);
    /* The forger itself is right when the topic matches. */
    b = forge_frame("local:test.evt", "test.evt", GENESIS__V1__SCOPE__SCOPE_LOCAL);
    gn_wire_event *ev = NULL;
    char why[WHY_SIZE] = "";
    assert_ok(gn_event_frame_decode(b.data, b.len, MAX_SIZE, &ev, why, sizeof(why)));
    gn_event_free(ev);
    free(b.data);

    /* No NUL terminator at all, garbage after the topic, empty frame. */
    static const char no_nul[] = {'l', 'o', 'c', 'a', 'l', ':', 'x'};
    b = (bytes){.data = (uint8_t *)no_nul, .len = sizeof(no_nul)};
    ev = (gn_wire_event *)&ev;
    assert_int_not_equal(gn_event_frame_decode(b.data, b.len, MAX_SIZE, &ev, why, sizeof(why)),
                         GENESIS_OK);
    assert_null(ev);
    static const char bad_body[] = "local:x\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
    ev = (gn_wire_event *)&ev;
    assert_int_not_equal(
        gn_event_frame_decode(bad_body, sizeof(bad_body) - 1, MAX_SIZE, &ev, why, sizeof(why)),
        GENESIS_OK);
    assert_null(ev);
    ev = (gn_wire_event *)&ev;
    assert_int_not_equal(gn_event_frame_decode("", 0, MAX_SIZE, &ev, why, sizeof(why)), GENESIS_OK);
    assert_null(ev);
}

static void test_url_lists(void **state)
{
    (void)state;
    gn_url_list l;
    char why[128];
    assert_int_equal(gn_url_list_parse(&l, "tcp://127.0.0.1:7400", why, sizeof(why)), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.urls[0], "tcp://127.0.0.1:7400");
    gn_url_list_clear(&l);
    assert_int_equal(
        gn_url_list_parse(&l, "tcp://a:1, tls+tcp://b:2,ipc:///tmp/x,y.sock", why, sizeof(why)), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.urls[1], "tls+tcp://b:2");
    assert_string_equal(l.urls[2], "ipc:///tmp/x,y.sock"); /* no scheme after the comma */
    gn_url_list_clear(&l);
    assert_int_equal(gn_url_list_parse(&l, "tcp://a:1,,tcp://b:2", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "URL 2 of the list is empty"));
    assert_int_equal(gn_url_list_parse(&l, "tcp://a:1, ,tcp://b:2", why, sizeof(why)), -1);
    assert_int_equal(gn_url_list_parse(&l, "tcp://a:1,", why, sizeof(why)), 0);
    assert_int_equal(l.n, 1); /* no scheme follows: the comma is part of the URL (NNG refuses it) */
    gn_url_list_clear(&l);
    assert_int_equal(gn_url_list_parse(&l, "", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "empty"));
    assert_int_equal(l.n, 0);
    char many[2048] = "";
    for (unsigned int i = 0; i <= GN_MAX_URLS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%stcp://h:%u", i > 0 ? "," : "",
                 i + 1);
    assert_int_equal(gn_url_list_parse(&l, many, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "more than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_emit_round_trip),
        cmocka_unit_test(test_register_heartbeat_unregister_round_trip),
        cmocka_unit_test(test_status_and_admin_round_trip),
        cmocka_unit_test(test_garbage_is_malformed),
        cmocka_unit_test(test_truncated_and_empty),
        cmocka_unit_test(test_no_body_is_unknown_message),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_newer_version_is_unsupported),
        cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_empty_reply_is_malformed),
        cmocka_unit_test(test_reply_details_and_version),
        cmocka_unit_test(test_event_frames),
        cmocka_unit_test(test_event_frame_topic_must_match),
        cmocka_unit_test(test_url_lists),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
