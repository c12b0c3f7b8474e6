/* Checkpoints of in-process components through the public API, with a real SQLite file:
 * snapshot/restore across a coordinator restart, the interval (only when changed),
 * mark_dirty, checkpoint_now, corrupt generations, restore rejecting a generation, version 1
 * structs, no store, and the status report's checkpoint fields. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

/* A component whose state is one counter, as decimal text in its checkpoints. */
typedef struct counter {
    pthread_mutex_t mu;
    long value;
    uint64_t restored_from;
    int restores;
    uint64_t reject_generation; /* restore refuses this generation (0 = none) */
    int snapshot_status;        /* what snapshot returns */
} counter;

static void counter_init(counter *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    counter *c = arg;
    char text[64];
    pthread_mutex_lock(&c->mu);
    if (strcmp(genesis_request_type(req), "incr") == 0)
        c->value++;
    snprintf(text, sizeof(text), "%ld", c->value);
    pthread_mutex_unlock(&c->mu);
    genesis_reply_set(reply, text, strlen(text), "text/plain");
}

static int on_snapshot(genesis_snapshot *snap, void *arg)
{
    counter *c = arg;
    char text[64];
    pthread_mutex_lock(&c->mu);
    snprintf(text, sizeof(text), "%ld", c->value);
    int status = c->snapshot_status;
    pthread_mutex_unlock(&c->mu);
    if (status != GENESIS_OK)
        return status;
    return genesis_snapshot_set(snap, text, strlen(text));
}

static int on_restore(const void *data, size_t len, uint64_t generation, void *arg)
{
    counter *c = arg;
    char text[64];
    if (len >= sizeof(text))
        return GENESIS_INVALID_ARGUMENT;
    memcpy(text, data, len);
    text[len] = '\0';
    pthread_mutex_lock(&c->mu);
    int rv = GENESIS_OK;
    if (generation == c->reject_generation) {
        rv = GENESIS_INVALID_ARGUMENT;
    } else {
        c->value = strtol(text, NULL, 10);
        c->restored_from = generation;
        c->restores++;
    }
    pthread_mutex_unlock(&c->mu);
    return rv;
}

static genesis_component counter_component(counter *c)
{
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_request,
                              .snapshot = on_snapshot,
                              .restore = on_restore,
                              .arg = c};
    return comp;
}

typedef struct fixture {
    char dir[256];
    char db[320];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(gt_tempdir_make(f->dir, sizeof(f->dir)), 0);
    snprintf(f->db, sizeof(f->db), "%s/ck.db", f->dir);
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

static genesis_coordinator *coordinator(const char *db, uint32_t interval_ms)
{
    genesis_coordinator_options o;
    assert_ok(genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION));
    assert_int_equal(o.checkpoint_interval_ms, 150); /* the documented default */
    assert_int_equal(o.checkpoint_generations, 3);
    o.checkpoint_store = db;
    o.checkpoint_interval_ms = interval_ms;
    genesis_coordinator *co = NULL;
    assert_ok(genesis_coordinator_new(&co, &o));
    return co;
}

static long request_value(genesis_coordinator *co, const char *type)
{
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_request(co, "counter", type, NULL, 0, NULL, &res));
    long v = strtol(genesis_result_data(res, NULL), NULL, 10);
    genesis_result_free(res);
    return v;
}

static genesis_checkpoint_info info_of(genesis_coordinator *co, const char *id)
{
    genesis_checkpoint_info info = {.version = GENESIS_CHECKPOINT_INFO_VERSION};
    int rv = genesis_coordinator_get_checkpoint_info(co, id, &info);
    if (rv != GENESIS_OK)
        info.generation = 0;
    return info;
}

static void test_restore_after_restart(void **state)
{
    fixture *f = *state;
    counter c;
    counter_init(&c);
    genesis_component comp = counter_component(&c);
    genesis_coordinator *co = coordinator(f->db, 60000); /* no interval checkpoint here */
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    assert_int_equal(c.restores, 0); /* nothing stored yet */
    for (int i = 0; i < 5; i++)
        request_value(co, "incr");
    uint64_t gen = 0;
    assert_ok(genesis_coordinator_checkpoint_now(co, "counter", &gen));
    assert_int_equal(gen, 1);
    genesis_checkpoint_info info = info_of(co, "counter");
    assert_int_equal(info.generation, 1);
    assert_int_equal(info.size, 1); /* "5" */
    assert_true(info.age_ms >= 0);
    genesis_coordinator_free(co);

    /* A new coordinator on the same file: the component gets its state back before it
     * serves its first request. */
    counter fresh;
    counter_init(&fresh);
    comp = counter_component(&fresh);
    co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    assert_int_equal(fresh.restores, 1);
    assert_int_equal(fresh.restored_from, 1);
    assert_int_equal(request_value(co, "get"), 5);
    genesis_coordinator_free(co);
}

static bool generation_at_least(void *arg)
{
    void **a = arg;
    genesis_checkpoint_info info = info_of(a[0], "counter");
    return info.generation >= *(uint64_t *)a[1];
}

static void test_interval_only_when_changed(void **state)
{
    fixture *f = *state;
    counter c;
    counter_init(&c);
    genesis_component comp = counter_component(&c);
    genesis_coordinator *co = coordinator(f->db, 10);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    request_value(co, "incr");
    uint64_t want = 1;
    void *args[2] = {co, &want};
    assert_true(gt_wait_until(generation_at_least, args, GT_WAIT_MS));
    /* Idle: many intervals pass, nothing changed, nothing is written. */
    gt_sleep_ms(200);
    genesis_checkpoint_info idle = info_of(co, "counter");
    assert_int_equal(idle.generation, 1);
    assert_int_equal(idle.written, 1);
    /* A change outside requests, reported by the component. */
    pthread_mutex_lock(&c.mu);
    c.value = 42;
    pthread_mutex_unlock(&c.mu);
    assert_ok(genesis_coordinator_checkpoint_mark_dirty(co, "counter"));
    want = 2;
    assert_true(gt_wait_until(generation_at_least, args, GT_WAIT_MS));
    assert_status(genesis_coordinator_checkpoint_mark_dirty(co, "nobody"), GENESIS_NOT_FOUND);
    genesis_coordinator_free(co);

    counter fresh;
    counter_init(&fresh);
    comp = counter_component(&fresh);
    co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    assert_int_equal(request_value(co, "get"), 42);
    genesis_coordinator_free(co);
}

/* A clean stop checkpoints what changed since the last interval. */
static void test_stop_takes_last_checkpoint(void **state)
{
    fixture *f = *state;
    counter c;
    counter_init(&c);
    genesis_component comp = counter_component(&c);
    genesis_coordinator *co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    for (int i = 0; i < 7; i++)
        request_value(co, "incr");
    genesis_coordinator_free(co);
    counter fresh;
    counter_init(&fresh);
    comp = counter_component(&fresh);
    co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    assert_int_equal(request_value(co, "get"), 7);
    genesis_coordinator_free(co);
}

static void corrupt(const char *db, uint64_t generation)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    char sql[160];
    snprintf(sql, sizeof(sql),
             "UPDATE checkpoints SET state = X'3939393939' WHERE generation = %llu",
             (unsigned long long)generation);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(h), 1);
    sqlite3_close(h);
}

static long long json_path_int(const char *text, const char *a, const char *b)
{
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    assert_non_null(doc);
    json_t *v = json_object_get(json_object_get(doc, a), b);
    long long out = json_is_integer(v) ? (long long)json_integer_value(v) : -999;
    json_decref(doc);
    return out;
}

static void test_corrupt_generation_and_rejected_restore(void **state)
{
    fixture *f = *state;
    counter c;
    counter_init(&c);
    genesis_component comp = counter_component(&c);
    genesis_coordinator *co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    for (int i = 1; i <= 4; i++) {
        request_value(co, "incr");
        uint64_t gen = 0;
        assert_ok(genesis_coordinator_checkpoint_now(co, "counter", &gen));
        assert_int_equal(gen, (uint64_t)i);
    }
    genesis_coordinator_free(co);
    /* Generations 2..4 are kept; 4 is damaged on disk, and restore refuses 3. */
    corrupt(f->db, 4);
    counter fresh;
    counter_init(&fresh);
    fresh.reject_generation = 3;
    comp = counter_component(&fresh);
    co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    assert_int_equal(fresh.restored_from, 2);
    assert_int_equal(request_value(co, "get"), 2); /* never the damaged "99999" */
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_status(co, &res));
    const char *json = genesis_result_data(res, NULL);
    assert_int_equal(json_path_int(json, "checkpoints", "corrupt"), 1);
    genesis_result_free(res);
    genesis_coordinator_free(co);
}

static void test_snapshot_failure_keeps_previous(void **state)
{
    fixture *f = *state;
    counter c;
    counter_init(&c);
    genesis_component comp = counter_component(&c);
    genesis_coordinator *co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    request_value(co, "incr");
    assert_ok(genesis_coordinator_checkpoint_now(co, "counter", NULL));
    c.snapshot_status = GENESIS_INTERNAL;
    request_value(co, "incr");
    uint64_t gen = 99;
    assert_status(genesis_coordinator_checkpoint_now(co, "counter", &gen), GENESIS_INTERNAL);
    assert_int_equal(gen, 0);
    genesis_checkpoint_info info = info_of(co, "counter");
    assert_int_equal(info.generation, 1);
    assert_int_equal(info.failures, 1);
    assert_int_equal(info.last_reason, GENESIS_REASON_HANDLER_ERROR);
    c.snapshot_status = GENESIS_OK;
    genesis_coordinator_free(co);
}

static void test_status_fields(void **state)
{
    fixture *f = *state;
    counter c;
    counter_init(&c);
    genesis_component comp = counter_component(&c);
    genesis_coordinator *co = coordinator(f->db, 60000);
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    request_value(co, "incr");
    assert_ok(genesis_coordinator_checkpoint_now(co, "counter", NULL));
    genesis_result *res = NULL;
    assert_ok(genesis_coordinator_status(co, &res));
    json_error_t err;
    json_t *doc = json_loads(genesis_result_data(res, NULL), 0, &err);
    assert_non_null(doc);
    json_t *ck = json_object_get(doc, "checkpoints");
    assert_string_equal(json_string_value(json_object_get(ck, "store")), f->db);
    assert_int_equal(json_integer_value(json_object_get(ck, "written")), 1);
    json_t *comp0 = json_array_get(json_object_get(doc, "components"), 0);
    json_t *cc = json_object_get(comp0, "checkpoint");
    assert_int_equal(json_integer_value(json_object_get(cc, "generation")), 1);
    assert_int_equal(json_integer_value(json_object_get(cc, "size")), 1);
    assert_true(json_is_integer(json_object_get(cc, "age_ms")));
    assert_true(json_is_array(json_object_get(doc, "supervised")));
    json_decref(doc);
    genesis_result_free(res);
    genesis_coordinator_free(co);
}

static void test_no_store(void **state)
{
    (void)state;
    counter c;
    counter_init(&c);
    genesis_component comp = counter_component(&c);
    genesis_coordinator *co = NULL;
    assert_ok(genesis_coordinator_new(&co, NULL));
    assert_ok(genesis_coordinator_register(co, "counter", &comp));
    assert_status(genesis_coordinator_checkpoint_now(co, "counter", NULL),
                  GENESIS_FAILED_PRECONDITION);
    assert_status(genesis_coordinator_checkpoint_now(co, "nobody", NULL), GENESIS_NOT_FOUND);
    genesis_coordinator_free(co);
}

static void test_unusable_store_refused(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(f->db, "w");
    assert_non_null(fp);
    for (int i = 0; i < 400; i++)
        fputs("garbage garbage garbage ", fp);
    fclose(fp);
    genesis_coordinator_options o;
    assert_ok(genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION));
    o.checkpoint_store = f->db;
    genesis_coordinator *co = NULL;
    assert_status(genesis_coordinator_new(&co, &o), GENESIS_DATA_LOSS);
    assert_null(co);
    assert_non_null(strstr(genesis_last_error(), f->db));
}

/* Structs as a program built against version 1 of the headers has them: exactly that size
 * (ASan would catch a read past their end). */
typedef struct component_v1 {
    unsigned int version;
    genesis_request_fn on_request;
    genesis_event_fn on_event;
    void *arg;
} component_v1;

static void test_version_1_structs(void **state)
{
    (void)state;
    size_t opts_v1_size = offsetof(genesis_coordinator_options, checkpoint_store);
    unsigned char *buf = malloc(opts_v1_size);
    assert_non_null(buf);
    genesis_coordinator_options *o = (genesis_coordinator_options *)(void *)buf;
    assert_ok(genesis_coordinator_options_init(o, 1));
    unsigned int version = 0;
    memcpy(&version, buf, sizeof(version));
    assert_int_equal(version, 1);
    genesis_coordinator *co = NULL;
    assert_ok(genesis_coordinator_new(&co, o));
    free(buf);
    counter c;
    counter_init(&c);
    component_v1 *v1 = malloc(sizeof(*v1));
    assert_non_null(v1);
    *v1 = (component_v1){.version = 1, .on_request = on_request, .arg = &c};
    assert_ok(genesis_coordinator_register(co, "counter", (const genesis_component *)v1));
    free(v1);
    assert_int_equal(request_value(co, "incr"), 1);
    /* No snapshot callback: nothing to checkpoint. */
    assert_status(genesis_coordinator_checkpoint_now(co, "counter", NULL),
                  GENESIS_FAILED_PRECONDITION);
    genesis_coordinator_free(co);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restore_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_only_when_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_takes_last_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_generation_and_rejected_restore, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_failure_keeps_previous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_fields, setup, teardown),
        cmocka_unit_test(test_no_store),
        cmocka_unit_test_setup_teardown(test_unusable_store_refused, setup, teardown),
        cmocka_unit_test(test_version_1_structs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
