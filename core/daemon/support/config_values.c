/* Durations, environment substitution and "did you mean" (see config_values.h). The duration
 * and ${VAR} scanners are hand-written because they are a few characters of grammar, not a
 * format a library covers; tests/fuzz/fuzz_config_values.c fuzzes both. */
#define _POSIX_C_SOURCE 200809L
#include "config_values.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

conf_unit conf_unit_of_name(const char *name)
{
    if (ends_with(name, "_ms") || ends_with(name, "-ms"))
        return CONF_UNIT_MS;
    if (ends_with(name, "_s"))
        return CONF_UNIT_S;
    return 0;
}

int conf_parse_duration(const char *text, conf_unit unit, unsigned long long lo,
                        unsigned long long hi, unsigned long long *out)
{
    if (text == NULL || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
        return -1;
    char *end = NULL;
    errno = 0;
    if (strspn(text, "0123456789") == strlen(text)) { /* a bare integer: the setting's unit */
        unsigned long long v = strtoull(text, &end, 10);
        if (errno != 0 || v < lo || v > hi)
            return -1;
        *out = v;
        return 0;
    }
    double v = strtod(text, &end);
    if (errno != 0 || end == text || !isfinite(v) || v < 0)
        return -1;
    double ms;
    if (strcmp(end, "ms") == 0)
        ms = v;
    else if (strcmp(end, "s") == 0)
        ms = v * 1000.0;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        ms = v * 60000.0;
    else if (strcmp(end, "h") == 0)
        ms = v * 3600000.0;
    else
        return -1;
    double in_unit = ms / (double)unit;
    if (in_unit > 1.8e19 || fabs(in_unit - round(in_unit)) > 1e-9 * (in_unit + 1))
        return -1; /* too large, or not a whole number of the setting's unit */
    unsigned long long r = (unsigned long long)llround(in_unit);
    if (r < lo || r > hi)
        return -1;
    *out = r;
    return 0;
}

static void put_duration(unsigned long long v, conf_unit unit, char *buf, size_t size)
{
    unsigned long long ms = v * (unsigned long long)unit;
    if (ms != 0 && ms % 3600000u == 0)
        snprintf(buf, size, "%lluh", ms / 3600000u);
    else if (ms != 0 && ms % 60000u == 0)
        snprintf(buf, size, "%llum", ms / 60000u);
    else if (ms != 0 && ms % 1000u == 0)
        snprintf(buf, size, "%llus", ms / 1000u);
    else
        snprintf(buf, size, "%llums", ms);
}

void conf_duration_range(conf_unit unit, unsigned long long lo, unsigned long long hi, char *buf,
                         size_t size)
{
    char a[32], b[32];
    put_duration(lo, unit, a, sizeof a);
    put_duration(hi, unit, b, sizeof b);
    snprintf(buf, size, "a duration from %s to %s (e.g. 150ms, 10s, 2m; a bare number is %s)", a, b,
             unit == CONF_UNIT_S ? "seconds" : "milliseconds");
}

int conf_expand_env(const char *text, char *out, size_t out_size, char *why, size_t why_size)
{
    size_t used = 0;
#define PUT(ptr, len)                                                                              \
    do {                                                                                           \
        if (used + (len) >= out_size) {                                                            \
            snprintf(why, why_size, "the value is too long once ${...} is expanded");              \
            return -1;                                                                             \
        }                                                                                          \
        memcpy(out + used, (ptr), (len));                                                          \
        used += (len);                                                                             \
    } while (0)
    for (const char *p = text; *p != '\0';) {
        if (p[0] == '$' && p[1] == '$') {
            PUT("$", 1);
            p += 2;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            PUT(p, 1);
            p++;
            continue;
        }
        const char *name = p + 2;
        size_t nl = 0;
        while (isalnum((unsigned char)name[nl]) || name[nl] == '_')
            nl++;
        const char *after = name + nl;
        const char *def = NULL;
        size_t dl = 0;
        if (after[0] == ':' && after[1] == '-') {
            def = after + 2;
            const char *close = strchr(def, '}');
            if (close == NULL) {
                snprintf(why, why_size, "'${%.*s:-' has no closing '}'", (int)nl, name);
                return -1;
            }
            dl = (size_t)(close - def);
            after = close;
        }
        if (nl == 0 || isdigit((unsigned char)name[0]) || after[0] != '}') {
            snprintf(why, why_size,
                     "'%.40s' is not ${NAME} or ${NAME:-default} (NAME: letters, digits, _; "
                     "write $$ for a literal $)",
                     p);
            return -1;
        }
        char var[128];
        if (nl >= sizeof(var)) {
            snprintf(why, why_size, "variable name too long");
            return -1;
        }
        memcpy(var, name, nl);
        var[nl] = '\0';
        const char *value = getenv(var);
        if (value != NULL && value[0] != '\0') {
            PUT(value, strlen(value));
        } else if (def != NULL) {
            PUT(def, dl);
        } else {
            snprintf(why, why_size,
                     "${%s} is not set: export it, or give a default with ${%s:-value}", var, var);
            return -1;
        }
        p = after + 1;
    }
#undef PUT
    out[used] = '\0';
    return 0;
}

static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return (size_t)-1;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *conf_closest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t limit = strlen(word) / 3 + 1;
    if (limit < 2)
        limit = 2;
    for (size_t i = 0; i < n; i++) {
        if (candidates[i] == NULL)
            continue;
        size_t d = distance(word, candidates[i]);
        /* a prefix ("breaker_open" for "breaker_open_ms") is as good as one edit */
        if (d > 1 && strncmp(candidates[i], word, strlen(word)) == 0 && strlen(word) >= 4)
            d = 1;
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d <= limit ? best : NULL;
}
