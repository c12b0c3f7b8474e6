/* Message compression of gRPC, gRPC-Web and Connect (grpc-encoding, Content-Encoding,
 * Connect-Content-Encoding): gzip through zlib, with decompression bounded by the message size
 * limit so that a small compressed message cannot grow past what an uncompressed one may be.
 * Pure functions, any thread. */
#ifndef GW_GZIP_CODEC_H
#define GW_GZIP_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* What the gateway accepts, as grpc-accept-encoding and Connect's accept headers say it. */
#define GW_ACCEPT_ENCODING "gzip,identity"

enum gw_encoding {
    GW_ENC_UNKNOWN = -1,
    GW_ENC_IDENTITY = 0,
    GW_ENC_GZIP = 1,
};

/* The encoding named by a header value: NULL, "" and "identity" are identity. */
int gw_encoding_of(const char *name);

/* The encoding to answer with, from the peer's accept list ("gzip, identity", "deflate,gzip"):
 * gzip when the list names it, else identity. NULL or "" = identity. */
int gw_encoding_accepted(const char *list);

enum gw_gz_rc {
    GW_GZ_OK = 0,
    GW_GZ_TOO_LARGE = -1, /* it would decompress past max (RESOURCE_EXHAUSTED) */
    GW_GZ_BAD = -2,       /* not gzip, or truncated (INVALID_ARGUMENT) */
    GW_GZ_NO_MEMORY = -3
};

/* Decompress gzip data (one member or several) into a new buffer (free; never NULL on
 * success, NUL-terminated after *out_len bytes) of at most max bytes. */
int gw_gunzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len);

/* Compress into a new gzip buffer (free). Returns GW_GZ_OK or GW_GZ_NO_MEMORY. */
int gw_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* The status code and reason of a failed gw_gunzip (RESOURCE_EXHAUSTED MESSAGE_TOO_LARGE,
 * INVALID_ARGUMENT MALFORMED_MESSAGE, RESOURCE_EXHAUSTED NO_MEMORY) and its message. */
int gw_gunzip_status(int rc, const char **reason);
void gw_gunzip_message(int rc, size_t max, char *msg, size_t size);

#endif /* GW_GZIP_CODEC_H */
