/* checkpoint_service: a remote component with durable state, for the checkpoint and
 * supervision fault tests (public API only).
 *
 *   checkpoint_service [--id ID] [--front-door URL] [--events URL] [--listen URL]
 *
 * Defaults come from GENESIS_COMPONENT_ID, GENESIS_FRONT_DOOR and GENESIS_EVENT_BUS (what
 * genesisd's supervisor passes). Its state is one counter, restored from the checkpoint the
 * coordinator hands back at registration. Request types:
 *   incr  -> counter + 1, checkpointed (genesis_service_checkpoint) before the reply:
 *            "count=<n> gen=<generation>"; on a checkpoint failure the counter goes back and
 *            the reply is the error (status, and the reason name in the message)
 *   count -> "count=<n> pid=<pid> restored=<generation restored from, 0 = none>"
 *   fill  -> checkpoint <payload> bytes of filler (decimal text): "gen=<generation>" or error
 *   pid   -> "<pid>"
 * Prints "ready url=<listen url>" once connected. Exit: 0 on SIGTERM/SIGINT, 2 usage, 3 setup. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "genesis/genesis.h"

static struct {
    pthread_mutex_t mu;
    uint64_t counter;
    uint64_t restored_from;
    genesis_service *svc;
} state = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void reply_text(genesis_reply *reply, const char *text)
{
    genesis_reply_set(reply, text, strlen(text), "text/plain");
}

static void reply_failure(genesis_reply *reply, int rv, const char *what)
{
    char text[600];
    snprintf(text, sizeof(text), "%s failed: %s: %s", what, genesis_status_name(rv),
             genesis_last_error());
    genesis_reply_error(reply, rv, text);
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)arg;
    const char *type = genesis_request_type(req);
    char text[256];
    if (strcmp(type, "incr") == 0) {
        /* One at a time: the checkpoint must hold exactly the value we acknowledge. */
        pthread_mutex_lock(&state.mu);
        uint64_t next = state.counter + 1;
        snprintf(text, sizeof(text), "%llu", (unsigned long long)next);
        uint64_t gen = 0;
        int rv = genesis_service_checkpoint(state.svc, text, strlen(text), 5000, &gen);
        if (rv == GENESIS_OK)
            state.counter = next;
        pthread_mutex_unlock(&state.mu);
        if (rv != GENESIS_OK) {
            reply_failure(reply, rv, "checkpoint");
            return;
        }
        snprintf(text, sizeof(text), "count=%llu gen=%llu", (unsigned long long)next,
                 (unsigned long long)gen);
        reply_text(reply, text);
    } else if (strcmp(type, "count") == 0) {
        pthread_mutex_lock(&state.mu);
        snprintf(text, sizeof(text), "count=%llu pid=%ld restored=%llu",
                 (unsigned long long)state.counter, (long)getpid(),
                 (unsigned long long)state.restored_from);
        pthread_mutex_unlock(&state.mu);
        reply_text(reply, text);
    } else if (strcmp(type, "fill") == 0) {
        size_t n = (size_t)strtoul(genesis_request_data(req, NULL), NULL, 10);
        char *filler = malloc(n > 0 ? n : 1);
        if (filler == NULL) {
            genesis_reply_error(reply, GENESIS_RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        for (size_t i = 0; i < n; i++)
            filler[i] = (char)('a' + (i * 7 + (size_t)getpid()) % 26);
        uint64_t gen = 0;
        int rv = genesis_service_checkpoint(state.svc, filler, n, 5000, &gen);
        free(filler);
        if (rv != GENESIS_OK) {
            reply_failure(reply, rv, "checkpoint");
            return;
        }
        snprintf(text, sizeof(text), "gen=%llu", (unsigned long long)gen);
        reply_text(reply, text);
    } else if (strcmp(type, "pid") == 0) {
        snprintf(text, sizeof(text), "%ld", (long)getpid());
        reply_text(reply, text);
    } else {
        snprintf(text, sizeof(text), "checkpoint_service has no request type '%s'", type);
        genesis_reply_error(reply, GENESIS_UNIMPLEMENTED, text);
    }
}

/* The state handed back at registration: the counter as decimal text. */
static int on_restore(const void *data, size_t len, uint64_t generation, void *arg)
{
    (void)arg;
    char text[32];
    if (len == 0 || len >= sizeof(text))
        return GENESIS_INVALID_ARGUMENT; /* e.g. a "fill" state: not ours to parse */
    memcpy(text, data, len);
    text[len] = '\0';
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0')
        return GENESIS_INVALID_ARGUMENT;
    pthread_mutex_lock(&state.mu);
    state.counter = v;
    state.restored_from = generation;
    pthread_mutex_unlock(&state.mu);
    return GENESIS_OK;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : fallback;
}

int main(int argc, char **argv)
{
    const char *id = env_or("GENESIS_COMPONENT_ID", NULL);
    const char *front_door = env_or("GENESIS_FRONT_DOOR", NULL);
    const char *events = env_or("GENESIS_EVENT_BUS", NULL);
    const char *listen = "tcp://127.0.0.1:0";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--id") == 0)
            id = argv[i + 1];
        else if (strcmp(argv[i], "--front-door") == 0)
            front_door = argv[i + 1];
        else if (strcmp(argv[i], "--events") == 0)
            events = argv[i + 1];
        else if (strcmp(argv[i], "--listen") == 0)
            listen = argv[i + 1];
        else
            id = NULL; /* unknown flag: usage */
    }
    if (id == NULL || front_door == NULL || argc % 2 == 0) {
        fprintf(stderr, "usage: checkpoint_service [--id ID] [--front-door URL] [--events URL] "
                        "[--listen URL] (defaults from GENESIS_COMPONENT_ID, "
                        "GENESIS_FRONT_DOOR, GENESIS_EVENT_BUS)\n");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    genesis_component comp = {
        .version = GENESIS_COMPONENT_VERSION, .on_request = on_request, .restore = on_restore};
    int rv = genesis_service_new(&state.svc, id, &comp, NULL);
    if (rv == GENESIS_OK)
        rv = genesis_service_listen(state.svc, listen);
    char url[512] = "";
    if (rv == GENESIS_OK)
        rv = genesis_service_get_url(state.svc, url, sizeof(url));
    if (rv == GENESIS_OK)
        rv = genesis_service_connect(state.svc, front_door, events, 10000);
    if (rv != GENESIS_OK) {
        fprintf(stderr, "checkpoint_service %s: setup failed: %s (%s)\n", id,
                genesis_status_name(rv), genesis_last_error());
        genesis_service_free(state.svc);
        return 3;
    }
    printf("ready url=%s\n", url);
    fflush(stdout);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    genesis_service_free(state.svc);
    return 0;
}
