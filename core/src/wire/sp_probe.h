/* A probe of an NNG listener without an NNG socket: a plain tcp or ipc connection that writes
 * the 8-byte SP connection header by hand (0x00 'S' 'P' 0x00, the 16-bit protocol id of the
 * peer it pretends to be, big-endian, and two reserved zero bytes) and reads the listener's.
 * The listener's socket then attaches the connection as a pipe, which is what the listener
 * watchdog waits for (listener_guard.h).
 *
 * No NNG socket is created or closed: NNG 1.5.2's reaper can stall for good while closing one
 * (the ipc pipe's receive callback re-submits on a closed aio), so a watchdog that opened and
 * closed a socket every few seconds was itself a hazard. */
#ifndef GN_SP_PROBE_H
#define GN_SP_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define GN_SP_PROTO_REQ 0x30 /* REQ v0: the peer of a REP listener */
#define GN_SP_PROTO_REP 0x31
#define GN_SP_PROTO_PUB 0x20
#define GN_SP_PROTO_SUB 0x21 /* SUB v0: the peer of a PUB listener */

typedef enum gn_sp_probe_result {
    GN_SP_PROBE_NO_SOCKET = 0, /* no descriptor for it here (EMFILE, ENFILE, ENOMEM): cannot tell */
    GN_SP_PROBE_UNREACHABLE,   /* connect failed: nothing to tell about a wedged listener */
    GN_SP_PROBE_NO_HEADER,     /* connected, but no valid SP header came back in time */
    GN_SP_PROBE_CONNECTED      /* connected and both headers exchanged */
} gn_sp_probe_result;

/* Connect to url (tcp://, tcp4://, tcp6:// or ipc://) as a peer of protocol proto, waiting at
 * most timeout_ms for the connection and the listener's header. On NO_HEADER and CONNECTED
 * *fd is the open connection (the caller closes it once it is done watching); otherwise -1.
 * *err receives the errno of a failure (0 otherwise). */
gn_sp_probe_result gn_sp_probe(const char *url, uint16_t proto, int timeout_ms, int *fd, int *err);

/* Split a tcp URL ("tcp://host:port", "tcp6://[::1]:port") into host and port. Returns 0, or
 * -1 when malformed or either part does not fit. */
int gn_sp_url_host_port(const char *url, char *host, size_t host_size, char *port,
                        size_t port_size);

/* Encode the SP header of protocol proto into out[8]. */
void gn_sp_header(uint16_t proto, unsigned char out[8]);

#endif /* GN_SP_PROBE_H */
