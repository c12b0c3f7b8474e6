/* Fuzz target: the listener probe's split of a tcp URL into host and port
 * (core/src/wire/sp_probe.c). The input is the URL (up to the first NUL). Invariants: on
 * success both parts are NUL-terminated inside their buffers, the port is non-empty, and both
 * appear verbatim in the URL. */
#include <string.h>

#include "fuzz_target.h"
#include "wire/sp_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char url[1024];
    size_t n = size < sizeof(url) - 1 ? size : sizeof(url) - 1;
    memcpy(url, data, n);
    url[n] = '\0';
    char host[64], port[8];
    memset(host, 'x', sizeof(host));
    memset(port, 'x', sizeof(port));
    if (gn_sp_url_host_port(url, host, sizeof(host), port, sizeof(port)) == 0) {
        FUZZ_CHECK(memchr(host, '\0', sizeof(host)) != NULL);
        FUZZ_CHECK(memchr(port, '\0', sizeof(port)) != NULL);
        FUZZ_CHECK(port[0] != '\0');
        FUZZ_CHECK(strstr(url, host) != NULL);
        FUZZ_CHECK(strstr(url, port) != NULL);
    }
    return 0;
}
