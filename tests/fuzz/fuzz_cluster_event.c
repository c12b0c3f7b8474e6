/* Fuzz target: an event as read from the cluster's JetStream event stream (gn_event_decode),
 * which any NATS client allowed to publish on the stream's subject could have written.
 *
 * Invariants: an input either decodes to an undirected event with a valid type, or is refused
 * with a message; a decoded event packs back to bytes that decode to the same type, source
 * and payload. */
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "fuzz_target.h"
#include "genesis/status.h"
#include "wire/wire.h"

#define MAX_MESSAGE (64u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gn_wire_event *ev = NULL;
    char why[256] = "";
    int rv = gn_event_decode(data, size, MAX_MESSAGE, &ev, why, sizeof(why));
    FUZZ_CHECK((rv == GENESIS_OK) == (ev != NULL));
    if (rv != GENESIS_OK) {
        FUZZ_CHECK(why[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(gn_valid_type(ev->type));
    FUZZ_CHECK(ev->target == NULL || ev->target[0] == '\0');
    /* protobuf-c keeps some unknown fields in a form it does not pack back (see fuzz_event). */
    if (ev->base.n_unknown_fields > 0 ||
        (ev->payload != NULL && ev->payload->base.n_unknown_fields > 0)) {
        gn_event_free(ev);
        return 0;
    }
    size_t n = genesis__v1__event__get_packed_size(ev);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(genesis__v1__event__pack(ev, buf) == n);
    gn_wire_event *again = NULL;
    FUZZ_CHECK(gn_event_decode(buf, n, MAX_MESSAGE, &again, why, sizeof(why)) == GENESIS_OK);
    FUZZ_CHECK(strcmp(again->type, ev->type) == 0);
    FUZZ_CHECK(strcmp(again->source != NULL ? again->source : "",
                      ev->source != NULL ? ev->source : "") == 0);
    size_t l1 = 0, l2 = 0;
    const uint8_t *p1 = gn_payload_data(ev->payload, &l1);
    const uint8_t *p2 = gn_payload_data(again->payload, &l2);
    FUZZ_CHECK(l1 == l2 && (l1 == 0 || memcmp(p1, p2, l1) == 0));
    gn_event_free(again);
    gn_event_free(ev);
    free(buf);
    return 0;
}
