/* Mutual TLS and the listen/dial helpers (see tls.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "wire/tls.h"

#define MAX_PEM_FILE (1024 * 1024) /* far above any certificate chain; bounds a wrong path */

/* What a configuration is built from, for messages. */
typedef struct tls_files {
    const char *ca, *cert, *key, *server_name, *who;
} tls_files;

struct gn_tls {
    nng_tls_config *server; /* listeners: present our cert, require the peer's */
    nng_tls_config *client; /* dialers: the same, plus the expected server name if any */
};

static bool unset(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* Read a whole PEM file, NUL-terminated (mbedTLS wants the terminator for PEM). */
static int read_pem(const char *path, const char *role, const char *who, char **out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "%s: TLS %s file '%s': %s", who, role, path,
                       strerror(errno));
    char *buf = malloc(MAX_PEM_FILE + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_PEM_FILE + 1, f) : 0;
    bool failed = buf == NULL || ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        return gn_fail(buf == NULL ? GENESIS_RESOURCE_EXHAUSTED : GENESIS_INVALID_ARGUMENT,
                       "%s: TLS %s file '%s': %s", who, role, path,
                       buf == NULL ? "out of memory" : strerror(saved));
    }
    if (n > MAX_PEM_FILE || n == 0) {
        free(buf);
        return gn_fail(GENESIS_INVALID_ARGUMENT, "%s: TLS %s file '%s' is %s", who, role, path,
                       n == 0 ? "empty" : "larger than 1 MiB: not a PEM file");
    }
    buf[n] = '\0';
    if (strstr(buf, "-----BEGIN ") == NULL) {
        free(buf);
        return gn_fail(GENESIS_INVALID_ARGUMENT, "%s: TLS %s file '%s' is not PEM (no -----BEGIN)",
                       who, role, path);
    }
    *out = buf;
    return GENESIS_OK;
}

static int configure(nng_tls_config *cfg, bool dialer, const char *ca, const char *cert,
                     const char *key, const tls_files *files)
{
    int err = nng_tls_config_ca_chain(cfg, ca, NULL);
    if (err != 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "%s: TLS CA file '%s' does not hold a valid certificate: %s", files->who,
                       files->ca, nng_strerror(err));
    err = nng_tls_config_own_cert(cfg, cert, key, NULL);
    if (err != 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "%s: TLS certificate '%s' or key '%s' is not valid (or the key is "
                       "encrypted): %s",
                       files->who, files->cert, files->key, nng_strerror(err));
    err = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
    if (err == 0 && dialer && !unset(files->server_name))
        err = nng_tls_config_server_name(cfg, files->server_name);
    if (err != 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "%s: TLS configuration: %s", files->who,
                       nng_strerror(err));
    return GENESIS_OK;
}

int gn_tls_from_options(gn_tls **out, const char **ca_file, const char **cert_file,
                        const char **key_file, const char **server_name, const char *who)
{
    int rv = gn_tls_new(out, *ca_file, *cert_file, *key_file, *server_name, who);
    *ca_file = *cert_file = *key_file = *server_name = NULL;
    return rv;
}

void gn_tls_free(gn_tls *tls)
{
    if (tls == NULL)
        return;
    if (tls->server != NULL)
        nng_tls_config_free(tls->server);
    if (tls->client != NULL)
        nng_tls_config_free(tls->client);
    free(tls);
}

int gn_tls_new(gn_tls **out, const char *ca_file, const char *cert_file, const char *key_file,
               const char *server_name, const char *who)
{
    *out = NULL;
    int set = !unset(ca_file) + !unset(cert_file) + !unset(key_file);
    if (set == 0)
        return GENESIS_OK;
    if (set != 3)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "%s: TLS needs all of a CA file, a certificate file and a key file "
                       "(missing: %s%s%s)",
                       who, unset(ca_file) ? "CA " : "", unset(cert_file) ? "certificate " : "",
                       unset(key_file) ? "key" : "");
    tls_files files = {ca_file, cert_file, key_file, server_name, who};
    char *ca = NULL, *cert = NULL, *key = NULL;
    int rv = read_pem(ca_file, "CA", who, &ca);
    if (rv == GENESIS_OK)
        rv = read_pem(cert_file, "certificate", who, &cert);
    if (rv == GENESIS_OK)
        rv = read_pem(key_file, "key", who, &key);
    gn_tls *tls = NULL;
    if (rv == GENESIS_OK) {
        tls = calloc(1, sizeof(*tls));
        int err =
            tls == NULL ? NNG_ENOMEM : nng_tls_config_alloc(&tls->server, NNG_TLS_MODE_SERVER);
        if (err == 0)
            err = nng_tls_config_alloc(&tls->client, NNG_TLS_MODE_CLIENT);
        rv = err == 0 ? GENESIS_OK
                      : gn_fail(GENESIS_RESOURCE_EXHAUSTED, "%s: TLS: %s", who, nng_strerror(err));
    }
    if (rv == GENESIS_OK && tls != NULL)
        rv = configure(tls->server, false, ca, cert, key, &files);
    if (rv == GENESIS_OK && tls != NULL)
        rv = configure(tls->client, true, ca, cert, key, &files);
    if (key != NULL)
        memset(key, 0, strlen(key)); /* do not leave the private key in freed memory */
    free(ca);
    free(cert);
    free(key);
    if (rv != GENESIS_OK) {
        gn_tls_free(tls);
        return rv;
    }
    *out = tls;
    return GENESIS_OK;
}

struct nng_tls_config *gn_tls_config(const gn_tls *tls, bool dialer)
{
    return dialer ? tls->client : tls->server;
}

bool gn_url_is_tls(const char *url)
{
    return url != NULL && strncmp(url, "tls+tcp", 7) == 0;
}

bool gn_tls_refused(int err)
{
    return err == NNG_EPEERAUTH || err == NNG_ECRYPTO || err == NNG_ECONNSHUT;
}

/* ---- probe: one bounded connection attempt, to name a handshake failure ------------------- */

typedef struct probe {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    nng_socket sock;
    nng_dialer dialer;
    bool done;
    int err;
} probe;

static void *probe_run(void *arg)
{
    probe *p = arg;
    int err = nng_dialer_start(p->dialer, 0); /* blocking: returns the first attempt's error */
    pthread_mutex_lock(&p->lock);
    p->done = true;
    p->err = err;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static const char *tls_missing = GN_TLS_MISSING;

static void probe_explain(int err, const char *url, char *why, size_t size)
{
    if (err == 0)
        snprintf(why, size, "TLS handshake with %s succeeded", url);
    else if (err == NNG_EPEERAUTH)
        snprintf(why, size,
                 "TLS handshake with %s failed: the peer's certificate is not signed by our CA "
                 "or does not carry the expected server name (%s)",
                 url, nng_strerror(err));
    else if (err == NNG_ECRYPTO || err == NNG_ECONNSHUT || err == NNG_ECLOSED)
        snprintf(why, size,
                 "TLS handshake with %s failed: the peer refused our certificate (not signed "
                 "by its CA?) or does not speak TLS (%s)",
                 url, nng_strerror(err));
    else if (err == NNG_ETIMEDOUT)
        snprintf(why, size, "no TLS connection to %s within the probe's time", url);
    else
        snprintf(why, size, "cannot connect to %s: %s", url, nng_strerror(err));
}

int gn_tls_probe(const char *url, const gn_tls *tls, int (*open)(nng_socket *), uint32_t timeout_ms,
                 char *why, size_t why_size)
{
    if (tls == NULL) {
        snprintf(why, why_size, "%s %s", url, tls_missing);
        return NNG_EPEERAUTH;
    }
    probe p = {.done = false, .err = 0};
    int err = open(&p.sock);
    if (err == 0) {
        err = nng_dialer_create(&p.dialer, p.sock, url);
        if (err == 0)
            err = nng_dialer_set_ptr(p.dialer, NNG_OPT_TLS_CONFIG, tls->client);
        if (err != 0)
            nng_close(p.sock);
    }
    if (err != 0) {
        probe_explain(err, url, why, why_size);
        return err;
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cv, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, probe_run, &p) != 0) {
        nng_close(p.sock);
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.lock);
        snprintf(why, why_size, "cannot start a TLS probe of %s", url);
        return NNG_ENOMEM;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p.lock);
    while (!p.done && pthread_cond_timedwait(&p.cv, &p.lock, &until) != ETIMEDOUT) {
    }
    bool finished = p.done;
    err = p.err;
    pthread_mutex_unlock(&p.lock);
    nng_close(p.sock); /* aborts an attempt still connecting */
    pthread_join(thread, NULL);
    if (!finished)
        err = NNG_ETIMEDOUT;
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.lock);
    probe_explain(err, url, why, why_size);
    return err;
}
