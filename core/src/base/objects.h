/* Layouts of the opaque message objects of genesis/message.h (results, requests as seen by
 * handlers, replies being built, events). */
#ifndef GN_OBJECTS_H
#define GN_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "genesis/message.h"

struct genesis_result {
    int status;
    int reason;
    char *message;      /* never NULL */
    char *content_type; /* never NULL */
    uint8_t *data;      /* never NULL, NUL-terminated after len bytes */
    size_t len;
    uint32_t retry_delay_ms; /* when a retry may succeed (an open breaker's next probe); 0 = no
                                advice */
};

/* A result in one allocation: copies message, content_type and data. NULL when out of
 * memory. message/content_type may be NULL (stored as ""). */
genesis_result *gn_result_new(int status, int reason, const char *message, const void *data,
                              size_t len, const char *content_type);
/* A failure result whose message is printf-formatted. */
genesis_result *gn_result_errorf(int status, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Borrowed view of a request handed to a handler. Strings are never NULL. */
struct genesis_request {
    const char *type;
    const char *source;
    const char *target;
    const char *content_type;
    const uint8_t *data; /* NUL-terminated after len bytes */
    size_t len;
    int criticality;
    int64_t deadline_ms; /* absolute, gn_now_ms() clock */
    uint64_t id;
};

/* The reply a handler builds. Owns its buffers; release with gn_reply_clear. */
struct genesis_reply {
    int status;
    int reason;
    char *message;
    char *content_type;
    uint8_t *data;
    size_t len;
    size_t max_size;
    int set; /* non-zero once the handler called genesis_reply_set/_error */
    /* Small replies (most of them) live here: data and content_type point into these buffers
     * instead of two allocations per reply. */
    char ct_inline[48];
    uint8_t data_inline[208];
};

void gn_reply_init(genesis_reply *reply, size_t max_size);
void gn_reply_clear(genesis_reply *reply);
/* Turn a finished reply into a result (moves the buffers; reply is cleared). */
genesis_result *gn_reply_to_result(genesis_reply *reply);

/* Borrowed view of an event handed to an event callback. Strings are never NULL. */
struct genesis_event {
    const char *type;
    const char *source;
    const char *content_type;
    const uint8_t *data; /* NUL-terminated after len bytes */
    size_t len;
    uint64_t sequence;
    int external;
};

/* An owned event in one allocation (for queues). The view's pointers point inside it. */
typedef struct gn_owned_event {
    genesis_event view;
} gn_owned_event;

gn_owned_event *gn_owned_event_new(const char *type, const char *source, const void *data,
                                   size_t len, const char *content_type, uint64_t sequence,
                                   int external);
void gn_owned_event_free(gn_owned_event *ev);

#endif /* GN_OBJECTS_H */
