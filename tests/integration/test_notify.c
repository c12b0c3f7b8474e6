/* genesisd and its service manager: the sd_notify protocol checked directly. The test plays
 * systemd: it binds a unix datagram socket, passes its path in NOTIFY_SOCKET, and reads what
 * genesisd sends -- READY=1 once it serves, RELOADING=1 then READY=1 around a reload (SIGHUP),
 * STOPPING=1 when SIGTERM arrives -- and checks a supervised child does not inherit the
 * socket (it is genesisd's line to the manager, not the child's). */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gt_assert.h"
#include "gt_process.h"
#include "gt_tempdir.h"
#include "gt_wait.h"

#ifndef GENESISD_PATH
#error "GENESISD_PATH comes from the build"
#endif

typedef struct fixture {
    char dir[128];
    int sock;
    gt_process proc;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || gt_tempdir_make(f->dir, sizeof(f->dir)) != 0) {
        free(f);
        return -1;
    }
    f->sock = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gt_process_kill(&f->proc);
    gt_process_kill_all();
    if (f->sock >= 0)
        close(f->sock);
    unsetenv("NOTIFY_SOCKET");
    gt_tempdir_remove(f->dir);
    free(f);
    return 0;
}

/* The next notification (one datagram) into buf; fails the test when none comes in time. */
static void next_notification(fixture *f, char *buf, size_t size)
{
    struct pollfd p = {.fd = f->sock, .events = POLLIN};
    int64_t until = gt_now_ms() + GT_WAIT_MS;
    for (;;) {
        int left = (int)(until - gt_now_ms());
        if (left <= 0)
            fail_msg("no notification from genesisd within %d ms", GT_WAIT_MS);
        if (poll(&p, 1, left) == 1)
            break;
    }
    ssize_t n = recv(f->sock, buf, size - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
}

/* One line of a notification ("READY=1"), whole. */
static int has_line(const char *msg, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = msg; p != NULL && *p != '\0';
         p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

static void test_ready_reloading_stopping(void **state)
{
    fixture *f = *state;
    char sock_path[200], conf[200], env_file[200], front[256], bus[256];
    snprintf(sock_path, sizeof(sock_path), "%s/notify.sock", f->dir);
    snprintf(conf, sizeof(conf), "%s/genesis.yaml", f->dir);
    snprintf(env_file, sizeof(env_file), "%s/child-env", f->dir);
    gt_ipc_url(front, sizeof(front), f->dir, "front");
    gt_ipc_url(bus, sizeof(bus), f->dir, "bus");

    f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(f->sock >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    assert_true(strlen(sock_path) < sizeof(addr.sun_path));
    memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
    assert_int_equal(bind(f->sock, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", sock_path, 1), 0);

    /* A supervised child that records whether NOTIFY_SOCKET reached it, then waits. */
    FILE *out = fopen(conf, "w");
    assert_non_null(out);
    fprintf(out,
            "listen:\n  front_door: \"%s\"\n  event_bus: \"%s\"\n  http: \"off\"\n"
            "components:\n  probe:\n    command: \"/bin/sh -c 'echo \\\"[$NOTIFY_SOCKET]\\\" > %s; "
            "exec sleep 60'\"\n",
            front, bus, env_file);
    assert_int_equal(fclose(out), 0);

    const char *argv[] = {GENESISD_PATH, "--config", conf, "--log-level", "warn", NULL};
    assert_int_equal(gt_process_spawn(&f->proc, argv, GT_CAPTURE_STDOUT), 0);
    char line[1024], msg[1024];
    assert_true(gt_process_wait_line(&f->proc, "ready ", line, sizeof(line), GT_WAIT_MS));

    next_notification(f, msg, sizeof(msg));
    if (!has_line(msg, "READY=1") || strstr(msg, "STATUS=serving") == NULL)
        fail_msg("expected READY=1 with a STATUS=serving line, got \"%s\"", msg);

    assert_int_equal(gt_process_signal(&f->proc, SIGHUP), 0);
    next_notification(f, msg, sizeof(msg));
    if (!has_line(msg, "RELOADING=1") || strstr(msg, "MONOTONIC_USEC=") == NULL)
        fail_msg("expected RELOADING=1 with MONOTONIC_USEC, got \"%s\"", msg);
    next_notification(f, msg, sizeof(msg));
    if (!has_line(msg, "READY=1") || strstr(msg, "reloaded") == NULL)
        fail_msg("expected READY=1 after the reload, got \"%s\"", msg);

    /* The child started before or after: its file says whether it saw the socket. */
    char env_line[256] = "";
    int64_t until = gt_now_ms() + GT_WAIT_MS;
    while (gt_now_ms() < until) {
        FILE *in = fopen(env_file, "r");
        if (in != NULL) {
            char *got = fgets(env_line, sizeof(env_line), in);
            fclose(in);
            if (got != NULL && strchr(env_line, '\n') != NULL)
                break;
        }
        gt_sleep_ms(20);
    }
    assert_string_equal(env_line, "[]\n");

    assert_int_equal(gt_process_signal(&f->proc, SIGTERM), 0);
    next_notification(f, msg, sizeof(msg));
    if (!has_line(msg, "STOPPING=1"))
        fail_msg("expected STOPPING=1, got \"%s\"", msg);
    assert_true(gt_process_wait(&f->proc, GT_WAIT_MS));
    assert_true(WIFEXITED(f->proc.wait_status) && WEXITSTATUS(f->proc.wait_status) == 0);
}

/* Without NOTIFY_SOCKET (not under systemd), genesisd runs the same and sends nothing. */
static void test_without_a_manager(void **state)
{
    fixture *f = *state;
    unsetenv("NOTIFY_SOCKET");
    char front[256], bus[256];
    gt_ipc_url(front, sizeof(front), f->dir, "front");
    gt_ipc_url(bus, sizeof(bus), f->dir, "bus");
    const char *argv[] = {GENESISD_PATH, "--front-door", front,         "--events", bus,
                          "--http",      "off",          "--log-level", "warn",     NULL};
    assert_int_equal(gt_process_spawn(&f->proc, argv, GT_CAPTURE_STDOUT), 0);
    char line[1024];
    assert_true(gt_process_wait_line(&f->proc, "ready ", line, sizeof(line), GT_WAIT_MS));
    assert_int_equal(gt_process_signal(&f->proc, SIGTERM), 0);
    assert_true(gt_process_wait(&f->proc, GT_WAIT_MS));
    assert_true(WIFEXITED(f->proc.wait_status) && WEXITSTATUS(f->proc.wait_status) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ready_reloading_stopping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_manager, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
