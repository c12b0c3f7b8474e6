/* Fuzz target: the first bytes a client sends to the gateway's TLS port, as the router reads
 * them (gw_hello_classify, tls_hello.c): OpenSSL's record layer and ClientHello parsing on a
 * copy, and the hand-written walk over the ALPN protocol list.
 * Invariants: a known route; a printable, NUL-terminated reason exactly for the refusals; the
 * same answer twice (no state left behind, OpenSSL's error queue included); a first byte alone
 * is "more" or "not TLS"; GW_HELLO_MAX bytes or more are never "more". */
#include <string.h>

#include "fuzz_target.h"
#include "tls_hello.h"

static gw_hello_sniffer *sniffer;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sniffer == NULL)
        sniffer = gw_hello_sniffer_new(); /* kept for the process, as the gateway keeps it */
    FUZZ_CHECK(sniffer != NULL);
    char why[256], again[256];
    memset(why, 'x', sizeof(why));
    gw_hello_route r = gw_hello_classify(sniffer, data, size, why, sizeof(why));
    FUZZ_CHECK(r >= GW_HELLO_MORE && r <= GW_HELLO_UNKNOWN_ALPN);
    size_t len = strnlen(why, sizeof(why));
    FUZZ_CHECK(len < sizeof(why));
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(why[i] >= 0x20 && why[i] <= 0x7e);
    int refused = r == GW_HELLO_NOT_TLS || r == GW_HELLO_BAD || r == GW_HELLO_TOO_LARGE ||
                  r == GW_HELLO_UNKNOWN_ALPN;
    FUZZ_CHECK(refused == (len > 0));
    FUZZ_CHECK(strcmp(gw_hello_route_name(r), "?") != 0);
    FUZZ_CHECK(gw_hello_classify(sniffer, data, size, again, sizeof(again)) == r);
    FUZZ_CHECK(strcmp(why, again) == 0);
    FUZZ_CHECK(gw_hello_classify(sniffer, data, size, NULL, 0) == r);
    if (size >= 1) {
        gw_hello_route first = gw_hello_classify(sniffer, data, 1, NULL, 0);
        FUZZ_CHECK(first == GW_HELLO_MORE || first == GW_HELLO_NOT_TLS);
    }
    if (size >= GW_HELLO_MAX)
        FUZZ_CHECK(r != GW_HELLO_MORE);
    return 0;
}
