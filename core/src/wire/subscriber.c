/* Event-bus subscriber (see subscriber.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "base/common.h"
#include "base/objects.h"
#include "wire/socket_util.h"
#include "wire/subscriber.h"
#include "wire/url_list.h"

struct gn_subscriber {
    nng_socket sock;
    nng_aio *aio;
    gn_lane lane;
    size_t max_message;
    gn_subscriber_hooks hooks;
    pthread_mutex_t lock;
    bool receiving;
    bool closed;
    atomic_uint_fast64_t dropped;
};

typedef struct queued_event {
    gn_task task;
    gn_subscriber *sub;
    gn_owned_event *ev;
} queued_event;

static void queued_run(gn_task *t)
{
    queued_event *q = (queued_event *)t;
    q->sub->hooks.deliver(&q->ev->view, q->sub->hooks.arg);
}

static void queued_free(gn_task *t)
{
    queued_event *q = (queued_event *)t;
    gn_owned_event_free(q->ev);
    free(q);
}

static void enqueue(gn_subscriber *s, const gn_wire_event *ev)
{
    size_t len = 0;
    const uint8_t *data = gn_payload_data(ev->payload, &len);
    queued_event *q = malloc(sizeof(*q));
    gn_owned_event *oe =
        gn_owned_event_new(ev->type, ev->source, data, len, gn_payload_content_type(ev->payload),
                           ev->sequence, ev->scope == GENESIS__V1__SCOPE__SCOPE_EXTERNAL);
    if (q == NULL || oe == NULL) {
        free(q);
        gn_owned_event_free(oe);
        atomic_fetch_add(&s->dropped, 1);
        return;
    }
    *q = (queued_event){{.run = queued_run, .finish = queued_free}, s, oe};
    if (gn_lane_submit(&s->lane, &q->task) != GENESIS_OK) {
        queued_free(&q->task);
        atomic_fetch_add(&s->dropped, 1);
    }
}

static void receive_cb(void *arg)
{
    gn_subscriber *s = arg;
    int err = nng_aio_result(s->aio);
    if (err == NNG_ECLOSED || err == NNG_ECANCELED)
        return;
    if (err == 0) {
        nng_msg *msg = nng_aio_get_msg(s->aio);
        gn_wire_event *ev = NULL;
        char why[128];
        /* A frame that does not decode is skipped: the bus is best effort, the sequence gap
         * it leaves is what subscribers count. */
        if (gn_event_frame_decode(nng_msg_body(msg), nng_msg_len(msg), s->max_message, &ev, why,
                                  sizeof(why)) == GENESIS_OK &&
            (s->hooks.accept == NULL || s->hooks.accept(ev, s->hooks.arg)))
            enqueue(s, ev);
        gn_event_free(ev);
        nng_msg_free(msg);
    }
    nng_recv_aio(s->sock, s->aio);
}

int gn_subscriber_open(gn_subscriber **out, const char *url, const gn_tls *tls, gn_pool *pool,
                       unsigned int queue_depth, size_t max_message,
                       const gn_subscriber_hooks *hooks)
{
    gn_subscriber *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "subscribe: out of memory");
    int err = nng_sub0_open(&s->sock);
    if (err != 0) {
        free(s);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "subscribe: %s", nng_strerror(err));
    }
    char failed[256] = "";
    err = nng_aio_alloc(&s->aio, receive_cb, s);
    if (err == 0) {
        nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, max_message + 4096);
        nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 10);
        nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 500);
        /* Several buses (cluster nodes): one SUB socket receives from all of them, and a bus
         * whose node died simply stops contributing while the others go on. */
        gn_url_list urls;
        char why[128];
        if (gn_url_list_parse(&urls, url, why, sizeof(why)) != 0) {
            nng_aio_free(s->aio);
            nng_close(s->sock);
            free(s);
            return gn_fail(GENESIS_INVALID_ARGUMENT, "subscribe: %s: %s", url, why);
        }
        for (unsigned int i = 0; i < urls.n && err == 0; i++) {
            err = gn_dial_url(s->sock, urls.urls[i], tls, NULL);
            if (err != 0)
                snprintf(failed, sizeof(failed), "%s", urls.urls[i]);
        }
        gn_url_list_clear(&urls);
        if (err != 0)
            nng_aio_free(s->aio);
    }
    if (err != 0) {
        nng_close(s->sock);
        free(s);
        const char *named = failed[0] != '\0' ? failed : url;
        return gn_fail(gn_status_from_nng(err, NULL), "subscribe: dial %s: %s", named,
                       gn_url_is_tls(named) && tls == NULL ? GN_TLS_MISSING : nng_strerror(err));
    }
    s->max_message = max_message;
    s->hooks = *hooks;
    gn_lane_init(&s->lane, pool, 1, queue_depth);
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return GENESIS_OK;
}

int gn_subscriber_subscribe(gn_subscriber *s, const char *prefix)
{
    if (nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, prefix, strlen(prefix)) != 0)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "subscribe: cannot add '%s'", prefix);
    pthread_mutex_lock(&s->lock);
    bool start = !s->receiving && !s->closed;
    s->receiving = true;
    pthread_mutex_unlock(&s->lock);
    if (start)
        nng_recv_aio(s->sock, s->aio);
    return GENESIS_OK;
}

uint64_t gn_subscriber_dropped(gn_subscriber *s)
{
    return s != NULL ? atomic_load(&s->dropped) : 0;
}

void gn_subscriber_close(gn_subscriber *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    bool was = s->closed;
    s->closed = true;
    pthread_mutex_unlock(&s->lock);
    if (was)
        return;
    nng_close(s->sock);
    nng_aio_stop(s->aio);
    gn_fifo queued = gn_lane_close(&s->lane);
    for (gn_task *t; (t = gn_task_pop(&queued)) != NULL;)
        queued_free(t);
    gn_lane_wait_idle(&s->lane);
}

void gn_subscriber_free(gn_subscriber *s)
{
    if (s == NULL)
        return;
    gn_subscriber_close(s);
    nng_aio_free(s->aio);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
