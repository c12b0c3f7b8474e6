/* The demo components comp1 and comp2 (in-process callbacks). */
#define _POSIX_C_SOURCE 200809L

#include "demo_components.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest payload excerpt written to an event log line. */
#define DEMO_EVENT_DATA_MAX 512

struct demo_component {
    const char *id;
    genesis_coordinator *coordinator;
    genesis_log_fn log;
    void *log_arg;
    atomic_uint_fast64_t served; /* requests answered: the state its checkpoints carry */
};

/* Non-zero: every request is logged at debug level with its request id (genesisd sets it with
 * the log level, so the line costs nothing otherwise). */
static atomic_int demo_debug;

void demo_components_set_debug(int on)
{
    atomic_store(&demo_debug, on);
}

static struct demo_component demo_components[] = {
    {"comp1", NULL, NULL, NULL, 0},
    {"comp2", NULL, NULL, NULL, 0},
};

static void demo_on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    struct demo_component *dc = arg;
    const char *type = genesis_request_type(req);
    int rc;
    if (atomic_load(&demo_debug) && dc->log != NULL) {
        char line[400];
        snprintf(line, sizeof line, "%s serves %.128s from %.64s request_id=%" PRIu64, dc->id, type,
                 genesis_request_source(req), genesis_request_id(req));
        dc->log(GENESIS_LOG_DEBUG, line, dc->log_arg);
    }

    if (strcmp(type, "count") == 0) {
        char text[32];
        int n = snprintf(text, sizeof text, "%" PRIuFAST64, atomic_load(&dc->served));
        rc = genesis_reply_set(reply, text, (size_t)n, "text/plain");
    } else if (strcmp(type, "ping") == 0) {
        atomic_fetch_add(&dc->served, 1);
        char text[160];
        int n = snprintf(text, sizeof text, "Pong from %s", dc->id);
        rc = genesis_reply_set(reply, text, (size_t)n, "text/plain");
    } else if (strcmp(type, "echo") == 0) {
        atomic_fetch_add(&dc->served, 1);
        size_t len = 0;
        const void *data = genesis_request_data(req, &len);
        const char *content_type = genesis_request_content_type(req);
        rc = genesis_reply_set(reply, data, len,
                               content_type != NULL && content_type[0] != '\0' ? content_type
                                                                               : NULL);
    } else {
        char message[256];
        snprintf(message, sizeof message, "%s has no handler for '%s'", dc->id, type);
        rc = genesis_reply_error(reply, GENESIS_UNIMPLEMENTED, message);
    }
    if (rc != GENESIS_OK)
        genesis_reply_error(reply, rc, genesis_last_error());
}

/* Copy at most DEMO_EVENT_DATA_MAX bytes of data into out, replacing control and non-ASCII
 * bytes with '.', so a log line stays one printable line whatever the payload. */
static void printable_excerpt(char *out, size_t size, const unsigned char *data, size_t len)
{
    size_t n = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (data[i] >= 0x20 && data[i] < 0x7f) ? (char)data[i] : '.';
    out[n] = '\0';
}

/* An external event (a WebSocket client's message through the gateway) is relayed to every
 * other external client: a chat room broadcast. */
static void relay_external(const struct demo_component *dc, const genesis_event *ev)
{
    size_t len = 0;
    const void *data = genesis_event_data(ev, &len);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.source = genesis_event_source(ev); /* the sender does not get its own message back */
    opts.content_type = genesis_event_content_type(ev);
    if (genesis_coordinator_emit_external(dc->coordinator, genesis_event_type(ev), data, len,
                                          &opts) != GENESIS_OK &&
        dc->log != NULL)
        dc->log(GENESIS_LOG_WARN, genesis_last_error(), dc->log_arg);
}

static void demo_on_event(const genesis_event *ev, void *arg)
{
    const struct demo_component *dc = arg;
    if (genesis_event_is_external(ev))
        relay_external(dc, ev);
    if (dc->log == NULL)
        return;
    size_t len = 0;
    const unsigned char *data = genesis_event_data(ev, &len);
    char excerpt[DEMO_EVENT_DATA_MAX + 1];
    printable_excerpt(excerpt, sizeof excerpt, data, len);

    char message[1024];
    snprintf(message, sizeof message, "%s received %s event %s from %s: %s%s", dc->id,
             genesis_event_is_external(ev) ? "external" : "local", genesis_event_type(ev),
             genesis_event_source(ev), excerpt, len > DEMO_EVENT_DATA_MAX ? "..." : "");
    dc->log(GENESIS_LOG_INFO, message, dc->log_arg);
}

/* State checkpoints: "served=N". */
static int demo_snapshot(genesis_snapshot *snap, void *arg)
{
    struct demo_component *dc = arg;
    char text[48];
    int n = snprintf(text, sizeof text, "served=%" PRIuFAST64, atomic_load(&dc->served));
    return genesis_snapshot_set(snap, text, (size_t)n);
}

static int demo_restore(const void *data, size_t len, uint64_t generation, void *arg)
{
    struct demo_component *dc = arg;
    (void)generation;
    char text[48];
    if (len == 0 || len >= sizeof text)
        return GENESIS_INVALID_ARGUMENT;
    memcpy(text, data, len);
    text[len] = '\0';
    char *end = NULL;
    if (strncmp(text, "served=", 7) != 0)
        return GENESIS_INVALID_ARGUMENT;
    unsigned long long v = strtoull(text + 7, &end, 10);
    if (end == text + 7 || *end != '\0')
        return GENESIS_INVALID_ARGUMENT;
    atomic_store(&dc->served, (uint_fast64_t)v);
    return GENESIS_OK;
}

int demo_components_register(genesis_coordinator *c, genesis_log_fn log, void *log_arg)
{
    for (size_t i = 0; i < sizeof demo_components / sizeof demo_components[0]; i++) {
        struct demo_component *dc = &demo_components[i];
        dc->coordinator = c;
        dc->log = log;
        dc->log_arg = log_arg;

        genesis_component component;
        memset(&component, 0, sizeof component);
        component.version = GENESIS_COMPONENT_VERSION;
        component.on_request = demo_on_request;
        component.on_event = demo_on_event;
        component.arg = dc;
        component.snapshot = demo_snapshot;
        component.restore = demo_restore;

        int rc = genesis_coordinator_register(c, dc->id, &component);
        if (rc != GENESIS_OK)
            return rc;
    }
    return GENESIS_OK;
}
