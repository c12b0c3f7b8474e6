/* remote_component: a component in its own process (the "service" role).
 *
 * It listens on its own address, registers with a coordinator's front door, heartbeats in the
 * background and serves requests the coordinator forwards to it:
 *   ping  -> "Pong from <id> (pid N)"
 *   echo  -> the request's payload and content type
 *   work  -> sleeps the number of milliseconds in the payload (e.g. 250), capped to the
 *            request's remaining deadline, then replies {"slept_ms":N}: for concurrency demos
 * Local events arrive on the event bus and are printed to stderr.
 *
 *   remote_component [--id ID] [--front-door URL] [--events URL] [--listen URL]
 *
 * Prints "ready url=<listen url>" on stdout once registered; SIGINT/SIGTERM unregister it and
 * exit 0. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <genesis/genesis.h>

struct service_state {
    const char *id;
    long pid;
};

static void reply_or_fail(genesis_reply *reply, const void *data, size_t len,
                          const char *content_type)
{
    if (genesis_reply_set(reply, data, len, content_type) != GENESIS_OK)
        genesis_reply_error(reply, GENESIS_RESOURCE_EXHAUSTED, genesis_last_error());
}

/* "work": sleep as asked, but never past the caller's deadline: the caller would not wait. */
static void do_work(const genesis_request *req, genesis_reply *reply)
{
    const char *data = genesis_request_data(req, NULL); /* NUL-terminated */
    char *end = NULL;
    errno = 0;
    double ms = strtod(data, &end);
    if (errno != 0 || end == data || ms < 0) {
        genesis_reply_error(reply, GENESIS_INVALID_ARGUMENT,
                            "work needs a number of milliseconds as payload, e.g. 250");
        return;
    }
    uint32_t remaining = genesis_request_remaining_ms(req);
    long sleep_ms = ms > (double)remaining ? (long)remaining : (long)ms;

    struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    char text[64];
    int n = snprintf(text, sizeof text, "{\"slept_ms\":%ld}", sleep_ms);
    reply_or_fail(reply, text, (size_t)n, "application/json");
}

/* Runs on a library worker thread, possibly several at once (max_concurrency). */
static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    const struct service_state *st = arg;
    const char *type = genesis_request_type(req);

    if (strcmp(type, "ping") == 0) {
        char text[192];
        int n = snprintf(text, sizeof text, "Pong from %s (pid %ld)", st->id, st->pid);
        reply_or_fail(reply, text, (size_t)n, "text/plain");
    } else if (strcmp(type, "echo") == 0) {
        size_t len = 0;
        const void *data = genesis_request_data(req, &len);
        const char *ct = genesis_request_content_type(req);
        reply_or_fail(reply, data, len, ct[0] != '\0' ? ct : NULL);
    } else if (strcmp(type, "work") == 0) {
        do_work(req, reply);
    } else {
        char message[256];
        snprintf(message, sizeof message, "%s has no handler for '%s'", st->id, type);
        genesis_reply_error(reply, GENESIS_UNIMPLEMENTED, message);
    }
}

static void on_event(const genesis_event *ev, void *arg)
{
    const struct service_state *st = arg;
    size_t len = 0;
    const char *data = genesis_event_data(ev, &len);
    fprintf(stderr, "%s received event %s from %s: %.*s\n", st->id, genesis_event_type(ev),
            genesis_event_source(ev), (int)len, data);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: remote_component [--id ID] [--front-door URL] [--events URL] "
                 "[--listen URL]\n"
                 "  --id ID           component id (default comp3)\n"
                 "  --front-door URL  coordinator front door (default $GENESIS_FRONT_DOOR or "
                 "tcp://127.0.0.1:7400)\n"
                 "  --events URL      coordinator event bus (default $GENESIS_EVENT_BUS or "
                 "tcp://127.0.0.1:7401)\n"
                 "  --listen URL      where the coordinator reaches us (default "
                 "ipc:///tmp/genesis-<id>.sock)\n");
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : fallback;
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"id", required_argument, NULL, 'i'},     {"front-door", required_argument, NULL, 'f'},
        {"events", required_argument, NULL, 'e'}, {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *id = "comp3";
    const char *front_door = env_or("GENESIS_FRONT_DOOR", "tcp://127.0.0.1:7400");
    const char *events = env_or("GENESIS_EVENT_BUS", "tcp://127.0.0.1:7401");
    const char *listen_url = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            id = optarg;
            break;
        case 'f':
            front_door = optarg;
            break;
        case 'e':
            events = optarg;
            break;
        case 'l':
            listen_url = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    char default_listen[256];
    if (listen_url == NULL) {
        snprintf(default_listen, sizeof default_listen, "ipc:///tmp/genesis-%s.sock", id);
        listen_url = default_listen;
    }

    /* Block SIGINT/SIGTERM before the library starts its threads (they inherit the mask);
     * main collects them with sigwait below, so no code runs in a signal handler. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0) {
        fprintf(stderr, "cannot block signals\n");
        return 1;
    }

    struct service_state state = {id, (long)getpid()};
    genesis_component comp;
    memset(&comp, 0, sizeof comp);
    comp.version = GENESIS_COMPONENT_VERSION;
    comp.on_request = on_request;
    comp.on_event = on_event;
    comp.arg = &state; /* lives until main returns, after genesis_service_free */

    /* 1. Create the service, 2. listen where the coordinator will dial us, 3. register. */
    genesis_service *svc = NULL;
    int rc = genesis_service_new(&svc, id, &comp, NULL);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesis_service_new(%s): %s (%s)\n", id, genesis_last_error(),
                genesis_status_name(rc));
        return 1;
    }
    rc = genesis_service_listen(svc, listen_url);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "cannot listen on %s: %s (%s)\n", listen_url, genesis_last_error(),
                genesis_status_name(rc));
        genesis_service_free(svc);
        return 1;
    }
    rc = genesis_service_connect(svc, front_door, events, 10000);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "cannot register %s with %s: %s (%s)\n", id, front_door,
                genesis_last_error(), genesis_status_name(rc));
        genesis_service_free(svc);
        return 1;
    }
    char url[512];
    rc = genesis_service_get_url(svc, url, sizeof url);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesis_service_get_url: %s\n", genesis_last_error());
        genesis_service_free(svc);
        return 1;
    }
    printf("ready url=%s\n", url);
    fflush(stdout);

    /* 4. Serve until asked to stop. Requests and heartbeats run on the library's threads. */
    int sig = 0;
    if (sigwait(&stop_signals, &sig) != 0)
        sig = 0; /* only an invalid set fails; stop rather than hang */
    fprintf(stderr, "%s: signal %d, served %llu request(s), unregistering\n", id, sig,
            (unsigned long long)genesis_service_get_requests_served(svc));

    /* 5. Unregister, wait for running handlers, close the sockets. */
    genesis_service_free(svc);
    return 0;
}
