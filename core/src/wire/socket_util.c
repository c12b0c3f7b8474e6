/* NNG listen/dial helpers (see socket_util.h). */
#include <stdio.h>
#include <string.h>

#include "base/common.h"
#include "wire/socket_util.h"

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_plain_tcp(const char *url)
{
    return has_prefix(url, "tcp://") || has_prefix(url, "tcp4://") || has_prefix(url, "tcp6://");
}

/* Loopback hosts: 127.0.0.0/8, ::1 and localhost. Anything else (a wildcard, an interface
 * address, a name) may be reachable from other machines. */
static bool loopback_host(const char *url)
{
    const char *host = strstr(url, "://");
    if (host == NULL)
        return false;
    host += 3;
    return has_prefix(host, "127.") || has_prefix(host, "[::1]") || has_prefix(host, "localhost:");
}

/* For tcp port 0, rebuild the URL with the port the kernel chose. */
static void bound_url(nng_listener l, const char *url, char *out, size_t size)
{
    int port = 0;
    const char *colon = strrchr(url, ':');
    if ((is_plain_tcp(url) || gn_url_is_tls(url)) && colon != NULL && strcmp(colon, ":0") == 0 &&
        nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
        snprintf(out, size, "%.*s:%d", (int)(colon - url), url, port);
        return;
    }
    snprintf(out, size, "%s", url);
}

static const char *tls_missing = GN_TLS_MISSING;

int gn_listen_url(nng_socket sock, const char *url, const gn_tls *tls, const gn_logger *log,
                  const char *what, nng_listener *l, char *out, size_t size)
{
    if (strlen(url) >= size)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "listen: URL longer than %zu bytes", size - 1);
    bool secure = gn_url_is_tls(url);
    if (secure && tls == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "%s: listen on %s %s", what, url, tls_missing);
    int err = nng_listener_create(l, sock, url);
    if (err == 0 && secure)
        err = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, gn_tls_config(tls, false));
    if (err == 0)
        err = nng_listener_start(*l, 0);
    if (err != 0) {
        nng_listener_close(*l);
        int reason;
        int status = gn_status_from_nng(err, &reason);
        return gn_fail(status, "%s: listen on %s: %s", what, url, nng_strerror(err));
    }
    bound_url(*l, url, out, size);
    if (is_plain_tcp(url) && !loopback_host(url) && log != NULL)
        gn_log(log, GENESIS_LOG_WARN,
               "SECURITY WARNING: %s listens on %s with plain tcp: anyone who can reach this "
               "address can %s. Use tls+tcp:// with a CA, certificate and key (mutual TLS), or "
               "a loopback or ipc:// address.",
               what, out, "connect without a certificate");
    return GENESIS_OK;
}

int gn_dial_url(nng_socket sock, const char *url, const gn_tls *tls, nng_dialer *d)
{
    bool secure = gn_url_is_tls(url);
    if (secure && tls == NULL)
        return NNG_EPEERAUTH; /* callers name the reason: tls_missing */
    nng_dialer dialer;
    int err = nng_dialer_create(&dialer, sock, url);
    if (err == 0 && secure)
        err = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, gn_tls_config(tls, true));
    if (err == 0)
        err = nng_dialer_start(dialer, NNG_FLAG_NONBLOCK);
    if (err != 0) {
        nng_dialer_close(dialer);
        return err;
    }
    if (d != NULL)
        *d = dialer;
    return 0;
}
