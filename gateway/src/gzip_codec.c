/* gzip for the RPC protocols (see gzip_codec.h), on zlib. */
#include "gzip_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "genesis/status.h"

int gw_encoding_of(const char *name)
{
    if (name == NULL || name[0] == '\0' || strcasecmp(name, "identity") == 0)
        return GW_ENC_IDENTITY;
    if (strcasecmp(name, "gzip") == 0)
        return GW_ENC_GZIP;
    return GW_ENC_UNKNOWN;
}

int gw_encoding_accepted(const char *list)
{
    if (list == NULL)
        return GW_ENC_IDENTITY;
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",; \t");
        if (n == 4 && strncasecmp(p, "gzip", 4) == 0)
            return GW_ENC_GZIP;
        p += n;
        while (*p != '\0' && *p != ',') /* parameters such as ";q=0.5" */
            p++;
    }
    return GW_ENC_IDENTITY;
}

int gw_gunzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    /* Room for max bytes and one more: a stream that still has output then is over. */
    size_t cap = len * 4 + 64;
    if (cap > max + 1)
        cap = max + 1;
    uint8_t *buf = malloc(cap + 1);
    if (buf == NULL)
        return GW_GZ_NO_MEMORY;
    if (len == 0) { /* an empty compressed message: nothing to inflate */
        buf[0] = '\0';
        *out = buf;
        return GW_GZ_OK;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(buf);
        return GW_GZ_NO_MEMORY;
    }
    z.next_in = (Bytef *)in;
    size_t used = 0, produced = 0;
    int rc = GW_GZ_OK;
    for (;;) {
        size_t chunk_in = len - used > 1u << 30 ? 1u << 30 : len - used;
        z.next_in = (Bytef *)in + used;
        z.avail_in = (uInt)chunk_in;
        if (produced == cap) {
            if (cap > max) {
                rc = GW_GZ_TOO_LARGE;
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                rc = GW_GZ_NO_MEMORY;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - produced > 1u << 30 ? 1u << 30 : cap - produced;
        z.next_out = buf + produced;
        z.avail_out = (uInt)room;
        int zr = inflate(&z, Z_NO_FLUSH);
        used += chunk_in - z.avail_in;
        produced += room - z.avail_out;
        if (produced > max) {
            rc = GW_GZ_TOO_LARGE;
            break;
        }
        if (zr == Z_STREAM_END) {
            if (used == len)
                break;
            if (inflateReset(&z) != Z_OK) { /* another gzip member follows */
                rc = GW_GZ_BAD;
                break;
            }
            continue;
        }
        if (zr == Z_MEM_ERROR) {
            rc = GW_GZ_NO_MEMORY;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = GW_GZ_BAD;
            break;
        }
        if (zr == Z_BUF_ERROR && used == len && produced < cap) {
            rc = GW_GZ_BAD; /* input ended inside the stream */
            break;
        }
    }
    inflateEnd(&z);
    if (rc != GW_GZ_OK) {
        free(buf);
        return rc;
    }
    buf[produced] = '\0';
    *out = buf;
    *out_len = produced;
    return GW_GZ_OK;
}

int gw_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return GW_GZ_NO_MEMORY;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        deflateEnd(&z);
        return GW_GZ_NO_MEMORY;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return GW_GZ_NO_MEMORY;
    }
    *out = buf;
    *out_len = n;
    return GW_GZ_OK;
}

int gw_gunzip_status(int rc, const char **reason)
{
    switch (rc) {
    case GW_GZ_TOO_LARGE:
        *reason = "MESSAGE_TOO_LARGE";
        return GENESIS_RESOURCE_EXHAUSTED;
    case GW_GZ_BAD:
        *reason = "MALFORMED_MESSAGE";
        return GENESIS_INVALID_ARGUMENT;
    default:
        *reason = "NO_MEMORY";
        return GENESIS_RESOURCE_EXHAUSTED;
    }
}

void gw_gunzip_message(int rc, size_t max, char *msg, size_t size)
{
    if (rc == GW_GZ_TOO_LARGE)
        snprintf(msg, size, "the request message decompresses past the limit of %zu bytes", max);
    else if (rc == GW_GZ_BAD)
        snprintf(msg, size, "the compressed request message is not valid gzip");
    else
        snprintf(msg, size, "out of memory decompressing the request message");
}
