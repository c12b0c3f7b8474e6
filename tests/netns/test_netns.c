/* Real network faults between two "hosts": genesisd and this client in network namespace A,
 * a remote component (tests/helpers/test_service.c) in namespace B, joined by a veth pair
 * (made by tests/netns/run-netns-test, which runs this program inside A). Faults are injected
 * in B with nftables drop rules and by taking B's link down:
 *
 *   full partition (nft drops everything from A)  -> the component misses its heartbeats:
 *       requests fail fast with COMPONENT_DOWN (or BREAKER_OPEN), well before their deadline;
 *   one-way loss (nft drops only the coordinator's requests to the component; heartbeats
 *       still flow) -> attempts time out (DEADLINE_EXCEEDED / TIMEOUT), then the breaker opens
 *       and requests fail fast with BREAKER_OPEN;
 *   link down -> as the full partition;
 * and after each fault is removed everything heals on its own: the same component, no
 * restart, no operator action, serves again. Time to fail fast and time to heal are printed
 * (not asserted). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "genesis/genesis.h"
#include "gt_assert.h"
#include "gt_process.h"
#include "gt_wait.h"

#ifndef GENESISD_PATH
#error "GENESISD_PATH must name genesisd"
#endif
#ifndef TEST_SERVICE_PATH
#error "TEST_SERVICE_PATH must name the test_service binary"
#endif

#define DEADLINE_MS 4000 /* each request's; "fast" means well inside it */
#define HEAL_MS     60000

static struct {
    const char *ns_b, *addr_a, *addr_b, *veth_b;
    char ip[256];
    gt_process daemon, component;
    char front[256], bus[256], component_url[256];
    int component_port;
    genesis_client *cl;
} g;

static void run_or_fail(const char *const argv[])
{
    int code = -1;
    char err[1024] = "";
    if (gt_run(argv, 10000, &code, NULL, 0, err, sizeof(err)) != 0 || code != 0)
        fail_msg("%s %s %s ... failed (%d): %s", argv[0], argv[1], argv[2], code, err);
}

/* nft in namespace B. */
static void nft_b(const char *rule)
{
    const char *argv[] = {g.ip, "netns", "exec", g.ns_b, "nft", rule, NULL};
    run_or_fail(argv);
}

static void link_b(const char *state)
{
    const char *argv[] = {g.ip, "-n", g.ns_b, "link", "set", g.veth_b, state, NULL};
    run_or_fail(argv);
}

typedef struct outcome {
    int status;
    int reason;
    int64_t ms;
} outcome;

static outcome ping(void)
{
    genesis_call_options o;
    genesis_call_options_init(&o, GENESIS_CALL_OPTIONS_VERSION);
    o.timeout_ms = DEADLINE_MS;
    genesis_result *res = NULL;
    int64_t t0 = gt_now_ms();
    outcome out = {.status = genesis_client_request(g.cl, "far", "ping", "", 0, &o, &res)};
    out.ms = gt_now_ms() - t0;
    out.reason = genesis_result_reason(res);
    genesis_result_free(res);
    return out;
}

static bool serving(void *arg)
{
    (void)arg;
    return ping().status == GENESIS_OK;
}

/* Wait until requests fail fast; returns how long that took and the reason seen. Every
 * failure on the way must carry one of the reasons the design names for a partition. */
static outcome wait_fail_fast(const char *fault, int64_t since)
{
    for (int i = 0; i < 100; i++) {
        outcome o = ping();
        if (o.status == GENESIS_OK)
            continue; /* in flight before the fault took effect */
        int r = o.reason;
        if (r != GENESIS_REASON_COMPONENT_DOWN && r != GENESIS_REASON_BREAKER_OPEN &&
            r != GENESIS_REASON_DEADLINE_EXCEEDED && r != GENESIS_REASON_TIMEOUT &&
            r != GENESIS_REASON_TRANSPORT_ERROR)
            fail_msg("%s: request failed with %s (%s): not a partition's reason", fault,
                     genesis_status_name(o.status), genesis_reason_name(r));
        if (o.ms < DEADLINE_MS / 4 &&
            (r == GENESIS_REASON_COMPONENT_DOWN || r == GENESIS_REASON_BREAKER_OPEN)) {
            o.ms = gt_now_ms() - since;
            return o;
        }
    }
    fail_msg("%s: requests never started to fail fast", fault);
    return (outcome){0};
}

static void expect_heal(const char *fault, int64_t since)
{
    if (!gt_wait_until(serving, NULL, HEAL_MS))
        fail_msg("%s: not healed %d s after the fault was removed", fault, HEAL_MS / 1000);
    /* The very same process serves: no restart was needed. */
    assert_true(kill(g.component.pid, 0) == 0);
    printf("netns: %s: healed %lld ms after the fault was removed\n", fault,
           (long long)(gt_now_ms() - since));
}

static int setup(void **state)
{
    (void)state;
    g.ns_b = getenv("NETNS_B");
    g.addr_a = getenv("ADDR_A");
    g.addr_b = getenv("ADDR_B");
    g.veth_b = getenv("VETH_B");
    if (g.ns_b == NULL || g.addr_a == NULL || g.addr_b == NULL || g.veth_b == NULL) {
        fprintf(stderr, "test_netns: run me through tests/netns/run-netns-test\n");
        return -1;
    }
    if (!gt_find_in_path("ip", g.ip, sizeof(g.ip)))
        return -1;
    char fd_url[128], bus_url[128];
    snprintf(fd_url, sizeof(fd_url), "tcp://%s:0", g.addr_a);
    snprintf(bus_url, sizeof(bus_url), "tcp://%s:0", g.addr_a);
    const char *dargv[] = {GENESISD_PATH, "--front-door", fd_url,        "--events", bus_url,
                           "--http",      "off",          "--log-level", "warn",     NULL};
    if (gt_process_spawn(&g.daemon, dargv, GT_CAPTURE_STDOUT) != 0)
        return -1;
    char line[600];
    if (!gt_process_wait_line(&g.daemon, "ready ", line, sizeof(line), GT_WAIT_MS) ||
        sscanf(line, "ready front_door=%255s event_bus=%255s", g.front, g.bus) != 2) {
        fprintf(stderr, "genesisd did not start: %s\n", line);
        return -1;
    }
    char listen[128];
    snprintf(listen, sizeof(listen), "tcp://%s:0", g.addr_b);
    const char *sargv[] = {g.ip,   "netns",    "exec",         g.ns_b,  TEST_SERVICE_PATH,
                           "--id", "far",      "--front-door", g.front, "--events",
                           g.bus,  "--listen", listen,         NULL};
    if (gt_process_spawn(&g.component, sargv, GT_CAPTURE_STDOUT) != 0 ||
        !gt_process_wait_line(&g.component, "ready url=", line, sizeof(line), GT_WAIT_MS)) {
        fprintf(stderr, "the component in %s did not start: %s\n", g.ns_b, line);
        return -1;
    }
    snprintf(g.component_url, sizeof(g.component_url), "%.200s", line + strlen("ready url="));
    const char *colon = strrchr(g.component_url, ':');
    g.component_port = colon != NULL ? atoi(colon + 1) : 0;
    genesis_client_options co;
    genesis_client_options_init(&co, GENESIS_CLIENT_OPTIONS_VERSION);
    if (genesis_client_new(&g.cl, &co) != GENESIS_OK ||
        genesis_client_dial(g.cl, g.front, NULL) != GENESIS_OK)
        return -1;
    printf("netns: genesisd %s in A, component %s in B\n", g.front, g.component_url);
    return gt_wait_until(serving, NULL, GT_WAIT_MS) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    genesis_client_free(g.cl);
    gt_process_kill_all();
    return 0;
}

/* Each fault starts from a healthy, serving component (a failed test may leave it healing). */
static int healthy(void **state)
{
    (void)state;
    return gt_wait_until(serving, NULL, HEAL_MS) ? 0 : -1;
}

static int clean_rules(void **state)
{
    (void)state;
    const char *argv[] = {g.ip, "netns", "exec", g.ns_b, "nft", "flush ruleset", NULL};
    gt_run(argv, 10000, NULL, NULL, 0, NULL, 0);
    const char *up[] = {g.ip, "-n", g.ns_b, "link", "set", g.veth_b, "up", NULL};
    gt_run(up, 10000, NULL, NULL, 0, NULL, 0);
    return 0;
}

static void test_full_partition(void **state)
{
    (void)state;
    char rule[256];
    nft_b("add table inet genesis_fault");
    nft_b("add chain inet genesis_fault in { type filter hook input priority 0; policy accept; }");
    nft_b("add chain inet genesis_fault out { type filter hook output priority 0; policy "
          "accept; }");
    snprintf(rule, sizeof(rule), "add rule inet genesis_fault in ip saddr %s drop", g.addr_a);
    nft_b(rule);
    snprintf(rule, sizeof(rule), "add rule inet genesis_fault out ip daddr %s drop", g.addr_a);
    int64_t t0 = gt_now_ms();
    nft_b(rule);
    outcome o = wait_fail_fast("partition (nft drop both ways)", t0);
    printf("netns: partition: requests fail fast with %s %lld ms after it began\n",
           genesis_reason_name(o.reason), (long long)o.ms);
    /* From now on no request waits on the dead link for its deadline: each is answered with
     * the reason (one already routed when the instance was declared DOWN may take a moment
     * to learn it; the figures are printed). */
    int fast = 0;
    for (int i = 0; i < 5; i++) {
        outcome f = ping();
        printf("netns: partition: %s %s in %lld ms\n", genesis_status_name(f.status),
               genesis_reason_name(f.reason), (long long)f.ms);
        assert_int_equal(f.status, GENESIS_UNAVAILABLE);
        assert_true(f.reason == GENESIS_REASON_COMPONENT_DOWN ||
                    f.reason == GENESIS_REASON_BREAKER_OPEN);
        assert_true(f.ms < DEADLINE_MS);
        fast += f.ms < DEADLINE_MS / 4;
    }
    assert_true(fast >= 4);
    gt_sleep_ms(2000); /* a partition of a few seconds: connections see retransmissions */
    t0 = gt_now_ms();
    nft_b("delete table inet genesis_fault");
    expect_heal("partition", t0);
}

static void test_one_way_request_loss(void **state)
{
    (void)state;
    char rule[256];
    nft_b("add table inet genesis_fault");
    nft_b("add chain inet genesis_fault in { type filter hook input priority 0; policy accept; }");
    /* Only the coordinator's connection to the component's listener: its heartbeats to the
     * front door still get through, so it stays UP while every request is lost. */
    snprintf(rule, sizeof(rule), "add rule inet genesis_fault in ip saddr %s tcp dport %d drop",
             g.addr_a, g.component_port);
    int64_t t0 = gt_now_ms();
    nft_b(rule);
    int timeouts = 0;
    for (int i = 0; i < 30; i++) {
        outcome o = ping();
        if (o.status == GENESIS_DEADLINE_EXCEEDED)
            timeouts++;
        if (o.reason == GENESIS_REASON_BREAKER_OPEN && o.ms < DEADLINE_MS / 4) {
            printf("netns: one-way loss: %d requests timed out, then BREAKER_OPEN fails fast "
                   "(%lld ms after the loss began)\n",
                   timeouts, (long long)(gt_now_ms() - t0));
            break;
        }
        if (o.status != GENESIS_OK && o.reason != GENESIS_REASON_DEADLINE_EXCEEDED &&
            o.reason != GENESIS_REASON_TIMEOUT && o.reason != GENESIS_REASON_BREAKER_OPEN)
            fail_msg("one-way loss: %s (%s): expected a timeout or BREAKER_OPEN",
                     genesis_status_name(o.status), genesis_reason_name(o.reason));
        assert_true(i < 29);
    }
    assert_true(timeouts > 0);
    t0 = gt_now_ms();
    nft_b("delete table inet genesis_fault");
    expect_heal("one-way loss", t0);
}

static void test_link_down(void **state)
{
    (void)state;
    int64_t t0 = gt_now_ms();
    link_b("down");
    outcome o = wait_fail_fast("link down", t0);
    printf("netns: link down: requests fail fast with %s %lld ms after it went down\n",
           genesis_reason_name(o.reason), (long long)o.ms);
    gt_sleep_ms(2000);
    t0 = gt_now_ms();
    link_b("up");
    expect_heal("link down/up", t0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_partition, healthy, clean_rules),
        cmocka_unit_test_setup_teardown(test_one_way_request_loss, healthy, clean_rules),
        cmocka_unit_test_setup_teardown(test_link_down, healthy, clean_rules),
    };
    return cmocka_run_group_tests_name("network faults between namespaces", tests, setup, teardown);
}
