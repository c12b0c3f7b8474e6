/* OpenSSL for the gRPC side of the TLS port (see h2_tls.h). */
#include "h2_tls.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

/* Only h2 is offered: the port's router (tls_hello.c) sends clients here only when they
 * offered it. */
static int select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                     const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char h2[] = {2, 'h', '2'};
    unsigned char *chosen = NULL;
    if (SSL_select_next_proto(&chosen, outlen, h2, sizeof(h2), in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

static void openssl_reason(const char *what, char *why, size_t why_size)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
    snprintf(why, why_size, "%s (OpenSSL: %s)", what, reason != NULL ? reason : "no reason given");
    ERR_clear_error();
}

SSL_CTX *gw_h2_tls_ctx_new(const char *cert_path, const char *key_path, char *why, size_t why_size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        openssl_reason("cannot make a TLS context", why, why_size);
        return NULL;
    }
    /* HTTP/2 needs TLS 1.2 or later (RFC 9113 section 9.2). */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* writes of the same bytes may resume from a moved buffer; partial writes count */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    char what[600];
    FILE *f = fopen(cert_path, "r");
    if (f == NULL || fclose(f) != 0) {
        snprintf(why, why_size, "cannot read the TLS certificate %.500s: %s", cert_path,
                 strerror(errno));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        snprintf(what, sizeof(what), "the TLS certificate %.500s is not a PEM certificate",
                 cert_path);
        openssl_reason(what, why, why_size);
        SSL_CTX_free(ctx);
        return NULL;
    }
    f = fopen(key_path, "r");
    if (f == NULL || fclose(f) != 0) {
        snprintf(why, why_size, "cannot read the TLS key %.500s: %s", key_path, strerror(errno));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            snprintf(what, sizeof(what),
                     "the TLS key %.250s is not the key of the certificate %.250s", key_path,
                     cert_path);
        else
            snprintf(what, sizeof(what), "the TLS key %.500s is not a PEM private key", key_path);
        openssl_reason(what, why, why_size);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(what, sizeof(what), "the TLS key %.250s is not the key of the certificate %.250s",
                 key_path, cert_path);
        openssl_reason(what, why, why_size);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_h2, NULL);
    return ctx;
}

/* After an operation returned rc <= 0: would it block, and on what? */
static ssize_t blocked(SSL *ssl, int rc, short *want)
{
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        *want = POLLIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *want = POLLOUT;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* close_notify */
        *want = 0;
        return 0;
    default:
        *want = 0;
        ERR_clear_error();
        return -1;
    }
}

int gw_h2_tls_handshake(SSL *ssl, short *want, char *why, size_t why_size)
{
    *want = 0;
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
        const unsigned char *proto = NULL;
        unsigned int len = 0;
        SSL_get0_alpn_selected(ssl, &proto, &len);
        if (len != 2 || memcmp(proto, "h2", 2) != 0) {
            snprintf(why, why_size, "TLS handshake without ALPN h2");
            return -1;
        }
        return 1;
    }
    int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        *want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    if (err == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0)
        snprintf(why, why_size, "TLS handshake failed (the client closed the connection)");
    else
        openssl_reason("TLS handshake failed", why, why_size);
    ERR_clear_error();
    return -1;
}

ssize_t gw_h2_tls_read(SSL *ssl, void *buf, size_t len, short *want)
{
    *want = 0;
    ERR_clear_error();
    int rc = SSL_read(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return rc > 0 ? rc : blocked(ssl, rc, want);
}

ssize_t gw_h2_tls_write(SSL *ssl, const void *buf, size_t len, short *want)
{
    *want = 0;
    ERR_clear_error();
    int rc = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (rc > 0)
        return rc;
    ssize_t r = blocked(ssl, rc, want);
    return r == 0 ? -1 : r; /* a close_notify while writing: the connection is over */
}
