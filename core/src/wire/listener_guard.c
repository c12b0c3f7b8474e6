/* Listener watchdog against NNG 1.5.2's wedged listeners (see listener_guard.h). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>
#include <unistd.h>

#include "wire/listener_guard.h"
#include "wire/sp_probe.h"

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
    uint16_t peer_proto; /* SP protocol id the probe speaks (the listener's peer) */
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

/* True when this process uses nearly all the descriptors it may open: then a listener that
 * does not attach a connection is starved (its accept fails with EMFILE), not wedged. */
static bool descriptors_nearly_exhausted(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return false;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return true; /* cannot even open a directory: short of descriptors */
    rlim_t used = 0;
    while (readdir(d) != NULL)
        used++;
    closedir(d);
    return used + 16 >= rl.rlim_cur; /* "." and "..", the directory's own, some headroom */
}

/* False only when the listener is wedged: a plain connection to it exchanged the SP headers,
 * but the watched socket never attached it within the timeout. Only the listener side tells:
 * a wedged NNG 1.5.2 listener still completes the handshake at the transport level, it just
 * never hands the pipe to the socket. The probe opens no NNG socket (sp_probe.h), and hangs
 * up only after the handshake (hanging up mid-handshake is what wedges a listener). A probe
 * that could not connect (no descriptor, nothing listening) tells nothing and passes.
 * Called and returns with g->lock held. */
static bool probe(gn_guard *g, watched *w)
{
    uint64_t before = w->accepted;
    char url[256];
    snprintf(url, sizeof(url), "%s", w->probe_url);
    uint16_t proto = w->peer_proto;
    pthread_mutex_unlock(&g->lock);
    int fd = -1, err = 0;
    gn_sp_probe_result r = gn_sp_probe(url, proto, PROBE_TIMEOUT_MS, &fd, &err);
    pthread_mutex_lock(&g->lock);
    bool ok = true;
    if (r == GN_SP_PROBE_CONNECTED || r == GN_SP_PROBE_NO_HEADER) {
        struct timespec until;
        deadline_in(&until, PROBE_TIMEOUT_MS);
        while (w->accepted == before && !g->stopping) {
            if (pthread_cond_timedwait(&g->cv, &g->lock, &until) == ETIMEDOUT)
                break;
        }
        ok = w->accepted != before || g->stopping;
        if (!ok && descriptors_nearly_exhausted()) {
            gn_log(g->log, GENESIS_LOG_WARN,
                   "%s listener at %s did not take a connection while this process is out of "
                   "file descriptors: not restarted (raise the limit, or fewer connections)",
                   w->what, w->url);
            ok = true;
        }
    } else if (r == GN_SP_PROBE_NO_SOCKET) {
        gn_log(g->log, GENESIS_LOG_INFO,
               "%s listener probe: no file descriptor for it (%s): the listener is not judged",
               w->what, strerror(err));
    }
    if (fd >= 0) {
        pthread_mutex_unlock(&g->lock);
        close(fd);
        pthread_mutex_lock(&g->lock);
    }
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
             * probe. Fewer probes matter beyond their cost: every probe still closes a pipe
             * on the listener's side. */
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
                   uint16_t peer_proto, const char *what)
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
        *w = (watched){.sock = sock, .listener = l, .peer_proto = peer_proto};
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
