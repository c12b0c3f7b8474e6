/* Operating genesisd: the configuration file (--config, --check-config, errors with file and
 * line, flags over the file, the shipped example), hot reload (admin "reload" and SIGHUP) that
 * keeps breaker state and counters, supervised components added and removed by a reload,
 * structured and rate-limited logs, and every genesisctl command against a real genesisd. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon_config_keys.h"
#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

#if !defined(GENESISD_PATH) || !defined(GENESISCTL_PATH) || !defined(SOURCE_DIR) ||                \
    !defined(TEST_SERVICE_PATH)
#error "GENESISD_PATH, GENESISCTL_PATH, TEST_SERVICE_PATH and SOURCE_DIR come from the build"
#endif

#define URL_SIZE 256
#define OUT_SIZE 65536

typedef struct run_result {
    int code;
    char out[OUT_SIZE];
    char err[OUT_SIZE];
} run_result;

typedef struct fixture {
    char dir[128];
    char conf[256];
    char front[URL_SIZE];
    char bus[URL_SIZE];
    gt_process proc;
    run_result r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || gt_tempdir_make(f->dir, sizeof(f->dir)) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->conf, sizeof(f->conf), "%s/genesis.yaml", f->dir);
    gt_ipc_url(f->front, sizeof(f->front), f->dir, "front");
    gt_ipc_url(f->bus, sizeof(f->bus), f->dir, "bus");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gt_process_kill(&f->proc);
    gt_process_kill_all();
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    /* Write and rename: a reload never reads a half-written file. */
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    assert_non_null(out);
    assert_true(fputs(text, out) >= 0);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* The fixture's configuration: its ipc URLs, demo components, then extra (YAML lines). */
static void write_config(fixture *f, const char *extra)
{
    char text[8192];
    snprintf(text, sizeof(text),
             "# test configuration\n"
             "listen:\n  front_door: \"%s\"\n  event_bus: \"%s\"\n  http: \"off\"\n"
             "demo: true\nallow_faults: true\n"
             "checkpoint:\n  db: \"%s/ckpt.db\"\n  interval_ms: 20\n  generations: 50\n"
             "%s",
             f->front, f->bus, f->dir, extra);
    write_file(f->conf, text);
}

static void run(run_result *r, const char *const argv[])
{
    r->code = -1;
    if (gt_run(argv, GT_WAIT_MS, &r->code, r->out, sizeof(r->out), r->err, sizeof(r->err)) != 0)
        fail_msg("%s %s did not finish", argv[0], argv[1]);
}

/* genesisctl against the fixture's daemon with the given arguments (NULL-terminated). */
static run_result *ctl(fixture *f, const char *const args[])
{
    const char *argv[40] = {GENESISCTL_PATH, "--url",     f->front, "--events",
                            f->bus,          "--timeout", "5000"};
    size_t n = 7;
    for (size_t i = 0; args[i] != NULL && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    run(&f->r, argv);
    return &f->r;
}

static void expect_exit(const run_result *r, int code, const char *what)
{
    if (r->code != code)
        fail_msg("%s exited %d, expected %d\nstdout: %s\nstderr: %s", what, r->code, code, r->out,
                 r->err);
}

static void start_daemon(fixture *f, const char *extra_flag)
{
    const char *argv[] = {GENESISD_PATH, "--config", f->conf, extra_flag, NULL};
    if (gt_process_spawn(&f->proc, argv, GT_CAPTURE_STDOUT) != 0)
        fail_msg("cannot start genesisd: %s", strerror(errno));
    char line[1024];
    if (!gt_process_wait_line(&f->proc, "ready ", line, sizeof(line), GT_WAIT_MS))
        fail_msg("genesisd never printed its ready line (got \"%s\")", line);
}

/* The component's entry of `genesisctl status --json` (a new reference). */
static json_t *component_status(fixture *f, const char *id)
{
    run_result *r = ctl(f, (const char *const[]){"status", "--json", NULL});
    expect_exit(r, 0, "status --json");
    json_t *doc = json_loads(r->out, 0, NULL);
    assert_non_null(doc);
    json_t *found = NULL, *item;
    size_t i;
    json_array_foreach(json_object_get(doc, "components"), i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "id")), id) == 0)
            found = json_incref(item);
    }
    json_decref(doc);
    return found;
}

static long long field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

static const char *text_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* ---- the configuration file --------------------------------------------------------------- */

static void test_example_config_is_valid_and_round_trips(void **state)
{
    fixture *f = *state;
    run_result *r = &f->r;
    run(r, (const char *const[]){GENESISD_PATH, "--config", SOURCE_DIR "/examples/genesis.yaml",
                                 "--check-config", NULL});
    expect_exit(r, 0, "genesisd --check-config examples/genesis.yaml");
    assert_non_null(strstr(r->out, "# configuration is valid"));
    assert_non_null(strstr(r->out, "  comp1:\n    resilience:\n      max_attempts: 3\n"));
    assert_non_null(strstr(r->out, "  format: logfmt\n"));

    /* The effective configuration is itself a configuration file that gives itself back. */
    write_file(f->conf, r->out);
    char *first = strdup(r->out);
    run(r, (const char *const[]){GENESISD_PATH, "--config", f->conf, "--check-config", NULL});
    expect_exit(r, 0, "--check-config of the printed configuration");
    assert_string_equal(r->out, first);
    free(first);
}

static void test_flags_override_the_file(void **state)
{
    fixture *f = *state;
    write_config(f, "workers: 3\nresilience:\n  max_attempts: 4\n");
    run_result *r = &f->r;
    run(r, (const char *const[]){GENESISD_PATH, "--config", f->conf, "--workers", "7", "--policy",
                                 "max_attempts=2", "--check-config", NULL});
    expect_exit(r, 0, "--check-config with flags");
    assert_non_null(strstr(r->out, "\nworkers: 7\n"));
    assert_non_null(strstr(r->out, "  max_attempts: 2\n"));
}

static void test_config_errors_name_file_and_line(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text;
        const char *expect; /* after "<file>:" */
    } cases[] = {
        {"listen:\n  front_door: x\n  bogus: 1\n", "3: unknown key 'listen.bogus'"},
        {"\nworkers: many\n", "2: workers: 'many' is not an integer from 1 to 1024"},
        {"log:\n  format: xml\n", "2: log.format: 'xml' is not one of text|logfmt|json"},
        {"workers: 2\nworkers: 3\n", "2: duplicate key 'workers' (first at line 1)"},
        {"listen: [\n", "2: YAML syntax"},
        {"listen: tcp://x:1\n", "1: 'listen' is a section"},
        {"workers: [1, 2]\n", "1: workers: expected one value, not a list"},
        {"resilience:\n  max_atempts: 3\n", "2: resilience.max_atempts"},
        {"components:\n  c1:\n    resilience:\n      max_attempts: -1\n",
         "4: components.c1.resilience.max_attempts"},
        {"supervisor:\n  restart_backoff: 9/x\n", "2: supervisor.restart_backoff: invalid"},
        {"resilience:\n  max_attempts: 0\n", "2: resilience (the default policy): policy: "
                                             "max_attempts must be 1..100"},
        {"components:\n  w:\n    env: [A=1]\n", " supervised component: 'w=A=1': no --supervise"},
        {"workers: 2\ncomponents:\n  c1:\n    resilience:\n      backoff_initial_ms: 900\n"
         "      backoff_max_ms: 100\n",
         "5: components.c1.resilience: policy: backoff_initial_ms must not exceed backoff_max_ms"},
        /* a misspelt key or policy field says what was meant, or lists what is valid */
        {"listen:\n  htp: off\n", "2: unknown key 'listen.htp' (did you mean 'listen.http'?)"},
        {"lisen:\n  http: off\n", "1: unknown key 'lisen' (did you mean 'listen'?)"},
        {"listen:\n  zzzzzzzz: 1\n", "2: unknown key 'listen.zzzzzzzz' (valid here: front_door, "
                                     "event_bus, http, metrics)"},
        {"resilience:\n  breaker_opn_ms: 2s\n",
         "2: resilience.breaker_opn_ms: invalid --policy unknown policy field 'breaker_opn_ms' "
         "(did you mean 'breaker_open_ms'?); the fields are per_try_timeout_ms, max_attempts"},
        /* durations: units, and the unit a bare number means */
        {"checkpoint:\n  interval_ms: 10x\n",
         "2: checkpoint.interval_ms: '10x' is not a duration from 1ms to 24h (e.g. 150ms, 10s, "
         "2m; a bare number is milliseconds)"},
        {"gateway:\n  keepalive_s: 1500ms\n", "2: gateway.keepalive_s: '1500ms' is not a duration"},
        /* ${VAR} that is not set and has no default */
        {"listen:\n  http: ${GENESIS_TEST_UNSET_VARIABLE}\n",
         "2: listen.http: ${GENESIS_TEST_UNSET_VARIABLE} is not set: export it, or give a default "
         "with ${GENESIS_TEST_UNSET_VARIABLE:-value}"},
    };
    run_result *r = &f->r;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(f->conf, cases[i].text);
        run(r, (const char *const[]){GENESISD_PATH, "--config", f->conf, "--check-config", NULL});
        char want[512];
        snprintf(want, sizeof(want), "%s:%s", f->conf, cases[i].expect);
        if (r->code != 2 || strstr(r->err, want) == NULL)
            fail_msg("case %zu: exit %d, stderr \"%s\"; expected exit 2 and \"%s\"", i, r->code,
                     r->err, want);
    }
    run(r, (const char *const[]){GENESISD_PATH, "--config", "/nonexistent/genesis.yaml",
                                 "--check-config", NULL});
    expect_exit(r, 2, "a missing file");
    assert_non_null(strstr(r->err, "/nonexistent/genesis.yaml: cannot open"));
}

/* Durations with units and ${VAR} substitution end up as the numbers and text they mean. */
static void test_config_durations_and_environment(void **state)
{
    fixture *f = *state;
    setenv("GENESIS_TEST_WORKERS", "5", 1);
    unsetenv("GENESIS_TEST_UNSET_VARIABLE");
    write_file(f->conf, "workers: ${GENESIS_TEST_WORKERS}\n"
                        "listen:\n  http: ${GENESIS_TEST_UNSET_VARIABLE:-127.0.0.1:0}\n"
                        "checkpoint:\n  interval_ms: 2m\n"
                        "gateway:\n  keepalive_s: 30s\n  request_timeout_ms: 1.5s\n"
                        "resilience:\n  breaker_open_ms: 2s\n  max_attempts: 3\n");
    run_result *r = &f->r;
    run(r, (const char *const[]){GENESISD_PATH, "--config", f->conf, "--check-config", NULL});
    expect_exit(r, 0, "--check-config with units and ${VAR}");
    static const char *const want[] = {"\nworkers: 5\n",
                                       "  interval_ms: 120000\n",
                                       "  keepalive_s: 30\n",
                                       "  request_timeout_ms: 1500\n",
                                       "  breaker_open_ms: 2000\n",
                                       "  http: \"127.0.0.1:0\"\n"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(r->out, want[i]) == NULL)
            fail_msg("missing \"%s\" in:\n%s", want[i], r->out);
    /* The flags take units too; bare numbers keep their documented unit. */
    run(r, (const char *const[]){GENESISD_PATH, "--request-timeout", "10s", "--ws-idle", "2m",
                                 "--policy", "per_try_timeout_ms=250ms", "--checkpoint-interval",
                                 "150", "--check-config", NULL});
    expect_exit(r, 0, "duration flags");
    assert_non_null(strstr(r->out, "  request_timeout_ms: 10000\n"));
    assert_non_null(strstr(r->out, "  ws_idle_s: 120\n"));
    assert_non_null(strstr(r->out, "  per_try_timeout_ms: 250\n"));
    assert_non_null(strstr(r->out, "  interval_ms: 150\n"));
    run(r, (const char *const[]){GENESISD_PATH, "--policy", "max_atempts=3", NULL});
    expect_exit(r, 2, "a misspelt policy field");
    assert_non_null(strstr(r->err, "unknown policy field 'max_atempts' (did you mean "
                                   "'max_attempts'?); the fields are per_try_timeout_ms"));
    unsetenv("GENESIS_TEST_WORKERS");
}

/* genesis-gateway reads the same file: its own keys, flags over them, errors with lines. */
static void test_gateway_reads_the_same_file(void **state)
{
    fixture *f = *state;
    run_result *r = &f->r;
    run(r, (const char *const[]){GATEWAY_PATH, "--config", SOURCE_DIR "/examples/genesis.yaml",
                                 "--listen", "127.0.0.1:0", "--check-config", NULL});
    expect_exit(r, 0, "genesis-gateway --check-config examples/genesis.yaml");
    assert_non_null(strstr(r->out, "listen 127.0.0.1:0, front door tcp://127.0.0.1:7400"));
    write_file(f->conf, "listen:\n  http: \"off\"\ngateway:\n  max_body: 0\n");
    run(r, (const char *const[]){GATEWAY_PATH, "--config", f->conf, "--check-config", NULL});
    expect_exit(r, 2, "genesis-gateway with a bad max_body");
    char want[400];
    snprintf(want, sizeof(want), "%s:4: gateway.max_body: '0' is not an integer", f->conf);
    assert_non_null(strstr(r->err, want));
}

/* Every key of the table is in docs/operating.md's reference, with the flag it sets. */
static void test_every_key_is_documented(void **state)
{
    (void)state;
    FILE *in = fopen(SOURCE_DIR "/docs/operating.md", "r");
    assert_non_null(in);
    static char page[1 << 20];
    size_t len = fread(page, 1, sizeof(page) - 1, in);
    fclose(in);
    page[len] = '\0';
    const char *section = strstr(page, "## Configuration file");
    assert_non_null(section);
    for (size_t i = 0; i < daemon_conf_keys_count; i++) {
        char row[256];
        snprintf(row, sizeof(row), "| `%s` |", daemon_conf_keys[i].key);
        char flag[128];
        snprintf(flag, sizeof(flag), "`--%s", daemon_conf_keys[i].flag);
        const char *at = strstr(section, row);
        const char *eol = at != NULL ? strchr(at, '\n') : NULL;
        const char *f = at != NULL ? strstr(at, flag) : NULL;
        if (at == NULL || f == NULL || (eol != NULL && f > eol))
            fail_msg("docs/operating.md \"Configuration file\" lacks the row %s ... %s", row, flag);
    }
}

/* ---- reload ------------------------------------------------------------------------------- */

static const char policy_v1[] = "resilience:\n  breaker_open_ms: 60000\n"
                                "  breaker_open_max_ms: 120000\n"
                                "components:\n  comp1:\n    resilience:\n"
                                "      max_attempts: 1\n      breaker_consecutive_failures: 3\n";

static const char policy_v2[] = "resilience:\n  breaker_open_ms: 60000\n"
                                "  breaker_open_max_ms: 120000\n"
                                "components:\n  comp1:\n    resilience:\n"
                                "      max_attempts: 2\n      breaker_consecutive_failures: 5\n"
                                "log:\n  rate_limit: 50\n";

static bool comp1_max_attempts_is_4(void *arg)
{
    fixture *f = arg;
    run_result *r = ctl(f, (const char *const[]){"policy", "comp1", "--json", NULL});
    return r->code == 0 && strstr(r->out, "\"max_attempts\":4") != NULL;
}

static void test_reload_keeps_breaker_state_and_counters(void **state)
{
    fixture *f = *state;
    write_config(f, policy_v1);
    start_daemon(f, "--log-level=warn");

    /* Open comp1's breaker for real: every attempt fails, three requests in a row. */
    run_result *r = ctl(f, (const char *const[]){"fault", "comp1", "error_rate=1", NULL});
    expect_exit(r, 0, "fault comp1 error_rate=1");
    for (int i = 0; i < 3; i++) {
        r = ctl(f, (const char *const[]){"request", "comp1", "ping", NULL});
        expect_exit(r, 1, "a failing request");
    }
    json_t *before = component_status(f, "comp1");
    assert_non_null(before);
    assert_string_equal(text_field(before, "breaker"), "OPEN");
    long long opens = field(before, "breaker_opens"), requests = field(before, "requests");
    long long fail_fast = field(before, "fail_fast");
    json_decref(before);

    /* A changed policy applies live... */
    write_config(f, policy_v2);
    r = ctl(f, (const char *const[]){"reload", "--json", NULL});
    expect_exit(r, 0, "reload");
    json_t *report = json_loads(r->out, 0, NULL);
    assert_non_null(report);
    assert_true(json_is_true(json_object_get(report, "reloaded")));
    char *applied = json_dumps(json_object_get(report, "applied"), JSON_COMPACT);
    assert_non_null(strstr(applied, "components.comp1 policy"));
    assert_non_null(strstr(applied, "log"));
    free(applied);
    assert_int_equal(json_array_size(json_object_get(report, "not_applied")), 0);
    json_decref(report);
    r = ctl(f, (const char *const[]){"policy", "comp1", "--json", NULL});
    expect_exit(r, 0, "policy comp1");
    assert_non_null(strstr(r->out, "\"max_attempts\":2"));
    assert_non_null(strstr(r->out, "\"breaker_consecutive_failures\":5"));

    /* ... and the breaker is still open, with its counters going on from where they were. */
    r = ctl(f, (const char *const[]){"request", "comp1", "ping", NULL});
    expect_exit(r, 1, "a request to the open breaker");
    assert_non_null(strstr(r->err, "BREAKER_OPEN"));
    json_t *after = component_status(f, "comp1");
    assert_non_null(after);
    assert_string_equal(text_field(after, "breaker"), "OPEN");
    assert_int_equal(field(after, "breaker_opens"), opens);
    assert_int_equal(field(after, "requests"), requests + 1);
    assert_int_equal(field(after, "fail_fast"), fail_fast + 1);
    json_decref(after);

    /* A bad file changes nothing: neither a bad value nor an invalid policy. */
    static const char *const bad[] = {"workers: lots\n", "components:\n  comp1:\n    resilience:\n"
                                                         "      max_attempts: 0\n"};
    for (size_t i = 0; i < 2; i++) {
        write_config(f, bad[i]);
        r = ctl(f, (const char *const[]){"reload", NULL});
        expect_exit(r, 1, "reload of a bad file");
        assert_non_null(strstr(r->err, "INVALID_ARGUMENT"));
        assert_non_null(strstr(r->err, f->conf));
        r = ctl(f, (const char *const[]){"policy", "comp1", "--json", NULL});
        assert_non_null(strstr(r->out, "\"max_attempts\":2"));
        after = component_status(f, "comp1");
        assert_string_equal(text_field(after, "breaker"), "OPEN");
        assert_int_equal(field(after, "breaker_opens"), opens);
        json_decref(after);
    }

    /* What cannot change live is reported, the rest applies. */
    char extra[1024];
    snprintf(extra, sizeof(extra), "workers: 9\n%s", policy_v2);
    write_config(f, extra);
    r = ctl(f, (const char *const[]){"reload", NULL});
    expect_exit(r, 0, "reload with a workers change");
    assert_non_null(strstr(r->out, "needs a restart: workers (restart genesisd to apply)\n"));

    /* SIGHUP reloads too. */
    write_config(f, "components:\n  comp1:\n    resilience:\n      max_attempts: 4\n");
    assert_int_equal(gt_process_signal(&f->proc, SIGHUP), 0);
    assert_true(gt_wait_until(comp1_max_attempts_is_4, f, GT_WAIT_MS));
    after = component_status(f, "comp1");
    assert_string_equal(text_field(after, "breaker"), "OPEN");
    json_decref(after);

    assert_int_equal(gt_process_signal(&f->proc, SIGTERM), 0);
    assert_true(gt_process_wait(&f->proc, GT_WAIT_MS));
    assert_true(WIFEXITED(f->proc.wait_status) && WEXITSTATUS(f->proc.wait_status) == 0);
}

struct wait_component {
    fixture *f;
    const char *id;
    bool present;
};

static bool component_presence(void *arg)
{
    struct wait_component *w = arg;
    json_t *c = component_status(w->f, w->id);
    bool there = c != NULL && strcmp(text_field(c, "health"), "UP") == 0;
    json_decref(c);
    return there == w->present;
}

static void test_reload_adds_and_removes_supervised_components(void **state)
{
    fixture *f = *state;
    write_config(f, "");
    start_daemon(f, "--log-level=warn");
    char extra[1024];
    snprintf(extra, sizeof(extra),
             "components:\n  svc1:\n    command: \"%s --id svc1 --front-door %s\"\n"
             "    resilience:\n      max_attempts: 2\n",
             TEST_SERVICE_PATH, f->front);
    write_config(f, extra);
    run_result *r = ctl(f, (const char *const[]){"reload", NULL});
    expect_exit(r, 0, "reload adding svc1");
    assert_non_null(strstr(r->out, "supervised svc1 added"));
    struct wait_component w = {f, "svc1", true};
    assert_true(gt_wait_until(component_presence, &w, GT_WAIT_MS));
    r = ctl(f, (const char *const[]){"request", "svc1", "ping", NULL});
    expect_exit(r, 0, "request svc1 ping");
    assert_non_null(strstr(r->out, "pong:svc1"));
    r = ctl(f, (const char *const[]){"supervisor", "restart", "svc1", NULL});
    expect_exit(r, 0, "supervisor restart svc1");
    assert_true(gt_wait_until(component_presence, &w, GT_WAIT_MS));

    write_config(f, "");
    r = ctl(f, (const char *const[]){"reload", NULL});
    expect_exit(r, 0, "reload removing svc1");
    assert_non_null(strstr(r->out, "supervised svc1 removed"));
    w.present = false;
    assert_true(gt_wait_until(component_presence, &w, GT_WAIT_MS));
    r = ctl(f, (const char *const[]){"supervisor", "restart", "svc1", NULL});
    expect_exit(r, 1, "supervisor restart of a removed component");
    assert_non_null(strstr(r->err, "NOT_FOUND"));
}

/* ---- genesisctl --------------------------------------------------------------------------- */

static bool served_3_checkpointed(void *arg)
{
    fixture *f = arg;
    run_result *r = ctl(f, (const char *const[]){"checkpoint", "show", "comp1", "--json", NULL});
    return r->code == 0 && strstr(r->out, "\"data\":\"served=3\"") != NULL;
}

static void test_ctl_checkpoint_mode_breaker_watch(void **state)
{
    fixture *f = *state;
    write_config(f, "");
    start_daemon(f, "--log-level=warn");
    run_result *r;
    for (int i = 0; i < 3; i++) {
        r = ctl(f, (const char *const[]){"request", "comp1", "ping", NULL});
        expect_exit(r, 0, "request comp1 ping");
    }
    assert_true(gt_wait_until(served_3_checkpointed, f, GT_WAIT_MS));
    json_t *doc = json_loads(r->out, 0, NULL);
    assert_non_null(doc);
    char gen[32];
    snprintf(gen, sizeof(gen), "%lld", field(doc, "generation"));
    json_decref(doc);

    r = ctl(f, (const char *const[]){"checkpoint", "list", "comp1", "--json", NULL});
    expect_exit(r, 0, "checkpoint list comp1");
    assert_non_null(strstr(r->out, "\"component\":\"comp1\""));
    assert_null(strstr(r->out, "comp2"));

    for (int i = 0; i < 2; i++)
        expect_exit(ctl(f, (const char *const[]){"request", "comp1", "ping", NULL}), 0, "ping");
    r = ctl(f, (const char *const[]){"request", "comp1", "count", NULL});
    assert_non_null(strstr(r->out, "5"));
    r = ctl(f, (const char *const[]){"checkpoint", "restore", "comp1", gen, "--json", NULL});
    expect_exit(r, 0, "checkpoint restore comp1 GEN");
    assert_non_null(strstr(r->out, "\"restored\":true"));
    r = ctl(f, (const char *const[]){"request", "comp1", "count", NULL});
    expect_exit(r, 0, "count");
    assert_string_equal(r->out, "3\n");
    r = ctl(f, (const char *const[]){"checkpoint", "show", "comp1", "999999", NULL});
    expect_exit(r, 1, "checkpoint show of a missing generation");
    assert_non_null(strstr(r->err, "NOT_FOUND"));
    r = ctl(f, (const char *const[]){"checkpoint", "restore", "nosuch", NULL});
    expect_exit(r, 1, "checkpoint restore of an unknown component");
    r = ctl(f, (const char *const[]){"checkpoint", "frob", NULL});
    expect_exit(r, 2, "checkpoint frob");

    r = ctl(f, (const char *const[]){"mode", "SAFE", NULL});
    expect_exit(r, 0, "mode SAFE");
    r = ctl(f, (const char *const[]){"mode", "--json", NULL});
    assert_non_null(strstr(r->out, "\"mode\":\"SAFE\",\"computed\":\"NORMAL\",\"forced\":true"));
    r = ctl(f, (const char *const[]){"mode", NULL});
    assert_non_null(strstr(r->out, "mode SAFE, forced by an operator (automatic: NORMAL); "
                                   "'genesisctl mode AUTO' ends the override\n"));
    expect_exit(ctl(f, (const char *const[]){"mode", "AUTO", NULL}), 0, "mode AUTO");

    for (int i = 0; i < 3; i++) {
        static const char *const verb[] = {"open", "close", "reset"};
        static const char *const want[] = {"FORCED_OPEN", "CLOSED", "CLOSED"};
        expect_exit(ctl(f, (const char *const[]){"breaker", "comp2", verb[i], NULL}), 0,
                    "breaker comp2");
        json_t *c = component_status(f, "comp2");
        assert_string_equal(text_field(c, "breaker"), want[i]);
        json_decref(c);
    }

    r = ctl(f, (const char *const[]){"status", NULL});
    expect_exit(r, 0, "status");
    assert_non_null(strstr(r->out, "comp1"));
    assert_non_null(strstr(r->out, "connections: front door "));

    /* watch with filters: only events of type demo.* from alice arrive. */
    const char *argv[] = {GENESISCTL_PATH, "--url",   f->front, "--events", f->bus,
                          "watch",         "--count", "1",      "--type",   "demo.",
                          "--from",        "alice",   NULL};
    gt_process watch;
    assert_int_equal(gt_process_spawn(&watch, argv, GT_CAPTURE_STDOUT), 0);
    char line[1024] = "";
    bool got = false;
    for (int i = 0; i < 100 && !got; i++) {
        ctl(f, (const char *const[]){"--source", "bob", "emit", "demo.x", "from-bob", NULL});
        ctl(f, (const char *const[]){"--source", "alice", "emit", "other.y", "wrong-type", NULL});
        ctl(f, (const char *const[]){"--source", "alice", "emit", "demo.x", "right", NULL});
        got = gt_process_read_line(&watch, line, sizeof(line), 100);
    }
    gt_process_wait(&watch, GT_WAIT_MS);
    gt_process_kill(&watch);
    if (!got || strstr(line, "topic=local:demo.x source=alice data=right") == NULL)
        fail_msg("watch printed \"%s\"", line);

    r = ctl(f, (const char *const[]){"reload", "now", NULL});
    expect_exit(r, 2, "reload with an argument");
    r = ctl(f, (const char *const[]){"supervisor", "stop", "x", NULL});
    expect_exit(r, 2, "supervisor stop");
}

static void test_bash_completion(void **state)
{
    fixture *f = *state;
    run_result *r = &f->r;
    run(r, (const char *const[]){
               "/bin/bash", "-c",
               "source " SOURCE_DIR "/core/cli/genesisctl.bash && "
               "COMP_WORDS=(genesisctl che) COMP_CWORD=1 && _genesisctl && echo "
               "\"${COMPREPLY[*]}\" && "
               "COMP_WORDS=(genesisctl --url x checkpoint '') COMP_CWORD=4 && _genesisctl && "
               "echo \"${COMPREPLY[*]}\"",
               NULL});
    expect_exit(r, 0, "bash completion");
    assert_string_equal(r->out, "checkpoint\nlist show restore\n");
    run(r, (const char *const[]){"/bin/bash", "-c",
                                 "source " SOURCE_DIR "/core/cli/genesisctl.bash && "
                                 "COMP_WORDS=(genesisctl status -o '') COMP_CWORD=3 && "
                                 "_genesisctl && echo \"${COMPREPLY[*]}\"",
                                 NULL});
    expect_exit(r, 0, "bash completion of -o");
    assert_string_equal(r->out, "text wide json\n");
}

/* fish: the same commands, sub-commands and actions (Debian's fish runs the script). */
static void test_fish_completion(void **state)
{
    fixture *f = *state;
    char fish[512];
    if (!gt_find_in_path("fish", fish, sizeof(fish)))
        skip();
    run_result *r = &f->r;
    run(r, (const char *const[]){fish, "--no-config", "-c",
                                 "source " SOURCE_DIR "/core/cli/genesisctl.fish; "
                                 "complete -C 'genesisctl che'; "
                                 "complete -C 'genesisctl --url x checkpoint '; "
                                 "complete -C 'genesisctl breaker comp1 re'",
                                 NULL});
    expect_exit(r, 0, "fish completion");
    assert_string_equal(r->out, "checkpoint\nlist\nrestore\nshow\nreset\n");
}

/* zsh: the script parses and compinit registers it for genesisctl (#compdef). */
static void test_zsh_completion(void **state)
{
    fixture *f = *state;
    char zsh[512];
    if (!gt_find_in_path("zsh", zsh, sizeof(zsh)))
        skip();
    run_result *r = &f->r;
    run(r, (const char *const[]){zsh, "-n", SOURCE_DIR "/core/cli/_genesisctl", NULL});
    expect_exit(r, 0, "zsh -n _genesisctl");
    char script[1024];
    snprintf(script, sizeof(script),
             "fpath=(%s/core/cli $fpath); autoload -Uz compinit; compinit -u -d %s/zcompdump; "
             "print -r -- $_comps[genesisctl]",
             SOURCE_DIR, f->dir);
    run(r, (const char *const[]){zsh, "-f", "-c", script, NULL});
    expect_exit(r, 0, "zsh compinit");
    assert_string_equal(r->out, "_genesisctl\n");
}

/* ---- logs --------------------------------------------------------------------------------- */

static void test_json_logs_are_rate_limited(void **state)
{
    fixture *f = *state;
    write_config(f, "log:\n  level: info\n  format: json\n  rate_limit: 1\n");
    const char *argv[] = {GENESISD_PATH, "--config", f->conf, NULL};
    assert_int_equal(gt_process_spawn(&f->proc, argv, GT_CAPTURE_STDOUT | GT_CAPTURE_STDERR), 0);
    char line[1024];
    assert_true(gt_process_wait_line(&f->proc, "ready ", line, sizeof(line), GT_WAIT_MS));
    /* A storm of one kind of line: the coordinator logs every admin command at info. */
    enum { STORM = 12 };
    for (int i = 0; i < STORM; i++)
        expect_exit(ctl(f, (const char *const[]){"mode", NULL}), 0, "mode");
    assert_int_equal(gt_process_signal(&f->proc, SIGTERM), 0);
    assert_true(gt_process_wait(&f->proc, GT_WAIT_MS));
    static char err[1 << 18];
    size_t len = 0;
    ssize_t got;
    while (len + 1 < sizeof(err) &&
           (got = read(f->proc.err_fd, err + len, sizeof(err) - 1 - len)) > 0)
        len += (size_t)got;
    err[len] = '\0';
    char *copy = strdup(err);
    assert_non_null(copy);

    long printed = 0, suppressed = 0;
    for (char *save = NULL, *l = strtok_r(err, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *doc = json_loads(l, 0, &jerr);
        if (doc == NULL)
            fail_msg("not a JSON line: \"%s\" (%s)", l, jerr.text);
        for (const char *k = "ts\0level\0subsystem\0msg\0"; *k != '\0'; k += strlen(k) + 1)
            if (!json_is_string(json_object_get(doc, k)))
                fail_msg("line without %s: \"%s\"", k, l);
        const char *msg = json_string_value(json_object_get(doc, "msg"));
        long n = 0;
        if (strstr(msg, "admin command 'mode'") == msg)
            printed++;
        else if (strstr(msg, "lines (rate limit) like: admin command 'mode'") != NULL &&
                 sscanf(msg, "suppressed %ld similar info lines", &n) == 1)
            suppressed += n;
        json_decref(doc);
    }
    /* Every line of the storm was either written or counted, and the limit held some back
     * unless the storm took more than STORM/2 seconds. */
    if (printed + suppressed != STORM || printed < 1)
        fail_msg("%ld lines written and %ld suppressed, expected %d in all:\n%s", printed,
                 suppressed, STORM, copy);
    free(copy);
}

/* ---- request ids -------------------------------------------------------------------------- */

/* The JSON log lines of the demo components name the request ids that reached them. */
static bool log_has_request_id(const char *log_path, unsigned long long id)
{
    FILE *in = fopen(log_path, "r");
    if (in == NULL)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), in) != NULL) {
        json_t *doc = json_loads(line, 0, NULL);
        json_t *rid = doc != NULL ? json_object_get(doc, "request_id") : NULL;
        const char *subsystem =
            doc != NULL ? json_string_value(json_object_get(doc, "subsystem")) : NULL;
        const char *component =
            doc != NULL ? json_string_value(json_object_get(doc, "component")) : NULL;
        /* subsystem: who logs (the demo components); component: which one served it */
        found = json_is_integer(rid) && (unsigned long long)json_integer_value(rid) == id &&
                subsystem != NULL && strcmp(subsystem, "demo") == 0 && component != NULL &&
                strncmp(component, "comp", 4) == 0;
        json_decref(doc);
    }
    fclose(in);
    return found;
}

static void test_request_ids_reach_components(void **state)
{
    fixture *f = *state;
    char curl[512];
    if (!gt_find_in_path("curl", curl, sizeof(curl)))
        skip();
    char extra[256], log_path[300];
    snprintf(extra, sizeof(extra), "log:\n  level: debug\n  format: json\n  rate_limit: 0\n");
    write_config(f, extra);
    /* listen.http in the fixture is "off": the flag turns the embedded gateway on (port 0). */
    snprintf(log_path, sizeof(log_path), "%s/genesisd.log", f->dir);
    const char *argv[] = {
        "/bin/sh",     "-c",    "exec \"$0\" --config \"$1\" --http 127.0.0.1:0 2>\"$2\"",
        GENESISD_PATH, f->conf, log_path,
        NULL};
    assert_int_equal(gt_process_spawn(&f->proc, argv, GT_CAPTURE_STDOUT), 0);
    char line[1024], http[256] = "";
    assert_true(gt_process_wait_line(&f->proc, "ready ", line, sizeof(line), GT_WAIT_MS));
    const char *at = strstr(line, "http=");
    assert_non_null(at);
    snprintf(http, sizeof(http), "%s", at + 5);

    /* genesisctl -> front door -> coordinator -> component */
    run_result *r =
        ctl(f, (const char *const[]){"--request-id", "4242", "request", "comp1", "ping", NULL});
    expect_exit(r, 0, "request with --request-id");

    /* HTTP client -> gateway -> coordinator -> component, with the id echoed back */
    char url[400];
    snprintf(url, sizeof(url), "%s/v1/components/comp2/request", http);
    run(r, (const char *const[]){curl, "-sS", "-D", "-", "-H", "X-Request-Id: 777", "-H",
                                 "Content-Type: application/json", "-d", "{\"type\":\"ping\"}", url,
                                 NULL});
    expect_exit(r, 0, "curl with X-Request-Id");
    assert_non_null(strstr(r->out, "x-request-id: 777"));
    run(r, (const char *const[]){curl, "-sS", "-D", "-", "-H", "Content-Type: application/json",
                                 "-d", "{\"type\":\"ping\"}", url, NULL});
    expect_exit(r, 0, "curl without X-Request-Id");
    unsigned long long made = 0;
    const char *hdr = strstr(r->out, "x-request-id: ");
    assert_non_null(hdr);
    assert_int_equal(sscanf(hdr, "x-request-id: %llu", &made), 1);
    assert_true(made != 0);

    /* The gateway's operator route for reload reaches genesisd's handler too. */
    snprintf(url, sizeof(url), "%s/v1/admin/reload", http);
    run(r, (const char *const[]){curl, "-sS", "-w", "\n%{http_code}", "-H",
                                 "Content-Type: application/json", "-d", "{}", url, NULL});
    expect_exit(r, 0, "curl POST /v1/admin/reload");
    assert_non_null(strstr(r->out, "\"reloaded\":true"));
    assert_non_null(strstr(r->out, "\n200"));

    assert_int_equal(gt_process_signal(&f->proc, SIGTERM), 0);
    assert_true(gt_process_wait(&f->proc, GT_WAIT_MS));
    assert_true(log_has_request_id(log_path, 4242));
    assert_true(log_has_request_id(log_path, 777));
    assert_true(log_has_request_id(log_path, made));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_example_config_is_valid_and_round_trips, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flags_override_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors_name_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_durations_and_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key_is_documented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gateway_reads_the_same_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_breaker_state_and_counters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reload_adds_and_removes_supervised_components, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ctl_checkpoint_mode_breaker_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bash_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fish_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zsh_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_logs_are_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_ids_reach_components, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
