/* The SQLite checkpoint store (internal API): generations, pruning, checksums, corrupt and
 * truncated files, a full store, reopening. Real SQLite files in a temp dir. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "checkpoint/checkpoint_store.h"
#include "genesis/status.h"
#include "gt_assert.h"
#include "gt_tempdir.h"

typedef struct fixture {
    char dir[256];
    char path[320];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(gt_tempdir_make(f->dir, sizeof(f->dir)), 0);
    snprintf(f->path, sizeof(f->path), "%s/ck.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

static gn_ckpt_store *open_store(const char *path, unsigned keep, unsigned max_pages)
{
    gn_ckpt_store *s = NULL;
    gn_ckpt_error err = {0};
    gn_ckpt_sqlite_options o = {.keep = keep, .max_pages = max_pages};
    int rv = gn_ckpt_store_open_sqlite(&s, path, &o, &err);
    if (rv != GENESIS_OK)
        fail_msg("open %s: %s (%s)", path, err.message, genesis_reason_name(err.reason));
    return s;
}

static uint64_t put_text(gn_ckpt_store *s, const char *id, const char *text)
{
    uint64_t gen = 0;
    gn_ckpt_error err = {0};
    int rv = gn_ckpt_put(s, id, text, strlen(text), &gen, &err);
    if (rv != GENESIS_OK)
        fail_msg("put %s: %s", id, err.message);
    return gen;
}

static void assert_latest(gn_ckpt_store *s, const char *id, uint64_t gen, const char *text)
{
    gn_ckpt_record rec = {0};
    gn_ckpt_error err = {0};
    unsigned corrupt = 0;
    assert_ok(gn_ckpt_latest(s, id, 0, &rec, &corrupt, &err));
    assert_int_equal(rec.generation, gen);
    assert_int_equal(rec.len, strlen(text));
    assert_memory_equal(rec.data, text, rec.len);
    gn_ckpt_record_clear(&rec);
}

static void count_rows(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                       void *arg)
{
    (void)component;
    (void)generation;
    (void)created_ms;
    (void)len;
    (*(int *)arg)++;
}

static void test_generations_and_pruning(void **state)
{
    fixture *f = *state;
    gn_ckpt_store *s = open_store(f->path, 3, 0);
    gn_ckpt_record rec = {0};
    gn_ckpt_error err = {0};
    assert_status(gn_ckpt_latest(s, "a", 0, &rec, NULL, &err), GENESIS_NOT_FOUND);
    char text[32];
    for (int i = 1; i <= 10; i++) {
        snprintf(text, sizeof(text), "state-%d", i);
        assert_int_equal(put_text(s, "a", text), (uint64_t)i);
    }
    assert_int_equal(put_text(s, "b", "other"), 1);
    assert_latest(s, "a", 10, "state-10");
    assert_latest(s, "b", 1, "other");
    /* Only the last 3 generations of a are kept, plus b's one. */
    int rows = 0;
    assert_ok(gn_ckpt_list(s, count_rows, &rows, &err));
    assert_int_equal(rows, 4);
    /* Falling back: the newest below generation 10 is 9. */
    assert_ok(gn_ckpt_latest(s, "a", 10, &rec, NULL, &err));
    assert_int_equal(rec.generation, 9);
    assert_memory_equal(rec.data, "state-9", 7);
    gn_ckpt_record_clear(&rec);
    /* Empty states are states too. */
    uint64_t gen = 0;
    assert_ok(gn_ckpt_put(s, "empty", NULL, 0, &gen, &err));
    assert_latest(s, "empty", 1, "");
    gn_ckpt_store_close(s);

    /* Reopened: everything is still there and generations continue. */
    s = open_store(f->path, 3, 0);
    assert_latest(s, "a", 10, "state-10");
    assert_int_equal(put_text(s, "a", "state-11"), 11);
    gn_ckpt_store_close(s);
}

static void test_wal_and_full_sync(void **state)
{
    fixture *f = *state;
    gn_ckpt_store *s = open_store(f->path, 3, 0);
    put_text(s, "a", "x");
    /* A second connection sees the journal mode persisted in the file. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    gn_ckpt_store_close(s);
}

/* Damage one generation's bytes behind the store's back. */
static void corrupt_generation(const char *path, const char *component, uint64_t gen)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE checkpoints SET state = X'DEADBEEF' WHERE component = '%s' AND "
             "generation = %llu",
             component, (unsigned long long)gen);
    char *msg = NULL;
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
}

static void test_corrupt_generation_skipped(void **state)
{
    fixture *f = *state;
    gn_ckpt_store *s = open_store(f->path, 3, 0);
    put_text(s, "a", "good-1");
    put_text(s, "a", "good-2");
    put_text(s, "a", "good-3");
    corrupt_generation(f->path, "a", 3);
    gn_ckpt_record rec = {0};
    gn_ckpt_error err = {0};
    unsigned corrupt = 0;
    assert_ok(gn_ckpt_latest(s, "a", 0, &rec, &corrupt, &err));
    assert_int_equal(rec.generation, 2);
    assert_memory_equal(rec.data, "good-2", 6);
    assert_int_equal(corrupt, 1);
    assert_int_equal(err.reason, GENESIS_REASON_CHECKPOINT_CORRUPT);
    assert_non_null(strstr(err.message, "generation 3"));
    gn_ckpt_record_clear(&rec);
    /* Every generation corrupt: NOT_FOUND, never garbage. */
    corrupt_generation(f->path, "a", 2);
    corrupt_generation(f->path, "a", 1);
    corrupt = 0;
    assert_status(gn_ckpt_latest(s, "a", 0, &rec, &corrupt, &err), GENESIS_NOT_FOUND);
    assert_int_equal(corrupt, 3);
    assert_null(rec.data);
    /* A checksum covers the generation: the same bytes under another number fail. */
    assert_int_not_equal(gn_ckpt_checksum(1, "x", 1), gn_ckpt_checksum(2, "x", 1));
    gn_ckpt_store_close(s);
}

static void test_not_a_database(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 512; i++)
        fputs("this is not a database ", fp);
    fclose(fp);
    gn_ckpt_store *s = NULL;
    gn_ckpt_error err = {0};
    int rv = gn_ckpt_store_open_sqlite(&s, f->path, NULL, &err);
    assert_int_not_equal(rv, GENESIS_OK);
    assert_null(s);
    assert_int_equal(err.reason, GENESIS_REASON_CHECKPOINT_CORRUPT);
    assert_non_null(strstr(err.message, f->path)); /* the operator must find the file */
}

static void file_truncate(const char *path, off_t size)
{
    assert_int_equal(truncate(path, size), 0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Cut the WAL in the middle of its last frames, as a crash during a write would: SQLite's
 * recovery drops the torn tail, the store opens, and an older complete generation is read. */
static void test_truncated_wal(void **state)
{
    fixture *f = *state;
    char wal[360];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    gn_ckpt_store *s = open_store(f->path, 3, 0);
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put_text(s, "a", big);
    off_t after_first = file_size(wal);
    big[0] = 'b';
    put_text(s, "a", big);
    off_t after_second = file_size(wal);
    assert_true(after_second > after_first);
    /* Copy the files while the connection is open (no checkpoint into the main file yet). */
    char copy[360], copy_wal[400];
    snprintf(copy, sizeof(copy), "%s/copy.db", f->dir);
    snprintf(copy_wal, sizeof(copy_wal), "%s-wal", copy);
    char cmd[2400];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && cp '%s' '%s'", f->path, copy, wal, copy_wal);
    assert_int_equal(system(cmd), 0);
    gn_ckpt_store_close(s);
    file_truncate(copy_wal, after_first + (after_second - after_first) / 2);
    s = open_store(copy, 3, 0);
    gn_ckpt_record rec = {0};
    gn_ckpt_error err = {0};
    assert_ok(gn_ckpt_latest(s, "a", 0, &rec, NULL, &err));
    assert_int_equal(rec.generation, 1);
    assert_int_equal(((const char *)rec.data)[0], 'a');
    gn_ckpt_record_clear(&rec);
    gn_ckpt_store_close(s);
}

/* A truncated main file: refused with a reason, or opened with only good data; never a
 * crash and never garbage. */
static void test_truncated_database(void **state)
{
    fixture *f = *state;
    gn_ckpt_store *s = open_store(f->path, 3, 0);
    char big[5000];
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%d", i);
        memset(big, 'a' + i % 26, sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        put_text(s, id, big);
    }
    gn_ckpt_store_close(s); /* the last close checkpoints the WAL into the main file */
    off_t size = file_size(f->path);
    assert_true(size > 8192);
    file_truncate(f->path, size / 2);
    gn_ckpt_error err = {0};
    int rv = gn_ckpt_store_open_sqlite(&s, f->path, NULL, &err);
    if (rv != GENESIS_OK) {
        assert_int_equal(err.reason, GENESIS_REASON_CHECKPOINT_CORRUPT);
        assert_non_null(strstr(err.message, f->path));
        return;
    }
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%d", i);
        gn_ckpt_record rec = {0};
        rv = gn_ckpt_latest(s, id, 0, &rec, NULL, &err);
        if (rv == GENESIS_OK) {
            for (size_t k = 0; k < rec.len; k++)
                assert_int_equal(((const char *)rec.data)[k], 'a' + i % 26);
        } else {
            assert_true(rv == GENESIS_NOT_FOUND || rv == GENESIS_DATA_LOSS);
        }
        gn_ckpt_record_clear(&rec);
    }
    gn_ckpt_store_close(s);
}

/* A full store (max_page_count: SQLITE_FULL without mounting anything): STORAGE_FULL, the
 * previous generation kept and readable, and writes work again once there is room. */
static void test_full_store(void **state)
{
    fixture *f = *state;
    gn_ckpt_store *s = open_store(f->path, 2, 16);
    char big[6000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    uint64_t last_good = 0;
    int rv = GENESIS_OK;
    gn_ckpt_error err = {0};
    int i;
    for (i = 0; i < 100 && rv == GENESIS_OK; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%d", i);
        uint64_t gen = 0;
        rv = gn_ckpt_put(s, id, big, strlen(big), &gen, &err);
        if (rv == GENESIS_OK)
            last_good = (uint64_t)i;
    }
    assert_status(rv, GENESIS_RESOURCE_EXHAUSTED);
    assert_int_equal(err.reason, GENESIS_REASON_STORAGE_FULL);
    assert_non_null(strstr(err.message, "full"));
    char id[16];
    snprintf(id, sizeof(id), "c%llu", (unsigned long long)last_good);
    assert_latest(s, id, 1, big);
    /* Nothing of the failed write is visible. */
    snprintf(id, sizeof(id), "c%d", i - 1);
    gn_ckpt_record rec = {0};
    assert_status(gn_ckpt_latest(s, id, 0, &rec, NULL, &err), GENESIS_NOT_FOUND);
    gn_ckpt_store_close(s);
    /* Room again (no page cap): the store keeps working. */
    s = open_store(f->path, 2, 0);
    assert_int_equal(put_text(s, id, "fits now"), 1);
    gn_ckpt_store_close(s);
}

/* The size every file of the store may reach, set for this process (as a small volume would);
 * SIGXFSZ ignored, so a write past it fails with EFBIG instead of killing the test. */
static struct rlimit limit_file_size(rlim_t bytes)
{
    struct rlimit saved, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = bytes;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    return saved;
}

/* A 2 MiB file limit and checkpoints totalling far more than that: the WAL is folded back and
 * old generations are reused, so every one succeeds (SQLite's default, folding the WAL after
 * about 4 MiB, failed every commit after the first ~120 here, for good). */
static void test_small_disk_never_jams(void **state)
{
    fixture *f = *state;
    gn_ckpt_store *s = open_store(f->path, 3, 0);
    struct rlimit saved = limit_file_size(2 << 20);
    static char blob[16 * 1024];
    uint64_t gen = 0;
    int ok = 0;
    gn_ckpt_error err = {0};
    for (int i = 0; i < 400; i++) {
        memset(blob, 'a' + i % 26, sizeof(blob));
        if (gn_ckpt_put(s, i % 2 ? "one" : "two", blob, sizeof(blob), &gen, &err) == GENESIS_OK)
            ok++;
        else
            print_message("checkpoint %d: %s\n", i, err.message);
    }
    setrlimit(RLIMIT_FSIZE, &saved);
    print_message("%d of 400 checkpoints of 16 KiB (6.25 MiB) stored under a 2 MiB limit\n", ok);
    assert_int_equal(ok, 400);
    gn_ckpt_store_close(s);
}

/* Full for real (eight components' 160 KiB states do not fit), then the states shrink: each
 * next write deletes old generations (down to the newest stored one while the disk is full),
 * and once they are gone every write succeeds again by itself, without a restart. */
static void test_full_disk_resumes(void **state)
{
    fixture *f = *state;
    /* The database capped below the volume (max_page_count, 1.75 MiB of 4 KiB pages): the
     * WAL can always be folded back, whatever the database holds. */
    gn_ckpt_store *s = open_store(f->path, 3, 448);
    struct rlimit saved = limit_file_size(2 << 20);
    static char big[160 * 1024];
    memset(big, 'b', sizeof(big));
    const char *ids[] = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"};
    uint64_t gen = 0;
    gn_ckpt_error err = {0};
    int rv = GENESIS_OK, stored_big = 0;
    for (int i = 0; i < 40 && rv == GENESIS_OK; i++) {
        rv = gn_ckpt_put(s, ids[i % 8], big, sizeof(big), &gen, &err);
        stored_big += rv == GENESIS_OK;
    }
    assert_status(rv, GENESIS_RESOURCE_EXHAUSTED);
    assert_int_equal(err.reason, GENESIS_REASON_STORAGE_FULL);
    print_message("full after %d checkpoints of 160 KiB: %s\n", stored_big, err.message);
    int failures = 0, ok = 0, late_failures = 0;
    char text[1024];
    for (int i = 0; i < 48; i++) {
        memset(text, 'a' + i % 26, sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        if (gn_ckpt_put(s, ids[i % 8], text, strlen(text), &gen, &err) == GENESIS_OK)
            ok++;
        else if (late_failures += i >= 32, failures++ < 3)
            print_message("smaller checkpoint %d: %s\n", i, err.message);
    }
    setrlimit(RLIMIT_FSIZE, &saved);
    print_message("after STORAGE_FULL: %d of 48 smaller checkpoints stored (%d refused)\n", ok,
                  failures);
    assert_true(failures <= 8);         /* at most once per component, while others hold space */
    assert_int_equal(late_failures, 0); /* and then never again */
    gn_ckpt_record rec = {0};
    assert_ok(gn_ckpt_latest(s, "c8", 0, &rec, NULL, &err));
    assert_int_equal(rec.len, 1023);
    gn_ckpt_record_clear(&rec);
    gn_ckpt_store_close(s);
}

static void test_unwritable_directory(void **state)
{
    (void)state;
    gn_ckpt_store *s = NULL;
    gn_ckpt_error err = {0};
    int rv = gn_ckpt_store_open_sqlite(&s, "/nonexistent-dir/sub/ck.db", NULL, &err);
    assert_status(rv, GENESIS_UNAVAILABLE);
    assert_int_equal(err.reason, GENESIS_REASON_STORAGE_ERROR);
    assert_non_null(strstr(err.message, "/nonexistent-dir/sub/ck.db"));
    gn_ckpt_store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generations_and_pruning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_and_full_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_generation_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_disk_never_jams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_resumes, setup, teardown),
        cmocka_unit_test(test_unwritable_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
