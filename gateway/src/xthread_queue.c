/* Cross-thread queue into the service thread (see xthread_queue.h). */
#include "xthread_queue.h"

#include "rpc_service.h"

#include <stdlib.h>
#include <unistd.h>

#include <libwebsockets.h>

void gw_item_free(gw_item *item)
{
    if (item == NULL)
        return;
    genesis_result_free(item->res);
    free(item->text);
    free(item->source);
    free(item->type);
    free(item->target);
    for (size_t i = 0; i < item->n_admin_args; i++)
        free(item->admin_args[i]);
    if (item->kind == GW_ITEM_ADOPT && item->adopt_fd >= 0)
        close(item->adopt_fd);
    gw_rpc_out_free(item->rpc_out);
    free(item);
}

void gw_xqueue_init(gw_xqueue *q, size_t event_cap, size_t event_bytes_cap)
{
    q->event_bytes = 0;
    q->event_bytes_cap = event_bytes_cap;
    pthread_mutex_init(&q->lock, NULL);
    gn_fifo_init(&q->items);
    q->event_cap = event_cap;
    q->ctx = NULL;
}

void gw_xqueue_destroy(gw_xqueue *q)
{
    gn_fifo left = gw_xqueue_take_all(q);
    for (gw_item *it; (it = gw_item_pop(&left)) != NULL;)
        gw_item_free(it);
    pthread_mutex_destroy(&q->lock);
}

void gw_xqueue_set_context(gw_xqueue *q, struct lws_context *ctx)
{
    pthread_mutex_lock(&q->lock);
    q->ctx = ctx;
    pthread_mutex_unlock(&q->lock);
}

bool gw_xqueue_push(gw_xqueue *q, gw_item *item)
{
    pthread_mutex_lock(&q->lock);
    /* Completions are never refused (each one frees a waiting call); bus events are, so a
     * burst the service thread cannot keep up with costs memory only up to the cap. */
    if (item->kind == GW_ITEM_EVENT) {
        if (gn_fifo_count(&q->items) >= q->event_cap ||
            q->event_bytes + item->text_len > q->event_bytes_cap) {
            pthread_mutex_unlock(&q->lock);
            return false;
        }
        q->event_bytes += item->text_len;
    }
    gn_fifo_push(&q->items, &item->link);
    bool wake = gn_fifo_count(&q->items) == 1;
    struct lws_context *ctx = q->ctx;
    /* Under the lock, so the context cannot be cleared (teardown) between read and use. */
    if (wake && ctx != NULL)
        lws_cancel_service(ctx);
    pthread_mutex_unlock(&q->lock);
    return true;
}

gn_fifo gw_xqueue_take_all(gw_xqueue *q)
{
    pthread_mutex_lock(&q->lock);
    gn_fifo items = gn_fifo_take_all(&q->items);
    q->event_bytes = 0;
    pthread_mutex_unlock(&q->lock);
    return items;
}
