/* gn_registry: the thread-safe component map (internal API, linked from genesis_static). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genesis/status.h"
#include "gt_assert.h"
#include "base/registry.h"

/* A reference-counted entry like the coordinator's: freed when the last reference goes, so a
 * lookup that hands out an entry without retaining it under the lock shows up as a
 * use-after-free under ASan (and as a bad magic without it). */
#define ENTRY_MAGIC 0x6e747279u

typedef struct entry {
    atomic_uint magic;
    atomic_int refs;
    char id[32];
} entry;

static atomic_long retain_calls;

static void entry_retain(void *p)
{
    entry *e = p;
    atomic_fetch_add(&retain_calls, 1);
    atomic_fetch_add(&e->refs, 1);
}

static entry *entry_new(const char *id)
{
    entry *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    atomic_init(&e->magic, ENTRY_MAGIC);
    atomic_init(&e->refs, 1); /* the reference handed to the registry on insert */
    snprintf(e->id, sizeof(e->id), "%s", id);
    return e;
}

static void entry_release(entry *e)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        atomic_store(&e->magic, 0);
        free(e);
    }
}

static int setup(void **state)
{
    atomic_store(&retain_calls, 0);
    gn_registry *r = gn_registry_new(entry_retain);
    if (r == NULL)
        return -1;
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    gn_registry *r = *state;
    /* Release whatever a test left inside, then free the map. */
    entry *left[256];
    for (;;) {
        size_t n = gn_registry_snapshot(r, (void **)left, 256);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            entry *e = gn_registry_remove(r, left[i]->id, left[i]);
            if (e != NULL)
                entry_release(e);
            entry_release(left[i]); /* the snapshot's reference */
        }
    }
    gn_registry_free(r);
    return 0;
}

static void test_insert_lookup_remove(void **state)
{
    gn_registry *r = *state;
    entry *a = entry_new("alpha");
    entry *b = entry_new("beta");
    assert_int_equal(gn_registry_count(r), 0);
    assert_ok(gn_registry_insert(r, "alpha", a));
    assert_ok(gn_registry_insert(r, "beta", b));
    assert_int_equal(gn_registry_count(r), 2);

    long before = atomic_load(&retain_calls);
    entry *got = gn_registry_lookup(r, "alpha");
    assert_ptr_equal(got, a);
    assert_int_equal(atomic_load(&retain_calls), before + 1);
    assert_int_equal(atomic_load(&a->refs), 2);
    entry_release(got);

    assert_null(gn_registry_lookup(r, "gamma"));
    assert_null(gn_registry_lookup(r, "alph")); /* no prefix matches */
    assert_null(gn_registry_lookup(r, "alphaa"));
    assert_null(gn_registry_lookup(r, "ALPHA")); /* ids are case-sensitive */
    assert_int_equal(atomic_load(&retain_calls), before + 1);

    /* remove hands the registry's reference back without retaining again. */
    before = atomic_load(&retain_calls);
    entry *removed = gn_registry_remove(r, "alpha", NULL);
    assert_ptr_equal(removed, a);
    assert_int_equal(atomic_load(&retain_calls), before);
    assert_int_equal(atomic_load(&a->refs), 1);
    entry_release(removed);
    assert_int_equal(gn_registry_count(r), 1);
    assert_null(gn_registry_lookup(r, "alpha"));
    assert_null(gn_registry_remove(r, "alpha", NULL));
    assert_int_equal(gn_registry_count(r), 1);

    /* The id is free again. */
    entry *a2 = entry_new("alpha");
    assert_ok(gn_registry_insert(r, "alpha", a2));
    assert_int_equal(gn_registry_count(r), 2);
}

static void test_duplicate_id_is_rejected(void **state)
{
    gn_registry *r = *state;
    entry *a = entry_new("dup");
    entry *b = entry_new("dup");
    assert_ok(gn_registry_insert(r, "dup", a));
    assert_status(gn_registry_insert(r, "dup", b), GENESIS_ALREADY_EXISTS);
    assert_status(gn_registry_insert(r, "dup", a), GENESIS_ALREADY_EXISTS);
    assert_int_equal(gn_registry_count(r), 1);
    entry *got = gn_registry_lookup(r, "dup");
    assert_ptr_equal(got, a); /* the first one stays */
    entry_release(got);
    entry_release(b);
}

static void test_invalid_ids(void **state)
{
    gn_registry *r = *state;
    char max_len[129], too_long[130];
    memset(max_len, 'm', 128);
    max_len[128] = '\0';
    memset(too_long, 't', 129);
    too_long[129] = '\0';
    static const char *const bad[] = {
        "",        "has space", " lead",       "trail ",       "a/b",      "/",      "..\\x",
        "tab\tid", "new\nline", "semi;col",    "quote\"",      "percent%", "colon:", "\x01",
        "\x7f",    "\xff",      "caf\xc3\xa9", "null\xc0\x80", "star*",    "q?",     "back`tick",
        "hash#",   "at@",       "comma,a",     "plus+",        "eq=",
    };
    entry *e = entry_new("x");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rv = gn_registry_insert(r, bad[i], e);
        if (rv != GENESIS_INVALID_ARGUMENT)
            fail_msg("insert of hostile id #%zu \"%s\" returned %s, expected INVALID_ARGUMENT", i,
                     bad[i], genesis_status_name(rv));
    }
    assert_status(gn_registry_insert(r, NULL, e), GENESIS_INVALID_ARGUMENT);
    assert_status(gn_registry_insert(r, too_long, e), GENESIS_INVALID_ARGUMENT);
    assert_int_equal(gn_registry_count(r), 0);
    assert_null(gn_registry_lookup(r, NULL));
    assert_null(gn_registry_lookup(r, ""));
    assert_null(gn_registry_remove(r, NULL, NULL));
    assert_null(gn_registry_remove(r, "", NULL));

    /* Boundaries that are valid: 1 byte, 128 bytes, every allowed character class. */
    assert_ok(gn_registry_insert(r, "x", e));
    entry *m = entry_new("max");
    assert_ok(gn_registry_insert(r, max_len, m));
    entry *mixed = entry_new("mixed");
    assert_ok(gn_registry_insert(r, "Az09._-", mixed));
    assert_int_equal(gn_registry_count(r), 3);
    entry *got = gn_registry_lookup(r, max_len);
    assert_ptr_equal(got, m);
    entry_release(got);
    /* Teardown removes by entry->id, so take these out here. */
    entry_release(gn_registry_remove(r, max_len, NULL));
    entry_release(gn_registry_remove(r, "Az09._-", NULL));
}

static void test_remove_with_expected(void **state)
{
    gn_registry *r = *state;
    entry *a = entry_new("svc");
    entry *other = entry_new("svc");
    assert_ok(gn_registry_insert(r, "svc", a));
    /* A stale owner must not remove the entry that replaced it. */
    assert_null(gn_registry_remove(r, "svc", other));
    assert_int_equal(gn_registry_count(r), 1);
    entry *got = gn_registry_lookup(r, "svc");
    assert_ptr_equal(got, a);
    entry_release(got);
    assert_ptr_equal(gn_registry_remove(r, "svc", a), a);
    assert_int_equal(gn_registry_count(r), 0);
    entry_release(a);
    entry_release(other);
}

static void test_snapshot(void **state)
{
    gn_registry *r = *state;
    enum { N = 20 };
    entry *all[N];
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof(id), "snap-%d", i);
        all[i] = entry_new(id);
        assert_ok(gn_registry_insert(r, id, all[i]));
    }
    void *out[N + 5];
    long before = atomic_load(&retain_calls);
    size_t n = gn_registry_snapshot(r, out, N + 5);
    assert_int_equal(n, N);
    assert_int_equal(atomic_load(&retain_calls), before + N);
    /* Every entry exactly once. */
    for (int i = 0; i < N; i++) {
        int seen = 0;
        for (size_t j = 0; j < n; j++)
            seen += out[j] == all[i];
        assert_int_equal(seen, 1);
    }
    for (size_t j = 0; j < n; j++)
        entry_release(out[j]);

    before = atomic_load(&retain_calls);
    assert_int_equal(gn_registry_snapshot(r, out, 5), 5);
    assert_int_equal(atomic_load(&retain_calls), before + 5);
    for (size_t j = 0; j < 5; j++)
        entry_release(out[j]);
    assert_int_equal(gn_registry_snapshot(r, out, 0), 0);
    assert_int_equal(atomic_load(&retain_calls), before + 5);
}

static void test_many_entries(void **state)
{
    gn_registry *r = *state;
    enum { N = 10000 };
    entry **all = calloc(N, sizeof(*all));
    assert_non_null(all);
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "component-%05d", i);
        all[i] = entry_new(id);
        assert_ok(gn_registry_insert(r, id, all[i]));
    }
    assert_int_equal(gn_registry_count(r), N);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "component-%05d", i);
        entry *got = gn_registry_lookup(r, id);
        if (got != all[i])
            fail_msg("lookup of %s after growth returned %p, expected %p", id, (void *)got,
                     (void *)all[i]);
        entry_release(got);
    }
    /* Remove every other one; the rest stay reachable. */
    for (int i = 0; i < N; i += 2) {
        snprintf(id, sizeof(id), "component-%05d", i);
        entry *got = gn_registry_remove(r, id, NULL);
        assert_ptr_equal(got, all[i]);
        entry_release(got);
    }
    assert_int_equal(gn_registry_count(r), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "component-%05d", i);
        entry *got = gn_registry_lookup(r, id);
        if (i % 2 == 0) {
            assert_null(got);
        } else {
            assert_ptr_equal(got, all[i]);
            entry_release(got);
        }
    }
    for (int i = 1; i < N; i += 2) {
        snprintf(id, sizeof(id), "component-%05d", i);
        entry_release(gn_registry_remove(r, id, all[i]));
    }
    assert_int_equal(gn_registry_count(r), 0);
    free(all);
}

/* Concurrency: readers look up and release while a writer removes and re-inserts the same
 * ids, each time with a fresh entry, dropping the registry's reference at once. */
#define STRESS_IDS     8
#define STRESS_ROUNDS  20000
#define STRESS_READERS 4

struct stress {
    gn_registry *r;
    atomic_bool stop;
    atomic_long hits;
    atomic_long bad;
};

static void *stress_reader(void *arg)
{
    struct stress *s = arg;
    char id[16];
    unsigned i = 0;
    while (!atomic_load(&s->stop)) {
        snprintf(id, sizeof(id), "hot-%u", i++ % STRESS_IDS);
        entry *e = gn_registry_lookup(s->r, id);
        if (e == NULL)
            continue;
        if (atomic_load(&e->magic) != ENTRY_MAGIC || strcmp(e->id, id) != 0)
            atomic_fetch_add(&s->bad, 1);
        atomic_fetch_add(&s->hits, 1);
        entry_release(e);
    }
    return NULL;
}

static void test_concurrent_lookup_and_remove(void **state)
{
    struct stress s = {.r = *state};
    atomic_init(&s.stop, false);
    atomic_init(&s.hits, 0);
    atomic_init(&s.bad, 0);
    char id[16];
    for (unsigned i = 0; i < STRESS_IDS; i++) {
        snprintf(id, sizeof(id), "hot-%u", i);
        assert_ok(gn_registry_insert(s.r, id, entry_new(id)));
    }
    pthread_t readers[STRESS_READERS];
    for (int t = 0; t < STRESS_READERS; t++)
        assert_int_equal(pthread_create(&readers[t], NULL, stress_reader, &s), 0);

    for (unsigned round = 0; round < STRESS_ROUNDS; round++) {
        snprintf(id, sizeof(id), "hot-%u", round % STRESS_IDS);
        entry *old = gn_registry_remove(s.r, id, NULL);
        if (old != NULL)
            entry_release(old); /* readers may still hold it; the last one frees it */
        int rv = gn_registry_insert(s.r, id, entry_new(id));
        if (rv != GENESIS_OK) {
            atomic_store(&s.stop, true);
            for (int t = 0; t < STRESS_READERS; t++)
                pthread_join(readers[t], NULL);
            fail_msg("re-insert of %s returned %s", id, genesis_status_name(rv));
        }
    }
    atomic_store(&s.stop, true);
    for (int t = 0; t < STRESS_READERS; t++)
        assert_int_equal(pthread_join(readers[t], NULL), 0);
    assert_int_equal(atomic_load(&s.bad), 0);
    assert_int_equal(gn_registry_count(s.r), STRESS_IDS);
    print_message("stress: %ld successful lookups\n", atomic_load(&s.hits));
}

static void test_free_accepts_null(void **state)
{
    (void)state;
    gn_registry_free(NULL);
    gn_registry *r = gn_registry_new(NULL); /* no retain callback */
    assert_non_null(r);
    entry *e = entry_new("plain");
    assert_ok(gn_registry_insert(r, "plain", e));
    assert_ptr_equal(gn_registry_lookup(r, "plain"), e);
    assert_ptr_equal(gn_registry_remove(r, "plain", NULL), e);
    gn_registry_free(r);
    entry_release(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_lookup_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_id_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_with_expected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_lookup_and_remove, setup, teardown),
        cmocka_unit_test(test_free_accepts_null),
    };
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
