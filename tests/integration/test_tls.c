/* Mutual TLS (tls+tcp://): a coordinator in this process, remote components in real processes
 * (tests/helpers/test_service.c) and clients, with a PKI made by openssl at test time
 * (tests/tls/make-test-certs): a component holding a certificate from the configured CA
 * registers and serves; one with a certificate from another CA, or none, is refused with a
 * clear error; a client without a valid certificate cannot call; the coordinator keeps serving
 * throughout. Also: bad certificate files fail at creation naming the file and the reason, and
 * a plain tcp:// listener beyond loopback warns. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

#ifndef TEST_SERVICE_PATH
#error "TEST_SERVICE_PATH must name the test_service binary"
#endif
#ifndef MAKE_CERTS_PATH
#error "MAKE_CERTS_PATH must name tests/tls/make-test-certs"
#endif

#define URL_SIZE 256

static struct {
    char dir[128];
    genesis_coordinator *c;
    char front[URL_SIZE];
    char bus[URL_SIZE];
} g;

/* A file of the test PKI, e.g. pki("ca.pem"). */
static const char *pki(const char *name)
{
    static char paths[16][192]; /* a few live at once in one call's arguments */
    static unsigned next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof(paths[0]), "%s/%s", g.dir, name);
    return p;
}

static int make_pki(void **state)
{
    (void)state;
    if (gt_tempdir_make(g.dir, sizeof(g.dir)) != 0)
        return -1;
    const char *argv[] = {MAKE_CERTS_PATH, g.dir, NULL};
    int code = -1;
    char err[1024] = "";
    if (gt_run(argv, 60000, &code, NULL, 0, err, sizeof(err)) != 0 || code != 0) {
        fprintf(stderr, "make-test-certs failed (%d): %s\n", code, err);
        return -1;
    }
    return 0;
}

static int remove_pki(void **state)
{
    (void)state;
    gt_tempdir_remove(g.dir);
    return 0;
}

/* A coordinator with the good certificate, listening on tls+tcp://127.0.0.1:0. */
static int start_coordinator(void **state)
{
    (void)state;
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.tls_ca_file = pki("ca.pem");
    o.tls_cert_file = pki("coordinator.pem");
    o.tls_key_file = pki("coordinator.key");
    o.heartbeat_misses = 30; /* health timing is not under test here: a loaded CI machine */
    if (genesis_coordinator_new(&g.c, &o) != GENESIS_OK ||
        genesis_coordinator_listen(g.c, "tls+tcp://127.0.0.1:0", "tls+tcp://127.0.0.1:0") !=
            GENESIS_OK) {
        fprintf(stderr, "coordinator: %s\n", genesis_last_error());
        return -1;
    }
    genesis_coordinator_get_url(g.c, GENESIS_ENDPOINT_FRONT_DOOR, g.front, sizeof(g.front));
    genesis_coordinator_get_url(g.c, GENESIS_ENDPOINT_EVENT_BUS, g.bus, sizeof(g.bus));
    return 0;
}

static int stop_coordinator(void **state)
{
    (void)state;
    gt_process_kill_all();
    genesis_coordinator_free(g.c);
    g.c = NULL;
    return 0;
}

static genesis_client *client_with(const char *ca, const char *cert, const char *key, int *rv)
{
    genesis_client_options o;
    genesis_client_options_init(&o, GENESIS_CLIENT_OPTIONS_VERSION);
    o.tls_ca_file = ca;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    o.default_timeout_ms = GT_WAIT_MS; /* generous: valgrind slows every handshake */
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, &o));
    *rv = genesis_client_dial(cl, g.front, NULL);
    return cl;
}

static genesis_client *good_client(void)
{
    int rv;
    genesis_client *cl = client_with(pki("ca.pem"), pki("client.pem"), pki("client.key"), &rv);
    if (rv != GENESIS_OK)
        fail_msg("good client cannot dial: %s", genesis_last_error());
    return cl;
}

/* Request target/ping; returns the status, the reply text in out. */
static int ping(genesis_client *cl, const char *target, char *out, size_t size)
{
    genesis_result *res = NULL;
    int rv = genesis_client_request(cl, target, "ping", "", 0, NULL, &res);
    size_t len = 0;
    const char *data = rv == GENESIS_OK ? genesis_result_data(res, &len) : NULL;
    snprintf(out, size, "%.*s", (int)len,
             data != NULL ? data : (res != NULL ? genesis_result_message(res) : ""));
    genesis_result_free(res);
    return rv;
}

/* Start test_service with the given TLS files (NULL = none); waits for ready or its exit. */
static bool spawn_service(gt_process *p, const char *id, const char *listen, const char *ca,
                          const char *cert, const char *key, char *line, size_t size)
{
    const char *argv[20] = {TEST_SERVICE_PATH, "--id", id,         "--front-door", g.front,
                            "--events",        g.bus,  "--listen", listen};
    int n = 9;
    if (ca != NULL) {
        argv[n++] = "--tls-ca";
        argv[n++] = ca;
        argv[n++] = "--tls-cert";
        argv[n++] = cert;
        argv[n++] = "--tls-key";
        argv[n++] = key;
    }
    argv[n] = NULL;
    assert_int_equal(gt_process_spawn(p, argv, GT_CAPTURE_STDOUT | GT_CAPTURE_STDERR), 0);
    return gt_process_wait_line(p, "ready ", line, size, GT_WAIT_MS);
}

/* The refused service exits 3 (setup failed) and its stderr names the cause. */
static void expect_refused(gt_process *p, const char *needle)
{
    assert_true(gt_process_wait(p, GT_WAIT_MS));
    assert_true(WIFEXITED(p->wait_status));
    assert_int_equal(WEXITSTATUS(p->wait_status), 3);
    char err[2048] = "";
    ssize_t n = read(p->err_fd, err, sizeof(err) - 1);
    err[n > 0 ? n : 0] = '\0';
    if (strstr(err, "UNAUTHENTICATED") == NULL || strstr(err, needle) == NULL)
        fail_msg("expected UNAUTHENTICATED and '%s' in: %s", needle, err);
    gt_process_kill(p);
}

static void assert_still_serving(void)
{
    genesis_client *cl = good_client();
    genesis_result *res = NULL;
    assert_ok(genesis_client_status(cl, GT_WAIT_MS, &res));
    genesis_result_free(res);
    genesis_client_free(cl);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_good_component_registers_and_serves(void **state)
{
    (void)state;
    gt_process svc;
    char line[512];
    if (!spawn_service(&svc, "secure", "tls+tcp://127.0.0.1:0", pki("ca.pem"), pki("component.pem"),
                       pki("component.key"), line, sizeof(line)))
        fail_msg("the component with a good certificate did not become ready: %s", line);
    assert_non_null(strstr(line, "url=tls+tcp://127.0.0.1:"));
    genesis_client *cl = good_client();
    char text[256] = "";
    for (int i = 0; i < 20; i++) {
        int rv = ping(cl, "secure", text, sizeof(text));
        if (rv != GENESIS_OK)
            fail_msg("ping %d over mutual TLS: %s: %s", i, genesis_status_name(rv), text);
        assert_string_equal(text, "pong:secure");
    }
    /* Events travel over the TLS bus to the component too. */
    genesis_result *res = NULL;
    assert_ok(genesis_client_emit(cl, "tls.hello", "x", 1, NULL, &res));
    genesis_result_free(res);
    genesis_client_free(cl);
    gt_process_kill(&svc);
}

static void test_component_from_another_ca_is_refused(void **state)
{
    (void)state;
    gt_process svc;
    char line[512];
    /* Its own CA: it trusts neither our coordinator nor is trusted by it. */
    assert_false(spawn_service(&svc, "rogue", "tls+tcp://127.0.0.1:0", pki("rogue-ca.pem"),
                               pki("rogue.pem"), pki("rogue.key"), line, sizeof(line)));
    expect_refused(&svc, "TLS handshake");
    /* Our CA to check the coordinator, but a certificate our CA never signed. */
    assert_false(spawn_service(&svc, "rogue", "tls+tcp://127.0.0.1:0", pki("ca.pem"),
                               pki("rogue.pem"), pki("rogue.key"), line, sizeof(line)));
    expect_refused(&svc, "TLS handshake");
    /* No certificate at all. */
    assert_false(
        spawn_service(&svc, "rogue", "tcp://127.0.0.1:0", NULL, NULL, NULL, line, sizeof(line)));
    expect_refused(&svc, "needs mutual TLS");
    /* Nothing registered, the coordinator still serves. */
    genesis_client *cl = good_client();
    char text[256];
    assert_int_equal(ping(cl, "rogue", text, sizeof(text)), GENESIS_NOT_FOUND);
    genesis_client_free(cl);
    assert_still_serving();
}

static void test_client_without_valid_cert_cannot_call(void **state)
{
    (void)state;
    gt_process svc;
    char line[512];
    if (!spawn_service(&svc, "guarded", "tls+tcp://127.0.0.1:0", pki("ca.pem"),
                       pki("component.pem"), pki("component.key"), line, sizeof(line)))
        fail_msg("component not ready: %s", line);
    char component_url[URL_SIZE];
    snprintf(component_url, sizeof(component_url), "%s", strstr(line, "url=") + 4);
    int rv;
    /* No TLS files: refused before any byte is sent. */
    genesis_client *cl = client_with(NULL, NULL, NULL, &rv);
    assert_int_equal(rv, GENESIS_UNAUTHENTICATED);
    assert_non_null(strstr(genesis_last_error(), "needs mutual TLS"));
    genesis_client_free(cl);
    /* A certificate from another CA: the handshake fails and says so. */
    cl = client_with(pki("rogue-ca.pem"), pki("rogue.pem"), pki("rogue.key"), &rv);
    assert_int_equal(rv, GENESIS_UNAUTHENTICATED);
    assert_non_null(strstr(genesis_last_error(), "TLS handshake"));
    genesis_client_free(cl);
    cl = client_with(pki("ca.pem"), pki("rogue.pem"), pki("rogue.key"), &rv);
    assert_int_equal(rv, GENESIS_UNAUTHENTICATED);
    genesis_client_free(cl);
    /* Plain tcp to the TLS port: no reply, ever. */
    char plain[URL_SIZE];
    snprintf(plain, sizeof(plain), "tcp://%s", strstr(g.front, "://") + 3);
    genesis_client_options o;
    genesis_client_options_init(&o, GENESIS_CLIENT_OPTIONS_VERSION);
    o.default_timeout_ms = 500;
    assert_ok(genesis_client_new(&cl, &o));
    assert_ok(genesis_client_dial(cl, plain, NULL));
    char text[256];
    rv = ping(cl, "guarded", text, sizeof(text));
    assert_true(rv == GENESIS_UNAVAILABLE || rv == GENESIS_DEADLINE_EXCEEDED);
    genesis_client_free(cl);
    /* The component's own listener refuses a stranger too (the coordinator is not the only
     * way in). */
    genesis_client_options_init(&o, GENESIS_CLIENT_OPTIONS_VERSION);
    o.tls_ca_file = pki("rogue-ca.pem");
    o.tls_cert_file = pki("rogue.pem");
    o.tls_key_file = pki("rogue.key");
    assert_ok(genesis_client_new(&cl, &o));
    assert_int_equal(genesis_client_dial(cl, component_url, NULL), GENESIS_UNAUTHENTICATED);
    genesis_client_free(cl);
    /* Meanwhile the good path keeps working. */
    cl = good_client();
    assert_ok(ping(cl, "guarded", text, sizeof(text)));
    assert_string_equal(text, "pong:guarded");
    genesis_client_free(cl);
    gt_process_kill(&svc);
}

/* ---- without a coordinator: configuration errors and the plain-tcp warning --------------- */

static void expect_new_fails(const char *ca, const char *cert, const char *key, const char *needle)
{
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.tls_ca_file = ca;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    genesis_coordinator *c = NULL;
    assert_int_equal(genesis_coordinator_new(&c, &o), GENESIS_INVALID_ARGUMENT);
    assert_null(c);
    if (strstr(genesis_last_error(), needle) == NULL)
        fail_msg("expected '%s' in: %s", needle, genesis_last_error());
}

static void never_called(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)reply;
    (void)arg;
}

static void test_bad_files_are_named(void **state)
{
    (void)state;
    char missing[256];
    snprintf(missing, sizeof(missing), "%s/no-such.pem", g.dir);
    expect_new_fails(missing, pki("coordinator.pem"), pki("coordinator.key"),
                     "No such file or directory");
    expect_new_fails(missing, pki("coordinator.pem"), pki("coordinator.key"), missing);
    expect_new_fails(pki("garbage.pem"), pki("coordinator.pem"), pki("coordinator.key"), "not PEM");
    expect_new_fails(pki("ca.pem"), pki("coordinator.pem"), pki("garbage.pem"), "garbage.pem");
    /* A certificate where the key belongs: parsed as a key, it is invalid. */
    expect_new_fails(pki("ca.pem"), pki("coordinator.pem"), pki("ca.pem"), "not valid");
    expect_new_fails(pki("ca.pem"), NULL, NULL, "missing: certificate key");
    /* The same checks guard services and clients. */
    genesis_service_options so;
    genesis_service_options_init(&so, GENESIS_SERVICE_OPTIONS_VERSION);
    so.tls_ca_file = missing;
    so.tls_cert_file = pki("component.pem");
    so.tls_key_file = pki("component.key");
    genesis_component comp = {.version = 1, .on_request = never_called};
    genesis_service *svc = NULL;
    assert_int_equal(genesis_service_new(&svc, "svc", &comp, &so), GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_last_error(), "no-such.pem"));
    assert_null(svc);
    genesis_client_options co;
    genesis_client_options_init(&co, GENESIS_CLIENT_OPTIONS_VERSION);
    co.tls_ca_file = pki("ca.pem");
    co.tls_cert_file = pki("client.pem");
    co.tls_key_file = missing;
    genesis_client *cl = NULL;
    assert_int_equal(genesis_client_new(&cl, &co), GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_last_error(), "no-such.pem"));
    assert_null(cl);
    /* A tls+tcp URL without TLS files is refused with the reason. */
    genesis_coordinator *c = NULL;
    assert_ok(genesis_coordinator_new(&c, NULL));
    assert_int_equal(genesis_coordinator_listen(c, "tls+tcp://127.0.0.1:0", NULL),
                     GENESIS_INVALID_ARGUMENT);
    assert_non_null(strstr(genesis_last_error(), "needs mutual TLS"));
    genesis_coordinator_free(c);
}

typedef struct warnings {
    int security;
} warnings;

static void count_warnings(int level, const char *message, void *arg)
{
    (void)level;
    if (strstr(message, "SECURITY WARNING") != NULL)
        ((warnings *)arg)->security++;
}

static int warnings_for(const char *front, const char *bus)
{
    warnings w = {0};
    genesis_coordinator_options o;
    genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
    o.log = count_warnings;
    o.log_arg = &w;
    genesis_coordinator *c = NULL;
    assert_ok(genesis_coordinator_new(&c, &o));
    assert_ok(genesis_coordinator_listen(c, front, bus));
    genesis_coordinator_free(c);
    return w.security;
}

static void test_plain_tcp_beyond_loopback_warns(void **state)
{
    (void)state;
    assert_int_equal(warnings_for("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"), 0);
    /* One warning per listener, at start. */
    assert_int_equal(warnings_for("tcp://0.0.0.0:0", "tcp://0.0.0.0:0"), 2);
    char a[256], b[256];
    assert_int_equal(
        warnings_for(gt_ipc_url(a, sizeof(a), g.dir, "w1"), gt_ipc_url(b, sizeof(b), g.dir, "w2")),
        0);
}

int main(void)
{
    char openssl[256];
    if (!gt_find_in_path("openssl", openssl, sizeof(openssl))) {
        fprintf(stderr, "test_tls: openssl not found (tools/setup installs it): skipped\n");
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest config_tests[] = {
        cmocka_unit_test(test_bad_files_are_named),
        cmocka_unit_test(test_plain_tcp_beyond_loopback_warns),
    };
    const struct CMUnitTest live_tests[] = {
        cmocka_unit_test(test_good_component_registers_and_serves),
        cmocka_unit_test(test_component_from_another_ca_is_refused),
        cmocka_unit_test(test_client_without_valid_cert_cannot_call),
    };
    if (make_pki(NULL) != 0)
        return 1;
    int failed = cmocka_run_group_tests_name("tls configuration", config_tests, NULL, NULL);
    failed +=
        cmocka_run_group_tests_name("mutual tls", live_tests, start_coordinator, stop_coordinator);
    remove_pki(NULL);
    return failed;
}
