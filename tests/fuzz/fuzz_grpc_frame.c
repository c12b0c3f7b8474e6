/* Fuzz target: gRPC's framing and header values, as the gateway reads them from gRPC over
 * HTTP/2, gRPC-Web and Connect streaming. The first byte picks:
 *   0  a request body split into length-prefixed messages (gw_grpc_frame_parse, trailer flag
 *      allowed when bit 0 of the second byte is set), each re-framed and compared
 *   1  a grpc-timeout value (gw_grpc_timeout_ms)
 *   2  a grpc-message to percent-encode (gw_grpc_percent_encode)
 *   3  base64 text (gw_b64_decode), re-encoded and decoded again
 *   4  a chunked request body (gw_chunked_feed), fed in pieces of the second byte's size
 *   5  compressed messages: frames (flags allowed by the second byte) whose compressed flag
 *      is set are inflated with gw_gunzip under a small limit, then deflated and inflated
 *      again (gw_gzip), as gRPC, gRPC-Web and Connect carry them with grpc-encoding: gzip
 * Invariants: a frame never reaches past the input nor over the limit; a timeout is within
 * 1..max; an encoded message is printable ASCII; base64 round-trips; chunked decoding never
 * writes past its output nor consumes past its input, and gives the same result whatever the
 * pieces; decompression never goes past its limit, and what it gives round-trips. */
#include <string.h>

#include "b64.h"
#include "fuzz_target.h"
#include "grpc_frame.h"
#include "gzip_codec.h"
#include "http_chunked.h"

static void frames(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    unsigned allowed =
        (data[0] & 1 ? GW_FRAME_TRAILER : 0) | (data[0] & 2 ? GW_FRAME_COMPRESSED : 0);
    data++;
    size--;
    size_t max = 4096;
    while (size > 0) {
        const uint8_t *msg = NULL;
        size_t len = 0, used = 0;
        unsigned flags = 0;
        int rc = gw_grpc_frame_parse(data, size, max, allowed, &msg, &len, &flags, &used);
        if (rc != GW_FRAME_OK) {
            FUZZ_CHECK(rc == GW_FRAME_MORE || rc == GW_FRAME_TOO_LARGE || rc == GW_FRAME_BAD);
            return;
        }
        FUZZ_CHECK(len <= max && used == GW_GRPC_PREFIX + len && used <= size);
        FUZZ_CHECK(msg == data + GW_GRPC_PREFIX);
        FUZZ_CHECK((flags & ~allowed) == 0);
        uint8_t prefix[GW_GRPC_PREFIX];
        gw_grpc_frame_prefix(prefix, flags, len);
        FUZZ_CHECK(memcmp(prefix, data, GW_GRPC_PREFIX) == 0);
        data += used;
        size -= used;
    }
}

static void compressed(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    unsigned allowed = data[0];
    data++;
    size--;
    size_t max = 4096;
    while (size > 0) {
        const uint8_t *msg = NULL;
        size_t len = 0, used = 0;
        unsigned flags = 0;
        if (gw_grpc_frame_parse(data, size, max, allowed, &msg, &len, &flags, &used) != GW_FRAME_OK)
            return;
        if (flags & GW_FRAME_COMPRESSED) {
            uint8_t *plain = NULL;
            size_t plain_len = 0;
            int rc = gw_gunzip(msg, len, max, &plain, &plain_len);
            FUZZ_CHECK(rc == GW_GZ_OK || rc == GW_GZ_TOO_LARGE || rc == GW_GZ_BAD);
            if (rc == GW_GZ_OK) {
                FUZZ_CHECK(plain != NULL && plain_len <= max && plain[plain_len] == '\0');
                uint8_t *z = NULL, *again = NULL;
                size_t zlen = 0, again_len = 0;
                FUZZ_CHECK(gw_gzip(plain, plain_len, &z, &zlen) == GW_GZ_OK);
                FUZZ_CHECK(gw_gunzip(z, zlen, max, &again, &again_len) == GW_GZ_OK);
                FUZZ_CHECK(again_len == plain_len && memcmp(again, plain, plain_len) == 0);
                free(again);
                free(z);
            } else {
                FUZZ_CHECK(plain == NULL);
            }
            free(plain);
        }
        data += used;
        size -= used;
    }
}

static void timeout(const uint8_t *data, size_t size)
{
    char text[64];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    uint32_t ms = 0;
    if (gw_grpc_timeout_ms(text, 3600000u, &ms) == 0)
        FUZZ_CHECK(ms >= 1 && ms <= 3600000u);
}

static void percent(const uint8_t *data, size_t size)
{
    char in[512], out[128];
    size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
    memcpy(in, data, n);
    in[n] = '\0';
    size_t len = gw_grpc_percent_encode(in, out, sizeof(out));
    FUZZ_CHECK(len < sizeof(out) && out[len] == '\0' && strlen(out) == len);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(out[i] >= 0x20 && out[i] <= 0x7e);
}

static void base64(const uint8_t *data, size_t size)
{
    size_t n = 0;
    unsigned char *bin = gw_b64_decode((const char *)data, size, &n);
    if (bin == NULL)
        return;
    FUZZ_CHECK(n <= size);
    size_t tlen = 0;
    char *text = gw_b64_encode(bin, n, &tlen);
    FUZZ_CHECK(text != NULL && tlen % 4 == 0 && strlen(text) == tlen);
    size_t m = 0;
    unsigned char *again = gw_b64_decode(text, tlen, &m);
    FUZZ_CHECK(again != NULL && m == n && memcmp(again, bin, n) == 0);
    free(again);
    free(text);
    free(bin);
}

static int dechunk(const uint8_t *data, size_t size, size_t piece, uint8_t *out, size_t cap,
                   size_t *total)
{
    gw_chunked d = {0};
    size_t off = 0;
    *total = 0;
    int rc = GW_CHUNKED_MORE;
    while (off < size && rc == GW_CHUNKED_MORE) {
        size_t n = size - off < piece ? size - off : piece;
        size_t out_len = 0, used = 0;
        rc = gw_chunked_feed(&d, data + off, n, out + *total, cap - *total, &out_len, &used);
        FUZZ_CHECK(used <= n && out_len <= cap - *total);
        FUZZ_CHECK(rc != GW_CHUNKED_MORE || used == n);
        *total += out_len;
        off += used;
    }
    return rc;
}

static void chunked(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t piece = data[0] % 16 + 1;
    uint8_t a[1024], b[1024];
    size_t na = 0, nb = 0;
    int ra = dechunk(data + 1, size - 1, piece, a, sizeof(a), &na);
    int rb = dechunk(data + 1, size - 1, size, b, sizeof(b), &nb);
    FUZZ_CHECK(ra == rb);
    if (ra == GW_CHUNKED_DONE)
        FUZZ_CHECK(na == nb && memcmp(a, b, na) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 6) {
    case 0:
        frames(data + 1, size - 1);
        break;
    case 1:
        timeout(data + 1, size - 1);
        break;
    case 2:
        percent(data + 1, size - 1);
        break;
    case 3:
        base64(data + 1, size - 1);
        break;
    case 4:
        chunked(data + 1, size - 1);
        break;
    default:
        compressed(data + 1, size - 1);
        break;
    }
    return 0;
}
