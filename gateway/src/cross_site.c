/* Host, Origin and content-type checks against other websites (see cross_site.h). The header
 * values are split by hand (a scheme, a name and a port): small enough that no URL library is
 * needed, and fuzzed by tests/fuzz/fuzz_cross_site.c. */
#define _POSIX_C_SOURCE 200809L
#include "cross_site.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listen_addr.h"

bool gw_is_json_type(const char *ct)
{
    static const char json[] = "application/json";
    if (ct == NULL || strncasecmp(ct, json, sizeof(json) - 1) != 0)
        return false;
    char next = ct[sizeof(json) - 1];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

/* Is [item, item+len) one of the comma-separated entries of list (or is "*" one)? */
static bool in_list(const char *list, const char *item, size_t len)
{
    if (list == NULL)
        return false;
    const char *p = list;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if ((n == 1 && p[0] == '*') || (n == len && strncasecmp(p, item, n) == 0))
            return true;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return false;
}

/* Split "name", "name:port", "[v6]" or "[v6]:port" into the name (no brackets) and the port
 * (-1 when none). False when malformed or too long. */
static bool split_host_port(const char *s, char *name, size_t size, long *port)
{
    const char *end_name;
    const char *rest;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL)
            return false;
        s++;
        end_name = close;
        rest = close + 1;
    } else {
        const char *colon = strchr(s, ':');
        end_name = colon != NULL ? colon : s + strlen(s);
        rest = end_name;
    }
    size_t n = (size_t)(end_name - s);
    if (n == 0 || n >= size)
        return false;
    memcpy(name, s, n);
    name[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && strchr(".-_:%", name[i]) == NULL)
            return false;
    *port = -1;
    if (*rest == '\0')
        return true;
    if (*rest != ':' || rest[1] == '\0')
        return false;
    char *end = NULL;
    long p = strtol(rest + 1, &end, 10);
    if (*end != '\0' || p < 0 || p > 65535 || !isdigit((unsigned char)rest[1]))
        return false;
    *port = p;
    return true;
}

bool gw_host_allowed(const char *host, const char *listen_host, const char *allowed)
{
    if (host == NULL || host[0] == '\0')
        return true;
    char name[256];
    long port;
    if (!split_host_port(host, name, sizeof(name), &port))
        return false;
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.') /* "localhost." is "localhost" */
        name[--n] = '\0';
    return gw_is_ip_literal(name) || strcasecmp(name, "localhost") == 0 ||
           (listen_host != NULL && strcasecmp(name, listen_host) == 0) || in_list(allowed, name, n);
}

bool gw_origin_allowed(const char *origin, const char *host, const char *allowed)
{
    if (origin == NULL || origin[0] == '\0')
        return true;
    size_t len = strlen(origin);
    while (len > 0 && origin[len - 1] == '/')
        len--;
    if (in_list(allowed, origin, len))
        return true;
    /* Same origin: the Origin's name and port are the Host the request was sent to. */
    long default_port;
    const char *hostport;
    if (strncasecmp(origin, "http://", 7) == 0) {
        default_port = 80;
        hostport = origin + 7;
    } else if (strncasecmp(origin, "https://", 8) == 0) {
        default_port = 443;
        hostport = origin + 8;
    } else {
        return false; /* "null", file:, extensions */
    }
    if (host == NULL || host[0] == '\0')
        return false;
    char oname[256], hname[256];
    long oport, hport;
    if (!split_host_port(hostport, oname, sizeof(oname), &oport) ||
        !split_host_port(host, hname, sizeof(hname), &hport))
        return false;
    if (oport < 0)
        oport = default_port;
    if (hport < 0)
        hport = default_port;
    return strcasecmp(oname, hname) == 0 && oport == hport;
}

int gw_list_append(char *list, size_t size, const char *item)
{
    size_t have = strlen(list), n = strlen(item);
    if (n == 0 || strpbrk(item, ", \t\r\n") != NULL || have + (have > 0) + n + 1 > size)
        return -1;
    if (have > 0)
        list[have++] = ',';
    memcpy(list + have, item, n + 1);
    return 0;
}
