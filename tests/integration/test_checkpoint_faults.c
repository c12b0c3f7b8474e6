/* Fault tests of durable checkpoints and supervised recovery, with real processes and files:
 *
 *   kill -9 a supervised remote component N times: restarted, state restored from the last
 *     acknowledged checkpoint, requests succeed again; MTTR (kill -> first successful request)
 *     p50/p99 printed (not asserted);
 *   SIGSTOP it (heartbeats stop): killed and restarted by the supervisor;
 *   a restart slow to register is not taken for a hang (its predecessor's instance, not yet
 *     declared down, does not count as the new process up);
 *   a crash-looping component hits the restart intensity, stays FAILED, loudly, until the
 *     operator's "supervisor.restart";
 *   kill -9 the coordinator during a checkpoint storm N times: the store opens cleanly and no
 *     acknowledged checkpoint is missing;
 *   a full disk (a tiny tmpfs when mounting is permitted, else RLIMIT_FSIZE): STORAGE_FULL,
 *     the previous checkpoint kept, requests still served.
 *
 * N is GENESIS_FAULT_KILLS (default 10, the ctest run); docs/checkpoints.md gives the 50-kill
 * command. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "checkpoint/checkpoint_store.h"
#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"
#include "wire/wire.h"

#define URL_SIZE 256

static int kills(void)
{
    const char *v = getenv("GENESIS_FAULT_KILLS");
    int n = v != NULL ? atoi(v) : 0;
    return n > 0 ? n : 10;
}

/* The storm and filler services only hand over state; they answer requests with nothing. */
static void storm_handler(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)reply;
    (void)arg;
}

typedef struct fixture {
    char dir[128];
    char db[300];
    char front[URL_SIZE];
    char bus[URL_SIZE];
    gt_process daemon;
    genesis_client *client;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(gt_tempdir_make(f->dir, sizeof(f->dir)), 0);
    snprintf(f->db, sizeof(f->db), "%s/ck.db", f->dir);
    gt_ipc_url(f->front, sizeof(f->front), f->dir, "front");
    gt_ipc_url(f->bus, sizeof(f->bus), f->dir, "bus");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    genesis_client_free(f->client);
    gt_process_kill(&f->daemon);
    gt_process_kill_all();
    char disk[200];
    snprintf(disk, sizeof(disk), "%s/disk", f->dir);
    umount2(disk, MNT_DETACH); /* the full-disk test's tmpfs, if a failure left it mounted */
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

/* Start genesisd with the common flags plus extra (NULL-terminated) and wait for ready. */
static void start_daemon(fixture *f, const char *const *extra, unsigned flags)
{
    const char *argv[64] = {GENESISD_PATH, "--front-door", f->front, "--events",
                            f->bus,        "--log-level",  "warn"};
    size_t n = 7;
    for (size_t i = 0; extra[i] != NULL && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    assert_int_equal(gt_process_spawn(&f->daemon, argv, GT_CAPTURE_STDOUT | flags), 0);
    char line[1024];
    if (!gt_process_wait_line(&f->daemon, "ready ", line, sizeof(line), GT_WAIT_MS))
        fail_msg("genesisd never printed its ready line (got \"%s\")", line);
}

static genesis_client *client_for(const char *front)
{
    genesis_client *cl = NULL;
    assert_ok(genesis_client_new(&cl, NULL));
    assert_ok(genesis_client_dial(cl, front, NULL));
    return cl;
}

/* A request; returns its status, the payload text in out. */
static int request(genesis_client *cl, const char *target, const char *type, const char *data,
                   uint32_t timeout_ms, char *out, size_t size)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = timeout_ms;
    genesis_result *res = NULL;
    int rv =
        genesis_client_request(cl, target, type, data, data != NULL ? strlen(data) : 0, &o, &res);
    if (out != NULL)
        snprintf(out, size, "%s",
                 rv == GENESIS_OK ? (const char *)genesis_result_data(res, NULL)
                                  : genesis_result_message(res));
    genesis_result_free(res);
    return rv;
}

/* The status report's "supervised" entry for id (a new reference), or NULL. */
static json_t *supervised(genesis_client *cl, const char *id)
{
    genesis_result *res = NULL;
    if (genesis_client_status(cl, 2000, &res) != GENESIS_OK) {
        genesis_result_free(res);
        return NULL;
    }
    json_error_t err;
    json_t *doc = json_loads(genesis_result_data(res, NULL), 0, &err);
    genesis_result_free(res);
    json_t *found = NULL, *item;
    size_t i;
    json_array_foreach(json_object_get(doc, "supervised"), i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "id")), id) == 0)
            found = json_incref(item);
    }
    json_decref(doc);
    return found;
}

static const char *sup_state(json_t *s)
{
    return s != NULL ? json_string_value(json_object_get(s, "state")) : "";
}

static long long sup_int(json_t *s, const char *key)
{
    return s != NULL ? (long long)json_integer_value(json_object_get(s, key)) : -1;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static long long percentile(long long *sorted, int n, int p)
{
    int i = (n * p + 99) / 100 - 1;
    return sorted[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static int count_threads(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    FILE *fp = fopen(path, "r");
    int threads = -1;
    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
        if (sscanf(line, "Threads: %d", &threads) == 1)
            break;
    }
    if (fp != NULL)
        fclose(fp);
    return threads;
}

/* Live children of parent whose command name (comm, 15 bytes at most) is comm, from /proc
 * (no ps: a minimal CI image may lack procps). */
static int count_children(pid_t parent, const char *comm)
{
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(proc)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        FILE *fp = fopen(path, "r");
        if (fp == NULL)
            continue;
        size_t len = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
        buf[len] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces, so split at the last ')'. */
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        char state_char = 0;
        long ppid = 0;
        if (open == NULL || close == NULL || close < open ||
            sscanf(close + 1, " %c %ld", &state_char, &ppid) != 2)
            continue;
        *close = '\0';
        if (ppid == (long)parent && state_char != 'Z' && strncmp(open + 1, comm, 15) == 0)
            n++;
    }
    closedir(proc);
    return n;
}

/* ---- kill -9 a supervised component N times ---------------------------------------------- */

/* Poll "count" until a new incarnation answers; returns its count and sets *pid. */
static long long wait_for_new_incarnation(genesis_client *cl, long old_pid, long *pid)
{
    char out[512];
    int64_t give_up = gt_now_ms() + GT_WAIT_MS;
    while (gt_now_ms() < give_up) {
        if (request(cl, "counter", "count", NULL, 300, out, sizeof(out)) == GENESIS_OK) {
            long long count = -1;
            long p = 0;
            unsigned long long restored = 0;
            if (sscanf(out, "count=%lld pid=%ld restored=%llu", &count, &p, &restored) == 3 &&
                p != old_pid) {
                *pid = p;
                return count;
            }
        }
        gt_sleep_ms(2);
    }
    fail_msg("no new incarnation of 'counter' answered within %d ms", GT_WAIT_MS);
    return -1;
}

static void test_kill9_component_restores_state(void **state)
{
    fixture *f = *state;
    int n = kills();
    char spec[512];
    snprintf(spec, sizeof(spec), "counter=%s", CHECKPOINT_SERVICE_PATH);
    const char *extra[] = {"--checkpoint-db",     f->db,      "--supervise", spec,
                           "--restart-intensity", "10000/10", NULL};
    start_daemon(f, extra, 0);
    f->client = client_for(f->front);
    long pid = 0;
    wait_for_new_incarnation(f->client, -1, &pid);
    int threads_first = -1;
    long long *mttr = calloc((size_t)n, sizeof(*mttr));
    assert_non_null(mttr);
    char out[512];
    long long acked = 0;
    for (int i = 0; i < n; i++) {
        /* Two acknowledged increments (each durable before its reply), then the kill. */
        for (int k = 0; k < 2; k++) {
            /* A restart can leave the coordinator in a degraded mode for a health tick or
             * two after the new incarnation answers; a shed request never reached the
             * handler, so sending it again cannot count twice. */
            int rv;
            int64_t give_up = gt_now_ms() + GT_WAIT_MS;
            while ((rv = request(f->client, "counter", "incr", NULL, 5000, out, sizeof(out))) ==
                       GENESIS_UNAVAILABLE &&
                   strstr(out, " sheds ") != NULL && gt_now_ms() < give_up)
                gt_sleep_ms(10);
            if (rv != GENESIS_OK)
                fail_msg("kill %d: incr failed: %s (%s)", i, out, genesis_status_name(rv));
            assert_int_equal(sscanf(out, "count=%lld", &acked), 1);
        }
        if (i == 0)
            threads_first = count_threads(f->daemon.pid);
        assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
        int64_t t0 = gt_now_ms();
        long new_pid = 0;
        long long count = wait_for_new_incarnation(f->client, pid, &new_pid);
        mttr[i] = gt_now_ms() - t0;
        if (count != acked)
            fail_msg("kill %d: restored count %lld, acknowledged %lld", i, count, acked);
        pid = new_pid;
    }
    int threads_last = count_threads(f->daemon.pid);
    /* Idempotent restarts: one child, and no threads piling up in genesisd. */
    assert_int_equal(count_children(f->daemon.pid, "checkpoint_serv"), 1);
    assert_true(threads_last <= threads_first + 8);
    json_t *s = supervised(f->client, "counter");
    assert_string_equal(sup_state(s), "RUNNING");
    assert_int_equal(sup_int(s, "restarts"), n);
    assert_int_equal(sup_int(s, "pid"), pid);
    assert_non_null(strstr(json_string_value(json_object_get(s, "last_exit")), "signal 9"));
    json_decref(s);
    qsort(mttr, (size_t)n, sizeof(*mttr), cmp_ll);
    printf("MTTR kill -9 -> first successful request, %d kills: p50 %lld ms, p99 %lld ms, "
           "max %lld ms (target p99 < 500 ms); genesisd threads %d -> %d\n",
           n, percentile(mttr, n, 50), percentile(mttr, n, 99), mttr[n - 1], threads_first,
           threads_last);
    free(mttr);
}

/* The status report's health of component id ("UP", "DOWN"), or "" when it is not listed. */
static void component_health(genesis_client *cl, const char *id, char *out, size_t size)
{
    snprintf(out, size, "%s", "");
    genesis_result *res = NULL;
    if (genesis_client_status(cl, 2000, &res) == GENESIS_OK) {
        json_t *doc = json_loads(genesis_result_data(res, NULL), 0, NULL);
        json_t *item;
        size_t i;
        json_array_foreach(json_object_get(doc, "components"), i, item)
        {
            if (strcmp(json_string_value(json_object_get(item, "id")), id) == 0)
                snprintf(out, size, "%s", json_string_value(json_object_get(item, "health")));
        }
        json_decref(doc);
    }
    genesis_result_free(res);
}

/* A restart that is slow to register (a loaded machine) is not taken for a hang: the killed
 * predecessor's instance, still counted up for a moment after the kill, must not pass for the
 * new process, whose hang timer would then run out before it ever registered. The restart
 * waits on a gate file until the predecessor is declared down; the supervisor checks health
 * every 50 ms with a hang time of 1 ms, so it had ten checks to kill it by mistake. */
static void test_slow_restart_is_not_a_hang(void **state)
{
    fixture *f = *state;
    char script[300], gate[300], started[300], spec[400];
    snprintf(script, sizeof(script), "%s/slow_start.sh", f->dir);
    snprintf(gate, sizeof(gate), "%s/gate", f->dir);
    snprintf(started, sizeof(started), "%s/started", f->dir);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    fprintf(fp,
            "#!/bin/sh\n"
            "# The first start goes at once; a restart waits for the test's gate file.\n"
            "if [ -e '%s' ]; then while [ ! -e '%s' ]; do sleep 0.01; done; fi\n"
            "touch '%s'\n"
            "exec '%s'\n",
            started, gate, started, CHECKPOINT_SERVICE_PATH);
    assert_int_equal(fclose(fp), 0);
    snprintf(spec, sizeof(spec), "counter=/bin/sh %s", script);
    const char *extra[] = {"--checkpoint-db",     f->db, "--supervise", spec,
                           "--supervise-hang-ms", "1",   NULL};
    start_daemon(f, extra, 0);
    f->client = client_for(f->front);
    long pid = 0;
    wait_for_new_incarnation(f->client, -1, &pid);
    char out[512];
    assert_ok(request(f->client, "counter", "incr", NULL, 5000, out, sizeof(out)));
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0);

    /* The predecessor declared down while its successor waits at the gate. */
    char health[16] = "";
    int64_t give_up = gt_now_ms() + GT_WAIT_MS;
    while (component_health(f->client, "counter", health, sizeof(health)),
           strcmp(health, "DOWN") != 0 && gt_now_ms() < give_up)
        gt_sleep_ms(10);
    assert_string_equal(health, "DOWN");
    json_t *s = NULL;
    for (int i = 0; i < 10; i++) { /* ten health checks of the supervisor, 50 ms apart */
        json_decref(s);
        s = supervised(f->client, "counter");
        if (sup_int(s, "restarts") != 1)
            break;
        gt_sleep_ms(50);
    }
    assert_string_equal(sup_state(s), "RUNNING");
    assert_int_equal(sup_int(s, "restarts"), 1);
    json_decref(s);

    fp = fopen(gate, "w");
    assert_non_null(fp);
    fclose(fp);
    long new_pid = 0;
    assert_int_equal(wait_for_new_incarnation(f->client, pid, &new_pid), 1);
    s = supervised(f->client, "counter");
    assert_int_equal(sup_int(s, "restarts"), 1);
    assert_non_null(strstr(json_string_value(json_object_get(s, "last_exit")), "signal 9"));
    json_decref(s);
}

/* A process that runs but stopped heartbeating is killed and replaced. */
static void test_stopped_component_is_replaced(void **state)
{
    fixture *f = *state;
    char spec[512];
    snprintf(spec, sizeof(spec), "counter=%s", CHECKPOINT_SERVICE_PATH);
    const char *extra[] = {"--checkpoint-db",     f->db, "--supervise", spec,
                           "--supervise-hang-ms", "300", NULL};
    start_daemon(f, extra, 0);
    f->client = client_for(f->front);
    long pid = 0;
    wait_for_new_incarnation(f->client, -1, &pid);
    char out[512];
    assert_ok(request(f->client, "counter", "incr", NULL, 5000, out, sizeof(out)));
    assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
    long new_pid = 0;
    assert_int_equal(wait_for_new_incarnation(f->client, pid, &new_pid), 1);
    json_t *s = supervised(f->client, "counter");
    assert_non_null(
        strstr(json_string_value(json_object_get(s, "last_exit")), "stopped heartbeating"));
    json_decref(s);
}

/* ---- crash loop ------------------------------------------------------------------------- */

static bool stderr_contains(gt_process *p, char *buf, size_t size, size_t *len, const char *text)
{
    struct pollfd pfd = {.fd = p->err_fd, .events = POLLIN};
    while (poll(&pfd, 1, 0) > 0 && *len + 1 < size) {
        ssize_t got = read(p->err_fd, buf + *len, size - 1 - *len);
        if (got <= 0)
            break;
        *len += (size_t)got;
    }
    buf[*len] = '\0';
    return strstr(buf, text) != NULL;
}

/* Send an envelope over a raw REQ socket; returns the reply's code, *reason its reason, out
 * its payload followed by its message. */
static int send_envelope(const char *front, gn_envelope *env, int *reason, char *out, size_t size)
{
    nng_socket s;
    assert_int_equal(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
    assert_int_equal(nng_dial(s, front, NULL, 0), 0);
    nng_msg *msg = NULL;
    assert_ok(gn_envelope_encode(env, &msg));
    assert_int_equal(nng_sendmsg(s, msg, 0), 0);
    assert_int_equal(nng_recvmsg(s, &msg, 0), 0);
    gn_wire_reply *reply = NULL;
    int decode_reason = 0;
    char why[256];
    assert_ok(gn_reply_decode(nng_msg_body(msg), nng_msg_len(msg), 1 << 20, &reply, &decode_reason,
                              why, sizeof(why)));
    int code = (int)reply->code;
    if (reason != NULL)
        *reason = (int)reply->reason;
    size_t len = 0;
    const uint8_t *data = gn_payload_data(reply->payload, &len);
    snprintf(out, size, "%.*s%s", (int)len, (const char *)data, reply->message);
    gn_reply_free(reply);
    nng_msg_free(msg);
    nng_close(s);
    return code;
}

/* An Admin command (no client API for it in this layer). */
static int admin(const char *front, const char *command, const char *arg, char *out, size_t size)
{
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__Admin adm = GENESIS__V1__ADMIN__INIT;
    char *args[1] = {(char *)arg};
    adm.command = (char *)command;
    adm.args = args;
    adm.n_args = arg != NULL ? 1 : 0;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_ADMIN;
    env.admin = &adm;
    return send_envelope(front, &env, NULL, out, size);
}

static int checkpoint_envelope(const char *front, const char *id, int *reason)
{
    gn_envelope env = GENESIS__V1__ENVELOPE__INIT;
    Genesis__V1__Checkpoint ck = GENESIS__V1__CHECKPOINT__INIT;
    ck.component_id = (char *)id;
    ck.instance_id = (char *)"raw";
    ck.state.data = (uint8_t *)"state";
    ck.state.len = 5;
    env.body_case = GENESIS__V1__ENVELOPE__BODY_CHECKPOINT;
    env.checkpoint = &ck;
    char out[512];
    return send_envelope(front, &env, reason, out, sizeof(out));
}

/* Checkpoint envelopes that cannot be stored get a clear refusal; the process stays up. */
static void test_refused_checkpoints(void **state)
{
    fixture *f = *state;
    const char *no_store[] = {"--demo", NULL};
    start_daemon(f, no_store, 0);
    int reason = 0;
    assert_int_equal(checkpoint_envelope(f->front, "nobody", &reason), GENESIS_NOT_FOUND);
    assert_int_equal(reason, GENESIS_REASON_NOT_FOUND);
    assert_int_equal(checkpoint_envelope(f->front, "bad id!", &reason), GENESIS_INVALID_ARGUMENT);
    assert_int_equal(checkpoint_envelope(f->front, "comp1", &reason),
                     GENESIS_FAILED_PRECONDITION); /* in-process: not a peer's to overwrite */
    /* A registered remote component, but this coordinator has no store. */
    genesis_service *svc = NULL;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = storm_handler};
    assert_ok(genesis_service_new(&svc, "remote", &comp, NULL));
    char listen[URL_SIZE];
    gt_ipc_url(listen, sizeof(listen), f->dir, "remote");
    assert_ok(genesis_service_listen(svc, listen));
    assert_ok(genesis_service_connect(svc, f->front, NULL, 5000));
    uint64_t gen = 7;
    assert_status(genesis_service_checkpoint(svc, "x", 1, 5000, &gen), GENESIS_FAILED_PRECONDITION);
    assert_non_null(strstr(genesis_last_error(), "STORAGE_ERROR"));
    assert_int_equal(gen, 0);
    /* Too large to come back in a RegisterAck: refused before sending. */
    static char huge[1024 * 1024];
    assert_status(genesis_service_checkpoint(svc, huge, sizeof(huge), 5000, NULL),
                  GENESIS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(genesis_last_error(), "MESSAGE_TOO_LARGE"));
    genesis_service_free(svc);
    f->client = client_for(f->front);
    char out[256];
    assert_ok(request(f->client, "comp2", "ping", NULL, 5000, out, sizeof(out)));
}

typedef struct sup_wait {
    genesis_client *cl;
    const char *state;
    long long restarts;
} sup_wait;

static bool reached(void *arg)
{
    sup_wait *w = arg;
    json_t *s = supervised(w->cl, "crasher");
    bool ok = strcmp(sup_state(s), w->state) == 0 && sup_int(s, "restarts") == w->restarts;
    json_decref(s);
    return ok;
}

static void test_crash_loop_gives_up(void **state)
{
    fixture *f = *state;
    const char *extra[] = {"--supervise",
                           "crasher=/bin/sh -c 'exit 3'",
                           "--restart-intensity",
                           "3/10",
                           "--restart-backoff",
                           "1/20",
                           "--demo",
                           "--log-level",
                           "info",
                           NULL};
    start_daemon(f, extra, GT_CAPTURE_STDERR);
    f->client = client_for(f->front);
    sup_wait w = {f->client, "FAILED", 3};
    assert_true(gt_wait_until(reached, &w, GT_WAIT_MS));
    json_t *s = supervised(f->client, "crasher");
    assert_string_equal(json_string_value(json_object_get(s, "last_exit")), "exited with status 3");
    assert_int_equal(sup_int(s, "pid"), 0);
    json_decref(s);
    /* It stays down: no restart happens on its own. */
    gt_sleep_ms(300);
    assert_true(reached(&w));
    /* Loudly: an error line and a published event (the demo components log what they get). */
    static char log[65536];
    size_t len = 0;
    int64_t give_up = gt_now_ms() + GT_WAIT_MS;
    while (!stderr_contains(&f->daemon, log, sizeof(log), &len, "event supervisor.failed from") &&
           gt_now_ms() < give_up)
        gt_sleep_ms(10);
    if (strstr(log, "event supervisor.failed from") == NULL ||
        strstr(log, "reached the limit: FAILED") == NULL)
        fail_msg("genesisd's log lacks the failure or its event:\n%s", log);

    /* The operator says so: it runs again (and, still crashing, fails again). */
    char out[512];
    assert_int_equal(admin(f->front, "supervisor.restart", "nobody", out, sizeof(out)),
                     GENESIS_NOT_FOUND);
    assert_int_equal(admin(f->front, "supervisor.restart", NULL, out, sizeof(out)),
                     GENESIS_INVALID_ARGUMENT);
    assert_int_equal(admin(f->front, "supervisor.restart", "crasher", out, sizeof(out)),
                     GENESIS_OK);
    assert_non_null(strstr(out, "restarting crasher"));
    w.restarts = 3 + 1 + 3;
    assert_true(gt_wait_until(reached, &w, GT_WAIT_MS));
    /* Other admin commands are still the coordinator's. */
    assert_int_equal(admin(f->front, "mode.set", "SAFE", out, sizeof(out)), GENESIS_UNIMPLEMENTED);
}

/* ---- kill -9 the coordinator during a checkpoint storm ---------------------------------- */

#define STORM_WRITERS 2

typedef struct storm {
    genesis_service *svc;
    atomic_bool stop;
    atomic_llong acked_seq[STORM_WRITERS];  /* payload "w<k>:<seq>" acknowledged last */
    atomic_ullong acked_gen[STORM_WRITERS]; /* its generation */
    atomic_llong acks;
    pthread_mutex_t mu; /* guards last_error */
    char last_error[512];
} storm;

typedef struct writer_arg {
    storm *st;
    int k;
} writer_arg;

static void *storm_writer(void *arg)
{
    writer_arg *wa = arg;
    storm *st = wa->st;
    long long seq = atomic_load(&st->acked_seq[wa->k]);
    while (!atomic_load(&st->stop)) {
        char text[64];
        snprintf(text, sizeof(text), "w%d:%lld", wa->k, seq + 1);
        uint64_t gen = 0;
        if (genesis_service_checkpoint(st->svc, text, strlen(text), 1000, &gen) == GENESIS_OK) {
            seq++;
            /* Recorded only after the acknowledgement: this one must survive. */
            atomic_store(&st->acked_seq[wa->k], seq);
            atomic_store(&st->acked_gen[wa->k], gen);
            atomic_fetch_add(&st->acks, 1);
        } else {
            pthread_mutex_lock(&st->mu);
            snprintf(st->last_error, sizeof(st->last_error), "%s", genesis_last_error());
            pthread_mutex_unlock(&st->mu);
            gt_sleep_ms(2); /* the coordinator is away or forgot us: it re-registers */
        }
    }
    return NULL;
}

typedef struct found_gen {
    uint64_t gen;
    bool present;
    int64_t created;
} found_gen;

static void find_gen(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                     void *arg)
{
    (void)len;
    found_gen *fg = arg;
    if (strcmp(component, "storm") == 0 && generation == fg->gen) {
        fg->present = true;
        fg->created = created_ms;
    }
}

static void test_kill9_coordinator_during_storm(void **state)
{
    fixture *f = *state;
    int n = kills();
    char gens[16];
    snprintf(gens, sizeof(gens), "%d", STORM_WRITERS * 4);
    const char *extra[] = {"--checkpoint-db", f->db, "--checkpoint-generations", gens, NULL};
    storm st = {.stop = false, .mu = PTHREAD_MUTEX_INITIALIZER};
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = storm_handler};
    assert_ok(genesis_service_new(&st.svc, "storm", &comp, NULL));
    char listen[URL_SIZE];
    gt_ipc_url(listen, sizeof(listen), f->dir, "storm");
    assert_ok(genesis_service_listen(st.svc, listen));
    long long total_acks = 0;
    int64_t storm_ms = 0;
    for (int i = 0; i < n; i++) {
        start_daemon(f, extra, 0);
        if (i == 0)
            assert_ok(genesis_service_connect(st.svc, f->front, NULL, 5000));
        atomic_store(&st.stop, false);
        atomic_store(&st.acks, 0);
        pthread_t threads[STORM_WRITERS];
        writer_arg args[STORM_WRITERS];
        for (int k = 0; k < STORM_WRITERS; k++) {
            args[k] = (writer_arg){&st, k};
            assert_int_equal(pthread_create(&threads[k], NULL, storm_writer, &args[k]), 0);
        }
        /* Let the storm reach the restarted coordinator, then kill it mid-write. */
        int64_t storm_start = gt_now_ms();
        int64_t give_up = storm_start + GT_WAIT_MS;
        while (atomic_load(&st.acks) < 5 && gt_now_ms() < give_up)
            gt_sleep_ms(1);
        if (atomic_load(&st.acks) < 5) {
            /* Stop the writers first: they use this stack frame, which the failure leaves. */
            atomic_store(&st.stop, true);
            for (int k = 0; k < STORM_WRITERS; k++)
                pthread_join(threads[k], NULL);
            gt_process_kill(&f->daemon);
            genesis_service_free(st.svc);
            fail_msg("kill %d: %lld acknowledgements in %d ms; last error: %s", i,
                     (long long)atomic_load(&st.acks), GT_WAIT_MS, st.last_error);
        }
        gt_sleep_ms(5 + rand() % 40);
        gt_process_signal(&f->daemon, SIGKILL);
        storm_ms += gt_now_ms() - storm_start;
        assert_true(gt_process_wait(&f->daemon, GT_WAIT_MS));
        atomic_store(&st.stop, true);
        for (int k = 0; k < STORM_WRITERS; k++)
            pthread_join(threads[k], NULL);
        gt_process_kill(&f->daemon);
        total_acks += atomic_load(&st.acks);

        /* The store opens cleanly (integrity checked on open) and every writer's last
         * acknowledged checkpoint is there, byte for byte. */
        gn_ckpt_store *store = NULL;
        gn_ckpt_error err = {0};
        gn_ckpt_sqlite_options so = {.keep = (unsigned)STORM_WRITERS * 4};
        int rv = gn_ckpt_store_open_sqlite(&store, f->db, &so, &err);
        if (rv != GENESIS_OK)
            fail_msg("kill %d: the store does not open: %s", i, err.message);
        /* Nothing acknowledged is behind the newest stored generation, and every acknowledged
         * generation still within the kept window is there byte for byte (older ones were
         * pruned by design: N generations are kept). */
        gn_ckpt_record newest = {0};
        assert_ok(gn_ckpt_latest(store, "storm", 0, &newest, NULL, &err));
        uint64_t keep = (uint64_t)STORM_WRITERS * 4;
        for (int k = 0; k < STORM_WRITERS; k++) {
            uint64_t gen = atomic_load(&st.acked_gen[k]);
            if (gen > newest.generation)
                fail_msg("kill %d: generation %llu was acknowledged, the store ends at %llu", i,
                         (unsigned long long)gen, (unsigned long long)newest.generation);
            if (gen == 0 || gen + keep <= newest.generation)
                continue; /* no acknowledgement yet (a slow, sanitized run), or pruned */
            gn_ckpt_record rec = {0};
            unsigned corrupt = 0;
            /* The newest generation at or below the acknowledged one is it. */
            assert_ok(gn_ckpt_latest(store, "storm", gen + 1, &rec, &corrupt, &err));
            assert_int_equal(corrupt, 0);
            char want[64];
            snprintf(want, sizeof(want), "w%d:%lld", k, atomic_load(&st.acked_seq[k]));
            if (rec.generation != gen || rec.len != strlen(want) ||
                memcmp(rec.data, want, rec.len) != 0)
                fail_msg("kill %d: acknowledged generation %llu ('%s') is missing (found "
                         "generation %llu)",
                         i, (unsigned long long)gen, want, (unsigned long long)rec.generation);
            gn_ckpt_record_clear(&rec);
            found_gen fg = {.gen = gen};
            assert_ok(gn_ckpt_list(store, find_gen, &fg, &err));
            assert_true(fg.present);
        }
        gn_ckpt_record_clear(&newest);
        gn_ckpt_store_close(store);
    }
    printf("coordinator kill -9 during a checkpoint storm: %d kills, %lld acknowledged "
           "checkpoints, none missing (%.0f acknowledged checkpoints/s with %d writers, "
           "including restarts)\n",
           n, total_acks, storm_ms > 0 ? total_acks * 1000.0 / (double)storm_ms : 0.0,
           STORM_WRITERS);
    genesis_service_free(st.svc);
}

/* ---- full disk -------------------------------------------------------------------------- */

static struct {
    uint64_t generation;
    size_t len;
    int first;
} restored;

/* Runs on a library thread while the test polls: generation is published last. */
static int keep_restored(const void *data, size_t len, uint64_t generation, void *arg)
{
    (void)arg;
    restored.len = len;
    restored.first = len > 0 ? ((const char *)data)[0] : -1;
    __atomic_store_n(&restored.generation, generation, __ATOMIC_RELEASE);
    return GENESIS_OK;
}

static void test_full_disk(void **state)
{
    fixture *f = *state;
    char store_dir[200];
    snprintf(store_dir, sizeof(store_dir), "%s/disk", f->dir);
    assert_int_equal(mkdir(store_dir, 0700), 0);
    snprintf(f->db, sizeof(f->db), "%s/ck.db", store_dir);
    /* GENESIS_FULL_DISK=rlimit forces the fallback (to test it where mounting works). */
    const char *how = getenv("GENESIS_FULL_DISK");
    bool tmpfs = (how == NULL || strcmp(how, "rlimit") != 0) &&
                 mount("tmpfs", store_dir, "tmpfs", 0, "size=2m") == 0;
    struct rlimit saved;
    getrlimit(RLIMIT_FSIZE, &saved);
    if (!tmpfs) {
        /* No mount permission (a container): a real EFBIG/short write from a file size limit
         * on the daemon instead; genesisd ignores SIGXFSZ so the write fails. */
        struct rlimit lim = {.rlim_cur = 2 << 20, .rlim_max = saved.rlim_max};
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    }
    const char *extra[] = {"--checkpoint-db", f->db, "--demo", NULL};
    start_daemon(f, extra, 0);
    if (!tmpfs)
        setrlimit(RLIMIT_FSIZE, &saved);
    printf("full disk by %s\n", tmpfs ? "a 2 MiB tmpfs" : "RLIMIT_FSIZE of 2 MiB");
    f->client = client_for(f->front);

    genesis_service *svc = NULL;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = storm_handler};
    assert_ok(genesis_service_new(&svc, "filler", &comp, NULL));
    char listen[URL_SIZE];
    gt_ipc_url(listen, sizeof(listen), f->dir, "filler");
    assert_ok(genesis_service_listen(svc, listen));
    assert_ok(genesis_service_connect(svc, f->front, NULL, 5000));
    /* Far more than the disk holds, in checkpoints that each fit: the store folds its WAL
     * back and reuses old generations' pages, so none fails (SQLite's default WAL folding,
     * every ~4 MiB, jammed such a disk for good after a dozen). */
    static char ckpt[16 * 1024];
    uint64_t last_gen = 0;
    int last_fill = -1;
    int stored = 0;
    for (int i = 0; i < 200; i++) {
        memset(ckpt, 'a' + i % 26, sizeof(ckpt));
        uint64_t gen = 0;
        int rv = genesis_service_checkpoint(svc, ckpt, sizeof(ckpt), 5000, &gen);
        if (rv == GENESIS_OK) {
            stored++;
            last_gen = gen;
            last_fill = i % 26;
        } else {
            printf("checkpoint %d of 16 KiB: %s\n", i, genesis_last_error());
        }
    }
    printf("%d of 200 checkpoints of 16 KiB (3.1 MiB) stored\n", stored);
    assert_int_equal(stored, 200);
    /* States the disk cannot hold: STORAGE_FULL, and the previous one is kept. */
    static char huge[1000 * 1024];
    size_t last_len = sizeof(ckpt);
    int rv = GENESIS_OK;
    for (int i = 0; i < 10 && rv == GENESIS_OK; i++) {
        memset(huge, 'A' + i, sizeof(huge));
        uint64_t gen = 0;
        rv = genesis_service_checkpoint(svc, huge, sizeof(huge), 5000, &gen);
        if (rv == GENESIS_OK) {
            last_gen = gen;
            last_fill = 'A' + i - 'a';
            last_len = sizeof(huge);
        }
    }
    assert_status(rv, GENESIS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(genesis_last_error(), "STORAGE_FULL"));
    printf("states of 1000 KiB: %s\n", genesis_last_error());
    /* Requests are still served, and the status names the failure. */
    char out[512];
    assert_ok(request(f->client, "comp2", "ping", NULL, 5000, out, sizeof(out)));
    genesis_result *res = NULL;
    assert_ok(genesis_client_status(f->client, 2000, &res));
    assert_non_null(strstr(genesis_result_data(res, NULL), "STORAGE_FULL"));
    genesis_result_free(res);

    genesis_service_free(svc);

    /* The previous checkpoint is kept: a new incarnation gets it back at registration. */
    genesis_component again = {.version = GENESIS_COMPONENT_VERSION,
                               .on_request = storm_handler,
                               .restore = keep_restored};
    assert_ok(genesis_service_new(&svc, "filler", &again, NULL));
    gt_ipc_url(listen, sizeof(listen), f->dir, "filler2");
    assert_ok(genesis_service_listen(svc, listen));
    assert_ok(genesis_service_connect(svc, f->front, NULL, 5000));
    assert_int_equal(restored.generation, last_gen);
    assert_int_equal(restored.first, 'a' + last_fill);
    assert_int_equal(restored.len, last_len);
    /* And smaller states are stored again by themselves (no restart, no operator): the old
     * generations make room. */
    int resumed = 0;
    memset(ckpt, 'z', sizeof(ckpt));
    for (int k = 0; k < 10; k++) {
        uint64_t gen = 0;
        if (genesis_service_checkpoint(svc, ckpt, sizeof(ckpt), 5000, &gen) == GENESIS_OK) {
            resumed++;
            last_gen = gen;
        } else {
            assert_true(k < 3); /* the first few may still find the disk full */
        }
    }
    printf("then %d of 10 checkpoints of 16 KiB stored\n", resumed);
    last_fill = 'z' - 'a';
    genesis_service_free(svc);
    gt_process_kill(&f->daemon);
    gn_ckpt_store *store = NULL;
    gn_ckpt_error err = {0};
    assert_ok(gn_ckpt_store_open_sqlite(&store, f->db, NULL, &err));
    gn_ckpt_record rec = {0};
    assert_ok(gn_ckpt_latest(store, "filler", 0, &rec, NULL, &err));
    assert_int_equal(rec.generation, last_gen);
    assert_int_equal(rec.len, sizeof(ckpt));
    assert_int_equal(((const char *)rec.data)[0], 'a' + last_fill);
    gn_ckpt_record_clear(&rec);
    gn_ckpt_store_close(store);
    if (tmpfs)
        assert_int_equal(umount2(store_dir, MNT_DETACH), 0);
}

/* ---- a coordinator restart under a running remote component ---------------------------- */

/* The coordinator dies and comes back on the same store: the running service re-registers by
 * itself, keeps its (newer) in-memory state, and its next checkpoints continue the
 * generations; a new incarnation of the service then gets the latest one. */
static void test_coordinator_restart_keeps_remote_state(void **state)
{
    fixture *f = *state;
    const char *extra[] = {"--checkpoint-db", f->db, NULL};
    start_daemon(f, extra, 0);
    const char *svc_argv[] = {CHECKPOINT_SERVICE_PATH, "--id",   "counter",
                              "--front-door",          f->front, NULL};
    gt_process svc;
    assert_int_equal(gt_process_spawn(&svc, svc_argv, GT_CAPTURE_STDOUT), 0);
    char line[512];
    assert_true(gt_process_wait_line(&svc, "ready ", line, sizeof(line), GT_WAIT_MS));
    f->client = client_for(f->front);
    char out[512];
    for (int i = 0; i < 3; i++)
        assert_ok(request(f->client, "counter", "incr", NULL, 5000, out, sizeof(out)));
    assert_string_equal(out, "count=3 gen=3");

    gt_process_signal(&f->daemon, SIGKILL);
    assert_true(gt_process_wait(&f->daemon, GT_WAIT_MS));
    gt_process_kill(&f->daemon);
    start_daemon(f, extra, 0);
    /* Until the service has registered again, requests fail; then they succeed with the
     * state the process kept (not re-restored: restored=0 from its first start). Two
     * reconnections lie on that path (the service's and the client's), each after its own
     * backoff: a sanitizer build on a loaded machine was seen to need more than one
     * GT_WAIT_MS for both. */
    int64_t give_up = gt_now_ms() + 3 * GT_WAIT_MS;
    int rv;
    while ((rv = request(f->client, "counter", "incr", NULL, 1000, out, sizeof(out))) !=
               GENESIS_OK &&
           gt_now_ms() < give_up)
        gt_sleep_ms(20);
    assert_ok(rv);
    assert_string_equal(out, "count=4 gen=4");
    assert_ok(request(f->client, "counter", "count", NULL, 5000, out, sizeof(out)));
    assert_non_null(strstr(out, "count=4 "));
    assert_non_null(strstr(out, "restored=0"));

    /* A new incarnation of the service starts from generation 4. */
    gt_process_kill(&svc);
    assert_int_equal(gt_process_spawn(&svc, svc_argv, GT_CAPTURE_STDOUT), 0);
    assert_true(gt_process_wait_line(&svc, "ready ", line, sizeof(line), GT_WAIT_MS));
    give_up = gt_now_ms() + GT_WAIT_MS;
    while (gt_now_ms() < give_up) {
        if (request(f->client, "counter", "count", NULL, 1000, out, sizeof(out)) == GENESIS_OK &&
            strstr(out, "restored=4") != NULL)
            break;
        gt_sleep_ms(20);
    }
    assert_non_null(strstr(out, "count=4 "));
    assert_non_null(strstr(out, "restored=4"));
    gt_process_kill(&svc);
}

/* The coordinator is not up when the service connects: connect fails, the service registers
 * in the background later, and restores then, before serving. */
static void test_late_registration_restores(void **state)
{
    fixture *f = *state;
    /* A checkpoint from an earlier life, written straight into the store. */
    gn_ckpt_store *store = NULL;
    gn_ckpt_error err = {0};
    assert_ok(gn_ckpt_store_open_sqlite(&store, f->db, NULL, &err));
    uint64_t gen = 0;
    assert_ok(gn_ckpt_put(store, "late", "41", 2, &gen, &err));
    gn_ckpt_store_close(store);

    memset(&restored, 0, sizeof(restored));
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = storm_handler,
                              .restore = keep_restored};
    genesis_service *svc = NULL;
    assert_ok(genesis_service_new(&svc, "late", &comp, NULL));
    char listen[URL_SIZE];
    gt_ipc_url(listen, sizeof(listen), f->dir, "late");
    assert_ok(genesis_service_listen(svc, listen));
    int rv = genesis_service_connect(svc, f->front, NULL, 300);
    assert_int_not_equal(rv, GENESIS_OK);
    assert_int_equal(__atomic_load_n(&restored.generation, __ATOMIC_ACQUIRE), 0);

    const char *extra[] = {"--checkpoint-db", f->db, NULL};
    start_daemon(f, extra, 0);
    int64_t give_up = gt_now_ms() + GT_WAIT_MS;
    while (__atomic_load_n(&restored.generation, __ATOMIC_ACQUIRE) == 0 && gt_now_ms() < give_up)
        gt_sleep_ms(10);
    assert_int_equal(__atomic_load_n(&restored.generation, __ATOMIC_ACQUIRE), gen);
    assert_int_equal(restored.len, 2);
    assert_int_equal(restored.first, '4');
    genesis_service_free(svc);
}

/* ---- configuration errors --------------------------------------------------------------- */

static void expect_run(const char *const *argv, int want_code, const char *want_text)
{
    int code = -1;
    char out[4096], err[4096];
    assert_int_equal(gt_run(argv, GT_WAIT_MS, &code, out, sizeof(out), err, sizeof(err)), 0);
    if (code != want_code || strstr(err, want_text) == NULL)
        fail_msg("%s %s: exit %d (want %d), stderr: %s", argv[1], argv[2], code, want_code, err);
}

static void test_configuration_errors(void **state)
{
    fixture *f = *state;
    const char *a1[] = {GENESISD_PATH, "--restart-intensity", "5", NULL};
    expect_run(a1, 2, "--restart-intensity");
    const char *a2[] = {GENESISD_PATH, "--front-door",    f->front, "--events",
                        f->bus,        "--supervise-env", "x=K=V",  NULL};
    expect_run(a2, 2, "no --supervise for this id");
    const char *a3[] = {GENESISD_PATH,
                        "--front-door",
                        f->front,
                        "--events",
                        f->bus,
                        "--supervise",
                        "x=/bin/echo 'unterminated",
                        NULL};
    expect_run(a3, 2, "unterminated quote");
    FILE *fp = fopen(f->db, "w");
    assert_non_null(fp);
    for (int i = 0; i < 400; i++)
        fputs("not a database ", fp);
    fclose(fp);
    const char *a4[] = {GENESISD_PATH, "--front-door",    f->front, "--events",
                        f->bus,        "--checkpoint-db", f->db,    NULL};
    expect_run(a4, 1, f->db);
}

/* A command that cannot be executed is reported as such and gives up like a crash loop. */
static void test_unexecutable_command(void **state)
{
    fixture *f = *state;
    const char *extra[] = {"--supervise",
                           "crasher=/nonexistent/program --flag",
                           "--restart-intensity",
                           "2/10",
                           "--restart-backoff",
                           "1/5",
                           NULL};
    start_daemon(f, extra, 0);
    f->client = client_for(f->front);
    sup_wait w = {f->client, "FAILED", 2};
    assert_true(gt_wait_until(reached, &w, GT_WAIT_MS));
    json_t *s = supervised(f->client, "crasher");
    const char *last = json_string_value(json_object_get(s, "last_exit"));
    assert_non_null(strstr(last, "cannot execute '/nonexistent/program'"));
    assert_non_null(strstr(last, "No such file"));
    json_decref(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid());
    /* GENESIS_TEST_FILTER=test_full_disk runs one test (ctest's RLIMIT_FSIZE variant). */
    const char *filter = getenv("GENESIS_TEST_FILTER");
    if (filter != NULL && filter[0] != '\0')
        cmocka_set_test_filter(filter);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill9_component_restores_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stopped_component_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_restart_is_not_a_hang, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_loop_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_coordinator_during_storm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator_restart_keeps_remote_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_registration_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configuration_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexecutable_command, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
