/* gRPC's message framing and header values, shared by gRPC over HTTP/2, gRPC-Web and Connect
 * streaming (the same 5-byte prefix: flags, big-endian length). Pure functions, any thread. */
#ifndef GW_GRPC_FRAME_H
#define GW_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define GW_GRPC_PREFIX 5 /* flags byte + 32-bit length */

#define GW_FRAME_COMPRESSED 0x01u /* the message is compressed with the call's encoding */
#define GW_FRAME_TRAILER    0x80u /* gRPC-Web's trailer frame */

enum gw_frame_rc {
    GW_FRAME_OK = 0,         /* one message in msg and msg_len; consumed: the bytes used */
    GW_FRAME_MORE = 1,       /* not complete yet */
    GW_FRAME_TOO_LARGE = -1, /* its length exceeds max (RESOURCE_EXHAUSTED) */
    GW_FRAME_BAD = -2        /* a flag outside allowed */
};

/* Parse the message at the start of buf. flags receives the flags byte; a flag outside
 * allowed (GW_FRAME_COMPRESSED, GW_FRAME_TRAILER, ...) makes the frame bad. */
int gw_grpc_frame_parse(const uint8_t *buf, size_t len, size_t max, unsigned allowed,
                        const uint8_t **msg, size_t *msg_len, unsigned *flags, size_t *consumed);

/* Write the 5-byte prefix of a message of len bytes into out. */
void gw_grpc_frame_prefix(uint8_t out[GW_GRPC_PREFIX], unsigned flags, size_t len);

/* grpc-timeout ("<1..8 digits><H|M|S|m|u|n>") in milliseconds, rounded up, at most
 * max_ms. Returns 0, or -1 when the value is not a grpc-timeout. */
int gw_grpc_timeout_ms(const char *value, uint32_t max_ms, uint32_t *ms);

/* grpc-message's percent-encoding (bytes outside 0x20..0x7e and '%'); truncated to fit size
 * (never inside an escape). Returns the length written (NUL-terminated). */
size_t gw_grpc_percent_encode(const char *in, char *out, size_t size);

#endif /* GW_GRPC_FRAME_H */
