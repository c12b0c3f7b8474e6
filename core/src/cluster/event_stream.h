/* The cluster's events on JetStream (docs/cluster.md, "Events"): one stream per event scope
 * ("<name>_events" for local events, "<name>_events_external" for external ones), so that
 * each scope keeps one gap-free sequence, now cluster-wide. An emit publishes with the
 * event's id as Nats-Msg-Id (JetStream drops a repeated id within the duplicate window);
 * every node reads each stream with an ordered push consumer and hands each message to the
 * coordinator once, in stream order, with the number of stream sequences it never got (the
 * stream's limits removed them before this node read them).
 *
 * Lifecycle: gn_event_stream_open (makes or binds the streams) -> gn_event_stream_start
 * (consumers) -> gn_event_stream_publish ... -> gn_event_stream_stop -> gn_event_stream_free.
 * Threading: publish and status from any thread; each scope's deliveries come one at a time
 * on a cnats thread; stop waits for a running delivery and no delivery follows it. */
#ifndef GN_EVENT_STREAM_H
#define GN_EVENT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nats/nats.h>

#include "base/common.h"

#define GN_EVENT_SCOPES 2 /* 0 = local, 1 = external */

typedef struct gn_event_stream gn_event_stream;

typedef struct gn_event_stream_config {
    const char *name;      /* the cluster's name: the streams' and subjects' prefix */
    unsigned int replicas; /* JetStream replicas of each stream */
    int64_t max_age_ms;    /* events older than this are removed */
    int64_t max_bytes;     /* each stream's size bound (the oldest go first) */
    int64_t dup_window_ms; /* an id seen within this window is not stored again */
    uint32_t timeout_ms;   /* each JetStream request */
} gn_event_stream_config;

/* seq: the stream (cluster-wide) sequence; missed: stream sequences before this one that
 * this node never received. data/len: the encoded Event, valid during the call. */
typedef void (*gn_event_deliver_fn)(int scope, uint64_t seq, uint64_t missed, const void *data,
                                    size_t len, void *arg);

/* Make the streams (or bind existing ones, updating their limits). why names the cause. */
int gn_event_stream_open(gn_event_stream **out, natsConnection *nc, jsCtx *js,
                         const gn_event_stream_config *cfg, const gn_logger *log, char *why,
                         size_t why_size);

/* Bound this node's buffer of received, not yet delivered events (messages; before start;
 * default cnats's). A node whose buffer overflows reads on from where it stopped, or from the
 * oldest event left when the stream's limits removed the next ones: those count as missed. */
void gn_event_stream_set_buffer(gn_event_stream *s, int max_messages);

/* Start consuming from the events after the streams' current end. */
int gn_event_stream_start(gn_event_stream *s, gn_event_deliver_fn fn, void *arg, char *why,
                          size_t why_size);

/* Publish and wait for JetStream's acknowledgement, sending again with the same id after a
 * timeout or a leader change until timeout_ms (twice) has passed. *seq receives the stream
 * sequence (a repeated id: the first one's) and *duplicate whether it was one. Fails with
 * GENESIS_UNAVAILABLE when JetStream did not acknowledge (the event may then still be stored
 * once: emitting it again with the same id cannot make it twice). */
int gn_event_stream_publish(gn_event_stream *s, int scope, const char *id, const void *data,
                            size_t len, uint64_t *seq, bool *duplicate, char *why, size_t why_size);

/* Publish without waiting (system events, published from threads that must not block): a
 * failure is logged and counted. */
void gn_event_stream_publish_async(gn_event_stream *s, int scope, const char *id, const void *data,
                                   size_t len);

/* {"local": {stream, last_sequence, delivered_sequence, lag, missed, publish_failures},
 *  "external": {...}}. New reference. */
json_t *gn_event_stream_status(gn_event_stream *s);

/* Events this node missed so far in scope (sequence gaps). */
uint64_t gn_event_stream_missed(gn_event_stream *s, int scope);

void gn_event_stream_stop(gn_event_stream *s);
void gn_event_stream_free(gn_event_stream *s);

#endif /* GN_EVENT_STREAM_H */
