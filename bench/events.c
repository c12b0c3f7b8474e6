/* Local-event fan-out: one emitter floods genesis_coordinator_emit as fast as it can while 4
 * (then 64) in-process components receive every event through their bounded, in-order event
 * queues (default depth 50). Reported: deliveries per second (events x receivers that reached
 * on_event), the emit rate offered, drops counted by the coordinator at full queues, and the
 * gaps each component sees in the event sequence numbers: every loss must be visible, so the
 * gaps seen must equal the drops counted.
 *
 *   bench_events [--quick] [--json FILE] [--repeats N] */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "bench_report.h"

#define MAX_RECEIVERS 64

typedef struct receiver {
    atomic_ulong received;
    atomic_ulong gaps;
    uint64_t last_seq; /* on_event runs one at a time per component */
    char id[16];
} receiver;

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "", 0, NULL);
}

static void on_event(const genesis_event *ev, void *arg)
{
    receiver *r = arg;
    uint64_t seq = genesis_event_sequence(ev);
    if (r->last_seq != 0 && seq > r->last_seq + 1)
        atomic_fetch_add(&r->gaps, seq - r->last_seq - 1);
    r->last_seq = seq;
    atomic_fetch_add(&r->received, 1);
}

typedef struct round_result {
    double delivered_per_s, emitted_per_s;
    double drop_pct; /* of events x receivers */
    unsigned long drops, gaps;
} round_result;

static round_result run_round(int receivers, long events)
{
    genesis_coordinator_options opts;
    genesis_coordinator_options_init(&opts, GENESIS_COORDINATOR_OPTIONS_VERSION);
    opts.log_level = GENESIS_LOG_ERROR;
    genesis_coordinator *co = NULL;
    receiver *rs = calloc((size_t)receivers, sizeof(*rs));
    if (rs == NULL || genesis_coordinator_new(&co, &opts) != GENESIS_OK) {
        fprintf(stderr, "bench_events: setup failed: %s\n", genesis_last_error());
        exit(1);
    }
    for (int i = 0; i < receivers; i++) {
        snprintf(rs[i].id, sizeof(rs[i].id), "rx%d", i);
        genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                                  .on_request = on_request,
                                  .on_event = on_event,
                                  .arg = &rs[i]};
        if (genesis_coordinator_register(co, rs[i].id, &comp) != GENESIS_OK) {
            fprintf(stderr, "bench_events: register failed: %s\n", genesis_last_error());
            exit(1);
        }
    }
    unsigned long queued = 0, dropped = 0;
    double t0 = bench_now_s();
    for (long i = 0; i < events; i++) {
        unsigned int d = 0, x = 0;
        if (genesis_coordinator_emit(co, "tick", "{}", 2, NULL, &d, &x) != GENESIS_OK) {
            fprintf(stderr, "bench_events: emit failed: %s\n", genesis_last_error());
            exit(1);
        }
        queued += d;
        dropped += x;
    }
    double t_emit = bench_now_s() - t0;
    /* Wait until every queued event was delivered (bounded: queues hold 50 each). */
    unsigned long got = 0;
    for (int spin = 0; spin < 10000; spin++) {
        got = 0;
        for (int i = 0; i < receivers; i++)
            got += atomic_load(&rs[i].received);
        if (got >= queued)
            break;
        nng_msleep(1);
    }
    double t_all = bench_now_s() - t0;
    unsigned long gaps = 0;
    for (int i = 0; i < receivers; i++) {
        gaps += atomic_load(&rs[i].gaps);
        /* Drops after a component's last delivered event leave no gap behind them. */
        if (rs[i].last_seq < (uint64_t)events)
            gaps += (unsigned long)events - rs[i].last_seq;
    }
    genesis_coordinator_free(co);
    free(rs);
    return (round_result){.delivered_per_s = (double)got / t_all,
                          .emitted_per_s = (double)events / t_emit,
                          .drop_pct = 100.0 * (double)dropped / ((double)events * receivers),
                          .drops = dropped,
                          .gaps = gaps};
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, "bench_events [--quick] [--json FILE] [--repeats N]", 5, &a);
    static const int fanout[] = {4, 64};
    long events[] = {a.quick ? 5000 : 200000, a.quick ? 500 : 20000};
    int R = a.repeats;
    bench_report rep = {.bench = "events"};
    for (int f = 0; f < 2; f++) {
        double *dps = calloc((size_t)R, sizeof(double)), *eps = calloc((size_t)R, sizeof(double));
        double *pct = calloc((size_t)R, sizeof(double));
        if (dps == NULL || eps == NULL || pct == NULL)
            return 1;
        unsigned long drops = 0, gaps = 0;
        for (int r = 0; r < R; r++) {
            round_result rr = run_round(fanout[f], events[f]);
            dps[r] = rr.delivered_per_s;
            eps[r] = rr.emitted_per_s;
            pct[r] = rr.drop_pct;
            drops += rr.drops;
            gaps += rr.gaps;
        }
        char name[128];
        snprintf(name, sizeof(name), "local events to %d components: delivered", fanout[f]);
        bench_add(&rep, name, bench_median(dps, R), "events/s", NULL, 0, NULL, BENCH_MET_NONE);
        snprintf(name, sizeof(name), "local events to %d components: emitted (flood)", fanout[f]);
        bench_add(&rep, name, bench_median(eps, R), "emits/s", NULL, 0, NULL, BENCH_MET_NONE);
        snprintf(name, sizeof(name), "local events to %d components: dropped at full queues",
                 fanout[f]);
        bench_add(&rep, name, bench_median(pct, R), "%", NULL, 0, NULL, BENCH_MET_NONE);
        snprintf(name, sizeof(name),
                 "local events to %d components: gaps seen by receivers (all rounds)", fanout[f]);
        char base[64];
        snprintf(base, sizeof(base), "drops counted by the coordinator");
        bench_add(&rep, name, (double)gaps, "events", base, (double)drops,
                  "every loss visible (gaps = drops)",
                  gaps == drops ? BENCH_MET_YES : BENCH_MET_NO);
        free(dps);
        free(eps);
        free(pct);
    }
    printf("(%ld / %ld events per round to 4 / 64 components, median of %d rounds)\n", events[0],
           events[1], R);
    return bench_write(&rep, a.json) == 0 ? 0 : 1;
}
