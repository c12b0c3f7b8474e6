/* The checkpointer on its own, through the gn_ckpt_host interface with no coordinator: the
 * host here keeps a fixed table of components, each with a real lane on a real worker pool and
 * a real SQLite store in a temporary directory. Snapshots, restores, remote checkpoints, the
 * refusals and the status fields. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/checkpoint.h"
#include "gt_assert.h"
#include "gt_tempdir.h"

typedef struct subject {
    atomic_uint refs;
    const char *id;
    bool remote;
    atomic_bool removed;
    atomic_uint_fast64_t requests;
    genesis_component callbacks;
    gn_lane lane;
    /* the component's state */
    pthread_mutex_t mu;
    char state[64];
    uint64_t restored_generation;
    unsigned int restores;
} subject;

typedef struct host_fixture {
    char dir[256];
    char db[300];
    gn_logger log;
    gn_pool *pool;
    subject subjects[3]; /* "inproc", "plain" (no snapshot callback), "remote" */
    gn_checkpointer *cp;
} host_fixture;

static subject *of(gn_ckpt_subject *s)
{
    return (subject *)(void *)s;
}

static gn_ckpt_subject *h_lookup(void *ctx, const char *id)
{
    host_fixture *f = ctx;
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(f->subjects[i].id, id) == 0) {
            atomic_fetch_add(&f->subjects[i].refs, 1);
            return (gn_ckpt_subject *)(void *)&f->subjects[i];
        }
    }
    return NULL;
}

static size_t h_count(void *ctx)
{
    (void)ctx;
    return 3;
}

static size_t h_list(void *ctx, gn_ckpt_subject **out, size_t max)
{
    host_fixture *f = ctx;
    size_t n = 0;
    for (size_t i = 0; i < 3 && n < max; i++) {
        atomic_fetch_add(&f->subjects[i].refs, 1);
        out[n++] = (gn_ckpt_subject *)(void *)&f->subjects[i];
    }
    return n;
}

static void h_retain(gn_ckpt_subject *s)
{
    atomic_fetch_add(&of(s)->refs, 1);
}

static void h_release(gn_ckpt_subject *s)
{
    if (s != NULL)
        assert_true(atomic_fetch_sub(&of(s)->refs, 1) > 0);
}

static void h_describe(gn_ckpt_subject *s, gn_ckpt_subject_info *out)
{
    subject *sub = of(s);
    out->id = sub->id;
    out->remote = sub->remote;
    out->removed = atomic_load(&sub->removed);
    out->requests = atomic_load(&sub->requests);
    out->callbacks = sub->remote ? NULL : &sub->callbacks;
}

static int h_run_on_lane(gn_ckpt_subject *s, gn_task *task)
{
    return gn_lane_submit(&of(s)->lane, task);
}

static int snapshot(genesis_snapshot *snap, void *arg)
{
    subject *s = arg;
    pthread_mutex_lock(&s->mu);
    int rv = genesis_snapshot_set(snap, s->state, strlen(s->state));
    pthread_mutex_unlock(&s->mu);
    return rv;
}

static int restore(const void *data, size_t len, uint64_t generation, void *arg)
{
    subject *s = arg;
    pthread_mutex_lock(&s->mu);
    snprintf(s->state, sizeof(s->state), "%.*s", (int)len, (const char *)data);
    s->restored_generation = generation;
    s->restores++;
    pthread_mutex_unlock(&s->mu);
    return GENESIS_OK;
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)reply;
    (void)arg;
}

static int open_checkpointer(host_fixture *f, const char *store_path)
{
    gn_ckpt_host host = {
        .ctx = f,
        .log = &f->log,
        .pool = f->pool,
        .store_path = store_path,
        .interval_ms = 3600 * 1000, /* the tests ask for snapshots; no sweep interferes */
        .generations = 2,
        .max_snapshot = 1024,
        .lookup = h_lookup,
        .count = h_count,
        .list = h_list,
        .retain = h_retain,
        .release = h_release,
        .describe = h_describe,
        .run_on_lane = h_run_on_lane,
    };
    char why[256] = "";
    int rv = gn_checkpoint_open(&host, &f->cp, why, sizeof(why));
    if (rv != GENESIS_OK)
        print_error("gn_checkpoint_open: %s\n", why);
    return rv;
}

static int setup(void **state)
{
    host_fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(gt_tempdir_make(f->dir, sizeof(f->dir)), 0);
    snprintf(f->db, sizeof(f->db), "%s/checkpoints.db", f->dir);
    f->log = (gn_logger){.level = GENESIS_LOG_ERROR};
    f->pool = gn_pool_new(2, 4);
    assert_non_null(f->pool);
    const char *ids[3] = {"inproc", "plain", "remote"};
    for (size_t i = 0; i < 3; i++) {
        subject *s = &f->subjects[i];
        atomic_init(&s->refs, 1);
        s->id = ids[i];
        s->remote = i == 2;
        pthread_mutex_init(&s->mu, NULL);
        gn_lane_init(&s->lane, f->pool, 1, 16);
        s->callbacks = (genesis_component){.version = GENESIS_COMPONENT_VERSION,
                                           .on_request = on_request,
                                           .arg = s,
                                           .snapshot = i == 0 ? snapshot : NULL,
                                           .restore = i == 0 ? restore : NULL};
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    host_fixture *f = *state;
    gn_checkpoint_stop(f->cp);
    gn_checkpoint_free(f->cp);
    gn_pool_free(f->pool);
    for (size_t i = 0; i < 3; i++) {
        /* every handle the checkpointer took was given back */
        assert_int_equal(atomic_load(&f->subjects[i].refs), 1);
        pthread_mutex_destroy(&f->subjects[i].mu);
    }
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

static void test_snapshot_then_restore(void **state)
{
    host_fixture *f = *state;
    assert_ok(open_checkpointer(f, f->db));
    subject *s = &f->subjects[0];
    snprintf(s->state, sizeof(s->state), "count=1");
    uint64_t gen = 0;
    assert_ok(gn_checkpoint_now(f->cp, "inproc", &gen));
    assert_int_equal(gen, 1);
    snprintf(s->state, sizeof(s->state), "count=2");
    assert_ok(gn_checkpoint_now(f->cp, "inproc", &gen));
    assert_int_equal(gen, 2);

    genesis_checkpoint_info info = {.version = GENESIS_CHECKPOINT_INFO_VERSION};
    assert_ok(gn_checkpoint_info(f->cp, "inproc", &info));
    assert_int_equal(info.generation, 2);
    assert_int_equal(info.size, strlen("count=2"));
    assert_int_equal(info.written, 2);
    assert_int_equal(info.failures, 0);

    snprintf(s->state, sizeof(s->state), "lost");
    assert_ok(gn_checkpoint_restore(f->cp, (gn_ckpt_subject *)(void *)s));
    assert_string_equal(s->state, "count=2");
    assert_int_equal(s->restored_generation, 2);
    assert_int_equal(s->restores, 1);

    Genesis__V1__StatusReport r = GENESIS__V1__STATUS_REPORT__INIT;
    gn_checkpoint_report_status(f->cp, &r);
    assert_string_equal(r.checkpoint_store, f->db);
    assert_int_equal(r.checkpoints_written, 2);
    assert_int_equal(r.checkpoint_failures, 0);
}

static void test_refusals(void **state)
{
    host_fixture *f = *state;
    assert_ok(open_checkpointer(f, f->db));
    uint64_t gen = 7;
    assert_status(gn_checkpoint_now(f->cp, "nobody", &gen), GENESIS_NOT_FOUND);
    assert_status(gn_checkpoint_now(f->cp, "remote", &gen), GENESIS_NOT_FOUND);
    assert_status(gn_checkpoint_now(f->cp, "plain", &gen), GENESIS_FAILED_PRECONDITION);
    assert_status(gn_checkpoint_mark_dirty(f->cp, "remote"), GENESIS_NOT_FOUND);
    assert_ok(gn_checkpoint_mark_dirty(f->cp, "inproc"));
    genesis_checkpoint_info info = {.version = GENESIS_CHECKPOINT_INFO_VERSION};
    assert_status(gn_checkpoint_info(f->cp, "nobody", &info), GENESIS_NOT_FOUND);
    /* the one without callbacks restores nothing, quietly */
    assert_ok(gn_checkpoint_restore(f->cp, (gn_ckpt_subject *)(void *)&f->subjects[1]));
}

typedef struct done_box {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int status, reason;
    uint64_t generation;
    char data[64];
} done_box;

static void done_cb(int status, int reason, const char *why, uint64_t generation, const void *data,
                    size_t len, void *arg)
{
    (void)why;
    done_box *b = arg;
    pthread_mutex_lock(&b->mu);
    b->status = status;
    b->reason = reason;
    b->generation = generation;
    snprintf(b->data, sizeof(b->data), "%.*s", (int)len, data != NULL ? (const char *)data : "");
    b->done = true;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void box_wait(done_box *b)
{
    pthread_mutex_lock(&b->mu);
    while (!b->done)
        pthread_cond_wait(&b->cv, &b->mu);
    b->done = false;
    pthread_mutex_unlock(&b->mu);
}

static void test_remote_checkpoint_and_read(void **state)
{
    host_fixture *f = *state;
    assert_ok(open_checkpointer(f, f->db));
    done_box b = {.done = false};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);

    Genesis__V1__Checkpoint ck = GENESIS__V1__CHECKPOINT__INIT;
    ck.component_id = (char *)"remote";
    ck.state.data = (uint8_t *)"peer-state";
    ck.state.len = strlen("peer-state");
    gn_checkpoint_remote(f->cp, &ck, done_cb, &b);
    box_wait(&b);
    assert_int_equal(b.status, GENESIS_OK);
    assert_int_equal(b.generation, 1);

    gn_checkpoint_read(f->cp, "remote", done_cb, &b);
    box_wait(&b);
    assert_int_equal(b.status, GENESIS_OK);
    assert_int_equal(b.generation, 1);
    assert_string_equal(b.data, "peer-state");

    /* an in-process component's state is not a remote peer's to overwrite */
    ck.component_id = (char *)"inproc";
    gn_checkpoint_remote(f->cp, &ck, done_cb, &b);
    box_wait(&b);
    assert_int_equal(b.status, GENESIS_FAILED_PRECONDITION);

    ck.component_id = (char *)"nobody";
    gn_checkpoint_remote(f->cp, &ck, done_cb, &b);
    box_wait(&b);
    assert_int_equal(b.status, GENESIS_NOT_FOUND);

    pthread_cond_destroy(&b.cv);
    pthread_mutex_destroy(&b.mu);
}

static void test_without_store(void **state)
{
    host_fixture *f = *state;
    assert_ok(open_checkpointer(f, NULL));
    uint64_t gen = 0;
    assert_status(gn_checkpoint_now(f->cp, "inproc", &gen), GENESIS_FAILED_PRECONDITION);
    assert_ok(gn_checkpoint_restore(f->cp, (gn_ckpt_subject *)(void *)&f->subjects[0]));
    Genesis__V1__StatusReport r = GENESIS__V1__STATUS_REPORT__INIT;
    gn_checkpoint_report_status(f->cp, &r);
    assert_string_equal(r.checkpoint_store, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_then_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_checkpoint_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_store, setup, teardown),
    };
    return cmocka_run_group_tests_name("checkpointer", tests, NULL, NULL);
}
