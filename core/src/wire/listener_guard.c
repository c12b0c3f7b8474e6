/* Listener watchdog against NNG 1.5.2's wedged listeners (see listener_guard.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/listener_guard.h"

#define MAX_WATCHED             4
#define PROBE_TIMEOUT_MS        1000
#define FAILURES_BEFORE_RESTART 2
#define PROBE_RETRY_MS          1000 /* after a failed probe: confirm quickly */

typedef struct watched {
    nng_socket sock;
    nng_listener listener;
    char url[256];       /* where it listens */
    char probe_url[256]; /* where the probe dials (loopback for a wildcard address) */
    char what[32];
    gn_probe_open_fn open_probe;
    int failures;
    uint64_t accepted;      /* connections the socket attached from this listener */
    uint64_t accepted_seen; /* accepted at the last round */
} watched;

struct gn_guard {
    const gn_logger *log;
    uint32_t interval_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool stopping;
    watched w[MAX_WATCHED];
    int n;
    atomic_uint_fast64_t *restarts;
    bool probe_connected; /* the current probe's side of the handshake completed */
};

/* Counts connections the watched listeners really accepted (the socket attached the pipe).
 * Runs on NNG threads. */
static void pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    gn_guard *g = arg;
    int listener = nng_listener_id(nng_pipe_listener(p));
    pthread_mutex_lock(&g->lock);
    for (int i = 0; i < g->n; i++) {
        if (nng_listener_id(g->w[i].listener) == listener)
            g->w[i].accepted++;
    }
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->lock);
}

static void deadline_in(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void init_monotonic_cond(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* The probe's own side of the handshake: counts pipes attached to the probe socket. */
static void probe_pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    gn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    g->probe_connected = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->lock);
}

/* True when the watched socket attaches a new connection from this listener within the
 * timeout. Only the listener side tells: a wedged NNG 1.5.2 listener still completes the
 * handshake at the transport level, it just never hands the pipe to the socket. The probe
 * also waits for its own side, so it never hangs up mid-handshake (which is what wedges a
 * listener). Called and returns with g->lock held. */
static bool probe(gn_guard *g, watched *w)
{
    uint64_t before = w->accepted;
    g->probe_connected = false;
    pthread_mutex_unlock(&g->lock);
    nng_socket s;
    if (w->open_probe(&s) != 0) {
        pthread_mutex_lock(&g->lock);
        return true; /* cannot tell: out of resources here is not the listener's fault */
    }
    bool dialed = nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, probe_pipe_added, g) == 0 &&
                  nng_dial(s, w->probe_url, NULL, NNG_FLAG_NONBLOCK) == 0;
    pthread_mutex_lock(&g->lock);
    struct timespec until;
    deadline_in(&until, PROBE_TIMEOUT_MS);
    while (dialed && (w->accepted == before || !g->probe_connected) && !g->stopping) {
        if (pthread_cond_timedwait(&g->cv, &g->lock, &until) == ETIMEDOUT)
            break;
    }
    bool ok = !dialed || w->accepted != before || g->stopping;
    pthread_mutex_unlock(&g->lock);
    nng_close(s);
    pthread_mutex_lock(&g->lock);
    return ok;
}

/* Called with g->lock held; NNG calls are made unlocked (they may run pipe callbacks). */
static void restart(gn_guard *g, watched *w)
{
    nng_listener old = w->listener;
    pthread_mutex_unlock(&g->lock);
    nng_listener_close(old);
    nng_listener l;
    int err = nng_listen(w->sock, w->url, &l, 0);
    pthread_mutex_lock(&g->lock);
    if (err != 0) {
        gn_log(g->log, GENESIS_LOG_ERROR,
               "%s listener at %s stopped accepting and cannot be re-created: %s (will retry)",
               w->what, w->url, nng_strerror(err));
        return;
    }
    w->listener = l;
    w->failures = 0;
    if (g->restarts != NULL)
        atomic_fetch_add(g->restarts, 1);
    gn_log(g->log, GENESIS_LOG_WARN,
           "%s listener at %s stopped accepting connections (NNG 1.5.2 bug nanomsg/nng#1518, "
           "triggered by a peer that hung up mid-handshake): re-created it; its established "
           "connections were dropped and will reconnect",
           w->what, w->url);
}

static void *guard_main(void *arg)
{
    gn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    uint32_t wait_ms = g->interval_ms;
    while (!g->stopping) {
        struct timespec until;
        deadline_in(&until, wait_ms);
        while (!g->stopping && pthread_cond_timedwait(&g->cv, &g->lock, &until) != ETIMEDOUT) {
        }
        bool suspect = false;
        for (int i = 0; i < g->n && !g->stopping; i++) {
            watched *w = &g->w[i];
            /* A listener that accepted a connection since the last round is not wedged: no
             * probe. Fewer probes matter beyond their cost: every probe closes a socket and
             * two pipes, and each close is a chance for NNG 1.5.2's reaper to stall for good
             * (nanomsg/nng#1543; docs/known-limits.md). */
            if (w->failures == 0 && w->accepted != w->accepted_seen) {
                w->accepted_seen = w->accepted;
                continue;
            }
            if (probe(g, w)) {
                w->failures = 0;
            } else if (++w->failures >= FAILURES_BEFORE_RESTART && !g->stopping) {
                restart(g, w);
            } else {
                suspect = true;
            }
            w->accepted_seen = w->accepted;
        }
        wait_ms = suspect ? PROBE_RETRY_MS : g->interval_ms;
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

gn_guard *gn_guard_new(const gn_logger *log, uint32_t interval_ms, atomic_uint_fast64_t *restarts)
{
    gn_guard *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->log = log;
    g->interval_ms = interval_ms;
    g->restarts = restarts;
    pthread_mutex_init(&g->lock, NULL);
    init_monotonic_cond(&g->cv);
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    return g;
}

/* A wildcard listen address cannot be dialed: probe it through loopback instead. */
static void loopback_for_wildcard(char *out, size_t size, const char *url)
{
    static const char *const wild[][2] = {{"://0.0.0.0:", "://127.0.0.1:"},
                                          {"://*:", "://127.0.0.1:"},
                                          {"://:", "://127.0.0.1:"},
                                          {"://[::]:", "://[::1]:"}};
    for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
        const char *at = strstr(url, wild[i][0]);
        if (at != NULL) {
            snprintf(out, size, "%.*s%s%s", (int)(at - url), url, wild[i][1],
                     at + strlen(wild[i][0]));
            return;
        }
    }
    snprintf(out, size, "%s", url);
}

int gn_guard_watch(gn_guard *g, nng_socket sock, nng_listener l, const char *url,
                   gn_probe_open_fn open_probe, const char *what)
{
    if (strncmp(url, "ipc://", 6) != 0 && strncmp(url, "tcp://", 6) != 0 &&
        strncmp(url, "tcp4://", 7) != 0 && strncmp(url, "tcp6://", 7) != 0)
        return GENESIS_OK;
    if (strlen(url) >= sizeof(g->w[0].url))
        return GENESIS_INVALID_ARGUMENT;
    pthread_mutex_lock(&g->lock);
    int rv = GENESIS_RESOURCE_EXHAUSTED;
    if (g->n < MAX_WATCHED) {
        watched *w = &g->w[g->n];
        *w = (watched){.sock = sock, .listener = l, .open_probe = open_probe};
        snprintf(w->what, sizeof(w->what), "%s", what);
        snprintf(w->url, sizeof(w->url), "%s", url);
        loopback_for_wildcard(w->probe_url, sizeof(w->probe_url), url);
        g->n++;
        rv = GENESIS_OK;
    }
    pthread_mutex_unlock(&g->lock);
    if (rv == GENESIS_OK && nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, pipe_added, g) != 0)
        rv = GENESIS_RESOURCE_EXHAUSTED;
    return rv;
}

void gn_guard_stop(gn_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    bool was = g->stopping;
    g->stopping = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->lock);
    if (!was)
        pthread_join(g->thread, NULL);
}

void gn_guard_free(gn_guard *g)
{
    if (g == NULL)
        return;
    gn_guard_stop(g);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
