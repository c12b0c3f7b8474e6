/* Splitting a comma-separated URL list (see url_list.h). Hand-written because the rule is one
 * line (a comma followed by a scheme starts the next URL) that no URL library expresses; the
 * fuzz target fuzz_url_list checks it. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/url_list.h"

/* Does s begin with "<scheme>://" (scheme: letters, digits, '+', '-', '.'; at least one),
 * after spaces and commas (so an empty entry before a URL is seen, and refused)? */
static bool starts_url(const char *s)
{
    while (*s == ' ' || *s == ',')
        s++;
    const char *p = s;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    return p > s && strncmp(p, "://", 3) == 0;
}

static int add_entry(gn_url_list *l, const char *start, const char *end, char *why, size_t why_size)
{
    while (start < end && *start == ' ')
        start++;
    while (end > start && end[-1] == ' ')
        end--;
    if (end == start) {
        snprintf(why, why_size, "URL %u of the list is empty", l->n + 1);
        return -1;
    }
    if (l->n == GN_MAX_URLS) {
        snprintf(why, why_size, "more than %u URLs in the list", GN_MAX_URLS);
        return -1;
    }
    size_t len = (size_t)(end - start);
    char *url = malloc(len + 1);
    if (url == NULL) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    memcpy(url, start, len);
    url[len] = '\0';
    l->urls[l->n++] = url;
    return 0;
}

int gn_url_list_parse(gn_url_list *out, const char *text, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL) {
        snprintf(why, why_size, "no URL");
        return -1;
    }
    const char *start = text;
    for (const char *p = text;; p++) {
        bool last = *p == '\0';
        if (!last && !(*p == ',' && starts_url(p + 1)))
            continue;
        if (add_entry(out, start, p, why, why_size) != 0) {
            gn_url_list_clear(out);
            return -1;
        }
        if (last)
            return 0;
        start = p + 1;
    }
}

void gn_url_list_clear(gn_url_list *l)
{
    for (unsigned int i = 0; i < l->n; i++)
        free(l->urls[i]);
    memset(l, 0, sizeof(*l));
}
