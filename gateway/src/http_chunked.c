/* Chunked request bodies (see http_chunked.h). Hand-written because libwebsockets 4.1 leaves
 * them undecoded and no installed library offers a push decoder; fuzzed by fuzz_grpc_frame. */
#include "http_chunked.h"

enum { SIZE = 0, EXT, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER, TRAILER_LF, DONE };

#define MAX_TRAILER_LINE 4096

static int hex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int gw_chunked_feed(gw_chunked *d, const uint8_t *in, size_t len, uint8_t *out, size_t out_size,
                    size_t *out_len, size_t *used)
{
    size_t i = 0, o = 0;
    int rc = GW_CHUNKED_MORE;
    while (i < len && rc == GW_CHUNKED_MORE) {
        uint8_t c = in[i];
        switch (d->state) {
        case SIZE:
            if (hex(c) >= 0) {
                if (d->digits++ >= 15) /* a chunk over 2^60 bytes: not a request we take */
                    rc = GW_CHUNKED_BAD;
                d->left = d->left * 16 + (uint64_t)hex(c);
                i++;
            } else if (d->digits > 0 && (c == ';' || c == ' ' || c == '\t')) {
                d->state = EXT;
                i++;
            } else if (d->digits > 0 && c == '\r') {
                d->state = SIZE_LF;
                i++;
            } else {
                rc = GW_CHUNKED_BAD;
            }
            break;
        case EXT: /* chunk extensions are ignored */
            if (c == '\r')
                d->state = SIZE_LF;
            else if (c == '\n')
                rc = GW_CHUNKED_BAD;
            i++;
            break;
        case SIZE_LF:
            if (c != '\n') {
                rc = GW_CHUNKED_BAD;
                break;
            }
            i++;
            d->digits = 0;
            d->line_len = 0;
            d->state = d->left == 0 ? TRAILER : DATA;
            break;
        case DATA: {
            size_t n = len - i;
            if (n > d->left)
                n = (size_t)d->left;
            if (n > out_size - o) {
                rc = GW_CHUNKED_TOO_LARGE;
                break;
            }
            for (size_t k = 0; k < n; k++)
                out[o + k] = in[i + k];
            o += n;
            i += n;
            d->left -= n;
            if (d->left == 0)
                d->state = DATA_CR;
            break;
        }
        case DATA_CR:
            rc = c == '\r' ? GW_CHUNKED_MORE : GW_CHUNKED_BAD;
            d->state = DATA_LF;
            i++;
            break;
        case DATA_LF:
            rc = c == '\n' ? GW_CHUNKED_MORE : GW_CHUNKED_BAD;
            d->state = SIZE;
            i++;
            break;
        case TRAILER: /* trailer lines up to an empty one */
            if (c == '\r') {
                d->state = TRAILER_LF;
            } else if (c == '\n' || ++d->line_len > MAX_TRAILER_LINE) {
                rc = GW_CHUNKED_BAD;
                break;
            }
            i++;
            break;
        case TRAILER_LF:
            if (c != '\n') {
                rc = GW_CHUNKED_BAD;
                break;
            }
            i++;
            if (d->line_len == 0) {
                d->state = DONE;
                rc = GW_CHUNKED_DONE;
            } else {
                d->line_len = 0;
                d->state = TRAILER;
            }
            break;
        default:
            rc = GW_CHUNKED_DONE;
            break;
        }
    }
    if (d->state == DONE)
        rc = GW_CHUNKED_DONE;
    *out_len = o;
    *used = i;
    return rc;
}
