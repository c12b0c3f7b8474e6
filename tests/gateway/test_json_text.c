/* The gateway's direct JSON writer for text replies must produce exactly what jansson would
 * (the path it replaces): the same bytes for every valid UTF-8 text, and a refusal (so the
 * caller falls back to base64) for every invalid one. Checked on fixed edge cases and on
 * 20,000 byte strings from a seeded generator biased toward escapes and UTF-8 edges. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gt_assert.h"
#include "json_text.h"

/* What the jansson path writes for {"result": <text>}, or NULL when jansson refuses it. */
static char *reference(const unsigned char *s, size_t len)
{
    json_t *v = json_stringn((const char *)s, len);
    if (v == NULL)
        return NULL;
    json_t *obj = json_object();
    json_object_set_new(obj, "result", v);
    char *out = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return out;
}

static void check(const unsigned char *s, size_t len)
{
    size_t n = 0;
    char *fast = gw_json_text_object("result", s, len, &n);
    char *ref = reference(s, len);
    if (ref == NULL) {
        if (fast != NULL)
            fail_msg("accepted invalid UTF-8 (%zu bytes): %s", len, fast);
    } else {
        if (fast == NULL)
            fail_msg("refused valid UTF-8 (%zu bytes), jansson wrote %s", len, ref);
        assert_int_equal(n, strlen(ref));
        assert_string_equal(fast, ref);
    }
    assert_int_equal(gw_utf8_valid(s, len), ref != NULL);
    free(fast);
    free(ref);
}

static void test_edge_cases(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "", "Pong", "a\"b\\c/d", "\b\f\n\r\t\x01\x1f\x7f", "caf\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
        /* invalid: */
        "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xc3", "\xe2\x82", "\xc3\x28"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check((const unsigned char *)cases[i], strlen(cases[i]));
    static const unsigned char nul[] = {'a', 0, 'b'};
    check(nul, sizeof(nul));
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_generated_strings(void **state)
{
    (void)state;
    static const unsigned char pieces[][4] = {{'a'},
                                              {'"'},
                                              {'\\'},
                                              {'\n'},
                                              {0x01},
                                              {0x7f},
                                              {0xc3, 0xa9},
                                              {0xe2, 0x82, 0xac},
                                              {0xf0, 0x9f, 0x98, 0x80},
                                              {0xed, 0x9f, 0xbf},
                                              {0xed, 0xa0, 0x80},
                                              {0xc0},
                                              {0x80},
                                              {0xf4, 0x90, 0x80, 0x80},
                                              {0xe0, 0xa0, 0x80},
                                              {0xe0, 0x9f, 0xbf}};
    static const size_t piece_len[] = {1, 1, 1, 1, 1, 1, 2, 3, 4, 3, 3, 1, 1, 4, 3, 3};
    unsigned char buf[200];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0, parts = next() % 12;
        for (size_t k = 0; k < parts; k++) {
            if (next() % 8 == 0) { /* any byte at all */
                buf[len++] = (unsigned char)next();
                continue;
            }
            size_t p = next() % (sizeof(piece_len) / sizeof(piece_len[0]));
            memcpy(buf + len, pieces[p], piece_len[p]);
            len += piece_len[p];
        }
        check(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_generated_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
