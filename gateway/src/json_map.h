/* JSON (and Connect proto) mapping between HTTP bodies / WebSocket frames and Genesis calls,
 * and the gRPC -> HTTP status mapping (docs/gateway.md, as grpc-gateway does). */
#ifndef GW_JSON_MAP_H
#define GW_JSON_MAP_H

#include <stddef.h>
#include <stdint.h>

#include <genesis/genesis.h>

/* A request decoded from a body. Strings and data are owned; free with
 * gw_parsed_request_clear. */
typedef struct gw_parsed_request {
    char *target; /* Connect route only */
    char *type;
    char *source;
    unsigned char *data;
    size_t len;
    const char *content_type; /* static string, or ctype */
    char ctype[128];          /* a content type given in a proto request */
    int criticality;
    uint32_t timeout_ms; /* 0 = none given */
} gw_parsed_request;

void gw_parsed_request_clear(gw_parsed_request *r);

#define GW_MAX_TIMEOUT_MS 3600000u /* an hour: longer deadlines are a client's mistake */

/* The arguments of an operator command from an admin route's JSON body (an empty body is
 * {}): mode {"mode": "SAFE"} (none: show it); breaker {"state": "open|close|reset|disable"};
 * policy and fault {"<field>": <number or boolean>, ...} (fault {"clear": true} clears it).
 * component is the route's {id} ("" for mode). Fills args (strings the caller frees) and
 * *nargs (at most max); returns 0, or -1 with a message. */
int gw_parse_admin_args(const char *command, const char *component, const void *body, size_t len,
                        char **args, size_t max, size_t *nargs, char *why, size_t why_size);

/* Parse {"type","data","source","criticality","timeout_ms"} (and "target" when want_target).
 * Returns 0, or -1 with a message naming the problem (bad JSON with line/column, invalid
 * UTF-8, missing or mistyped field). */
int gw_parse_request_json(const void *body, size_t len, int want_target, gw_parsed_request *out,
                          char *why, size_t why_size);

/* Parse an encoded genesis.v1.Request (Connect, application/proto). */
int gw_parse_request_proto(const void *body, size_t len, gw_parsed_request *out, char *why,
                           size_t why_size);

/* The HTTP status for a gRPC status code (and reason: MESSAGE_TOO_LARGE is 413). */
int gw_http_status(int grpc_code, int reason);
/* Connect's name of a gRPC code, e.g. "not_found". */
const char *gw_connect_code(int grpc_code);

/* {"result": ...}: a JSON payload is embedded, UTF-8 text becomes a string, other bytes
 * {"result": "<base64>", "encoding": "base64"}. New buffer (free). */
char *gw_result_json(const genesis_result *res, size_t *len);
/* {"code","message","reason","details"} (gRPC code number, reason name). New buffer. */
char *gw_error_json(int grpc_code, const char *reason, const char *message, size_t *len);
/* Connect error {"code": "not_found", "message"}. New buffer. */
char *gw_connect_error_json(int grpc_code, const char *message, size_t *len);
/* A genesis.v1.Reply carrying the result (Connect, application/proto). New buffer. */
unsigned char *gw_result_proto(const genesis_result *res, size_t *len);
/* A WebSocket frame {"type","data","source","seq"}. New buffer. */
char *gw_event_json(const char *type, const void *data, size_t data_len, const char *content_type,
                    const char *source, uint64_t seq, size_t *len);
/* Decode a client's WebSocket text: {"type": "...", "data": ...} sets both; any other text
 * is an event of type "message" with the text as data. Returns 0 or -1 (why). */
int gw_parse_ws_message(const char *text, size_t len, char **type, char **data, size_t *data_len,
                        const char **content_type, char *why, size_t why_size);

#endif /* GW_JSON_MAP_H */
