/* The gateway object: configuration, the libwebsockets context and its one service thread,
 * the client that dials the coordinator, the bus subscription for external events, the job
 * threads for blocking calls, and the drain of the cross-thread queue. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "gw_internal.h"
#include "h2_server.h"
#include "rpc_http.h"
#include "json_map.h"
#include "history_sampler.h"
#include "listen_addr.h"

#define EVENT_BACKLOG       16384       /* bus events waiting for fan-out at most */
#define EVENT_BACKLOG_BYTES (64u << 20) /* ... and bytes of them */
#define JOB_BACKLOG         4096        /* status queries and client messages waiting at most */

int gw_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, const char *name)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setstacksize(&attr, GW_THREAD_STACK);
    int rc = pthread_create(t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc == 0)
        pthread_setname_np(*t, name); /* at most 15 characters */
    return rc;
}

uint64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void gw_config_init(gw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
    cfg->port = 8080;
    cfg->max_body = 1024 * 1024;
    cfg->max_header = 8192;
    cfg->max_ws_message = 64 * 1024;
    cfg->max_ws_clients = 100;
    cfg->ws_queue = 256;
    cfg->ws_queue_bytes = 4u << 20;
    cfg->ws_ping_s = 20;
    cfg->ws_idle_s = 60;
    cfg->http_keepalive_s = 5;
    cfg->header_timeout_s = 10;
    cfg->default_timeout_ms = 10000;
    cfg->job_threads = 2;
    cfg->log_level = GENESIS_LOG_INFO;
    cfg->history_interval_ms = 5000;
}

void gw_log(gw_gateway *gw, int level, const char *fmt, ...)
{
    /* The library's logger (base/log.h): the options' filter and sink, stderr by default. */
    gn_logger lg = {gw->cfg.log_level, gw->cfg.log, gw->cfg.log_arg};
    va_list ap;
    va_start(ap, fmt);
    gn_logv(&lg, level, fmt, ap);
    va_end(ap);
}

/* ---- cross-thread work ---------------------------------------------------------------------- */

/* On a job thread: the blocking coordinator calls. */
static void run_job(void *arg, gw_item *it)
{
    gw_gateway *gw = arg;
    if (it->job == GW_JOB_STATUS) {
        int rv = genesis_client_status(gw->client, 2000, &it->res);
        if (rv != GENESIS_OK && it->res == NULL)
            snprintf(it->error, sizeof(it->error), "%s", genesis_last_error());
    } else if (it->job == GW_JOB_ADMIN) {
        const char *const *args = (const char *const *)it->admin_args;
        int rv = gw->cfg.coordinator != NULL
                     ? genesis_coordinator_admin(gw->cfg.coordinator, it->type, args,
                                                 it->n_admin_args, &it->res)
                     : genesis_client_admin(gw->client, it->type, args, it->n_admin_args, 5000,
                                            &it->res);
        it->status = rv;
        if (it->res == NULL)
            snprintf(it->error, sizeof(it->error), "%s", genesis_last_error());
    } else {
        genesis_call_options opts;
        genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
        opts.source = it->source;
        opts.content_type = it->content_type;
        opts.timeout_ms = 5000;
        it->status = genesis_client_emit_to(gw->client, it->target, it->type, it->text,
                                            it->text_len, &opts, &it->res);
        if (it->status == GENESIS_OK) { /* nothing to tell the client */
            gw_item_free(it);
            return;
        }
        if (it->res == NULL)
            snprintf(it->error, sizeof(it->error), "%s", genesis_last_error());
    }
    gw_xqueue_push(&gw->inbox, it);
}

/* On a client worker thread: an external event from the bus. The JSON frame is built here,
 * off the service thread, once for all sessions. */
static void on_bus_event(const genesis_event *ev, void *arg)
{
    gw_gateway *gw = arg;
    atomic_fetch_add(&gw->events_received, 1);
    size_t len = 0;
    const void *data = genesis_event_data(ev, &len);
    gw_item *it = calloc(1, sizeof(*it));
    if (it == NULL) {
        atomic_fetch_add(&gw->events_overflow, 1);
        return;
    }
    it->kind = GW_ITEM_EVENT;
    it->system = !genesis_event_is_external(ev);
    it->text = gw_event_json(genesis_event_type(ev), data, len, genesis_event_content_type(ev),
                             genesis_event_source(ev), genesis_event_sequence(ev), &it->text_len);
    it->source = strdup(genesis_event_source(ev));
    it->type = strdup(genesis_event_type(ev));
    if (it->text == NULL || it->source == NULL || it->type == NULL ||
        !gw_xqueue_push(&gw->inbox, it)) {
        gw_item_free(it);
        atomic_fetch_add(&gw->events_overflow, 1);
    }
}

/* On the service thread: everything other threads handed over. */
static void drain(gw_gateway *gw)
{
    gn_fifo items = gw_xqueue_take_all(&gw->inbox);
    for (gw_item *it; (it = gw_item_pop(&items)) != NULL;) {
        switch (it->kind) {
        case GW_ITEM_HTTP_RESULT:
            gw_http_complete(gw, it);
            break;
        case GW_ITEM_EVENT:
            gw_ws_broadcast(gw, it);
            break;
        case GW_ITEM_WS_EMIT:
            gw_ws_emit_failed(gw, it);
            break;
        case GW_ITEM_RPC_OUT:
            gw_rpc_http_deliver(gw, it);
            break;
        case GW_ITEM_ADOPT: /* lws closes the socket itself when it cannot adopt it */
            lws_adopt_socket_vhost(gw->vhost, it->adopt_fd);
            it->adopt_fd = -1;
            break;
        default:
            break;
        }
        gw_item_free(it);
    }
}

/* ---- libwebsockets -------------------------------------------------------------------------- */

static int protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                             void *in, size_t len)
{
    gw_gateway *gw = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    /* Connections (network sockets, not HTTP/2 streams), and the cap on them. */
    case LWS_CALLBACK_WSI_CREATE:
        if (lws_get_network_wsi(wsi) == wsi)
            gw->connections++;
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (lws_get_network_wsi(wsi) == wsi && gw->connections > 0)
            gw->connections--;
        return 0;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        if (gw->connections >= gw->connection_cap) {
            if (gw->metrics.connections_refused++ % 1000 == 0)
                gw_log(gw, GENESIS_LOG_WARN,
                       "gateway: %u connections (the cap, a quarter of the file descriptor "
                       "limit): new ones are closed; established ones keep working",
                       gw->connection_cap);
            return 1; /* libwebsockets closes it */
        }
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        drain(lws_context_user(lws_get_context(wsi)));
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return gw_ws_callback(wsi, reason, user, in, len);
    default:
        return gw_http_callback(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"genesis", protocol_callback, sizeof(gw_conn), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static genesis_log_fn lws_log_sink;
static void *lws_log_arg;

/* libwebsockets' own errors and warnings go to the gateway's log (they name sockets and
 * protocol states, never request contents). */
static void lws_log(int level, const char *line)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "libwebsockets: %s", line);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    int lvl = (level & LLL_ERR) != 0 ? GENESIS_LOG_ERROR : GENESIS_LOG_WARN;
    if (lws_log_sink != NULL)
        lws_log_sink(lvl, msg, lws_log_arg);
    else
        fprintf(stderr, "%s\n", msg);
}

static void *service_main(void *arg)
{
    gw_gateway *gw = arg;
    while (!atomic_load(&gw->stopping))
        if (lws_service(gw->ctx, 0) < 0)
            break;
    return NULL;
}

int gw_new(gw_gateway **out, const gw_config *cfg, char *why, size_t why_size)
{
    *out = NULL;
    gw_gateway *gw = calloc(1, sizeof(*gw));
    if (gw == NULL) {
        snprintf(why, why_size, "out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    gw->cfg = *cfg;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    gw->request_id_seed = ((uint64_t)now.tv_sec << 32) ^ (uint64_t)now.tv_nsec ^
                          ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)gw;
    gw_xqueue_init(&gw->inbox, EVENT_BACKLOG, EVENT_BACKLOG_BYTES);
    pthread_mutex_init(&gw->calls_lock, NULL);
    pthread_cond_init(&gw->calls_cv, NULL);
    int rv = GENESIS_RESOURCE_EXHAUSTED;
    gw->ws_scratch = malloc(LWS_PRE + GW_WS_BATCH);
    if (cfg->history_interval_ms > 0 && !cfg->metrics_only)
        gw->history = gw_history_new(cfg->history_interval_ms);
    if (gw->ws_scratch == NULL || gw_metrics_init(&gw->metrics) != 0 ||
        (cfg->history_interval_ms > 0 && !cfg->metrics_only && gw->history == NULL)) {
        snprintf(why, why_size, "out of memory");
        goto fail;
    }
    if (cfg->max_ws_clients == 0 || cfg->ws_queue == 0 || cfg->max_body == 0 ||
        cfg->max_ws_message == 0 || cfg->front_door == NULL || cfg->max_header < 256 ||
        cfg->max_header > 65535) {
        snprintf(why, why_size,
                 "invalid gateway limits (caps and queues at least 1, header limit 256..65535, "
                 "a front door URL)");
        rv = GENESIS_INVALID_ARGUMENT;
        goto fail;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        snprintf(why, why_size, "TLS needs both a certificate and a key path");
        rv = GENESIS_INVALID_ARGUMENT;
        goto fail;
    }
    gw->tls = cfg->tls_cert != NULL;
    if (cfg->auth_file != NULL && gw_auth_load(&gw->auth, cfg->auth_file, why, why_size) != 0) {
        rv = GENESIS_INVALID_ARGUMENT;
        goto fail;
    }

    genesis_client_options copts;
    genesis_client_options_init(&copts, GENESIS_CLIENT_OPTIONS_VERSION);
    copts.name = "gateway";
    copts.default_timeout_ms = cfg->default_timeout_ms;
    copts.max_message_size = cfg->max_body + 64 * 1024; /* the request plus its envelope */
    copts.tls_ca_file = cfg->core_tls_ca;
    copts.tls_cert_file = cfg->core_tls_cert;
    copts.tls_key_file = cfg->core_tls_key;
    rv = genesis_client_new(&gw->client, &copts);
    if (rv == GENESIS_OK)
        rv = genesis_client_dial(gw->client, cfg->front_door, cfg->event_bus);
    if (rv == GENESIS_OK && cfg->event_bus != NULL && !cfg->metrics_only)
        rv = genesis_client_subscribe(gw->client, "external:", on_bus_event, gw);
    /* Breaker and mode transitions, for the sessions that ask for them (the dashboard). */
    if (rv == GENESIS_OK && cfg->event_bus != NULL && !cfg->metrics_only)
        rv = genesis_client_subscribe(gw->client, "local:genesis.breaker", on_bus_event, gw);
    if (rv == GENESIS_OK && cfg->event_bus != NULL && !cfg->metrics_only)
        rv = genesis_client_subscribe(gw->client, "local:genesis.mode", on_bus_event, gw);
    if (rv != GENESIS_OK) {
        snprintf(why, why_size, "cannot dial the coordinator at %s: %s", cfg->front_door,
                 genesis_last_error());
        goto fail;
    }
    rv = gw_job_pool_new(&gw->jobs, cfg->job_threads > 0 ? cfg->job_threads : 2, JOB_BACKLOG,
                         run_job, gw);
    if (rv != GENESIS_OK) {
        snprintf(why, why_size, "cannot start the job threads");
        goto fail;
    }

    lws_log_sink = cfg->log;
    lws_log_arg = cfg->log_arg;
    /* Errors only: its warnings include one line per refused upgrade, which a client could
     * use to flood the log. */
    lws_set_log_level(LLL_ERR, lws_log);
    gw->retry.secs_since_valid_ping = (uint16_t)cfg->ws_ping_s;
    gw->retry.secs_since_valid_hangup = (uint16_t)cfg->ws_idle_s;

    /* A numeric address that binds (a clear reason, "address already in use", instead of
     * libwebsockets' generic failure, whose error path leaks in 4.1.6). libwebsockets gets
     * the numeric address and IPv6 only for an IPv6 address: with IPv6 enabled, 4.1.6 turns an
     * IPv4 interface address into the dual-stack wildcard (every interface). */
    if (gw_listen_resolve(cfg->host, cfg->port, &gw->listen, why, why_size) != 0) {
        rv = GENESIS_UNAVAILABLE;
        goto fail;
    }
    if (gw_rpc_engine_new(&gw->rpc_engine, gw) != GENESIS_OK) {
        snprintf(why, why_size, "cannot start the RPC worker thread");
        rv = GENESIS_RESOURCE_EXHAUSTED;
        goto fail;
    }
    int before[256];
    size_t n_before = gw_listen_sockets(before, sizeof(before) / sizeof(before[0]));
    /* The port is ours (h2_listener.c): HTTP/2 with prior knowledge, or with TLS a ClientHello
     * offering h2 alone, stays with nghttp2; the others are handed to libwebsockets (which
     * does its own TLS handshake on the unread ClientHello). */
    if ((rv = gw_h2_new(&gw->h2, gw, &gw->listen, why, why_size)) != GENESIS_OK)
        goto fail;
    /* A quarter of the descriptors this process may open (genesisd's front door takes half,
     * the rest stay for dialers, files and the store); libwebsockets sizes its table by it
     * instead of by the whole limit, which may be a million once raised to the hard one. */
    struct rlimit nofile;
    gw->connection_cap = 1024;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
        gw->connection_cap =
            nofile.rlim_cur > 128
                ? (unsigned int)((nofile.rlim_cur - 64) / 4 < 65536 ? (nofile.rlim_cur - 64) / 4
                                                                    : 65536)
                : 16;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.fd_limit_per_thread = gw->connection_cap + 64; /* its pipes, listener, headroom */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.iface = gw->listen.numeric;
    info.protocols = protocols;
    info.user = gw;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (gw->listen.ipv6)
        info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
    else
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.max_http_header_data = (unsigned short)cfg->max_header;
    info.keepalive_timeout = (int)cfg->http_keepalive_s;
    info.timeout_secs = cfg->header_timeout_s;
    info.retry_and_idle_policy = &gw->retry;
    info.pt_serv_buf_size = 16384;
    if (gw->tls) { /* for the sockets handed over: libwebsockets listens on none */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
    }
    gw->ctx = lws_create_context(&info);
    if (gw->ctx == NULL) {
        snprintf(why, why_size, "cannot serve HTTP on %s:%d (address in use, bad interface%s)",
                 cfg->host, cfg->port, gw->tls ? ", or unreadable certificate/key" : "");
        rv = GENESIS_UNAVAILABLE;
        goto fail;
    }
    gw->vhost = lws_get_vhost_by_name(gw->ctx, "default");
    gw->port = gw_h2_port(gw->h2);
    /* Serve only where asked: the socket's own address (getsockname), not what was meant. */
    if (gw_listen_verify(&gw->listen, gw->port, before, n_before, why, why_size) != 0) {
        rv = GENESIS_UNAVAILABLE;
        goto fail;
    }
    if (!gw->listen.loopback && cfg->auth_file == NULL && !cfg->metrics_only)
        gw_log(gw, GENESIS_LOG_WARN,
               "SECURITY WARNING: the gateway serves HTTP on %s port %d without --auth-file: "
               "anyone who can reach this address can call components and change the mode. "
               "Use --auth-file (with --http-tls-cert/--http-tls-key), or a loopback address.",
               gw->listen.numeric, gw->port);
    gw_xqueue_set_context(&gw->inbox, gw->ctx);
    *out = gw;
    return GENESIS_OK;
fail:
    gw_free(gw);
    return rv;
}

int gw_start(gw_gateway *gw, char *why, size_t why_size)
{
    if (gw_thread_start(&gw->thread, service_main, gw, "gw:service") != 0) {
        snprintf(why, why_size, "cannot start the service thread");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    gw->thread_started = true;
    if (gw->h2 != NULL && gw_h2_start(gw->h2, why, why_size) != GENESIS_OK)
        return GENESIS_RESOURCE_EXHAUSTED;
    if (gw_sampler_start(gw) != 0)
        gw_log(gw, GENESIS_LOG_WARN, "cannot start the history sampler: no history");
    char url[128];
    gw_url(gw, url, sizeof(url));
    gw_log(gw, GENESIS_LOG_INFO, "gateway serving %s (coordinator %s)", url, gw->cfg.front_door);
    return GENESIS_OK;
}

int gw_port(const gw_gateway *gw)
{
    return gw->port;
}

void gw_url(const gw_gateway *gw, char *buf, size_t size)
{
    /* The address it listens on ("localhost" becomes the address it resolved to). */
    int v6 = gw->listen.ipv6;
    snprintf(buf, size, "%s://%s%s%s:%d", gw->tls ? "https" : "http", v6 ? "[" : "",
             gw->listen.numeric, v6 ? "]" : "", gw->port);
}

void gw_free(gw_gateway *gw)
{
    if (gw == NULL)
        return;
    gw_h2_stop(gw->h2); /* no more connections accepted or handed over; Watch streams end */
    if (gw->thread_started) {
        atomic_store(&gw->stopping, true);
        lws_cancel_service(gw->ctx);
        pthread_join(gw->thread, NULL);
    }
    /* No more service thread: the job threads and the client's callbacks may still push
     * completions; stop them first, then close the connections (which detach their calls),
     * then free whatever completions are left. */
    gw_sampler_stop(gw);                /* it uses the client */
    gw_rpc_engine_stop(gw->rpc_engine); /* its queued blocking calls run first */
    gw_job_pool_free(gw->jobs);
    genesis_client_free(gw->client); /* its calls complete (CANCELLED) before it returns */
    pthread_mutex_lock(&gw->calls_lock);
    while (atomic_load(&gw->calls_pending) > 0) /* calls to an embedded coordinator: by deadline */
        pthread_cond_wait(&gw->calls_cv, &gw->calls_lock);
    pthread_mutex_unlock(&gw->calls_lock);
    gw_h2_free(gw->h2); /* after its calls completed: they post to it */
    gw_xqueue_set_context(&gw->inbox, NULL);
    if (gw->ctx != NULL) {
        drain(gw); /* answers nobody will read, but frees them in order */
        lws_context_destroy(gw->ctx);
    }
    gw_rpc_engine_free(gw->rpc_engine); /* the connections' Watch streams ended above */
    gw_xqueue_destroy(&gw->inbox);
    gw_auth_free(gw->auth);
    gw_metrics_destroy(&gw->metrics);
    gw_history_free(gw->history);
    free(gw->ws_scratch);
    pthread_cond_destroy(&gw->calls_cv);
    pthread_mutex_destroy(&gw->calls_lock);
    free(gw);
}
