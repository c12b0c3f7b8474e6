/* Fuzz target: what an operator types into a configuration value or a duration flag:
 * ${VAR}/${VAR:-default} expansion and durations with units. Invariants: the expansion either
 * fails with a message or gives a NUL-terminated string that fits its buffer; a duration
 * either fails or lands in its bounds, and a bare integer stands for itself. */
#include <stdlib.h>
#include <string.h>

#include "config_values.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char out[256], why[256] = "";
    if (conf_expand_env(text, out, sizeof(out), why, sizeof(why)) != 0)
        FUZZ_CHECK(why[0] != '\0');
    else
        FUZZ_CHECK(strlen(out) < sizeof(out));
    for (int u = 0; u < 2; u++) {
        conf_unit unit = u ? CONF_UNIT_S : CONF_UNIT_MS;
        unsigned long long v = 0;
        if (conf_parse_duration(text, unit, 1, 86400000ull, &v) == 0) {
            FUZZ_CHECK(v >= 1 && v <= 86400000ull);
            if (strspn(text, "0123456789") == strlen(text))
                FUZZ_CHECK(strtoull(text, NULL, 10) == v);
        }
    }
    const char *names[] = {"breaker_open_ms", "max_attempts", "listen", "http"};
    const char *best = conf_closest(text, names, 4);
    FUZZ_CHECK(best == NULL || best == names[0] || best == names[1] || best == names[2] ||
               best == names[3]);
    free(text);
    return 0;
}
