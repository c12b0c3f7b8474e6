/* A JSON object with one string member, written directly (no jansson tree): the gateway's
 * answer to a request whose reply is text, its hot path. */
#ifndef GW_JSON_TEXT_H
#define GW_JSON_TEXT_H

#include <stddef.h>

/* 1 when the len bytes are valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), as jansson requires of its strings. */
int gw_utf8_valid(const unsigned char *s, size_t len);

/* {"<key>":"<text>"} in a new buffer (free), compact and escaped as jansson's json_dumps
 * escapes (", \, control characters), *len set; NULL when text is not valid UTF-8 or on out
 * of memory. key is written as given (a plain ASCII name). */
char *gw_json_text_object(const char *key, const void *text, size_t text_len, size_t *len);

#endif /* GW_JSON_TEXT_H */
