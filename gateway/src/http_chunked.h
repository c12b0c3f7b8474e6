/* A decoder of HTTP/1.1 chunked request bodies (RFC 9112 section 7.1): libwebsockets 4.1
 * hands a chunked body to the HTTP_BODY callback with its framing and never reports its end,
 * so the gateway's RPC routes (whose clients, e.g. connect-node over HTTP/1.1, stream request
 * bodies) decode it themselves. Incremental: feed the bytes as they arrive. */
#ifndef GW_HTTP_CHUNKED_H
#define GW_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw_chunked {
    int state;
    uint64_t left;   /* data bytes left in the current chunk */
    unsigned digits; /* of the size line */
    size_t line_len; /* of a trailer line */
} gw_chunked;

enum { GW_CHUNKED_MORE = 0, GW_CHUNKED_DONE = 1, GW_CHUNKED_BAD = -1, GW_CHUNKED_TOO_LARGE = -2 };

/* Decode in[0..len): data bytes go to out (at most out_size; *out_len receives how many),
 * *used the input bytes consumed. DONE after the last chunk and its trailers (bytes after it
 * are not consumed); BAD for framing that is not chunked encoding; TOO_LARGE for data beyond
 * out_size. */
int gw_chunked_feed(gw_chunked *d, const uint8_t *in, size_t len, uint8_t *out, size_t out_size,
                    size_t *out_len, size_t *used);

#endif /* GW_HTTP_CHUNKED_H */
