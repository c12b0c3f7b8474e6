/* proto3 canonical JSON over protobuf-c descriptors (see proto_json.h). protobuf-c has no JSON
 * codec and the protobuf C++ runtime is not a C dependency, so this walks the descriptors
 * itself; fuzzed by fuzz_proto_json. */
#define _POSIX_C_SOURCE 200809L
#include "proto_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

#define MAX_DEPTH 64

void gw_proto_json_name(const char *name, char *out, size_t size)
{
    size_t o = 0;
    int upper = 0;
    for (const char *p = name; *p != '\0' && o + 1 < size; p++) {
        if (*p == '_') {
            upper = 1;
            continue;
        }
        out[o++] = upper && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        upper = 0;
    }
    out[o] = '\0';
}

/* ---- JSON -> message ---------------------------------------------------------------------- */

typedef struct dec {
    char *why;
    size_t why_size;
    int ignore_unknown;
} dec;

static int fail(dec *d, const char *field, const char *what)
{
    snprintf(d->why, d->why_size, "field '%s': %s", field, what);
    return -1;
}

static int parse_int(dec *d, const char *field, json_t *v, int is_signed, int64_t min, uint64_t max,
                     uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 && (!is_signed || i < min))
            return fail(d, field, "out of range");
        if (i >= 0 && (uint64_t)i > max)
            return fail(d, field, "out of range");
        *out = (uint64_t)i;
        return 0;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        /* max + 1 is a power of two, exact as a double: x below it converts safely */
        if (x != floor(x) || x < (double)min || x >= (double)max + 1.0)
            return fail(d, field, "not an integer in range");
        *out = x < 0 ? (uint64_t)(int64_t)x : (uint64_t)x;
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        errno = 0;
        if (s[0] == '\0')
            return fail(d, field, "empty number");
        if (is_signed) {
            long long i = strtoll(s, &end, 10);
            if (errno != 0 || *end != '\0' || i < min || (i >= 0 && (uint64_t)i > max))
                return fail(d, field, "not an integer in range");
            *out = (uint64_t)i;
        } else {
            if (s[0] == '-')
                return fail(d, field, "negative");
            unsigned long long u = strtoull(s, &end, 10);
            if (errno != 0 || *end != '\0' || u > max)
                return fail(d, field, "not an integer in range");
            *out = u;
        }
        return 0;
    }
    return fail(d, field, "expected a number");
}

static int decode_message(dec *d, const ProtobufCMessageDescriptor *desc, json_t *obj,
                          ProtobufCMessage **out, int depth);

/* One value of field f into dst (the field's storage, or one element of a repeated field). */
static int decode_value(dec *d, const ProtobufCFieldDescriptor *f, json_t *v, void *dst, int depth)
{
    uint64_t u = 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (parse_int(d, f->name, v, 1, INT32_MIN, INT32_MAX, &u) != 0)
            return -1;
        *(int32_t *)dst = (int32_t)(int64_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (parse_int(d, f->name, v, 0, 0, UINT32_MAX, &u) != 0)
            return -1;
        *(uint32_t *)dst = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (parse_int(d, f->name, v, 1, INT64_MIN, INT64_MAX, &u) != 0)
            return -1;
        *(int64_t *)dst = (int64_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (parse_int(d, f->name, v, 0, 0, UINT64_MAX, &u) != 0)
            return -1;
        *(uint64_t *)dst = u;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double x;
        if (json_is_number(v)) {
            x = json_number_value(v);
        } else if (json_is_string(v)) {
            const char *s = json_string_value(v);
            if (strcmp(s, "NaN") == 0)
                x = NAN;
            else if (strcmp(s, "Infinity") == 0)
                x = INFINITY;
            else if (strcmp(s, "-Infinity") == 0)
                x = -INFINITY;
            else
                return fail(d, f->name, "expected a number");
        } else {
            return fail(d, f->name, "expected a number");
        }
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)dst = (float)x;
        else
            *(double *)dst = x;
        return 0;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return fail(d, f->name, "expected true or false");
        *(protobuf_c_boolean *)dst = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (json_is_string(v)) {
            const ProtobufCEnumValue *ev =
                protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(v));
            if (ev == NULL)
                return fail(d, f->name, "not a name of its enum");
            *(int *)dst = ev->value;
            return 0;
        }
        if (parse_int(d, f->name, v, 1, INT32_MIN, INT32_MAX, &u) != 0)
            return -1;
        *(int *)dst = (int)(int64_t)u;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v))
            return fail(d, f->name, "expected a string");
        char *s = strdup(json_string_value(v));
        if (s == NULL)
            return fail(d, f->name, "out of memory");
        *(char **)dst = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        if (!json_is_string(v))
            return fail(d, f->name, "expected a base64 string");
        ProtobufCBinaryData *b = dst;
        size_t n = 0;
        unsigned char *data = gw_b64_decode(json_string_value(v), json_string_length(v), &n);
        if (data == NULL)
            return fail(d, f->name, "not base64");
        b->data = data;
        b->len = n;
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return decode_message(d, f->descriptor, v, (ProtobufCMessage **)dst, depth + 1);
    default:
        return fail(d, f->name, "unsupported type");
    }
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4;
    }
}

static int is_map_entry(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
        return 0;
    const ProtobufCMessageDescriptor *m = f->descriptor;
    size_t n = strlen(m->name);
    return n > 5 && strcmp(m->name + n - 5, "Entry") == 0 && m->n_fields == 2 &&
           strcmp(m->fields[0].name, "key") == 0 && strcmp(m->fields[1].name, "value") == 0;
}

/* A map from a JSON object: one entry message per key (keys are strings in JSON; integer
 * and bool keys are parsed from them). */
static int decode_map(dec *d, const ProtobufCFieldDescriptor *f, json_t *v, void *arr_out,
                      size_t *count, int depth)
{
    if (!json_is_object(v))
        return fail(d, f->name, "expected an object (a map)");
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    size_t n = json_object_size(v);
    ProtobufCMessage **arr = calloc(n + 1, sizeof(*arr));
    if (arr == NULL)
        return fail(d, f->name, "out of memory");
    *(ProtobufCMessage ***)arr_out = arr;
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        ProtobufCMessage *e = calloc(1, ed->sizeof_message);
        if (e == NULL)
            return fail(d, f->name, "out of memory");
        ed->message_init(e);
        arr[(*count)++] = e;
        json_t *k = json_string(key);
        int rc = k == NULL ? -1
                 : ed->fields[0].type == PROTOBUF_C_TYPE_BOOL
                     ? (strcmp(key, "true") == 0 || strcmp(key, "false") == 0
                            ? (*(protobuf_c_boolean *)((char *)e + ed->fields[0].offset) =
                                   strcmp(key, "true") == 0,
                               0)
                            : fail(d, f->name, "a bool map key is true or false"))
                     : decode_value(d, &ed->fields[0], k, (char *)e + ed->fields[0].offset, depth);
        json_decref(k);
        if (rc != 0 ||
            decode_value(d, &ed->fields[1], val, (char *)e + ed->fields[1].offset, depth) != 0)
            return -1;
    }
    return 0;
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *desc,
                                                  const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
    if (f != NULL)
        return f;
    char name[128];
    for (unsigned i = 0; i < desc->n_fields; i++) {
        gw_proto_json_name(desc->fields[i].name, name, sizeof(name));
        if (strcmp(name, key) == 0)
            return &desc->fields[i];
    }
    return NULL;
}

static int decode_message(dec *d, const ProtobufCMessageDescriptor *desc, json_t *obj,
                          ProtobufCMessage **out, int depth)
{
    *out = NULL;
    if (depth > MAX_DEPTH) {
        snprintf(d->why, d->why_size, "messages nested deeper than %d levels", MAX_DEPTH);
        return -1;
    }
    if (json_is_null(obj))
        return 0;
    if (!json_is_object(obj)) {
        snprintf(d->why, d->why_size, "%s: expected a JSON object", desc->name);
        return -1;
    }
    ProtobufCMessage *m = calloc(1, desc->sizeof_message);
    if (m == NULL) {
        snprintf(d->why, d->why_size, "out of memory");
        return -1;
    }
    desc->message_init(m);
    *out = m;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const ProtobufCFieldDescriptor *f = find_field(desc, key);
        if (f == NULL) {
            if (d->ignore_unknown)
                continue;
            snprintf(d->why, d->why_size, "%s has no field '%.100s'", desc->name, key);
            return -1;
        }
        if (json_is_null(v))
            continue; /* null is the default value */
        char *field = (char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t *count = (size_t *)((char *)m + f->quantifier_offset);
            if (*count != 0)
                return fail(d, f->name, "given twice");
            if (is_map_entry(f)) {
                if (decode_map(d, f, v, field, count, depth) != 0)
                    return -1;
                continue;
            }
            if (!json_is_array(v))
                return fail(d, f->name, "expected an array");
            size_t n = json_array_size(v), sz = value_size(f);
            void *arr = calloc(n + 1, sz);
            if (arr == NULL)
                return fail(d, f->name, "out of memory");
            *(void **)field = arr;
            for (size_t i = 0; i < n; i++) {
                int rc = decode_value(d, f, json_array_get(v, i), (char *)arr + i * sz, depth);
                int is_msg = f->type == PROTOBUF_C_TYPE_MESSAGE;
                if (!is_msg || ((void **)arr)[i] != NULL)
                    (*count)++; /* freed with the message, also when it failed half-way */
                if (rc != 0)
                    return -1;
                if (is_msg && ((void **)arr)[i] == NULL)
                    return fail(d, f->name, "null in a repeated message field");
            }
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t *which = (uint32_t *)((char *)m + f->quantifier_offset);
            if (*which != 0)
                return fail(d, f->name, "a second member of its oneof");
            *which = f->id;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0 &&
                   f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
            *(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
        }
        /* a field given twice under both of its names: free the first value */
        if (f->type == PROTOBUF_C_TYPE_STRING && *(char **)field != NULL &&
            *(char **)field != f->default_value) {
            free(*(char **)field);
            *(char **)field = (char *)f->default_value;
        }
        if (decode_value(d, f, v, field, depth) != 0) {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                *(void **)field == NULL)
                *(uint32_t *)((char *)m + f->quantifier_offset) = 0;
            return -1;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF && f->type == PROTOBUF_C_TYPE_MESSAGE &&
            *(void **)field == NULL)
            *(uint32_t *)((char *)m + f->quantifier_offset) = 0;
    }
    return 0;
}

ProtobufCMessage *gw_proto_from_json(const ProtobufCMessageDescriptor *desc, json_t *json,
                                     int ignore_unknown, char *why, size_t why_size)
{
    dec d = {why, why_size, ignore_unknown};
    ProtobufCMessage *m = NULL;
    if (!json_is_object(json)) {
        snprintf(why, why_size, "%s: expected a JSON object", desc->name);
        return NULL;
    }
    if (decode_message(&d, desc, json, &m, 0) != 0) {
        if (m != NULL)
            protobuf_c_message_free_unpacked(m, NULL);
        return NULL;
    }
    return m;
}

/* ---- message -> JSON ---------------------------------------------------------------------- */

static json_t *encode_message(const ProtobufCMessage *m);

static json_t *encode_value(const ProtobufCFieldDescriptor *f, const void *src)
{
    char num[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)src);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer((json_int_t) * (const uint32_t *)src);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(num, sizeof(num), "%" PRId64, *(const int64_t *)src);
        return json_string(num);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(num, sizeof(num), "%" PRIu64, *(const uint64_t *)src);
        return json_string(num);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double x = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)src : *(const double *)src;
        if (isnan(x))
            return json_string("NaN");
        if (isinf(x))
            return json_string(x > 0 ? "Infinity" : "-Infinity");
        return json_real(x);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)src);
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)src;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev != NULL ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)src;
        return json_string(s != NULL ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = src;
        char *text = gw_b64_encode(b->data, b->len, NULL);
        json_t *j = text != NULL ? json_string(text) : NULL;
        free(text);
        return j;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)src;
        return sub != NULL ? encode_message(sub) : json_null();
    }
    default:
        return json_null();
    }
}

/* proto3 without presence: a field at its default value is left out. */
static int is_default(const ProtobufCFieldDescriptor *f, const void *src)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)src;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)src)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)src == NULL;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)src == 0 && !signbit(*(const float *)src);
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)src == 0 && !signbit(*(const double *)src);
    default: {
        size_t sz = value_size(f);
        static const char zero[8];
        return memcmp(src, zero, sz) == 0;
    }
    }
}

static json_t *encode_message(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    char name[128];
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const char *field = (const char *)m + f->offset;
        json_t *v = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            if (n == 0)
                continue;
            const char *arr = *(char *const *)field;
            size_t sz = value_size(f);
            if (is_map_entry(f)) {
                const ProtobufCMessageDescriptor *ed = f->descriptor;
                v = json_object();
                for (size_t k = 0; v != NULL && k < n; k++) {
                    const char *e = *(char *const *)(arr + k * sz);
                    json_t *key = encode_value(&ed->fields[0], e + ed->fields[0].offset);
                    json_t *val = encode_value(&ed->fields[1], e + ed->fields[1].offset);
                    char kb[32];
                    const char *ks = json_is_string(key) ? json_string_value(key)
                                     : json_is_boolean(key)
                                         ? (json_is_true(key) ? "true" : "false")
                                         : (snprintf(kb, sizeof(kb), "%" JSON_INTEGER_FORMAT,
                                                     json_integer_value(key)),
                                            kb);
                    if (val != NULL)
                        json_object_set_new(v, ks, val);
                    json_decref(key);
                }
            } else {
                v = json_array();
                for (size_t k = 0; v != NULL && k < n; k++)
                    json_array_append_new(v, encode_value(f, arr + k * sz));
            }
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                if (*(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
                    continue;
            } else if (is_default(f, field)) {
                continue;
            }
            v = encode_value(f, field);
        }
        if (v == NULL) {
            json_decref(obj);
            return NULL;
        }
        gw_proto_json_name(f->name, name, sizeof(name));
        json_object_set_new(obj, name, v);
    }
    return obj;
}

json_t *gw_proto_to_json(const ProtobufCMessage *msg)
{
    return encode_message(msg);
}
