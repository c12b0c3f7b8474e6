/* Soak: a bounded run of mixed load against a real genesisd with supervised remote components,
 * with faults injected all along, then the books are checked.
 *
 *   load   : "incr" requests to three supervised checkpoint_service processes (each one a
 *            durable checkpoint acknowledged before its reply), "count"/"ping" requests to
 *            them and to the in-process demo components, and a stream of emitted events;
 *   faults : in turn, kill -9 of a remote component (the supervisor restarts it), SIGSTOP of
 *            one (a hang: heartbeats stop, the supervisor kills and restarts it), an error
 *            burst (admin fault error_rate=0.5 on comp1), a hung handler (hang=1 on comp2),
 *            added latency (latency_ms=300 on comp1);
 *   checks : genesisd's RSS grew less than the bound, its fd and thread counts are back to the
 *            baseline (all read from /proc), every acknowledged checkpoint is in the SQLite
 *            store with the acknowledged value, and the counters add up: requests = succeeded
 *            + failed globally, per component requests = succeeded + failures and failures =
 *            the sum of failures by reason, and the coordinator counted exactly what the
 *            client sent and saw succeed.
 *
 * The baseline is taken after a warm-up that ran every fault once and filled a component's
 * concurrency limit with hung handlers, with the load paused and everything idle again: the
 * worker pool keeps the threads it grew for blocked handlers (by design, bounded by
 * max_worker_threads), so the question is whether the soak grows beyond that.
 *
 * GENESIS_SOAK_SECONDS sets the length of the soak phase (default 45: with the warm-up the
 * ctest run takes about a minute); GENESIS_SOAK_RSS_GROWTH_KB the RSS bound (default 8192);
 * GENESIS_SOAK_GENESISD / GENESIS_SOAK_SERVICE other genesisd / checkpoint_service binaries
 * (an installed or an older build, to compare). fd and RSS growth, threads and a stop that
 * hangs always fail the run. */
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "checkpoint/checkpoint_store.h"
#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

#ifndef GENESISD_PATH
#error "GENESISD_PATH must name genesisd"
#endif
#ifndef CHECKPOINT_SERVICE_PATH
#error "CHECKPOINT_SERVICE_PATH must name checkpoint_service"
#endif

#define N_REMOTE   3
#define MAX_ACKED  200000
#define N_REASONS  64
#define REQUEST_MS 3000

static const char *const remote_ids[N_REMOTE] = {"ck1", "ck2", "ck3"};

typedef struct acked {
    uint64_t generation;
    uint64_t count;
} acked;

static struct {
    char dir[128];
    char db[192];
    char front[256];
    char bus[256];
    gt_process daemon;
    genesis_client *cl;

    atomic_bool run;    /* load threads keep going */
    atomic_bool paused; /* load threads idle (baseline measurement) */
    atomic_long sent, ok, unreachable;
    atomic_long by_reason[N_REASONS];
    atomic_long events_ok, events_failed;

    pthread_mutex_t ack_lock;
    acked *acks[N_REMOTE];
    size_t n_acks[N_REMOTE];
} s;

/* ---- /proc ------------------------------------------------------------------------------- */

typedef struct proc_figures {
    long rss_kb;
    long threads;
    long fds;
} proc_figures;

static proc_figures read_proc(pid_t pid)
{
    proc_figures f = {-1, -1, 0};
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        sscanf(line, "VmRSS: %ld", &f.rss_kb);
        sscanf(line, "Threads: %ld", &f.threads);
    }
    fclose(fp);
    snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d))
        f.fds += e->d_name[0] != '.';
    closedir(d);
    return f;
}

/* The line of /proc/<pid>/net/{unix,tcp,tcp6} that holds socket inode (what it is: an ipc
 * path, tcp ports and state), or "" when none does. */
static void socket_detail(pid_t pid, unsigned long inode, char *out, size_t size)
{
    static const char *const tables[] = {"unix", "tcp", "tcp6"};
    out[0] = '\0';
    for (unsigned t = 0; t < 3 && out[0] == '\0'; t++) {
        char path[64], line[512];
        snprintf(path, sizeof(path), "/proc/%ld/net/%s", (long)pid, tables[t]);
        FILE *fp = fopen(path, "r");
        if (fp == NULL)
            continue;
        while (fgets(line, sizeof(line), fp) != NULL) {
            char needle[32];
            snprintf(needle, sizeof(needle), " %lu ", inode);
            char want[32];
            snprintf(want, sizeof(want), " %lu", inode);
            size_t n = strlen(line);
            if (n > 0 && line[n - 1] == '\n')
                line[--n] = '\0';
            if (strstr(line, needle) != NULL ||
                (n >= strlen(want) && strcmp(line + n - strlen(want), want) == 0)) {
                snprintf(out, size, "%s: %s", tables[t], line);
                break;
            }
        }
        fclose(fp);
    }
}

/* Print what each fd of pid is (sockets, pipes, files): the evidence when fds leak. */
static void print_fds(pid_t pid)
{
    char path[64], link[400], target[256];
    snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        char detail[600] = "";
        unsigned long inode = 0;
        if (sscanf(target, "socket:[%lu]", &inode) == 1)
            socket_detail(pid, inode, detail, sizeof(detail));
        printf("soak:   fd %s -> %s %s\n", e->d_name, target, detail);
    }
    closedir(d);
}

/* ---- load --------------------------------------------------------------------------------- */

static void tally(int rv, const genesis_result *res)
{
    atomic_fetch_add(&s.sent, 1);
    if (rv == GENESIS_OK) {
        atomic_fetch_add(&s.ok, 1);
        return;
    }
    int reason = genesis_result_reason(res);
    if (reason == GENESIS_REASON_UNREACHABLE)
        atomic_fetch_add(&s.unreachable, 1);
    if (reason >= 0 && reason < N_REASONS)
        atomic_fetch_add(&s.by_reason[reason], 1);
}

static int request(const char *target, const char *type, genesis_result **res)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = REQUEST_MS;
    int rv = genesis_client_request(s.cl, target, type, "", 0, &o, res);
    tally(rv, *res);
    return rv;
}

static void pause_point(void)
{
    while (atomic_load(&s.paused) && atomic_load(&s.run))
        gt_sleep_ms(5);
}

static void *incr_loop(void *arg)
{
    unsigned k = (unsigned)(uintptr_t)arg;
    while (atomic_load(&s.run)) {
        pause_point();
        unsigned i = k++ % N_REMOTE;
        genesis_result *res = NULL;
        if (request(remote_ids[i], "incr", &res) == GENESIS_OK) {
            size_t len = 0;
            const char *text = genesis_result_data(res, &len);
            unsigned long long count = 0, gen = 0;
            char buf[128];
            snprintf(buf, sizeof(buf), "%.*s", (int)len, text);
            if (sscanf(buf, "count=%llu gen=%llu", &count, &gen) == 2) {
                pthread_mutex_lock(&s.ack_lock);
                if (s.n_acks[i] < MAX_ACKED)
                    s.acks[i][s.n_acks[i]++] = (acked){gen, count};
                pthread_mutex_unlock(&s.ack_lock);
            }
        }
        genesis_result_free(res);
    }
    return NULL;
}

static void *read_loop(void *arg)
{
    (void)arg;
    static const char *const targets[] = {"comp1", "comp2", "ck1", "ck2", "ck3", "nobody"};
    static const char *const types[] = {"ping", "ping", "count", "count", "count", "ping"};
    unsigned k = 0;
    while (atomic_load(&s.run)) {
        pause_point();
        unsigned i = k++ % 6;
        genesis_result *res = NULL;
        request(targets[i], types[i], &res);
        genesis_result_free(res);
    }
    return NULL;
}

static void *event_loop(void *arg)
{
    (void)arg;
    while (atomic_load(&s.run)) {
        pause_point();
        genesis_result *res = NULL;
        int rv = genesis_client_emit(s.cl, "soak.tick", "{}", 2, NULL, &res);
        atomic_fetch_add(rv == GENESIS_OK ? &s.events_ok : &s.events_failed, 1);
        genesis_result_free(res);
        gt_sleep_ms(2);
    }
    return NULL;
}

/* ---- faults ------------------------------------------------------------------------------- */

static long remote_pid(const char *id)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = 2000;
    genesis_result *res = NULL;
    long pid = -1;
    int rv = genesis_client_request(s.cl, id, "pid", "", 0, &o, &res);
    tally(rv, res);
    if (rv == GENESIS_OK) {
        size_t len = 0;
        const char *text = genesis_result_data(res, &len);
        char buf[32];
        snprintf(buf, sizeof(buf), "%.*s", (int)len, text);
        pid = strtol(buf, NULL, 10);
    }
    genesis_result_free(res);
    return pid;
}

static void admin_fault(const char *id, const char *a, const char *b)
{
    const char *args[3] = {id, a, b};
    genesis_result *res = NULL;
    int rv = genesis_client_admin(s.cl, "fault", args, b != NULL ? 3 : 2, 3000, &res);
    if (rv != GENESIS_OK)
        fprintf(stderr, "soak: admin fault %s %s: %s\n", id, a,
                res != NULL ? genesis_result_message(res) : "?");
    genesis_result_free(res);
}

static int n_faults[5];

/* Inject fault kind k (0..4) and undo it after a while (blocking, 1-2 s). */
static void inject(unsigned k, unsigned round)
{
    const char *id = remote_ids[round % N_REMOTE];
    long pid;
    switch (k % 5) {
    case 0: /* crash */
        pid = remote_pid(id);
        if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
            n_faults[0]++;
        gt_sleep_ms(1500);
        break;
    case 1: /* hang: the process stops answering and heartbeating */
        pid = remote_pid(id);
        if (pid > 0 && kill((pid_t)pid, SIGSTOP) == 0) {
            n_faults[1]++;
            gt_sleep_ms(1500); /* past --supervise-hang-ms: the supervisor kills it */
            kill((pid_t)pid, SIGCONT);
        }
        break;
    case 2: /* error burst */
        admin_fault("comp1", "error_rate=0.5", NULL);
        n_faults[2]++;
        gt_sleep_ms(1500);
        admin_fault("comp1", "clear", NULL);
        break;
    case 3: /* hung handlers */
        admin_fault("comp2", "hang=1", NULL);
        n_faults[3]++;
        gt_sleep_ms(1000);
        admin_fault("comp2", "clear", NULL);
        break;
    default: /* slow calls */
        admin_fault("comp1", "latency_ms=300", NULL);
        n_faults[4]++;
        gt_sleep_ms(1000);
        admin_fault("comp1", "clear", NULL);
        break;
    }
}

/* Fill the worker pool to the most the soak can need at once: the in-process components'
 * handlers blocked in a hang, up to each one's concurrency limit (16). The pool keeps its
 * threads, so the baseline taken afterwards includes them. */
#define SATURATE 24

static gt_counter saturated;

static void saturate_done(genesis_result *res, void *arg)
{
    (void)arg;
    tally(genesis_result_status(res), res);
    genesis_result_free(res);
    gt_counter_add(&saturated, 1);
}

static void saturate(void)
{
    gt_counter_init(&saturated);
    admin_fault("comp2", "hang=1", NULL);
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = 2500;
    int started = 0;
    for (int i = 0; i < SATURATE; i++)
        started += genesis_client_request_async(s.cl, "comp2", "ping", "", 0, &o, saturate_done,
                                                NULL) == GENESIS_OK;
    gt_sleep_ms(3000); /* past the deadline: every slot held by a stuck handler meanwhile */
    admin_fault("comp2", "clear", NULL);
    if (!gt_counter_wait(&saturated, started, GT_WAIT_MS))
        fail_msg("saturating requests did not complete");
    gt_counter_destroy(&saturated);
}

/* ---- status ------------------------------------------------------------------------------- */

static json_t *status(void)
{
    genesis_result *res = NULL;
    if (genesis_client_status(s.cl, 3000, &res) != GENESIS_OK) {
        genesis_result_free(res);
        return NULL;
    }
    size_t len = 0;
    const char *text = genesis_result_data(res, &len);
    json_t *doc = json_loadb(text, len, 0, NULL);
    genesis_result_free(res);
    return doc;
}

static long stat_of(json_t *doc, const char *key)
{
    return (long)json_integer_value(json_object_get(json_object_get(doc, "stats"), key));
}

/* Every remote component answers (restarted if it was killed), nothing in flight or queued
 * (breakers of the in-process components may still be open: they close on traffic). */
static bool settled(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < N_REMOTE; i++) {
        genesis_call_options o;
        genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
        o.timeout_ms = 1000;
        genesis_result *res = NULL;
        int rv = genesis_client_request(s.cl, remote_ids[i], "count", "", 0, &o, &res);
        tally(rv, res);
        genesis_result_free(res);
        if (rv != GENESIS_OK)
            return false;
    }
    json_t *doc = status();
    if (doc == NULL)
        return false;
    long in_flight = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "components"), i, c)
    {
        in_flight += (long)json_integer_value(json_object_get(c, "in_flight"));
        in_flight += (long)json_integer_value(json_object_get(c, "queued"));
    }
    json_decref(doc);
    return in_flight == 0;
}

/* ---- the run ------------------------------------------------------------------------------ */

static long env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    long n = v != NULL ? strtol(v, NULL, 10) : 0;
    return n > 0 ? n : fallback;
}

static void start_daemon(void)
{
    char fd_url[200], bus_url[200], specs[N_REMOTE][300];
    snprintf(s.db, sizeof(s.db), "%s/checkpoints.db", s.dir);
    gt_ipc_url(fd_url, sizeof(fd_url), s.dir, "front");
    gt_ipc_url(bus_url, sizeof(bus_url), s.dir, "bus");
    const char *daemon = getenv("GENESIS_SOAK_GENESISD");
    const char *service = getenv("GENESIS_SOAK_SERVICE");
    daemon = daemon != NULL && daemon[0] != '\0' ? daemon : GENESISD_PATH;
    service = service != NULL && service[0] != '\0' ? service : CHECKPOINT_SERVICE_PATH;
    const char *argv[40] = {daemon,
                            "--front-door",
                            fd_url,
                            "--events",
                            bus_url,
                            "--http",
                            "off",
                            "--demo",
                            "--allow-faults",
                            "--log-level",
                            "error",
                            "--checkpoint-db",
                            s.db,
                            "--checkpoint-generations",
                            "1000000", /* keep every generation: each one is checked */
                            "--supervise-hang-ms",
                            "1000",
                            "--restart-intensity",
                            "1000/10",
                            "--restart-backoff",
                            "50/500"};
    int n = 21;
    for (unsigned i = 0; i < N_REMOTE; i++) {
        snprintf(specs[i], sizeof(specs[i]), "%s=%s", remote_ids[i], service);
        argv[n++] = "--supervise";
        argv[n++] = specs[i];
    }
    argv[n] = NULL;
    assert_int_equal(gt_process_spawn(&s.daemon, argv, GT_CAPTURE_STDOUT), 0);
    char line[600];
    if (!gt_process_wait_line(&s.daemon, "ready ", line, sizeof(line), GT_WAIT_MS))
        fail_msg("genesisd did not start: %s", line);
    snprintf(s.front, sizeof(s.front), "%s", fd_url);
    snprintf(s.bus, sizeof(s.bus), "%s", bus_url);
}

static void run_load(pthread_t *threads, int n)
{
    atomic_store(&s.run, true);
    for (int i = 0; i < n; i++) {
        void *(*fn)(void *) = i < 2 ? incr_loop : i < 4 ? read_loop : event_loop;
        assert_int_equal(pthread_create(&threads[i], NULL, fn, (void *)(uintptr_t)i), 0);
    }
}

static void check_checkpoints(void)
{
    gn_ckpt_store *store = NULL;
    gn_ckpt_error err;
    assert_int_equal(gn_ckpt_store_open_sqlite(&store, s.db, NULL, &err), GENESIS_OK);
    size_t total = 0;
    for (unsigned i = 0; i < N_REMOTE; i++) {
        for (size_t j = 0; j < s.n_acks[i]; j++) {
            acked a = s.acks[i][j];
            gn_ckpt_record rec = {0};
            unsigned corrupt = 0;
            assert_int_equal(
                gn_ckpt_latest(store, remote_ids[i], a.generation + 1, &rec, &corrupt, &err),
                GENESIS_OK);
            char want[32];
            snprintf(want, sizeof(want), "%llu", (unsigned long long)a.count);
            if (rec.generation != a.generation || rec.len != strlen(want) ||
                memcmp(rec.data, want, rec.len) != 0)
                fail_msg("%s: acknowledged generation %llu (count %s) is not in the store (found "
                         "generation %llu)",
                         remote_ids[i], (unsigned long long)a.generation, want,
                         (unsigned long long)rec.generation);
            assert_int_equal(corrupt, 0);
            gn_ckpt_record_clear(&rec);
            total++;
        }
    }
    gn_ckpt_store_close(store);
    printf("soak: %zu acknowledged checkpoints, every one in the store\n", total);
}

static void check_counters(json_t *doc)
{
    long requests = stat_of(doc, "requests"), succeeded = stat_of(doc, "succeeded"),
         failed = stat_of(doc, "failed");
    printf("soak: coordinator requests %ld = succeeded %ld + failed %ld; client sent %ld, ok "
           "%ld, unreachable %ld\n",
           requests, succeeded, failed, atomic_load(&s.sent), atomic_load(&s.ok),
           atomic_load(&s.unreachable));
    assert_int_equal(requests, succeeded + failed);
    if (atomic_load(&s.unreachable) == 0) {
        assert_int_equal(requests, atomic_load(&s.sent));
        assert_int_equal(succeeded, atomic_load(&s.ok));
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "components"), i, c)
    {
        long creq = (long)json_integer_value(json_object_get(c, "requests"));
        long cok = (long)json_integer_value(json_object_get(c, "succeeded"));
        long cfail = (long)json_integer_value(json_object_get(c, "failures"));
        long sum = 0;
        const char *reason;
        json_t *n;
        printf("soak:   %-6s requests %ld = succeeded %ld + failures %ld {",
               json_string_value(json_object_get(c, "id")), creq, cok, cfail);
        json_object_foreach(json_object_get(c, "failures_by_reason"), reason, n)
        {
            sum += (long)json_integer_value(n);
            printf(" %s:%lld", reason, (long long)json_integer_value(n));
        }
        printf(" }\n");
        assert_int_equal(creq, cok + cfail);
        assert_int_equal(cfail, sum);
    }
}

static void test_soak(void **state)
{
    (void)state;
    long seconds = env_long("GENESIS_SOAK_SECONDS", 45);
    long rss_bound_kb = env_long("GENESIS_SOAK_RSS_GROWTH_KB", 8192);
    assert_int_equal(gt_tempdir_make(s.dir, sizeof(s.dir)), 0);
    pthread_mutex_init(&s.ack_lock, NULL);
    for (unsigned i = 0; i < N_REMOTE; i++) {
        s.acks[i] = calloc(MAX_ACKED, sizeof(acked));
        assert_non_null(s.acks[i]);
    }
    start_daemon();
    genesis_client_options co;
    genesis_client_options_init(&co, GENESIS_CLIENT_OPTIONS_VERSION);
    co.default_timeout_ms = REQUEST_MS;
    assert_ok(genesis_client_new(&s.cl, &co));
    assert_ok(genesis_client_dial(s.cl, s.front, s.bus));
    if (!gt_wait_until(settled, NULL, 30000))
        fail_msg("the supervised components did not come up");

    enum { N_THREADS = 5 };
    pthread_t threads[N_THREADS];
    run_load(threads, N_THREADS);
    /* Warm-up: every fault once, then pause and settle for the baseline. */
    for (unsigned k = 0; k < 5; k++)
        inject(k, k);
    saturate();
    atomic_store(&s.paused, true);
    if (!gt_wait_until(settled, NULL, 30000))
        fail_msg("did not settle after the warm-up");
    gt_sleep_ms(500);
    proc_figures base = read_proc(s.daemon.pid);
    printf("soak: baseline rss %ld KiB, %ld threads, %ld fds\n", base.rss_kb, base.threads,
           base.fds);
    print_fds(s.daemon.pid); /* to compare with the end when the counts differ */
    atomic_store(&s.paused, false);

    int64_t start = gt_now_ms(), end = start + seconds * 1000;
    long peak_rss = base.rss_kb;
    for (unsigned round = 0; gt_now_ms() < end; round++) {
        inject(round, round / 5);
        proc_figures now = read_proc(s.daemon.pid);
        if (now.rss_kb > peak_rss)
            peak_rss = now.rss_kb;
    }
    atomic_store(&s.run, false);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(threads[i], NULL);
    if (!gt_wait_until(settled, NULL, 30000))
        fail_msg("did not settle after the soak");
    gt_sleep_ms(500);
    /* NNG closes a dead peer's connection asynchronously (its reaper thread, slower on a
     * loaded machine): give closes in progress a bounded time before counting a leak. */
    proc_figures after = read_proc(s.daemon.pid);
    for (int64_t give_up = gt_now_ms() + 10000;
         (after.fds > base.fds || after.threads > base.threads) && gt_now_ms() < give_up;
         after = read_proc(s.daemon.pid))
        gt_sleep_ms(200);
    double secs = (double)(gt_now_ms() - start) / 1000.0;
    printf("soak: %.0f s, %ld requests (%.0f/s), %ld ok, %ld events; faults: %d crashes, %d "
           "hangs, %d error bursts, %d hung handlers, %d latency bursts\n",
           secs, atomic_load(&s.sent), (double)atomic_load(&s.sent) / secs, atomic_load(&s.ok),
           atomic_load(&s.events_ok), n_faults[0], n_faults[1], n_faults[2], n_faults[3],
           n_faults[4]);
    printf("soak: end rss %ld KiB (growth %+ld KiB, bound %ld; peak %ld), %ld threads (baseline "
           "%ld), %ld fds (baseline %ld)\n",
           after.rss_kb, after.rss_kb - base.rss_kb, rss_bound_kb, peak_rss, after.threads,
           base.threads, after.fds, base.fds);
    if (after.fds > base.fds)
        print_fds(s.daemon.pid);
    json_t *doc = status();
    assert_non_null(doc);
    check_counters(doc);
    json_decref(doc);
    assert_true(after.rss_kb - base.rss_kb <= rss_bound_kb);
    assert_true(after.fds <= base.fds);
    assert_true(after.threads <= base.threads);

    genesis_client_free(s.cl);
    s.cl = NULL;
    gt_process_signal(&s.daemon, SIGTERM);
    bool stopped = gt_process_wait(&s.daemon, GT_WAIT_MS);
    if (!stopped)
        fail_msg("genesisd did not stop within %d ms of SIGTERM", GT_WAIT_MS);
    check_checkpoints();
}

static int teardown(void **state)
{
    (void)state;
    genesis_client_free(s.cl);
    gt_process_kill_all();
    gt_tempdir_remove(s.dir);
    for (unsigned i = 0; i < N_REMOTE; i++)
        free(s.acks[i]);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_soak, teardown)};
    return cmocka_run_group_tests_name("soak", tests, NULL, NULL);
}
