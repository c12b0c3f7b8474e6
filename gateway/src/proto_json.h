/* proto3 canonical JSON for any protobuf-c message, driven by its descriptor (jansson):
 * lowerCamelCase names (the original names are accepted too), 64-bit integers as strings,
 * bytes in base64, enums by name, maps as objects, default values omitted. Used for Connect's
 * JSON codec and to read the coordinator's status document as a StatusReport. Any thread. */
#ifndef GW_PROTO_JSON_H
#define GW_PROTO_JSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A new message from a JSON object (free with protobuf_c_message_free_unpacked(m, NULL)), or
 * NULL with the reason in why (the field's name and what was wrong). Unknown fields are an
 * error unless ignore_unknown. Nesting deeper than 64 levels is refused. */
ProtobufCMessage *gw_proto_from_json(const ProtobufCMessageDescriptor *desc, json_t *json,
                                     int ignore_unknown, char *why, size_t why_size);

/* The message as a new JSON object, or NULL when memory ran out. */
json_t *gw_proto_to_json(const ProtobufCMessage *msg);

/* The JSON name of a field: lowerCamelCase of name into out. */
void gw_proto_json_name(const char *name, char *out, size_t size);

#endif /* GW_PROTO_JSON_H */
