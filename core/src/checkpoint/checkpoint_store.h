/* The checkpoint store interface: durable generations of component state, keyed by
 * (component id, generation), each with a checksum. A small vtable so a backend other than
 * SQLite (checkpoint_store_sqlite.c) can be added without touching the coordinator.
 *
 * Threading: a store is used by one thread at a time (the checkpoint writer thread, or the
 * caller of a restore while the writer is idle); backends need no locking of their own. */
#ifndef GN_CHECKPOINT_STORE_H
#define GN_CHECKPOINT_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct gn_ckpt_store gn_ckpt_store;

/* One stored generation, owned by whoever received it (gn_ckpt_record_clear). */
typedef struct gn_ckpt_record {
    uint64_t generation; /* 1, 2, ... per component; 0 = empty record */
    int64_t created_ms;  /* wall clock, Unix ms */
    uint8_t *data;       /* malloc'd; NULL when len is 0 */
    size_t len;
} gn_ckpt_record;

/* A failure: a genesis_status as the return value, plus a reason and a message. */
typedef struct gn_ckpt_error {
    int reason;        /* genesis_reason (STORAGE_FULL, STORAGE_ERROR, CHECKPOINT_CORRUPT) */
    char message[256]; /* names the cause, e.g. "database or disk is full" */
} gn_ckpt_error;

/* Called once per stored generation (newest first within a component). */
typedef void (*gn_ckpt_list_fn)(const char *component, uint64_t generation, int64_t created_ms,
                                size_t len, void *arg);

typedef struct gn_ckpt_store_ops {
    const char *name;
    /* Store data as the component's next generation, durably (returns after the commit is
     * synced), and drop generations older than the last `keep`. On failure nothing changes:
     * the previous generations stay readable. */
    int (*put)(gn_ckpt_store *s, const char *component, const void *data, size_t len,
               uint64_t *generation, gn_ckpt_error *err);
    /* The newest generation whose checksum verifies, skipping corrupt ones (each counted in
     * *corrupt and logged by the caller through err). GENESIS_NOT_FOUND when there is none.
     * older_than > 0 limits the search to generations below it (to fall back further). */
    int (*latest)(gn_ckpt_store *s, const char *component, uint64_t older_than, gn_ckpt_record *out,
                  unsigned int *corrupt, gn_ckpt_error *err);
    /* Every stored generation, component by component. */
    int (*list)(gn_ckpt_store *s, gn_ckpt_list_fn fn, void *arg, gn_ckpt_error *err);
    void (*close)(gn_ckpt_store *s);
} gn_ckpt_store_ops;

struct gn_ckpt_store {
    const gn_ckpt_store_ops *ops;
    unsigned int keep; /* generations kept per component (>= 1) */
};

/* Backend-independent entry points. */
static inline int gn_ckpt_put(gn_ckpt_store *s, const char *component, const void *data, size_t len,
                              uint64_t *generation, gn_ckpt_error *err)
{
    return s->ops->put(s, component, data, len, generation, err);
}

static inline int gn_ckpt_latest(gn_ckpt_store *s, const char *component, uint64_t older_than,
                                 gn_ckpt_record *out, unsigned int *corrupt, gn_ckpt_error *err)
{
    return s->ops->latest(s, component, older_than, out, corrupt, err);
}

static inline int gn_ckpt_list(gn_ckpt_store *s, gn_ckpt_list_fn fn, void *arg, gn_ckpt_error *err)
{
    return s->ops->list(s, fn, arg, err);
}

/* Close and free; accepts NULL. */
void gn_ckpt_store_close(gn_ckpt_store *s);

void gn_ckpt_record_clear(gn_ckpt_record *rec);

/* Options of the SQLite backend. */
typedef struct gn_ckpt_sqlite_options {
    unsigned int keep; /* generations kept per component; 0 = GN_DEFAULT_CHECKPOINT_GENERATIONS */
    unsigned int max_pages;       /* 0 = SQLite's default; > 0 caps the file (tests: a full
                                     disk without mounting anything) */
    unsigned int busy_timeout_ms; /* waiting for another connection's lock; 0 = 5000 */
} gn_ckpt_sqlite_options;

/* Open (creating if needed) a SQLite store in WAL mode with synchronous=FULL. The file is
 * checked on open (quick_check); a file that is not a database, or a damaged one, is refused
 * with STORAGE_ERROR / CHECKPOINT_CORRUPT and a message, never used half-way. */
int gn_ckpt_store_open_sqlite(gn_ckpt_store **out, const char *path,
                              const gn_ckpt_sqlite_options *opts, gn_ckpt_error *err);

/* The checksum stored with every generation: CRC-32 (zlib) of the generation number (8 bytes,
 * little endian) followed by the data, so a row copied to another generation also fails. */
uint32_t gn_ckpt_checksum(uint64_t generation, const void *data, size_t len);

#endif /* GN_CHECKPOINT_STORE_H */
