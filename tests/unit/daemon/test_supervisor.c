/* genesisd's supervisor without processes: the backoff sequence (full jitter, exact with an
 * injected random value) and the parsing of --supervise / --supervise-env / --supervise-cwd. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gt_assert.h"
#include "supervisor.h"

static void test_backoff_bounds(void **state)
{
    (void)state;
    /* The bound doubles per consecutive failed start, up to the cap; the delay is
     * random % (bound + 1), so the largest random value gives the bound itself. */
    const uint32_t expect[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        assert_int_equal(supervisor_backoff_ms(i, 100, 5000, expect[i]), expect[i]);
    assert_int_equal(supervisor_backoff_ms(3, 100, 5000, 0), 0);
    assert_int_equal(supervisor_backoff_ms(0, 100, 5000, 101), 0); /* 101 % 101 */
    assert_int_equal(supervisor_backoff_ms(0, 100, 5000, 150), 49);
    assert_int_equal(supervisor_backoff_ms(60, 100, 5000, UINT32_MAX), UINT32_MAX % 5001);
    assert_int_equal(supervisor_backoff_ms(5, 0, 5000, 1234), 0);
    for (uint32_t r = 0; r < 100000; r += 7)
        assert_true(supervisor_backoff_ms(2, 100, 5000, r) <= 400);
}

static void test_spec_parsing(void **state)
{
    (void)state;
    supervisor *s = supervisor_new(NULL, NULL);
    assert_non_null(s);
    char why[256];
    assert_int_equal(
        supervisor_add(s, "a=/bin/echo 'two words' \"and \\\"three\\\"\" x\\ y", why, sizeof(why)),
        0);
    assert_int_equal(supervisor_count(s), 1);
    assert_int_equal(supervisor_add(s, "a=/bin/true", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "twice"));
    assert_int_equal(supervisor_add(s, "noequals", why, sizeof(why)), -1);
    assert_int_equal(supervisor_add(s, "=/bin/true", why, sizeof(why)), -1);
    assert_int_equal(supervisor_add(s, "bad id=/bin/true", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "[A-Za-z0-9._-]"));
    assert_int_equal(supervisor_add(s, "b=", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "empty command"));
    assert_int_equal(supervisor_add(s, "c=/bin/echo 'open", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "unterminated quote"));
    assert_int_equal(supervisor_count(s), 1);

    assert_int_equal(supervisor_add_env(s, "a=KEY=value=with=equals", why, sizeof(why)), 0);
    assert_int_equal(supervisor_add_env(s, "a=NOVALUE", why, sizeof(why)), -1);
    assert_int_equal(supervisor_add_env(s, "zz=K=V", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no --supervise"));
    assert_int_equal(supervisor_set_cwd(s, "a=/tmp", why, sizeof(why)), 0);
    assert_int_equal(supervisor_set_cwd(s, "a=", why, sizeof(why)), -1);
    supervisor_free(s); /* never started: nothing to stop */
    supervisor_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_spec_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
