/* Where the gateway listens, exactly: the configured host resolved to one numeric address
 * that binds, and the check, once libwebsockets has opened its listening socket, that the
 * socket is bound there and nowhere else (libwebsockets 4.1 with IPv6 enabled turns an IPv4
 * interface address into the dual-stack wildcard). */
#ifndef GW_LISTEN_ADDR_H
#define GW_LISTEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

typedef struct gw_listen_addr {
    struct sockaddr_storage sa; /* the resolved address (port as configured) */
    socklen_t len;
    char numeric[64]; /* "127.0.0.1", "::1" (no brackets) */
    bool ipv6;
    bool loopback; /* 127.0.0.0/8, ::1, ::ffff:127.x */
    bool wildcard; /* 0.0.0.0 or :: */
} gw_listen_addr;

/* Resolve host (a name or a numeric address) and port to the first address that binds.
 * Returns 0, or -1 with the reason in why. */
int gw_listen_resolve(const char *host, int port, gw_listen_addr *out, char *why, size_t why_size);

/* The listening TCP sockets of this process right now (descriptors, at most cap). */
size_t gw_listen_sockets(int *fds, size_t cap);

/* After the listener opened: every listening socket on port that is not in before[] must be
 * bound to want's address. Returns 0, or -1 with what it found in why (also when none). */
int gw_listen_verify(const gw_listen_addr *want, int port, const int *before, size_t n_before,
                     char *why, size_t why_size);

/* True when a Host header's name (no port, no brackets) is an IPv4 or IPv6 literal. */
bool gw_is_ip_literal(const char *name);

#endif /* GW_LISTEN_ADDR_H */
