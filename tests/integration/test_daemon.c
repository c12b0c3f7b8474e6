/* The real programs: genesisd --demo on ipc:// URLs in a temp dir, driven with genesisctl
 * (request, status --json, watch + emit) and with nngcat sending garbage. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"
#include "wire/wire.h"

#if !defined(GENESISD_PATH) || !defined(GENESISCTL_PATH) || !defined(NNGCAT_PATH)
#error "GENESISD_PATH, GENESISCTL_PATH and NNGCAT_PATH must be defined by the build"
#endif

#define URL_SIZE 256
#define OUT_SIZE 16384

typedef struct daemon_fixture {
    char dir[128];
    gt_process proc;
    char front[URL_SIZE];
    char bus[URL_SIZE];
} daemon_fixture;

/* Start genesisd --demo listening in dir and parse its ready line. */
static bool start_daemon(daemon_fixture *d)
{
    char front[URL_SIZE], bus[URL_SIZE];
    gt_ipc_url(front, sizeof(front), d->dir, "front");
    gt_ipc_url(bus, sizeof(bus), d->dir, "bus");
    /* --http off: this test is about the coordinator; a fixed HTTP port could collide. */
    const char *argv[] = {GENESISD_PATH, "--front-door", front,    "--events", bus, "--demo",
                          "--log-level", "warn",         "--http", "off",      NULL};
    if (gt_process_spawn(&d->proc, argv, GT_CAPTURE_STDOUT) != 0) {
        print_error("cannot start %s: %s\n", GENESISD_PATH, strerror(errno));
        return false;
    }
    char line[1024];
    if (!gt_process_wait_line(&d->proc, "ready ", line, sizeof(line), GT_WAIT_MS)) {
        print_error("genesisd never printed its ready line (got \"%s\")\n", line);
        gt_process_kill(&d->proc);
        return false;
    }
    /* ready front_door=<url> event_bus=<url> */
    if (sscanf(line, "ready front_door=%255s event_bus=%255s", d->front, d->bus) != 2) {
        print_error("cannot parse the ready line \"%s\"\n", line);
        gt_process_kill(&d->proc);
        return false;
    }
    if (strcmp(d->front, front) != 0 || strcmp(d->bus, bus) != 0) {
        print_error("genesisd listens on %s / %s, asked for %s / %s\n", d->front, d->bus, front,
                    bus);
        gt_process_kill(&d->proc);
        return false;
    }
    return true;
}

static int group_teardown(void **state);

static int group_setup(void **state)
{
    daemon_fixture *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -1;
    *state = d;
    if (gt_tempdir_make(d->dir, sizeof(d->dir)) != 0 || !start_daemon(d)) {
        group_teardown(state);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    daemon_fixture *d = *state;
    if (d == NULL)
        return 0;
    *state = NULL;
    gt_process_kill(&d->proc);
    gt_process_kill_all();
    gt_tempdir_remove(d->dir);
    free(d);
    return 0;
}

typedef struct run_result {
    int code;
    char out[OUT_SIZE];
    char err[OUT_SIZE];
} run_result;

/* Run genesisctl against d with the given command arguments (NULL-terminated). */
static void ctl(daemon_fixture *d, run_result *r, const char *const args[])
{
    const char *argv[32] = {GENESISCTL_PATH, "--url",     d->front, "--events",
                            d->bus,          "--timeout", "5000"};
    size_t n = 7;
    for (size_t i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    r->code = -1;
    if (gt_run(argv, GT_WAIT_MS, &r->code, r->out, sizeof(r->out), r->err, sizeof(r->err)) != 0)
        fail_msg("genesisctl %s did not finish (stdout \"%s\", stderr \"%s\")", args[0], r->out,
                 r->err);
}

static void expect_exit(const run_result *r, int code, const char *what)
{
    if (r->code != code)
        fail_msg("genesisctl %s exited %d, expected %d\nstdout: %s\nstderr: %s", what, r->code,
                 code, r->out, r->err);
}

static void test_request_ping(void **state)
{
    daemon_fixture *d = *state;
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ctl(d, r, (const char *const[]){"request", "comp2", "ping", NULL});
    expect_exit(r, 0, "request comp2 ping");
    if (strcmp(r->out, "Pong from comp2\n") != 0 && strcmp(r->out, "Pong from comp2") != 0)
        fail_msg("genesisctl request comp2 ping printed \"%s\"", r->out);

    ctl(d, r, (const char *const[]){"request", "comp1", "echo", "{\"a\":[1,2]}", NULL});
    expect_exit(r, 0, "request comp1 echo");
    assert_non_null(strstr(r->out, "{\"a\":[1,2]}"));
    free(r);
}

static void test_request_unknown_target(void **state)
{
    daemon_fixture *d = *state;
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ctl(d, r, (const char *const[]){"request", "nosuch", "ping", NULL});
    expect_exit(r, 1, "request nosuch ping");
    if (strstr(r->err, "NOT_FOUND") == NULL)
        fail_msg("stderr does not name NOT_FOUND: \"%s\"", r->err);
    assert_string_equal(r->out, "");

    /* An unimplemented request type is the handler's error, also exit 1. */
    ctl(d, r, (const char *const[]){"request", "comp1", "nosuchtype", NULL});
    expect_exit(r, 1, "request comp1 nosuchtype");
    assert_non_null(strstr(r->err, "UNIMPLEMENTED"));
    free(r);
}

static void test_operator_commands(void **state)
{
    daemon_fixture *d = *state;
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ctl(d, r, (const char *const[]){"mode", NULL});
    expect_exit(r, 0, "mode");
    assert_string_equal(r->out, "mode NORMAL (automatic)\n");
    ctl(d, r, (const char *const[]){"mode", "--json", NULL});
    expect_exit(r, 0, "mode --json");
    assert_non_null(strstr(r->out, "\"mode\":\"NORMAL\""));
    ctl(d, r, (const char *const[]){"breaker", "comp2", "open", NULL});
    expect_exit(r, 0, "breaker comp2 open");
    assert_string_equal(r->out, "comp2: breaker forced open: every request is rejected until "
                                "'genesisctl breaker comp2 reset'\n");
    ctl(d, r, (const char *const[]){"request", "comp2", "echo", "x", NULL});
    expect_exit(r, 1, "request to a forced-open breaker");
    assert_non_null(strstr(r->err, "BREAKER_OPEN"));
    assert_non_null(strstr(r->err, "'genesisctl breaker comp2 reset' closes it now"));
    ctl(d, r, (const char *const[]){"breaker", "comp2", "reset", NULL});
    expect_exit(r, 0, "breaker comp2 reset");
    ctl(d, r, (const char *const[]){"request", "comp2", "ping", NULL});
    expect_exit(r, 0, "request after reset");
    ctl(d, r, (const char *const[]){"policy", "comp2", "max_attempts=2", "--json", NULL});
    expect_exit(r, 0, "policy comp2 max_attempts=2");
    assert_non_null(strstr(r->out, "\"max_attempts\":2"));
    ctl(d, r, (const char *const[]){"policy", "comp2", "max_attempts=0", NULL});
    expect_exit(r, 1, "policy with an invalid value");
    assert_non_null(strstr(r->err, "max_attempts"));
    /* genesisd runs without --allow-faults here: fault injection is refused. */
    ctl(d, r, (const char *const[]){"fault", "comp2", "crash=1", NULL});
    expect_exit(r, 1, "fault without --allow-faults");
    assert_non_null(strstr(r->err, "PERMISSION_DENIED"));
    ctl(d, r, (const char *const[]){"breaker", "comp2", NULL});
    expect_exit(r, 2, "breaker without an action");
    /* Mistakes say what was meant, or what to do. */
    ctl(d, r, (const char *const[]){"breaker", "comp2", "opne", NULL});
    expect_exit(r, 2, "a misspelt breaker action");
    assert_non_null(strstr(r->err, "unknown action 'opne' (did you mean 'open'?)"));
    ctl(d, r, (const char *const[]){"policy", "comp2", "max_atempts=2", NULL});
    expect_exit(r, 2, "a misspelt policy field");
    assert_non_null(strstr(r->err, "unknown field 'max_atempts' (did you mean 'max_attempts'?)"));
    ctl(d, r, (const char *const[]){"policy", "comp2", "breaker_open_ms=2s", NULL});
    expect_exit(r, 0, "a policy duration with a unit");
    assert_non_null(strstr(r->out, "comp2: policy changed (breaker_open_ms=2000); now:\n"));
    ctl(d, r, (const char *const[]){"supervisor", "restart", "comp2", NULL});
    expect_exit(r, 1, "supervisor restart without --supervise");
    assert_non_null(strstr(r->err, "this genesisd has no supervised children: start it with "
                                   "--supervise"));
    ctl(d, r, (const char *const[]){"stauts", NULL});
    expect_exit(r, 2, "a misspelt command");
    assert_non_null(strstr(r->err, "unknown command 'stauts' (did you mean 'status'?)"));
    free(r);
}

static void test_usage_and_unreachable(void **state)
{
    daemon_fixture *d = *state;
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ctl(d, r, (const char *const[]){"frobnicate", NULL});
    expect_exit(r, 2, "frobnicate");
    ctl(d, r, (const char *const[]){"request", "comp1", NULL});
    expect_exit(r, 2, "request comp1 (missing type)");
    ctl(d, r, (const char *const[]){"--jsn", "status", NULL});
    expect_exit(r, 2, "a misspelt option");
    assert_non_null(strstr(r->err, "did you mean '--json'?"));
    const char *daemon_argv[] = {GENESISD_PATH, "--htp", "off", NULL};
    assert_int_equal(
        gt_run(daemon_argv, GT_WAIT_MS, &r->code, r->out, sizeof(r->out), r->err, sizeof(r->err)),
        0);
    expect_exit(r, 2, "genesisd with a misspelt flag");
    assert_non_null(strstr(r->err, "genesisd: did you mean '--http'?"));

    char nowhere[URL_SIZE];
    gt_ipc_url(nowhere, sizeof(nowhere), d->dir, "nobody-listens-here");
    const char *argv[] = {GENESISCTL_PATH, "--url", nowhere, "--timeout", "300",
                          "request",       "comp1", "ping",  NULL};
    assert_int_equal(
        gt_run(argv, GT_WAIT_MS, &r->code, r->out, sizeof(r->out), r->err, sizeof(r->err)), 0);
    expect_exit(r, 3, "request against a coordinator that is not there");
    free(r);
}

static void test_status_json(void **state)
{
    daemon_fixture *d = *state;
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ctl(d, r, (const char *const[]){"status", "--json", NULL});
    expect_exit(r, 0, "status --json");
    json_error_t err;
    json_t *doc = json_loads(r->out, 0, &err);
    if (doc == NULL)
        fail_msg("status --json is not JSON (%s): %s", err.text, r->out);
    bool comp1 = false, comp2 = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "components"), i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        comp1 |= id != NULL && strcmp(id, "comp1") == 0;
        comp2 |= id != NULL && strcmp(id, "comp2") == 0;
    }
    if (!comp1 || !comp2)
        fail_msg("status --json does not list comp1 and comp2: %s", r->out);
    assert_string_equal(json_string_value(json_object_get(doc, "front_door_url")), d->front);
    json_decref(doc);

    /* The human-readable form works too, and fits 100 columns; -o wide has every column. */
    ctl(d, r, (const char *const[]){"status", NULL});
    expect_exit(r, 0, "status");
    assert_non_null(strstr(r->out, "comp1"));
    assert_non_null(strstr(r->out, "comp2"));
    for (const char *line = r->out; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        if (len > 100)
            fail_msg("status line of %zu columns: \"%.*s\"", len, (int)len, line);
        line += len + (line[len] == '\n');
    }
    ctl(d, r, (const char *const[]){"status", "-o", "wide", NULL});
    expect_exit(r, 0, "status -o wide");
    assert_non_null(strstr(r->out, "EV_DELIVERED"));
    ctl(d, r, (const char *const[]){"status", "-o", "json", NULL});
    expect_exit(r, 0, "status -o json");
    assert_true(r->out[0] == '{');
    free(r);
}

static void test_watch_sees_emit(void **state)
{
    daemon_fixture *d = *state;
    const char *argv[] = {GENESISCTL_PATH, "--url",   d->front, "--events", d->bus,
                          "watch",         "--count", "1",      "local:",   NULL};
    gt_process watch;
    assert_int_equal(gt_process_spawn(&watch, argv, GT_CAPTURE_STDOUT), 0);
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);

    /* The watcher's subscription connects in the background and pub/sub drops what was
     * published before: emit until it prints (each emit is acknowledged by the daemon). */
    char line[1024] = "";
    bool seen = false;
    int64_t deadline = gt_now_ms() + GT_WAIT_MS;
    while (!seen && gt_now_ms() < deadline) {
        ctl(d, r, (const char *const[]){"emit", "test.evt", "{\"x\":1}", NULL});
        expect_exit(r, 0, "emit test.evt");
        seen = gt_process_read_line(&watch, line, sizeof(line), 200);
    }
    if (!seen) {
        gt_process_kill(&watch);
        free(r);
        fail_msg("genesisctl watch never printed the emitted event (partial: \"%s\")", line);
    }
    if (strstr(line, "topic=local:test.evt") == NULL || strstr(line, "data={\"x\":1}") == NULL) {
        gt_process_kill(&watch);
        free(r);
        fail_msg("watch printed \"%s\"", line);
    }
    /* --count 1: it exits by itself, successfully. */
    if (!gt_process_wait(&watch, GT_WAIT_MS)) {
        gt_process_kill(&watch);
        free(r);
        fail_msg("genesisctl watch --count 1 did not exit after one event");
    }
    gt_process_kill(&watch); /* closes the pipe */
    assert_true(WIFEXITED(watch.wait_status));
    assert_int_equal(WEXITSTATUS(watch.wait_status), 0);
    free(r);
}

/* Parse nngcat --hex output ("\x08\x01...") into bytes. */
static size_t parse_hex(const char *text, uint8_t *out, size_t size)
{
    size_t n = 0;
    for (const char *p = strstr(text, "\\x"); p != NULL && n < size; p = strstr(p, "\\x")) {
        unsigned v = 0;
        if (sscanf(p + 2, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
        p += 4;
    }
    return n;
}

static void test_garbage_from_nngcat(void **state)
{
    daemon_fixture *d = *state;
    if (NNGCAT_PATH[0] == '\0' || !gt_executable(NNGCAT_PATH)) {
        print_message("nngcat (Debian nng-utils) is not installed: skipping the garbage test\n");
        skip();
    }
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    const char *argv[] = {NNGCAT_PATH,       "--req", "--dial",         d->front, "--data",
                          "GARBAGE\xff\xfe", "--hex", "--recv-timeout", "5",      NULL};
    assert_int_equal(
        gt_run(argv, GT_WAIT_MS, &r->code, r->out, sizeof(r->out), r->err, sizeof(r->err)), 0);
    if (r->code != 0)
        fail_msg("nngcat exited %d: %s", r->code, r->err);
    uint8_t bytes[4096];
    size_t n = parse_hex(r->out, bytes, sizeof(bytes));
    if (n == 0)
        fail_msg("the daemon sent no reply to garbage (nngcat printed \"%s\")", r->out);
    gn_wire_reply *reply = NULL;
    int reason = 0;
    char why[256] = "";
    assert_ok(gn_reply_decode(bytes, n, 0, &reply, &reason, why, sizeof(why)));
    assert_codes(reply->code, reply->reason, reply->message, GENESIS_INVALID_ARGUMENT,
                 GENESIS_REASON_MALFORMED_MESSAGE);
    gn_reply_free(reply);

    /* Still answering. */
    ctl(d, r, (const char *const[]){"request", "comp1", "ping", NULL});
    expect_exit(r, 0, "request comp1 ping after garbage");
    assert_non_null(strstr(r->out, "Pong from comp1"));
    ctl(d, r, (const char *const[]){"status", "--json", NULL});
    expect_exit(r, 0, "status --json after garbage");
    json_t *doc = json_loads(r->out, 0, NULL);
    assert_non_null(doc);
    json_int_t malformed =
        json_integer_value(json_object_get(json_object_get(doc, "stats"), "malformed"));
    assert_true(malformed >= 1);
    json_decref(doc);
    free(r);
}

static void test_sigterm_exits_cleanly(void **state)
{
    (void)state;
    /* A daemon of its own, so the shared one stays up for the other tests. */
    daemon_fixture *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    assert_int_equal(gt_tempdir_make(d->dir, sizeof(d->dir)), 0);
    if (!start_daemon(d)) {
        gt_tempdir_remove(d->dir);
        free(d);
        fail_msg("could not start a second genesisd");
    }
    run_result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ctl(d, r, (const char *const[]){"request", "comp1", "ping", NULL});
    expect_exit(r, 0, "request comp1 ping");

    assert_int_equal(gt_process_signal(&d->proc, SIGTERM), 0);
    bool exited = gt_process_wait(&d->proc, GT_WAIT_MS);
    int status = d->proc.wait_status;
    gt_process_kill(&d->proc);
    gt_tempdir_remove(d->dir);
    free(d);
    free(r);
    if (!exited)
        fail_msg("genesisd did not exit after SIGTERM");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("genesisd exited with wait status 0x%x after SIGTERM, expected exit 0", status);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
#define T(name) cmocka_unit_test(name)
    const struct CMUnitTest tests[] = {
        T(test_request_ping),        T(test_request_unknown_target),
        T(test_operator_commands),   T(test_usage_and_unreachable),
        T(test_status_json),         T(test_watch_sees_emit),
        T(test_garbage_from_nngcat), T(test_sigterm_exits_cleanly),
    };
#undef T
    return cmocka_run_group_tests_name("daemon", tests, group_setup, group_teardown);
}
