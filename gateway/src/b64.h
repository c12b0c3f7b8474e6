/* Base64 (RFC 4648, standard alphabet) for gRPC's -bin headers, gRPC-Web text and the bytes
 * fields of proto3 JSON. */
#ifndef GW_B64_H
#define GW_B64_H

#include <stddef.h>

/* Encode len bytes with padding into a new NUL-terminated buffer (free); NULL when out of
 * memory. *out_len (may be NULL) receives its length. */
char *gw_b64_encode(const void *data, size_t len, size_t *out_len);

/* Decode standard or URL-safe base64, padded or not (proto3 JSON accepts both). Returns a new
 * buffer (free; never NULL on success, even for 0 bytes) or NULL when the text is not base64
 * or memory ran out. */
unsigned char *gw_b64_decode(const char *text, size_t len, size_t *out_len);

#endif /* GW_B64_H */
