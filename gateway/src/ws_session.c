/* WebSocket sessions on /ws?id={component}: the upgrade check (route, id, token, connection
 * cap), client messages handed to the coordinator as external events for that component, and
 * the fan-out of external events to every other client through bounded per-session queues.
 * Runs on the libwebsockets service thread. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_internal.h"
#include "json_map.h"

/* A session that loses this many queues' worth of messages in a row, without draining one,
 * is not reading at all: it is disconnected (1008) instead of being fed forever. */
#define SLOW_CLOSE_QUEUES 4
/* A session's queue starts this small and doubles up to --ws-queue: idle sessions (most of
 * them) then cost 64 bytes of queue instead of ws_queue pointers. */
#define RING_START 8

gw_frame *gw_frame_new(const char *text, size_t len)
{
    unsigned char hdr[10];
    size_t h = 0;
    hdr[h++] = 0x81; /* FIN, text */
    if (len < 126) {
        hdr[h++] = (unsigned char)len;
    } else if (len <= 0xffff) {
        hdr[h++] = 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    gw_frame *f = malloc(sizeof(*f) + LWS_PRE + h + len);
    if (f == NULL)
        return NULL;
    f->refs = 1;
    f->len = len;
    f->wire = f->buf + LWS_PRE;
    f->wire_len = h + len;
    f->text = f->wire + h;
    memcpy(f->wire, hdr, h);
    memcpy(f->text, text, len);
    return f;
}

void gw_frame_release(gw_frame *f)
{
    if (f != NULL && --f->refs == 0)
        free(f);
}

/* Refuse an upgrade with a real HTTP status and a JSON error: at this point the connection
 * still speaks HTTP/1.1, and the client (a browser) deserves to know why. */
static int refuse_upgrade(struct lws *wsi, int status, int code, const char *reason,
                          const char *message)
{
    size_t blen = 0;
    char *body = gw_error_json(code, reason, message, &blen);
    unsigned char buf[LWS_PRE + 2048];
    const char *text = status == 503   ? "Service Unavailable"
                       : status == 401 ? "Unauthorized"
                       : status == 403 ? "Forbidden"
                       : status == 404 ? "Not Found"
                                       : "Bad Request";
    int n = snprintf((char *)buf + LWS_PRE, sizeof(buf) - LWS_PRE,
                     "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: "
                     "%zu\r\nconnection: close\r\n\r\n%s",
                     status, text, body != NULL ? blen : 0, body != NULL ? body : "");
    free(body);
    if (n > 0 && (size_t)n < sizeof(buf) - LWS_PRE)
        lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP);
    return 1; /* libwebsockets closes the connection */
}

static int filter_upgrade(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    char path[64];
    conn->kind = GW_CONN_WS;
    if (gw->cfg.metrics_only || lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 ||
        strcmp(path, "/ws") != 0) {
        gw->metrics.ws_rejected_other++;
        return refuse_upgrade(wsi, 404, GENESIS_NOT_FOUND, "NO_ROUTE",
                              "WebSocket sessions are served on /ws?id=<component>");
    }
    /* A page of another website must not open a session: it would read the events. */
    char msg[512];
    const char *reason = NULL;
    int site = gw_check_site(gw, wsi, 1, &reason, msg, sizeof(msg));
    if (site != 0) {
        gw->metrics.ws_rejected_other++;
        return refuse_upgrade(wsi, site, GENESIS_PERMISSION_DENIED, reason, msg);
    }
    char arg[GENESIS_ID_MAX + 8];
    const char *id = lws_get_urlarg_by_name(wsi, "id=", arg, (int)sizeof(arg));
    if (id == NULL || id[0] == '\0' || strlen(id) > GENESIS_ID_MAX) {
        gw->metrics.ws_rejected_other++;
        return refuse_upgrade(wsi, 400, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT",
                              "missing or too long ?id=<component> on /ws");
    }
    snprintf(conn->component, sizeof(conn->component), "%s", id);
    if (gw->auth != NULL) {
        char cred[600];
        cred[0] = '\0';
        if (lws_hdr_copy(wsi, cred, sizeof(cred), WSI_TOKEN_HTTP_AUTHORIZATION) <= 0) {
            /* Browsers cannot set headers on a WebSocket: accept ?access_token= too. */
            const char *t = lws_get_urlarg_by_name(wsi, "access_token=", cred, (int)sizeof(cred));
            if (t != NULL)
                memmove(cred, t, strlen(t) + 1);
            else
                cred[0] = '\0';
        }
        const gw_token *token = gw_auth_check(gw->auth, cred);
        memset(cred, 0, sizeof(cred));
        if (token == NULL) {
            gw->metrics.ws_rejected_other++;
            return refuse_upgrade(wsi, 401, GENESIS_UNAUTHENTICATED, "UNAUTHENTICATED",
                                  "a valid bearer token is required");
        }
        if (!gw_token_allows(token, conn->component)) {
            gw->metrics.ws_rejected_other++;
            return refuse_upgrade(wsi, 403, GENESIS_PERMISSION_DENIED, "PERMISSION_DENIED",
                                  "this token may not talk to that component");
        }
    }
    if (gw->n_sessions >= gw->cfg.max_ws_clients) {
        gw->metrics.ws_rejected_cap++;
        return refuse_upgrade(wsi, 503, GENESIS_UNAVAILABLE, "LIMIT_REACHED",
                              "the gateway's WebSocket connection cap is reached; retry later");
    }
    char topics[sizeof(conn->topics)];
    const char *t = lws_get_urlarg_by_name(wsi, "topic=", topics, (int)sizeof(topics));
    snprintf(conn->topics, sizeof(conn->topics), "%s", t != NULL ? t : "");
    return 0;
}

static int established(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    conn->ring_cap = gw->cfg.ws_queue < RING_START ? gw->cfg.ws_queue : RING_START;
    conn->ring = calloc(conn->ring_cap, sizeof(gw_frame *));
    if (conn->ring == NULL)
        return -1;
    conn->kind = GW_CONN_WS;
    conn->wsi = wsi;
    conn->id = ++gw->next_session_id;
    snprintf(conn->name, sizeof(conn->name), "ws-%llu", (unsigned long long)conn->id);
    conn->ws_prev = NULL;
    conn->ws_next = gw->sessions;
    if (gw->sessions != NULL)
        gw->sessions->ws_prev = conn;
    gw->sessions = conn;
    gw->n_sessions++;
    gw->metrics.ws_accepted++;
    return 0;
}

static void session_closed(gw_gateway *gw, gw_conn *conn)
{
    if (conn->kind != GW_CONN_WS || conn->wsi == NULL)
        return;
    if (conn->ws_prev != NULL)
        conn->ws_prev->ws_next = conn->ws_next;
    else
        gw->sessions = conn->ws_next;
    if (conn->ws_next != NULL)
        conn->ws_next->ws_prev = conn->ws_prev;
    gw->n_sessions--;
    while (conn->ring_count > 0) {
        gw_frame_release(conn->ring[conn->ring_head]);
        conn->ring_head = (conn->ring_head + 1) % conn->ring_cap;
        conn->ring_count--;
    }
    free(conn->ring);
    free(conn->rx);
    conn->ring = NULL;
    conn->rx = NULL;
    conn->wsi = NULL;
}

/* Double a full session queue (up to --ws-queue entries), unwrapping it. False when out of
 * memory: the message is then lost for this session, as when the queue is full. */
static bool grow_ring(gw_gateway *gw, gw_conn *s)
{
    unsigned int cap = s->ring_cap * 2 < gw->cfg.ws_queue ? s->ring_cap * 2 : gw->cfg.ws_queue;
    if (cap <= s->ring_count) /* already at --ws-queue */
        return false;
    gw_frame **ring = malloc(cap * sizeof(*ring));
    if (ring == NULL)
        return false;
    for (unsigned int i = 0; i < s->ring_count; i++)
        ring[i] = s->ring[(s->ring_head + i) % s->ring_cap];
    free(s->ring);
    s->ring = ring;
    s->ring_cap = cap;
    s->ring_head = 0;
    return true;
}

/* Queue a frame for one session; false when its queue is full (the message is lost for
 * this session only, and counted). */
static bool enqueue(gw_gateway *gw, gw_conn *s, gw_frame *f)
{
    if (s->closing)
        return false;
    /* Full by count, or by bytes (an empty queue always takes one message, whatever size). */
    if (s->ring_count == gw->cfg.ws_queue ||
        (s->ring_count > 0 && s->ring_bytes + f->wire_len > gw->cfg.ws_queue_bytes)) {
        s->dropped++;
        gw->metrics.ws_dropped++;
        if (++s->overflow >= SLOW_CLOSE_QUEUES * gw->cfg.ws_queue) {
            /* Not reading at all. Ask for a writeable callback to send the close frame, and
             * kill it anyway if its socket stays choked. */
            s->closing = 1;
            gw->metrics.ws_slow_closed++;
            gw_log(gw, GENESIS_LOG_INFO, "websocket %s: too slow (%llu messages lost), closing",
                   s->name, (unsigned long long)s->dropped);
            lws_callback_on_writable(s->wsi);
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, 2);
        }
        return false;
    }
    if (s->ring_count == s->ring_cap && !grow_ring(gw, s)) {
        s->dropped++;
        gw->metrics.ws_dropped++;
        return false;
    }
    s->overflow = 0;
    f->refs++;
    s->ring[(s->ring_head + s->ring_count) % s->ring_cap] = f;
    s->ring_count++;
    s->ring_bytes += f->wire_len;
    if (s->ring_count == 1)
        lws_callback_on_writable(s->wsi);
    return true;
}

/* Sessions without a topic filter get every external event; the coordinator's own events
 * only go to sessions whose filter names them (or is "*", every event). */
static bool wants(const gw_conn *s, const char *type, bool system)
{
    if (s->topics[0] == '\0')
        return !system;
    const char *p = s->topics;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if ((n > 0 && strncmp(type, p, n) == 0) || (n == 1 && p[0] == '*'))
            return true;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return false;
}

void gw_ws_broadcast(gw_gateway *gw, gw_item *it)
{
    if (gw->sessions == NULL)
        return;
    gw_frame *f = gw_frame_new(it->text, it->text_len);
    if (f == NULL)
        return;
    const char *source = it->source != NULL ? it->source : "";
    for (gw_conn *s = gw->sessions; s != NULL; s = s->ws_next)
        if (strcmp(s->name, source) != 0 && wants(s, it->type != NULL ? it->type : "", it->system))
            enqueue(gw, s, f);
    gw_frame_release(f);
}

static gw_conn *find_session(gw_gateway *gw, uint64_t id)
{
    for (gw_conn *s = gw->sessions; s != NULL; s = s->ws_next)
        if (s->id == id)
            return s;
    return NULL;
}

/* An error frame for one client: {"type":"error","data":{...},"source":"gateway","seq":0}. */
static void send_error(gw_gateway *gw, gw_conn *s, int code, const char *reason,
                       const char *message)
{
    size_t elen = 0;
    char *err = gw_error_json(code, reason, message, &elen);
    if (err == NULL)
        return;
    size_t len = 0;
    char *text = gw_event_json("error", err, elen, "application/json", "gateway", 0, &len);
    free(err);
    gw_frame *f = text != NULL ? gw_frame_new(text, len) : NULL;
    free(text);
    if (f != NULL) {
        enqueue(gw, s, f);
        gw_frame_release(f);
    }
}

void gw_ws_emit_failed(gw_gateway *gw, gw_item *it)
{
    gw->metrics.ws_emit_failed++;
    gw_conn *s = find_session(gw, it->session_id);
    if (s == NULL)
        return;
    int code = it->res != NULL ? genesis_result_status(it->res) : it->status;
    int reason = it->res != NULL ? genesis_result_reason(it->res) : GENESIS_REASON_NONE;
    const char *msg = it->res != NULL ? genesis_result_message(it->res) : it->error;
    send_error(gw, s, code, genesis_reason_name(reason), msg);
}

static int message_complete(gw_gateway *gw, gw_conn *conn)
{
    gw->metrics.ws_messages_in++;
    char why[256];
    char *type = NULL, *data = NULL;
    size_t data_len = 0;
    const char *ct = NULL;
    if (gw_parse_ws_message((const char *)conn->rx, conn->rx_len, &type, &data, &data_len, &ct, why,
                            sizeof(why)) != 0) {
        send_error(gw, conn, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", why);
        return 0;
    }
    gw_item *it = calloc(1, sizeof(*it));
    if (it != NULL) {
        it->kind = GW_ITEM_WS_EMIT;
        it->job = GW_JOB_EMIT_TO;
        it->session_id = conn->id;
        it->type = type;
        it->text = data;
        it->text_len = data_len;
        it->source = strdup(conn->name);
        it->target = strdup(conn->component);
        snprintf(it->content_type, sizeof(it->content_type), "%s", ct);
        type = data = NULL;
    }
    if (it == NULL || it->source == NULL || it->target == NULL ||
        !gw_job_pool_submit(gw->jobs, it, conn->id)) {
        gw_item_free(it);
        free(type);
        free(data);
        gw->metrics.ws_overloaded++;
        send_error(gw, conn, GENESIS_UNAVAILABLE, "OVERLOADED",
                   "the gateway has too many messages in flight; this one was not delivered");
    }
    return 0;
}

static int receive(gw_gateway *gw, struct lws *wsi, gw_conn *conn, const void *in, size_t len)
{
    if (lws_frame_is_binary(wsi)) {
        static const char why[] = "binary frames are not accepted; send JSON or text";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, (unsigned char *)why,
                         sizeof(why) - 1);
        return -1;
    }
    if (conn->rx_len + len > gw->cfg.max_ws_message) {
        gw->metrics.ws_oversized++;
        char why[100];
        int n = snprintf(why, sizeof(why), "message over the limit of %zu bytes",
                         gw->cfg.max_ws_message);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, (size_t)n);
        return -1;
    }
    if (conn->rx == NULL) {
        conn->rx = malloc(gw->cfg.max_ws_message + 1);
        if (conn->rx == NULL)
            return -1;
    }
    memcpy(conn->rx + conn->rx_len, in, len);
    conn->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return 0;
    int rc = message_complete(gw, conn);
    conn->rx_len = 0;
    return rc;
}

static void pop(gw_gateway *gw, gw_conn *conn)
{
    conn->ring_bytes -= conn->ring[conn->ring_head]->wire_len;
    gw_frame_release(conn->ring[conn->ring_head]);
    conn->ring[conn->ring_head] = NULL;
    conn->ring_head = (conn->ring_head + 1) % conn->ring_cap;
    conn->ring_count--;
    gw->metrics.ws_messages_out++;
}

static int writeable(gw_gateway *gw, struct lws *wsi, gw_conn *conn)
{
    if (conn->closing) {
        static const char why[] = "too slow: send queue overflow";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why,
                         sizeof(why) - 1);
        return -1;
    }
    if (conn->ring_count == 0)
        return 0;
    unsigned char *out = gw->ws_scratch + LWS_PRE;
    if (lws_get_network_wsi(wsi) != wsi) {
        /* A WebSocket inside an HTTP/2 stream: libwebsockets frames it, one message per
         * write. */
        gw_frame *f = conn->ring[conn->ring_head];
        size_t n = f->len <= GW_WS_BATCH ? f->len : 0;
        unsigned char *p = n > 0 ? out : f->text; /* big ones: lws may write into headroom */
        if (n > 0)
            memcpy(out, f->text, n);
        if (lws_write(wsi, p, f->len, LWS_WRITE_TEXT) < (int)f->len)
            return -1;
        pop(gw, conn);
    } else {
        /* Whole pre-encoded frames, as many as fit, in one raw write. */
        size_t total = 0;
        while (conn->ring_count > 0) {
            gw_frame *f = conn->ring[conn->ring_head];
            if (total + f->wire_len > GW_WS_BATCH)
                break;
            memcpy(out + total, f->wire, f->wire_len);
            total += f->wire_len;
            pop(gw, conn);
        }
        if (total == 0) { /* one frame bigger than the batch: from its own buffer */
            gw_frame *f = conn->ring[conn->ring_head];
            if (lws_write(wsi, f->wire, f->wire_len, LWS_WRITE_RAW) < (int)f->wire_len)
                return -1;
            pop(gw, conn);
        } else if (lws_write(wsi, out, total, LWS_WRITE_RAW) < (int)total) {
            return -1;
        }
    }
    if (conn->ring_count > 0)
        lws_callback_on_writable(wsi);
    return 0;
}

int gw_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    gw_gateway *gw = lws_context_user(lws_get_context(wsi));
    gw_conn *conn = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return filter_upgrade(gw, wsi, conn);
    case LWS_CALLBACK_ESTABLISHED:
        return established(gw, wsi, conn);
    case LWS_CALLBACK_RECEIVE:
        return receive(gw, wsi, conn, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return writeable(gw, wsi, conn);
    case LWS_CALLBACK_CLOSED:
        session_closed(gw, conn);
        return 0;
    default:
        return 0;
    }
}
