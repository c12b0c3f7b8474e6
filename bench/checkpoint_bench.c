/* Durable checkpoints and recovery (driven by bench/checkpoint; nothing is asserted on timing).
 *
 *   bench_checkpoint --dir DIR [--count N] [--size BYTES] [--kills K]
 *                    [--genesisd PATH --service PATH]
 *
 * 1. raw SQLite (the baseline): a WAL database with synchronous=FULL in DIR, one
 *    INSERT + COMMIT per record of BYTES bytes, N records: commits/s, commit latency p50/p99.
 * 2. Genesis: a coordinator with its checkpoint store in DIR (WAL, synchronous=FULL) and a
 *    remote component (genesis_service, over ipc://, in this process) calling
 *    genesis_service_checkpoint N times with BYTES bytes, one at a time: each call returns
 *    once the checkpoint is durable (committed and synced). Checkpoints/s, latency p50/p99.
 * Both run in alternating blocks of 50, so they see the same disk (fsync times vary widely on
 * a shared machine); the rate is N over the summed latencies of that side.
 * 3. MTTR (with --genesisd and --service): genesisd supervising one checkpoint_service
 *    (tests/helpers); K times: two acknowledged increments, kill -9 of the component, then
 *    the time until a request answered by the new process succeeds (its state restored).
 *
 * Prints one line per part: "sqlite n=.. per_s=.. p50_us=.. p99_us=..",
 * "genesis n=.. per_s=.. p50_us=.. p99_us=..", "mttr kills=.. p50_ms=.. p99_ms=.. max_ms=..". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <genesis/genesis.h>

extern char **environ;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Prints "<name> n=.. per_s=.. p50_us=.. p99_us=.." from per-operation latencies. */
static void report(const char *name, uint64_t *lat, int n, uint64_t elapsed_us)
{
    qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
    printf("%s n=%d per_s=%.1f p50_us=%llu p99_us=%llu\n", name, n,
           elapsed_us > 0 ? (double)n * 1e6 / (double)elapsed_us : 0,
           (unsigned long long)lat[n / 2], (unsigned long long)lat[(size_t)((double)n * 0.99)]);
    fflush(stdout);
}

/* The two sides, stepped in alternating blocks so both see the same disk weather. */
typedef struct sides {
    sqlite3 *db;
    sqlite3_stmt *insert;
    genesis_coordinator *co;
    genesis_service *svc;
} sides;

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static int open_sides(sides *sd, const char *dir)
{
    char raw[1024], db[1024], front[1024], listen[1024];
    snprintf(raw, sizeof(raw), "%s/raw.db", dir);
    snprintf(db, sizeof(db), "%s/genesis.db", dir);
    snprintf(front, sizeof(front), "ipc://%s/front", dir);
    snprintf(listen, sizeof(listen), "ipc://%s/svc", dir);
    if (sqlite3_open(raw, &sd->db) != SQLITE_OK ||
        sqlite3_exec(sd->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(sd->db, "INSERT INTO t (data) VALUES (?)", -1, &sd->insert, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "bench_checkpoint: sqlite: %s\n", sqlite3_errmsg(sd->db));
        return 1;
    }
    genesis_coordinator_options opts;
    genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    opts.checkpoint_store = db;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    if (genesis_coordinator_new(&sd->co, &opts) != GENESIS_OK ||
        genesis_coordinator_listen(sd->co, front, NULL) != GENESIS_OK ||
        genesis_service_new(&sd->svc, "bench", &comp, NULL) != GENESIS_OK ||
        genesis_service_listen(sd->svc, listen) != GENESIS_OK ||
        genesis_service_connect(sd->svc, front, NULL, 10000) != GENESIS_OK) {
        fprintf(stderr, "bench_checkpoint: setup: %s\n", genesis_last_error());
        return 1;
    }
    return 0;
}

static void close_sides(sides *sd)
{
    genesis_service_free(sd->svc);
    genesis_coordinator_free(sd->co);
    sqlite3_finalize(sd->insert);
    sqlite3_close(sd->db);
}

/* One raw INSERT + COMMIT; its latency in us, 0 on failure. */
static uint64_t raw_commit(sides *sd, const unsigned char *blob, size_t size)
{
    uint64_t t = now_us();
    sqlite3_exec(sd->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_bind_blob(sd->insert, 1, blob, (int)size, SQLITE_STATIC);
    int rc = sqlite3_step(sd->insert);
    sqlite3_reset(sd->insert);
    if (rc != SQLITE_DONE || sqlite3_exec(sd->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_checkpoint: sqlite insert: %s\n", sqlite3_errmsg(sd->db));
        return 0;
    }
    uint64_t d = now_us() - t;
    return d > 0 ? d : 1;
}

/* One durable checkpoint; its latency in us, 0 on failure. */
static uint64_t genesis_commit(sides *sd, const unsigned char *blob, size_t size)
{
    uint64_t t = now_us(), gen = 0;
    int rv = genesis_service_checkpoint(sd->svc, blob, size, 10000, &gen);
    if (rv != GENESIS_OK) {
        fprintf(stderr, "bench_checkpoint: checkpoint: %s (%s)\n", genesis_last_error(),
                genesis_status_name(rv));
        return 0;
    }
    uint64_t d = now_us() - t;
    return d > 0 ? d : 1;
}

static int bench_commits(const char *dir, int n, size_t size, const unsigned char *blob)
{
    sides sd = {0};
    int rc = open_sides(&sd, dir);
    uint64_t *raw = calloc((size_t)n, sizeof(*raw)), *gen = calloc((size_t)n, sizeof(*gen));
    uint64_t raw_total = 0, gen_total = 0;
    const int block = 50;
    for (int i = 0; rc == 0 && i < n; i += block) {
        int end = i + block < n ? i + block : n;
        for (int k = i; rc == 0 && k < end; k++)
            rc = (raw[k] = raw_commit(&sd, blob, size)) == 0;
        for (int k = i; rc == 0 && k < end; k++)
            rc = (gen[k] = genesis_commit(&sd, blob, size)) == 0;
    }
    for (int k = 0; rc == 0 && k < n; k++) {
        raw_total += raw[k];
        gen_total += gen[k];
    }
    if (rc == 0) {
        report("sqlite", raw, n, raw_total);
        report("genesis", gen, n, gen_total);
    }
    free(raw);
    free(gen);
    close_sides(&sd);
    return rc;
}

/* ---- MTTR --------------------------------------------------------------------------------- */

/* A request to the supervised component; its text reply in out. */
static int request(genesis_client *cl, const char *type, uint32_t timeout_ms, char *out,
                   size_t size)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = timeout_ms;
    genesis_result *res = NULL;
    int rv = genesis_client_request(cl, "counter", type, NULL, 0, &o, &res);
    size_t len = 0;
    const char *data = res != NULL && rv == GENESIS_OK ? genesis_result_data(res, &len) : "";
    snprintf(out, size, "%.*s", (int)len, data);
    genesis_result_free(res);
    return rv;
}

/* Waits for an answer from a process other than old_pid; returns its pid, or -1. */
static long wait_new_pid(genesis_client *cl, long old_pid)
{
    uint64_t give_up = now_us() + 30u * 1000000u;
    char out[256];
    while (now_us() < give_up) {
        long pid = 0;
        if (request(cl, "count", 300, out, sizeof(out)) == GENESIS_OK &&
            sscanf(strstr(out, "pid=") != NULL ? strstr(out, "pid=") : "", "pid=%ld", &pid) == 1 &&
            pid != old_pid)
            return pid;
        usleep(2000);
    }
    return -1;
}

static int bench_mttr(const char *dir, const char *genesisd, const char *service, int kills)
{
    char db[1024], front[1024], bus[1024], spec[1100];
    snprintf(db, sizeof(db), "%s/mttr.db", dir);
    snprintf(front, sizeof(front), "ipc://%s/mttr-front", dir);
    snprintf(bus, sizeof(bus), "ipc://%s/mttr-bus", dir);
    snprintf(spec, sizeof(spec), "counter=%s", service);
    char *argv[] = {(char *)genesisd,
                    "--front-door",
                    front,
                    "--events",
                    bus,
                    "--http",
                    "off",
                    "--log-level",
                    "error",
                    "--checkpoint-db",
                    db,
                    "--supervise",
                    spec,
                    "--restart-intensity",
                    "10000/10",
                    NULL};
    pid_t daemon = 0;
    char log[1100];
    snprintf(log, sizeof(log), "%s/genesisd.log", dir);
    /* Its ready line goes nowhere; its log and its children's output go to DIR/genesisd.log. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rv = posix_spawn(&daemon, genesisd, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rv != 0) {
        fprintf(stderr, "bench_checkpoint: cannot start %s: %s\n", genesisd, strerror(rv));
        return 1;
    }
    genesis_client *cl = NULL;
    int status = 1;
    uint64_t *mttr = calloc((size_t)kills, sizeof(*mttr));
    if (genesis_client_new(&cl, NULL) != GENESIS_OK ||
        genesis_client_dial(cl, front, NULL) != GENESIS_OK) {
        fprintf(stderr, "bench_checkpoint: client: %s\n", genesis_last_error());
        goto out;
    }
    long pid = wait_new_pid(cl, -1);
    char out[256];
    for (int i = 0; i < kills && pid > 0; i++) {
        for (int k = 0; k < 2; k++)
            if (request(cl, "incr", 5000, out, sizeof(out)) != GENESIS_OK) {
                fprintf(stderr, "bench_checkpoint: incr failed: %s\n", out);
                goto out;
            }
        kill((pid_t)pid, SIGKILL);
        uint64_t t0 = now_us();
        pid = wait_new_pid(cl, pid);
        mttr[i] = now_us() - t0;
    }
    if (pid <= 0) {
        fprintf(stderr, "bench_checkpoint: the supervised component did not come back\n");
        goto out;
    }
    qsort(mttr, (size_t)kills, sizeof(*mttr), cmp_u64);
    printf("mttr kills=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", kills,
           (double)mttr[kills / 2] / 1000.0, (double)mttr[(size_t)((double)kills * 0.99)] / 1000.0,
           (double)mttr[kills - 1] / 1000.0);
    status = 0;
out:
    genesis_client_free(cl);
    free(mttr);
    kill(daemon, SIGTERM);
    waitpid(daemon, NULL, 0);
    return status;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *genesisd = NULL, *service = NULL;
    int n = 2000, kills = 20;
    size_t size = 256;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            n = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--size") == 0)
            size = (size_t)atol(argv[i + 1]);
        else if (strcmp(argv[i], "--kills") == 0)
            kills = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--genesisd") == 0)
            genesisd = argv[i + 1];
        else if (strcmp(argv[i], "--service") == 0)
            service = argv[i + 1];
    }
    if (dir == NULL || n <= 0 || kills <= 0 || size == 0 || size > (1u << 20)) {
        fprintf(stderr, "usage: bench_checkpoint --dir DIR [--count N] [--size BYTES] "
                        "[--kills K] [--genesisd PATH --service PATH]\n");
        return 2;
    }
    unsigned char *blob = malloc(size);
    for (size_t i = 0; i < size; i++)
        blob[i] = (unsigned char)(i * 131u + 7u);
    int rc = bench_commits(dir, n, size, blob);
    if (rc == 0 && genesisd != NULL && service != NULL)
        rc = bench_mttr(dir, genesisd, service, kills);
    free(blob);
    return rc;
}
