/* gRPC over one HTTP/2 connection (libnghttp2 server session): request headers and the
 * length-prefixed request message in, the response message and the grpc-status trailers out.
 * Runs on the HTTP/2 thread (see h2_server.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "b64.h"
#include "grpc_frame.h"
#include "gzip_codec.h"
#include "gw_internal.h"
#include "h2_server.h"
#include "h2_tls.h"
#include "json_map.h"

#define STALL_NS (1000000000ull * 30)  /* a request body that stops arriving this long: cancel */
#define IDLE_NS  (1000000000ull * 300) /* a connection without streams this long: GOAWAY */

typedef struct h2_stream {
    struct h2_stream *prev, *next; /* in the connection's list */
    int32_t id;
    char path[256];
    char method[16];
    char content_type[128];
    char timeout[32];
    char encoding[32];
    char accept_encoding[64];
    int resp_gzip; /* responses are compressed: the request was, and gzip is accepted */
    char auth[600];
    char request_id[64];
    const gw_rpc_method *rpc;
    const gw_token *token;
    uint8_t *body;
    size_t body_len, body_cap;
    uint64_t started_ns;
    int answered;   /* a response (or its trailers-only form) is submitted */
    int dispatched; /* the call started */
    int ended;      /* the final status is known */
    int code;
    char message[512];
    uint8_t *details;
    size_t details_len;
    uint8_t *out; /* framed response messages not yet in DATA frames */
    size_t out_len, out_off, out_cap;
    uint64_t dropped; /* Watch messages dropped: the client read too slowly */
    /* A refusal decided before the request ended: answered once it has (its body is dropped
     * meanwhile), since a response that ends the stream while the client still sends leaves
     * some clients waiting. */
    int refused;
    int refused_code;
    char refused_reason[32];
    char refused_message[400];
    gw_rpc_watch *watch;
} h2_stream;

struct gw_h2_conn {
    gw_gateway *gw;
    gw_rpc_engine *engine;
    int fd;
    SSL *ssl;       /* TLS (the handshake first), or NULL: h2c */
    int handshaken; /* TLS: the handshake is done */
    short tls_want; /* TLS: what the last blocked read or write waits for */
    uint64_t created_ns;
    char tls_error[256]; /* TLS: why the connection failed, for the listener's log */
    char peer[GW_PEER_NAME];
    uint64_t id;
    nghttp2_session *session;
    gw_rpc_post_fn post;
    void *post_arg;
    h2_stream *streams;
    unsigned int n_streams;
    uint8_t *wbuf; /* bytes nghttp2 produced that the socket did not take yet */
    size_t wlen, woff, wcap;
    uint64_t last_active_ns;
    int failed;
};

/* ---- responses ----------------------------------------------------------------------------- */

static nghttp2_nv nv(const char *name, const char *value)
{
    nghttp2_nv h = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                    NGHTTP2_NV_FLAG_NONE};
    return h;
}

/* The status fields, in the trailers or in a trailers-only response. */
static size_t status_fields(h2_stream *s, nghttp2_nv *out, char *code, size_t code_size, char *msg,
                            size_t msg_size, char **details_b64)
{
    size_t n = 0;
    snprintf(code, code_size, "%d", s->code);
    out[n++] = nv("grpc-status", code);
    if (s->code != 0 && s->message[0] != '\0') {
        gw_grpc_percent_encode(s->message, msg, msg_size);
        out[n++] = nv("grpc-message", msg);
    }
    *details_b64 = NULL;
    if (s->details_len > 0 && (*details_b64 = gw_b64_encode(s->details, s->details_len, NULL)))
        out[n++] = nv("grpc-status-details-bin", *details_b64);
    return n;
}

static ssize_t read_out(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                        uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    (void)source;
    (void)user_data;
    h2_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t left = s->out_len - s->out_off;
    size_t n = left < length ? left : length;
    if (n > 0)
        memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    if (s->out_off == s->out_len)
        s->out_off = s->out_len = 0;
    if (n > 0)
        return (ssize_t)n;
    if (!s->ended)
        return NGHTTP2_ERR_DEFERRED;
    /* Everything sent: the status goes in the trailers. */
    *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_nv t[3];
    char code[16], msg[1600], *b64 = NULL;
    size_t nt = status_fields(s, t, code, sizeof(code), msg, sizeof(msg), &b64);
    int rv = nghttp2_submit_trailer(session, stream_id, t, nt);
    free(b64);
    return rv == 0 ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

/* Response headers with a body to follow (the messages, then the trailers). */
static void answer_with_body(gw_h2_conn *c, h2_stream *s)
{
    if (s->answered)
        return;
    s->answered = 1;
    nghttp2_nv h[5];
    size_t n = 0;
    h[n++] = nv(":status", "200");
    h[n++] = nv("content-type", "application/grpc");
    h[n++] = nv("grpc-accept-encoding", GW_ACCEPT_ENCODING);
    if (s->resp_gzip)
        h[n++] = nv("grpc-encoding", "gzip");
    if (s->request_id[0] != '\0')
        h[n++] = nv("x-request-id", s->request_id);
    nghttp2_data_provider dp = {.source.ptr = s, .read_callback = read_out};
    if (nghttp2_submit_response(c->session, s->id, h, n, &dp) != 0)
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
}

/* The final status: trailers after the body, or a trailers-only response. */
static void finish(gw_h2_conn *c, h2_stream *s, int code, const char *message,
                   const uint8_t *details, size_t details_len)
{
    if (s->ended)
        return;
    s->ended = 1;
    s->code = code;
    snprintf(s->message, sizeof(s->message), "%s", message != NULL ? message : "");
    if (details_len > 0 && (s->details = malloc(details_len)) != NULL) {
        memcpy(s->details, details, details_len);
        s->details_len = details_len;
    }
    if (s->answered) {
        nghttp2_session_resume_data(c->session, s->id);
        return;
    }
    s->answered = 1;
    nghttp2_nv h[7];
    size_t n = 0;
    h[n++] = nv(":status", "200");
    h[n++] = nv("content-type", "application/grpc");
    h[n++] = nv("grpc-accept-encoding", GW_ACCEPT_ENCODING);
    char code_s[16], msg[1600], *b64 = NULL;
    n += status_fields(s, h + n, code_s, sizeof(code_s), msg, sizeof(msg), &b64);
    nghttp2_submit_response(c->session, s->id, h, n, NULL);
    free(b64);
}

/* A gateway-side failure before or instead of a call (with ErrorInfo details). */
static void fail_stream(gw_h2_conn *c, h2_stream *s, int code, const char *reason,
                        const char *message)
{
    gw_rpc_call call = {.conn_id = c->id, .stream_id = s->id, .protocol = "grpc"};
    gw_rpc_out *o = gw_rpc_error(&call, code, reason, "", message);
    finish(c, s, code, message, o != NULL ? o->details : NULL, o != NULL ? o->details_len : 0);
    gw_rpc_out_free(o);
}

static void refuse_later(h2_stream *s, int code, const char *reason, const char *message)
{
    if (s->refused)
        return;
    s->refused = 1;
    s->refused_code = code;
    snprintf(s->refused_reason, sizeof(s->refused_reason), "%s", reason);
    snprintf(s->refused_message, sizeof(s->refused_message), "%s", message);
}

/* An HTTP-level refusal (not a gRPC request at all): status and no gRPC fields. */
static void refuse_http(gw_h2_conn *c, h2_stream *s, const char *status)
{
    s->answered = s->ended = 1;
    nghttp2_nv h[] = {nv(":status", status)};
    nghttp2_submit_response(c->session, s->id, h, 1, NULL);
}

/* ---- requests ------------------------------------------------------------------------------ */

static void copy_header(char *dst, size_t size, const uint8_t *value, size_t len)
{
    size_t n = len < size - 1 ? len : size - 1;
    memcpy(dst, value, n);
    dst[n] = '\0';
}

/* The request headers are complete: is this a gRPC call we serve, by a caller allowed to? */
static void check_headers(gw_h2_conn *c, h2_stream *s)
{
    gw_gateway *gw = c->gw;
    if (strcmp(s->method, "POST") != 0) {
        refuse_http(c, s, "405");
        return;
    }
    if (strncasecmp(s->content_type, "application/grpc", 16) != 0 ||
        (s->content_type[16] != '\0' && s->content_type[16] != '+' && s->content_type[16] != ';')) {
        refuse_http(c, s, "415");
        return;
    }
    if (s->content_type[16] == '+' && strncasecmp(s->content_type + 17, "proto", 5) != 0) {
        refuse_later(s, GENESIS_UNIMPLEMENTED, "UNSUPPORTED_MEDIA_TYPE",
                     "only the proto codec is served (application/grpc or application/grpc+proto)");
        return;
    }
    char msg[400];
    s->rpc = gw_rpc_find(s->path);
    if (s->rpc == NULL) {
        snprintf(msg, sizeof(msg), "unknown method %.300s", s->path);
        refuse_later(s, GENESIS_UNIMPLEMENTED, "UNIMPLEMENTED", msg);
        return;
    }
    int enc = gw_encoding_of(s->encoding);
    if (enc == GW_ENC_UNKNOWN) {
        snprintf(msg, sizeof(msg), "grpc-encoding '%.64s' is not supported (%s)", s->encoding,
                 GW_ACCEPT_ENCODING);
        atomic_fetch_add(&gw->wire.compression_refused, 1);
        refuse_later(s, GENESIS_UNIMPLEMENTED, "UNSUPPORTED_ENCODING", msg);
        return;
    }
    s->resp_gzip = enc == GW_ENC_GZIP && gw_encoding_accepted(s->accept_encoding) == GW_ENC_GZIP;
    uint32_t ms = 0;
    if (s->timeout[0] != '\0' && gw_grpc_timeout_ms(s->timeout, GW_MAX_TIMEOUT_MS, &ms) != 0) {
        refuse_later(s, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT",
                     "grpc-timeout is not <digits><H|M|S|m|u|n>");
        return;
    }
    if (gw->auth != NULL) {
        s->token = gw_auth_check(gw->auth, s->auth);
        if (s->token == NULL) {
            refuse_later(s, GENESIS_UNAUTHENTICATED, "UNAUTHENTICATED",
                         "a valid bearer token is required (authorization: Bearer <token>)");
            return;
        }
        if (s->rpc->admin && !gw_token_is_admin(s->token)) {
            refuse_later(s, GENESIS_PERMISSION_DENIED, "PERMISSION_DENIED",
                         "GenesisAdmin needs a token with the admin scope");
            return;
        }
    }
    memset(s->auth, 0, sizeof(s->auth));
}

static uint64_t request_id_of(const char *hdr)
{
    char *end = NULL;
    unsigned long long v = strtoull(hdr, &end, 10);
    return hdr[0] != '\0' && hdr[0] != '-' && *end == '\0' ? v : 0;
}

/* END_STREAM: the request message is complete; start the call. */
static void dispatch(gw_h2_conn *c, h2_stream *s)
{
    if (s->ended || s->dispatched)
        return;
    s->dispatched = 1;
    if (s->refused) {
        fail_stream(c, s, s->refused_code, s->refused_reason, s->refused_message);
        return;
    }
    const uint8_t *msg = NULL;
    size_t msg_len = 0, used = 0;
    unsigned flags = 0;
    int rc = gw_grpc_frame_parse(s->body, s->body_len, c->gw->cfg.max_body, GW_FRAME_COMPRESSED,
                                 &msg, &msg_len, &flags, &used);
    char why[200];
    if (rc == GW_FRAME_TOO_LARGE) {
        snprintf(why, sizeof(why), "the request message exceeds the limit of %zu bytes",
                 c->gw->cfg.max_body);
        fail_stream(c, s, GENESIS_RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE", why);
        return;
    }
    if (rc == GW_FRAME_BAD) {
        fail_stream(c, s, GENESIS_INVALID_ARGUMENT, "MALFORMED_MESSAGE",
                    "the message's flags byte has reserved bits set");
        return;
    }
    if (rc == GW_FRAME_MORE || used != s->body_len) {
        fail_stream(c, s, GENESIS_INVALID_ARGUMENT, "MALFORMED_MESSAGE",
                    rc == GW_FRAME_MORE ? "the request ended inside or before its message"
                                        : "a unary or server-streaming call takes one message");
        return;
    }
    uint8_t *plain = NULL;
    if (flags & GW_FRAME_COMPRESSED) {
        if (gw_encoding_of(s->encoding) != GW_ENC_GZIP) { /* gRPC: INTERNAL */
            atomic_fetch_add(&c->gw->wire.compression_refused, 1);
            fail_stream(c, s, GENESIS_INTERNAL, "MALFORMED_MESSAGE",
                        "a compressed message without grpc-encoding");
            return;
        }
        size_t plain_len = 0;
        int zr = gw_gunzip(msg, msg_len, c->gw->cfg.max_body, &plain, &plain_len);
        if (zr != GW_GZ_OK) {
            const char *reason = NULL;
            int code = gw_gunzip_status(zr, &reason);
            gw_gunzip_message(zr, c->gw->cfg.max_body, why, sizeof(why));
            atomic_fetch_add(&c->gw->wire.compression_refused, 1);
            fail_stream(c, s, code, reason, why);
            return;
        }
        atomic_fetch_add(&c->gw->wire.compressed_in, 1);
        msg = plain;
        msg_len = plain_len;
    }
    uint32_t ms = 0;
    if (s->timeout[0] != '\0')
        gw_grpc_timeout_ms(s->timeout, GW_MAX_TIMEOUT_MS, &ms);
    gw_rpc_call call = {.method = s->rpc,
                        .conn_id = c->id,
                        .stream_id = s->id,
                        .timeout_ms = ms,
                        .request_id = request_id_of(s->request_id),
                        .token = s->token,
                        .protocol = "grpc",
                        .post = c->post,
                        .post_arg = c->post_arg};
    if (s->rpc->streaming)
        answer_with_body(c, s); /* the client sees the stream open before the first event */
    gw_rpc_start(c->engine, &call, msg, msg_len, s->rpc->streaming ? &s->watch : NULL);
    free(plain);
    free(s->body); /* the call copied what it needs */
    s->body = NULL;
    s->body_len = s->body_cap = 0;
}

static int append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *data, size_t n)
{
    if (*len + n > *cap) {
        size_t nc = *cap > 0 ? *cap : 1024;
        while (nc < *len + n)
            nc *= 2;
        uint8_t *b = realloc(*buf, nc);
        if (b == NULL)
            return -1;
        *buf = b;
        *cap = nc;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return 0;
}

void gw_h2_conn_deliver(gw_h2_conn *c, gw_rpc_out *o)
{
    h2_stream *s = nghttp2_session_get_stream_user_data(c->session, o->stream_id);
    if (s == NULL || s->ended) {
        gw_rpc_out_free(o);
        return;
    }
    /* A Watch whose client reads too slowly loses this event: bounded memory. */
    int drop = o->msg != NULL && !o->end && s->out_len - s->out_off > c->gw->cfg.ws_queue_bytes;
    if (o->msg != NULL && s->resp_gzip && !drop) {
        uint8_t *z = NULL;
        size_t zlen = 0;
        if (gw_gzip(o->msg, o->msg_len, &z, &zlen) == GW_GZ_OK) {
            free(o->msg);
            o->msg = z;
            o->msg_len = zlen;
            atomic_fetch_add(&c->gw->wire.compressed_out, 1);
        } else {
            fail_stream(c, s, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", "out of memory");
            gw_rpc_out_free(o);
            return;
        }
    }
    if (o->msg != NULL) {
        uint8_t prefix[GW_GRPC_PREFIX];
        gw_grpc_frame_prefix(prefix, s->resp_gzip ? GW_FRAME_COMPRESSED : 0, o->msg_len);
        if (drop) {
            s->dropped++;
        } else if (append(&s->out, &s->out_len, &s->out_cap, prefix, sizeof(prefix)) != 0 ||
                   append(&s->out, &s->out_len, &s->out_cap, o->msg, o->msg_len) != 0) {
            fail_stream(c, s, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", "out of memory");
            gw_rpc_out_free(o);
            return;
        }
        answer_with_body(c, s);
        nghttp2_session_resume_data(c->session, s->id);
    }
    if (o->end)
        finish(c, s, o->code, o->message, o->details, o->details_len);
    gw_rpc_out_free(o);
}

/* ---- nghttp2 callbacks ----------------------------------------------------------------- */

static void stream_destroy(gw_h2_conn *c, h2_stream *s)
{
    atomic_fetch_sub(&c->gw->wire.h2_streams_open, 1);
    gw_rpc_watch_cancel(s->watch);
    memset(s->auth, 0, sizeof(s->auth));
    free(s->body);
    free(s->out);
    free(s->details);
    free(s);
}

static void stream_free(gw_h2_conn *c, h2_stream *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->streams = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    c->n_streams--;
    stream_destroy(c, s);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    gw_h2_conn *c = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
    s->id = frame->hd.stream_id;
    s->started_ns = gw_now_ns();
    s->next = c->streams;
    if (c->streams != NULL)
        c->streams->prev = s;
    c->streams = s;
    c->n_streams++;
    atomic_fetch_add(&c->gw->wire.h2_streams_open, 1);
    atomic_fetch_add(&c->gw->wire.h2_streams_total, 1);
    nghttp2_session_set_stream_user_data(session, s->id, s);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
    (void)flags;
    (void)user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (s == NULL)
        return 0;
    static const struct {
        const char *name;
        size_t off, size;
    } keep[] = {
        {":path", offsetof(h2_stream, path), sizeof(((h2_stream *)0)->path)},
        {":method", offsetof(h2_stream, method), sizeof(((h2_stream *)0)->method)},
        {"content-type", offsetof(h2_stream, content_type), sizeof(((h2_stream *)0)->content_type)},
        {"grpc-timeout", offsetof(h2_stream, timeout), sizeof(((h2_stream *)0)->timeout)},
        {"grpc-encoding", offsetof(h2_stream, encoding), sizeof(((h2_stream *)0)->encoding)},
        {"grpc-accept-encoding", offsetof(h2_stream, accept_encoding),
         sizeof(((h2_stream *)0)->accept_encoding)},
        {"authorization", offsetof(h2_stream, auth), sizeof(((h2_stream *)0)->auth)},
        {"x-request-id", offsetof(h2_stream, request_id), sizeof(((h2_stream *)0)->request_id)},
    };
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        if (strlen(keep[i].name) == namelen && memcmp(keep[i].name, name, namelen) == 0) {
            copy_header((char *)s + keep[i].off, keep[i].size, value, valuelen);
            break;
        }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user)
{
    (void)flags;
    gw_h2_conn *c = user;
    h2_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s == NULL || s->ended || s->dispatched || s->refused)
        return 0; /* answered or refused already (or a second message): dropped */
    size_t max = c->gw->cfg.max_body + GW_GRPC_PREFIX;
    if (s->body_len + len > max) {
        char why[160];
        snprintf(why, sizeof(why), "the request message exceeds the limit of %zu bytes",
                 c->gw->cfg.max_body);
        refuse_later(s, GENESIS_RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE", why);
        free(s->body);
        s->body = NULL;
        s->body_len = s->body_cap = 0;
        return 0;
    }
    if (append(&s->body, &s->body_len, &s->body_cap, data, len) != 0)
        fail_stream(c, s, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", "out of memory");
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
    gw_h2_conn *c = user;
    if (frame->hd.type == NGHTTP2_RST_STREAM)
        atomic_fetch_add(&c->gw->wire.h2_rst_received, 1);
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    h2_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (s == NULL)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        check_headers(c, s);
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !s->ended)
        dispatch(c, s);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user)
{
    (void)error_code;
    gw_h2_conn *c = user;
    h2_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (s != NULL) {
        nghttp2_session_set_stream_user_data(session, stream_id, NULL);
        stream_free(c, s); /* a cancelled Watch stops here */
    }
    return 0;
}

/* ---- the connection ------------------------------------------------------------------------ */

gw_h2_conn *gw_h2_conn_new(gw_gateway *gw, gw_rpc_engine *engine, int fd, SSL *ssl,
                           const char *peer, uint64_t id, gw_rpc_post_fn post, void *post_arg)
{
    gw_h2_conn *c = calloc(1, sizeof(*c));
    nghttp2_session_callbacks *cbs = NULL;
    nghttp2_option *opt = NULL;
    if (c == NULL || nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cbs);
        free(c);
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    c->gw = gw;
    c->engine = engine;
    c->fd = fd;
    c->ssl = ssl;
    snprintf(c->peer, sizeof(c->peer), "%s", peer != NULL ? peer : "?");
    c->id = id;
    c->post = post;
    c->post_arg = post_arg;
    c->last_active_ns = c->created_ns = gw_now_ns();
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    /* Header blocks are bounded like HTTP/1.1's (--max-header). */
    nghttp2_option_set_max_send_header_block_length(opt, 65536);
    int rv = nghttp2_session_server_new2(&c->session, cbs, c, opt);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_option_del(opt);
    if (rv != 0) {
        SSL_free(ssl);
        close(fd);
        free(c);
        return NULL;
    }
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, gw->cfg.max_header},
    };
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2);
    return c;
}

int gw_h2_conn_fd(const gw_h2_conn *c)
{
    return c->fd;
}

uint64_t gw_h2_conn_id(const gw_h2_conn *c)
{
    return c->id;
}

const char *gw_h2_conn_peer(const gw_h2_conn *c)
{
    return c->peer;
}

const char *gw_h2_conn_tls_error(const gw_h2_conn *c)
{
    return c->tls_error[0] != '\0' ? c->tls_error : NULL;
}

short gw_h2_conn_events(gw_h2_conn *c)
{
    if (c->failed)
        return 0;
    if (c->ssl != NULL && !c->handshaken)
        return c->tls_want != 0 ? c->tls_want : POLLIN;
    short ev = c->tls_want;
    if (nghttp2_session_want_read(c->session))
        ev |= POLLIN;
    if (c->wlen > c->woff || nghttp2_session_want_write(c->session))
        ev |= POLLOUT;
    return ev;
}

/* recv on the socket or through TLS: > 0 bytes, 0 = closed by the peer, -1 = would block
 * (*again set) or failed. */
static ssize_t conn_recv(gw_h2_conn *c, void *buf, size_t len, int *again)
{
    *again = 0;
    if (c->ssl != NULL) {
        ssize_t n = gw_h2_tls_read(c->ssl, buf, len, &c->tls_want);
        *again = n < 0 && c->tls_want != 0;
        return n;
    }
    for (;;) {
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        *again = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        return n;
    }
}

/* send on the socket or through TLS: like conn_recv, > 0 bytes taken. */
static ssize_t conn_send(gw_h2_conn *c, const void *buf, size_t len, int *again)
{
    *again = 0;
    if (c->ssl != NULL) {
        ssize_t n = gw_h2_tls_write(c->ssl, buf, len, &c->tls_want);
        *again = n < 0 && c->tls_want != 0;
        return n;
    }
    for (;;) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        *again = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        return n;
    }
}

/* Write what nghttp2 has, until the socket would block. Its frames are gathered first and
 * sent in one write: a response's HEADERS, DATA and trailers in separate small writes would
 * meet the peer's delayed ACK (40 ms per call). */
static int flush(gw_h2_conn *c)
{
    if (c->ssl != NULL && !c->handshaken)
        return 0; /* our SETTINGS wait for the handshake */
    for (;;) {
        if (c->woff == c->wlen) {
            c->woff = c->wlen = 0;
            for (;;) {
                const uint8_t *data = NULL;
                ssize_t n = nghttp2_session_mem_send(c->session, &data);
                if (n < 0)
                    return -1;
                if (n == 0)
                    break;
                if (c->wlen + (size_t)n > c->wcap) {
                    size_t cap = c->wcap > 0 ? c->wcap : 16384;
                    while (cap < c->wlen + (size_t)n)
                        cap *= 2;
                    uint8_t *b = realloc(c->wbuf, cap);
                    if (b == NULL)
                        return -1;
                    c->wbuf = b;
                    c->wcap = cap;
                }
                memcpy(c->wbuf + c->wlen, data, (size_t)n);
                c->wlen += (size_t)n;
                if (c->wlen >= 65536)
                    break; /* enough for one write */
            }
            if (c->wlen == 0)
                return 0;
        }
        while (c->woff < c->wlen) {
            int again = 0;
            ssize_t n = conn_send(c, c->wbuf + c->woff, c->wlen - c->woff, &again);
            if (again)
                return 0;
            if (n <= 0)
                return -1;
            c->tls_want = 0;
            c->woff += (size_t)n;
            atomic_fetch_add(&c->gw->wire.h2_bytes_out, (uint64_t)n);
        }
    }
}

/* TLS: go on with the handshake. 1 = done, 0 = not yet, -1 = failed (tls_error says why). */
static int handshake(gw_h2_conn *c)
{
    int rc = gw_h2_tls_handshake(c->ssl, &c->tls_want, c->tls_error, sizeof(c->tls_error));
    if (rc < 0) {
        c->failed = 1;
        return -1;
    }
    if (rc == 0)
        return 0;
    c->handshaken = 1;
    c->tls_want = 0;
    c->last_active_ns = gw_now_ns();
    return 1;
}

int gw_h2_conn_io(gw_h2_conn *c, short revents)
{
    if (c->ssl != NULL && !c->handshaken) {
        if (revents == 0 && c->tls_want != 0)
            return 0; /* nothing new for the handshake */
        int rc = handshake(c);
        if (rc <= 0)
            return rc;
        revents |= POLLIN; /* the client's preface may have come with its last flight */
    }
    if (revents & (POLLIN | POLLHUP | POLLERR) || (c->tls_want == POLLOUT && (revents & POLLOUT))) {
        uint8_t buf[16384];
        for (;;) {
            int again = 0;
            ssize_t n = conn_recv(c, buf, sizeof(buf), &again);
            if (again)
                break;
            if (n <= 0) { /* closed by the peer, or reset */
                c->failed = 1;
                return -1;
            }
            c->tls_want = 0;
            c->last_active_ns = gw_now_ns();
            atomic_fetch_add(&c->gw->wire.h2_bytes_in, (uint64_t)n);
            /* Malformed frames: nghttp2 answers GOAWAY(PROTOCOL_ERROR) and wants no more. */
            if (nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0) {
                flush(c);
                c->failed = 1;
                return -1;
            }
            if ((size_t)n < sizeof(buf) && (c->ssl == NULL || SSL_pending(c->ssl) == 0))
                break;
        }
    }
    if (flush(c) != 0) {
        c->failed = 1;
        return -1;
    }
    return gw_h2_conn_events(c) == 0 ? -1 : 0;
}

int gw_h2_conn_tick(gw_h2_conn *c, uint64_t now_ns)
{
    if (c->ssl != NULL && !c->handshaken) {
        uint64_t limit = (uint64_t)c->gw->cfg.header_timeout_s * 1000000000u;
        if (now_ns - c->created_ns > limit) {
            snprintf(c->tls_error, sizeof(c->tls_error),
                     "TLS handshake not complete after %u s (--header-timeout)",
                     c->gw->cfg.header_timeout_s);
            c->failed = 1;
            return -1;
        }
        return 0;
    }
    for (h2_stream *s = c->streams; s != NULL; s = s->next)
        if (!s->dispatched && !s->ended && now_ns - s->started_ns > STALL_NS)
            nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    if (c->n_streams == 0 && now_ns - c->last_active_ns > IDLE_NS) {
        nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
        c->last_active_ns = now_ns;
    }
    if (flush(c) != 0)
        return -1;
    return gw_h2_conn_events(c) == 0 ? -1 : 0;
}

void gw_h2_conn_free(gw_h2_conn *c)
{
    if (c == NULL)
        return;
    nghttp2_session_del(c->session); /* runs on_stream_close for none: free the streams here */
    h2_stream *s = c->streams;
    while (s != NULL) {
        h2_stream *next = s->next;
        stream_destroy(c, s);
        s = next;
    }
    if (c->ssl != NULL) {
        if (c->handshaken && !c->failed)
            SSL_shutdown(c->ssl); /* close_notify, if the socket takes it now */
        SSL_free(c->ssl);
    }
    close(c->fd);
    free(c->wbuf);
    free(c);
}
