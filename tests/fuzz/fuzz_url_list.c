/* Fuzz target: the split of a comma-separated URL list (core/src/wire/url_list.c). The input is
 * the list (up to the first NUL). Invariants: on success 1..GN_MAX_URLS entries, each non-empty,
 * without surrounding spaces, and found verbatim in the input; on failure an empty list and a
 * reason. */
#include <string.h>

#include "fuzz_target.h"
#include "wire/url_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[2048];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    gn_url_list l;
    char why[128] = "";
    if (gn_url_list_parse(&l, text, why, sizeof(why)) == 0) {
        FUZZ_CHECK(l.n >= 1 && l.n <= GN_MAX_URLS);
        for (unsigned int i = 0; i < l.n; i++) {
            size_t len = strlen(l.urls[i]);
            FUZZ_CHECK(len > 0);
            FUZZ_CHECK(l.urls[i][0] != ' ' && l.urls[i][len - 1] != ' ');
            FUZZ_CHECK(strstr(text, l.urls[i]) != NULL);
        }
        gn_url_list_clear(&l);
    } else {
        FUZZ_CHECK(l.n == 0);
        FUZZ_CHECK(why[0] != '\0');
    }
    return 0;
}
