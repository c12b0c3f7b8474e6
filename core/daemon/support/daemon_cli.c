/* Command-line helpers shared by genesisd and genesis-gateway (see daemon_cli.h). */
#define _POSIX_C_SOURCE 200809L

#include "daemon_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int daemon_cli_parse_uint(const char *text, unsigned long long lo, unsigned long long hi,
                          unsigned long long *out)
{
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int daemon_cli_parse_seconds(const char *text, double max_s, uint32_t *out_ms)
{
    if (text == NULL || ((text[0] < '0' || text[0] > '9') && text[0] != '.'))
        return -1;
    char *end = NULL;
    errno = 0;
    double s = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(s > 0) || s > max_s ||
        s * 1000.0 > (double)UINT32_MAX)
        return -1;
    uint32_t ms = (uint32_t)(s * 1000.0);
    if (ms == 0)
        return -1;
    *out_ms = ms;
    return 0;
}

int daemon_cli_parse_host_port(const char *spec, char *host, size_t host_size, int *port, char *why,
                               size_t why_size)
{
    const char *colon = strrchr(spec, ':');
    const char *digits = colon != NULL ? colon + 1 : spec;
    size_t host_len = colon != NULL ? (size_t)(colon - spec) : 0;
    unsigned long long p = 0;
    if (daemon_cli_parse_uint(digits, 0, 65535, &p) != 0 || host_len >= host_size) {
        snprintf(why, why_size, "'%s' is not HOST:PORT (port 0..65535), PORT or 'off'", spec);
        return -1;
    }
    if (host_len > 0) {
        memcpy(host, spec, host_len);
        host[host_len] = '\0';
        if (host[0] == '[' && host_len >= 2 && host[host_len - 1] == ']') { /* [::1]:8080 */
            memmove(host, host + 1, host_len - 2);
            host[host_len - 2] = '\0';
        }
    }
    *port = (int)p;
    return 0;
}

const char *daemon_cli_env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : fallback;
}

int daemon_cli_args_load(daemon_cli_args *out, const char *path, const conf_key *table,
                         size_t n_keys, int argc, char **argv, daemon_cli_setting_filter filter,
                         void *filter_arg, char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (conf_load(path, table, n_keys, &out->file, why, why_size) != 0)
        return -1;
    out->argv = calloc(out->file.n + (size_t)argc + 1, sizeof(char *));
    if (out->argv == NULL) {
        snprintf(why, why_size, "%s: out of memory", path);
        return -1;
    }
    out->argv[out->argc++] = argv[0];
    for (size_t i = 0; i < out->file.n; i++) {
        const conf_setting *s = &out->file.settings[i];
        if (filter != NULL && !filter(s, filter_arg))
            continue;
        char *flag = conf_setting_flag(s);
        if (flag == NULL) {
            snprintf(why, why_size, "%s: out of memory", path);
            return -1;
        }
        out->argv[out->argc++] = flag;
        out->n_file++;
    }
    for (int i = 1; i < argc; i++)
        out->argv[out->argc++] = argv[i];
    return 0;
}

void daemon_cli_args_free(daemon_cli_args *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; a->argv != NULL && i < a->n_file; i++)
        free(a->argv[1 + i]);
    free(a->argv);
    conf_free(&a->file);
    memset(a, 0, sizeof(*a));
}
