/* The supervisor's fence process (fence.h) with real processes: a group whose deadline passes
 * is killed, a deadline moved forward or disarmed is not, and every armed group is killed when
 * the fence's owner goes away (its socket closes). */
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fence.h"
#include "gt_assert.h"
#include "gt_wait.h"

/* A child in a process group of its own that sleeps until killed. */
static pid_t sleeper(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        for (int fd = 3; fd < 1024; fd++)
            close(fd); /* as after exec: the fence's socket is not the child's to hold open */
        for (;;)
            pause();
    }
    assert_true(pid > 0);
    setpgid(pid, pid);
    return pid;
}

static bool reaped(void *arg)
{
    int status;
    return waitpid(*(pid_t *)arg, &status, WNOHANG) == *(pid_t *)arg;
}

static void stop(pid_t pid)
{
    int status;
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static void test_deadline_kills(void **state)
{
    (void)state;
    fence f;
    char why[128];
    assert_int_equal(fence_start(&f, why, sizeof(why)), 0);
    pid_t due = sleeper(), moved = sleeper(), disarmed = sleeper();
    int64_t now = fence_now_ms();
    assert_true(fence_arm(&f, due, now + 50));
    assert_true(fence_arm(&f, moved, now + 50));
    assert_true(fence_arm(&f, moved, now + 3600000)); /* renewed */
    assert_true(fence_arm(&f, disarmed, now + 50));
    assert_true(fence_arm(&f, disarmed, 0));
    assert_true(gt_wait_until(reaped, &due, GT_WAIT_MS));
    /* The fence handles its messages in order: once a later deadline fired, the earlier
     * changes were applied. */
    pid_t marker = sleeper();
    assert_true(fence_arm(&f, marker, fence_now_ms() + 50));
    assert_true(gt_wait_until(reaped, &marker, GT_WAIT_MS));
    assert_false(reaped(&moved));
    assert_false(reaped(&disarmed));
    stop(moved);
    stop(disarmed);
    assert_false(fence_died(&f));
    fence_stop(&f);
}

static void test_owner_gone_kills_all(void **state)
{
    (void)state;
    fence f;
    char why[128];
    assert_int_equal(fence_start(&f, why, sizeof(why)), 0);
    pid_t a = sleeper(), b = sleeper();
    assert_true(fence_arm(&f, a, fence_now_ms() + 3600000));
    assert_true(fence_arm(&f, b, fence_now_ms() + 3600000));
    fence_stop(&f); /* as when genesisd dies: the socket closes */
    assert_true(gt_wait_until(reaped, &a, GT_WAIT_MS));
    assert_true(gt_wait_until(reaped, &b, GT_WAIT_MS));
    assert_false(fence_arm(&f, a, 1)); /* no fence: refused */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_kills),
        cmocka_unit_test(test_owner_gone_kills_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
