/* base/: the intrusive FIFO (order, counts, take-all, push-front) and GN_ASSERT, whose
 * failure must print file, line, function and expression and abort (checked in a child). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/assert.h"
#include "base/fifo.h"

typedef struct item {
    int value;
    gn_fifo_link link;
} item;

static int pop_value(gn_fifo *q)
{
    gn_fifo_link *link = gn_fifo_pop(q);
    return link != NULL ? GN_FIFO_ENTRY(link, item, link)->value : -1;
}

static void test_fifo_order(void **state)
{
    (void)state;
    item items[5];
    gn_fifo q;
    gn_fifo_init(&q);
    assert_true(gn_fifo_empty(&q));
    assert_null(gn_fifo_pop(&q));
    for (int i = 0; i < 5; i++) {
        items[i].value = i;
        gn_fifo_push(&q, &items[i].link);
    }
    assert_int_equal(gn_fifo_count(&q), 5);
    assert_int_equal(pop_value(&q), 0);
    assert_int_equal(pop_value(&q), 1);
    gn_fifo_push_front(&q, &items[1].link);
    assert_int_equal(gn_fifo_count(&q), 4);
    gn_fifo all = gn_fifo_take_all(&q);
    assert_true(gn_fifo_empty(&q));
    assert_int_equal(gn_fifo_count(&q), 0);
    assert_int_equal(gn_fifo_count(&all), 4);
    int expected[] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pop_value(&all), expected[i]);
    assert_null(gn_fifo_pop(&all));
    /* Reusable after draining: the tail was reset. */
    gn_fifo_push(&all, &items[4].link);
    assert_int_equal(pop_value(&all), 4);
    assert_true(gn_fifo_empty(&all));
}

static void test_assert_holds(void **state)
{
    (void)state;
    int refs = 1;
    GN_ASSERT(refs > 0); /* true: no effect */
    assert_int_equal(refs, 1);
}

static void test_assert_fails_loudly(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        unsigned int refs = 0;
        GN_ASSERT(refs > 0);
        _exit(0); /* not reached */
    }
    close(fds[1]);
    char buf[512] = "";
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(buf) - 1 && (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(buf, "test_base_containers.c:"));
    assert_non_null(strstr(buf, "test_assert_fails_loudly"));
    assert_non_null(strstr(buf, "assertion failed: refs > 0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_order),
        cmocka_unit_test(test_assert_holds),
        cmocka_unit_test(test_assert_fails_loudly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
