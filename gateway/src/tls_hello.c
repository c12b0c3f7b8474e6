/* The TLS port's router (see tls_hello.h): which protocols a ClientHello offers by ALPN.
 *
 * The bytes are only peeked at (the socket keeps them for whichever side takes it), so
 * OpenSSL reads a copy from a memory BIO: its record layer reassembles and checks the
 * ClientHello, and its ClientHello callback hands over the raw ALPN extension, then stops the
 * handshake (nothing is sent). The one thing parsed by hand is that extension's body, the
 * protocol name list of RFC 7301 section 3.1 (a 16-bit length, then names with an 8-bit length
 * each), since OpenSSL exposes only its raw bytes: every length is checked against what is
 * left before it is used (tests/fuzz/fuzz_tls_hello.c). */
#include "tls_hello.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct gw_hello_sniffer {
    SSL_CTX *ctx;
};

typedef struct hello_seen {
    int seen;
    gw_hello_route route;
    char offered[160]; /* the protocols offered, for the log */
} hello_seen;

/* Append a protocol name to out, printable, comma-separated, truncated to out's size. */
static void add_name(char *out, size_t size, const uint8_t *name, size_t len)
{
    size_t at = strlen(out);
    if (at > 0 && at + 1 < size)
        out[at++] = ',';
    for (size_t i = 0; i < len && at + 1 < size; i++)
        out[at++] = name[i] >= 0x21 && name[i] <= 0x7e ? (char)name[i] : '?';
    out[at] = '\0';
}

static int name_is(const uint8_t *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* The ALPN extension's body: the route it asks for. */
static gw_hello_route alpn_route(const uint8_t *p, size_t n, char *offered, size_t size)
{
    offered[0] = '\0';
    if (n < 2 || (size_t)((p[0] << 8) | p[1]) != n - 2 || n == 2) {
        snprintf(offered, size, "a malformed ALPN extension");
        return GW_HELLO_BAD;
    }
    int h2 = 0, http1 = 0;
    for (size_t at = 2; at < n;) {
        size_t len = p[at++];
        if (len == 0 || len > n - at) {
            snprintf(offered, size, "a malformed ALPN extension");
            return GW_HELLO_BAD;
        }
        const uint8_t *name = p + at;
        h2 |= name_is(name, len, "h2");
        http1 |= name_is(name, len, "http/1.1") || name_is(name, len, "http/1.0");
        add_name(offered, size, name, len);
        at += len;
    }
    /* Browsers and curl offer h2 and http/1.1 and may ask for anything (the dashboard, JSON,
     * gRPC-Web): libwebsockets serves them, over HTTP/2 too. gRPC clients offer h2 alone
     * (grpc-go, grpc-js, tonic) or with grpc-exp (gRPC C core, grpc-java). */
    if (http1)
        return GW_HELLO_HTTP;
    return h2 ? GW_HELLO_GRPC : GW_HELLO_UNKNOWN_ALPN;
}

static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    (void)arg;
    (void)alert;
    hello_seen *seen = SSL_get_app_data(ssl);
    const unsigned char *ext = NULL;
    size_t n = 0;
    seen->seen = 1;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                  &n) == 1)
        seen->route = alpn_route(ext, n, seen->offered, sizeof(seen->offered));
    else
        seen->route = GW_HELLO_HTTP; /* no ALPN: HTTP/1.1 */
    return SSL_CLIENT_HELLO_RETRY;   /* stop here: this handshake is never finished */
}

gw_hello_sniffer *gw_hello_sniffer_new(void)
{
    gw_hello_sniffer *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL) {
        ERR_clear_error();
        free(s);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(s->ctx, 0); /* read any version's ClientHello */
    SSL_CTX_set_client_hello_cb(s->ctx, on_client_hello, NULL);
    return s;
}

void gw_hello_sniffer_free(gw_hello_sniffer *s)
{
    if (s == NULL)
        return;
    SSL_CTX_free(s->ctx);
    free(s);
}

/* The first bytes, printable, for the log. */
static void describe(const uint8_t *buf, size_t len, char *why, size_t size)
{
    char shown[40];
    size_t n = 0;
    for (size_t i = 0; i < len && i < 24 && n + 5 < sizeof(shown); i++) {
        if (buf[i] >= 0x20 && buf[i] <= 0x7e && buf[i] != '\\')
            shown[n++] = (char)buf[i];
        else
            n += (size_t)snprintf(shown + n, sizeof(shown) - n, "\\x%02x", buf[i]);
    }
    shown[n] = '\0';
    snprintf(why, size, "not a TLS handshake (first bytes \"%s\")", shown);
}

gw_hello_route gw_hello_classify(gw_hello_sniffer *s, const uint8_t *buf, size_t len, char *why,
                                 size_t why_size)
{
    char none[1];
    if (why == NULL || why_size == 0) {
        why = none;
        why_size = sizeof(none);
    }
    why[0] = '\0';
    if (len == 0)
        return GW_HELLO_MORE;
    /* A TLS record of type handshake (22), protocol version 3.x: anything else is not TLS. */
    if (buf[0] != 0x16 || (len >= 2 && buf[1] != 0x03)) {
        describe(buf, len, why, why_size);
        return GW_HELLO_NOT_TLS;
    }
    size_t n = len < GW_HELLO_MAX ? len : GW_HELLO_MAX;
    hello_seen seen;
    memset(&seen, 0, sizeof(seen));
    SSL *ssl = SSL_new(s->ctx);
    BIO *in = BIO_new(BIO_s_mem());
    BIO *out = BIO_new(BIO_s_mem());
    if (ssl == NULL || in == NULL || out == NULL || BIO_write(in, buf, (int)n) != (int)n) {
        SSL_free(ssl);
        BIO_free(in);
        BIO_free(out);
        ERR_clear_error();
        snprintf(why, why_size, "out of memory");
        return GW_HELLO_BAD;
    }
    BIO_set_mem_eof_return(in, -1); /* the end of the copy is "more may come" */
    SSL_set_bio(ssl, in, out);
    SSL_set_app_data(ssl, &seen);
    SSL_set_accept_state(ssl);
    int rc = SSL_do_handshake(ssl);
    int err = SSL_get_error(ssl, rc);
    unsigned long e = ERR_peek_last_error();
    SSL_free(ssl);
    gw_hello_route route;
    if (seen.seen) {
        route = seen.route;
        if (route == GW_HELLO_BAD)
            snprintf(why, why_size, "%s", seen.offered);
        else if (route == GW_HELLO_UNKNOWN_ALPN)
            snprintf(why, why_size, "no protocol served here among those offered by ALPN (%s)",
                     seen.offered);
    } else if (err == SSL_ERROR_WANT_READ) {
        route = n < GW_HELLO_MAX ? GW_HELLO_MORE : GW_HELLO_TOO_LARGE;
        if (route == GW_HELLO_TOO_LARGE)
            snprintf(why, why_size, "a ClientHello larger than %d bytes", GW_HELLO_MAX);
    } else {
        const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
        snprintf(why, why_size, "a malformed ClientHello (%s)",
                 reason != NULL ? reason : "no reason given");
        route = GW_HELLO_BAD;
    }
    ERR_clear_error(); /* this thread's error queue holds nothing for later calls */
    return route;
}

const char *gw_hello_route_name(gw_hello_route r)
{
    switch (r) {
    case GW_HELLO_MORE:
        return "more";
    case GW_HELLO_NOT_TLS:
        return "not-tls";
    case GW_HELLO_BAD:
        return "bad";
    case GW_HELLO_TOO_LARGE:
        return "too-large";
    case GW_HELLO_GRPC:
        return "grpc";
    case GW_HELLO_HTTP:
        return "http";
    case GW_HELLO_UNKNOWN_ALPN:
        return "unknown-alpn";
    }
    return "?";
}
