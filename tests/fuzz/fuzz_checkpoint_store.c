/* Fuzz target: the checkpoint store's read and verify path over a hostile or damaged file, as
 * the coordinator meets it at start-up (list every generation) and at a restore (the newest
 * generation whose checksum verifies).
 *
 * The first byte picks the mode. Raw (bit 0 set): the rest of the input is the database file
 * itself. Rows (bit 0 clear): the rest describes rows written into the checkpoints table, each
 * column NULL, an integer, text, a blob, or a computed value (the right size or checksum), so
 * both valid and subtly corrupt generations are reached; bit 1 makes the table a foreign one
 * with the same name but no types or NOT NULL constraints (a file another program wrote).
 *
 * Invariants: opening either works or names the problem; every listed generation has a
 * component name; a generation returned by latest verifies against the row's stored checksum
 * and size. */
#include <limits.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/checkpoint_store.h"
#include "fuzz_target.h"
#include "genesis/status.h"

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static int take(reader *r)
{
    if (r->left == 0)
        return -1;
    r->left--;
    return *r->p++;
}

static char path[PATH_MAX];

static void remove_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[PATH_MAX + 16];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static void pick_path(void)
{
    /* tmpfs when there is one: synchronous=FULL makes every commit an fsync. */
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/genesis-fuzz-ckpt-%d.db", dir != NULL ? dir : "/tmp",
             (int)getpid());
    atexit(remove_files);
}

/* Bind one column's value from the input; gen and state are what the computed values use. */
static void bind_value(sqlite3_stmt *st, int col, reader *r, int64_t gen, const uint8_t *state,
                       size_t state_len)
{
    int tag = take(r);
    if (tag < 0)
        tag = 4;
    switch (tag % 5) {
    case 0:
        sqlite3_bind_null(st, col);
        return;
    case 1: {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | (uint64_t)(take(r) & 0xff);
        sqlite3_bind_int64(st, col, (sqlite3_int64)v);
        return;
    }
    case 2:
    case 3: {
        int n = take(r);
        n = n < 0 ? 0 : n % 64;
        if ((size_t)n > r->left)
            n = (int)r->left;
        if (tag % 5 == 2)
            sqlite3_bind_text(st, col, (const char *)r->p, n, SQLITE_TRANSIENT);
        else
            sqlite3_bind_blob(st, col, r->p, n, SQLITE_TRANSIENT);
        r->p += n;
        r->left -= (size_t)n;
        return;
    }
    default: /* computed: what a well-formed row holds */
        if (col == 1)
            sqlite3_bind_text(st, col, "a", 1, SQLITE_STATIC);
        else if (col == 2)
            sqlite3_bind_int64(st, col, (take(r) & 7) + 1);
        else if (col == 4)
            sqlite3_bind_int64(st, col, gn_ckpt_checksum((uint64_t)gen, state, state_len));
        else if (col == 5)
            sqlite3_bind_int64(st, col, (sqlite3_int64)state_len);
        else
            sqlite3_bind_int64(st, col, 1700000000000);
        return;
    }
}

/* Write the rows the input describes into a fresh file. */
static void write_rows(reader *r, bool foreign)
{
    sqlite3 *db = NULL;
    FUZZ_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    sqlite3_exec(db,
                 foreign ? "CREATE TABLE checkpoints (component, generation, created_ms, crc32, "
                           "size, state)"
                         : "CREATE TABLE checkpoints (component TEXT NOT NULL, generation "
                           "INTEGER NOT NULL, created_ms INTEGER NOT NULL, crc32 INTEGER NOT "
                           "NULL, size INTEGER NOT NULL, state BLOB NOT NULL, PRIMARY KEY "
                           "(component, generation)) WITHOUT ROWID",
                 NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    FUZZ_CHECK(sqlite3_prepare_v2(db, "INSERT INTO checkpoints VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1,
                                  &st, NULL) == SQLITE_OK);
    for (int row = 0; row < 8 && r->left > 0; row++) {
        /* The state first, so computed sizes and checksums can cover it. */
        int n = take(r);
        n = n < 0 ? 0 : n % 48;
        if ((size_t)n > r->left)
            n = (int)r->left;
        const uint8_t *state = r->p;
        r->p += n;
        r->left -= (size_t)n;
        int64_t gen = (take(r) & 7) + 1;
        bind_value(st, 1, r, gen, state, (size_t)n);
        sqlite3_bind_int64(st, 2, gen);
        bind_value(st, 3, r, gen, state, (size_t)n);
        bind_value(st, 4, r, gen, state, (size_t)n);
        bind_value(st, 5, r, gen, state, (size_t)n);
        if (take(r) % 4 == 0)
            sqlite3_bind_null(st, 6);
        else
            sqlite3_bind_blob(st, 6, state, n, SQLITE_STATIC);
        sqlite3_step(st); /* a duplicate key or a NULL in a NOT NULL column is refused: fine */
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    FUZZ_CHECK(sqlite3_close(db) == SQLITE_OK);
}

static void write_raw(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
}

typedef struct listed {
    unsigned int n;
    char names[8][64];
} listed;

/* What the coordinator's start-up does with each listed generation: index it by name. */
static void on_listed(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                      void *arg)
{
    listed *l = arg;
    FUZZ_CHECK(component != NULL);
    if (l->n < 8)
        snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", component);
}

/* The row's own checksum and size, read independently of the store. */
static void check_verified(const char *component, const gn_ckpt_record *rec)
{
    sqlite3 *db = NULL;
    FUZZ_CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *st = NULL;
    FUZZ_CHECK(sqlite3_prepare_v2(db,
                                  "SELECT crc32, size FROM checkpoints WHERE component = ?1 AND "
                                  "generation = ?2",
                                  -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)rec->generation);
    bool verified = false;
    while (sqlite3_step(st) == SQLITE_ROW)
        verified |= (uint32_t)sqlite3_column_int64(st, 0) ==
                        gn_ckpt_checksum(rec->generation, rec->data, rec->len) &&
                    sqlite3_column_int64(st, 1) == (sqlite3_int64)rec->len;
    sqlite3_finalize(st);
    sqlite3_close(db);
    FUZZ_CHECK(verified);
}

static void read_back(const char *component, gn_ckpt_store *store)
{
    gn_ckpt_record rec;
    unsigned int corrupt = 0;
    gn_ckpt_error err = {0};
    int rv = gn_ckpt_latest(store, component, 0, &rec, &corrupt, &err);
    if (rv == GENESIS_OK) {
        FUZZ_CHECK(rec.len == 0 || rec.data != NULL);
        check_verified(component, &rec);
    } else if (rv != GENESIS_NOT_FOUND) {
        FUZZ_CHECK(err.message[0] != '\0');
    }
    if (corrupt > 0)
        FUZZ_CHECK(err.reason == GENESIS_REASON_CHECKPOINT_CORRUPT || rv != GENESIS_OK);
    gn_ckpt_record_clear(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0')
        pick_path();
    if (size == 0)
        return 0;
    remove_files();
    reader r = {data + 1, size - 1};
    if (data[0] & 1)
        write_raw(data + 1, size - 1);
    else
        write_rows(&r, (data[0] & 2) != 0);

    gn_ckpt_store *store = NULL;
    gn_ckpt_error err = {0};
    gn_ckpt_sqlite_options o = {.keep = 3, .busy_timeout_ms = 1};
    int rv = gn_ckpt_store_open_sqlite(&store, path, &o, &err);
    FUZZ_CHECK((rv == GENESIS_OK) == (store != NULL));
    if (rv != GENESIS_OK) {
        FUZZ_CHECK(err.message[0] != '\0');
        return 0;
    }
    listed l = {0};
    rv = gn_ckpt_list(store, on_listed, &l, &err);
    FUZZ_CHECK(rv == GENESIS_OK || err.message[0] != '\0');
    read_back("a", store);
    for (unsigned int i = 0; i < l.n; i++)
        read_back(l.names[i], store);
    gn_ckpt_store_close(store);
    return 0;
}
