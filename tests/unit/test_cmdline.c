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
    assert_false(c.debug_fault);
    assert_int_equal(cmdline_parse("debug=fault", &c, err, sizeof(err)), 0);
    assert_true(c.debug_fault);
    assert_int_equal(cmdline_parse("debug=crash", &c, err, sizeof(err)), 1);
    assert_string_equal(err, "cmdline: 'debug=crash': debug takes 'fault'");
}

static void test_errors_are_reported_and_valid_words_kept(void **state)
{
    struct cmdline c;
    char err[512];
    assert_int_equal(cmdline_parse("bogus exit=boot console=0x10000 console", &c, err, sizeof(err)), 3);
    assert_int_equal(c.exit, CMDLINE_EXIT_BOOT);
    assert_int_equal(c.console_port, 0x3f8);
    assert_string_equal(err,
        "cmdline: 'bogus': unknown option (known: console=, exit=, guest=, debug=)\n"
        "cmdline: 'console=0x10000': not a serial port: use com1..com4 or an I/O port such as 0x3f8\n"
        "cmdline: 'console': needs a value: console=com1..com4 or an I/O port such as 0x3f8");
    assert_int_equal(cmdline_parse("exit=later console=0x console=0 console=12a", &c, err, sizeof(err)), 4);
    assert_non_null(strstr(err, "cmdline: 'exit=later': exit takes 'boot', 'idle' or 'never'"));
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

static void test_guests(void **state)
{
    struct cmdline c;
    char err[512];
    assert_int_equal(cmdline_parse("guest=a.bin guest=b.bin,mode=real,mem=8,args=fault exit=idle", &c, err,
                                   sizeof(err)), 0);
    assert_int_equal(c.exit, CMDLINE_EXIT_IDLE);
    assert_int_equal(c.guest_count, 2);
    assert_string_equal(c.guests[0].image, "a.bin");
    assert_int_equal(c.guests[0].mode, CMDLINE_MODE_LONG64);
    assert_int_equal(c.guests[0].mem_mib, 16);
    assert_string_equal(c.guests[0].args, "");
    assert_string_equal(c.guests[1].image, "b.bin");
    assert_int_equal(c.guests[1].mode, CMDLINE_MODE_REAL);
    assert_int_equal(c.guests[1].mem_mib, 8);
    assert_string_equal(c.guests[1].args, "fault");
    assert_int_equal(cmdline_parse("guest=x,mode=prot32", &c, err, sizeof(err)), 0);
    assert_int_equal(c.guests[0].mode, CMDLINE_MODE_PROT32);
}

static void test_guest_errors(void **state)
{
    struct cmdline c;
    char err[1024];
    assert_int_equal(cmdline_parse("guest guest= guest=a,mode=vm86 guest=a,mem=3 guest=a,mem=abc "
                                   "guest=a,colour=red guest=a,args=", &c, err, sizeof(err)), 7);
    assert_int_equal(c.guest_count, 0);
    assert_string_equal(err,
        "cmdline: 'guest': guest= needs an image name\n"
        "cmdline: 'guest=': guest= needs an image name of 1 to 63 characters\n"
        "cmdline: 'guest=a,mode=vm86': mode must be long64, prot32 or real\n"
        "cmdline: 'guest=a,mem=3': mem is in MiB: an even number of at least 4\n"
        "cmdline: 'guest=a,mem=abc': mem is in MiB: an even number of at least 4\n"
        "cmdline: 'guest=a,colour=red': unknown guest= field (known: mode=, mem=, args=)\n"
        "cmdline: 'guest=a,args=': args must be 1 to 63 characters");
    assert_int_equal(cmdline_parse("guest=a guest=b guest=c guest=d guest=e", &c, err, sizeof(err)), 1);
    assert_int_equal(c.guest_count, 4);
    assert_string_equal(err, "cmdline: 'guest=e': too many guest= options (at most 4)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_console_names_and_ports),
        cmocka_unit_test(test_exit),
        cmocka_unit_test(test_errors_are_reported_and_valid_words_kept),
        cmocka_unit_test(test_error_buffer_is_bounded),
        cmocka_unit_test(test_guests),
        cmocka_unit_test(test_guest_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
