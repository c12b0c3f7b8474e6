/* An intrusive FIFO queue: the element embeds a gn_fifo_link and the queue links elements
 * without allocating, so pushing never fails. Not thread-safe: the owner guards it with its
 * own lock (every user already holds one for its other state). GN_FIFO_ENTRY turns a link
 * back into its element. Header-only and self-contained, so the gateway uses it too. */
#ifndef GN_FIFO_H
#define GN_FIFO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gn_fifo_link {
    struct gn_fifo_link *next;
} gn_fifo_link;

typedef struct gn_fifo {
    gn_fifo_link *head;
    gn_fifo_link *tail;
    size_t count;
} gn_fifo;

/* The element of type `type` whose member `member` is the link. */
#define GN_FIFO_ENTRY(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

static inline void gn_fifo_init(gn_fifo *q)
{
    q->head = q->tail = NULL;
    q->count = 0;
}

static inline bool gn_fifo_empty(const gn_fifo *q)
{
    return q->head == NULL;
}

static inline size_t gn_fifo_count(const gn_fifo *q)
{
    return q->count;
}

/* Append at the tail. */
static inline void gn_fifo_push(gn_fifo *q, gn_fifo_link *link)
{
    link->next = NULL;
    if (q->tail != NULL)
        q->tail->next = link;
    else
        q->head = link;
    q->tail = link;
    q->count++;
}

/* Put back at the head (an element taken out that must go first again). */
static inline void gn_fifo_push_front(gn_fifo *q, gn_fifo_link *link)
{
    link->next = q->head;
    q->head = link;
    if (q->tail == NULL)
        q->tail = link;
    q->count++;
}

/* Remove and return the head, or NULL when empty. */
static inline gn_fifo_link *gn_fifo_pop(gn_fifo *q)
{
    gn_fifo_link *link = q->head;
    if (link == NULL)
        return NULL;
    q->head = link->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->count--;
    link->next = NULL;
    return link;
}

/* Empty the queue and return what it held, as a queue of its own. */
static inline gn_fifo gn_fifo_take_all(gn_fifo *q)
{
    gn_fifo all = *q;
    gn_fifo_init(q);
    return all;
}

#endif /* GN_FIFO_H */
