/* The listener watchdog's probe without NNG sockets: the hand-written SP handshake reaches real
 * NNG REP listeners over tcp and ipc and is attached as a pipe; an unreachable address or a
 * process out of descriptors is not judged a wedged listener; and a watchdog running many
 * rounds creates no NNG socket at all (NNG socket ids are sequential: the next one opened
 * after the rounds follows the one opened before them). */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "gt_assert.h"
#include "gt_tempdir.h"
#include "gt_wait.h"
#include "wire/listener_guard.h"
#include "wire/sp_probe.h"

static atomic_int pipes_removed;
static atomic_int starved_warnings;

static void on_pipe_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    (void)arg;
    atomic_fetch_add(&pipes_removed, 1);
}

static void on_log(int level, const char *msg, void *arg)
{
    (void)arg;
    /* A round that could not judge the listener: no descriptor for the probe, or the probe got
     * the last one and the listener none. */
    if (strstr(msg, "out of file descriptors") != NULL || strstr(msg, "no file descriptor") != NULL)
        atomic_fetch_add(&starved_warnings, 1);
}

/* A REP socket listening on url; the bound URL into bound. */
static nng_socket rep_listening(const char *url, nng_listener *l, char *bound, size_t size)
{
    nng_socket s;
    assert_int_equal(nng_rep0_open(&s), 0);
    assert_int_equal(nng_listen(s, url, l, 0), 0);
    if (strncmp(url, "tcp://", 6) == 0) {
        int port = 0;
        assert_int_equal(nng_listener_get_int(*l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
        snprintf(bound, size, "tcp://127.0.0.1:%d", port);
    } else {
        snprintf(bound, size, "%s", url);
    }
    return s;
}

static void probe_reaches(const char *url)
{
    nng_listener l;
    char bound[256];
    nng_socket rep = rep_listening(url, &l, bound, sizeof(bound));
    atomic_store(&pipes_removed, 0);
    assert_int_equal(nng_pipe_notify(rep, NNG_PIPE_EV_REM_POST, on_pipe_removed, NULL), 0);
    int fd = -1, err = 0;
    assert_int_equal(gn_sp_probe(bound, GN_SP_PROTO_REQ, 5000, &fd, &err), GN_SP_PROBE_CONNECTED);
    assert_true(fd >= 0);
    close(fd);
    /* The REP socket attached the connection (and drops it once the probe hung up). */
    int64_t until = gt_now_ms() + GT_WAIT_MS;
    while (atomic_load(&pipes_removed) == 0 && gt_now_ms() < until)
        gt_sleep_ms(5);
    assert_int_equal(atomic_load(&pipes_removed), 1);
    nng_close(rep);
}

static void test_probe_reaches_tcp_and_ipc_listeners(void **state)
{
    (void)state;
    probe_reaches("tcp://127.0.0.1:0");
    char dir[128], url[256];
    assert_int_equal(gt_tempdir_make(dir, sizeof(dir)), 0);
    snprintf(url, sizeof(url), "ipc://%s/rep.sock", dir);
    probe_reaches(url);
    gt_tempdir_remove(dir);
}

static void test_probe_of_nothing_is_unreachable(void **state)
{
    (void)state;
    nng_listener l;
    char bound[256];
    nng_socket rep = rep_listening("tcp://127.0.0.1:0", &l, bound, sizeof(bound));
    nng_close(rep); /* the port is free again */
    int fd = -1, err = 0;
    assert_int_equal(gn_sp_probe(bound, GN_SP_PROTO_REQ, 2000, &fd, &err), GN_SP_PROBE_UNREACHABLE);
    assert_int_equal(fd, -1);
    assert_int_equal(
        gn_sp_probe("ipc:///nonexistent/genesis.sock", GN_SP_PROTO_REQ, 2000, &fd, &err),
        GN_SP_PROBE_UNREACHABLE);
}

/* Use up every descriptor this process may open but `spare`: lower the soft limit a little
 * above the highest one in use and fill every free number below it with dup(). Returns how
 * many were taken (into taken[]); restore with give_back. */
static int exhaust_descriptors(int *taken, int cap, int spare, struct rlimit *saved)
{
    assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
    int highest = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        highest = fd > highest ? fd : highest;
    }
    closedir(d);
    struct rlimit low = *saved;
    low.rlim_cur = (rlim_t)highest + 8;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int n = 0;
    while (n < cap) {
        int fd = dup(0);
        if (fd < 0)
            break;
        taken[n++] = fd;
    }
    for (int i = 0; i < spare && n > 0; i++)
        close(taken[--n]);
    return n;
}

static void give_back(int *taken, int n, const struct rlimit *saved)
{
    for (int i = 0; i < n; i++)
        close(taken[i]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, saved), 0);
}

static void test_probe_without_descriptors_cannot_tell(void **state)
{
    (void)state;
    nng_listener l;
    char bound[256];
    nng_socket rep = rep_listening("tcp://127.0.0.1:0", &l, bound, sizeof(bound));
    struct rlimit saved;
    int taken[4096];
    int n = exhaust_descriptors(taken, 4096, 0, &saved);
    int fd = -1, err = 0;
    gn_sp_probe_result r = gn_sp_probe(bound, GN_SP_PROTO_REQ, 2000, &fd, &err);
    give_back(taken, n, &saved);
    assert_int_equal(r, GN_SP_PROBE_NO_SOCKET);
    assert_int_equal(fd, -1);
    nng_close(rep);
}

static void test_guard_opens_no_nng_socket_and_spares_a_starved_listener(void **state)
{
    (void)state;
    nng_listener l;
    char bound[256];
    nng_socket rep = rep_listening("tcp://127.0.0.1:0", &l, bound, sizeof(bound));
    gn_logger log = {.level = GENESIS_LOG_DEBUG, .fn = on_log};
    atomic_uint_fast64_t restarts = 0;
    nng_socket before;
    assert_int_equal(nng_req0_open(&before), 0);

    gn_guard *g = gn_guard_new(&log, 10, &restarts);
    assert_non_null(g);
    assert_int_equal(gn_guard_watch(g, rep, l, bound, GN_SP_PROTO_REQ, "test"), GENESIS_OK);
    atomic_store(&pipes_removed, 0);
    assert_int_equal(nng_pipe_notify(rep, NNG_PIPE_EV_REM_POST, on_pipe_removed, NULL), 0);
    /* Rounds of probes: each connects, is attached as a pipe, hangs up. */
    int64_t until = gt_now_ms() + GT_WAIT_MS;
    while (atomic_load(&pipes_removed) < 10 && gt_now_ms() < until)
        gt_sleep_ms(5);
    assert_true(atomic_load(&pipes_removed) >= 10);
    nng_socket after;
    assert_int_equal(nng_req0_open(&after), 0);
    assert_int_equal(nng_socket_id(after), nng_socket_id(before) + 1);
    assert_int_equal(atomic_load(&restarts), 0);

    /* Out of descriptors: the probe gets the last one, the listener's accept fails (EMFILE).
     * Two such rounds used to re-create the listener and drop every connection. */
    struct rlimit saved;
    int taken[4096];
    atomic_store(&starved_warnings, 0);
    int n = exhaust_descriptors(taken, 4096, 1, &saved);
    until = gt_now_ms() + GT_WAIT_MS;
    while (atomic_load(&starved_warnings) < 3 && gt_now_ms() < until)
        gt_sleep_ms(10);
    give_back(taken, n, &saved);
    int starved = atomic_load(&starved_warnings);
    print_message("rounds judged starved, not wedged: %d\n", starved);
    assert_true(starved >= 3);
    assert_int_equal(atomic_load(&restarts), 0);

    gn_guard_stop(g);
    nng_close(rep);
    gn_guard_free(g);
    nng_close(before);
    nng_close(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_reaches_tcp_and_ipc_listeners),
        cmocka_unit_test(test_probe_of_nothing_is_unreachable),
        cmocka_unit_test(test_probe_without_descriptors_cannot_tell),
        cmocka_unit_test(test_guard_opens_no_nng_socket_and_spares_a_starved_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
