// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/cmdline.c: defaults, every option, and the exact error sentences.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "kernel/cmdline.h"

static void test_defaults(void **state)
{
    struct cmdline c;
    char err[256];
    assert_int_equal(cmdline_parse("", &c, err, sizeof(err)), 0);
    assert_int_equal(c.console_port, 0x3f8);
    assert_int_equal(c.exit, CMDLINE_EXIT_NEVER);
    assert_string_equal(err, "");
    assert_int_equal(cmdline_parse(NULL, &c, err, sizeof(err)), 0);
    assert_int_equal(cmdline_parse("   \t \r\n", &c, err, sizeof(err)), 0);
}

static void test_console_names_and_ports(void **state)
{
    struct cmdline c;
    char err[256];
    assert_int_equal(cmdline_parse("console=com2", &c, err, sizeof(err)), 0);
    assert_int_equal(c.console_port, 0x2f8);
    assert_int_equal(cmdline_parse("console=com3", &c, err, sizeof(err)), 0);
    assert_int_equal(c.console_port, 0x3e8);
    assert_int_equal(cmdline_parse("console=com4", &c, err, sizeof(err)), 0);
    assert_int_equal(c.console_port, 0x2e8);
    assert_int_equal(cmdline_parse("console=0x2F8", &c, err, sizeof(err)), 0);
    assert_int_equal(c.console_port, 0x2f8);
    assert_int_equal(cmdline_parse("console=1016", &c, err, sizeof(err)), 0);
    assert_int_equal(c.console_port, 1016);
}

static void test_exit(void **state)
{
    struct cmdline c;
    char err[256];
    assert_int_equal(cmdline_parse("exit=boot console=com2", &c, err, sizeof(err)), 0);
    assert_int_equal(c.exit, CMDLINE_EXIT_BOOT);
    assert_int_equal(c.console_port, 0x2f8);
    assert_int_equal(cmdline_parse("exit=boot exit=never", &c, err, sizeof(err)), 0);
    assert_int_equal(c.exit, CMDLINE_EXIT_NEVER);
}

static void test_errors_are_reported_and_valid_words_kept(void **state)
{
    struct cmdline c;
    char err[512];
    assert_int_equal(cmdline_parse("bogus exit=boot console=0x10000 console", &c, err, sizeof(err)), 3);
    assert_int_equal(c.exit, CMDLINE_EXIT_BOOT);
    assert_int_equal(c.console_port, 0x3f8);
    assert_string_equal(err,
        "cmdline: 'bogus': unknown option (known: console=, exit=)\n"
        "cmdline: 'console=0x10000': not a serial port: use com1..com4 or an I/O port such as 0x3f8\n"
        "cmdline: 'console': needs a value: console=com1..com4 or an I/O port such as 0x3f8");
    assert_int_equal(cmdline_parse("exit=later console=0x console=0 console=12a", &c, err, sizeof(err)), 4);
    assert_non_null(strstr(err, "cmdline: 'exit=later': exit takes 'boot' or 'never'"));
}

static void test_error_buffer_is_bounded(void **state)
{
    struct cmdline c;
    char err[24];
    memset(err, 'X', sizeof(err));
    assert_int_equal(cmdline_parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaa bbb", &c, err, sizeof(err)), 2);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    /* No buffer at all still counts. */
    assert_int_equal(cmdline_parse("x y z", &c, NULL, 0), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_console_names_and_ports),
        cmocka_unit_test(test_exit),
        cmocka_unit_test(test_errors_are_reported_and_valid_words_kept),
        cmocka_unit_test(test_error_buffer_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
