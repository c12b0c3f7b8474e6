/* Versioned options structs (genesis_coordinator_options, genesis_client_options,
 * genesis_service_options): a caller built its struct for some version and the library reads
 * only the prefix that version has. Each struct lists the size of every version, oldest first;
 * these helpers do the rest the same way for all three. */
#ifndef GN_OPTIONS_H
#define GN_OPTIONS_H

#include <stddef.h>

/* The bytes of a struct built for version (1..n_versions), or 0 for an unknown version. */
size_t gn_options_size(unsigned int version, const size_t *sizes, unsigned int n_versions);

/* The public *_options_init: write defaults (a struct of the newest version) into the prefix of
 * opts that version has. GENESIS_INVALID_ARGUMENT through gn_fail, naming what ("client
 * options"), when opts is NULL or the version is unknown. */
int gn_options_init(void *opts, unsigned int version, const void *defaults, const size_t *sizes,
                    unsigned int n_versions, const char *what);

/* A constructor's copy of a caller's options: dst holds the defaults of the newest version; the
 * prefix src's version has is copied over them, so fields an older caller lacks keep their
 * defaults. src may be NULL (defaults only). The caller sets dst's version afterwards.
 * GENESIS_INVALID_ARGUMENT through gn_fail, naming what, for an unknown version. */
int gn_options_merge(void *dst, const void *src, const size_t *sizes, unsigned int n_versions,
                     const char *what);

#endif /* GN_OPTIONS_H */
