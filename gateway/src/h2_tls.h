/* OpenSSL for the gRPC side of the gateway's TLS port (h2_listener.c, grpc_h2.c): the server
 * context (the --http-tls-cert certificate chain and key, ALPN "h2"), and reads and writes on
 * a non-blocking connection with recv/send-like results.
 *
 * Threading: the context is read-only once made and may be shared; each SSL is used by one
 * thread (the HTTP/2 thread). */
#ifndef GW_H2_TLS_H
#define GW_H2_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* A server context, or NULL with why (unreadable files, a key that does not match). */
SSL_CTX *gw_h2_tls_ctx_new(const char *cert_path, const char *key_path, char *why, size_t why_size);

/* Drive the handshake. 1 = done (ALPN chose h2), 0 = in progress (*want: POLLIN or
 * POLLOUT), -1 = failed (why says why). */
int gw_h2_tls_handshake(SSL *ssl, short *want, char *why, size_t why_size);

/* Like recv and send: > 0 bytes, 0 = closed by the peer (read), -1 with *want set when it
 * would block (POLLIN or POLLOUT), -1 with *want 0 when the connection failed. */
ssize_t gw_h2_tls_read(SSL *ssl, void *buf, size_t len, short *want);
ssize_t gw_h2_tls_write(SSL *ssl, const void *buf, size_t len, short *want);

#endif /* GW_H2_TLS_H */
