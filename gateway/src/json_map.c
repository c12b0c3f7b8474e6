/* JSON / Connect mapping (see json_map.h). */
#define _POSIX_C_SOURCE 200809L
#include "json_map.h"
#include "json_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "genesis/proto/genesis.pb-c.h"

void gw_parsed_request_clear(gw_parsed_request *r)
{
    free(r->target);
    free(r->type);
    free(r->source);
    free(r->data);
    memset(r, 0, sizeof(*r));
}

static int fail(char *why, size_t size, const char *message)
{
    snprintf(why, size, "%s", message);
    return -1;
}

/* data: a string is sent as its bytes (text/plain), anything else as its JSON text. */
static int take_data(json_t *data, gw_parsed_request *out)
{
    if (data == NULL || json_is_null(data)) {
        out->content_type = "";
        return 0;
    }
    if (json_is_string(data)) {
        size_t n = json_string_length(data);
        out->data = malloc(n + 1);
        if (out->data == NULL)
            return -1;
        memcpy(out->data, json_string_value(data), n);
        out->len = n;
        out->content_type = "text/plain";
        return 0;
    }
    char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL)
        return -1;
    out->data = (unsigned char *)text;
    out->len = strlen(text);
    out->content_type = "application/json";
    return 0;
}

static int parse_criticality(json_t *v, int *out)
{
    if (v == NULL || json_is_null(v)) {
        *out = GENESIS_CRITICALITY_DEFAULT;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 2) {
        *out = (int)json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (s == NULL)
        return -1;
    if (strcasecmp(s, "DEFAULT") == 0)
        *out = GENESIS_CRITICALITY_DEFAULT;
    else if (strcasecmp(s, "CRITICAL") == 0)
        *out = GENESIS_CRITICALITY_CRITICAL;
    else if (strcasecmp(s, "SHEDDABLE") == 0)
        *out = GENESIS_CRITICALITY_SHEDDABLE;
    else
        return -1;
    return 0;
}

static char *dup_string_field(json_t *root, const char *key, int *bad)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    char *s = strdup(json_string_value(v));
    if (s == NULL)
        *bad = 1;
    return s;
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d != NULL ? memcpy(d, s, n) : NULL;
}

int gw_parse_admin_args(const char *command, const char *component, const void *body, size_t len,
                        char **args, size_t max, size_t *nargs, char *why, size_t why_size)
{
    *nargs = 0;
    json_error_t err;
    json_t *doc = len > 0 ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &err) : json_object();
    if (doc == NULL || !json_is_object(doc)) {
        if (doc == NULL && len == 0)
            snprintf(why, why_size, "out of memory");
        else if (doc == NULL)
            snprintf(why, why_size, "invalid JSON at line %d, column %d: %s", err.line, err.column,
                     err.text);
        else
            snprintf(why, why_size, "the body must be a JSON object");
        json_decref(doc);
        return -1;
    }
    int rc = 0;
    if (component[0] != '\0')
        args[(*nargs)++] = dup_text(component);
    if (strcmp(command, "mode") == 0 || strcmp(command, "breaker") == 0) {
        const char *key = command[0] == 'm' ? "mode" : "state";
        json_t *v = json_object_get(doc, key);
        if (v != NULL && !json_is_string(v)) {
            snprintf(why, why_size, "\"%s\" must be a string", key);
            rc = -1;
        } else if (v == NULL && command[0] == 'b') {
            snprintf(why, why_size,
                     "\"state\" is required: open, close, reset, disable or metrics-only");
            rc = -1;
        } else if (v != NULL) {
            args[(*nargs)++] = dup_text(json_string_value(v));
        }
        /* breaker {"state": "open", "for_ms": N}: open for N ms, then half-open */
        json_t *for_ms = command[0] == 'b' ? json_object_get(doc, "for_ms") : NULL;
        if (rc == 0 && for_ms != NULL) {
            char n[32];
            if (!json_is_integer(for_ms) || json_integer_value(for_ms) <= 0 ||
                json_integer_value(for_ms) > UINT32_MAX) {
                snprintf(why, why_size, "\"for_ms\" must be a positive integer (milliseconds)");
                rc = -1;
            } else {
                snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT, json_integer_value(for_ms));
                args[(*nargs)++] = dup_text(n);
            }
        }
    } else {
        json_t *clear = json_object_get(doc, "clear");
        if (strcmp(command, "fault") == 0 && json_is_true(clear)) {
            args[(*nargs)++] = dup_text("clear");
        } else {
            const char *key;
            json_t *v;
            json_object_foreach(doc, key, v)
            {
                char kv[160];
                if (json_is_integer(v))
                    snprintf(kv, sizeof(kv), "%s=%" JSON_INTEGER_FORMAT, key,
                             json_integer_value(v));
                else if (json_is_real(v))
                    snprintf(kv, sizeof(kv), "%s=%.17g", key, json_real_value(v));
                else if (json_is_boolean(v))
                    snprintf(kv, sizeof(kv), "%s=%d", key, json_is_true(v) ? 1 : 0);
                else {
                    snprintf(why, why_size, "\"%s\" must be a number or a boolean", key);
                    rc = -1;
                    break;
                }
                if (*nargs == max) {
                    snprintf(why, why_size, "too many fields (at most %zu)", max - 1);
                    rc = -1;
                    break;
                }
                args[(*nargs)++] = dup_text(kv);
            }
        }
    }
    for (size_t i = 0; i < *nargs; i++)
        if (args[i] == NULL && rc == 0) {
            snprintf(why, why_size, "out of memory");
            rc = -1;
        }
    json_decref(doc);
    return rc;
}

int gw_parse_request_json(const void *body, size_t len, int want_target, gw_parsed_request *out,
                          char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return fail(why, why_size, "empty body: expected a JSON object with \"type\"");
    json_error_t err;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        snprintf(why, why_size, "invalid JSON at line %d column %d: %s", err.line, err.column,
                 err.text);
        return -1;
    }
    int rc = -1;
    int bad = 0;
    if (!json_is_object(root)) {
        fail(why, why_size, "the body must be a JSON object");
        goto out;
    }
    out->type = dup_string_field(root, "type", &bad);
    if (bad || out->type == NULL || out->type[0] == '\0') {
        fail(why, why_size, "\"type\" must be a non-empty string");
        goto out;
    }
    out->source = dup_string_field(root, "source", &bad);
    if (bad) {
        fail(why, why_size, "\"source\" must be a string");
        goto out;
    }
    if (want_target) {
        out->target = dup_string_field(root, "target", &bad);
        if (bad || out->target == NULL || out->target[0] == '\0') {
            fail(why, why_size, "\"target\" must be a non-empty string");
            goto out;
        }
    }
    if (parse_criticality(json_object_get(root, "criticality"), &out->criticality) != 0) {
        fail(why, why_size,
             "\"criticality\" must be \"CRITICAL\", \"DEFAULT\", \"SHEDDABLE\" or 0..2");
        goto out;
    }
    json_t *t = json_object_get(root, "timeout_ms");
    if (t != NULL && !json_is_null(t)) {
        if (!json_is_integer(t) || json_integer_value(t) < 1 ||
            json_integer_value(t) > (json_int_t)GW_MAX_TIMEOUT_MS) {
            snprintf(why, why_size, "\"timeout_ms\" must be an integer from 1 to %u",
                     GW_MAX_TIMEOUT_MS);
            goto out;
        }
        out->timeout_ms = (uint32_t)json_integer_value(t);
    }
    if (take_data(json_object_get(root, "data"), out) != 0) {
        fail(why, why_size, "out of memory");
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        gw_parsed_request_clear(out);
    return rc;
}

int gw_parse_request_proto(const void *body, size_t len, gw_parsed_request *out, char *why,
                           size_t why_size)
{
    memset(out, 0, sizeof(*out));
    Genesis__V1__Request *req = genesis__v1__request__unpack(NULL, len, body);
    if (req == NULL)
        return fail(why, why_size, "the body does not decode as a genesis.v1.Request");
    int rc = -1;
    if (req->target == NULL || req->target[0] == '\0' || req->type == NULL ||
        req->type[0] == '\0') {
        fail(why, why_size, "genesis.v1.Request needs a target and a type");
        goto out;
    }
    out->target = strdup(req->target);
    out->type = strdup(req->type);
    out->source = req->source != NULL && req->source[0] != '\0' ? strdup(req->source) : NULL;
    out->criticality = (int)req->criticality;
    out->timeout_ms = req->timeout_ms;
    out->content_type = "application/octet-stream";
    if (req->payload != NULL && req->payload->content_type != NULL &&
        req->payload->content_type[0] != '\0') {
        snprintf(out->ctype, sizeof(out->ctype), "%s", req->payload->content_type);
        out->content_type = out->ctype;
    }
    if (req->payload != NULL && req->payload->data.len > 0) {
        out->data = malloc(req->payload->data.len);
        if (out->data != NULL) {
            memcpy(out->data, req->payload->data.data, req->payload->data.len);
            out->len = req->payload->data.len;
        }
    }
    if (out->target == NULL || out->type == NULL ||
        (out->len == 0 && req->payload != NULL && req->payload->data.len > 0)) {
        fail(why, why_size, "out of memory");
        goto out;
    }
    rc = 0;
out:
    genesis__v1__request__free_unpacked(req, NULL);
    if (rc != 0)
        gw_parsed_request_clear(out);
    return rc;
}

int gw_http_status(int code, int reason)
{
    switch (code) {
    case GENESIS_OK:
        return 200;
    case GENESIS_CANCELLED:
        return 499;
    case GENESIS_INVALID_ARGUMENT:
    case GENESIS_FAILED_PRECONDITION:
    case GENESIS_OUT_OF_RANGE:
        return 400;
    case GENESIS_DEADLINE_EXCEEDED:
        return 504;
    case GENESIS_NOT_FOUND:
        return 404;
    case GENESIS_ALREADY_EXISTS:
    case GENESIS_ABORTED:
        return 409;
    case GENESIS_PERMISSION_DENIED:
        return 403;
    case GENESIS_RESOURCE_EXHAUSTED:
        return reason == GENESIS_REASON_MESSAGE_TOO_LARGE ? 413 : 429;
    case GENESIS_UNIMPLEMENTED:
        return 501;
    case GENESIS_UNAVAILABLE:
        return 503;
    case GENESIS_UNAUTHENTICATED:
        return 401;
    default: /* UNKNOWN, INTERNAL, DATA_LOSS and anything newer */
        return 500;
    }
}

const char *gw_connect_code(int code)
{
    static const char *const names[] = {"ok",
                                        "canceled",
                                        "unknown",
                                        "invalid_argument",
                                        "deadline_exceeded",
                                        "not_found",
                                        "already_exists",
                                        "permission_denied",
                                        "resource_exhausted",
                                        "failed_precondition",
                                        "aborted",
                                        "out_of_range",
                                        "unimplemented",
                                        "internal",
                                        "unavailable",
                                        "data_loss",
                                        "unauthenticated"};
    return code >= 0 && code <= 16 ? names[code] : "unknown";
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const unsigned char *p, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* Set key (and key "encoding" when base64 was needed) in obj from a payload. */
static int set_payload(json_t *obj, const char *key, const void *data, size_t len,
                       const char *content_type)
{
    json_t *v = NULL;
    if (len == 0 && (content_type == NULL || content_type[0] == '\0'))
        v = json_null();
    if (v == NULL && content_type != NULL && strncmp(content_type, "application/json", 16) == 0)
        v = json_loadb(data, len, JSON_DECODE_ANY, NULL);
    if (v == NULL)
        v = json_stringn(data, len); /* NULL when not valid UTF-8 */
    if (v == NULL) {
        char *enc = base64(data, len);
        if (enc == NULL)
            return -1;
        v = json_string(enc);
        free(enc);
        json_object_set_new(obj, "encoding", json_string("base64"));
    }
    return json_object_set_new(obj, key, v);
}

static char *dump(json_t *obj, size_t *len)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (s != NULL)
        *len = strlen(s);
    return s;
}

char *gw_result_json(const genesis_result *res, size_t *len)
{
    size_t n = 0;
    const void *data = genesis_result_data(res, &n);
    const char *ct = genesis_result_content_type(res);
    /* Text, the common reply, is written directly (a tenth of the instructions of a jansson
     * tree and dump); JSON, empty and non-UTF-8 payloads take set_payload's path below. */
    int empty = n == 0 && (ct == NULL || ct[0] == '\0');
    if (!empty && (ct == NULL || strncmp(ct, "application/json", 16) != 0)) {
        char *text = gw_json_text_object("result", data, n, len);
        if (text != NULL)
            return text;
    }
    json_t *obj = json_object();
    if (obj == NULL || set_payload(obj, "result", data, n, ct) != 0) {
        json_decref(obj);
        return NULL;
    }
    return dump(obj, len);
}

char *gw_error_json(int code, const char *reason, const char *message, size_t *len)
{
    json_t *obj =
        json_pack("{s:i, s:s, s:s, s:[{s:s, s:s, s:s}]}", "code", code, "message",
                  message != NULL ? message : "", "reason", reason, "details", "@type",
                  "genesis.v1.ErrorInfo", "status", genesis_status_name(code), "reason", reason);
    if (obj == NULL) /* a message that is not valid UTF-8 */
        obj = json_pack("{s:i, s:s, s:s, s:[]}", "code", code, "message",
                        "(message not valid UTF-8)", "reason", reason, "details");
    return obj != NULL ? dump(obj, len) : NULL;
}

char *gw_connect_error_json(int code, const char *message, size_t *len)
{
    json_t *obj = json_pack("{s:s, s:s}", "code", gw_connect_code(code), "message",
                            message != NULL ? message : "");
    if (obj == NULL)
        obj = json_pack("{s:s}", "code", gw_connect_code(code));
    return obj != NULL ? dump(obj, len) : NULL;
}

unsigned char *gw_result_proto(const genesis_result *res, size_t *len)
{
    Genesis__V1__Reply reply = GENESIS__V1__REPLY__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    size_t n = 0;
    const void *data = genesis_result_data(res, &n);
    reply.version = GENESIS_PROTOCOL_VERSION;
    reply.code = (uint32_t)genesis_result_status(res);
    reply.reason = (uint32_t)genesis_result_reason(res);
    reply.message = (char *)genesis_result_message(res);
    payload.data.data = (uint8_t *)data;
    payload.data.len = n;
    payload.content_type = (char *)genesis_result_content_type(res);
    reply.payload = &payload;
    size_t size = genesis__v1__reply__get_packed_size(&reply);
    unsigned char *buf = malloc(size > 0 ? size : 1);
    if (buf == NULL)
        return NULL;
    *len = genesis__v1__reply__pack(&reply, buf);
    return buf;
}

char *gw_event_json(const char *type, const void *data, size_t data_len, const char *content_type,
                    const char *source, uint64_t seq, size_t *len)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    json_t *t = json_string(type);
    json_t *s = json_string(source);
    if (t == NULL || s == NULL || json_object_set_new(obj, "type", t) != 0 ||
        set_payload(obj, "data", data, data_len, content_type) != 0 ||
        json_object_set_new(obj, "source", s) != 0 ||
        json_object_set_new(obj, "seq", json_integer((json_int_t)seq)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return dump(obj, len);
}

int gw_parse_ws_message(const char *text, size_t len, char **type, char **data, size_t *data_len,
                        const char **content_type, char *why, size_t why_size)
{
    *type = NULL;
    *data = NULL;
    *data_len = 0;
    json_t *root = json_loadb(text, len, 0, NULL);
    json_t *jt = json_object_get(root, "type");
    if (json_is_object(root) && json_is_string(jt) && json_string_length(jt) > 0) {
        gw_parsed_request r;
        memset(&r, 0, sizeof(r));
        int rc = take_data(json_object_get(root, "data"), &r);
        *type = strdup(json_string_value(jt));
        json_decref(root);
        if (rc != 0 || *type == NULL) {
            free(*type);
            *type = NULL;
            free(r.data);
            return fail(why, why_size, "out of memory");
        }
        *data = (char *)r.data;
        *data_len = r.len;
        *content_type = r.content_type;
        return 0;
    }
    json_decref(root);
    *type = strdup("message");
    *data = malloc(len + 1);
    if (*type == NULL || *data == NULL) {
        free(*type);
        free(*data);
        *type = *data = NULL;
        return fail(why, why_size, "out of memory");
    }
    memcpy(*data, text, len);
    *data_len = len;
    *content_type = "text/plain";
    return 0;
}
