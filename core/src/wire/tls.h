/* Mutual TLS for tls+tcp:// URLs, and the listen/dial helpers every socket of the library uses.
 *
 * A gn_tls holds two NNG TLS configurations built from one CA, certificate and key: a server
 * one for listeners and a client one for dialers, both with peer authentication REQUIRED, so
 * a connection is only established when both ends hold a certificate signed by the CA. The
 * files are read and parsed when the handle is made, so a missing, unreadable or invalid file
 * is reported at start with its path and reason, not at the first connection. */
#ifndef GN_TLS_H
#define GN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "base/common.h"

typedef struct gn_tls gn_tls;

/* Load the configuration. All of ca_file, cert_file and key_file NULL (or "") means no TLS:
 * *out is NULL and GENESIS_OK is returned. Some but not all set, or a file missing, unreadable
 * or not valid PEM: an error naming the file and the reason (INVALID_ARGUMENT, or
 * UNAUTHENTICATED when the key does not belong to the certificate). server_name (may be NULL)
 * is the name dialed peers' certificates must carry (CN or DNS name); NULL checks none: any
 * certificate signed by the CA is accepted. who names the owner in messages ("coordinator"). */
int gn_tls_new(gn_tls **out, const char *ca_file, const char *cert_file, const char *key_file,
               const char *server_name, const char *who);
void gn_tls_free(gn_tls *tls);

/* gn_tls_new from the four TLS fields every options struct has (tls_ca_file, tls_cert_file,
 * tls_key_file, tls_server_name), which are then cleared: the files are loaded and the
 * caller's strings are not kept. */
#define GN_TLS_FROM_OPTIONS(out, o, who)                                                           \
    gn_tls_from_options((out), &(o)->tls_ca_file, &(o)->tls_cert_file, &(o)->tls_key_file,         \
                        &(o)->tls_server_name, (who))
int gn_tls_from_options(gn_tls **out, const char **ca_file, const char **cert_file,
                        const char **key_file, const char **server_name, const char *who);

/* The NNG configuration for listeners (dialer false) or dialers, for NNG_OPT_TLS_CONFIG. */
struct nng_tls_config *gn_tls_config(const gn_tls *tls, bool dialer);

/* The sentence that follows a tls+tcp URL used without a TLS configuration. */
#define GN_TLS_MISSING "needs mutual TLS: configure a CA file, a certificate file and a key file"

/* True for tls+tcp://, tls+tcp4:// and tls+tcp6:// URLs. */
bool gn_url_is_tls(const char *url);

/* Find out why a tls+tcp URL cannot be reached: one connection attempt with the handshake,
 * bounded by timeout_ms, from a throwaway socket of the given protocol opener. Returns 0 when
 * the handshake succeeded, else the NNG error; why receives a sentence naming the reason
 * ("the peer refused our certificate or we refused its: ..."). */
int gn_tls_probe(const char *url, const gn_tls *tls, int (*open)(nng_socket *), uint32_t timeout_ms,
                 char *why, size_t why_size);

/* True for the NNG errors of a handshake that failed on certificates (ours refused by the
 * peer, or the peer's not signed by our CA), as gn_tls_probe returns them. */
bool gn_tls_refused(int err);

#endif /* GN_TLS_H */
