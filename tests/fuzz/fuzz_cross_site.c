/* Fuzz target: the gateway's cross-site checks (cross_site.h), which split Host and Origin
 * header values by hand. The input is four NUL-separated strings: a Host value, an Origin
 * value, an allowance list and the listen host. Invariants: "*" allows every Origin; adding
 * allowances never refuses what was accepted without them; an accepted foreign-list-free
 * Origin is an http(s) one; a list never grows past its buffer. */
#include <string.h>
#include <strings.h>

#include "cross_site.h"
#include "fuzz_target.h"

static const char *next_part(const char **p, const char *end, char *buf, size_t size)
{
    size_t n = 0;
    while (*p < end && **p != '\0' && n + 1 < size)
        buf[n++] = *(*p)++;
    buf[n] = '\0';
    while (*p < end && **p != '\0') /* the rest of an overlong part */
        (*p)++;
    if (*p < end)
        (*p)++;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    char host[512], origin[512], allowed[512], listen_host[256];
    next_part(&p, end, host, sizeof(host));
    next_part(&p, end, origin, sizeof(origin));
    next_part(&p, end, allowed, sizeof(allowed));
    next_part(&p, end, listen_host, sizeof(listen_host));

    bool h0 = gw_host_allowed(host, listen_host, "");
    bool h1 = gw_host_allowed(host, listen_host, allowed);
    FUZZ_CHECK(!h0 || h1);
    bool o0 = gw_origin_allowed(origin, host, "");
    bool o1 = gw_origin_allowed(origin, host, allowed);
    FUZZ_CHECK(!o0 || o1);
    FUZZ_CHECK(gw_origin_allowed(origin, host, "*"));
    if (o0 && origin[0] != '\0')
        FUZZ_CHECK(strncasecmp(origin, "http", 4) == 0);
    (void)gw_is_json_type(origin);

    char list[64] = "";
    for (int i = 0; i < 8; i++) {
        size_t before = strlen(list);
        int rc = gw_list_append(list, sizeof(list), i % 2 == 0 ? host : origin);
        FUZZ_CHECK(strlen(list) < sizeof(list));
        FUZZ_CHECK(rc == 0 || strlen(list) == before);
    }
    return 0;
}
