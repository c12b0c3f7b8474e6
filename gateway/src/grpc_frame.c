/* gRPC message framing and header values (see grpc_frame.h). Hand-written because it is five
 * bytes and two header formats that no installed library exposes; fuzzed by fuzz_grpc_frame. */
#include "grpc_frame.h"

#include <string.h>

int gw_grpc_frame_parse(const uint8_t *buf, size_t len, size_t max, unsigned allowed,
                        const uint8_t **msg, size_t *msg_len, unsigned *flags, size_t *consumed)
{
    if (len < GW_GRPC_PREFIX)
        return GW_FRAME_MORE;
    unsigned f = buf[0];
    if ((f & ~allowed) != 0)
        return GW_FRAME_BAD;
    uint32_t n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
    if (n > max)
        return GW_FRAME_TOO_LARGE;
    if (len - GW_GRPC_PREFIX < n)
        return GW_FRAME_MORE;
    *msg = buf + GW_GRPC_PREFIX;
    *msg_len = n;
    *flags = f;
    *consumed = GW_GRPC_PREFIX + (size_t)n;
    return GW_FRAME_OK;
}

void gw_grpc_frame_prefix(uint8_t out[GW_GRPC_PREFIX], unsigned flags, size_t len)
{
    out[0] = (uint8_t)flags;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
}

int gw_grpc_timeout_ms(const char *value, uint32_t max_ms, uint32_t *ms)
{
    size_t n = strlen(value);
    if (n < 2 || n > 9)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(value[i] - '0');
    }
    uint64_t out; /* v < 10^8: no unit overflows 64 bits */
    switch (value[n - 1]) {
    case 'H':
        out = v * 3600000u;
        break;
    case 'M':
        out = v * 60000u;
        break;
    case 'S':
        out = v * 1000u;
        break;
    case 'm':
        out = v;
        break;
    case 'u':
        out = (v + 999u) / 1000u;
        break;
    case 'n':
        out = (v + 999999u) / 1000000u;
        break;
    default:
        return -1;
    }
    if (out == 0)
        out = 1; /* a deadline that has (almost) passed: the shortest one */
    *ms = out > max_ms ? max_ms : (uint32_t)out;
    return 0;
}

size_t gw_grpc_percent_encode(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (size == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        int plain = *p >= 0x20 && *p <= 0x7e && *p != '%';
        size_t need = plain ? 1 : 3;
        if (o + need >= size)
            break;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return o;
}
