/* Status codes, reason names and the thread-local last-error message (public API only). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "genesis/genesis.h"
#include "gt_assert.h"

static void test_never_null_for_any_value(void **state)
{
    (void)state;
    for (int i = -5; i <= 1000; i++) {
        const char *text = genesis_strerror(i);
        const char *name = genesis_status_name(i);
        const char *reason = genesis_reason_name(i);
        if (text == NULL || name == NULL || reason == NULL)
            fail_msg("NULL description for value %d (strerror %p, status_name %p, reason_name "
                     "%p)",
                     i, (const void *)text, (const void *)name, (const void *)reason);
        assert_true(text[0] != '\0');
        assert_true(name[0] != '\0');
        assert_true(reason[0] != '\0');
    }
    assert_non_null(genesis_strerror(-2147483647 - 1));
    assert_non_null(genesis_status_name(2147483647));
    assert_non_null(genesis_reason_name(-2147483647 - 1));
}

static void test_status_names_follow_grpc(void **state)
{
    (void)state;
    static const struct {
        int code;
        int grpc;
        const char *name;
    } known[] = {
        {GENESIS_OK, 0, "OK"},
        {GENESIS_CANCELLED, 1, "CANCELLED"},
        {GENESIS_UNKNOWN, 2, "UNKNOWN"},
        {GENESIS_INVALID_ARGUMENT, 3, "INVALID_ARGUMENT"},
        {GENESIS_DEADLINE_EXCEEDED, 4, "DEADLINE_EXCEEDED"},
        {GENESIS_NOT_FOUND, 5, "NOT_FOUND"},
        {GENESIS_ALREADY_EXISTS, 6, "ALREADY_EXISTS"},
        {GENESIS_PERMISSION_DENIED, 7, "PERMISSION_DENIED"},
        {GENESIS_RESOURCE_EXHAUSTED, 8, "RESOURCE_EXHAUSTED"},
        {GENESIS_FAILED_PRECONDITION, 9, "FAILED_PRECONDITION"},
        {GENESIS_ABORTED, 10, "ABORTED"},
        {GENESIS_OUT_OF_RANGE, 11, "OUT_OF_RANGE"},
        {GENESIS_UNIMPLEMENTED, 12, "UNIMPLEMENTED"},
        {GENESIS_INTERNAL, 13, "INTERNAL"},
        {GENESIS_UNAVAILABLE, 14, "UNAVAILABLE"},
        {GENESIS_DATA_LOSS, 15, "DATA_LOSS"},
        {GENESIS_UNAUTHENTICATED, 16, "UNAUTHENTICATED"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        assert_int_equal(known[i].code, known[i].grpc);
        assert_string_equal(genesis_status_name(known[i].code), known[i].name);
    }
    /* Descriptions of distinct codes are distinct, so messages stay informative. */
    for (int a = 0; a <= GENESIS_UNAUTHENTICATED; a++) {
        for (int b = a + 1; b <= GENESIS_UNAUTHENTICATED; b++) {
            if (strcmp(genesis_strerror(a), genesis_strerror(b)) == 0)
                fail_msg("codes %d and %d share the description \"%s\"", a, b, genesis_strerror(a));
        }
    }
    assert_string_equal(genesis_status_name(17), "UNKNOWN_STATUS");
    assert_string_equal(genesis_status_name(-1), "UNKNOWN_STATUS");
}

static void test_reason_names(void **state)
{
    (void)state;
    static const struct {
        int reason;
        const char *name;
    } known[] = {
        {GENESIS_REASON_NONE, "NONE"},
        {GENESIS_REASON_BREAKER_OPEN, "BREAKER_OPEN"},
        {GENESIS_REASON_BULKHEAD_FULL, "BULKHEAD_FULL"},
        {GENESIS_REASON_SHED_BY_MODE, "SHED_BY_MODE"},
        {GENESIS_REASON_RETRY_BUDGET_EXHAUSTED, "RETRY_BUDGET_EXHAUSTED"},
        {GENESIS_REASON_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
        {GENESIS_REASON_COMPONENT_DOWN, "COMPONENT_DOWN"},
        {GENESIS_REASON_NOT_FOUND, "NOT_FOUND"},
        {GENESIS_REASON_ALREADY_REGISTERED, "ALREADY_REGISTERED"},
        {GENESIS_REASON_MALFORMED_MESSAGE, "MALFORMED_MESSAGE"},
        {GENESIS_REASON_MESSAGE_TOO_LARGE, "MESSAGE_TOO_LARGE"},
        {GENESIS_REASON_HANDLER_ERROR, "HANDLER_ERROR"},
        {GENESIS_REASON_TRANSPORT_ERROR, "TRANSPORT_ERROR"},
        {GENESIS_REASON_SHUTTING_DOWN, "SHUTTING_DOWN"},
        {GENESIS_REASON_QUEUE_FULL, "QUEUE_FULL"},
        {GENESIS_REASON_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
        {GENESIS_REASON_NO_MEMORY, "NO_MEMORY"},
        {GENESIS_REASON_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION"},
        {GENESIS_REASON_UNKNOWN_MESSAGE, "UNKNOWN_MESSAGE"},
        {GENESIS_REASON_NO_HANDLER, "NO_HANDLER"},
        {GENESIS_REASON_TIMEOUT, "TIMEOUT"},
        {GENESIS_REASON_UNREACHABLE, "UNREACHABLE"},
        {GENESIS_REASON_LIMIT_REACHED, "LIMIT_REACHED"},
        {GENESIS_REASON_STORAGE_FULL, "STORAGE_FULL"},
        {GENESIS_REASON_STORAGE_ERROR, "STORAGE_ERROR"},
        {GENESIS_REASON_CHECKPOINT_CORRUPT, "CHECKPOINT_CORRUPT"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        assert_int_equal(known[i].reason, (int)i); /* append-only, dense numbering */
        assert_string_equal(genesis_reason_name(known[i].reason), known[i].name);
    }
    assert_string_equal(genesis_reason_name(GENESIS_REASON_CHECKPOINT_CORRUPT + 1),
                        "UNKNOWN_REASON");
    assert_string_equal(genesis_reason_name(-1), "UNKNOWN_REASON");
}

#define BAD_URL "bogus-transport://nowhere"

struct thread_report {
    char initial[256]; /* genesis_last_error() before this thread made any call */
    int status;        /* status of the failing call made by the thread */
    char after[256];   /* genesis_last_error() after it */
};

static void *other_thread(void *arg)
{
    struct thread_report *r = arg;
    snprintf(r->initial, sizeof(r->initial), "%s", genesis_last_error());
    genesis_coordinator *c = NULL;
    r->status = genesis_coordinator_new(&c, NULL);
    if (r->status == GENESIS_OK) {
        genesis_component comp = {.version = GENESIS_COMPONENT_VERSION};
        /* An invalid id (space) and no handler: certainly INVALID_ARGUMENT. */
        r->status = genesis_coordinator_register(c, "bad id", &comp);
        snprintf(r->after, sizeof(r->after), "%s", genesis_last_error());
        genesis_coordinator_free(c);
    }
    return NULL;
}

static void test_last_error_is_thread_local(void **state)
{
    (void)state;
    genesis_coordinator *c = NULL;
    assert_ok(genesis_coordinator_new(&c, NULL));

    int rv = genesis_coordinator_listen(c, BAD_URL, NULL);
    assert_int_not_equal(rv, GENESIS_OK);
    const char *msg = genesis_last_error();
    assert_non_null(msg);
    if (msg[0] == '\0')
        fail_msg("listen on %s failed with %s but genesis_last_error() is empty", BAD_URL,
                 genesis_status_name(rv));
    char mine[256];
    snprintf(mine, sizeof(mine), "%s", msg);
    if (strstr(mine, BAD_URL) == NULL)
        fail_msg("genesis_last_error() should name the URL that failed: \"%s\"", mine);

    struct thread_report report = {.status = -1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &report), 0);
    assert_int_equal(pthread_join(t, NULL), 0);

    /* A fresh thread starts with nothing to say, not with this thread's message. */
    assert_string_equal(report.initial, "");
    assert_status(report.status, GENESIS_INVALID_ARGUMENT);
    assert_true(report.after[0] != '\0');
    assert_string_not_equal(report.after, mine);
    /* The other thread's failure did not touch this thread's message. */
    assert_string_equal(genesis_last_error(), mine);

    genesis_coordinator_free(c);
}

static void test_bad_arguments_explain_themselves(void **state)
{
    (void)state;
    genesis_coordinator *c = NULL;
    assert_ok(genesis_coordinator_new(&c, NULL));
    assert_status(genesis_coordinator_listen(c, NULL, NULL), GENESIS_INVALID_ARGUMENT);
    assert_true(genesis_last_error()[0] != '\0');
    assert_status(genesis_coordinator_new(NULL, NULL), GENESIS_INVALID_ARGUMENT);
    assert_true(genesis_last_error()[0] != '\0');
    genesis_coordinator_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_null_for_any_value),
        cmocka_unit_test(test_status_names_follow_grpc),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_last_error_is_thread_local),
        cmocka_unit_test(test_bad_arguments_explain_themselves),
    };
    return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
