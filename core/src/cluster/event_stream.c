/* The cluster's event streams on JetStream (event_stream.h): made with limits and a duplicate
 * window, published to with the event id as message id, read by an ordered consumer per scope
 * that counts the stream sequences it never received. */
#include "cluster/event_stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/nats_util.h"

#define NS_PER_MS          1000000LL
#define STARTUP_TRIES      10 /* stream creation retried this many timeouts at start */
#define CONSUMER_HEARTBEAT (1000 * NS_PER_MS) /* a consumer on a dead server is noticed soon */
#define RETRY_PAUSE_MS     50

typedef struct scope_state {
    struct gn_event_stream *owner;
    int scope;
    char stream[128];
    char subject[128];
    natsSubscription *sub; /* under owner->sub_lock */
    int64_t dropped;       /* sub's overflow drops seen by the watcher */
    uint64_t next;         /* the next stream sequence expected (under owner->lock) */
    atomic_uint_fast64_t delivered_seq, pending, missed, publish_failures;
} scope_state;

struct gn_event_stream {
    natsConnection *nc;
    jsCtx *js;       /* the cluster's context: synchronous requests */
    jsCtx *async_js; /* publish without waiting, failures reported to on_async_error */
    gn_logger log;
    gn_event_stream_config cfg;
    char name[64];
    pthread_mutex_t lock; /* serialises deliveries with stop */
    bool stopped;
    gn_event_deliver_fn fn;
    void *arg;
    int buffer; /* pending messages per subscription; 0 = cnats's default */
    /* The watcher: a consumer whose client buffer overflowed stops receiving (cnats drops the
     * messages and the ordered consumer does not notice); it is made again from the next
     * sequence expected. */
    pthread_mutex_t sub_lock;
    pthread_cond_t sub_cv;
    pthread_t watcher;
    bool watching, quit;
    scope_state sc[GN_EVENT_SCOPES];
};

static const char *const SCOPE_NAMES[GN_EVENT_SCOPES] = {"local", "external"};

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *last_error(natsStatus ns)
{
    natsStatus ignored;
    const char *text = nats_GetLastError(&ignored);
    return text != NULL && text[0] != '\0' ? text : natsStatus_GetText(ns);
}

/* No JetStream leader yet, or the server is settling: worth another try. */
static bool settling(natsStatus ns, natsConnection *nc, const char *text)
{
    return gn_nats_unreachable(ns, nc) || strstr(text, "temporarily unavailable") != NULL ||
           strstr(text, "no suitable peers") != NULL || strstr(text, "leader") != NULL ||
           strstr(text, "insufficient resources") != NULL;
}

static int make_stream(gn_event_stream *s, scope_state *sc, char *why, size_t why_size)
{
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[1] = {sc->subject};
    cfg.Name = sc->stream;
    cfg.Description = sc->scope == 0 ? "Genesis local events of the cluster"
                                     : "Genesis external events of the cluster";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_LimitsPolicy;
    cfg.Discard = js_DiscardOld;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = (int64_t)s->cfg.replicas;
    cfg.MaxAge = s->cfg.max_age_ms * NS_PER_MS;
    cfg.MaxBytes = s->cfg.max_bytes;
    cfg.Duplicates = s->cfg.dup_window_ms * NS_PER_MS;
    int64_t give_up = gn_now_ms() + (int64_t)s->cfg.timeout_ms * STARTUP_TRIES;
    char err[256] = "";
    for (;;) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        natsStatus ns = js_AddStream(&si, s->js, &cfg, NULL, &jerr);
        if (ns != NATS_OK && jerr == JSStreamNameExistErr) {
            /* Made by another node or an earlier run: take the configured limits. */
            jerr = 0;
            ns = js_UpdateStream(&si, s->js, &cfg, NULL, &jerr);
            if (ns != NATS_OK && !settling(ns, s->nc, last_error(ns))) {
                gn_log(&s->log, GENESIS_LOG_WARN,
                       "cluster: stream %s exists with other settings that cannot change (%s); "
                       "using it as it is",
                       sc->stream, last_error(ns));
                ns = NATS_OK;
            }
        }
        jsStreamInfo_Destroy(si);
        if (ns == NATS_OK)
            break;
        snprintf(err, sizeof(err), "%s", last_error(ns));
        if (!settling(ns, s->nc, err) || gn_now_ms() >= give_up) {
            snprintf(why, why_size, "cluster: cannot make stream %s with %u replicas: %s",
                     sc->stream, s->cfg.replicas, err);
            return gn_nats_unreachable(ns, s->nc) || strstr(err, "temporarily") != NULL
                       ? GENESIS_UNAVAILABLE
                       : GENESIS_FAILED_PRECONDITION;
        }
        pause_ms(200);
    }
    return GENESIS_OK;
}

static void on_async_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    gn_event_stream *s = closure;
    const char *subject = pae->Msg != NULL ? natsMsg_GetSubject(pae->Msg) : "";
    int scope = subject != NULL && strcmp(subject, s->sc[1].subject) == 0 ? 1 : 0;
    atomic_fetch_add(&s->sc[scope].publish_failures, 1);
    gn_log(&s->log, GENESIS_LOG_WARN, "cluster: a system event was not stored in %s: %s",
           s->sc[scope].stream, pae->ErrText != NULL ? pae->ErrText : natsStatus_GetText(pae->Err));
}

int gn_event_stream_open(gn_event_stream **out, natsConnection *nc, jsCtx *js,
                         const gn_event_stream_config *cfg, const gn_logger *log, char *why,
                         size_t why_size)
{
    *out = NULL;
    if (cfg->dup_window_ms > cfg->max_age_ms) {
        snprintf(why, why_size,
                 "cluster: the events' duplicate window (%lld ms) exceeds their maximum age "
                 "(%lld ms)",
                 (long long)cfg->dup_window_ms, (long long)cfg->max_age_ms);
        return GENESIS_INVALID_ARGUMENT;
    }
    gn_event_stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(why, why_size, "cluster: out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    s->nc = nc;
    s->js = js;
    s->log = *log;
    s->cfg = *cfg;
    snprintf(s->name, sizeof(s->name), "%s", cfg->name);
    s->cfg.name = s->name;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->sub_lock, NULL);
    pthread_cond_init(&s->sub_cv, NULL);
    for (int i = 0; i < GN_EVENT_SCOPES; i++) {
        scope_state *sc = &s->sc[i];
        sc->owner = s;
        sc->scope = i;
        snprintf(sc->stream, sizeof(sc->stream), "%s_events%s", s->name, i == 0 ? "" : "_external");
        snprintf(sc->subject, sizeof(sc->subject), "%s.events.%s", s->name, SCOPE_NAMES[i]);
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = cfg->timeout_ms;
    jo.PublishAsync.ErrHandler = on_async_error;
    jo.PublishAsync.ErrHandlerClosure = s;
    jo.PublishAsync.MaxPending = 1024;
    natsStatus ns = natsConnection_JetStream(&s->async_js, nc, &jo);
    int rv = GENESIS_OK;
    if (ns != NATS_OK) {
        snprintf(why, why_size, "cluster: JetStream context: %s", natsStatus_GetText(ns));
        rv = GENESIS_UNAVAILABLE;
    }
    for (int i = 0; rv == GENESIS_OK && i < GN_EVENT_SCOPES; i++)
        rv = make_stream(s, &s->sc[i], why, why_size);
    if (rv != GENESIS_OK) {
        gn_event_stream_free(s);
        return rv;
    }
    *out = s;
    return GENESIS_OK;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    scope_state *sc = closure;
    gn_event_stream *s = sc->owner;
    jsMsgMetaData *meta = NULL;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        uint64_t seq = meta->Sequence.Stream;
        pthread_mutex_lock(&s->lock);
        /* The ordered consumer delivers each sequence once and in order; a sequence at or
         * below the last one (never expected) is not delivered twice. */
        if (!s->stopped && seq >= sc->next) {
            uint64_t missed = seq - sc->next;
            sc->next = seq + 1;
            atomic_store(&sc->delivered_seq, seq);
            atomic_store(&sc->pending, meta->NumPending);
            if (missed > 0)
                atomic_fetch_add(&sc->missed, missed);
            s->fn(sc->scope, seq, missed, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                  s->arg);
        }
        pthread_mutex_unlock(&s->lock);
        jsMsgMetaData_Destroy(meta);
    }
    natsMsg_Destroy(msg);
}

void gn_event_stream_set_buffer(gn_event_stream *s, int max_messages)
{
    s->buffer = max_messages;
}

/* An ordered consumer from sc->next on (under sub_lock). */
static natsStatus subscribe(gn_event_stream *s, scope_state *sc, uint64_t from,
                            natsSubscription **out)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = sc->stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from;
    so.Config.Heartbeat = CONSUMER_HEARTBEAT;
    natsStatus ns = js_Subscribe(out, s->js, sc->subject, on_msg, sc, NULL, &so, NULL);
    if (ns == NATS_OK && s->buffer > 0)
        ns = natsSubscription_SetPendingLimits(*out, s->buffer, -1);
    return ns;
}

static void *watch(void *arg)
{
    gn_event_stream *s = arg;
    pthread_mutex_lock(&s->sub_lock);
    while (!s->quit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->sub_cv, &s->sub_lock, &until);
        for (int i = 0; i < GN_EVENT_SCOPES && !s->quit; i++) {
            scope_state *sc = &s->sc[i];
            int64_t dropped = 0;
            if (sc->sub == NULL || natsSubscription_GetDropped(sc->sub, &dropped) != NATS_OK ||
                dropped == sc->dropped)
                continue;
            /* Not under owner->lock: a delivery may be under way (and slow). */
            uint64_t from = atomic_load(&sc->delivered_seq) + 1;
            natsSubscription *fresh = NULL;
            if (subscribe(s, sc, from, &fresh) != NATS_OK) {
                natsSubscription_Destroy(fresh);
                continue; /* tried again at the next round */
            }
            gn_log(&s->log, GENESIS_LOG_WARN,
                   "cluster: this node's buffer of %s events overflowed; reading again from "
                   "sequence %llu",
                   SCOPE_NAMES[i], (unsigned long long)from);
            /* What the old one still holds is skipped by sequence in on_msg. */
            natsSubscription_Unsubscribe(sc->sub);
            natsSubscription_Destroy(sc->sub);
            sc->sub = fresh;
            sc->dropped = 0;
        }
    }
    pthread_mutex_unlock(&s->sub_lock);
    return NULL;
}

int gn_event_stream_start(gn_event_stream *s, gn_event_deliver_fn fn, void *arg, char *why,
                          size_t why_size)
{
    s->fn = fn;
    s->arg = arg;
    for (int i = 0; i < GN_EVENT_SCOPES; i++) {
        scope_state *sc = &s->sc[i];
        jsStreamInfo *si = NULL;
        natsStatus ns = js_GetStreamInfo(&si, s->js, sc->stream, NULL, NULL);
        if (ns == NATS_OK) {
            sc->next = si->State.LastSeq + 1; /* the events from now on */
            atomic_store(&sc->delivered_seq, si->State.LastSeq);
        }
        jsStreamInfo_Destroy(si);
        if (ns == NATS_OK) {
            pthread_mutex_lock(&s->sub_lock);
            ns = subscribe(s, sc, sc->next, &sc->sub);
            pthread_mutex_unlock(&s->sub_lock);
        }
        if (ns != NATS_OK) {
            snprintf(why, why_size, "cluster: cannot read stream %s: %s", sc->stream,
                     last_error(ns));
            return gn_nats_unreachable(ns, s->nc) ? GENESIS_UNAVAILABLE : GENESIS_INTERNAL;
        }
    }
    if (pthread_create(&s->watcher, NULL, watch, s) != 0) {
        snprintf(why, why_size, "cluster: cannot start the events watcher thread");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    s->watching = true;
    return GENESIS_OK;
}

int gn_event_stream_publish(gn_event_stream *s, int scope, const char *id, const void *data,
                            size_t len, uint64_t *seq, bool *duplicate, char *why, size_t why_size)
{
    scope_state *sc = &s->sc[scope != 0 ? 1 : 0];
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = s->cfg.timeout_ms;
    /* Sent again with the same id after a timeout or during an election: JetStream stores it
     * once whichever attempt arrived. */
    int64_t give_up = gn_now_ms() + 2 * (int64_t)s->cfg.timeout_ms;
    for (;;) {
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        natsStatus ns = js_Publish(&pa, s->js, sc->subject, data, (int)len, &po, &jerr);
        if (ns == NATS_OK) {
            *seq = pa->Sequence;
            *duplicate = pa->Duplicate;
            jsPubAck_Destroy(pa);
            return GENESIS_OK;
        }
        jsPubAck_Destroy(pa);
        const char *text = last_error(ns);
        if (!settling(ns, s->nc, text) || gn_now_ms() >= give_up) {
            atomic_fetch_add(&sc->publish_failures, 1);
            return gn_nats_fail(ns, s->nc, sc->stream, why, why_size);
        }
        pause_ms(RETRY_PAUSE_MS);
    }
}

void gn_event_stream_publish_async(gn_event_stream *s, int scope, const char *id, const void *data,
                                   size_t len)
{
    scope_state *sc = &s->sc[scope != 0 ? 1 : 0];
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = s->cfg.timeout_ms; /* bounds the wait when too many are in flight */
    natsStatus ns = js_PublishAsync(s->async_js, sc->subject, data, (int)len, &po);
    if (ns != NATS_OK) {
        atomic_fetch_add(&sc->publish_failures, 1);
        gn_log(&s->log, GENESIS_LOG_WARN, "cluster: a system event was not sent to %s: %s",
               sc->stream, last_error(ns));
    }
}

uint64_t gn_event_stream_missed(gn_event_stream *s, int scope)
{
    return s != NULL ? atomic_load(&s->sc[scope != 0 ? 1 : 0].missed) : 0;
}

json_t *gn_event_stream_status(gn_event_stream *s)
{
    json_t *out = json_object();
    for (int i = 0; i < GN_EVENT_SCOPES; i++) {
        scope_state *sc = &s->sc[i];
        uint64_t delivered = atomic_load(&sc->delivered_seq);
        uint64_t pending = atomic_load(&sc->pending);
        uint64_t last = delivered + pending;
        json_object_set_new(out, SCOPE_NAMES[i],
                            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "stream", sc->stream,
                                      "last_sequence", (json_int_t)last, "delivered_sequence",
                                      (json_int_t)delivered, "lag", (json_int_t)pending, "missed",
                                      (json_int_t)atomic_load(&sc->missed), "publish_failures",
                                      (json_int_t)atomic_load(&sc->publish_failures)));
    }
    return out;
}

void gn_event_stream_stop(gn_event_stream *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock); /* waits for a running delivery */
    s->stopped = true;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&s->sub_lock);
    s->quit = true;
    pthread_cond_broadcast(&s->sub_cv);
    pthread_mutex_unlock(&s->sub_lock);
    if (s->watching) {
        pthread_join(s->watcher, NULL);
        s->watching = false;
    }
    for (int i = 0; i < GN_EVENT_SCOPES; i++) {
        if (s->sc[i].sub != NULL) {
            natsSubscription_Unsubscribe(s->sc[i].sub); /* bounded by the context's Wait */
            natsSubscription_Destroy(s->sc[i].sub);
            s->sc[i].sub = NULL;
        }
    }
}

void gn_event_stream_free(gn_event_stream *s)
{
    if (s == NULL)
        return;
    gn_event_stream_stop(s);
    if (s->async_js != NULL) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = s->cfg.timeout_ms;
        js_PublishAsyncComplete(s->async_js, &po); /* bounded: the last system events */
        jsCtx_Destroy(s->async_js);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->sub_lock);
    pthread_cond_destroy(&s->sub_cv);
    free(s);
}
