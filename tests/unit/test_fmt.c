// SPDX-License-Identifier: Apache-2.0
// Host tests for common/fmt.c, Moat's freestanding snprintf. The module is included under
// other names so it does not replace the C library's snprintf in this test program.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define vsnprintf moat_vsnprintf
#define snprintf moat_snprintf
#include "common/fmt.c"
#undef vsnprintf
#undef snprintf

static const char *fmt(const char *f, ...)
{
    static char buf[128];
    va_list ap;
    va_start(ap, f);
    moat_vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

static void test_integers(void **state)
{
    assert_string_equal(fmt("%d %i %u", -42, 7, 4000000000u), "-42 7 4000000000");
    assert_string_equal(fmt("%x %X", 0xbeefu, 0xbeefu), "beef BEEF");
    assert_string_equal(fmt("%lx %lu", 0xffffffffffffffffull, 18446744073709551615ull),
                        "ffffffffffffffff 18446744073709551615");
    assert_string_equal(fmt("%ld", (long)INT64_MIN), "-9223372036854775808");
    assert_string_equal(fmt("%zu", (size_t)12345), "12345");
    assert_string_equal(fmt("%hhu %hu %hhd %hd", 300, 70000, 255, 65535), "44 4464 -1 -1");
    assert_string_equal(fmt("%d", 0), "0");
}

static void test_width_and_flags(void **state)
{
    assert_string_equal(fmt("[%5d]", 42), "[   42]");
    assert_string_equal(fmt("[%-5d]", 42), "[42   ]");
    assert_string_equal(fmt("[%05d]", -42), "[-0042]");
    assert_string_equal(fmt("[%016lx]", 0xabcul), "[0000000000000abc]");
    assert_string_equal(fmt("[%*d]", 4, 1), "[   1]");
    assert_string_equal(fmt("[%p]", (void *)0x1000), "[0x1000]");
}

static void test_strings_and_chars(void **state)
{
    assert_string_equal(fmt("%s|%-4s|%4s", "ab", "cd", "ef"), "ab|cd  |  ef");
    assert_string_equal(fmt("%.2s", "abcdef"), "ab");
    assert_string_equal(fmt("%.*s", 3, "abcdef"), "abc");
    assert_string_equal(fmt("%s", (char *)NULL), "(null)");
    assert_string_equal(fmt("%c%c", 'o', 'k'), "ok");
    assert_string_equal(fmt("100%%"), "100%");
    assert_string_equal(fmt("%q"), "%q");
}

static void test_truncation_and_return_value(void **state)
{
    char buf[8];
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(moat_snprintf(buf, sizeof(buf), "hello, world"), 12);
    assert_string_equal(buf, "hello, ");
    assert_int_equal(moat_snprintf(buf, 0, "abc"), 3);
    assert_int_equal(buf[0], 'h'); /* size 0: nothing written */
    assert_int_equal(moat_snprintf(buf, 1, "abc"), 3);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_width_and_flags),
        cmocka_unit_test(test_strings_and_chars),
        cmocka_unit_test(test_truncation_and_return_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
