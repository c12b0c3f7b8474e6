/* Results, handler-side request views, replies and events (genesis/message.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "base/objects.h"

static const char empty[1] = "";

/* ---- call options ---------------------------------------------------------------------- */

int genesis_call_options_init(genesis_call_options *opts, unsigned int version)
{
    gn_clear_error();
    if (opts == NULL || !gn_call_options_version_ok(version))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "call options: NULL or unknown version %u",
                       version);
    memset(opts, 0, version == 1 ? offsetof(genesis_call_options, request_id) : sizeof(*opts));
    opts->version = version;
    opts->criticality = GENESIS_CRITICALITY_DEFAULT;
    return GENESIS_OK;
}

/* ---- results --------------------------------------------------------------------------- */

genesis_result *gn_result_new(int status, int reason, const char *message, const void *data,
                              size_t len, const char *content_type)
{
    if (message == NULL)
        message = "";
    if (content_type == NULL)
        content_type = "";
    if (data == NULL)
        len = 0;
    size_t mlen = strlen(message) + 1, clen = strlen(content_type) + 1;
    genesis_result *res = malloc(sizeof(*res) + mlen + clen + len + 1);
    if (res == NULL)
        return NULL;
    char *p = (char *)(res + 1);
    res->status = status;
    res->reason = reason;
    res->message = memcpy(p, message, mlen);
    p += mlen;
    res->content_type = memcpy(p, content_type, clen);
    p += clen;
    res->data = (uint8_t *)p;
    if (len > 0)
        memcpy(p, data, len);
    p[len] = '\0';
    res->len = len;
    res->retry_delay_ms = 0;
    return res;
}

genesis_result *gn_result_errorf(int status, int reason, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return gn_result_new(status, reason, buf, NULL, 0, NULL);
}

int genesis_result_status(const genesis_result *res)
{
    return res != NULL ? res->status : GENESIS_RESOURCE_EXHAUSTED;
}

uint32_t genesis_result_retry_delay_ms(const genesis_result *res)
{
    return res != NULL ? res->retry_delay_ms : 0;
}

int genesis_result_reason(const genesis_result *res)
{
    return res != NULL ? res->reason : GENESIS_REASON_NO_MEMORY;
}

const char *genesis_result_message(const genesis_result *res)
{
    return res != NULL ? res->message : "out of memory: no result could be allocated";
}

const void *genesis_result_data(const genesis_result *res, size_t *len)
{
    if (len != NULL)
        *len = res != NULL ? res->len : 0;
    return res != NULL ? (const void *)res->data : (const void *)empty;
}

const char *genesis_result_content_type(const genesis_result *res)
{
    return res != NULL ? res->content_type : empty;
}

void genesis_result_free(genesis_result *res)
{
    free(res);
}

/* ---- requests as seen by handlers ------------------------------------------------------ */

const char *genesis_request_type(const genesis_request *req)
{
    return req != NULL ? req->type : empty;
}

const char *genesis_request_source(const genesis_request *req)
{
    return req != NULL ? req->source : empty;
}

const char *genesis_request_target(const genesis_request *req)
{
    return req != NULL ? req->target : empty;
}

const void *genesis_request_data(const genesis_request *req, size_t *len)
{
    if (len != NULL)
        *len = req != NULL ? req->len : 0;
    return req != NULL ? (const void *)req->data : (const void *)empty;
}

const char *genesis_request_content_type(const genesis_request *req)
{
    return req != NULL ? req->content_type : empty;
}

int genesis_request_criticality(const genesis_request *req)
{
    return req != NULL ? req->criticality : GENESIS_CRITICALITY_DEFAULT;
}

uint32_t genesis_request_remaining_ms(const genesis_request *req)
{
    if (req == NULL)
        return 0;
    int64_t left = req->deadline_ms - gn_now_ms();
    if (left <= 0)
        return 0;
    return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

uint64_t genesis_request_id(const genesis_request *req)
{
    return req != NULL ? req->id : 0;
}

/* ---- replies built by handlers --------------------------------------------------------- */

void gn_reply_init(genesis_reply *reply, size_t max_size)
{
    /* Not the inline buffers: nothing reads them before a reply is set. */
    reply->message = reply->content_type = NULL;
    reply->data = NULL;
    gn_reply_clear(reply);
    reply->max_size = max_size;
}

void gn_reply_clear(genesis_reply *reply)
{
    free(reply->message);
    if (reply->content_type != reply->ct_inline)
        free(reply->content_type);
    if (reply->data != reply->data_inline)
        free(reply->data);
    reply->status = GENESIS_OK;
    reply->reason = GENESIS_REASON_NONE;
    reply->message = NULL;
    reply->content_type = NULL;
    reply->data = NULL;
    reply->len = 0;
    reply->set = 0;
}

int genesis_reply_set(genesis_reply *reply, const void *data, size_t len, const char *content_type)
{
    gn_clear_error();
    if (reply == NULL || (data == NULL && len > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "reply: NULL reply or data");
    if (reply->max_size > 0 && len > reply->max_size)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "reply of %zu bytes exceeds the limit %zu", len,
                       reply->max_size);
    if (content_type == NULL)
        content_type = "";
    size_t ct_len = strlen(content_type) + 1;
    if (len < sizeof(reply->data_inline) && ct_len <= sizeof(reply->ct_inline)) {
        gn_reply_clear(reply);
        if (len > 0)
            memcpy(reply->data_inline, data, len);
        reply->data_inline[len] = '\0';
        reply->data = reply->data_inline;
        reply->len = len;
        reply->content_type = memcpy(reply->ct_inline, content_type, ct_len);
        reply->set = 1;
        return GENESIS_OK;
    }
    uint8_t *copy = malloc(len + 1);
    char *ct = gn_strdup(content_type);
    if (copy == NULL || ct == NULL) {
        free(copy);
        free(ct);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "reply: out of memory");
    }
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    gn_reply_clear(reply);
    reply->data = copy;
    reply->len = len;
    reply->content_type = ct;
    reply->set = 1;
    return GENESIS_OK;
}

int genesis_reply_error(genesis_reply *reply, int status, const char *message)
{
    gn_clear_error();
    if (reply == NULL || status == GENESIS_OK)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "reply_error: NULL reply or OK status");
    char *msg = gn_strdup(message != NULL ? message : genesis_strerror(status));
    if (msg == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "reply: out of memory");
    gn_reply_clear(reply);
    reply->status = status;
    reply->reason = GENESIS_REASON_HANDLER_ERROR;
    reply->message = msg;
    reply->set = 1;
    return GENESIS_OK;
}

genesis_result *gn_reply_to_result(genesis_reply *reply)
{
    genesis_result *res = gn_result_new(reply->status, reply->reason, reply->message, reply->data,
                                        reply->len, reply->content_type);
    gn_reply_clear(reply);
    return res;
}

/* ---- events ------------------------------------------------------------------------------ */

const char *genesis_event_type(const genesis_event *ev)
{
    return ev != NULL ? ev->type : empty;
}

const char *genesis_event_source(const genesis_event *ev)
{
    return ev != NULL ? ev->source : empty;
}

const void *genesis_event_data(const genesis_event *ev, size_t *len)
{
    if (len != NULL)
        *len = ev != NULL ? ev->len : 0;
    return ev != NULL ? (const void *)ev->data : (const void *)empty;
}

const char *genesis_event_content_type(const genesis_event *ev)
{
    return ev != NULL ? ev->content_type : empty;
}

uint64_t genesis_event_sequence(const genesis_event *ev)
{
    return ev != NULL ? ev->sequence : 0;
}

int genesis_event_is_external(const genesis_event *ev)
{
    return ev != NULL ? ev->external : 0;
}

gn_owned_event *gn_owned_event_new(const char *type, const char *source, const void *data,
                                   size_t len, const char *content_type, uint64_t sequence,
                                   int external)
{
    type = type != NULL ? type : "";
    source = source != NULL ? source : "";
    content_type = content_type != NULL ? content_type : "";
    if (data == NULL)
        len = 0;
    size_t tl = strlen(type) + 1, sl = strlen(source) + 1, cl = strlen(content_type) + 1;
    gn_owned_event *ev = malloc(sizeof(*ev) + tl + sl + cl + len + 1);
    if (ev == NULL)
        return NULL;
    char *p = (char *)(ev + 1);
    ev->view.type = memcpy(p, type, tl);
    p += tl;
    ev->view.source = memcpy(p, source, sl);
    p += sl;
    ev->view.content_type = memcpy(p, content_type, cl);
    p += cl;
    if (len > 0)
        memcpy(p, data, len);
    p[len] = '\0';
    ev->view.data = (const uint8_t *)p;
    ev->view.len = len;
    ev->view.sequence = sequence;
    ev->view.external = external;
    return ev;
}

void gn_owned_event_free(gn_owned_event *ev)
{
    free(ev);
}
