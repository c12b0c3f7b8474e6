/* Direct JSON writer for {"key":"text"} (see json_text.h). */
#include "json_text.h"

#include <stdlib.h>
#include <string.h>

int gw_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned int cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return 0; /* continuation byte first, overlong 2-byte lead, or above U+10FFFF */
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

char *gw_json_text_object(const char *key, const void *text, size_t text_len, size_t *len)
{
    const unsigned char *s = text;
    if (!gw_utf8_valid(s, text_len))
        return NULL;
    size_t key_len = strlen(key);
    /* Worst case: every byte a \u00XX escape. */
    if (text_len > (((size_t)-1) - key_len - 16) / 6)
        return NULL;
    char *out = malloc(key_len + 8 + text_len * 6 + 1);
    if (out == NULL)
        return NULL;
    char *p = out;
    *p++ = '{';
    *p++ = '"';
    memcpy(p, key, key_len);
    p += key_len;
    memcpy(p, "\":\"", 3);
    p += 3;
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < text_len; i++) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *p++ = (char)c;
            break;
        case '\b':
            *p++ = 'b';
            break;
        case '\f':
            *p++ = 'f';
            break;
        case '\n':
            *p++ = 'n';
            break;
        case '\r':
            *p++ = 'r';
            break;
        case '\t':
            *p++ = 't';
            break;
        default:
            memcpy(p, "u00", 3);
            p[3] = hex[c >> 4];
            p[4] = hex[c & 15];
            p += 5;
        }
    }
    *p++ = '"';
    *p++ = '}';
    *p = '\0';
    *len = (size_t)(p - out);
    return out;
}
