/* Writes the seed corpora of the fuzz targets: small, valid inputs of every kind each decoder
 * takes (every envelope body, every reply detail, every event topic form, well-formed and
 * damaged checkpoint rows, a real status report, gateway bodies and paths), plus a few classic
 * bad ones. Run by tools/fuzz --seed; the output is committed under tests/fuzz/corpus/.
 *
 *   fuzz_make_corpus <corpus dir>      (writes <dir>/<target>/<name>) */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "checkpoint/checkpoint_store.h"
#include "coordinator/coordinator_impl.h"
#include "fuzz_target.h"
#include "genesis/genesis.h"
#include "wire/wire.h"

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof(dir), "%s/%s", root, target);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(len == 0 || fwrite(data, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);
}

static void put_text(const char *target, const char *name, const char *text)
{
    put(target, name, text, strlen(text));
}

/* For literals with embedded NUL bytes (the gateway seeds open with a 0 selector byte):
 * the length comes from the literal, not strlen. */
#define put_literal(target, name, literal) put(target, name, literal, sizeof(literal) - 1)

static void put_msg(const char *target, const char *name, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    FUZZ_CHECK(buf != NULL);
    protobuf_c_message_pack(m, buf);
    put(target, name, buf, n);
    free(buf);
}

static void envelopes(void)
{
    const char *t = "fuzz_front_door";
    Genesis__V1__Payload p = GENESIS__V1__PAYLOAD__INIT;
    p.data.data = (uint8_t *)"hello";
    p.data.len = 5;
    p.content_type = "text/plain";
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.version = GENESIS_PROTOCOL_VERSION;

    Genesis__V1__Request req = GENESIS__V1__REQUEST__INIT;
    req.target = "echo";
    req.type = "echo";
    req.source = "seed";
    req.payload = &p;
    req.timeout_ms = 1000;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REQUEST;
    env.request = &req;
    put_msg(t, "request-echo", &env.base);
    req.target = "no-such-component";
    put_msg(t, "request-unknown-target", &env.base);
    req.target = "bad id/with\"hostile\\chars";
    put_msg(t, "request-hostile-target", &env.base);
    req.target = "fz";
    req.criticality = GENESIS__V1__CRITICALITY__CRITICALITY_CRITICAL;
    req.idempotent = 1;
    put_msg(t, "request-remote", &env.base);

    Genesis__V1__Emit emit = GENESIS__V1__EMIT__INIT;
    emit.type = "seed.event";
    emit.source = "seed";
    emit.payload = &p;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_EMIT;
    env.emit = &emit;
    put_msg(t, "emit-local", &env.base);
    emit.scope = GENESIS__V1__SCOPE__SCOPE_EXTERNAL;
    emit.target = "echo";
    put_msg(t, "emit-directed", &env.base);

    Genesis__V1__Register reg = GENESIS__V1__REGISTER__INIT;
    reg.component_id = "fz";
    reg.url = "inproc://seed";
    reg.instance_id = "fz-1";
    reg.heartbeat_interval_ms = 60000;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REGISTER;
    env.register_ = &reg;
    put_msg(t, "register", &env.base);
    reg.component_id = "echo";
    put_msg(t, "register-taken-id", &env.base);

    Genesis__V1__Heartbeat hb = GENESIS__V1__HEARTBEAT__INIT;
    hb.component_id = "fz";
    hb.instance_id = "fz-1";
    hb.sequence = 3;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    put_msg(t, "heartbeat", &env.base);

    Genesis__V1__Unregister un = GENESIS__V1__UNREGISTER__INIT;
    un.component_id = "fz";
    un.instance_id = "fz-1";
    env.body_case = GENESIS__V1__ENVELOPE__BODY_UNREGISTER;
    env.unregister = &un;
    put_msg(t, "unregister", &env.base);

    Genesis__V1__StatusQuery q = GENESIS__V1__STATUS_QUERY__INIT;
    q.include_components = 1;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_STATUS;
    env.status = &q;
    put_msg(t, "status", &env.base);

    Genesis__V1__Checkpoint ck = GENESIS__V1__CHECKPOINT__INIT;
    ck.component_id = "fz";
    ck.instance_id = "fz-1";
    ck.state.data = (uint8_t *)"state";
    ck.state.len = 5;
    ck.client_sequence = 1;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_CHECKPOINT;
    env.checkpoint = &ck;
    put_msg(t, "checkpoint", &env.base);

    static const struct {
        const char *name, *command;
        size_t n;
        char *args[3];
    } admins[] = {
        {"admin-mode", "mode", 1, {"SAFE"}},
        {"admin-breaker", "breaker", 2, {"echo", "open"}},
        {"admin-policy", "policy", 3, {"echo", "max_attempts=3", "per_try_timeout_ms=50"}},
        {"admin-fault", "fault", 2, {"echo", "error_rate=0.5"}},
        {"admin-unknown", "no-such-command", 0, {NULL}},
    };
    for (size_t i = 0; i < sizeof(admins) / sizeof(admins[0]); i++) {
        Genesis__V1__Admin a = GENESIS__V1__ADMIN__INIT;
        a.command = (char *)admins[i].command;
        a.n_args = admins[i].n;
        a.args = (char **)admins[i].args;
        env.body_case = GENESIS__V1__ENVELOPE__BODY_ADMIN;
        env.admin = &a;
        put_msg(t, admins[i].name, &env.base);
    }

    env.version = GENESIS_PROTOCOL_VERSION + 7;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_STATUS;
    env.status = &q;
    put_msg(t, "newer-version", &env.base);
    gn_envelope empty = GENESIS__V1__ENVELOPE__INIT;
    empty.version = GENESIS_PROTOCOL_VERSION;
    put_msg(t, "no-body", &empty.base);
    put(t, "empty", "", 0);
    put(t, "unknown-field-99", "\x08\x01\x9a\x06\x02hi", 7); /* field 99, a newer kind */
    put(t, "truncated", "\x08\x01\x52\x20\x0a\x04", 6);
}

static void replies(void)
{
    const char *t = "fuzz_remote_reply";
    Genesis__V1__Payload p = GENESIS__V1__PAYLOAD__INIT;
    p.data.data = (uint8_t *)"{\"ok\":true}";
    p.data.len = 11;
    p.content_type = "application/json";
    gn_wire_reply r = GENESIS__V1__REPLY__INIT;
    r.version = GENESIS_PROTOCOL_VERSION;
    r.payload = &p;
    put_msg(t, "ok-json", &r.base);
    r.payload = NULL;
    r.code = GENESIS_NOT_FOUND;
    r.reason = GENESIS_REASON_HANDLER_ERROR;
    r.message = "no such thing";
    put_msg(t, "error", &r.base);
    r.reason = GENESIS_REASON_NONE;
    put_msg(t, "error-without-reason", &r.base);
    r.code = 4242;
    r.reason = 999;
    put_msg(t, "code-out-of-range", &r.base);
    r.code = GENESIS_OK;
    r.reason = GENESIS_REASON_BULKHEAD_FULL;
    r.message = "";
    put_msg(t, "ok-with-reason", &r.base);
    r.reason = 0;
    Genesis__V1__RegisterAck ack = GENESIS__V1__REGISTER_ACK__INIT;
    ack.heartbeat_interval_ms = 100;
    ack.has_checkpoint = 1;
    ack.checkpoint_state.data = (uint8_t *)"state";
    ack.checkpoint_state.len = 5;
    ack.checkpoint_generation = 2;
    r.detail_case = GENESIS__V1__REPLY__DETAIL_REGISTER_ACK;
    r.register_ack = &ack;
    put_msg(t, "register-ack", &r.base);
    Genesis__V1__EmitAck eack = GENESIS__V1__EMIT_ACK__INIT;
    eack.delivered = 2;
    r.detail_case = GENESIS__V1__REPLY__DETAIL_EMIT_ACK;
    r.emit_ack = &eack;
    put_msg(t, "emit-ack", &r.base);
    r.detail_case = GENESIS__V1__REPLY__DETAIL__NOT_SET;
    r.version = GENESIS_PROTOCOL_VERSION + 1;
    put_msg(t, "newer-version", &r.base);
    put(t, "empty", "", 0);
    put(t, "garbage", "\xff\xff\xff\xff\x0f", 5);
    put_text(t, "text", "HTTP/1.1 200 OK\r\n\r\n");
}

static void events(void)
{
    const char *t = "fuzz_event";
    Genesis__V1__Payload p = GENESIS__V1__PAYLOAD__INIT;
    p.data.data = (uint8_t *)"data";
    p.data.len = 4;
    p.content_type = "text/plain";
    gn_wire_event ev = GENESIS__V1__EVENT__INIT;
    ev.sequence = 9;
    ev.type = "order.created";
    ev.source = "seed";
    ev.payload = &p;
    static const char *const names[] = {"local", "external", "directed"};
    for (int i = 0; i < 3; i++) {
        ev.scope = i == 1 ? GENESIS__V1__SCOPE__SCOPE_EXTERNAL : GENESIS__V1__SCOPE__SCOPE_LOCAL;
        ev.target = i == 2 ? "comp1" : "";
        nng_msg *msg = NULL;
        FUZZ_CHECK(gn_event_frame_encode(&ev, &msg) == GENESIS_OK);
        put(t, names[i], nng_msg_body(msg), nng_msg_len(msg));
        nng_msg_free(msg);
    }
    put(t, "topic-mismatch", "local:other\0\x08\x09\x12\x0dorder.created", 29);
    put(t, "no-terminator", "local:order.created", 19);
    put(t, "topic-only", "local:\0", 7);
}

static void checkpoints(void)
{
    const char *t = "fuzz_checkpoint_store";
    /* Rows mode: [mode][state len][state][gen][component tag][created tag][crc tag][size tag]
     * [state-null selector]; tag 4 = computed (well-formed). */
    static const uint8_t valid[] = {0x00, 3, 'a', 'b', 'c', 0, 4, 4, 4, 4, 1,
                                    2,    2, 'x', 'y', 1,   4, 4, 4, 4, 1};
    put(t, "rows-valid", valid, sizeof(valid));
    static const uint8_t bad_crc[] = {0x00, 3, 'a', 'b', 'c', 1, 4, 4,   1, 0, 0, 0, 0, 0,
                                      0,    0, 7,   4,   1,   2, 1, 'z', 0, 4, 4, 4, 4, 1};
    put(t, "rows-bad-crc-then-good", bad_crc, sizeof(bad_crc));
    static const uint8_t bad_size[] = {0x00, 2, 'h', 'i', 0, 4, 4, 4, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1};
    put(t, "rows-bad-size", bad_size, sizeof(bad_size));
    static const uint8_t foreign[] = {0x02, 1, 'q', 0, 0, 4,   4,   4,   1, 1, 'r', 1,
                                      2,    1, 'a', 2, 3, 'n', 'a', 'n', 4, 4, 2};
    put(t, "rows-foreign-nulls", foreign, sizeof(foreign));

    /* Raw mode: a real store file with two components. */
    char path[256];
    snprintf(path, sizeof(path), "/tmp/genesis-make-corpus-%d.db", (int)getpid());
    gn_ckpt_store *s = NULL;
    gn_ckpt_error err = {0};
    FUZZ_CHECK(gn_ckpt_store_open_sqlite(&s, path, NULL, &err) == GENESIS_OK);
    uint64_t gen = 0;
    FUZZ_CHECK(gn_ckpt_put(s, "a", "one", 3, &gen, &err) == GENESIS_OK);
    FUZZ_CHECK(gn_ckpt_put(s, "a", "two", 3, &gen, &err) == GENESIS_OK);
    FUZZ_CHECK(gn_ckpt_put(s, "b", "state-b", 7, &gen, &err) == GENESIS_OK);
    gn_ckpt_store_close(s); /* checkpoints the WAL into the file */
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL);
    static uint8_t file[1 << 16];
    file[0] = 0x01;
    size_t n = fread(file + 1, 1, sizeof(file) - 1, f);
    fclose(f);
    put(t, "raw-store", file, n + 1);
    put(t, "raw-not-a-database", "\x01not a database at all", 22);
    char p2[300];
    snprintf(p2, sizeof(p2), "%s-wal", path);
    unlink(p2);
    snprintf(p2, sizeof(p2), "%s-shm", path);
    unlink(p2);
    unlink(path);
}

static void noop_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)reply;
    (void)arg;
}

static void status_report(void)
{
    char dir[] = "/tmp/genesis-make-corpus-XXXXXX";
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    char store[300];
    snprintf(store, sizeof(store), "%s/ckpt.db", dir);
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.log_level = GENESIS_LOG_ERROR;
    o.checkpoint_store = store;
    genesis_coordinator *co = NULL;
    FUZZ_CHECK(genesis_coordinator_new(&co, &o) == GENESIS_OK);
    genesis_component c = {.version = GENESIS_COMPONENT_VERSION, .on_request = noop_request};
    FUZZ_CHECK(genesis_coordinator_register(co, "comp1", &c) == GENESIS_OK);
    FUZZ_CHECK(genesis_coordinator_register(co, "comp2", &c) == GENESIS_OK);
    Genesis__V1__StatusReport report;
    FUZZ_CHECK(gn_status_report_build(co, &report) == GENESIS_OK);
    put_msg("fuzz_status_json", "report", &report.base);
    gn_status_report_clear(&report);
    genesis_coordinator_free(co);
    char p[400];
    static const char *const files[] = {"ckpt.db", "ckpt.db-wal", "ckpt.db-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    put("fuzz_status_json", "empty", "", 0);
}

static void gateway(void)
{
    const char *t = "fuzz_gateway_json";
    /* First byte: 0 request JSON, 1 Connect JSON, 2 Connect proto, 3 admin, 4 rendering. */
    put_literal(t, "request",
                "\x00{\"type\":\"ping\",\"data\":{\"a\":[1,2.5,null]},\"source\":\"s\","
                "\"criticality\":\"CRITICAL\",\"timeout_ms\":500}");
    put_literal(t, "request-string-data",
                "\x00{\"type\":\"ping\",\"data\":\"text\",\"criticality\":2}");
    put_literal(t, "request-bad-types", "\x00{\"type\":5,\"timeout_ms\":-1}");
    put(t, "request-invalid-utf8", "\x00{\"type\":\"\xc3\x28\"}", 14);
    put_literal(t, "request-nested",
                "\x00{\"type\":\"t\",\"data\":[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]}");
    put_text(t, "connect-json", "\x01{\"target\":\"comp1\",\"type\":\"ping\",\"data\":null}");
    Genesis__V1__Request req = GENESIS__V1__REQUEST__INIT;
    req.target = "comp1";
    req.type = "ping";
    uint8_t buf[256];
    buf[0] = 2;
    size_t n = genesis__v1__request__pack(&req, buf + 1);
    put(t, "connect-proto", buf, n + 1);
    put_literal(t, "admin-mode", "\x03\x00{\"mode\":\"SAFE\"}");
    put_text(t, "admin-breaker", "\x03\x01{\"state\":\"open\"}");
    put_text(t, "admin-policy", "\x03\x02{\"max_attempts\":3,\"hedge\":true,\"jitter\":0.5}");
    put_text(t, "admin-fault", "\x03\x03{\"clear\":true}");
    put_literal(t, "render-json", "\x04\x00{\"x\":1}");
    put_text(t, "render-text", "\x04\x01plain text");
    put(t, "render-binary", "\x04\x02\xff\xfe\x00\x01", 6);

    t = "fuzz_routes";
    put(t, "component", "/v1/components/comp1/request\0Bearer s3cret-one", 46);
    put(t, "legacy", "/request/comp1\0tok", 18);
    put(t, "admin", "/v1/admin/components/comp1/breaker\0  bearer   s3cret-admin  ", 61);
    put_text(t, "ws", "/ws");
    put_text(t, "status", "/v1/status");
    put_text(t, "traversal", "/v1/components/../../etc/passwd/request");
    put_text(t, "long-id",
             "/request/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

    t = "fuzz_ws_message";
    put_text(t, "event", "{\"type\":\"chat\",\"data\":{\"text\":\"hi\"}}");
    put_text(t, "event-string", "{\"type\":\"chat\",\"data\":\"hi\"}");
    put_text(t, "plain-text", "hello there");
    put(t, "invalid-utf8", "\xff\xfe\xc3\x28 text", 9);
    put_text(t, "type-with-nul", "{\"type\":\"\\u0000x\",\"data\":1}");
    put_text(t, "not-object", "[1,2,3]");

    t = "fuzz_grpc_frame";
    put(t, "one-message", "\x00\x00\x00\x00\x00\x03\x0a\x01x", 9);
    put(t, "two-messages", "\x00\x00\x00\x00\x00\x01\x0a\x00\x00\x00\x00\x00", 12);
    put(t, "grpc-web-trailer", "\x00\x01\x00\x00\x00\x00\x00\x80\x00\x00\x00\x0egrpc-status: 0\r\n",
        28);
    put(t, "compressed", "\x00\x00\x01\x00\x00\x00\x01x", 8);
    put(t, "gzip-frame",
        "\x05\x01\x01\x00\x00\x00\x1c\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9"
        "\x57\xc8\x40\x27\x01\xe3\x51\x3d\x8d\x17\x00\x00\x00",
        35);
    put(t, "gzip-bomb",
        "\x05\x01\x01\x00\x00\x00\x84\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xed\xc1\x31\x01\x00"
        "\x00\x00\xc2\xa0\xf5\x4f\x6d\x0d\x0f\xa0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x57\x03\x7d"
        "\x95\x11\xd4\xa0\x86\x01\x00",
        139);
    put(t, "gzip-truncated",
        "\x05\x01\x01\x00\x00\x00\x0f\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9",
        22);
    put(t, "gzip-not-gzip", "\x05\x01\x01\x00\x00\x00\x0a\x70\x6c\x61\x69\x6e\x20\x74\x65\x78\x74",
        17);
    put(t, "too-large", "\x00\x00\x00\x7f\xff\xff\xff", 7);
    put(t, "truncated",
        "\x00\x00\x00\x00\x00\x09"
        "ab",
        8);
    put_text(t, "timeout-ms",
             "\x01"
             "250m");
    put_text(t, "timeout-hours",
             "\x01"
             "99999999H");
    put_text(t, "timeout-nanos",
             "\x01"
             "1n");
    put_text(t, "timeout-bad",
             "\x01"
             "12x");
    put(t, "message-utf8", "\x02no component 'x' \xc3\xa9 100%\n", 31);
    put_text(t, "base64",
             "\x03"
             "aGVsbG8gd29ybGQ=");
    put_text(t, "base64-url",
             "\x03"
             "-_-_");
    put_text(t, "base64-bad",
             "\x03"
             "a=b=");

    put_text(t, "chunked",
             "\x04\x03"
             "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
    put_text(t, "chunked-trailers",
             "\x04\x00"
             "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n");
    put_text(t, "chunked-bad",
             "\x04\x01"
             "zz\r\n");
    put_text(t, "chunked-huge",
             "\x04\x07"
             "ffffffffffffffff\r\n");

    t = "fuzz_proto_json";
    put_text(
        t, "request",
        "\x06{\"target\":\"comp1\",\"type\":\"echo\",\"payload\":{\"data\":\"aGk=\","
        "\"contentType\":\"text/plain\"},\"timeoutMs\":500,\"requestId\":\"18446744073709551615\","
        "\"criticality\":\"CRITICALITY_CRITICAL\",\"idempotent\":true}");
    put_text(t, "request-snake", "\x06{\"target\":\"c\",\"timeout_ms\":\"7\",\"criticality\":2}");
    put_text(t, "emit", "\x01{\"type\":\"t\",\"scope\":\"SCOPE_EXTERNAL\",\"target\":\"x\"}");
    put_text(t, "watch", "\x02{\"topic\":\"local:\",\"types\":[\"a\",\"b\"],\"source\":\"s\"}");
    put_text(t, "policy-map", "\x03{\"component\":\"*\",\"fields\":{\"max_attempts\":\"3\"}}");
    put_text(t, "status",
             "\x84{\"mode\":\"NORMAL\",\"uptimeMs\":\"12\",\"components\":[{\"id\":\"c\","
             "\"failuresByReason\":[{\"reason\":\"TIMEOUT\",\"count\":\"2\"}],"
             "\"checkpointAgeMs\":\"-1\"}],\"unknown\":1}");
    put_text(t, "reply-oneof", "\x05{\"code\":0,\"emitAck\":{\"delivered\":1,\"sequence\":\"9\"}}");
    put_text(t, "bad-enum", "\x06{\"criticality\":\"NOPE\"}");
    put_text(t, "bad-bytes", "\x06{\"payload\":{\"data\":\"!!\"}}");
    put_text(t, "unknown-field", "\x06{\"nope\":1}");

    t = "fuzz_shell_words";
    put_text(t, "plain", "/bin/echo hello");
    put_text(t, "quotes", "python3 -c 'print(1)' \"a \\\"b\\\"\" x\\ y");
    put_text(t, "unterminated", "sh -c 'open");
    put_text(t, "blank", "   \t ");
}

/* A real TLS client's first flight (its ClientHello) offering alpn (RFC 7301 wire form, may
 * be empty), at most max_version; its length in *len. */
static size_t client_hello(const unsigned char *alpn, unsigned int alpn_len, int max_version,
                           uint8_t *out, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    FUZZ_CHECK(ctx != NULL);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL *ssl = SSL_new(ctx);
    BIO *in = BIO_new(BIO_s_mem()), *wire = BIO_new(BIO_s_mem());
    FUZZ_CHECK(ssl != NULL && in != NULL && wire != NULL);
    SSL_set_bio(ssl, in, wire);
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (alpn_len > 0)
        FUZZ_CHECK(SSL_set_alpn_protos(ssl, alpn, alpn_len) == 0);
    SSL_set_connect_state(ssl);
    FUZZ_CHECK(SSL_do_handshake(ssl) <= 0); /* waits for the server */
    int n = BIO_read(wire, out, (int)cap);
    FUZZ_CHECK(n > 0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return (size_t)n;
}

static void tls_hellos(void)
{
    const char *t = "fuzz_tls_hello";
    static const struct {
        const char *name;
        const char *alpn;
        unsigned int len;
        int max_version;
    } hellos[] = {
        {"h2", "\x02h2", 3, TLS1_3_VERSION},
        {"grpc-exp-h2", "\x08grpc-exp\x02h2", 12, TLS1_3_VERSION},
        {"h2-http11", "\x02h2\x08http/1.1", 12, TLS1_3_VERSION},
        {"http11", "\x08http/1.1", 9, TLS1_3_VERSION},
        {"no-alpn", "", 0, TLS1_3_VERSION},
        {"unknown-alpn",
         "\x05"
         "foo/1",
         6, TLS1_3_VERSION},
        {"h2-tls12", "\x02h2", 3, TLS1_2_VERSION},
    };
    uint8_t buf[4096];
    for (size_t i = 0; i < sizeof(hellos) / sizeof(hellos[0]); i++) {
        size_t n = client_hello((const unsigned char *)hellos[i].alpn, hellos[i].len,
                                hellos[i].max_version, buf, sizeof(buf));
        put(t, hellos[i].name, buf, n);
        if (i == 0) {
            put(t, "h2-truncated", buf, n / 2);
            /* The same ClientHello in two records (TLS allows a handshake message to span
             * them): the record layer reassembles it. */
            size_t body = n - 5, half = body / 2;
            uint8_t two[4200];
            memcpy(two, buf, 5);
            two[3] = (uint8_t)(half >> 8);
            two[4] = (uint8_t)half;
            memcpy(two + 5, buf + 5, half);
            memcpy(two + 5 + half, buf, 5);
            two[5 + half + 3] = (uint8_t)((body - half) >> 8);
            two[5 + half + 4] = (uint8_t)(body - half);
            memcpy(two + 10 + half, buf + 5 + half, body - half);
            put(t, "h2-two-records", two, n + 5);
        }
    }
    put_text(t, "plain-http", "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    put_text(t, "h2c-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    put_literal(t, "huge-hello", "\x16\x03\x01\x40\x00\x01\x00\xff\xff");
    put_literal(t, "server-hello", "\x16\x03\x03\x00\x04\x02\x00\x00\x00");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    if (mkdir(root, 0755) != 0 && errno != EEXIST) {
        perror(root);
        return 1;
    }
    envelopes();
    replies();
    events();
    checkpoints();
    status_report();
    gateway();
    tls_hellos();
    return 0;
}
