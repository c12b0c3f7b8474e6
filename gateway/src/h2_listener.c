/* The gateway's listening socket and the HTTP/2 thread (see h2_server.h): accept, sniff the
 * first bytes (the HTTP/2 preface, or with TLS the ClientHello's ALPN), run HTTP/2
 * connections, hand the others to libwebsockets. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_internal.h"
#include "h2_server.h"
#include "h2_tls.h"
#include "listen_addr.h"
#include "tls_hello.h"

#define MAX_SNIFFING 256  /* accepted connections whose first bytes have not arrived yet */
#define MAX_H2_CONNS 1024 /* HTTP/2 connections at once; more are closed at once */
#define TICK_MS      1000
#define LOG_BURST    20 /* refusals logged at once at most, then one a second */

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN (sizeof(preface) - 1)

typedef struct sniffing {
    int fd;
    uint64_t since_ns;
    int lowat; /* SO_RCVLOWAT set: poll wakes only once more bytes than seen have come */
    char peer[GW_PEER_NAME]; /* "address:port", for the log */
} sniffing;

struct gw_h2 {
    gw_gateway *gw;
    int listen_fd;
    int wake_fd;
    int port;
    pthread_t thread;
    int started;
    atomic_bool stop;
    pthread_mutex_t lock; /* the outcomes posted by other threads */
    gw_rpc_out *head, *tail;
    sniffing sniff[MAX_SNIFFING];
    unsigned int n_sniff;
    gw_h2_conn **conns;
    unsigned int n_conns;
    uint64_t next_conn_id;
    SSL_CTX *tls;               /* the port serves TLS: the gRPC side's context, else NULL */
    gw_hello_sniffer *sniffer;  /* ... and the ClientHello router */
    unsigned int log_tokens;    /* refusals that may still be logged (LOG_BURST at most) */
    uint64_t log_refill_ns;     /* when a token was last added */
    uint64_t log_suppressed;    /* refusals not logged since the last line */
    uint8_t peek[GW_HELLO_MAX]; /* a ClientHello being read (the HTTP/2 thread's) */
};

static void post(void *arg, gw_rpc_out *o)
{
    gw_h2 *h = arg;
    o->next = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->tail != NULL)
        h->tail->next = o;
    else
        h->head = o;
    h->tail = o;
    pthread_mutex_unlock(&h->lock);
    uint64_t one = 1;
    ssize_t n = write(h->wake_fd, &one, sizeof(one)); /* cannot block: the counter stays small */
    (void)n;
}

int gw_h2_new(gw_h2 **out, gw_gateway *gw, const gw_listen_addr *addr, char *why, size_t why_size)
{
    *out = NULL;
    gw_h2 *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(why, why_size, "out of memory");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    h->gw = gw;
    h->listen_fd = h->wake_fd = -1;
    pthread_mutex_init(&h->lock, NULL);
    h->conns = calloc(MAX_H2_CONNS, sizeof(*h->conns));
    h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->conns == NULL || h->wake_fd < 0) {
        snprintf(why, why_size, "out of memory or file descriptors");
        gw_h2_free(h);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    h->log_tokens = LOG_BURST;
    h->log_refill_ns = gw_now_ns();
    if (gw->cfg.tls_cert != NULL) {
        h->tls = gw_h2_tls_ctx_new(gw->cfg.tls_cert, gw->cfg.tls_key, why, why_size);
        if (h->tls == NULL) {
            gw_h2_free(h);
            return GENESIS_INVALID_ARGUMENT;
        }
        h->sniffer = gw_hello_sniffer_new();
        if (h->sniffer == NULL) {
            snprintf(why, why_size, "out of memory");
            gw_h2_free(h);
            return GENESIS_RESOURCE_EXHAUSTED;
        }
    }
    int one = 1;
    h->listen_fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->listen_fd >= 0 && addr->ipv6) /* this address only, never the dual-stack wildcard */
        setsockopt(h->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (h->listen_fd < 0 ||
        setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(h->listen_fd, (const struct sockaddr *)&addr->sa, addr->len) != 0 ||
        listen(h->listen_fd, 512) != 0) {
        snprintf(why, why_size, "cannot serve HTTP on %s port %d: %s", addr->numeric, gw->cfg.port,
                 strerror(errno));
        gw_h2_free(h);
        return GENESIS_UNAVAILABLE;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    if (getsockname(h->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(why, why_size, "cannot read the listening port: %s", strerror(errno));
        gw_h2_free(h);
        return GENESIS_UNAVAILABLE;
    }
    h->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = h;
    return GENESIS_OK;
}

int gw_h2_port(const gw_h2 *h)
{
    return h->port;
}

/* Not HTTP/2: libwebsockets takes the socket on its service thread (the bytes peeked at are
 * still unread). */
static void hand_to_lws(gw_h2 *h, int fd)
{
    gw_item *it = calloc(1, sizeof(*it));
    if (it == NULL) {
        close(fd);
        return;
    }
    it->kind = GW_ITEM_ADOPT;
    it->adopt_fd = fd;
    if (!gw_xqueue_push(&h->gw->inbox, it))
        gw_item_free(it);
}

static void remove_sniff(gw_h2 *h, unsigned int i)
{
    h->sniff[i] = h->sniff[--h->n_sniff];
}

/* The first bytes so far are not enough to decide: poll reports the socket again only once
 * more than those have arrived (the peeked bytes stay unread, so without this poll would
 * report it readable at once, and the thread would spin until they come). */
static void want_more(sniffing *s, ssize_t have)
{
    int lowat = (int)have + 1;
    if (setsockopt(s->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) == 0)
        s->lowat = 1;
}

/* Leaves the sniffing set for whoever serves it, which expects the default watermark. */
static int take_sniff(gw_h2 *h, unsigned int i)
{
    int fd = h->sniff[i].fd;
    if (h->sniff[i].lowat) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
    }
    remove_sniff(h, i);
    return fd;
}

/* "address:port" of an accepted connection's peer, for the log (kept from accept: once the
 * peer has reset the connection, getpeername no longer tells). */
static void peer_name(const struct sockaddr_storage *ss, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    } else if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
    }
    snprintf(buf, size, ss->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* A connection refused for its bytes: one warning each, LOG_BURST at once at most and then
 * one a second, since any client can cause them. */
static void log_refusal(gw_h2 *h, const char *peer, const char *why)
{
    uint64_t now = gw_now_ns();
    uint64_t earned = (now - h->log_refill_ns) / 1000000000u;
    if (earned > 0) {
        h->log_tokens =
            h->log_tokens + earned > LOG_BURST ? LOG_BURST : h->log_tokens + (unsigned int)earned;
        h->log_refill_ns = now;
    }
    if (h->log_tokens == 0) {
        h->log_suppressed++;
        return;
    }
    h->log_tokens--;
    char more[80] = "";
    if (h->log_suppressed > 0)
        snprintf(more, sizeof(more), " (and %llu more not logged)",
                 (unsigned long long)h->log_suppressed);
    h->log_suppressed = 0;
    gw_log(h->gw, GENESIS_LOG_WARN, "gateway: TLS port: %s from %s: connection closed%s", why, peer,
           more);
}

static void add_conn(gw_h2 *h, int fd, SSL *ssl, const char *peer)
{
    if (h->n_conns == MAX_H2_CONNS) {
        SSL_free(ssl);
        close(fd);
        return;
    }
    gw_h2_conn *c =
        gw_h2_conn_new(h->gw, h->gw->rpc_engine, fd, ssl, peer, ++h->next_conn_id, post, h);
    if (c == NULL)
        return;
    if (gw_h2_conn_io(c, 0) == 0) { /* our SETTINGS (or the TLS handshake) go out first */
        h->conns[h->n_conns++] = c;
        return;
    }
    if (gw_h2_conn_tls_error(c) != NULL)
        log_refusal(h, peer, gw_h2_conn_tls_error(c));
    gw_h2_conn_free(c);
}

/* Plain HTTP/1.x to the TLS port: say so in HTTP before closing (the request's bytes are
 * read first, so that the close does not reset the connection under the answer). */
static void answer_plain_http(int fd, const char *first, size_t n)
{
    size_t i = 0;
    while (i < n && i < 8 && first[i] >= 'A' && first[i] <= 'Z')
        i++;
    if (i == 0 || i == n || first[i] != ' ')
        return;
    char drain[4096];
    for (int k = 0; k < 16 && recv(fd, drain, sizeof(drain), 0) > 0; k++) {
    }
    static const char answer[] = "HTTP/1.1 400 Bad Request\r\n"
                                 "Content-Type: text/plain\r\n"
                                 "Content-Length: 30\r\n"
                                 "Connection: close\r\n\r\n"
                                 "This port serves HTTPS (TLS).\n";
    ssize_t w = send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL);
    (void)w;
    shutdown(fd, SHUT_WR);
}

/* TLS: the ClientHello's ALPN decides (tls_hello.h). */
static void sniff_tls(gw_h2 *h, unsigned int i, short revents)
{
    uint8_t *buf = h->peek;
    int fd = h->sniff[i].fd;
    ssize_t n = recv(fd, buf, sizeof(h->peek), MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        close(fd);
        remove_sniff(h, i);
        return;
    }
    char why[256];
    gw_hello_route route = gw_hello_classify(h->sniffer, buf, (size_t)n, why, sizeof(why));
    if (route == GW_HELLO_MORE && (revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        close(fd); /* gone before its ClientHello was complete: nothing will come */
        remove_sniff(h, i);
        return;
    }
    if (route == GW_HELLO_MORE) {
        want_more(&h->sniff[i], n);
        return;
    }
    char peer[GW_PEER_NAME];
    snprintf(peer, sizeof(peer), "%s", h->sniff[i].peer);
    take_sniff(h, i);
    if (route == GW_HELLO_HTTP) {
        hand_to_lws(h, fd);
        return;
    }
    if (route == GW_HELLO_GRPC) {
        SSL *ssl = SSL_new(h->tls);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
            SSL_free(ssl);
            close(fd);
            return;
        }
        SSL_set_accept_state(ssl);
        add_conn(h, fd, ssl, peer);
        return;
    }
    log_refusal(h, peer, why);
    if (route == GW_HELLO_NOT_TLS)
        answer_plain_http(fd, (const char *)buf, (size_t)n);
    close(fd);
}

/* The first bytes decide: the HTTP/2 preface (h2c with prior knowledge) or anything else. */
static void sniff(gw_h2 *h, unsigned int i, short revents)
{
    if (h->tls != NULL) {
        sniff_tls(h, i, revents);
        return;
    }
    char buf[PREFACE_LEN];
    int fd = h->sniff[i].fd;
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        close(fd);
        remove_sniff(h, i);
        return;
    }
    if (memcmp(buf, preface, (size_t)n) != 0) {
        hand_to_lws(h, take_sniff(h, i));
        return;
    }
    if ((size_t)n < PREFACE_LEN) { /* so far the preface: wait for the rest */
        if (revents & (POLLRDHUP | POLLHUP | POLLERR)) {
            close(fd);
            remove_sniff(h, i);
        } else {
            want_more(&h->sniff[i], n);
        }
        return;
    }
    char peer[GW_PEER_NAME];
    snprintf(peer, sizeof(peer), "%s", h->sniff[i].peer);
    add_conn(h, take_sniff(h, i), NULL, peer);
}

static void accept_all(gw_h2 *h)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        int fd = accept4(h->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or out of descriptors: poll will say when to retry */
        if (h->n_sniff == MAX_SNIFFING) {
            /* Full of silent connections: the oldest goes to libwebsockets as HTTP/1.1, whose
             * own limits and timeouts then apply (as they did before HTTP/2 was sniffed). */
            unsigned int oldest = 0;
            for (unsigned int i = 1; i < h->n_sniff; i++)
                if (h->sniff[i].since_ns < h->sniff[oldest].since_ns)
                    oldest = i;
            hand_to_lws(h, take_sniff(h, oldest));
        }
        /* As libwebsockets does on the sockets it accepts itself (not on adopted ones):
         * small responses leave at once instead of waiting for the peer's delayed ACK. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        h->sniff[h->n_sniff].fd = fd;
        h->sniff[h->n_sniff].since_ns = gw_now_ns();
        h->sniff[h->n_sniff].lowat = 0;
        peer_name(&ss, h->sniff[h->n_sniff].peer, sizeof(h->sniff[h->n_sniff].peer));
        h->n_sniff++;
    }
}

static gw_h2_conn *find_conn(gw_h2 *h, uint64_t id)
{
    for (unsigned int i = 0; i < h->n_conns; i++)
        if (gw_h2_conn_id(h->conns[i]) == id)
            return h->conns[i];
    return NULL;
}

static void deliver_all(gw_h2 *h)
{
    uint64_t count;
    ssize_t r = read(h->wake_fd, &count, sizeof(count));
    (void)r;
    pthread_mutex_lock(&h->lock);
    gw_rpc_out *o = h->head;
    h->head = h->tail = NULL;
    pthread_mutex_unlock(&h->lock);
    while (o != NULL) {
        gw_rpc_out *next = o->next;
        gw_h2_conn *c = find_conn(h, o->conn_id);
        if (c != NULL)
            gw_h2_conn_deliver(c, o);
        else
            gw_rpc_out_free(o);
        o = next;
    }
}

static void close_conn(gw_h2 *h, unsigned int i)
{
    const char *tls_error = gw_h2_conn_tls_error(h->conns[i]);
    if (tls_error != NULL)
        log_refusal(h, gw_h2_conn_peer(h->conns[i]), tls_error);
    gw_h2_conn_free(h->conns[i]);
    h->conns[i] = h->conns[--h->n_conns];
}

static void *h2_main(void *arg)
{
    gw_h2 *h = arg;
    size_t cap = 2 + MAX_SNIFFING + MAX_H2_CONNS;
    struct pollfd *pfd = calloc(cap, sizeof(*pfd));
    if (pfd == NULL)
        return NULL;
    uint64_t last_tick = gw_now_ns();
    while (!atomic_load(&h->stop)) {
        size_t n = 0;
        pfd[n++] = (struct pollfd){.fd = h->wake_fd, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = h->listen_fd, .events = POLLIN};
        for (unsigned int i = 0; i < h->n_sniff; i++)
            pfd[n++] = (struct pollfd){.fd = h->sniff[i].fd, .events = POLLIN | POLLRDHUP};
        for (unsigned int i = 0; i < h->n_conns; i++)
            pfd[n++] = (struct pollfd){.fd = gw_h2_conn_fd(h->conns[i]),
                                       .events = gw_h2_conn_events(h->conns[i])};
        int rc = poll(pfd, n, TICK_MS);
        if (rc < 0 && errno != EINTR)
            break;
        unsigned int n_sniff = h->n_sniff, n_conns = h->n_conns;
        /* Connections first (their indices are those of the pollfds), back to front so that
         * removing one moves an already handled one. */
        for (unsigned int i = n_conns; i-- > 0;) {
            short re = pfd[2 + n_sniff + i].revents;
            if (re != 0 && gw_h2_conn_io(h->conns[i], re) != 0)
                close_conn(h, i);
        }
        for (unsigned int i = n_sniff; i-- > 0;)
            if (pfd[2 + i].revents != 0)
                sniff(h, i, pfd[2 + i].revents);
        if (pfd[0].revents & POLLIN)
            deliver_all(h);
        if (pfd[1].revents & POLLIN)
            accept_all(h);
        /* Outcomes delivered may have queued frames: write them now. */
        for (unsigned int i = h->n_conns; i-- > 0;)
            if (gw_h2_conn_io(h->conns[i], 0) != 0)
                close_conn(h, i);
        uint64_t now = gw_now_ns();
        if (now - last_tick >= (uint64_t)TICK_MS * 1000000u) {
            last_tick = now;
            uint64_t limit = (uint64_t)h->gw->cfg.header_timeout_s * 1000000000u;
            for (unsigned int i = h->n_sniff; i-- > 0;)
                if (now - h->sniff[i].since_ns > limit) {
                    if (h->tls != NULL) {
                        char why[96];
                        snprintf(why, sizeof(why),
                                 "no complete ClientHello after %u s (--header-timeout)",
                                 h->gw->cfg.header_timeout_s);
                        log_refusal(h, h->sniff[i].peer, why);
                    }
                    close(h->sniff[i].fd); /* connected and silent */
                    remove_sniff(h, i);
                }
            for (unsigned int i = h->n_conns; i-- > 0;)
                if (gw_h2_conn_tick(h->conns[i], now) != 0)
                    close_conn(h, i);
        }
    }
    free(pfd);
    return NULL;
}

int gw_h2_start(gw_h2 *h, char *why, size_t why_size)
{
    if (gw_thread_start(&h->thread, h2_main, h, "gw:h2") != 0) {
        snprintf(why, why_size, "cannot start the HTTP/2 thread");
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    h->started = 1;
    return GENESIS_OK;
}

void gw_h2_stop(gw_h2 *h)
{
    if (h == NULL)
        return;
    if (h->started) {
        atomic_store(&h->stop, true);
        uint64_t one = 1;
        ssize_t n = write(h->wake_fd, &one, sizeof(one));
        (void)n;
        pthread_join(h->thread, NULL);
        h->started = 0;
    }
    while (h->conns != NULL && h->n_conns > 0)
        close_conn(h, h->n_conns - 1); /* cancels every Watch */
    while (h->n_sniff > 0) {
        close(h->sniff[h->n_sniff - 1].fd);
        h->n_sniff--;
    }
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    h->listen_fd = -1;
}

void gw_h2_free(gw_h2 *h)
{
    if (h == NULL)
        return;
    gw_h2_stop(h);
    gw_rpc_out *o = h->head;
    while (o != NULL) {
        gw_rpc_out *next = o->next;
        gw_rpc_out_free(o);
        o = next;
    }
    if (h->wake_fd >= 0)
        close(h->wake_fd);
    pthread_mutex_destroy(&h->lock);
    free(h->conns);
    SSL_CTX_free(h->tls);
    gw_hello_sniffer_free(h->sniffer);
    free(h);
}
