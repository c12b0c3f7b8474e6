/* The protobuf wire format: encoding envelopes, replies and bus events into NNG messages and
 * decoding them with size limits and clear rejection reasons. The only file that knows
 * protobuf-c's generated names. */
#ifndef GN_WIRE_H
#define GN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "genesis/proto/genesis.pb-c.h"

typedef Genesis__V1__Envelope gn_envelope;
typedef Genesis__V1__Reply gn_wire_reply;
typedef Genesis__V1__Event gn_wire_event;

/* Decode an envelope. On failure returns a genesis_status, sets *reason and writes a
 * message naming the problem into why (NUL-terminated, truncated to why_size). A decoded
 * envelope is freed with gn_envelope_free. Rejects: more than max_size bytes
 * (MESSAGE_TOO_LARGE), bytes that are not an Envelope (MALFORMED_MESSAGE), an envelope with
 * no body (UNKNOWN_MESSAGE: a newer sender's kind, or none), a newer protocol revision
 * (UNSUPPORTED_VERSION). */
int gn_envelope_decode(const void *buf, size_t len, size_t max_size, gn_envelope **out, int *reason,
                       char *why, size_t why_size);
void gn_envelope_free(gn_envelope *env);

/* Encode an envelope (version is set here) into a new NNG message. */
int gn_envelope_encode(gn_envelope *env, nng_msg **out);

/* Decode a reply (same rules as gn_envelope_decode, minus the body check). */
int gn_reply_decode(const void *buf, size_t len, size_t max_size, gn_wire_reply **out, int *reason,
                    char *why, size_t why_size);
void gn_reply_free(gn_wire_reply *reply);

/* The status and reason a peer's reply stands for, kept within this library's contract
 * whatever the peer sent: a code outside the gRPC range is UNKNOWN, a failure without a
 * reason is HANDLER_ERROR (the peer's handler failed), a success carries no reason. */
void gn_reply_outcome(const gn_wire_reply *reply, int *status, int *reason);

/* Encode a reply. payload may be NULL; message may be NULL. */
int gn_reply_encode(gn_wire_reply *reply, nng_msg **out);

/* Convenience: an error or result reply in a new NNG message. */
int gn_reply_msg(nng_msg **out, int code, int reason, const char *message, const void *data,
                 size_t len, const char *content_type);
/* The same with a failure's retry advice (Reply.retry_delay_ms; 0 = none). */
int gn_reply_msg_advised(nng_msg **out, int code, int reason, const char *message, const void *data,
                         size_t len, const char *content_type, uint32_t retry_delay_ms);

/* Event bus frames: "<scope>:<type>\0" followed by the encoded Event. Subscribers filter on
 * the topic prefix with NNG's byte-prefix subscription. */
#define GN_TOPIC_LOCAL    "local:"
#define GN_TOPIC_EXTERNAL "external:"
#define GN_TOPIC_DIRECTED "to:" /* "to:<target>:<type>": an event for one component */

int gn_event_frame_encode(gn_wire_event *ev, nng_msg **out);
/* Decode a frame; checks that the topic matches the event inside. */
int gn_event_frame_decode(const void *buf, size_t len, size_t max_size, gn_wire_event **out,
                          char *why, size_t why_size);
/* Decode an Event without a topic (as the cluster's event stream holds it): refused unless it
 * decodes, its type is valid and it is not directed. */
int gn_event_decode(const void *buf, size_t len, size_t max_size, gn_wire_event **out, char *why,
                    size_t why_size);
void gn_event_free(gn_wire_event *ev);

/* Helpers for optional payload sub-messages: returns "" / empty data when absent. */
const char *gn_payload_content_type(const Genesis__V1__Payload *p);
const uint8_t *gn_payload_data(const Genesis__V1__Payload *p, size_t *len);

#endif /* GN_WIRE_H */
