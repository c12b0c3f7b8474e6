/* Which side of the gateway's TLS port a connection belongs to, from its ClientHello read
 * without consuming it (MSG_PEEK): the ALPN protocols it offers decide between the gRPC side
 * (libnghttp2 over OpenSSL, h2_listener.c) and libwebsockets, which then does its own TLS
 * handshake on the still unread bytes.
 *
 * Threading: a sniffer is used by one thread at a time (the HTTP/2 thread). */
#ifndef GW_TLS_HELLO_H
#define GW_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* Largest ClientHello read before deciding (a browser's, with post-quantum key shares, is
 * about 2 KB). Larger ones are refused: GW_HELLO_TOO_LARGE. */
#define GW_HELLO_MAX 16384

typedef enum gw_hello_route {
    GW_HELLO_MORE = 0,    /* a ClientHello so far: wait for more bytes */
    GW_HELLO_NOT_TLS,     /* not a TLS record (plain HTTP, HTTP/2 preface, noise) */
    GW_HELLO_BAD,         /* a TLS record, but no valid ClientHello */
    GW_HELLO_TOO_LARGE,   /* GW_HELLO_MAX bytes and the ClientHello is not complete */
    GW_HELLO_GRPC,        /* offers h2 and not HTTP/1.x: a gRPC client (libnghttp2) */
    GW_HELLO_HTTP,        /* offers HTTP/1.x (browsers, curl: h2 too) or no ALPN: libwebsockets */
    GW_HELLO_UNKNOWN_ALPN /* ALPN without any protocol served here */
} gw_hello_route;

typedef struct gw_hello_sniffer gw_hello_sniffer;

/* NULL when out of memory. */
gw_hello_sniffer *gw_hello_sniffer_new(void);
void gw_hello_sniffer_free(gw_hello_sniffer *s);

/* Classify the first len bytes a connection sent (at most GW_HELLO_MAX are looked at).
 * why (may be NULL) gets a printable reason for the refusals (GW_HELLO_NOT_TLS, _BAD,
 * _TOO_LARGE, _UNKNOWN_ALPN: the protocols offered), always NUL-terminated. */
gw_hello_route gw_hello_classify(gw_hello_sniffer *s, const uint8_t *buf, size_t len, char *why,
                                 size_t why_size);

/* Name of a route, for logs and tests. */
const char *gw_hello_route_name(gw_hello_route r);

#endif /* GW_TLS_HELLO_H */
