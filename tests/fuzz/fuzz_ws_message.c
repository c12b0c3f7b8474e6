/* Fuzz target: a WebSocket client's text message, as the gateway turns it into an external
 * event ({"type": ..., "data": ...} or any other text as type "message") and as the event
 * comes back out to the other sessions: a JSON frame ({"type","data","source","seq"}) inside a
 * WebSocket text frame header. Invariants: parsing never fails but for memory; the frame is
 * valid JSON whatever bytes the client sent (invalid UTF-8 becomes base64); the frame header
 * encodes the payload length. */
#include <jansson.h>
#include <string.h>

#include "fuzz_target.h"
#include "gw_internal.h"
#include "json_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *type = NULL, *payload = NULL;
    size_t len = 0;
    const char *ctype = NULL;
    char why[256] = "";
    FUZZ_CHECK(gw_parse_ws_message((const char *)data, size, &type, &payload, &len, &ctype, why,
                                   sizeof(why)) == 0);
    FUZZ_CHECK(type != NULL && type[0] != '\0' && ctype != NULL);
    FUZZ_CHECK(len == 0 || payload != NULL);

    size_t text_len = 0;
    char *text = gw_event_json(type, payload, len, ctype, "ws-1", 7, &text_len);
    if (text != NULL) { /* NULL: a type that is not valid UTF-8 (refused upstream) */
        json_error_t err;
        json_t *doc = json_loadb(text, text_len, JSON_ALLOW_NUL, &err);
        FUZZ_CHECK(doc != NULL && json_is_object(doc));
        FUZZ_CHECK(json_integer_value(json_object_get(doc, "seq")) == 7);
        json_decref(doc);
        gw_frame *f = gw_frame_new(text, text_len);
        FUZZ_CHECK(f != NULL);
        FUZZ_CHECK(f->wire[0] == 0x81 && f->wire_len >= text_len + 2);
        size_t hdr = f->wire_len - text_len;
        FUZZ_CHECK(memcmp(f->wire + hdr, text, text_len) == 0);
        gw_frame_release(f);
        free(text);
    }
    free(type);
    free(payload);
    return 0;
}
