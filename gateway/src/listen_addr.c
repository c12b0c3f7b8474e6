/* The gateway's listen address: resolution to a numeric address and the check of the bound
 * socket (see listen_addr.h). */
#define _GNU_SOURCE
#include "listen_addr.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

static void classify(gw_listen_addr *a)
{
    if (a->sa.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->sa;
        uint32_t ip = ntohl(s4->sin_addr.s_addr);
        a->ipv6 = false;
        a->loopback = (ip >> 24) == 127;
        a->wildcard = ip == INADDR_ANY;
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;
        const struct in6_addr *ip = &s6->sin6_addr;
        a->ipv6 = true;
        a->loopback =
            IN6_IS_ADDR_LOOPBACK(ip) || (IN6_IS_ADDR_V4MAPPED(ip) && ip->s6_addr[12] == 127);
        a->wildcard = IN6_IS_ADDR_UNSPECIFIED(ip);
    }
}

int gw_listen_resolve(const char *host, int port, gw_listen_addr *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    int err = getaddrinfo(host[0] != '\0' ? host : NULL, service, &hints, &res);
    if (err != 0) {
        snprintf(why, why_size, "cannot serve HTTP on %s:%d: %s", host, port,
                 err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
        return -1;
    }
    /* The first address that binds: "localhost" may name ::1 first on a host whose loopback
     * has no IPv6, and 127.0.0.1 then. */
    int last_errno = EADDRNOTAVAIL;
    int rc = -1;
    for (struct addrinfo *ai = res; ai != NULL && rc != 0; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof(out->sa))
            continue;
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0 && ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            memcpy(&out->sa, ai->ai_addr, ai->ai_addrlen);
            out->len = ai->ai_addrlen;
            rc = 0;
        } else {
            last_errno = errno;
        }
        if (fd >= 0)
            close(fd);
    }
    freeaddrinfo(res);
    if (rc != 0) {
        snprintf(why, why_size, "cannot serve HTTP on %s:%d: %s", host, port, strerror(last_errno));
        return -1;
    }
    err = getnameinfo((const struct sockaddr *)&out->sa, out->len, out->numeric,
                      sizeof(out->numeric), NULL, 0, NI_NUMERICHOST);
    if (err != 0) {
        snprintf(why, why_size, "cannot serve HTTP on %s:%d: %s", host, port, gai_strerror(err));
        return -1;
    }
    classify(out);
    return 0;
}

size_t gw_listen_sockets(int *fds, size_t cap)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        char *end = NULL;
        long fd = strtol(e->d_name, &end, 10);
        if (e->d_name[0] == '.' || *end != '\0' || fd == self)
            continue;
        int listening = 0, type = 0;
        socklen_t l1 = sizeof(listening), l2 = sizeof(type);
        if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l1) == 0 && listening &&
            getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &l2) == 0 && type == SOCK_STREAM)
            fds[n++] = (int)fd;
    }
    closedir(d);
    return n;
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return false;
}

static int port_of(const struct sockaddr_storage *s)
{
    if (s->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)s)->sin_port);
    if (s->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)s)->sin6_port);
    return -1;
}

int gw_listen_verify(const gw_listen_addr *want, int port, const int *before, size_t n_before,
                     char *why, size_t why_size)
{
    int fds[256];
    size_t n = gw_listen_sockets(fds, sizeof(fds) / sizeof(fds[0]));
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t k = 0; k < n_before && !known; k++)
            known = before[k] == fds[i];
        struct sockaddr_storage got;
        socklen_t len = sizeof(got);
        memset(&got, 0, sizeof(got));
        if (known || getsockname(fds[i], (struct sockaddr *)&got, &len) != 0 ||
            port_of(&got) != port)
            continue;
        if (!same_address(&got, &want->sa)) {
            char host[64] = "?";
            getnameinfo((const struct sockaddr *)&got, len, host, sizeof(host), NULL, 0,
                        NI_NUMERICHOST);
            snprintf(why, why_size,
                     "refusing to serve HTTP: asked to listen on %s port %d, but the listening "
                     "socket is bound to %s",
                     want->numeric, port, host);
            return -1;
        }
        found++;
    }
    if (found == 0) {
        snprintf(why, why_size,
                 "refusing to serve HTTP: asked to listen on %s port %d, but no socket listens "
                 "there",
                 want->numeric, port);
        return -1;
    }
    return 0;
}

bool gw_is_ip_literal(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}
