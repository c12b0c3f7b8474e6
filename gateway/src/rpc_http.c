/* gRPC-Web and Connect over the libwebsockets HTTP side (see rpc_http.h). */
#define _POSIX_C_SOURCE 200809L
#include "rpc_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "b64.h"
#include "cors.h"
#include "genesis/proto/genesis.pb-c.h"
#include "grpc_frame.h"
#include "gzip_codec.h"
#include "http_chunked.h"
#include "json_map.h"
#include "proto_json.h"
#include "rpc_service.h"

enum rpc_protocol {
    RPC_GRPC_WEB = 1,   /* application/grpc-web[+proto] */
    RPC_GRPC_WEB_TEXT,  /* application/grpc-web-text[+proto]: the same, in base64 */
    RPC_CONNECT_UNARY,  /* application/proto, application/json */
    RPC_CONNECT_STREAM, /* application/connect+proto, application/connect+json */
};

#define CONNECT_END_STREAM 0x02 /* Connect's end-of-stream envelope flag */
#define GRPC_WEB_TRAILERS  0x80 /* gRPC-Web's trailer frame flag */

typedef struct gw_rpc_http {
    struct gw_rpc_http *prev, *next; /* in gw->rpc_http */
    uint64_t id;
    gw_gateway *gw;
    struct lws *wsi;
    gw_conn *conn;
    int protocol;
    int json; /* Connect's JSON codec */
    char content_type[64];
    const gw_rpc_method *method;
    gw_rpc_watch *watch;
    int get;        /* Connect unary GET: the message came in the query */
    int req_gzip;   /* the request message is gzip-compressed */
    int resp_gzip;  /* so are the response messages (the client accepts gzip) */
    int chunked;    /* the request body is chunked (decoded here) */
    int dispatched; /* the call started */
    int over_limit; /* Content-Length over the limit: the body is read and dropped, then the
                       error answered (a browser that is still sending would otherwise see a
                       reset instead of the answer) */
    gw_chunked dechunk;
    /* a streaming response: headers, then out as it fills, then the end */
    int headers_sent;
    int ended;
    unsigned char *out;
    size_t out_len, out_off, out_cap;
} gw_rpc_http;

int gw_rpc_http_claims(const char *path)
{
    return strncmp(path, "/genesis.v1.Genesis/", 20) == 0 ||
           strncmp(path, "/genesis.v1.GenesisAdmin/", 25) == 0;
}

static const char *protocol_name(int p)
{
    return p == RPC_GRPC_WEB || p == RPC_GRPC_WEB_TEXT ? "grpc-web" : "connect";
}

/* ---- encoding helpers -------------------------------------------------------------------- */

static int append(gw_rpc_http *r, const void *data, size_t n)
{
    if (r->out_len + n > r->out_cap) {
        size_t cap = r->out_cap > 0 ? r->out_cap : 1024;
        while (cap < r->out_len + n)
            cap *= 2;
        unsigned char *b = realloc(r->out, cap);
        if (b == NULL)
            return -1;
        r->out = b;
        r->out_cap = cap;
    }
    memcpy(r->out + r->out_len, data, n);
    r->out_len += n;
    return 0;
}

/* data as the protocol carries it: base64 for gRPC-Web text (each piece padded on its own,
 * which clients decode four characters at a time). */
static int append_wire(gw_rpc_http *r, const void *data, size_t n)
{
    if (r->protocol != RPC_GRPC_WEB_TEXT)
        return append(r, data, n);
    size_t tl = 0;
    char *text = gw_b64_encode(data, n, &tl);
    int rc = text != NULL ? append(r, text, tl) : -1;
    free(text);
    return rc;
}

static int append_frame(gw_rpc_http *r, unsigned flags, const void *msg, size_t n)
{
    uint8_t prefix[GW_GRPC_PREFIX];
    gw_grpc_frame_prefix(prefix, flags, n);
    unsigned char *both = malloc(GW_GRPC_PREFIX + n + 1);
    if (both == NULL)
        return -1;
    memcpy(both, prefix, GW_GRPC_PREFIX);
    if (n > 0)
        memcpy(both + GW_GRPC_PREFIX, msg, n);
    int rc = append_wire(r, both, GW_GRPC_PREFIX + n);
    free(both);
    return rc;
}

/* A response message framed, compressed when the call's responses are. */
static int append_message(gw_rpc_http *r, const void *msg, size_t n)
{
    if (!r->resp_gzip)
        return append_frame(r, 0, msg, n);
    uint8_t *z = NULL;
    size_t zlen = 0;
    if (gw_gzip(msg, n, &z, &zlen) != GW_GZ_OK)
        return -1;
    atomic_fetch_add(&r->gw->wire.compressed_out, 1);
    int rc = append_frame(r, GW_FRAME_COMPRESSED, z, zlen);
    free(z);
    return rc;
}

/* A response message in the codec of the request: protobuf as is, or proto3 JSON. */
static char *message_bytes(const gw_rpc_http *r, const uint8_t *msg, size_t len, size_t *out_len)
{
    if (!r->json) {
        char *copy = malloc(len + 1);
        if (copy != NULL && len > 0)
            memcpy(copy, msg, len);
        *out_len = len;
        return copy;
    }
    ProtobufCMessage *m = protobuf_c_message_unpack(r->method->output, NULL, len, msg);
    json_t *j = m != NULL ? gw_proto_to_json(m) : NULL;
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (m != NULL)
        protobuf_c_message_free_unpacked(m, NULL);
    *out_len = text != NULL ? strlen(text) : 0;
    return text;
}

/* Connect's error JSON: code name, message and the details as {type, value, debug}. */
static json_t *connect_error(const gw_rpc_out *o)
{
    json_t *err = json_pack("{s:s, s:s}", "code", gw_connect_code(o->code), "message", o->message);
    Genesis__V1__RpcStatus *st =
        o->details_len > 0 ? genesis__v1__rpc_status__unpack(NULL, o->details_len, o->details)
                           : NULL;
    json_t *details = json_array();
    for (size_t i = 0; st != NULL && details != NULL && i < st->n_details; i++) {
        const Genesis__V1__Any *any = st->details[i];
        const char *type = strrchr(any->type_url, '/');
        type = type != NULL ? type + 1 : any->type_url;
        char *value = gw_b64_encode(any->value.data, any->value.len, NULL);
        if (value == NULL)
            continue;
        size_t vl = strlen(value);
        while (vl > 0 && value[vl - 1] == '=') /* Connect: unpadded base64 */
            value[--vl] = '\0';
        json_t *d = json_pack("{s:s, s:s}", "type", type, "value", value);
        free(value);
        Genesis__V1__ErrorInfo *info =
            strcmp(type, "genesis.v1.ErrorInfo") == 0
                ? genesis__v1__error_info__unpack(NULL, any->value.len, any->value.data)
                : NULL;
        if (info != NULL) {
            json_object_set_new(d, "debug", gw_proto_to_json(&info->base));
            genesis__v1__error_info__free_unpacked(info, NULL);
        }
        json_array_append_new(details, d);
    }
    if (st != NULL)
        genesis__v1__rpc_status__free_unpacked(st, NULL);
    if (err != NULL && json_array_size(details) > 0)
        json_object_set_new(err, "details", details);
    else
        json_decref(details);
    return err;
}

/* The end of the response, in the protocol's form, appended to out. For Connect unary it is
 * the whole error body (success has no end marker). */
static int append_end(gw_rpc_http *r, const gw_rpc_out *o)
{
    switch (r->protocol) {
    case RPC_GRPC_WEB:
    case RPC_GRPC_WEB_TEXT: {
        char msg[1600], trailers[4096];
        gw_grpc_percent_encode(o->message, msg, sizeof(msg));
        char *b64 = o->details_len > 0 ? gw_b64_encode(o->details, o->details_len, NULL) : NULL;
        int n = snprintf(trailers, sizeof(trailers), "grpc-status:%d\r\n", o->code);
        if (o->code != 0 && msg[0] != '\0')
            n += snprintf(trailers + n, sizeof(trailers) - (size_t)n, "grpc-message:%s\r\n", msg);
        if (b64 != NULL && (size_t)n + strlen(b64) + 32 < sizeof(trailers))
            n += snprintf(trailers + n, sizeof(trailers) - (size_t)n,
                          "grpc-status-details-bin:%s\r\n", b64);
        free(b64);
        return append_frame(r, GRPC_WEB_TRAILERS, trailers, (size_t)n);
    }
    case RPC_CONNECT_STREAM: {
        json_t *end = json_object();
        if (end != NULL && o->code != 0)
            json_object_set_new(end, "error", connect_error(o));
        char *text = end != NULL ? json_dumps(end, JSON_COMPACT) : NULL;
        json_decref(end);
        int rc = text != NULL ? append_frame(r, CONNECT_END_STREAM, text, strlen(text)) : -1;
        free(text);
        return rc;
    }
    default: {
        json_t *err = connect_error(o);
        char *text = err != NULL ? json_dumps(err, JSON_COMPACT) : NULL;
        json_decref(err);
        int rc = text != NULL ? append(r, text, strlen(text)) : -1;
        free(text);
        return rc;
    }
    }
}

/* ---- the transaction registry (service thread) --------------------------------------------- */

static gw_rpc_http *find(gw_gateway *gw, uint64_t id)
{
    for (gw_rpc_http *r = gw->rpc_http; r != NULL; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

void gw_rpc_http_detach(gw_conn *conn)
{
    gw_rpc_http *r = conn->rpc;
    if (r == NULL)
        return;
    gw_gateway *gw = r->gw;
    conn->rpc = NULL;
    gw_rpc_watch_cancel(r->watch); /* a cancelled Watch: its subscription ends here */
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        gw->rpc_http = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    free(r->out);
    free(r);
}

/* An outcome posted by the call (any thread): into the service thread's inbox. */
static void post(void *arg, gw_rpc_out *o)
{
    gw_gateway *gw = arg;
    gw_item *it = calloc(1, sizeof(*it));
    if (it == NULL) {
        gw_rpc_out_free(o);
        return;
    }
    it->kind = GW_ITEM_RPC_OUT;
    it->rpc_out = o;
    if (!gw_xqueue_push(&gw->inbox, it))
        gw_item_free(it);
}

/* ---- requests ------------------------------------------------------------------------------ */

static int protocol_of(const char *ct, int *json)
{
    *json = 0;
    static const struct {
        const char *type;
        int protocol, json;
    } types[] = {
        {"application/grpc-web-text+proto", RPC_GRPC_WEB_TEXT, 0},
        {"application/grpc-web-text", RPC_GRPC_WEB_TEXT, 0},
        {"application/grpc-web+proto", RPC_GRPC_WEB, 0},
        {"application/grpc-web", RPC_GRPC_WEB, 0},
        {"application/connect+proto", RPC_CONNECT_STREAM, 0},
        {"application/connect+json", RPC_CONNECT_STREAM, 1},
        {"application/proto", RPC_CONNECT_UNARY, 0},
        {"application/json", RPC_CONNECT_UNARY, 1},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t n = strlen(types[i].type);
        if (strncasecmp(ct, types[i].type, n) == 0 && (ct[n] == '\0' || ct[n] == ';')) {
            *json = types[i].json;
            return types[i].protocol;
        }
    }
    return 0;
}

/* The response's content type: the request's (without parameters). */
static void response_type(gw_rpc_http *r, const char *ct)
{
    size_t n = strcspn(ct, ";");
    if (n >= sizeof(r->content_type))
        n = sizeof(r->content_type) - 1;
    memcpy(r->content_type, ct, n);
    r->content_type[n] = '\0';
    while (n > 0 && r->content_type[n - 1] == ' ')
        r->content_type[--n] = '\0';
}

/* The caller's token, when the gateway checks them. Returns 0, or -1 when refused (answered). */
static int check_token(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const gw_rpc_method *m)
{
    if (gw->auth == NULL)
        return 0;
    char cred[600];
    cred[0] = '\0';
    lws_hdr_copy(wsi, cred, sizeof(cred), WSI_TOKEN_HTTP_AUTHORIZATION);
    conn->token = gw_auth_check(gw->auth, cred);
    memset(cred, 0, sizeof(cred));
    if (conn->token == NULL) {
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNAUTHENTICATED, "UNAUTHENTICATED",
                         "a valid bearer token is required (Authorization: Bearer <token>)");
        return -1;
    }
    if (m->admin && !gw_token_is_admin(conn->token)) {
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_PERMISSION_DENIED, "PERMISSION_DENIED",
                         "GenesisAdmin needs a token with the admin scope");
        return -1;
    }
    return 0;
}

/* The request's encoding and the response's, from the protocol's headers (the response's
 * only when the request was compressed too, and the client accepts gzip). Returns 0, or -1
 * when refused (answered). */
static int negotiate_encoding(gw_gateway *gw, struct lws *wsi, gw_conn *conn, gw_rpc_http *r,
                              const char *get_compression)
{
    char enc[64] = "", accept[128] = "";
    const char *accept_name = "accept-encoding:", *enc_name = "Content-Encoding";
    if (r->protocol == RPC_GRPC_WEB || r->protocol == RPC_GRPC_WEB_TEXT) {
        lws_hdr_custom_copy(wsi, enc, sizeof(enc), "grpc-encoding:", 14);
        lws_hdr_custom_copy(wsi, accept, sizeof(accept), "grpc-accept-encoding:", 21);
        accept_name = "grpc-accept-encoding:";
        enc_name = "grpc-encoding";
    } else if (r->protocol == RPC_CONNECT_STREAM) {
        lws_hdr_custom_copy(wsi, enc, sizeof(enc), "connect-content-encoding:", 25);
        lws_hdr_custom_copy(wsi, accept, sizeof(accept), "connect-accept-encoding:", 24);
        accept_name = "connect-accept-encoding:";
        enc_name = "Connect-Content-Encoding";
    } else {
        if (get_compression != NULL) {
            snprintf(enc, sizeof(enc), "%s", get_compression);
            enc_name = "compression=";
        } else {
            lws_hdr_copy(wsi, enc, sizeof(enc), WSI_TOKEN_HTTP_CONTENT_ENCODING);
        }
        lws_hdr_copy(wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    }
    gw_http_add_header(conn, accept_name, GW_ACCEPT_ENCODING);
    int e = gw_encoding_of(enc);
    if (e == GW_ENC_UNKNOWN) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s '%.40s' is not supported (%s)", enc_name, enc,
                 GW_ACCEPT_ENCODING);
        atomic_fetch_add(&gw->wire.compression_refused, 1);
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNIMPLEMENTED, "UNSUPPORTED_ENCODING", msg);
        return -1;
    }
    r->req_gzip = e == GW_ENC_GZIP;
    r->resp_gzip = r->req_gzip && gw_encoding_accepted(accept) == GW_ENC_GZIP;
    if (r->resp_gzip && r->protocol != RPC_CONNECT_UNARY)
        gw_http_add_header(conn,
                           r->protocol == RPC_CONNECT_STREAM ? "connect-content-encoding:"
                                                             : "grpc-encoding:",
                           "gzip");
    return 0;
}

/* One query parameter (libwebsockets percent-decoded it) into a new buffer; NULL = absent. */
static char *query_arg(struct lws *wsi, const char *name_eq)
{
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (total <= 0)
        return NULL;
    char *buf = malloc((size_t)total + 1);
    if (buf == NULL)
        return NULL;
    const char *v = lws_get_urlarg_by_name(wsi, name_eq, buf, total + 1);
    if (v == NULL) {
        free(buf);
        return NULL;
    }
    memmove(buf, v, strlen(v) + 1);
    return buf;
}

/* Connect unary GET (?connect=v1&encoding=proto|json&message=...[&base64=1][&compression=]):
 * only for side-effect-free methods; the message from the query becomes the body and the
 * call starts at once. */
static int begin_get(gw_gateway *gw, struct lws *wsi, gw_conn *conn, gw_rpc_http *r,
                     const char *path)
{
    char msg[512];
    r->get = 1;
    r->protocol = RPC_CONNECT_UNARY;
    r->json = 1;
    snprintf(r->content_type, sizeof(r->content_type), "application/json");
    if (r->method == NULL) {
        snprintf(msg, sizeof(msg), "unknown method %.300s", path);
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNIMPLEMENTED, "UNIMPLEMENTED", msg);
        return 0;
    }
    if (r->method->streaming || !r->method->no_side_effects) {
        snprintf(msg, sizeof(msg),
                 "%.200s %s: Connect GET serves only side-effect-free unary methods "
                 "(genesis.v1.Genesis/Status); send POST",
                 path, r->method->streaming ? "is server-streaming" : "has side effects");
        snprintf(conn->resp_allow, sizeof(conn->resp_allow), "POST");
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNIMPLEMENTED, "METHOD_NOT_ALLOWED", msg);
        conn->resp_status = 405;
        return 0;
    }
    if (check_token(gw, wsi, conn, r->method) != 0)
        return 0;
    char *version = query_arg(wsi, "connect=");
    char *encoding = query_arg(wsi, "encoding=");
    char *base64 = query_arg(wsi, "base64=");
    char *compression = query_arg(wsi, "compression=");
    char *message = query_arg(wsi, "message=");
    int code = GENESIS_OK;
    const char *reason = NULL;
    if (version != NULL && strcmp(version, "v1") != 0) {
        code = GENESIS_INVALID_ARGUMENT;
        reason = "INVALID_ARGUMENT";
        snprintf(msg, sizeof(msg), "connect=%.40s: this server speaks connect=v1", version);
    } else if (encoding == NULL ||
               (strcmp(encoding, "proto") != 0 && strcmp(encoding, "json") != 0)) {
        code = GENESIS_UNIMPLEMENTED;
        reason = "UNSUPPORTED_MEDIA_TYPE";
        snprintf(msg, sizeof(msg), "encoding=%.40s: a Connect GET needs encoding=proto or json",
                 encoding != NULL ? encoding : "");
    }
    size_t len = 0;
    unsigned char *body = NULL;
    if (code == GENESIS_OK && encoding != NULL) {
        r->json = strcmp(encoding, "json") == 0;
        snprintf(r->content_type, sizeof(r->content_type), "application/%s", encoding);
        const char *text = message != NULL ? message : "";
        if (base64 != NULL && strcmp(base64, "1") == 0) {
            body = gw_b64_decode(text, strlen(text), &len);
            if (body == NULL) {
                code = GENESIS_INVALID_ARGUMENT;
                reason = "MALFORMED_MESSAGE";
                snprintf(msg, sizeof(msg), "message= is not base64url (base64=1)");
            }
        } else {
            len = strlen(text);
            body = (unsigned char *)strdup(text);
            if (body == NULL) {
                code = GENESIS_RESOURCE_EXHAUSTED;
                reason = "NO_MEMORY";
                snprintf(msg, sizeof(msg), "out of memory");
            }
        }
    }
    if (code == GENESIS_OK && len > gw->cfg.max_body) {
        code = GENESIS_RESOURCE_EXHAUSTED;
        reason = "MESSAGE_TOO_LARGE";
        snprintf(msg, sizeof(msg), "the request message exceeds the limit of %zu bytes",
                 gw->cfg.max_body);
    }
    int refused = code == GENESIS_OK &&
                  negotiate_encoding(gw, wsi, conn, r, compression != NULL ? compression : "");
    free(version);
    free(encoding);
    free(base64);
    free(compression);
    free(message);
    if (code != GENESIS_OK || refused) {
        free(body);
        if (!refused)
            gw_rpc_http_fail(gw, wsi, conn, code, reason, msg);
        return 0;
    }
    free(conn->body);
    conn->body = body;
    conn->body_len = len;
    conn->body_cap = len;
    conn->refuse = 0;
    conn->resp_close = 0;
    gw_rpc_http_dispatch(gw, wsi, conn);
    return 0;
}

int gw_rpc_http_begin(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const char *path)
{
    gw_rpc_http *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return -1;
    r->id = ++gw->rpc_http_next;
    r->gw = gw;
    r->wsi = wsi;
    r->conn = conn;
    r->next = gw->rpc_http;
    if (r->next != NULL)
        r->next->prev = r;
    gw->rpc_http = r;
    conn->rpc = r;
    conn->route = GW_ROUTE_RPC;
    r->method = gw_rpc_find(path);
    r->protocol = protocol_of(conn->content_type, &r->json);
    char msg[512];
    conn->refuse = 1; /* until the checks pass: a refusal closes after answering */
    /* HTTP/1.1 only: "Connection: close" is a protocol error in HTTP/2 (RFC 9113 8.2.2) */
    conn->resp_close = lws_get_network_wsi(wsi) == wsi;
    if (conn->method == GW_METHOD_GET)
        return begin_get(gw, wsi, conn, r, path);
    if (r->protocol == 0) {
        /* Not one of ours: the answer is plain HTTP (Connect's error shape, JSON). */
        r->protocol = RPC_CONNECT_UNARY;
        r->json = 1;
        snprintf(r->content_type, sizeof(r->content_type), "application/json");
        if (strncasecmp(conn->content_type, "application/grpc", 16) == 0)
            /* gRPC reaches the HTTP/2 side only: h2c, or TLS with ALPN h2 alone */
            snprintf(msg, sizeof(msg),
                     "gRPC is served over HTTP/2 with prior knowledge (h2c) or, over TLS, to "
                     "clients that offer ALPN h2 without http/1.1 (h2load, nghttp: "
                     "--npn-list=h2); here send application/grpc-web or Connect");
        else
            snprintf(msg, sizeof(msg),
                     "unsupported content type '%.100s': send application/grpc-web(-text), "
                     "application/proto, application/json or application/connect+(proto|json)",
                     conn->content_type);
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNIMPLEMENTED, "UNSUPPORTED_MEDIA_TYPE", msg);
        conn->resp_status = 415;
        return 0;
    }
    response_type(r, conn->content_type);
    if (conn->method != GW_METHOD_POST) {
        snprintf(conn->resp_allow, sizeof(conn->resp_allow), "POST");
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNIMPLEMENTED, "METHOD_NOT_ALLOWED",
                         "RPC methods take POST (and Connect GET for side-effect-free ones)");
        conn->resp_status = 405;
        return 0;
    }
    if (r->method == NULL) {
        snprintf(msg, sizeof(msg), "unknown method %.300s", path);
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNIMPLEMENTED, "UNIMPLEMENTED", msg);
        return 0;
    }
    if (r->method->streaming != (r->protocol != RPC_CONNECT_UNARY) && r->protocol != RPC_GRPC_WEB &&
        r->protocol != RPC_GRPC_WEB_TEXT) {
        snprintf(msg, sizeof(msg), "%s is %s: use %s", path,
                 r->method->streaming ? "server-streaming" : "unary",
                 r->method->streaming ? "application/connect+proto or application/connect+json"
                                      : "application/proto or application/json");
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_UNIMPLEMENTED, "UNSUPPORTED_MEDIA_TYPE", msg);
        conn->resp_status = 415;
        return 0;
    }
    if (check_token(gw, wsi, conn, r->method) != 0 ||
        negotiate_encoding(gw, wsi, conn, r, NULL) != 0)
        return 0;
    char cl[32], te[32] = "";
    int has_length = lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    lws_hdr_copy(wsi, te, sizeof(te), WSI_TOKEN_HTTP_TRANSFER_ENCODING);
    r->chunked = !has_length && lws_get_network_wsi(wsi) == wsi && strcasecmp(te, "chunked") == 0;
    if (r->chunked) {
        /* libwebsockets still takes what follows for the body: one request per connection */
        conn->refuse = 0;
        return 0;
    }
    if (!has_length && lws_get_network_wsi(wsi) == wsi) {
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_INVALID_ARGUMENT, "LENGTH_REQUIRED",
                         "a request body needs Content-Length (chunked bodies are not supported)");
        return 0;
    }
    unsigned long long length = has_length ? strtoull(cl, NULL, 10) : 0;
    if (length > gw_rpc_http_body_limit(gw, conn) &&
        length <= 16ull * gw_rpc_http_body_limit(gw, conn)) {
        r->over_limit = 1;
        conn->refuse = 0;
        conn->resp_close = 0;
        return 0;
    }
    if (length > gw_rpc_http_body_limit(gw, conn)) {
        snprintf(msg, sizeof(msg), "the request message exceeds the limit of %zu bytes",
                 gw->cfg.max_body);
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE", msg);
        return 0;
    }
    conn->refuse = 0;
    conn->resp_close = 0;
    return 0; /* the body follows */
}

size_t gw_rpc_http_body_limit(const gw_gateway *gw, const gw_conn *conn)
{
    const gw_rpc_http *r = conn->rpc;
    size_t framed = gw->cfg.max_body + GW_GRPC_PREFIX;
    if (r == NULL || r->protocol == RPC_CONNECT_UNARY)
        return gw->cfg.max_body;
    return r->protocol == RPC_GRPC_WEB_TEXT ? (framed + 2) / 3 * 4 : framed;
}

/* gRPC-Web text: base64, possibly several padded pieces one after the other. */
static unsigned char *decode_text(const unsigned char *body, size_t len, size_t *out_len)
{
    unsigned char *out = malloc(len / 4 * 3 + 4);
    if (out == NULL)
        return NULL;
    size_t o = 0, start = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && body[end] != '=')
            end++;
        while (end < len && body[end] == '=')
            end++;
        size_t n = 0;
        unsigned char *piece = gw_b64_decode((const char *)body + start, end - start, &n);
        if (piece == NULL) {
            free(out);
            return NULL;
        }
        memcpy(out + o, piece, n);
        o += n;
        free(piece);
        start = end;
    }
    *out_len = o;
    return out;
}

int gw_rpc_http_chunked_body(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const void *in,
                             size_t len)
{
    gw_rpc_http *r = conn->rpc;
    if (r != NULL && r->over_limit)
        return 0; /* dropped: the answer is the size error */
    if (r == NULL || !r->chunked)
        return 1;
    if (r->dispatched || conn->refuse)
        return 0; /* after the last chunk: nothing more is read */
    size_t limit = gw_rpc_http_body_limit(gw, conn);
    if (conn->body_cap < limit) {
        unsigned char *b = realloc(conn->body, limit + 1);
        if (b == NULL) {
            gw_rpc_http_fail(gw, wsi, conn, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY",
                             "out of memory");
            conn->refuse = 1;
            return 0;
        }
        conn->body = b;
        conn->body_cap = limit + 1;
    }
    size_t out = 0, used = 0;
    int rc = gw_chunked_feed(&r->dechunk, in, len, conn->body + conn->body_len,
                             limit - conn->body_len, &out, &used);
    conn->body_len += out;
    if (rc == GW_CHUNKED_TOO_LARGE) {
        char msg[160];
        snprintf(msg, sizeof(msg), "the request message exceeds the limit of %zu bytes",
                 gw->cfg.max_body);
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE", msg);
        conn->refuse = 1;
        return 0;
    }
    if (rc == GW_CHUNKED_BAD) {
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_INVALID_ARGUMENT, "MALFORMED_MESSAGE",
                         "the chunked request body is malformed");
        conn->refuse = 1;
        return 0;
    }
    if (rc == GW_CHUNKED_DONE)
        gw_rpc_http_dispatch(gw, wsi, conn);
    return 0;
}

void gw_rpc_http_dispatch(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    gw_rpc_http *r = conn->rpc;
    if (r->dispatched)
        return;
    r->dispatched = 1;
    char why[512];
    if (r->over_limit) {
        snprintf(why, sizeof(why), "the request message exceeds the limit of %zu bytes",
                 gw->cfg.max_body);
        gw_rpc_http_fail(gw, wsi, conn, GENESIS_RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE", why);
        return;
    }
    const uint8_t *msg = conn->body;
    size_t msg_len = conn->body_len;
    unsigned char *decoded = NULL, *packed = NULL;
    uint8_t *plain = NULL;
    if (r->protocol == RPC_GRPC_WEB_TEXT) {
        decoded = decode_text(conn->body, conn->body_len, &msg_len);
        if (decoded == NULL) {
            gw_rpc_http_fail(gw, wsi, conn, GENESIS_INVALID_ARGUMENT, "MALFORMED_MESSAGE",
                             "the grpc-web-text body is not base64");
            return;
        }
        msg = decoded;
    }
    if (r->protocol != RPC_CONNECT_UNARY) { /* one length-prefixed message */
        const uint8_t *m = NULL;
        size_t n = 0, used = 0;
        unsigned flags = 0;
        int rc = gw_grpc_frame_parse(msg, msg_len, gw->cfg.max_body, GW_FRAME_COMPRESSED, &m, &n,
                                     &flags, &used);
        if (rc != GW_FRAME_OK || used != msg_len) {
            snprintf(why, sizeof(why), "the request message exceeds the limit of %zu bytes",
                     gw->cfg.max_body);
            gw_rpc_http_fail(gw, wsi, conn,
                             rc == GW_FRAME_TOO_LARGE ? GENESIS_RESOURCE_EXHAUSTED
                                                      : GENESIS_INVALID_ARGUMENT,
                             rc == GW_FRAME_TOO_LARGE ? "MESSAGE_TOO_LARGE" : "MALFORMED_MESSAGE",
                             rc == GW_FRAME_TOO_LARGE ? why
                             : rc == GW_FRAME_BAD ? "the message's flags byte has reserved bits set"
                                                  : "the body is not one length-prefixed message");
            free(decoded);
            return;
        }
        if ((flags & GW_FRAME_COMPRESSED) && !r->req_gzip) {
            atomic_fetch_add(&gw->wire.compression_refused, 1);
            gw_rpc_http_fail(gw, wsi, conn, GENESIS_INTERNAL, "MALFORMED_MESSAGE",
                             r->protocol == RPC_CONNECT_STREAM
                                 ? "a compressed message without Connect-Content-Encoding"
                                 : "a compressed message without grpc-encoding");
            free(decoded);
            return;
        }
        msg = m;
        msg_len = n;
        if (!(flags & GW_FRAME_COMPRESSED))
            r->req_gzip = 0; /* this one message was sent as is */
    }
    if (r->req_gzip) { /* bounded: a gzip bomb stops at the message size limit */
        size_t plain_len = 0;
        int zr = gw_gunzip(msg, msg_len, gw->cfg.max_body, &plain, &plain_len);
        if (zr != GW_GZ_OK) {
            const char *reason = NULL;
            int code = gw_gunzip_status(zr, &reason);
            gw_gunzip_message(zr, gw->cfg.max_body, why, sizeof(why));
            atomic_fetch_add(&gw->wire.compression_refused, 1);
            gw_rpc_http_fail(gw, wsi, conn, code, reason, why);
            free(decoded);
            return;
        }
        atomic_fetch_add(&gw->wire.compressed_in, 1);
        msg = plain;
        msg_len = plain_len;
    }
    if (r->json) { /* proto3 JSON -> protobuf, for the call */
        json_error_t jerr;
        json_t *doc = json_loadb((const char *)msg, msg_len, 0, &jerr);
        ProtobufCMessage *m = NULL;
        if (doc == NULL)
            snprintf(why, sizeof(why), "invalid JSON at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        else
            m = gw_proto_from_json(r->method->input, doc, 1, why, sizeof(why));
        json_decref(doc);
        if (m == NULL) {
            gw_rpc_http_fail(gw, wsi, conn, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT", why);
            free(decoded);
            free(plain);
            return;
        }
        msg_len = protobuf_c_message_get_packed_size(m);
        packed = malloc(msg_len + 1);
        if (packed != NULL)
            protobuf_c_message_pack(m, packed);
        protobuf_c_message_free_unpacked(m, NULL);
        if (packed == NULL) {
            gw_rpc_http_fail(gw, wsi, conn, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY",
                             "out of memory");
            free(decoded);
            free(plain);
            return;
        }
        msg = packed;
    }
    uint32_t ms = 0;
    char hdr[32] = "";
    if (r->protocol == RPC_GRPC_WEB || r->protocol == RPC_GRPC_WEB_TEXT) {
        if (lws_hdr_custom_copy(wsi, hdr, sizeof(hdr), "grpc-timeout:", 13) > 0 &&
            gw_grpc_timeout_ms(hdr, GW_MAX_TIMEOUT_MS, &ms) != 0)
            ms = 0;
    } else if (conn->timeout_hdr[0] != '\0') {
        char *end = NULL;
        unsigned long v = strtoul(conn->timeout_hdr, &end, 10);
        ms = *end == '\0' && v > 0 ? (v > GW_MAX_TIMEOUT_MS ? GW_MAX_TIMEOUT_MS : (uint32_t)v) : 0;
    }
    gw_rpc_call call = {.method = r->method,
                        .conn_id = r->id,
                        .stream_id = 1,
                        .timeout_ms = ms,
                        .request_id = conn->request_id,
                        .token = conn->token,
                        .protocol = protocol_name(r->protocol),
                        .post = post,
                        .post_arg = gw};
    gw_rpc_start(gw->rpc_engine, &call, msg, msg_len, r->method->streaming ? &r->watch : NULL);
    if (r->method->streaming && !r->ended)
        lws_callback_on_writable(wsi); /* the headers go out before the first event */
    free(decoded);
    free(packed);
    free(plain);
}

/* ---- responses ----------------------------------------------------------------------------- */

/* A unary response, complete: through the ordinary writer. */
static void respond_unary(gw_gateway *gw, gw_rpc_http *r, const gw_rpc_out *o)
{
    gw_conn *conn = r->conn;
    int status = 200;
    const char *type = r->content_type;
    if (r->protocol == RPC_CONNECT_UNARY) {
        if (o->code == 0) {
            size_t n = 0;
            char *body = message_bytes(r, o->msg, o->msg_len, &n);
            if (body == NULL) {
                gw_rpc_http_fail(gw, r->wsi, conn, GENESIS_INTERNAL, "INTERNAL",
                                 "cannot encode the response");
                return;
            }
            uint8_t *z = NULL;
            size_t zlen = 0;
            if (r->resp_gzip && gw_gzip((const uint8_t *)body, n, &z, &zlen) == GW_GZ_OK) {
                free(body);
                body = (char *)z;
                n = zlen;
                gw_http_add_header(conn, "content-encoding:", "gzip");
                atomic_fetch_add(&gw->wire.compressed_out, 1);
            }
            gw_http_respond(r->wsi, conn, 200, type, body, n);
            free(body);
            return;
        }
        status = gw_http_status(o->code, 0);
        type = "application/json";
    } else if (o->msg != NULL) {
        append_message(r, o->msg, o->msg_len);
    }
    r->ended = 1;
    if (append_end(r, o) != 0) {
        r->out_len = 0;
        status = 500;
    }
    gw_http_respond(r->wsi, conn, status, type, (const char *)r->out, r->out_len);
    r->out_len = 0;
}

void gw_rpc_http_fail(gw_gateway *gw, struct lws *wsi, gw_conn *conn, int code, const char *reason,
                      const char *message)
{
    (void)gw;
    gw_rpc_http *r = conn->rpc;
    gw_rpc_call call = {.conn_id = r->id,
                        .stream_id = 1,
                        .request_id = conn->request_id,
                        .protocol = protocol_name(r->protocol)};
    gw_rpc_out *o = gw_rpc_error(&call, code, reason, "", message);
    gw_rpc_out fallback = {.code = code};
    if (o == NULL)
        o = &fallback;
    if (r->headers_sent) { /* a stream already under way: its end carries the error */
        if (!r->ended && append_end(r, o) == 0)
            lws_callback_on_writable(wsi);
        r->ended = 1;
    } else {
        respond_unary(gw, r, o);
    }
    if (o != &fallback)
        gw_rpc_out_free(o);
}

void gw_rpc_http_deliver(gw_gateway *gw, gw_item *it)
{
    gw_rpc_out *o = it->rpc_out;
    it->rpc_out = NULL;
    gw_rpc_http *r = find(gw, o->conn_id);
    if (r == NULL || r->ended) {
        gw_rpc_out_free(o);
        return;
    }
    if (!r->method->streaming) {
        respond_unary(gw, r, o);
        gw_rpc_out_free(o);
        return;
    }
    if (o->msg != NULL) {
        if (r->out_len - r->out_off > gw->cfg.ws_queue_bytes) {
            /* the client reads too slowly: this event is dropped, memory stays bounded */
        } else if (r->json) {
            size_t n = 0;
            char *text = message_bytes(r, o->msg, o->msg_len, &n);
            if (text != NULL)
                append_message(r, text, n);
            free(text);
        } else {
            append_message(r, o->msg, o->msg_len);
        }
    }
    if (o->end) {
        append_end(r, o);
        r->ended = 1;
    }
    gw_rpc_out_free(o);
    lws_callback_on_writable(r->wsi);
}

int gw_rpc_http_streaming(const gw_conn *conn)
{
    return conn->rpc != NULL && conn->rpc->method != NULL && conn->rpc->method->streaming &&
           !conn->resp_ready;
}

int gw_rpc_http_write(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    gw_rpc_http *r = conn->rpc;
    int h1 = lws_get_network_wsi(wsi) == wsi;
    if (!r->headers_sent) { /* no length: on HTTP/1.1 the end of the stream closes (lws adds
                               "connection: close") */
        unsigned char hdr[LWS_PRE + 1024]; /* a long Origin, CORS and encoding headers */
        unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
        if (lws_add_http_common_headers(wsi, 200, r->content_type, LWS_ILLEGAL_HTTP_CONTENT_LEN, &p,
                                        end) != 0 ||
            (conn->request_id_hdr[0] != '\0' &&
             lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
                                         (const unsigned char *)conn->request_id_hdr,
                                         (int)strlen(conn->request_id_hdr), &p, end) != 0) ||
            gw_cors_headers(gw, wsi, conn, &p, end) != 0 ||
            gw_http_extra_headers(wsi, conn, &p, end) != 0 ||
            lws_finalize_write_http_header(wsi, start, &p, end) != 0)
            return -1;
        r->headers_sent = 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    size_t left = r->out_len - r->out_off;
    size_t n = left < GW_WS_BATCH ? left : GW_WS_BATCH;
    int last = r->ended && n == left;
    if (n == 0 && !last)
        return 0;
    unsigned char *buf = gw->ws_scratch + LWS_PRE;
    memcpy(buf, r->out + r->out_off, n);
    if (lws_write(wsi, buf, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    r->out_off += n;
    if (r->out_off == r->out_len)
        r->out_off = r->out_len = 0;
    if (!last) {
        if (r->out_len > 0)
            lws_callback_on_writable(wsi);
        return 0;
    }
    gw_metrics_count_http(&gw->metrics, conn->route, 200);
    if (h1)
        return -1; /* the close ends the response */
    gw_rpc_http_detach(conn);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}
