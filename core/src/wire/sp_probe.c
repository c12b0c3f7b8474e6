/* The socket-free listener probe (see sp_probe.h). The URL is split by hand (scheme, host,
 * port or path: the few forms NNG accepts for tcp and ipc listeners, no URL library needed),
 * then resolved with getaddrinfo; only URLs of Genesis's own listeners reach it, and
 * tests/fuzz/fuzz_sp_url.c fuzzes the split. */
#include "wire/sp_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void gn_sp_header(uint16_t proto, unsigned char out[8])
{
    out[0] = 0x00;
    out[1] = 'S';
    out[2] = 'P';
    out[3] = 0x00;
    out[4] = (unsigned char)(proto >> 8);
    out[5] = (unsigned char)(proto & 0xff);
    out[6] = 0x00;
    out[7] = 0x00;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
    int64_t left = deadline - now_ms();
    return left > 0 ? (int)left : 0;
}

/* Non-blocking connect to addr, finished within the deadline. 0 or an errno. */
static int connect_by(int fd, const struct sockaddr *addr, socklen_t len, int64_t deadline)
{
    if (connect(fd, addr, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EAGAIN)
        return errno;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n = poll(&p, 1, left_ms(deadline));
    if (n <= 0)
        return n == 0 ? ETIMEDOUT : errno;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    return soerr;
}

static bool descriptor_shortage(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS;
}

int gn_sp_url_host_port(const char *url, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *hp = strstr(url, "://");
    if (hp == NULL || host_size == 0 || port_size == 0)
        return -1;
    hp += 3;
    const char *name, *colon;
    size_t name_len;
    if (hp[0] == '[') {
        const char *close_b = strchr(hp, ']');
        if (close_b == NULL || close_b[1] != ':')
            return -1;
        name = hp + 1;
        name_len = (size_t)(close_b - name);
        colon = close_b + 1;
    } else {
        colon = strrchr(hp, ':');
        if (colon == NULL)
            return -1;
        name = hp;
        name_len = (size_t)(colon - hp);
    }
    size_t port_len = strlen(colon + 1);
    if (name_len >= host_size || port_len == 0 || port_len >= port_size)
        return -1;
    memcpy(host, name, name_len);
    host[name_len] = '\0';
    memcpy(port, colon + 1, port_len + 1);
    return 0;
}

/* A connected non-blocking socket to url; -1 with *err and *no_socket set otherwise. */
static int dial(const char *url, int64_t deadline, int *err, bool *no_socket)
{
    *no_socket = false;
    if (strncmp(url, "ipc://", 6) == 0) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        if (strlen(url + 6) >= sizeof(sa.sun_path)) {
            *err = ENAMETOOLONG;
            return -1;
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", url + 6);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            *err = errno;
            *no_socket = descriptor_shortage(errno);
            return -1;
        }
        *err = connect_by(fd, (struct sockaddr *)&sa, sizeof(sa), deadline);
        if (*err != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }
    char host[256], port[16];
    if (gn_sp_url_host_port(url, host, sizeof(host), port, sizeof(port)) != 0) {
        *err = EINVAL;
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = strncmp(url, "tcp4://", 7) == 0   ? AF_INET
                      : strncmp(url, "tcp6://", 7) == 0 ? AF_INET6
                                                        : AF_UNSPEC;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
    if (gai != 0) {
        *err = gai == EAI_SYSTEM ? errno : EHOSTUNREACH;
        *no_socket = gai == EAI_MEMORY || (gai == EAI_SYSTEM && descriptor_shortage(errno));
        return -1;
    }
    int fd = -1;
    *err = EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            *err = errno;
            *no_socket = descriptor_shortage(errno);
            break;
        }
        *err = connect_by(fd, ai->ai_addr, ai->ai_addrlen, deadline);
        if (*err != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

gn_sp_probe_result gn_sp_probe(const char *url, uint16_t proto, int timeout_ms, int *fd_out,
                               int *err)
{
    *fd_out = -1;
    *err = 0;
    int64_t deadline = now_ms() + timeout_ms;
    bool no_socket = false;
    int fd = dial(url, deadline, err, &no_socket);
    if (fd < 0)
        return no_socket ? GN_SP_PROBE_NO_SOCKET : GN_SP_PROBE_UNREACHABLE;
    unsigned char mine[8], theirs[8];
    gn_sp_header(proto, mine);
    size_t sent = 0, got = 0;
    while ((sent < sizeof(mine) || got < sizeof(theirs)) && left_ms(deadline) > 0) {
        struct pollfd p = {.fd = fd,
                           .events = (short)((sent < sizeof(mine) ? POLLOUT : 0) |
                                             (got < sizeof(theirs) ? POLLIN : 0))};
        if (poll(&p, 1, left_ms(deadline)) <= 0)
            break;
        if ((p.revents & POLLOUT) != 0) {
            ssize_t n = send(fd, mine + sent, sizeof(mine) - sent, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                break;
            sent += n > 0 ? (size_t)n : 0;
        }
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            ssize_t n = recv(fd, theirs + got, sizeof(theirs) - got, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            got += n > 0 ? (size_t)n : 0;
        }
    }
    *fd_out = fd;
    /* The listener's header: "\0SP\0", any protocol (it is the watched socket's own), zeros. */
    if (sent == sizeof(mine) && got == sizeof(theirs) && theirs[0] == 0 && theirs[1] == 'S' &&
        theirs[2] == 'P' && theirs[3] == 0 && theirs[6] == 0 && theirs[7] == 0)
        return GN_SP_PROBE_CONNECTED;
    *err = ETIMEDOUT;
    return GN_SP_PROBE_NO_HEADER;
}
