/* WebSocket fan-out through the gateway: N clients connect to /ws?id=<component>, one more
 * (the sender) sends R messages per second for D seconds; the demo component relays each as an
 * external event that the gateway pushes to every client but the sender. Reports how many of
 * the expected deliveries arrived and the delivery latency (sender's send -> client's receipt,
 * one monotonic clock: same process) at p50/p99/max.
 *
 *   bench_ws_fanout --port P [--host 127.0.0.1] [--clients 1000] [--rate 1000]
 *                   [--seconds 2] [--component comp1]
 *
 * A plain epoll client on raw sockets (RFC 6455 framing by hand), so the clients are not the
 * bottleneck: one thread reads every socket. Nothing is asserted on timing. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RX_BUF (256 * 1024)

typedef struct client {
    int fd;
    int upgraded;
    size_t len;
    unsigned char *buf;
} client;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int connect_ws(const char *host, int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, host, port);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read the 101 response synchronously (setup phase). */
static int finish_upgrade(int fd)
{
    char buf[2048];
    size_t len = 0;
    while (len < sizeof(buf) - 1) {
        ssize_t n = read(fd, buf + len, 1); /* byte by byte: never eat frame bytes */
        if (n <= 0)
            return -1;
        len++;
        buf[len] = '\0';
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
            return strncmp(buf, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
    }
    return -1;
}

/* A masked client text frame. */
static int send_text(int fd, const char *text, size_t len)
{
    unsigned char frame[1024];
    size_t h = 0;
    frame[h++] = 0x81;
    if (len < 126) {
        frame[h++] = (unsigned char)(0x80 | len);
    } else {
        frame[h++] = 0x80 | 126;
        frame[h++] = (unsigned char)(len >> 8);
        frame[h++] = (unsigned char)len;
    }
    static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    memcpy(frame + h, mask, 4);
    h += 4;
    if (h + len > sizeof(frame))
        return -1;
    for (size_t i = 0; i < len; i++)
        frame[h + i] = (unsigned char)text[i] ^ mask[i & 3];
    return write(fd, frame, h + len) == (ssize_t)(h + len) ? 0 : -1;
}

static uint32_t *latencies_us;
static size_t n_latencies, cap_latencies;
static uint64_t *send_times;
static size_t n_sent_max;

static void on_message(const unsigned char *p, size_t len, uint64_t t)
{
    /* {"type":"bench","data":"<i>",...}: find the index after "data":" */
    static const char key[] = "\"data\":\"";
    const unsigned char *d = memmem(p, len, key, sizeof(key) - 1);
    if (d == NULL)
        return;
    unsigned long i = strtoul((const char *)d + sizeof(key) - 1, NULL, 10);
    if (i >= n_sent_max || send_times[i] == 0 || n_latencies == cap_latencies)
        return;
    latencies_us[n_latencies++] = (uint32_t)((t - send_times[i]) / 1000);
}

/* Consume complete server frames (unmasked) from the client's buffer. */
static void parse_frames(client *c, uint64_t t)
{
    size_t off = 0;
    while (c->len - off >= 2) {
        unsigned char *f = c->buf + off;
        size_t plen = f[1] & 0x7f, h = 2;
        if (plen == 126) {
            if (c->len - off < 4)
                break;
            plen = (size_t)f[2] << 8 | f[3];
            h = 4;
        } else if (plen == 127) {
            if (c->len - off < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | f[2 + i];
            h = 10;
        }
        if (c->len - off < h + plen)
            break;
        if ((f[0] & 0x0f) == 0x1)
            on_message(f + h, plen, t);
        off += h + plen;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *component = "comp1";
    int port = 0, clients = 1000, rate = 1000;
    double seconds = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--host") == 0)
            host = argv[i + 1];
        else if (strcmp(argv[i], "--clients") == 0)
            clients = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rate") == 0)
            rate = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--component") == 0)
            component = argv[i + 1];
    }
    if (port <= 0 || clients <= 0 || rate <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: bench_ws_fanout --port P [--host H] [--clients N] [--rate R] "
                        "[--seconds S] [--component ID]\n");
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    char path[256];
    snprintf(path, sizeof(path), "/ws?id=%s", component);
    client *cs = calloc((size_t)clients, sizeof(*cs));
    int ep = epoll_create1(0);
    for (int i = 0; i < clients; i++) {
        cs[i].fd = connect_ws(host, port, path);
        if (cs[i].fd < 0 || finish_upgrade(cs[i].fd) != 0) {
            fprintf(stderr, "bench_ws_fanout: client %d could not connect (%s)\n", i,
                    strerror(errno));
            return 1;
        }
        cs[i].buf = malloc(RX_BUF);
        fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    int sender = connect_ws(host, port, path);
    if (sender < 0 || finish_upgrade(sender) != 0) {
        fprintf(stderr, "bench_ws_fanout: the sender could not connect\n");
        return 1;
    }
    n_sent_max = (size_t)(rate * seconds) + 1;
    send_times = calloc(n_sent_max, sizeof(uint64_t));
    cap_latencies = n_sent_max * (size_t)clients;
    latencies_us = malloc(cap_latencies * sizeof(uint32_t));

    uint64_t start = now_ns(), interval = 1000000000ull / (uint64_t)rate;
    uint64_t end_send = start + (uint64_t)(seconds * 1e9);
    size_t sent = 0;
    struct epoll_event evs[256];
    for (;;) {
        uint64_t t = now_ns();
        while (sent < n_sent_max - 1 && t >= start + sent * interval && t < end_send) {
            char msg[128];
            int n = snprintf(msg, sizeof(msg), "{\"type\":\"bench\",\"data\":\"%zu\"}", sent);
            send_times[sent] = now_ns();
            if (send_text(sender, msg, (size_t)n) != 0) {
                fprintf(stderr, "bench_ws_fanout: send failed\n");
                return 1;
            }
            sent++;
        }
        /* Stop 2 s after the last send, or once everything arrived. */
        if (t >= end_send &&
            (n_latencies == sent * (size_t)clients || t > end_send + 2000000000ull))
            break;
        uint64_t next = start + sent * interval;
        int wait_ms = next > t ? (int)((next - t) / 1000000) : 0;
        int n = epoll_wait(ep, evs, 256, wait_ms);
        uint64_t rt = now_ns();
        for (int i = 0; i < n; i++) {
            client *c = evs[i].data.ptr;
            for (;;) {
                ssize_t r = read(c->fd, c->buf + c->len, RX_BUF - c->len);
                if (r <= 0)
                    break;
                c->len += (size_t)r;
                parse_frames(c, rt);
            }
        }
    }
    size_t expected = sent * (size_t)clients;
    qsort(latencies_us, n_latencies, sizeof(uint32_t), cmp_u32);
    double p50 = n_latencies ? latencies_us[n_latencies / 2] / 1000.0 : 0;
    double p99 = n_latencies ? latencies_us[(size_t)((double)n_latencies * 0.99)] / 1000.0 : 0;
    double max = n_latencies ? latencies_us[n_latencies - 1] / 1000.0 : 0;
    printf("ws_fanout clients=%d rate=%d/s seconds=%.1f sent=%zu expected=%zu delivered=%zu "
           "(%.2f%%) p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
           clients, rate, seconds, sent, expected, n_latencies,
           expected ? 100.0 * (double)n_latencies / (double)expected : 0, p50, p99, max);
    for (int i = 0; i < clients; i++) {
        close(cs[i].fd);
        free(cs[i].buf);
    }
    close(sender);
    close(ep);
    free(cs);
    free(send_times);
    free(latencies_us);
    return 0;
}
