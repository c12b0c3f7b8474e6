/* Protobuf encoding and decoding of envelopes, replies and bus events, with size limits and
 * named rejection reasons. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "genesis/version.h"
#include "wire/wire.h"

static int reject(int status, int reason, int *out_reason, char *why, size_t why_size,
                  const char *text)
{
    if (out_reason != NULL)
        *out_reason = reason;
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "%s", text);
    return status;
}

static int check_size(size_t len, size_t max_size, int *reason, char *why, size_t why_size)
{
    if (max_size > 0 && len > max_size) {
        char text[128];
        snprintf(text, sizeof(text), "message of %zu bytes exceeds the limit of %zu bytes", len,
                 max_size);
        return reject(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_MESSAGE_TOO_LARGE, reason, why,
                      why_size, text);
    }
    return GENESIS_OK;
}

static int check_version(uint32_t version, int *reason, char *why, size_t why_size)
{
    if (version > GENESIS_PROTOCOL_VERSION) {
        char text[128];
        snprintf(text, sizeof(text), "protocol version %u is newer than this peer's %u", version,
                 (unsigned int)GENESIS_PROTOCOL_VERSION);
        return reject(GENESIS_FAILED_PRECONDITION, GENESIS_REASON_UNSUPPORTED_VERSION, reason, why,
                      why_size, text);
    }
    return GENESIS_OK;
}

int gn_envelope_decode(const void *buf, size_t len, size_t max_size, gn_envelope **out, int *reason,
                       char *why, size_t why_size)
{
    *out = NULL;
    int rv = check_size(len, max_size, reason, why, why_size);
    if (rv != GENESIS_OK)
        return rv;
    if (len == 0)
        return reject(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE, reason, why,
                      why_size, "empty message: expected a genesis.v1.Envelope");
    gn_envelope *env = genesis__v1__envelope__unpack(NULL, len, buf);
    if (env == NULL)
        return reject(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE, reason, why,
                      why_size, "bytes do not decode as a genesis.v1.Envelope");
    rv = check_version(env->version, reason, why, why_size);
    if (rv == GENESIS_OK && env->body_case == GENESIS__V1__ENVELOPE__BODY__NOT_SET)
        rv = reject(GENESIS_UNIMPLEMENTED, GENESIS_REASON_UNKNOWN_MESSAGE, reason, why, why_size,
                    "envelope has no body this coordinator knows (request, emit, register, "
                    "heartbeat, status, admin, unregister)");
    if (rv != GENESIS_OK) {
        genesis__v1__envelope__free_unpacked(env, NULL);
        return rv;
    }
    *out = env;
    return GENESIS_OK;
}

void gn_envelope_free(gn_envelope *env)
{
    if (env != NULL)
        genesis__v1__envelope__free_unpacked(env, NULL);
}

static int pack_into_msg(const ProtobufCMessage *m, size_t prefix_len, const void *prefix,
                         nng_msg **out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    nng_msg *msg;
    if (nng_msg_alloc(&msg, prefix_len + n) != 0)
        return GENESIS_RESOURCE_EXHAUSTED;
    uint8_t *body = nng_msg_body(msg);
    if (prefix_len > 0)
        memcpy(body, prefix, prefix_len);
    protobuf_c_message_pack(m, body + prefix_len);
    *out = msg;
    return GENESIS_OK;
}

int gn_envelope_encode(gn_envelope *env, nng_msg **out)
{
    env->version = GENESIS_PROTOCOL_VERSION;
    return pack_into_msg(&env->base, 0, NULL, out);
}

int gn_reply_decode(const void *buf, size_t len, size_t max_size, gn_wire_reply **out, int *reason,
                    char *why, size_t why_size)
{
    *out = NULL;
    int rv = check_size(len, max_size, reason, why, why_size);
    if (rv != GENESIS_OK)
        return rv;
    /* Every reply this protocol sends carries its version, so it is never empty. */
    if (len == 0)
        return reject(GENESIS_INTERNAL, GENESIS_REASON_MALFORMED_MESSAGE, reason, why, why_size,
                      "peer sent an empty reply: expected a genesis.v1.Reply");
    gn_wire_reply *reply = genesis__v1__reply__unpack(NULL, len, buf);
    if (reply == NULL)
        return reject(GENESIS_INTERNAL, GENESIS_REASON_MALFORMED_MESSAGE, reason, why, why_size,
                      "peer's reply does not decode as a genesis.v1.Reply");
    rv = check_version(reply->version, reason, why, why_size);
    if (rv != GENESIS_OK) {
        genesis__v1__reply__free_unpacked(reply, NULL);
        return rv;
    }
    *out = reply;
    return GENESIS_OK;
}

void gn_reply_outcome(const gn_wire_reply *reply, int *status, int *reason)
{
    *status = reply->code <= GENESIS_UNAUTHENTICATED ? (int)reply->code : GENESIS_UNKNOWN;
    *reason = (int)reply->reason;
    if (*status == GENESIS_OK)
        *reason = GENESIS_REASON_NONE;
    else if (*reason == GENESIS_REASON_NONE || reply->reason > INT32_MAX)
        *reason = GENESIS_REASON_HANDLER_ERROR;
}

void gn_reply_free(gn_wire_reply *reply)
{
    if (reply != NULL)
        genesis__v1__reply__free_unpacked(reply, NULL);
}

int gn_reply_encode(gn_wire_reply *reply, nng_msg **out)
{
    reply->version = GENESIS_PROTOCOL_VERSION;
    return pack_into_msg(&reply->base, 0, NULL, out);
}

int gn_reply_msg(nng_msg **out, int code, int reason, const char *message, const void *data,
                 size_t len, const char *content_type)
{
    return gn_reply_msg_advised(out, code, reason, message, data, len, content_type, 0);
}

int gn_reply_msg_advised(nng_msg **out, int code, int reason, const char *message, const void *data,
                         size_t len, const char *content_type, uint32_t retry_delay_ms)
{
    gn_wire_reply reply = GENESIS__V1__REPLY__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    reply.retry_delay_ms = retry_delay_ms;
    reply.code = (uint32_t)code;
    reply.reason = (uint32_t)reason;
    reply.message = (char *)(message != NULL ? message : "");
    if (len > 0 || (content_type != NULL && content_type[0] != '\0')) {
        payload.data.data = (uint8_t *)data;
        payload.data.len = data != NULL ? len : 0;
        payload.content_type = (char *)(content_type != NULL ? content_type : "");
        reply.payload = &payload;
    }
    return gn_reply_encode(&reply, out);
}

/* ---- event bus frames -------------------------------------------------------------------- */

static const char *scope_prefix(int scope)
{
    return scope == GENESIS__V1__SCOPE__SCOPE_EXTERNAL ? GN_TOPIC_EXTERNAL : GN_TOPIC_LOCAL;
}

/* The topic of an event: "<scope>:<type>", or "to:<target>:<type>" for a directed event.
 * Written into stack when it fits, else into a new buffer; *len excludes the NUL. */
static char *event_topic(const gn_wire_event *ev, char *stack, size_t size, size_t *len)
{
    const char *type = ev->type != NULL ? ev->type : "";
    const char *target = ev->target != NULL ? ev->target : "";
    const char *prefix = target[0] != '\0' ? GN_TOPIC_DIRECTED : scope_prefix(ev->scope);
    size_t pl = strlen(prefix), gl = strlen(target), tl = strlen(type);
    size_t n = pl + (gl > 0 ? gl + 1 : 0) + tl;
    char *topic = n + 1 <= size ? stack : malloc(n + 1);
    if (topic == NULL)
        return NULL;
    memcpy(topic, prefix, pl);
    if (gl > 0) {
        memcpy(topic + pl, target, gl);
        topic[pl + gl] = ':';
    }
    memcpy(topic + n - tl, type, tl);
    topic[n] = '\0';
    *len = n;
    return topic;
}

int gn_event_frame_encode(gn_wire_event *ev, nng_msg **out)
{
    char stack[GN_MAX_TYPE_LEN + 160];
    size_t n = 0;
    char *topic = event_topic(ev, stack, sizeof(stack), &n);
    if (topic == NULL)
        return GENESIS_RESOURCE_EXHAUSTED;
    int rv = pack_into_msg(&ev->base, n + 1, topic, out);
    if (topic != stack)
        free(topic);
    return rv;
}

int gn_event_frame_decode(const void *buf, size_t len, size_t max_size, gn_wire_event **out,
                          char *why, size_t why_size)
{
    *out = NULL;
    int rv = check_size(len, max_size, NULL, why, why_size);
    if (rv != GENESIS_OK)
        return rv;
    const char *p = buf;
    const char *nul = memchr(p, '\0', len);
    if (nul == NULL)
        return reject(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE, NULL, why,
                      why_size, "event frame has no topic terminator");
    size_t topic_len = (size_t)(nul - p);
    gn_wire_event *ev =
        genesis__v1__event__unpack(NULL, len - topic_len - 1, (const uint8_t *)nul + 1);
    if (ev == NULL)
        return reject(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE, NULL, why,
                      why_size, "event frame does not decode as a genesis.v1.Event");
    char stack[GN_MAX_TYPE_LEN + 160];
    size_t n = 0;
    char *expected = event_topic(ev, stack, sizeof(stack), &n);
    bool match = expected != NULL && n == topic_len && memcmp(p, expected, n) == 0;
    if (expected != stack)
        free(expected);
    if (!match) {
        genesis__v1__event__free_unpacked(ev, NULL);
        return reject(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE, NULL, why,
                      why_size, "event frame topic does not match the event's scope and type");
    }
    *out = ev;
    return GENESIS_OK;
}

int gn_event_decode(const void *buf, size_t len, size_t max_size, gn_wire_event **out, char *why,
                    size_t why_size)
{
    *out = NULL;
    int rv = check_size(len, max_size, NULL, why, why_size);
    if (rv != GENESIS_OK)
        return rv;
    gn_wire_event *ev = genesis__v1__event__unpack(NULL, len, (const uint8_t *)buf);
    if (ev == NULL)
        return reject(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE, NULL, why,
                      why_size, "event does not decode as a genesis.v1.Event");
    if (!gn_valid_type(ev->type) || (ev->target != NULL && ev->target[0] != '\0')) {
        genesis__v1__event__free_unpacked(ev, NULL);
        return reject(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_MALFORMED_MESSAGE, NULL, why,
                      why_size, "event has an invalid type or a target");
    }
    *out = ev;
    return GENESIS_OK;
}

void gn_event_free(gn_wire_event *ev)
{
    if (ev != NULL)
        genesis__v1__event__free_unpacked(ev, NULL);
}

const char *gn_payload_content_type(const Genesis__V1__Payload *p)
{
    return p != NULL && p->content_type != NULL ? p->content_type : "";
}

const uint8_t *gn_payload_data(const Genesis__V1__Payload *p, size_t *len)
{
    static const uint8_t none[1] = {0};
    if (p == NULL || p->data.data == NULL) {
        *len = 0;
        return none;
    }
    *len = p->data.len;
    return p->data.data;
}
