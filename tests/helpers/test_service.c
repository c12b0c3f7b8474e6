/* test_service: a remote component for the integration tests, built on genesis_service_*.
 *
 *   test_service --id ID --front-door URL [--events URL] [--listen URL]
 *                [--max-concurrency N] [--tls-ca FILE --tls-cert FILE --tls-key FILE]
 *
 * The TLS files (for tls+tcp:// URLs) default to $GENESIS_TLS_CA, $GENESIS_TLS_CERT and
 * $GENESIS_TLS_KEY.
 * Prints "ready url=<listen url>" on stdout once genesis_service_connect succeeded, then serves
 * until SIGTERM or SIGINT (exit 0). Request types:
 *   ping   -> "pong:<id>"
 *   echo   -> the payload back, with its content type
 *   sleep  -> sleeps <payload> milliseconds (decimal text), replies "slept pid=<pid>"
 *   fail   -> genesis_reply_error(GENESIS_INTERNAL, "asked to fail")
 *   events -> "<n> <type>,<type>,..." : local events received so far and their types
 *   info   -> "max_concurrency=<highest number of handlers seen running at once> pid=<pid>"
 *   barrier -> waits until <payload> handlers (decimal text, this one included) have run at once,
 *             then replies "reached"; ABORTED "barrier not reached" after 10 s. N concurrent
 *             "barrier N" requests all succeed only if the service serves N at once.
 *   other  -> genesis_reply_error(GENESIS_UNIMPLEMENTED, ...)
 * Exit codes: 0 clean stop, 2 usage, 3 setup failed (the genesis status name on stderr). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "genesis/genesis.h"

#define EVENT_TYPES_MAX 8192

static struct {
    const char *id;
    pthread_mutex_t run_mu; /* guards running, max_running */
    pthread_cond_t run_cv;  /* running changed */
    int running;
    int max_running;
    pthread_mutex_t mu; /* guards the event log */
    unsigned long events;
    char types[EVENT_TYPES_MAX];
    size_t types_len;
} state = {.mu = PTHREAD_MUTEX_INITIALIZER,
           .run_mu = PTHREAD_MUTEX_INITIALIZER,
           .run_cv = PTHREAD_COND_INITIALIZER};

static void note_running(int delta)
{
    pthread_mutex_lock(&state.run_mu);
    state.running += delta;
    if (state.running > state.max_running)
        state.max_running = state.running;
    pthread_cond_broadcast(&state.run_cv);
    pthread_mutex_unlock(&state.run_mu);
}

/* Wait up to 10 s until at least n handlers have run at once. The peak, not the current
 * count: the last arrival may finish (and lower the count) before the others wake up. */
static bool barrier(int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&state.run_mu);
    int rv = 0;
    while (state.max_running < n && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&state.run_cv, &state.run_mu, &until);
    bool reached = state.max_running >= n;
    pthread_mutex_unlock(&state.run_mu);
    return reached;
}

static int max_running(void)
{
    pthread_mutex_lock(&state.run_mu);
    int max = state.max_running;
    pthread_mutex_unlock(&state.run_mu);
    return max;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void reply_text(genesis_reply *reply, const char *text)
{
    genesis_reply_set(reply, text, strlen(text), "text/plain");
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)arg;
    note_running(1);
    const char *type = genesis_request_type(req);
    size_t len = 0;
    const char *data = genesis_request_data(req, &len);
    char text[EVENT_TYPES_MAX + 64];

    if (strcmp(type, "ping") == 0) {
        snprintf(text, sizeof(text), "pong:%s", state.id);
        reply_text(reply, text);
    } else if (strcmp(type, "echo") == 0) {
        genesis_reply_set(reply, data, len, genesis_request_content_type(req));
    } else if (strcmp(type, "sleep") == 0) {
        long ms = strtol(data, NULL, 10); /* data is NUL-terminated */
        if (ms < 0 || ms > 60000) {
            genesis_reply_error(reply, GENESIS_INVALID_ARGUMENT, "sleep wants 0..60000 ms");
        } else {
            sleep_ms(ms);
            snprintf(text, sizeof(text), "slept pid=%ld", (long)getpid());
            reply_text(reply, text);
        }
    } else if (strcmp(type, "fail") == 0) {
        genesis_reply_error(reply, GENESIS_INTERNAL, "asked to fail");
    } else if (strcmp(type, "events") == 0) {
        pthread_mutex_lock(&state.mu);
        snprintf(text, sizeof(text), "%lu %s", state.events, state.types);
        pthread_mutex_unlock(&state.mu);
        reply_text(reply, text);
    } else if (strcmp(type, "info") == 0) {
        snprintf(text, sizeof(text), "max_concurrency=%d pid=%ld", max_running(), (long)getpid());
        reply_text(reply, text);
    } else if (strcmp(type, "barrier") == 0) {
        int n = atoi(data);
        if (barrier(n)) {
            reply_text(reply, "reached");
        } else {
            snprintf(text, sizeof(text), "barrier of %d not reached in 10 s: at most %d at once", n,
                     max_running());
            genesis_reply_error(reply, GENESIS_ABORTED, text);
        }
    } else {
        snprintf(text, sizeof(text), "test_service has no request type '%s'", type);
        genesis_reply_error(reply, GENESIS_UNIMPLEMENTED, text);
    }
    note_running(-1);
}

static void on_event(const genesis_event *ev, void *arg)
{
    (void)arg;
    const char *type = genesis_event_type(ev);
    pthread_mutex_lock(&state.mu);
    state.events++;
    size_t n = strlen(type);
    if (state.types_len + n + 2 < sizeof(state.types)) {
        if (state.types_len > 0)
            state.types[state.types_len++] = ',';
        memcpy(state.types + state.types_len, type, n + 1);
        state.types_len += n;
    }
    pthread_mutex_unlock(&state.mu);
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --id ID --front-door URL [--events URL] [--listen URL]"
            " [--max-concurrency N] [--tls-ca FILE --tls-cert FILE --tls-key FILE]\n",
            argv0);
    return 2;
}

static int setup_failed(const char *what, int rv)
{
    fprintf(stderr, "test_service %s: %s failed: %s (%s)\n", state.id, what,
            genesis_status_name(rv), genesis_last_error());
    return 3;
}

int main(int argc, char **argv)
{
    const char *front_door = NULL, *events = NULL, *listen = "tcp://127.0.0.1:0";
    unsigned max_concurrency = 0;
    const char *tls_ca = getenv("GENESIS_TLS_CA"), *tls_cert = getenv("GENESIS_TLS_CERT"),
               *tls_key = getenv("GENESIS_TLS_KEY");
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return usage(argv[0]);
        const char *val = argv[++i];
        if (strcmp(opt, "--id") == 0)
            state.id = val;
        else if (strcmp(opt, "--front-door") == 0)
            front_door = val;
        else if (strcmp(opt, "--events") == 0)
            events = val;
        else if (strcmp(opt, "--listen") == 0)
            listen = val;
        else if (strcmp(opt, "--max-concurrency") == 0)
            max_concurrency = (unsigned)strtoul(val, NULL, 10);
        else if (strcmp(opt, "--tls-ca") == 0)
            tls_ca = val;
        else if (strcmp(opt, "--tls-cert") == 0)
            tls_cert = val;
        else if (strcmp(opt, "--tls-key") == 0)
            tls_key = val;
        else
            return usage(argv[0]);
    }
    if (state.id == NULL || front_door == NULL)
        return usage(argv[0]);

    /* Block the stop signals before any library thread exists, so only sigwait sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    genesis_service_options opts;
    int rv = genesis_service_options_init(&opts, GENESIS_SERVICE_OPTIONS_VERSION);
    if (rv != GENESIS_OK)
        return setup_failed("options_init", rv);
    opts.max_concurrency = max_concurrency;
    opts.tls_ca_file = tls_ca;
    opts.tls_cert_file = tls_cert;
    opts.tls_key_file = tls_key;
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION,
                              .on_request = on_request,
                              .on_event = on_event,
                              .arg = NULL};
    genesis_service *svc = NULL;
    rv = genesis_service_new(&svc, state.id, &comp, &opts);
    if (rv != GENESIS_OK)
        return setup_failed("new", rv);
    rv = genesis_service_listen(svc, listen);
    if (rv != GENESIS_OK) {
        genesis_service_free(svc);
        return setup_failed("listen", rv);
    }
    char url[512];
    rv = genesis_service_get_url(svc, url, sizeof(url));
    if (rv != GENESIS_OK) {
        genesis_service_free(svc);
        return setup_failed("url", rv);
    }
    rv = genesis_service_connect(svc, front_door, events, 10000);
    if (rv != GENESIS_OK) {
        genesis_service_free(svc);
        return setup_failed("connect", rv);
    }
    printf("ready url=%s\n", url);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    genesis_service_free(svc);
    return 0;
}
