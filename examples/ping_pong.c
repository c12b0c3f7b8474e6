/* ping_pong: the ping/pong scenario, entirely in one process.
 *
 * A coordinator with two in-process components, comp1 and comp2. comp1 pings comp2 and prints
 * the reply; then comp1 emits a local event "status_update" and comp2 (every component but
 * the source) receives it. No sockets are involved: calls to in-process components never
 * touch the network. Exits 0 when everything happened as expected, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <genesis/genesis.h>

/* How long to wait for comp2 to see the event before declaring failure. */
#define EVENT_WAIT_MS 5000

/* Per-component state, passed to every callback as its arg. Callbacks run on library worker
 * threads, so anything they share with main() is guarded by a mutex. */
struct component_state {
    const char *id;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int events_seen;
};

/* Request handler: "ping" replies "Pong from <id>"; anything else is UNIMPLEMENTED. */
static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    const struct component_state *st = arg;
    if (strcmp(genesis_request_type(req), "ping") == 0) {
        char text[64];
        int n = snprintf(text, sizeof text, "Pong from %s", st->id);
        /* The reply bytes are copied, so a stack buffer is fine. */
        if (genesis_reply_set(reply, text, (size_t)n, "text/plain") != GENESIS_OK)
            genesis_reply_error(reply, GENESIS_INTERNAL, genesis_last_error());
        return;
    }
    genesis_reply_error(reply, GENESIS_UNIMPLEMENTED, "only ping is served here");
}

/* Event handler: events for one component arrive one at a time, in order. */
static void on_event(const genesis_event *ev, void *arg)
{
    struct component_state *st = arg;
    size_t len = 0;
    const char *data = genesis_event_data(ev, &len); /* NUL-terminated, so printable */
    printf("%s saw event %s from %s: %.*s\n", st->id, genesis_event_type(ev),
           genesis_event_source(ev), (int)len, data);
    fflush(stdout);

    pthread_mutex_lock(&st->lock);
    st->events_seen++;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

static int state_init(struct component_state *st, const char *id)
{
    st->id = id;
    st->events_seen = 0;
    /* The condition variable waits on CLOCK_MONOTONIC so a clock change cannot stretch it. */
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (err == 0)
        err = pthread_cond_init(&st->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (err != 0)
        return -1;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        pthread_cond_destroy(&st->cond);
        return -1;
    }
    return 0;
}

static void state_destroy(struct component_state *st)
{
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->lock);
}

/* Wait until st has seen at least one event, or timeout_ms passed. Returns events seen. */
static int wait_for_event(struct component_state *st, long timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->lock);
    int err = 0;
    while (st->events_seen == 0 && err != ETIMEDOUT)
        err = pthread_cond_timedwait(&st->cond, &st->lock, &deadline);
    int seen = st->events_seen;
    pthread_mutex_unlock(&st->lock);
    return seen;
}

static int events_seen(struct component_state *st)
{
    pthread_mutex_lock(&st->lock);
    int seen = st->events_seen;
    pthread_mutex_unlock(&st->lock);
    return seen;
}

static int register_component(genesis_coordinator *c, struct component_state *st)
{
    genesis_component comp;
    memset(&comp, 0, sizeof comp);
    comp.version = GENESIS_COMPONENT_VERSION;
    comp.on_request = on_request;
    comp.on_event = on_event;
    comp.arg = st; /* must outlive the registration: here, until genesis_coordinator_free */
    int rc = genesis_coordinator_register(c, st->id, &comp);
    if (rc != GENESIS_OK)
        fprintf(stderr, "register %s: %s (%s)\n", st->id, genesis_last_error(),
                genesis_status_name(rc));
    return rc;
}

int main(void)
{
    struct component_state comp1, comp2;
    if (state_init(&comp1, "comp1") != 0 || state_init(&comp2, "comp2") != 0) {
        fprintf(stderr, "cannot initialise synchronisation objects\n");
        return 1;
    }

    /* 1. A coordinator with default options. It needs no listen() to serve in-process
     *    components; listening only opens the front door and event bus to other processes. */
    genesis_coordinator *coord = NULL;
    int rc = genesis_coordinator_new(&coord, NULL);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesis_coordinator_new: %s\n", genesis_last_error());
        return 1;
    }

    int ok = 0;
    genesis_result *res = NULL;
    if (register_component(coord, &comp1) != GENESIS_OK ||
        register_component(coord, &comp2) != GENESIS_OK)
        goto out;

    /* 2. comp1 pings comp2. Call options say who is calling and how long we wait. */
    genesis_call_options call;
    rc = genesis_call_options_init(&call, GENESIS_CALL_OPTIONS_VERSION);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesis_call_options_init: %s\n", genesis_last_error());
        goto out;
    }
    call.source = "comp1";
    call.timeout_ms = 2000;

    rc = genesis_coordinator_request(coord, "comp2", "ping", NULL, 0, &call, &res);
    if (rc != GENESIS_OK) {
        /* Failures also come with a result that explains them (status, reason, message). */
        fprintf(stderr, "ping failed: %s (%s): %s\n", genesis_status_name(rc),
                res ? genesis_reason_name(genesis_result_reason(res)) : "-",
                res ? genesis_result_message(res) : genesis_last_error());
        goto out;
    }
    size_t len = 0;
    const char *reply = genesis_result_data(res, &len);
    printf("comp2 replied to comp1: %.*s\n", (int)len, reply);
    fflush(stdout);
    if (strncmp(reply, "Pong from comp2", len) != 0 || len != strlen("Pong from comp2")) {
        fprintf(stderr, "unexpected reply\n");
        goto out;
    }

    /* 3. comp1 emits a local event. It goes to every in-process component except the source
     *    (comp1), i.e. to comp2. emit never blocks: it only queues the event. */
    const char *payload = "{\"ok\":true}";
    call.content_type = "application/json";
    unsigned int delivered = 0, dropped = 0;
    rc = genesis_coordinator_emit(coord, "status_update", payload, strlen(payload), &call,
                                  &delivered, &dropped);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "emit failed: %s (%s)\n", genesis_last_error(), genesis_status_name(rc));
        goto out;
    }
    printf("status_update queued for %u component(s), dropped for %u\n", delivered, dropped);

    /* 4. Wait (bounded) for comp2's handler to run; never sleep-and-hope. */
    if (wait_for_event(&comp2, EVENT_WAIT_MS) == 0) {
        fprintf(stderr, "comp2 did not receive status_update within %d ms\n", EVENT_WAIT_MS);
        goto out;
    }
    ok = 1;

out:
    genesis_result_free(res);
    /* 5. Stop drains in-flight work and joins the library's threads; free releases the rest.
     *    After free no callback runs, so the component states can be destroyed. */
    rc = genesis_coordinator_stop(coord);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesis_coordinator_stop: %s\n", genesis_last_error());
        ok = 0;
    }
    genesis_coordinator_free(coord);

    /* The source never receives its own event. Checked after free: nothing can still arrive. */
    if (ok && events_seen(&comp1) != 0) {
        fprintf(stderr, "comp1 received its own event\n");
        ok = 0;
    }
    state_destroy(&comp1);
    state_destroy(&comp2);
    printf("%s\n", ok ? "done" : "FAILED");
    return ok ? 0 : 1;
}
