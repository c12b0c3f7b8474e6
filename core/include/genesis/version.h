/* Compile-time and run-time version numbers of libgenesis. */
#ifndef GENESIS_VERSION_H
#define GENESIS_VERSION_H

#include "genesis/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The release version (semantic versioning). This header is the one source of the version and
 * the ABI version: the build reads both from here (core/version.cmake) and refuses to configure
 * when GENESIS_VERSION_STRING disagrees with the numbers. */
#define GENESIS_VERSION_MAJOR  0
#define GENESIS_VERSION_MINOR  1
#define GENESIS_VERSION_PATCH  0
#define GENESIS_VERSION_STRING "0.1.0"
/* MAJOR*10000 + MINOR*100 + PATCH, comparable with genesis_version_number(). */
#define GENESIS_VERSION_NUMBER                                                                     \
    (GENESIS_VERSION_MAJOR * 10000 + GENESIS_VERSION_MINOR * 100 + GENESIS_VERSION_PATCH)

/* The ABI version is the shared library's SONAME (libgenesis.so.N). It changes only when a
 * binary built against an older header could misbehave with the new library: a removed or
 * changed function, a changed struct layout, a renumbered enum. Appending functions, enum
 * values or option-struct fields (with a new option version) does not change it. */
#define GENESIS_ABI_VERSION 1

/* Revision of the protobuf wire protocol (Envelope.version / Reply.version). */
#define GENESIS_PROTOCOL_VERSION 1

/* The version of the library actually loaded, as GENESIS_VERSION_NUMBER would give it.
 * Thread-safe; never fails. */
GENESIS_API unsigned int genesis_version_number(void);

/* The loaded library's version string, e.g. "0.1.0". Static storage; never NULL. */
GENESIS_API const char *genesis_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* GENESIS_VERSION_H */
