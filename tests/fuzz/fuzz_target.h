/* The shape of every fuzz target: libFuzzer's entry point, built either with -fsanitize=fuzzer
 * (GENESIS_FUZZ=ON, clang) or with replay_main.c as a plain driver that runs each file of the
 * committed corpora once (the normal and sanitizer builds' ctest regression replay).
 *
 * A target checks invariants with FUZZ_CHECK: a broken one aborts, which both drivers report
 * as a crash with the input that caused it. */
#ifndef GENESIS_FUZZ_TARGET_H
#define GENESIS_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif /* GENESIS_FUZZ_TARGET_H */
