/* Hostile peers beyond the front door (test_bad_input.c covers the front door's messages):
 * a remote component that replies garbage, truncated, oversized or newer-version bytes, an
 * out-of-range code, twice, or never; a flood beyond a component's bulkhead; component ids
 * with hostile characters; a hostile event-bus publisher feeding a subscriber; thousands of
 * idle and half-open connections. Each case asserts a clear error naming its reason, a
 * coordinator that still serves, and (without sanitizers, whose quarantine holds freed
 * memory) resident memory within a bound after hundreds of rounds.
 *
 * Everything runs over real NNG sockets (ipc:// and tcp://) against a real coordinator; the
 * hostile component is a raw REP socket driven by this test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_tempdir.h"
#include "gt_wait.h"
#include "wire/wire.h"

#define MAX_MESSAGE (16u * 1024u)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* How the hostile component answers the next requests. */
enum reply_mode {
    REPLY_ECHO_TYPE, /* OK with the request's type as payload (a well-behaved component) */
    REPLY_GARBAGE,
    REPLY_TRUNCATED,
    REPLY_OVERSIZED,
    REPLY_NEWER_VERSION,
    REPLY_CODE_OUT_OF_RANGE,
    REPLY_ERROR_NO_REASON,
    REPLY_TWICE, /* a correct reply, then a second one for the same request */
    REPLY_NEVER,
};

typedef struct fixture {
    char dir[128];
    char front_url[256];
    char comp_url[256];
    genesis_coordinator *c;
    nng_socket rep; /* the hostile component (raw REP: it may answer any number of times) */
    pthread_t thread;
    pthread_mutex_t lock;
    int mode;
    bool stop;
} fixture;

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static nng_msg *reply_for(const fixture *f, int mode, nng_msg *in, const char *type)
{
    nng_msg *out = NULL;
    switch (mode) {
    case REPLY_GARBAGE: {
        static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99};
        nng_msg_alloc(&out, 0);
        nng_msg_append(out, garbage, sizeof(garbage));
        break;
    }
    case REPLY_TRUNCATED: {
        gn_reply_msg(&out, GENESIS_OK, GENESIS_REASON_NONE, "a reply cut short", type, strlen(type),
                     "text/plain");
        nng_msg_chop(out, 5);
        break;
    }
    case REPLY_OVERSIZED: {
        size_t n = 3 * MAX_MESSAGE;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, 'x', n);
        gn_reply_msg(&out, GENESIS_OK, GENESIS_REASON_NONE, "", big, n, "text/plain");
        free(big);
        break;
    }
    case REPLY_NEWER_VERSION: {
        /* Packed by hand: gn_reply_encode would stamp this peer's version. */
        gn_wire_reply r = GENESIS__V1__REPLY__INIT;
        r.message = "";
        r.version = GENESIS_PROTOCOL_VERSION + 3;
        size_t n = genesis__v1__reply__get_packed_size(&r);
        nng_msg_alloc(&out, n);
        genesis__v1__reply__pack(&r, nng_msg_body(out));
        break;
    }
    case REPLY_CODE_OUT_OF_RANGE:
        gn_reply_msg(&out, 4242, 999, "a code from the future", NULL, 0, NULL);
        break;
    case REPLY_ERROR_NO_REASON:
        gn_reply_msg(&out, GENESIS_NOT_FOUND, GENESIS_REASON_NONE, "no such order", NULL, 0, NULL);
        break;
    default:
        gn_reply_msg(&out, GENESIS_OK, GENESIS_REASON_NONE, "", type, strlen(type), "text/plain");
        break;
    }
    (void)f;
    assert_non_null(out);
    /* Raw REP: the request's routing header goes back in front of the reply. */
    assert_int_equal(nng_msg_header_append(out, nng_msg_header(in), nng_msg_header_len(in)), 0);
    return out;
}

static void *component_main(void *arg)
{
    fixture *f = arg;
    for (;;) {
        nng_msg *in = NULL;
        int err = nng_recvmsg(f->rep, &in, 0);
        if (err == NNG_ETIMEDOUT) {
            pthread_mutex_lock(&f->lock);
            bool stop = f->stop;
            pthread_mutex_unlock(&f->lock);
            if (stop)
                return NULL;
            continue;
        }
        if (err != 0)
            return NULL;
        pthread_mutex_lock(&f->lock);
        int mode = f->mode;
        pthread_mutex_unlock(&f->lock);
        gn_envelope *env = NULL;
        int reason = 0;
        char why[128];
        char type[64] = "?";
        if (gn_envelope_decode(nng_msg_body(in), nng_msg_len(in), 0, &env, &reason, why,
                               sizeof(why)) == GENESIS_OK &&
            env->body_case == GENESIS__V1__ENVELOPE__BODY_REQUEST)
            snprintf(type, sizeof(type), "%s", env->request->type);
        gn_envelope_free(env);
        if (mode != REPLY_NEVER) {
            nng_msg *out = reply_for(f, mode, in, type);
            if (mode == REPLY_TWICE) {
                nng_msg *again = NULL;
                assert_int_equal(nng_msg_dup(&again, out), 0);
                nng_msg_chop(again, nng_msg_len(again)); /* same header, new body: */
                gn_wire_reply r = GENESIS__V1__REPLY__INIT;
                Genesis__V1__Payload p = GENESIS__V1__PAYLOAD__INIT;
                p.data.data = (uint8_t *)"duplicate";
                p.data.len = 9;
                r.version = GENESIS_PROTOCOL_VERSION;
                r.message = "";
                r.payload = &p;
                uint8_t buf[64];
                size_t n = genesis__v1__reply__pack(&r, buf);
                nng_msg_append(again, buf, n);
                if (nng_sendmsg(f->rep, out, 0) != 0)
                    nng_msg_free(out);
                if (nng_sendmsg(f->rep, again, 0) != 0)
                    nng_msg_free(again);
            } else if (nng_sendmsg(f->rep, out, 0) != 0) {
                nng_msg_free(out);
            }
        }
        nng_msg_free(in);
    }
}

static void set_mode(fixture *f, int mode)
{
    pthread_mutex_lock(&f->lock);
    f->mode = mode;
    pthread_mutex_unlock(&f->lock);
}

/* Register "hostile" at the raw REP socket through the front door, as a service would. */
static void register_component(fixture *f, const char *id, const char *url, int want,
                               int want_reason)
{
    nng_socket req;
    assert_int_equal(nng_req0_open(&req), 0);
    nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, GT_WAIT_MS);
    assert_int_equal(nng_dial(req, f->front_url, NULL, 0), 0);
    Genesis__V1__Register reg = GENESIS__V1__REGISTER__INIT;
    reg.component_id = (char *)id;
    reg.url = (char *)url;
    reg.instance_id = "hostile-1";
    reg.heartbeat_interval_ms = 600000; /* it never heartbeats: keep it UP for the test */
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_REGISTER;
    env.register_ = &reg;
    nng_msg *msg = NULL;
    assert_ok(gn_envelope_encode(&env, &msg));
    assert_int_equal(nng_sendmsg(req, msg, 0), 0);
    assert_int_equal(nng_recvmsg(req, &msg, 0), 0);
    gn_wire_reply *reply = NULL;
    int reason = 0;
    char why[128];
    assert_ok(
        gn_reply_decode(nng_msg_body(msg), nng_msg_len(msg), 0, &reply, &reason, why, sizeof(why)));
    assert_codes(reply->code, reply->reason, reply->message, want, want_reason);
    if (want != GENESIS_OK && (reply->message == NULL || reply->message[0] == '\0'))
        fail_msg("a refused registration must say why");
    gn_reply_free(reply);
    nng_msg_free(msg);
    nng_close(req);
}

static int teardown(void **state);

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    *state = f;
    pthread_mutex_init(&f->lock, NULL);
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.max_message_size = MAX_MESSAGE;
    o.log_level = GENESIS_LOG_ERROR;
    char want[256];
    int rv;
    if (gt_tempdir_make(f->dir, sizeof(f->dir)) != 0 ||
        (rv = genesis_coordinator_new(&f->c, &o)) != GENESIS_OK ||
        (rv = genesis_coordinator_listen(f->c, "tcp://127.0.0.1:0",
                                         gt_ipc_url(want, sizeof(want), f->dir, "bus"))) !=
            GENESIS_OK ||
        (rv = genesis_coordinator_get_url(f->c, GENESIS_ENDPOINT_FRONT_DOOR, f->front_url,
                                          sizeof(f->front_url))) != GENESIS_OK) {
        print_error("setup: %s\n", genesis_last_error());
        teardown(state);
        return -1;
    }
    gt_ipc_url(f->comp_url, sizeof(f->comp_url), f->dir, "hostile");
    if (nng_rep0_open_raw(&f->rep) != 0 || nng_listen(f->rep, f->comp_url, NULL, 0) != 0) {
        teardown(state);
        return -1;
    }
    nng_socket_set_ms(f->rep, NNG_OPT_RECVTIMEO, 50);
    nng_socket_set_size(f->rep, NNG_OPT_RECVMAXSZ, 0);
    pthread_create(&f->thread, NULL, component_main, f);
    register_component(f, "hostile", f->comp_url, GENESIS_OK, GENESIS_REASON_NONE);
    /* Each bad reply is judged on its own: no breaker opening on a run of them. */
    assert_ok(genesis_coordinator_set_breaker(f->c, "hostile", GENESIS_BREAKER_DISABLED));
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f == NULL)
        return 0;
    if (f->thread) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
    }
    genesis_coordinator_free(f->c);
    nng_close(f->rep);
    pthread_mutex_destroy(&f->lock);
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

static genesis_result *call(fixture *f, const char *type, uint32_t timeout_ms)
{
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.timeout_ms = timeout_ms;
    genesis_result *res = NULL;
    genesis_coordinator_request(f->c, "hostile", type, "q", 1, &opts, &res);
    assert_non_null(res);
    return res;
}

/* A well-behaved answer, to this request and no other. */
static void assert_serves(fixture *f, const char *type)
{
    set_mode(f, REPLY_ECHO_TYPE);
    genesis_result *res = call(f, type, GT_WAIT_MS);
    assert_result_ok(res);
    size_t n = 0;
    const char *data = genesis_result_data(res, &n);
    if (n != strlen(type) || memcmp(data, type, n) != 0)
        fail_msg("request '%s' got the answer '%.*s'", type, (int)n, data);
    genesis_result_free(res);
}

static void assert_failure_named(genesis_result *res, int status, int reason)
{
    assert_result(res, status, reason);
    if (genesis_result_message(res)[0] == '\0')
        fail_msg("%s / %s without a message", genesis_status_name(status),
                 genesis_reason_name(reason));
}

static void test_component_bad_replies(void **state)
{
    fixture *f = *state;
    static const struct {
        int mode, status, reason;
    } cases[] = {
        {REPLY_GARBAGE, GENESIS_INTERNAL, GENESIS_REASON_MALFORMED_MESSAGE},
        {REPLY_TRUNCATED, GENESIS_INTERNAL, GENESIS_REASON_MALFORMED_MESSAGE},
        {REPLY_NEWER_VERSION, GENESIS_FAILED_PRECONDITION, GENESIS_REASON_UNSUPPORTED_VERSION},
        {REPLY_CODE_OUT_OF_RANGE, GENESIS_UNKNOWN, 999},
        {REPLY_ERROR_NO_REASON, GENESIS_NOT_FOUND, GENESIS_REASON_HANDLER_ERROR},
    };
    assert_serves(f, "before");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        set_mode(f, cases[i].mode);
        genesis_result *res = call(f, "bad", GT_WAIT_MS);
        assert_failure_named(res, cases[i].status, cases[i].reason);
        genesis_result_free(res);
        char type[32];
        snprintf(type, sizeof(type), "after-%zu", i);
        assert_serves(f, type);
    }
}

/* Past NNG's receive limit the connection is dropped: the request fails (never hangs past
 * its deadline) with a reason, and the coordinator redials the component. */
static void test_component_oversized_reply(void **state)
{
    fixture *f = *state;
    set_mode(f, REPLY_OVERSIZED);
    genesis_result *res = call(f, "big", 1000);
    assert_int_not_equal(genesis_result_status(res), GENESIS_OK);
    assert_int_not_equal(genesis_result_reason(res), GENESIS_REASON_NONE);
    assert_true(genesis_result_message(res)[0] != '\0');
    print_message("oversized reply: %s / %s: %s\n", genesis_status_name(genesis_result_status(res)),
                  genesis_reason_name(genesis_result_reason(res)), genesis_result_message(res));
    genesis_result_free(res);
    /* Redialing takes a moment: a few attempts within the bound. */
    set_mode(f, REPLY_ECHO_TYPE);
    int64_t deadline = gt_now_ms() + GT_WAIT_MS;
    int status;
    do {
        res = call(f, "again", 1000);
        status = genesis_result_status(res);
        genesis_result_free(res);
    } while (status != GENESIS_OK && gt_now_ms() < deadline);
    assert_int_equal(status, GENESIS_OK);
}

/* A reply to a request already answered must never answer a later one. */
static void test_component_replies_twice(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 20; i++) {
        set_mode(f, REPLY_TWICE);
        char type[32];
        snprintf(type, sizeof(type), "first-%d", i);
        genesis_result *res = call(f, type, GT_WAIT_MS);
        assert_result_ok(res);
        size_t n = 0;
        const char *data = genesis_result_data(res, &n);
        assert_int_equal(n, strlen(type));
        assert_memory_equal(data, type, n);
        genesis_result_free(res);
        snprintf(type, sizeof(type), "second-%d", i);
        assert_serves(f, type); /* not "duplicate" */
    }
}

static void test_component_never_replies(void **state)
{
    fixture *f = *state;
    set_mode(f, REPLY_NEVER);
    genesis_result *res = call(f, "silence", 200);
    assert_failure_named(res, GENESIS_DEADLINE_EXCEEDED, GT_ANY_REASON);
    int reason = genesis_result_reason(res);
    assert_true(reason == GENESIS_REASON_TIMEOUT || reason == GENESIS_REASON_DEADLINE_EXCEEDED);
    genesis_result_free(res);
    assert_serves(f, "after-silence");
}

typedef struct flood {
    gt_counter done;
    pthread_mutex_t lock;
    int by_reason[32];
} flood;

static void flood_done(genesis_result *res, void *arg)
{
    flood *fl = arg;
    int reason = genesis_result_reason(res);
    pthread_mutex_lock(&fl->lock);
    fl->by_reason[reason >= 0 && reason < 32 ? reason : 0]++;
    pthread_mutex_unlock(&fl->lock);
    genesis_result_free(res);
    gt_counter_add(&fl->done, 1);
}

/* A flood far beyond the component's bulkhead while it answers nothing: the excess is refused
 * at once as BULKHEAD_FULL, the rest end at their deadline, and then it serves again. */
static void test_flood_beyond_bulkhead(void **state)
{
    fixture *f = *state;
    genesis_policy p;
    genesis_policy_init(&p, GENESIS_POLICY_VERSION);
    p.max_concurrency = 4;
    p.max_queued = 4;
    p.max_attempts = 1;
    assert_ok(genesis_coordinator_set_policy(f->c, "hostile", &p));
    set_mode(f, REPLY_NEVER);
    flood fl;
    memset(&fl, 0, sizeof(fl));
    gt_counter_init(&fl.done);
    pthread_mutex_init(&fl.lock, NULL);
    const int n = 500;
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.timeout_ms = 300;
    for (int i = 0; i < n; i++)
        assert_ok(genesis_coordinator_request_async(f->c, "hostile", "flood", "x", 1, &opts,
                                                    flood_done, &fl));
    assert_true(gt_counter_wait(&fl.done, n, GT_WAIT_MS * 3));
    int full = fl.by_reason[GENESIS_REASON_BULKHEAD_FULL];
    print_message("flood of %d: %d BULKHEAD_FULL, %d TIMEOUT, %d DEADLINE_EXCEEDED\n", n, full,
                  fl.by_reason[GENESIS_REASON_TIMEOUT],
                  fl.by_reason[GENESIS_REASON_DEADLINE_EXCEEDED]);
    assert_true(full >= n - 8 - 8); /* at most 4 running + 4 queued were admitted, per wave */
    assert_int_equal(fl.by_reason[GENESIS_REASON_NONE], 0);
    gt_counter_destroy(&fl.done);
    pthread_mutex_destroy(&fl.lock);
    assert_ok(genesis_coordinator_set_policy(f->c, "hostile", NULL));
    assert_serves(f, "after-flood");
}

/* Hundreds of bad replies leave no memory behind (the sanitizer builds check leaks instead:
 * their quarantine keeps freed memory resident on purpose). */
static void test_bad_replies_memory_bounded(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 50; i++) /* warm up allocator caches and NNG's pools */
        assert_serves(f, "warm");
    long before = rss_kib();
    for (int i = 0; i < 600; i++) {
        set_mode(f, i % 3 == 0 ? REPLY_GARBAGE : i % 3 == 1 ? REPLY_TRUNCATED : REPLY_TWICE);
        genesis_result_free(call(f, "round", GT_WAIT_MS));
    }
    assert_serves(f, "after-rounds");
    long grown = rss_kib() - before;
    print_message("RSS %ld KiB before, grew %ld KiB over 600 bad replies%s\n", before, grown,
                  SANITIZED ? " (sanitizer build: not asserted)" : "");
    if (!SANITIZED && grown > 8 * 1024)
        fail_msg("resident memory grew by %ld KiB over 600 bad replies", grown);
}

/* Ids with hostile characters are refused with a reason everywhere an id arrives. */
static void test_hostile_component_ids(void **state)
{
    fixture *f = *state;
    char long_id[200];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    const char *ids[] = {"",         "a/b",       "../../etc/passwd",
                         "a b",      "x\n{\"y\"", "caf\xc3\xa9",
                         "<script>", "bad\xff",   "%00",
                         "a:b",      "*",         long_id};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        register_component(f, ids[i], f->comp_url, GENESIS_INVALID_ARGUMENT,
                           GENESIS_REASON_INVALID_ARGUMENT);
        genesis_result *res = NULL;
        int rv = genesis_coordinator_request(f->c, ids[i], "t", NULL, 0, NULL, &res);
        assert_true(rv == GENESIS_INVALID_ARGUMENT || rv == GENESIS_NOT_FOUND);
        if (res != NULL)
            assert_true(genesis_result_message(res)[0] != '\0');
        genesis_result_free(res);
    }
    /* The status document stays valid JSON naming only real components. */
    genesis_result *st = NULL;
    assert_ok(genesis_coordinator_status(f->c, &st));
    size_t n = 0;
    const char *doc = genesis_result_data(st, &n);
    assert_non_null(strstr(doc, "\"hostile\""));
    assert_null(strstr(doc, "script"));
    genesis_result_free(st);
    assert_serves(f, "after-ids");
}

/* ---- a hostile event-bus publisher --------------------------------------------------------- */

typedef struct received {
    gt_counter good;
    pthread_mutex_t lock;
    int other;
} received;

static void on_event(const genesis_event *ev, void *arg)
{
    received *r = arg;
    if (strcmp(genesis_event_type(ev), "good") == 0) {
        gt_counter_add(&r->good, 1);
    } else {
        pthread_mutex_lock(&r->lock);
        r->other++;
        pthread_mutex_unlock(&r->lock);
    }
}

static void publish(nng_socket pub, const void *data, size_t len)
{
    nng_msg *m = NULL;
    assert_int_equal(nng_msg_alloc(&m, len), 0);
    memcpy(nng_msg_body(m), data, len);
    if (nng_sendmsg(pub, m, 0) != 0)
        nng_msg_free(m);
}

/* A client subscribed to a bus whose publisher sends garbage, frames without a topic, topics
 * that lie about the event, and frames over the size limit: only the genuine events arrive. */
/* A publisher on the bus URL a client subscribes to, sending frames that do not decode, a
 * topic that lies about the type, frames with no terminator and, with oversized, frames over
 * the subscriber's size limit; good events among them still arrive and nothing else does. */
static void hostile_bus(fixture *f, const char *listen_url, bool oversized)
{
    nng_socket pub;
    nng_listener l;
    assert_int_equal(nng_pub0_open(&pub), 0);
    assert_int_equal(nng_listen(pub, listen_url, &l, 0), 0);
    char url[256];
    int port = 0;
    if (strncmp(listen_url, "tcp://", 6) == 0 &&
        nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0)
        snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    else
        snprintf(url, sizeof(url), "%s", listen_url);
    genesis_client_options co;
    genesis_client_options_init(&co, GENESIS_CLIENT_OPTIONS_VERSION);
    co.max_message_size = MAX_MESSAGE;
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, &co));
    received r;
    memset(&r, 0, sizeof(r));
    gt_counter_init(&r.good);
    pthread_mutex_init(&r.lock, NULL);
    assert_ok(genesis_client_dial(cl, f->front_url, url));
    assert_ok(genesis_client_subscribe(cl, "", on_event, &r));

    gn_wire_event ev = GENESIS__V1__EVENT__INIT;
    ev.type = "good";
    ev.source = "fake";
    nng_msg *good = NULL;
    gn_wire_event liar = GENESIS__V1__EVENT__INIT;
    liar.type = "evil";
    nng_msg *evil = NULL;
    assert_ok(gn_event_frame_encode(&liar, &evil));
    memcpy(nng_msg_body(evil), "local:good", 10); /* the topic claims another type */
    static const uint8_t garbage[] = "local:good\0\xff\xff\xff\xff\x0f";
    char *big = malloc(4 * MAX_MESSAGE);
    assert_non_null(big);
    memcpy(big, "local:good", 11);
    memset(big + 11, 0x0a, 4 * MAX_MESSAGE - 11);
    int64_t deadline = gt_now_ms() + GT_WAIT_MS;
    uint64_t seq = 0;
    for (unsigned round = 0; gt_counter_get(&r.good) < 5 && gt_now_ms() < deadline; round++) {
        publish(pub, garbage, sizeof(garbage) - 1);
        publish(pub, "no terminator at all", 20);
        publish(pub, nng_msg_body(evil), nng_msg_len(evil));
        /* An oversized frame drops the connection, which the subscriber dials again: one
         * every 20 rounds leaves time for good events to arrive in between. */
        if (oversized && round % 20 == 0)
            publish(pub, big, 4 * MAX_MESSAGE);
        ev.sequence = ++seq;
        assert_ok(gn_event_frame_encode(&ev, &good));
        publish(pub, nng_msg_body(good), nng_msg_len(good));
        nng_msg_free(good);
        gt_sleep_ms(10);
    }
    free(big);
    nng_msg_free(evil);
    assert_true(gt_counter_get(&r.good) >= 5);
    genesis_client_free(cl); /* no callback after this */
    assert_int_equal(r.other, 0);
    gt_counter_destroy(&r.good);
    pthread_mutex_destroy(&r.lock);
    nng_close(pub);
    assert_serves(f, "after-bus");
}

/* Over ipc, without oversized frames: NNG 1.5.2's ipc transport, refusing a frame over the
 * receive limit, leaves its reaper waiting forever, so every later socket close in the
 * process hangs (docs/known-limits.md, "Debian's NNG 1.5.2"). */
static void test_hostile_bus_publisher(void **state)
{
    fixture *f = *state;
    char url[256];
    gt_ipc_url(url, sizeof(url), f->dir, "fake-bus");
    hostile_bus(f, url, false);
}

/* Over tcp, oversized frames too: the connection is dropped and dialed again. */
static void test_hostile_bus_publisher_oversized_tcp(void **state)
{
    hostile_bus(*state, "tcp://127.0.0.1:0", true);
}

/* ---- connections: thousands idle, half-open handshakes -------------------------------------- */

static int tcp_connect(const char *url)
{
    const char *colon = strrchr(url, ':');
    assert_non_null(colon);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int client_status(const char *url)
{
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_ok(genesis_client_dial(cl, url, NULL));
    int64_t deadline = gt_now_ms() + GT_WAIT_MS;
    int rv;
    do {
        genesis_result *res = NULL;
        int64_t left = deadline - gt_now_ms();
        rv = genesis_client_status(cl, (uint32_t)(left > 1 ? left : 1), &res);
        genesis_result_free(res);
        if (rv == GENESIS_UNAVAILABLE)
            gt_sleep_ms(20);
    } while (rv == GENESIS_UNAVAILABLE && gt_now_ms() < deadline);
    genesis_client_free(cl);
    return rv;
}

/* Thousands of connections that never speak, or stop half-way through the SP handshake,
 * must not keep a well-behaved client out; the coordinator's memory stays bounded. */
static void test_idle_and_half_open_connections(void **state)
{
    fixture *f = *state;
    const int want = 2000;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)(2 * want + 512)) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)(2 * want + 512) ? rl.rlim_max : 2 * want + 512;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Both ends live in this process: each connection costs two descriptors. */
    int n = (int)((rl.rlim_cur - 256) / 2) < want ? (int)((rl.rlim_cur - 256) / 2) : want;
    int *fds = calloc((size_t)n, sizeof(*fds));
    assert_non_null(fds);
    long before = rss_kib();
    int opened = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = tcp_connect(f->front_url);
        if (fds[i] < 0)
            break;
        opened++;
        if (i % 2 == 1 && write(fds[i], "\0SP\0", 4) != 4) /* a half-finished SP header */
            print_message("write to the front door failed\n");
    }
    print_message("%d connections open (%d idle, %d half-open)\n", opened, (opened + 1) / 2,
                  opened / 2);
    assert_true(opened >= n * 9 / 10);
    assert_int_equal(client_status(f->front_url), GENESIS_OK);
    assert_serves(f, "while-crowded");
    long grown = rss_kib() - before;
    print_message("RSS grew %ld KiB with %d idle connections (%ld bytes each)%s\n", grown, opened,
                  opened > 0 ? grown * 1024 / opened : 0, SANITIZED ? " (sanitizer build)" : "");
    if (!SANITIZED && grown > 64 * 1024)
        fail_msg("%d idle connections cost %ld KiB", opened, grown);
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    assert_int_equal(client_status(f->front_url), GENESIS_OK);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest peers[] = {
        cmocka_unit_test_setup_teardown(test_component_bad_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_component_replies_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_component_never_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_beyond_bulkhead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_replies_memory_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_component_ids, setup, teardown),
    };
    /* Oversized replies and frames and mass hang-ups make NNG 1.5.2 drop connections in ways
     * whose wedged objects and queued messages it never frees (see test_bad_input.c and
     * nanomsg/nng#1643): a separate ctest entry, without LeakSanitizer in sanitizer builds. */
    const struct CMUnitTest connections[] = {
        cmocka_unit_test_setup_teardown(test_component_oversized_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_bus_publisher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_bus_publisher_oversized_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_and_half_open_connections, setup, teardown),
    };
    if (argc > 1 && strcmp(argv[1], "--connection-faults") == 0)
        return cmocka_run_group_tests_name("hostile peers: connections", connections, NULL, NULL);
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--connection-faults]\n", argv[0]);
        return 2;
    }
    return cmocka_run_group_tests_name("hostile peers", peers, NULL, NULL);
}
