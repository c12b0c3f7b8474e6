/* Fuzz target: a checkpoint value as read back from the cluster's JetStream bucket
 * (gn_nats_ckpt_decode), which anyone with write access to the bucket could have written.
 *
 * Invariants: decoding never reads past the value; a value accepted as a verified generation
 * has a generation above 0 and data inside the value; a value that is re-encoded the way the
 * store writes it decodes to the same generation and bytes. */
#include <string.h>

#include "cluster/checkpoint_store_nats.h"
#include "fuzz_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gn_nats_ckpt_value v;
    int rv = gn_nats_ckpt_decode(data, size, &v);
    FUZZ_CHECK(rv >= -1 && rv <= 1);
    if (rv == 1) {
        FUZZ_CHECK(v.generation > 0);
        FUZZ_CHECK(v.data == data + GN_NATS_CKPT_HEADER);
        FUZZ_CHECK(v.len == size - GN_NATS_CKPT_HEADER);
    }
    /* The input as a payload, written the store's way: it must round-trip. */
    uint64_t gen = size > 0 ? (uint64_t)data[0] + 1 : 1;
    uint8_t *value = malloc(GN_NATS_CKPT_HEADER + size + 1);
    if (value == NULL)
        return 0;
    memcpy(value, "GNC1", 4);
    for (int i = 0; i < 8; i++) {
        value[4 + i] = (uint8_t)(gen >> (8 * i));
        value[12 + i] = 0;
    }
    uint32_t crc = gn_ckpt_checksum(gen, data, size);
    for (int i = 0; i < 4; i++)
        value[20 + i] = (uint8_t)(crc >> (8 * i));
    if (size > 0)
        memcpy(value + GN_NATS_CKPT_HEADER, data, size);
    gn_nats_ckpt_value back;
    FUZZ_CHECK(gn_nats_ckpt_decode(value, GN_NATS_CKPT_HEADER + size, &back) == 1);
    FUZZ_CHECK(back.generation == gen && back.len == size);
    FUZZ_CHECK(size == 0 || memcmp(back.data, data, size) == 0);
    free(value);
    return 0;
}
