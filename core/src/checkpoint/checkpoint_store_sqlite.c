/* The SQLite checkpoint store: one table keyed by (component, generation) with a CRC-32 per
 * row, in WAL mode with synchronous=FULL, so a commit that returned survives kill -9 and power
 * loss (SQLite's own crash safety, not hand-rolled files).
 *
 * It never jams on a small disk: the WAL is folded back into the database every
 * WAL_AUTOCHECKPOINT_PAGES (SQLite's default of 1,000 pages, about 4 MiB, never folded on a
 * 2 MiB volume: every later commit failed with STORAGE_FULL, even after restarts), and
 * truncated to JOURNAL_SIZE_LIMIT; old generations are deleted before the new one is written
 * (their pages are reused), and a write that finds the disk full truncates the WAL
 * (wal_checkpoint(TRUNCATE)) and tries once more. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <string.h>

#include <sqlite3.h>
#include <zlib.h>

#include "checkpoint/checkpoint_store.h"
#include "base/common.h"

#define DEFAULT_BUSY_MS          5000u
#define SCHEMA_VERSION           1
#define WAL_AUTOCHECKPOINT_PAGES 64        /* 256 KiB of 4 KiB pages */
#define JOURNAL_SIZE_LIMIT       (1 << 20) /* bytes a folded WAL is truncated to at most */

typedef struct sqlite_store {
    gn_ckpt_store base;
    sqlite3 *db;
    sqlite3_stmt *max_gen, *insert, *prune, *latest, *list;
} sqlite_store;

uint32_t gn_ckpt_checksum(uint64_t generation, const void *data, size_t len)
{
    unsigned char gen[8];
    for (int i = 0; i < 8; i++)
        gen[i] = (unsigned char)(generation >> (8 * i));
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, gen, sizeof(gen));
    const unsigned char *p = data;
    /* zlib takes uInt lengths: feed large buffers in pieces. */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

void gn_ckpt_record_clear(gn_ckpt_record *rec)
{
    if (rec == NULL)
        return;
    free(rec->data);
    memset(rec, 0, sizeof(*rec));
}

void gn_ckpt_store_close(gn_ckpt_store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

/* The errno of the last failed write: sqlite3_system_errno misses it when the failing file is
 * the WAL (a write past RLIMIT_FSIZE fails with EFBIG there), so ask the files themselves. */
static int last_file_errno(sqlite3 *db)
{
    int e = 0;
    sqlite3_file *wal = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK &&
        wal != NULL && wal->pMethods != NULL)
        wal->pMethods->xFileControl(wal, SQLITE_FCNTL_LAST_ERRNO, &e);
    if (e == 0)
        sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &e);
    return e;
}

/* Map a SQLite failure onto a genesis status and reason, with SQLite's own words. */
static int sql_fail(sqlite_store *s, int rc, const char *what, gn_ckpt_error *err)
{
    int ext = s != NULL && s->db != NULL ? sqlite3_extended_errcode(s->db) : rc;
    int sys = s != NULL && s->db != NULL ? sqlite3_system_errno(s->db) : 0;
    const char *msg = s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    int status;
    int primary = ext & 0xff;
    if (primary == SQLITE_IOERR && sys == 0 && s != NULL && s->db != NULL)
        sys = last_file_errno(s->db);
    if (primary == SQLITE_FULL ||
        (primary == SQLITE_IOERR && (sys == ENOSPC || sys == EFBIG || sys == EDQUOT))) {
        status = GENESIS_RESOURCE_EXHAUSTED;
        err->reason = GENESIS_REASON_STORAGE_FULL;
    } else if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
        status = GENESIS_DATA_LOSS;
        err->reason = GENESIS_REASON_CHECKPOINT_CORRUPT;
    } else if (primary == SQLITE_NOMEM) {
        status = GENESIS_RESOURCE_EXHAUSTED;
        err->reason = GENESIS_REASON_NO_MEMORY;
    } else {
        status = GENESIS_UNAVAILABLE;
        err->reason = GENESIS_REASON_STORAGE_ERROR;
    }
    if (sys != 0)
        snprintf(err->message, sizeof(err->message), "checkpoint store: %s: %s (%s)", what, msg,
                 strerror(sys));
    else
        snprintf(err->message, sizeof(err->message), "checkpoint store: %s: %s", what, msg);
    return status;
}

static int exec_sql(sqlite_store *s, const char *sql, const char *what, gn_ckpt_error *err)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? GENESIS_OK : sql_fail(s, rc, what, err);
}

static void rollback(sqlite_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static bool storage_full(int status, const gn_ckpt_error *err)
{
    return status == GENESIS_RESOURCE_EXHAUSTED && err->reason == GENESIS_REASON_STORAGE_FULL;
}

static int put_once(sqlite_store *s, const char *component, const void *data, size_t len,
                    unsigned int keep, uint64_t *generation, gn_ckpt_error *err);

static int sqlite_put(gn_ckpt_store *base, const char *component, const void *data, size_t len,
                      uint64_t *generation, gn_ckpt_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    if (len > (size_t)INT32_MAX) {
        err->reason = GENESIS_REASON_MESSAGE_TOO_LARGE;
        snprintf(err->message, sizeof(err->message), "checkpoint store: %zu bytes is too large",
                 len);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    int rv = put_once(s, component, data, len, s->base.keep, generation, err);
    if (!storage_full(rv, err))
        return rv;
    /* The disk is full. First fold the WAL into the database and truncate it (its frames may
     * be the space a small volume lacks) and try again; then give up the component's spare
     * older generations (the newest stored one stays, as the fallback) for the new one.
     * Failing that, the store keeps what it had and the next write tries again. */
    sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    gn_ckpt_error again = {0};
    rv = put_once(s, component, data, len, s->base.keep, generation, &again);
    if (storage_full(rv, &again) && s->base.keep > 2) {
        memset(&again, 0, sizeof(again));
        rv = put_once(s, component, data, len, 2, generation, &again);
    }
    if (rv == GENESIS_OK)
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    else
        *err = again;
    return rv;
}

static int put_once(sqlite_store *s, const char *component, const void *data, size_t len,
                    unsigned int keep, uint64_t *generation, gn_ckpt_error *err)
{
    /* IMMEDIATE: take the write lock up front, so the generation read below stays ours. */
    int rv = exec_sql(s, "BEGIN IMMEDIATE", "begin", err);
    if (rv != GENESIS_OK)
        return rv;
    sqlite3_stmt *st = s->max_gen;
    sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    uint64_t gen = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) + 1 : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        rv = sql_fail(s, rc, "read generation", err);
        rollback(s);
        return rv;
    }
    /* Old generations go first: a full disk then has their pages for the new one. */
    if (gen > keep) {
        st = s->prune;
        sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(gen - keep));
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            rv = sql_fail(s, rc, "prune old generations", err);
            rollback(s);
            return rv;
        }
    }
    st = s->insert;
    sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)gen);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)gn_wall_ms());
    sqlite3_bind_int64(st, 4, (sqlite3_int64)gn_ckpt_checksum(gen, data, len));
    sqlite3_bind_int64(st, 5, (sqlite3_int64)len);
    sqlite3_bind_blob(st, 6, len > 0 ? data : "", (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        rv = sql_fail(s, rc, "write", err);
        rollback(s);
        return rv;
    }
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rv = sql_fail(s, rc, "commit", err);
        rollback(s);
        return rv;
    }
    *generation = gen;
    return GENESIS_OK;
}

static int sqlite_latest(gn_ckpt_store *base, const char *component, uint64_t older_than,
                         gn_ckpt_record *out, unsigned int *corrupt, gn_ckpt_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = s->latest;
    sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, older_than > 0 ? (sqlite3_int64)older_than : INT64_MAX);
    int rc;
    int rv = GENESIS_NOT_FOUND;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t gen = (uint64_t)sqlite3_column_int64(st, 0);
        int64_t created = sqlite3_column_int64(st, 1);
        uint32_t crc = (uint32_t)sqlite3_column_int64(st, 2);
        int64_t size = sqlite3_column_int64(st, 3);
        const void *blob = sqlite3_column_blob(st, 4);
        size_t len = (size_t)sqlite3_column_bytes(st, 4);
        /* Generations start at 1: a row below that was not written by this store. */
        if (sqlite3_column_int64(st, 0) < 1 || size < 0 || (size_t)size != len ||
            gn_ckpt_checksum(gen, blob, len) != crc) {
            /* Skip it loudly: an older good generation beats garbage. */
            if (corrupt != NULL)
                (*corrupt)++;
            err->reason = GENESIS_REASON_CHECKPOINT_CORRUPT;
            snprintf(err->message, sizeof(err->message),
                     "checkpoint store: '%s' generation %llu fails its checksum (%zu of %lld "
                     "bytes): skipped",
                     component, (unsigned long long)gen, len, (long long)size);
            continue;
        }
        out->data = len > 0 ? malloc(len) : NULL;
        if (len > 0 && out->data == NULL) {
            rv = GENESIS_RESOURCE_EXHAUSTED;
            err->reason = GENESIS_REASON_NO_MEMORY;
            snprintf(err->message, sizeof(err->message), "checkpoint store: out of memory");
            break;
        }
        if (len > 0)
            memcpy(out->data, blob, len);
        out->len = len;
        out->generation = gen;
        out->created_ms = created;
        rv = GENESIS_OK;
        break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        rv = sql_fail(s, rc, "read", err);
    sqlite3_reset(st);
    return rv;
}

static int sqlite_list(gn_ckpt_store *base, gn_ckpt_list_fn fn, void *arg, gn_ckpt_error *err)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = s->list;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* A file another program wrote may hold rows without a name or generation: not
         * checkpoints (latest never returns them either), so not listed. */
        const char *component = (const char *)sqlite3_column_text(st, 0);
        sqlite3_int64 generation = sqlite3_column_int64(st, 1);
        sqlite3_int64 size = sqlite3_column_int64(st, 3);
        if (component == NULL || generation < 1 || size < 0)
            continue;
        fn(component, (uint64_t)generation, sqlite3_column_int64(st, 2), (size_t)size, arg);
    }
    int rv = rc == SQLITE_DONE ? GENESIS_OK : sql_fail(s, rc, "list", err);
    sqlite3_reset(st);
    return rv;
}

static void sqlite_close(gn_ckpt_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_finalize(s->max_gen);
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->prune);
    sqlite3_finalize(s->latest);
    sqlite3_finalize(s->list);
    sqlite3_close_v2(s->db);
    free(s);
}

static const gn_ckpt_store_ops sqlite_ops = {
    .name = "sqlite",
    .put = sqlite_put,
    .latest = sqlite_latest,
    .list = sqlite_list,
    .close = sqlite_close,
};

static int prepare(sqlite_store *s, const char *sql, sqlite3_stmt **st, gn_ckpt_error *err)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    return rc == SQLITE_OK ? GENESIS_OK : sql_fail(s, rc, "prepare", err);
}

/* quick_check answers "ok" or lists problems; anything else is a damaged file. */
static int check_integrity(sqlite_store *s, const char *path, gn_ckpt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rv = prepare(s, "PRAGMA quick_check(1)", &st, err);
    if (rv != GENESIS_OK)
        return rv;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *answer = (const char *)sqlite3_column_text(st, 0);
        if (answer == NULL || strcmp(answer, "ok") != 0) {
            err->reason = GENESIS_REASON_CHECKPOINT_CORRUPT;
            snprintf(err->message, sizeof(err->message),
                     "checkpoint store %s is damaged (quick_check: %.120s): move it aside to "
                     "start with an empty store",
                     path, answer != NULL ? answer : "no answer");
            rv = GENESIS_DATA_LOSS;
        }
    } else {
        rv = sql_fail(s, rc, "integrity check", err);
    }
    sqlite3_finalize(st);
    return rv;
}

/* Pages the database may hold so that its WAL can always be folded back: folding needs room
 * for the WAL and the database's growth at once, so the database keeps to 40 % of its volume
 * (statvfs) and 90 % of the largest file this process may write (RLIMIT_FSIZE). Beyond it,
 * a write fails with STORAGE_FULL and the old generations its component gives up make room,
 * instead of a WAL that can never be folded jamming the store for good. 0 = no cap. */
static unsigned long long volume_page_cap(sqlite_store *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    long long page = 4096;
    if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (page <= 0)
        return 0;
    unsigned long long bytes = 0;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0 && vfs.f_blocks > 0)
        bytes = (unsigned long long)vfs.f_blocks * vfs.f_frsize / 10 * 4;
    struct rlimit fsize;
    if (getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY) {
        unsigned long long file = (unsigned long long)fsize.rlim_cur / 10 * 9;
        bytes = bytes == 0 || file < bytes ? file : bytes;
    }
    unsigned long long pages = bytes / (unsigned long long)page;
    return pages > 0xfffffffeull ? 0 : pages;
}

static int setup(sqlite_store *s, const char *path, const gn_ckpt_sqlite_options *o,
                 gn_ckpt_error *err)
{
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return sql_fail(s, rc, "open", err);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db,
                         (int)(o->busy_timeout_ms > 0 ? o->busy_timeout_ms : DEFAULT_BUSY_MS));
    /* WAL: a commit is one append + fsync, readers never block the writer, and a torn tail
     * after a crash is ignored by recovery. FULL: the WAL is synced at every commit, so an
     * acknowledged checkpoint survives power loss, not only process death. */
    int rv = exec_sql(s, "PRAGMA journal_mode=WAL", "enable WAL", err);
    if (rv == GENESIS_OK)
        rv = exec_sql(s, "PRAGMA synchronous=FULL", "set synchronous=FULL", err);
    if (rv == GENESIS_OK) {
        char sql[96];
        snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%d; PRAGMA journal_size_limit=%d",
                 WAL_AUTOCHECKPOINT_PAGES, JOURNAL_SIZE_LIMIT);
        rv = exec_sql(s, sql, "set the WAL limits", err);
    }
    if (rv == GENESIS_OK)
        rv = check_integrity(s, path, err);
    unsigned long long cap = o->max_pages > 0 ? o->max_pages : volume_page_cap(s, path);
    if (rv == GENESIS_OK && cap > 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%llu", cap);
        rv = exec_sql(s, sql, "set max_page_count", err);
    }
    if (rv == GENESIS_OK)
        rv = exec_sql(s,
                      "CREATE TABLE IF NOT EXISTS checkpoints ("
                      " component TEXT NOT NULL,"
                      " generation INTEGER NOT NULL,"
                      " created_ms INTEGER NOT NULL,"
                      " crc32 INTEGER NOT NULL,"
                      " size INTEGER NOT NULL,"
                      " state BLOB NOT NULL,"
                      " PRIMARY KEY (component, generation)) WITHOUT ROWID",
                      "create table", err);
    if (rv == GENESIS_OK) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
        rv = exec_sql(s, sql, "set schema version", err);
    }
    if (rv == GENESIS_OK)
        rv = prepare(s, "SELECT COALESCE(MAX(generation), 0) FROM checkpoints WHERE component = ?1",
                     &s->max_gen, err);
    if (rv == GENESIS_OK)
        rv = prepare(s,
                     "INSERT INTO checkpoints (component, generation, created_ms, crc32, size, "
                     "state) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                     &s->insert, err);
    if (rv == GENESIS_OK)
        rv = prepare(s, "DELETE FROM checkpoints WHERE component = ?1 AND generation <= ?2",
                     &s->prune, err);
    if (rv == GENESIS_OK)
        rv = prepare(s,
                     "SELECT generation, created_ms, crc32, size, state FROM checkpoints "
                     "WHERE component = ?1 AND generation < ?2 ORDER BY generation DESC",
                     &s->latest, err);
    if (rv == GENESIS_OK)
        rv = prepare(s,
                     "SELECT component, generation, created_ms, size FROM checkpoints "
                     "ORDER BY component, generation DESC",
                     &s->list, err);
    return rv;
}

int gn_ckpt_store_open_sqlite(gn_ckpt_store **out, const char *path,
                              const gn_ckpt_sqlite_options *opts, gn_ckpt_error *err)
{
    *out = NULL;
    gn_ckpt_sqlite_options o = {0};
    if (opts != NULL)
        o = *opts;
    sqlite_store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        err->reason = GENESIS_REASON_NO_MEMORY;
        snprintf(err->message, sizeof(err->message), "checkpoint store: out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    s->base.ops = &sqlite_ops;
    s->base.keep = o.keep > 0 ? o.keep : GN_DEFAULT_CHECKPOINT_GENERATIONS;
    int rv = setup(s, path, &o, err);
    if (rv != GENESIS_OK) {
        /* Name the file in the message: the operator has to find it. */
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        if (strstr(why, path) == NULL)
            snprintf(err->message, sizeof(err->message), "%.100s (file %.120s)", why, path);
        sqlite_close(&s->base);
        return rv;
    }
    *out = &s->base;
    return GENESIS_OK;
}
