/* Fuzz target: proto3 JSON (proto_json.c), as Connect's JSON codec and the status document
 * reader use it. The first byte picks the message type (Request, Emit, WatchRequest,
 * PolicyRequest, StatusReport, Reply) and bit 7 ignoring unknown fields; the rest is JSON.
 * Invariants: a decode succeeds or names why; a decoded message encodes to protobuf and to JSON,
 * and that JSON decodes again to the same protobuf bytes. */
#include <jansson.h>
#include <string.h>

#include "fuzz_target.h"
#include "genesis/proto/genesis.pb-c.h"
#include "proto_json.h"

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    FUZZ_CHECK(buf != NULL);
    protobuf_c_message_pack(m, buf);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ProtobufCMessageDescriptor *const types[] = {
        &genesis__v1__request__descriptor,       &genesis__v1__emit__descriptor,
        &genesis__v1__watch_request__descriptor, &genesis__v1__policy_request__descriptor,
        &genesis__v1__status_report__descriptor, &genesis__v1__reply__descriptor,
    };
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *desc = types[(data[0] & 0x7f) % 6];
    int ignore_unknown = data[0] >> 7;
    json_t *doc = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
    if (doc == NULL)
        return 0;
    char why[256] = "";
    ProtobufCMessage *m = gw_proto_from_json(desc, doc, ignore_unknown, why, sizeof(why));
    json_decref(doc);
    if (m == NULL) {
        FUZZ_CHECK(why[0] != '\0');
        return 0;
    }
    size_t len1 = 0, len2 = 0;
    uint8_t *bin1 = pack(m, &len1);
    json_t *again = gw_proto_to_json(m);
    FUZZ_CHECK(again != NULL && json_is_object(again));
    ProtobufCMessage *m2 = gw_proto_from_json(desc, again, 0, why, sizeof(why));
    FUZZ_CHECK(m2 != NULL);
    uint8_t *bin2 = pack(m2, &len2);
    /* NaN payloads may differ bit for bit; everything else is identical */
    FUZZ_CHECK(len1 == len2);
    if (desc != &genesis__v1__status_report__descriptor)
        FUZZ_CHECK(memcmp(bin1, bin2, len1) == 0);
    free(bin1);
    free(bin2);
    json_decref(again);
    protobuf_c_message_free_unpacked(m, NULL);
    protobuf_c_message_free_unpacked(m2, NULL);
    return 0;
}
